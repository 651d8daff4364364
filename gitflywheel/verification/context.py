"""What every check of a verify run shares: the store, read without trusting it, and the
list findings go to."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..errors import StoreError
from ..session.models import SESSION_ID_PATTERN
from ..storage.objects import CommitInfo
from ..storage.store import Store
from ..storage.treecheck import display_name
from ..storage.treediff import MAX_DEPTH, read_entries, read_names
from ..storage.trees import GITLINK_MODE, TREE_MODE
from .result import Finding
from .rules import RULES

__all__ = ["Context", "FolderFiles", "safe_id", "is_blob", "read_commit", "unread_commit"]

_SESSION_ID = re.compile(SESSION_ID_PATTERN)

FolderFiles = dict[str, tuple[int, bytes]]  # path -> (mode, id), folders included


def safe_id(session_id: str) -> bool:
    """Whether a session id is one the layout can place (so `session_dir` may be asked)."""
    return _SESSION_ID.match(session_id) is not None


def is_blob(mode: int) -> bool:
    return mode not in (TREE_MODE, GITLINK_MODE)


def read_commit(store: Store, sha: bytes) -> CommitInfo | None:
    """A commit, or None when the store does not hold one under this id."""
    try:
        return store.commit(sha)
    except (KeyError, StoreError, ValueError):
        return None


def unread_commit(store: Store, sha: bytes) -> str:
    """Why `read_commit` gives None for this id: `is not in the store`, or what keeps
    the object there from being read as a commit."""
    try:
        store.commit(sha)
    except KeyError:
        return "is not in the store"
    except (StoreError, ValueError) as exc:
        return f"does not parse as a commit: {exc}"
    return "is a commit in the store"  # pragma: no cover - read_commit read it


class Context:
    """The store and where findings go (`sink`, which the caller points at the list of
    the moment); every read tolerates what a hostile history may hold (a missing or
    mistyped object is reported where the diff meets it)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.sink: list[Any] = []

    def find(self, rule: str, commit: CommitInfo, path: str, message: str) -> None:
        assert rule in RULES, rule
        self.sink.append(Finding(rule, commit.id.decode(), path, message))

    def lookup(self, tree_id: bytes, path: str) -> tuple[int, bytes] | None:
        """(mode, id) at `path`, or None, also when a tree on the way is not in the store.
        A name a tree holds twice is its last entry, as a tree read into a dict has it."""
        mode, sha = TREE_MODE, tree_id
        for part in path.split("/"):
            names = read_names(self.store, sha) if mode == TREE_MODE else None
            found = None if names is None else names.get(part.encode())
            if found is None:
                return None
            mode, sha = found
        return mode, sha

    def blob(self, sha: bytes) -> bytes | None:
        """A blob's bytes, or None when the store does not hold it as a blob."""
        try:
            return self.store.blob(sha)
        except (KeyError, StoreError, ValueError):
            return None

    def folder_files(self, tree_id: bytes, prefix: str) -> FolderFiles:
        """Every entry under a session folder, its folders included."""
        return dict(self._walk(tree_id, prefix, 0))

    def _walk(
        self, tree_id: bytes, prefix: str, depth: int
    ) -> Iterator[tuple[str, tuple[int, bytes]]]:
        # A tree the store cannot read, or nested beyond MAX_DEPTH, is not walked: the
        # diff of the commit that brought it names it.
        for name, mode, sha in read_entries(self.store, tree_id) or []:
            path = f"{prefix}/{display_name(name)}"
            yield path, (mode, sha)
            if mode == TREE_MODE and depth < MAX_DEPTH:
                yield from self._walk(sha, path, depth + 1)
