"""The default store: `--repo`, else $GITFLYWHEEL_REPO, else ./flywheel.git when it
exists, else the user's store; never one made inside a git work tree unless named."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import EXAMPLES, GFW, Cli, git

from gitflywheel.errors import StoreError
from gitflywheel.storage.location import default_store, user_store


def test_the_rule_in_order(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {"HOME": str(home)}
    shared = home / ".local" / "share" / "gitflywheel" / "flywheel.git"
    assert default_store(env=env, cwd=tmp_path) == shared
    assert default_store(env={**env, "XDG_DATA_HOME": str(tmp_path / "d")}, cwd=tmp_path) == (
        tmp_path / "d" / "gitflywheel" / "flywheel.git"
    )
    # A relative XDG_DATA_HOME is invalid by the XDG rule: as if unset.
    assert default_store(env={**env, "XDG_DATA_HOME": "rel"}, cwd=tmp_path) == shared
    (tmp_path / "flywheel.git").mkdir()
    assert default_store(env=env, cwd=tmp_path) == tmp_path / "flywheel.git"
    assert default_store(env={**env, "GITFLYWHEEL_REPO": "/x.git"}, cwd=tmp_path) == Path("/x.git")
    assert default_store("y.git", env={**env, "GITFLYWHEEL_REPO": "/x.git"}) == Path("y.git")


def test_the_users_store_is_never_made_inside_a_work_tree(tmp_path: Path) -> None:
    project = tmp_path / "project"
    git("init", "-q", project)
    env = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(project / "data")}
    with pytest.raises(StoreError) as refused:
        default_store(env=env, cwd=tmp_path)
    assert str(project) in str(refused.value) and "--repo" in str(refused.value)
    # Named, it is the user's choice.
    named = project / "data" / "mine.git"
    assert default_store(env={**env, "GITFLYWHEEL_REPO": str(named)}, cwd=tmp_path) == named
    assert user_store(env) == project / "data" / "gitflywheel" / "flywheel.git"


def test_commands_use_the_users_store_unless_a_store_is_here(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.chdir(tmp_path)
    result = cli("ingest", EXAMPLES / "build_session.json")
    assert result.exit_code == 0, result.output
    users = data / "gitflywheel" / "flywheel.git"
    assert str(users) in result.stderr and not (tmp_path / "flywheel.git").exists()
    assert len(cli("ls", "--json").stdout.strip().splitlines()) > 0
    # A store in the current folder comes first.
    assert cli("init", "--repo", tmp_path / "flywheel.git").exit_code == 0
    listed = cli("ls", "--json")
    assert listed.exit_code == 0 and listed.stdout.strip() == "[]"


def _pipe(cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The README's `capture | ingest -`, as a shell runs it."""
    capture = " ".join(GFW) + " capture --title Guardrails"
    ingest = " ".join(GFW) + " ingest -"
    return subprocess.run(
        ["sh", "-c", f"{capture} | {ingest}"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_capture_into_ingest_leaves_the_work_tree_clean(tmp_path: Path) -> None:
    work = tmp_path / "work"
    git("init", "-q", "-b", "main", work)
    (work / "a.txt").write_text("a\n")
    git("add", "a.txt", cwd=work)
    git(
        "-c",
        "user.name=Ada",
        "-c",
        "user.email=ada@example.com",
        "commit",
        "-qm",
        "Add a",
        cwd=work,
    )
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")}
    done = _pipe(work, env)
    assert done.returncode == 0, done.stderr
    assert git("status", "--porcelain", "--ignored", cwd=work) == ""
    assert (tmp_path / "data" / "gitflywheel" / "flywheel.git" / "HEAD").is_file()


def test_capture_outside_a_repository_fails_once(tmp_path: Path) -> None:
    nowhere = tmp_path / "nowhere"
    nowhere.mkdir()
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")}
    done = _pipe(nowhere, env)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2, lines
    assert "not inside a git repository" in lines[0]
    assert "nothing came in on standard input" in lines[1] and "JSON" not in lines[1]
    assert not (tmp_path / "data").exists()  # no store made for nothing
