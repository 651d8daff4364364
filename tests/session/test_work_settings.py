"""A work repository's own settings (`.gitflywheel.toml`, `[tool.gitflywheel]`): what
reads, and what is refused with its file, key and reason."""

from __future__ import annotations

import pytest

from gitflywheel.errors import InputError
from gitflywheel.session.work_settings import WorkSettings, parse_work_settings

TABLE = ("tool", "gitflywheel")


def test_every_key_reads() -> None:
    text = (
        'record = true\nbranches = ["main", "release/*"]\ndrafts = ["release/*"]\n'
        'min_commits = 3\nname = "Parser Works"\n'
    )
    found = parse_work_settings(text.encode(), ".gitflywheel.toml")
    assert found == WorkSettings(
        branches=["main", "release/*"], drafts=["release/*"], min_commits=3, name="Parser Works"
    )
    assert found.records("release/2") and not found.records("spike")
    assert found.is_draft("release/2", ("main",)) and not found.is_draft("main", ("main",))


def test_the_defaults() -> None:
    found = parse_work_settings(b"", ".gitflywheel.toml")
    assert found == WorkSettings()
    assert found.records("anything") and found.min_commits == 0
    assert found.is_draft("feature", ("main",)) and not found.is_draft("main", ("main",))


def test_a_pyproject_without_the_table_holds_none() -> None:
    assert parse_work_settings(b'[project]\nname = "x"\n', "pyproject.toml", TABLE) is None
    assert parse_work_settings(b"[project\n", "pyproject.toml", TABLE) is None  # not ours
    found = parse_work_settings(b"[tool.gitflywheel]\nrecord = false\n", "pyproject.toml", TABLE)
    assert found == WorkSettings(record=False)


@pytest.mark.parametrize(
    ("text", "table", "field", "reason"),
    [
        (b"recrod = false", (), "recrod", "not a setting"),
        (b'record = "no"', (), "record", "must be true or false"),
        (b'min_commits = "two"', (), "min_commits", "must be a whole number"),
        (b"min_commits = -1", (), "min_commits", "greater than or equal to 0"),
        (b'branches = "main"', (), "branches", "must be a list of branches"),
        (b"drafts = [1]", (), "drafts[0]", "must be a string"),
        (b'branches = [" main"]', (), "branches[0]", "no spaces around it"),
        (b'name = "me/tool"', (), "name", "would be shown as 'tool'"),
        (b'name = "a\\u202eb"', (), "name", "invisible direction"),
        (b"record = ", (), "", "not TOML"),
        (b"\xff", (), "", "not UTF-8"),
        (b"[tool]\ngitflywheel = 1", TABLE, "tool.gitflywheel", "must be a table"),
        (b"[tool.gitflywheel]\nmin_commits = 1.5", TABLE, "tool.gitflywheel.min_commits", "whole"),
        (b"[tool.gitflywheel\n", TABLE, "", "not TOML"),
    ],
)
def test_what_cannot_be_read_names_file_key_and_reason(
    text: bytes, table: tuple[str, ...], field: str, reason: str
) -> None:
    with pytest.raises(InputError) as caught:
        parse_work_settings(text, "the-file", table)
    assert caught.value.origin == "the-file" and caught.value.field == field
    assert reason in caught.value.reason
