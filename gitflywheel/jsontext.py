"""Strict JSON (RFC 8259) in and canonical JSON out.

Numbers with a fraction or exponent become `Decimal`, so money never picks up binary
floating-point noise; `NaN`, `Infinity`, repeated keys, bad UTF-8, lone surrogates and
absurd nesting are refused with a reason a person understands.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
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


_STRING_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')


def _may_hold_surrogate(text: str) -> bool:
    """Whether a parsed string of `text` may hold a lone surrogate: only a \\uD800 to
    \\uDFFF escape, or such a character in the text itself, makes one."""
    if "\\ud" in text or "\\uD" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _check_depth(value: Any) -> None:
    """Refuse nesting deeper than MAX_DEPTH, walking the containers only."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise JSONTextError(f"nesting deeper than {MAX_DEPTH} levels")
        children = item.values() if type(item) is dict else item
        stack.extend((c, depth + 1) for c in children if type(c) is dict or type(c) is list)


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
    if _may_hold_surrogate(text):
        _check_depth_and_text(value)
    elif type(value) is dict or type(value) is list:
        _check_depth(value)
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


_encode_string: Callable[[str], str] = json.encoder.encode_basestring
_NUMBER_MARK = "\x00"  # what a Decimal is written as at first: the string "\u0000"
_NUMBER_TOKEN = _encode_string(_NUMBER_MARK)
_FLOAT_TOKEN = re.compile(r"[:,\[]-?[0-9]+[.eE]")


def _compact(value: Any) -> str | None:
    """Canonical text through `json`'s C encoder, or None when the value holds a float
    or a string that the way Decimals are placed could mistake for one (the writer below
    takes those)."""
    if isinstance(value, float):
        return None
    numbers: list[str] = []

    def number(item: Any) -> str:
        if isinstance(item, Decimal):
            numbers.append(_number_text(item))
            return _NUMBER_MARK
        raise TypeError(f"not a JSON value: {type(item).__name__}")

    encoder = json.JSONEncoder(
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        allow_nan=False,
        check_circular=False,
        default=number,
    )
    try:
        text = encoder.encode(value)
    except ValueError:  # NaN or infinity: a float, which the writer spells its own way
        return None
    if _FLOAT_TOKEN.search(text) and _FLOAT_TOKEN.search(_STRING_TOKEN.sub('""', text)):
        return None
    if not numbers:
        return None if _NUMBER_TOKEN in text else text
    parts = text.split(_NUMBER_TOKEN)
    if len(parts) != len(numbers) + 1:
        return None
    return "".join(part + numbers[i] for i, part in enumerate(parts[:-1])) + parts[-1]


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return _encode_string(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return _number_text(value)
    if isinstance(value, float):
        return _number_text(Decimal(repr(value)))
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def _write(value: Any, out: list[str], indent: str | None, level: int) -> None:
    if isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = "" if indent is None else "\n" + indent * (level + 1)
        sep = ":" if indent is None else ": "
        out.append("{")
        first = True
        for key in sorted(value):
            item = value[key]
            head = ("" if first else ",") + inner + _encode_string(key) + sep
            first = False
            if type(item) is str:
                out.append(head + _encode_string(item))
            elif isinstance(item, (dict, list)):
                out.append(head)
                _write(item, out, indent, level + 1)
            else:
                out.append(head + _scalar(item))
        out.append(("" if indent is None else "\n" + indent * level) + "}")
    elif isinstance(value, list):
        if not value:
            out.append("[]")
            return
        inner = "" if indent is None else "\n" + indent * (level + 1)
        out.append("[")
        first = True
        for item in value:
            head = inner if first else "," + inner
            first = False
            if type(item) is str:
                out.append(head + _encode_string(item))
            elif isinstance(item, (dict, list)):
                out.append(head)
                _write(item, out, indent, level + 1)
            else:
                out.append(head + _scalar(item))
        out.append(("" if indent is None else "\n" + indent * level) + "]")
    else:
        out.append(_scalar(value))


def dumps_canonical(value: Any) -> str:
    """Canonical text: keys sorted, no insignificant white space, exact decimals.
    `value` is what `loads` gives or the like: dicts with string keys, lists, strings,
    ints, Decimals (floats are written as their exact shortest decimal), booleans, None."""
    text = _compact(value)
    if text is not None:
        return text
    out: list[str] = []
    _write(value, out, None, 0)
    return "".join(out)


def dumps_pretty(value: Any) -> str:
    """The same canonical content, indented for people, with a final newline."""
    out: list[str] = []
    _write(value, out, "  ", 0)
    out.append("\n")
    return "".join(out)
