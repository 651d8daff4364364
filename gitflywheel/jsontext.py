"""Strict JSON (RFC 8259) in and canonical JSON out.

Numbers with a fraction or exponent become `Decimal`, so money never picks up binary
floating-point noise; `NaN`, `Infinity`, repeated keys, bad UTF-8, lone surrogates and
absurd nesting are refused with a reason a person understands.

Both texts are written by orjson (Rust, sorted keys, the same escapes as `json`),
Decimals placed as they are written here, and taken only when they read back (through
msgspec) as the value written; what orjson would spell otherwise (a float, an integer
beyond 64 bits) goes to the writer in Python below, which is the definition.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec
import orjson

__all__ = [
    "JSONTextError",
    "MAX_DEPTH",
    "loads",
    "iter_lines",
    "dumps_canonical",
    "dumps_pretty",
    "dumps_pretty_read_back",
]

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


_MAX_INT_CHARS = 50  # the longest integer `loads` reads, its sign included


def _int(text: str) -> int | Decimal:
    if len(text) > _MAX_INT_CHARS:
        raise JSONTextError(f"number {text[:40]!r}... has too many digits")
    return int(text)


_DECODER = json.JSONDecoder(
    object_pairs_hook=_unique_object,
    parse_float=_decimal,
    parse_int=_int,
    parse_constant=_refuse_constant,
    strict=True,
)


def _may_hold_surrogate(text: str) -> bool:
    """Whether a parsed string of `text` may hold a lone surrogate: only a \\uD800 to
    \\uDFFF escape, or such a character in the text itself, makes one."""
    if "\\ud" in text or "\\uD" in text:
        return True
    if text.isascii():  # a surrogate is no ASCII character
        return False
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
    elif (type(value) is dict or type(value) is list) and _may_nest_too_deep(text):
        _check_depth(value)
    return value


def _may_nest_too_deep(text: str) -> bool:
    """Whether `text` holds enough brackets for nesting deeper than MAX_DEPTH: each
    level opens one, so text with fewer (most records and manifests) needs no walk."""
    return text.count("{") + text.count("[") > MAX_DEPTH


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
    done = _by_orjson(value, _COMPACT)
    if done is not None:
        return done[0]
    out: list[str] = []
    _write(value, out, None, 0)
    return "".join(out)


def dumps_pretty(value: Any) -> str:
    """The same canonical content, indented for people, with a final newline."""
    done = _by_orjson(value, _PRETTY)
    if done is not None:
        return done[0] + "\n"
    out: list[str] = []
    _write(value, out, "  ", 0)
    out.append("\n")
    return "".join(out)


_TOO_DEEP = "\n" + "  " * MAX_DEPTH  # the indentation of a value nested too deep


def dumps_pretty_read_back(value: Any) -> tuple[str, Any]:
    """`dumps_pretty`'s text and what `loads` reads from it, in one step: what a writer
    stores and then uses only as it reads back. Raises JSONTextError as `loads` would."""
    done = _by_orjson(value, _PRETTY)
    if done is None or _TOO_DEEP in done[0]:
        text = dumps_pretty(value)
        return text, loads(text)
    return done[0] + "\n", done[1]


# orjson writes what `_write` writes (the same escapes, keys in the same order, Decimals
# placed as `_write` spells them) except for a float, which it spells its own way, a
# non-finite float (null), a tuple (an array), an integer beyond 64 bits, a lone
# surrogate and nesting past 255 levels (both refused). Its text is therefore read
# back and taken only when that gives the very value written, with no number that has a
# fraction or exponent and that no Decimal wrote: a float.
_COMPACT = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_SUBCLASS
_PRETTY = _COMPACT | orjson.OPT_INDENT_2


def _by_orjson(value: Any, option: int) -> tuple[str, Any] | None:
    """orjson's text of a dict or list and what it reads back as (as `loads` reads it),
    or None when that text is not `_write`'s or `loads` would refuse it."""
    if type(value) is not dict and type(value) is not list:
        return None  # a lone value: nothing to gain
    written = 0  # Decimals written with a fraction
    long = False  # a value written as text longer than an integer `_int` reads

    def other(item: Any) -> Any:
        nonlocal written, long
        if isinstance(item, Decimal):
            text = _number_text(item)
            written += "." in text
            long = long or len(text) > _MAX_INT_CHARS
            return orjson.Fragment(text)
        if isinstance(item, dict):
            return dict(item)
        if isinstance(item, list):
            return list(item)
        text = _scalar(item)  # a subclass of str or int; else TypeError
        long = long or len(text) > _MAX_INT_CHARS
        return orjson.Fragment(text)

    read = 0  # numbers with a fraction or exponent read back

    def fraction(token: str) -> Decimal:
        nonlocal read
        read += 1
        return _decimal(token)

    try:
        text = orjson.dumps(value, default=other, option=option).decode("utf-8")
        # An integer orjson writes itself has at most 20 characters (64 bits), so unless
        # `other` wrote a longer one, every integer in the text is one `_int` reads as
        # `int` does: then msgspec reads the text (three times as fast as json, the same
        # values: ints as int, every fraction through `fraction`), else json with `_int`.
        if long:
            back = json.JSONDecoder(
                parse_float=fraction,
                parse_int=_int,
                parse_constant=_refuse_constant,
                strict=True,
            ).decode(text)
        else:
            back = msgspec.json.Decoder(float_hook=fraction).decode(text)
    except (TypeError, ValueError, RecursionError):  # orjson's, msgspec's, JSONTextError
        return None
    if read != written or back != value:
        return None
    return text, back
