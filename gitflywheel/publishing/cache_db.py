"""The one database the site's caches keep their records in: an SQLite file in their
folder (the store's `gitflywheel/site-cache/cache.sqlite3`) of bytes by kind and key,
so that a build that keeps thousands of records writes one file, not thousands.

What is put is held in memory and written in short transactions: when a few hundred
records are held, on `flush()`, and at the end of every build (`site.build_site`,
`site.make_site`), whether it ended well or not. The file is in WAL mode: a reader
never waits for a writer, and two builds at once (`serve` rebuilding while `site` runs)
both go on, a writer waiting for the other at most `BUSY_SECONDS`; no transaction is
held across a build. SQLite never lets a record be read half-written.

A cache is never trusted over history and never costs more than work: a database that
cannot be opened (the path is a folder, the folder cannot be written), is damaged (then
it is removed, for the next build to make anew), is locked too long or cannot be written
answers nothing or keeps nothing from then on, and the build goes on without it.

A record may name the code that made it (`put(code=)`): a build of other code never
reads it, so `prune(codes)` removes the records of every code but `codes`, once a build
of them ended well (a table of the codes the file holds says whether there is any
other: a build after which nothing changed scans nothing).

A process forked from one that uses a `CacheDB` may use it too: on its first use there
it opens a connection of its own (the parent's is left alone) and drops the records the
parent held, which the parent writes itself. The parent should `flush()` before it
forks: that writes what it holds and closes its connection, so that none is open across
the fork.

Made before this file, the caches kept one JSON file per record under `site-cache/`
(`??/` for Markdown, `built/` for the build's records): a database made new removes
those folders, never reading them.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path

__all__ = ["BATCH", "BUSY_SECONDS", "FILE_NAME", "CacheDB"]

FILE_NAME = "cache.sqlite3"
BATCH = 256  # records held before they are written
BATCH_BYTES = 4 << 20  # or bytes held
BUSY_SECONDS = 5.0  # how long a write waits for another process's
_FETCH = 500  # keys a query of `prefetch` asks for (SQLite takes 32,766 parameters)
_FORMAT = 2  # PRAGMA user_version of the file; another one is made anew
_DAMAGED = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)
_OLD_LAYOUT = re.compile(r"[0-9a-f]{2}|built")

# Connections a forked process inherited: never used nor closed there (closing one
# could end what the parent's connection still uses), so kept from the collector.
_inherited: list[sqlite3.Connection] = []

# How many forks led to this process: a `CacheDB` that counted fewer was made before one
# (asking the system for the process id at each use costs more than a record's lookup).
_forks = 0


def _forked() -> None:
    global _forks
    _forks += 1


os.register_at_fork(after_in_child=_forked)


class CacheDB:
    """Bytes by (kind, key) in `folder`'s `cache.sqlite3`; None keeps nothing."""

    def __init__(self, folder: Path | None) -> None:
        self.path = None if folder is None else folder / FILE_NAME
        self._db: sqlite3.Connection | None = None
        self._forks = _forks
        self._held: dict[tuple[str, str], bytes] = {}
        self._codes: dict[tuple[str, str], str] = {}  # of the records held: who made them
        self._held_bytes = 0
        self._fetched: dict[tuple[str, str], bytes | None] = {}  # read ahead: `prefetch`
        self._readable = self.path is not None
        self._writable = self.path is not None

    def get(self, kind: str, key: str) -> bytes | None:
        """The bytes kept under (kind, key), or None when there are none to be read."""
        self._check_fork()
        held = self._held.get((kind, key))
        if held is not None:
            return held
        if (kind, key) in self._fetched:
            return self._fetched.pop((kind, key))
        db = self._connection()
        if db is None:
            return None
        try:
            row = db.execute(
                "SELECT data FROM records WHERE kind = ? AND key = ?", (kind, key)
            ).fetchone()
        except sqlite3.Error as error:
            self._failed(error, reading=True)
            return None
        return None if row is None else bytes(row[0])

    def prefetch(self, kind: str, keys: Iterable[str]) -> None:
        """Read the records of `keys` now, a few hundred a query (in the order of the
        index), for the next `get` of each to take from memory, once: a build that looks
        up thousands of records pays for a few queries, not one each."""
        self._check_fork()
        wanted = sorted({key for key in keys if (kind, key) not in self._held})
        db = self._connection() if wanted else None
        if db is None:
            return
        for start in range(0, len(wanted), _FETCH):
            chunk = wanted[start : start + _FETCH]
            marks = ",".join("?" * len(chunk))
            try:
                rows = db.execute(
                    f"SELECT key, data FROM records WHERE kind = ? AND key IN ({marks})",
                    (kind, *chunk),
                ).fetchall()
            except sqlite3.Error as error:
                self._failed(error, reading=True)
                return
            found = {str(key): bytes(data) for key, data in rows}
            for key in chunk:
                self._fetched[(kind, key)] = found.get(key)

    def put(self, kind: str, key: str, data: bytes, code: str = "") -> None:
        """Keep `data` under (kind, key), in place of what was there; written with the
        records held with it. `code`: the code that made it, whose `prune` keeps it
        ("": no code's, never pruned)."""
        self._check_fork()
        if not self._writable:
            return
        self._fetched.pop((kind, key), None)
        earlier = self._held.get((kind, key))
        self._held[(kind, key)] = data
        self._codes[(kind, key)] = code
        self._held_bytes += len(data) - (len(earlier) if earlier is not None else 0)
        if len(self._held) >= BATCH or self._held_bytes >= BATCH_BYTES:
            self._write()

    def prune(self, codes: Collection[str]) -> None:
        """Write the records held, then remove every record other code made than
        `codes`: what no build of them reads (each of its keys names the code that made
        it). A record of no code's ("") stays."""
        self._check_fork()
        self._write()
        db = self._connection() if self._writable else None
        if db is None:
            return
        try:
            others = [
                str(row[0]) for row in db.execute("SELECT code FROM codes") if row[0] not in codes
            ]
            if others:
                with _transaction(db):
                    for other in others:
                        db.execute("DELETE FROM records WHERE code = ?", (other,))
                        db.execute("DELETE FROM codes WHERE code = ?", (other,))
        except sqlite3.Error as error:
            self._failed(error, reading=False)

    def flush(self) -> None:
        """Write the records held, in one transaction, and close the connection (the
        next use opens one again). Call it at the end of a build and before a fork."""
        self._check_fork()
        self._write()
        if self._db is not None:
            db, self._db = self._db, None
            with contextlib.suppress(sqlite3.Error):
                db.close()

    # -- the connection -----------------------------------------------------------------

    def _check_fork(self) -> None:
        """In a process forked from the one that opened the connection: a connection of
        its own when needed, and none of the parent's records (the parent writes them)."""
        if _forks == self._forks:
            return
        self._forks = _forks
        if self._db is not None:
            _inherited.append(self._db)
            self._db = None
        self._drop_held()
        self._fetched.clear()

    def _drop_held(self) -> None:
        self._held.clear()
        self._codes.clear()
        self._held_bytes = 0

    def _connection(self) -> sqlite3.Connection | None:
        if self._db is None and self._readable:
            self._db = self._open()
            if self._db is None:
                self._readable = self._writable = False
                self._drop_held()
        return self._db

    def _open(self) -> sqlite3.Connection | None:
        """The database, open and of this format, or None when it cannot be had; a
        damaged file is removed and made again, once."""
        assert self.path is not None
        deadline = time.monotonic() + BUSY_SECONDS
        attempt = 0
        while attempt < 2:
            db: sqlite3.Connection | None = None
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(
                    self.path,
                    timeout=BUSY_SECONDS,
                    isolation_level=None,  # transactions only where written below
                    check_same_thread=False,  # `serve` builds in a thread of its own
                )
                # WAL (kept in the file once set); while another process makes the file,
                # SQLite may answer with the mode it has: the database works in it too
                db.execute("PRAGMA journal_mode=WAL").fetchone()
                db.execute("PRAGMA synchronous=NORMAL")  # in WAL: synced at checkpoints
                if db.execute("PRAGMA user_version").fetchone()[0] != _FORMAT:
                    self._make(db)
                return db
            except sqlite3.Error as error:
                if db is not None:
                    with contextlib.suppress(sqlite3.Error):
                        db.close()
                if _busy(error) and time.monotonic() < deadline:
                    # another process making the file or turning it to WAL: SQLite says
                    # so at once, without its busy wait
                    time.sleep(0.02)
                    continue
                if attempt or not _damaged(error):
                    return None
                _remove(self.path)
                attempt += 1
            except OSError:
                if db is not None:
                    with contextlib.suppress(sqlite3.Error):
                        db.close()
                return None
        return None

    def _make(self, db: sqlite3.Connection) -> None:
        """The table of records, in a file that has none of this format; the per-file
        layout that came before it goes."""
        assert self.path is not None
        with _transaction(db):
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version != _FORMAT:
                db.execute("DROP TABLE IF EXISTS records")
                db.execute("DROP TABLE IF EXISTS codes")
                db.execute(
                    "CREATE TABLE records (kind TEXT NOT NULL, key TEXT NOT NULL,"
                    " data BLOB NOT NULL, code TEXT NOT NULL, PRIMARY KEY (kind, key))"
                )
                db.execute("CREATE TABLE codes (code TEXT PRIMARY KEY)")
                db.execute(f"PRAGMA user_version = {_FORMAT}")
        if version == 0:
            for old in self.path.parent.iterdir():
                if _OLD_LAYOUT.fullmatch(old.name) and old.is_dir() and not old.is_symlink():
                    shutil.rmtree(old, ignore_errors=True)

    def _write(self) -> None:
        codes = self._codes
        rows = [(kind, key, data, codes[kind, key]) for (kind, key), data in self._held.items()]
        self._drop_held()
        if not rows or not self._writable:
            return
        db = self._connection()
        if db is None:
            return
        try:
            with _transaction(db):
                db.executemany("INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?)", rows)
                made_by = {(code,) for *_, code in rows if code}
                db.executemany("INSERT OR IGNORE INTO codes VALUES (?)", made_by)
        except sqlite3.Error as error:
            self._failed(error, reading=False)

    def _failed(self, error: sqlite3.Error, reading: bool) -> None:
        """After an error: a damaged file is removed and nothing more is read or kept
        here; a write refused (locked too long, read-only, disk full) keeps nothing more;
        a read refused reads nothing more."""
        damaged = _damaged(error)
        if reading or damaged:
            self._readable = False
        self._writable = False
        self._drop_held()
        if not self._readable and self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None
        if damaged and self.path is not None:
            _remove(self.path)


def _primary(error: sqlite3.Error) -> int | None:
    """The primary result code of `error` (its extended code's low byte: SQLITE_BUSY
    for SQLITE_BUSY_RECOVERY too), or None when it has none."""
    code = getattr(error, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def _damaged(error: sqlite3.Error) -> bool:
    return _primary(error) in _DAMAGED


def _remove(path: Path) -> None:
    for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(OSError):
            name.unlink()


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    """A write transaction, taken at once (BEGIN IMMEDIATE), committed at the end or
    rolled back when anything is raised."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
        raise


def _busy(error: sqlite3.Error) -> bool:
    """Whether `error` says another connection holds the database just now (as while
    it turns the file to WAL or recovers its log)."""
    return _primary(error) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
