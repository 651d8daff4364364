"""Writing a store: the one place that makes commits and moves `main` or a branch.

`with store.writing() as w:` holds the store's writer lock for the block. Blobs, trees
and commits are staged in memory and can be read back at once (`tree`, `blob`); a
`flush` writes everything staged as one pack, its index last, then moves `main` by
compare-and-swap from where this writer last saw it; `move_branch` does the same for a
branch other than `main` (a site's). What is staged and not flushed is dropped: an
exception inside the block writes nothing more. A rule for every commit gitflywheel
makes has this one place to go: each is signed here when the store's git configuration
asks for it (`signing`).
"""

from __future__ import annotations

import binascii
import contextlib
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from dulwich.errors import RefFormatError
from dulwich.file import FileLocked
from dulwich.objects import ObjectID
from dulwich.refs import Ref, RefsContainer

from ..errors import StoreError
from .commits import make_commit
from .objects import BLOB_TYPE, COMMIT_TYPE, TREE_TYPE, TreeEntry, blob_id, parse_tree
from .packs import packed_entry, unpacked_entry
from .refs import MAIN, BadRefName, RefMoved, branch_name_problem
from .signing import Signer
from .trees import TreeEditor

if TYPE_CHECKING:  # a Store makes its writers: the type only, no import cycle
    from .store import Store

__all__ = ["Writer"]

_STALE_REF_LOCK_SECONDS = 5.0


class Writer:
    """Stages objects and commits for one store and lands them; made by `Store.writing`
    (which holds the writer lock) or `Quarantine.writing` (under the store's lock)."""

    def __init__(
        self,
        store: Store,
        refs: RefsContainer,
        skip_stored: bool = False,
        signer: Callable[[], Signer | None] | None = None,
        merge_beside: bool = False,
    ) -> None:
        self.store = store
        self._merge_beside = merge_beside  # see `Store.writing`
        # who signs every commit staged here (`signing`): asked at the first commit, so a
        # writer that makes none never reads the signing configuration
        self._signer_source = signer
        self._signer: Signer | None = None
        self._signer_known = signer is None
        self._refs = refs
        self.main = store.tip()  # where `main` is, as far as this writer knows
        self._skip_stored = skip_stored
        self._objects: dict[bytes, tuple[int, bytes]] = {}  # hex id -> (type, bytes)
        self._packed: dict[bytes, bytes] = {}  # hex id -> `packs.packed_entry`

    # -- staging -----------------------------------------------------------------------

    def put_blob(self, data: bytes) -> bytes:
        """Stage a blob; its id."""
        sha = blob_id(data)
        self._objects.setdefault(sha, (BLOB_TYPE, data))
        return sha

    def put_packed(self, entries: Mapping[bytes, bytes]) -> None:
        """Stage objects packed already (hex id -> `packs.packed_entry`): the blobs that
        planning workers compressed, so the writer does not do it again."""
        self._packed.update(entries)

    def edit(self, root: bytes | None) -> TreeEditor:
        """A tree editor on `root` (None: an empty tree), reading through this writer."""
        return TreeEditor(self.tree, root)

    def write_tree(self, editor: TreeEditor) -> bytes:
        """Stage the trees an editor changed; the id of its root."""
        root, made = editor.write_raw()
        for sha, raw in made:
            self._packed[sha] = packed_entry(TREE_TYPE, raw)
        return root

    def commit(
        self,
        tree: bytes,
        parents: list[bytes],
        message: bytes,
        author: bytes,
        authored: datetime | None,
        committed: int,
    ) -> bytes:
        """Stage a commit (see `commits.make_commit` for its dates and committer), signed
        when the store's git configuration asks for it; its id."""
        if not self._signer_known:
            assert self._signer_source is not None
            self._signer = self._signer_source()
            self._signer_known = True
        made = make_commit(tree, parents, message, author, authored, committed, self._signer)
        self._objects[made.id] = (COMMIT_TYPE, made.raw)
        return made.id

    # -- reading, what is staged first -------------------------------------------------

    def _staged(self, sha: bytes) -> tuple[int, bytes] | None:
        found = self._objects.get(sha)
        if found is not None:
            return found
        entry = self._packed.get(sha)
        return None if entry is None else ((entry[0] >> 4) & 7, unpacked_entry(entry))

    def tree(self, sha: bytes) -> tuple[TreeEntry, ...]:
        """A tree's entries, staged or stored."""
        staged = self._staged(sha)
        if staged is None:
            return self.store.tree(sha)
        if staged[0] != TREE_TYPE:
            raise StoreError(f"{sha.decode()}: not a tree")
        return parse_tree(staged[1])

    def blob(self, sha: bytes) -> bytes:
        """A blob's bytes, staged or stored."""
        staged = self._staged(sha)
        if staged is None:
            return self.store.blob(sha)
        if staged[0] != BLOB_TYPE:
            raise StoreError(f"{sha.decode()}: not a blob")
        return staged[1]

    # -- landing -----------------------------------------------------------------------

    def flush(self, main: bytes | None = None) -> None:
        """Write what is staged as one pack, then move `main` to `main` (if given and not
        there already) by compare-and-swap from where this writer last saw it: RefMoved,
        and `main` left alone, if someone else moved it meanwhile."""
        self._write()
        if main is not None and main != self.main:
            self._swap_main(main)
            self.main = main

    def move_branch(self, name: bytes, expected: bytes | None, new: bytes) -> None:
        """Write what is staged as one pack, then move a branch that is not `main` (a
        site's) from `expected` to `new`; RefMoved if someone else moved it, BadRefName
        (before anything is written) for a name `git check-ref-format --branch` refuses."""
        shown = name.decode("utf-8", "replace")
        if name == MAIN or not name.startswith(b"refs/heads/"):
            raise StoreError(f"{shown}: not a branch gitflywheel may move")
        problem = branch_name_problem(shown.removeprefix("refs/heads/"))
        if problem is not None:  # refused before anything is written
            raise BadRefName(f"{shown!r}: not a branch name git accepts: {problem}")
        self._write()
        refs = self._refs
        ref = Ref(name)
        try:
            done = (
                refs.add_if_new(ref, ObjectID(new))
                if expected is None
                else refs.set_if_equals(ref, ObjectID(expected), ObjectID(new))
            )
        except FileLocked:
            done = False
        except RefFormatError:  # dulwich's rules, should they ever be stricter than ours
            raise BadRefName(f"{shown!r}: not a ref name git accepts") from None
        if not done:
            raise RefMoved(
                f"{self.store.path}: {name.decode('utf-8', 'replace')} moved while we worked; nothing was lost, run again"
            )

    def _write(self) -> None:
        entries = {
            binascii.unhexlify(sha): packed_entry(type_num, data)
            for sha, (type_num, data) in self._objects.items()
        }
        for sha, raw in self._packed.items():
            entries.setdefault(binascii.unhexlify(sha), raw)
        if self._skip_stored:
            entries = {
                sha: raw for sha, raw in entries.items() if binascii.hexlify(sha) not in self.store
            }
        self.store._write_pack(entries, self._merge_beside)
        self._objects.clear()
        self._packed.clear()

    def _swap_main(self, new: bytes) -> None:
        """Compare-and-swap `main` from `self.main` to `new`; RefMoved if it moved. A
        `main.lock` a killed process left is removed once it is a few seconds old."""
        refs = self._refs
        expected = self.main
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
                        f"{self.store.path}: refs/heads/main is locked by another process"
                    ) from None
                self._remove_stale_ref_lock()
                time.sleep(delay)
                delay = min(delay * 2, 0.2)
        if not done:
            tip = self.store.tip()
            now = tip.decode()[:12] if tip else "nothing"
            raise RefMoved(
                f"{self.store.path}: main moved while we worked (now {now}); nothing was lost, run again"
            )

    def _remove_stale_ref_lock(self) -> None:
        lock = self.store.path / "refs" / "heads" / "main.lock"
        with contextlib.suppress(FileNotFoundError):
            if time.time() - lock.stat().st_mtime > _STALE_REF_LOCK_SECONDS:
                lock.unlink()
