"""A conversation as every chat export is read into it, and its life/Aria sessions:
one per conversation and UTC day.

Each reader (ChatGPT, Claude.ai, a Markdown transcript) gives conversations as `Chat`s:
turns in the order they were said, each with its speaker as the export names it, and
images. Here a conversation becomes sessions: one per UTC day it has turns on, with id
`<source>-<conversation id>-<day>`, so a conversation that goes on tomorrow keeps
today's session as it was, and capturing the same export again gives the same sessions.
An image is written to the images folder only when it is an image by the rules any
screenshot meets at ingest (`recording.screenshots`), under its format's extension. An
image is read when it is written, once a day however often it is shown, so an export
that shows one image a million times holds one image in memory, not a million.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ..recording.screenshots import IMAGE_EXTENSIONS, image_format
from ..session.records import format_timestamp
from .result import check

__all__ = ["Chat", "Image", "Turn", "sessions_of", "safe_id"]


@dataclass(frozen=True)
class Turn:
    """One message: who said it (as the export names them), what, when."""

    speaker: str
    text: str
    time: datetime


@dataclass(frozen=True)
class Image:
    """An image a turn showed: its id in the export, how to read its bytes (or why they
    cannot be: not in the export, too large), and when it was shown."""

    ref: str
    read: Callable[[], bytes | str]
    time: datetime
    caption: str = ""


@dataclass
class Chat:
    """One conversation of an export."""

    source: str  # chatgpt, claude, transcript
    conversation_id: str
    title: str | None
    origin: str
    turns: list[Turn] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    session_id: str | None = None  # a transcript names its own
    agent: str | None = None


def safe_id(text: str) -> str:
    """An id as a session id may hold it; one with other characters by its hash."""
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,79}", text):
        return text
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:20]


def _file_name(ref: str, data: bytes) -> str:
    """The name an image is written under: an export's file id as it is; a path by its
    file's name and a hash of its bytes, so two `title.png` of two transcripts never
    overwrite each other in the images folder."""
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,79}", ref):
        return ref
    stem = safe_id(Path(ref.replace("\\", "/")).stem)
    return f"{stem}-{hashlib.sha256(data).hexdigest()[:8]}"


def _write_image(image: Image, folder: Path, max_bytes: int) -> tuple[str | None, str]:
    """The path written for an image, or None and why not."""
    data = image.read()
    if isinstance(data, str):
        return None, data
    if len(data) > max_bytes:
        return None, f"larger than {max_bytes:,} bytes"
    found = image_format(data)
    if found is None:
        return None, "not a PNG, JPEG, GIF, WebP or AVIF image"
    target = folder / f"{_file_name(image.ref, data)}{IMAGE_EXTENSIONS[found]}"
    if target.is_symlink():  # writing through it would overwrite whatever it points at
        return None, f"{target.name} in the images folder is a symbolic link; not written"
    folder.mkdir(parents=True, exist_ok=True)
    if not (target.is_file() and target.read_bytes() == data):
        partial = target.with_name(f".{target.name}.partial")
        partial.unlink(missing_ok=True)
        with partial.open("xb") as f:  # a new file, never one a link points at
            f.write(data)
        os.replace(partial, target)
    return target.as_posix(), ""


def sessions_of(
    chat: Chat,
    *,
    agent: str | None,
    images_to: Path,
    since: date | None,
    max_image_bytes: int,
) -> tuple[list[dict[str, Any]], list[str]]:
    """The sessions of one conversation, and notes on what was left out."""
    notes = [f"{chat.origin}: {n}" for n in chat.notes]
    days: dict[date, list[Turn]] = defaultdict(list)
    whole = chat.turns[0].time.date() if chat.session_id and chat.turns else None
    for turn in chat.turns:
        days[whole or turn.time.date()].append(turn)
    shots: dict[date, list[Image]] = defaultdict(list)
    for image in chat.images:
        shots[whole or image.time.date()].append(image)
    conversation = safe_id(chat.conversation_id)
    out = []
    for day in sorted(days):
        if since is not None and day < since:
            continue
        turns = days[day]
        session_id = chat.session_id or f"{chat.source}-{conversation}-{day.isoformat()}"
        record_notes: list[str] = []
        screenshots: list[Any] = []
        shown: set[str] = set()
        for image in shots.get(day, []):
            if image.ref in shown:
                continue  # shown again the same day: one screenshot
            shown.add(image.ref)
            written, why = _write_image(image, images_to, max_image_bytes)
            if written is None:
                record_notes.append(f"image {image.ref}: {why}")
                continue
            # without a caption of its own, the pipeline captions it with the title
            screenshots.append(
                {"path": written, "caption": image.caption} if image.caption else written
            )
        for note in chat.notes:
            record_notes.append(note)
        title = chat.title.strip() if chat.title and chat.title.strip() else None
        first, last = turns[0].time, turns[-1].time
        session: dict[str, Any] = {
            "session_id": session_id,
            "session_type": "life_aria",
            "timestamp": format_timestamp(first),
            "agent_id": agent or chat.agent or "user",
            "metadata": {
                "duration_minutes": max(int((last - first).total_seconds() // 60), 0),
                "screenshots_taken": len(screenshots),
            },
            "source_data": {
                "chat": {"export": chat.source, "conversation_id": chat.conversation_id},
                "conversations": [
                    {"source": t.speaker, "content": t.text, "timestamp": format_timestamp(t.time)}
                    for t in turns
                ],
            },
        }
        if title:
            session["title"] = title
        if screenshots:
            session["source_data"]["screenshots"] = screenshots
        if record_notes:
            session["source_data"]["capture_notes"] = record_notes
            notes.extend(f"{chat.origin}: {n}" for n in record_notes if n not in chat.notes)
        out.append(check(session, chat.origin))
    return out, notes
