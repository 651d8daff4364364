"""In-memory editing of git trees: change a few paths, re-hash only the trees above them.

The editor loads folders lazily from the object store and keeps them, so a batch of
commits touching different sessions costs a handful of tree hashes each, however large
the store is.
"""

from __future__ import annotations

import binascii
import hashlib
from collections.abc import Callable, Iterable

__all__ = [
    "TREE_MODE",
    "FILE_MODE",
    "EXEC_MODE",
    "SYMLINK_MODE",
    "GITLINK_MODE",
    "TreeEditor",
    "TreeReader",
]

# Git's modes of tree entries, spelt here only: gitflywheel writes the first two.
TREE_MODE = 0o040000  # a folder
FILE_MODE = 0o100644  # a regular file
EXEC_MODE = 0o100755  # an executable file
SYMLINK_MODE = 0o120000  # a symbolic link
GITLINK_MODE = 0o160000  # a submodule's commit

Entry = tuple[int, bytes]
# A tree's entries (name, mode, id) by its id, e.g. `Store.tree` or `Writer.tree`.
TreeReader = Callable[[bytes], Iterable[tuple[bytes, int, bytes]]]


class TreeEditor:
    """A mutable view of a git tree; `write` returns the new root and the trees it made."""

    def __init__(self, read_tree: TreeReader, root: bytes | None) -> None:
        self._read_tree = read_tree
        self._nodes: dict[str, dict[bytes, Entry]] = {}
        self._dirty: set[str] = set()
        self._nodes[""] = self._load(root) if root is not None else {}
        self._root = root or b""
        if root is None:
            self._dirty.add("")

    def _load(self, tree_id: bytes) -> dict[bytes, Entry]:
        return {name: (mode, sha) for name, mode, sha in self._read_tree(tree_id)}

    def _node(self, folder: str, create: bool = False) -> dict[bytes, Entry] | None:
        node = self._nodes.get(folder)
        if node is not None:
            return node
        parent_path, _, name = folder.rpartition("/")
        parent = self._node(parent_path, create)
        if parent is None:
            return None
        entry = parent.get(name.encode())
        if entry is not None and entry[0] == TREE_MODE:
            node = self._load(entry[1])
        elif create:
            node = {}
            self._dirty.add(folder)
        else:
            return None
        self._nodes[folder] = node
        return node

    def get(self, path: str) -> Entry | None:
        """The (mode, id) at `path`, or None."""
        folder, _, name = path.rpartition("/")
        node = self._node(folder)
        return None if node is None else node.get(name.encode())

    def set(self, path: str, mode: int, sha: bytes) -> None:
        """Put a blob at `path`, creating folders as needed."""
        folder, _, name = path.rpartition("/")
        node = self._node(folder, create=True)
        assert node is not None
        key = name.encode()
        if node.get(key) == (mode, sha):
            return
        node[key] = (mode, sha)
        self._mark(folder)

    def set_tree(self, path: str, sha: bytes) -> None:
        """Put a whole existing tree at `path` (a session folder taken from elsewhere)."""
        self.remove(path)
        self.set(path, TREE_MODE, sha)

    def remove(self, path: str) -> None:
        """Remove a file or a whole folder; absent paths are ignored."""
        folder, _, name = path.rpartition("/")
        node = self._node(folder)
        if node is None or node.pop(name.encode(), None) is None:
            return
        prefix = path + "/"
        for loaded in [p for p in self._nodes if p == path or p.startswith(prefix)]:
            del self._nodes[loaded]
            self._dirty.discard(loaded)
        self._mark(folder)

    def _mark(self, folder: str) -> None:
        while True:
            self._dirty.add(folder)
            if not folder:
                return
            folder = folder.rpartition("/")[0]

    def write_raw(self) -> tuple[bytes, list[tuple[bytes, bytes]]]:
        """Hash every changed folder, deepest first; return the root id and the new trees
        as (id, bytes as git stores them), which `Writer.write_tree` stages."""
        made: list[tuple[bytes, bytes]] = []
        for folder in sorted(self._dirty, key=lambda p: (-p.count("/") if p else 1, p)):
            node = self._nodes.get(folder)
            if node is None:
                continue
            if not folder:
                self._root, raw = _tree_bytes(node)
                made.append((self._root, raw))
                continue
            parent_path, _, name = folder.rpartition("/")
            parent = self._nodes[parent_path]
            if node:
                sha, raw = _tree_bytes(node)
                parent[name.encode()] = (TREE_MODE, sha)
                made.append((sha, raw))
            else:
                parent.pop(name.encode(), None)
        self._dirty.clear()
        return self._root, made


def _tree_key(item: tuple[bytes, Entry]) -> bytes:
    name, (mode, _) = item
    return name + b"/" if mode == TREE_MODE else name  # git's order: a folder as `name/`


def _tree_bytes(node: dict[bytes, Entry]) -> tuple[bytes, bytes]:
    """A folder as git stores a tree (entries in git's order, each `mode name\0id`), and
    its id (hex)."""
    raw = b"".join(
        b"%o %s\x00%s" % (mode, name, binascii.unhexlify(sha))
        for name, (mode, sha) in sorted(node.items(), key=_tree_key)
    )
    return hashlib.sha1(b"tree %d\x00" % len(raw) + raw).hexdigest().encode(), raw
