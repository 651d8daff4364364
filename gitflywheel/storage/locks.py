"""File locks: the one way gitflywheel takes turns with itself (POSIX `flock`).

An flock is released by the kernel when its holder dies, so a killed writer never
leaves a store locked; the lock files themselves stay and are reused.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import StoreError

__all__ = ["file_lock", "file_lock_if_free"]


def _lock_file(path: Path) -> int:
    """A descriptor of the lock file `path`, created if missing (its folder too)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(f"{path}: cannot take the lock: {exc.strerror or exc}") from None


@contextlib.contextmanager
def file_lock(path: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing, its folder too); `on_wait` is
    called once, before waiting, when another process holds it."""
    fd = _lock_file(path)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


@contextlib.contextmanager
def file_lock_if_free(path: Path) -> Iterator[bool]:
    """Hold an exclusive lock on `path` when nobody holds it (True), else wait for
    nothing and yield False: for work that may as well be left undone."""
    fd = _lock_file(path)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)
