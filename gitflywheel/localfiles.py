"""Reading a file from the local disk on behalf of input that names it (a session's
screenshot, a templates folder): only a regular file inside the folders allowed,
symlinks resolved and then checked, never more than a cap, never blocking on a FIFO
or a device. A path that input names is hostile until checked.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from .errors import GitflywheelError

__all__ = ["Cause", "FileRefused", "READ_FLAGS", "file_kind", "read_beneath"]

Cause = Literal["missing", "outside", "not_regular", "too_big", "unreadable"]

_CHUNK = 1 << 20
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
# Opening a file to read it: never blocking on a FIFO, never taking a terminal.
READ_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)


class FileRefused(GitflywheelError):
    """A file that is not read, and why; `cause` lets callers add their own hint."""

    def __init__(self, path: Path, cause: Cause, reason: str) -> None:
        self.path = path
        self.cause = cause
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def file_kind(mode: int) -> str:
    """What a file that is not a regular file is, in words: "a FIFO", "a folder"..."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    return "not a regular file"


def _check(path: Path, st: os.stat_result, max_bytes: int) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise FileRefused(path, "not_regular", f"not a regular file ({file_kind(st.st_mode)})")
    if st.st_size > max_bytes:
        raise FileRefused(
            path, "too_big", f"{st.st_size:,} bytes, over the limit of {max_bytes:,} bytes"
        )


def _open_beneath(root: Path, resolved: Path) -> int:
    """Open `resolved` by walking down from `root` one folder at a time, following no
    symlink: a folder swapped for a symlink after the check fails here instead."""
    if os.open not in os.supports_dir_fd or not _NOFOLLOW:
        return os.open(resolved, READ_FLAGS | _NOFOLLOW)
    parts = resolved.relative_to(root).parts
    if not parts:
        return os.open(resolved, READ_FLAGS | _NOFOLLOW)
    fd = os.open(root, _DIR_FLAGS)
    try:
        for part in parts[:-1]:
            inner = os.open(part, _DIR_FLAGS | _NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = inner
        return os.open(parts[-1], READ_FLAGS | _NOFOLLOW, dir_fd=fd)
    finally:
        os.close(fd)


def _why(exc: OSError | RuntimeError | ValueError) -> str:
    if isinstance(exc, OSError):
        if exc.errno == errno.ELOOP:
            return "a symlink loop, or a symlink that appeared while it was read"
        return exc.strerror or str(exc)
    if isinstance(exc, ValueError):
        return "not a usable path"
    return "a symlink loop"


def read_beneath(path: Path, roots: Sequence[Path], max_bytes: int) -> bytes:
    """The bytes of `path` when it resolves to a regular file inside one of `roots` and
    holds at most `max_bytes`; otherwise `FileRefused`. Reads at most `max_bytes` + 1."""
    try:
        resolved = path.resolve(strict=True)
    except FileNotFoundError:
        raise FileRefused(path, "missing", "no such file") from None
    except (OSError, RuntimeError, ValueError) as exc:
        raise FileRefused(path, "unreadable", _why(exc)) from None
    allowed = [root.resolve() for root in roots]
    root = next((r for r in allowed if resolved.is_relative_to(r)), None)
    if root is None:
        where = ", ".join(str(r) for r in allowed)
        raise FileRefused(path, "outside", f"resolves to {resolved}, outside {where}")
    try:
        _check(path, resolved.stat(), max_bytes)
        fd = _open_beneath(root, resolved)
    except (OSError, ValueError) as exc:
        raise FileRefused(path, "unreadable", _why(exc)) from None
    try:
        _check(path, os.fstat(fd), max_bytes)
        chunks: list[bytes] = []
        left = max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, _CHUNK))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise FileRefused(path, "unreadable", _why(exc)) from None
    finally:
        os.close(fd)
    if left <= 0:
        raise FileRefused(path, "too_big", f"over the limit of {max_bytes:,} bytes")
    return b"".join(chunks)
