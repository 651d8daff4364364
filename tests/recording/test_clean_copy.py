"""clean-copy: a new store whose history replays an old one's, every revision recorded
again as its public record, ids, order and revisions kept; the old store only read."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES, FORMAT1_SESSIONS, Cli, fsck, git, session, snapshot

from gitflywheel import clean_copy, config, ingest, rerender, sync
from gitflywheel.errors import InputError, StoreError
from gitflywheel.recording.clean_copy import _steps
from gitflywheel.rendering.templates import shipped_templates_dir
from gitflywheel.session.public_text import _TEMP_WORD, LOCAL_PATH, SECRET_RULES
from gitflywheel.session.settings import StoreSettings
from gitflywheel.storage.commits import config_trailers, session_trailers

PNG = (EXAMPLES / "screens" / "title.png").read_bytes()
TOKEN = "ghp_" + "a1B2c3D4" * 5
# What a record or an artifact may name on someone's disk, as the rules find it. The
# templates name none; a commit names its committer, never a path.
RULES = {"local-path": LOCAL_PATH, "temporary-name": _TEMP_WORD, **SECRET_RULES}


def revisions(store: Path) -> list[tuple[str, int]]:
    """(session id, revision) of every session commit on main's first parents, oldest
    first; rerenders left out."""
    out = git("-C", store, "log", "--first-parent", "--reverse", "--format=%B%x00", "main")
    found = []
    for message in out.split("\x00"):
        trailers = session_trailers(message.strip().encode())
        if trailers is not None and not trailers.rerender:
            found.append((trailers.session_id, trailers.revision))
    return found


def all_revisions(store: Path) -> Counter[str]:
    """How many revisions each session has, by the trailers of every commit (merges'
    sides too), rerenders left out."""
    out = git("-C", store, "log", "--format=%B%x00", "main")
    counts: Counter[str] = Counter()
    for message in out.split("\x00"):
        trailers = session_trailers(message.strip().encode())
        if trailers is not None and not trailers.rerender:
            counts[trailers.session_id] += 1
    return counts


def private_text(store: Path) -> list[tuple[str, str]]:
    """(object, rule) of every blob and commit of the store in which a public-text rule
    finds text (a tree's entries hold binary ids, which are no text)."""
    listed = git(
        "-C", store, "cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objecttype)"
    )
    ids = [sha for sha, kind in (line.split() for line in listed.splitlines()) if kind != "tree"]
    done = subprocess.run(
        ["git", "-C", str(store), "cat-file", "--batch"],
        input="\n".join(ids).encode() + b"\n",
        capture_output=True,
        check=True,
    )
    data, found, at = done.stdout, [], 0
    for sha in ids:
        header_end = data.index(b"\n", at)
        size = int(data[at:header_end].split()[2])
        body = data[header_end + 1 : header_end + 1 + size].decode("utf-8", "replace")
        at = header_end + 1 + size + 1
        found += [(sha, rule) for rule, pattern in RULES.items() if pattern.search(body)]
    return found


def copied(cli: Cli, old: Path, new: Path) -> dict[str, Any]:
    result = cli("clean-copy", "--repo", old, new, "--json")
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def verified(cli: Cli, store: Path) -> dict[str, Any]:
    result = cli("verify", "--repo", store, "--full", "--json")
    assert result.exit_code == 0, result.stdout
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_a_store_of_records_as_given_is_copied_clean(
    cli: Cli, tmp_path: Path, format1_store: Path
) -> None:
    """An earlier version's store, local paths in its records: the copy has none, in any
    object, the same sessions with the same revisions, and verifies without a warning of
    private text; the old store is left byte for byte."""
    assert private_text(format1_store)  # what there is to clean
    assert "record.private-text" in json.dumps(verified(cli, format1_store))
    before = snapshot(format1_store)
    new = tmp_path / "clean.git"

    report = copied(cli, format1_store, new)

    assert snapshot(format1_store) == before
    assert report["sessions"] == FORMAT1_SESSIONS == report["revisions"]
    assert report["redacted"] > 0 and set(report["redactions"]) >= {"local-path"}
    assert report["commits"] == FORMAT1_SESSIONS + 1 and report["folded"] == 0
    assert revisions(new) == revisions(format1_store)
    assert private_text(new) == []
    checked = verified(cli, new)
    assert "record.private-text" not in json.dumps(checked)
    assert checked["figures"]["sessions"] == FORMAT1_SESSIONS
    fsck(new)
    assert git("-C", new, "rev-parse", "main").strip() == report["main"]


def _two_writers(tmp_path: Path) -> Path:
    """A store made now: revisions, a screenshot, settings changed, a rerender, and a
    sync's merge of another writer's sessions."""
    old, other, hub = tmp_path / "old.git", tmp_path / "other.git", tmp_path / "hub.git"
    git("init", "-q", "--bare", "-b", "main", hub)
    shots = tmp_path / "shots"
    shots.mkdir()
    (shots / "title.png").write_bytes(PNG)
    given = tmp_path / "given"
    given.mkdir()

    def put(store: Path, name: str, data: dict[str, Any], revise: bool = False) -> None:
        path = given / f"{name}.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        report = ingest(store, path, revise=revise, screenshots_from=[shots])
        assert report.exit_code == 0, [o.problems for o in report.outcomes]

    screenshot = str(shots / "title.png")
    put(old, "a1", session("a", source_data={"screenshots": [screenshot]}))
    config(old, "privacy.private", "Zeta", add=True)
    put(
        old,
        "a2",
        session("a", overview="Zeta work", source_data={"screenshots": [screenshot]}),
        True,
    )
    put(old, "b1", session("b"))
    assert sync(old, str(hub)).main
    put(other, "c1", session("c"))  # another writer, from the hub's history
    assert sync(other, str(hub)).main
    put(other, "d1", session("d"))
    put(other, "c2", session("c", overview="more"), True)
    assert sync(other, str(hub)).main
    put(old, "e1", session("e"))
    merged = sync(old, str(hub))  # both moved: a merge
    assert len(git("-C", old, "log", "-1", "--format=%P", "main").split()) == 2, merged
    config(old, "site.title", "Notes")
    templates = tmp_path / "templates"
    templates.mkdir()
    shipped = (shipped_templates_dir() / "readme.md.j2").read_text(encoding="utf-8")
    (templates / "readme.md.j2").write_text(shipped + "\nRendered again.\n", encoding="utf-8")
    assert rerender(old, ["a"], templates=templates).exit_code == 0
    return old


def test_revisions_screenshots_settings_and_merges_are_replayed(cli: Cli, tmp_path: Path) -> None:
    old = _two_writers(tmp_path)
    before = snapshot(old)
    new = tmp_path / "new.git"

    result = clean_copy(old, new)

    assert snapshot(old) == before
    assert all_revisions(new) == all_revisions(old)
    # the merge flattened: the revisions it brought, in the order they were made
    assert revisions(new) == [("a", 1), ("a", 2), ("b", 1), ("e", 1), ("c", 1), ("d", 1), ("c", 2)]
    assert result.sessions == 5 and result.revisions == 7 and result.folded == 0
    assert result.settings_commits == 2
    # the settings as OLD has them, changed as `config` changed them
    assert git("-C", new, "show", "main:gitflywheel.toml") == git(
        "-C", old, "show", "main:gitflywheel.toml"
    )
    keys = [
        config_trailers(m.encode())
        for m in git("-C", new, "log", "--reverse", "--format=%B%x00", "main").split("\x00")
    ]
    assert [(k.key, k.change) for k in keys if k] == [
        ("privacy.private", "add"),
        ("site.title", "set"),
    ]
    # the screenshot's bytes are stored, named as the public record names it
    stored = git("-C", new, "ls-tree", "-r", "--name-only", "main").split()
    shots = [p for p in stored if "/screenshots/" in p]
    assert shots and all(p.endswith("01-title.png") for p in shots)
    blob = subprocess.run(
        ["git", "-C", str(new), "cat-file", "blob", f"main:{shots[0]}"],
        capture_output=True,
        check=True,
    ).stdout
    assert blob == PNG
    record = json.loads(
        git("-C", new, "show", f"main:{shots[0].rsplit('/screenshots/')[0]}/session.json")
    )
    assert record["source_data"]["screenshots"] == ["title.png"]
    assert record["overview"] == "[private] work"
    assert result.skipped_rerenders == 1
    assert private_text(new) == []
    assert verified(cli, new)["figures"]["sessions"] == 5
    fsck(new)


def test_private_text_set_later_is_replaced_in_earlier_revisions(tmp_path: Path) -> None:
    """privacy.private as OLD has it now applies to revisions recorded before it was set."""
    old, new = tmp_path / "old.git", tmp_path / "new.git"
    given = tmp_path / "a.json"
    given.write_text(json.dumps(session("a", overview="Zeta and " + TOKEN)), encoding="utf-8")
    assert ingest(old, given).exit_code == 0
    config(old, "privacy.private", "Zeta", add=True)

    result = clean_copy(old, new)

    record = json.loads(git("-C", new, "show", "main~1:" + _record_path(new, "a")))
    assert record["overview"] == "[private] and [redacted github-token]"
    assert result.redactions == {"private": 1}  # the token was replaced at ingest already
    assert result.settings_commits == 1


def _record_path(store: Path, session_id: str) -> str:
    listed = git("-C", store, "ls-tree", "-r", "--name-only", "main").split()
    return next(p for p in listed if p.endswith(f"/{session_id}/session.json"))


def test_a_new_store_only(cli: Cli, tmp_path: Path, format1_store: Path) -> None:
    """NEW must not exist or be empty; OLD must be a store with a commit. A refusal writes
    nothing."""
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine", encoding="utf-8")
    before = snapshot(taken)
    with pytest.raises(InputError, match="not empty") as refused:
        clean_copy(format1_store, taken)
    assert refused.value.exit_code == 2 and snapshot(taken) == before
    result = cli("clean-copy", "--repo", format1_store, taken)
    assert result.exit_code == 2 and "not empty" in result.stderr
    with pytest.raises(InputError):
        clean_copy(format1_store, format1_store)
    project = tmp_path / "project"
    git("init", "-q", project)
    with pytest.raises(StoreError) as not_a_store:
        clean_copy(project, tmp_path / "new.git")
    assert not_a_store.value.exit_code == 2 and not (tmp_path / "new.git").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    report = copied(cli, format1_store, empty)  # an empty folder will do
    assert report["sessions"] == FORMAT1_SESSIONS


def test_settings_changed_by_a_merge_are_made_again_key_by_key() -> None:
    before = StoreSettings.of({"privacy.private": ("a", "b"), "site.title": "Old"})
    after = StoreSettings.of({"privacy.private": ("b", "c"), "site.base_url": "https://x.org/"})
    steps = [(key, change) for key, change, _ in _steps(before, after)]
    assert steps == [
        ("site.base_url", "set"),
        ("site.title", "unset"),
        ("privacy.private", "unset"),
        ("privacy.private", "add"),
        ("privacy.private", "add"),
    ]
    assert list(_steps(before, after))[-1][2] == after
    assert list(_steps(after, after)) == []
    grown = StoreSettings.of({"privacy.private": ("a", "b", "c")})
    assert [(k, c) for k, c, _ in _steps(before.replaced("site.title", None), grown)] == [
        ("privacy.private", "add")
    ]
