"""sync and the store's settings: two writers' settings combine key by key over a real
loopback server; one key set two ways is a conflict that changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import EXAMPLES, Cli, fsck, git, snapshot
from servers import git_http


def hub(root: Path) -> Path:
    path = root / "hub.git"
    git("init", "-q", "--bare", "-b", "main", path)
    git("-C", path, "config", "http.receivepack", "true")
    return path


def settings(cli: Cli, store: Path) -> dict[str, object]:
    result = cli("config", "--repo", store, "--list", "--json")
    assert result.exit_code == 0, result.output
    found: dict[str, object] = json.loads(result.stdout)
    return found


@pytest.mark.slow
def test_two_writers_set_different_keys(cli: Cli, tmp_path: Path) -> None:
    served = tmp_path / "served"
    served.mkdir()
    hub(served)
    a, b = tmp_path / "a.git", tmp_path / "b.git"
    with git_http(served) as base:
        url = f"{base}/hub.git"
        assert cli("ingest", "--repo", a, EXAMPLES / "build_session.json").exit_code == 0
        assert (
            cli("config", "--repo", a, "--add", "privacy.private", "shared-[0-9]+").exit_code == 0
        )
        assert cli("sync", "--repo", a, url).exit_code == 0  # pushes
        assert cli("sync", "--repo", b, url).exit_code == 0  # a new store takes it all
        assert cli("config", "--repo", a, "site.title", "Ada's work").exit_code == 0
        assert cli("config", "--repo", a, "--add", "privacy.private", "acme-[0-9]+").exit_code == 0
        assert cli("config", "--repo", b, "site.base_url", "https://b.example/").exit_code == 0
        assert cli("config", "--repo", b, "--add", "privacy.private", "bcorp-[0-9]+").exit_code == 0
        assert cli("ingest", "--repo", b, EXAMPLES / "trade_session.json").exit_code == 0
        assert cli("sync", "--repo", a, url).exit_code == 0  # pushes a's settings
        merged = cli("sync", "--repo", b, url, "--json")
        assert merged.exit_code == 0, merged.output
        assert json.loads(merged.stdout)["action"] == "merged"
        assert cli("sync", "--repo", a, url).exit_code == 0  # fast-forward to the merge
    expected = {
        "site.base_url": "https://b.example/",
        "site.title": "Ada's work",
        "privacy.private": ["shared-[0-9]+", "bcorp-[0-9]+", "acme-[0-9]+"],
    }
    assert settings(cli, a) == settings(cli, b) == expected
    assert git("-C", a, "rev-parse", "main") == git("-C", b, "rev-parse", "main")
    for store in (a, b):
        result = cli("verify", "--repo", store, "--full", "--json")
        assert result.exit_code == 0, result.stdout
        fsck(store)
    fsck(served / "hub.git")


def test_one_key_set_two_ways_is_a_conflict(cli: Cli, tmp_path: Path) -> None:
    shared = hub(tmp_path)
    a, b = tmp_path / "a.git", tmp_path / "b.git"
    assert cli("init", "--repo", a).exit_code == 0
    assert cli("sync", "--repo", a, shared).exit_code == 0
    git("clone", "-q", "--bare", shared, b)
    assert cli("config", "--repo", a, "site.title", "Mine").exit_code == 0
    assert cli("config", "--repo", b, "site.title", "Theirs").exit_code == 0
    assert cli("sync", "--repo", b, shared).exit_code == 0
    before_hub = snapshot(shared)
    tip = git("-C", a, "rev-parse", "main")
    conflict = cli("sync", "--repo", a, shared)
    assert conflict.exit_code == 3, conflict.output
    assert "site.title" in conflict.stderr and "nothing was changed" in conflict.stderr
    assert git("-C", a, "rev-parse", "main") == tip
    assert snapshot(shared) == before_hub
    # settle it on one side, then the two combine
    assert cli("config", "--repo", a, "site.title", "Theirs").exit_code == 0
    assert cli("sync", "--repo", a, shared).exit_code == 0
    assert settings(cli, a) == {"site.title": "Theirs"}
    assert cli("verify", "--repo", a).exit_code == 0
    fsck(a)
