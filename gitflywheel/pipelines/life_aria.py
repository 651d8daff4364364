"""The life/Aria pipeline: a devlog with the conversation and a screenshot gallery."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from ..artifacts import ArtifactSpec, Screenshot
from ..models import LifeAriaSession
from .common import duration_text, identity, short_id, slug, when
from .social import hashtags, thread

__all__ = ["highlights", "run"]

PIPELINE: Final = "life_aria"
_HIGHLIGHTS = 8
_QUOTE = 400


def _speaker(source: str) -> str:
    return {"aria": "Aria", "user": "You"}.get(source.lower(), source)


def highlights(session: LifeAriaSession) -> list[dict[str, str]]:
    """The conversation turns worth quoting: the first and last ones, in order, with
    attribution; each quote kept to about 400 characters, ending on a whole word."""
    turns = [c for c in session.source_data.conversations if c.content.strip()]
    if len(turns) > _HIGHLIGHTS:
        turns = turns[: _HIGHLIGHTS // 2] + turns[-(_HIGHLIGHTS // 2) :]
    out = []
    for turn in turns:
        text = " ".join(turn.content.split())
        if len(text) > _QUOTE:
            text = text[:_QUOTE].rsplit(" ", 1)[0] + " …"
        out.append(
            {
                "speaker": _speaker(turn.source),
                "text": text,
                "time": turn.timestamp.strftime("%H:%M UTC") if turn.timestamp else "",
            }
        )
    return out


def run(session: LifeAriaSession, screenshots: Sequence[Screenshot] = ()) -> list[ArtifactSpec]:
    """The devlog (a blog post) and a social post for one life/Aria session."""
    moment = when(session)
    talk = highlights(session)
    speakers = sorted({h["speaker"] for h in talk})
    title = session.title or f"Making things with Aria, {moment['human']}"
    overview = session.overview
    if not overview:
        parts = [f"{session.agent_id} spent"]
        minutes = duration_text(session.metadata.counter("duration_minutes"))
        parts.append(f"{minutes} with Aria" if minutes else "a session with Aria")
        count = len(session.source_data.conversations)
        overview = (
            " ".join(parts)
            + f": {count} turns of conversation"
            + (f" and {len(screenshots)} screenshots." if screenshots else ".")
        )
    gallery = [
        {
            "source": s.source,
            "path": f"screenshots/{s.stored}",
            "caption": s.source.replace("\\", "/").rsplit("/", 1)[-1],
        }
        for s in screenshots
        if s.stored
    ]
    missing = [s.source for s in screenshots if not s.stored]
    context = {
        **identity(session),
        "title": title,
        "overview": overview,
        "problem": session.problem,
        "solution": session.solution,
        "highlights": talk,
        "speakers": speakers,
        "gallery": gallery,
        "missing": missing,
        "lessons": [
            {"title": lesson.title, "description": lesson.description} for lesson in session.lessons
        ],
        "made": [
            d if isinstance(d, str) else str(d.get("file") or d.get("name") or d)
            for d in session.deliverables
            if d
        ]
        + list(session.key_achievements),
        "next_steps": list(session.next_steps),
        "tags": ["devlog", "aria"]
        + ([slug(session.agent_id).lower()] if slug(session.agent_id) else []),
    }
    paragraphs = [
        f"{title} ({moment['date']} {moment['time']} UTC, session {short_id(session)}). {overview}"
    ]
    aria = [h for h in talk if h["speaker"] == "Aria"]
    if aria:
        paragraphs.append(f"Aria: “{aria[-1]['text']}”")
    paragraphs += [
        f"Lesson: {lesson.title}. {lesson.description}".strip() for lesson in session.lessons[:2]
    ]
    posts = thread(paragraphs, hashtags("BuildWithAria", "Devlog", slug(session.agent_id)))
    return [
        ArtifactSpec("blog_post", PIPELINE, "L1", "devlog.md.j2", context),
        ArtifactSpec("social_post", PIPELINE, "L2", "social_post.md.j2", {"posts": posts}),
    ]
