"""What a capture of exports returns (the sessions, and notes for the person running it),
and the check that each session it makes is one ingest takes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from ..errors import InputError
from ..session.models import SESSION_ADAPTER

__all__ = ["CapturedSessions", "check"]


@dataclass
class CapturedSessions:
    """Sessions (JSON-ready dicts, in a stable order) and what was left out, and why."""

    sessions: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def check(session: dict[str, Any], origin: str) -> dict[str, Any]:
    """`session` when it is a valid session; else the first problem as an InputError
    naming the export it came from (an agent given with a bidi control, say), so that a
    capture never prints what ingest would refuse."""
    try:
        SESSION_ADAPTER.validate_python(session)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"][1:])
        raise InputError(origin, where, error["msg"]) from None
    return session
