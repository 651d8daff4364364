"""Object sizes read from packs and loose objects before anything inflates them (18.8).

Packs are made by the real git, or put together here byte by byte and then read by
`git index-pack`, so that each is one git takes (or, when malformed, refuses too).
"""

from __future__ import annotations

import hashlib
import subprocess
import zlib
from pathlib import Path

import pytest
from conftest import git

from gitflywheel.storage.objectsize import (
    ObjectTooLarge,
    UnreadablePack,
    check_loose,
    check_pack,
    loose_header,
)

BASE = bytes(range(256)) * 256  # 64 KiB, which a delta's one-byte copy (0x80) copies whole


def size_header(kind: int, size: int) -> bytes:
    out = bytearray([(kind << 4) | (size & 0x0F)])
    size >>= 4
    while size:
        out[-1] |= 0x80
        out.append(size & 0x7F)
        size >>= 7
    return bytes(out)


def varint(n: int) -> bytes:
    out = bytearray([n & 0x7F])
    n >>= 7
    while n:
        out[-1] |= 0x80
        out.append(n & 0x7F)
        n >>= 7
    return bytes(out)


def ofs(distance: int) -> bytes:
    out = [distance & 0x7F]
    distance >>= 7
    while distance:
        distance -= 1
        out.insert(0, 0x80 | (distance & 0x7F))
        distance >>= 7
    return bytes(out)


def pack_of(entries: list[bytes]) -> bytes:
    body = b"PACK\0\0\0\2" + len(entries).to_bytes(4, "big") + b"".join(entries)
    return body + hashlib.sha1(body).digest()


def blob_entry(data: bytes) -> bytes:
    return size_header(3, len(data)) + zlib.compress(data)


def copies(times: int) -> bytes:
    """A delta on BASE that makes `times` copies of it."""
    return varint(len(BASE)) + varint(times * len(BASE)) + b"\x80" * times


def blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def write_pack(tmp_path: Path, data: bytes, git_takes: bool = True) -> Path:
    """The pack as a file; git's `index-pack` reads it (and takes it, or refuses it)."""
    path = tmp_path / "incoming.pack"
    path.write_bytes(data)
    repo = tmp_path / "check.git"
    if not repo.exists():
        git("init", "-q", "--bare", repo)
    done = subprocess.run(
        ["git", "-C", str(repo), "index-pack", "--stdin"], input=data, capture_output=True
    )
    assert (done.returncode == 0) == git_takes, done.stderr.decode()
    return path


def test_a_pack_git_made_with_deltas_is_read_to_its_end(tmp_path: Path) -> None:
    repo = tmp_path / "r.git"
    git("init", "-q", "--bare", repo)
    ids = [
        git("-C", repo, "hash-object", "-w", "--stdin", input=BASE + bytes([n]) * 300).strip()
        for n in range(20)
    ]
    data = subprocess.run(
        ["git", "-C", str(repo), "pack-objects", "--stdout"],
        input="\n".join(ids).encode(),
        capture_output=True,
        check=True,
    ).stdout
    path = write_pack(tmp_path, data)
    index = next((tmp_path / "check.git" / "objects" / "pack").glob("*.idx"))
    assert "chain length" in git("verify-pack", "-v", index)  # git made deltas of them
    assert check_pack(path, limit=len(BASE) + 300) == 20
    with pytest.raises(ObjectTooLarge) as refused:
        check_pack(path, limit=len(BASE))
    assert f"{len(BASE) + 300:,} bytes" in str(refused.value)


def test_a_whole_blob_over_the_limit_is_named_by_its_id(tmp_path: Path) -> None:
    small, big = b"x" * 100, bytes(3_000_000)
    path = write_pack(tmp_path, pack_of([blob_entry(small), blob_entry(big)]))
    assert check_pack(path, limit=3_000_000) == 2
    with pytest.raises(ObjectTooLarge) as refused:
        check_pack(path, limit=2_999_999)
    assert str(refused.value).startswith(f"blob {blob_id(big)} is 3,000,000 bytes, over the limit")
    assert refused.value.size == 3_000_000 and refused.value.limit == 2_999_999


def test_a_delta_making_an_object_over_the_limit_is_refused_by_its_header(
    tmp_path: Path,
) -> None:
    base = blob_entry(BASE)
    delta = copies(80)  # a few hundred bytes that make 5 MiB
    by_offset = size_header(6, len(delta)) + ofs(len(base)) + zlib.compress(delta)
    by_id = size_header(7, len(delta)) + bytes.fromhex(blob_id(BASE)) + zlib.compress(delta)
    for entry in (by_offset, by_id):
        path = write_pack(tmp_path, pack_of([base, entry]))
        assert check_pack(path, limit=80 * len(BASE)) == 2
        with pytest.raises(ObjectTooLarge) as refused:
            check_pack(path, limit=1 << 20)
        assert str(refused.value).startswith(
            f"the object a delta on {blob_id(BASE)} makes is {80 * len(BASE):,} bytes"
        ), refused.value


def test_an_object_that_inflates_beyond_its_header_is_refused(tmp_path: Path) -> None:
    lying = size_header(3, 10) + zlib.compress(bytes(5_000_000))
    path = write_pack(tmp_path, pack_of([lying]), git_takes=False)
    with pytest.raises(UnreadablePack, match="inflates to more than the 10 bytes"):
        check_pack(path, limit=1 << 20)


@pytest.mark.parametrize(
    "data",
    [b"", b"JUNK\0\0\0\2\0\0\0\1", pack_of([size_header(5, 3) + zlib.compress(b"abc")])],
    ids=["empty", "not-a-pack", "unknown-type"],
)
def test_what_is_not_a_pack_is_refused(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "x.pack"
    path.write_bytes(data)
    with pytest.raises(UnreadablePack):
        check_pack(path)


def test_a_loose_object_over_the_limit_is_refused_from_its_header(tmp_path: Path) -> None:
    repo = tmp_path / "r.git"
    git("init", "-q", "--bare", repo)
    sha = subprocess.run(
        f"head -c 3000000 /dev/zero | git -C {repo} hash-object -w --stdin",
        shell=True,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    loose = repo / "objects" / sha[:2] / sha[2:]
    assert loose_header(loose) == ("blob", 3_000_000)
    check_loose(loose, limit=3_000_000)
    with pytest.raises(ObjectTooLarge, match=f"^blob {sha} is 3,000,000 bytes, over the limit"):
        check_loose(loose, limit=1_000_000)


def test_packing_loose_objects_leaves_one_over_the_limit_as_it_is(tmp_path: Path) -> None:
    from gitflywheel.storage.packs import Packs

    repo = tmp_path / "r.git"
    git("init", "-q", "--bare", repo)
    small = git("-C", repo, "hash-object", "-w", "--stdin", input=b"small\n").strip()
    big = subprocess.run(
        f"head -c 3000000 /dev/zero | git -C {repo} hash-object -w --stdin",
        shell=True,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    packs = Packs(repo / "objects", lambda sha: (0, b""))
    assert packs.pack_loose(limit=1_000_000) == 1
    assert [p.parent.name + p.name for p in packs.loose_objects()] == [big]
    assert git("-C", repo, "cat-file", "-s", small).strip() == "6"
    git("-C", repo, "fsck", "--strict", "--no-progress")
