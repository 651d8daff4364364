"""What changed between two trees of the store, down to whole session folders.

A session folder counts as one change (its old and new tree ids); every other
changed path is listed file by file. Unchanged subtrees are skipped by id, so the
cost follows the size of the change, not of the store. For verify (`thorough`) the
walk trusts nothing it reads: a tree, blob or gitlink commit the new side names but the
store lacks, or holds as another type, is listed rather than raised, and so is a
nesting deeper than any store has.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..errors import StoreError
from .layout import FANOUT_LEVELS, SESSIONS_DIR
from .objects import MalformedObject
from .store import Store
from .treecheck import display_name, parse_entries
from .trees import GITLINK_MODE, TREE_MODE

__all__ = [
    "MAX_DEPTH",
    "Changes",
    "RawEntry",
    "diff_sessions",
    "object_problem",
    "read_entries",
    "read_names",
]

Entry = tuple[int, bytes]
RawEntry = tuple[bytes, int, bytes]  # (name, mode, id) as the tree stores it
Names = dict[bytes, Entry]  # name -> (mode, id), a name held twice by its last entry

MAX_DEPTH = 32  # a store nests about 8 folders deep; deeper is hostile, and not walked


@dataclass
class Changes:
    """Session folders changed (path -> (old tree, new tree)) and other files changed.

    `trees` lists every tree the new side rewrites, as (path, old entries, new entries)
    with entries as stored, duplicates kept; `missing` lists (path, id, what is wrong)
    for objects the new side names that the store does not hold as their entry says;
    `too_deep` the folders nested beyond MAX_DEPTH, which are not walked.
    """

    sessions: dict[str, tuple[bytes | None, bytes | None]] = field(default_factory=dict)
    files: dict[str, tuple[Entry | None, Entry | None]] = field(default_factory=dict)
    trees: list[tuple[str, Sequence[RawEntry], Sequence[RawEntry]]] = field(default_factory=list)
    missing: list[tuple[str, bytes, str]] = field(default_factory=list)
    too_deep: list[str] = field(default_factory=list)


def object_problem(store: Store, sha: bytes, mode: int) -> str | None:
    """Why the object an entry of this mode names is not there as that type, or None."""
    expected = "tree" if mode == TREE_MODE else "commit" if mode == GITLINK_MODE else "blob"
    named = f"names {expected} {sha.decode()[:12]}"
    try:
        found = store.object_type(sha)
    except KeyError:
        return f"{named}, which is not in the store"
    except (MalformedObject, ValueError) as exc:
        return f"{named}, which cannot be read: {exc}"
    return None if found == expected else f"{named}, which is a {found} in the store"


_ENTRIES_CACHED = 128  # trees per store: a commit's old side is the new side of the one before
_Read = tuple[tuple[RawEntry, ...], Names] | None
_entries: weakref.WeakKeyDictionary[Store, OrderedDict[bytes, _Read]] = weakref.WeakKeyDictionary()


def _tree(store: Store, tree_id: bytes) -> _Read:
    """A tree's entries as stored and by name, or None if it is no tree here.

    Kept for the trees read last in this store, so that a walk of consecutive commits
    reads and parses each fan-out tree once, not once per side, and makes its names'
    dict once: a commit compares the dicts of its two sides, most entries alike."""
    cache = _entries.get(store)
    if cache is None:
        cache = _entries[store] = OrderedDict()
    if tree_id in cache:
        cache.move_to_end(tree_id)
        return cache[tree_id]
    try:
        kind, raw = store.raw(tree_id)
        entries = tuple(parse_entries(raw)) if kind == "tree" else None
    except KeyError:
        return None  # not cached: another process may be adding it
    except (MalformedObject, ValueError):
        entries = None
    found = None if entries is None else (entries, {n: (m, i) for n, m, i in entries})
    cache[tree_id] = found
    if len(cache) > _ENTRIES_CACHED:
        cache.popitem(last=False)
    return found


def read_entries(store: Store, tree_id: bytes) -> tuple[RawEntry, ...] | None:
    """A tree's entries as stored (order and duplicates kept), or None if it is no tree here."""
    found = _tree(store, tree_id)
    return None if found is None else found[0]


def read_names(store: Store, tree_id: bytes) -> Names | None:
    """A tree's entries by name (a name held twice by its last entry), or None if it is
    no tree here. The dict is the one kept for the tree: read it, never change it."""
    found = _tree(store, tree_id)
    return None if found is None else found[1]


def diff_sessions(
    store: Store, old: bytes | None, new: bytes | None, thorough: bool = False
) -> Changes:
    """Compare two root trees; session folders sit FANOUT_LEVELS levels under sessions/.

    `thorough` also walks into the session folders that changed and lists every object
    the new side adds that the store lacks, for verify. Without it (sync, which only needs
    the folders) a tree the store cannot read is a StoreError.
    """
    out = Changes()
    _diff(store, old, new, "", 0, False, thorough, out)
    return out


_EMPTY: tuple[tuple[RawEntry, ...], Names] = ((), {})


def _read(
    store: Store, tree_id: bytes | None, path: str, out: Changes | None, thorough: bool
) -> tuple[Sequence[RawEntry], Names]:
    """A tree's entries, as stored and by name; one the store cannot read is listed in
    `out` (None: the old side, judged when it came in) and read as empty, or raised when
    not `thorough`."""
    if tree_id is None:
        return _EMPTY
    found = _tree(store, tree_id)
    if found is None:
        problem = object_problem(store, tree_id, TREE_MODE) or "a tree that cannot be read"
        if not thorough:
            raise StoreError(f"{path or 'the root tree'}: {problem}")
        if out is not None:
            out.missing.append((path, tree_id, problem))
        return _EMPTY
    return found


def _diff(
    store: Store,
    old: bytes | None,
    new: bytes | None,
    prefix: str,
    depth: int,
    inside: bool,
    thorough: bool,
    out: Changes,
) -> None:
    if depth > MAX_DEPTH:
        if new is not None:
            out.too_deep.append(prefix.rstrip("/"))
        return
    old_raw, a = _read(store, old, prefix.rstrip("/"), None, thorough)
    new_raw, b = _read(store, new, prefix.rstrip("/"), out, thorough)
    if new is not None:
        out.trees.append((prefix.rstrip("/"), old_raw, new_raw))
    for name in sorted({name for name, _ in a.items() ^ b.items()}):
        ea, eb = a.get(name), b.get(name)
        path = f"{prefix}{display_name(name)}"
        a_tree = ea[1] if ea is not None and ea[0] == TREE_MODE else None
        b_tree = eb[1] if eb is not None and eb[0] == TREE_MODE else None
        a_file = ea if ea is not None and ea[0] != TREE_MODE else None
        b_file = eb if eb is not None and eb[0] != TREE_MODE else None
        if thorough and b_file is not None:
            problem = object_problem(store, b_file[1], b_file[0])
            if problem is not None:
                out.missing.append((path, b_file[1], problem))
        if a_tree or b_tree:
            session = not inside and depth == FANOUT_LEVELS + 1
            if session and path.startswith(SESSIONS_DIR + "/"):
                out.sessions[path] = (a_tree, b_tree)
                if thorough:
                    _diff(store, a_tree, b_tree, path + "/", depth + 1, True, thorough, out)
            else:
                _diff(store, a_tree, b_tree, path + "/", depth + 1, inside, thorough, out)
        if (a_file or b_file) and not inside:
            out.files[path] = (a_file, b_file)
