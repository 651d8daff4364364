"""The hook's log: one JSON line per event (a push recorded, a run, the hook failing to
start one), kept to its last half a megabyte, read back by `hook status`.

Writing never fails the caller: with nowhere to write, the spool still holds the push.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["LogEntry", "write_log", "read_log"]

_LOG_KEEP_BYTES = 512 * 1024


@dataclass(frozen=True)
class LogEntry:
    """One line of the log: when, how bad, what happened; anything else in `data`."""

    time: str
    level: str
    event: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def write_log(path: Path, level: str, event: str, message: str, **data: Any) -> None:
    """Append one JSON line; the log keeps its last half a megabyte."""
    entry = {"time": _now(), "level": level, "event": event, "message": message, **data}
    line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "ab") as f:
            f.write(line)
            size = f.tell()
        if size > 2 * _LOG_KEEP_BYTES:
            with open(path, "rb") as f:
                f.seek(size - _LOG_KEEP_BYTES)
                tail = f.read().split(b"\n", 1)[-1]
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_bytes(tail)
            os.replace(tmp, path)
    except OSError:
        pass  # nowhere to write: the spool still holds the push


def read_log(path: Path) -> list[LogEntry]:
    """Every entry of the log at `path` that reads as one (none when it cannot be read)."""
    try:
        data = path.read_bytes()
    except OSError:
        return []
    entries = []
    for raw in data.splitlines():
        try:
            value = json.loads(raw.decode("utf-8", "replace"))
        except ValueError:
            continue
        if not isinstance(value, dict):
            continue
        known = {k: str(value.get(k, "")) for k in ("time", "level", "event", "message")}
        rest = {k: v for k, v in value.items() if k not in known}
        entries.append(LogEntry(**known, data=rest))
    return entries
