"""Walking the session folders of a tree: layout's fan-out, read through the store."""

from __future__ import annotations

from collections.abc import Iterator

from .layout import FANOUT_LEVELS, SESSIONS_DIR
from .store import Store
from .trees import TREE_MODE

__all__ = ["fanout_trees", "folders_under", "session_folders"]


def session_folders(store: Store, root: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(path, tree id) of every session folder under the tree `root`, in the order the
    tree holds them: `sessions/a/b/c/d/<id>` and the folder's tree."""
    for prefix, tree in fanout_trees(store, root, 0):
        yield from folders_under(store, prefix, tree, 0)


def fanout_trees(store: Store, root: bytes, depth: int) -> list[tuple[bytes, bytes]]:
    """(path, tree id) of each tree `depth` levels below `sessions/` in the tree `root`
    (0: `sessions/` itself; at most FANOUT_LEVELS), in order."""
    found = store.lookup(root, SESSIONS_DIR)
    if found is None:
        return []
    return _below(store, [(SESSIONS_DIR.encode(), found[1])], depth)


def folders_under(
    store: Store, prefix: bytes, tree: bytes, depth: int
) -> Iterator[tuple[bytes, bytes]]:
    """(path, tree id) of the session folders under `prefix`, the tree `tree` that is
    `depth` levels below `sessions/` (`fanout_trees`), in order."""
    for path, bucket in _below(store, [(prefix, tree)], FANOUT_LEVELS - depth):
        for name, mode, sha in store.entries(bucket):
            if mode == TREE_MODE:
                yield path + b"/" + name, sha


def _below(store: Store, level: list[tuple[bytes, bytes]], depth: int) -> list[tuple[bytes, bytes]]:
    for _ in range(depth):
        level = [
            (prefix + b"/" + name, sha)
            for prefix, tree in level
            for name, mode, sha in store.entries(tree)
            if mode == TREE_MODE
        ]
    return level
