"""Front matter every artifact carries, for blogs and feeds: title, date, description,
slug, tags, categories, draft, image; and the headline and summary lines it is made of."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any, Final

from ..session.facts import Address
from ..session.models import in_utc
from ..session.public_text import scrub
from .changelog import parse
from .common import AnySession, utc_text

__all__ = [
    "HEADLINE",
    "DESCRIPTION",
    "unprefixed",
    "headline",
    "summary_line",
    "same_sentence",
    "title_slug",
    "post_slug",
    "front_matter",
]

HEADLINE: Final = 90
DESCRIPTION: Final = 160
_KIND_SUFFIX: Final = {
    "blog_post": "",
    "trade_journal": "-journal",
    "readme": "-readme",
    "build_log": "-build-log",
    "social_post": "-social",
}


def _cut(text: str, limit: int) -> str:
    """At most `limit` characters, ending on a whole word with `…` when cut."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    if " " in head:
        head = head.rsplit(" ", 1)[0]
    return head.rstrip(" ,;:-–—") + "…"


# A leading `agent-4:` names who made a commit, not what it did.
_AGENT_PREFIX = re.compile(r"^[A-Za-z][A-Za-z_]*-\d+: +(?=\S)")
_PREFIX = re.compile(r"^([A-Za-z]+)(?:\([^()\r\n]*\))?!?:\s*")
_SENTENCE = re.compile(r"(.+?[.!?])(?:\s|$)")
_CLAUSE = re.compile(r"[,;:]\s| - | — ")
_WORD = re.compile(r"\w+")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def unprefixed(text: str) -> str:
    """A line without its conventional-commit `type(scope)!:` prefix or a leading
    `agent-4:`-style prefix (any number, in any order), capitalised when any was taken off:
    `docs: create a guide` -> `Create a guide`."""
    line = text.strip()
    while True:  # each pass takes a prefix off or ends
        bare = _AGENT_PREFIX.sub("", line, count=1)
        found = _PREFIX.match(bare)
        if found and parse(f"{found.group(1)}: x").type:  # a known type, spaced or not
            bare = bare[found.end() :]
        if bare == line:
            break
        line = bare[:1].upper() + bare[1:]
    return line


def _first_sentence(text: str) -> str:
    text = unprefixed(" ".join(scrub(text).split()))
    found = _SENTENCE.match(text)
    return found.group(1) if found else text


def headline(text: str | None) -> str | None:
    """A line of session text as a title: its first sentence, or, when that is long, its
    first clause; at most 90 characters, never cut mid-word."""
    if not text or not text.strip():
        return None
    line = _first_sentence(text).rstrip(".")
    if len(line) > HEADLINE:
        clause = _CLAUSE.split(line, maxsplit=1)[0]
        if len(clause) >= 20:
            line = clause
    return _cut(line, HEADLINE) or None


def _words(text: str) -> str:
    return " ".join(_WORD.findall(text.casefold()))


def same_sentence(text: str | None, other: str | None) -> bool:
    """Whether two texts open with the same sentence, whatever the case, punctuation and
    prefixes (`Add a guide.` and `docs: add a guide`): a title made from a text's first
    sentence is that sentence."""
    if not text or not other:
        return False
    words = _words(_first_sentence(text))
    return bool(words) and words == _words(_first_sentence(other))


def summary_line(*candidates: str | None, avoid: Sequence[str | None] = ()) -> str:
    """The first non-empty candidate's first sentence, at most 160 characters; a
    candidate that opens with the same sentence as one of `avoid` (the title, the page's
    opening sentence) is passed over, so that a page never says one sentence twice."""
    avoided = {_words(_first_sentence(a)) for a in avoid if a}  # each sentence told once
    for text in candidates:
        if text and text.strip():
            first = _first_sentence(text)
            words = _words(first)
            if not (words and words in avoided):
                return _cut(first, DESCRIPTION)
    return ""


def title_slug(title: str, fallback: str = "session") -> str:
    """`Add metrics monitor (RED/GREEN)` -> `add-metrics-monitor-red-green`: ASCII letters
    and digits joined by `-`, at most 60 characters, `fallback` when nothing is left."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = _NOT_SLUG.sub(" ", ascii_text.lower()).split()
    out = ""
    for word in words:
        candidate = f"{out}-{word}" if out else word
        if len(candidate) > 60:
            break
        out = candidate
    return out or (words[0][:60] if words else fallback)


def post_slug(address: Address, title: str, session: AnySession) -> str:
    """The session's address on the site: the one fixed when it was first recorded, else
    (a first record) its title's slug, or, for a title with no ASCII letter or digit (in
    Chinese, say), its type and day: `build-2025-12-02`."""
    day = utc_text(session.timestamp, "%Y-%m-%d")
    return address.slug or title_slug(title, f"{session.session_type.replace('_', '-')}-{day}")


def front_matter(
    session: AnySession,
    kind: str,
    *,
    title: str,
    description: str,
    tags: list[str],
    draft: list[str],
    slug: str,
    image: str | None = None,
    author: str | None = None,
) -> dict[str, Any]:
    """The front matter of one artifact. The slug is the session's address (`slug`, fixed
    when the session was first recorded: see `session.facts.Address`) and the kind (none
    for the session's main post). The author is the agent as shown (`author`), else its id."""
    utc = in_utc(session.timestamp).replace(microsecond=0)
    return {
        "title": title,
        "date": utc.isoformat(),
        "description": description or title,
        "slug": f"{slug}{_KIND_SUFFIX[kind]}",
        "tags": tags,
        "categories": [session.session_type],
        "draft": bool(draft),
        "image": image,
        "author": session.agent_id if author is None else author,
        "session_id": session.session_id,
    }
