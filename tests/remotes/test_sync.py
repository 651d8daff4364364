"""publish and sync against real servers on loopback, paths and file:// URLs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import CORPUS, EXAMPLES, Cli, fsck, git, session, snapshot
from servers import TRANSPORTS


def hub(root: Path) -> Path:
    path = root / "hub.git"
    git("init", "-q", "--bare", "-b", "main", path)
    git("-C", path, "config", "http.receivepack", "true")
    return path


def session_ids(store: Path) -> set[str]:
    out = git("-C", store, "log", "--format=%(trailers:key=Session-Id,valueonly)", "main")
    return {line for line in out.split() if line}


@pytest.mark.parametrize("transport", sorted(TRANSPORTS))
def test_publish_clone_verify(cli: Cli, tmp_path: Path, transport: str) -> None:
    served = tmp_path / "served"
    served.mkdir()
    hub(served)
    store = tmp_path / "mine.git"
    picks = sorted(CORPUS.glob("*.json"))[:8]
    assert cli("ingest", "--repo", store, EXAMPLES, *picks).exit_code == 0
    with TRANSPORTS[transport](served) as base:
        url = f"{base}/hub.git"
        result = cli("publish", "--repo", store, url, "--json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["pushed"] is True
        again = cli("publish", "--repo", store, url, "--json")
        assert again.exit_code == 0 and json.loads(again.stdout)["pushed"] is False
        clone = tmp_path / "clone"
        git("clone", "-q", url, clone)
    assert git("-C", clone, "rev-parse", "HEAD") == git("-C", store, "rev-parse", "main")
    assert cli("verify", "--repo", clone / ".git").exit_code == 0
    fsck(served / "hub.git")


def test_publish_to_a_named_remote_and_refused_when_behind(cli: Cli, tmp_path: Path) -> None:
    shared = hub(tmp_path)
    a, b = tmp_path / "a.git", tmp_path / "b.git"
    assert cli("ingest", "--repo", a, EXAMPLES / "build_session.json").exit_code == 0
    git("-C", a, "remote", "add", "origin", shared)
    assert cli("publish", "--repo", a).exit_code == 0
    git("clone", "-q", "--bare", shared, b)
    assert cli("ingest", "--repo", b, EXAMPLES / "trade_session.json").exit_code == 0
    assert cli("publish", "--repo", b, shared).exit_code == 0
    assert cli("ingest", "--repo", a, EXAMPLES / "life_aria_session.json").exit_code == 0
    before = snapshot(shared)
    refused = cli("publish", "--repo", a)
    assert refused.exit_code == 1
    assert "run `gitflywheel sync` first" in refused.stderr
    assert snapshot(shared) == before


@pytest.mark.parametrize("transport", ["path", "git", "http"])
@pytest.mark.slow
def test_two_writers_sync_through_a_hub(cli: Cli, tmp_path: Path, transport: str) -> None:
    served = tmp_path / "served"
    served.mkdir()
    hub(served)
    corpus = sorted(CORPUS.glob("*.json"))
    a, b = tmp_path / "a.git", tmp_path / "b.git"
    with TRANSPORTS[transport](served) as base:
        url = f"{base}/hub.git"
        assert cli("ingest", "--repo", a, *corpus[:20]).exit_code == 0
        assert cli("sync", "--repo", a, url).exit_code == 0  # pushes
        assert cli("sync", "--repo", b, url).exit_code == 0  # a new store: fast-forward
        assert cli("ingest", "--repo", a, *corpus[20:40]).exit_code == 0
        assert cli("ingest", "--repo", b, *corpus[40:], EXAMPLES).exit_code == 0
        assert cli("sync", "--repo", a, url).exit_code == 0  # pushes again
        merged = cli("sync", "--repo", b, url, "--json")  # both moved: a merge
        assert merged.exit_code == 0, merged.output
        assert json.loads(merged.stdout)["action"] == "merged"
        assert cli("sync", "--repo", a, url, "--json").exit_code == 0  # fast-forward to the merge
        clone = tmp_path / "clone.git"
        git("clone", "-q", "--bare", url, clone)
    everything = session_ids(a)
    assert len(everything) == 57
    assert session_ids(b) == everything == session_ids(clone)
    assert git("-C", a, "rev-parse", "main") == git("-C", b, "rev-parse", "main")
    assert len(git("-C", a, "log", "-1", "--format=%P", "main").split()) == 2
    for store in (a, b, clone):
        result = cli("verify", "--repo", store, "--json")
        assert result.exit_code == 0, result.stdout
        assert json.loads(result.stdout)["figures"]["sessions"] == 57
        fsck(store)


def test_sync_conflict_changes_nothing(cli: Cli, tmp_path: Path) -> None:
    shared = hub(tmp_path)
    a, b = tmp_path / "a.git", tmp_path / "b.git"
    first = tmp_path / "one.json"
    first.write_text(json.dumps(session("same-id", title="First")))
    assert cli("ingest", "--repo", a, first).exit_code == 0
    assert cli("sync", "--repo", a, shared).exit_code == 0
    git("clone", "-q", "--bare", shared, b)
    for store, title in ((a, "Mine"), (b, "Theirs")):
        path = tmp_path / f"{title}.json"
        path.write_text(json.dumps(session("same-id", title=title)))
        assert cli("ingest", "--repo", store, path, "--revise").exit_code == 0
    assert cli("sync", "--repo", b, shared).exit_code == 0
    before_a, before_hub = snapshot(a), snapshot(shared)
    conflict = cli("sync", "--repo", a, shared)
    assert conflict.exit_code == 3
    assert "same-id" in conflict.stderr and "nothing was changed" in conflict.stderr
    assert snapshot(shared) == before_hub
    after_a = snapshot(a)
    # fetched objects may land in a's object store; what it records does not change
    assert {k: v for k, v in after_a.items() if not k.startswith("objects/")} == {
        k: v for k, v in before_a.items() if not k.startswith("objects/")
    }


def test_unreachable_remote_is_exit_1(cli: Cli, tmp_path: Path) -> None:
    store = tmp_path / "s.git"
    assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    result = cli("publish", "--repo", store, "git://127.0.0.1:1/none.git")
    assert result.exit_code == 1
    assert "git://127.0.0.1:1/none.git" in result.stderr and "refused" in result.stderr
    unknown = cli("publish", "--repo", store, "nosuchremote")  # bad usage, not a refusal
    assert unknown.exit_code == 2 and "neither a URL" in unknown.stderr
