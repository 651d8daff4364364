"""`gitflywheel maintain`: fewer packs and git's indexes, nothing lost, `git fsck` clean."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import Cli, fsck, git, session

from gitflywheel import maintain
from gitflywheel.storage.store import Store, dulwich_repo


def ingest_batches(cli: Cli, store: Path, tmp_path: Path, prefix: str, batches: int) -> None:
    """`batches` ingests of five sessions each: one pack per ingest, merged as ingest does."""
    for b in range(batches):
        path = tmp_path / f"{prefix}-{b}.jsonl"
        path.write_text(
            "".join(json.dumps(session(f"{prefix}-{b:03d}-{i}")) + "\n" for i in range(5))
        )
        assert cli("ingest", "--repo", store, path).exit_code == 0


def count_objects(store: Path) -> dict[str, int]:
    return {
        key: int(value)
        for key, value in (
            line.split(": ") for line in git("-C", store, "count-objects", "-v").splitlines()
        )
    }


def objects_of_every_ref(store: Path) -> set[str]:
    return set(git("-C", store, "rev-list", "--objects", "--all").split())


def object_files(store: Path) -> dict[str, tuple[int, int]]:
    """Every file under objects/: its size and modification time, to see what was rewritten."""
    objects = store / "objects"
    return {
        str(p.relative_to(objects)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(objects.rglob("*"))
        if p.is_file()
    }


def ls_json(cli: Cli, store: Path) -> object:
    result = cli("ls", "--repo", store, "--json")
    assert result.exit_code == 0
    return json.loads(result.output)


def add_loose_branch(store: Path, tmp_path: Path) -> str:
    """A branch pushed into the store by plain git: its few objects arrive loose."""
    work = tmp_path / "work"
    git("clone", "-q", store, work)
    (work / "notes.txt").write_text("kept by someone's own branch\n")
    git("-C", work, "add", "notes.txt")
    git(
        "-C",
        work,
        "-c",
        "user.name=Someone",
        "-c",
        "user.email=someone@example.com",
        "commit",
        "-q",
        "-m",
        "A note",
    )
    git("-C", work, "push", "-q", "origin", "HEAD:refs/heads/notes")
    return git("-C", store, "rev-parse", "refs/heads/notes").strip()


@pytest.mark.slow
def test_maintain_a_store_fed_in_many_small_batches(cli: Cli, store: Path, tmp_path: Path) -> None:
    ingest_batches(cli, store, tmp_path, "m", 22)  # 110 sessions, 7 packs
    assert cli("verify", "--repo", store).exit_code == 0  # refs/gitflywheel/verified
    notes = add_loose_branch(store, tmp_path)
    before = count_objects(store)
    assert before["packs"] >= 4 and before["count"] > 0
    every = objects_of_every_ref(store)
    listed = ls_json(cli, store)
    tip = git("-C", store, "rev-parse", "main")

    result = cli("maintain", "--repo", store, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["changed"] is True
    assert report["loose_packed"] == before["count"]
    assert report["packs_after"] < report["packs_before"]
    assert report["multi_pack_index"] == "written"
    assert report["commit_graph"] == "written"
    assert report["query_index"] == "current"  # the `ls` above brought it up to date

    after = count_objects(store)
    assert after["count"] == 0 and after["packs"] < before["packs"]
    fsck(store)
    assert objects_of_every_ref(store) == every
    assert git("-C", store, "rev-parse", "main", "refs/heads/notes").split() == [tip.strip(), notes]
    assert (store / "objects" / "pack" / "multi-pack-index").is_file()
    assert list((store / "objects" / "pack").glob("multi-pack-index-*.bitmap"))
    assert (store / "objects" / "info" / "commit-graphs" / "commit-graph-chain").is_file()
    assert cli("verify", "--repo", store, "--full").exit_code == 0
    assert ls_json(cli, store) == listed
    clone = tmp_path / "clone"
    git("clone", "-q", store, clone)
    assert git("-C", clone, "rev-parse", "HEAD") == tip
    assert (clone / "gitflywheel.json").is_file()

    files = object_files(store)
    again = cli("maintain", "--repo", store, "--json")
    assert again.exit_code == 0
    second = json.loads(again.output)
    assert second["changed"] is False
    assert (second["multi_pack_index"], second["commit_graph"], second["query_index"]) == (
        "current",
        "current",
        "current",
    )
    assert object_files(store) == files  # nothing rewritten
    fsck(store)


def test_full_merges_every_pack_into_one(cli: Cli, store: Path, tmp_path: Path) -> None:
    ingest_batches(cli, store, tmp_path, "f", 6)
    every = objects_of_every_ref(store)
    kept = sorted((store / "objects" / "pack").glob("*.pack"))[0]
    kept.with_suffix(".keep").write_text("")
    result = maintain(store, full=True)
    packs = sorted((store / "objects" / "pack").glob("*.pack"))
    assert result.packs_after == len(packs) == 2 and kept in packs  # a .keep pack stays
    assert result.multi_pack_index == "written"
    assert result.query_index == "current"  # each ingest moved it along
    fsck(store)
    assert objects_of_every_ref(store) == every
    kept.with_suffix(".keep").unlink()
    assert maintain(store, full=True).packs_after == 1
    fsck(store)
    assert cli("verify", "--repo", store, "--full").exit_code == 0


@pytest.mark.slow
def test_ingest_after_maintain_never_leaves_a_stale_multi_pack_index(
    cli: Cli, store: Path, tmp_path: Path
) -> None:
    """Ingest merges packs on its own; a multi-pack-index naming a pack it removed would
    make `git fsck` fail, so the merge drops it, and the next `maintain` writes it again."""
    ingest_batches(cli, store, tmp_path, "a", 8)
    assert maintain(store).multi_pack_index == "written"
    named = Store.open(store).pack_layout().midx_packs
    assert named
    ingest_batches(cli, store, tmp_path, "b", 12)  # merges that fold packs the index names
    layout = Store.open(store).pack_layout()
    assert not {f"{name}.idx" for name in layout.packs} >= (named or set())
    fsck(store)
    assert cli("verify", "--repo", store, "--full").exit_code == 0
    assert maintain(store).multi_pack_index == "written"
    fsck(store)


def test_dulwich_reads_through_the_multi_pack_index(cli: Cli, store: Path, tmp_path: Path) -> None:
    ingest_batches(cli, store, tmp_path, "r", 4)
    maintain(store)
    with Store.open(store) as opened:
        midx = dulwich_repo(opened).object_store.get_midx()
        assert midx is not None and len(midx.pack_names) == len(opened.pack_layout().packs)
        tip = opened.tip()
        assert tip is not None and opened.commit(tip).tree in opened


def test_without_git_packs_are_still_merged(
    cli: Cli, store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_batches(cli, store, tmp_path, "n", 6)
    empty = tmp_path / "no-git"
    empty.mkdir()
    with monkeypatch.context() as m:
        m.setenv("PATH", str(empty))
        assert shutil.which("git") is None
        result = maintain(store, full=True)
    assert result.packs_after == 1 and result.changed
    assert result.multi_pack_index == result.commit_graph == "skipped: git is not installed"
    assert not (store / "objects" / "pack" / "multi-pack-index").exists()
    fsck(store)


def test_a_store_named_by_a_relative_path(
    cli: Cli, store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_batches(cli, store, tmp_path, "p", 3)
    monkeypatch.chdir(store.parent)
    for _ in range(2):  # the second run finds the query index there, by the same path
        result = cli("maintain", "--repo", store.name, "--json")
        assert result.exit_code == 0, result.output
    assert json.loads(result.output)["query_index"] == "current"
    fsck(store)


def test_a_repository_that_is_not_a_store_is_left_alone(cli: Cli, tmp_path: Path) -> None:
    project = tmp_path / "project.git"
    git("init", "-q", "--bare", project)
    work = tmp_path / "work"
    git("clone", "-q", project, work)
    (work / "a.txt").write_text("a\n")
    git("-C", work, "add", "a.txt")
    git("-C", work, "-c", "user.name=A", "-c", "user.email=a@example.com", "commit", "-qm", "A")
    git("-C", work, "push", "-q", "origin", "HEAD:refs/heads/trunk")
    files = object_files(project)
    result = cli("maintain", "--repo", project)
    assert result.exit_code == 2
    assert "not a gitflywheel store" in result.output
    assert object_files(project) == files
