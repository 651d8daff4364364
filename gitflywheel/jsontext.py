"""Strict JSON (RFC 8259) in and canonical JSON out.

Numbers with a fraction or exponent become `Decimal`, so money never picks up binary
floating-point noise; `NaN`, `Infinity`, repeated keys, bad UTF-8, lone surrogates and
absurd nesting are refused with a reason a person understands.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["JSONTextError", "MAX_DEPTH", "loads", "iter_lines", "dumps_canonical", "dumps_pretty"]

MAX_DEPTH = 64
_MAX_EXPONENT = 400


class JSONTextError(ValueError):
    """Text that is not strict JSON; `where` locates it (line:column) when known."""

    def __init__(self, reason: str, where: str = "") -> None:
        self.reason = reason
        self.where = where
        super().__init__(f"{reason} at {where}" if where else reason)


def _refuse_constant(name: str) -> Any:
    raise JSONTextError(f"{name} is not JSON")


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise JSONTextError(f"repeated key {key!r} in one object")
        obj[key] = value
    return obj


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the scanner only passes numbers
        raise JSONTextError(f"bad number {text!r}") from exc
    exponent = value.adjusted()
    if exponent > _MAX_EXPONENT or exponent < -_MAX_EXPONENT:
        raise JSONTextError(f"number {text[:40]!r} is out of range")
    return value


def _int(text: str) -> int | Decimal:
    if len(text) > 50:
        raise JSONTextError(f"number {text[:40]!r}... has too many digits")
    return int(text)


_DECODER = json.JSONDecoder(
    object_pairs_hook=_unique_object,
    parse_float=_decimal,
    parse_int=_int,
    parse_constant=_refuse_constant,
    strict=True,
)


def _check_depth_and_text(value: Any) -> None:
    """Refuse nesting deeper than MAX_DEPTH and strings that are not valid Unicode."""
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


def decode_utf8(data: bytes) -> str:
    """Decode UTF-8, ignoring one leading byte order mark as RFC 8259 allows."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JSONTextError(f"not UTF-8 (byte {exc.start})") from exc
    return text[1:] if text.startswith("\ufeff") else text


def loads(text: str) -> Any:
    """Parse one strict JSON text."""
    if not text.strip():
        raise JSONTextError("empty: no JSON value")
    try:
        value = _DECODER.decode(text)
    except JSONTextError:
        raise
    except json.JSONDecodeError as exc:
        raise JSONTextError(exc.msg, f"line {exc.lineno} column {exc.colno}") from exc
    except RecursionError as exc:
        raise JSONTextError(f"nesting deeper than {MAX_DEPTH} levels") from exc
    except ValueError as exc:  # int digit limits and similar
        raise JSONTextError(str(exc)) from exc
    _check_depth_and_text(value)
    return value


def iter_lines(text: str) -> Iterator[tuple[int, Any | JSONTextError]]:
    """JSON Lines: yield (line number, value or error) for each non-blank line."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, loads(line)
        except JSONTextError as exc:
            yield number, exc


def _number_text(value: Decimal) -> str:
    """Shortest exact decimal text: 175.50 -> 175.5, 25.00 -> 25, 1E+2 -> 100."""
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
    """Canonical text: keys sorted, no insignificant white space, exact decimals."""
    out: list[str] = []
    _write(value, out, None, 0)
    return "".join(out)


def dumps_pretty(value: Any) -> str:
    """The same canonical content, indented for people, with a final newline."""
    out: list[str] = []
    _write(value, out, "  ", 0)
    out.append("\n")
    return "".join(out)
