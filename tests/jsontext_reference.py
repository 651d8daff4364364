"""The canonical JSON writer and the text checks of `loads` as they were written by
hand, kept as the reference the faster `gitflywheel.jsontext` must match byte for byte."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from gitflywheel.jsontext import MAX_DEPTH, JSONTextError


def _number_text(value: Decimal) -> str:
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


_STRING = json.JSONEncoder(ensure_ascii=False)


def _write(value: Any, out: list[str], indent: str | None, level: int) -> None:
    if isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = "" if indent is None else "\n" + indent * (level + 1)
        sep = ":" if indent is None else ": "
        out.append("{")
        for i, key in enumerate(sorted(value)):
            out.append(("," if i else "") + inner + _STRING.encode(key) + sep)
            _write(value[key], out, indent, level + 1)
        out.append(("" if indent is None else "\n" + indent * level) + "}")
    elif isinstance(value, list):
        if not value:
            out.append("[]")
            return
        inner = "" if indent is None else "\n" + indent * (level + 1)
        out.append("[")
        for i, item in enumerate(value):
            out.append(("," if i else "") + inner)
            _write(item, out, indent, level + 1)
        out.append(("" if indent is None else "\n" + indent * level) + "]")
    elif isinstance(value, str):
        out.append(_STRING.encode(value))
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif value is None:
        out.append("null")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, Decimal):
        out.append(_number_text(value))
    elif isinstance(value, float):
        out.append(_number_text(Decimal(repr(value))))
    else:
        raise TypeError(f"not a JSON value: {type(value).__name__}")


def dumps_canonical(value: Any) -> str:
    out: list[str] = []
    _write(value, out, None, 0)
    return "".join(out)


def dumps_pretty(value: Any) -> str:
    out: list[str] = []
    _write(value, out, "  ", 0)
    out.append("\n")
    return "".join(out)


def check_depth_and_text(value: Any) -> None:
    """What `loads` refused after parsing: deep nesting and lone surrogates."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > MAX_DEPTH:
                raise JSONTextError(f"nesting deeper than {MAX_DEPTH} levels")
            for key, child in item.items():
                _check_text(key)
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            if depth > MAX_DEPTH:
                raise JSONTextError(f"nesting deeper than {MAX_DEPTH} levels")
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str):
            _check_text(item)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise JSONTextError("a string holds a lone surrogate escape, which is not Unicode") from exc
