"""A place apart for what a remote sends, until it is checked.

Like git's receive quarantine: a fetch writes into a repository of its own inside the
store (`<store>/gitflywheel/incoming-*`), which borrows the store's objects (git
alternates), so what we already have is neither fetched again nor copied: a thin pack's
deltas are applied to bases read where they are, and only the objects the store lacks
are kept here, whole (`receive`). Reading through `view` sees both. Only once every check has passed are the new packs moved into
the store, each index after its pack; otherwise, or if the process dies, the folder goes
and the store never held a byte of it. A quarantine holds a lock of its own for as long
as it lives (`StorePaths.quarantine_lock`): the store's writer lock cleans up after a
killed sync, and leaves alone a live one that waits between attempts without that lock.
"""

from __future__ import annotations

import binascii
import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from dulwich.objects import ObjectID, RawObjectID
from dulwich.pack import PackData, PackInflater, UnresolvedDeltas, load_pack_index
from dulwich.refs import Ref
from dulwich.repo import Repo

from .gitdir import QUARANTINE_PREFIX, VERIFIED_REF, StorePaths
from .locks import file_lock
from .objectsize import MAX_OBJECT_BYTES, UnreadablePack, check_loose
from .packs import Packs, packed_entry
from .refs import MAIN
from .store import Store, dulwich_repo
from .writing import Writer

__all__ = ["Quarantine"]


_WHOLE_TYPES = (1, 2, 3, 4)  # commit, tree, blob, tag: in a pack, 6 and 7 are deltas


def _no_reader(sha: bytes) -> tuple[int, bytes]:
    raise KeyError(sha)  # writing one pack and listing loose objects read none


class Quarantine:
    """Objects fetched from a remote, held apart from the store until admitted."""

    def __init__(self, store: Store, max_object_bytes: int = MAX_OBJECT_BYTES) -> None:
        self.store = store
        self.max_object_bytes = max_object_bytes  # the largest object a fetch may bring
        work = store.paths.work
        work.mkdir(exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=QUARANTINE_PREFIX, dir=work))
        # Made under the store's writer lock, so no cleanup sees it before it is held.
        self._alive = contextlib.ExitStack()
        self._alive.enter_context(file_lock(StorePaths(self.path).quarantine_lock))
        repo = Repo.init_bare(str(self.path), default_branch=b"main")
        repo.object_store.add_alternate_path(str((store.path / "objects").resolve()))
        tip = store.tip()
        if tip is not None:
            # The fetch tells the remote what we have from the heads of the repository it
            # writes to: ours.
            repo.refs[MAIN] = ObjectID(tip)
        self._repo = repo
        self.view = Store(repo)

    def __enter__(self) -> Quarantine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()

    @contextlib.contextmanager
    def writing(self) -> Iterator[Writer]:
        """A `Writer` of the objects held here (a sync's merge) and of the view's `main`
        (what verify judges before anything is admitted). It takes no writer lock: whoever
        writes here holds the store's. Its commits are signed as the
        store's git configuration says, not the quarantine's."""
        yield Writer(self.view, dulwich_repo(self.view).refs, signer=self.store.signer)

    def _packs(self) -> list[Path]:
        pack_dir = self.path / "objects" / "pack"
        return sorted(p for p in pack_dir.glob("*.pack") if p.with_suffix(".idx").exists())

    def _loose(self) -> list[Path]:
        objects = self.path / "objects"
        return sorted(
            f for d in objects.iterdir() if len(d.name) == 2 and d.is_dir() for f in d.iterdir()
        )

    def check_loose(self) -> None:
        """Refuse (`objectsize.ObjectTooLarge`) a loose object held here that is over the
        limit, read from its header before it is inflated."""
        for loose in self._loose():
            check_loose(loose, self.max_object_bytes)

    def receive(self, pack: Path) -> None:
        """Keep here, whole and in one pack of their own, the objects of a fetched pack
        that neither the store nor this quarantine has. Its deltas are applied to their
        bases wherever those are (in the pack, here, in the store), and a base from the
        store is read, never copied: an object the store has is not held here, so
        `new_objects` never names it and `admit` never stores it twice. Each object is
        looked up in the packs' indexes, never by reading the store. UnreadablePack when
        a delta's base is nowhere; ChecksumMismatch (dulwich's) when the pack is damaged."""
        objects = self._repo.object_store  # with the store's objects behind it
        entries: dict[bytes, tuple[int, int]] = {}
        with (
            PackData(str(pack), object_format=objects.object_format) as data,
            tempfile.TemporaryFile(dir=self.path) as spool,
        ):
            data.check()  # the pack's checksum
            position = 0
            inflated = PackInflater.for_pack_data(data, resolve_ext_ref=objects.get_raw)
            in_either = self._in_either()
            try:
                for obj in inflated:
                    sha = binascii.unhexlify(obj.id)
                    if sha in entries or in_either(sha):
                        continue
                    raw = packed_entry(obj.type_num, obj.as_raw_string())
                    entries[sha] = (position, binascii.crc32(raw))
                    spool.write(raw)
                    position += len(raw)
            except UnresolvedDeltas as exc:
                raise UnreadablePack(
                    f"deltas on {len(exc.shas)} object(s) that neither it nor this store holds"
                ) from None
            if entries:
                Packs(self.path / "objects", _no_reader).write_spooled(spool, entries)

    def _in_either(self) -> Callable[[bytes], bool]:
        """Whether this quarantine or the store holds an object (by its binary id)."""
        return self._lookup(here_too=True)

    def _lookup(self, here_too: bool) -> Callable[[bytes], bool]:
        """Whether the store (and, `here_too`, this quarantine) holds an object, by its
        binary id: asked of their packs' indexes and loose objects as they are now, each
        listed once (not again for each object, as dulwich does for an object it lacks).
        Packs another writer merged away while a sync waited are forgotten first."""
        self._repo.object_store.close()
        self.store.release_packs()
        packs = list(dulwich_repo(self.store).object_store.packs)
        folders = [self.store.path]
        if here_too:
            packs += self._repo.object_store.packs
            folders.append(self.path)
        loose = {
            binascii.unhexlify(path.parent.name + path.name)
            for folder in folders
            for path in Packs(folder / "objects", _no_reader).loose_objects()
        }

        def has(sha: bytes) -> bool:
            return sha in loose or any(RawObjectID(sha) in pack for pack in packs)

        return has

    def new_objects(self) -> Iterator[bytes]:
        """The ids of every object held here (not those borrowed from the store)."""
        for pack in self._repo.object_store.packs:
            for sha in pack:
                yield bytes(sha)
        for loose in self._loose():
            yield (loose.parent.name + loose.name).encode()

    def held(self) -> frozenset[Path]:
        """The files of objects held here now: what `drop_since` keeps."""
        return frozenset((*self._packs(), *self._loose()))

    def drop_since(self, held: frozenset[Path], main: bytes | None) -> None:
        """Forget the objects written here since `held` was taken (a merge a sync drops
        because its push lost a race) and what verify judged of them, and set the view's
        `main` back to `main`."""
        refs = dulwich_repo(self.view).refs
        if main is None:
            refs.remove_if_equals(MAIN, None)
        else:
            refs[MAIN] = ObjectID(main)
        refs.remove_if_equals(Ref(VERIFIED_REF), None)
        StorePaths(self.path).verify_index.unlink(missing_ok=True)
        for path in (*self._packs(), *self._loose()):
            if path not in held:
                path.unlink(missing_ok=True)
                if path.suffix == ".pack":
                    path.with_suffix(".idx").unlink(missing_ok=True)

    def remember_fetched(self, sha: bytes) -> None:
        """Say in the next fetch that we have `sha` and all it reaches (fetched already)."""
        dulwich_repo(self.view).refs[Ref(b"refs/heads/fetched")] = ObjectID(sha)

    def admit(self) -> None:
        """Move the checked objects into the store, each pack's index after its pack.
        What the store came to hold meanwhile (another writer landed it while a sync
        waited between attempts, without the writer lock) is left out, not stored twice."""
        in_store = self._lookup(here_too=False)
        self._repo.object_store.close()
        objects = self.store.path / "objects"
        (objects / "pack").mkdir(parents=True, exist_ok=True)
        for found in self._packs():
            pack = self._without(found, in_store)
            if pack is None:
                continue
            index = pack.with_suffix(".idx")
            if (objects / "pack" / index.name).exists():
                continue  # the store has these very objects already
            os.replace(pack, objects / "pack" / pack.name)
            os.replace(index, objects / "pack" / index.name)
        for loose in self._loose():
            if in_store(binascii.unhexlify(loose.parent.name + loose.name)):
                continue
            (objects / loose.parent.name).mkdir(exist_ok=True)
            os.replace(loose, objects / loose.parent.name / loose.name)

    def _without(self, pack: Path, in_store: Callable[[bytes], bool]) -> Path | None:
        """`pack`, or a pack of its objects the store does not hold (None: it holds them
        all). The packs here hold whole objects (`receive` and `Writer` write no deltas),
        so each is copied as its packed bytes; one with a delta is kept as it is."""
        index = load_pack_index(str(pack.with_suffix(".idx")), self._repo.object_format)
        try:
            listed = sorted((int(at), bytes(sha), crc) for sha, at, crc in index.iterentries())
        finally:
            index.close()
        if not any(in_store(sha) for _, sha, _ in listed):
            return pack
        entries: dict[bytes, tuple[int, int]] = {}
        end = pack.stat().st_size - 20
        with open(pack, "rb") as source, tempfile.TemporaryFile(dir=self.path) as spool:
            for k, (at, sha, crc) in enumerate(listed):
                if in_store(sha):
                    continue
                source.seek(at)
                raw = source.read((listed[k + 1][0] if k + 1 < len(listed) else end) - at)
                if (raw[0] >> 4) & 7 not in _WHOLE_TYPES:
                    return pack
                entries[sha] = (spool.tell(), crc if crc is not None else binascii.crc32(raw))
                spool.write(raw)
            kept = (
                Packs(self.path / "objects", _no_reader).write_spooled(spool, entries)
                if entries
                else None
            )
        for suffix in (".idx", ".pack"):
            pack.with_suffix(suffix).unlink()
        return None if kept is None else pack.parent / f"{kept}.pack"

    def discard(self) -> None:
        """Forget everything held here."""
        self.view.close()
        shutil.rmtree(self.path, ignore_errors=True)
        self._alive.close()
