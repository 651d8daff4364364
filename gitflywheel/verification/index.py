"""What `verify` remembers between runs: an SQLite index of the verified history.

Kept beside the repository's objects (`<store>/gitflywheel/verify.sqlite3`), never in
git's refs or objects, so `git fsck` and a push of `main` never see it. It holds what
the rules need to judge a new commit without re-reading the whole store: each session's
current record, every record blob ever stored, artifact blobs by kind, content
fingerprints, twin keys (digests of what each session carries: `drafts.twin_keys`), the
pipeline version and filter sets that made each session, and blob reference counts for
the figures. Every question a commit asks of it is a lookup by key, so a commit costs
the same however many sessions the store holds. A run whose starting commit does not match the index,
or whose index was written by another gitflywheel, rebuilds it from the root.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..storage.gitdir import StorePaths

__all__ = ["SessionState", "VerifyState"]

_BUILD_CACHE_KB = 64 * 1024  # the page cache of a run that builds the index
SCHEMA_VERSION = "5"  # raised when the tables or their keys change: an older index is rebuilt
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, path TEXT NOT NULL, record_blob TEXT NOT NULL,
    revision INTEGER NOT NULL, fingerprint TEXT NOT NULL, session_type TEXT NOT NULL,
    pipeline TEXT NOT NULL, filters TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_fingerprint ON sessions (fingerprint);
CREATE TABLE IF NOT EXISTS records (blob TEXT PRIMARY KEY, session_id TEXT NOT NULL, revision INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS artifacts (
    session_id TEXT NOT NULL, kind TEXT NOT NULL, blob TEXT NOT NULL,
    pipeline TEXT NOT NULL, step TEXT NOT NULL, PRIMARY KEY (session_id, kind));
CREATE INDEX IF NOT EXISTS artifacts_blob ON artifacts (kind, blob);
CREATE TABLE IF NOT EXISTS blobs (blob TEXT PRIMARY KEY, size INTEGER NOT NULL, refs INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS warnings (session_id TEXT NOT NULL, text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS warnings_session ON warnings (session_id);
CREATE TABLE IF NOT EXISTS twins (key TEXT NOT NULL, session_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS twins_key ON twins (key);
CREATE INDEX IF NOT EXISTS twins_session ON twins (session_id);
"""


@dataclass(frozen=True)
class SessionState:
    session_id: str
    path: str
    record_blob: str
    revision: int
    fingerprint: str
    session_type: str
    pipeline: str  # the version that made the session, e.g. build/1
    filters: str  # the filter sets its artifacts were rendered with, comma-separated


class VerifyState:
    """The index, opened on the kept file, or new (a run that rebuilds it): in a file of
    its own beside the kept one, so that memory stays flat however large the store, or
    in memory (`path` None) where the store's folder cannot be written."""

    def __init__(self, path: Path | None, new: bool = False) -> None:
        self.path = path
        self.new = new or path is None
        self.db = sqlite3.connect(":memory:" if path is None else str(path))
        if self.new:
            # Nothing reads a new index before it is complete and moved into place, so
            # it needs no journal; a run that dies leaves a file the next one replaces.
            self.db.execute("PRAGMA journal_mode = OFF")
            self.db.execute("PRAGMA synchronous = OFF")
            # A run that builds the index looks up and inserts random keys all over it:
            # with SQLite's default page cache (2 MB) most of them read their pages again
            # from the file once the index outgrows it (a few thousand sessions).
            self.db.execute(f"PRAGMA cache_size = {-_BUILD_CACHE_KB}")
            self.db.executescript(_SCHEMA)
            self.set_meta("schema", SCHEMA_VERSION)

    @classmethod
    def fresh(cls, store_dir: Path) -> VerifyState:
        """A new, empty index for a run that walks the whole history."""
        path = StorePaths(store_dir).verify_index_fresh
        try:
            path.parent.mkdir(exist_ok=True)
            path.unlink(missing_ok=True)
            return cls(path, new=True)
        except (OSError, sqlite3.Error):
            return cls(None)

    @classmethod
    def load(cls, store_dir: Path) -> VerifyState | None:
        """The kept index, or None when there is none, it cannot be read, or another
        gitflywheel wrote it in another shape."""
        path = StorePaths(store_dir).verify_index
        if not path.exists():
            return None
        try:
            state = cls(path)
            if state.get_meta("schema") == SCHEMA_VERSION:
                return state
            state.close()
        except sqlite3.DatabaseError:
            pass
        return None

    def save_as(self, store_dir: Path) -> None:
        """Write this index as the kept one, atomically."""
        paths = StorePaths(store_dir)
        paths.work.mkdir(exist_ok=True)
        target = paths.verify_index
        if self.path == target:
            self.db.commit()
            return
        if self.new and self.path == paths.verify_index_fresh:
            self.db.commit()
            self.db.close()
            self.path.replace(target)
            self.path, self.new = target, False
            self.db = sqlite3.connect(str(target))
            return
        tmp = paths.verify_index.with_name(paths.verify_index.name + ".tmp")
        tmp.unlink(missing_ok=True)
        self.db.commit()
        out = sqlite3.connect(str(tmp))
        with out:
            self.db.backup(out)
        out.close()
        tmp.replace(target)

    def close(self) -> None:
        """Close the index; a new one that was not saved is removed."""
        self.db.close()
        if self.new and self.path is not None:
            self.path.unlink(missing_ok=True)

    # -- meta --------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # -- sessions ----------------------------------------------------------------------

    def session(self, session_id: str) -> SessionState | None:
        row = self.db.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return None if row is None else SessionState(*row)

    def session_with_fingerprint(self, fingerprint: str, other_than: str) -> str | None:
        row = self.db.execute(
            "SELECT id FROM sessions WHERE fingerprint = ? AND id != ? LIMIT 1",
            (fingerprint, other_than),
        ).fetchone()
        return None if row is None else str(row[0])

    def record_holder(self, blob: str) -> tuple[str, int] | None:
        row = self.db.execute(
            "SELECT session_id, revision FROM records WHERE blob = ?", (blob,)
        ).fetchone()
        return None if row is None else (str(row[0]), int(row[1]))

    def artifact_holder(self, kind: str, blob: str, other_than: str) -> str | None:
        row = self.db.execute(
            "SELECT session_id FROM artifacts WHERE kind = ? AND blob = ? AND session_id != ? LIMIT 1",
            (kind, blob, other_than),
        ).fetchone()
        return None if row is None else str(row[0])

    def twin_of(self, key: str, other_than: str) -> str | None:
        """The session recorded first among those that carry `key`, other than this one."""
        row = self.db.execute(
            "SELECT session_id FROM twins WHERE key = ? AND session_id != ? ORDER BY rowid LIMIT 1",
            (key, other_than),
        ).fetchone()
        return None if row is None else str(row[0])

    def put_session(
        self,
        state: SessionState,
        artifacts: Iterable[tuple[str, str, str, str]],
        warnings: Iterable[str],
        twin_keys: Iterable[str] = (),
        first: bool = False,
    ) -> None:
        """Record a session's new current state: (kind, blob, pipeline, step) per artifact,
        its warnings and its twin keys. A session keeps its place among the holders of a
        key it carried before (its first recording is what makes it the earlier twin).
        `first`: the index holds nothing of it yet (`session` found no row, and every row
        of a session is written here, with its row), so there is nothing to replace."""
        self.db.execute(
            "INSERT OR REPLACE INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                state.session_id,
                state.path,
                state.record_blob,
                state.revision,
                state.fingerprint,
                state.session_type,
                state.pipeline,
                state.filters,
            ),
        )
        self.db.execute(
            "INSERT OR IGNORE INTO records VALUES (?, ?, ?)",
            (state.record_blob, state.session_id, state.revision),
        )
        if not first:
            self.db.execute("DELETE FROM artifacts WHERE session_id = ?", (state.session_id,))
            self.db.execute("DELETE FROM warnings WHERE session_id = ?", (state.session_id,))
        self.db.executemany(
            "INSERT OR REPLACE INTO artifacts VALUES (?, ?, ?, ?, ?)",
            [(state.session_id, *a) for a in artifacts],
        )
        self.db.executemany(
            "INSERT INTO warnings VALUES (?, ?)", [(state.session_id, w) for w in warnings]
        )
        keys = set(twin_keys)
        held = (
            set()
            if first
            else {
                str(k)
                for (k,) in self.db.execute(
                    "SELECT key FROM twins WHERE session_id = ?", (state.session_id,)
                )
            }
        )
        self.db.executemany(
            "DELETE FROM twins WHERE session_id = ? AND key = ?",
            [(state.session_id, k) for k in sorted(held - keys)],
        )
        self.db.executemany(
            "INSERT INTO twins VALUES (?, ?)", [(k, state.session_id) for k in sorted(keys - held)]
        )

    def blob_refs(self, changes: Iterable[tuple[str, int, int]]) -> None:
        """Apply (blob, size, +1/-1) reference changes of the tip's tree; a blob no longer
        referenced is dropped by its key, so the cost follows the change, not the table."""
        rows = list(changes)
        self.db.executemany(
            "INSERT INTO blobs VALUES (?, ?, ?) ON CONFLICT(blob) DO UPDATE SET refs = refs + excluded.refs",
            rows,
        )
        dropped = {blob: None for blob, _, delta in rows if delta < 0}
        self.db.executemany(
            "DELETE FROM blobs WHERE blob = ? AND refs <= 0", [(blob,) for blob in dropped]
        )

    # -- figures -----------------------------------------------------------------------

    def figures(self) -> dict[str, int]:
        q = self.db.execute
        sessions, revisions = q(
            "SELECT COUNT(*), COALESCE(SUM(revision - 1), 0) FROM sessions"
        ).fetchone()
        artifacts = q("SELECT COUNT(*) FROM artifacts").fetchone()[0]
        unique, unique_bytes, total_bytes, files = q(
            "SELECT COUNT(*), COALESCE(SUM(size), 0), COALESCE(SUM(size * refs), 0), COALESCE(SUM(refs), 0) FROM blobs"
        ).fetchone()
        return {
            "sessions": int(sessions),
            "revisions": int(revisions),
            "artifacts": int(artifacts),
            "files": int(files),
            "unique_blobs": int(unique),
            "bytes": int(total_bytes),
            "unique_bytes": int(unique_bytes),
            "bytes_saved_by_dedup": int(total_bytes - unique_bytes),
        }

    def sessions_by_type(self) -> dict[str, int]:
        rows = self.db.execute(
            "SELECT session_type, COUNT(*) FROM sessions GROUP BY session_type ORDER BY 1"
        )
        return {str(t): int(n) for t, n in rows}

    def pipelines(self) -> dict[str, int]:
        """Sessions at the tip by the pipeline version that made them."""
        rows = self.db.execute("SELECT pipeline, COUNT(*) FROM sessions GROUP BY 1 ORDER BY 1")
        return {str(p): int(n) for p, n in rows}

    def filter_sets(self) -> dict[str, int]:
        """Sessions at the tip by the filter sets their artifacts were rendered with."""
        counts: dict[str, int] = {}
        for (names,) in self.db.execute("SELECT filters FROM sessions WHERE filters != ''"):
            for name in str(names).split(","):
                counts[name] = counts.get(name, 0) + 1
        return dict(sorted(counts.items()))

    def artifacts_by_step(self) -> list[tuple[str, str, str, int]]:
        rows = self.db.execute(
            "SELECT pipeline, step, kind, COUNT(*) FROM artifacts GROUP BY pipeline, step, kind ORDER BY 1, 2, 3"
        )
        return [(str(p), str(s), str(k), int(n)) for p, s, k, n in rows]

    def all_warnings(self) -> Iterator[tuple[str, str]]:
        for session_id, text in self.db.execute(
            "SELECT session_id, text FROM warnings ORDER BY 1, 2"
        ):
            yield str(session_id), str(text)
