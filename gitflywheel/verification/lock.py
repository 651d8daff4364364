"""verify's own lock: two runs on one store take turns, and writers never wait for one.

A run reads a snapshot of `main` (the commit it points at when the run starts, and the
objects under it, which no writer changes), so it needs no writer's lock; what it
writes (its index and `refs/gitflywheel/verified`) is its own, guarded by this flock,
which the kernel releases if the process dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import StoreError

__all__ = ["VERIFY_LOCK_FILE", "verify_lock"]

VERIFY_LOCK_FILE = "gitflywheel-verify.lock"


@contextlib.contextmanager
def verify_lock(store_dir: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold verify's lock of a store; `on_wait` is called once if another run holds it."""
    try:
        fd = os.open(store_dir / VERIFY_LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(f"{store_dir}: cannot take verify's lock: {exc.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock
