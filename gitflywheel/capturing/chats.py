"""`capture chat`: chat exports into life/Aria sessions. Finds the format of each export
from its content (a ChatGPT conversation has a `mapping`, a Claude.ai one
`chat_messages`; a `.md` file is a transcript), reads its conversations, keeps those
asked for, and makes their sessions (`conversation.py`)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

from ..errors import InputError
from . import chatgpt, claude, transcript
from .archive import Export
from .conversation import Chat, sessions_of
from .result import CapturedSessions

__all__ = ["capture_chats"]


def _chats(path: Path, max_image_bytes: int) -> Iterator[Chat]:
    """The conversations of one export, the export kept open while each is used (its
    images are read when they are written)."""
    if path.suffix.lower() in (".md", ".markdown"):
        yield transcript.read(path, max_image_bytes)
        return
    export = Export(path)
    try:
        for name in export.files:
            conversations = export.conversations(name)
            if not conversations:
                continue
            first = conversations[0]
            if chatgpt.looks_like(first):
                yield from chatgpt.read(export, name, conversations, max_image_bytes)
            elif claude.looks_like(first):
                yield from claude.read(export, name, conversations)
            else:
                raise InputError(
                    f"{export.origin(name)}: conversation 1",
                    "",
                    "neither a ChatGPT conversation (mapping) nor a Claude.ai one (chat_messages)",
                )
    finally:
        export.close()


def capture_chats(
    paths: Iterable[str | os.PathLike[str]],
    *,
    since: date | None = None,
    conversations: Iterable[str] = (),
    agent: str | None = None,
    images_to: str | os.PathLike[str] = "chat-images",
    max_image_bytes: int,
) -> CapturedSessions:
    """Life/Aria sessions from chat exports: per conversation (in export order) and day."""
    wanted = set(conversations)
    names = [Path(p) for p in paths]
    if not names:
        raise InputError("capture chat", "", "no export given")
    result = CapturedSessions()
    matched: set[str] = set()
    seen: dict[str, dict[str, Any]] = {}
    for path in names:
        for chat in _chats(path, max_image_bytes):
            if wanted and chat.conversation_id not in wanted:
                continue
            matched.add(chat.conversation_id)
            if not chat.turns:
                result.notes.append(f"{chat.origin}: no turns on its current branch; left out")
                continue
            sessions, notes = sessions_of(
                chat,
                agent=agent,
                images_to=Path(images_to),
                since=since,
                max_image_bytes=max_image_bytes,
            )
            for session in sessions:
                kept = seen.get(session["session_id"])
                if kept is None:
                    seen[session["session_id"]] = session
                    result.sessions.append(session)
                elif kept != session:
                    raise InputError(
                        chat.origin,
                        "",
                        f"makes session {session['session_id']} unlike another export given "
                        "makes it; capture one export at a time",
                    )
            result.notes.extend(notes)
    for missing in sorted(wanted - matched):
        raise InputError("--conversation", "", f"{missing[:80]!r} is not in these exports")
    if not result.sessions:
        raise InputError(
            ", ".join(map(str, names)),
            "",
            "no conversation to make a session of"
            + ("; " + "; ".join(result.notes) if result.notes else ""),
        )
    return result
