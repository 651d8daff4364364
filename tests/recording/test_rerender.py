"""rerender: sessions rendered again with this version's pipelines and the store's (or
new) templates; one commit per session that changes, none for one already current."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES, FORMAT1_SESSIONS, Cli, fsck, git, session

from gitflywheel import __version__
from gitflywheel.pipelines import build, pipeline_id
from gitflywheel.recording.rerender import RerenderOutcome, rerender
from gitflywheel.rendering.templates import shipped_templates_dir
from gitflywheel.storage.layout import artifact_path, session_dir

BUILD_ID = "3f2b7c1e-8a4d-4e6f-9b21-5c7d8e9f0a1b"
TRADE_ID = "9e8d7c6b-5a49-4382-b1c0-d9e8f7a6b5c4"


def run(cli: Cli, store: Path, *args: str | Path) -> dict[str, Any]:
    result = cli("rerender", "--repo", store, "--json", *args)
    report: dict[str, Any] = json.loads(result.stdout)
    assert result.exit_code == report["exit_code"]
    return report


def tip(store: Path) -> str:
    return git("-C", store, "rev-parse", "main").strip()


def verify_ok(cli: Cli, store: Path, *args: str) -> dict[str, Any]:
    result = cli("verify", "--repo", store, "--json", *args)
    assert result.exit_code == 0, result.stdout
    report: dict[str, Any] = json.loads(result.stdout)
    return report


@pytest.mark.slow
def test_a_store_already_current_makes_no_commit(cli: Cli, store: Path) -> None:
    assert cli("ingest", "--repo", store, EXAMPLES).exit_code == 0
    before = tip(store)
    report = run(cli, store, "--all")
    assert report["exit_code"] == 0
    assert report["counts"]["current"] == 3 and report["counts"]["rerendered"] == 0
    assert tip(store) == before
    named = run(cli, store, BUILD_ID)
    assert [o["status"] for o in named["outcomes"]] == ["current"]
    assert tip(store) == before


@pytest.mark.slow
def test_a_format1_store_gets_one_commit_per_session(cli: Cli, format1_store: Path) -> None:
    before = tip(format1_store)
    report = run(cli, format1_store, "--all")
    assert report["counts"]["rerendered"] == FORMAT1_SESSIONS, report
    assert {(o["was"], o["now"]) for o in report["outcomes"]} >= {("build/1", pipeline_id("build"))}
    commits = git("-C", format1_store, "rev-list", "--reverse", f"{before}..main").split()
    assert len(commits) == FORMAT1_SESSIONS
    assert [o["commit"] for o in report["outcomes"]] == commits
    for commit, outcome in zip(commits, report["outcomes"], strict=True):
        sid = outcome["session_id"]
        kind = outcome["now"].split("/")[0]
        message = git("-C", format1_store, "log", "-1", "--format=%B", commit)
        assert message.splitlines()[0] == f"Re-render {kind} session {sid}"
        assert f"Session-Id: {sid}\nSession-Type: {kind}\n" in message
        assert (
            f"Rendered-By: gitflywheel {__version__} pipeline {outcome['now']} filters/1" in message
        )
        changed = git("-C", format1_store, "diff", "--name-only", f"{commit}^", commit).split()
        assert changed and all(
            p.startswith(session_dir(sid) + "/") or p.startswith("templates/") for p in changed
        ), changed
        assert f"{session_dir(sid)}/facts.json" in changed
        assert f"{session_dir(sid)}/session.json" not in changed
        manifest = json.loads(
            git("-C", format1_store, "show", f"{commit}:{session_dir(sid)}/manifest.json")
        )
        revision = git(
            "-C", format1_store, "log", "-1", "--format=%(trailers:key=Revision,valueonly)", commit
        )
        assert revision.strip() == str(manifest["revision"])
        assert manifest["format"] == 2 and manifest["pipeline"] == outcome["now"]
    rendered_by = git(
        "-C", format1_store, "log", "--format=%(trailers:key=Rendered-By,valueonly)", "main"
    ).split("\n")
    assert sum(1 for line in rendered_by if line.startswith("gitflywheel ")) == FORMAT1_SESSIONS
    entries = json.loads(cli("log", "--repo", format1_store, "--json").stdout)
    assert sum(1 for e in entries if e["rendered_by"]) == FORMAT1_SESSIONS
    assert "(re-rendered: gitflywheel" in cli("log", "--repo", format1_store, "-n", "1").stdout
    # the author is the session's agent, at the session's time, as for ingest
    for commit in commits:
        author, agent, when = git(
            "-C",
            format1_store,
            "log",
            "-1",
            "--format=%an|%(trailers:key=Agent-Id,valueonly)|%aI",
            commit,
        ).split("|")
        assert author == agent.strip()
        sid = git(
            "-C",
            format1_store,
            "log",
            "-1",
            "--format=%(trailers:key=Session-Id,valueonly)",
            commit,
        ).strip()
        stamp = json.loads(
            git("-C", format1_store, "show", f"{commit}:{session_dir(sid)}/session.json")
        )["timestamp"]
        assert when.strip().replace("+00:00", "Z") == stamp.split(".")[0].rstrip("Z") + "Z"
    fsck(format1_store)
    verify_ok(cli, format1_store, "--full")
    again = run(cli, format1_store, "--all")
    assert again["counts"]["current"] == FORMAT1_SESSIONS and tip(format1_store) == commits[-1]


def custom_templates(tmp_path: Path, marker: str) -> Path:
    folder = tmp_path / f"templates-{marker.replace(' ', '-')}"
    folder.mkdir()
    shipped = (shipped_templates_dir() / "readme.md.j2").read_text()
    (folder / "readme.md.j2").write_text(f"<!-- {marker} -->\n{shipped}")
    return folder


@pytest.mark.slow
def test_new_templates_change_later_artifacts_and_become_the_stores(
    cli: Cli, store: Path, tmp_path: Path
) -> None:
    assert cli("ingest", "--repo", store, EXAMPLES).exit_code == 0
    before = tip(store)
    old_readme = git("-C", store, "show", f"main:{artifact_path(BUILD_ID, 'readme')}")
    trade_journal = git("-C", store, "show", f"main:{artifact_path(TRADE_ID, 'trade_journal')}")
    mine = custom_templates(tmp_path, "house style")
    report = run(cli, store, "--templates", mine, "--all")
    assert report["templates"] == str(mine.resolve())
    assert report["counts"] == {
        "rerendered": 1,
        "current": 2,
        "newer": 0,
        "missing": 0,
        "invalid": 0,
    }
    assert git("-C", store, "rev-list", "--count", f"{before}..main").strip() == "1"
    readme = git("-C", store, "show", f"main:{artifact_path(BUILD_ID, 'readme')}")
    assert readme == f"<!-- house style -->\n{old_readme}"
    assert git("-C", store, "show", "main:templates/readme.md.j2").startswith("<!-- house style")
    assert git("-C", store, "show", "main~1:templates/readme.md.j2") == (
        (shipped_templates_dir() / "readme.md.j2").read_text()
    )
    assert git("-C", store, "show", f"main:{artifact_path(TRADE_ID, 'trade_journal')}") == (
        trade_journal
    )
    # the old artifact stays in history
    assert git("-C", store, "show", f"{before}:{artifact_path(BUILD_ID, 'readme')}") == old_readme
    # they are the store's templates now: a later ingest and rerender use them by default
    later = tmp_path / "later.json"
    later.write_text(json.dumps(session("later-1")))
    assert cli("ingest", "--repo", store, later).exit_code == 0
    assert git("-C", store, "show", f"main:{artifact_path('later-1', 'readme')}").startswith(
        "<!-- house style -->"
    )
    assert run(cli, store, "--all")["counts"]["current"] == 4
    verify_ok(cli, store, "--full")
    fsck(store)


def test_templates_that_fail_a_session_are_not_made_the_stores(
    cli: Cli, store: Path, tmp_path: Path
) -> None:
    """A folder that fails to render a session would make every later ingest fail: it is
    not made the store's, and nothing is committed."""
    assert cli("ingest", "--repo", store, EXAMPLES).exit_code == 0
    before = tip(store)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "blog_post.md.j2").write_text("{{ 1/0 }}\n")
    result = cli("rerender", "--repo", store, "--templates", broken, "--all", "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 2 and report["counts"]["invalid"] >= 1
    assert report["templates"] is None and "store's templates now" not in result.stderr
    assert tip(store) == before
    later = tmp_path / "later.json"
    later.write_text(json.dumps(session("later-1")))
    assert cli("ingest", "--repo", store, later).exit_code == 0


@pytest.mark.slow
def test_interrupted_then_run_again(cli: Cli, format1_store: Path) -> None:
    before = tip(format1_store)
    seen: list[RerenderOutcome] = []

    def stop_after_four(outcome: RerenderOutcome) -> None:
        seen.append(outcome)
        if len(seen) == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rerender(format1_store, all_sessions=True, batch_size=100, on_outcome=stop_after_four)
    landed = git("-C", format1_store, "rev-list", f"{before}..main").split()
    assert len(landed) == 4  # what was planned landed; nothing else moved
    fsck(format1_store)
    halfway = verify_ok(cli, format1_store)
    assert halfway["pipelines"]["build/1"] > 0 and halfway["pipelines"][pipeline_id("build")] > 0
    report = run(cli, format1_store, "--all")
    assert report["counts"]["rerendered"] == FORMAT1_SESSIONS - 4
    assert report["counts"]["current"] == 4
    verify_ok(cli, format1_store)
    fsck(format1_store)


def test_unknown_sessions_and_usage_errors(cli: Cli, store: Path) -> None:
    assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    before = tip(store)
    result = cli("rerender", "--repo", store, "no-such-session", BUILD_ID)
    assert result.exit_code == 2
    assert "no-such-session: no such session in the store" in result.stderr
    assert "1 current" in result.stderr
    for args in ((), ("--all", BUILD_ID)):
        result = cli("rerender", "--repo", store, *args)
        assert result.exit_code == 2 and "--all" in result.stderr
    assert cli("rerender", "--repo", store.parent / "nowhere.git", "--all").exit_code == 2
    assert tip(store) == before


def test_a_session_made_by_a_newer_pipeline_is_left_as_it_is(
    cli: Cli, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("ingest", "--repo", store, EXAMPLES).exit_code == 0
    before = tip(store)
    made = pipeline_id("build")
    monkeypatch.setattr(build, "VERSION", 1)
    result = cli("rerender", "--repo", store, "--all")
    assert result.exit_code == 0
    assert f"{BUILD_ID}: made by {made}, newer than this gitflywheel (build/1)" in result.stderr
    assert tip(store) == before


def test_show_facts(cli: Cli, store: Path, format1_store: Path) -> None:
    assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    shown = cli("show", "--repo", store, BUILD_ID, "facts")
    assert shown.exit_code == 0
    facts = json.loads(shown.stdout)
    assert facts["pipeline"] == pipeline_id("build") and facts["session_id"] == BUILD_ID
    assert set(facts["artifacts"]) == {
        "readme",
        "build_log",
        "blog_post",
        "social_post",
        "activity_chart",
    }
    assert facts["artifacts"]["readme"]["template"] == "readme.md.j2"
    assert shown.stdout == git("-C", store, "show", f"main:{session_dir(BUILD_ID)}/facts.json")
    old = cli("show", "--repo", format1_store, BUILD_ID, "facts")
    assert old.exit_code == 2
    assert "made by build/1, which kept no facts" in old.stderr
    assert f"gitflywheel rerender {BUILD_ID}" in old.stderr


def test_schema_facts_describes_the_stored_facts(cli: Cli, store: Path) -> None:
    import jsonschema

    assert "session|manifest|facts" in cli("schema", "--help").stdout
    schema = json.loads(cli("schema", "facts").stdout)
    assert schema["title"] == "gitflywheel session facts"
    assert cli("ingest", "--repo", store, EXAMPLES).exit_code == 0
    for sid in (BUILD_ID, TRADE_ID, "7d1c2a9e-5b7f-4c1e-9a55-0c3f8e2b6a10"):
        facts = json.loads(cli("show", "--repo", store, sid, "facts").stdout)
        jsonschema.validate(facts, schema)
        manifest = json.loads(cli("show", "--repo", store, sid).stdout)
        jsonschema.validate(manifest, json.loads(cli("schema", "manifest").stdout))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            {"pipeline": "build/2", "session_id": "x", "artifacts": {}, "x": 1}, schema
        )


@pytest.mark.slow
def test_a_template_failing_for_one_session_loses_only_that_one(
    cli: Cli, store: Path, tmp_path: Path
) -> None:
    for name in ("good-1", "bad-1", "good-2"):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(session(name)))
        assert cli("ingest", "--repo", store, path).exit_code == 0
    mine = tmp_path / "mine"
    mine.mkdir()
    shipped = (shipped_templates_dir() / "readme.md.j2").read_text()
    (mine / "readme.md.j2").write_text(
        '{% if session.id == "bad-1" %}{{ 1/0 }}{% endif %}<!-- mine -->\n' + shipped
    )
    before = tip(store)
    report = run(cli, store, "--templates", mine, "--all")
    assert report["exit_code"] == 2
    assert report["counts"]["rerendered"] == 2 and report["counts"]["invalid"] == 1
    bad = next(o for o in report["outcomes"] if o["session_id"] == "bad-1")
    assert "template readme.md.j2" in bad["problems"][0]
    assert "ZeroDivisionError" in bad["problems"][0]
    assert git("-C", store, "rev-list", "--count", f"{before}..main").strip() == "2"
    assert "/bad-1/" not in git("-C", store, "diff", "--name-only", before, "main")
    verify_ok(cli, store)
    fsck(store)


@pytest.mark.slow
def test_a_session_whose_manifest_cannot_be_read_is_named_and_the_rest_go_on(
    cli: Cli, store: Path, tmp_path: Path
) -> None:
    assert cli("ingest", "--repo", store, EXAMPLES).exit_code == 0
    work = tmp_path / "work"
    git("clone", "-q", store, work)
    (work / session_dir(TRADE_ID) / "manifest.json").write_text("{not json\n")
    me = ["-c", "user.name=Mallory", "-c", "user.email=m@example.com"]
    git(*me, "-C", work, "commit", "-qam", "Break a manifest")
    git("-C", work, "push", "-q", "origin", "HEAD:main")
    result = cli("rerender", "--repo", store, "--all", "--json")
    assert result.exit_code == 2
    outcomes = {o["session_id"]: o for o in json.loads(result.stdout)["outcomes"]}
    assert outcomes[TRADE_ID]["status"] == "invalid"
    assert "cannot be read back" in outcomes[TRADE_ID]["problems"][0]
    assert outcomes[BUILD_ID]["status"] == "current"
