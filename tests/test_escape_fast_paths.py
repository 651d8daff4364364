"""The escaping filters' fast paths give exactly what the whole way gives: `filters/1` is
frozen, so speed may never change a byte. The references are the filters as written
before the fast paths."""

from __future__ import annotations

import random
import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from gitflywheel import escape
from gitflywheel.escape import Escaped

# Mostly characters the fast paths take, with every kind they must leave to the whole way.
PLAIN = "abcXYZ019 ,.:;!?'\"()/%$@{}^éß日"
SPECIAL = "\\`*[]<>|~_&#-+=\t\n\r\x00\x1b\x85\u2028\u202e\u200b\ufeff１"
texts = st.text(alphabet=st.sampled_from(PLAIN * 4 + SPECIAL), max_size=40)


def published_reference(text: str) -> str:
    return escape._CONTROLS.sub("\ufffd", escape._BIDI.sub("", text))


def escape_line_reference(line: str) -> str:
    text = escape._ENTITY.sub(r"\\&", escape._INLINE.sub(r"\\\g<0>", line))
    if (
        escape._HEADING.match(text)
        or text.startswith(">")
        or escape._LIST.match(text)
        or escape._RULE.match(text)
    ):
        text = "\\" + text
    else:
        text = escape._ORDERED.sub(r"\1\\\2", text, count=1)
    return escape._CLOSING_HASHES.sub(lambda m: "\\" + m.group(0), text)


def md_inline_reference(value: Any) -> Escaped:
    return Escaped(escape_line_reference(published_reference(escape._one_line(str(value))).strip()))


def md_text_reference(value: Any) -> Escaped:
    lines = escape._LINE_BREAK.split(str(value))
    return Escaped(
        "\n".join(escape_line_reference(published_reference(line).strip()) for line in lines).strip(
            "\n"
        )
    )


def yaml_string_reference(value: Any) -> Escaped:
    out = []
    for ch in str(value):
        if ch in '"\\':
            out.append("\\" + ch)
        elif escape._yaml_plain(ch) and ch not in "<[]":
            out.append(ch)
        elif ord(ch) <= 0xFF:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return Escaped('"' + "".join(out) + '"')


def xml_text_reference(value: Any) -> Escaped:
    text = escape._XML_INVALID.sub("\ufffd", escape._BIDI.sub("", str(value)))
    return Escaped("".join(escape._XML_ENTITIES.get(ch, ch) for ch in text))


@given(texts)
def test_md_inline_fast_path_is_the_whole_way(text: str) -> None:
    assert escape.md_inline(text) == md_inline_reference(text)
    assert escape.md_inline(text) == md_inline_reference(text)  # as remembered
    long = text + "-" * escape._REMEMBERED  # past what is remembered
    assert escape.md_inline(long) == md_inline_reference(long)


@given(texts)
def test_md_text_fast_path_is_the_whole_way(text: str) -> None:
    assert escape.md_text(text) == md_text_reference(text)


@given(st.text(max_size=40) | texts)
def test_published_text_fast_path_is_the_whole_way(text: str) -> None:
    assert escape._published(text) == published_reference(text)


@given(texts)
def test_yaml_string_fast_path_is_the_whole_way(text: str) -> None:
    assert escape.yaml_string(text) == yaml_string_reference(text)


@given(st.text(max_size=40) | texts)
def test_xml_text_table_is_the_whole_way(text: str) -> None:
    assert escape.xml_text(text) == xml_text_reference(text)


def test_the_cases_the_fast_paths_must_hand_on() -> None:
    for text in ["1. item", "1) item", " lead", "trail ", "a  b", "==", "x_y", "a&amp;", "#1"]:
        assert escape.md_inline(text) == md_inline_reference(text), text
    for value in [12, -3, 1.5, None, True]:
        assert escape.md_inline(value) == md_inline_reference(value)
    for text in ['say "hi"', "a\\b", "<x>", "[y]", "tab\t", "ok > fine"]:
        assert escape.yaml_string(text) == yaml_string_reference(text), text


def test_plain_text_is_told_by_what_it_lacks() -> None:
    """`_plain_line` (scans for what plain text lacks) answers as the pattern of plain
    text does, on 200,000 strings of plain and special characters, spaces among them;
    and `_escape_line` skips `_INLINE` only for a line without one of its characters."""
    plain = re.compile(r"(?:[^\W_]|[,.:;!?'\"()/%$@{}^])+(?: (?:[^\W_]|[,.:;!?'\"()/%$@{}^])+)*")
    draw = random.Random(2)
    alphabet = PLAIN + "  " + SPECIAL + "—ー\u00a0²"
    found = 0
    for _ in range(200_000):
        text = "".join(draw.choice(alphabet) for _ in range(draw.randint(0, 8)))
        expected = plain.fullmatch(text) is not None
        assert escape._plain_line(text) == expected, text
        found += expected
        assert escape._escape_line(text) == escape_line_reference(text), text
    assert found > 10_000
