"""Which commits come before which: ancestry and merge bases, by walking parents.

Never by commit dates: dulwich's merge-base search orders its walk by them, and under
SOURCE_DATE_EPOCH every commit of a store has the same date, which makes it name
ancestors of the true merge base as merge bases too, and miss fast-forwards.
"""

from __future__ import annotations

from .store import Store

__all__ = ["ancestors", "is_ancestor", "merge_bases"]


def ancestors(store: Store, tips: list[bytes], stop: bytes | None = None) -> set[bytes]:
    """Every commit reachable from `tips`, themselves included (the walk ends early once
    it meets `stop`, which is then in the result)."""
    seen: set[bytes] = set()
    stack = list(tips)
    while stack:
        sha = stack.pop()
        if sha in seen:
            continue
        seen.add(sha)
        if sha == stop:
            break
        stack.extend(store.commit(sha).parents)
    return seen


def is_ancestor(store: Store, ancestor: bytes, tip: bytes) -> bool:
    """Whether `ancestor` is `tip` or one of its ancestors."""
    return ancestor in ancestors(store, [tip], stop=ancestor)


def merge_bases(store: Store, ours: bytes, theirs: bytes) -> list[bytes]:
    """The best common ancestors of two commits (none for unrelated histories)."""
    mine = ancestors(store, [ours])
    common: list[bytes] = []
    seen: set[bytes] = set()
    stack = [theirs]
    while stack:
        sha = stack.pop()
        if sha in seen:
            continue
        seen.add(sha)
        if sha in mine:
            common.append(sha)
        else:
            stack.extend(store.commit(sha).parents)
    below = ancestors(store, [p for sha in common for p in store.commit(sha).parents])
    return sorted(sha for sha in common if sha not in below)
