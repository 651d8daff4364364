"""What changed between two trees of the store, down to whole session folders.

A session folder counts as one change (its old and new tree ids); every other
changed path is listed file by file. Unchanged subtrees are skipped by id, so the
cost follows the size of the change, not of the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .layout import FANOUT_LEVELS, SESSIONS_DIR
from .store import Store
from .trees import TREE_MODE

__all__ = ["Changes", "diff_sessions"]

Entry = tuple[int, bytes]


@dataclass
class Changes:
    """Session folders changed (path -> (old tree, new tree)) and other files changed."""

    sessions: dict[str, tuple[bytes | None, bytes | None]] = field(default_factory=dict)
    files: dict[str, tuple[Entry | None, Entry | None]] = field(default_factory=dict)


def _entries(store: Store, tree_id: bytes | None) -> dict[bytes, Entry]:
    if tree_id is None:
        return {}
    return {item.path: (item.mode, item.sha) for item in store.tree(tree_id).iteritems()}


def diff_sessions(store: Store, old: bytes | None, new: bytes | None) -> Changes:
    """Compare two root trees; session folders sit FANOUT_LEVELS levels under sessions/."""
    out = Changes()
    _diff(store, old, new, "", 0, out)
    return out


def _diff(
    store: Store, old: bytes | None, new: bytes | None, prefix: str, depth: int, out: Changes
) -> None:
    a, b = _entries(store, old), _entries(store, new)
    for name in sorted(set(a) | set(b)):
        ea, eb = a.get(name), b.get(name)
        if ea == eb:
            continue
        path = f"{prefix}{name.decode('utf-8', 'replace')}"
        a_tree = ea[1] if ea is not None and ea[0] == TREE_MODE else None
        b_tree = eb[1] if eb is not None and eb[0] == TREE_MODE else None
        a_file = ea if ea is not None and ea[0] != TREE_MODE else None
        b_file = eb if eb is not None and eb[0] != TREE_MODE else None
        if a_tree or b_tree:
            if depth == FANOUT_LEVELS + 1 and path.startswith(SESSIONS_DIR + "/"):
                out.sessions[path] = (a_tree, b_tree)
            else:
                _diff(store, a_tree, b_tree, path + "/", depth + 1, out)
        if a_file or b_file:
            out.files[path] = (a_file, b_file)
