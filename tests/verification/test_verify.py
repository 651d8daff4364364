"""verify: each SSOT rule broken with plain git makes it fail and name the commit, path
and rule; stores built by gitflywheel, their revisions, merges and clones verify clean."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, EXAMPLES, Cli, checkout, forge_tip, fsck, git, session
from hypothesis import given, settings
from hypothesis import strategies as st

from gitflywheel.pipelines import pipeline_id
from gitflywheel.storage.layout import artifact_file, session_dir

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


def test_a_commit_below_the_tip_that_does_not_parse_is_named(
    cli: Cli, built: Path, tmp_path: Path
) -> None:
    """A commit no parser reads, under a well-formed tip: its child's finding says that it
    does not parse and why, not that it is missing."""
    clone = tmp_path / "clone.git"
    git("clone", "-q", "--bare", built, clone)
    tip = git("-C", clone, "rev-parse", "main").strip()
    parent = git("-C", clone, "rev-parse", "main^").strip()
    git("-C", clone, "update-ref", "refs/heads/main", parent)
    broken = forge_tip(clone, lambda raw: raw.replace(b"> ", b"> 17e9 +0000 ", 1))
    git("-C", clone, "update-ref", "refs/heads/main", tip)
    child = forge_tip(
        clone, lambda raw: raw.replace(f"parent {parent}".encode(), f"parent {broken}".encode())
    )
    found = findings(cli, clone, "--full")
    assert any(
        f["rule"] == "history.missing-object"
        and f["commit"] == child
        and f"its parent commit {broken[:12]} does not parse as a commit" in f["message"]
        for f in found
    ), found


_MALFORMED = "history.malformed-commit"


@pytest.mark.parametrize(
    ("edit", "rule", "words"),
    [
        (
            lambda raw: raw.replace(b"\n\nSession-Id", b"\0x\n\nSession-Id", 1),
            _MALFORMED,
            "a NUL byte in its message",
        ),
        (
            lambda raw: raw.replace(b"\n\n", b"\nextra a\0b\n\n", 1),
            _MALFORMED,
            "a NUL byte in its header",
        ),
        (
            lambda raw: raw.replace(b"\ncommitter ", b"\nauthor X <x@y> 1 +0000\ncommitter ", 1),
            _MALFORMED,
            "no committer line where git expects it",
        ),
        (  # git's fsck: missingSpaceBeforeEmail
            lambda raw: raw.replace(b" <", b"<", 1),
            _MALFORMED,
            "a malformed author line",
        ),
        (  # git's fsck: missingNameBeforeEmail
            lambda raw: b"\nauthor <".join(
                [raw.split(b"\nauthor ", 1)[0], raw.split(b"\nauthor ", 1)[1].split(b"<", 1)[1]]
            ),
            _MALFORMED,
            "a malformed author line",
        ),
        (  # not even dulwich reads it
            lambda raw: raw.replace(b"> ", b"> 17e9 +0000 ", 1),
            "history.missing-object",
            "which does not parse as a commit: invalid literal",
        ),
    ],
)
def test_a_commit_git_s_fsck_refuses(
    cli: Cli, built: Path, tmp_path: Path, edit: Callable[[bytes], bytes], rule: str, words: str
) -> None:
    """A clone takes what its server sends unchecked: a tip commit that git's fsck refuses
    (its trailers, after a NUL, unseen by git) is a violation, as sync refuses it."""
    clone = tmp_path / "clone.git"
    git("clone", "-q", "--bare", built, clone)
    forged = forge_tip(clone, edit)
    assert subprocess.run(["git", "-C", clone, "fsck", "--strict"], capture_output=True).returncode
    found = findings(cli, clone, "--full")
    assert found and all(f["rule"] == rule and f["commit"] == forged for f in found), found
    assert any(words in f["message"] for f in found), found
    if rule != _MALFORMED:  # nothing is recorded on top of a commit that cannot be read
        result = cli("ingest", "--repo", clone, EXAMPLES / "trade_session.json")
        assert result.exit_code == 2, result.output
        assert f"main points at {forged[:12]}, which cannot be read as a commit" in result.stderr


@pytest.mark.slow
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


@pytest.mark.slow
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


def test_a_revision_that_moves_the_post(cli: Cli, built: Path, tmp_path: Path) -> None:
    """(20) A session's address is fixed at its first record: a commit that gives its
    manifest another slug moves the page a shared link points to."""
    work = checkout(built, tmp_path)
    manifest = manifest_of(work)
    assert manifest["slug"] == "metrics-guardrail-for-the-output-flywheel"
    manifest["slug"] = "metrics-guardrail"
    write_manifest(work, manifest)
    commit = commit_and_push(work, trailers(BUILD_ID, revision=1))
    found = assert_found(
        cli, built, "session.address", commit, f"{session_dir(BUILD_ID)}/manifest.json"
    )
    message = next(f["message"] for f in found if f["rule"] == "session.address")
    assert "sessions/metrics-guardrail-for-the-output-flywheel/" in message


def test_a_thread_that_links_another_site_than_the_settings(
    cli: Cli, built: Path, tmp_path: Path
) -> None:
    """(20) A thread links the site the store's settings name when it is recorded: a
    session folder rendered for another site (here by a second store, whole and
    consistent in itself) is a finding, as is any other site address in its facts."""
    other = tmp_path / "other.git"
    assert (
        cli("config", "--repo", other, "site.base_url", "https://elsewhere.example/").exit_code == 0
    )
    assert cli("ingest", "--repo", other, EXAMPLES / "build_session.json").exit_code == 0
    work = checkout(built, tmp_path)
    shutil.rmtree(folder(work))
    archive = subprocess.run(
        ["git", "-C", other, "archive", "main", session_dir(BUILD_ID)],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", work], input=archive, check=True)
    assert "https://elsewhere.example/" in (folder(work) / "social_post.md").read_text()
    message = (
        f"Re-render build session {BUILD_ID}\n\nSession-Id: {BUILD_ID}\nSession-Type: build\n"
        "Agent-Id: Agent-5\nRevision: 1\n"
        "Rendered-By: gitflywheel 0.4.0 pipeline build/5 filters/1\n"
    )
    commit = commit_and_push(work, message)
    found = assert_found(cli, built, "facts.derive", commit, f"{session_dir(BUILD_ID)}/facts.json")
    assert any("https://elsewhere.example/" in f["message"] for f in found), found


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
    reports the duplicate session; the artifacts differ by their front matter (session id,
    slug), so none would be published twice under one name."""
    for name in ("dup-aaaa-1", "dup-aaaa-2"):
        path = tmp_path / f"{name}.json"
        same = session(
            name, title="Same work", source_data={"git_commits": [{"message": "Same change"}]}
        )
        path.write_text(json.dumps(same))
        assert cli("ingest", "--repo", store, path).exit_code == 0
    second = git("-C", store, "rev-parse", "main").strip()
    found = assert_found(cli, store, "duplicate.session", second, session_dir("dup-aaaa-2"))
    assert not [f for f in found if f["rule"] == "duplicate.artifact"]


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


@pytest.mark.slow
def test_corpus_store_verifies_clean_with_warnings(
    cli: Cli, corpus_store: Path, tmp_path: Path
) -> None:
    result = cli("verify", "--repo", corpus_store, "--json")
    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["figures"]["sessions"] == 54 and report["commits_checked"] == 55
    # 21 negative durations, 5 of more than a day, 1 twin (TestAgent's commits under Agent-1)
    assert len(report["warnings"]) == 27
    clone = tmp_path / "clone.git"
    git("clone", "-q", "--bare", corpus_store, clone)
    assert cli("verify", "--repo", clone).exit_code == 0
    fsck(corpus_store)


def test_examples_and_corpus_verify_clean_under_the_tree_rules(
    cli: Cli, corpus_store: Path
) -> None:
    """What gitflywheel writes breaks none of the tree rules: every entry a regular file or
    a folder, safe names, templates only *.j2, every object present."""
    assert cli("ingest", "--repo", corpus_store, EXAMPLES).exit_code == 0
    result = cli("verify", "--repo", corpus_store, "--full", "--json")
    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["ok"] and report["findings"] == [] and report["figures"]["sessions"] == 57
    modes = {
        line.split()[0]
        for line in git("-C", corpus_store, "ls-tree", "-r", "-t", "main").splitlines()
    }
    assert modes == {"100644", "040000"}
    fsck(corpus_store)


def test_revisions_verify_clean(cli: Cli, store: Path, tmp_path: Path) -> None:
    for title in ("One", "Two", "Three"):
        path = tmp_path / "s.json"
        path.write_text(json.dumps(session("rev-1", title=title)))
        assert cli("ingest", "--repo", store, path, "--revise").exit_code == 0
    result = cli("verify", "--repo", store, "--json")
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["figures"]["revisions"] == 2


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


# -- hostile trees: every entry's mode, name and place, and objects that are not there ------

MISSING = "1234567890abcdef1234567890abcdef12345678"  # an id no store holds
TreeEntry = tuple[bytes, bytes, str]  # (mode as git writes it, name, hex id)
Change = Callable[[Path, list[TreeEntry]], list[TreeEntry]]


def git_out(store: Path, *args: str, input: bytes | None = None) -> bytes:
    """Run the real git in `store` and return its raw output (tree bytes are not text)."""
    done = subprocess.run(["git", "-C", store, *args], input=input, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


def read_tree(store: Path, tree: str) -> list[TreeEntry]:
    """A tree's entries as git stores them, in order, with duplicates."""
    raw = git_out(store, "cat-file", "tree", tree)
    entries, pos = [], 0
    while pos < len(raw):
        space, nul = raw.index(b" ", pos), raw.index(b"\0", pos)
        entries.append((raw[pos:space], raw[space + 1 : nul], raw[nul + 1 : nul + 21].hex()))
        pos = nul + 21
    return entries


def write_tree(store: Path, entries: list[TreeEntry]) -> str:
    """Write the entries as one tree, as given: `--literally` skips the checks that make
    `git mktree` refuse names such as `..`, so that verify has something to catch."""
    raw = b"".join(mode + b" " + name + b"\0" + bytes.fromhex(sha) for mode, name, sha in entries)
    out = git_out(store, "hash-object", "-w", "-t", "tree", "--literally", "--stdin", input=raw)
    return out.decode().strip()


def in_git_order(entries: list[TreeEntry]) -> list[TreeEntry]:
    return sorted(entries, key=lambda e: e[1] + b"/" if e[0] == b"40000" else e[1])


def put(name: bytes, mode: bytes, sha: str | Callable[[Path], str]) -> Change:
    """A change that sets one entry (replacing any of that name), in git's order."""

    def change(store: Path, entries: list[TreeEntry]) -> list[TreeEntry]:
        value = sha if isinstance(sha, str) else sha(store)
        return in_git_order([e for e in entries if e[1] != name] + [(mode, name, value)])

    return change


def same_blob_as(name: bytes, mode: bytes) -> Change:
    """A change that keeps an entry's object but gives it another mode."""

    def change(store: Path, entries: list[TreeEntry]) -> list[TreeEntry]:
        return [(mode, n, sha) if n == name else (m, n, sha) for m, n, sha in entries]

    return change


def edit_tree(store: Path, tree: str, folder: list[bytes], change: Change) -> str:
    """A new tree like `tree` with `change` applied to the folder at `folder`."""
    entries = read_tree(store, tree)
    if not folder:
        return write_tree(store, change(store, entries))
    head, rest = folder[0], folder[1:]
    edited = [
        (mode, name, edit_tree(store, sha, rest, change) if name == head else sha)
        for mode, name, sha in entries
    ]
    return write_tree(store, edited)


def hostile_commit(store: Path, tree: str) -> str:
    """Commit `tree` on top of main with plain git, as someone bypassing gitflywheel would."""
    tip = git("-C", store, "rev-parse", "main").strip()
    commit = git(*ME, "-C", store, "commit-tree", tree, "-p", tip, "-m", "Hostile change").strip()
    git("-C", store, "update-ref", "refs/heads/main", commit, tip)
    return commit


def blob(store: Path, data: bytes = b"not a template\n") -> str:
    return git_out(store, "hash-object", "-w", "--stdin", input=data).decode().strip()


def templates_tree(store: Path) -> str:
    return git("-C", store, "rev-parse", "main:templates").strip()


def older_commit(store: Path) -> str:
    return git("-C", store, "rev-parse", "main~1").strip()


def manifest_in_a_folder(store: Path) -> str:
    manifest = git("-C", store, "rev-parse", f"main:{session_dir(BUILD_ID)}/manifest.json")
    return write_tree(store, [(b"100644", b"manifest.json", manifest.strip())])


def duplicate(name: bytes) -> Change:
    def change(store: Path, entries: list[TreeEntry]) -> list[TreeEntry]:
        index = next(i for i, e in enumerate(entries) if e[1] == name)
        return entries[: index + 1] + entries[index:]

    return change


def reverse(store: Path, entries: list[TreeEntry]) -> list[TreeEntry]:
    return entries[::-1]


SESSION = [part.encode() for part in session_dir(BUILD_ID).split("/")]
FOLDER = session_dir(BUILD_ID)

# case -> (the folder changed, the change, the rule, the path named, git fsck's message id)
HOSTILE: dict[str, tuple[list[bytes], Change, str, str, str | None]] = {
    "dotdot in templates": (
        [b"templates"],
        put(b"..", b"100644", blob),
        "tree.name",
        "templates/..",
        "hasDotdot",
    ),
    "a .GIT folder": ([], put(b".GIT", b"40000", templates_tree), "tree.name", ".GIT", "hasDotgit"),
    "a .git with trailing dot and space": (
        SESSION,
        put(b".git. ", b"100644", blob),
        "tree.name",
        f"{FOLDER}/.git. ",
        "hasDotgit",
    ),
    "a slash in a name": (
        SESSION,
        put(b"notes/x.md", b"100644", blob),
        "tree.name",
        f"{FOLDER}/notes/x.md",
        "fullPathname",
    ),
    "a control character in a name": (
        SESSION,
        put(b"x\x1b[31m.md", b"100644", blob),
        "tree.name",
        f"{FOLDER}/x\\x1b[31m.md",
        None,
    ),
    "two entries of one name": (
        SESSION,
        duplicate(b"readme.md"),
        "tree.name",
        f"{FOLDER}/readme.md",
        "duplicateEntries",
    ),
    "entries out of order": (SESSION, reverse, "tree.shape", None, "treeNotSorted"),
    "an executable artifact": (
        SESSION,
        same_blob_as(b"readme.md", b"100755"),
        "tree.mode",
        f"{FOLDER}/readme.md",
        None,
    ),
    "a symlink artifact": (
        SESSION,
        same_blob_as(b"readme.md", b"120000"),
        "tree.mode",
        f"{FOLDER}/readme.md",
        None,
    ),
    "a gitlink in a session folder": (
        SESSION,
        put(b"vendor", b"160000", MISSING),
        "tree.mode",
        f"{FOLDER}/vendor",
        None,
    ),
    "a gitlink's commit not in the store": (
        SESSION,
        put(b"vendor", b"160000", MISSING),
        "history.missing-object",
        f"{FOLDER}/vendor",
        None,
    ),
    "a gitlink at the top": (
        [],
        put(b"vendor", b"160000", older_commit),
        "tree.mode",
        "vendor",
        None,
    ),
    "a blob where a fan-out folder belongs": (
        [b"sessions"],
        put(SESSION[1], b"100644", blob),
        "tree.shape",
        f"sessions/{SESSION[1].decode()}",
        None,
    ),
    "a blob where a session folder belongs": (
        SESSION[:-1],
        put(SESSION[-1], b"100644", blob),
        "tree.shape",
        FOLDER,
        None,
    ),
    "a manifest.json that is a folder": (
        SESSION,
        put(b"manifest.json", b"40000", manifest_in_a_folder),
        "tree.shape",
        f"{FOLDER}/manifest.json",
        None,
    ),
    "a gitflywheel.json that is a folder": (
        [],
        put(b"gitflywheel.json", b"40000", templates_tree),
        "tree.shape",
        "gitflywheel.json",
        None,
    ),
    "a file in templates that is no template": (
        [b"templates"],
        put(b"notes.txt", b"100644", blob),
        "templates.invalid",
        "templates/notes.txt",
        None,
    ),
    "a symlink template": (
        [b"templates"],
        same_blob_as(b"readme.md.j2", b"120000"),
        "templates.invalid",
        "templates/readme.md.j2",
        None,
    ),
    "a folder in templates": (
        [b"templates"],
        put(b"old", b"40000", templates_tree),
        "templates.invalid",
        "templates/old",
        None,
    ),
    "a tree not in the store": (
        SESSION,
        put(b"screenshots", b"40000", MISSING),
        "history.missing-object",
        f"{FOLDER}/screenshots",
        "missing tree",
    ),
    "a blob not in the store": (
        SESSION,
        put(b"readme.md", b"100644", MISSING),
        "history.missing-object",
        f"{FOLDER}/readme.md",
        "missing blob",
    ),
    "a blob where a tree is named": (
        SESSION,
        put(b"screenshots", b"40000", blob),
        "history.missing-object",
        f"{FOLDER}/screenshots",
        # git names the mismatch from whichever side its walk reaches first
        ("is a blob, not a tree", "is a tree, not a blob"),
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE))
@pytest.mark.slow
def test_hostile_tree_entry(cli: Cli, built: Path, tmp_path: Path, case: str) -> None:
    """Built with plain git on top of a real store: verify exits 1 (never 2, never a
    traceback) and names the rule, the commit and the path, in JSON and in the report;
    where git fsck --strict has an opinion, it agrees."""
    folder, change, rule, path, fsck_says = HOSTILE[case]
    root = git("-C", built, "rev-parse", "main^{tree}").strip()
    commit = hostile_commit(built, edit_tree(built, root, folder, change))
    report = tmp_path / "ssot.md"
    for args in ([], ["--full"]):
        result = cli("verify", "--repo", built, "--json", "--report", report, *args)
        assert result.exit_code == 1, result.output
        found = json.loads(result.stdout)["findings"]
        assert any(
            f["rule"] == rule and f["commit"] == commit and (path is None or f["path"] == path)
            for f in found
        ), found
        text = report.read_text()
        assert f"`{rule}`" in text and (path is None or path in text)
    fsck = subprocess.run(
        ["git", "-C", built, "fsck", "--strict", "--no-progress"], capture_output=True, text=True
    )
    if fsck_says is None:
        assert fsck.returncode == 0, fsck.stderr
    else:
        said = (fsck_says,) if isinstance(fsck_says, str) else fsck_says
        assert fsck.returncode != 0, fsck.stderr
        assert any(text in fsck.stdout + fsck.stderr for text in said), fsck.stderr


def test_templates_checked_in_the_first_commit(cli: Cli, built: Path, tmp_path: Path) -> None:
    """A store whose first commit, made with plain git, sets up templates/ with a symlink
    and a file that is no template."""
    store = tmp_path / "bare.git"
    git("init", "-q", "--bare", "-b", "main", store)
    git("-C", built, "push", "-q", store, "main:refs/heads/source")  # the objects to reuse
    first = git("-C", store, "rev-list", "--max-parents=0", "source").strip()
    root = git("-C", store, "rev-parse", f"{first}^{{tree}}").strip()
    edited = edit_tree(store, root, [b"templates"], same_blob_as(b"readme.md.j2", b"120000"))
    edited = edit_tree(store, edited, [b"templates"], put(b"README", b"100644", blob))
    commit = git(*ME, "-C", store, "commit-tree", edited, "-m", "Set up the store").strip()
    git("-C", store, "update-ref", "refs/heads/main", commit)
    found = findings(cli, store)
    assert {(f["rule"], f["path"]) for f in found if f["commit"] == commit} >= {
        ("templates.invalid", "templates/readme.md.j2"),
        ("tree.mode", "templates/readme.md.j2"),
        ("templates.invalid", "templates/README"),
    }, found


def test_folders_nested_past_any_layout(cli: Cli, built: Path, tmp_path: Path) -> None:
    """Folders nested far deeper than Python's recursion limit are named, not walked."""
    import hashlib

    trees: list[bytes] = []
    child = blob(built)
    mode = b"100644"
    for _ in range(1500):
        raw = mode + b" d\0" + bytes.fromhex(child)
        trees.append(raw)
        child = hashlib.sha1(b"tree %d\0" % len(raw) + raw).hexdigest()
        mode = b"40000"
    files = []
    for index, raw in enumerate(trees):
        path = tmp_path / f"deep-{index}"
        path.write_bytes(raw)
        files.append(str(path))
    ids = git_out(
        built, "hash-object", "-w", "-t", "tree", "--literally", "--stdin-paths",
        input="\n".join(files).encode() + b"\n",
    ).split()  # fmt: skip
    assert ids[-1].decode() == child
    root = git("-C", built, "rev-parse", "main^{tree}").strip()
    commit = hostile_commit(built, edit_tree(built, root, SESSION, put(b"deep", b"40000", child)))
    found = findings(cli, built)
    assert any(
        f["rule"] == "tree.shape"
        and f["commit"] == commit
        and f["path"].startswith(FOLDER + "/deep/d/d")
        for f in found
    ), found


def test_parent_not_in_the_store(cli: Cli, built: Path) -> None:
    """A commit whose parent the store lacks (a broken or shallow copy) is named; the
    commits before it cannot be reached, so they cannot be judged either."""
    tree = git("-C", built, "rev-parse", "main^{tree}").strip()
    text = (
        f"tree {tree}\nparent {MISSING}\n"
        "author Mallory <mallory@example.com> 1764633600 +0000\n"
        "committer Mallory <mallory@example.com> 1764633600 +0000\n\nOrphan\n"
    )
    commit = git_out(
        built, "hash-object", "-w", "-t", "commit", "--literally", "--stdin", input=text.encode()
    ).decode().strip()  # fmt: skip
    git("-C", built, "update-ref", "refs/heads/main", commit)
    found = findings(cli, built)
    assert any(f["rule"] == "history.missing-object" and f["commit"] == commit for f in found), (
        found
    )
    assert any(f["rule"] == "history.rewritten" for f in found)


@pytest.mark.slow
def test_report_keeps_hostile_paths_in_their_cell(cli: Cli, built: Path, tmp_path: Path) -> None:
    """A path with pipes and backticks stays one cell of the findings table, shown as is."""
    from markdown_it import MarkdownIt

    name = b"a|b`c``d.md"
    root = git("-C", built, "rev-parse", "main^{tree}").strip()
    hostile_commit(built, edit_tree(built, root, SESSION, put(name, b"100644", blob)))
    report = tmp_path / "ssot.md"
    assert cli("verify", "--repo", built, "--report", report).exit_code == 1
    html = MarkdownIt("commonmark").enable("table").render(report.read_text())
    row = next(line for line in html.split("<tr>") if "d.md" in line).split("</tr>")[0]
    assert row.count("<td>") == 4
    assert f"<code>{FOLDER}/a|b`c``d.md</code>" in row


# -- the entry rules themselves -------------------------------------------------------------

SAFE_NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=1, max_size=30)


@given(SAFE_NAME)
@settings(max_examples=200)
def test_safe_names_pass_and_git_spellings_of_dotgit_do_not(name: str) -> None:
    from gitflywheel.storage.treecheck import entry_problems, is_dotgit

    raw = name.encode()
    problems = entry_problems("sessions", raw, 0o100644)
    assert (problems != []) == (name in (".", "..") or is_dotgit(raw))
    assert is_dotgit(raw) == (name.lower().rstrip(". ") in (".git", "git~1"))


@given(SAFE_NAME, st.sampled_from(["/", "\\", "\0", "\x01", "\x1b", "\x7f", "\n"]), st.data())
@settings(max_examples=200)
def test_separators_and_control_characters_never_pass(
    name: str, bad: str, data: st.DataObject
) -> None:
    from gitflywheel.storage.treecheck import display_name, name_problems

    at = data.draw(st.integers(0, len(name)))
    raw = (name[:at] + bad + name[at:]).encode()
    assert name_problems(raw)
    assert all(ord(c) >= 0x20 and c != "\x7f" for c in display_name(raw))


@given(st.sampled_from([".git", ".GIT", ".Git", "git~1", "GIT~1"]), st.text(". ", max_size=4))
def test_every_spelling_of_dotgit_is_refused(stem: str, tail: str) -> None:
    from gitflywheel.storage.treecheck import name_problems

    assert name_problems((stem + tail).encode())
    if stem.startswith("."):  # HFS+ ignores zero-width characters, so this is .git there
        assert name_problems((stem[:2] + "\u200c" + stem[2:]).encode())


@given(st.sampled_from([0o100755, 0o120000, 0o160000, 0o100664, 0o644, 0]))
def test_only_regular_files_and_folders_pass(mode: int) -> None:
    from gitflywheel.storage.treecheck import entry_problems

    assert entry_problems("", b"readme.md", mode)
    assert not entry_problems("", b"readme.md", 0o100644)
    assert not entry_problems("", b"sessions", 0o040000)


ENTRY = st.tuples(
    st.binary(min_size=1, max_size=20).filter(lambda b: b"\0" not in b),
    st.sampled_from([0o100644, 0o100755, 0o120000, 0o160000, 0o040000]),
    st.binary(min_size=20, max_size=20),
)


@given(st.lists(ENTRY, max_size=8))
def test_tree_bytes_parse_back_as_written(entries: list[tuple[bytes, int, bytes]]) -> None:
    from gitflywheel.storage.treecheck import parse_entries

    raw = b"".join(b"%o %s\0%s" % (mode, name, sha) for name, mode, sha in entries)
    assert parse_entries(raw) == [(name, mode, sha.hex().encode()) for name, mode, sha in entries]


@given(st.binary(max_size=120))
def test_any_bytes_parse_or_fail_cleanly(raw: bytes) -> None:
    from gitflywheel.storage.treecheck import parse_entries

    try:
        entries = parse_entries(raw)
    except ValueError:
        return
    assert all(b"\0" not in name and len(sha) == 40 for name, _, sha in entries)


# -- facts and re-renders, forged with plain git -------------------------------------------


def rerender_trailers(
    session_id: str, session_type: str = "build", agent: str = "Agent-5", revision: int = 1
) -> str:
    return (
        f"Re-render {session_type} session {session_id}\n\n"
        f"Session-Id: {session_id}\nSession-Type: {session_type}\nAgent-Id: {agent}\n"
        f"Revision: {revision}\nRendered-By: gitflywheel 0.2.0 pipeline {session_type}/2 filters/1\n"
    )


def refresh_refs(work: Path, manifest: dict[str, Any]) -> None:
    """Make every file reference of a manifest match the file on disk: a careful forger."""
    import hashlib

    refs = [manifest["record"], manifest["facts"], *manifest["artifacts"]]
    for ref in refs:
        data = (work / ref["path"]).read_bytes()
        ref.update(
            blob=git("hash-object", work / ref["path"]).strip(),
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
        )


def render_from(work: Path, facts: bytes) -> dict[str, bytes]:
    """What gitflywheel's own templates make of (forged) facts: a forger's best effort."""
    from gitflywheel.recording.folder_plan import TemplateSet, render_facts
    from gitflywheel.session.facts import Facts

    templates = {p.name: p.read_bytes() for p in (work / "templates").glob("*.j2")}
    return render_facts(Facts.from_bytes(facts), TemplateSet(templates))


def test_facts_edited_with_artifacts_rendered_to_match(
    cli: Cli, built: Path, tmp_path: Path
) -> None:
    work = checkout(built, tmp_path)
    facts_file = folder(work) / "facts.json"
    forged = facts_file.read_bytes().replace(
        b"Metrics guardrail", b"Metrics guardrail, sponsored by Acme"
    )
    facts_file.write_bytes(forged)
    for kind, data in render_from(work, forged).items():
        (folder(work) / artifact_file(kind)).write_bytes(data)
    manifest = manifest_of(work)
    refresh_refs(work, manifest)
    write_manifest(work, manifest)
    commit = commit_and_push(work, rerender_trailers(BUILD_ID))
    found = assert_found(cli, built, "facts.derive", commit, f"{session_dir(BUILD_ID)}/facts.json")
    assert not any(f["rule"] == "artifact.render" for f in found)  # they follow from the facts


def test_facts_with_a_repeated_key_in_their_address(cli: Cli, built: Path, tmp_path: Path) -> None:
    """Facts whose address holds a key twice are not JSON verify reads: facts.invalid,
    and nothing derived from an address a lenient reader would make of them."""
    work = checkout(built, tmp_path)
    facts_file = folder(work) / "facts.json"
    facts = facts_file.read_bytes()
    assert b'\n  "address": {\n' in facts
    facts_file.write_bytes(
        facts.replace(b'\n  "address": {\n', b'\n  "address": {\n    "slug": "elsewhere",\n', 1)
    )
    manifest = manifest_of(work)
    refresh_refs(work, manifest)
    write_manifest(work, manifest)
    commit = commit_and_push(work, rerender_trailers(BUILD_ID))
    found = assert_found(cli, built, "facts.invalid", commit, f"{session_dir(BUILD_ID)}/facts.json")
    assert "repeated key" in next(f["message"] for f in found if f["rule"] == "facts.invalid")
    assert not any(f["rule"] == "facts.derive" for f in found)


def test_artifact_that_does_not_follow_from_its_facts(
    cli: Cli, built: Path, tmp_path: Path
) -> None:
    work = checkout(built, tmp_path)
    readme = folder(work) / "readme.md"
    readme.write_text(readme.read_text() + "\nBuy my course!\n")
    manifest = manifest_of(work)
    refresh_refs(work, manifest)
    write_manifest(work, manifest)
    commit = commit_and_push(work, rerender_trailers(BUILD_ID))
    found = assert_found(
        cli, built, "artifact.render", commit, f"{session_dir(BUILD_ID)}/readme.md"
    )
    message = next(f["message"] for f in found if f["rule"] == "artifact.render")
    assert "does not follow from its facts" in message
    assert not any(f["rule"] == "facts.derive" for f in found)


def test_rerender_commit_that_changes_the_record(cli: Cli, built: Path, tmp_path: Path) -> None:
    work = checkout(built, tmp_path)
    record = folder(work) / "session.json"
    record.write_text(record.read_text().replace("Metrics guardrail", "Metrics guard"))
    manifest = manifest_of(work)
    refresh_refs(work, manifest)
    write_manifest(work, manifest)
    commit = commit_and_push(work, rerender_trailers(BUILD_ID))
    found = assert_found(
        cli, built, "rerender.record-changed", commit, f"{session_dir(BUILD_ID)}/session.json"
    )
    assert not any(f["rule"] == "duplicate.record" for f in found)


def test_rerender_commit_that_bumps_the_revision(cli: Cli, built: Path, tmp_path: Path) -> None:
    work = checkout(built, tmp_path)
    manifest = manifest_of(work)
    manifest["revision"] = 2
    write_manifest(work, manifest)
    commit = commit_and_push(work, rerender_trailers(BUILD_ID, revision=2))
    assert_found(
        cli, built, "rerender.record-changed", commit, f"{session_dir(BUILD_ID)}/manifest.json"
    )


def test_rerender_commit_naming_another_session(cli: Cli, built: Path, tmp_path: Path) -> None:
    work = checkout(built, tmp_path)
    journal = folder(work, TRADE_ID) / "trade_journal.md"
    journal.write_text(journal.read_text() + "\nEdited.\n")
    manifest = manifest_of(work, TRADE_ID)
    refresh_refs(work, manifest)
    write_manifest(work, manifest, TRADE_ID)
    commit = commit_and_push(work, rerender_trailers(BUILD_ID))
    found = assert_found(cli, built, "rerender.wrong-session", commit, session_dir(TRADE_ID))
    assert not any(f["rule"] == "session.unnamed-change" for f in found)
    assert any(
        f["rule"] == "artifact.render" and f["path"].endswith("/trade_journal.md") for f in found
    )


@pytest.mark.slow
def test_manifest_that_is_not_what_its_record_plans(cli: Cli, built: Path, tmp_path: Path) -> None:
    work = checkout(built, tmp_path)
    manifest = manifest_of(work)
    manifest["title"] = "A better title"
    write_manifest(work, manifest)
    commit = commit_and_push(work, rerender_trailers(BUILD_ID))
    found = assert_found(
        cli, built, "manifest.invalid", commit, f"{session_dir(BUILD_ID)}/manifest.json"
    )
    assert "title differ" in next(f["message"] for f in found if f["rule"] == "manifest.invalid")


@pytest.mark.slow
def test_facts_of_another_pipeline_version_than_the_manifest_says(
    cli: Cli, built: Path, tmp_path: Path
) -> None:
    work = checkout(built, tmp_path)
    facts_file = folder(work) / "facts.json"
    facts_file.write_bytes(
        facts_file.read_bytes().replace(f'"{pipeline_id("build")}"'.encode(), b'"build/999"')
    )
    manifest = manifest_of(work)
    refresh_refs(work, manifest)
    write_manifest(work, manifest)
    commit = commit_and_push(work, rerender_trailers(BUILD_ID))
    assert_found(cli, built, "facts.invalid", commit, f"{session_dir(BUILD_ID)}/facts.json")


@pytest.mark.slow
def test_facts_that_lack_an_artifact_the_manifest_lists(
    cli: Cli, built: Path, tmp_path: Path
) -> None:
    work = checkout(built, tmp_path)
    facts_file = folder(work) / "facts.json"
    facts = json.loads(facts_file.read_text())
    del facts["artifacts"]["build_log"]
    from gitflywheel.jsontext import dumps_pretty, loads

    facts_file.write_text(dumps_pretty(loads(json.dumps(facts))))
    manifest = manifest_of(work)
    refresh_refs(work, manifest)
    write_manifest(work, manifest)
    commit = commit_and_push(work, rerender_trailers(BUILD_ID))
    found = assert_found(
        cli, built, "artifact.render", commit, f"{session_dir(BUILD_ID)}/build_log.md"
    )
    assert any(f["rule"] == "facts.derive" for f in found)


def test_report_shows_hostile_trailers_as_text(cli: Cli, built: Path, tmp_path: Path) -> None:
    """A Session-Id trailer that is HTML lands in the report's table as text, never as
    markup a Markdown viewer would run."""
    from markdown_it import MarkdownIt

    tip = git("-C", built, "rev-parse", "main").strip()
    message = "Hostile\n\nSession-Id: <img src=x onerror=alert(1)>\n"
    commit = git(*ME, "-C", built, "commit-tree", f"{tip}^{{tree}}", "-p", tip, "-m", message)
    git("-C", built, "update-ref", "refs/heads/main", commit.strip(), tip)
    report = tmp_path / "ssot.md"
    assert cli("verify", "--repo", built, "--report", report).exit_code == 1
    html = MarkdownIt("commonmark").enable("table").render(report.read_text())
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
