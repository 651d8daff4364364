"""Which sessions are not real work yet: they are recorded, and published as drafts.

A session is a draft when it says so (`metadata.draft: true`, as the push hook marks a
work repository's draft branches), is a test placeholder (a placeholder agent, a test
title, an all-zero id) or has nothing to say (no commits, trades, conversation, screenshots or
story, and no title of its own: bare counters are not a post). Twins, one session's
commits recorded again under another id, are found across sessions: `twin_keys` says what
makes two records twins; the site and verify compare them (a pipeline sees one session).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from ..session.models import BuildSession, LifeAriaSession, TradeSession
from ..session.public_text import public_repo
from .common import deliverable_text, plural

__all__ = [
    "is_placeholder_title",
    "is_placeholder_agent",
    "is_test_title",
    "is_placeholder_id",
    "placeholder_reasons",
    "draft_reasons",
    "marked_reasons",
    "twin_keys",
]

AnySession = BuildSession | TradeSession | LifeAriaSession

_PLACEHOLDER = re.compile(
    r"^\s*(?:(?:a\s+)?test(?:ing)?(?:\s+(?:mission|task|session|run|title))?\s*\d*"
    r"|untitled|no title|title|todo|tbd|n/?a|none|null|placeholder|example|sample"
    r"|build session(?: in .*)?|trading session(?:,.*)?|session)\s*[.!]*\s*$",
    re.I,
)
# A test's stand-in for an agent: `TestAgent`, `Test Agent`, `test-agent`, `test_agent`,
# `test`, `dummy`, `mock-bot`, `agent_test`, with a counter or not; letters compared once
# spaces, `-`, `_` and `.` are gone. A real agent (`Agent-1`, a person's handle) never
# reads as one of these words alone.
_FAKE = r"(?:tests?|testing|dummy|dummies|fake|mock|stub|placeholder|example|sample|sandbox)"
_ROLE = r"(?:agents?|bots?|users?|runners?|sessions?|accounts?)"
_PLACEHOLDER_AGENT = re.compile(rf"(?:{_FAKE}{_ROLE}?|{_ROLE}{_FAKE})\d*")
_AGENT_SEPARATORS = re.compile(r"[\s_.\-]+")
# A test's title: `Test`, `Test Task`, `Test Mission`, `testing session 2`.
_TEST_TITLE = re.compile(
    r"^\s*(?:a\s+)?test(?:ing)?(?:\s+(?:mission|task|session|run|title|agent|job))?\s*\d*"
    r"\s*[.!]*\s*$",
    re.I,
)
# An id made up: a UUID of zeros but for a small counter at its end
# (`00000000-0000-0000-0000-000000000001`), with or without its hyphens.
_ZERO_ID = re.compile(r"0{8}-?0{4}-?0{4}-?0{4}-?0{8}[0-9a-f]{4}", re.I)
_STORY_EXTRAS = (
    ("source_data", ("work_summary", "key_achievements", "files_changed", "deliverables")),
    ("metadata", ("session_summary", "achievements", "completed_tasks")),
)
_WORK_COUNTERS = ("commits", "files_changed", "lines_added", "lines_removed")


def is_placeholder_title(title: str | None) -> bool:
    """A title that says nothing of the work: `Test Mission`, `Untitled`, `Build session in X`."""
    return not title or not title.strip() or bool(_PLACEHOLDER.match(title))


def is_placeholder_agent(agent: str | None) -> bool:
    """An agent a test stands in for: `TestAgent`, `Test Agent`, `test_agent`, `dummy`."""
    if not agent:
        return False
    return bool(_PLACEHOLDER_AGENT.fullmatch(_AGENT_SEPARATORS.sub("", agent).lower()))


def is_test_title(title: str | None) -> bool:
    """A title a test gives: `Test`, `Test Task`, `Test Mission` (not every placeholder
    title: `Untitled` says nothing, but it is no sign of a test)."""
    return bool(title and _TEST_TITLE.match(title))


def is_placeholder_id(session_id: str) -> bool:
    """An id made up for a test: a UUID of zeros but for a small counter at its end."""
    return bool(_ZERO_ID.fullmatch(session_id.strip()))


def placeholder_reasons(session: AnySession) -> list[str]:
    """Why the session is a test placeholder, or `[]`: its agent (its id or the
    metadata's `agent_name`), its title (its own or the metadata's task or mission) or
    its id says so."""
    reasons = []
    extra = session.metadata.model_extra or {}
    named = extra.get("agent_name")
    for agent in dict.fromkeys([session.agent_id, named if isinstance(named, str) else None]):
        if is_placeholder_agent(agent):
            assert agent is not None
            reasons.append(f"a test placeholder: agent “{agent.strip()}”")
            break
    for title in dict.fromkeys([session.title, _extra_title(session)]):
        if is_test_title(title):
            assert title is not None
            reasons.append(f"a test placeholder: title “{title.strip()}”")
            break
    if is_placeholder_id(session.session_id):
        reasons.append(f"a test placeholder: id {session.session_id}")
    return reasons


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


def marked_reasons(session: AnySession) -> list[str]:
    """Why the session says it is a draft itself (`metadata.draft: true`, with its
    `metadata.draft_reason`, as the push hook writes it for a work repository's draft
    branches), or `[]`."""
    extra = session.metadata.model_extra or {}
    if extra.get("draft") is not True:
        return []
    reason = extra.get("draft_reason")
    shown = reason.strip() if isinstance(reason, str) and reason.strip() else "no reason given"
    return [f"the work repository marks this push a draft: {shown}"]


def draft_reasons(session: AnySession, screenshots: int = 0) -> list[str]:
    """Why the session is a draft, or `[]` when it is real work with something to say.

    A session is a draft when it is a test placeholder (`placeholder_reasons`), or when
    it has no commits, no trades, no conversation, no screenshots, no story (overview,
    problem, solution, achievements, lessons, next steps, deliverables, summaries) and no
    title of its own: counters alone (`2 commits in repo`, nothing else) are no post."""
    source = session.source_data
    content = (
        source.git_commits
        or source.trades
        or any(c.content.strip() for c in source.conversations)
        or screenshots
        or _story_fields(session)
    )
    title = session.title or _extra_title(session)
    placeholder = marked_reasons(session) + placeholder_reasons(session)
    if content or not is_placeholder_title(title):
        return placeholder
    repo = public_repo(source.repo_path)
    counted = [n for n in _WORK_COUNTERS if (session.metadata.counter(n) or 0) > 0]
    reasons = ["no commits, trades, conversation or screenshots", "no story"]
    reasons.append(
        f"placeholder title “{title.strip()}”" if title and title.strip() else "no title"
    )
    if source.repo_path and not repo:
        reasons.append("the repository is a temporary folder")
    elif counted and repo:
        reasons.append("counters only, nothing to read")
    elif counted:
        reasons.append("counters only, for no named repository")
    return reasons + placeholder


def twin_keys(record: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What makes a record (its stored JSON, parsed) the twin of another: (key, what it
    is) for its set of commit hashes, when it lists any, and for its deliverables at its
    moment, when it has both. Two sessions that share a key are the same work recorded
    twice; the keys are digests, so an index of them costs the same per session however
    many it holds."""
    keys: list[tuple[str, str]] = []
    source = record.get("source_data")
    source = source if isinstance(source, Mapping) else {}
    commits = source.get("git_commits")
    hashes = sorted(
        {
            c["hash"].strip().lower()
            for c in (commits if isinstance(commits, list) else [])
            if isinstance(c, Mapping) and isinstance(c.get("hash"), str) and c["hash"].strip()
        }
    )
    if hashes:
        keys.append((_digest("commits", *hashes), f"the same {plural(len(hashes), 'commit')}"))
    listed: list[Any] = []
    for container in (record, source):
        found = container.get("deliverables")
        if isinstance(found, list):
            listed += found
    delivered = sorted({t for t in map(deliverable_text, listed) if t})
    moment = record.get("timestamp")
    if delivered and isinstance(moment, str) and moment.strip():
        keys.append(
            (
                _digest("deliverables", moment.strip(), *delivered),
                f"the same {plural(len(delivered), 'deliverable')} at the same time",
            )
        )
    return keys


def _digest(kind: str, *parts: str) -> str:
    text = "\n".join((kind, *parts))
    return f"{kind}:{hashlib.sha256(text.encode('utf-8')).hexdigest()}"


def _extra_title(session: AnySession) -> str | None:
    extra = session.metadata.model_extra or {}
    for key in ("task_title", "current_mission"):
        value = extra.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None
