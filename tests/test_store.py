"""The store's packs: merged as a stream, with packs git itself wrote, and still whole."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Cli, fsck, git, session

from gitflywheel.store import Store


def ingest_many(cli: Cli, store: Path, tmp_path: Path, prefix: str, count: int) -> None:
    path = tmp_path / f"{prefix}.jsonl"
    path.write_text("".join(json.dumps(session(f"{prefix}-{i:04d}")) + "\n" for i in range(count)))
    assert cli("ingest", "--repo", store, path).exit_code == 0


def packs(store: Path) -> list[Path]:
    return sorted((store / "objects" / "pack").glob("*.pack"))


def test_merge_with_a_pack_git_deltified(cli: Cli, store: Path, tmp_path: Path) -> None:
    ingest_many(cli, store, tmp_path, "a", 200)
    git(
        "-C",
        store,
        "repack",
        "-a",
        "-d",
        "-f",
        "--depth=50",
        "--window=50",
        "-q",
        "--write-bitmap-index",
    )
    verify_pack = git(
        "-C", store, "verify-pack", "-v", *map(str, (store / "objects" / "pack").glob("*.idx"))
    )
    assert any(
        len(line.split()) > 5 for line in verify_pack.splitlines() if line[:1].isalnum()
    )  # deltas
    ingest_many(cli, store, tmp_path, "b", 50)
    assert len(packs(store)) >= 2
    tip = git("-C", store, "rev-parse", "main")
    with Store.open(store) as opened:
        opened.merge_packs(everything=True)
    assert len(packs(store)) == 1
    assert not list((store / "objects" / "pack").glob("*.bitmap"))
    fsck(store)
    assert git("-C", store, "rev-parse", "main") == tip
    assert len(git("-C", store, "rev-list", "--objects", "main").splitlines()) > 250 * 6
    assert cli("verify", "--repo", store, "--full").exit_code == 0


def test_packs_kept_by_git_are_left_alone(cli: Cli, store: Path, tmp_path: Path) -> None:
    ingest_many(cli, store, tmp_path, "k", 20)
    kept = packs(store)
    for pack in kept:
        pack.with_suffix(".keep").write_text("")
    ingest_many(cli, store, tmp_path, "l", 20)
    with Store.open(store) as opened:
        opened.merge_packs(everything=True)
    assert set(kept) <= set(packs(store))
    fsck(store)
