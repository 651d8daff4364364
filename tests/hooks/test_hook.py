"""hook: every `git push` of a work repository records a build session, never in the way.

Real work repositories, real bare remotes on disk (and one over HTTP), the real `git push`
running the installed hook, and its detached run awaited by polling the store and the log.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import Cli, fsck, git
from hypothesis import given, settings
from hypothesis import strategies as st
from servers import git_daemon, git_http

from gitflywheel.hooks import (
    SPOOL_FORMAT,
    SpoolError,
    parse_spool,
    push_session_id,
    remote_identity,
    remote_label,
)

ZERO = "0" * 40


@dataclass
class Work:
    """A work repository, its bare remote, and the store its hook records into."""

    path: Path
    remote: Path
    store: Path
    root: Path

    @property
    def git_dir(self) -> Path:
        return Path(git("rev-parse", "--absolute-git-dir", cwd=self.path).strip())

    @property
    def repo_spool(self) -> Path:
        return self.git_dir / "gitflywheel-spool"

    @property
    def store_spool(self) -> Path:
        return self.store / "gitflywheel" / "spool"

    @property
    def log(self) -> Path:
        return self.store / "gitflywheel" / "hook.log"


def commit(
    repo: Path,
    message: str,
    name: str | None = None,
    text: str | None = None,
) -> str:
    """A commit with a new file (or `text` in `name`), at minute N for the Nth commit of
    its history: the same commits in two repositories have the same ids."""
    done = subprocess.run(
        ["git", "rev-list", "--count", "HEAD"], cwd=repo, capture_output=True, text=True
    )
    minute = int(done.stdout) if done.returncode == 0 else 0
    when = f"2025-12-01T10:{minute:02d}:00+00:00"
    name = name or f"{message.lower().replace(' ', '-')}.txt"
    path = repo / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text is not None else f"{message}\n")
    git("add", name, cwd=repo)
    git(
        "commit",
        "-q",
        "-m",
        message,
        cwd=repo,
        env={"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when},
    )
    return git("rev-parse", "HEAD", cwd=repo).strip()


def new_repo(path: Path) -> Path:
    git("init", "-q", "-b", "main", path)
    git("config", "user.name", "Ada Lovelace", cwd=path)
    git("config", "user.email", "ada@example.com", cwd=path)
    return path


def push(
    repo: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "push", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def pushed(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = push(repo, *args, env=env)
    assert done.returncode == 0, done.stderr
    assert "gitflywheel" not in done.stdout + done.stderr
    return done.stderr


@pytest.fixture()
def work(tmp_path: Path, cli: Cli) -> Work:
    """A work repository with one commit on the remote already, and the hook installed."""
    remote = tmp_path / "remote.git"
    git("init", "-q", "--bare", "-b", "main", remote)
    path = new_repo(tmp_path / "work")
    git("remote", "add", "origin", "../remote.git", cwd=path)
    commit(path, "Start")
    pushed(path, "-q", "origin", "main")
    store = tmp_path / "store.git"
    result = cli("hook", "install", "--repo", store, "--source", path)
    assert result.exit_code == 0, result.output
    return Work(path, remote, store, tmp_path)


def wait_until(check: Callable[[], bool], what: str, seconds: float = 90.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def log_entries(log: Path, event: str = "run") -> list[dict[str, object]]:
    if not log.exists():
        return []
    entries = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return [e for e in entries if e.get("event") == event]


def wait_runs(log: Path, count: int) -> None:
    wait_until(lambda: len(log_entries(log)) >= count, f"{count} runs logged in {log}")


def spooled(folder: Path) -> list[Path]:
    return sorted(folder.glob("push.*")) if folder.is_dir() else []


def sessions(cli: Cli, store: Path) -> list[dict[str, object]]:
    result = cli("ls", "--repo", store, "--json")
    assert result.exit_code == 0, result.output
    rows: list[dict[str, object]] = json.loads(result.stdout)
    return rows


def record(cli: Cli, store: Path, session_id: str) -> dict[str, object]:
    result = cli("show", "--repo", store, session_id, "record")
    assert result.exit_code == 0, result.output
    value: dict[str, object] = json.loads(result.stdout)
    return value


def commit_hashes(rec: dict[str, object]) -> list[str]:
    source = rec["source_data"]
    assert isinstance(source, dict)
    return [c["hash"] for c in source["git_commits"]]


def status(cli: Cli, work: Work) -> dict[str, object]:
    result = cli("hook", "status", "--source", work.path, "--json")
    assert result.exit_code == 0, result.output
    value: dict[str, object] = json.loads(result.stdout)
    return value


# -- the flywheel: a push records a session ------------------------------------------------


def test_a_push_records_one_session_with_its_commits(cli: Cli, work: Work) -> None:
    base = git("rev-parse", "HEAD", cwd=work.path).strip()
    first = commit(work.path, "Add the parser")
    second = commit(work.path, "Teach the parser comments", "add-the-parser.txt", "a\n# b\n")
    pushed(work.path, "origin", "main")
    wait_runs(work.log, 1)
    rows = sessions(cli, work.store)
    assert len(rows) == 1
    session_id = str(rows[0]["session_id"])
    rec = record(cli, work.store, session_id)
    assert commit_hashes(rec) == [first, second]
    assert rec["agent_id"] == "Ada Lovelace"
    assert rec["timestamp"] == "2025-12-01T10:02:00Z"
    assert rec["metadata"] == {
        "commits": 2,
        "duration_minutes": 1,
        "files_changed": 1,
        "lines_added": 3,
        "lines_removed": 1,
    }
    source = rec["source_data"]
    assert isinstance(source, dict)
    assert source["repo_path"] == "remote"  # a remote on disk shows its name, not its path
    assert str(work.root) not in json.dumps(rec)
    assert source["push"] == {"ref": "refs/heads/main", "before": base, "after": second}
    assert session_id == push_session_id(f"file://{work.remote}", base, second)
    log = cli("show", "--repo", work.store, session_id, "build_log").stdout
    assert first[:7] in log and second[:7] in log and "Teach the parser comments" in log
    assert spooled(work.store_spool) == [] and spooled(work.repo_spool) == []
    fsck(work.store)
    st = status(cli, work)
    assert st["installed"] and st["ok"] and st["sessions_recorded"] == 1


def test_the_push_output_and_exit_code_are_unchanged(tmp_path: Path, cli: Cli) -> None:
    outputs = []
    for name, hooked in (("plain", False), ("hooked", True)):
        root = tmp_path / name
        remote = root / "remote.git"
        git("init", "-q", "--bare", "-b", "main", remote)
        repo = new_repo(root / "work")
        git("remote", "add", "origin", str(remote), cwd=repo)
        if hooked:
            assert cli("hook", "install", "--repo", root / "s.git", "--source", repo).exit_code == 0
        for message in ("One", "Two"):
            commit(repo, message)  # the same commits in both repositories
        done = push(repo, "origin", "main")
        outputs.append((done.returncode, done.stdout, done.stderr.replace(str(root), "ROOT")))
        if hooked:
            wait_runs(root / "s.git" / "gitflywheel" / "hook.log", 1)
    assert outputs[0] == outputs[1]
    assert outputs[0][0] == 0


def test_nothing_new_records_nothing(cli: Cli, work: Work) -> None:
    git("branch", "copy", cwd=work.path)
    pushed(work.path, "origin", "copy")  # a new branch at a commit the remote has
    wait_runs(work.log, 1)
    assert sessions(cli, work.store) == []
    entry = log_entries(work.log, "push")[-1]
    assert entry["recorded"] == [] and spooled(work.store_spool) == []
    pushed(work.path, "origin", "main")  # up to date: git runs the hook with no line
    assert spooled(work.store_spool) == []


@pytest.mark.slow
def test_tags_deletions_and_skip_record_nothing(cli: Cli, work: Work) -> None:
    git("tag", "v1", cwd=work.path)
    git("tag", "-a", "v2", "-m", "Release 2", cwd=work.path)
    pushed(work.path, "origin", "v1", "v2")
    git("branch", "gone", cwd=work.path)
    pushed(work.path, "origin", "gone")
    wait_runs(work.log, 1)
    pushed(work.path, "origin", "--delete", "gone")
    commit(work.path, "Quiet work")
    pushed(work.path, "origin", "main", env={"GITFLYWHEEL_SKIP": "1"})
    # The hook writes its spool file before the push ends: none was written.
    assert spooled(work.store_spool) == [] and spooled(work.repo_spool) == []
    time.sleep(1.0)
    assert len(log_entries(work.log)) == 1
    assert sessions(cli, work.store) == []
    assert git("ls-remote", work.remote).count("refs/tags/") == 3  # v1, v2 and v2^{}


# -- ranges: new branches, force-pushes, two clones ---------------------------------------


def test_a_new_branch_records_only_what_the_remote_lacks(cli: Cli, work: Work) -> None:
    on_main = commit(work.path, "Main work")
    pushed(work.path, "origin", "main")
    wait_runs(work.log, 1)
    git("switch", "-q", "-c", "feature", cwd=work.path)
    mine = [commit(work.path, "Feature one"), commit(work.path, "Feature two")]
    pushed(work.path, "-u", "origin", "feature")
    wait_runs(work.log, 2)
    rows = sessions(cli, work.store)
    assert len(rows) == 2
    by_commits = sorted(commit_hashes(record(cli, work.store, str(r["session_id"]))) for r in rows)
    assert by_commits == sorted([[on_main], mine])
    feature = [
        r for r in rows if commit_hashes(record(cli, work.store, str(r["session_id"]))) == mine
    ]
    rec = record(cli, work.store, str(feature[0]["session_id"]))
    assert rec["source_data"]["push"]["before"] is None  # type: ignore[index]


def test_one_push_of_two_refs_counts_each_commit_once(cli: Cli, work: Work) -> None:
    new = commit(work.path, "Shared work")
    pushed(work.path, "origin", "main", "main:refs/heads/release")
    wait_runs(work.log, 1)
    rows = sessions(cli, work.store)
    assert len(rows) == 1
    assert commit_hashes(record(cli, work.store, str(rows[0]["session_id"]))) == [new]


@pytest.mark.slow
def test_a_force_push_records_the_commits_of_the_new_history(cli: Cli, work: Work) -> None:
    base = git("rev-parse", "HEAD", cwd=work.path).strip()
    commit(work.path, "First try")
    pushed(work.path, "origin", "main")
    wait_runs(work.log, 1)
    git("reset", "-q", "--hard", base, cwd=work.path)
    rewritten = [commit(work.path, "Second try"), commit(work.path, "Polish it")]
    pushed(work.path, "--force", "origin", "main")
    wait_runs(work.log, 2)
    rows = sessions(cli, work.store)
    assert len(rows) == 2
    lists = [commit_hashes(record(cli, work.store, str(r["session_id"]))) for r in rows]
    assert rewritten in lists
    # Back to an older commit: nothing new is published.
    git("reset", "-q", "--hard", base, cwd=work.path)
    pushed(work.path, "--force", "origin", "main")
    wait_runs(work.log, 3)
    assert len(sessions(cli, work.store)) == 2


def test_two_clones_pushing_the_same_commits_make_one_session(
    cli: Cli, work: Work, tmp_path: Path
) -> None:
    base = git("rev-parse", "HEAD", cwd=work.path).strip()
    other = tmp_path / "other"
    git("clone", "-q", f"file://{work.remote}/", other)  # another spelling of the same remote
    git("config", "user.name", "Someone Else", cwd=other)
    git("config", "user.email", "else@example.com", cwd=other)
    assert cli("hook", "install", "--repo", work.store, "--source", other).exit_code == 0

    new = [commit(work.path, "Shared one"), commit(work.path, "Shared two")]
    pushed(work.path, "origin", "main")
    wait_runs(work.log, 1)
    # The same commits reach the other clone; the remote goes back, and they are pushed again.
    git("fetch", "-q", str(work.path), "main", cwd=other)
    git("reset", "-q", "--hard", "FETCH_HEAD", cwd=other)
    git("update-ref", "refs/heads/main", base, cwd=work.remote)
    pushed(other, "origin", "main")
    wait_runs(work.log, 2)
    rows = sessions(cli, work.store)
    assert len(rows) == 1
    assert commit_hashes(record(cli, work.store, str(rows[0]["session_id"]))) == new
    last = log_entries(work.log, "push")[-1]
    assert last["recorded"] == [] and last["unchanged"] == [rows[0]["session_id"]]
    assert last["notes"] == []  # the same record, not a conflict set aside


def test_a_remote_url_with_credentials_never_reaches_the_session(cli: Cli, tmp_path: Path) -> None:
    served = tmp_path / "served"
    git("init", "-q", "--bare", "-b", "main", served / "hub.git")
    git("-C", served / "hub.git", "config", "http.receivepack", "true")
    repo = new_repo(tmp_path / "work")
    store = tmp_path / "store.git"
    assert cli("hook", "install", "--repo", store, "--source", repo).exit_code == 0
    commit(repo, "Over the wire")
    with git_http(served) as base:
        url = base.replace("http://", "http://ada:s3cret-token@") + "/hub.git"
        pushed(repo, url, "main")
        wait_runs(store / "gitflywheel" / "hook.log", 1)
    rows = sessions(cli, store)
    assert len(rows) == 1
    rec = record(cli, store, str(rows[0]["session_id"]))
    assert rec["source_data"]["repo_path"] == base.removeprefix("http://") + "/hub"  # type: ignore[index]
    stored = git("-C", store, "log", "-p", "main")
    assert "s3cret" not in stored and "ada:" not in stored


def test_a_push_from_a_shallow_ci_clone_records_its_commits(
    cli: Cli, work: Work, tmp_path: Path
) -> None:
    for message in ("History one", "History two"):
        commit(work.path, message)
    pushed(work.path, "origin", "main")
    wait_runs(work.log, 1)
    ci = tmp_path / "ci"
    git("clone", "-q", "--depth", "1", f"file://{work.remote}", ci)
    git("config", "user.name", "CI Bot", cwd=ci)
    git("config", "user.email", "ci@example.com", cwd=ci)
    assert cli("hook", "install", "--repo", work.store, "--source", ci).exit_code == 0
    made = [commit(ci, "Bump the version"), commit(ci, "Tag the build")]
    pushed(ci, "origin", "main")
    wait_runs(work.log, 2)
    rows = sessions(cli, work.store)
    lists = [commit_hashes(record(cli, work.store, str(r["session_id"]))) for r in rows]
    assert made in lists and len(rows) == 2


def test_a_rerun_records_nothing_twice(cli: Cli, work: Work) -> None:
    old = git("rev-parse", "HEAD", cwd=work.path).strip()
    new = commit(work.path, "Recorded once")
    pushed(work.path, "--no-verify", "origin", "main")  # the remote holds what is recorded
    work.store_spool.mkdir(parents=True, exist_ok=True)
    spool = work.store_spool / "push.byhand"
    spool.write_text(
        f"{SPOOL_FORMAT}\nremote origin\nurl ../remote.git\ncwd {work.path}\n"
        f"git-dir {work.git_dir}\nupdate refs/heads/main {new} refs/heads/main {old}\n"
    )
    saved = spool.read_bytes()
    first = cli("hook", "run", "--source", work.path, "--json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["recorded"] == 1
    tip = git("rev-parse", "main", cwd=work.store)
    spool.write_bytes(saved)  # as if the run had died before it removed the file
    again = cli("hook", "run", "--source", work.path, "--json")
    assert again.exit_code == 0, again.output
    report = json.loads(again.stdout)
    assert report["recorded"] == 0 and len(report["pushes"][0]["unchanged"]) == 1
    assert git("rev-parse", "main", cwd=work.store) == tip
    assert spooled(work.store_spool) == []


# -- which pushes are sessions: the work repository's own settings ------------------------


def settings_commit(repo: Path, text: str, name: str = ".gitflywheel.toml") -> str:
    return commit(repo, f"Settings in {name}", name, text)


def blog_post(cli: Cli, store: Path, session_id: str) -> str:
    result = cli("show", "--repo", store, session_id, "blog_post")
    assert result.exit_code == 0, result.output
    return result.stdout


def is_draft(cli: Cli, store: Path, session_id: str) -> bool:
    front = blog_post(cli, store, session_id).split("\n---\n", 1)[0]
    assert "\ndraft: " in front, front
    return "\ndraft: true" in front


def test_record_false_records_nothing_and_says_so(cli: Cli, work: Work) -> None:
    settings_commit(work.path, "record = false\n")
    commit(work.path, "Private work")
    # What counts is the pushed commit, not the work tree.
    (work.path / ".gitflywheel.toml").write_text("record = true\n")
    pushed(work.path, "origin", "main")
    wait_runs(work.log, 1)
    assert sessions(cli, work.store) == []
    entry = log_entries(work.log, "push")[-1]
    assert entry["level"] == "info" and entry["recorded"] == []
    assert "refs/heads/main: record = false in .gitflywheel.toml" in str(entry["message"])
    assert spooled(work.store_spool) == [] and spooled(work.repo_spool) == []


def test_a_feature_branch_records_a_draft_the_default_branch_publishes(
    cli: Cli, work: Work
) -> None:
    on_main = commit(work.path, "Main work")
    pushed(work.path, "origin", "main")
    wait_runs(work.log, 1)
    git("switch", "-q", "-c", "feature", cwd=work.path)
    on_feature = commit(work.path, "Feature work")
    pushed(work.path, "origin", "feature")
    wait_runs(work.log, 2)
    by_commits = {
        tuple(commit_hashes(record(cli, work.store, str(r["session_id"])))): str(r["session_id"])
        for r in sessions(cli, work.store)
    }
    main_id, feature_id = by_commits[(on_main,)], by_commits[(on_feature,)]
    assert not is_draft(cli, work.store, main_id)
    assert "draft" not in record(cli, work.store, main_id)["metadata"]  # type: ignore[operator]
    assert is_draft(cli, work.store, feature_id)
    assert record(cli, work.store, feature_id)["metadata"] == {
        "commits": 1,
        "duration_minutes": 0,
        "files_changed": 1,
        "lines_added": 1,
        "lines_removed": 0,
        "draft": True,
        "draft_reason": "feature is not the remote's default branch (main)",
    }


@pytest.mark.slow
def test_the_default_branch_is_the_one_the_remotes_head_names(cli: Cli, work: Work) -> None:
    git("symbolic-ref", "HEAD", "refs/heads/trunk", cwd=work.remote)
    git("switch", "-q", "-c", "trunk", cwd=work.path)
    on_trunk = commit(work.path, "Trunk work")
    pushed(work.path, "origin", "trunk")
    wait_runs(work.log, 1)
    git("switch", "-q", "main", cwd=work.path)
    on_main = commit(work.path, "Main work")
    pushed(work.path, "origin", "main")
    wait_runs(work.log, 2)
    drafts = {
        tuple(commit_hashes(record(cli, work.store, str(r["session_id"])))): is_draft(
            cli, work.store, str(r["session_id"])
        )
        for r in sessions(cli, work.store)
    }
    assert drafts == {(on_trunk,): False, (on_main,): True}


@pytest.mark.slow
def test_a_remote_head_naming_no_branch_falls_back_to_the_tracking_head(
    cli: Cli, work: Work
) -> None:
    git("symbolic-ref", "HEAD", "refs/heads/nowhere", cwd=work.remote)  # ls-remote: no HEAD
    git("symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/trunk", cwd=work.path)
    git("switch", "-q", "-c", "trunk", cwd=work.path)
    on_trunk = commit(work.path, "Trunk work")
    pushed(work.path, "origin", "trunk")
    wait_runs(work.log, 1)
    git("switch", "-q", "main", cwd=work.path)
    on_main = commit(work.path, "Main work")
    pushed(work.path, "origin", "main")
    wait_runs(work.log, 2)
    # Neither knows: main and master count as the default branch.
    git("symbolic-ref", "--delete", "refs/remotes/origin/HEAD", cwd=work.path)
    git("switch", "-q", "-c", "master", cwd=work.path)
    on_master = commit(work.path, "Master work")
    pushed(work.path, "origin", "master")
    wait_runs(work.log, 3)
    drafts = {
        tuple(commit_hashes(record(cli, work.store, str(r["session_id"])))): is_draft(
            cli, work.store, str(r["session_id"])
        )
        for r in sessions(cli, work.store)
    }
    assert drafts == {(on_trunk,): False, (on_main,): True, (on_master,): False}


@pytest.mark.slow
def test_branches_and_drafts_say_which_branches_record_and_how(cli: Cli, work: Work) -> None:
    settings_commit(work.path, 'branches = ["main", "release/*"]\ndrafts = ["release/*"]\n')
    pushed(work.path, "origin", "main")
    wait_runs(work.log, 1)
    git("switch", "-q", "-c", "release/1", cwd=work.path)
    on_release = commit(work.path, "Release work")
    pushed(work.path, "origin", "release/1")
    wait_runs(work.log, 2)
    git("switch", "-q", "-c", "spike", cwd=work.path)
    commit(work.path, "Spike work")
    pushed(work.path, "origin", "spike")
    wait_runs(work.log, 3)
    rows = sessions(cli, work.store)
    assert len(rows) == 2
    drafts = {
        tuple(commit_hashes(record(cli, work.store, str(r["session_id"])))): is_draft(
            cli, work.store, str(r["session_id"])
        )
        for r in rows
    }
    assert drafts[(on_release,)] is True and list(drafts.values()).count(False) == 1
    last = log_entries(work.log, "push")[-1]
    assert "spike is not one of the branches .gitflywheel.toml records" in str(last["message"])


def test_a_push_of_fewer_than_min_commits_records_nothing(cli: Cli, work: Work) -> None:
    settings_commit(work.path, "min_commits = 2\n")
    pushed(work.path, "origin", "main")
    wait_runs(work.log, 1)
    assert sessions(cli, work.store) == []
    assert "1 new commit, fewer than min_commits = 2" in str(
        log_entries(work.log, "push")[-1]["message"]
    )
    made = [commit(work.path, "One"), commit(work.path, "Two")]
    pushed(work.path, "origin", "main")
    wait_runs(work.log, 2)
    rows = sessions(cli, work.store)
    assert [commit_hashes(record(cli, work.store, str(r["session_id"]))) for r in rows] == [made]


def test_the_name_setting_names_the_repository_in_public_text(cli: Cli, work: Work) -> None:
    settings_commit(work.path, 'name = "Parser Works"\n')
    commit(work.path, "Add the parser")
    pushed(work.path, "origin", "main")
    wait_runs(work.log, 1)
    (row,) = sessions(cli, work.store)
    session_id = str(row["session_id"])
    rec = record(cli, work.store, session_id)
    assert rec["source_data"]["repo_path"] == "Parser Works"  # type: ignore[index]
    assert rec["source_data"]["remote"] == "remote"  # type: ignore[index]
    assert session_id == push_session_id(
        f"file://{work.remote}", *git("rev-parse", "HEAD~2", "HEAD", cwd=work.path).split()
    )
    log = cli("show", "--repo", work.store, session_id, "build_log").stdout
    post = blog_post(cli, work.store, session_id)
    assert "Parser Works" in log and "Parser Works" in post


def test_pyproject_tool_gitflywheel_counts_and_gitflywheel_toml_comes_first(
    cli: Cli, work: Work
) -> None:
    settings_commit(
        work.path,
        '[project]\nname = "widget"\n\n[tool.gitflywheel]\nrecord = false\n',
        "pyproject.toml",
    )
    pushed(work.path, "origin", "main")
    wait_runs(work.log, 1)
    assert sessions(cli, work.store) == []
    assert "record = false in pyproject.toml [tool.gitflywheel]" in str(
        log_entries(work.log, "push")[-1]["message"]
    )
    settings_commit(work.path, "record = true\n")
    pushed(work.path, "origin", "main")
    wait_runs(work.log, 2)
    assert len(sessions(cli, work.store)) == 1


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('min_commits = "two"\n', ".gitflywheel.toml: min_commits: must be a whole number"),
        ("recrod = false\n", ".gitflywheel.toml: recrod: not a setting"),
        ("record = \n", ".gitflywheel.toml: not TOML"),
    ],
)
def test_settings_that_cannot_be_read_set_the_push_aside_with_the_reason(
    cli: Cli, work: Work, text: str, reason: str
) -> None:
    bad = settings_commit(work.path, text)
    pushed(work.path, "origin", "main")
    wait_runs(work.log, 1)
    assert sessions(cli, work.store) == []
    (aside,) = sorted((work.store_spool / "broken").glob("push.*"))
    error = log_entries(work.log, "push")[-1]
    assert error["level"] == "error" and error["spool"] == str(aside)
    assert f"refs/heads/main at {bad[:12]}: {reason}" in str(error["message"])
    assert "Traceback" not in work.log.read_text()
    st = status(cli, work)
    assert reason in str(st["last_error"]["message"])  # type: ignore[index]
    fixed = settings_commit(work.path, "min_commits = 1\n")
    pushed(work.path, "origin", "main")
    wait_runs(work.log, 2)
    rows = sessions(cli, work.store)
    assert [commit_hashes(record(cli, work.store, str(r["session_id"]))) for r in rows] == [[fixed]]


# -- only what the remote holds is recorded -----------------------------------------------


def _refuse(remote: Path, hook: str = "pre-receive", script: str = "exit 1") -> Path:
    path = remote / "hooks" / hook
    path.write_text(f"#!/bin/sh\necho 'refused by policy' >&2\n{script}\n")
    path.chmod(0o755)
    return path


def _dropped(work: Work) -> list[str]:
    entry = log_entries(work.log, "push")[-1]
    dropped = entry["dropped"]
    assert isinstance(dropped, list)
    return [str(d) for d in dropped]


def test_a_push_the_remote_refuses_records_nothing(cli: Cli, work: Work) -> None:
    hook = _refuse(work.remote)
    secret = commit(work.path, "Secret wip")
    refused = push(work.path, "origin", "main")
    assert refused.returncode != 0 and "refused by policy" in refused.stderr
    wait_runs(work.log, 1)
    assert sessions(cli, work.store) == []
    assert "secret" not in git("-C", work.store, "log", "--all", "-p").lower()
    [reason] = _dropped(work)
    assert "refs/heads/main" in reason and secret[:12] in reason and "refused" in reason
    assert spooled(work.store_spool) == [] and spooled(work.repo_spool) == []

    hook.unlink()  # accepted now: the same commits are recorded
    pushed(work.path, "origin", "main")
    wait_runs(work.log, 2)
    rows = sessions(cli, work.store)
    assert [commit_hashes(record(cli, work.store, str(r["session_id"]))) for r in rows] == [
        [secret]
    ]


def test_a_dry_run_records_nothing(cli: Cli, work: Work) -> None:
    commit(work.path, "Secret wip")
    pushed(work.path, "--dry-run", "origin", "main")
    wait_runs(work.log, 1)
    assert sessions(cli, work.store) == []
    assert len(_dropped(work)) == 1 and spooled(work.store_spool) == []
    assert (
        git("ls-remote", work.remote, "refs/heads/main").split()[0]
        != git("rev-parse", "main", cwd=work.path).strip()
    )


@pytest.mark.slow
def test_a_push_accepted_in_part_records_that_part(cli: Cli, work: Work) -> None:
    _refuse(work.remote, "update", '[ "$1" = refs/heads/secret ] && exit 1; exit 0')
    shared = commit(work.path, "Shared work")
    git("switch", "-q", "-c", "secret", cwd=work.path)
    hidden = commit(work.path, "Secret wip")
    refused = push(work.path, "origin", "main", "secret")
    assert refused.returncode != 0
    wait_runs(work.log, 1)
    rows = sessions(cli, work.store)
    assert [commit_hashes(record(cli, work.store, str(r["session_id"]))) for r in rows] == [
        [shared]
    ]
    [reason] = _dropped(work)
    assert "refs/heads/secret" in reason and hidden[:12] in reason


@pytest.mark.slow
@pytest.mark.parametrize("server", ["git", "http"])
def test_over_the_wire_only_what_the_remote_took_is_recorded(
    cli: Cli, tmp_path: Path, server: str
) -> None:
    served = tmp_path / "served"
    hub = served / "hub.git"
    git("init", "-q", "--bare", "-b", "main", hub)
    git("-C", hub, "config", "http.receivepack", "true")
    repo = new_repo(tmp_path / "work")
    store = tmp_path / "store.git"
    assert cli("hook", "install", "--repo", store, "--source", repo).exit_code == 0
    log = store / "gitflywheel" / "hook.log"
    with git_daemon(served) if server == "git" else git_http(served) as base:
        url = f"{base}/hub.git"
        hook = _refuse(hub)
        commit(repo, "Secret wip")
        assert push(repo, url, "main").returncode != 0
        wait_runs(log, 1)
        assert sessions(cli, store) == []
        hook.unlink()
        published = commit(repo, "Published")
        pushed(repo, url, "main")
        wait_runs(log, 2)
    rows = sessions(cli, store)
    assert len(rows) == 1
    assert commit_hashes(record(cli, store, str(rows[0]["session_id"])))[-1] == published


def test_a_remote_out_of_reach_keeps_the_push_spooled(cli: Cli, work: Work) -> None:
    new = commit(work.path, "Pushed, then the remote went away")
    pushed(work.path, "--no-verify", "origin", "main")
    old = git("rev-parse", "HEAD~1", cwd=work.path).strip()
    work.store_spool.mkdir(parents=True, exist_ok=True)
    spool = work.store_spool / "push.byhand"
    spool.write_text(
        f"{SPOOL_FORMAT}\nremote origin\nurl ../remote.git\ncwd {work.path}\n"
        f"git-dir {work.git_dir}\nupdate refs/heads/main {new} refs/heads/main {old}\n"
    )
    aside = work.root / "remote-aside.git"
    work.remote.rename(aside)
    first = cli("hook", "run", "--source", work.path, "--json")
    report = json.loads(first.stdout)
    assert report["recorded"] == 0 and report["waiting"] == 1 and spool.exists()
    assert "stays in the spool" in str(report["pushes"][0]["error"])
    assert sessions(cli, work.store) == []
    aside.rename(work.remote)
    again = json.loads(cli("hook", "run", "--source", work.path, "--json").stdout)
    assert again["recorded"] == 1 and again["waiting"] == 0
    rows = sessions(cli, work.store)
    assert [commit_hashes(record(cli, work.store, str(r["session_id"]))) for r in rows] == [[new]]


def test_a_spool_file_of_a_push_still_running_waits_for_it(cli: Cli, work: Work) -> None:
    new = commit(work.path, "Still on its way")
    old = git("rev-parse", "HEAD~1", cwd=work.path).strip()
    work.store_spool.mkdir(parents=True, exist_ok=True)
    spool = work.store_spool / "push.running"
    spool.write_text(
        f"{SPOOL_FORMAT}\nremote origin\nurl ../remote.git\ncwd {work.path}\n"
        f"git-dir {work.git_dir}\npid {os.getpid()}\n"
        f"update refs/heads/main {new} refs/heads/main {old}\n"
    )
    report = json.loads(cli("hook", "run", "--source", work.path, "--json").stdout)
    assert report["recorded"] == 0 and spool.exists()  # not dropped: its push has not ended
    assert parse_spool(spool.read_bytes(), "x").pid == os.getpid()


# -- other hooks, hook folders, worktrees --------------------------------------------------


def test_an_existing_hook_runs_first_and_its_refusal_stands(cli: Cli, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git("init", "-q", "--bare", "-b", "main", remote)
    repo = new_repo(tmp_path / "work")
    git("remote", "add", "origin", str(remote), cwd=repo)
    seen = tmp_path / "seen.txt"
    hook = repo / ".git" / "hooks" / "pre-push"
    original = (
        "#!/bin/sh\n"
        f'echo "args: $*" > "{seen}"\n'
        f'cat >> "{seen}"\n'
        'if [ -e "$(git rev-parse --git-dir)/refuse" ]; then echo "not today" >&2; exit 7; fi\n'
    )
    hook.write_text(original)
    hook.chmod(0o755)
    store = tmp_path / "store.git"
    result = cli("hook", "install", "--repo", store, "--source", repo)
    assert result.exit_code == 0 and "pre-push.gitflywheel-orig" in result.output

    new = commit(repo, "Refused work")
    (repo / ".git" / "refuse").touch()
    refused = push(repo, "origin", "main")
    assert refused.returncode != 0 and "not today" in refused.stderr
    assert seen.read_text() == (
        f"args: origin {remote}\nrefs/heads/main {new} refs/heads/main {ZERO}\n"
    )
    assert spooled(store / "gitflywheel" / "spool") == []
    assert git("ls-remote", remote) == ""

    (repo / ".git" / "refuse").unlink()
    pushed(repo, "origin", "main")
    wait_runs(store / "gitflywheel" / "hook.log", 1)
    assert len(sessions(cli, store)) == 1
    st = status(cli, Work(repo, remote, store, tmp_path))
    assert str(st["chained"]).endswith("pre-push.gitflywheel-orig")

    assert cli("hook", "uninstall", "--source", repo).exit_code == 0
    assert hook.read_text() == original
    assert not (hook.parent / "pre-push.gitflywheel-orig").exists()
    again = cli("hook", "uninstall", "--source", repo)
    assert again.exit_code == 2 and "not gitflywheel's" in again.output


def test_hooks_go_where_core_hooks_path_says(cli: Cli, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git("init", "-q", "--bare", "-b", "main", remote)
    repo = new_repo(tmp_path / "work")
    git("remote", "add", "origin", str(remote), cwd=repo)
    git("config", "core.hooksPath", ".githooks", cwd=repo)
    store = tmp_path / "store.git"
    assert cli("hook", "install", "--repo", store, "--source", repo).exit_code == 0
    assert (repo / ".githooks" / "pre-push").is_file()
    assert not (repo / ".git" / "hooks" / "pre-push").exists()
    commit(repo, "Hooked elsewhere")
    pushed(repo, "origin", "main")
    wait_runs(store / "gitflywheel" / "hook.log", 1)
    assert len(sessions(cli, store)) == 1


def test_a_dispatcher_that_goes_by_its_name_still_runs_the_users_hook(
    cli: Cli, tmp_path: Path
) -> None:
    """husky's layout: core.hooksPath=.husky/_, where each hook sources `h`, which runs
    the user's script named after the hook: `basename "$0"` must still say pre-push."""
    remote = tmp_path / "remote.git"
    git("init", "-q", "--bare", "-b", "main", remote)
    repo = new_repo(tmp_path / "work")
    git("remote", "add", "origin", str(remote), cwd=repo)
    (repo / ".husky" / "_").mkdir(parents=True)
    (repo / ".husky" / "_" / "h").write_text(
        '#!/usr/bin/env sh\nn=$(basename "$0")\ns=$(dirname "$(dirname "$0")")/$n\n'
        '[ ! -f "$s" ] && exit 0\nsh -e "$s" "$@"\n'
    )
    dispatcher = repo / ".husky" / "_" / "pre-push"
    dispatcher.write_text('#!/usr/bin/env sh\n. "${0%/*}/h"\n')
    dispatcher.chmod(0o755)
    seen = tmp_path / "seen.txt"
    (repo / ".husky" / "pre-push").write_text(
        f'cat > "{seen}"\n[ -e "{tmp_path}/refuse" ] && {{ echo "lint failed" >&2; exit 3; }}\nexit 0\n'
    )
    git("config", "core.hooksPath", ".husky/_", cwd=repo)
    store = tmp_path / "store.git"
    assert cli("hook", "install", "--repo", store, "--source", repo).exit_code == 0
    assert (repo / ".husky" / "_" / "pre-push.gitflywheel-orig").is_file()

    new = commit(repo, "Lint me")
    (tmp_path / "refuse").touch()
    refused = push(repo, "origin", "main")
    assert refused.returncode != 0 and "lint failed" in refused.stderr
    assert seen.read_text() == f"refs/heads/main {new} refs/heads/main {ZERO}\n"
    assert spooled(store / "gitflywheel" / "spool") == []
    (tmp_path / "refuse").unlink()
    pushed(repo, "origin", "main")
    wait_runs(store / "gitflywheel" / "hook.log", 1)
    assert len(sessions(cli, store)) == 1


def test_a_push_from_a_linked_worktree_is_recorded(cli: Cli, work: Work) -> None:
    tree = work.root / "tree"
    git("worktree", "add", "-q", "-b", "side", tree, cwd=work.path)
    done = commit(tree, "Side work")
    pushed(tree, "origin", "side")
    wait_runs(work.log, 1)
    rows = sessions(cli, work.store)
    assert [commit_hashes(record(cli, work.store, str(r["session_id"]))) for r in rows] == [[done]]


# -- the work tree cannot reach the run ----------------------------------------------------


def _run_ended(work: Work) -> bool:
    """The detached run logged its end, or the hook logged that it could not start one."""
    return bool(log_entries(work.log) or log_entries(work.log, "hook"))


def _recorded_despite(cli: Cli, work: Work, new: list[str], marker: Path) -> None:
    wait_until(lambda: _run_ended(work) or marker.exists(), "the run after the push")
    assert not marker.exists(), marker.read_text()
    assert log_entries(work.log, "hook") == [] and log_entries(work.log)[-1]["level"] == "info"
    rows = sessions(cli, work.store)
    assert [commit_hashes(record(cli, work.store, str(r["session_id"]))) for r in rows] == [new]
    assert spooled(work.store_spool) == []


def test_a_gitflywheel_package_in_the_work_tree_never_runs(cli: Cli, work: Work) -> None:
    """The run imports the installed gitflywheel, not one the project holds, even with
    the work tree on PYTHONPATH."""
    marker = work.root / "ran-the-projects-gitflywheel"
    fake = f"open({str(marker)!r}, 'w').write(__file__)\n"
    new = [
        commit(work.path, "Init", "gitflywheel/__init__.py", fake),
        commit(work.path, "Main", "gitflywheel/__main__.py", fake),
    ]
    pushed(work.path, "origin", "main", env={"PYTHONPATH": str(work.path)})
    _recorded_despite(cli, work, new, marker)


@pytest.mark.parametrize("where", ["work tree", "elsewhere"])
def test_modules_in_the_work_tree_shadow_nothing_the_run_imports(
    cli: Cli, work: Work, tmp_path: Path, where: str
) -> None:
    """A `uuid.py`, a `click` or a `jinja2` folder at the root of a project; pushed from
    its work tree, or from another folder holding them too, with git's own variables
    pointing at the work repository."""
    marker = work.root / "imported-from-the-work-tree"
    shadow = f"open({str(marker)!r}, 'a').write(__name__)\nraise ImportError('shadowed')\n"
    shadows = ["uuid.py", "click/__init__.py", "jinja2/__init__.py"]
    new = [commit(work.path, f"Shadow {name}", name, shadow) for name in shadows]
    if where == "work tree":
        pushed(work.path, "origin", "main")
    else:
        elsewhere = tmp_path / "elsewhere"
        for name in shadows:
            (elsewhere / name).parent.mkdir(parents=True, exist_ok=True)
            (elsewhere / name).write_text(shadow)
        variables = {"GIT_DIR": str(work.git_dir), "GIT_WORK_TREE": str(work.path)}
        pushed(elsewhere, "origin", "main", env=variables)
    _recorded_despite(cli, work, new, marker)


# -- failures: the push goes on, status says why, the next push catches up -----------------


def _break_store(work: Work, how: str) -> Path:
    aside = work.root / "store-aside.git"
    work.store.rename(aside)
    if how == "file":
        work.store.write_text("not a store\n")
    return aside


@pytest.mark.parametrize("how", ["missing", "file"])
def test_a_store_out_of_reach_loses_nothing(cli: Cli, work: Work, how: str) -> None:
    first = commit(work.path, "While the store was away")
    aside = _break_store(work, how)
    pushed(work.path, "origin", "main")
    fallback_log = work.repo_spool / "hook.log"
    wait_runs(fallback_log, 1)
    assert len(spooled(work.repo_spool)) == 1
    st = status(cli, work)
    assert not st["ok"] and st["failing"]
    assert st["store_problem"] and str(work.store) in str(st["store_problem"])
    text = cli("hook", "status", "--source", work.path).output
    assert "PROBLEM" in text and "last error" in text and "NEEDS ATTENTION" in text

    if how == "file":
        work.store.unlink()
    aside.rename(work.store)
    second = commit(work.path, "After it came back")
    pushed(work.path, "origin", "main")
    wait_runs(work.log, 1)
    wait_until(lambda: spooled(work.repo_spool) == [], "the spool to drain")
    lists = sorted(
        commit_hashes(record(cli, work.store, str(r["session_id"])))
        for r in sessions(cli, work.store)
    )
    assert lists == sorted([[first], [second]])
    st = status(cli, work)
    assert st["ok"] and st["sessions_recorded"] == 2 and not st["failing"]
    fsck(work.store)


@pytest.mark.parametrize("how", ["gone", "without gitflywheel"])
def test_a_missing_interpreter_loses_nothing(cli: Cli, work: Work, how: str) -> None:
    wrapper = work.root / "bin" / "python"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    wrapper.chmod(0o755)
    result = cli(
        "hook", "install", "--repo", work.store, "--source", work.path, "--python", wrapper
    )
    assert result.exit_code == 0, result.output
    saved = wrapper.read_text()
    if how == "gone":
        wrapper.unlink()
    else:  # an interpreter that no longer has gitflywheel installed
        wrapper.write_text("#!/bin/sh\necho 'No module named gitflywheel' >&2\nexit 1\n")
    first = commit(work.path, "Without an interpreter")
    pushed(work.path, "origin", "main")
    assert len(spooled(work.store_spool)) == 1
    wait_until(lambda: log_entries(work.log, "hook") != [], "the hook to log the failure")
    st = status(cli, work)
    assert not st["ok"] and st["failing"] and st["waiting"] == 1
    message = str(st["last_error"]["message"])  # type: ignore[index]
    assert str(wrapper) in message and "hook install" in message
    if how == "gone":
        assert st["python_ok"] is False
        assert "MISSING" in cli("hook", "status", "--source", work.path).output

    wrapper.write_text(saved)
    wrapper.chmod(0o755)
    second = commit(work.path, "With it again")
    pushed(work.path, "origin", "main")
    wait_runs(work.log, 1)
    lists = sorted(
        commit_hashes(record(cli, work.store, str(r["session_id"])))
        for r in sessions(cli, work.store)
    )
    assert lists == sorted([[first], [second]])
    assert spooled(work.store_spool) == []
    assert status(cli, work)["ok"]


def test_a_broken_spool_file_is_set_aside_and_named(cli: Cli, work: Work) -> None:
    work.store_spool.mkdir(parents=True, exist_ok=True)
    (work.store_spool / "push.garbage").write_bytes(b"\x00\xffnot a spool file\n")
    new = commit(work.path, "Despite the garbage")
    pushed(work.path, "origin", "main")
    wait_runs(work.log, 1)
    rows = sessions(cli, work.store)
    assert [commit_hashes(record(cli, work.store, str(r["session_id"]))) for r in rows] == [[new]]
    st = status(cli, work)
    assert st["broken"] == [str(work.store_spool / "broken" / "push.garbage")]
    assert "push.garbage" in str(st["last_error"]["message"])  # type: ignore[index]
    assert not st["ok"]
    assert "broken spool file" in cli("hook", "status", "--source", work.path).output


def test_a_malformed_commit_from_upstream_holds_up_no_push(cli: Cli, work: Work) -> None:
    """A commit with no date (git's fsck on transfer is off by default, so such commits
    arrive from upstream) is left out with a note; this push and the next are recorded."""
    base = git("rev-parse", "HEAD", cwd=work.path).strip()
    tree = git("rev-parse", "HEAD^{tree}", cwd=work.path).strip()
    header = f"tree {tree}\nparent {base}\nauthor A <a@example.com>\ncommitter A <a@example.com>\n"
    bad = git(
        *("hash-object", "-t", "commit", "--literally", "-w", "--stdin"),
        cwd=work.path,
        input=f"{header}\nFrom upstream\n".encode(),
    ).strip()
    git("update-ref", "refs/heads/main", bad, cwd=work.path)
    first = commit(work.path, "On top of it")
    pushed(work.path, "origin", "main")
    wait_runs(work.log, 1)
    entry = log_entries(work.log, "push")[-1]
    assert any(bad[:12] in str(n) and "malformed" in str(n) for n in entry["notes"])  # type: ignore[union-attr]
    second = commit(work.path, "And later")
    pushed(work.path, "origin", "main")
    wait_runs(work.log, 2)
    lists = sorted(
        commit_hashes(record(cli, work.store, str(r["session_id"])))
        for r in sessions(cli, work.store)
    )
    assert lists == sorted([[first], [second]])
    assert spooled(work.store_spool) == [] and status(cli, work)["ok"]


def test_install_is_idempotent_and_status_outside_a_repository_is_an_error(
    cli: Cli, work: Work, tmp_path: Path
) -> None:
    again = cli("hook", "install", "--repo", work.store, "--source", work.path, "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["updated"] is True
    assert json.loads(again.stdout)["kept"] is None
    plain = tmp_path / "plain"
    plain.mkdir()
    outside = cli("hook", "status", "--source", plain)
    assert outside.exit_code == 2 and "not a git work repository" in outside.output
    not_a_store = tmp_path / "project"
    new_repo(not_a_store)
    commit(not_a_store, "Someone's project")
    refused = cli("hook", "install", "--repo", not_a_store / ".git", "--source", work.path)
    assert refused.exit_code == 2 and "not a gitflywheel store" in refused.output
    assert cli("hook", "uninstall", "--source", work.path).exit_code == 0
    assert not (work.git_dir / "hooks" / "pre-push").exists()
    gone = cli("hook", "status", "--source", work.path, "--json")
    assert json.loads(gone.stdout)["installed"] is False


# -- parsing what crosses in: remote URLs and spool files ---------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/ada/engine.git",
        "https://ada:tok3n@GitHub.com:443/ada/engine/",
        "http://github.com/ada/engine",
        "ssh://git@github.com/ada/engine.git",
        "ssh://git@github.com:22/ada/engine",
        "git@github.com:ada/engine.git",
        "github.com:ada/engine",
        "git://github.com/ada/engine.git/",
    ],
)
def test_every_spelling_of_a_remote_is_one_identity(url: str) -> None:
    assert remote_identity(url) == "github.com/ada/engine"
    assert remote_label(url) == "github.com/ada/engine"


def test_remotes_on_disk_are_named_not_located(tmp_path: Path) -> None:
    bare = tmp_path / "things" / "engine.git"
    bare.mkdir(parents=True)
    forms = [str(bare), f"{bare}/", f"file://{bare}", "../things/engine.git"]
    cwd = str(tmp_path / "work")
    assert {remote_identity(f, cwd) for f in forms} == {f"file://{bare.resolve()}"[:-4]}
    assert {remote_label(f, cwd) for f in forms} == {"engine"}
    assert remote_identity("https://host:8443/a/b") == "host:8443/a/b"


_token = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-_.~"), min_size=1)
_secret = st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), min_size=6)


@settings(max_examples=200, deadline=None)
@given(user=_token, secret=_secret, path=st.lists(_token, min_size=1, max_size=4))
def test_credentials_never_survive(user: str, secret: str, path: list[str]) -> None:
    url = f"https://{user}:{secret}@example.org/{'/'.join(path)}.git"
    assert secret not in remote_label(url) and secret not in remote_identity(url)
    assert remote_label(url) == remote_label(f"https://example.org/{'/'.join(path)}")
    assert remote_identity(url) == remote_identity(f"ssh://git@example.org/{'/'.join(path)}/")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_remote_text_gets_an_identity(text: str) -> None:
    assert remote_identity(text, "/tmp")
    assert "\n" not in remote_label(text.replace("\n", ""), "/tmp")


SHA_A = "a" * 40
SHA_B = "b" * 40


def _spool(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def test_a_spool_file_reads_back() -> None:
    push_ = parse_spool(
        _spool(
            SPOOL_FORMAT,
            "remote origin",
            "url git@host:o/r.git",
            "cwd /src/my work",
            "git-dir /src/my work/.git",
            f"tracking {SHA_A}",
            f"update refs/heads/main {SHA_B} refs/heads/main {SHA_A}",
        ),
        "x",
    )
    assert push_.git_dir == "/src/my work/.git" and push_.tracking == (SHA_A,)
    assert push_.updates[0].remote_sha == SHA_A and not push_.updates[0].creates


@pytest.mark.parametrize(
    "lines, reason",
    [
        ((), "not a gitflywheel spool file"),
        (("gitflywheel-push 2",), "not a gitflywheel spool file"),
        ((SPOOL_FORMAT, "remote o", "url u", "git-dir /g"), "no update lines"),
        ((SPOOL_FORMAT, "remote o", "git-dir /g", f"update a {SHA_A} b {SHA_B}"), "url: missing"),
        (
            (SPOOL_FORMAT, "remote o", "url u", "git-dir g", f"update a {SHA_A} b {SHA_B}"),
            "absolute",
        ),
        ((SPOOL_FORMAT, "remote o", "url u", "git-dir /g", "update a b c d"), "update"),
        ((SPOOL_FORMAT, "remote o", "url u", "git-dir /g", "tracking ../../x"), "tracking"),
        ((SPOOL_FORMAT, "remote o", "remote p", "url u"), "given twice"),
        ((SPOOL_FORMAT, "remote o", "pid -1"), "pid"),
        ((SPOOL_FORMAT, "rm -rf /"), "unknown line"),
    ],
)
def test_a_bad_spool_file_is_refused_with_its_reason(lines: tuple[str, ...], reason: str) -> None:
    with pytest.raises(SpoolError, match=reason):
        parse_spool(_spool(*lines) if lines else b"", "spool/push.x")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_are_a_spool_file_or_a_spool_error(data: bytes) -> None:
    with contextlib.suppress(SpoolError):
        parse_spool(SPOOL_FORMAT.encode() + b"\n" + data, "fuzz")


def test_the_hook_runs_as_many_commands_for_2000_refs_as_for_one(work: Work) -> None:
    """The hook keeps what git feeds it in one file, read whole: a push of many refs costs
    it no more shell steps than a push of one (counted with `sh -x`, not timed; the
    figures are in `scripts/bench_hook.py --tags`)."""
    hook = work.git_dir / "hooks" / "pre-push"
    sha = git("rev-parse", "HEAD", cwd=work.path).strip()
    traced = []
    tmp = work.root / "tmp"
    tmp.mkdir()
    for count in (1, 2000):
        lines = "".join(f"refs/heads/b{n} {sha} refs/heads/b{n} {ZERO}\n" for n in range(count))
        done = subprocess.run(
            ["sh", "-x", str(hook), "origin", str(work.remote)],
            cwd=work.path,
            input=lines,
            capture_output=True,
            text=True,
            env={**os.environ, "GITFLYWHEEL_SKIP": "1", "TMPDIR": str(tmp)},  # spool nothing
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert list(tmp.iterdir()) == []  # its file of git's lines is gone
        traced.append(sum(1 for line in done.stderr.splitlines() if line.startswith("+")))
    assert traced[0] == traced[1], traced
    assert spooled(work.store_spool) == [] and spooled(work.repo_spool) == []


def test_the_hook_is_plain_posix_sh(work: Work) -> None:
    hook = work.git_dir / "hooks" / "pre-push"
    assert hook.read_text().startswith("#!/bin/sh\n")
    dash = shutil.which("dash") or shutil.which("sh")
    assert dash is not None
    subprocess.run([dash, "-n", str(hook)], check=True)
