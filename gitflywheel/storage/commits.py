"""How a commit says which session it records: subject, trailers, author and dates.

Made by `Writer.commit` for ingest and rerender (and the store's first commit, a sync's
merge, a site's build), read back by `log` and `verify`; plain git reads the
trailers too: `git log --format='%(trailers:key=Session-Id,valueonly)'`. A commit made by
`rerender` says so in its subject and in a `Rendered-By` trailer. A commit made by
`config` changes the store's settings: subject `config: set site.base_url`, trailers
`Config-Key` and `Config-Change` (set, add or unset).
"""

from __future__ import annotations

import math
import os
import re
import time
from dataclasses import dataclass
from datetime import datetime

from dulwich.objects import Commit, ObjectID

from ..errors import GitflywheelError
from .objects import CommitInfo, commit_info
from .signing import Signer

__all__ = [
    "TRAILER_KEYS",
    "RENDERED_BY",
    "SessionTrailers",
    "ConfigTrailers",
    "CONFIG_KEY",
    "CONFIG_CHANGE",
    "CONFIG_CHANGES",
    "config_message",
    "config_trailers",
    "ident_text",
    "identity",
    "committer_identity",
    "commit_time",
    "session_message",
    "rendered_by",
    "setup_message",
    "merge_message",
    "parse_trailers",
    "session_trailers",
    "make_commit",
    "GIT_TIME_MIN",
    "GIT_TIME_MAX",
    "git_time",
]

# The commit dates written: what `git fsck --strict` (and a server with
# receive.fsckObjects) accepts, since git reads a date as an unsigned number of seconds
# (one before 1970 is an overflow), up to the end of the year 9999, the last moment a
# session can have and every tool can show.
GIT_TIME_MIN = 0
GIT_TIME_MAX = 253402300799
TRAILER_KEYS = ("Session-Id", "Session-Type", "Agent-Id", "Revision")
RENDERED_BY = "Rendered-By"
CONFIG_KEY = "Config-Key"
CONFIG_CHANGE = "Config-Change"
CONFIG_CHANGES = ("set", "add", "unset")
_TRAILER = re.compile(r"^([A-Za-z][A-Za-z0-9-]*): (.*)$")


@dataclass(frozen=True)
class SessionTrailers:
    """The trailers of a commit that records one session."""

    session_id: str
    session_type: str
    agent_id: str
    revision: int
    rendered_by: str | None = None  # set on a commit made by `rerender`

    @property
    def rerender(self) -> bool:
        return self.rendered_by is not None


@dataclass(frozen=True)
class ConfigTrailers:
    """The trailers of a commit that changes the store's settings: which key, and how."""

    key: str
    change: str  # set | add | unset, as the trailer says (verify judges it)


# What git's ident.c calls "crud": trimmed from both ends of a name or an email.
_CRUD = frozenset(range(33)) | frozenset(b".,:;<>\"\\'")
# The delimiters of an identity line, dropped wherever they are.
_DELIMITERS = frozenset(b"\n<>")
_CONTROLS = re.compile(r"[\x00-\x1f]")


def ident_text(raw: bytes) -> bytes:
    """A name or an email as git writes it into an identity line (ident.c): crud (bytes up
    to the space, and `. , : ; < > " \\ '`) trimmed from both ends, newlines and angle
    brackets dropped inside, every other byte kept as it is."""
    start, end = 0, len(raw)
    while start < end and raw[start] in _CRUD:
        start += 1
    while end > start and raw[end - 1] in _CRUD:
        end -= 1
    return bytes(b for b in raw[start:end] if b not in _DELIMITERS)


def identity(name: str) -> bytes:
    """A git identity for an agent's name: control characters dropped, then what git
    itself would write of the rest (`ident_text`); `unknown` when nothing is left."""
    clean = ident_text(_CONTROLS.sub("", name).encode()).decode() or "unknown"
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", clean).strip("-").lower() or "agent"
    return f"{clean} <{slug}@gitflywheel.invalid>".encode()


def committer_identity() -> bytes:
    """The committer: $GIT_COMMITTER_NAME/EMAIL when set, else gitflywheel itself, each as
    git writes it (`ident_text`), byte for byte; a name with nothing left, which git
    refuses, is gitflywheel's."""
    name = ident_text(os.fsencode(os.environ.get("GIT_COMMITTER_NAME", "gitflywheel")))
    email = ident_text(os.fsencode(os.environ.get("GIT_COMMITTER_EMAIL", "gitflywheel@localhost")))
    return (name or b"gitflywheel") + b" <" + email + b">"


def commit_time() -> int:
    """Now, or $SOURCE_DATE_EPOCH when set (reproducible builds)."""
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value is None or value == "":
        return int(time.time())
    try:
        return int(value)
    except ValueError:
        raise GitflywheelError(
            f"SOURCE_DATE_EPOCH: {value!r} is not a whole number of seconds"
        ) from None


def session_message(t: SessionTrailers) -> bytes:
    if t.rerender:
        verb = "Re-render"
    else:
        verb = "Record" if t.revision == 1 else f"Revise (revision {t.revision})"
    subject = f"{verb} {t.session_type} session {t.session_id}"
    pairs = list(
        zip(TRAILER_KEYS, (t.session_id, t.session_type, t.agent_id, t.revision), strict=True)
    )
    if t.rendered_by is not None:
        pairs.append((RENDERED_BY, t.rendered_by))
    trailers = "\n".join(f"{key}: {value}" for key, value in pairs)
    return f"{subject}\n\n{trailers}\n".encode()


def rendered_by(version: str, pipeline: str, filters: str) -> str:
    """What re-rendered a session: `gitflywheel 0.4.0 pipeline build/4 filters/1`."""
    return f"gitflywheel {version} pipeline {pipeline} {filters}"


def setup_message() -> bytes:
    return b"Set up gitflywheel store\n\nRecords the templates that render the artifacts.\n"


def config_message(key: str, change: str) -> bytes:
    """The message of a commit that changes one setting: `config: set site.base_url`. The
    value is not repeated: the commit's diff shows it, and `git log -p` reads it."""
    return f"config: {change} {key}\n\n{CONFIG_KEY}: {key}\n{CONFIG_CHANGE}: {change}\n".encode()


def config_trailers(message: bytes) -> ConfigTrailers | None:
    """The settings trailers of a commit, or None if it names no setting (a commit that
    also names a session is a session's, and judged as one)."""
    found = parse_trailers(message)
    if CONFIG_KEY not in found or "Session-Id" in found:
        return None
    return ConfigTrailers(found[CONFIG_KEY], found.get(CONFIG_CHANGE, ""))


_REMOTE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,99}")


def merge_message(remote_name: str | None) -> bytes:
    """The message of a merge made by sync. It names the remote by its name in the
    config, never by URL: a URL may carry credentials, and a commit is public for good."""
    safe = remote_name if remote_name and _REMOTE_NAME.fullmatch(remote_name) else None
    return f"Combine sessions from {safe or 'a remote'}\n".encode()


def parse_trailers(message: bytes) -> dict[str, str]:
    """Trailers of the last paragraph of a message (`Key: value` lines)."""
    text = message.decode("utf-8", "replace").rstrip("\n")
    last = text.rsplit("\n\n", 1)[-1] if "\n\n" in text else ""
    found: dict[str, str] = {}
    for line in last.splitlines():
        match = _TRAILER.match(line)
        if not match:
            return {}
        found[match.group(1)] = match.group(2)
    return found


def session_trailers(message: bytes) -> SessionTrailers | None:
    """The session trailers of a commit, or None if it records no session."""
    found = parse_trailers(message)
    if "Session-Id" not in found:
        return None
    try:
        revision = int(found.get("Revision", ""))
    except ValueError:
        revision = 0
    return SessionTrailers(
        found["Session-Id"],
        found.get("Session-Type", ""),
        found.get("Agent-Id", ""),
        revision,
        found.get(RENDERED_BY),
    )


def git_time(moment: datetime) -> int:
    """Seconds since 1970 for a commit date, clamped into what git accepts: a session
    from before 1970 is recorded at 1970-01-01 (its own time stays in its record)."""
    seconds = math.floor(moment.timestamp())
    return min(max(seconds, GIT_TIME_MIN), GIT_TIME_MAX)


def make_commit(
    tree: bytes,
    parents: list[bytes],
    message: bytes,
    author: bytes,
    authored: datetime | None,
    committed: int,
    signer: Signer | None = None,
) -> CommitInfo:
    """A commit, with its bytes; the author date is the session's time (UTC, clamped by
    `git_time`), the committer's is `committed` (clamped the same way); signed by
    `signer` in its `gpgsig` header when one is given. `Writer.commit` stages it: the one
    place a commit is written."""
    commit = Commit()
    commit.tree = ObjectID(tree)
    commit.parents = [ObjectID(p) for p in parents]
    commit.author = author
    commit.committer = committer_identity()
    committed = min(max(committed, GIT_TIME_MIN), GIT_TIME_MAX)
    commit.author_time = git_time(authored) if authored else committed
    commit.author_timezone = 0
    commit.commit_time = committed
    commit.commit_timezone = 0
    commit.message = message
    if signer is not None:
        signature = signer.sign(commit.as_raw_string())
        commit.gpgsig = signature.rstrip(b"\n")  # dulwich writes the header's last newline
    return commit_info(commit)
