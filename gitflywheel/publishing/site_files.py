"""The files of a site build, each put on disk as it is made, so that a build holds
their names and hashes, never their bytes: its memory does not grow with the site.

They are written to a staging folder (beside the site's folder when one is named, so
that `folder_writer` links them into place instead of writing them again), removed by
`close()` or when the files are no longer used. A file that the folder the site goes to
already holds, byte for byte, is not staged at all (`kept`): a build after a small
change writes only what changed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from collections.abc import Iterator, Mapping, Sequence
from hashlib import sha256
from pathlib import Path
from typing import Any, Literal

__all__ = ["SiteFiles", "file_state", "write_whole"]


class SiteFiles(Mapping[str, bytes]):
    """Site path -> bytes, kept in a staging folder; iterated in path order."""

    def __init__(
        self,
        near: Path | None = None,
        reuse: Path | None = None,
        seen: Mapping[str, Sequence[Any]] | None = None,
    ) -> None:
        parent = near if near is not None and near.is_dir() else None
        try:
            self.folder = Path(tempfile.mkdtemp(prefix=".gitflywheel-site-", dir=parent))
        except OSError:  # a folder we may not write beside: the system's temporary one
            self.folder = Path(tempfile.mkdtemp(prefix=".gitflywheel-site-"))
        self.reuse = reuse if reuse is not None and reuse.is_dir() else None
        self._reuse_text = os.path.join(self.reuse, "") if self.reuse is not None else ""
        self.digests: dict[str, str] = {}  # site path -> SHA-256 of its bytes
        self.kept: set[str] = set()  # paths `reuse` holds with these bytes: not staged
        self.seen = seen or {}  # path -> [size, mtime_ns, inode, SHA-256] `reuse` showed
        self.trusted: set[str] = set()  # kept paths that still show what `seen` says
        self._made: set[str] = set()  # the folders of staged files, made already
        self.inherited: tuple[object, ...] = ()  # in a forked worker: the parent's tables
        self._order: list[str] | None = None  # the paths in order, until one comes or goes
        self._remove = weakref.finalize(self, shutil.rmtree, str(self.folder), True)

    def _set(self, path: str, digest: str) -> None:
        if path not in self.digests:
            self._order = None
        self.digests[path] = digest

    def add(self, path: str, data: bytes) -> None:
        self.trusted.discard(path)
        staged = path in self.digests and path not in self.kept
        self._set(path, sha256(data).hexdigest())
        if self.reuse is not None and file_state(self.reuse, path) == data:
            self.kept.add(path)
            if staged:
                self.file(path).unlink()
            return
        self.kept.discard(path)
        folder = path.rpartition("/")[0]
        if folder not in self._made:  # each folder made once, not asked for each file
            os.makedirs(os.path.join(self.folder, folder), exist_ok=True)
            self._made.add(folder)
        _write_file(os.path.join(self.folder, path), data)

    def keep(self, path: str, digest: str) -> bool:
        """Take `path` as the folder `reuse` holds it, without its bytes, when they are
        those of `digest` (SHA-256): by the size, time and inode the last write saw
        (`seen`), else read; False (nothing added) when it holds anything else."""
        if self.reuse is None:
            return False
        seen = self.seen.get(path)
        try:  # a site path's parts are names, joined by `/` as the system joins them
            stat = os.lstat(self._reuse_text + path)
        except OSError:
            return False
        # `seen` as its record reads back (`BuildMemo.folder_state`): a list
        trusted = seen == [stat.st_size, stat.st_mtime_ns, stat.st_ino, digest]
        if not trusted:
            data = file_state(self.reuse, path)
            if not isinstance(data, bytes) or sha256(data).hexdigest() != digest:
                return False
        if path in self.digests and path not in self.kept:
            self.file(path).unlink()
        self._set(path, digest)
        self.kept.add(path)
        if trusted:
            self.trusted.add(path)
        else:
            self.trusted.discard(path)
        return True

    def note(self, path: str, digest: str, kept: bool) -> None:
        """Take `path` as another process (a worker of the same build) added it: staged
        in this folder, or (`kept`) found in `reuse` with these bytes."""
        self._set(path, digest)
        self.trusted.discard(path)
        if kept:
            self.kept.add(path)
        else:
            self.kept.discard(path)

    def forget(self, path: str) -> None:
        """Drop `path` from what this process knows, its file left where it is: a worker
        that handed it to the build's own process."""
        if self.digests.pop(path, None) is not None:
            self._order = None
        self.kept.discard(path)

    def give_folder(self, target: Path, mode: int) -> bool:
        """Make the staging folder `target` (which must not exist), with `mode`, when it
        holds every file of the build (none was kept from `reuse`): a site written to a
        new folder is its staged files, moved once, not linked again one by one. The
        files are read from `target` after (`moved`), and `close()` no longer removes
        them. False, and nothing moved, when it cannot be (another file system)."""
        if self.kept:
            return False
        try:
            os.chmod(self.folder, mode)
            os.rename(self.folder, target)
        except OSError:
            return False
        self._remove.detach()
        self.folder = target
        return True

    def moved(self, folder: Path) -> None:
        """The folder given (`give_folder`) was moved to `folder`: its files are there."""
        self.folder = folder

    def trusted_state(self) -> dict[str, Sequence[Any]]:
        """What `seen` says of the files kept because they still show it: their state
        after the build, as the folder is written around them, never touching them."""
        return {p: self.seen[p] for p in self.trusted if p in self.kept}

    def forked(self) -> None:
        """In a forked worker: the staging folder is the parent's, which alone removes
        it; the files the worker adds are all it knows of (it hands them to the parent),
        so that it writes into no table of the parent's (which it would copy whole).
        The parent's tables stay referenced (`inherited`): freed here, each of their
        strings would be written to (its count of references) and so copied."""
        self._remove.detach()
        self.inherited = (self.digests, self.kept, self.trusted, self._order)
        self.digests = {}
        self._order = None
        self.kept = set()
        self.trusted = set()

    def file(self, path: str) -> Path:
        """Where the bytes of `path` are on disk."""
        return self.folder.joinpath(*path.split("/"))

    def __getitem__(self, path: str) -> bytes:
        if path not in self.digests:
            raise KeyError(path)
        if path in self.kept:
            assert self.reuse is not None
            data = file_state(self.reuse, path)
            if not isinstance(data, bytes) or sha256(data).hexdigest() != self.digests[path]:
                raise FileNotFoundError(f"{self.reuse / path}: changed while the site was built")
            return data
        return self.file(path).read_bytes()

    def __contains__(self, path: object) -> bool:
        return path in self.digests

    def __iter__(self) -> Iterator[str]:
        if self._order is None:
            self._order = sorted(self.digests)
        return iter(self._order)

    def __len__(self) -> int:
        return len(self.digests)

    def close(self) -> None:
        """Remove the staging folder (the files cannot be read after)."""
        self._remove()


def file_state(folder: Path, path: str) -> bytes | None | Literal["other"]:
    """The bytes of a regular file at `path` inside `folder`, None when nothing is
    there, "other" for anything else (a folder, a link, a special file; or a folder on
    the way that is a file or a link)."""
    current = folder
    for part in path.split("/")[:-1]:
        current = current / part
        if current.is_symlink() or (current.exists() and not current.is_dir()):
            return "other"
    file = folder / path
    if file.is_symlink() or (file.exists() and not file.is_file()):
        return "other"
    return file.read_bytes() if file.exists() else None


def _write_file(path: str, data: bytes) -> None:
    """`data` as the file `path` (made, or cut to nothing first): three system calls,
    where a Python file object makes six (it asks for the file's size, whether it is a
    terminal, where it is)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def write_whole(path: Path, data: bytes) -> None:
    """Write a cache file whole (a temporary file renamed), or not at all: a cache beside
    the store (cards, rendered Markdown) never holds half a file, and a cache that
    cannot be written only costs the next build its work again."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)
