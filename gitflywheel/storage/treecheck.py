"""The rules each entry of a store's tree obeys (its mode, its name, what templates/
holds), and the raw tree format entries are read from. Pure, no I/O.

A store holds regular files and folders, under names that are safe on every system a
clone or an export may land on. Whatever reads trees from a history (verify) or from a
remote (sync) judges each entry with these same functions.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .layout import TEMPLATE_SUFFIX, TEMPLATES_DIR
from .trees import EXEC_MODE, FILE_MODE, GITLINK_MODE, SYMLINK_MODE, TREE_MODE

if TYPE_CHECKING:
    from .store import Store

__all__ = [
    "TreeProblem",
    "check_tree_entries",
    "tree_entry_problems",
    "describe_mode",
    "display_name",
    "duplicate_names",
    "entry_problems",
    "is_dotgit",
    "mode_problem",
    "name_problems",
    "out_of_order",
    "parse_entries",
    "template_problem",
]

_KINDS = {
    FILE_MODE: "a regular file",
    EXEC_MODE: "an executable file",
    SYMLINK_MODE: "a symbolic link",
    GITLINK_MODE: "a gitlink (a submodule's commit)",
    TREE_MODE: "a folder",
}

# Code points HFS+ ignores in names, so that ".g\u200cit" is ".git" there (git's is_hfs_dotgit).
_HFS_IGNORED = frozenset(
    [*range(0x200C, 0x2010), *range(0x202A, 0x202F), *range(0x206A, 0x2070), 0xFEFF]
)


def describe_mode(mode: int) -> str:
    """What an entry of this mode is, in words."""
    return _KINDS.get(mode, f"an entry of unknown mode {mode:06o}")


def display_name(name: bytes) -> str:
    """A name as text fit for a path in a report: invalid UTF-8, control and invisible
    characters (bidi overrides, zero widths) escaped, so that what a reader sees is there."""
    if name.isascii():
        text = name.decode("ascii")
        if text.isprintable():  # in ASCII, only the control characters are not
            return text
    else:
        text = name.decode("utf-8", "backslashreplace")
    return "".join(_escape(c) if unicodedata.category(c)[0] == "C" else c for c in text)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def mode_problem(mode: int) -> str | None:
    """Why an entry of this mode has no place in a store, or None for a file or folder."""
    if mode in (FILE_MODE, TREE_MODE):
        return None
    return (
        f"{describe_mode(mode)} (mode {mode:06o}): the store holds only regular files (100644) "
        "and folders (040000)"
    )


def is_dotgit(name: bytes) -> bool:
    """Whether git reads `name` as `.git` on some file system, as its fsck (hasDotgit) does:
    any case, trailing dots or spaces (NTFS), `git~1` (an NTFS short name), or with code
    points HFS+ ignores."""
    lower = name.lower()
    for stem in (b".git", b"git~1"):
        if lower.startswith(stem) and not lower[len(stem) :].strip(b". "):
            return True
    try:
        text = name.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return "".join(c for c in text if ord(c) not in _HFS_IGNORED).lower() == ".git"


# A name that breaks no rule below: ASCII letters, digits, `.`, `_` and `-`, not starting
# with `.` (so neither `.`, `..` nor any spelling of `.git`; `git~1` holds a `~`).
_PLAIN_NAME = re.compile(rb"[0-9A-Za-z_-][0-9A-Za-z._-]*")


def name_problems(name: bytes) -> list[str]:
    """Every reason a name is unsafe in a tree: empty, `.`, `..`, `.git` in any spelling,
    a path separator, NUL or a control character, or not UTF-8."""
    if _PLAIN_NAME.fullmatch(name):
        return []
    problems: list[str] = []
    if not name:
        return ["an empty name"]
    if name in (b".", b".."):
        problems.append(f"named {name.decode()!r}, which means a folder itself or its parent")
    elif is_dotgit(name):
        problems.append("a name git reads as .git, which checkouts refuse and git fsck reports")
    for char in ("/", "\\"):
        if char.encode() in name:
            problems.append(f"the name holds '{char}', a path separator")
    if b"\0" in name:
        problems.append("the name holds a NUL byte")
    if any(byte < 0x20 or byte == 0x7F for byte in name.replace(b"\0", b"")):
        problems.append("the name holds a control character")
    try:
        name.decode("utf-8")
    except UnicodeDecodeError:
        problems.append("the name is not UTF-8")
    return problems


def template_problem(name: bytes, mode: int) -> str | None:
    """Why an entry of templates/ is not a template: it must be a regular `*.j2` file."""
    if mode == FILE_MODE and name.endswith(TEMPLATE_SUFFIX.encode()) and name != b".j2":
        return None
    what = describe_mode(mode)
    if mode == FILE_MODE:
        what += f" not named *{TEMPLATE_SUFFIX}"
    return f"{what}: {TEMPLATES_DIR}/ holds only regular *{TEMPLATE_SUFFIX} files"


def entry_problems(path: str, name: bytes, mode: int) -> list[str]:
    """Every rule that one entry of the tree at `path` (`""` for the root) breaks, in words:
    its mode, its name, and in templates/ what a template must be. Empty when it is fine."""
    problems = name_problems(name)
    wrong_mode = mode_problem(mode)
    if wrong_mode is not None:
        problems.append(wrong_mode)
    if path == TEMPLATES_DIR:
        wrong_template = template_problem(name, mode)
        if wrong_template is not None:
            problems.append(wrong_template)
    return problems


# One entry of a tree, and a whole tree of them: each entry's mode runs to the first
# space and its name to the first NUL, so these read exactly what _parse_slowly reads.
_ENTRY = re.compile(rb"([0-7]{1,7}) ([^\0]*)\0(.{20})", re.DOTALL)
_ENTRIES = re.compile(rb"(?:[0-7]{1,7} [^\0]*\0.{20})*", re.DOTALL)


def parse_entries(raw: bytes) -> list[tuple[bytes, int, bytes]]:
    """A git tree's raw bytes as (name, mode, hex id) entries, in stored order, duplicates
    kept: `<octal mode> <name>NUL<20-byte id>`, repeated. ValueError if malformed."""
    if _ENTRIES.fullmatch(raw):
        return [(name, int(mode, 8), sha.hex().encode()) for mode, name, sha in _ENTRY.findall(raw)]
    return _parse_slowly(raw)


def _parse_slowly(raw: bytes) -> list[tuple[bytes, int, bytes]]:
    """`parse_entries` an entry at a time, which says where a malformed tree goes wrong."""
    entries: list[tuple[bytes, int, bytes]] = []
    pos = 0
    while pos < len(raw):
        space = raw.find(b" ", pos)
        nul = raw.find(b"\0", space + 1) if space >= 0 else -1
        if nul < 0 or nul + 21 > len(raw):
            raise ValueError(f"truncated tree entry at byte {pos}")
        mode = raw[pos:space]
        if not mode or len(mode) > 7 or mode.strip(b"01234567"):
            raise ValueError(f"bad mode {mode!r} at byte {pos}")
        entries.append((raw[space + 1 : nul], int(mode, 8), raw[nul + 1 : nul + 21].hex().encode()))
        pos = nul + 21
    return entries


def duplicate_names(names: Sequence[bytes]) -> list[bytes]:
    """Names a tree holds more than once, in order (git fsck: duplicateEntries)."""
    seen: set[bytes] = set()
    twice: dict[bytes, None] = {}
    for name in names:
        if name in seen:
            twice[name] = None
        seen.add(name)
    return list(twice)


def out_of_order(entries: Sequence[tuple[bytes, int]]) -> bytes | None:
    """The first name of a tree's (name, mode) entries that breaks git's order, where a
    folder sorts as if its name ended in '/' (git fsck: treeNotSorted), or None."""
    keys = [name + b"/" if mode == TREE_MODE else name for name, mode in entries]
    for (name, _), before, key in zip(entries[1:], keys, keys[1:], strict=False):
        if before > key:
            return name
    return None


@dataclass(frozen=True)
class TreeProblem:
    """One entry of a tree that breaks a rule: its name (as shown to people) and why."""

    name: str
    reason: str

    def __str__(self) -> str:
        return f"{self.name!r}: {self.reason}" if self.name else self.reason


def tree_entry_problems(raw: bytes, path: str = "") -> list[TreeProblem]:
    """Every rule the entries of one tree break, read from its raw bytes (so duplicates
    and order are seen as stored); its subtrees are not read. `path` is where the tree
    sits (`templates` adds the template rules)."""
    try:
        entries = parse_entries(raw)
    except ValueError as exc:
        return [TreeProblem("", f"a malformed tree: {exc}")]
    problems = [
        TreeProblem(display_name(name), reason)
        for name, mode, _ in entries
        for reason in entry_problems(path, name, mode)
    ]
    problems += [
        TreeProblem(display_name(name), "a duplicate entry")
        for name in duplicate_names([name for name, _, _ in entries])
    ]
    unordered = out_of_order([(name, mode) for name, mode, _ in entries])
    if unordered is not None:
        problems.append(TreeProblem(display_name(unordered), "out of git's order"))
    return problems


def check_tree_entries(store: Store, tree_id: bytes, path: str = "") -> list[TreeProblem]:
    """The problems of the entries of one tree of the store (not of its subtrees)."""
    kind, raw = store.raw(tree_id)
    if kind != "tree":
        return [TreeProblem("", f"{tree_id.decode()} is a {kind}, not a tree")]
    return tree_entry_problems(raw, path)
