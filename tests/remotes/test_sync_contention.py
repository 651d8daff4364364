"""Many writers, one remote: six stores, each syncing after every session it records
while the others do the same, through one real `git daemon`. Every sync lands (a push
that loses a race is retried by `sync` itself), every session ends on the server and on
each writer, and no lost race leaves a merge behind: the server holds exactly one merge
per sync that reported one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, Cli, fsck, git, session
from servers import git_daemon

from gitflywheel.queries.sessions import list_sessions
from gitflywheel.storage.store import Store

WRITERS = 6
SESSIONS = 4  # each writer's


def session_ids(store: Path) -> set[str]:
    with Store.open(store) as opened:
        return {row.session_id for row in list_sessions(opened, use_index=False)}


@pytest.mark.slow
def test_six_writers_syncing_after_every_session_all_land(cli: Cli, tmp_path: Path) -> None:
    served = tmp_path / "served"
    served.mkdir()
    git("init", "-q", "--bare", "-b", "main", served / "hub.git")
    stores = [tmp_path / f"writer-{w}.git" for w in range(WRITERS)]
    expected = set()
    inputs = []
    for w in range(WRITERS):
        lines = []
        for i in range(SESSIONS):
            sid = f"writer-{w}-session-{i}"
            expected.add(sid)
            lines.append(json.dumps(session(sid, title=f"Writer {w}, session {i}")))
        inputs.append(tmp_path / f"writer-{w}.jsonl")
        inputs[-1].write_text("\n".join(lines) + "\n")
    with git_daemon(served) as base:
        url = f"{base}/hub.git"
        assert cli("init", "--repo", stores[0]).exit_code == 0
        assert cli("sync", "--repo", stores[0], url).exit_code == 0  # the hub's first commit
        for store in stores[1:]:
            assert cli("sync", "--repo", store, url).exit_code == 0  # each starts from it
        writers = [
            subprocess.Popen(
                [
                    sys.executable,
                    str(ROOT / "scripts" / "sync_writer.py"),
                    str(store),
                    url,
                    str(lines),
                    "--timeout",
                    "120",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for store, lines in zip(stores, inputs, strict=True)
        ]
        rows = []
        for writer in writers:
            out, err = writer.communicate(timeout=900)
            assert writer.returncode == 0, (out, err)
            rows += [json.loads(line) for line in out.splitlines()]
        for store in stores:  # each takes what the others pushed after its last sync
            assert cli("sync", "--repo", store, url).exit_code == 0
        clone = tmp_path / "clone.git"
        git("clone", "-q", "--bare", url, clone)
    assert len(rows) == WRITERS * SESSIONS
    assert all("error" not in row and row["pushed"] for row in rows), rows
    merged = sum(1 for row in rows if row["action"] == "merged")
    assert int(git("-C", clone, "rev-list", "--merges", "--count", "main")) == merged
    assert session_ids(clone) == expected
    tip = git("-C", clone, "rev-parse", "main")
    for store in [*stores, clone]:
        assert session_ids(store) == expected
        assert git("-C", store, "rev-parse", "main") == tip
        result = cli("verify", "--repo", store, "--full", "--json")
        assert result.exit_code == 0, result.stdout
        fsck(store)


def test_a_landed_sync_is_the_store_verified(cli: Cli, tmp_path: Path) -> None:
    """What sync verified in its quarantine becomes the store's verification: the next
    verify checks only what came after, and agrees with a full one."""
    hub = tmp_path / "hub.git"
    git("init", "-q", "--bare", "-b", "main", hub)
    a, b = tmp_path / "a.git", tmp_path / "b.git"
    for_a, for_b = tmp_path / "a.json", tmp_path / "b.json"
    for_a.write_text(json.dumps([session(f"a-{i}", title=f"A {i}") for i in range(3)]))
    for_b.write_text(json.dumps([session("b-0", title="B 0")]))
    assert cli("ingest", "--repo", a, for_a).exit_code == 0
    assert cli("sync", "--repo", a, hub).exit_code == 0
    assert cli("sync", "--repo", b, hub).exit_code == 0  # a new store: fast-forward
    tip = git("-C", b, "rev-parse", "main").strip()
    assert git("-C", b, "rev-parse", "refs/gitflywheel/verified").strip() == tip
    assert cli("ingest", "--repo", b, for_b).exit_code == 0
    incremental = json.loads(cli("verify", "--repo", b, "--json").stdout)
    full = json.loads(cli("verify", "--repo", b, "--full", "--json").stdout)
    assert incremental["full"] is False and incremental["ok"] and full["ok"]
    assert incremental["figures"] == full["figures"]
    assert full["figures"]["sessions"] == 4
