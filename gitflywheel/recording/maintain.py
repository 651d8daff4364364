"""Maintenance of a store: fewer packs, and the indexes git reads beside them.

Under the store's writer lock: loose objects (a push by plain git leaves them) go into a
pack, and packs merge as the geometric rule allows (`full`: all into one). When git is
installed, git then writes a multi-pack-index with a reachability bitmap (what a git
server answers clones and fetches from) and a split commit-graph (what git's history
walks read). Last, the query index that `ls` and `which` read is brought up to date, so
that the first query after a large ingest finds it ready. Nothing is pruned: every
object stays, reachable or not.

dulwich 1.2 reads `objects/pack/multi-pack-index` and falls back to each pack's own
index when it names a pack that is gone; it does not read a split commit-graph, and
gitflywheel never writes a commit-graph with dulwich. Ingest merges packs itself and
drops a multi-pack-index that a merge makes stale, so `maintain` is for now and then.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import StoreError
from ..queries import index as queryindex
from ..storage.store import Store
from .init import repository_problem

__all__ = ["MaintainResult", "maintain"]

WRITTEN = "written"
CURRENT = "current"
NO_GIT = "skipped: git is not installed"
NO_HISTORY = "skipped: the store has no history yet"
NO_PACKS = "skipped: the store has no packs"
NO_INDEX = "skipped: it cannot be written here"
# Where a caller's git environment would send git to another repository than the store.
_GIT_LOCATION_VARIABLES = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_COMMON_DIR",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_QUARANTINE_PATH",
)


@dataclass(frozen=True)
class MaintainResult:
    """What `maintain` did: packs before and after, loose objects packed, packs merged,
    and what became of the multi-pack-index, the commit-graph and the query index
    (`written`, `current`, or `skipped: why`)."""

    store: str
    full: bool
    packs_before: int
    packs_after: int
    loose_packed: int
    packs_merged: int
    multi_pack_index: str
    commit_graph: str
    query_index: str

    @property
    def changed(self) -> bool:
        """Whether anything was written; a second run right after changes nothing."""
        return bool(
            self.loose_packed
            or self.packs_merged
            or WRITTEN in (self.multi_pack_index, self.commit_graph, self.query_index)
        )

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "changed": self.changed}


def maintain(store: Store, full: bool = False) -> MaintainResult:
    """Pack loose objects, merge packs, and (with git) write the multi-pack-index and
    commit-graph, under the writer lock; then bring the query index up to date. A
    repository that is not a store is refused."""
    problem = repository_problem(store)
    if problem is not None:
        raise StoreError(f"{store.path}: {problem}")
    git = shutil.which("git")
    with store.lock():
        before = store.pack_layout()
        loose = store.pack_loose_objects() if before.loose else 0
        merges = store.compact_packs(full)
        after = store.pack_layout()
        if git is None:
            midx = graph = NO_GIT
        elif store.tip() is None:
            midx = graph = NO_HISTORY
        else:
            midx = (
                _write_midx(git, store)
                if after.packs and not after.midx_current
                else (CURRENT if after.packs else NO_PACKS)
            )
            graph = _write_commit_graph(git, store)
    query = _refresh_query_index(store)  # outside the writer lock: it needs none
    return MaintainResult(
        str(store.path),
        full,
        len(before.packs),
        len(after.packs),
        loose,
        sum(len(m.merged) for m in merges),
        midx,
        graph,
        query,
    )


def _refresh_query_index(store: Store) -> str:
    if store.tip() is None:
        return NO_HISTORY
    refreshed = queryindex.refresh(store)
    if refreshed is None:
        return NO_INDEX
    return WRITTEN if refreshed else CURRENT


def _write_midx(git: str, store: Store) -> str:
    """git writes a multi-pack-index of every pack, with a reachability bitmap."""
    _run_git(git, store.path, "multi-pack-index", "write", "--bitmap", "--no-progress")
    if not store.pack_layout().midx_current:
        raise StoreError(
            f"{store.path}: git multi-pack-index write left no index of every pack with its bitmap"
        )
    return WRITTEN


def _write_commit_graph(git: str, store: Store) -> str:
    """git writes the commit-graph of every ref's history, as a split chain (a new
    layer for new commits only); `current` when git found nothing to add."""
    before = _graph_files(store.path)
    _run_git(git, store.path, "maintenance", "run", "--task=commit-graph", "--quiet")
    return CURRENT if _graph_files(store.path) == before else WRITTEN


def _graph_files(store_path: Path) -> dict[str, tuple[int, int]]:
    """The commit-graph files, each with its size and modification time."""
    info = store_path / "objects" / "info"
    found = [info / "commit-graph", *sorted((info / "commit-graphs").glob("*"))]
    out = {}
    for file in found:
        try:
            stat = file.stat()
        except FileNotFoundError:
            continue
        out[file.name] = (stat.st_size, stat.st_mtime_ns)
    return out


def _run_git(git: str, store_path: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in _GIT_LOCATION_VARIABLES}
    try:
        done = subprocess.run(
            [git, f"--git-dir={store_path}", *args],
            capture_output=True,
            env=env,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except OSError as exc:
        raise StoreError(f"{store_path}: cannot run git {args[0]}: {exc}") from None
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = said[-1] if said else f"exit status {done.returncode}"
        raise StoreError(f"{store_path}: git {' '.join(args[:2])} failed: {reason}")
