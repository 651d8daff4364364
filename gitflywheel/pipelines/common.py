"""What every pipeline shares: dates, names and short forms taken from the session."""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import datetime
from typing import Any

from ..session.facts import Address, Names
from ..session.models import BuildSession, LifeAriaSession, TradeSession, in_utc
from ..session.public_text import public_id

__all__ = [
    "AnySession",
    "NO_NAMES",
    "NO_ADDRESS",
    "identity",
    "when",
    "short_id",
    "repo_name",
    "duration_text",
    "first_line",
    "one_line",
    "extra_text",
    "slug",
    "utc_text",
    "deliverable_text",
    "plural",
    "lesson_list",
    "project_of",
]

AnySession = BuildSession | TradeSession | LifeAriaSession
NO_NAMES = Names()
NO_ADDRESS = Address()


def when(session: AnySession) -> dict[str, str]:
    """The session's moment in the forms artifacts use, all UTC."""
    return dict(_when(session.timestamp))


@functools.lru_cache(maxsize=64)
def _when(moment: datetime) -> dict[str, str]:
    """`when` of a moment: every artifact of a session shows it (equal moments, whatever
    their offsets, are the same UTC text)."""
    return {
        "iso": utc_text(moment, "%Y-%m-%dT%H:%M:%SZ"),
        "date": utc_text(moment, "%Y-%m-%d"),
        "time": utc_text(moment, "%H:%M"),
        "stamp": utc_text(moment, "%Y-%m-%d %H:%M:%S UTC"),
        "human": utc_text(moment, "%B %-d, %-Y"),
    }


def identity(session: AnySession, names: Names | None = None, **more: Any) -> dict[str, Any]:
    """What every template may show of the session itself: `session.id`, `.short_id`,
    `.agent` (the name `names` shows it under), and `when` (see `when`)."""
    return {
        "session": {
            "id": session.session_id,
            "short_id": short_id(session),
            "agent": (names or NO_NAMES).agent_name(session.agent_id),
            **more,
        },
        "when": when(session),
    }


_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_SEPARATORS = re.compile(r"[\\/]+")
_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]+")
_WORD_BREAK = re.compile(r"[\W_]+")
_FIELDS = re.compile(r"%(-?[A-Za-z%])")


def utc_text(moment: datetime, fmt: str = "%Y-%m-%d %H:%M UTC") -> str:
    """A moment from the session, shown in UTC whatever offset it was given with.

    `fmt` takes `%Y %m %d %H %M %S %B` (`%-d`, `%-Y`: without padding); the year always
    has four digits and the month's name is English, whatever the platform or locale.
    A moment whose UTC form is outside the years 1 to 9999 raises ValueError."""
    utc = in_utc(moment)
    return _format(fmt).format(utc, _MONTHS[utc.month - 1])


# Each field of `utc_text` as a field of `str.format`, given the moment (0) and the name
# of its month (1).
_FORMAT_FIELDS = {
    "Y": "{0.year:04d}",
    "-Y": "{0.year}",
    "m": "{0.month:02d}",
    "d": "{0.day:02d}",
    "-d": "{0.day}",
    "H": "{0.hour:02d}",
    "M": "{0.minute:02d}",
    "S": "{0.second:02d}",
    "B": "{1}",
    "%": "%",
}


@functools.lru_cache(maxsize=64)
def _format(fmt: str) -> str:
    """`utc_text`'s format as a `str.format` pattern: a KeyError for a field it lacks."""
    literal = fmt.replace("{", "{{").replace("}", "}}")
    return _FIELDS.sub(lambda m: _FORMAT_FIELDS[m.group(1)], literal)


def plural(n: int, word: str) -> str:
    """`1 commit`, `3 commits`."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def deliverable_text(item: Any) -> str | None:
    """A deliverable as one line: a string as is, an object by its file, name or title
    (with its type and status); anything else is not shown."""
    if isinstance(item, str):
        return item.strip() or None
    if isinstance(item, dict):
        name = item.get("file") or item.get("name") or item.get("title")
        if isinstance(name, str) and name.strip():
            bits = [b for b in (item.get("type"), item.get("status")) if isinstance(b, str) and b]
            return f"{name} ({', '.join(bits)})" if bits else name
    return None


def short_id(session: AnySession) -> str:
    """The id as a post shows it: a UUID's first group, any other id whole (never a token
    cut in the middle)."""
    return public_id(session.session_id)


def repo_name(repo_path: str | None) -> str | None:
    """`D:/work/Agent_Cellphone_V2_Repository` -> `Agent_Cellphone_V2_Repository`."""
    if not repo_path:
        return None
    parts = [p for p in _SEPARATORS.split(repo_path.strip()) if p]
    return parts[-1] if parts else None


def duration_text(minutes: int | None) -> str | None:
    """`95` -> `1 h 35 min`; None when unknown."""
    if minutes is None:
        return None
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def one_line(text: str) -> str:
    """A name shown on one line of Markdown (a file, an author): line breaks become spaces."""
    return " ".join(text.splitlines()) if text else text


def first_line(text: str) -> str:
    """A commit message's subject line."""
    return text.strip().splitlines()[0].strip() if text.strip() else ""


def extra_text(container: Any, *keys: str) -> str | None:
    """The first non-empty string among known-in-the-wild extra fields (kept unknown fields)."""
    extra = getattr(container, "model_extra", None) or {}
    for key in keys:
        value = extra.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def slug(text: str) -> str:
    """A hashtag- or tag-safe word: letters and digits only."""
    return _NOT_ALNUM.sub("", text)


def lesson_list(lessons: Any) -> list[dict[str, str]]:
    """The session's lessons as title and description; one with neither says nothing and
    is left out (an empty `**{{ title }}**` would print as a rule)."""
    return [
        {"title": x.title, "description": x.description}
        for x in lessons
        if x.title.strip() or x.description.strip()
    ]


# Words of a repository's name that say what it is rather than which project: a
# repository's `-repo` suffix and its versions (`V2`, `2.0`) name the same project.
_GENERIC_WORDS = frozenset({"repo", "repository", "git"})
_VERSION_WORD = re.compile(r"^v?\d+(?:\.\d+)*$", re.IGNORECASE)
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=\d)(?=[A-Z])")


def project_of(repo: str | None, display: bool = False) -> dict[str, str] | None:
    """The project a repository stands for, `{"name", "tag"}`: one tag per project,
    however its repositories are named. A name the store's settings give (`names.repo`,
    `display`) is the project's name as it is; any other is the repository's last path
    part split into words (`_`, `-`, `.`, CamelCase) less the words that only say it is a
    repository or which version (`Agent_Cellphone_V2_Repository` and `agent-cellphone`:
    `Agent Cellphone`, tag `agentcellphone`). The tag is the name's letters and digits,
    lower-case; None when nothing is left."""
    if not repo or not repo.strip():
        return None
    if display:
        tag = _tag(repo)
        return {"name": repo.strip(), "tag": tag} if tag else None
    last = repo.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    words = [w for chunk in _WORD_BREAK.split(last) for w in _CAMEL.split(chunk) if w]
    kept = [w for w in words if w.lower() not in _GENERIC_WORDS]
    while len(kept) > 1 and _VERSION_WORD.match(kept[-1]):
        kept.pop()
    kept = kept or words
    tag = _tag("".join(kept))
    return {"name": " ".join(kept), "tag": tag} if tag else None


def _tag(name: str) -> str:
    """A name's letters and digits, accents folded, lower-case: `Zoë app` -> `zoeapp`."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return slug(folded).lower()
