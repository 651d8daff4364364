"""Display names in a store (19): ingest, its planning workers and rerender name the
repository and the agent as the settings at main's tip say; the facts record the names
used; verify derives again with the recorded names and warns when the settings changed
since; `rerender --all` renews such a session."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli, git, session

from gitflywheel.recording.ingest import ingest
from gitflywheel.storage.layout import FACTS_FILE, artifact_path, session_dir

PRIVATE = "AgentCellphoneV2Repository"
KINDS = ("readme", "build_log", "blog_post", "social_post")


def cellphone(session_id: str = "cell-1", mark: str = "c") -> dict[str, object]:
    return session(
        session_id,
        source_data={
            "repo_path": "C:\\Users\\kay\\" + PRIVATE,
            "git_commits": [
                {"hash": mark * 40, "message": f"feat: route calls ({session_id})"},
                {"hash": "d" * 40, "message": "fix: hang up"},
            ],
        },
    )


def write(tmp_path: Path, *sessions: dict[str, object]) -> Path:
    path = tmp_path / "sessions.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in sessions))
    return path


def show(store: Path, path: str) -> str:
    return git("-C", store, "show", f"main:{path}")


def artifacts(store: Path, session_id: str) -> str:
    return "\n".join(show(store, artifact_path(session_id, kind)) for kind in KINDS)


def config(cli: Cli, store: Path, *args: str) -> None:
    result = cli("config", "--repo", store, *args)
    assert result.exit_code == 0, result.output


def verify(cli: Cli, store: Path, *args: str) -> dict[str, Any]:
    result = cli("verify", "--repo", store, "--json", *args)
    report: dict[str, Any] = json.loads(result.stdout)
    assert result.exit_code == 0, result.stdout
    return report


def warnings(report: dict[str, Any]) -> list[str]:
    return [w["message"] for w in report["warnings"] if "older names" in w["message"]]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_private_repository_is_shown_under_its_display_name(
    cli: Cli, store: Path, tmp_path: Path, workers: int
) -> None:
    config(cli, store, "--add", "names.repo", f"{PRIVATE}=Agent Cellphone")
    inputs = write(tmp_path, cellphone("cell-1"), cellphone("cell-2", "e"))
    report = ingest(store, [str(inputs)], workers=workers, parallel_after=0)
    assert report.count("recorded") == 2, report
    for session_id in ("cell-1", "cell-2"):
        text = artifacts(store, session_id)
        assert "Agent Cellphone" in text and "#AgentCellphone" in text
        assert PRIVATE not in text and PRIVATE.lower() not in text
        facts = json.loads(show(store, f"{session_dir(session_id)}/{FACTS_FILE}"))
        assert facts["names"] == {"repo": {PRIVATE: "Agent Cellphone"}}
    assert PRIVATE in show(store, f"{session_dir('cell-1')}/session.json")  # the record keeps it
    assert warnings(verify(cli, store, "--full")) == []


def test_a_repository_shown_as_nothing_and_an_agent_shown_by_name(
    cli: Cli, store: Path, tmp_path: Path
) -> None:
    config(cli, store, "--add", "names.repo", f"{PRIVATE}=")
    config(cli, store, "--add", "names.agent", "Agent-1=Kay")
    config(cli, store, "names.agent_tags", "true")  # agents are tags only when asked
    assert cli("ingest", "--repo", store, write(tmp_path, cellphone())).exit_code == 0
    text = artifacts(store, "cell-1")
    assert PRIVATE not in text and "#AgentCellphone" not in text
    assert " in None" not in text and "Repository `" not in text
    assert "author: Kay" in text or 'author: "Kay"' in text
    assert "#Kay" in text and "Agent-1" not in text
    facts = json.loads(show(store, f"{session_dir('cell-1')}/{FACTS_FILE}"))
    assert facts["names"] == {
        "agent": {"Agent-1": "Kay"},
        "agent_tags": True,
        "repo": {PRIVATE: ""},
    }
    manifest = json.loads(show(store, f"{session_dir('cell-1')}/manifest.json"))
    assert manifest["agent_id"] == "Agent-1"
    assert warnings(verify(cli, store, "--full")) == []


def test_changed_names_are_warned_of_and_rerender_renews_the_session(
    cli: Cli, store: Path, tmp_path: Path
) -> None:
    config(cli, store, "--add", "names.repo", f"{PRIVATE}=Agent Cellphone")
    assert cli("ingest", "--repo", store, write(tmp_path, cellphone())).exit_code == 0
    assert warnings(verify(cli, store)) == []

    config(cli, store, "--unset", "names.repo")
    config(cli, store, "--add", "names.repo", f"{PRIVATE}=Cellphone")
    found = warnings(verify(cli, store))  # incremental: the names changed since the last run
    assert len(found) == 1 and "rerender renews it" in found[0]

    result = cli("rerender", "--repo", store, "--all", "--json")
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["counts"]["rerendered"] == 1
    text = artifacts(store, "cell-1")
    assert "#Cellphone" in text and "Agent Cellphone" not in text
    assert warnings(verify(cli, store)) == []
    assert warnings(verify(cli, store, "--full")) == []


def test_agent_tags_set_later_are_warned_of_and_rerender_adds_them(
    cli: Cli, store: Path, tmp_path: Path
) -> None:
    assert cli("ingest", "--repo", store, write(tmp_path, cellphone())).exit_code == 0
    assert "#Agent1" not in artifacts(store, "cell-1")
    config(cli, store, "names.agent_tags", "true")
    found = warnings(verify(cli, store))
    assert len(found) == 1 and "agents as tags" in found[0], found
    assert cli("rerender", "--repo", store, "--all").exit_code == 0
    assert "#Agent1" in artifacts(store, "cell-1")
    assert warnings(verify(cli, store, "--full")) == []


def test_names_that_do_not_apply_leave_a_session_byte_identical(cli: Cli, tmp_path: Path) -> None:
    plain, named = tmp_path / "plain.git", tmp_path / "named.git"
    config(cli, named, "--add", "names.repo", f"{PRIVATE}=Agent Cellphone")
    config(cli, named, "--add", "names.agent", "bot=The bot")
    other = session("other-1")
    for store in (plain, named):
        assert cli("ingest", "--repo", store, write(tmp_path, other)).exit_code == 0
    path = f"{session_dir('other-1')}/{FACTS_FILE}"
    assert show(plain, path) == show(named, path)
    assert '"names"' not in show(named, path)
    assert warnings(verify(cli, named, "--full")) == []
