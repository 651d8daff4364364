"""The git store, over dulwich: open it, read it, and the mechanics a writer stands on.

Readers get bytes, ids and our own frozen values (`objects`): a commit is a
`CommitInfo`, a tree a tuple of `TreeEntry`, a blob its bytes. Writing goes through
`Store.writing()` (`writing.Writer`): objects land as one pack (the pack files are
`packs`' business) and refs move by compare-and-swap, under a lock that dies with its
process. The dulwich repository stays inside the storage folder: its modules that speak
git's protocols or config reach it through `dulwich_repo`.
"""

from __future__ import annotations

import binascii
import contextlib
import mmap
import os
import re
import shutil
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from pathlib import Path

from dulwich.errors import NotGitRepository, ObjectFormatException, RefFormatError
from dulwich.objects import Commit, ObjectID, RawObjectID
from dulwich.pack import Pack, PackFileDisappeared
from dulwich.refs import Ref
from dulwich.repo import Repo

from ..errors import StoreError
from .commits import committer_identity
from .gitdir import StorePaths
from .locks import file_lock, file_lock_if_free
from .objects import (
    BLOB_TYPE,
    COMMIT_TYPE,
    TREE_TYPE,
    TYPE_NAMES,
    CommitInfo,
    MalformedObject,
    TreeEntry,
    check_parses,
    parse_commit,
    parse_tree,
)
from .packs import MAX_PACKS, MergeBeside, MergeResult, PackLayout, Packs, whole_entry_at
from .refs import HEAD, MAIN, BadRefName, RefMoved
from .signing import Signer, signer_from_config
from .trees import TREE_MODE
from .writing import Writer

__all__ = [
    "MAIN",
    "Store",
    "RefMoved",
    "RevisionError",
    "parse_revision",
    "resolve_revision",
]

_CACHE_OBJECTS = 4096
_CACHE_BYTES = 16 * 1024 * 1024  # of the objects' stored bytes: a reader of every large
# blob (a site reading each session's facts) keeps a few MB, not thousands of blobs

# What the cache holds of an object, by type: a CommitInfo, a tree's entries, a blob's
# bytes, or None (a tag: it parses, and nothing reads it further).
_Parsed = CommitInfo | tuple[TreeEntry, ...] | bytes | None


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
    from dulwich.objects import Tag
    from dulwich.objectspec import AmbiguousShortId
    from dulwich.objectspec import parse_commit as find_commit

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
        sha = bytes(find_commit(repo, base.encode()).id)
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


def dulwich_repo(store: Store) -> Repo:
    """The dulwich repository under a store: for the storage modules that speak git's
    protocols or read its config (transport, remote_url, quarantine), nobody else."""
    return store._repo


class _ReaderOfItsOwn:
    """Objects read through a Store of its own (`Store.reopened`), opened at the first
    read: what a merge written beside the writer reads the deltas of git's packs
    through, never the writer's open packs (`packs.OwnReader`)."""

    def __init__(self, store: Store) -> None:
        self._of = store
        self._store: Store | None = None

    def __call__(self, sha: bytes) -> tuple[int, bytes]:
        if self._store is None:
            self._store = self._of.reopened()
        return self._store._read(sha)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


def _whole_in(pack: Pack, binary: RawObjectID) -> tuple[int, bytes] | None:
    """An object the pack holds whole, read without dulwich's general reader (which
    costs two thirds as much again per object); None when it holds it as a delta or does
    not read cleanly. KeyError when the pack does not hold it."""
    offset = pack.index.object_offset(binary)
    try:
        contents = pack.data._buffer()
    except (AttributeError, ValueError):  # another dulwich, or a closed pack: its reader
        return None
    return whole_entry_at(contents, offset)


class Store:
    """A gitflywheel store: a git repository whose history is on `main`."""

    def __init__(self, repo: Repo) -> None:
        self._repo = repo
        self.path = Path(repo.controldir())
        self.paths = StorePaths(self.path)
        self._cache: OrderedDict[bytes, tuple[int, _Parsed]] = OrderedDict()
        self._cache_sizes: dict[bytes, int] = {}  # sha -> the bytes it was parsed from
        self._cache_bytes = 0
        self._packs = Packs(self.path / "objects", self._raw_by_number)
        self._readers: list[Pack] | None = None  # the packs read from, last answered first
        self._merging: MergeBeside | None = None  # a merge a writer's thread is writing

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

    def reopened(self) -> Store:
        """Another Store on the same repository, with its own pack files, maps and cache:
        what a forked process reads through, never its parent's open files (a file
        offset is shared between the two processes, so their reads would mix)."""
        return type(self)(Repo(self._repo.path))

    def close(self) -> None:
        self._repo.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -----------------------------------------------------------------------

    def tip(self) -> bytes | None:
        """The commit `main` points at, or None for a store with no history."""
        return self.read_ref(MAIN)

    def _get(self, sha: bytes) -> tuple[int, _Parsed]:
        """An object's type number and its parsed value, through a small LRU cache (in
        objects and in bytes): verify and queries read the same trees and blobs several
        times in a row. KeyError
        if the store lacks it, MalformedObject if it does not parse as its type."""
        found = self._cache.get(sha)
        if found is not None:
            self._cache.move_to_end(sha)
            return found
        type_num, data = self._read(sha)
        value: _Parsed
        if type_num == COMMIT_TYPE:
            value = parse_commit(sha, data)
        elif type_num == TREE_TYPE:
            value = parse_tree(data)
        elif type_num == BLOB_TYPE:
            value = data
        else:
            check_parses(type_num, sha, data)
            value = None
        self._cache[sha] = found = type_num, value
        self._cache_sizes[sha] = len(data)
        self._cache_bytes += len(data)
        while len(self._cache) > _CACHE_OBJECTS or (
            self._cache_bytes > _CACHE_BYTES and len(self._cache) > 1
        ):
            old, _ = self._cache.popitem(last=False)
            self._cache_bytes -= self._cache_sizes.pop(old)
        return found

    def release_packs(self) -> None:
        """Close the pack files read so far; the next read opens them again. A reader of
        the whole store (verify) calls this now and then, so that the pages of packs it
        has read do not all stay in its resident set (they stay in the page cache)."""
        self._forget_packs()

    def release_pack_pages(self) -> None:
        """Drop the pages of pack data read so far from this process's resident set,
        the packs kept open: what a reader of the whole store calls often, and
        `release_packs` now and then. Each object's bytes are read about once, so
        their pages are dropped at no cost; the indexes' pages, which every lookup reads
        again (a fault each when they were dropped), stay until `release_packs`."""
        if not hasattr(mmap, "MADV_DONTNEED"):  # pragma: no cover - not Linux
            return
        for pack in self._readers or ():
            contents = getattr(pack, "_data", None) and getattr(pack._data, "_contents", None)
            if isinstance(contents, mmap.mmap) and not contents.closed:
                contents.madvise(mmap.MADV_DONTNEED)

    def _forget_packs(self) -> None:
        """Close the packs: after a write or merge, and to release their maps."""
        self._repo.object_store.close()
        self._readers = None

    def _read(self, sha: bytes) -> tuple[int, bytes]:
        """An object's type number and bytes. The pack that answered last is asked first:
        a walk of the history reads objects that were written together. An object a pack
        holds whole is inflated straight from its mapping, never past the size its header
        gives; a delta goes to dulwich's reader. What no pack known so far holds (a loose
        object, a pack written or merged since, a pack gone) is looked up as dulwich
        does, which looks again at the folder of packs."""
        readers = self._readers
        if readers is None:
            readers = self._readers = list(self._repo.object_store.packs)
        binary = RawObjectID(binascii.unhexlify(sha))
        for at, pack in enumerate(readers):
            try:
                found = _whole_in(pack, binary) or pack.get_raw(binary)
            except KeyError:
                continue
            except (PackFileDisappeared, OSError):
                break
            if at:
                readers.insert(0, readers.pop(at))
            return found
        self._readers = None
        try:
            return self._repo.object_store.get_raw(ObjectID(sha))
        except ObjectFormatException as exc:  # a loose object whose header does not parse
            raise MalformedObject(str(exc)) from None

    def __contains__(self, sha: bytes) -> bool:
        return ObjectID(sha) in self._repo.object_store

    def commit(self, sha: bytes) -> CommitInfo:
        """A commit; KeyError if the store lacks it, StoreError if it is no commit or
        does not parse as one (MalformedObject)."""
        type_num, value = self._get(sha)
        if not isinstance(value, CommitInfo):
            raise StoreError(f"{sha.decode()}: not a commit")
        return value

    def tree(self, sha: bytes) -> tuple[TreeEntry, ...]:
        """A tree's entries (name, mode, id), in git's tree order; KeyError if the store
        lacks it, StoreError if it is no tree or does not parse as one."""
        type_num, value = self._get(sha)
        if type_num != TREE_TYPE or not isinstance(value, tuple):
            raise StoreError(f"{sha.decode()}: not a tree")
        return value

    def raw(self, sha: bytes) -> tuple[str, bytes]:
        """An object's type (commit, tree, blob, tag) and its bytes, as stored, unparsed:
        what the checks of untrusted objects read."""
        type_num, data = self._read(sha)
        return TYPE_NAMES.get(type_num, str(type_num)), data

    def object_type(self, sha: bytes) -> str:
        """An object's type (commit, tree, blob, tag), once its bytes parse as one:
        KeyError if the store lacks it, MalformedObject if they do not parse."""
        type_num, _ = self._get(sha)
        return TYPE_NAMES.get(type_num, str(type_num))

    def _raw_by_number(self, sha: bytes) -> tuple[int, bytes]:
        return self._read(sha)

    def blob(self, sha: bytes) -> bytes:
        type_num, value = self._get(sha)
        if type_num != BLOB_TYPE or not isinstance(value, bytes):
            raise StoreError(f"{sha.decode()}: not a blob")
        return value

    def entries(self, tree_id: bytes) -> list[tuple[bytes, int, bytes]]:
        """A tree's entries as (name, mode, id), in git's tree order."""
        return list(self.tree(tree_id))

    def lookup(self, tree_id: bytes, path: str) -> tuple[int, bytes] | None:
        """(mode, id) of `path` inside a tree, or None."""
        mode, sha = TREE_MODE, tree_id
        for part in path.split("/"):
            if mode != TREE_MODE:
                return None
            key = part.encode()
            found = next((entry for entry in self.tree(sha) if entry.name == key), None)
            if found is None:
                return None
            mode, sha = found.mode, found.id
        return mode, sha

    def first_parent_chain(self, start: bytes | None = None) -> Iterator[CommitInfo]:
        """Commits from `start` (default: the tip) back along first parents."""
        sha = start if start is not None else self.tip()
        while sha is not None:
            commit = self.commit(sha)
            yield commit
            sha = commit.parents[0] if commit.parents else None

    def side_commits(self, ours: bytes, theirs: bytes) -> list[bytes]:
        """Commits reachable from `theirs` but not from `ours`, parents before children:
        what a merge of `theirs` into `ours` brings. MalformedObject if one does not
        parse; KeyError if one is missing."""
        from dulwich.walk import ORDER_TOPO, Walker

        try:
            walker = Walker(
                self._repo.object_store,
                [ObjectID(theirs)],
                exclude=[ObjectID(ours)],
                order=ORDER_TOPO,
                reverse=True,
            )
            return [bytes(entry.commit.id) for entry in walker]
        except ObjectFormatException as exc:
            raise MalformedObject(str(exc)) from None

    def resolve(self, rev: str) -> bytes:
        """A commit id from a revision: `main`, a full or short id, `main~2`, a tag."""
        return parse_revision(self._repo, rev)

    def ref_names(self) -> list[bytes]:
        """Every ref the store has (`HEAD` too), sorted."""
        return sorted(bytes(ref) for ref in self._repo.refs.allkeys())

    def read_ref(self, name: bytes) -> bytes | None:
        """Where a ref points (symbolic refs followed), or None when it is not set."""
        try:
            return bytes(self._repo.refs[Ref(name)])
        except KeyError:
            return None

    def is_bare(self) -> bool:
        """Whether this is a bare repository, as its layout and `core.bare` both say."""
        try:
            said = self._repo.get_config().get_boolean((b"core",), b"bare", self._repo.bare)
        except ValueError:
            said = self._repo.bare
        return bool(said) and self._repo.bare

    def config_get(self, key: str) -> str | None:
        """A value of the store's git config (`section.name` or `section.sub.name`),
        or None when it is not set."""
        section, name = _config_key(key)
        try:
            return os.fsdecode(self._repo.get_config().get(section, name))
        except KeyError:
            return None

    # -- writing -----------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive writer lock, released by the kernel if the process dies."""
        with file_lock(self.paths.writer_lock):
            self._clean_leftovers()
            try:
                yield
            except BaseException:
                with contextlib.suppress(Exception):  # its packs are left as they were
                    self._land_merge()
                raise
            self._land_merge()

    @contextlib.contextmanager
    def writing(self, skip_stored: bool = False, merge_beside: bool = False) -> Iterator[Writer]:
        """The one way to add commits and move `main` or a branch: a `Writer`, for as long
        as the block runs, under the writer lock. What it stages and does not flush is
        dropped, so an exception inside the block writes nothing more. `skip_stored`:
        objects the store holds already are not written again (a lookup each: for
        writers of few objects that repeat, such as a site's build). `merge_beside`: the
        merges its packs call for are written by a thread beside it, so that a long
        writer (ingest) goes on meanwhile; each lands at its next pack or at the end of
        the block, which waits for it."""
        with self.lock():
            yield Writer(self, self._repo.refs, skip_stored, self.signer, merge_beside)

    def signer(self) -> Signer | None:
        """Who signs this store's commits, as git reads its configuration (the store's,
        the user's, the system's: `commit.gpgsign`, `gpg.format`, `user.signingkey`), or
        None; SigningError when that configuration asks for what cannot be done."""
        return signer_from_config(self._repo.get_config_stack(), committer_identity())

    def _clean_leftovers(self) -> None:
        """Remove what a killed writer left: temporary and unindexed packs, and the
        objects a sync was checking. We hold the lock, so no writer of ours is live; a
        quarantine whose own lock is held belongs to a live sync waiting between its
        attempts, and stays."""
        self._packs.clean_leftovers()
        for quarantine in self.paths.quarantines():
            with file_lock_if_free(StorePaths(quarantine).quarantine_lock) as free:
                if free:
                    shutil.rmtree(quarantine, ignore_errors=True)

    def _write_pack(self, entries: Mapping[bytes, bytes], merge_beside: bool = False) -> None:
        """Write objects packed already (binary id -> `packs.packed_entry`) as one pack,
        undeltified; the index lands last, atomically; then merge packs if there are too
        many (`merge_beside`: in a thread, landed here at the next pack once it is done,
        or by the lock at the end). `Writer.flush`'s, nobody else's."""
        if not entries:
            return
        self._packs.write_entries(entries)
        # Drop dulwich's maps of the packs: pages a long writer read would otherwise
        # stay in its resident memory until the pack closes, growing with the store.
        self._forget_packs()
        if self._merging is not None:
            if self._merging.running:
                return  # one merge at a time: the next pack asks again
            self._land_merge()
        if len(self._packs.mergeable()) <= MAX_PACKS:
            return
        if not merge_beside:
            self.merge_packs()
        elif sources := self._packs.merge_sources():
            self._merging = MergeBeside(self._packs, sources, _ReaderOfItsOwn(self))

    def _land_merge(self) -> MergeResult | None:
        """Wait for the merge written beside the writer, if any, and remove what it
        folded; raise what stopped it (its packs left as they were)."""
        merging, self._merging = self._merging, None
        return merging.land(self._forget_packs) if merging is not None else None

    def merge_packs(self, everything: bool = False) -> MergeResult:
        """Fold packs together (geometrically; `everything`: all mergeable packs into
        one) so that lookups stay fast; see `Packs.merge`. Hold the writer lock."""
        self._land_merge()
        return self._packs.merge(everything, forget=self._forget_packs)

    def compact_packs(self, full: bool = False) -> list[MergeResult]:
        """As few packs as the geometric rule allows (`full`: one); see `Packs.compact`.
        Hold the writer lock."""
        self._land_merge()
        return self._packs.compact(full, forget=self._forget_packs)

    def pack_loose_objects(self) -> int:
        """Move loose objects (a push by plain git leaves them) into a pack; how many.
        Hold the writer lock."""
        self._land_merge()
        done = self._packs.pack_loose()
        self._forget_packs()
        return done

    def pack_layout(self) -> PackLayout:
        """The store's packs, loose objects and multi-pack-index, as they are now."""
        return self._packs.layout()

    def config_set(self, key: str, value: str) -> None:
        """Set a value in the store's git config file."""
        section, name = _config_key(key)
        config = self._repo.get_config()
        config.set(section, name, os.fsencode(value))
        config.write_to_path()

    def config_unset(self, key: str) -> bool:
        """Remove a value from the store's git config file; False when it was not set."""
        section, name = _config_key(key)
        config = self._repo.get_config()
        try:
            config.remove(section, name)
        except KeyError:
            return False
        config.write_to_path()
        return True

    def point_head_at_main(self) -> None:
        """Make `HEAD` the symbolic ref `refs/heads/main`, as `git clone` expects."""
        if self._repo.refs.read_ref(HEAD) != b"ref: " + MAIN:
            self._repo.refs.set_symbolic_ref(HEAD, MAIN)

    def set_ref(self, name: bytes, value: bytes) -> None:
        """Set a ref of gitflywheel's own (under `refs/gitflywheel/`, never `main` or a
        branch, which only a `Writer` moves) without a check of where it was. A name git
        would refuse is refused (BadRefName), as dulwich refuses it."""
        try:
            self._repo.refs[Ref(name)] = ObjectID(value)
        except RefFormatError:
            raise BadRefName(
                f"{name.decode('utf-8', 'replace')!r}: not a ref name git accepts"
            ) from None
