"""Several writers at once, and a writer killed mid-way: nothing lost, nothing to unlock."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import GFW, fsck, git, session


def write_sessions(path: Path, prefix: str, count: int) -> None:
    path.write_text("".join(json.dumps(session(f"{prefix}-{i:05d}")) + "\n" for i in range(count)))


def session_count(store: Path) -> int:
    out = git("-C", store, "log", "--format=%(trailers:key=Session-Id,valueonly)", "main")
    return len([line for line in out.split() if line])


@pytest.mark.slow
def test_two_processes_ingesting_at_once_lose_nothing(tmp_path: Path) -> None:
    store = tmp_path / "store.git"
    subprocess.run([*GFW, "init", "--repo", store], check=True, capture_output=True)
    inputs = []
    for name in ("left", "right", "middle"):
        path = tmp_path / f"{name}.jsonl"
        write_sessions(path, name, 300)
        inputs.append(path)
    env = {**os.environ, "SOURCE_DATE_EPOCH": ""}
    runs = [
        subprocess.Popen(
            [*GFW, "ingest", "--repo", str(store), str(p)], stderr=subprocess.PIPE, env=env
        )
        for p in inputs
    ]
    for run in runs:
        _, err = run.communicate(timeout=300)
        assert run.returncode == 0, err.decode()
    assert session_count(store) == 900
    assert len(git("-C", store, "rev-list", "--first-parent", "main").split()) == 901
    fsck(store)


@pytest.mark.slow
def test_kill_9_mid_ingest_then_run_again(tmp_path: Path) -> None:
    store = tmp_path / "store.git"
    path = tmp_path / "many.jsonl"
    write_sessions(path, "k", 2000)
    run = subprocess.Popen(
        [*GFW, "ingest", "--repo", str(store), str(path)],
        stderr=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and run.poll() is None:
        heads = store / "refs" / "heads" / "main"
        if heads.exists() and session_count(store) > 0:
            break
        time.sleep(0.2)
    assert run.poll() is None, (
        "the ingest finished before it could be killed; make the input larger"
    )
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=30)
    fsck(store)
    landed = session_count(store)
    assert 0 < landed < 2000
    again = subprocess.run(
        [*GFW, "ingest", "--repo", str(store), str(path), "--json"],
        capture_output=True,
        timeout=300,
    )
    assert again.returncode == 0, again.stderr.decode()
    counts = json.loads(again.stdout)["counts"]
    assert counts["recorded"] == 2000 - landed and counts["unchanged"] == landed
    assert session_count(store) == 2000
    fsck(store)
    assert (
        subprocess.run(
            [*GFW, "verify", "--repo", str(store)], capture_output=True, timeout=300
        ).returncode
        == 0
    )


@pytest.mark.slow
def test_sigterm_lands_what_was_planned(tmp_path: Path) -> None:
    store = tmp_path / "store.git"
    path = tmp_path / "many.jsonl"
    write_sessions(path, "t", 4000)
    run = subprocess.Popen(
        [*GFW, "ingest", "--repo", str(store), str(path)], stderr=subprocess.DEVNULL
    )
    while run.poll() is None and not (store / "refs" / "heads" / "main").exists():
        time.sleep(0.05)
    time.sleep(1.0)
    run.send_signal(signal.SIGTERM)
    assert run.wait(timeout=60) == 128 + signal.SIGTERM
    fsck(store)
    assert session_count(store) > 0
