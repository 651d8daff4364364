"""--dry-run of ingest, rerender, publish and sync: it says what a real run would do, and
changes nothing: not the store's files, refs or objects, not the remote."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import CORPUS, EXAMPLES, Cli, git, session, snapshot

from gitflywheel.rendering.templates import shipped_templates_dir

BUILD = EXAMPLES / "build_session.json"
TRADE = EXAMPLES / "trade_session.json"
LIFE = EXAMPLES / "life_aria_session.json"


def state(repo: Path) -> tuple[str, str, dict[str, str]]:
    """The refs, git's count of objects, and every file's bytes: what must not change."""
    return (
        git("-C", repo, "for-each-ref", "--format=%(refname) %(objectname)"),
        git("-C", repo, "count-objects", "-v"),
        snapshot(repo),
    )


def as_json(cli: Cli, *args: str | Path) -> tuple[int, dict[str, Any]]:
    result = cli(*args, "--json")
    return result.exit_code, json.loads(result.stdout)


def hub(root: Path) -> Path:
    path = root / "hub.git"
    git("init", "-q", "--bare", "-b", "main", path)
    return path


def test_ingest_dry_run_says_what_a_run_records_and_writes_nothing(
    cli: Cli, store: Path, tmp_path: Path
) -> None:
    assert cli("ingest", "--repo", store, BUILD).exit_code == 0
    changed = json.loads(BUILD.read_text())
    changed["title"] = "Another title"
    (tmp_path / "changed.json").write_text(json.dumps(changed))
    (tmp_path / "bad.json").write_text("{")
    picks = sorted(CORPUS.glob("*.json"))[:4]
    inputs = [BUILD, TRADE, *picks, tmp_path / "changed.json", tmp_path / "bad.json"]
    before = state(store)

    code, dry = as_json(cli, "ingest", "--repo", store, "--dry-run", *inputs)
    assert state(store) == before
    assert dry["dry_run"] is True and code == dry["exit_code"] == 3
    assert all(o["commit"] is None for o in dry["outcomes"])
    text = cli("ingest", "--repo", store, "--dry-run", *inputs)
    assert "dry run, nothing written: would be 5 recorded, 1 unchanged" in text.stderr
    assert state(store) == before

    code, real = as_json(cli, "ingest", "--repo", store, *inputs)
    assert code == 3 and real["dry_run"] is False
    assert (
        real["counts"]
        == dry["counts"]
        == {
            "recorded": 5,
            "revised": 0,
            "unchanged": 1,
            "invalid": 1,
            "conflict": 1,
        }
    )
    assert [(o["origin"], o["status"]) for o in real["outcomes"]] == [
        (o["origin"], o["status"]) for o in dry["outcomes"]
    ]
    before = state(store)
    _, revise = as_json(
        cli, "ingest", "--repo", store, "--dry-run", "--revise", tmp_path / "changed.json"
    )
    assert revise["counts"]["revised"] == 1 and state(store) == before


def test_ingest_dry_run_creates_no_store(cli: Cli, tmp_path: Path) -> None:
    missing = tmp_path / "new.git"
    code, dry = as_json(cli, "ingest", "--repo", missing, "--dry-run", EXAMPLES)
    assert code == 0 and dry["counts"]["recorded"] == 3 and dry["store"] == str(missing)
    assert not missing.exists()


def test_rerender_dry_run_names_the_sessions_and_keeps_the_templates(
    cli: Cli, store: Path, tmp_path: Path
) -> None:
    assert cli("ingest", "--repo", store, EXAMPLES).exit_code == 0
    mine = tmp_path / "mine"
    mine.mkdir()
    shipped = (shipped_templates_dir() / "readme.md.j2").read_text()
    (mine / "readme.md.j2").write_text("<!-- mine -->\n" + shipped)
    before = state(store)

    code, dry = as_json(cli, "rerender", "--repo", store, "--all", "--dry-run", "--templates", mine)
    assert code == 0 and dry["dry_run"] is True
    build_id = json.loads(BUILD.read_text())["session_id"]  # the one session with a readme
    assert [o["session_id"] for o in dry["outcomes"] if o["status"] == "rerendered"] == [build_id]
    assert dry["counts"]["current"] == 2 and all(o["commit"] is None for o in dry["outcomes"])
    said = cli("rerender", "--repo", store, "--all", "--dry-run", "--templates", mine).stderr
    assert said.count("would render again: ") == 1 and f"would render again: {build_id}" in said
    assert "store's templates now" not in said
    assert state(store) == before  # no commit, and the store's templates setting unchanged

    code, real = as_json(cli, "rerender", "--repo", store, "--all", "--templates", mine)
    assert code == 0 and real["counts"] == dry["counts"]
    assert {o["session_id"] for o in real["outcomes"] if o["status"] == "rerendered"} == {
        o["session_id"] for o in dry["outcomes"] if o["status"] == "rerendered"
    }


def test_publish_dry_run_pushes_nothing(cli: Cli, store: Path, tmp_path: Path) -> None:
    remote = hub(tmp_path)
    assert cli("ingest", "--repo", store, EXAMPLES).exit_code == 0
    assert cli("site", "--repo", store, "--no-feed", "--branch", "pages").exit_code == 0
    mine, theirs = state(store), state(remote)

    code, dry = as_json(cli, "publish", "--repo", store, remote, "--dry-run")
    assert code == 0 and dry["dry_run"] is True and dry["pushed"] is True
    assert dry["site_branches"] == ["pages"] and dry["before"] is None
    said = cli("publish", "--repo", store, remote, "--dry-run").stderr
    assert said.startswith(f"dry run, nothing pushed: would push main {dry['main'][:12]} and pages")
    assert state(store) == mine and state(remote) == theirs

    code, real = as_json(cli, "publish", "--repo", store, remote)
    assert code == 0 and real["pushed"] is True and real["dry_run"] is False
    assert git("-C", remote, "rev-parse", "main").strip() == dry["main"]
    _, again = as_json(cli, "publish", "--repo", store, remote, "--dry-run")
    assert again["pushed"] is False  # nothing left to push


def test_sync_dry_run_says_what_it_would_take_and_changes_nothing(cli: Cli, tmp_path: Path) -> None:
    remote = hub(tmp_path)
    a, b = tmp_path / "a.git", tmp_path / "b.git"
    assert cli("ingest", "--repo", a, BUILD, TRADE).exit_code == 0
    assert cli("sync", "--repo", a, remote).exit_code == 0
    assert cli("sync", "--repo", b, remote).exit_code == 0
    assert cli("ingest", "--repo", a, LIFE).exit_code == 0
    assert cli("sync", "--repo", a, remote).exit_code == 0
    new = tmp_path / "new.json"
    new.write_text(json.dumps(session("only-in-b")))
    assert cli("ingest", "--repo", b, new).exit_code == 0
    mine, theirs = state(b), state(remote)

    code, dry = as_json(cli, "sync", "--repo", b, remote, "--dry-run")
    assert code == 0 and dry["dry_run"] is True
    assert dry["action"] == "merged" and dry["pushed"] is True
    assert dry["taken"] == [json.loads(LIFE.read_text())["session_id"]]
    said = cli("sync", "--repo", b, remote, "--dry-run").stderr
    assert said.startswith("dry run, nothing changed: would be merged, taking 1 sessions")
    assert state(b) == mine and state(remote) == theirs

    code, real = as_json(cli, "sync", "--repo", b, remote)
    assert code == 0 and (real["action"], real["taken"]) == (dry["action"], dry["taken"])
    assert real["pushed"] is True

    missing = tmp_path / "missing.git"
    refused = cli("sync", "--repo", missing, remote, "--dry-run")
    assert refused.exit_code == 2 and "a dry run creates nothing" in refused.stderr
    assert not missing.exists()
