"""What a capture of exports returns: the sessions, and notes for the person running it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["CapturedSessions"]


@dataclass
class CapturedSessions:
    """Sessions (JSON-ready dicts, in a stable order) and what was left out, and why."""

    sessions: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
