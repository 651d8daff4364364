"""A store outlives the code that made it: stores made by older versions keep verifying,
sessions made by another pipeline version or filter set are counted, not violations,
and `rerender` brings them up to date with the old artifacts kept in history."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES, FORMAT1_SESSIONS, Cli, fsck, git, session

from gitflywheel.pipelines import build, pipeline_id
from gitflywheel.rendering import filtersets
from gitflywheel.storage.layout import artifact_path, session_dir

BUILD_ID = "3f2b7c1e-8a4d-4e6f-9b21-5c7d8e9f0a1b"
TRADE_ID = "9e8d7c6b-5a49-4382-b1c0-d9e8f7a6b5c4"


def verified(cli: Cli, store: Path, *args: str) -> dict[str, Any]:
    result = cli("verify", "--repo", store, "--json", *args)
    report: dict[str, Any] = json.loads(result.stdout)
    assert result.exit_code == 0, report["findings"]
    return report


def test_a_format1_store_verifies_clean_and_says_what_made_it(
    cli: Cli, format1_store: Path, tmp_path: Path
) -> None:
    manifest = json.loads(
        git("-C", format1_store, "show", f"main:{session_dir(BUILD_ID)}/manifest.json")
    )
    assert manifest["format"] == 1 and "facts" not in manifest
    result = cli("verify", "--repo", format1_store, "--report", tmp_path / "ssot.md")
    assert result.exit_code == 0, result.stderr
    assert (
        "note: made by build/1: 9 sessions; run `gitflywheel rerender --all` to render them "
        f"with {pipeline_id('build')}" in result.stderr
    )
    assert "note: made by trade/1: 2 sessions;" in result.stderr
    assert "note: made by life_aria/1: 1 session;" in result.stderr
    report = verified(cli, format1_store, "--full")
    assert report["pipelines"] == {"build/1": 9, "life_aria/1": 1, "trade/1": 2}
    assert report["other_versions"] == report["pipelines"]
    assert sum(report["pipelines"].values()) == FORMAT1_SESSIONS
    text = (tmp_path / "ssot.md").read_text()
    assert "| build/1 | 9 | another version |" in text
    assert "made by build/1: 9 sessions" in text


@pytest.mark.slow
def test_rerender_upgrades_a_format1_store_and_keeps_the_old_artifacts(
    cli: Cli, format1_store: Path
) -> None:
    verified(cli, format1_store)  # leaves an index behind, as a user's first run would
    old_tip = git("-C", format1_store, "rev-parse", "main").strip()
    readme = artifact_path(BUILD_ID, "readme")
    old_readme = git("-C", format1_store, "show", f"main:{readme}")
    assert cli("rerender", "--repo", format1_store, "--all").exit_code == 0
    report = verified(cli, format1_store)  # incremental: only the re-render commits
    assert report["commits_checked"] == FORMAT1_SESSIONS and not report["full"]
    upgraded = {pipeline_id("build"): 9, pipeline_id("life_aria"): 1, pipeline_id("trade"): 2}
    assert report["pipelines"] == upgraded
    assert report["other_versions"] == {} and report["filter_sets"] == {"filters/1": 12}
    assert verified(cli, format1_store, "--full")["pipelines"] == upgraded
    # the old artifacts are still in history, the manifest of format 1 too
    assert git("-C", format1_store, "show", f"{old_tip}:{readme}") == old_readme
    manifest_path = f"{session_dir(BUILD_ID)}/manifest.json"
    history = git("-C", format1_store, "log", "--format=%s", "--", manifest_path).splitlines()
    assert history == [f"Re-render build session {BUILD_ID}", f"Record build session {BUILD_ID}"]
    old_manifest = json.loads(
        git("-C", format1_store, "show", f"{old_tip}:{session_dir(BUILD_ID)}/manifest.json")
    )
    assert old_manifest["format"] == 1
    fsck(format1_store)


def test_an_index_written_by_an_older_gitflywheel_is_rebuilt(cli: Cli, format1_store: Path) -> None:
    tip = git("-C", format1_store, "rev-parse", "main").strip()
    folder = format1_store / "gitflywheel"
    folder.mkdir()
    old = sqlite3.connect(folder / "verify.sqlite3")
    old.executescript(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "CREATE TABLE sessions (id TEXT PRIMARY KEY, path TEXT NOT NULL, record_blob TEXT NOT NULL,"
        " revision INTEGER NOT NULL, fingerprint TEXT NOT NULL, session_type TEXT NOT NULL);"
    )
    old.execute("INSERT INTO meta VALUES ('verified', ?)", (tip,))
    old.commit()
    old.close()
    git("-C", format1_store, "update-ref", "refs/gitflywheel/verified", tip)
    report = verified(cli, format1_store)
    assert report["full"] and report["pipelines"]["build/1"] == 9


def _changed_story(monkeypatch: pytest.MonkeyPatch) -> None:
    """Change one derived sentence of the build pipeline (the solution line)."""
    original = build.story

    def story(session: Any, facts: Any, *more: Any) -> Any:
        told = original(session, facts, *more)
        return {**told, "solution": (told["solution"] or "") + " It shipped."}

    monkeypatch.setattr(build, "story", story)


@pytest.mark.slow
def test_a_new_pipeline_version_leaves_old_sessions_verifying(
    cli: Cli, store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("ingest", "--repo", store, EXAMPLES).exit_code == 0
    verified(cli, store)
    _changed_story(monkeypatch)
    made, now = f"build/{build.VERSION}", f"build/{build.VERSION + 1}"
    monkeypatch.setattr(build, "VERSION", build.VERSION + 1)
    after = verified(cli, store, "--full")
    assert after["other_versions"] == {made: 1}
    new = tmp_path / "new.json"
    new.write_text(json.dumps(session("new-1")))
    assert cli("ingest", "--repo", store, new).exit_code == 0
    report = verified(cli, store)
    assert report["pipelines"] == {
        made: 1,
        now: 1,
        pipeline_id("life_aria"): 1,
        pipeline_id("trade"): 1,
    }
    assert "It shipped." in git("-C", store, "show", f"main:{artifact_path('new-1', 'readme')}")
    result = cli("rerender", "--repo", store, "--all", "--json")
    counts = json.loads(result.stdout)["counts"]
    assert counts["rerendered"] == 1 and counts["current"] == 3
    assert "It shipped." in git("-C", store, "show", f"main:{artifact_path(BUILD_ID, 'readme')}")
    assert verified(cli, store, "--full")["pipelines"][now] == 2
    fsck(store)


@pytest.mark.slow
def test_a_pipeline_change_without_a_new_version_breaks_verify(
    cli: Cli, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Why the golden test insists on a version bump: the facts stored under build/2 no
    longer derive from their records with the code that claims to be build/2."""
    assert cli("ingest", "--repo", store, EXAMPLES).exit_code == 0
    _changed_story(monkeypatch)
    result = cli("verify", "--repo", store, "--json", "--full")
    assert result.exit_code == 1
    rules = {(f["rule"], f["path"]) for f in json.loads(result.stdout)["findings"]}
    assert rules == {("facts.derive", f"{session_dir(BUILD_ID)}/facts.json")}


@pytest.mark.slow
def test_a_session_of_a_later_version_is_counted_not_judged(
    cli: Cli, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("ingest", "--repo", store, EXAMPLES).exit_code == 0
    made = pipeline_id("build")
    monkeypatch.setattr(build, "VERSION", 1)  # an older gitflywheel reads a newer store
    result = cli("verify", "--repo", store, "--full")
    assert result.exit_code == 0
    assert f"note: made by {made}: 1 session; a later gitflywheel made them" in result.stderr
    assert verified(cli, store, "--full")["other_versions"] == {made: 1}


def _money_with_a_symbol(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new filter set, filters/2, whose money shows a currency sign; filters/1 stays."""
    released = filtersets.FILTER_SETS["filters/1"]
    money = released.filters["money"]
    changed = filtersets.FilterSet(
        {**released.filters, "money": lambda value: "$" + money(value)}, released.finalize
    )
    monkeypatch.setitem(filtersets.FILTER_SETS, "filters/2", changed)
    monkeypatch.setattr(filtersets, "CURRENT_FILTERS", "filters/2")


def test_a_new_filter_set_renders_new_sessions_and_old_ones_verify_with_theirs(
    cli: Cli, store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    _money_with_a_symbol(monkeypatch)
    assert cli("ingest", "--repo", store, EXAMPLES / "trade_session.json").exit_code == 0
    journal = git("-C", store, "show", f"main:{artifact_path(TRADE_ID, 'trade_journal')}")
    assert "$" in journal
    manifest = json.loads(cli("show", "--repo", store, TRADE_ID).stdout)
    assert {a["filters"] for a in manifest["artifacts"]} == {"filters/2"}
    report = verified(cli, store, "--full")
    assert report["filter_sets"] == {"filters/1": 1, "filters/2": 1}
    assert report["unknown_filter_sets"] == {}


def test_a_filter_set_this_version_lacks_is_counted_not_a_violation(
    cli: Cli, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as later:
        _money_with_a_symbol(later)
        assert cli("ingest", "--repo", store, EXAMPLES / "trade_session.json").exit_code == 0
    # back to a gitflywheel that only has filters/1
    assert "filters/2" not in filtersets.FILTER_SETS
    result = cli("verify", "--repo", store, "--full")
    assert result.exit_code == 0, result.stderr
    assert "note: rendered with filters/2: 1 session" in result.stderr
    report = verified(cli, store, "--full")
    assert report["unknown_filter_sets"] == {"filters/2": 1}
    rerendered = cli("rerender", "--repo", store, "--all")
    assert rerendered.exit_code == 0 and "newer than this gitflywheel" in rerendered.stderr
