"""verify: each SSOT rule broken with plain git makes it fail and name the commit, path
and rule; stores built by gitflywheel, their revisions, merges and clones verify clean."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, EXAMPLES, Cli, fsck, git, session

from gitflywheel.layout import session_dir

BUILD_ID = "3f2b7c1e-8a4d-4e6f-9b21-5c7d8e9f0a1b"
TRADE_ID = "9e8d7c6b-5a49-4382-b1c0-d9e8f7a6b5c4"
ME = ["-c", "user.name=Mallory", "-c", "user.email=mallory@example.com"]


@pytest.fixture()
def built(cli: Cli, tmp_path: Path) -> Path:
    """A store with the examples and a few corpus sessions, verified clean once."""
    store = tmp_path / "store.git"
    picks = sorted(CORPUS.glob("*.json"))[:5]
    assert cli("ingest", "--repo", store, EXAMPLES, *picks).exit_code == 0
    assert cli("verify", "--repo", store).exit_code == 0
    return store


def checkout(store: Path, tmp_path: Path) -> Path:
    work = tmp_path / "work"
    if work.exists():
        shutil.rmtree(work)
    git("clone", "-q", store, work)
    return work


def commit_and_push(work: Path, message: str, *, allow_empty: bool = False) -> str:
    git(*ME, "-C", work, "add", "-A")
    git(*ME, "-C", work, "commit", "-q", "-m", message, *(["--allow-empty"] if allow_empty else []))
    git("-C", work, "push", "-q", "origin", "HEAD:main")
    return git("-C", work, "rev-parse", "HEAD").strip()


def trailers(
    session_id: str, session_type: str = "build", agent: str = "Agent-5", revision: int = 2
) -> str:
    return (
        f"Revise (revision {revision}) {session_type} session {session_id}\n\n"
        f"Session-Id: {session_id}\nSession-Type: {session_type}\nAgent-Id: {agent}\nRevision: {revision}\n"
    )


def findings(cli: Cli, store: Path, *args: str) -> list[dict[str, Any]]:
    result = cli("verify", "--repo", store, "--json", *args)
    report = json.loads(result.stdout)
    assert result.exit_code == (0 if report["ok"] else 1)
    found: list[dict[str, Any]] = report["findings"]
    return found


def assert_found(cli: Cli, store: Path, rule: str, commit: str, path: str) -> list[dict[str, Any]]:
    found = findings(cli, store)
    assert any(f["rule"] == rule and f["commit"] == commit and f["path"] == path for f in found), (
        found
    )
    return found


def folder(work: Path, session_id: str = BUILD_ID) -> Path:
    return work / session_dir(session_id)


def manifest_of(work: Path, session_id: str = BUILD_ID) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder(work, session_id) / "manifest.json").read_text())
    return data


def write_manifest(work: Path, data: dict[str, Any], session_id: str = BUILD_ID) -> None:
    from gitflywheel.jsontext import dumps_pretty

    (folder(work, session_id) / "manifest.json").write_text(dumps_pretty(data))


# -- tampering, one rule at a time ---------------------------------------------------------


def test_artifact_edited_by_hand(cli: Cli, built: Path, tmp_path: Path) -> None:
    work = checkout(built, tmp_path)
    readme = folder(work) / "readme.md"
    readme.write_text(readme.read_text() + "\nBuy my course!\n")
    commit = commit_and_push(work, "Tweak the readme")
    path = f"{session_dir(BUILD_ID)}/readme.md"
    found = assert_found(cli, built, "artifact.missing", commit, path)
    rules = {f["rule"] for f in found}
    assert {"commit.no-session", "session.unnamed-change"} <= rules


def test_artifact_edited_with_a_manifest_and_trailers_that_match(
    cli: Cli, built: Path, tmp_path: Path
) -> None:
    """The careful forger: new blob and hash in the manifest, proper trailers. The
    artifact no longer renders from its record, and the record was already there."""
    import hashlib

    work = checkout(built, tmp_path)
    readme = folder(work) / "readme.md"
    readme.write_text(
        readme.read_text().replace("Metrics guardrail", "Metrics guardrail (sponsored)")
    )
    data = readme.read_bytes()
    blob = git("hash-object", readme).strip()
    manifest = manifest_of(work)
    manifest["revision"] = 2
    for artifact in manifest["artifacts"]:
        if artifact["kind"] == "readme":
            artifact.update(blob=blob, sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    write_manifest(work, manifest)
    commit = commit_and_push(work, trailers(BUILD_ID))
    path = f"{session_dir(BUILD_ID)}/readme.md"
    found = assert_found(cli, built, "artifact.render", commit, path)
    assert any(f["rule"] == "duplicate.record" for f in found)


def test_artifact_deleted(cli: Cli, built: Path, tmp_path: Path) -> None:
    work = checkout(built, tmp_path)
    (folder(work) / "social_post.md").unlink()
    commit = commit_and_push(work, "Drop a post")
    assert_found(cli, built, "artifact.missing", commit, f"{session_dir(BUILD_ID)}/social_post.md")


def test_unlisted_file(cli: Cli, built: Path, tmp_path: Path) -> None:
    work = checkout(built, tmp_path)
    (folder(work) / "notes.md").write_text("scratch\n")
    commit = commit_and_push(work, "Notes")
    assert_found(cli, built, "artifact.unlisted", commit, f"{session_dir(BUILD_ID)}/notes.md")


def test_session_removed(cli: Cli, built: Path, tmp_path: Path) -> None:
    work = checkout(built, tmp_path)
    shutil.rmtree(folder(work, TRADE_ID))
    commit = commit_and_push(work, "Clean up")
    assert_found(cli, built, "session.removed", commit, session_dir(TRADE_ID))


def test_record_changed_without_naming_it(cli: Cli, built: Path, tmp_path: Path) -> None:
    work = checkout(built, tmp_path)
    record = folder(work) / "session.json"
    record.write_text(record.read_text().replace("Metrics guardrail", "Metrics guard"))
    commit = commit_and_push(work, "Fix a typo")
    assert_found(cli, built, "session.unnamed-change", commit, session_dir(BUILD_ID))


def test_revision_out_of_order(cli: Cli, built: Path, tmp_path: Path) -> None:
    work = checkout(built, tmp_path)
    record = folder(work) / "session.json"
    record.write_text(record.read_text().replace("Metrics guardrail", "Metrics guard"))
    commit = commit_and_push(work, trailers(BUILD_ID, revision=5))
    assert_found(cli, built, "session.revision", commit, session_dir(BUILD_ID))


def test_trailers_that_lie(cli: Cli, built: Path, tmp_path: Path) -> None:
    work = checkout(built, tmp_path)
    record = folder(work) / "session.json"
    record.write_text(record.read_text().replace("Metrics guardrail", "Metrics guard"))
    commit = commit_and_push(work, trailers(BUILD_ID, session_type="trade", agent="Agent-9"))
    found = assert_found(cli, built, "commit.trailers", commit, session_dir(BUILD_ID))
    messages = " ".join(f["message"] for f in found if f["rule"] == "commit.trailers")
    assert "Session-Type" in messages and "Agent-Id" in messages


def test_commit_names_another_session_than_it_changes(
    cli: Cli, built: Path, tmp_path: Path
) -> None:
    work = checkout(built, tmp_path)
    record = folder(work) / "session.json"
    record.write_text(record.read_text().replace("Metrics guardrail", "Metrics guard"))
    commit = commit_and_push(work, trailers(TRADE_ID, session_type="trade", agent="trader-kay"))
    assert_found(cli, built, "session.unnamed-change", commit, session_dir(BUILD_ID))


def test_manifest_with_wrong_sha256(cli: Cli, built: Path, tmp_path: Path) -> None:
    work = checkout(built, tmp_path)
    manifest = manifest_of(work)
    manifest["artifacts"][0]["sha256"] = "0" * 64
    write_manifest(work, manifest)
    commit = commit_and_push(work, "Manifest edit")
    assert_found(cli, built, "artifact.missing", commit, manifest["artifacts"][0]["path"])


def test_manifest_naming_a_template_not_in_the_tree(cli: Cli, built: Path, tmp_path: Path) -> None:
    work = checkout(built, tmp_path)
    template = work / "templates" / "readme.md.j2"
    template.write_text(template.read_text() + "\nEdited by hand.\n")
    commit = commit_and_push(work, "Edit a template")
    found = assert_found(cli, built, "history.unexpected-path", commit, "templates/readme.md.j2")
    assert any(f["rule"] == "commit.no-session" for f in found)


def test_template_recorded_wrong(cli: Cli, built: Path, tmp_path: Path) -> None:
    work = checkout(built, tmp_path)
    manifest = manifest_of(work)
    other = git("hash-object", "-w", "--stdin", input=b"{{ nope }}\n", cwd=work).strip()
    for artifact in manifest["artifacts"]:
        if artifact["kind"] == "blog_post":
            artifact["template"]["blob"] = other
    manifest["revision"] = 2
    write_manifest(work, manifest)
    git(
        "-C", work, "push", "-q", "origin", "HEAD:refs/heads/scratch"
    )  # nothing yet; objects travel with the commit
    commit = commit_and_push(work, trailers(BUILD_ID))
    assert_found(cli, built, "artifact.template", commit, f"{session_dir(BUILD_ID)}/blog_post.md")


def test_folder_in_the_wrong_bucket(cli: Cli, built: Path, tmp_path: Path) -> None:
    work = checkout(built, tmp_path)
    wrong = work / "sessions" / "0" / "0" / "0" / "0" / BUILD_ID
    wrong.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(folder(work), wrong)
    commit = commit_and_push(work, trailers(BUILD_ID))
    found = findings(cli, built)
    assert any(
        f["rule"] in ("session.path", "session.unnamed-change")
        and f["commit"] == commit
        and f["path"] == f"sessions/0/0/0/0/{BUILD_ID}"
        for f in found
    ), found


def test_record_id_differs_from_its_folder(cli: Cli, built: Path, tmp_path: Path) -> None:
    work = checkout(built, tmp_path)
    record = folder(work) / "session.json"
    record.write_text(
        record.read_text().replace(f'"session_id": "{BUILD_ID}"', '"session_id": "someone-else"')
    )
    commit = commit_and_push(work, trailers(BUILD_ID))
    assert_found(cli, built, "session.path", commit, f"{session_dir(BUILD_ID)}/session.json")


def test_record_not_canonical(cli: Cli, built: Path, tmp_path: Path) -> None:
    work = checkout(built, tmp_path)
    record = folder(work) / "session.json"
    record.write_text(json.dumps(json.loads(record.read_text())) + "\n")
    commit = commit_and_push(work, trailers(BUILD_ID))
    assert_found(cli, built, "session.record", commit, f"{session_dir(BUILD_ID)}/session.json")


def test_record_not_a_valid_session(cli: Cli, built: Path, tmp_path: Path) -> None:
    work = checkout(built, tmp_path)
    record = folder(work) / "session.json"
    record.write_text(
        record.read_text().replace('"session_type": "build"', '"session_type": "party"')
    )
    commit = commit_and_push(work, trailers(BUILD_ID))
    assert_found(cli, built, "session.record", commit, f"{session_dir(BUILD_ID)}/session.json")


def test_pipeline_run_twice(cli: Cli, built: Path, tmp_path: Path) -> None:
    work = checkout(built, tmp_path)
    commit = commit_and_push(work, trailers(BUILD_ID, revision=1), allow_empty=True)
    assert_found(cli, built, "duplicate.record", commit, session_dir(BUILD_ID))


def test_same_session_under_two_ids_and_identical_artifacts(
    cli: Cli, store: Path, tmp_path: Path
) -> None:
    """Two ids, same content: gitflywheel records both (they are valid input), verify
    reports the duplicate session and the artifacts that would be published twice."""
    for name in ("dup-aaaa-1", "dup-aaaa-2"):
        path = tmp_path / f"{name}.json"
        same = session(
            name, title="Same work", source_data={"git_commits": [{"message": "Same change"}]}
        )
        path.write_text(json.dumps(same))
        assert cli("ingest", "--repo", store, path).exit_code == 0
    second = git("-C", store, "rev-parse", "main").strip()
    found = assert_found(cli, store, "duplicate.session", second, session_dir("dup-aaaa-2"))
    dup = [f for f in found if f["rule"] == "duplicate.artifact"]
    assert dup and all(f["commit"] == second for f in dup)
    assert {f["path"].rsplit("/", 1)[1] for f in dup} >= {"readme.md", "social_post.md"}


def test_file_outside_the_store_layout(cli: Cli, built: Path, tmp_path: Path) -> None:
    work = checkout(built, tmp_path)
    (work / "TODO.txt").write_text("later\n")
    commit = commit_and_push(work, "A note")
    assert_found(cli, built, "history.unexpected-path", commit, "TODO.txt")


def test_rewound_main(cli: Cli, built: Path) -> None:
    verified = git("-C", built, "rev-parse", "main").strip()
    git("-C", built, "update-ref", "refs/heads/main", "main~2")
    found = assert_found(cli, built, "history.rewritten", verified, "refs/heads/main")
    assert len(found) == 1
    again = findings(cli, built)  # it stays reported until someone acts
    assert [f["rule"] for f in again] == ["history.rewritten"]


def test_rewritten_main(cli: Cli, built: Path, tmp_path: Path) -> None:
    verified = git("-C", built, "rev-parse", "main").strip()
    work = checkout(built, tmp_path)
    git(*ME, "-C", work, "commit", "-q", "--amend", "-m", "Rewritten")
    git("-C", work, "push", "-q", "-f", "origin", "HEAD:main")
    found = findings(cli, built)
    assert any(f["rule"] == "history.rewritten" and f["commit"] == verified for f in found)


# -- clean stores ---------------------------------------------------------------------------


def test_corpus_store_verifies_clean_with_warnings(
    cli: Cli, corpus_store: Path, tmp_path: Path
) -> None:
    result = cli("verify", "--repo", corpus_store, "--json")
    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["figures"]["sessions"] == 54 and report["commits_checked"] == 55
    assert len(report["warnings"]) == 21
    clone = tmp_path / "clone.git"
    git("clone", "-q", "--bare", corpus_store, clone)
    assert cli("verify", "--repo", clone).exit_code == 0
    fsck(corpus_store)


def test_revisions_verify_clean(cli: Cli, store: Path, tmp_path: Path) -> None:
    for title in ("One", "Two", "Three"):
        path = tmp_path / "s.json"
        path.write_text(json.dumps(session("rev-1", title=title)))
        assert cli("ingest", "--repo", store, path, "--revise").exit_code == 0
    result = cli("verify", "--repo", store, "--json")
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["figures"]["revisions"] == 2


def test_incremental_runs(cli: Cli, built: Path, tmp_path: Path) -> None:
    second = json.loads(cli("verify", "--repo", built, "--json").stdout)
    assert second["commits_checked"] == 0 and not second["full"] and second["ok"]
    more = tmp_path / "more.json"
    more.write_text(json.dumps([session("inc-1"), session("inc-2")]))
    assert cli("ingest", "--repo", built, more).exit_code == 0
    third = json.loads(cli("verify", "--repo", built, "--json").stdout)
    assert third["commits_checked"] == 2 and third["ok"]
    full = json.loads(cli("verify", "--repo", built, "--json", "--full").stdout)
    assert full["full"] and full["commits_checked"] == len(
        git("-C", built, "rev-list", "main").split()
    )
    (built / "gitflywheel" / "verify.sqlite3").unlink()
    rebuilt = json.loads(cli("verify", "--repo", built, "--json").stdout)
    assert rebuilt["full"] and rebuilt["ok"]
    work = checkout(built, tmp_path)
    (folder(work) / "extra.md").write_text("x\n")
    commit = commit_and_push(work, "Extra")
    caught = json.loads(cli("verify", "--repo", built, "--json").stdout)
    assert caught["commits_checked"] == 1
    assert any(
        f["rule"] == "artifact.unlisted" and f["commit"] == commit for f in caught["findings"]
    )
    fsck(built)


def test_verified_ref_stays_out_of_pushes(cli: Cli, built: Path, tmp_path: Path) -> None:
    assert git("-C", built, "rev-parse", "refs/gitflywheel/verified").strip()
    hub = tmp_path / "hub.git"
    git("init", "-q", "--bare", "-b", "main", hub)
    assert cli("publish", "--repo", built, hub).exit_code == 0
    assert git("-C", hub, "for-each-ref", "--format=%(refname)").split() == ["refs/heads/main"]


def test_report_reads_well(cli: Cli, built: Path, tmp_path: Path) -> None:
    from markdown_it import MarkdownIt

    report = tmp_path / "ssot.md"
    assert cli("verify", "--repo", built, "--full", "--report", report).exit_code == 0
    text = report.read_text()
    for heading in (
        "## Work sessions",
        "## Artifacts",
        "## Pipelines",
        "## Duplicates",
        "## Recommendations",
    ):
        assert heading in text
    assert MarkdownIt("commonmark").enable("table").render(text).count("<table>") >= 2
    files = git("-C", built, "ls-tree", "-r", "main").splitlines()
    blobs = {line.split()[2] for line in files}
    sizes = {b: int(git("-C", built, "cat-file", "-s", b)) for b in blobs}
    total = sum(sizes[line.split()[2]] for line in files)
    saved = total - sum(sizes.values())
    assert f"| files in the tree | {len(files):,} |" in text
    assert f"| unique blobs | {len(blobs):,} |" in text
    assert f"| bytes saved by deduplication | {saved:,} |" in text
    sessions = len(git("-C", built, "log", "--format=%(trailers:key=Session-Id,valueonly)").split())
    assert f"| sessions | {sessions:,} |" in text


def test_tamper_on_the_merged_side_is_caught(cli: Cli, tmp_path: Path) -> None:
    """A commit made by hand on one writer's store, then merged by the other's sync, is
    judged by its own change, though the merge's first-parent line never passes it."""
    hub = tmp_path / "hub.git"
    git("init", "-q", "--bare", "-b", "main", hub)
    a, b = tmp_path / "a.git", tmp_path / "b.git"
    assert cli("ingest", "--repo", a, EXAMPLES / "build_session.json").exit_code == 0
    assert cli("sync", "--repo", a, hub).exit_code == 0
    git("clone", "-q", "--bare", hub, b)
    assert cli("ingest", "--repo", b, EXAMPLES / "trade_session.json").exit_code == 0
    work = checkout(a, tmp_path)
    readme = folder(work) / "readme.md"
    readme.write_text(readme.read_text() + "\nEdited on a.\n")
    tampered = commit_and_push(work, "Edit on a")
    assert cli("sync", "--repo", a, hub).exit_code == 0  # a only pushes
    refused = cli("sync", "--repo", b, hub)  # sync itself refuses a history that breaks the rules
    assert refused.exit_code == 1 and tampered[:12] in refused.stderr, refused.output
    work_b = tmp_path / "work-b"  # so b merges a's line as the second parent by plain git
    git("clone", "-q", b, work_b)
    git(*ME, "-C", work_b, "pull", "-q", "--no-rebase", "--no-edit", hub, "main")
    git("-C", work_b, "push", "-q", "origin", "HEAD:main")
    assert len(git("-C", b, "log", "-1", "--format=%P", "main").split()) == 2
    found = findings(cli, b)
    assert any(
        f["rule"] == "artifact.missing"
        and f["commit"] == tampered
        and f["path"].endswith("/readme.md")
        for f in found
    ), found
    assert any(f["rule"] == "commit.no-session" and f["commit"] == tampered for f in found)
