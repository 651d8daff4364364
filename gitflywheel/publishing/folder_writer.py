"""The one way `site OUT` and the blog exports write their files into a folder: checked
whole, then written whole, so that a failure leaves the folder as it was.

The folder's record (the site's marker file, an export's owner file) lists what an
earlier write put there: only those files are replaced or removed, and only while they
are as written; any other file in the way is refused before anything is written. A site
owns its folder: a folder that holds other files and no record is refused, and the new
folder is built in a temporary sibling (the new files, the folder's other files such as
a CNAME linked in; a site's first folder is the build's staging folder itself, moved
once), then swapped into place (a folder that cannot be moved, such as a
mount point, is written as a blog's is), unless a write changes few of its files (at
most one in `FEW`): then, as a blog's folder always is, the new files are staged in a
temporary folder inside it, then each moved into place, its record last; a build
after a small change costs what changed, not the whole folder.
"""

from __future__ import annotations

import os
import secrets
import shutil
import stat
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path

from ..errors import GitflywheelError
from .site_files import SiteFiles, file_state

__all__ = ["FolderChanges", "file_state", "write_folder"]

_STAGING = ".gitflywheel-new-"
FEW = 10  # a write that changes at most 1/FEW of a folder's files moves them in one by one


@dataclass(frozen=True)
class FolderChanges:
    """What a write changed: the files written (new or changed) and removed."""

    written: list[str]
    removed: list[str]


def write_folder(
    folder: Path,
    files: Mapping[str, bytes],
    previous: Mapping[str, str | None] | None,
    *,
    shared: bool,
    error: type[GitflywheelError] = GitflywheelError,
    what: str = "a folder",
    keep: Iterable[str] = (),
    record: str | None = None,
) -> FolderChanges:
    """Make `files` (path inside `folder` -> bytes) the folder's files in place of
    `previous` (path -> SHA-256 of what an earlier write put there, None for any bytes;
    None for no record). A `shared` folder keeps its other files where they are; one
    that is not shared must be new, empty, or hold a record. Refusals raise `error`;
    `what` names the folder's kind in them (`a site`); `keep` lists folders of a
    shared folder that stay when a removal leaves them empty; `record` is the path of the
    folder's record among `files`, moved into place after the others."""
    if folder.exists() and not folder.is_dir():
        raise error(f"{folder}: exists and is not a folder")
    exists = folder.exists()
    if not shared and previous is None and exists and any(folder.iterdir()):
        raise error(
            f"{folder}: a folder that holds other files, not {what} gitflywheel built; "
            "give a new or empty folder"
        )
    ours = dict(previous or {})
    writes: list[str] = []
    clashes: list[str] = []
    # the files the folder held, byte for byte, when the build compared them
    held = files.kept if isinstance(files, SiteFiles) and files.reuse == folder else set()
    for path in sorted(files):
        if path in held:
            continue
        now = file_state(folder, path) if exists else None
        if isinstance(now, bytes) and _same(files, path, now):
            continue
        if now is None or (isinstance(now, bytes) and _is_ours(ours, path, now)):
            writes.append(path)
        else:
            clashes.append(path)
    removals: list[str] = []
    for path in sorted(set(ours) - set(files)):
        now = file_state(folder, path) if exists else None
        if now is None:
            continue
        if isinstance(now, bytes) and _is_ours(ours, path, now):
            removals.append(path)
        else:
            clashes.append(path)
    if clashes:
        shown = ", ".join(str(folder / p) for p in clashes[:5])
        more = f" and {len(clashes) - 5} more" if len(clashes) > 5 else ""
        raise error(
            f"{shown}{more}: not written by gitflywheel (or changed since); nothing was "
            "written: move or remove these files, or write to another folder"
        )
    if not writes and not removals:
        return FolderChanges([], [])
    if record in writes:  # the record names what is there: it goes in last
        writes = [*(p for p in writes if p != record), record]
    if shared:
        _move_in(folder, files, writes, removals, {folder / k for k in keep})
    elif previous is not None and exists and (len(writes) + len(removals)) * FEW <= len(files):
        _move_in(folder, files, writes, removals, set())
    else:
        try:
            _swap_in(folder, files, writes, {*writes, *removals})
        except _CannotSwap:  # a mount point, a parent we may not write: file by file
            _move_in(folder, files, writes, removals, set())
    return FolderChanges(writes, removals)


class _CannotSwap(Exception):
    """The folder cannot be swapped (nothing was changed): write it file by file."""


def _is_ours(ours: Mapping[str, str | None], path: str, data: bytes) -> bool:
    if path not in ours:
        return False
    digest = ours[path]
    return digest is None or digest == sha256(data).hexdigest()


def _same(files: Mapping[str, bytes], path: str, now: bytes) -> bool:
    """Whether the folder's bytes `now` at `path` are the new ones."""
    if isinstance(files, SiteFiles):  # by hash: the new bytes stay on disk
        return sha256(now).hexdigest() == files.digests[path]
    return now == files[path]


def _write_files(root: Path, files: Mapping[str, bytes], paths: Iterable[str]) -> None:
    """Write `paths` of `files` under `root`, one at a time; a build's staged files are
    linked (copied where links cannot be made), not written again."""
    for path in paths:
        target = root.joinpath(*path.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(files, SiteFiles) and path not in files.kept:
            try:
                os.link(files.file(path), target)
            except OSError:
                shutil.copyfile(files.file(path), target)
        else:
            target.write_bytes(files[path])


def _swap_in(
    folder: Path, files: Mapping[str, bytes], writes: list[str], replaced: set[str]
) -> None:
    """Build the new folder beside the old one, `writes` written and every other file
    but the `replaced` ones linked in, and swap it into place: a reader sees the old
    folder or the new one, never a mix, and an unchanged file keeps its time."""
    real = folder.resolve()  # a link to the folder stays a link; its folder is swapped
    real.parent.mkdir(parents=True, exist_ok=True)
    new = real.parent / f".{real.name}{_STAGING}{secrets.token_hex(6)}"
    try:
        new.mkdir()  # not mkdtemp: the new folder gets the mode a folder made here would have
    except OSError as exc:
        raise _CannotSwap from exc
    given: SiteFiles | None = None  # a build whose staging folder became the new folder
    try:
        if isinstance(files, SiteFiles) and not real.exists() and len(writes) == len(files):
            mode = stat.S_IMODE(new.stat().st_mode)
            new.rmdir()
            if files.give_folder(new, mode):
                given = files
            else:
                new.mkdir()
        if given is None:
            _write_files(new, files, writes)
        if real.exists():
            _link_others(real, new, replaced)
            shutil.copystat(real, new)
        aside = Path(tempfile.mkdtemp(prefix=f".{real.name}.gitflywheel-old-", dir=real.parent))
        if real.exists():
            try:
                os.rename(real, aside / real.name)
            except OSError as exc:
                aside.rmdir()
                raise _CannotSwap from exc
        try:
            os.rename(new, real)
        except OSError:
            if (aside / real.name).exists():  # put the old folder back
                os.rename(aside / real.name, real)
                aside.rmdir()
            raise
        if given is not None:
            given.moved(real)
        shutil.rmtree(aside, ignore_errors=True)
    finally:
        if new.exists():
            shutil.rmtree(new, ignore_errors=True)


def _link_others(old: Path, new: Path, replaced: set[str]) -> None:
    """Carry every file of `old` but the `replaced` ones into `new`, at the same path:
    hard-linked (copied where links cannot be made), links as links, empty folders kept;
    a folder that held only replaced files is not carried."""
    for top, dirs, names in os.walk(old):
        here = Path(top)
        relative = here.relative_to(old)
        names += [d for d in dirs if (here / d).is_symlink()]  # a link to a folder: a link
        dirs[:] = [d for d in dirs if not (here / d).is_symlink()]
        if not dirs and not names and relative != Path("."):
            _make_folder(old, new, relative)
        for name in names:
            path = (relative / name).as_posix()
            if path in replaced:
                continue
            source, target = here / name, new / relative / name
            _make_folder(old, new, relative)
            if source.is_symlink():
                os.symlink(os.readlink(source), target)
                continue
            try:
                os.link(source, target, follow_symlinks=False)
            except OSError:
                shutil.copy2(source, target)


def _make_folder(old: Path, new: Path, relative: Path) -> None:
    """The folder `relative` in `new`, each folder made on the way with its mode in
    `old`."""
    target = new
    for part in relative.parts:
        target = target / part
        if not target.is_dir():
            target.mkdir()
            shutil.copystat(old / target.relative_to(new), target)


def _move_in(
    folder: Path,
    files: Mapping[str, bytes],
    writes: list[str],
    removals: list[str],
    keep: set[Path],
) -> None:
    """Stage every new file in a temporary folder inside `folder`, then move each into
    place (a failure while writing leaves `folder` as it was), then remove the files
    that go and the folders they leave empty (but `keep`)."""
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=_STAGING, dir=folder))
    try:
        _write_files(staging, files, writes)
        for path in writes:
            target = folder.joinpath(*path.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging.joinpath(*path.split("/")), target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for path in removals:
        target = folder.joinpath(*path.split("/"))
        target.unlink()
        parent = target.parent
        while parent != folder and parent not in keep and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent
