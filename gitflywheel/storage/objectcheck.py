"""Checks of objects that come from elsewhere, as git's `transfer.fsckObjects` would make
them, before anything refers to them.

Each object must parse strictly (dulwich's own `check()`), be a commit, tree or blob
(a store has no tags), and refer only to objects that are there, of the right type.
Commits must have exactly one well-formed author and committer line, with a date in
whole seconds and a `+HHMM` zone. Trees must keep the store's entry rules (`treecheck`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from dulwich.errors import ChecksumMismatch, ObjectFormatException
from dulwich.objects import ObjectID, ShaFile

from .store import Store
from .treecheck import check_tree_entries

__all__ = ["ObjectProblem", "check_objects", "commit_problems"]

_MAX_DATE = 2**63 - 1
_HEX = rb"[0-9a-f]{40}"
_TREE_LINE = re.compile(rb"tree (" + _HEX + rb")")
_PARENT_LINE = re.compile(rb"parent (" + _HEX + rb")")
_IDENT_LINE = re.compile(
    # a name (git's fsck: missingNameBeforeEmail), a space before the e-mail address
    # (missingSpaceBeforeEmail), whole seconds and a zone of hours and minutes
    rb"(author|committer) (?!<)[^<>\n\0]* <[^<>\n\0]*> (0|[1-9][0-9]*) "
    rb"[+-]([01][0-9]|2[0-3])[0-5][0-9]"
)
_TYPE_NUMS = {"commit": 1, "tree": 2, "blob": 3, "tag": 4}
_ENTRY_TYPES = {b"100644": "blob", b"40000": "tree"}


@dataclass(frozen=True)
class ObjectProblem:
    """An object that must not be taken: its id, its type, and why."""

    object_id: str
    kind: str
    reason: str

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id}: {self.reason}"


def commit_problems(raw: bytes) -> tuple[list[str], list[bytes]]:
    """What is wrong with a commit's headers, and the ids it refers to (tree first)."""
    header = raw.split(b"\n\n", 1)[0]
    lines = header.split(b"\n")
    problems: list[str] = []
    refs: list[bytes] = []
    tree = _TREE_LINE.fullmatch(lines[0]) if lines else None
    if tree is None:
        return ["the first line is not `tree <id>`"], refs
    refs.append(tree.group(1))
    at = 1
    while at < len(lines) and (parent := _PARENT_LINE.fullmatch(lines[at])):
        refs.append(parent.group(1))
        at += 1
    for role in (b"author", b"committer"):
        line = lines[at] if at < len(lines) else b""
        match = _IDENT_LINE.fullmatch(line)
        if not line.startswith(role + b" "):
            problems.append(f"no {role.decode()} line where git expects it")
            continue
        at += 1
        if match is None:
            problems.append(
                f"a malformed {role.decode()} line (not `Name <email> seconds +HHMM`): "
                f"{line.decode('utf-8', 'backslashreplace')[:120]!r}"
            )
        elif int(match.group(2)) > _MAX_DATE:
            problems.append(f"a {role.decode()} date beyond any clock")
    for line in lines[at:]:
        if line.startswith((b"tree ", b"parent ", b"author ", b"committer ")):
            problems.append(f"a second or misplaced `{line.split(b' ', 1)[0].decode()}` line")
    if b"\0" in raw:  # git's fsck (nulInHeader, nulInCommit); its trailers end there for git
        where = "header" if b"\0" in header else "message"
        problems.append(f"a NUL byte in its {where}, which `git fsck --strict` refuses")
    return problems, refs


def _tree_refs(raw: bytes) -> list[tuple[bytes, bytes]]:
    """(mode, id) of every entry of a raw tree, as far as it parses."""
    out: list[tuple[bytes, bytes]] = []
    at = 0
    while at < len(raw):
        space = raw.find(b" ", at)
        nul = raw.find(b"\0", space + 1) if space >= 0 else -1
        if space < 0 or nul < 0 or nul + 21 > len(raw):
            break
        out.append((raw[at:space], raw[nul + 1 : nul + 21].hex().encode()))
        at = nul + 21
    return out


def check_objects(store: Store, ids: Iterable[bytes]) -> list[ObjectProblem]:
    """Every problem of the objects `ids` (all readable through `store`, which also holds
    what they may refer to). Objects of the store itself are trusted as they are."""
    wanted = list(dict.fromkeys(ids))
    kinds: dict[bytes, str] = {}
    problems: list[ObjectProblem] = []
    refs: list[tuple[bytes, str, bytes, str]] = []  # (from, from kind, to, expected kind)
    for sha in wanted:
        kind, raw = store.raw(sha)
        kinds[sha] = kind

        def problem(reason: str, sha: bytes = sha, kind: str = kind) -> None:
            problems.append(ObjectProblem(sha.decode(), kind, reason))

        if kind not in ("commit", "tree", "blob"):
            problem("a store holds commits, trees and blobs only")
            continue
        reasons: list[str] = []
        if kind == "commit":
            reasons, targets = commit_problems(raw)
            refs += [
                (sha, kind, target, "tree" if i == 0 else "commit")
                for i, target in enumerate(targets)
            ]
        elif kind == "tree":
            reasons = [f"entry {p}" for p in check_tree_entries(store, sha)]
            refs += [
                (sha, kind, target, _ENTRY_TYPES[mode])
                for mode, target in _tree_refs(raw)
                if mode in _ENTRY_TYPES
            ]
        if not reasons:  # dulwich's own strict parse: whatever our rules do not name
            try:
                ShaFile.from_raw_string(_TYPE_NUMS[kind], raw, ObjectID(sha)).check()
            except (ObjectFormatException, ChecksumMismatch, ValueError) as exc:
                reasons = [f"does not parse strictly: {exc}"]
        for reason in reasons:
            problem(reason)
    for source, source_kind, target, expected in refs:
        found = kinds.get(target)
        if found is None:
            if target not in store:
                problems.append(
                    ObjectProblem(
                        source.decode(),
                        source_kind,
                        f"refers to {target.decode()}, which is missing",
                    )
                )
                continue
            found = expected  # an object of the store: trusted
        if found != expected:
            problems.append(
                ObjectProblem(
                    source.decode(),
                    source_kind,
                    f"refers to {target.decode()} as a {expected}, but it is a {found}",
                )
            )
    return problems
