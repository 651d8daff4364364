"""Bad input: exit 2, one line per problem naming file, field and reason, never a
traceback, and the store byte for byte as it was."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli, session, snapshot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitflywheel.jsontext import JSONTextError, loads


@pytest.fixture()
def ready(cli: Cli, store: Path, tmp_path: Path) -> Path:
    """A store that already holds one session."""
    path = tmp_path / "first.json"
    path.write_text(json.dumps(session("first")))
    assert cli("ingest", "--repo", store, path).exit_code == 0
    return store


def refuse(cli: Cli, store: Path, path: Path, *expected: str) -> list[str]:
    before = snapshot(store)
    result = cli("ingest", "--repo", store, path)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    for text in expected:
        assert any(text in line for line in errors), (text, errors)
    assert all(line.startswith(f"error: {path}") for line in errors)
    assert snapshot(store) == before
    return errors


TEXT_CASES = {
    "not_json": (b"hello", "not valid JSON: Expecting value at line 1 column 1"),
    "empty": (b"", "not valid JSON: empty: no JSON value"),
    "blank": (b"  \n ", "not valid JSON: empty: no JSON value"),
    "empty_array": (b"[]", "empty array: no session in it"),
    "nan": (b'{"session_id": NaN}', "NaN is not JSON"),
    "infinity": (b'{"a": -Infinity}', "-Infinity is not JSON"),
    "repeated_key": (b'{"session_id": "a", "session_id": "b"}', "repeated key 'session_id'"),
    "bad_utf8": (b'{"session_id": "\xff"}', "not UTF-8"),
    "lone_surrogate": (b'{"title": "\\ud800"}', "lone surrogate"),
    "deep": (b"[" * 100_000 + b"]" * 100_000, "nesting deeper than 64 levels"),
    "trailing": (b'{"a": 1} x', "Extra data"),
    "scalar": (b"42", "(session): must be a JSON object, not a number"),
    "huge_number": (b'{"n": 1e999999}', "out of range"),
}


@pytest.mark.parametrize("name", sorted(TEXT_CASES))
def test_text_that_is_not_a_session(cli: Cli, ready: Path, tmp_path: Path, name: str) -> None:
    data, expected = TEXT_CASES[name]
    path = tmp_path / f"{name}.json"
    path.write_bytes(data)
    refuse(cli, ready, path, expected)


def field_case(**changes: Any) -> dict[str, Any]:
    data = session("bad-1")
    for key, value in changes.items():
        if value is ...:
            data.pop(key)
        else:
            data[key] = value
    return data


FIELD_CASES: dict[str, tuple[dict[str, Any], str]] = {
    "id_missing": (field_case(session_id=...), "session_id: is required"),
    "id_escape": (field_case(session_id="../x"), "session_id: must be 1 to 128 characters"),
    "id_slash": (field_case(session_id="a/b"), "session_id: must be 1 to 128 characters"),
    "id_dotgit": (field_case(session_id=".git"), "session_id: must be 1 to 128 characters"),
    "id_nul": (field_case(session_id="a\u0000b"), "session_id: must be 1 to 128 characters"),
    "id_dash": (field_case(session_id="-x"), "session_id: must be 1 to 128 characters"),
    "id_long": (field_case(session_id="a" * 129), "session_id: must be 1 to 128 characters"),
    "id_empty": (field_case(session_id=""), "session_id: must be 1 to 128 characters"),
    "id_number": (field_case(session_id=7), "session_id: Input should be a valid string"),
    "type_missing": (field_case(session_type=...), "session_type: is required"),
    "type_unknown": (
        field_case(session_type="party"),
        "session_type: must be one of 'build', 'trade', 'life_aria'",
    ),
    "time_missing": (field_case(timestamp=...), "timestamp: is required"),
    "time_words": (
        field_case(timestamp="yesterday"),
        "timestamp: 'yesterday' is not an ISO 8601 date-time",
    ),
    "time_date_only": (
        field_case(timestamp="2025-12-02"),
        "timestamp: '2025-12-02' is a date; a date-time needs a time too",
    ),
    "time_number": (field_case(timestamp=1733100000), "timestamp: must be a string"),
    "agent_missing": (field_case(agent_id=...), "agent_id: is required"),
    "agent_empty": (field_case(agent_id=""), "agent_id: must be 1 to 128 printable characters"),
    "agent_newline": (
        field_case(agent_id="a\nb"),
        "agent_id: must be 1 to 128 printable characters",
    ),
    "title_list": (field_case(title=["x"]), "title: Input should be a valid string"),
    "metadata_list": (field_case(metadata=[1]), "metadata: Input should be a valid dictionary"),
    "counter_text": (
        field_case(metadata={"commits": "3"}),
        "metadata.commits: Input should be a valid integer",
    ),
    "counter_fraction": (
        field_case(metadata={"duration_minutes": 1.5}),
        "metadata.duration_minutes: Input should be a valid integer",
    ),
    "counter_bool": (
        field_case(metadata={"files_changed": True}),
        "metadata.files_changed: Input should be a valid integer",
    ),
    "source_text": (
        field_case(source_data="repo"),
        "source_data: Input should be a valid dictionary",
    ),
    "repo_path_number": (
        field_case(source_data={"repo_path": 1}),
        "source_data.repo_path: Input should be a valid string",
    ),
    "commit_no_message": (
        field_case(source_data={"git_commits": [{"hash": "abc"}]}),
        "source_data.git_commits[0].message: is required",
    ),
    "commit_files_text": (
        field_case(source_data={"git_commits": [{"message": "m", "files": "a.py"}]}),
        "source_data.git_commits[0].files: Input should be a valid list",
    ),
    "screenshots_text": (
        field_case(source_data={"screenshots": "a.png"}),
        "source_data.screenshots: Input should be a valid list",
    ),
    "conversation_no_content": (
        field_case(source_data={"conversations": [{"source": "aria"}]}),
        "source_data.conversations[0].content: is required",
    ),
    "market_list": (
        field_case(source_data={"market_conditions": []}),
        "source_data.market_conditions: Input should be a valid dictionary",
    ),
    "lessons_text": (field_case(lessons="be careful"), "lessons: Input should be a valid list"),
    "lesson_no_title": (
        field_case(lessons=[{"description": "d"}]),
        "lessons[0].title: is required",
    ),
    "next_steps_numbers": (
        field_case(next_steps=[1]),
        "next_steps[0]: Input should be a valid string",
    ),
    "what_worked_list": (
        field_case(what_worked=["x"]),
        "what_worked: Input should be a valid string",
    ),
}

TRADE = {
    "symbol": "AAPL",
    "action": "buy",
    "quantity": 1,
    "price": 1,
    "timestamp": "2025-12-02T03:00:00Z",
}
for key, value, reason in [
    ("action", "hold", "action: Input should be 'buy' or 'sell'"),
    ("quantity", 0, "quantity: Input should be greater than 0"),
    ("quantity", "1", "quantity: must be a JSON number"),
    ("price", -1, "price: Input should be greater than or equal to 0"),
    ("price", None, "price: must be a JSON number"),
    ("symbol", "", "symbol: String should have at least 1 character"),
    ("timestamp", "noon", "timestamp: 'noon' is not an ISO 8601 date-time"),
    ("profit_loss", "12", "profit_loss: must be a JSON number"),
    ("fees", -1, "fees: Input should be greater than or equal to 0"),
]:
    FIELD_CASES[f"trade_{key}_{value}"] = (
        field_case(session_type="trade", source_data={"trades": [{**TRADE, key: value}]}),
        f"source_data.trades[0].{reason}",
    )


@pytest.mark.parametrize("name", sorted(FIELD_CASES))
def test_each_field_wrong(cli: Cli, ready: Path, tmp_path: Path, name: str) -> None:
    data, expected = FIELD_CASES[name]
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(data))
    refuse(cli, ready, path, expected)


def test_every_problem_gets_its_line(cli: Cli, ready: Path, tmp_path: Path) -> None:
    path = tmp_path / "many.json"
    path.write_text(
        json.dumps({"session_id": "../x", "session_type": "nope", "timestamp": "x", "agent_id": 5})
    )
    errors = refuse(cli, ready, path)
    assert len(errors) == 4
    assert [e.split(": ")[2] for e in errors] == [
        "session_type",
        "session_id",
        "timestamp",
        "agent_id",
    ]


def test_valid_inputs_of_the_same_call_still_land(cli: Cli, ready: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(session("good-1")))
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    missing = tmp_path / "missing.json"
    result = cli("ingest", "--repo", ready, bad, good, missing, "--json")
    assert result.exit_code == 2
    counts = json.loads(result.stdout)["counts"]
    assert counts["recorded"] == 1 and counts["invalid"] == 2
    assert f"error: {missing}: no such file or folder" in result.stderr


def test_not_a_store(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "file.txt").write_text("x")
    good = tmp_path / "good.json"
    good.write_text(json.dumps(session("good-1")))
    for command in (["ingest", good], ["ls"], ["verify"], ["log"]):
        result = cli(*command[:1], "--repo", folder, *command[1:])
        assert result.exit_code == 2, command
        assert "not a git repository, so not a store" in result.stderr
    assert cli("ls", "--repo", tmp_path / "nowhere").exit_code == 2
    assert cli("ingest", "--nope").exit_code == 2  # an unknown option is a usage error


def test_template_lookalikes_stay_literal_in_every_artifact(
    cli: Cli, store: Path, tmp_path: Path
) -> None:
    data = session(
        "tpl-1",
        title="{{ 7*7 }}",
        overview="{% for i in range(3) %}{{ i }}{% endfor %} {{ self.__init__ }}",
        lessons=[{"title": "{{ 7*7 }}", "description": "{{ ''.__class__ }}"}],
    )
    path = tmp_path / "tpl.json"
    path.write_text(json.dumps(data))
    assert cli("ingest", "--repo", store, path).exit_code == 0
    manifest = json.loads(cli("show", "--repo", store, "tpl-1").stdout)
    for artifact in manifest["artifacts"]:
        text = cli("show", "--repo", store, "tpl-1", artifact["kind"]).stdout
        assert "49" not in text.replace("2025", ""), artifact["kind"]
        if artifact["kind"] != "social_post":
            assert "{{ 7\\*7 }}" in text  # as Markdown escapes it


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200))
def test_parser_never_raises_anything_but_its_own_error(data: bytes) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    with contextlib.suppress(JSONTextError):
        loads(text)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text()
    | st.decimals(allow_nan=False, allow_infinity=False, places=4),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(deadline=None)
@given(json_values)
@pytest.mark.slow
def test_canonical_text_round_trips(value: Any) -> None:
    from gitflywheel.jsontext import dumps_canonical, dumps_pretty

    text = dumps_canonical(value)
    assert dumps_canonical(loads(text)) == text
    assert dumps_canonical(loads(dumps_pretty(value))) == text


def test_a_git_repository_that_is_not_a_store_is_refused(cli: Cli, tmp_path: Path) -> None:
    from conftest import git

    project = tmp_path / "project"
    git("init", "-q", "-b", "main", project)
    (project / "app.py").write_text("print()\n")
    git("-C", project, "add", "app.py")
    git("-C", project, "-c", "user.name=A", "-c", "user.email=a@b", "commit", "-q", "-m", "app")
    good = tmp_path / "good.json"
    good.write_text(json.dumps(session("good-1")))
    before = snapshot(project / ".git")
    result = cli("ingest", "--repo", project, good)
    assert result.exit_code == 2 and "not a gitflywheel store" in result.stderr
    assert snapshot(project / ".git") == before
    empty = tmp_path / "empty.git"
    git("init", "-q", "--bare", "-b", "main", empty)
    assert (
        cli("ingest", "--repo", empty, good).exit_code == 0
    )  # an empty repository becomes a store
