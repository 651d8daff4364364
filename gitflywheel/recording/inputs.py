"""Reading input containers: a file, an array, JSON Lines, a directory, stdin, or a
session given as a dict by a Python caller.

Yields one item per session document, lazily, each with an origin a person can find
(`file.json`, `file.json[3]`, `file.jsonl:12`, `-:4`, `<session 2>`) and the folder that
relative screenshot paths are resolved against.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import InputError
from ..jsontext import JSONTextError, decode_utf8, dumps_canonical, iter_lines, loads
from ..localfiles import READ_FLAGS, file_kind

__all__ = [
    "STDIN",
    "InputItem",
    "count_documents",
    "nothing_came_in",
    "read_inputs",
    "session_items",
]

STDIN = "-"
SUFFIXES = (".json", ".jsonl")


@dataclass(frozen=True)
class InputItem:
    """One session document, or the error that stopped it from being one."""

    origin: str
    base_dir: Path
    value: Any = None
    error: InputError | None = None


def nothing_came_in() -> InputError:
    """Standard input with nothing in it: `capture | ingest -` whose capture failed, whose
    own message is the one to read."""
    return InputError(
        STDIN,
        "",
        "nothing came in on standard input (the command before the pipe wrote nothing: "
        "see its message)",
    )


def _json_error(origin: str, exc: JSONTextError) -> InputError:
    return InputError(origin, "", f"not valid JSON: {exc}")


def _from_text(origin: str, base_dir: Path, data: bytes, lines: bool) -> Iterator[InputItem]:
    try:
        text = decode_utf8(data)
    except JSONTextError as exc:
        yield InputItem(origin, base_dir, error=_json_error(origin, exc))
        return
    if lines:
        empty = True
        for number, value in iter_lines(text):
            empty = False
            where = f"{origin}:{number}"
            if isinstance(value, JSONTextError):
                yield InputItem(where, base_dir, error=_json_error(where, value))
            else:
                yield InputItem(where, base_dir, value)
        if empty:
            yield InputItem(
                origin, base_dir, error=InputError(origin, "", "empty: no session in it")
            )
        return
    try:
        value = loads(text)
    except JSONTextError as exc:
        yield InputItem(origin, base_dir, error=_json_error(origin, exc))
        return
    if isinstance(value, list):
        if not value:
            yield InputItem(
                origin, base_dir, error=InputError(origin, "", "empty array: no session in it")
            )
        for index, element in enumerate(value):
            yield InputItem(f"{origin}[{index}]", base_dir, element)
    else:
        yield InputItem(origin, base_dir, value)


def _looks_like_lines(data: bytes) -> bool:
    """Stdin may be one document or JSON Lines: several top-level values, one per line."""
    stripped = data.strip()
    if not stripped.startswith(b"{"):
        return False
    lines = [line for line in stripped.splitlines() if line.strip()]
    if len(lines) < 2:
        return False
    try:
        loads(decode_utf8(lines[0]))
    except JSONTextError:
        return False
    return True


def read_inputs(paths: list[str], stdin: BinaryIO | None = None) -> Iterator[InputItem]:
    """Every session document named by `paths`, in order; directories in sorted path order."""
    for name in paths:
        if name == STDIN:
            data = stdin.read() if stdin is not None else b""
            if not data.strip():
                yield InputItem(STDIN, Path.cwd(), error=nothing_came_in())
                continue
            yield from _from_text(STDIN, Path.cwd(), data, _looks_like_lines(data))
            continue
        path = Path(name)
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            mode = None
        except OSError as exc:
            yield _error(path, Path.cwd(), exc.strerror or str(exc))
            continue
        if mode is not None and stat.S_ISDIR(mode):
            yield from _read_folder(path)
        elif mode is not None:
            yield from _read_file(path)
        else:
            yield InputItem(name, Path.cwd(), error=InputError(name, "", "no such file or folder"))


def session_items(
    entries: Iterable[str | os.PathLike[str] | Mapping[str, Any]], stdin: BinaryIO | None = None
) -> Iterator[InputItem]:
    """Paths and sessions given as dicts, in their order: a dict (`<session N>`, its
    screenshots read from the working directory) is taken as its JSON text would be, so
    it meets the rules a file meets (no NaN, no value JSON cannot hold)."""
    number = 0
    for entry in entries:
        if not isinstance(entry, Mapping):
            yield from read_inputs([os.fspath(entry)], stdin)
            continue
        number += 1
        origin = f"<session {number}>"
        try:
            text = dumps_canonical(dict(entry))
        except (TypeError, ValueError, ArithmeticError) as exc:
            yield InputItem(origin, Path.cwd(), error=InputError(origin, "", f"not JSON: {exc}"))
            continue
        yield from _from_text(origin, Path.cwd(), text.encode("utf-8"), False)


def count_documents(
    entries: Iterable[str | os.PathLike[str] | Mapping[str, Any]],
) -> int | None:
    """About how many items `read_inputs` (or `session_items`) will yield, read cheaply
    ahead for a progress line's total: a session per dict and per `.json` file, a
    session per non-blank line of a `.jsonl` file, an item per file or folder that is
    refused. None when it cannot be known without parsing: standard input, or a `.json`
    file whose top level is an array."""
    total = 0
    for entry in entries:
        if isinstance(entry, Mapping):
            total += 1
            continue
        name = os.fspath(entry)
        if name == STDIN:
            return None
        if not os.path.isdir(name):
            files = [Path(name)]
        else:
            files = [
                Path(parent, f)
                for parent, _, names in os.walk(name)
                for f in names
                if Path(f).suffix in SUFFIXES
            ] or [Path(name)]
        for file in files:
            found = _documents_in(file)
            if found is None:
                return None
            total += found
    return total


def _documents_in(path: Path) -> int | None:
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return 1
        with os.fdopen(os.open(path, READ_FLAGS), "rb") as f:
            if path.suffix == ".jsonl":
                return max(1, sum(1 for line in f if line.strip()))
            start = f.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
            return None if start.startswith(b"[") else 1
    except OSError:
        return 1


def _error(path: Path, base_dir: Path, reason: str) -> InputItem:
    return InputItem(str(path), base_dir, error=InputError(str(path), "", reason))


def _read_folder(folder: Path) -> Iterator[InputItem]:
    """Every *.json and *.jsonl below `folder` (symlinked folders are not followed), and
    each folder below it that cannot be read, in sorted path order."""
    found: list[tuple[Path, str | None]] = []

    def unreadable(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else folder
        reason = exc.strerror or str(exc)
        found.append((where, f"cannot read this folder: {reason}; the files in it were not read"))

    for parent, _, files in os.walk(folder, onerror=unreadable):
        found += [(Path(parent, f), None) for f in files if Path(f).suffix in SUFFIXES]
    if not found:
        yield _error(folder, folder, "no *.json or *.jsonl files in this folder")
    inside = os.path.realpath(folder)
    for path, problem in sorted(found, key=lambda item: item[0]):
        if problem is None and not _beneath(os.path.realpath(path), inside):
            problem = "a symbolic link to a file outside the folder; not read"
        if problem is None:
            yield from _read_file(path)
        else:
            yield _error(path, path, problem)


def _beneath(path: str, folder: str) -> bool:
    """Whether the resolved `path` lies inside the resolved `folder`."""
    return os.path.commonpath([path, folder]) == folder


def _read_file(path: Path) -> Iterator[InputItem]:
    """The documents of one file. Only a regular file is read: a FIFO or a device named
    like an input is refused, without blocking on it. JSON Lines stream a line at a time,
    so that memory does not grow with the file."""
    lines = path.suffix == ".jsonl"
    f: BinaryIO | None = None
    data = b""
    try:
        mode = path.stat().st_mode
        if stat.S_ISREG(mode):
            fd = os.open(path, READ_FLAGS)
            f = os.fdopen(fd, "rb")
            mode = os.fstat(fd).st_mode
            if not lines or not stat.S_ISREG(mode):
                with f:
                    data = f.read() if stat.S_ISREG(mode) else b""
                f = None
    except OSError as exc:
        if f is not None:
            f.close()
        yield _error(path, path.parent, f"cannot read: {exc.strerror or exc}")
        return
    if not stat.S_ISREG(mode):
        yield _error(path, path.parent, f"not a regular file ({file_kind(mode)}); not read")
        return
    if f is not None:
        with f:
            yield from _stream_lines(str(path), path.parent.resolve(), f)
        return
    yield from _from_text(str(path), path.parent.resolve(), data, lines)


def _stream_lines(origin: str, base_dir: Path, f: BinaryIO) -> Iterator[InputItem]:
    """A JSON Lines file, read twice a line at a time: first only to refuse it whole when
    it is not UTF-8 (as a file read at once is), then for its documents. Lines are
    numbered as `str.splitlines` numbers the whole text."""
    try:
        for start, chunk in _chunks(f):
            try:
                chunk.decode("utf-8")
            except UnicodeDecodeError as exc:
                error = JSONTextError(f"not UTF-8 (byte {start + exc.start})")
                yield InputItem(origin, base_dir, error=_json_error(origin, error))
                return
        f.seek(0)
        number, empty = 0, True
        for start, chunk in _chunks(f):
            text = chunk.decode("utf-8", "surrogateescape")
            if start == 0 and text.startswith("\ufeff"):
                text = text[1:]
            for line in text.splitlines():
                number += 1
                if not line.strip():
                    continue
                empty = False
                where = f"{origin}:{number}"
                try:
                    yield InputItem(where, base_dir, loads(line))
                except JSONTextError as exc:
                    yield InputItem(where, base_dir, error=_json_error(where, exc))
    except OSError as exc:
        reason = f"cannot read: {exc.strerror or exc}"
        yield InputItem(origin, base_dir, error=InputError(origin, "", reason))
        return
    if empty:
        yield InputItem(origin, base_dir, error=InputError(origin, "", "empty: no session in it"))


def _chunks(f: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """(offset, bytes) of each `\\n`-ended piece of a file; a UTF-8 character never
    spans two, and `str.splitlines` of each gives the lines of the whole, in order."""
    start = 0
    for chunk in f:
        yield start, chunk
        start += len(chunk)
