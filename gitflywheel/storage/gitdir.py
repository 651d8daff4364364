"""Where gitflywheel keeps its own files inside a git directory: the one place that names them.

Beside git's own files, a store's git directory holds gitflywheel's locks and, under
`gitflywheel/`, its caches, spools and logs; a work repository's git directory holds the
push hook's spool when the store cannot be written. Nothing here is part of the tree, so
nothing here is pushed; every file can be rebuilt or is a queue that drains.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "WORK_DIR",
    "QUARANTINE_PREFIX",
    "VERIFIED_REF",
    "OWN_REFS_PREFIX",
    "REPO_SPOOL",
    "StorePaths",
    "WorkRepoPaths",
]

WORK_DIR = "gitflywheel"  # <store>/gitflywheel/: gitflywheel's own files, beside git's
QUARANTINE_PREFIX = "incoming-"  # <store>/gitflywheel/incoming-*: fetched objects under check
OWN_REFS_PREFIX = b"refs/gitflywheel/"  # refs of gitflywheel's own, never published
VERIFIED_REF = OWN_REFS_PREFIX + b"verified"  # the last commit verify proved
REPO_SPOOL = "gitflywheel-spool"  # in a work repository's git directory


@dataclass(frozen=True)
class StorePaths:
    """Every path gitflywheel uses inside a store's git directory."""

    git_dir: Path

    @property
    def work(self) -> Path:
        return self.git_dir / WORK_DIR

    @property
    def writer_lock(self) -> Path:
        """Held by every writer of the store (ingest, rerender, sync, site branch, ...)."""
        return self.git_dir / "gitflywheel.lock"

    @property
    def quarantine_lock(self) -> Path:
        """In a quarantine's own git directory: held by the process the quarantine belongs
        to for as long as it lives, so the store's lock cleanup tells a live one (a sync
        waiting between attempts, without the writer lock) from one a killed sync left."""
        return self.git_dir / "gitflywheel-quarantine.lock"

    @property
    def verify_lock(self) -> Path:
        """Held by a verify run while it writes its index and `VERIFIED_REF`."""
        return self.git_dir / "gitflywheel-verify.lock"

    @property
    def query_index(self) -> Path:
        """The SQLite cache `ls` and `which` answer from."""
        return self.work / "query.sqlite3"

    @property
    def verify_index(self) -> Path:
        """What verify remembers between runs."""
        return self.work / "verify.sqlite3"

    @property
    def verify_index_fresh(self) -> Path:
        """A verify index being rebuilt; it replaces `verify_index` when complete."""
        return self.work / "verify.sqlite3.new"

    @property
    def card_cache(self) -> Path:
        """Card images a site build drew, each named by the hash of what it was drawn from."""
        return self.work / "cards"

    @property
    def site_cache(self) -> Path:
        """What site builds rendered (Markdown as HTML) and made, each record named by the
        hash of what decides it, in one database (`publishing.cache_db`)."""
        return self.work / "site-cache"

    @property
    def hook_spool(self) -> Path:
        """Pushes the hook recorded and `hook run` has not yet ingested."""
        return self.work / "spool"

    @property
    def hook_log(self) -> Path:
        return self.work / "hook.log"

    @property
    def hook_lock(self) -> Path:
        """One `hook run` at a time per store."""
        return self.work / "hook.lock"

    def quarantines(self) -> list[Path]:
        """The folders of fetched objects still under check, or left by a killed sync."""
        if not self.work.is_dir():
            return []
        return sorted(self.work.glob(f"{QUARANTINE_PREFIX}*"))


@dataclass(frozen=True)
class WorkRepoPaths:
    """Every path gitflywheel uses inside a work repository's git directory."""

    git_dir: Path

    @property
    def spool(self) -> Path:
        """Pushes recorded while the store could not be written."""
        return self.git_dir / REPO_SPOOL

    @property
    def log(self) -> Path:
        return self.spool / "hook.log"
