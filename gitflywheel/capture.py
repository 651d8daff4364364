"""Capture: write a build session from a real git repository's commits.

Reads a working repository (not the store) with dulwich: the commits in a time window
or since a revision, each with its files and line counts, and totals for the session.
The result is a session object ready for `gitflywheel ingest -`.
"""

from __future__ import annotations

import difflib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from dulwich.diff_tree import tree_changes
from dulwich.errors import NotGitRepository
from dulwich.objects import Blob, Commit, ObjectID
from dulwich.repo import Repo
from dulwich.walk import Walker

from .errors import GitflywheelError
from .records import format_timestamp
from .store import resolve_revision

__all__ = ["CaptureOptions", "capture"]

_NAMESPACE = uuid.UUID("6f1c3f0e-4b7a-5d2e-9c1f-1a2b3c4d5e6f")


@dataclass
class CaptureOptions:
    """What to capture, and the story fields a person adds by hand."""

    source: Path = Path(".")
    since_rev: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    agent_id: str | None = None
    session_id: str | None = None
    title: str | None = None
    overview: str | None = None
    problem: str | None = None
    solution: str | None = None
    lessons: list[tuple[str, str]] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)
    duration_minutes: int | None = None


def _when(commit: Commit) -> datetime:
    return datetime.fromtimestamp(
        commit.commit_time, timezone(timedelta(seconds=commit.commit_timezone))
    )


def _lines(repo: Repo, sha: bytes | None) -> list[bytes] | None:
    if sha is None:
        return []
    obj = repo.object_store[ObjectID(sha)]
    if not isinstance(obj, Blob):
        return None
    data = obj.as_raw_string()
    return None if b"\0" in data[:8000] else data.splitlines()


def _commit_facts(repo: Repo, commit: Commit) -> dict[str, Any]:
    parent = repo[commit.parents[0]] if commit.parents else None
    parent_tree = parent.tree if isinstance(parent, Commit) else None
    files: list[str] = []
    added = removed = 0
    for change in tree_changes(repo.object_store, parent_tree, commit.tree):
        old, new = change.old, change.new
        path = (
            new.path if new is not None and new.path else old.path if old is not None else b""
        ) or b""
        files.append(path.decode("utf-8", "replace"))
        a = _lines(repo, old.sha if old is not None else None)
        b = _lines(repo, new.sha if new is not None else None)
        if a is None or b is None:
            continue  # a binary file: no lines to count
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(
            None, a, b, autojunk=False
        ).get_opcodes():
            if tag != "equal":
                removed += i2 - i1
                added += j2 - j1
    message = commit.message.decode("utf-8", "replace").strip()
    return {
        "hash": commit.id.decode(),
        "message": message,
        "author": commit.author.decode("utf-8", "replace").split(" <", 1)[0],
        "timestamp": format_timestamp(_when(commit)),
        "files": sorted(files),
        "lines_added": added,
        "lines_removed": removed,
    }


def capture(options: CaptureOptions) -> dict[str, Any]:
    """A build session for the commits selected by `options`, oldest first."""
    try:
        repo = Repo.discover(str(options.source))
    except NotGitRepository:
        raise GitflywheelError(f"{options.source}: not inside a git repository") from None
    with repo:
        try:
            head = repo.head()
        except KeyError:
            raise GitflywheelError(f"{options.source}: the repository has no commits") from None
        exclude = []
        if options.since_rev:
            found = resolve_revision(repo, options.since_rev)
            if found is None:
                raise GitflywheelError(
                    f"--since-rev: {options.since_rev!r} is not a commit in {options.source}"
                )
            exclude = [ObjectID(found)]
        walker = Walker(
            repo.object_store,
            [head],
            exclude=exclude,
            since=int(options.since.timestamp()) if options.since else None,
            until=int(options.until.timestamp()) if options.until else None,
        )
        commits = sorted((entry.commit for entry in walker), key=lambda c: (c.commit_time, c.id))
        if not commits:
            raise GitflywheelError(f"{options.source}: no commits in the window asked for")
        facts = [_commit_facts(repo, c) for c in commits]
        root = Path(repo.path).resolve()

    first, last = _when(commits[0]), _when(commits[-1])
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
        "agent_id": options.agent_id or facts[-1]["author"] or "unknown",
        "metadata": {
            "duration_minutes": duration,
            "commits": len(facts),
            "files_changed": len(files),
            "lines_added": sum(c["lines_added"] for c in facts),
            "lines_removed": sum(c["lines_removed"] for c in facts),
        },
        "source_data": {"repo_path": str(root), "git_commits": facts},
    }
    for key in ("title", "overview", "problem", "solution"):
        value = getattr(options, key)
        if value:
            session[key] = value
    if options.lessons:
        session["lessons"] = [{"title": t, "description": d} for t, d in options.lessons]
    if options.next_steps:
        session["next_steps"] = list(options.next_steps)
    return session
