"""The size of an object, read from its header before a byte of it is inflated.

An object of a pack says in its header how large it is once inflated; a delta says, in
the first bytes of its inflated data, how large the object it makes is; a loose object
says so in the first bytes of its file. A few compressed megabytes can inflate to
gigabytes (zeros compress a thousandfold), and the readers of objects (dulwich's, ours)
hold an object whole in memory. So whatever comes from elsewhere is measured first:
an object larger than `MAX_OBJECT_BYTES` is refused before anything inflates it, and an
object whose data inflates to more than its header says is refused as it streams by.
The walk through a pack inflates each object's data in small pieces, only to find where
the next object starts, so its memory stays small whatever the pack holds.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from ..errors import StoreError

__all__ = [
    "MAX_OBJECT_BYTES",
    "ObjectTooLarge",
    "UnreadablePack",
    "check_pack",
    "check_loose",
    "loose_header",
]

MAX_OBJECT_BYTES = 64 * 1024 * 1024
"""The largest object a store takes from elsewhere: 64 MiB, eight times the default
screenshot cap (`--max-screenshot-bytes`, which cannot be set higher than this) and
sixty-four times the most a template may render (1 MiB), so that no object a store
records itself is ever over it."""

_TYPES = {1: "commit", 2: "tree", 3: "blob", 4: "tag"}
_OFS_DELTA, _REF_DELTA = 6, 7
_READ = 1 << 16  # compressed bytes read at a time
_OUT = 1 << 20  # inflated bytes held at a time
_MAX_VARINT = 10  # bytes of a size: 70 bits, more than any file has
_HEAD = 20  # inflated bytes that hold a delta's two sizes


class ObjectTooLarge(StoreError):
    """An object larger than the limit: its id (when it can be known cheaply), its
    size, and the limit."""

    def __init__(self, what: str, size: int, limit: int) -> None:
        self.what, self.size, self.limit = what, size, limit
        super().__init__(
            f"{what} is {size:,} bytes, over the limit of {limit:,} bytes an object "
            "may have in a store"
        )


class UnreadablePack(StoreError):
    """A pack (or loose object) whose headers or compressed data do not read as git's."""


class _Input:
    """A file read forward in small pieces, with its position kept."""

    def __init__(self, f: BinaryIO, at: int = 0) -> None:
        self.f = f
        self.at = at  # the position in the file of the next byte
        self._buffer = b""
        self._next = 0  # of the next byte in `_buffer`

    def _rest(self) -> bytes:
        """What is read and not yet taken, or the next piece of the file."""
        data = self._buffer[self._next :] if self._next < len(self._buffer) else self.f.read(_READ)
        self._buffer, self._next = b"", 0
        return data

    def byte(self) -> int:
        if self._next >= len(self._buffer):
            self._buffer, self._next = self.f.read(_READ), 0
            if not self._buffer:
                raise UnreadablePack("it ends in the middle of an object")
        value = self._buffer[self._next]
        self._next += 1
        self.at += 1
        return value

    def take(self, n: int) -> bytes:
        return bytes(self.byte() for _ in range(n))

    def inflate(
        self,
        declared: int,
        start: int,
        on_head: Callable[[bytes], None] | None = None,
        sink: Callable[[bytes], None] | None = None,
    ) -> int:
        """Inflate the zlib stream that starts here, a piece at a time, to its end, and
        how many bytes it made. `on_head` sees the first inflated bytes (it raises to stop
        the walk), `sink` every piece. Refused if it makes more than `declared` bytes (the
        object's header, at offset `start`, said so)."""
        inflater = zlib.decompressobj()
        total, head = 0, b""
        while not inflater.eof:
            data = self._rest()
            if not data:
                raise UnreadablePack("it ends in the middle of an object's data")
            try:
                out = inflater.decompress(data, _OUT)
            except zlib.error as exc:
                raise UnreadablePack(
                    f"the data of the object at offset {start} does not inflate ({exc})"
                ) from None
            rest = inflater.unused_data if inflater.eof else inflater.unconsumed_tail
            self.at += len(data) - len(rest)
            self._buffer, self._next = rest, 0
            total += len(out)
            if total > declared:
                raise UnreadablePack(
                    f"the object at offset {start} inflates to more than the "
                    f"{declared:,} bytes its header says"
                )
            if sink is not None:
                sink(out)
            if on_head is not None:
                head += out[: _HEAD - len(head)]
                if len(head) >= _HEAD or inflater.eof:
                    on_head(head)
                    on_head = None
        return total


def _varint(data: bytes, at: int) -> tuple[int, int]:
    """A delta header's size (little-endian base 128) at `at`: (value, next position)."""
    value, shift = 0, 0
    while True:
        if at >= len(data) or shift > 7 * _MAX_VARINT:
            raise UnreadablePack("a delta's header does not read")
        byte = data[at]
        value |= (byte & 0x7F) << shift
        shift += 7
        at += 1
        if not byte & 0x80:
            return value, at


def _object_header(source: _Input) -> tuple[int, int]:
    """(type number, inflated size) of the packed object that starts here."""
    byte = source.byte()
    kind, size, shift = (byte >> 4) & 7, byte & 0x0F, 4
    while byte & 0x80:
        if shift > 7 * _MAX_VARINT:
            raise UnreadablePack("an object's header does not read")
        byte = source.byte()
        size |= (byte & 0x7F) << shift
        shift += 7
    return kind, size


def _base_offset(source: _Input, at: int) -> int:
    """Where the base of an offset delta that starts at `at` starts."""
    byte = source.byte()
    distance = byte & 0x7F
    for _ in range(_MAX_VARINT):
        if not byte & 0x80:
            break
        byte = source.byte()
        distance = ((distance + 1) << 7) | (byte & 0x7F)
    else:
        raise UnreadablePack("a delta's base offset does not read")
    if not 0 < distance <= at - 12:
        raise UnreadablePack(f"the delta at offset {at} names a base outside the pack")
    return at - distance


def _packed_id(f: BinaryIO, at: int) -> str | None:
    """The id of the whole object that starts at `at` (hashed as it inflates, a piece at a
    time, never held whole), or None if that is a delta or does not read."""
    f.seek(at)
    source = _Input(f, at)
    try:
        kind, size = _object_header(source)
        if kind not in _TYPES:
            return None
        digest = hashlib.sha1(b"%s %d\0" % (_TYPES[kind].encode(), size))
        if source.inflate(size, at, sink=digest.update) != size:
            return None
    except UnreadablePack:
        return None
    return digest.hexdigest()


def _delta_result_size(head: bytes) -> int:
    """The size of the object a delta makes: the second size of its header (the first is
    its base's)."""
    _, after = _varint(head, 0)
    return _varint(head, after)[0]


def check_pack(path: Path, limit: int = MAX_OBJECT_BYTES) -> int:
    """Refuse (ObjectTooLarge) a pack holding an object larger than `limit` bytes, as its
    header or its delta's header says, before that object is inflated; UnreadablePack if
    the pack does not read as one. How many objects it holds."""
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"PACK" or head[4:8] not in (b"\0\0\0\2", b"\0\0\0\3"):
            raise UnreadablePack("not a git pack")
        count = int.from_bytes(head[8:12], "big")
        source = _Input(f, 12)
        for _ in range(count):
            at = source.at
            kind, size = _object_header(source)
            if kind in _TYPES:
                if size > limit:
                    sha = _packed_id(f, at)
                    named = f"{_TYPES[kind]} {sha}" if sha else f"the {_TYPES[kind]} at offset {at}"
                    raise ObjectTooLarge(named, size, limit)
                source.inflate(size, at)
                continue
            if kind == _OFS_DELTA:
                base: int | bytes = _base_offset(source, at)
            elif kind == _REF_DELTA:
                base = source.take(20)
            else:
                raise UnreadablePack(f"the object at offset {at} is of no known type ({kind})")
            if size > limit:  # a delta is inflated whole to be applied
                raise ObjectTooLarge(f"the delta at offset {at} of the pack", size, limit)

            def measure(head: bytes, at: int = at, base: int | bytes = base) -> None:
                made = _delta_result_size(head)
                if made > limit:
                    if isinstance(base, bytes):
                        on = base.hex()
                    else:
                        on = _packed_id(f, base) or f"the object at offset {base}"
                    raise ObjectTooLarge(f"the object a delta on {on} makes", made, limit)

            source.inflate(size, at, on_head=measure)
        return count


def loose_header(path: Path) -> tuple[str, int]:
    """(type, size) of a loose object, from the first bytes of its file, inflating no
    more than those."""
    inflater = zlib.decompressobj()
    head = b""
    with open(path, "rb") as f:
        while b"\0" not in head and len(head) < 64:
            data = inflater.unconsumed_tail or f.read(256)
            if not data:
                break
            try:
                head += inflater.decompress(data, 64 - len(head))
            except zlib.error as exc:
                raise UnreadablePack(f"{path.name}: does not inflate ({exc})") from None
            if inflater.eof:
                break
    kind, space, rest = head.partition(b" ")
    size, nul, _ = rest.partition(b"\0")
    if (
        not space
        or not nul
        or not size.isdigit()
        or kind.decode("ascii", "replace") not in _TYPES.values()
    ):
        raise UnreadablePack(f"{path.parent.name}{path.name}: not a loose object's header")
    return kind.decode(), int(size)


def check_loose(path: Path, limit: int = MAX_OBJECT_BYTES) -> None:
    """Refuse (ObjectTooLarge) a loose object larger than `limit` bytes."""
    kind, size = loose_header(path)
    if size > limit:
        raise ObjectTooLarge(f"{kind} {path.parent.name}{path.name}", size, limit)
