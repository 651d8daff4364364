"""The git store, over dulwich: open, read, write objects, move `main` safely.

The narrow surface everything else uses: read blobs and trees, write a batch of objects
as one pack (the pack files themselves are `packs`' business), and move
`refs/heads/main` by compare-and-swap under a lock that dies with its process. Only
store and remote code import dulwich's repository machinery.
"""

from __future__ import annotations

import binascii
import contextlib
import os
import re
import shutil
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from dulwich.errors import NotGitRepository
from dulwich.file import FileLocked
from dulwich.objects import Blob, Commit, ObjectID, RawObjectID, ShaFile, Tree
from dulwich.pack import Pack, PackFileDisappeared
from dulwich.refs import Ref
from dulwich.repo import Repo

from ..errors import StoreError
from .gitdir import StorePaths
from .locks import file_lock
from .packs import MAX_PACKS, MergeResult, PackLayout, Packs, packed_entry
from .trees import TREE_MODE

__all__ = [
    "MAIN",
    "Store",
    "RefMoved",
    "RevisionError",
    "parse_revision",
    "resolve_revision",
]

MAIN = Ref(b"refs/heads/main")
HEAD = Ref(b"HEAD")
_TYPE_NAMES = {1: "commit", 2: "tree", 3: "blob", 4: "tag"}
_CACHE_OBJECTS = 4096
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


def _config_key(key: str) -> tuple[tuple[bytes, ...], bytes]:
    """`remote.origin.url` as dulwich's config wants it: ((b"remote", b"origin"), b"url")."""
    section, _, name = key.rpartition(".")
    first, dot, sub = section.partition(".")
    if not first or not name:
        raise StoreError(f"{key!r}: not a git config key (section.name)")
    return ((first.encode(), os.fsencode(sub)) if dot else (first.encode(),)), name.encode()


class RefMoved(StoreError):
    """`main` is not where we expected it: someone else moved it."""


class Store:
    """A gitflywheel store: a git repository whose history is on `main`."""

    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        self.path = Path(repo.controldir())
        self.paths = StorePaths(self.path)
        self._cache: OrderedDict[bytes, ShaFile] = OrderedDict()
        self._packs = Packs(self.path / "objects", self._raw_by_number)
        self._readers: list[Pack] | None = None  # the packs read from, last answered first

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
        type_num, data = self._read(sha)
        obj = ShaFile.from_raw_string(type_num, data, sha=ObjectID(sha))
        self._cache[sha] = obj
        if len(self._cache) > _CACHE_OBJECTS:
            self._cache.popitem(last=False)
        return obj

    def release_packs(self) -> None:
        """Close the pack files read so far; the next read opens them again. A reader of
        the whole store (verify) calls this now and then, so that the pages of packs it
        has read do not all stay in its resident set (they stay in the page cache)."""
        self._forget_packs()

    def _forget_packs(self) -> None:
        """Close the packs: after a write or merge, and to release their maps."""
        self.repo.object_store.close()
        self._readers = None

    def _read(self, sha: bytes) -> tuple[int, bytes]:
        """An object's type number and bytes. The pack that answered last is asked first:
        a walk of the history reads objects that were written together. What no pack
        known so far holds (a loose object, a pack written or merged since, a pack gone)
        is looked up as dulwich does, which looks again at the folder of packs."""
        readers = self._readers
        if readers is None:
            readers = self._readers = list(self.repo.object_store.packs)
        binary = binascii.unhexlify(sha)
        for at, pack in enumerate(readers):
            try:
                found = pack.get_raw(RawObjectID(binary))
            except KeyError:
                continue
            except (PackFileDisappeared, OSError):
                break
            if at:
                readers.insert(0, readers.pop(at))
            return found
        self._readers = None
        return self.repo.object_store.get_raw(ObjectID(sha))

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
        type_num, data = self._read(sha)
        return _TYPE_NAMES.get(type_num, str(type_num)), data

    def _raw_by_number(self, sha: bytes) -> tuple[int, bytes]:
        return self._read(sha)

    def blob(self, sha: bytes) -> bytes:
        obj = self._get(sha)
        if not isinstance(obj, Blob):
            raise StoreError(f"{sha.decode()}: not a blob")
        return obj.as_raw_string()

    def entries(self, tree_id: bytes) -> list[tuple[bytes, int, bytes]]:
        """A tree's entries as (name, mode, id), in git's tree order."""
        return [(item.path, item.mode, item.sha) for item in self.tree(tree_id).iteritems()]

    @staticmethod
    def blob_id(data: bytes) -> bytes:
        """The id git gives a blob of these bytes (hex)."""
        return Blob.from_string(data).id

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

    def ref_names(self) -> list[bytes]:
        """Every ref the store has (`HEAD` too), sorted."""
        return sorted(bytes(ref) for ref in self.repo.refs.allkeys())

    def is_bare(self) -> bool:
        """Whether this is a bare repository, as its layout and `core.bare` both say."""
        try:
            said = self.repo.get_config().get_boolean((b"core",), b"bare", self.repo.bare)
        except ValueError:
            said = self.repo.bare
        return bool(said) and self.repo.bare

    def config_get(self, key: str) -> str | None:
        """A value of the store's git config (`section.name` or `section.sub.name`),
        or None when it is not set."""
        section, name = _config_key(key)
        try:
            return os.fsdecode(self.repo.get_config().get(section, name))
        except KeyError:
            return None

    # -- writing -----------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive writer lock, released by the kernel if the process dies."""
        with file_lock(self.paths.writer_lock):
            self._clean_leftovers()
            yield

    def _clean_leftovers(self) -> None:
        """Remove what a killed writer left: temporary and unindexed packs, and the
        objects a sync was checking. We hold the lock, so no writer of ours is live."""
        self._packs.clean_leftovers()
        for quarantine in self.paths.quarantines():
            shutil.rmtree(quarantine, ignore_errors=True)

    def write_objects(
        self, objects: Iterable[ShaFile], packed: Mapping[bytes, bytes] | None = None
    ) -> int:
        """Write objects as one pack, undeltified; the index lands last, atomically.
        `packed`: more objects, packed already (hex id -> `packs.packed_entry`)."""
        unique = {binascii.unhexlify(obj.id): obj for obj in objects}
        entries = {
            sha: packed_entry(obj.type_num, obj.as_raw_string()) for sha, obj in unique.items()
        }
        for sha, raw in (packed or {}).items():
            entries.setdefault(binascii.unhexlify(sha), raw)
        if not entries:
            return 0
        self._packs.write_entries(entries)
        # Drop dulwich's maps of the packs: pages a long writer read would otherwise
        # stay in its resident memory until the pack closes, growing with the store.
        self._forget_packs()
        if len(self._packs.mergeable()) > MAX_PACKS:
            self.merge_packs()
        return len(entries)

    def merge_packs(self, everything: bool = False) -> MergeResult:
        """Fold packs together (geometrically; `everything`: all mergeable packs into
        one) so that lookups stay fast; see `Packs.merge`. Hold the writer lock."""
        return self._packs.merge(everything, forget=self._forget_packs)

    def compact_packs(self, full: bool = False) -> list[MergeResult]:
        """As few packs as the geometric rule allows (`full`: one); see `Packs.compact`.
        Hold the writer lock."""
        return self._packs.compact(full, forget=self._forget_packs)

    def pack_loose_objects(self) -> int:
        """Move loose objects (a push by plain git leaves them) into a pack; how many.
        Hold the writer lock."""
        done = self._packs.pack_loose()
        self._forget_packs()
        return done

    def pack_layout(self) -> PackLayout:
        """The store's packs, loose objects and multi-pack-index, as they are now."""
        return self._packs.layout()

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

    def move_branch(self, name: bytes, expected: bytes | None, new: bytes) -> None:
        """Compare-and-swap a branch that is not `main` (a site's branch) from `expected`
        to `new`; RefMoved if someone else moved it. Hold the writer lock."""
        if name == MAIN or not name.startswith(b"refs/heads/"):
            raise StoreError(
                f"{name.decode('utf-8', 'replace')}: not a branch gitflywheel may move"
            )
        ref = Ref(name)
        try:
            done = (
                self.repo.refs.add_if_new(ref, ObjectID(new))
                if expected is None
                else self.repo.refs.set_if_equals(ref, ObjectID(expected), ObjectID(new))
            )
        except FileLocked:
            done = False
        if not done:
            raise RefMoved(
                f"{self.path}: {name.decode('utf-8', 'replace')} moved while we worked; nothing was lost, run again"
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

    def config_set(self, key: str, value: str) -> None:
        """Set a value in the store's git config file."""
        section, name = _config_key(key)
        config = self.repo.get_config()
        config.set(section, name, os.fsencode(value))
        config.write_to_path()

    def point_head_at_main(self) -> None:
        """Make `HEAD` the symbolic ref `refs/heads/main`, as `git clone` expects."""
        if self.repo.refs.read_ref(HEAD) != b"ref: " + MAIN:
            self.repo.refs.set_symbolic_ref(HEAD, MAIN)

    def set_ref(self, name: bytes, value: bytes) -> None:
        """Set a ref of gitflywheel's own (not `main`) without a check."""
        self.repo.refs[Ref(name)] = ObjectID(value)

    def read_ref(self, name: bytes) -> bytes | None:
        try:
            return self.repo.refs[Ref(name)]
        except KeyError:
            return None
