"""The git store, over dulwich: open, read, write packs, move `main` safely.

The narrow surface everything else uses: read blobs and trees, write a batch of objects
as one pack, and move `refs/heads/main` by compare-and-swap under a lock that dies with
its process. Only this module and `remote` import dulwich's repository machinery.
"""

from __future__ import annotations

import binascii
import contextlib
import fcntl
import hashlib
import mmap
import os
import re
import shutil
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from dulwich.errors import NotGitRepository
from dulwich.file import FileLocked
from dulwich.object_format import SHA1
from dulwich.objects import Blob, Commit, ObjectID, ShaFile, Tree
from dulwich.pack import (
    load_pack_index,
    pack_header_chunks,
    pack_object_chunks,
    write_pack_index,
    write_pack_objects,
)
from dulwich.refs import Ref
from dulwich.repo import Repo

from .errors import StoreError
from .trees import TREE_MODE

__all__ = [
    "MAIN",
    "Store",
    "RefMoved",
    "RevisionError",
    "parse_revision",
    "resolve_revision",
    "QUARANTINE_PREFIX",
    "WORK_DIR",
]

MAIN = Ref(b"refs/heads/main")
LOCK_FILE = "gitflywheel.lock"
WORK_DIR = "gitflywheel"  # <store>/gitflywheel/: gitflywheel's own files, outside git's
QUARANTINE_PREFIX = "incoming-"  # <store>/gitflywheel/incoming-*: fetched objects under check
_PACK_PREFIX = "tmp_pack_gitflywheel_"
# What dulwich leaves when killed while it writes a pack: `objects/tmp_pack_*` (a fetched
# thin pack being completed), `objects/incoming-*` (a fetch spooled to disk),
# `objects/pack/tmp*.pack` (a pack being received).
_DULWICH_LEFTOVERS = ("tmp_pack_*", "incoming-*", "pack/tmp*.pack")
_TYPE_NAMES = {1: "commit", 2: "tree", 3: "blob", 4: "tag"}
_MAX_PACKS = 8
_CACHE_OBJECTS = 4096
# A pack this large is settled: never merged again, so the cost of merging per session
# stops growing with the store (a million sessions make a few settled packs).
_SETTLED_PACK_BYTES = 1 << 30
_STALE_REF_LOCK_SECONDS = 5.0


# A revision: a ref or (short) commit id, then steps `~N`, `^N` (N >= 0, default 1) and
# the peels `^{}` / `^{commit}`; what git-check-ref-format refuses in a name is refused.
_REVISION = re.compile(r"(?P<base>[^~^]+)(?P<steps>(?:\^\{[a-z]*\}|~\d*|\^\d*)*)")
_REV_STEP = re.compile(r"\^\{(?P<peel>[a-z]*)\}|~(?P<tilde>\d*)|\^(?P<caret>\d*)")
_BAD_NAME = re.compile(r"\.\.|@\{|//|[\x00-\x20\x7f:?*\[\\]|^[-/.]|[/.]$|\.lock$|/\.")


class RevisionError(StoreError):
    """A revision that is malformed, names nothing, or names something other than a commit."""


def parse_revision(repo: Repo, rev: str) -> bytes:
    """The commit id `rev` names (a ref, a full or short id, with `~N` / `^N` steps and
    `^{commit}`), or RevisionError saying why not."""
    from dulwich.errors import ObjectFormatException
    from dulwich.objects import Tag
    from dulwich.objectspec import AmbiguousShortId, parse_commit

    form = "a ref or commit id, with ~N or ^N steps"
    match = _REVISION.fullmatch(rev)
    if match is None or _BAD_NAME.search(match["base"]):
        raise RevisionError(f"{rev!r}: not a revision ({form})")
    base = match["base"]
    steps = [(m["tilde"], m["caret"], m["peel"]) for m in _REV_STEP.finditer(match["steps"])]
    for _, _, peel in steps:
        if peel not in (None, "", "commit"):
            raise RevisionError(f"{rev!r}: ^{{{peel}}} names a {peel}, not a commit ({form})")
    try:
        sha = bytes(parse_commit(repo, base.encode()).id)
    except (KeyError, AmbiguousShortId):
        raise RevisionError(f"{rev!r}: no such revision in the store") from None
    except (ValueError, NotImplementedError, ObjectFormatException):
        raise RevisionError(f"{rev!r}: {base} is not a commit") from None
    for tilde, caret, _ in steps:
        if len(tilde or caret or "") > 9:  # more hops than any history has
            raise RevisionError(f"{rev!r}: no such revision in the store")
        if tilde is not None:
            hops = [(0, int(tilde or 1))]
        elif caret is not None:
            number = int(caret or 1)
            hops = [(number - 1, 1)] if number else []
        else:
            continue  # ^{} and ^{commit}: a commit already
        for index, times in hops:
            for _ in range(times):
                commit = repo.object_store[ObjectID(sha)]
                while isinstance(commit, Tag):
                    commit = repo.object_store[commit.object[1]]
                parents = commit.parents if isinstance(commit, Commit) else []
                if len(parents) <= index:
                    raise RevisionError(f"{rev!r}: no such revision in the store")
                sha = bytes(parents[index])
    return sha


def resolve_revision(repo: Repo, rev: str) -> bytes | None:
    """A commit id for `rev` (see `parse_revision`), or None."""
    try:
        return parse_revision(repo, rev)
    except RevisionError:
        return None


_WHOLE_TYPES = (1, 2, 3, 4)  # commit, tree, blob, tag; 6 and 7 are deltas


def _copy_packs(
    store: Repo, packs: list[Path], f: BinaryIO
) -> tuple[dict[bytes, tuple[int, int]], bytes]:
    """Write one pack holding every object of `packs` once. A whole object's packed
    bytes are copied as they are (the index gives where they start), so a merge runs
    near the speed of the disk and holds one object at a time. Deltas, which only packs
    made by `git gc` hold, are written again as whole objects."""
    written: dict[bytes, tuple[int, int]] = {}
    deltas: dict[bytes, None] = {}  # ordered set
    plans: list[tuple[Path, list[tuple[bytes, int]]]] = []
    for pack in packs:
        index = load_pack_index(str(pack.with_suffix(".idx")), SHA1)
        entries = [(bytes(sha), int(offset)) for sha, offset, _ in index.iterentries()]
        index.close()
        plans.append((pack, sorted(entries, key=lambda e: e[1])))
    unique = {sha for _, entries in plans for sha, _ in entries}
    digest = hashlib.sha1()

    def out(chunk: bytes) -> int:
        f.write(chunk)
        digest.update(chunk)
        return len(chunk)

    position = sum(out(chunk) for chunk in pack_header_chunks(len(unique)))
    for pack, entries in plans:
        with open(pack, "rb") as source:
            data = mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ)
            try:
                ends = [offset for _, offset in entries[1:]] + [len(data) - 20]
                for (sha, offset), end in zip(entries, ends, strict=True):
                    if sha in written or sha in deltas:
                        continue
                    if (data[offset] >> 4) & 7 not in _WHOLE_TYPES:
                        deltas[sha] = None
                        continue
                    raw = data[offset:end]
                    written[sha] = (position, binascii.crc32(raw))
                    position += out(raw)
            finally:
                data.close()
    for sha in deltas:
        if sha not in written:
            obj = store.object_store[ObjectID(binascii.hexlify(sha))]
            raw = b"".join(pack_object_chunks(obj.type_num, obj.as_raw_chunks(), SHA1))
            written[sha] = (position, binascii.crc32(raw))
            position += out(raw)
    checksum = digest.digest()
    f.write(checksum)
    return written, checksum


class RefMoved(StoreError):
    """`main` is not where we expected it: someone else moved it."""


class Store:
    """A gitflywheel store: a git repository whose history is on `main`."""

    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        self.path = Path(repo.controldir())
        self._cache: OrderedDict[bytes, ShaFile] = OrderedDict()

    # -- opening -----------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Store:
        """Open an existing store; a path that is not a git repository is refused."""
        where = Path(path)
        if not where.exists():
            raise StoreError(f"{where}: no store here (run `gitflywheel init` or ingest)")
        try:
            repo = Repo(str(where))
        except NotGitRepository:
            raise StoreError(f"{where}: not a git repository, so not a store") from None
        return cls(repo)

    @classmethod
    def create(cls, path: str | os.PathLike[str]) -> Store:
        """Create a new bare repository with HEAD on `main`."""
        where = Path(path)
        if where.exists() and any(where.iterdir()):
            raise StoreError(f"{where}: exists and is not empty, so not a new store")
        where.mkdir(parents=True, exist_ok=True)
        repo = Repo.init_bare(str(where), default_branch=b"main")
        return cls(repo)

    def close(self) -> None:
        self.repo.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -----------------------------------------------------------------------

    def tip(self) -> bytes | None:
        """The commit `main` points at, or None for a store with no history."""
        try:
            return self.repo.refs[MAIN]
        except KeyError:
            return None

    def __getitem__(self, sha: bytes) -> ShaFile:
        return self._get(sha)

    def _get(self, sha: bytes) -> ShaFile:
        """An object, through a small LRU cache: verify and queries read the same trees
        and blobs several times in a row."""
        obj = self._cache.get(sha)
        if obj is not None:
            self._cache.move_to_end(sha)
            return obj
        obj = self.repo.object_store[ObjectID(sha)]
        self._cache[sha] = obj
        if len(self._cache) > _CACHE_OBJECTS:
            self._cache.popitem(last=False)
        return obj

    def __contains__(self, sha: bytes) -> bool:
        return ObjectID(sha) in self.repo.object_store

    def commit(self, sha: bytes) -> Commit:
        obj = self._get(sha)
        if not isinstance(obj, Commit):
            raise StoreError(f"{sha.decode()}: not a commit")
        return obj

    def tree(self, sha: bytes) -> Tree:
        obj = self._get(sha)
        if not isinstance(obj, Tree):
            raise StoreError(f"{sha.decode()}: not a tree")
        return obj

    def raw(self, sha: bytes) -> tuple[str, bytes]:
        """An object's type (commit, tree, blob, tag) and its bytes, as stored, unparsed:
        what the checks of untrusted objects read."""
        type_num, data = self.repo.object_store.get_raw(ObjectID(sha))
        return _TYPE_NAMES.get(type_num, str(type_num)), data

    def blob(self, sha: bytes) -> bytes:
        obj = self._get(sha)
        if not isinstance(obj, Blob):
            raise StoreError(f"{sha.decode()}: not a blob")
        return obj.as_raw_string()

    def lookup(self, tree_id: bytes, path: str) -> tuple[int, bytes] | None:
        """(mode, id) of `path` inside a tree, or None."""
        mode, sha = TREE_MODE, tree_id
        for part in path.split("/"):
            if mode != TREE_MODE:
                return None
            tree = self.tree(sha)
            key = part.encode()
            if key not in tree:
                return None
            mode, sha = tree[key]
        return mode, sha

    def first_parent_chain(self, start: bytes | None = None) -> Iterator[Commit]:
        """Commits from `start` (default: the tip) back along first parents."""
        sha = start if start is not None else self.tip()
        while sha is not None:
            commit = self.commit(sha)
            yield commit
            sha = commit.parents[0] if commit.parents else None

    def side_commits(self, ours: bytes, theirs: bytes) -> list[bytes]:
        """Commits reachable from `theirs` but not from `ours`, parents before children:
        what a merge of `theirs` into `ours` brings."""
        from dulwich.walk import ORDER_TOPO, Walker

        walker = Walker(
            self.repo.object_store,
            [ObjectID(theirs)],
            exclude=[ObjectID(ours)],
            order=ORDER_TOPO,
            reverse=True,
        )
        return [bytes(entry.commit.id) for entry in walker]

    def resolve(self, rev: str) -> bytes:
        """A commit id from a revision: `main`, a full or short id, `main~2`, a tag."""
        return parse_revision(self.repo, rev)

    # -- writing -----------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive writer lock: an flock, released by the kernel if the process dies."""
        fd = os.open(self.path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._clean_leftovers()
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _clean_leftovers(self) -> None:
        """Remove what a killed writer left: our temporary packs, dulwich's, the objects a
        sync was checking, and a pack whose index never landed. We hold the lock, so no
        writer of ours is live; git's own temporary files are left to git."""
        objects = self.path / "objects"
        pack_dir = objects / "pack"
        leftovers = list(pack_dir.glob(f"{_PACK_PREFIX}*")) if pack_dir.is_dir() else []
        for pattern in _DULWICH_LEFTOVERS:
            leftovers += objects.glob(pattern)
        for leftover in leftovers:
            if leftover.is_file():
                leftover.unlink(missing_ok=True)
        work = self.path / WORK_DIR
        if work.is_dir():
            for quarantine in work.glob(f"{QUARANTINE_PREFIX}*"):
                shutil.rmtree(quarantine, ignore_errors=True)
        if pack_dir.is_dir():
            stale = time.time() - _STALE_REF_LOCK_SECONDS
            for pack in pack_dir.glob("pack-*.pack"):
                with contextlib.suppress(FileNotFoundError):
                    if not pack.with_suffix(".idx").exists() and pack.stat().st_mtime < stale:
                        pack.unlink()
                        pack.with_suffix(".idx.lock").unlink(missing_ok=True)

    def write_objects(self, objects: Iterable[ShaFile]) -> int:
        """Write objects as one pack, undeltified; the index lands last, atomically."""
        unique = {obj.id: obj for obj in objects}
        if not unique:
            return 0
        self._write_pack(list(unique.values()))
        if len(self._pack_names()) > _MAX_PACKS:
            self.merge_packs()
        return len(unique)

    def _write_pack(self, objects: list[ShaFile]) -> None:
        self._install_pack(
            lambda f: write_pack_objects(
                f, [(obj, None) for obj in objects], object_format=SHA1, deltify=False
            )
        )

    def _install_pack(
        self, write: Callable[[BinaryIO], tuple[dict[bytes, tuple[int, int]], bytes]]
    ) -> str:
        """Write a pack with `write` to a temporary file, index it, and move both into
        place, the index last: readers never see a pack without its index."""
        pack_dir = self.path / "objects" / "pack"
        pack_dir.mkdir(parents=True, exist_ok=True)
        tmp_pack = pack_dir / f"{_PACK_PREFIX}{os.getpid()}.pack"
        tmp_idx = pack_dir / f"{_PACK_PREFIX}{os.getpid()}.idx"
        try:
            with open(tmp_pack, "wb") as f:
                entries, checksum = write(f)
                f.flush()
                os.fsync(f.fileno())
            index = sorted((sha, offset, crc) for sha, (offset, crc) in entries.items())
            with open(tmp_idx, "wb") as f:
                write_pack_index(f, index, checksum)
                f.flush()
                os.fsync(f.fileno())
            base = pack_dir / f"pack-{checksum.hex()}"
            os.replace(tmp_pack, base.with_suffix(".pack"))
            os.replace(tmp_idx, base.with_suffix(".idx"))
            return base.name
        finally:
            tmp_pack.unlink(missing_ok=True)
            tmp_idx.unlink(missing_ok=True)

    def _pack_names(self) -> list[Path]:
        """Packs that may be merged: indexed, not kept by a `.keep` file, not settled."""
        pack_dir = self.path / "objects" / "pack"
        if not pack_dir.is_dir():
            return []
        return [
            p
            for p in pack_dir.glob("pack-*.pack")
            if p.with_suffix(".idx").exists()
            and not p.with_suffix(".keep").exists()
            and p.stat().st_size < _SETTLED_PACK_BYTES
        ]

    def merge_packs(self, everything: bool = False) -> None:
        """Geometric merge: fold the small packs together so lookups stay fast.

        Packs are sorted by size; the smallest ones that are not each at least twice the
        size of all smaller ones together are merged into one, so a store ends up with
        O(log n) packs and each object is rewritten O(log n) times over its life, as a
        copy of its packed bytes (see _copy_packs). `everything` merges all packs.
        """
        packs = sorted(self._pack_names(), key=lambda p: p.stat().st_size)
        if len(packs) < 2:
            return
        sizes = [p.stat().st_size for p in packs]
        cut, total = 0, 0
        for i, size in enumerate(sizes):
            if i and size < 2 * total:
                cut = i + 1
            total += size
        cut = len(packs) if everything else max(cut, 2)
        chosen = {p.stem for p in packs[:cut]}
        sources = [p for p in packs if p.stem in chosen]
        merged = self._install_pack(lambda f: _copy_packs(self.repo, sources, f))
        self.repo.object_store.close()  # forget the packs about to go
        for name in chosen - {merged}:
            # the index first, so no reader finds a pack it cannot use
            for suffix in (".idx", ".pack", ".rev", ".bitmap", ".mtimes"):
                (self.path / "objects" / "pack" / f"{name}{suffix}").unlink(missing_ok=True)

    def move_main(self, expected: bytes | None, new: bytes) -> None:
        """Compare-and-swap `main` from `expected` to `new`; RefMoved if it moved."""
        refs = self.repo.refs
        delay = 0.005
        started = time.monotonic()
        while True:
            try:
                done = (
                    refs.add_if_new(MAIN, ObjectID(new))
                    if expected is None
                    else refs.set_if_equals(MAIN, ObjectID(expected), ObjectID(new))
                )
                break
            except FileLocked:
                if time.monotonic() - started > 2 * _STALE_REF_LOCK_SECONDS:
                    raise StoreError(
                        f"{self.path}: refs/heads/main is locked by another process"
                    ) from None
                self._remove_stale_ref_lock()
                time.sleep(delay)
                delay = min(delay * 2, 0.2)
        if not done:
            raise RefMoved(
                f"{self.path}: main moved while we worked (now {self._short_tip()}); nothing was lost, run again"
            )

    def _remove_stale_ref_lock(self) -> None:
        """A `main.lock` older than a few seconds was left by a killed process: remove it."""
        lock = self.path / "refs" / "heads" / "main.lock"
        with contextlib.suppress(FileNotFoundError):
            if time.time() - lock.stat().st_mtime > _STALE_REF_LOCK_SECONDS:
                lock.unlink()

    def _short_tip(self) -> str:
        tip = self.tip()
        return tip.decode()[:12] if tip else "nothing"

    def set_ref(self, name: bytes, value: bytes) -> None:
        """Set a ref of gitflywheel's own (not `main`) without a check."""
        self.repo.refs[Ref(name)] = ObjectID(value)

    def read_ref(self, name: bytes) -> bytes | None:
        try:
            return self.repo.refs[Ref(name)]
        except KeyError:
            return None
