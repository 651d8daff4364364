"""Many writers, one remote: six stores, each syncing after every session it records
while the others do the same, through one real `git daemon`. Every sync lands (a push
that loses a race is retried by `sync` itself), every session ends on the server and on
each writer, and no lost race leaves a merge behind: the server holds exactly one merge
per sync that reported one."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import GFW, ROOT, Cli, fsck, git, session
from servers import git_daemon

from gitflywheel.queries.sessions import list_sessions
from gitflywheel.storage.gitdir import StorePaths
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


# The hub's pre-receive hook: a push whose history lacks the session `during-backoff`
# loses a race, as if another writer's push had landed first: main moves (between the
# store's own tip and another writer's, in turn) and the push is declined.
_LOSING_HOOK = """#!/bin/sh
read old new ref
if git log --format='%(trailers:key=Session-Id,valueonly)' "$new" | grep -qx during-backoff
then
    exit 0
fi
echo lost >> '{lost}'
if [ "$(git rev-parse refs/heads/main)" = '{other}' ]; then to='{base}'; else to='{other}'; fi
env -u GIT_QUARANTINE_PATH git update-ref refs/heads/main "$to"
echo 'another push landed first' >&2
exit 1
"""


def test_an_ingest_while_sync_waits_to_retry_lands_in_the_next_attempt(
    cli: Cli, tmp_path: Path
) -> None:
    """Between attempts sync holds no lock: an ingest started while it loses races runs
    in one of its pauses (under the writer lock it took from sync), and the next attempt
    combines it and pushes it. Held through the pauses, the lock would keep that ingest
    waiting until the sync gave up."""
    served = tmp_path / "served"
    served.mkdir()
    hub = served / "hub.git"
    git("init", "-q", "--bare", "-b", "main", hub)
    a, b = tmp_path / "a.git", tmp_path / "b.git"
    sessions = {}
    for sid in ("first", "second", "other", "during-backoff"):
        sessions[sid] = tmp_path / f"{sid}.json"
        sessions[sid].write_text(json.dumps(session(sid, title=f"Session {sid}")))
    lost = tmp_path / "lost"
    with git_daemon(served) as base:
        url = f"{base}/hub.git"
        assert cli("ingest", "--repo", a, sessions["first"]).exit_code == 0
        assert cli("sync", "--repo", a, url).exit_code == 0
        assert cli("sync", "--repo", b, url).exit_code == 0
        assert cli("ingest", "--repo", b, sessions["other"]).exit_code == 0
        git("-C", b, "push", "-q", hub, "main:refs/heads/other")  # the objects, not main
        hook = hub / "hooks" / "pre-receive"
        hook.write_text(
            _LOSING_HOOK.format(
                lost=lost,
                base=git("-C", hub, "rev-parse", "main").strip(),
                other=git("-C", b, "rev-parse", "main").strip(),
            )
        )
        hook.chmod(0o755)
        assert cli("ingest", "--repo", a, sessions["second"]).exit_code == 0
        syncing = subprocess.Popen(
            [*GFW, "sync", "--repo", a, url, "--json", "--timeout", "30"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            while not lost.exists():  # its first push lost: sync is retrying now
                assert syncing.poll() is None, syncing.communicate()
                time.sleep(0.02)
            ingested = cli("ingest", "--repo", a, sessions["during-backoff"])
            out, err = syncing.communicate(timeout=120)
        finally:
            if syncing.poll() is None:
                syncing.kill()
                syncing.wait()
        assert ingested.exit_code == 0, ingested.output
        assert syncing.returncode == 0, err.decode()
        done = json.loads(out)
        assert done["pushed"] is True and done["attempts"] >= 2
        assert done["attempts"] == 1 + len(lost.read_text().split())
        clone = tmp_path / "clone.git"
        git("clone", "-q", "--bare", url, clone)
    assert session_ids(clone) >= {"first", "second", "during-backoff"}
    assert git("-C", clone, "rev-parse", "main") == git("-C", a, "rev-parse", "main")
    assert StorePaths(a).quarantines() == []
    result = cli("verify", "--repo", a, "--full", "--json")
    assert result.exit_code == 0, result.stdout
    for store in (a, hub):
        fsck(store)
