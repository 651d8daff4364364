"""A work repository's own settings: which of its pushes become sessions, and how.

They live in the work repository, not the store: `.gitflywheel.toml` at its root, or the
`[tool.gitflywheel]` table of its `pyproject.toml` (the first found wins). The hook reads
them from the tree of the commit a push published, so what is recorded follows what was
published. Keys: `record` (false: nothing is recorded), `branches` (the branches whose
pushes record; default every branch), `drafts` (the branches recorded as drafts; default
every branch but the remote's default one), `min_commits` (a push of fewer new commits
records nothing) and `name` (the repository as public text names it). A branch pattern
is a branch name, or a shell pattern (`release/*`, `*`). Pure, no I/O.
"""

from __future__ import annotations

import fnmatch
import tomllib
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
)

from ..errors import InputError
from ..escape import has_hidden_controls
from .public_text import public_repo

__all__ = [
    "WORK_SETTINGS_FILE",
    "PYPROJECT_FILE",
    "PYPROJECT_TABLE",
    "MAX_NAME",
    "WorkSettings",
    "parse_work_settings",
    "branch_matches",
]

WORK_SETTINGS_FILE = ".gitflywheel.toml"
PYPROJECT_FILE = "pyproject.toml"
PYPROJECT_TABLE = ("tool", "gitflywheel")
MAX_NAME = 100
MAX_PATTERNS = 100


def _line(value: str) -> str:
    if not value.strip():
        raise ValueError("blank")
    if any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in value):
        raise ValueError("holds a control character (one line of text)")
    if has_hidden_controls(value):
        raise ValueError("holds an invisible direction or formatting character")
    return value


def _name(value: str) -> str:
    _line(value)
    if len(value) > MAX_NAME:
        raise ValueError(f"longer than {MAX_NAME} characters")
    shown = public_repo(value)
    if shown != value:
        raise ValueError(
            f"{value!r} would be shown as {shown!r}: a name is one word or a few "
            "(no '/' or '\\', not a temporary folder's name)"
            if shown
            else f"{value!r} names no repository in public text (a temporary folder's name?)"
        )
    return value


def _pattern(value: str) -> str:
    _line(value)
    if value != value.strip():
        raise ValueError(f"{value!r}: a branch has no spaces around it")
    return value


Pattern = Annotated[StrictStr, AfterValidator(_pattern)]
Patterns = Annotated[list[Pattern], Field(max_length=MAX_PATTERNS)]


class WorkSettings(BaseModel):
    """What a work repository says of its pushes; every key may be left out."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    record: StrictBool = True
    branches: Patterns | None = None  # None: every branch records
    drafts: Patterns | None = None  # None: every branch but the remote's default one
    min_commits: Annotated[StrictInt, Field(ge=0, le=1_000_000)] = 0
    name: Annotated[StrictStr, AfterValidator(_name)] | None = None

    def records(self, branch: str) -> bool:
        """Whether a push to `branch` records (`record`, `branches`)."""
        return self.record and (self.branches is None or branch_matches(branch, self.branches))

    def is_draft(self, branch: str, default_branches: tuple[str, ...]) -> bool:
        """Whether a push to `branch` records a draft (`drafts`, or the remote's default
        branch publishing and the others not)."""
        if self.drafts is not None:
            return branch_matches(branch, self.drafts)
        return branch not in default_branches


def branch_matches(branch: str, patterns: list[str]) -> bool:
    """Whether `branch` is one of `patterns` (names, or shell patterns: `release/*`)."""
    return any(branch == p or fnmatch.fnmatchcase(branch, p) for p in patterns)


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _reason(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "not a setting (record, branches, drafts, min_commits, name)"
    if kind == "bool_type":
        return "must be true or false"
    if kind == "int_type":
        return "must be a whole number"
    if kind in ("string_type", "list_type"):
        return "must be a string" if kind == "string_type" else "must be a list of branches"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def parse_work_settings(
    data: bytes, origin: str, table: tuple[str, ...] = ()
) -> WorkSettings | None:
    """The settings in `data` (TOML), under `table` (`("tool", "gitflywheel")` for a
    pyproject.toml); None when that table is not there; an InputError naming `origin`,
    the key and the reason when they cannot be read. A pyproject.toml that is not TOML
    and never names gitflywheel holds no settings of ours."""
    try:
        parsed: Any = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        if table and b"gitflywheel" not in data:
            return None
        reason = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else f"not TOML: {exc}"
        raise InputError(origin, "", reason) from None
    prefix = ".".join(table)
    for key in table:
        parsed = parsed.get(key) if isinstance(parsed, dict) else None
    if parsed is None:
        return None
    if not isinstance(parsed, dict):
        raise InputError(origin, prefix, "must be a table")
    try:
        return WorkSettings.model_validate(parsed)
    except ValidationError as exc:
        first: Any = exc.errors()[0]
        key = ".".join(filter(None, [prefix, _where(tuple(first["loc"]))]))
        raise InputError(origin, key, _reason(first)) from None
