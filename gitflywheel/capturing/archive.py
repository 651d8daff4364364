"""A chat export as its tools write it: a ZIP, or the files taken out of one. Finds the
conversation files (`conversations.json`, or split as `conversations-NNN.json`) and the
files a conversation names (images), reading no member past a size limit whatever its
header claims (the ZIP reader stops at the size the header states), nor one that would
inflate more than `MAX_RATIO` times its packed size, so a crafted archive cannot make a
small file inflate to gigabytes. A conversations file holding more than
`MAX_JSON_CONTAINERS` objects and arrays is refused before it is parsed: a few bytes
each (`[{},{},...]`) would take a hundred times their size in memory."""

from __future__ import annotations

import bisect
import lzma
import re
import zipfile
import zlib
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..jsontext import JSONTextError, decode_utf8, loads

__all__ = ["Export", "MAX_JSON_BYTES", "MAX_JSON_CONTAINERS", "MAX_RATIO"]

MAX_JSON_BYTES = 512 * 1024 * 1024
"""The largest conversations file read (a heavy user's ChatGPT export is tens of MB)."""
MAX_JSON_CONTAINERS = 16_000_000
"""The most `{` and `[` a conversations file may hold (a message takes about ten, in a
kilobyte or more): beyond it, parsing would take tens of gigabytes of memory."""
MAX_RATIO = 100
"""How many times its packed size a ZIP member may inflate to (JSON packs about ten to
one, images hardly at all; a ZIP bomb a thousand to one)."""
_RATIO_FLOOR = 1024 * 1024  # members smaller than this inflate as they please
# what reading a damaged ZIP raises: a bad header, an unknown version or method
# (NotImplementedError is a RuntimeError), a broken deflate, LZMA or bzip2 stream
_ZIP_ERRORS = (OSError, zipfile.BadZipFile, zlib.error, lzma.LZMAError, RuntimeError, EOFError)
_CONVERSATIONS = re.compile(r"(?:^|/)conversations(?:-\d+)?\.json$")


class Export:
    """One export: a ZIP file, a conversations file, or a folder holding them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.zip: zipfile.ZipFile | None = None
        self.folder: Path | None = None
        self.files: list[str] = []
        self._index: list[tuple[str, str]] | None = None
        try:
            if path.is_dir():
                self.folder = path
                self.files = sorted(
                    p.name for p in path.iterdir() if _CONVERSATIONS.search(p.name) and p.is_file()
                )
            elif path.exists() and not path.is_file():
                raise InputError(str(path), "", "not a regular file or a folder; not read")
            elif zipfile.is_zipfile(path):
                self.zip = zipfile.ZipFile(path)
                self.files = sorted({n for n in self.zip.namelist() if _CONVERSATIONS.search(n)})
            elif path.is_file():
                self.folder = path.parent
                self.files = [path.name]
            else:
                raise InputError(str(path), "", "no such file or folder")
        except _ZIP_ERRORS as exc:
            raise InputError(str(path), "", f"cannot read: {exc}") from None
        if not self.files:
            raise InputError(str(path), "", "no conversations.json in this export")

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()

    def origin(self, name: str) -> str:
        """How a member is named in messages: `export.zip:conversations.json`."""
        if self.zip is not None:
            return f"{self.path}:{name}"
        assert self.folder is not None
        return str(self.folder / name)

    def member(self, name: str, limit: int) -> bytes | str:
        """A member's bytes, or why they are not read: not there, larger than `limit`, or
        inflating more than `MAX_RATIO` times its packed size."""
        try:
            if self.zip is not None:
                info = self.zip.getinfo(name)
                if info.file_size > limit:
                    return f"larger than {limit:,} bytes"
                if info.file_size > max(_RATIO_FLOOR, MAX_RATIO * info.compress_size):
                    return (
                        f"inflates from {info.compress_size:,} to {info.file_size:,} bytes, "
                        f"more than {MAX_RATIO} times: a ZIP bomb, not read"
                    )
                with self.zip.open(info) as f:
                    data = f.read(limit + 1)
            else:
                assert self.folder is not None
                path = self.folder / name
                if path.is_symlink() and name not in self.files:
                    return "a symbolic link, not read"  # an image beside it is its own file
                if not path.is_file():
                    return "not in the export"
                if path.stat().st_size > limit:
                    return f"larger than {limit:,} bytes"
                with path.open("rb") as f:
                    data = f.read(limit + 1)
        except KeyError:
            return "not in the export"
        except _ZIP_ERRORS as exc:
            raise InputError(self.origin(name), "", f"cannot read: {exc}") from None
        return data if len(data) <= limit else f"larger than {limit:,} bytes"

    def conversations(self, name: str) -> list[Any]:
        """The list a conversations file holds."""
        data = self.member(name, MAX_JSON_BYTES)
        if isinstance(data, str):
            raise InputError(self.origin(name), "", data)
        if data.count(b"{") + data.count(b"[") > MAX_JSON_CONTAINERS:
            raise InputError(
                self.origin(name),
                "",
                f"more than {MAX_JSON_CONTAINERS:,} JSON objects and arrays: refused, as "
                "no export holds that many and parsing them would exhaust memory",
            )
        try:
            text = decode_utf8(data)
            del data  # the text alone is held while it is parsed
            value = loads(text)
        except JSONTextError as exc:
            raise InputError(self.origin(name), "", f"not valid JSON: {exc}") from None
        if not isinstance(value, list):
            raise InputError(self.origin(name), "", "not a list of conversations")
        return value

    def find(self, stem: str) -> str | None:
        """The member (or file beside the conversations) whose name starts with `stem`, an
        image's id: `file-abc123-photo.png`, `file_00…-uuid.png`, `file_00….dat`. Looked
        up in an index of the names made once, as an export may show thousands of images
        among thousands of files."""
        if not re.fullmatch(r"[A-Za-z0-9_-]{4,200}", stem):
            return None
        names = self._names()
        found: list[str] = []
        at = bisect.bisect_left(names, (stem, ""))
        while at < len(names) and names[at][0].startswith(stem):
            found.append(names[at][1])
            at += 1
        return min(found) if found else None

    def _names(self) -> list[tuple[str, str]]:
        """(file name, member name) of every file of the export, sorted."""
        if self._index is None:
            if self.zip is not None:
                members = self.zip.namelist()
            else:
                assert self.folder is not None
                try:
                    members = [p.name for p in self.folder.iterdir()]
                except OSError:
                    members = []
            self._index = sorted((n.rsplit("/", 1)[-1], n) for n in members if not n.endswith("/"))
        return self._index
