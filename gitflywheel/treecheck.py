"""What a tree of the store may hold: the entry rules that sync applies to fetched trees
and that verify can apply to the store's own.

A store holds plain files (mode 100644) and folders (40000) only, named in UTF-8 without
control characters, never `.`, `..` or `.git` (in any case, nor as Windows or macOS would
read it), sorted and without duplicates as git requires. An executable, a symbolic link
or a submodule in a store is refused, though git itself would take it: a checkout or an
export of the store must never run, follow or fetch anything.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from .store import Store

__all__ = ["TreeProblem", "check_tree_entries", "tree_entry_problems"]

_FILE, _FOLDER = b"100644", b"40000"
_REFUSED_MODES = {
    b"100755": "an executable file (mode 100755)",
    b"120000": "a symbolic link (mode 120000)",
    b"160000": "a submodule (gitlink, mode 160000)",
    b"040000": "a zero-padded folder mode (040000)",
    b"100664": "a group-writable file mode (100664)",
}
_HASH_BYTES = 20
# Code points macOS (HFS+) ignores in file names, so `.g\u200cit` is `.git` there.
_HFS_IGNORED = {
    *map(chr, range(0x200C, 0x2010)),
    *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x206A, 0x2070)),
    "\ufeff",
}


@dataclass(frozen=True)
class TreeProblem:
    """One entry of a tree that breaks a rule: its name (as text) and why."""

    name: str
    reason: str

    def __str__(self) -> str:
        return f"{self.name!r}: {self.reason}" if self.name else self.reason


def _is_dot_git(name: str) -> bool:
    """`.git` as any file system a store may be exported to would read it."""
    folded = "".join(ch for ch in name if ch not in _HFS_IGNORED)
    folded = unicodedata.normalize("NFC", folded).casefold()
    folded = folded.split(":", 1)[0].rstrip(
        ". "
    )  # NTFS: `.git.`, `.git `, `.git::$INDEX_ALLOCATION`
    return folded in (".git", "git~1")


def _name_problem(raw: bytes) -> str | None:
    if not raw:
        return "an empty name"
    if b"/" in raw:
        return "a name with '/' in it"
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "a name that is not UTF-8"
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name):
        return "a name with a control character in it"
    if name in (".", ".."):
        return f"the name {name!r}, which leaves the folder"
    if _is_dot_git(name):
        return "a name git reads as `.git`"
    return None


def _sort_key(name: bytes, mode: bytes) -> bytes:
    """Git orders a folder as if its name ended in '/'."""
    return name + b"/" if mode in (_FOLDER, b"040000") else name


def tree_entry_problems(raw: bytes) -> list[TreeProblem]:
    """Every rule the entries of one tree (its raw bytes, not its subtrees) break."""
    problems: list[TreeProblem] = []
    seen: set[bytes] = set()
    last: bytes | None = None
    at = 0
    while at < len(raw):
        space = raw.find(b" ", at)
        nul = raw.find(b"\0", space + 1) if space >= 0 else -1
        if space < 0 or nul < 0 or nul + 1 + _HASH_BYTES > len(raw):
            problems.append(TreeProblem("", f"a truncated entry at byte {at}"))
            break
        mode, name = raw[at:space], raw[space + 1 : nul]
        at = nul + 1 + _HASH_BYTES
        shown = name.decode("utf-8", "backslashreplace")
        reason = _name_problem(name)
        if reason:
            problems.append(TreeProblem(shown, reason))
        if mode not in (_FILE, _FOLDER):
            what = _REFUSED_MODES.get(mode, f"mode {mode.decode('ascii', 'replace')!r}")
            problems.append(
                TreeProblem(shown, f"{what}; a store holds files (100644) and folders only")
            )
        if name in seen:
            problems.append(TreeProblem(shown, "a duplicate entry"))
        elif last is not None and _sort_key(name, mode) < last:
            problems.append(TreeProblem(shown, "out of git's order"))
        seen.add(name)
        last = _sort_key(name, mode)
    return problems


def check_tree_entries(store: Store, tree_id: bytes) -> list[TreeProblem]:
    """The problems of the entries of one tree of the store (not of its subtrees)."""
    kind, raw = store.raw(tree_id)
    if kind != "tree":
        return [TreeProblem("", f"{tree_id.decode()} is a {kind}, not a tree")]
    return tree_entry_problems(raw)
