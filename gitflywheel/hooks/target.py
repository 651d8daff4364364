"""The store a hook records into, as a run or `hook status` finds it: whether it can
take sessions now, and its git directory, where its spool, log and lock live."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import GitflywheelError
from ..recording.init import open_store

__all__ = ["StoreCheck", "check_store"]


@dataclass(frozen=True)
class StoreCheck:
    """The store's git directory (the path as given when it cannot be opened), and why
    it cannot take sessions now, or None."""

    git_dir: Path
    problem: str | None = None


def check_store(store: Path) -> StoreCheck:
    """Open the store once: can it be written, and where is its git directory?"""
    if not store.exists():
        return StoreCheck(store, f"{store}: the store is missing")
    if not store.is_dir():
        return StoreCheck(store, f"{store}: a file, not a store")
    try:
        with open_store(store) as opened:
            probe = opened.paths.work / f".probe-{os.getpid()}"
            probe.parent.mkdir(exist_ok=True)
            probe.write_bytes(b"")
            probe.unlink()
            return StoreCheck(opened.path)
    except GitflywheelError as exc:
        return StoreCheck(store, str(exc))
    except OSError as exc:
        return StoreCheck(store, f"{store}: cannot write to the store: {exc.strerror or exc}")
