"""The spool: what one `git push` published, written by the hook and read by the run.

A spool file (`push.<random>`, written whole and renamed into place) is text, one record
a line: `gitflywheel-push 1`, then `remote NAME`, `url URL`, `cwd PATH`, `git-dir PATH`,
any number of `tracking SHA` (the remote's tracking refs before the push), maybe `pid N`
(the `git push` process, running until the push ends), and one or more
`update <local ref> <local sha> <remote ref> <remote sha>` (git's own pre-push lines).
A file that cannot be read as one is set aside in `broken/`, never deleted.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import GitflywheelError

__all__ = [
    "SPOOL_FORMAT",
    "BROKEN_DIR",
    "SpoolError",
    "Update",
    "Push",
    "parse_spool",
    "spool_files",
    "set_aside",
    "write_spool",
]

SPOOL_FORMAT = "gitflywheel-push 1"
BROKEN_DIR = "broken"
_ZERO = re.compile(r"^0+$")
_SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_SKIPPED_REFS = ("refs/tags/", "refs/notes/")


class SpoolError(GitflywheelError):
    """A spool file that cannot be read as one."""


@dataclass(frozen=True)
class Update:
    """One line of git's pre-push input."""

    local_ref: str
    local_sha: str
    remote_ref: str
    remote_sha: str

    @property
    def deletes(self) -> bool:
        return bool(_ZERO.match(self.local_sha))

    @property
    def creates(self) -> bool:
        return bool(_ZERO.match(self.remote_sha))

    @property
    def publishes_work(self) -> bool:
        """Tags, notes and deletions publish no work of their own."""
        return not self.deletes and not self.remote_ref.startswith(_SKIPPED_REFS)


@dataclass(frozen=True)
class Push:
    """What one `git push` published, as the hook spooled it."""

    remote: str
    url: str
    cwd: str
    git_dir: str
    updates: tuple[Update, ...]
    tracking: tuple[str, ...] = ()
    pid: int | None = None  # the `git push`, while it runs


def parse_spool(data: bytes, origin: str) -> Push:
    """Read a spool file; anything but the format the hook writes is refused."""
    try:
        text = data.decode("utf-8", "surrogateescape")
    except UnicodeDecodeError:  # pragma: no cover - surrogateescape decodes any bytes
        raise SpoolError(f"{origin}: not text") from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or lines[0] != SPOOL_FORMAT:
        raise SpoolError(f"{origin}: not a gitflywheel spool file (no {SPOOL_FORMAT!r} line)")
    fields: dict[str, str] = {}
    updates: list[Update] = []
    tracking: list[str] = []
    for number, line in enumerate(lines[1:], start=2):
        key, _, value = line.partition(" ")
        if key in ("remote", "url", "cwd", "git-dir"):
            if key in fields:
                raise SpoolError(f"{origin}:{number}: {key} given twice")
            fields[key] = value
        elif key == "tracking":
            if not _SHA.match(value):
                raise SpoolError(f"{origin}:{number}: tracking: {value!r} is not a commit id")
            tracking.append(value)
        elif key == "pid":
            if "pid" in fields:
                raise SpoolError(f"{origin}:{number}: pid given twice")
            if not re.fullmatch(r"[1-9][0-9]{0,9}", value):
                raise SpoolError(f"{origin}:{number}: pid: {value[:20]!r} is not a process id")
            fields["pid"] = value
        elif key == "update":
            parts = value.split(" ")
            if len(parts) != 4 or not all(_SHA.match(p) for p in (parts[1], parts[3])):
                raise SpoolError(
                    f"{origin}:{number}: update: expected '<local ref> <sha> <remote ref> <sha>'"
                )
            updates.append(Update(*parts))
        else:
            raise SpoolError(f"{origin}:{number}: unknown line {key[:40]!r}")
    for key in ("remote", "url", "git-dir"):
        if not fields.get(key):
            raise SpoolError(f"{origin}: {key}: missing")
    if not posixpath.isabs(fields["git-dir"]):
        raise SpoolError(f"{origin}: git-dir: {fields['git-dir']!r} is not an absolute path")
    if not updates:
        raise SpoolError(f"{origin}: no update lines")
    return Push(
        fields["remote"],
        fields["url"],
        fields.get("cwd") or fields["git-dir"],
        fields["git-dir"],
        tuple(updates),
        tuple(tracking),
        int(fields["pid"]) if "pid" in fields else None,
    )


def write_spool(folder: Path, text: str) -> Path:
    """Write one spool file into `folder` as the sh hook does: whole, under a hidden
    name, then renamed to `push.<random>`, so that a run never reads half of one."""
    folder.mkdir(parents=True, exist_ok=True)
    suffix = os.urandom(5).hex()
    tmp = folder / f".push.{suffix}"
    tmp.write_text(text, encoding="utf-8", errors="surrogateescape")
    final = folder / f"push.{suffix}"
    os.replace(tmp, final)
    return final


def spool_files(folder: Path) -> list[Path]:
    """The spooled pushes waiting in `folder` (none when it cannot be read)."""
    try:
        return [p for p in folder.iterdir() if p.name.startswith("push.") and p.is_file()]
    except OSError:
        return []


def set_aside(path: Path) -> Path:
    """Move a spool file that can never be recorded into `broken/` beside it."""
    broken = path.parent / BROKEN_DIR
    broken.mkdir(exist_ok=True)
    target = broken / path.name
    os.replace(path, target)
    return target
