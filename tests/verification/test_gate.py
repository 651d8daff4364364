"""verify and the publish gate (19): twins, and placeholders an older pipeline version
published, are warnings that name the sessions, never violations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli, session

from gitflywheel.pipelines import build, drafts, pipeline_id
from gitflywheel.storage.layout import session_dir

COMMITS = [{"hash": f"{i:040x}", "message": f"feat: step {i}"} for i in range(10)]


def write(folder: Path, *sessions: dict[str, Any]) -> list[Path]:
    folder.mkdir(exist_ok=True)
    paths = []
    for data in sessions:
        paths.append(folder / f"{data['session_id']}.json")
        paths[-1].write_text(json.dumps(data))
    return paths


def with_commits(session_id: str, **fields: Any) -> dict[str, Any]:
    data = session(session_id, title=f"Work of {session_id}", **fields)
    data["source_data"] = {"repo_path": "example/repo", "git_commits": COMMITS}
    return data


def warnings(cli: Cli, store: Path, *args: str) -> list[tuple[str, str]]:
    result = cli("verify", "--repo", store, "--json", *args)
    report = json.loads(result.stdout)
    assert result.exit_code == 0 and report["ok"], report["findings"]
    assert all(w["severity"] == "warning" for w in report["warnings"])
    return [(w["path"], w["message"]) for w in report["warnings"]]


def test_a_twin_is_a_warning_naming_both_sessions(cli: Cli, store: Path, tmp_path: Path) -> None:
    first, other = write(tmp_path / "a", with_commits("first"), session("other"))
    assert cli("ingest", "--repo", store, first, other).exit_code == 0
    assert warnings(cli, store) == []
    (again,) = write(tmp_path / "b", with_commits("again", timestamp="2025-12-03T03:30:00Z"))
    assert cli("ingest", "--repo", store, again).exit_code == 0
    expected = [
        (
            session_dir("again"),
            "session again is a twin of session first, recorded before it: the same 10 "
            "commits; the site and exports publish only one of the two",
        )
    ]
    assert warnings(cli, store) == expected  # the run after the last: incremental
    assert warnings(cli, store, "--full") == expected


def test_twins_by_deliverables_and_commits_are_one_warning(
    cli: Cli, store: Path, tmp_path: Path
) -> None:
    made = ["docs/GUIDE.md"]
    paths = write(
        tmp_path / "in",
        with_commits("one", deliverables=made),
        with_commits("two", deliverables=made),
        session("three", title="Guide", deliverables=made),  # same moment, other commits
    )
    assert cli("ingest", "--repo", store, *paths).exit_code == 0
    found = dict(warnings(cli, store))
    assert found == {
        session_dir("two"): "session two is a twin of session one, recorded before it: the "
        "same 10 commits and the same 1 deliverable at the same time; the site and exports "
        "publish only one of the two",
        session_dir("three"): "session three is a twin of session one, recorded before it: "
        "the same 1 deliverable at the same time; the site and exports publish only one of "
        "the two",
    }


def test_a_revised_session_that_is_no_longer_a_twin_is_not_warned_of(
    cli: Cli, store: Path, tmp_path: Path
) -> None:
    paths = write(tmp_path / "a", with_commits("first"), with_commits("again"))
    assert cli("ingest", "--repo", store, *paths).exit_code == 0
    assert len(warnings(cli, store)) == 1
    revised = session("again", title="Other work")
    (path,) = write(tmp_path / "b", revised)
    assert cli("ingest", "--repo", store, "--revise", path).exit_code == 0
    assert warnings(cli, store) == []
    assert warnings(cli, store, "--full") == []


def _an_older_build_pipeline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The build pipeline as the version before this one: no test placeholder rule."""
    monkeypatch.setattr(drafts, "placeholder_reasons", lambda session: [])
    monkeypatch.setattr(build, "VERSION", build.VERSION - 1)


def test_a_placeholder_an_older_version_published_is_a_warning(
    cli: Cli, store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = write(
        tmp_path / "in",
        with_commits("agent-1", agent_id="TestAgent"),
        with_commits("00000000-0000-0000-0000-000000000001"),
        with_commits("real-1", timestamp="2025-12-03T03:30:00Z"),
    )
    current = pipeline_id("build")
    with monkeypatch.context() as patched:
        _an_older_build_pipeline(patched)
        older = pipeline_id("build")
        assert cli("ingest", "--repo", store, *paths[:2]).exit_code == 0
    assert cli("ingest", "--repo", store, paths[2]).exit_code == 0  # by the current rules
    found = [w for w in warnings(cli, store) if "twin" not in w[1]]
    rerender = "`gitflywheel rerender` makes it one"
    assert found == [
        (
            session_dir("00000000-0000-0000-0000-000000000001"),
            f"published by {older}, a draft by the rules of {current}: a test placeholder: "
            f"id 00000000-0000-0000-0000-000000000001; {rerender}",
        ),
        (
            session_dir("agent-1"),
            f"published by {older}, a draft by the rules of {current}: a test placeholder: "
            f"agent “TestAgent”; {rerender}",
        ),
    ]
    assert cli("rerender", "--repo", store, "--all").exit_code == 0
    assert [w for w in warnings(cli, store) if "twin" not in w[1]] == []
