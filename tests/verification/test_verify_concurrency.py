"""verify across processes: several processes find what one finds, in the same order;
verify reads a snapshot of `main` and never holds up a writer; two verifies take turns
on a lock of their own, and the one that waits says so."""

from __future__ import annotations

import fcntl
import json
import os
import select
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import GFW, Cli, git, session

from gitflywheel.storage.layout import session_dir
from gitflywheel.storage.store import Store
from gitflywheel.verification import pool

ME = ["-c", "user.name=Mallory", "-c", "user.email=mallory@example.com"]
VERIFY_LOCK = "gitflywheel-verify.lock"


def write_sessions(path: Path, prefix: str, count: int) -> Path:
    path.write_text(
        "".join(
            json.dumps(session(f"{prefix}-{i:04d}", agent_id=f"Agent-{i}")) + "\n"
            for i in range(count)
        )
    )
    return path


def tamper(store: Path, tmp_path: Path, change: str) -> None:
    """One commit made with plain git on top of main, breaking the rules."""
    work = tmp_path / "work"
    if not work.exists():
        git("clone", "-q", store, work)
    git("-C", work, "pull", "-q", "origin", "main")
    folder = work / session_dir(change.split(":", 1)[1])
    if change.startswith("edit:"):
        post = next(folder.glob("*.md"))
        post.write_text(post.read_text() + "\nedited by hand\n")
    elif change.startswith("remove:"):
        git("-C", work, "rm", "-q", "-r", folder)
    else:
        (folder / "extra.txt").write_text("unlisted\n")
    git(*ME, "-C", work, "add", "-A")
    git(*ME, "-C", work, "commit", "-q", "-m", f"by hand: {change}")
    git("-C", work, "push", "-q", "origin", "HEAD:main")


def report(cli: Cli, store: Path, *args: str) -> dict[str, Any]:
    result = cli("verify", "--repo", store, "--full", "--json", *args)
    data: dict[str, Any] = json.loads(result.stdout)
    assert result.exit_code == (0 if data["ok"] else 1)
    return data


@pytest.mark.slow
def test_two_processes_find_what_one_finds_in_the_same_order(cli: Cli, tmp_path: Path) -> None:
    store = tmp_path / "store.git"
    # Violations spread over a history long enough to be shared out in several chunks.
    for part, changes in (("a", ["edit:a-0003"]), ("b", ["remove:b-0010", "extra:a-0020"])):
        sessions = write_sessions(tmp_path / f"{part}.jsonl", part, 45)
        assert cli("ingest", "--repo", store, sessions).exit_code == 0
        for change in changes:
            tamper(store, tmp_path, change)
    sessions = write_sessions(tmp_path / "c.jsonl", "c", 20)
    assert cli("ingest", "--repo", store, sessions).exit_code == 0

    one = report(cli, store, "--jobs", "1")
    two = report(cli, store, "--jobs", "2")
    rules = {f["rule"] for f in one["findings"]}
    assert {"artifact.missing", "session.removed", "artifact.unlisted"} <= rules, one["findings"]
    assert one["commits_checked"] == 114
    for key in ("findings", "warnings", "figures", "commits_checked", "sessions_checked"):
        assert two[key] == one[key], key


@pytest.mark.parametrize("early", [64, 2])
def test_the_work_comes_back_in_chain_order_however_much_was_started_while_listing(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, early: int
) -> None:
    store = tmp_path / "store.git"
    sessions = write_sessions(tmp_path / "s.jsonl", "s", 150)
    assert cli("ingest", "--repo", store, sessions).exit_code == 0
    expected = git("-C", store, "rev-list", "--first-parent", "--reverse", "main").split()
    monkeypatch.setattr(pool, "_EARLY", early)  # chunks started while the chain is listed
    with Store.open(store) as opened, pool.Preparing(opened, 2) as preparing:
        chain = preparing.listed(c.id for c in opened.first_parent_chain())
        assert [sha.decode() for sha in chain] == expected
        # as many as were listed, `early` or the chunks the two processes take ahead
        assert len(preparing._early) == min(early, len(expected) // pool.CHUNK, pool._AHEAD * 2)
        assert [work.commit for work in preparing.works(chain)] == expected


def _locked(path: Path) -> bool:
    """Whether another process holds an flock on `path`."""
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _wait_for(condition: Any, what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


@pytest.mark.slow
def test_ingest_completes_while_a_verify_runs(cli: Cli, tmp_path: Path) -> None:
    store = tmp_path / "store.git"
    assert (
        cli("ingest", "--repo", store, write_sessions(tmp_path / "a.jsonl", "a", 300)).exit_code
        == 0
    )
    tip = git("-C", store, "rev-parse", "main").strip()
    verify = subprocess.Popen(
        [*GFW, "verify", "--repo", str(store), "--full", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        # Once the run has started, stop it where it is: it must hold nothing a writer needs.
        _wait_for(lambda: _locked(store / VERIFY_LOCK) or verify.poll() is not None, "verify")
        verify.send_signal(signal.SIGSTOP)
        assert verify.poll() is None, "verify ended before it could be stopped"
        more = write_sessions(tmp_path / "b.jsonl", "b", 30)
        ingest = subprocess.run(
            [*GFW, "ingest", "--repo", str(store), str(more)], capture_output=True, timeout=120
        )
        assert ingest.returncode == 0, ingest.stderr.decode()
    finally:
        verify.send_signal(signal.SIGCONT)
    out, err = verify.communicate(timeout=300)
    assert verify.returncode == 0, err.decode()
    result = json.loads(out)
    assert result["tip"] == tip and result["commits_checked"] == 301
    # The next run takes up what came meanwhile.
    after = report(cli, store)
    assert after["ok"] and after["commits_checked"] == 331


@pytest.mark.slow
def test_verify_does_not_wait_for_a_writer(cli: Cli, tmp_path: Path) -> None:
    store = tmp_path / "store.git"
    assert (
        cli("ingest", "--repo", store, write_sessions(tmp_path / "a.jsonl", "a", 3)).exit_code == 0
    )
    with Store.open(store) as held, held.lock():
        done = subprocess.run(
            [*GFW, "verify", "--repo", str(store), "--full"], capture_output=True, timeout=120
        )
    assert done.returncode == 0, done.stderr.decode()


@pytest.mark.slow
def test_two_verifies_take_turns_on_their_own_lock(tmp_path: Path, cli: Cli) -> None:
    store = tmp_path / "store.git"
    assert (
        cli("ingest", "--repo", store, write_sessions(tmp_path / "a.jsonl", "a", 3)).exit_code == 0
    )
    fd = os.open(store / VERIFY_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as a verify that is running holds it
    try:
        second = subprocess.Popen(
            [*GFW, "verify", "--repo", str(store)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert second.stderr is not None
        ready, _, _ = select.select([second.stderr], [], [], 120)
        assert ready, "no message while waiting"
        assert "waiting for another verify" in second.stderr.readline().decode()
        assert second.poll() is None
        # A writer is not held up by verify's lock.
        ingest = cli.process(
            "ingest", "--repo", store, write_sessions(tmp_path / "b.jsonl", "b", 1)
        )
        assert ingest.returncode == 0, ingest.stderr.decode()
        assert second.poll() is None
    finally:
        os.close(fd)
    _, err = second.communicate(timeout=120)
    assert second.returncode == 0, err.decode()
    assert "OK: 5 commits checked" in err.decode()


@pytest.mark.parametrize("jobs", ["0", "-1", "two"])
def test_jobs_must_be_a_positive_number(cli: Cli, tmp_path: Path, jobs: str) -> None:
    store = tmp_path / "store.git"
    sessions = write_sessions(tmp_path / "a.jsonl", "a", 1)
    assert cli("ingest", "--repo", store, sessions).exit_code == 0
    assert cli("verify", "--repo", store, "--jobs", "2").exit_code == 0
    result = cli("verify", "--repo", store, "--jobs", jobs)
    assert result.exit_code == 2
    assert "--jobs" in result.output


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


@pytest.mark.slow
def test_a_checking_process_killed_midway_is_an_error_not_a_traceback(
    cli: Cli, tmp_path: Path
) -> None:
    store = tmp_path / "store.git"
    sessions = write_sessions(tmp_path / "a.jsonl", "a", 150)
    assert cli("ingest", "--repo", store, sessions).exit_code == 0
    verify = subprocess.Popen(
        [*GFW, "verify", "--repo", str(store), "--full", "--jobs", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(lambda: len(_children(verify.pid)) >= 2 or verify.poll() is not None, "workers")
        verify.send_signal(signal.SIGSTOP)
        assert verify.poll() is None, "verify ended before a worker could be killed"
        os.kill(_children(verify.pid)[0], signal.SIGKILL)
    finally:
        verify.send_signal(signal.SIGCONT)
    _, err = verify.communicate(timeout=300)
    assert verify.returncode == 2, err.decode()
    assert "ended abruptly" in err.decode() and "Traceback" not in err.decode()
    assert not (store / "gitflywheel" / "verify.sqlite3").exists()
    assert git("-C", store, "for-each-ref", "refs/gitflywheel/verified") == ""
