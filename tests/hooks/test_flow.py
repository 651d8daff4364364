"""One push, and it is live: the hook with no --repo records into the user's store, the
store publishes by itself (`publish --auto`), site and all, and a refused push records
and publishes nothing. Real work repositories, real bare remotes, the real `git push`
running the hook, and its detached run awaited by polling the remotes and the log."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Cli, fsck, git

BASE = "https://me.example.org/flywheel/"


def commit(repo: Path, message: str) -> str:
    name = message.lower().replace(" ", "-") + ".txt"
    (repo / name).write_text(message + "\n")
    git("add", name, cwd=repo)
    git("commit", "-q", "-m", message, cwd=repo)
    return git("rev-parse", "HEAD", cwd=repo).strip()


def push(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "push", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
    )


def wait_until(check: Callable[[], bool], what: str, seconds: float = 90.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def logged(log: Path, event: str) -> list[dict[str, object]]:
    if not log.exists():
        return []
    entries = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return [e for e in entries if e.get("event") == event]


def ref(repo: Path, name: str) -> str | None:
    out = git("ls-remote", repo, name).split()
    return out[0] if out else None


def bare(path: Path) -> Path:
    git("init", "-q", "--bare", "-b", "main", path)
    return path


def work_repo(root: Path, remote: Path) -> Path:
    path = root / "work"
    git("init", "-q", "-b", "main", path)
    git("config", "user.name", "Ada Lovelace", cwd=path)
    git("config", "user.email", "ada@example.com", cwd=path)
    git("remote", "add", "origin", str(remote), cwd=path)
    commit(path, "Start")
    assert push(path, "-q", "origin", "main").returncode == 0
    return path


def test_one_push_and_it_is_live(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    remote, published = bare(tmp_path / "remote.git"), bare(tmp_path / "publish.git")
    work = work_repo(tmp_path, remote)
    monkeypatch.chdir(work)

    installed = cli("hook", "install", "--json")
    assert installed.exit_code == 0, installed.output
    store = data / "gitflywheel" / "flywheel.git"
    assert json.loads(installed.stdout)["store"] == str(store)
    assert git("status", "--porcelain", "--ignored", cwd=work) == ""
    status = json.loads(cli("hook", "status", "--json").stdout)
    assert status["store"] == str(store) and status["installed"]

    assert cli("config", "site.base_url", BASE).exit_code == 0
    first = cli("publish", "--auto", published, "--json")
    assert first.exit_code == 0, first.output
    said = json.loads(first.stdout)
    assert said["remembered"] == "origin" and said["auto"] is True
    assert said["site_branches"] == ["pages"]
    assert git("-C", store, "config", "remote.origin.url").strip() == str(published)

    # A plain push, and nothing else: the session reaches the publish remote, page and all.
    new = commit(work, "Teach the parser tables")
    pushed = push(work, "origin", "main")
    assert pushed.returncode == 0 and "gitflywheel" not in pushed.stdout + pushed.stderr

    def live() -> bool:
        main = ref(published, "refs/heads/main")
        return (
            main is not None
            and main == git("-C", store, "rev-parse", "main").strip()
            and ("Record build session" in git("-C", published, "log", "-1", "--format=%s", "main"))
        )

    wait_until(live, "the session on the publish remote's main")
    wait_until(
        lambda: ref(published, "refs/heads/pages") == ref(store, "refs/heads/pages"),
        "the site on the publish remote's pages",
    )
    message = git("-C", published, "log", "-1", "--format=%B", "pages")
    assert f"Built-From: {ref(published, 'refs/heads/main')}" in message
    pages = git("-C", published, "ls-tree", "-r", "--name-only", "pages").split()
    session_pages = [p for p in pages if p.startswith("sessions/") and p.endswith("/index.html")]
    assert len(session_pages) == 1
    page = git("-C", published, "show", f"pages:{session_pages[0]}")
    assert "Teach the parser tables" in page
    build_log = git(
        "-C", published, "show", f"pages:{session_pages[0][: -len('index.html')]}build_log.md"
    )
    assert new[:7] in build_log
    assert "https://me.example.org/flywheel/feed.xml" in git(
        "-C", published, "show", "pages:feed.xml"
    )
    [done] = logged(store / "gitflywheel" / "hook.log", "publish")
    assert done["level"] == "info" and done["pushed"] is True
    assert json.loads(cli("hook", "status", "--json").stdout)["ok"] is True
    fsck(published)

    # A push the server refuses records nothing, and publishes nothing.
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'refused by policy' >&2\nexit 1\n")
    hook.chmod(0o755)
    before = (ref(published, "refs/heads/main"), ref(published, "refs/heads/pages"))
    store_main = git("-C", store, "rev-parse", "main")
    commit(work, "Secret wip")
    refused = push(work, "origin", "main")
    assert refused.returncode != 0 and "refused by policy" in refused.stderr
    log = store / "gitflywheel" / "hook.log"
    wait_until(lambda: len(logged(log, "run")) >= 2, "the refused push's run")
    assert git("-C", store, "rev-parse", "main") == store_main
    assert (ref(published, "refs/heads/main"), ref(published, "refs/heads/pages")) == before
    [_, dropped] = logged(log, "push")
    assert dropped["recorded"] == [] and "refused" in str(dropped["dropped"])
    assert len(logged(log, "publish")) == 1

    # Publishing and syncing with no remote use the one recorded.
    again = cli("publish", "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["remote"] == "origin"
    assert cli("sync").exit_code == 0


def test_a_failing_publish_shows_in_hook_status_and_blocks_no_push(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    remote, published = bare(tmp_path / "remote.git"), bare(tmp_path / "publish.git")
    work = work_repo(tmp_path, remote)
    monkeypatch.chdir(work)
    assert cli("hook", "install").exit_code == 0
    store = tmp_path / "data" / "gitflywheel" / "flywheel.git"
    assert cli("publish", "--auto", published).exit_code == 0
    closed = published / "hooks" / "pre-receive"
    closed.write_text("#!/bin/sh\necho 'publish host closed' >&2\nexit 1\n")
    closed.chmod(0o755)

    commit(work, "Work while the host is closed")
    assert push(work, "origin", "main").returncode == 0
    log = store / "gitflywheel" / "hook.log"
    wait_until(lambda: len(logged(log, "publish")) >= 1, "the run's publish")
    [failed] = logged(log, "publish")
    assert failed["level"] == "error" and "publish host closed" in str(failed["message"])
    status = cli("hook", "status", "--json")
    shown = json.loads(status.stdout)
    assert shown["failing"] is True and shown["ok"] is False
    assert shown["publishes_to"] == "origin"
    assert "publish host closed" in shown["last_error"]["message"]
    assert len(json.loads(cli("ls", "--json").stdout)) == 1  # recorded all the same

    # The host opens again: the next run publishes what waited, and all is well.
    closed.unlink()
    commit(work, "Work once it opened")
    assert push(work, "origin", "main").returncode == 0
    wait_until(lambda: len(logged(log, "publish")) >= 2, "the next run's publish")
    assert logged(log, "publish")[-1]["level"] == "info"
    assert ref(published, "refs/heads/main") == git("-C", store, "rev-parse", "main").strip()
    assert json.loads(cli("hook", "status", "--json").stdout)["ok"] is True

    # --no-auto: the store publishes by itself no more.
    assert cli("publish", "--no-auto").exit_code == 0
    assert "autopublish" not in git("-C", store, "config", "--list")
