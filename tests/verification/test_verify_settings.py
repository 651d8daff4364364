"""verify and the store's settings: settings commits made by `config` verify clean among
sessions; each way plain git can break the settings rules is found, naming the commit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES, Cli, checkout, fsck, git

from gitflywheel.storage.layout import session_dir

BUILD_ID = "3f2b7c1e-8a4d-4e6f-9b21-5c7d8e9f0a1b"
ME = ["-c", "user.name=Mallory", "-c", "user.email=mallory@example.com"]
SETTINGS = "gitflywheel.toml"
CONFIG = "config: set site.title\n\nConfig-Key: site.title\nConfig-Change: set\n"


@pytest.fixture()
def configured(cli: Cli, tmp_path: Path) -> Path:
    """A store with sessions and settings commits between them, verified clean once."""
    store = tmp_path / "store.git"
    assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    assert cli("config", "--repo", store, "site.title", "Ada's work").exit_code == 0
    assert cli("config", "--repo", store, "--add", "names.agent", "Agent-1=Ada").exit_code == 0
    result = cli("verify", "--repo", store, "--json")
    assert result.exit_code == 0, result.stdout
    return store


def commit_and_push(work: Path, message: str) -> str:
    git(*ME, "-C", work, "add", "-A")
    git(*ME, "-C", work, "commit", "-q", "-m", message)
    git("-C", work, "push", "-q", "origin", "HEAD:main")
    return git("-C", work, "rev-parse", "HEAD").strip()


def findings(cli: Cli, store: Path) -> list[dict[str, Any]]:
    result = cli("verify", "--repo", store, "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == (0 if report["ok"] else 1)
    found: list[dict[str, Any]] = report["findings"]
    return found


def assert_found(cli: Cli, store: Path, rule: str, commit: str, path: str, words: str) -> None:
    found = findings(cli, store)
    assert any(
        f["rule"] == rule and f["commit"] == commit and f["path"] == path and words in f["message"]
        for f in found
    ), found


def test_settings_commits_verify_clean(cli: Cli, configured: Path) -> None:
    full = cli("verify", "--repo", configured, "--full", "--json")
    assert full.exit_code == 0, full.stdout
    assert json.loads(full.stdout)["figures"]["sessions"] == 1
    assert cli("config", "--repo", configured, "--unset", "site.title").exit_code == 0
    assert cli("ingest", "--repo", configured, EXAMPLES / "trade_session.json").exit_code == 0
    assert cli("verify", "--repo", configured).exit_code == 0  # the new commit alone
    fsck(configured)


def test_invalid_toml_is_found(cli: Cli, configured: Path, tmp_path: Path) -> None:
    work = checkout(configured, tmp_path)
    (work / SETTINGS).write_text('[site]\ntitle = "unterminated\n')
    commit = commit_and_push(work, CONFIG)
    assert_found(cli, configured, "settings.invalid", commit, SETTINGS, "not TOML")


def test_an_invalid_value_is_found(cli: Cli, configured: Path, tmp_path: Path) -> None:
    work = checkout(configured, tmp_path)
    text = (work / SETTINGS).read_text()
    (work / SETTINGS).write_text(text + '\n[privacy]\nprivate = [\n    "(a+)+",\n]\n')
    message = "config: add privacy.private\n\nConfig-Key: privacy.private\nConfig-Change: add\n"
    commit = commit_and_push(work, message)
    assert_found(cli, configured, "settings.invalid", commit, SETTINGS, "privacy.private")


def test_settings_written_by_hand_are_found(cli: Cli, configured: Path, tmp_path: Path) -> None:
    work = checkout(configured, tmp_path)
    (work / SETTINGS).write_text(
        '[site]\ntitle = "Mallory\'s"\n\n[names]\nagent = ["Agent-1=Ada"]\n'
    )
    commit = commit_and_push(work, CONFIG)
    assert_found(cli, configured, "settings.invalid", commit, SETTINGS, "by hand")


def test_a_session_and_the_settings_in_one_commit(
    cli: Cli, configured: Path, tmp_path: Path
) -> None:
    work = checkout(configured, tmp_path)
    text = (work / SETTINGS).read_text()
    (work / SETTINGS).write_text(text.replace("Ada's work", "Mallory's work"))
    record = work / session_dir(BUILD_ID) / "readme.md"
    record.write_text(record.read_text() + "\nmore\n")
    # as a session's commit: the settings change unannounced
    session_message = (
        f"Revise (revision 2) build session {BUILD_ID}\n\nSession-Id: {BUILD_ID}\n"
        "Session-Type: build\nAgent-Id: Agent-1\nRevision: 2\n"
    )
    commit = commit_and_push(work, session_message)
    assert_found(cli, configured, "settings.change", commit, SETTINGS, "without saying so")


def test_a_settings_commit_that_changes_a_session(
    cli: Cli, configured: Path, tmp_path: Path
) -> None:
    work = checkout(configured, tmp_path)
    text = (work / SETTINGS).read_text()
    (work / SETTINGS).write_text(text.replace("Ada's work", "Mallory's work"))
    readme = work / session_dir(BUILD_ID) / "readme.md"
    readme.write_text(readme.read_text() + "\nmore\n")
    (work / "NOTES.txt").write_text("later\n")
    commit = commit_and_push(work, CONFIG)
    assert_found(cli, configured, "settings.change", commit, session_dir(BUILD_ID), "no session")
    assert_found(cli, configured, "settings.change", commit, "NOTES.txt", "nothing else")


def test_settings_changed_without_trailers(cli: Cli, configured: Path, tmp_path: Path) -> None:
    work = checkout(configured, tmp_path)
    text = (work / SETTINGS).read_text()
    (work / SETTINGS).write_text(text.replace("Ada's work", "Mallory's work"))
    commit = commit_and_push(work, "Tweak the title")
    assert_found(cli, configured, "settings.change", commit, SETTINGS, "without saying so")


@pytest.mark.parametrize(
    ("message", "words"),
    [
        (
            "config: set site.base_url\n\nConfig-Key: site.base_url\nConfig-Change: set\n",
            "changes site.title",
        ),
        ("config: x\n\nConfig-Key: site.colour\nConfig-Change: set\n", "not a setting"),
        ("config: x\n\nConfig-Key: site.title\nConfig-Change: paint\n", "none of"),
        ("config: x\n\nConfig-Key: site.title\nConfig-Change: unset\n", "says unset"),
    ],
)
def test_trailers_that_lie(
    cli: Cli, configured: Path, tmp_path: Path, message: str, words: str
) -> None:
    work = checkout(configured, tmp_path)
    text = (work / SETTINGS).read_text()
    (work / SETTINGS).write_text(text.replace("Ada's work", "Mallory's work"))
    commit = commit_and_push(work, message)
    assert_found(cli, configured, "commit.trailers", commit, SETTINGS, words)


def test_a_settings_commit_that_changes_nothing(cli: Cli, configured: Path, tmp_path: Path) -> None:
    work = checkout(configured, tmp_path)
    git(*ME, "-C", work, "commit", "-q", "--allow-empty", "-m", CONFIG)
    git("-C", work, "push", "-q", "origin", "HEAD:main")
    commit = git("-C", work, "rev-parse", "HEAD").strip()
    assert_found(cli, configured, "commit.trailers", commit, SETTINGS, "does not change")


def test_settings_removed(cli: Cli, configured: Path, tmp_path: Path) -> None:
    work = checkout(configured, tmp_path)
    (work / SETTINGS).unlink()
    commit = commit_and_push(work, CONFIG.replace("set", "unset"))
    assert_found(cli, configured, "settings.change", commit, SETTINGS, "removes")


def test_a_folder_named_like_the_settings(cli: Cli, configured: Path, tmp_path: Path) -> None:
    work = checkout(configured, tmp_path)
    (work / SETTINGS).unlink()
    (work / SETTINGS).mkdir()
    (work / SETTINGS / "x").write_text("x\n")
    commit = commit_and_push(work, CONFIG)
    assert_found(cli, configured, "tree.shape", commit, SETTINGS, "file gitflywheel.toml")


def test_a_store_without_settings_verifies_as_before(cli: Cli, format1_store: Path) -> None:
    result = cli("verify", "--repo", format1_store)
    assert result.exit_code == 0, result.output
    assert cli("config", "--repo", format1_store, "site.title", "Old store").exit_code == 0
    assert cli("verify", "--repo", format1_store, "--full").exit_code == 0
    fsck(format1_store)


def test_a_merge_that_makes_up_a_setting(cli: Cli, tmp_path: Path) -> None:
    a, b = tmp_path / "a.git", tmp_path / "b.git"
    assert cli("init", "--repo", a).exit_code == 0
    git("clone", "-q", "--bare", a, b)
    assert cli("config", "--repo", a, "site.title", "Mine").exit_code == 0
    assert cli("config", "--repo", b, "--add", "privacy.private", "Theirs").exit_code == 0
    work = checkout(a, tmp_path)
    git("-C", work, "fetch", "-q", b, "main")
    text = (work / SETTINGS).read_text()
    (work / SETTINGS).write_text(text.replace("Mine", "Neither"))
    git(*ME, "-C", work, "add", "-A")
    tree = git("-C", work, "write-tree").strip()
    merge = git(
        *ME,
        "-C",
        work,
        "commit-tree",
        tree,
        "-p",
        "HEAD",
        "-p",
        "FETCH_HEAD",
        "-m",
        "Combine sessions from origin",
    ).strip()
    git("-C", work, "push", "-q", "origin", f"{merge}:refs/heads/main")
    assert_found(cli, a, "settings.change", merge, SETTINGS, "holds site.title = 'Neither'")
