"""Canonical JSON through orjson is byte for byte what the hand-written
writer made (tests/jsontext_reference.py), and `loads` refuses exactly what it refused."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import jsontext_reference as reference
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitflywheel.jsontext import (
    JSONTextError,
    dumps_canonical,
    dumps_pretty,
    dumps_pretty_read_back,
    loads,
)

# Strings that a fast path must not confuse with its own marks: NUL alone, quotes and
# backslashes around it, digits after separators as a float would look.
tricky_text = st.sampled_from(
    ["\x00", '"\x00', '\x00"', "\\", "a:1.5", "1,817.50", "[2e5", "é", "\u2028", "😀", ""]
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**60), max_value=10**60)
    | st.text()
    | tricky_text
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.decimals(allow_nan=False, allow_infinity=False, places=4)
    | st.floats(allow_nan=False, allow_infinity=False)
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.text(max_size=8) | tricky_text, children, max_size=5)
    ),
    max_leaves=30,
)


@given(values)
def test_canonical_and_pretty_text_are_the_writers(value: Any) -> None:
    assert dumps_canonical(value) == reference.dumps_canonical(value)
    assert dumps_pretty(value) == reference.dumps_pretty(value)


@pytest.mark.parametrize(
    "value",
    [
        {"b": Decimal("175.50"), "a": [Decimal("1E+2"), Decimal("-0.000100"), Decimal("25.00")]},
        {"x": 1.0, "y": 1e20, "z": -2.5e-7},
        {"n": 10**40, "s": 'caf\u00e9 \u2603 \x00 " \\ \n', "e": {}, "l": []},
        {"\x00": "\x00", "k": ["\x00", Decimal("1.5"), "\x00"]},
        [Decimal("0.1"), '"\x00', Decimal("2")],
        1.5,
        Decimal("3.0"),
        "\x00",
    ],
)
def test_edge_cases_are_written_as_before(value: Any) -> None:
    assert dumps_canonical(value) == reference.dumps_canonical(value)
    assert dumps_pretty(value) == reference.dumps_pretty(value)


def _read(parse: Any, text: str) -> str:
    """What a parser makes of a text, types and reasons included, as text to compare."""
    try:
        return repr(parse(text))
    except JSONTextError as exc:
        return f"refused: {exc}"


def _read_back(value: Any) -> str:
    """What writing and reading back at once gives, as `_read` tells it."""
    try:
        text, back = dumps_pretty_read_back(value)
    except JSONTextError as exc:
        return f"refused: {exc}"
    assert text == dumps_pretty(value)
    return repr(back)


@given(values)
def test_reading_back_indented_text_gives_what_loads_gives(value: Any) -> None:
    text = dumps_pretty(value)
    assert _read_back(value) == _read(loads, text)


class _Int(int):
    """An int subclass: written by jsontext itself, not by orjson."""


@pytest.mark.parametrize(
    "value",
    [
        {"big": 10**60, "fine": 10**49},
        {"tiny": Decimal("1E-450"), "huge": Decimal("1E+450")},
        {"control": "\x01\x1f", "nul": "\x00"},
        [[[[["deep"]]]]] * 2,
        {"n": Decimal("-0.5"), "i": -3, "z": 0},
        # integers written as text of their own, around the longest `loads` reads (50)
        {"at": Decimal("1E+49"), "over": Decimal("1E+50")},
        {"at": Decimal("-1E+48"), "over": Decimal("-1E+49")},
        {"subclass": _Int(10**49), "plain": 7},
        {"subclass": _Int(10**50), "plain": 7},
        [_Int(-(10**49))],
        # keys out of order (read back sorted), Decimals spelled as they print or not,
        # a float among Decimals (read back as a Decimal), a Decimal out of range
        {"b": 1, "a": {"d": Decimal("0.5"), "c": None}},
        {"money": Decimal("175.5"), "rate": Decimal("-0.125"), "n": [1, True, None, "x"]},
        {"money": Decimal("175.50"), "whole": Decimal("25.00")},
        {"whole": Decimal("5"), "e": Decimal("1.5E+3"), "small": Decimal("0.0001")},
        {"float": 0.5, "decimal": Decimal("0.5")},
        {"tiny": Decimal("1.5E-401")},
    ],
)
def test_reading_back_edge_cases(value: Any) -> None:
    assert _read_back(value) == _read(loads, dumps_pretty(value))


def test_reading_back_refuses_nesting_as_loads_does() -> None:
    value: Any = "leaf"
    for _ in range(70):
        value = [value]
    assert _read_back(value) == _read(loads, dumps_pretty(value))
    assert _read_back(value).startswith("refused: nesting deeper than 64")


def test_what_is_not_json_is_refused_as_before() -> None:
    for value in ({"a": object()}, [Decimal("1"), {1, 2}]):
        with pytest.raises(TypeError):
            reference.dumps_canonical(value)
        with pytest.raises(TypeError):
            dumps_canonical(value)


def _reference_loads(text: str) -> Any:
    """`loads` as it was: the same parser, then the walk over every value."""
    from gitflywheel import jsontext

    try:
        value = jsontext._DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise JSONTextError(exc.msg, f"line {exc.lineno} column {exc.colno}") from exc
    except RecursionError as exc:
        raise JSONTextError(f"nesting deeper than {jsontext.MAX_DEPTH} levels") from exc
    except JSONTextError:
        raise
    except ValueError as exc:
        raise JSONTextError(str(exc)) from exc
    reference.check_depth_and_text(value)
    return value


json_texts = st.one_of(
    values.map(lambda v: reference.dumps_canonical(v)),
    st.integers(min_value=1, max_value=80).map(lambda n: "[" * n + "]" * n),
    st.integers(min_value=1, max_value=80).map(lambda n: '{"a":' * n + "1" + "}" * n),
    st.sampled_from(
        ['"\\ud800"', '["\\uDFFF"]', '{"\\ud83d\\ude00":1}', '"\\\\ud800"', '["\\ud83d"]']
    ),
    st.tuples(st.integers(min_value=60, max_value=70), st.sampled_from(['"\\ud800"', "1"])).map(
        lambda p: "[" * p[0] + p[1] + "]" * p[0]
    ),
)


@given(json_texts)
def test_loads_refuses_what_it_refused(text: str) -> None:
    try:
        expected: Any = _reference_loads(text)
    except JSONTextError as exc:
        expected = str(exc)
    try:
        got: Any = loads(text)
    except JSONTextError as exc:
        got = str(exc)
    assert got == expected
