"""Walking the session folders of a tree: layout's fan-out, read through the store."""

from __future__ import annotations

from collections.abc import Iterator

from .layout import FANOUT_LEVELS, SESSIONS_DIR
from .store import Store
from .trees import TREE_MODE

__all__ = ["session_folders"]


def session_folders(store: Store, root: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(path, tree id) of every session folder under the tree `root`, in the order the
    tree holds them: `sessions/a/b/c/d/<id>` and the folder's tree."""
    found = store.lookup(root, SESSIONS_DIR)
    if found is None:
        return
    level = [(SESSIONS_DIR.encode(), found[1])]
    for _ in range(FANOUT_LEVELS):
        level = [
            (prefix + b"/" + name, sha)
            for prefix, tree in level
            for name, mode, sha in store.entries(tree)
            if mode == TREE_MODE
        ]
    for prefix, bucket in level:
        for name, mode, sha in store.entries(bucket):
            if mode == TREE_MODE:
                yield prefix + b"/" + name, sha
