"""Reading input files: a JSON Lines file streams a line at a time, and says exactly what
reading it whole says (the same documents, origins, line numbers and errors)."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitflywheel.recording.inputs import InputItem, _from_text, read_inputs

# Pieces that make lines, blank lines, bad JSON, line breaks of every kind that
# `str.splitlines` knows, a byte order mark, and bytes that are not UTF-8.
PIECES = st.sampled_from(
    [
        b'{"a": 1}',
        b'{"b": "x\xe2\x80\xa8y"}',  # U+2028 inside a string: splitlines breaks it
        b"[1, 2]",
        b"{bad",
        b"   ",
        b"\n",
        b"\r\n",
        b"\r",
        b"\x0b",
        b"\x1c",
        b"\xc2\x85",
        b"\xef\xbb\xbf",
        b"\xff",
        b"\xe2\x82",  # a character cut short
        b'"\xc3\xa9"',
    ]
)


def _seen(items: list[InputItem]) -> list[tuple[str, object, str | None]]:
    return [
        (i.origin, json.dumps(i.value, default=str), None if i.error is None else str(i.error))
        for i in items
    ]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(PIECES, max_size=30))
def test_streamed_lines_read_as_the_whole_text(tmp_path: Path, pieces: list[bytes]) -> None:
    data = b"".join(pieces)
    path = tmp_path / "s.jsonl"
    path.write_bytes(data)
    streamed = list(read_inputs([str(path)]))
    whole = list(_from_text(str(path), tmp_path.resolve(), data, True))
    assert _seen(streamed) == _seen(whole)
    assert all(item.base_dir == tmp_path.resolve() for item in streamed)


def test_a_bad_byte_anywhere_refuses_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    good = b'{"session_id": "one"}\n'
    path.write_bytes(good * 3 + b'{"session_id": "\xff"}\n' + good)
    items = list(read_inputs([str(path)]))
    assert len(items) == 1
    assert items[0].value is None
    assert f"not UTF-8 (byte {len(good) * 3 + 16})" in str(items[0].error)
