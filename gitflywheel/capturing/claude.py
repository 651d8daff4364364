"""Claude.ai's data export: `conversations.json`, a list of conversations, each with
`uuid`, `name`, `created_at` and `chat_messages` in order: `sender` (`human` or
`assistant`), `created_at` (ISO 8601), the text in `content` blocks of type `text` (else
`text`); thinking and tool blocks are left out. Attachments and images are not in the
export: their file names are kept as notes in the record."""

from __future__ import annotations

from typing import Any

from ..errors import InputError
from ..session.models import parse_timestamp
from .archive import Export
from .conversation import Chat, Turn

__all__ = ["looks_like", "read"]


def looks_like(conversation: Any) -> bool:
    return isinstance(conversation, dict) and "chat_messages" in conversation


def _text(message: dict[str, Any], origin: str, where: str) -> str:
    blocks = message.get("content")
    if blocks is not None and not isinstance(blocks, list):
        raise InputError(origin, f"{where}.content", "not a list")
    if blocks:
        texts = []
        for n, block in enumerate(blocks):
            if not isinstance(block, dict):
                raise InputError(origin, f"{where}.content[{n}]", "not an object")
            if block.get("type") == "text" and isinstance(block.get("text"), str):
                texts.append(block["text"])
        return "\n\n".join(t for t in texts if t.strip()).strip()
    text = message.get("text")
    if text is not None and not isinstance(text, str):
        raise InputError(origin, f"{where}.text", "not a string")
    return (text or "").strip()


def _chat(conv: Any, origin: str) -> Chat:
    if not isinstance(conv, dict):
        raise InputError(origin, "", "not an object")
    conv_id = conv.get("uuid")
    if not isinstance(conv_id, str) or not conv_id.strip():
        raise InputError(origin, "uuid", "missing")
    origin = f"{origin} ({conv_id[:60]})"
    name = conv.get("name")
    chat = Chat("claude", conv_id, name if isinstance(name, str) else None, origin)
    messages = conv.get("chat_messages")
    if not isinstance(messages, list):
        raise InputError(origin, "chat_messages", "not a list")
    for n, message in enumerate(messages):
        where = f"chat_messages[{n}]"
        if not isinstance(message, dict):
            raise InputError(origin, where, "not an object")
        sender = message.get("sender")
        if not isinstance(sender, str) or not sender.strip():
            raise InputError(origin, f"{where}.sender", "missing")
        created = message.get("created_at")
        if not isinstance(created, str):
            raise InputError(origin, f"{where}.created_at", "missing")
        try:
            moment = parse_timestamp(created)
        except ValueError as exc:
            raise InputError(origin, f"{where}.created_at", str(exc)) from None
        for key in ("attachments", "files"):
            items = message.get(key)
            if items is None:
                continue
            if not isinstance(items, list):
                raise InputError(origin, f"{where}.{key}", "not a list")
            for item in items:
                file_name = item.get("file_name") if isinstance(item, dict) else None
                if isinstance(file_name, str) and file_name.strip():
                    chat.notes.append(
                        f"{where}: {file_name.strip()[:200]} was shown but is not in the export"
                    )
        text = _text(message, origin, where)
        if text:
            chat.turns.append(Turn(sender.strip(), text, moment))
    return chat


def read(export: Export, name: str, conversations: list[Any]) -> list[Chat]:
    """The conversations of one Claude.ai conversations file."""
    return [
        _chat(conv, f"{export.origin(name)}: conversation {n}")
        for n, conv in enumerate(conversations, start=1)
    ]
