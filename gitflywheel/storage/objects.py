"""Git objects as the rest of gitflywheel sees them: ids, bytes and frozen values.

A commit read from the store is a `CommitInfo`, a tree a tuple of `TreeEntry`, a blob
its bytes; nothing outside the storage folder holds a dulwich object. Parsing is
dulwich's, unchanged, so what it refuses is refused here too, as `MalformedObject` (a
StoreError, which a reader that does not trust the store, such as verify, catches).
The id of a blob is computed here, once for the whole package.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import NamedTuple

from dulwich.errors import ObjectFormatException
from dulwich.objects import Commit, ObjectID, ShaFile, Tree

from ..errors import StoreError

__all__ = [
    "COMMIT_TYPE",
    "TREE_TYPE",
    "BLOB_TYPE",
    "TAG_TYPE",
    "TYPE_NAMES",
    "CommitInfo",
    "TreeEntry",
    "MalformedObject",
    "blob_id",
    "object_id",
    "parse_commit",
    "parse_tree",
    "check_parses",
]

COMMIT_TYPE, TREE_TYPE, BLOB_TYPE, TAG_TYPE = 1, 2, 3, 4  # git's type numbers
TYPE_NAMES = {COMMIT_TYPE: "commit", TREE_TYPE: "tree", BLOB_TYPE: "blob", TAG_TYPE: "tag"}


class MalformedObject(StoreError):
    """An object whose bytes do not parse as its type says (dulwich's reason kept)."""


@dataclass(frozen=True)
class CommitInfo:
    """A commit as stored: ids as hex bytes, identities as `Name <email>` bytes, dates in
    seconds since 1970 with their zone's offset in seconds east of UTC. A header the
    commit lacks (author, committer, a date, the message) reads as empty: b"" or 0.
    `raw` is the commit's bytes as git stores them (without the `commit <size>` header)."""

    id: bytes
    tree: bytes
    parents: tuple[bytes, ...]
    author: bytes
    committer: bytes
    author_time: int
    author_timezone: int
    commit_time: int
    commit_timezone: int
    message: bytes
    raw: bytes


class TreeEntry(NamedTuple):
    """One entry of a tree: its name as stored, its mode, and the id it names."""

    name: bytes
    mode: int
    id: bytes


def object_id(type_num: int, data: bytes) -> bytes:
    """The id git gives an object of this type and these bytes (hex)."""
    header = b"%s %d\x00" % (TYPE_NAMES[type_num].encode(), len(data))
    return hashlib.sha1(header + data).hexdigest().encode()


def blob_id(data: bytes) -> bytes:
    """The id git gives a blob of these bytes (hex): what `git hash-object` prints."""
    return hashlib.sha1(b"blob %d\x00" % len(data) + data).hexdigest().encode()


def parse_commit(sha: bytes, raw: bytes) -> CommitInfo:
    """A commit from its bytes, parsed as dulwich parses it; MalformedObject if they do
    not parse. Nothing else is checked: that is `objectcheck`'s and verify's business."""
    try:
        commit = Commit.from_raw_string(COMMIT_TYPE, raw, sha=ObjectID(sha))
    except (ObjectFormatException, ValueError) as exc:
        raise MalformedObject(str(exc)) from None
    assert isinstance(commit, Commit)
    return commit_info(commit, raw)


def commit_info(commit: Commit, raw: bytes | None = None) -> CommitInfo:
    """Our view of a dulwich commit (storage-internal: `make_commit` and `parse_commit`)."""
    return CommitInfo(
        id=bytes(commit.id),
        tree=bytes(commit.tree),
        parents=tuple(bytes(p) for p in commit.parents),
        author=commit.author or b"",
        committer=commit.committer or b"",
        author_time=commit.author_time or 0,
        author_timezone=commit.author_timezone or 0,
        commit_time=commit.commit_time or 0,
        commit_timezone=commit.commit_timezone or 0,
        message=commit.message or b"",
        raw=commit.as_raw_string() if raw is None else raw,
    )


def parse_tree(raw: bytes) -> tuple[TreeEntry, ...]:
    """A tree's entries from its bytes, as dulwich reads a tree: in git's order, a name
    given twice once (its last entry); MalformedObject if they do not parse."""
    try:
        tree = Tree.from_raw_string(TREE_TYPE, raw)
    except (ObjectFormatException, ValueError) as exc:
        raise MalformedObject(str(exc)) from None
    assert isinstance(tree, Tree)
    return tuple(TreeEntry(item.path, item.mode, bytes(item.sha)) for item in tree.iteritems())


def check_parses(type_num: int, sha: bytes, raw: bytes) -> None:
    """MalformedObject unless the bytes parse as an object of this type (a tag too)."""
    try:
        ShaFile.from_raw_string(type_num, raw, sha=ObjectID(sha))
    except (ObjectFormatException, ValueError) as exc:
        raise MalformedObject(str(exc)) from None
