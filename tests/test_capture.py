"""capture: a build session from a real repository, piped into ingest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

GFW = [sys.executable, "-m", "gitflywheel"]


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(HOME=str(home), GIT_CONFIG_NOSYSTEM="1", SOURCE_DATE_EPOCH="1700000000")
    return env


def _git(repo: Path, env: dict[str, str], *args: str, when: str | None = None) -> str:
    extra = {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when} if when else {}
    return subprocess.run(
        ["git", "-C", str(repo), *args],
        check=True,
        capture_output=True,
        text=True,
        env={**env, **extra},
    ).stdout


@pytest.fixture()
def work_repo(tmp_path: Path) -> tuple[Path, dict[str, str], list[str]]:
    """A repository with four commits by two authors; returns it, the env, and the ids."""
    env = _env(tmp_path)
    repo = tmp_path / "work"
    repo.mkdir()
    _git(repo, env, "init", "-q", "-b", "main")
    _git(repo, env, "config", "user.name", "Ada")
    _git(repo, env, "config", "user.email", "ada@example.com")
    steps = [
        ("app.py", "print('hello')\n", "Start the app", "2025-12-01T10:00:00+00:00"),
        ("app.py", "print('hello')\nprint('world')\n", "Say more", "2025-12-01T11:30:00+00:00"),
        ("README.md", "# App\n\nIt prints.\n", "Write the README", "2025-12-02T09:15:00+00:00"),
        ("logo.bin", "\x00\x01binary", "Add a logo", "2025-12-02T10:00:00+00:00"),
    ]
    for path, text, message, when in steps:
        (repo / path).write_text(text)
        _git(repo, env, "add", path)
        _git(repo, env, "commit", "-q", "-m", message, when=when)
    ids = _git(repo, env, "log", "--reverse", "--format=%H").split()
    return repo, env, ids


def _capture(repo: Path, env: dict[str, str], *args: str) -> dict[str, object]:
    out = subprocess.run(
        [*GFW, "capture", "--source", str(repo), *args], check=True, capture_output=True, env=env
    )
    return json.loads(out.stdout)


def test_capture_since_rev_lists_exactly_those_commits(
    work_repo: tuple[Path, dict[str, str], list[str]],
) -> None:
    repo, env, ids = work_repo
    session = _capture(
        repo, env, "--since-rev", "HEAD~3", "--agent", "Agent-7", "--title", "Polish"
    )
    commits = session["source_data"]["git_commits"]  # type: ignore[index]
    assert [c["hash"] for c in commits] == ids[1:]
    assert [c["message"] for c in commits] == ["Say more", "Write the README", "Add a logo"]
    assert commits[0]["files"] == ["app.py"] and commits[0]["lines_added"] == 1
    assert commits[0]["lines_removed"] == 0
    assert commits[2]["lines_added"] == 0  # binary: no lines counted
    meta = session["metadata"]
    assert meta == {
        "commits": 3,
        "duration_minutes": (22 * 60 + 30),
        "files_changed": 3,
        "lines_added": 4,
        "lines_removed": 0,
    }
    assert session["agent_id"] == "Agent-7" and session["title"] == "Polish"
    assert session["timestamp"] == "2025-12-02T10:00:00Z"


def test_capture_time_window(work_repo: tuple[Path, dict[str, str], list[str]]) -> None:
    repo, env, ids = work_repo
    session = _capture(repo, env, "--since", "2025-12-01", "--until", "2025-12-01")
    assert [c["hash"] for c in session["source_data"]["git_commits"]] == ids[:2]  # type: ignore[index]
    assert session["agent_id"] == "Ada"


def test_capture_is_deterministic_and_ingests(
    work_repo: tuple[Path, dict[str, str], list[str]], tmp_path: Path
) -> None:
    repo, env, ids = work_repo
    first = subprocess.run(
        [*GFW, "capture", "--source", str(repo)], check=True, capture_output=True, env=env
    ).stdout
    again = subprocess.run(
        [*GFW, "capture", "--source", str(repo)], check=True, capture_output=True, env=env
    ).stdout
    assert first == again
    store = tmp_path / "store.git"
    done = subprocess.run(
        [*GFW, "ingest", "--repo", str(store), "-"], input=first, capture_output=True, env=env
    )
    assert done.returncode == 0, done.stderr
    session_id = json.loads(first)["session_id"]
    log = subprocess.run(
        [*GFW, "show", "--repo", str(store), session_id, "build_log"],
        check=True,
        capture_output=True,
        env=env,
    ).stdout.decode()
    for sha in ids:
        assert sha[:7] in log
    assert "Write the README" in log
    subprocess.run(
        ["git", "-C", str(store), "fsck", "--strict"], check=True, env=env, capture_output=True
    )


def test_capture_refuses_what_is_not_there(
    work_repo: tuple[Path, dict[str, str], list[str]], tmp_path: Path
) -> None:
    repo, env, _ = work_repo
    bad = subprocess.run(
        [*GFW, "capture", "--source", str(repo), "--since-rev", "nope"],
        capture_output=True,
        env=env,
    )
    assert bad.returncode == 2 and b"--since-rev: 'nope'" in bad.stderr
    empty = tmp_path / "plain"
    empty.mkdir()
    outside = subprocess.run(
        [*GFW, "capture", "--source", str(empty)], capture_output=True, env=env
    )
    assert outside.returncode == 2 and b"not inside a git repository" in outside.stderr
    none = subprocess.run(
        [*GFW, "capture", "--source", str(repo), "--since", "2030-01-01"],
        capture_output=True,
        env=env,
    )
    assert none.returncode == 2 and b"no commits" in none.stderr
