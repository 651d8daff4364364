"""publish remembers where it published, and never publishes a stale site."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import EXAMPLES, Cli, git, session, snapshot
from servers import git_daemon

BASE = "https://me.example.org/flywheel/"


def hub(path: Path) -> Path:
    git("init", "-q", "--bare", "-b", "main", path)
    return path


def config(store: Path) -> dict[str, str]:
    lines = git("-C", store, "config", "--list", "--local").splitlines()
    return dict(line.split("=", 1) for line in lines)


def test_publish_records_the_remote_once_the_push_went_well(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "s.git"
    assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    missing = tmp_path / "nothere.git"
    assert cli("publish", "--repo", store, missing).exit_code == 1
    assert "remote.origin.url" not in config(store)
    assert cli("publish", "--repo", store).exit_code == 2  # nothing recorded to use

    first = hub(tmp_path / "first.git")
    done = cli("publish", "--repo", store, first, "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["remembered"] == "origin"
    assert config(store)["remote.origin.url"] == str(first)

    # publish and sync alone use it.
    assert cli("ingest", "--repo", store, EXAMPLES / "trade_session.json").exit_code == 0
    again = cli("publish", "--repo", store, "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["pushed"] is True
    assert git("-C", first, "rev-parse", "main") == git("-C", store, "rev-parse", "main")
    synced = cli("sync", "--repo", store, "--json")
    assert synced.exit_code == 0 and json.loads(synced.stdout)["remote"] == "origin"

    # Another URL is pushed to, not recorded: origin is never changed behind one's back.
    second = hub(tmp_path / "second.git")
    other = cli("publish", "--repo", store, second, "--json")
    assert other.exit_code == 0, other.output
    said = json.loads(other.stdout)
    assert said["pushed"] is True and said["remembered"] is None
    assert "not recorded" in said["notes"][0] and "--name" in said["notes"][0]
    assert config(store)["remote.origin.url"] == str(first)
    # --name records it under another name (a path made absolute, for commands run from
    # anywhere); --name origin is refused before any push.
    monkeypatch.chdir(tmp_path)
    named = cli("publish", "--repo", store, "./second.git", "--name", "backup", "--json")
    assert named.exit_code == 0 and json.loads(named.stdout)["remembered"] == "backup"
    assert config(store)["remote.backup.url"] == str(second)
    third = hub(tmp_path / "third.git")
    before = snapshot(third)
    refused = cli("publish", "--repo", store, third, "--name", "origin")
    assert refused.exit_code == 2
    assert "origin is" in refused.stderr and "nothing was pushed" in refused.stderr
    assert snapshot(third) == before
    auto = cli("publish", "--repo", store, third, "--auto")
    assert auto.exit_code == 2 and snapshot(third) == before
    assert "gitflywheel.autopublish" not in config(store)


def test_a_url_is_recorded_as_given(cli: Cli, tmp_path: Path) -> None:
    served = tmp_path / "served"
    served.mkdir()
    hub(served / "hub.git")
    git("-C", served / "hub.git", "config", "daemon.receivepack", "true")
    store = tmp_path / "s.git"
    assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    with git_daemon(served) as base:
        url = f"{base}/hub.git"
        done = cli("publish", "--repo", store, url, "--json")
        assert done.exit_code == 0, done.output
        assert config(store)["remote.origin.url"] == url  # a URL is kept as given
        assert cli("publish", "--repo", store).exit_code == 0


def test_publish_builds_a_stale_site_again_before_it_pushes(cli: Cli, tmp_path: Path) -> None:
    store = tmp_path / "s.git"
    shared = hub(tmp_path / "hub.git")
    assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    assert cli("config", "--repo", store, "site.base_url", BASE).exit_code == 0
    assert cli("site", "--repo", store, "--branch", "pages").exit_code == 0
    assert cli("publish", "--repo", store, shared).exit_code == 0
    newer = tmp_path / "new.json"
    newer.write_text(json.dumps(session("s-new", title="Faster pages")))
    assert cli("ingest", "--repo", store, newer).exit_code == 0

    done = cli("publish", "--repo", store, "--json")
    assert done.exit_code == 0, done.output
    said = json.loads(done.stdout)
    assert said["rebuilt"] == ["pages"] and said["site_branches"] == ["pages"]
    main = git("-C", shared, "rev-parse", "main").strip()
    assert f"Built-From: {main}" in git("-C", shared, "log", "-1", "--format=%B", "pages")
    assert "Faster pages" in git("-C", shared, "show", "pages:index.html")
    # Current now: a second publish builds and pushes nothing.
    nothing = json.loads(cli("publish", "--repo", store, "--json").stdout)
    assert nothing["rebuilt"] == [] and nothing["pushed"] is False


def test_a_site_with_feeds_and_no_address_setting_is_left_with_a_note(
    cli: Cli, tmp_path: Path
) -> None:
    store = tmp_path / "s.git"
    shared = hub(tmp_path / "hub.git")
    assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    built = cli("site", "--repo", store, "--branch", "pages", "--base-url", BASE)
    assert built.exit_code == 0
    assert cli("ingest", "--repo", store, EXAMPLES / "trade_session.json").exit_code == 0
    site = git("-C", store, "rev-parse", "pages")
    done = cli("publish", "--repo", store, shared, "--json")
    assert done.exit_code == 0, done.output
    said = json.loads(done.stdout)
    assert said["rebuilt"] == [] and "site.base_url" in said["notes"][0]
    assert git("-C", store, "rev-parse", "pages") == site  # feeds not lost


def test_a_store_with_an_address_and_no_site_gets_pages(cli: Cli, tmp_path: Path) -> None:
    store = tmp_path / "s.git"
    shared = hub(tmp_path / "hub.git")
    assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    assert json.loads(cli("publish", "--repo", store, shared, "--json").stdout)["rebuilt"] == []
    assert cli("config", "--repo", store, "site.base_url", BASE).exit_code == 0
    done = json.loads(cli("publish", "--repo", store, "--json").stdout)
    assert done["rebuilt"] == ["pages"] and done["site_branches"] == ["pages"]
    assert "feed.xml" in git("-C", shared, "ls-tree", "--name-only", "pages").split()
