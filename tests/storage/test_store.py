"""The store's packs: merged as a stream, with packs git itself wrote, and still whole."""

from __future__ import annotations

import json
import subprocess
import zlib
from array import array
from pathlib import Path

import pytest
from conftest import Cli, fsck, git, session

from gitflywheel.storage.packs import packed_entry, whole_entry_at
from gitflywheel.storage.store import Store


def ingest_many(cli: Cli, store: Path, tmp_path: Path, prefix: str, count: int) -> None:
    path = tmp_path / f"{prefix}.jsonl"
    path.write_text("".join(json.dumps(session(f"{prefix}-{i:04d}")) + "\n" for i in range(count)))
    assert cli("ingest", "--repo", store, path).exit_code == 0


def packs(store: Path) -> list[Path]:
    return sorted((store / "objects" / "pack").glob("*.pack"))


@pytest.mark.slow
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


def test_pack_index_is_written_as_git_writes_it() -> None:
    """Our index writer and dulwich's give the same bytes, past 2 GiB offsets too."""
    import io
    import random

    from dulwich.pack import write_pack_index_v2

    from gitflywheel.storage.packs import PackIndex

    rng = random.Random(5)
    entries = {
        rng.randbytes(20): (
            rng.choice([12, 1 << 20, (1 << 31) - 1, 1 << 31, 1 << 36]),
            rng.getrandbits(32),
        )
        for _ in range(600)
    }
    checksum = rng.randbytes(20)
    ours, theirs = io.BytesIO(), io.BytesIO()
    PackIndex.of(entries).write(ours, checksum)
    write_pack_index_v2(theirs, sorted((s, o, c) for s, (o, c) in entries.items()), checksum)
    assert ours.getvalue() == theirs.getvalue()


def test_a_damaged_pack_is_not_merged(cli: Cli, store: Path, tmp_path: Path) -> None:
    """An object whose packed bytes do not match the CRC its index gives is never copied
    into a merged pack (which would give the damage a valid CRC and remove the pack that
    shows it): the merge is refused, naming the pack and the object, and every pack
    stays as it was."""
    from gitflywheel.errors import StoreError

    ingest_many(cli, store, tmp_path, "c", 3)
    ingest_many(cli, store, tmp_path, "d", 3)
    assert len(packs(store)) >= 2
    damaged = packs(store)[0]
    listed = git("-C", store, "verify-pack", "-v", str(damaged.with_suffix(".idx")))
    blob, _, _, packed, offset = next(
        line.split()[:5] for line in listed.splitlines() if line.split()[1:2] == ["blob"]
    )
    data = bytearray(damaged.read_bytes())
    data[int(offset) + int(packed) - 2] ^= 0xFF  # inside the object's deflated bytes
    damaged.write_bytes(bytes(data))
    before = {p: p.read_bytes() for p in packs(store)}
    with Store.open(store) as opened, pytest.raises(StoreError) as raised:
        opened.merge_packs(everything=True)
    assert str(damaged) in str(raised.value) and blob in str(raised.value)
    assert "damaged" in str(raised.value)
    assert {p: p.read_bytes() for p in packs(store)} == before
    assert all(p.with_suffix(".idx").exists() for p in before)
    assert not list((store / "objects" / "pack").glob("tmp_*"))


@pytest.mark.slow
def test_merge_keeps_one_copy_of_what_packs_share(cli: Cli, store: Path, tmp_path: Path) -> None:
    """The same objects in three packs (ingest writes templates and sessions again when
    a batch is lost; here, packs written twice): the merged pack holds each object once."""
    ingest_many(cli, store, tmp_path, "s", 30)
    with Store.open(store) as opened:
        opened.merge_packs(everything=True)
    (first,) = packs(store)
    objects = int(git("-C", store, "count-objects", "-v").split("in-pack: ")[1].split()[0])
    copy = first.with_name("pack-copy.pack")  # the same objects again, as another pack
    copy.write_bytes(first.read_bytes())
    copy.with_suffix(".idx").write_bytes(first.with_suffix(".idx").read_bytes())
    ingest_many(cli, store, tmp_path, "t", 5)
    assert len(packs(store)) == 3
    with Store.open(store) as opened:
        opened.merge_packs(everything=True)
    assert len(packs(store)) == 1
    fsck(store)
    listed = git("-C", store, "verify-pack", "-v", str(packs(store)[0].with_suffix(".idx")))
    ids = [
        line.split()[0]
        for line in listed.splitlines()
        if line[:1].isalnum() and len(line.split()) >= 5
    ]
    assert len(ids) == len(set(ids)) > objects
    assert cli("verify", "--repo", store, "--full").exit_code == 0


@pytest.mark.slow
def test_a_reader_finds_every_object_while_another_merges_and_writes_packs(
    cli: Cli, store: Path, tmp_path: Path
) -> None:
    ingest_many(cli, store, tmp_path, "r", 30)
    ingest_many(cli, store, tmp_path, "s", 30)
    ids = git("-C", store, "rev-list", "--objects", "main").split("\n")
    ids = [line.split()[0] for line in ids if line]
    with Store.open(store) as reader:
        first = {sha: reader.raw(sha.encode()) for sha in ids[:5]}  # its packs are known now
        with Store.open(store) as writer:
            writer.merge_packs(everything=True)
        ingest_many(cli, store, tmp_path, "t", 5)  # a pack the reader has not seen
        newer = git("-C", store, "rev-list", "--objects", "main").split("\n")
        newer = [line.split()[0] for line in newer if line]
        for sha in newer:
            kind, data = reader.raw(sha.encode())
            assert git("-C", store, "cat-file", "-t", sha).strip() == kind
            shown = subprocess.run(["git", "-C", store, "cat-file", kind, sha], capture_output=True)
            assert shown.stdout == data
        assert all(reader.raw(sha.encode()) == seen for sha, seen in first.items())


def _objects_as_git_reads_them(store: Path) -> dict[bytes, tuple[str, bytes]]:
    listed = git("-C", store, "cat-file", "--batch-all-objects", "--batch-check=%(objectname)")
    ids = listed.split()
    out = subprocess.run(
        ["git", "-C", str(store), "cat-file", "--batch"],
        input="".join(f"{i}\n" for i in ids).encode(),
        capture_output=True,
        check=True,
    ).stdout
    found: dict[bytes, tuple[str, bytes]] = {}
    at = 0
    while at < len(out):
        line_end = out.index(b"\n", at)
        sha, kind, size = out[at:line_end].split()
        start = line_end + 1
        found[sha] = (kind.decode(), out[start : start + int(size)])
        at = start + int(size) + 1
    return found


def test_every_object_reads_as_git_reads_it_whole_or_as_a_delta(
    cli: Cli, store: Path, tmp_path: Path
) -> None:
    ingest_many(cli, store, tmp_path, "w", 12)
    whole = _objects_as_git_reads_them(store)
    with Store.open(store) as opened:
        assert {sha: opened.raw(sha) for sha in whole} == whole
    git("-C", store, "repack", "-a", "-d", "-f", "--depth=20", "--window=20", "-q")
    idx = next((store / "objects" / "pack").glob("*.idx"))
    listing = git("-C", store, "verify-pack", "-v", idx).splitlines()
    assert any(len(line.split()) > 5 for line in listing if line[:1].isalnum())  # deltas
    with Store.open(store) as opened:
        assert {sha: opened.raw(sha) for sha in whole} == whole


def _resident_kb(path: Path) -> int:
    """The kB of `path` this process holds resident through its mappings (smaps' Rss)."""
    total, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        if line[:1].isalnum() and "-" in line.split(" ", 1)[0]:  # a mapping's first line
            inside = line.endswith(str(path))
        elif inside and line.startswith("Rss:"):
            total += int(line.split()[1])
    return total


def test_releasing_pack_pages_drops_them_from_memory_and_reads_go_on(
    cli: Cli, store: Path, tmp_path: Path
) -> None:
    ingest_many(cli, store, tmp_path, "p", 40)
    git("-C", store, "repack", "-a", "-d", "-q")
    (pack,) = packs(store)
    whole = _objects_as_git_reads_them(store)
    with Store.open(store) as opened:
        assert {sha: opened.raw(sha) for sha in whole} == whole
        assert _resident_kb(pack) > 0
        opened.release_pack_pages()
        assert _resident_kb(pack) == 0
        assert {sha: opened.raw(sha) for sha in whole} == whole  # the packs stayed open
        assert _resident_kb(pack) > 0


def test_an_object_whose_deflated_bytes_are_damaged_is_never_read(
    cli: Cli, store: Path, tmp_path: Path
) -> None:
    ingest_many(cli, store, tmp_path, "d", 3)
    git("-C", store, "repack", "-a", "-d", "-q")
    idx = next((store / "objects" / "pack").glob("*.idx"))
    listing = git("-C", store, "verify-pack", "-v", idx).splitlines()
    # sha type size size-in-pack offset: the largest blob stored whole
    blobs = [line.split() for line in listing if " blob " in line and len(line.split()) == 5]
    sha, _, size, packed, offset = max(blobs, key=lambda fields: int(fields[2]))
    pack = idx.with_suffix(".pack")
    data = bytearray(pack.read_bytes())
    data[int(offset) + int(packed) // 2] ^= 0xFF
    pack.chmod(0o644)
    pack.write_bytes(bytes(data))
    with Store.open(store) as opened, pytest.raises(zlib.error):
        opened.raw(sha.encode())


def test_a_whole_object_whose_header_claims_a_size_beyond_any_buffer_is_left_to_dulwich() -> None:
    # a blob's header (type 3) whose size runs over ten bytes: more than 2**64
    header = bytes([0x80 | 3 << 4 | 0xF, *[0xFF] * 9, 0x7F])
    assert whole_entry_at(header + zlib.compress(b"x"), 0) is None
    assert whole_entry_at(packed_entry(3, b"blob text"), 0) == (3, b"blob text")


def test_a_whole_object_whose_data_does_not_inflate_is_left_to_dulwich() -> None:
    """Bytes that are no deflate stream, or one cut short, give None (dulwich's reader
    then raises what it raises), never the inflater's own error."""
    entry = packed_entry(3, b"blob text " * 50)
    body = len(entry) - len(zlib.compress(b"blob text " * 50))
    garbled = entry[:body] + bytes([entry[body] ^ 0xFF]) + entry[body + 1 :]
    assert whole_entry_at(garbled, 0) is None  # a header zlib refuses
    assert whole_entry_at(entry[: body + 10], 0) is None  # the stream ends early
    wrong = entry[:body] + zlib.compress(b"other text " * 50)  # more than the header says
    assert whole_entry_at(wrong, 0) is None


def test_a_large_index_is_put_in_pack_order_a_run_at_a_time() -> None:
    """A merge reads each source in the order of its objects in the pack, sorted a run of
    keys at a time and merged (past one run here): every position once, by offset."""
    import random

    from gitflywheel.storage.packs import _SORTED_RUN, _SourceIndex

    draw = random.Random(7)
    count = 2 * _SORTED_RUN + 1234
    offsets = draw.sample(range(12, 1 << 34), count)
    source = _SourceIndex(bytes(20 * count), array("Q", offsets))
    assert list(source.by_offset()) == sorted(range(count), key=offsets.__getitem__)
    # offsets past what 64 bits hold beside a position: sorted all the same
    huge = _SourceIndex(bytes(60), array("Q", [(1 << 63) + 5, 3, 1 << 62]))
    assert list(huge.by_offset()) == [1, 2, 0]


def test_a_merge_beside_the_writer_reads_git_s_deltas_through_a_store_of_its_own(
    cli: Cli, store: Path, tmp_path: Path
) -> None:
    """A pack `git repack` deltified, folded by a merge written beside the writer (as
    ingest's are): its deltas are read through a Store of the thread's own and written
    whole; the store then reads as git reads it."""
    import os

    from gitflywheel.storage.packs import MAX_PACKS
    from gitflywheel.storage.trees import FILE_MODE

    ingest_many(cli, store, tmp_path, "d", 3)
    git("-C", store, "repack", "-a", "-d", "-f", "--depth=50", "--window=50", "-q")
    (deltified,) = packs(store)
    listed = git("-C", store, "verify-pack", "-v", str(deltified.with_suffix(".idx")))
    assert any(len(line.split()) > 5 for line in listed.splitlines() if line[:1].isalnum())
    with Store.open(store) as opened, opened.writing(merge_beside=True) as writer:
        tip = writer.main
        assert tip is not None
        for n in range(MAX_PACKS):  # packs of about its size, so the merge takes it too
            editor = writer.edit(opened.commit(tip).tree)
            editor.set(f"noise/{n}.bin", FILE_MODE, writer.put_blob(os.urandom(4096)))
            tip = writer.commit(
                writer.write_tree(editor), [tip], b"Noise\n", b"A <a@example.com>", None, 1
            )
            writer.flush(tip)
    assert deltified not in packs(store)  # folded
    assert not list((store / "objects" / "pack").glob("tmp_*"))
    fsck(store)
    with Store.open(store) as reader:
        for sha, (kind, data) in _objects_as_git_reads_them(store).items():
            assert reader.raw(sha) == (kind, data)
