"""A built site as a branch of the store (`site --branch pages`), so that `publish` puts
it on a host that serves a branch (GitHub, GitLab, Codeberg, Forgejo pages).

One commit per build that changes the site's files; its parent is the branch's previous
tip, its tree the site, its message names the commit of `main` it was built from in a
`Built-From` trailer, and its dates are that commit's (so the same store gives the same
branch on every host). `main` is never touched, and `verify`, which proves the rules of
`main`, does not read the branch. A branch whose tip says `Built-From` is a site branch:
`publish` pushes it with `main`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import StoreError
from ..storage.commits import committer_identity, parse_trailers
from ..storage.objects import blob_id
from ..storage.refs import branch_name_problem
from ..storage.store import MAIN, Store
from ..storage.trees import FILE_MODE
from .site_files import SiteFiles

__all__ = ["BUILT_FROM", "BranchCommit", "branch_ref", "commit_site", "site_branches"]

BUILT_FROM = "Built-From"
_BRANCH = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*(?:[./][A-Za-z0-9][A-Za-z0-9_-]*)*")


@dataclass(frozen=True)
class BranchCommit:
    """Where a site branch is after a build, and whether the build made a commit."""

    branch: str
    commit: str
    made: bool


def branch_ref(name: str) -> bytes:
    """`refs/heads/NAME` for a site branch: a name `git check-ref-format --branch` takes,
    made of letters, digits, `-`, `_`, `.` and `/` between words, other than `main`."""
    problem = branch_name_problem(name)
    if problem is None and name == "main":
        problem = "main is the store's history, never a site"
    if problem is None and (len(name) > 100 or not _BRANCH.fullmatch(name)):
        problem = "only letters, digits, `-`, `_`, and `.` or `/` between words, 100 at most"
    if problem is not None:
        raise StoreError(
            f"--branch {name!r}: not a branch name for the site: {problem}; e.g. pages"
        )
    return f"refs/heads/{name}".encode()


def _is_site_commit(store: Store, sha: bytes) -> bool:
    try:
        return BUILT_FROM in parse_trailers(store.commit(sha).message)
    except (StoreError, KeyError):
        return False


def site_branches(store: Store) -> dict[bytes, bytes]:
    """The store's site branches (ref -> tip): branches other than `main` whose tip
    commit says `Built-From`."""
    found = {}
    for ref in store.ref_names():
        if ref.startswith(b"refs/heads/") and ref != MAIN:
            tip = store.read_ref(ref)
            if tip is not None and _is_site_commit(store, tip):
                found[ref] = tip
    return found


def commit_site(
    store: Store,
    branch: str,
    files: Mapping[str, bytes],
    built_from: str,
    blob_ids: dict[str, bytes] | None = None,
) -> BranchCommit:
    """Commit the site's files to `branch` (made when missing), unless its tip already
    holds exactly these files. A branch that exists but was not built by gitflywheel is
    refused, never overwritten. `blob_ids` (SHA-256 of a file's bytes -> its blob id,
    from an earlier build) spares reading a file of a build (`SiteFiles`) whose blob the
    store holds; it gets the ids of this build's files."""
    ref = branch_ref(branch)
    source = store.commit(built_from.encode())
    # A site's files mostly repeat its last build: what the store holds is neither held
    # in memory nor written again (a build's files are read one at a time).
    with store.writing(skip_stored=True) as writer:
        editor = writer.edit(None)
        known = blob_ids if blob_ids is not None else {}
        digests = files.digests if isinstance(files, SiteFiles) else {}
        for path in sorted(files):
            digest = digests.get(path)
            sha = known.get(digest) if digest is not None else None
            if sha is None or sha not in store:
                data = files[path]
                sha = blob_id(data)
                if sha not in store:
                    writer.put_blob(data)
                if digest is not None:
                    known[digest] = sha
            editor.set(path, FILE_MODE, sha)
        root = writer.write_tree(editor)
        before = store.read_ref(ref)
        if before is not None:
            if not _is_site_commit(store, before):
                raise StoreError(
                    f"--branch {branch}: the store's branch {branch} was not built by "
                    "`gitflywheel site` (its tip has no Built-From trailer); it is left as it "
                    "is: give another --branch"
                )
            if store.commit(before).tree == root:
                return BranchCommit(branch, before.decode(), False)
        message = (
            f"Build the site from main {built_from[:12]}\n\n{BUILT_FROM}: {built_from}\n"
        ).encode()
        commit = writer.commit(
            root,
            [before] if before is not None else [],
            message,
            committer_identity(),
            None,
            source.commit_time,
        )
        writer.move_branch(ref, before, commit)
    return BranchCommit(branch, commit.decode(), True)
