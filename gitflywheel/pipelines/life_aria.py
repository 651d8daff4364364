"""The life/Aria pipeline: a devlog with the conversation and a screenshot gallery."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, TypedDict

from ..artifacts import ArtifactSpec, Screenshot
from ..models import LifeAriaSession
from .common import (
    deliverable_text,
    duration_text,
    identity,
    lesson_list,
    one_line,
    plural,
    slug,
    utc_text,
    when,
)
from .drafts import draft_reasons, is_placeholder_title
from .front import front_matter, headline, summary_line
from .public import implausible_duration, scrub_all
from .social import hashtags, thread

__all__ = ["Highlight", "Shot", "highlights", "gallery", "social", "run"]

PIPELINE: Final = "life_aria"
# Raised whenever the facts this pipeline derives change for some record; stores keep
# the version beside the facts, and tests/test_golden.py fails on a change without it.
VERSION: Final = 2
_HIGHLIGHTS: Final = 8
_QUOTE: Final = 400


class Highlight(TypedDict):
    """One quoted turn of the conversation, with who said it and when (UTC)."""

    speaker: str
    text: str
    time: str


class Shot(TypedDict):
    """A stored screenshot as the devlog shows it: a path relative to the session folder."""

    source: str
    path: str
    caption: str


def _speaker(source: str) -> str:
    return {"aria": "Aria", "user": "You"}.get(source.strip().lower(), source.strip())


def highlights(session: LifeAriaSession) -> list[Highlight]:
    """The conversation turns worth quoting: the first and last ones, in order, with
    attribution; each quote kept to about 400 characters, ending on a whole word."""
    turns = [c for c in session.source_data.conversations if c.content.strip()]
    if len(turns) > _HIGHLIGHTS:
        turns = turns[: _HIGHLIGHTS // 2] + turns[-(_HIGHLIGHTS // 2) :]
    out: list[Highlight] = []
    for turn in turns:
        text = " ".join(turn.content.split())
        if len(text) > _QUOTE:
            cut = text[: _QUOTE + 1].rsplit(" ", 1)[0] if " " in text[:_QUOTE] else text[:_QUOTE]
            text = cut + " …"
        out.append(
            {
                "speaker": _speaker(turn.source),
                "text": text,
                "time": utc_text(turn.timestamp, "%H:%M UTC") if turn.timestamp else "",
            }
        )
    return out


def gallery(screenshots: Sequence[Screenshot]) -> tuple[list[Shot], list[str]]:
    """The stored screenshots, as images beside the devlog, and the sources that were missing."""
    shown: list[Shot] = [
        {
            "source": s.source,
            "path": f"screenshots/{s.stored}",
            "caption": s.source.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] or s.stored,
        }
        for s in screenshots
        if s.stored
    ]
    return shown, [one_line(s.source) for s in screenshots if not s.stored]


def _overview(session: LifeAriaSession, screenshots: Sequence[Screenshot]) -> str:
    counted = session.metadata.counter("duration_minutes")
    minutes = None if implausible_duration(counted) else duration_text(counted)
    text = f"{session.agent_id} spent " + (
        f"{minutes} with Aria" if minutes else "a session with Aria"
    )
    made = [plural(len(session.source_data.conversations), "turn") + " of conversation"]
    if screenshots:
        made.append(plural(len(screenshots), "screenshot"))
    return f"{text}: {' and '.join(made)}."


def social(
    session: LifeAriaSession,
    title: str,
    overview: str,
    talk: list[Highlight],
    lessons: list[dict[str, str]],
) -> list[str]:
    """The thread: the title, the overview, Aria's last word, lessons."""
    paragraphs = [f"{title}. {overview}"]
    aria = [h for h in talk if h["speaker"] == "Aria"]
    if aria:
        paragraphs.append(f"Aria: “{aria[-1]['text']}”")
    paragraphs += [f"Lesson: {x['title']}. {x['description']}".strip() for x in lessons[:2]]
    return thread(paragraphs, hashtags(session.agent_id, generic=["BuildWithAria", "Devlog"]))


def run(session: LifeAriaSession, screenshots: Sequence[Screenshot] = ()) -> list[ArtifactSpec]:
    """L1 the devlog (a blog post) and L2 a social post for one life/Aria session; drafts
    (see `drafts.draft_reasons`) get no thread."""
    moment = when(session)
    talk = scrub_all(highlights(session))
    overview = scrub_all(session.overview or _overview(session, screenshots))
    title = session.title if not is_placeholder_title(session.title) else None
    title = scrub_all(
        title or headline(session.overview) or f"Making things with Aria, {moment['human']}"
    )
    shown, missing = gallery(screenshots)
    shown = scrub_all(shown)
    made = [d for d in map(deliverable_text, session.deliverables) if d]
    tags = ["devlog", "aria"] + ([slug(session.agent_id).lower()] if slug(session.agent_id) else [])
    draft = draft_reasons(session, len(shown))
    description = summary_line(overview, session.problem, title)
    context = {
        **identity(session),
        "draft_reasons": draft,
        "title": title,
        "overview": overview,
        "problem": session.problem,
        "solution": session.solution,
        "highlights": talk,
        "speakers": sorted({h["speaker"] for h in talk}),
        "gallery": shown,
        "missing": missing,
        "lessons": lesson_list(session.lessons),
        "made": made + list(session.key_achievements),
        "next_steps": list(session.next_steps),
        "tags": tags,
    }
    context = scrub_all(context)

    def front(kind: str) -> dict[str, object]:
        image = shown[0]["path"] if shown else None
        return front_matter(
            session,
            kind,
            title=title,
            description=description,
            tags=tags,
            draft=draft,
            image=image,
        )

    posts = [] if draft else social(session, title, overview, talk, context["lessons"])
    return [
        ArtifactSpec(
            "blog_post", PIPELINE, "L1", "devlog.md.j2", {**context, "front": front("blog_post")}
        ),
        ArtifactSpec(
            "social_post",
            PIPELINE,
            "L2",
            "social_post.md.j2",
            {
                **identity(session),
                "front": front("social_post"),
                "draft_reasons": draft,
                "posts": posts,
            },
        ),
    ]
