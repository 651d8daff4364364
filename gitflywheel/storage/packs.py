"""The store's pack files: write a batch as one pack, merge packs, pack loose objects.

A pack lands as a temporary file that is indexed and moved into place, its index last,
so that no reader ever finds a pack without its index. Merges are geometric: a store
keeps O(log n) packs and each object is copied O(log n) times over its life. A
multi-pack-index that git wrote is dropped as soon as a merge removes a pack it names,
so that it never names a pack that is gone (`git fsck` would refuse it). A long writer's
merges may be written by a thread beside it (`MergeBeside`), which reads and writes
nothing the writer touches, and holds each index table once (`IndexTables`).
Used by `Store` alone (which a `Writer` asks to write a pack), and `packed_entry` by whoever
compresses objects ahead of a writer (ingest's planning workers).
"""

from __future__ import annotations

import binascii
import contextlib
import hashlib
import heapq
import mmap
import os
import re
import struct
import sys
import threading
import time
import zlib
from abc import ABC, abstractmethod
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from dulwich.errors import FileFormatException
from dulwich.object_format import SHA1
from dulwich.objects import ShaFile
from dulwich.pack import (
    load_pack_index,
    pack_header_chunks,
    pack_object_chunks,
)
from zlib_ng import zlib_ng

from ..errors import StoreError
from .objectsize import MAX_OBJECT_BYTES, check_loose

__all__ = [
    "IndexTables",
    "PackIndex",
    "packed_entry",
    "unpacked_entry",
    "whole_entry_at",
    "MAX_PACKS",
    "SETTLED_PACK_BYTES",
    "PACK_PREFIX",
    "IDX_PREFIX",
    "MergeBeside",
    "MergeResult",
    "OwnReader",
    "PackLayout",
    "Packs",
]

# A pack and its index are written under these names, as git names its own (no `.pack`,
# no `.idx`: a reader listing the folder, dulwich or git, never takes a pack and an index
# being written for a pack), then moved into place.
PACK_PREFIX = "tmp_pack_gitflywheel_"
IDX_PREFIX = "tmp_idx_gitflywheel_"
# What dulwich leaves when killed while it writes a pack: `objects/tmp_pack_*` (a fetched
# thin pack being completed), `objects/incoming-*` (a fetch spooled to disk),
# `objects/pack/tmp*.pack` (a pack being received).
_DULWICH_LEFTOVERS = ("tmp_pack_*", "incoming-*", "pack/tmp*.pack")
MAX_PACKS = 8  # more mergeable packs than this after a write: merge them
# A pack this large is settled: never merged again by a write, so the cost of merging
# per session stops growing with the store (a million sessions make a few settled packs).
SETTLED_PACK_BYTES = 1 << 30
_STALE_SECONDS = 5.0
_WHOLE_TYPES = (1, 2, 3, 4)  # commit, tree, blob, tag; 6 and 7 are deltas
_PACK_SIDECARS = (".idx", ".pack", ".rev", ".bitmap", ".mtimes")  # the index first
MIDX_FILE = "multi-pack-index"
_LOOSE_NAME = re.compile(r"[0-9a-f]{38}")
_LOOSE_BATCH = 10_000

RawReader = Callable[[bytes], tuple[int, bytes]]  # hex id -> (type number, bytes)
PackEntries = dict[bytes, tuple[int, int]]  # binary id -> (offset, crc32)


@dataclass(frozen=True)
class MergeResult:
    """What a merge did: the packs it folded together and the one it wrote."""

    merged: list[str]
    written: str | None


@dataclass(frozen=True)
class PackLayout:
    """The object files of a store: its packs (by name), how many loose objects, and
    which packs its multi-pack-index names (None: there is none)."""

    packs: list[str]
    loose: int
    midx_packs: frozenset[str] | None
    midx_bitmap: bool

    @property
    def midx_current(self) -> bool:
        """Whether a multi-pack-index with its bitmap names exactly the packs there are."""
        wanted = {f"{name}.idx" for name in self.packs}
        return self.midx_bitmap and self.midx_packs == frozenset(wanted)


class OwnReader(Protocol):
    """A `RawReader` with files of its own, closed when its user is done."""

    def __call__(self, sha: bytes) -> tuple[int, bytes]: ...

    def close(self) -> None: ...


class MergeBeside:
    """A merge written by a thread of its own (`Packs.write_merged`) while its writer goes
    on writing packs; `land` waits for it and removes the packs it folded, or raises what
    stopped it (every pack then left as it was). Its writer starts no other merge before
    it lands, and lands it before the writer lock is released."""

    def __init__(self, packs: Packs, sources: list[Path], reader: OwnReader) -> None:
        self.sources = sources
        self._packs = packs
        self._written: str | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(reader,), name="gitflywheel pack merge", daemon=True
        )
        self._thread.start()

    def _run(self, reader: OwnReader) -> None:
        try:
            self._written = self._packs.write_merged(self.sources, reader)
        except BaseException as exc:  # raised again in the writer's thread, by `land`
            self._error = exc
        finally:
            reader.close()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def land(self, forget: Callable[[], None]) -> MergeResult:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._written is not None
        return self._packs.finish_merge(self.sources, self._written, forget)


class Packs:
    """The packs under `<store>/objects/pack`, and the loose objects beside them."""

    def __init__(self, objects_dir: Path, read_raw: RawReader) -> None:
        self.objects = objects_dir
        self.dir = objects_dir / "pack"
        self._read_raw = read_raw

    # -- what is there -----------------------------------------------------------------

    def all(self) -> list[Path]:
        """Every pack with its index, whoever wrote it."""
        if not self.dir.is_dir():
            return []
        return sorted(
            p
            for p in self.dir.glob("*.pack")
            if p.with_suffix(".idx").exists() and not p.name.startswith(("tmp", PACK_PREFIX))
        )

    def mergeable(self, settled_too: bool = False) -> list[Path]:
        """Packs a merge may fold: gitflywheel's and git's (`pack-*`), indexed, not kept by
        a `.keep` file, and (unless `settled_too`) not settled."""
        if not self.dir.is_dir():
            return []
        return [
            p
            for p in self.dir.glob("pack-*.pack")
            if p.with_suffix(".idx").exists()
            and not p.with_suffix(".keep").exists()
            and (settled_too or p.stat().st_size < SETTLED_PACK_BYTES)
        ]

    def midx_packs(self) -> set[str] | None:
        """The packs (`pack-….idx` names) a multi-pack-index names, or None without one.
        One that cannot be read names nothing usable: an empty set."""
        from dulwich.midx import load_midx

        path = self.dir / MIDX_FILE
        if not path.exists():
            return None
        try:
            midx = load_midx(path)
        except Exception:  # damaged or of a format dulwich does not know: nothing usable
            return set()
        try:
            return set(midx.pack_names)
        finally:
            midx.close()

    def midx_bitmap(self) -> Path | None:
        """The reachability bitmap git wrote for the multi-pack-index, if any."""
        found = sorted(self.dir.glob(f"{MIDX_FILE}-*.bitmap")) if self.dir.is_dir() else []
        return found[0] if found else None

    def layout(self) -> PackLayout:
        named = self.midx_packs()
        return PackLayout(
            [p.stem for p in self.all()],
            len(self.loose_objects()),
            None if named is None else frozenset(named),
            self.midx_bitmap() is not None,
        )

    def loose_objects(self) -> list[Path]:
        """Loose object files (`objects/ab/cdef…`), which a push by plain git may leave."""
        found = []
        for folder in self.objects.glob("[0-9a-f][0-9a-f]"):
            found += [f for f in folder.iterdir() if _LOOSE_NAME.fullmatch(f.name)]
        return sorted(found)

    # -- writing -----------------------------------------------------------------------

    def write(self, objects: list[ShaFile]) -> str:
        """Write objects as one pack, undeltified; the name of the pack written."""
        return self.write_entries(
            {
                binascii.unhexlify(obj.id): packed_entry(obj.type_num, obj.as_raw_string())
                for obj in objects
            }
        )

    def write_entries(self, entries: Mapping[bytes, bytes]) -> str:
        """Write objects already packed (binary id -> `packed_entry`) as one pack."""

        def write(f: BinaryIO) -> tuple[PackEntries, bytes]:
            digest = hashlib.sha1()
            written: PackEntries = {}
            position = 0
            for chunk in pack_header_chunks(len(entries)):
                f.write(chunk)
                digest.update(chunk)
                position += len(chunk)
            for sha, raw in entries.items():
                written[sha] = (position, binascii.crc32(raw))
                f.write(raw)
                digest.update(raw)
                position += len(raw)
            checksum = digest.digest()
            f.write(checksum)
            return written, checksum

        return self._install(write)

    def write_spooled(self, spool: BinaryIO, entries: PackEntries) -> str:
        """Write as one pack the objects in `spool`, one `packed_entry` after another from
        its start, `entries` giving each one's offset there and its crc32. The bytes are
        copied a chunk at a time: a large fetch never sits in memory."""

        def write(f: BinaryIO) -> tuple[PackEntries, bytes]:
            header = b"".join(pack_header_chunks(len(entries)))
            digest = hashlib.sha1(header)
            f.write(header)
            spool.seek(0)
            while chunk := spool.read(1 << 20):
                f.write(chunk)
                digest.update(chunk)
            checksum = digest.digest()
            f.write(checksum)
            shift = len(header)
            return {sha: (at + shift, crc) for sha, (at, crc) in entries.items()}, checksum

        return self._install(write)

    def _install(self, write: Callable[[BinaryIO], tuple[PackEntries | IndexTables, bytes]]) -> str:
        """Write a pack with `write` to a temporary file, index it, and move both into
        place, the index last: readers never see a pack without its index."""
        self.dir.mkdir(parents=True, exist_ok=True)
        # one per process and thread: a merge may be written beside the writer (`write_merged`)
        writer = f"{os.getpid()}_{threading.get_native_id()}"
        tmp_pack, tmp_idx = self.dir / f"{PACK_PREFIX}{writer}", self.dir / f"{IDX_PREFIX}{writer}"
        try:
            with open(tmp_pack, "wb") as f:
                entries, checksum = write(f)
                f.flush()
                os.fsync(f.fileno())
            index = entries if isinstance(entries, IndexTables) else PackIndex.of(entries)
            del entries
            with open(tmp_idx, "wb") as f:
                index.write(f, checksum)
                f.flush()
                os.fsync(f.fileno())
            del index
            base = self.dir / f"pack-{checksum.hex()}"
            os.replace(tmp_pack, base.with_suffix(".pack"))
            os.replace(tmp_idx, base.with_suffix(".idx"))
            return base.name
        finally:
            tmp_pack.unlink(missing_ok=True)
            tmp_idx.unlink(missing_ok=True)

    def merge(
        self,
        everything: bool = False,
        settled_too: bool = False,
        forget: Callable[[], None] = lambda: None,
        at_least_two: bool = True,
    ) -> MergeResult:
        """Geometric merge: fold the small packs together so lookups stay fast.

        Packs are sorted by size; the smallest ones that are not each at least twice the
        size of all smaller ones together are merged into one, so a store ends up with
        O(log n) packs and each object is rewritten O(log n) times over its life, as a
        copy of its packed bytes (see `_copy`). A write merges at least the two smallest
        (`at_least_two`). `everything` merges all mergeable packs (and `settled_too`
        counts the settled ones among them). The caller holds the store's writer lock;
        `forget` closes what it has open of the packs about to go.
        """
        sources = self.merge_sources(everything, settled_too, at_least_two)
        if not sources:
            return MergeResult([], None)
        return self.finish_merge(sources, self.write_merged(sources), forget)

    def merge_sources(
        self, everything: bool = False, settled_too: bool = False, at_least_two: bool = True
    ) -> list[Path]:
        """The packs `merge` would fold together (none, or at least two)."""
        packs = sorted(self.mergeable(settled_too), key=lambda p: (p.stat().st_size, p.name))
        if len(packs) < 2:
            return []
        sizes = [p.stat().st_size for p in packs]
        cut, total = 0, 0
        for i, size in enumerate(sizes):
            if i and size < 2 * total:
                cut = i + 1
            total += size
        cut = len(packs) if everything else max(cut, 2) if at_least_two else cut
        return packs[:cut] if cut >= 2 else []

    def write_merged(self, sources: list[Path], read_raw: RawReader | None = None) -> str:
        """Write the pack that holds every object of `sources` once, and its index; the
        sources stay until `finish_merge`. It touches no file but its own and reads the
        sources through their own handles, so it may run in a thread beside a writer that
        goes on writing packs (`read_raw`, for the deltas of packs `git gc` made, is then
        a reader of that thread's own)."""
        return self._install(lambda f: self._copy(sources, f, read_raw or self._read_raw))

    def finish_merge(
        self, sources: list[Path], written: str, forget: Callable[[], None]
    ) -> MergeResult:
        """Remove the packs a merge folded into `written` (after `forget`)."""
        gone = {p.stem for p in sources} - {written}
        forget()
        self.remove(gone)
        return MergeResult(sorted(p.stem for p in sources), written)

    def compact(
        self, full: bool = False, forget: Callable[[], None] = lambda: None
    ) -> list[MergeResult]:
        """As few packs as the geometric rule allows, each at least twice the size of all
        smaller ones together; `full`: every pack not kept by a `.keep` file, settled ones
        too, into one. Each merge done; none when the packs are already so."""
        if full:
            done = self.merge(everything=True, settled_too=True, forget=forget)
            return [done] if done.written else []
        merges = []
        while (done := self.merge(forget=forget, at_least_two=False)).written:
            merges.append(done)
        return merges

    def remove(self, names: Iterable[str]) -> None:
        """Remove packs by name (`pack-…`), each index first, after dropping a
        multi-pack-index that names any of them: git refuses an index of packs that are gone."""
        gone = set(names)
        if not gone:
            return
        named = self.midx_packs()
        if named is not None and (not named or {f"{n}.idx" for n in gone} & named):
            self.drop_midx()
        for name in sorted(gone):
            for suffix in _PACK_SIDECARS:
                (self.dir / f"{name}{suffix}").unlink(missing_ok=True)

    def drop_midx(self) -> None:
        """Remove the multi-pack-index and what git wrote beside it (bitmap, reverse index)."""
        (self.dir / MIDX_FILE).unlink(missing_ok=True)
        for extra in self.dir.glob(f"{MIDX_FILE}-*"):
            extra.unlink(missing_ok=True)

    def pack_loose(self, limit: int = MAX_OBJECT_BYTES) -> int:
        """Move loose objects into packs (a batch at a time), then remove their files;
        a loose file that cannot be read is left for `git fsck` to report, and one whose
        header says it is over `limit` bytes is left as it is, never inflated. How many."""
        files = self.loose_objects()
        done = 0
        for start in range(0, len(files), _LOOSE_BATCH):
            batch: list[tuple[Path, ShaFile]] = []
            for file in files[start : start + _LOOSE_BATCH]:
                try:
                    check_loose(file, limit)
                    obj = ShaFile.from_path(str(file))
                except (OSError, ValueError, zlib.error, FileFormatException, StoreError):
                    continue  # damaged or too large: left where it is
                if obj.id.decode() == file.parent.name + file.name:
                    batch.append((file, obj))
            if not batch:
                continue
            self.write([obj for _, obj in batch])
            for file, _ in batch:
                file.unlink(missing_ok=True)
            done += len(batch)
        return done

    def clean_leftovers(self) -> None:
        """Remove what a killed writer left: our temporary packs, dulwich's, and a pack
        whose index never landed. The caller holds the writer lock, so no writer of ours
        is live; git's own temporary files are left to git."""
        leftovers = []
        if self.dir.is_dir():
            leftovers += [*self.dir.glob(f"{PACK_PREFIX}*"), *self.dir.glob(f"{IDX_PREFIX}*")]
        for pattern in _DULWICH_LEFTOVERS:
            leftovers += self.objects.glob(pattern)
        for leftover in leftovers:
            if leftover.is_file():
                leftover.unlink(missing_ok=True)
        if self.dir.is_dir():
            stale = time.time() - _STALE_SECONDS
            for pack in self.dir.glob("pack-*.pack"):
                with contextlib.suppress(FileNotFoundError):
                    if not pack.with_suffix(".idx").exists() and pack.stat().st_mtime < stale:
                        pack.unlink()
                        pack.with_suffix(".idx.lock").unlink(missing_ok=True)

    def _copy(
        self, packs: list[Path], f: BinaryIO, read_raw: RawReader
    ) -> tuple[IndexTables, bytes]:
        """Write one pack holding every object of `packs` once. A whole object's packed
        bytes are copied as they are (once they match the CRC their source's index gives:
        a damaged pack is refused, not copied), read in order of their offsets, so a
        merge runs near the speed of the disk. Each is written on its own: written a
        megabyte at a time, the pack's pages are cached as large folios (Linux 6.x), and
        a reader of the pack maps a whole folio for each object it reads (the ingesting
        process mapped twice as much of its packs). Memory stays near the size of the
        indexes: a few bytes per object in arrays, the duplicates found by merging the
        sorted indexes (no set of ids). Deltas, which only packs made by `git gc` hold,
        are written again as whole objects."""
        sources = [_SourceIndex.read(pack.with_suffix(".idx")) for pack in packs]
        which, where = _first_copies(sources)
        digest = hashlib.sha1()

        def out(chunk: bytes) -> int:
            f.write(chunk)
            digest.update(chunk)
            return len(chunk)

        # New offset and crc of each object, by its place in its source's index;
        # 0 is never an offset (the header comes first): not written (yet).
        placed = [array("Q", bytes(8 * len(src))) for src in sources]
        crcs = [src.crcs or array("I", bytes(4 * len(src))) for src in sources]
        deltas: list[tuple[int, int]] = []
        position = sum(out(chunk) for chunk in pack_header_chunks(len(where)))
        for number, (pack, src) in enumerate(zip(packs, sources, strict=True)):
            keep, offsets, new_offsets, new_crcs = (
                src.keep,
                src.offsets,
                placed[number],
                crcs[number],
            )
            with open(pack, "rb", buffering=1 << 20) as source:
                end_of_data = os.fstat(source.fileno()).st_size - 20
                order = src.by_offset()
                source.seek(offsets[order[0]] if order else end_of_data)
                for j, k in enumerate(order):
                    start = offsets[k]
                    end = offsets[order[j + 1]] if j + 1 < len(order) else end_of_data
                    raw = source.read(end - start)
                    if not keep[k]:
                        continue
                    if (raw[0] >> 4) & 7 not in _WHOLE_TYPES:
                        deltas.append((number, k))
                        continue
                    new_offsets[k] = position
                    crc = binascii.crc32(raw)
                    if src.crcs is None:
                        new_crcs[k] = crc
                    elif crc != new_crcs[k]:
                        raise StoreError(
                            f"{pack}: the object {src.name(k).hex()} does not match the CRC "
                            "its index gives, so the pack is damaged and is not merged "
                            "(`git fsck` names what is wrong)"
                        )
                    position += out(raw)
            # what this source's copy needed and nothing after it does
            del order, offsets, new_offsets, new_crcs
            src.offsets = array("Q")
        for number, k in deltas:
            sha = sources[number].name(k)
            type_num, content = read_raw(binascii.hexlify(sha))
            raw = b"".join(pack_object_chunks(type_num, [content], SHA1))
            placed[number][k] = position
            crcs[number][k] = binascii.crc32(raw)
            position += out(raw)
        checksum = digest.digest()
        f.write(checksum)
        return _MergedIndex(sources, which, where, placed, crcs), checksum


def packed_entry(type_num: int, data: bytes) -> bytes:
    """An object as a pack holds it, whole: its type and size, then its bytes deflated
    (at zlib's default level, as git and dulwich do)."""
    size = len(data)
    header = bytearray()
    c = (type_num << 4) | (size & 15)
    size >>= 4
    while size:
        header.append(c | 0x80)
        c = size & 0x7F
        size >>= 7
    header.append(c)
    return bytes(header) + zlib.compress(data)


_NOT_DEFLATE: type[Exception] = zlib_ng.error  # type: ignore[assignment]  # its stub: an instance


def whole_entry_at(contents: bytes | mmap.mmap, offset: int) -> tuple[int, bytes] | None:
    """The type number and bytes of the object a pack holds whole (not as a delta) at
    `offset`, inflated straight from the pack's bytes; None for a delta, and for anything
    that does not read exactly as its header says (dulwich's careful reader then decides,
    and raises what it raises)."""
    try:
        byte = contents[offset]
        type_num, size, shift, pos = (byte >> 4) & 7, byte & 15, 4, offset + 1
        while byte & 0x80:
            byte = contents[pos]
            size |= (byte & 0x7F) << shift
            shift, pos = shift + 7, pos + 1
    except IndexError:
        return None
    if not 1 <= type_num <= 4:  # commit, tree, blob, tag: never a delta
        return None
    # zlib-ng inflates the same streams as zlib, with SIMD, in about three fifths of its
    # time: inflating is the largest single cost of reading every object (verify, queries)
    inflater = zlib_ng.decompressobj()
    try:
        with memoryview(contents) as view:
            # deflate adds at most a few bytes per 16 kB to what it is given
            data = inflater.decompress(view[pos : pos + size + (size >> 10) + 64], size + 1)
    except (_NOT_DEFLATE, OverflowError, ValueError):  # bad bytes, a size beyond any buffer
        return None
    if not inflater.eof or len(data) != size:
        return None
    return type_num, data


def unpacked_entry(raw: bytes) -> bytes:
    """The bytes of an object from its `packed_entry`."""
    at = 0
    while raw[at] & 0x80:
        at += 1
    return zlib.decompress(raw[at + 1 :])


class IndexTables(ABC):
    """What a pack index lists, in id order, a run of `_TABLE_RUN` entries at a time:
    written as git's index format 2 (`write`) without a copy of a whole table."""

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def name_runs(self) -> Iterator[bytes | bytearray]:
        """Runs of names (20 bytes each)."""

    @abstractmethod
    def crc_runs(self) -> Iterator[array[int]]:
        """Runs of CRC-32s ("I"), each an array of its own (`write` byte-swaps it)."""

    @abstractmethod
    def offset_runs(self) -> Iterator[array[int]]:
        """Runs of offsets ("Q")."""

    def fanout(self) -> list[int]:
        """How many names start with each byte value."""
        counts = [0] * 256
        for run in self.name_runs():
            for first in run[::20]:
                counts[first] += 1
        return counts

    def write(self, f: BinaryIO, pack_checksum: bytes) -> None:
        """Index format 2, byte for byte as git and dulwich write it."""
        digest = hashlib.sha1()

        def out(chunk: bytes | bytearray | array[int]) -> None:
            f.write(chunk)
            digest.update(chunk)

        fanout = self.fanout()
        total = 0
        for i in range(256):
            total += fanout[i]
            fanout[i] = total
        out(b"\377tOc" + struct.pack(">L", 2) + struct.pack(">256L", *fanout))
        for names in self.name_runs():
            out(names)
        swap = sys.byteorder == "little"  # the tables are big-endian
        for crcs in self.crc_runs():
            if swap:
                crcs.byteswap()
            out(crcs)
        large = array("Q")
        for offsets in self.offset_runs():
            small = array("I")
            for offset in offsets:
                if offset < 1 << 31:
                    small.append(offset)
                else:
                    small.append((1 << 31) + len(large))
                    large.append(offset)
            if swap:
                small.byteswap()
            out(small)
        if swap:
            large.byteswap()
        out(large)
        out(pack_checksum)
        f.write(digest.digest())


class PackIndex(IndexTables):
    """The entries of a pack index, sorted by id, in compact arrays (names, offsets,
    crc32s)."""

    def __init__(self) -> None:
        self.names = bytearray()
        self.offsets = array("Q")
        self.crcs = array("I")

    def __len__(self) -> int:
        return len(self.offsets)

    @classmethod
    def of(cls, entries: PackEntries) -> PackIndex:
        index = cls()
        for sha in sorted(entries):
            offset, crc = entries[sha]
            index.add(sha, offset, crc)
        return index

    def add(self, sha: bytes, offset: int, crc: int) -> None:
        self.names += sha
        self.offsets.append(offset)
        self.crcs.append(crc)

    def name_runs(self) -> Iterator[bytes | bytearray]:
        yield self.names

    def crc_runs(self) -> Iterator[array[int]]:
        for start in range(0, len(self), _TABLE_RUN):
            yield self.crcs[start : start + _TABLE_RUN]

    def offset_runs(self) -> Iterator[array[int]]:
        for start in range(0, len(self), _TABLE_RUN):
            yield self.offsets[start : start + _TABLE_RUN]


class _MergedIndex(IndexTables):
    """The index of a merged pack, read from its sources' tables as it is written: each
    id once, from the source `which` names, at its place `where` there, with the offset
    and CRC it got there (`placed`, `crcs`). A merge beside the ingest writes the index
    of a million objects: tables of its own would add 32 bytes an object to the
    ingest's memory."""

    def __init__(
        self,
        sources: list[_SourceIndex],
        which: array[int],
        where: array[int],
        placed: list[array[int]],
        crcs: list[array[int]],
    ) -> None:
        self.names = [src.names for src in sources]
        self.which, self.where, self.placed, self.crcs = which, where, placed, crcs

    def __len__(self) -> int:
        return len(self.where)

    def _runs(self) -> Iterator[zip[tuple[int, int]]]:
        for start in range(0, len(self), _TABLE_RUN):
            end = start + _TABLE_RUN
            yield zip(self.which[start:end], self.where[start:end], strict=True)

    def fanout(self) -> list[int]:
        counts = [0] * 256
        names = self.names
        for number, k in zip(self.which, self.where, strict=True):
            counts[names[number][20 * k]] += 1
        return counts

    def name_runs(self) -> Iterator[bytes | bytearray]:
        names = self.names
        for pairs in self._runs():
            run = bytearray()
            for number, k in pairs:
                run += names[number][20 * k : 20 * k + 20]
            yield run

    def crc_runs(self) -> Iterator[array[int]]:
        crcs = self.crcs
        for pairs in self._runs():
            yield array("I", (crcs[number][k] for number, k in pairs))

    def offset_runs(self) -> Iterator[array[int]]:
        placed = self.placed
        for pairs in self._runs():
            yield array("Q", (placed[number][k] for number, k in pairs))


_SORTED_RUN = 1 << 16  # keys sorted as a list at a time (`_SourceIndex.by_offset`)
_TABLE_RUN = 1 << 16  # entries of an index's table written at a time (`IndexTables`)


class _SourceIndex:
    """A pack's index as arrays: its sorted names (20 bytes each), their offsets and,
    from an index of format 2, the CRC-32 of each object's packed bytes."""

    def __init__(self, names: bytes, offsets: array[int], crcs: array[int] | None = None) -> None:
        self.names = names
        self.offsets = offsets
        self.crcs = crcs
        self.keep = bytearray(len(offsets))  # set for the copy of an id that is written

    def __len__(self) -> int:
        return len(self.offsets)

    def name(self, k: int) -> bytes:
        return self.names[20 * k : 20 * k + 20]

    def by_offset(self) -> array[int]:
        """Positions in the index, in the order of the objects in the pack. Sorted as one
        int each (offset and position together), a run of `_SORTED_RUN` at a time, the
        runs kept as arrays and merged: a list of a million ints would hold 44 bytes an
        object (this, 16), and a merge beside the ingest adds its memory to the ingest's.
        Offsets too large to share 64 bits with a position take a list."""
        offsets = self.offsets
        bits = max(len(offsets) - 1, 1).bit_length()
        if offsets and max(offsets) >> (64 - bits):
            return array("Q", sorted(range(len(offsets)), key=offsets.__getitem__))
        runs = [
            array(
                "Q",
                sorted(
                    offsets[k] << bits | k
                    for k in range(start, min(start + _SORTED_RUN, len(offsets)))
                ),
            )
            for start in range(0, len(offsets), _SORTED_RUN)
        ]
        order = array("Q", heapq.merge(*runs))
        del runs
        mask = (1 << bits) - 1
        for j, key in enumerate(order):
            order[j] = key & mask
        return order

    @classmethod
    def read(cls, path: Path) -> _SourceIndex:
        """The index at `path`, each table read into its own array (the file is never
        held whole beside them: a merge beside the ingest adds its memory to the
        ingest's); StoreError for one cut short."""
        with open(path, "rb") as f:
            head = f.read(8 + 1024)
            if head[:4] == b"\377tOc" and struct.unpack(">L", head[4:8])[0] == 2:
                count = struct.unpack(">L", head[1028:1032])[0]
                names = f.read(20 * count)
                crcs, small = array("I"), array("I")
                try:
                    crcs.fromfile(f, count)
                    small.fromfile(f, count)
                except EOFError:
                    raise StoreError(f"{path}: the pack index is cut short") from None
                if len(names) != 20 * count:
                    raise StoreError(f"{path}: the pack index is cut short")
                large = array("Q")
                rest = f.read()  # the large offsets, then two checksums
                large.frombytes(rest[: (len(rest) - 40) // 8 * 8] if len(rest) > 40 else b"")
                if sys.byteorder == "little":
                    crcs.byteswap()
                    small.byteswap()
                    large.byteswap()
                offsets = array(
                    "Q", (o if not o & (1 << 31) else large[o & 0x7FFFFFFF] for o in small)
                )
                return cls(names, offsets, crcs)
        index = load_pack_index(str(path), SHA1)  # format 1, or one dulwich reads otherwise
        try:
            entries = sorted((bytes(sha), int(offset)) for sha, offset, _ in index.iterentries())
        finally:
            index.close()
        return cls(b"".join(sha for sha, _ in entries), array("Q", (o for _, o in entries)))


def _first_copies(sources: list[_SourceIndex]) -> tuple[array[int], array[int]]:
    """Each id once, in id order, as (source, position) in two arrays: from the first
    source that holds it. Marks the copies chosen in each source's `keep`."""
    which, where = array("H"), array("I")
    last = b""
    streams = [_named(src, number) for number, src in enumerate(sources)]
    for sha, number, k in heapq.merge(*streams):
        if sha == last:
            continue
        last = sha
        sources[number].keep[k] = 1
        which.append(number)
        where.append(k)
    return which, where


def _named(src: _SourceIndex, number: int) -> Iterator[tuple[bytes, int, int]]:
    names = src.names
    for k in range(len(src)):
        yield names[20 * k : 20 * k + 20], number, k
