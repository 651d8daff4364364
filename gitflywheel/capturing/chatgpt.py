"""ChatGPT's data export: the conversations of `conversations.json` (or its split files
`conversations-NNN.json`), in a ZIP or taken out of it.

A conversation is a tree (`mapping`: node id -> `{message, parent, children}`): a
regenerated or edited answer is a second branch. The conversation as it was left is the
path from `current_node` up through `parent` to the root, read root first. Left out:
system messages, tool messages (but for the images an image generator made), messages
to a tool (`recipient` other than `all`), hidden ones
(`metadata.is_visually_hidden_from_conversation`), the model's reasoning (`thoughts`,
`reasoning_recap`) and context notes. `create_time` is seconds since the epoch (UTC).
An `image_asset_pointer` part (`file-service://file-…` or `sediment://file_…`) is an image
of the export: the file whose name starts with that id (`file-…-name.png`, or a `.dat`
file), judged by its content.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ..errors import InputError
from .archive import Export
from .conversation import Chat, Image, Turn

__all__ = ["looks_like", "read"]

_SPOKEN = ("text", "multimodal_text", "code")


def looks_like(conversation: Any) -> bool:
    return isinstance(conversation, dict) and "mapping" in conversation


def _time(value: Any, origin: str, field: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal | float):
        raise InputError(origin, field, "must be seconds since the epoch (a number)")
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (OverflowError, OSError, ValueError):
        hint = ""
        if 1e11 <= abs(float(value)) < 1e14:  # 2001 to 2286 in milliseconds
            hint = ": seconds since the epoch are wanted, and this reads as milliseconds"
        raise InputError(origin, field, f"{value} is out of range{hint}") from None


def _branch(conv: dict[str, Any], origin: str) -> list[dict[str, Any]]:
    mapping = conv.get("mapping")
    if not isinstance(mapping, dict):
        raise InputError(origin, "mapping", "missing or not an object")
    node_id = conv.get("current_node")
    if not isinstance(node_id, str) or node_id not in mapping:
        raise InputError(origin, "current_node", "missing, or not a node of mapping")
    path: list[dict[str, Any]] = []
    seen: set[str] = set()
    while node_id is not None:
        if node_id in seen:
            raise InputError(origin, f"mapping.{node_id[:40]}.parent", "loops back")
        seen.add(node_id)
        node = mapping.get(node_id)
        if not isinstance(node, dict):
            raise InputError(origin, f"mapping.{node_id[:40]}", "missing or not an object")
        path.append(node)
        parent = node.get("parent")
        if parent is not None and not isinstance(parent, str):
            raise InputError(origin, f"mapping.{node_id[:40]}.parent", "not a node id")
        node_id = parent
    path.reverse()
    return path


def _pointer_id(pointer: str) -> str:
    for scheme in ("file-service://", "sediment://"):
        if pointer.startswith(scheme):
            return pointer[len(scheme) :].split("?", 1)[0]  # ?shared_conversation_id=…
    return ""


def _reader(export: Export, member: str | None, limit: int) -> Callable[[], bytes | str]:
    """How an image of the export is read when it is written."""
    if member is None:
        return lambda: "not in the export"
    return lambda: export.member(member, limit)


def _chat(conv: Any, origin: str, export: Export, max_image_bytes: int) -> Chat:
    if not isinstance(conv, dict):
        raise InputError(origin, "", "not an object")
    conv_id = conv.get("conversation_id") or conv.get("id")
    if not isinstance(conv_id, str) or not conv_id.strip():
        raise InputError(origin, "conversation_id", "missing")
    origin = f"{origin} ({conv_id[:60]})"
    title = conv.get("title")
    created = _time(conv.get("create_time"), origin, "create_time")
    chat = Chat("chatgpt", conv_id, title if isinstance(title, str) else None, origin)
    last = created
    for node in _branch(conv, origin):
        message = node.get("message")
        if message is None:
            continue
        where = f"mapping.{str(node.get('id', ''))[:40]}.message"
        if not isinstance(message, dict):
            raise InputError(origin, where, "not an object")
        author = message.get("author")
        role = author.get("role") if isinstance(author, dict) else None
        if role not in ("user", "assistant", "tool"):
            continue  # system, or none
        metadata = message.get("metadata")
        if isinstance(metadata, dict) and metadata.get("is_visually_hidden_from_conversation"):
            continue
        if message.get("recipient") not in (None, "all"):
            continue
        content = message.get("content")
        if role == "tool" and not (
            isinstance(content, dict) and content.get("content_type") == "multimodal_text"
        ):
            continue  # a tool's output is no turn; only the images it made (DALL·E) are kept
        if not isinstance(content, dict):
            raise InputError(origin, f"{where}.content", "missing or not an object")
        kind = content.get("content_type")
        if kind not in _SPOKEN:
            continue
        moment = _time(message.get("create_time"), origin, f"{where}.create_time") or last
        if moment is None:
            raise InputError(origin, f"{where}.create_time", "missing, and no earlier time")
        last = moment
        texts: list[str] = []
        if kind == "code":
            text = content.get("text")
            if isinstance(text, str):
                texts.append(f"```\n{text}\n```")
        parts = content.get("parts") if kind != "code" else []
        if not isinstance(parts, list):
            raise InputError(origin, f"{where}.content.parts", "not a list")
        for n, part in enumerate(parts):
            if isinstance(part, str):
                if part.strip():
                    texts.append(part)
            elif isinstance(part, dict) and part.get("content_type") == "image_asset_pointer":
                pointer = part.get("asset_pointer")
                stem = _pointer_id(pointer) if isinstance(pointer, str) else ""
                if not stem:
                    chat.notes.append(f"{where}.content.parts[{n}]: an image with no file id")
                    continue
                member = export.find(stem)
                chat.images.append(Image(stem, _reader(export, member, max_image_bytes), moment))
        text = "\n\n".join(texts).strip()
        if text and role != "tool":
            chat.turns.append(Turn(role, text, moment))
    return chat


def read(export: Export, name: str, conversations: list[Any], max_image_bytes: int) -> list[Chat]:
    """The conversations of one ChatGPT conversations file."""
    return [
        _chat(conv, f"{export.origin(name)}: conversation {n}", export, max_image_bytes)
        for n, conv in enumerate(conversations, start=1)
    ]
