"""Capture: write a build session from a real git repository's commits.

Reads a working repository (not the store) with dulwich: the commits in a time window,
since a revision, or in a range (`exclude`..`until_rev`), each with its files and line
counts, and totals for the session. The result is a session object ready for
`gitflywheel ingest -`. Real repositories are odd: submodules (gitlinks name commits of
another repository), shallow and partial clones (parents and blobs missing), messages in
legacy encodings, many commits in the same second. Each is read as git reads it, and
anything that cannot be read is a `GitflywheelError`, never a traceback.
"""

from __future__ import annotations

import codecs
import heapq
import stat
import unicodedata
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from dulwich.diff_tree import tree_changes
from dulwich.errors import (
    ApplyDeltaError,
    ChecksumMismatch,
    FileFormatException,
    MissingCommitError,
    NotGitRepository,
    ObjectMissing,
    WrongObjectException,
)
from dulwich.objects import Blob, Commit, ObjectID, Tree
from dulwich.repo import Repo, UnsupportedExtension, UnsupportedVersion
from dulwich.walk import Walker

from ..errors import GitflywheelError
from ..escape import is_hidden_control
from ..session.records import format_timestamp
from ..storage.store import resolve_revision

__all__ = [
    "CaptureOptions",
    "Captured",
    "NothingToCapture",
    "agent_id",
    "author_name",
    "capture",
    "line_counts",
    "missing_commits",
    "read_file_at",
    "split_lines",
]

_NAMESPACE = uuid.UUID("6f1c3f0e-4b7a-5d2e-9c1f-1a2b3c4d5e6f")
# What reading a damaged or unusual repository can raise, besides KeyError for a missing object.
_UNREADABLE = (
    OSError,
    ValueError,
    ApplyDeltaError,
    ChecksumMismatch,
    FileFormatException,
    MissingCommitError,
    ObjectMissing,
    WrongObjectException,
    UnsupportedExtension,
    UnsupportedVersion,
)


class NothingToCapture(GitflywheelError):
    """The selection holds no commit: nothing to make a session of."""


@dataclass
class CaptureOptions:
    """What to capture, and the story fields a person adds by hand."""

    source: Path = Path(".")
    since_rev: str | None = None
    until_rev: str | None = None  # the tip to walk back from; default HEAD
    exclude: list[str] = field(default_factory=list)  # more revisions whose history is left out
    since: datetime | None = None
    until: datetime | None = None
    max_commits: int | None = None  # keep the newest this many
    repo_label: str | None = None  # `source_data.repo_path`; default: the repository's path
    agent_id: str | None = None
    session_id: str | None = None
    title: str | None = None
    overview: str | None = None
    problem: str | None = None
    solution: str | None = None
    lessons: list[tuple[str, str]] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)
    duration_minutes: int | None = None


@dataclass
class Captured:
    """The session, and notes for the person running capture (what was left out, and why)."""

    session: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def _when(commit: Commit) -> datetime:
    return datetime.fromtimestamp(
        commit.commit_time, timezone(timedelta(seconds=commit.commit_timezone))
    )


def _decode(data: bytes, encoding: bytes | None) -> str:
    """Text of a commit in the encoding its header declares (git's default: UTF-8)."""
    name = "utf-8"
    if encoding:
        try:
            name = codecs.lookup(encoding.decode("ascii", "replace").strip()).name
        except LookupError:
            name = "utf-8"
    return data.decode(name, "replace")


MAX_SUBJECT = 300
"""The longest subject line (a message's first line) a session keeps: subjects are
published, up to a few hundred in one artifact, and an artifact is at most 1 MiB."""
MAX_BODY = 8_000
"""The longest rest of a message a session keeps."""
MAX_NAME = 128
"""The longest author name a session keeps (an agent id's own limit)."""


def _cut(text: str, limit: int) -> str:
    """At most `limit` characters of `text`, then what says how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… (cut: {len(text) - limit:,} more characters)"


def author_name(ident: str) -> str:
    """The name of an identity line as git reads it (`%an`): all before the first `<`,
    trailing whitespace dropped; a name may hold a `>`, and need not end in a space."""
    return ident.partition("<")[0].rstrip(" \t\n\v\f\r")


def agent_id(name: str) -> str:
    """An author name as an agent id: controls, tabs and line breaks become spaces,
    invisible format characters (zero-width joiners, bidi controls) go, since an agent id
    may hold none; at most 128 characters; `unknown` when nothing is left."""
    kept = []
    for ch in name:
        if not is_hidden_control(ch):
            kept.append(ch)
        elif unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
            kept.append(" ")
    return " ".join("".join(kept).split())[:MAX_NAME].rstrip() or "unknown"


DIFF_BUDGET = 500_000
"""The most steps the diff of one file may take; past it, lines are counted as sets."""


def split_lines(data: bytes) -> list[bytes]:
    """A file's lines as git sees them: ended by `\n` (kept), the last one maybe not."""
    parts = data.split(b"\n")
    last = parts.pop()
    lines = [part + b"\n" for part in parts]
    if last:
        lines.append(last)
    return lines


def _edit_distance(a: list[int], b: list[int], budget: int) -> int | None:
    """The fewest lines removed plus added that turn `a` into `b` (Myers' O((N+M)D)
    greedy walk), or None when that takes more than `budget` steps."""
    n, m = len(a), len(b)
    offset = n + m + 1
    furthest = [0] * (2 * offset + 1)
    steps = 0
    for d in range(n + m + 1):
        for k in range(-d, d + 1, 2):
            if k == -d or (k != d and furthest[offset + k - 1] < furthest[offset + k + 1]):
                x = furthest[offset + k + 1]
            else:
                x = furthest[offset + k - 1] + 1
            y = x - k
            start = x
            while x < n and y < m and a[x] == b[y]:
                x += 1
                y += 1
            furthest[offset + k] = x
            steps += 1 + x - start
            if x >= n and y >= m:
                return d
            if steps > budget:
                return None
    return n + m  # pragma: no cover - the walk always ends by d = n + m


def line_counts(old: list[bytes], new: list[bytes], budget: int = DIFF_BUDGET) -> tuple[int, int]:
    """(lines added, lines removed) from `old` to `new`, as `git diff --numstat` counts
    them: a shortest edit script. Linear past the lines both ends share; a diff that would
    take more than `budget` steps counts each line as often as one side has it more than
    the other, which differs from git only for lines that moved."""
    start = 0
    shortest = min(len(old), len(new))
    while start < shortest and old[start] == new[start]:
        start += 1
    end = 0
    while end < shortest - start and old[-1 - end] == new[-1 - end]:
        end += 1
    a, b = old[start : len(old) - end], new[start : len(new) - end]
    if not a or not b:
        return len(b), len(a)
    ids: dict[bytes, int] = {}
    ia = [ids.setdefault(line, len(ids)) for line in a]
    ib = [ids.setdefault(line, len(ids)) for line in b]
    distance = _edit_distance(ia, ib, budget)
    if distance is None:
        count_a, count_b = Counter(ia), Counter(ib)
        return sum((count_b - count_a).values()), sum((count_a - count_b).values())
    return (distance + len(b) - len(a)) // 2, (distance - len(b) + len(a)) // 2


class _Reader:
    """Reads commits and their changes, counting what a partial clone does not hold."""

    def __init__(self, repo: Repo, graph: _Graph) -> None:
        self.repo = repo
        self.graph = graph
        self.unread_blobs = 0
        self.cut_messages: list[str] = []

    def lines(self, mode: int | None, sha: bytes | None) -> list[bytes] | None:
        """The lines of a file, [] when there is none, None when there are none to count."""
        if sha is None or mode is None:
            return []
        if stat.S_ISDIR(mode) or (mode & 0o170000) == 0o160000:
            return None  # a gitlink: a commit of another repository, not a file here
        try:
            obj = self.repo.object_store[ObjectID(sha)]
        except KeyError:
            self.unread_blobs += 1  # a partial clone leaves blobs out
            return None
        if not isinstance(obj, Blob):
            return None
        data = obj.as_raw_string()
        return None if b"\0" in data[:8000] else split_lines(data)

    def tree(self, commit: Commit) -> ObjectID:
        try:
            if not isinstance(self.repo.object_store[commit.tree], Tree):
                raise KeyError(commit.tree)
        except KeyError:
            raise GitflywheelError(
                f"tree {commit.tree.decode()} of commit {commit.id.decode()} is not in the repository"
            ) from None
        return ObjectID(commit.tree)

    def facts(self, commit: Commit) -> dict[str, Any]:
        parent_tree = None
        if commit.parents:
            # The first parent's tree, as git diffs it, even when its header is malformed.
            parent = self.graph.read(commit.parents[0])
            if parent is not None:
                parent_tree = self.tree(parent)
        files: list[str] = []
        added = removed = 0
        for change in tree_changes(self.repo.object_store, parent_tree, self.tree(commit)):
            old, new = change.old, change.new
            path = (
                new.path if new is not None and new.path else old.path if old is not None else b""
            ) or b""
            files.append(path.decode("utf-8", "replace"))
            a = self.lines(old.mode, old.sha) if old is not None else []
            b = self.lines(new.mode, new.sha) if new is not None else []
            if a is None or b is None:
                continue  # binary, a gitlink, or not in this clone: no lines to count
            plus, minus = line_counts(a, b)
            added += plus
            removed += minus
        message = _decode(commit.message or b"", commit.encoding).strip()
        subject, newline, body = message.partition("\n")
        cut = _cut(subject, MAX_SUBJECT) + newline + _cut(body, MAX_BODY)
        if cut != message:
            self.cut_messages.append(commit.id.decode()[:12])
        author = author_name(_decode(commit.author or b"", commit.encoding))
        return {
            "hash": commit.id.decode(),
            "message": cut,
            "author": _cut(author, MAX_NAME),
            "timestamp": format_timestamp(_when(commit)),
            "files": sorted(files),
            "lines_added": added,
            "lines_removed": removed,
        }


def _malformed(commit: Commit) -> str | None:
    """Why git's fsck would refuse this commit's header, or None: a commit with no author,
    committer or date, or a date no calendar holds, arrives from upstream all the same
    (transfer.fsckObjects is off by default)."""
    for role, who, when, zone in (
        ("author", commit.author, commit.author_time, commit.author_timezone),
        ("committer", commit.committer, commit.commit_time, commit.commit_timezone),
    ):
        if who is None:
            return f"no {role}"
        if when is None or zone is None:
            return f"no {role} date"
    try:
        format_timestamp(_when(commit))
    except (OverflowError, OSError, ValueError):
        return f"a committer date out of range ({commit.commit_time})"
    return None


class _Graph:
    """The commits of a repository as capture walks them. A malformed commit is skipped:
    the walk goes on to its parents. A commit whose parents are not all here (a shallow
    or partial clone) or cannot be parsed is a boundary: not counted, the walk stops."""

    def __init__(self, repo: Repo) -> None:
        self.store = repo.object_store
        self.shallow = repo.get_shallow()
        self.boundary: dict[bytes, bool] = {}  # boundary commit -> a parent cannot be parsed
        self.skipped: dict[bytes, dict[bytes, str]] = {}  # commit -> malformed parents, why
        self.unreadable: dict[bytes, str] = {}  # commits that cannot be parsed, and why
        self._read: dict[bytes, Commit | None] = {}
        self._parents: dict[bytes, list[ObjectID]] = {}

    def read(self, sha: bytes) -> Commit | None:
        """The commit `sha`, or None when it is not here or cannot be parsed."""
        if sha in self._read:
            return self._read[sha]
        found: Commit | None = None
        try:
            obj = self.store[ObjectID(sha)]
            if isinstance(obj, Commit):
                found = obj
        except KeyError:
            pass
        except _UNREADABLE as exc:
            self.unreadable[sha] = str(exc) or type(exc).__name__
        self._read[sha] = found
        return found

    def through(self, shas: Sequence[bytes], owner: bytes) -> list[ObjectID] | None:
        """These commits, each malformed one replaced by its parents (and so on), noted
        under `owner`; None when one of them is missing or cannot be parsed."""
        out: list[ObjectID] = []
        todo = list(reversed(shas))
        seen: set[bytes] = set()
        while todo:
            sha = todo.pop()
            if sha in seen:
                continue
            seen.add(sha)
            commit = self.read(sha)
            if commit is None:
                return None
            reason = _malformed(commit)
            if reason is None:
                out.append(ObjectID(sha))
                continue
            self.skipped.setdefault(owner, {})[sha] = reason
            if sha in self.shallow:
                return None
            todo.extend(reversed(commit.parents))
        return out

    def parents(self, commit: Commit) -> list[ObjectID]:
        """The parents the walk follows: none at a boundary."""
        if commit.id in self._parents:
            return self._parents[commit.id]
        found = None if commit.id in self.shallow else self.through(commit.parents, commit.id)
        if found is None:
            self.boundary[commit.id] = any(p in self.unreadable for p in commit.parents)
            found = []
        self._parents[commit.id] = found
        return found


def _count(n: int, one: str) -> str:
    return f"{n} {one}" if n == 1 else f"{n} {one}s"


def _resolve(repo: Repo, rev: str, option: str, source: Path) -> ObjectID:
    found = resolve_revision(repo, rev)
    if found is None:
        raise GitflywheelError(f"{option}: {rev!r} is not a commit in {source}")
    return ObjectID(found)


def _history_order(commits: list[Commit], graph: _Graph) -> list[Commit]:
    """Parents before children; among commits free to go next, the earliest (then by id),
    so that commits made in the same second keep the order of the history."""
    chosen = {c.id: c for c in commits}
    parents = {c.id: {p for p in graph.parents(c) if p in chosen} for c in commits}
    waiting = {c.id: len(parents[c.id]) for c in commits}
    children: dict[bytes, list[Commit]] = {}
    for c in commits:
        for p in parents[c.id]:
            children.setdefault(p, []).append(c)
    ready = [(c.commit_time, c.id) for c in commits if waiting[c.id] == 0]
    heapq.heapify(ready)
    out: list[Commit] = []
    while ready:
        _, sha = heapq.heappop(ready)
        out.append(chosen[sha])
        for child in children.get(sha, []):
            waiting[child.id] -= 1
            if waiting[child.id] == 0:
                heapq.heappush(ready, (child.commit_time, child.id))
    return out


def _select(repo: Repo, options: CaptureOptions) -> tuple[list[Commit], list[str], _Graph]:
    """The commits asked for, oldest first, notes on what was left out, and the graph."""
    source = options.source
    if options.until_rev:
        head = _resolve(repo, options.until_rev, "--until-rev", source)
    else:
        try:
            head = repo.head()
        except KeyError:
            raise NothingToCapture(f"{source}: the repository has no commits") from None
    exclude = [_resolve(repo, rev, "exclude", source) for rev in options.exclude]
    if options.since_rev:
        exclude.append(_resolve(repo, options.since_rev, "--since-rev", source))

    # A shallow clone's boundary commits have parents git does not have: the history
    # starts there. They are not counted, and the walk goes no further back. A malformed
    # commit (no date, no author...) is left out, and the walk goes on to its parents.
    graph = _Graph(repo)
    heads = graph.through([head], head) or []
    excluded = graph.through(exclude, b"") or [
        ObjectID(sha) for sha in exclude if (c := graph.read(sha)) and _malformed(c) is None
    ]
    walker = Walker(
        repo.object_store,
        heads,
        exclude=excluded,
        since=int(options.since.timestamp()) if options.since else None,
        until=int(options.until.timestamp()) if options.until else None,
        get_parents=graph.parents,
    )
    commits: list[Commit] = []
    capped = False
    left_out: list[bytes] = []
    for entry in walker if heads else ():
        if entry.commit.id in graph.boundary:
            left_out.append(entry.commit.id)
            continue
        if options.max_commits is not None and len(commits) >= options.max_commits:
            capped = True
            break
        commits.append(entry.commit)
    notes = []
    skipped = {
        sha: why
        for owner in [head, *(c.id for c in commits)]
        for sha, why in graph.skipped.get(owner, {}).items()
    }
    if skipped:
        notes.append(
            f"{source}: left out {_count(len(skipped), 'malformed commit')}, which git's fsck "
            "would refuse: "
            + ", ".join(f"{sha.decode()[:12]} ({why})" for sha, why in sorted(skipped.items()))
        )
    unreadable = sorted(sha for sha in left_out if graph.boundary[sha])
    if unreadable:
        notes.append(
            f"{source}: the history stops at {', '.join(s.decode()[:12] for s in unreadable)}: "
            "a parent cannot be read ("
            + "; ".join(f"{s.decode()[:12]}: {why}" for s, why in sorted(graph.unreadable.items()))
            + "), so it is not counted"
        )
    shallow = sorted(sha for sha in left_out if not graph.boundary[sha])
    if shallow:
        shown = ", ".join(sha.decode()[:12] for sha in shallow)
        notes.append(
            f"{source}: the clone is shallow: its history starts at {shown}, whose parents "
            f"are not in the clone, so {'it is' if len(shallow) == 1 else 'they are'} not counted "
            "(deepen the clone, e.g. "
            "`git fetch --deepen=50`, to capture more)"
        )
    if capped:
        notes.append(f"{source}: more than {options.max_commits} commits: kept the newest")
    if not commits:
        reason = f"{source}: no commits in the window asked for"
        if notes:
            reason += "; " + "; ".join(n.split(": ", 1)[1] for n in notes)
        raise NothingToCapture(reason)
    return _history_order(commits, graph), notes, graph


def missing_commits(source: Path, ids: list[str]) -> list[str]:
    """Which of these commit ids the repository at `source` does not hold."""
    try:
        with Repo.discover(str(source)) as repo:
            return [i for i in ids if ObjectID(i.encode()) not in repo.object_store]
    except NotGitRepository:
        raise GitflywheelError(f"{source}: not inside a git repository") from None
    except _UNREADABLE as exc:
        raise GitflywheelError(f"{source}: cannot read the repository: {exc}") from None


MAX_SETTINGS_BYTES = 1_000_000
"""The largest settings file read from a work repository's commit."""


def read_file_at(source: Path, rev: str, name: str) -> bytes | None:
    """The file `name` at the root of commit `rev`'s tree in the repository at `source`,
    or None when that tree has no such file (a folder, a submodule or a symlink is none)."""
    try:
        with Repo.discover(str(source)) as repo:
            commit = repo.object_store[ObjectID(rev.encode())]
            if not isinstance(commit, Commit):
                raise GitflywheelError(f"{source}: {rev[:12]} is not a commit")
            tree = repo.object_store[commit.tree]
            if not isinstance(tree, Tree):
                raise GitflywheelError(f"{source}: the tree of {rev[:12]} is not a tree")
            try:
                mode, sha = tree[name.encode()]
            except KeyError:
                return None
            if not stat.S_ISREG(mode):
                return None
            blob = repo.object_store[sha]
            if not isinstance(blob, Blob):
                return None
            if blob.raw_length() > MAX_SETTINGS_BYTES:
                raise GitflywheelError(
                    f"{name} at {rev[:12]}: larger than {MAX_SETTINGS_BYTES:,} bytes"
                )
            return blob.as_raw_string()
    except NotGitRepository:
        raise GitflywheelError(f"{source}: not inside a git repository") from None
    except KeyError as exc:
        missing = exc.args[0] if exc.args else b"?"
        shown = missing.decode() if isinstance(missing, bytes) else str(missing)
        raise GitflywheelError(f"{source}: object {shown} is not in the repository") from None
    except _UNREADABLE as exc:
        raise GitflywheelError(f"{source}: cannot read the repository: {exc}") from None


def capture(options: CaptureOptions) -> Captured:
    """A build session for the commits selected by `options`, oldest first."""
    try:
        repo = Repo.discover(str(options.source))
    except NotGitRepository:
        raise GitflywheelError(f"{options.source}: not inside a git repository") from None
    except _UNREADABLE as exc:
        raise GitflywheelError(f"{options.source}: cannot read the repository: {exc}") from None
    with repo:
        try:
            commits, notes, graph = _select(repo, options)
            reader = _Reader(repo, graph)
            facts = [reader.facts(c) for c in commits]
        except KeyError as exc:
            missing = exc.args[0] if exc.args else b"?"
            name = missing.decode() if isinstance(missing, bytes) else str(missing)
            raise GitflywheelError(
                f"{options.source}: object {name} is not in the repository"
            ) from None
        except _UNREADABLE as exc:
            raise GitflywheelError(f"{options.source}: cannot read the repository: {exc}") from None
        root = Path(repo.path).resolve()
    if reader.cut_messages:
        notes.append(
            f"{options.source}: {_count(len(reader.cut_messages), 'commit message')} cut to "
            f"{MAX_SUBJECT:,} characters of subject and {MAX_BODY:,} of body, so that the session "
            f"can be recorded and published: {', '.join(reader.cut_messages[:10])}"
            + (" and more" if len(reader.cut_messages) > 10 else "")
        )
    if reader.unread_blobs:
        notes.append(
            f"{options.source}: {reader.unread_blobs} file versions are not in this clone "
            "(a partial clone?): their lines are not counted"
        )

    first = min(_when(c) for c in commits)
    last = max(_when(c) for c in commits)
    files = sorted({f for c in facts for f in c["files"]})
    duration = options.duration_minutes
    if duration is None:
        duration = max(int((last - first).total_seconds() // 60), 0)
    session_id = options.session_id or str(
        uuid.uuid5(_NAMESPACE, f"{root}:{facts[0]['hash']}..{facts[-1]['hash']}")
    )
    session: dict[str, Any] = {
        "session_id": session_id,
        "session_type": "build",
        "timestamp": format_timestamp(last.astimezone(UTC)),
        "agent_id": options.agent_id or agent_id(facts[-1]["author"]),
        "metadata": {
            "duration_minutes": duration,
            "commits": len(facts),
            "files_changed": len(files),
            "lines_added": sum(c["lines_added"] for c in facts),
            "lines_removed": sum(c["lines_removed"] for c in facts),
        },
        "source_data": {
            "repo_path": options.repo_label or str(root),
            "git_commits": facts,
        },
    }
    for key in ("title", "overview", "problem", "solution"):
        value = getattr(options, key)
        if value:
            session[key] = value
    if options.lessons:
        session["lessons"] = [{"title": t, "description": d} for t, d in options.lessons]
    if options.next_steps:
        session["next_steps"] = list(options.next_steps)
    return Captured(session, notes)
