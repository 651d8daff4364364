"""The query index: what `ls` and `which` answer from, an SQLite cache beside the store.

`<store>/gitflywheel/query.sqlite3` holds a row per session folder of one commit's tree
(type, agent, time, revision, title, artifact kinds, the post's slug) and a row per file
its manifest lists (blob id, kind, path), indexed by type, agent, time, slug and blob id, so that an answer
costs what it holds, not what the store holds. It names the commit it describes and is
never trusted over the history: it is used only when that commit is `main` or an
ancestor of it, and is then brought up to the tip from the session folders the two trees
differ in (`treediff.diff_sessions`), so the cost follows the change. Missing, damaged,
of another format, or naming a commit `main` does not reach: rebuilt from the tip's
tree, and so is a file SQLite finds damaged (the index is the store's own file, trusted
as far as its refs are: it holds no checksum of its rows). Whatever stops it from being
kept (a store this process cannot write, a tree it cannot read, a manifest that does
not parse) makes the caller read the history itself, which answers, or fails, as it
always has.

It is written in SQLite's WAL mode: readers read their snapshot while one writer brings
it up to date, and nobody takes the store's writer lock, so queries never hold up ingest.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..storage.folders import session_folders
from ..storage.gitdir import StorePaths
from ..storage.layout import MANIFEST_FILE, SESSIONS_DIR
from ..storage.store import Store

if TYPE_CHECKING:  # the type only: reading a manifest loads pydantic, made when used
    from ..session.manifest import Manifest

__all__ = [
    "BadTimestamp",
    "FolderRows",
    "IndexedSession",
    "TimeWindow",
    "advance",
    "folder_rows",
    "index_path",
    "indexed_holders",
    "indexed_session_documents",
    "indexed_sessions",
    "indexed_slug_holders",
    "SlugIndex",
    "slug_index",
    "refresh",
]

T = TypeVar("T")

FORMAT = "2"
# How long to wait for another process bringing the index up to date before reading
# the history instead: long enough for an update, short beside a rebuild.
_BUSY_MS = 2_000
_WAL_LIMIT = 1 << 26  # bytes of write-ahead log kept after a checkpoint
_ORIGIN = datetime(1, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    folder BLOB PRIMARY KEY,
    session_id TEXT NOT NULL, session_type TEXT NOT NULL, agent_id TEXT NOT NULL,
    timestamp TEXT NOT NULL, moment INTEGER, day INTEGER, timestamp_error TEXT,
    revision INTEGER NOT NULL, title TEXT, kinds TEXT NOT NULL, slug TEXT);
CREATE TABLE IF NOT EXISTS files (
    folder BLOB NOT NULL, seq INTEGER NOT NULL, blob TEXT NOT NULL,
    session_id TEXT NOT NULL, kind TEXT NOT NULL, path TEXT NOT NULL,
    PRIMARY KEY (folder, seq));
"""
# Made after the rows when the index is built from scratch: sorting once beats
# inserting each row into them at random.
_INDEXES = """
CREATE INDEX IF NOT EXISTS sessions_type ON sessions (session_type, agent_id);
CREATE INDEX IF NOT EXISTS sessions_agent ON sessions (agent_id);
CREATE INDEX IF NOT EXISTS sessions_moment ON sessions (moment);
CREATE INDEX IF NOT EXISTS sessions_order ON sessions (timestamp, session_id, folder);
CREATE INDEX IF NOT EXISTS files_blob ON files (blob);
CREATE INDEX IF NOT EXISTS sessions_slug ON sessions (slug);
"""
_TABLE_NAMES = ("meta", "sessions", "files")
_CACHE_KIB = 32 * 1024


# What `ls` shows of a session: id, type, agent, timestamp, revision, title, artifact kinds.
IndexedSession = tuple[str, str, str, str, int, str | None, list[str]]


@dataclass(frozen=True)
class TimeWindow:
    """`ls`'s filters: `start` and `end` in UTC; `end_is_day`: whole days up to `end`'s."""

    session_type: str | None = None
    agent: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    end_is_day: bool = False


class _Unusable(Exception):
    """The index cannot answer this time: the caller reads the history."""


def index_path(store: Store) -> Path:
    return StorePaths(store.path).query_index


def indexed_sessions(store: Store, window: TimeWindow) -> list[IndexedSession] | None:
    """The sessions at the tip that pass `window`, as `ls` lists them (by timestamp, then
    id, then the order of the tree), or None when the index cannot be used. A manifest
    timestamp that does not parse raises BadTimestamp for the first such session (in
    tree order) that the type and agent filters let through, as reading the history does."""

    def ask(db: sqlite3.Connection) -> list[IndexedSession]:
        rows = _select(db, window, _ROW_COLUMNS)
        return [
            (sid, stype, agent, ts, rev, title, json.loads(kinds))
            for sid, stype, agent, ts, rev, title, kinds in rows
        ]

    return _answer(store, ask)


def indexed_session_documents(store: Store, window: TimeWindow) -> list[str] | None:
    """As `indexed_sessions`, each session as a JSON object (SQLite writes them: `ls
    --json` costs what SQLite takes), with the fields of `query.SessionRow`."""

    def ask(db: sqlite3.Connection) -> list[str]:
        return [document for (document,) in _select(db, window, _DOCUMENT_COLUMN)]

    return _answer(store, ask)


def indexed_holders(store: Store, blob: str) -> list[tuple[str, str, str]] | None:
    """(session id, kind, path) of every file at the tip with this blob id, in the
    order the tree and the manifests hold them, or None when the index cannot be used."""

    def ask(db: sqlite3.Connection) -> list[tuple[str, str, str]]:
        rows = db.execute(
            "SELECT session_id, kind, path FROM files WHERE blob = ? ORDER BY folder, seq",
            (blob,),
        ).fetchall()
        return [(s, k, p) for s, k, p in rows]

    return _answer(store, ask)


def indexed_slug_holders(store: Store, slug: str) -> list[str] | None:
    """The ids of the sessions at the tip whose post lives at `slug` (their manifests
    say so), or None when the index cannot be used."""
    index = slug_index(store)
    if index is None:
        return None
    try:
        return index.holders(slug)
    except sqlite3.Error:
        return None
    finally:
        index.close()


class SlugIndex:
    """The index held open for many slug lookups, as it was brought to the tip once: what
    ingest asks before it gives each new session its address (the writer lock it holds
    keeps `main` where it was, but for the sessions it records itself)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def holders(self, slug: str) -> list[str]:
        """The ids of the sessions whose post lives at `slug`; sqlite3.Error when the
        index fails meanwhile."""
        rows = self._db.execute(
            "SELECT session_id FROM sessions WHERE slug = ? ORDER BY folder", (slug,)
        ).fetchall()
        return [str(sid) for (sid,) in rows]

    def close(self) -> None:
        self._db.close()


def slug_index(store: Store) -> SlugIndex | None:
    """The index brought up to `main`'s tip and held open, or None when it cannot be
    kept (read-only, damaged, a tree it cannot read): the caller reads the history."""
    tip = store.tip()
    if tip is None:
        return None
    try:
        return SlugIndex(_up_to_date(store, index_path(store), tip))
    except (sqlite3.Error, _Unusable, OSError):
        return None


def refresh(store: Store) -> bool | None:
    """Bring the index up to date with `main` now (`maintain` does, so that the next
    query finds it ready): True when it was written, False when it was up to date
    already, None when it cannot be kept."""
    tip = store.tip()
    if tip is None:
        return None
    before = _peek(index_path(store))
    if _answer(store, lambda db: True) is None:
        return None
    return before != tip.decode()


def _peek(path: Path) -> str | None:
    """The commit the index describes, read without writing anything; None for none."""
    if not path.is_file():
        return None
    try:
        db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        return _described(db)
    except sqlite3.Error:
        return None
    finally:
        db.close()


class BadTimestamp(Exception):
    """A manifest at the tip whose timestamp does not parse: (session id, reason)."""

    def __init__(self, session_id: str, reason: str) -> None:
        super().__init__(session_id, reason)
        self.session_id = session_id
        self.reason = reason


_ROW_COLUMNS = "session_id, session_type, agent_id, timestamp, revision, title, kinds"
_DOCUMENT_COLUMN = (
    "json_object('session_id', session_id, 'session_type', session_type, 'agent_id', agent_id,"
    " 'timestamp', timestamp, 'revision', revision, 'title', title, 'artifacts', json(kinds))"
)


def _select(db: sqlite3.Connection, window: TimeWindow, columns: str) -> list[tuple[Any, ...]]:
    match, params = _filters(window)
    bad = db.execute(
        "SELECT session_id, timestamp_error FROM sessions"
        f" WHERE timestamp_error IS NOT NULL{match} ORDER BY folder LIMIT 1",
        params,
    ).fetchone()
    if bad is not None:
        raise BadTimestamp(str(bad[0]), str(bad[1]))
    if window.start is not None:
        match += " AND moment >= ?"
        params.append(_micros(window.start))
    if window.end is not None and window.end_is_day:
        match += " AND day <= ?"
        params.append(window.end.date().toordinal())
    elif window.end is not None:
        match += " AND moment <= ?"
        params.append(_micros(window.end))
    # TEXT compares as bytes of UTF-8, which orders as Python orders str: the same order
    # as sorting the rows by (timestamp, session_id), ties left in the tree's order.
    return db.execute(
        f"SELECT {columns} FROM sessions WHERE 1{match} ORDER BY timestamp, session_id, folder",
        params,
    ).fetchall()


def _filters(window: TimeWindow) -> tuple[str, list[object]]:
    match, params = "", list[object]()
    if window.session_type:
        match += " AND session_type = ?"
        params.append(window.session_type)
    if window.agent:
        match += " AND agent_id = ?"
        params.append(window.agent)
    return match, params


def _micros(moment: datetime) -> int:
    return (moment - _ORIGIN) // _MICROSECOND


# -- keeping the index -------------------------------------------------------------------


def _answer(store: Store, ask: Callable[[sqlite3.Connection], T]) -> T | None:
    """`ask` the index, brought up to date with `main`'s tip, in one snapshot; None when
    it cannot be kept. A damaged index is removed and built again, once."""
    tip = store.tip()
    if tip is None:
        return None
    path = index_path(store)
    for attempt in range(2):
        try:
            db = _up_to_date(store, path, tip)
        except sqlite3.OperationalError:
            return None  # read-only, or another process held it too long
        except sqlite3.DatabaseError:
            if attempt:
                return None
            _remove(path)  # damaged: it goes, and is built again
            continue
        except (_Unusable, OSError):
            return None
        try:
            db.execute("BEGIN")  # one snapshot for every read of the answer
            if _described(db) != tip.decode():
                return None  # moved on since (main moved again): the history answers
            return ask(db)
        except sqlite3.OperationalError:
            return None
        except sqlite3.DatabaseError:
            if attempt:
                return None
            _remove(path)
        finally:
            db.close()
    return None


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(exist_ok=True)
    db = sqlite3.connect(str(path), timeout=_BUSY_MS / 1000, isolation_level=None)
    try:
        if db.execute("PRAGMA journal_mode=WAL").fetchone()[0] != "wal":
            raise _Unusable("no write-ahead log")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(f"PRAGMA journal_size_limit={_WAL_LIMIT}")
        db.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
    except BaseException:
        db.close()
        raise
    return db


def _up_to_date(store: Store, path: Path, tip: bytes) -> sqlite3.Connection:
    """The index, open, describing `tip`: brought there by one writer at a time, in one
    transaction, while readers keep the snapshot they have."""
    db = _connect(path)
    try:
        if _described(db) == tip.decode():
            return db
        db.execute("BEGIN IMMEDIATE")
        try:
            described = _described(db)
            if described != tip.decode():
                _update(store, db, described, tip)
            db.execute("COMMIT")
        except BaseException as exc:
            db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error | KeyboardInterrupt | SystemExit):
                raise
            # A tree, object or manifest the update cannot read: the history says what.
            raise _Unusable(str(exc)) from exc
    except BaseException:
        db.close()
        raise
    return db


def _described(db: sqlite3.Connection) -> str | None:
    """The commit the index describes, or None when it holds nothing usable."""
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not tables >= set(_TABLE_NAMES):
        return None
    meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
    return meta.get("commit") if meta.get("format") == FORMAT else None


def _update(store: Store, db: sqlite3.Connection, described: str | None, tip: bytes) -> None:
    """Bring the index from the commit it describes to `tip`: from the session folders the
    two trees differ in when that commit is an ancestor of the tip, else from scratch."""
    from ..storage.treediff import diff_sessions  # with its checks, only when there is a change

    base = _trusted_base(store, described, tip)
    new_root = store.commit(tip).tree
    changes = None
    if base is not None:
        changes = diff_sessions(store, store.commit(base).tree, new_root)
        # A `sessions` that is no folder, or a folder name that shows escaped: the walk
        # from scratch reads such a tree as the history does.
        if SESSIONS_DIR in changes.files or any("\\" in p for p in changes.sessions):
            changes = None
    if changes is None:
        for table in _TABLE_NAMES:
            db.execute(f"DROP TABLE IF EXISTS {table}")
        _run_script(db, _TABLES)
        for folder_path, tree in session_folders(store, new_root):
            _put(store, db, _folder_key(folder_path), tree)
        _run_script(db, _INDEXES)
    else:
        for path, (_, new) in changes.sessions.items():
            folder = _folder_key(path.encode())
            db.execute("DELETE FROM sessions WHERE folder = ?", (folder,))
            db.execute("DELETE FROM files WHERE folder = ?", (folder,))
            if new is not None:
                _put(store, db, folder, new)
    db.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)", (FORMAT,))
    db.execute("INSERT OR REPLACE INTO meta VALUES ('commit', ?)", (tip.decode(),))


def _run_script(db: sqlite3.Connection, script: str) -> None:
    """Each statement in turn, inside the open transaction (executescript would commit)."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def _trusted_base(store: Store, described: str | None, tip: bytes) -> bytes | None:
    """The commit the index describes, when the store has it and `main` reaches it."""
    from ..storage.ancestry import is_ancestor

    if described is None or len(described) != 40:
        return None
    base = described.encode()
    try:
        if base not in store or not is_ancestor(store, base, tip):
            return None
    except Exception:  # a commit the walk cannot read: start from scratch
        return None
    return base


def _folder_key(path: bytes) -> bytes:
    """The order the tree holds folders in: each name compared as if followed by `/`."""
    return path + b"/"


@dataclass(frozen=True)
class FolderRows:
    """What the index holds of one session folder, made from its manifest: the session's
    row (without its folder) and (blob, kind, path) of each file it lists."""

    session_id: str
    session: tuple[Any, ...]
    files: tuple[tuple[str, str, str], ...]


def folder_rows(m: Manifest) -> FolderRows:
    """The index's rows of a session folder holding manifest `m`."""
    from ..session.models import in_utc, parse_timestamp

    moment = day = error = None
    try:
        when = in_utc(parse_timestamp(m.timestamp))
        moment, day = _micros(when), when.date().toordinal()
    except ValueError as exc:
        error = str(exc)
    session = (
        m.session_id,
        m.session_type,
        m.agent_id,
        m.timestamp,
        moment,
        day,
        error,
        m.revision,
        m.title,
        json.dumps([a.kind for a in m.artifacts]),
        m.slug,
    )
    files = [(m.record.blob, "record", m.record.path)]
    files += [(a.blob, a.kind, a.path) for a in m.artifacts]
    files += [(s.file.blob, "screenshot", s.file.path) for s in m.screenshots if s.file]
    return FolderRows(m.session_id, session, tuple(files))


def _put(store: Store, db: sqlite3.Connection, folder: bytes, tree: bytes) -> None:
    """Index the session folder `tree`, when it holds a manifest."""
    from ..session.manifest import Manifest

    entry = store.lookup(tree, MANIFEST_FILE)
    if entry is None:
        return
    _insert(db, folder, folder_rows(Manifest.from_bytes(store.blob(entry[1]))))


def _insert(db: sqlite3.Connection, folder: bytes, rows: FolderRows) -> None:
    db.execute(
        "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (folder, *rows.session)
    )
    db.executemany(
        "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?)",
        [
            (folder, seq, blob, rows.session_id, kind, p)
            for seq, (blob, kind, p) in enumerate(rows.files)
        ],
    )


# -- kept by the writer that moved main --------------------------------------------------


def advance(
    store: Store, base: bytes | None, tip: bytes, folders: Mapping[str, FolderRows | None]
) -> bool:
    """Bring the index from `base` to its descendant `tip` with the rows of every session
    folder the commits between them changed (`folders`, path -> rows, None for a folder
    removed), as the writer that made those commits holds them in memory: no object is
    read. Only when the index describes `base`, or there is none and `base` holds no
    session (a new store: the index starts here); otherwise it is left as it is, and the
    next query brings it up to date from the history. True when the index describes `tip`."""
    path = index_path(store)
    if not path.exists() and not _holds_no_session(store, base):
        return False  # nothing to move; the first query builds it
    try:
        db = _connect(path)
    except (sqlite3.Error, _Unusable, OSError):
        return False
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            done = _advance(store, db, base, tip, folders)
            db.execute("COMMIT" if done else "ROLLBACK")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return done
    except sqlite3.Error:  # busy, read-only or damaged: the next query sees to it
        return False
    finally:
        db.close()


def _holds_no_session(store: Store, commit: bytes | None) -> bool:
    return commit is None or store.lookup(store.commit(commit).tree, SESSIONS_DIR) is None


def _advance(
    store: Store,
    db: sqlite3.Connection,
    base: bytes | None,
    tip: bytes,
    folders: Mapping[str, FolderRows | None],
) -> bool:
    described = _described(db)
    if described == tip.decode():
        return True  # a query brought it there first
    if described is None:
        if not _holds_no_session(store, base):
            return False  # a store with sessions the index never read: a query builds it
        for table in _TABLE_NAMES:
            db.execute(f"DROP TABLE IF EXISTS {table}")
        _run_script(db, _TABLES)
        _run_script(db, _INDEXES)
    elif base is None or described != base.decode():
        return False
    for path, rows in folders.items():
        folder = _folder_key(path.encode())
        db.execute("DELETE FROM sessions WHERE folder = ?", (folder,))
        db.execute("DELETE FROM files WHERE folder = ?", (folder,))
        if rows is not None:
            _insert(db, folder, rows)
    db.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)", (FORMAT,))
    db.execute("INSERT OR REPLACE INTO meta VALUES ('commit', ?)", (tip.decode(),))
    return True


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(OSError):  # what cannot go stays: the history answers
            Path(f"{path}{suffix}").unlink(missing_ok=True)
