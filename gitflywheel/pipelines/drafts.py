"""Which sessions have nothing to say yet: they are recorded, and published as drafts."""

from __future__ import annotations

import re
from typing import Any

from ..session.models import BuildSession, LifeAriaSession, TradeSession
from ..session.public_text import public_repo

__all__ = ["is_placeholder_title", "draft_reasons"]

AnySession = BuildSession | TradeSession | LifeAriaSession

_PLACEHOLDER = re.compile(
    r"^\s*(?:(?:a\s+)?test(?:ing)?(?:\s+(?:mission|task|session|run|title))?\s*\d*"
    r"|untitled|no title|title|todo|tbd|n/?a|none|null|placeholder|example|sample"
    r"|build session(?: in .*)?|trading session(?:,.*)?|session)\s*[.!]*\s*$",
    re.I,
)
_STORY_EXTRAS = (
    ("source_data", ("work_summary", "key_achievements", "files_changed", "deliverables")),
    ("metadata", ("session_summary", "achievements", "completed_tasks")),
)
_WORK_COUNTERS = ("commits", "files_changed", "lines_added", "lines_removed")


def is_placeholder_title(title: str | None) -> bool:
    """A title that says nothing of the work: `Test Mission`, `Untitled`, `Build session in X`."""
    return not title or not title.strip() or bool(_PLACEHOLDER.match(title))


def _has(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, (list, dict)):
        return any(_has(v) for v in (value.values() if isinstance(value, dict) else value))
    return value is not None and not isinstance(value, bool)


def _story_fields(session: AnySession) -> list[str]:
    found = [
        name
        for name in (
            "overview",
            "problem",
            "solution",
            "key_achievements",
            "lessons",
            "next_steps",
            "deliverables",
            "market_analysis",
            "what_worked",
            "what_didnt_work",
        )
        if _has(getattr(session, name, None))
    ]
    for part, keys in _STORY_EXTRAS:
        extra = getattr(session, part).model_extra or {}
        found += [f"{part}.{k}" for k in keys if _has(extra.get(k))]
    return found


def draft_reasons(session: AnySession, screenshots: int = 0) -> list[str]:
    """Why the session is a draft, or `[]` when it has something to say.

    A session is a draft when it has no commits, no trades, no conversation, no
    screenshots, no story (overview, problem, solution, achievements, lessons, next steps,
    deliverables, summaries) and no title of its own; and no counter says work was done
    in a repository that can be named (a temporary folder names none)."""
    source = session.source_data
    content = (
        source.git_commits
        or source.trades
        or any(c.content.strip() for c in source.conversations)
        or screenshots
        or _story_fields(session)
    )
    title = session.title or _extra_title(session)
    if content or not is_placeholder_title(title):
        return []
    repo = public_repo(source.repo_path)
    counted = [n for n in _WORK_COUNTERS if (session.metadata.counter(n) or 0) > 0]
    if counted and repo:
        return []
    reasons = ["no commits, trades, conversation or screenshots", "no story"]
    reasons.append(
        f"placeholder title “{title.strip()}”" if title and title.strip() else "no title"
    )
    if source.repo_path and not repo:
        reasons.append("the repository is a temporary folder")
    elif counted:
        reasons.append("counters only, for no named repository")
    return reasons


def _extra_title(session: AnySession) -> str | None:
    extra = session.metadata.model_extra or {}
    for key in ("task_title", "current_mission"):
        value = extra.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None
