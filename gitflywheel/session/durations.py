"""How long a session's work took: the span of its commits, and durations no one works.

The record keeps the duration as given; these say when a public artifact may not show it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Final

from .models import GitCommit, parse_timestamp

__all__ = ["DAY_MINUTES", "commit_span", "implausible_duration"]

DAY_MINUTES: Final = 24 * 60


def commit_span(commits: Sequence[GitCommit]) -> int | None:
    """Minutes from the first commit to the last, when two or more have readable times."""
    moments = []
    for commit in commits:
        with contextlib.suppress(ValueError):
            moments.append(parse_timestamp(commit.timestamp or ""))
    if len(moments) < 2:
        return None
    return int((max(moments) - min(moments)).total_seconds() // 60)


def implausible_duration(minutes: int | None, span_minutes: int | None = None) -> str | None:
    """Why a session's duration cannot be shown as a fact, or None when it can: more than
    a day of work in one session, or far shorter than the time its commits span."""
    if minutes is None:
        return None
    if minutes > DAY_MINUTES:
        return f"{minutes} minutes is more than a day"
    if span_minutes is not None and span_minutes > minutes + 60:
        return f"{minutes} minutes is far shorter than the {span_minutes} minutes its commits span"
    return None
