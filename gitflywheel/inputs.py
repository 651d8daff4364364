"""Reading input containers: a file, an array, JSON Lines, a directory, stdin.

Yields one item per session document, lazily, each with an origin a person can find
(`file.json`, `file.json[3]`, `file.jsonl:12`, `-:4`) and the folder that relative
screenshot paths are resolved against.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from .errors import InputError
from .jsontext import JSONTextError, decode_utf8, iter_lines, loads

__all__ = ["InputItem", "read_inputs"]

STDIN = "-"


@dataclass(frozen=True)
class InputItem:
    """One session document, or the error that stopped it from being one."""

    origin: str
    base_dir: Path
    value: Any = None
    error: InputError | None = None


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
            yield from _from_text(STDIN, Path.cwd(), data, _looks_like_lines(data))
            continue
        path = Path(name)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.suffix in (".json", ".jsonl") and p.is_file()
            )
            if not found:
                yield InputItem(
                    name,
                    path,
                    error=InputError(name, "", "no *.json or *.jsonl files in this folder"),
                )
            for file in found:
                yield from _read_file(file)
        elif path.is_file():
            yield from _read_file(path)
        else:
            yield InputItem(name, Path.cwd(), error=InputError(name, "", "no such file or folder"))


def _read_file(path: Path) -> Iterator[InputItem]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        yield InputItem(
            str(path), path.parent, error=InputError(str(path), "", exc.strerror or str(exc))
        )
        return
    yield from _from_text(str(path), path.parent.resolve(), data, path.suffix == ".jsonl")
