"""A Markdown transcript: front matter, then a second-level heading per turn naming its
speaker, the turn's text below it.

```
---
title: SpaceExplorer with Aria
date: 2025-12-03T19:30:00Z
agent: Agent-4
id: space-explorer-first-build
---

## user (19:31)
Let's make the ship wrap around the screen edges.

## aria (19:40)
Done: positions now wrap modulo the canvas size.
```

Front matter is `key: value` lines: `date` (an ISO 8601 date-time; without an offset,
UTC) is required; `title`, `agent` and `id` (the session's id: default `transcript-`
and the file's name) are not. A heading may add the turn's time in parentheses, a time
of day (on the date's day, in its offset) or a whole date-time; without one a turn takes
the time of the one before. The whole transcript is one session.

An image a turn shows, `![caption](shots/title.png)`, is a screenshot: a regular file
inside the transcript's folder (symbolic links resolved), read up to the screenshot
limit and written to the images folder when it is an image, as a ChatGPT export's are.
Any other (a URL, a path leading out of the folder) is a note.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, time
from pathlib import Path

from ..errors import InputError
from ..session.models import parse_timestamp
from .conversation import Chat, Image, Turn, safe_id

__all__ = ["read"]

MAX_BYTES = 16 * 1024 * 1024
# bounded, and a target holds no `(`, so that a turn of `![a](![a](…` costs each `![`
# a few characters, not the rest of the turn
_IMAGE = re.compile(
    r"!\[(?P<caption>[^\]]{0,1000})\]\((?P<target>[^()\s]{1,2000})(?:\s{1,100}\"[^\"]{0,1000}\")?\)"
)


def _heading(line: str) -> tuple[str, str | None] | None:
    """(speaker, time) of a `## speaker (time)` heading (closing #s dropped), or None.
    Read by hand: a regular expression for it backtracked for minutes over a heading of
    a few thousand spaces."""
    if not line.startswith("##") or len(line) < 3 or not line[2].isspace():
        return None
    rest = line[3:].strip().rstrip("#").rstrip()
    if not rest:
        return None
    opening = rest.rfind("(")
    inner = rest[opening + 1 : -1]
    if (
        rest.endswith(")")
        and opening > 0
        and rest[opening - 1].isspace()
        and inner
        and ")" not in inner
    ):
        return rest[:opening].rstrip(), inner
    return rest, None


def _when(text: str, start: datetime, origin: str, line: int) -> datetime:
    found = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", text.strip())
    if found:
        hour, minute, second = (int(g or 0) for g in found.groups())
        if hour < 24 and minute < 60 and second < 60:
            return datetime.combine(start.date(), time(hour, minute, second), start.tzinfo)
    try:
        return parse_timestamp(text)
    except ValueError as exc:
        raise InputError(f"{origin}:{line}", "heading", str(exc)) from None


def _image(folder: Path, target: str, limit: int) -> Path | str:
    """The image file the transcript names, or why it is not read."""
    if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
        return "a URL, not a file of the transcript"
    try:
        root = folder.resolve()
        found = (folder / target).resolve()
        if found != root and root not in found.parents:
            return "outside the transcript's folder"
        if not found.is_file():
            return "not a regular file"
        if found.stat().st_size > limit:
            return f"larger than {limit:,} bytes"
    except (OSError, ValueError) as exc:
        return f"cannot read: {getattr(exc, 'strerror', None) or exc}"
    return found


def _reader(path: Path, limit: int) -> Callable[[], bytes | str]:
    """How an image the transcript names is read when it is written."""

    def read() -> bytes | str:
        try:
            with path.open("rb") as f:
                data = f.read(limit + 1)
        except OSError as exc:
            return f"cannot read: {exc.strerror or exc}"
        return data if len(data) <= limit else f"larger than {limit:,} bytes"

    return read


def read(path: Path, max_image_bytes: int) -> Chat:
    """The transcript at `path` as one conversation."""
    origin = str(path)
    try:
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            raise InputError(origin, "", f"not a regular file of at most {MAX_BYTES:,} bytes")
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(origin, "", f"not UTF-8 (byte {exc.start})") from None
    except OSError as exc:
        raise InputError(origin, "", f"cannot read: {exc.strerror or exc}") from None
    if "\0" in text:  # a path with one made the image lookup raise
        at = text.count("\n", 0, text.index("\0")) + 1
        raise InputError(f"{origin}:{at}", "", "a NUL byte: binary content, not Markdown")
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise InputError(origin, "front matter", "missing: the file must start with ---")
    front: dict[str, str] = {}
    end = None
    for n, line in enumerate(lines[1:], start=2):
        if line.strip() == "---":
            end = n
            break
        key, sep, value = line.partition(":")
        if sep and key.strip():
            front[key.strip().lower()] = value.strip().strip("\"'")
    if end is None:
        raise InputError(origin, "front matter", "not closed by ---")
    if "date" not in front:
        raise InputError(origin, "front matter.date", "missing: when the conversation started")
    try:
        start = parse_timestamp(front["date"])
    except ValueError as exc:
        raise InputError(origin, "front matter.date", str(exc)) from None
    name = front.get("id") or f"transcript-{safe_id(path.stem)}"
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}", name):
        raise InputError(origin, "front matter.id", f"{name[:40]!r} is not a session id")
    chat = Chat("transcript", name, front.get("title") or None, origin, session_id=name)
    chat.agent = front.get("agent") or None
    speaker: str | None = None
    moment = start
    body: list[str] = []

    def close() -> None:
        text = "\n".join(body).strip()
        if speaker is None or not text:
            return
        chat.turns.append(Turn(speaker, text, moment))
        for shown in _IMAGE.finditer(text):
            found = _image(path.parent, shown["target"], max_image_bytes)
            if isinstance(found, str):
                chat.notes.append(f"image {shown['target'][:200]}: {found}")
            else:
                read = _reader(found, max_image_bytes)
                chat.images.append(Image(shown["target"], read, moment, shown["caption"].strip()))

    in_code = False
    for n, line in enumerate(lines[end:], start=end + 1):
        if line.lstrip().startswith("```"):
            in_code = not in_code
        heading = None if in_code else _heading(line)
        if heading:
            close()
            speaker, body = heading[0], []
            if heading[1]:
                moment = _when(heading[1], start, origin, n)
            continue
        if speaker is None:
            if line.strip():
                raise InputError(
                    f"{origin}:{n}", "", "text before the first speaker's heading (## name)"
                )
            continue
        body.append(line)
    close()
    if not chat.turns:
        raise InputError(origin, "", "no turns: a heading per speaker (## name) and their text")
    return chat
