"""Reading the store: list sessions, show one, find an artifact, the log, export a tree.

`ls` and `which` answer from the query index (`queries.index`) when it can be kept, and
from the tip's manifests otherwise: both give the same answer."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from ..errors import GitflywheelError, StoreError
from ..storage.commits import session_trailers
from ..storage.folders import session_folders
from ..storage.layout import ARTIFACT_KINDS, MANIFEST_FILE, session_dir
from ..storage.objects import blob_id
from ..storage.store import Store
from ..storage.treecheck import is_dotgit
from ..storage.trees import EXEC_MODE, GITLINK_MODE, SYMLINK_MODE, TREE_MODE
from .index import (
    BadTimestamp,
    TimeWindow,
    indexed_holders,
    indexed_session_documents,
    indexed_sessions,
)

if TYPE_CHECKING:  # pydantic loads only when a manifest is read: `ls` and `which` start faster
    from ..session.manifest import Manifest

T = TypeVar("T")

__all__ = [
    "SessionRow",
    "LogEntry",
    "iter_session_folders",
    "revision_times",
    "iter_manifests",
    "parse_day",
    "parse_until",
    "list_sessions",
    "list_sessions_json",
    "show_session",
    "show_artifact",
    "which",
    "log",
    "export",
    "ExportResult",
]


@dataclass(frozen=True)
class SessionRow:
    session_id: str
    session_type: str
    agent_id: str
    timestamp: str
    revision: int
    title: str | None
    artifacts: list[str]


@dataclass(frozen=True)
class LogEntry:
    commit: str
    date: str  # the committer date: ISO 8601 in UTC (`2025-12-02T03:30:00Z`), as `ls` gives times
    subject: str
    session_id: str | None
    session_type: str | None
    agent_id: str | None
    revision: int | None
    merge: bool
    rendered_by: str | None = None  # a re-render: what rendered the session again


def _tip_tree(store: Store, at: str | None = None) -> bytes | None:
    tip = store.resolve(at) if at else store.tip()
    return store.commit(tip).tree if tip else None


def iter_session_folders(store: Store, tree: bytes | None = None) -> Iterator[tuple[str, bytes]]:
    """(folder name, tree id) of every session folder in a tree (default: the tip's), in
    path order; the name is the session id its path stands for."""
    root = tree if tree is not None else _tip_tree(store)
    if root is not None:
        for path, folder in session_folders(store, root):
            yield path.rsplit(b"/", 1)[1].decode("utf-8", "replace"), folder


def iter_manifests(store: Store, tree: bytes | None = None) -> Iterator[Manifest]:
    """Every session manifest in a tree (default: the tip's), in path order."""
    from ..session.manifest import Manifest

    for _, folder in iter_session_folders(store, tree):
        entry = store.lookup(folder, MANIFEST_FILE)
        if entry is not None:
            yield Manifest.from_bytes(store.blob(entry[1]))


def parse_day(value: str, option: str) -> datetime:
    """A date (its start, UTC) or an ISO 8601 date-time, for an option named `option`;
    the result is in UTC, and one that UTC cannot hold (years 1 to 9999) is refused."""
    from ..session.models import TimestampOutOfRange, in_utc, parse_timestamp

    try:
        if "T" in value or " " in value:
            moment = parse_timestamp(value)
        else:
            moment = parse_timestamp(value + "T00:00:00")
    except TimestampOutOfRange as exc:
        raise GitflywheelError(f"{option}: {exc}") from None
    except ValueError:
        raise GitflywheelError(
            f"{option}: {value!r} is not a date (YYYY-MM-DD) or ISO 8601 date-time"
        ) from None
    return in_utc(moment)


def parse_until(value: str, option: str) -> datetime:
    """The end of a window: a date-time as given, or a date's last second (UTC), so
    that `--until 2025-12-04` takes in that whole day."""
    end = parse_day(value, option)
    return end if "T" in value or " " in value else end + timedelta(days=1, seconds=-1)


def list_sessions(
    store: Store,
    session_type: str | None = None,
    agent: str | None = None,
    since: str | None = None,
    until: str | None = None,
    *,
    use_index: bool = True,
) -> list[SessionRow]:
    """The sessions at the tip, filtered; `until` given as a date includes that whole day.
    Answered from the query index when it can be kept (see `queries.index`), else, or
    without `use_index`, from the tip's manifests."""
    start = parse_day(since, "--since") if since else None
    end = parse_day(until, "--until") if until else None
    end_exclusive = until is not None and "T" not in until and " " not in until
    window = TimeWindow(session_type, agent, start, end, end_exclusive)
    indexed = _indexed(indexed_sessions, store, window) if use_index else None
    if indexed is not None:
        return [SessionRow(*row) for row in indexed]  # in order already
    from ..session.models import in_utc, parse_timestamp

    rows = []
    for m in iter_manifests(store):
        if session_type and m.session_type != session_type:
            continue
        if agent and m.agent_id != agent:
            continue
        try:
            moment = in_utc(parse_timestamp(m.timestamp))
        except ValueError as exc:
            raise StoreError(f"{m.session_id}: manifest timestamp: {exc}") from None
        if start and moment < start:
            continue
        if end and (moment.date() > end.date() if end_exclusive else moment > end):
            continue
        rows.append(
            SessionRow(
                m.session_id,
                m.session_type,
                m.agent_id,
                m.timestamp,
                m.revision,
                m.title,
                [a.kind for a in m.artifacts],
            )
        )
    rows.sort(key=lambda r: (r.timestamp, r.session_id))
    return rows


def list_sessions_json(
    store: Store,
    session_type: str | None = None,
    agent: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> str:
    """`ls --json`: the rows of `list_sessions` as a JSON array, one session a line. From
    the query index SQLite writes them, so the cost is what SQLite takes."""
    start = parse_day(since, "--since") if since else None
    end = parse_day(until, "--until") if until else None
    end_exclusive = until is not None and "T" not in until and " " not in until
    window = TimeWindow(session_type, agent, start, end, end_exclusive)
    documents = _indexed(indexed_session_documents, store, window)
    if documents is None:
        rows = list_sessions(store, session_type, agent, since, until, use_index=False)
        documents = [json.dumps(vars(r), ensure_ascii=False, separators=(",", ":")) for r in rows]
    return "[\n  " + ",\n  ".join(documents) + "\n]" if documents else "[]"


def _indexed(
    ask: Callable[[Store, TimeWindow], list[T] | None], store: Store, window: TimeWindow
) -> list[T] | None:
    try:
        return ask(store, window)
    except BadTimestamp as exc:
        raise StoreError(f"{exc.session_id}: manifest timestamp: {exc.reason}") from None


def _manifest(store: Store, session_id: str) -> Manifest:
    from ..session.manifest import Manifest

    root = _tip_tree(store)
    found = store.lookup(root, f"{session_dir(session_id)}/{MANIFEST_FILE}") if root else None
    if found is None:
        raise GitflywheelError(f"{session_id}: no such session in the store")
    return Manifest.from_bytes(store.blob(found[1]))


def show_session(store: Store, session_id: str) -> Manifest:
    """A session's manifest at the tip."""
    return _manifest(store, session_id)


def show_artifact(store: Store, session_id: str, kind: str) -> bytes:
    """One artifact's bytes; `record` gives the session record itself, `facts` what its
    templates render from, `provenance` the in-toto statement of its artifacts."""
    if kind == "provenance":
        from .provenance import provenance_of, statement_bytes

        return statement_bytes(provenance_of(store, session_id))
    manifest = _manifest(store, session_id)
    if kind in ("record", "session"):
        return store.blob(manifest.record.blob.encode())
    if kind == "facts":
        if manifest.facts is None:
            raise GitflywheelError(
                f"{session_id}: made by {manifest.pipeline_id}, which kept no facts; "
                f"`gitflywheel rerender {session_id}` derives them"
            )
        return store.blob(manifest.facts.blob.encode())
    for artifact in manifest.artifacts:
        if artifact.kind == kind:
            return store.blob(artifact.blob.encode())
    have = ", ".join(a.kind for a in manifest.artifacts)
    if kind not in ARTIFACT_KINDS:
        raise GitflywheelError(
            f"{kind}: not an artifact kind (one of {', '.join(ARTIFACT_KINDS)}, record, facts "
            "or provenance)"
        )
    raise GitflywheelError(f"{session_id}: has no {kind} (it has {have})")


@dataclass(frozen=True)
class Holder:
    session_id: str
    kind: str
    path: str


def blob_id_of(file_or_blob: str) -> str:
    """A blob id given as such (40 hex), or the blob id a file's bytes would have."""
    path = Path(file_or_blob)
    if path.is_file():
        return blob_id(path.read_bytes()).decode()
    text = file_or_blob.lower()
    if len(text) == 40 and all(c in "0123456789abcdef" for c in text):
        return text
    raise GitflywheelError(f"{file_or_blob}: neither a file nor a 40-hex blob id")


def which(store: Store, file_or_blob: str, *, use_index: bool = True) -> tuple[str, list[Holder]]:
    """Which sessions hold an artifact (or record, or screenshot) with these bytes:
    from the query index when it can be kept, else, or without `use_index`, from the
    tip's manifests."""
    wanted = blob_id_of(file_or_blob)
    indexed = indexed_holders(store, wanted) if use_index else None
    if indexed is not None:
        return wanted, [Holder(*found) for found in indexed]
    holders = []
    for m in iter_manifests(store):
        if m.record.blob == wanted:
            holders.append(Holder(m.session_id, "record", m.record.path))
        holders += [Holder(m.session_id, a.kind, a.path) for a in m.artifacts if a.blob == wanted]
        holders += [
            Holder(m.session_id, "screenshot", s.file.path)
            for s in m.screenshots
            if s.file is not None and s.file.blob == wanted
        ]
    return wanted, holders


def revision_times(store: Store, tip: bytes, wanted: Mapping[str, int]) -> dict[str, int]:
    """When each session of `wanted` (session id -> its revision at `tip`) had that
    revision recorded: the committer time of the commit whose trailers say so, read from
    the first-parent history back from `tip`, which stops once every one is found. A
    revision a `sync` merge brought (its commit is not on the first-parent chain) is not
    found: its caller keeps the session's own time."""
    left = dict(wanted)
    found: dict[str, int] = {}
    if not left:
        return found
    for commit in store.first_parent_chain(tip):
        t = session_trailers(commit.message)
        if t is not None and t.rendered_by is None and left.get(t.session_id) == t.revision:
            found[t.session_id] = commit.commit_time
            del left[t.session_id]
            if not left:
                break
    return found


def iso_utc(seconds: int) -> str:
    """Seconds since 1970 as every `--json` gives a time: ISO 8601, UTC, `Z`."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def log(store: Store, limit: int | None = None) -> list[LogEntry]:
    """The audit trail: first-parent history of `main`, newest first."""
    entries = []
    for commit in store.first_parent_chain():
        t = session_trailers(commit.message)
        subject = commit.message.decode("utf-8", "replace").split("\n", 1)[0]
        entries.append(
            LogEntry(
                commit.id.decode(),
                iso_utc(commit.commit_time),
                subject,
                t.session_id if t else None,
                t.session_type if t else None,
                t.agent_id if t else None,
                t.revision if t else None,
                len(commit.parents) > 1,
                t.rendered_by if t else None,
            )
        )
        if limit is not None and len(entries) >= limit:
            break
    return entries


@dataclass(frozen=True)
class ExportResult:
    """What `export` wrote: the commit, how many files, where, and what it left out."""

    commit: str
    files: int
    directory: str
    skipped: list[str]


_SKIPPED = {
    SYMLINK_MODE: "a symbolic link, not written (it could point outside the export)",
    GITLINK_MODE: "a submodule (gitlink): its files are in another repository",
}


def _entry_name(raw: bytes, where: str) -> str:
    """A tree entry's name as the file system's own: bytes that are not UTF-8 are kept
    as they are (os.fsdecode), so two names never become one file."""
    name = os.fsdecode(raw)
    if (
        name in ("", ".", "..")
        or is_dotgit(raw)  # `.GIT`, `.git.`, `git~1`: `.git` on NTFS or HFS+
        or "/" in name
        or "\\" in name
        or "\x00" in name
    ):
        raise StoreError(f"{where}{raw!r}: a tree entry that would escape the export folder")
    return name


def export(
    store: Store,
    target: Path,
    at: str | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> ExportResult:
    """Write the tree of a commit (default: the tip) as plain files; `progress(files,
    None)` after each file written.

    Regular files and folders are written; symbolic links and submodules (gitlinks) are
    skipped and listed in `skipped`. Each entry goes to a file of its own: a name that
    would land on a file already written is refused, never merged."""
    tip = store.resolve(at) if at else store.tip()
    if tip is None:
        raise StoreError(f"{store.path}: the store has no history yet")
    if target.exists() and not target.is_dir():
        raise GitflywheelError(f"{target}: exists and is not a folder")
    if target.exists() and any(target.iterdir()):
        raise GitflywheelError(f"{target}: exists and is not empty")
    target.mkdir(parents=True, exist_ok=True)
    count, skipped = 0, []
    stack = [(store.commit(tip).tree, target, "")]
    while stack:
        tree_id, folder, prefix = stack.pop()
        for raw, mode, sha in store.entries(tree_id):
            name = _entry_name(raw, prefix)
            path = f"{prefix}{name}"
            if mode == TREE_MODE:
                _make_folder(folder / name, path)
                stack.append((sha, folder / name, f"{path}/"))
            elif mode in _SKIPPED:
                skipped.append(f"{path}: {_SKIPPED[mode]}")
            elif stat.S_ISREG(mode):
                _write_new(folder / name, path, _blob_of(store, sha, path))
                if mode == EXEC_MODE:
                    (folder / name).chmod(0o755)
                count += 1
                if progress is not None:
                    progress(count, None)
            else:
                skipped.append(f"{path}: mode {mode:o} is not a file git checks out")
    return ExportResult(tip.decode(), count, str(target), skipped)


def _blob_of(store: Store, sha: bytes, path: str) -> bytes:
    try:
        return store.blob(sha)
    except KeyError:
        raise StoreError(f"{path}: object {sha.decode()} is missing from the store") from None


def _make_folder(folder: Path, path: str) -> None:
    try:
        folder.mkdir()
    except FileExistsError:
        raise GitflywheelError(
            f"{folder}: {path} lands on a name already written (the file system folds two "
            "names into one); nothing is overwritten"
        ) from None


def _write_new(file: Path, path: str, data: bytes) -> None:
    try:
        with open(file, "xb") as out:
            out.write(data)
    except FileExistsError:
        raise GitflywheelError(
            f"{file}: {path} lands on a name already written (the file system folds two "
            "names into one); nothing is overwritten"
        ) from None
