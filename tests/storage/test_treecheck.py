"""Reading a tree's raw entries and judging their names: the quick ways give exactly what
the careful ways give, on hostile bytes too."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gitflywheel.storage import treecheck

MODES = [b"100644", b"40000", b"100755", b"160000", b"0100644", b"", b"9", b"12345678", b"1 2"]
NAMES = [b"a", b"facts.json", b"", b".git", b"GIT~1", b"a b", b"a/b", b"\xff", b"x\x01", b"."]

entry = st.tuples(
    st.sampled_from(MODES) | st.binary(max_size=8),
    st.sampled_from(NAMES) | st.binary(max_size=6),
    st.binary(min_size=0, max_size=24),
).map(lambda e: e[0] + b" " + e[1] + b"\0" + e[2])
whole = st.tuples(
    st.sampled_from(MODES[:4]),
    st.sampled_from(NAMES) | st.binary(max_size=6),
    st.binary(min_size=20, max_size=20),
).map(lambda e: e[0] + b" " + e[1].replace(b"\0", b"") + b"\0" + e[2])
trees = st.lists(whole | entry, max_size=6).map(b"".join) | st.binary(max_size=60)


def _outcome(parse: object, raw: bytes) -> object:
    try:
        return parse(raw)  # type: ignore[operator]
    except ValueError as exc:
        return f"ValueError: {exc}"


@given(trees)
def test_entries_read_at_once_are_those_read_one_by_one(raw: bytes) -> None:
    assert _outcome(treecheck.parse_entries, raw) == _outcome(treecheck._parse_slowly, raw)


def test_a_well_formed_tree_is_read_at_once() -> None:
    raw = b"100644 a b\0" + bytes(20) + b"40000 sub\0" + b"\x00" * 19 + b"\x01"
    assert treecheck.parse_entries(raw) == [
        (b"a b", 0o100644, b"0" * 40),
        (b"sub", 0o40000, b"0" * 38 + b"01"),
    ]


def _name_problems_slowly(name: bytes) -> list[str]:
    plain = treecheck._PLAIN_NAME
    try:
        treecheck._PLAIN_NAME = treecheck.re.compile(b"(?!)")  # matches nothing
        return treecheck.name_problems(name)
    finally:
        treecheck._PLAIN_NAME = plain


@given(
    st.sampled_from(NAMES)
    | st.binary(max_size=8)
    | st.from_regex(rb"[0-9A-Za-z._~-]{0,6}", fullmatch=True)
)
def test_plain_names_are_judged_as_every_name_is(name: bytes) -> None:
    assert treecheck.name_problems(name) == _name_problems_slowly(name)


def _displayed_slowly(name: bytes) -> str:
    """Every character of the name looked at: control and invisible ones escaped."""
    text = name.decode("utf-8", "backslashreplace")
    return "".join(
        treecheck._escape(c) if treecheck.unicodedata.category(c)[0] == "C" else c for c in text
    )


@given(
    st.sampled_from([*NAMES, b"a\x7fb", b"tab\there", b"\x1b[31m", "e\u202eb".encode()])
    | st.binary(max_size=8)
    | st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=8).map(str.encode)
    | st.text(max_size=6).map(str.encode)
)
def test_a_name_is_displayed_as_every_character_looked_at_shows_it(name: bytes) -> None:
    assert treecheck.display_name(name) == _displayed_slowly(name)


def test_an_ascii_control_character_is_escaped_in_a_displayed_name() -> None:
    assert treecheck.display_name(b"a\x7fb\x1b") == "a\\x7fb\\x1b"
    assert treecheck.display_name(b"plain-name.md") == "plain-name.md"
