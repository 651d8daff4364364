"""The life/Aria pipeline: a devlog with the conversation and a screenshot gallery."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final, TypedDict

from ..session.artifacts import ArtifactSpec, Screenshot, is_linked_url
from ..session.facts import Address, Names
from ..session.models import LifeAriaSession
from ..session.public_text import implausible_duration, scrub, scrub_all
from .common import (
    NO_ADDRESS,
    NO_NAMES,
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
from .front import front_matter, headline, post_slug, summary_line
from .social import fence, hashtags, threads

__all__ = ["Highlight", "Shot", "speaker", "highlights", "gallery", "grid", "social", "run"]

PIPELINE: Final = "life_aria"
# Raised whenever the facts this pipeline derives change for some record, or what else
# verify derives with them (4: screenshots stored under their format's extension, and
# one without a caption captioned by the session's title, never by its file's name);
# stores keep the version beside the facts, and tests/pipelines/test_golden.py fails on a change
# without it.
VERSION: Final = 6
_HIGHLIGHTS: Final = 8
_QUOTE: Final = 400
_GRID: Final = 3  # thumbnails a row of the gallery holds
_USER_SIDE: Final = frozenset({"user", "human", "me", "you"})
_CODE = re.compile(r"```|`[^`\n]+`|^(?: {4}|\t)\S", re.MULTILINE)
_DECISION = re.compile(
    r"\b(?:decid\w*|chose|choose|let's|we'll|i'll|plan|instead|because|fix(?:ed)?|"
    r"done|works?|built|added|switched|should)\b",
    re.IGNORECASE,
)


class Highlight(TypedDict):
    """One quoted turn of the conversation, with who said it and when (UTC)."""

    speaker: str
    text: str
    time: str


class Shot(TypedDict):
    """A screenshot as the devlog shows it: a stored file (a path relative to the session
    folder, where the devlog sits) or a linked URL, with its caption (the alt text);
    `captioned` says whether the session gave the caption, which then shows under the
    image too (one made of the title would only say the title again)."""

    source: str
    path: str
    caption: str
    captioned: bool


def speaker(source: str, agent: str) -> str:
    """Who said a turn, by name: the agent for the user's side, Aria for Aria, any other
    source title-cased; never "You". A source that title-casing would hide a local path in
    (`/home/kay` as `/Home/Kay`, which `scrub` no longer knows) loses the path first."""
    key = source.strip().lower()
    if key in _USER_SIDE:
        return agent
    if key == "aria":
        return "Aria"
    name = " ".join(source.split()).title()
    shown = scrub(name).lower()
    if scrub(shown) != shown:
        return " ".join(scrub(source).split()).title()
    return name


def _weight(text: str) -> int:
    """How much a turn says: its words (up to a quote's worth), more for code and for
    decisions; a bare acknowledgement weighs little."""
    words = min(len(text.split()), 80)
    return words + (40 if _CODE.search(text) else 0) + 15 * min(len(_DECISION.findall(text)), 2)


def _quote(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > _QUOTE:
        cut = text[: _QUOTE + 1].rsplit(" ", 1)[0] if " " in text[:_QUOTE] else text[:_QUOTE]
        text = cut + " …"
    return text


def highlights(session: LifeAriaSession, names: Names = NO_NAMES) -> list[Highlight]:
    """The conversation turns worth quoting, in the order they were said: at most eight,
    chosen by what they hold (the longest turns, code, decisions) rather than where they
    fall; each quote kept to about 400 characters, ending on a whole word."""
    turns = [c for c in session.source_data.conversations if c.content.strip()]
    if len(turns) > _HIGHLIGHTS:
        ranked = sorted(range(len(turns)), key=lambda i: (-_weight(turns[i].content), i))
        turns = [turns[i] for i in sorted(ranked[:_HIGHLIGHTS])]
    return [
        {
            "speaker": speaker(turn.source, names.agent_name(session.agent_id)),
            "text": _quote(turn.content),
            "time": utc_text(turn.timestamp, "%H:%M UTC") if turn.timestamp else "",
        }
        for turn in turns
    ]


def _caption(shot: Screenshot, number: int, title: str) -> str:
    """The session's caption, else `Screenshot 2 of <title>`: never one made from the
    file's name, which says little (`title`, `level1`) and may say what it should not."""
    if shot.caption and shot.caption.strip():
        return one_line(shot.caption).strip()
    return f"Screenshot {number} of {one_line(title).strip()}"


def gallery(
    screenshots: Sequence[Screenshot], title: str
) -> tuple[list[Shot], list[Shot], list[str]]:
    """The stored screenshots (images beside the devlog), the linked URLs, and the sources
    that were neither (named in the manifest only, never in public text). One without a
    caption of its own is captioned by its place among those shown and the session's
    `title`."""
    shown: list[Shot] = []
    linked: list[Shot] = []
    missing: list[str] = []
    for s in screenshots:
        number = len(shown) + len(linked) + 1
        if s.stored:
            path = f"screenshots/{s.stored}"
            shown.append(
                {
                    "source": s.source,
                    "path": path,
                    "caption": _caption(s, number, title),
                    "captioned": bool(s.caption and s.caption.strip()),
                }
            )
        elif is_linked_url(s.source.strip()):
            url = s.source.strip()
            linked.append(
                {
                    "source": s.source,
                    "path": url,
                    "caption": _caption(s, number, title),
                    "captioned": bool(s.caption and s.caption.strip()),
                }
            )
        else:
            missing.append(one_line(s.source))
    return shown, linked, missing


def grid(shots: Sequence[Shot]) -> list[list[Shot | None]]:
    """Thumbnails in rows of up to three, the last row padded with None."""
    width = min(_GRID, len(shots))
    rows: list[list[Shot | None]] = []
    for start in range(0, len(shots), _GRID):
        row: list[Shot | None] = list(shots[start : start + _GRID])
        rows.append(row + [None] * (width - len(row)))
    return rows


def _overview(session: LifeAriaSession, screenshots: Sequence[Screenshot], agent: str) -> str:
    counted = session.metadata.counter("duration_minutes")
    minutes = None if implausible_duration(counted) else duration_text(counted)
    text = f"{agent} spent " + (f"{minutes} with Aria" if minutes else "a session with Aria")
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
    agent: str | None = None,
    link: str | None = None,
) -> tuple[list[str], list[str]]:
    """The thread (and its Mastodon form, when it differs): the title, the overview,
    Aria's last word, lessons, the link to the session's page when it has one; tagged
    with the agent as shown (`agent`) when the store's settings make agents tags, else
    with the generic tags alone."""
    paragraphs = [f"{title}. {overview}"]
    aria = [h for h in talk if h["speaker"] == "Aria"]
    if aria:
        paragraphs.append(f"Aria: “{aria[-1]['text']}”")
    paragraphs += [f"Lesson: {x['title']}. {x['description']}".strip() for x in lessons[:2]]
    return threads(paragraphs, hashtags(agent, generic=["BuildWithAria", "Devlog"]), link)


def run(
    session: LifeAriaSession,
    screenshots: Sequence[Screenshot] = (),
    names: Names = NO_NAMES,
    address: Address = NO_ADDRESS,
) -> list[ArtifactSpec]:
    """L1 the devlog (a blog post) and L2 a social post for one life/Aria session; drafts
    (see `drafts.draft_reasons`) get no thread. The agent is named as `names` shows it,
    the post lives at `address` (see `front.post_slug`)."""
    moment = when(session)
    agent = names.agent_name(session.agent_id)
    talk = scrub_all(highlights(session, names))
    overview = scrub_all(session.overview or _overview(session, screenshots, agent))
    title = session.title if not is_placeholder_title(session.title) else None
    title = scrub_all(
        title or headline(session.overview) or f"Making things with Aria, {moment['human']}"
    )
    place = post_slug(address, title, session)
    shown, linked, missing = gallery(screenshots, title)
    shown, linked = scrub_all(shown), scrub_all(linked)
    made = [d for d in map(deliverable_text, session.deliverables) if d]
    tags = ["devlog", "aria"] + ([slug(agent).lower()] if names.agent_tags and slug(agent) else [])
    draft = draft_reasons(session, len(shown))
    description = summary_line(
        overview,
        session.problem,
        session.solution,
        scrub(_overview(session, screenshots, agent)),
        title,
        avoid=(title, overview),
    )
    context = {
        **identity(session, names),
        "draft_reasons": draft,
        "title": title,
        "overview": overview,
        "problem": session.problem,
        "solution": session.solution,
        "highlights": talk,
        "speakers": sorted({h["speaker"] for h in talk}),
        "gallery": shown,
        "cover": shown[0] if shown else None,
        "grid": grid(shown[1:]),
        "links": linked,
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
            slug=place,
            image=image,
            author=agent,
        )

    tagged = agent if names.agent_tags else None
    url = address.with_slug(place).url
    posts, mastodon = (
        ([], [])
        if draft
        else social(session, title, overview, talk, context["lessons"], tagged, url)
    )
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
                **identity(session, names),
                "front": front("social_post"),
                "draft_reasons": draft,
                "posts": posts,
                "fence": fence(posts + mastodon),
                "mastodon": mastodon,
            },
        ),
    ]
