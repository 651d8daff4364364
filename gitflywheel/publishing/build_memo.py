"""What earlier site builds made, kept beside the store (in the database of its
`gitflywheel/site-cache/`: `cache_db`), so that a build after a small change reads and
renders only what changed.

Each record is named by the SHA-256 of all that decides it, as the Markdown cache's are
(`fragments`): the code that builds (this package's version and the source of every
module, Jinja2's, markdown-it-py's, the rasteriser's and its fonts'), and what the
caller names (a session folder's tree id, the templates, the site's title and address,
a page's whole context). So a record is never stale, only unused. A post's summary is
what lists, tags, projects and feeds read of it (never its body); a session's or a
page's record lists the files it produced by their hashes, which a build takes from
the site's folder instead of making them again (`SiteFiles.keep`). A cache is never
trusted over history: a record that cannot be read or parsed is made again, and a
database that cannot be read or written costs only that work. Records are written in
batches: `flush()` writes those held (and must be called before a fork, and at the end
of a build). None keeps nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson

from ..version import __version__
from .cache_db import CacheDB

__all__ = ["BuildMemo", "FileState", "code_id", "code_tag"]

_FORMAT = 1

# A file of a site's folder as a build saw it: [size, mtime in ns, inode, SHA-256]
FileState = Sequence[Any]


@cache
def code_id() -> str:
    """What builds a site, besides its inputs: the package's version and the source of
    every module of it, and the versions of the libraries that render and draw."""
    from .cards import raster_id

    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    libraries = " ".join(f"{n} {metadata.version(n)}" for n in ("jinja2", "markdown-it-py"))
    return f"{_FORMAT} {__version__} {digest.hexdigest()} {libraries} {raster_id()}"


@cache
def code_tag() -> str:
    """A short name of `code_id()`, which each record is kept with (`prune`)."""
    return hashlib.sha256(code_id().encode()).hexdigest()[:16]


def _text(value: object) -> bytes:
    """Values in a key as JSON text (UTF-8): times and other objects by their `str`.
    orjson writes it, or json where orjson cannot (a lone surrogate, a huge integer);
    the same value always takes the same way."""
    try:
        return orjson.dumps(value, default=str, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        text = json.dumps(value, default=str, ensure_ascii=False, sort_keys=True)
        return text.encode("utf-8", "surrogatepass")


def _record_bytes(record: Mapping[str, Any]) -> bytes:
    """A record as compact JSON (UTF-8): by orjson, or json where orjson cannot."""
    try:
        return orjson.dumps(record)
    except TypeError:
        text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
        return text.encode("utf-8", "surrogatepass")


class BuildMemo:
    """Records (JSON objects) by kind and by the hash of what decides them, in the
    database of a folder (None: none kept)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.records = CacheDB(folder)
        self.found = 0
        self.made = 0

    @staticmethod
    def key(*decided: object) -> str:
        """The SHA-256 of the code that builds and of everything `decided` holds."""
        return hashlib.sha256(_text([code_id(), *decided])).hexdigest()

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        """The record kept under `key`, or None when there is none that can be read."""
        data = self.records.get(kind, key)
        if data is None:
            return None
        try:
            found = orjson.loads(data)
        except ValueError:
            try:
                found = json.loads(data)
            except ValueError:
                return None
        if not isinstance(found, dict):
            return None
        self.found += 1
        return found

    def prefetch(self, kind: str, keys: Iterable[str]) -> None:
        """Read the records of `keys` at once, for `get` (`CacheDB.prefetch`)."""
        if self.folder is not None:
            self.records.prefetch(kind, keys)

    def put(self, kind: str, key: str, record: Mapping[str, Any]) -> None:
        """Keep `record` under `key`, as a record of this code (which `prune` keeps)."""
        self.made += 1
        if self.folder is not None:
            self.records.put(kind, key, _record_bytes(record), code_tag())

    def prune(self, *also: str) -> None:
        """Remove the records other code made (an earlier version of gitflywheel, or of
        its libraries) than this and `also` (the code of the other records in the same
        database: `FragmentCache.code`): no key of this code names them, so no build of
        it reads them. Called once a build ended well; the state of a folder is no
        code's, and stays."""
        if self.folder is not None:
            self.records.prune({code_tag(), *also})

    def flush(self) -> None:
        """Write the records held (`CacheDB.flush`): at the end of a build, before a fork."""
        self.records.flush()

    # -- the state of a folder a build wrote --------------------------------------------

    def _folder_key(self, folder: Path) -> str:
        return hashlib.sha256(os.fsencode(folder.resolve())).hexdigest()

    def folder_state(self, folder: Path) -> dict[str, FileState]:
        """What `remember_folder` saw of a folder: path -> [size, mtime in ns, inode,
        SHA-256], as the record holds them (a value of another shape or type only
        matches no file: `SiteFiles.keep`); empty when nothing can be read."""
        found = self.get("folders", self._folder_key(folder))
        files = found.get("files") if found is not None else None
        return files if isinstance(files, dict) else {}

    def remember_folder(
        self,
        folder: Path,
        files: Iterable[tuple[str, str]],
        known: Mapping[str, FileState] | None = None,
    ) -> None:
        """Note the size, time and inode of each file (path, SHA-256 of what was written)
        as the folder holds it now: the next build trusts a file that still shows them
        to hold those bytes, as git trusts its index. `known`: what this build saw of
        files it left as they were (`SiteFiles.trusted_state`), not looked at again."""
        if self.folder is None:
            return
        seen: dict[str, FileState] = {}
        known = known or {}
        base = os.path.join(folder, "")
        for path, digest in files:
            was = known.get(path)
            if was is not None and was[3] == digest:
                seen[path] = was
                continue
            try:
                stat = os.lstat(base + path)
            except OSError:
                continue
            seen[path] = [stat.st_size, stat.st_mtime_ns, stat.st_ino, digest]
        # no code's: what a folder holds is read by any version (`prune` keeps it)
        self.made += 1
        self.records.put("folders", self._folder_key(folder), _record_bytes({"files": seen}))
