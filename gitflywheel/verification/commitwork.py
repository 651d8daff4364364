"""One commit judged on its own: everything the rules say about it that does not depend
on what earlier commits established.

What changed, the tree entries, the paths, the trailers, and every session folder it
touches (files, facts derived again, artifacts rendered again) depend on the commit and
its parents alone, so any process may prepare them, in any order. The result is a
`CommitWork`: the findings and, in the order the rules meet them, what the walk must
still judge against the index (history.py): blob references, a session named but not
changed, and each session folder's revision and uniqueness. Commits a sync merge brings
are judged here in full, by their own change, as the walk has no index for them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

from ..errors import StoreError
from ..jsontext import JSONTextError
from ..pipelines.drafts import twin_keys
from ..session.manifest import Manifest
from ..session.public_text import private_text_warnings
from ..storage.commits import SessionTrailers, config_trailers, session_trailers
from ..storage.layout import (
    MANIFEST_FILE,
    RECORD_FILE,
    SESSIONS_DIR,
    SETTINGS_FILE,
    STORE_FILE,
    TEMPLATES_DIR,
    session_dir,
)
from ..storage.objectcheck import commit_problems
from ..storage.objects import CommitInfo
from ..storage.signing import TrustedSigner
from ..storage.store import Store
from ..storage.treediff import Changes, diff_sessions, read_entries
from .context import Context, is_blob, read_commit, safe_id, unread_commit
from .entries import check_trees
from .folder import CleanFolders, FolderChecks, gate_warnings
from .index import SessionState
from .provenance import check_provenance
from .result import Finding
from .rules import RULES
from .settings import check_merged_settings, check_settings, check_settings_commit
from .signatures import SignatureChecks

__all__ = [
    "Before",
    "BlobRefs",
    "CommitChecks",
    "CommitWork",
    "SessionWork",
    "Unchanged",
    "finding",
    "judge_session",
    "merged_re_render",
]


def finding(rule: str, commit: str, path: str, message: str) -> Finding:
    assert rule in RULES, rule
    return Finding(rule, commit, path, message)


@dataclass(frozen=True)
class Before:
    """What the store held of a session before the commit being judged."""

    revision: int
    path: str
    record_blob: str | None


@dataclass(frozen=True)
class BlobRefs:
    """(blob, size, +1/-1) changes to the references of the tip's tree."""

    deltas: list[tuple[str, int, int]]


@dataclass(frozen=True)
class Unchanged:
    """A commit whose trailers name a session but that changes no session folder."""

    commit: str
    session_id: str
    named: str | None  # the folder the id decides, when the id is one the layout can place
    rerender: bool


@dataclass
class SessionWork:
    """One session folder as a commit leaves it, checked; `state` is None when its
    manifest or record could not be read (the findings say why)."""

    commit: str
    path: str
    folder_id: str
    added: bool  # the folder is new at this path
    trailers: SessionTrailers | None
    read: list[Finding] = field(default_factory=list)
    named: list[Finding] = field(default_factory=list)  # what the trailers say against it
    checks: list[Finding] = field(default_factory=list)  # files, facts, artifacts
    state: SessionState | None = None
    record_in_tree: str | None = None  # the blob at session.json
    manifest_record: str = ""  # the record blob the manifest names
    artifacts: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    # (kind, blob, pipeline, step, path) per artifact
    warnings: tuple[str, ...] = ()
    twins: tuple[tuple[str, str], ...] = ()  # (key, what it is): `drafts.twin_keys`


Step = Finding | BlobRefs | Unchanged | SessionWork
_T = TypeVar("_T")


@dataclass
class CommitWork:
    """What one commit's own change showed, in the order the rules met it."""

    commit: str
    steps: list[Step] = field(default_factory=list)
    side_commits: int = 0  # commits a merge brings, judged here
    sessions: int = 0  # session folders checked, those of the merged side included


def judge_session(work: SessionWork, before: Before | None) -> list[Finding]:
    """The findings of a session folder up to its uniqueness, given what the store held
    of the session before (from the index, or for a merged side from the tree)."""
    found = list(work.read)
    state = work.state
    if state is None:
        return found
    if before is not None and work.added:
        found.append(
            finding(
                "session.path",
                work.commit,
                work.path,
                f"session {work.folder_id} is already recorded at {before.path}",
            )
        )
    found += work.named
    trailers = work.trailers
    if trailers is not None and trailers.rerender:
        found += _rerender_findings(work, state, before, trailers)
    else:
        found += _revision_findings(work, state, before, trailers)
    found += work.checks
    return found


def merged_re_render(work: SessionWork, before: Before | None) -> bool:
    """Whether a merge takes the folder of a session at the record and revision the store
    held, its facts and artifacts new: what a re-render on the merged side made (whose
    own commit the merged side's check judged as one)."""
    return (
        work.trailers is None
        and before is not None
        and work.state is not None
        and work.state.revision == before.revision
        and work.record_in_tree == before.record_blob
        and work.manifest_record == before.record_blob
    )


def _revision_findings(
    work: SessionWork, state: SessionState, before: Before | None, trailers: SessionTrailers | None
) -> list[Finding]:
    """A commit that records a session records its next revision, and says which."""
    found = []
    expected = 1 if before is None else before.revision + 1
    manifest_path = f"{work.path}/{MANIFEST_FILE}"
    if trailers is not None and trailers.revision != expected:
        found.append(
            finding(
                "session.revision",
                work.commit,
                work.path,
                f"records revision {trailers.revision}, but the next revision of {work.folder_id} is {expected}",
            )
        )
    if trailers is not None and state.revision != trailers.revision:
        found.append(
            finding(
                "session.revision",
                work.commit,
                manifest_path,
                f"the manifest says revision {state.revision}, the trailer {trailers.revision}",
            )
        )
    if trailers is None and state.revision < expected and not merged_re_render(work, before):
        # A merge takes a folder whose earlier revisions live on the merged side.
        found.append(
            finding(
                "session.revision",
                work.commit,
                manifest_path,
                f"the merge records revision {state.revision}, but {expected - 1} is already here",
            )
        )
    return found


def _rerender_findings(
    work: SessionWork, state: SessionState, before: Before | None, trailers: SessionTrailers
) -> list[Finding]:
    """A re-render keeps the session's record and revision: only facts, artifacts and
    the manifest may change."""
    if before is None:
        return [
            finding(
                "rerender.record-changed",
                work.commit,
                work.path,
                "says it re-renders a session that was not recorded before it",
            )
        ]
    found = []
    if work.record_in_tree != before.record_blob or work.manifest_record != before.record_blob:
        found.append(
            finding(
                "rerender.record-changed",
                work.commit,
                f"{work.path}/{RECORD_FILE}",
                "a re-render changes the session's record",
            )
        )
    if state.revision != before.revision or trailers.revision != before.revision:
        found.append(
            finding(
                "rerender.record-changed",
                work.commit,
                f"{work.path}/{MANIFEST_FILE}",
                f"a re-render changes the revision: it was {before.revision}, the manifest says "
                f"{state.revision} and the trailer {trailers.revision}",
            )
        )
    return found


def unchanged_findings(step: Unchanged, holder: str | None) -> list[Finding]:
    """A commit that names a session and changes none, given where the session is
    already recorded (None: nowhere)."""
    if step.rerender:
        message = f"says it re-renders session {step.session_id!r} but changes nothing"
        return [finding("commit.trailers", step.commit, step.named or "", message)]
    if holder is not None:
        message = (
            f"records session {step.session_id} again with the same record (a pipeline run twice)"
        )
        return [finding("duplicate.record", step.commit, holder, message)]
    message = f"names session {step.session_id!r} but records nothing"
    return [finding("commit.trailers", step.commit, step.named or "", message)]


class CommitChecks:
    """Prepares the work of commits, each from its own change. Each check returns its
    findings, in the order the rules meet them, and its caller collects them.

    `local`: the commits a merge brings, judged in full here by their own change (what
    the store held before a session comes from the parent's tree), without the
    store-wide rules, which apply at the merge to what it finally takes.
    """

    def __init__(
        self, store: Store, local: bool = False, clean: CleanFolders | None = None
    ) -> None:
        self.store = store
        self.local = local
        self.ctx = Context(store)
        self.folders = FolderChecks(self.ctx, clean)
        self.signatures = SignatureChecks(self.ctx)
        self.trust_floor: tuple[TrustedSigner, ...] = ()  # a merged side's: the merge's

    def prepare(self, sha: bytes) -> CommitWork:
        commit = self.store.commit(sha)
        work = CommitWork(commit.id.decode())
        work.steps = self._check_commit(commit, work)
        return work

    def _find(self, rule: str, commit: CommitInfo, path: str, message: str) -> Finding:
        return finding(rule, commit.id.decode(), path, message)

    def _collected(self, check: Callable[[], _T]) -> tuple[_T, list[Finding]]:
        """What `check` returns, and the findings it reports through the shared context
        (the tree entry and folder checks report there)."""
        outer = self.ctx.sink
        found: list[Finding] = []
        self.ctx.sink = found
        try:
            return check(), found
        finally:
            self.ctx.sink = outer

    def _check_commit(self, commit: CommitInfo, work: CommitWork) -> list[Step]:
        is_root = not commit.parents
        parent = read_commit(self.store, commit.parents[0]) if commit.parents else None
        if commit.parents and (parent is None or read_entries(self.store, parent.tree) is None):
            what = (
                f"commit {commit.parents[0].decode()[:12]} "
                + unread_commit(self.store, commit.parents[0])
                if parent is None
                else f"commit's tree {parent.tree.decode()[:12]} is not in the store"
            )
            return [
                self._find(
                    "history.missing-object",
                    commit,
                    "",
                    f"its parent {what}, so the change it makes cannot be judged",
                )
            ]
        changes = diff_sessions(
            self.store, parent.tree if parent else None, commit.tree, thorough=True
        )
        steps: list[Step] = [
            self._find("history.malformed-commit", commit, "", f"a malformed commit: {problem}")
            for problem in commit_problems(commit.raw)[0]
        ]
        steps += self.signatures.check(commit, parent, self.trust_floor)
        steps += self._collected(partial(check_trees, self.ctx, commit, changes))[1]
        if any(path == "" for path, _, _ in changes.missing):
            return steps  # no tree to judge
        if not self.local:
            steps.append(BlobRefs(self._blob_deltas(changes)))
        trailers = session_trailers(commit.message)
        config = config_trailers(commit.message)
        merge = len(commit.parents) > 1

        for path, (old_file, new_file) in sorted(changes.files.items()):
            top = path.split("/", 1)[0]
            if path == SETTINGS_FILE:
                continue  # judged below, with the settings
            if config is not None and not merge:
                steps.append(
                    self._find(
                        "settings.change",
                        commit,
                        path,
                        f"a settings commit changes {SETTINGS_FILE} and nothing else",
                    )
                )
                continue
            if top == TEMPLATES_DIR and (trailers is not None or is_root or merge):
                continue
            if is_root and top == STORE_FILE:
                continue
            if top == SESSIONS_DIR and new_file is not None:
                continue  # a file in the fan-out: tree.shape says so
            if top == SESSIONS_DIR:
                steps.append(
                    self._find(
                        "history.unexpected-path", commit, path, "a file outside any session folder"
                    )
                )
            else:
                what = "adds" if old_file is None else "removes" if new_file is None else "changes"
                steps.append(
                    self._find(
                        "history.unexpected-path",
                        commit,
                        path,
                        f"{what} a path that only the first commit may set up",
                    )
                )

        theirs = read_commit(self.store, commit.parents[1]) if merge else None
        if SETTINGS_FILE in changes.files and (theirs is not None or not merge):
            # (a merge whose other side is missing is reported as such below)
            steps += check_settings(
                self.ctx,
                commit,
                changes.files[SETTINGS_FILE],
                config if not merge else None,
                is_root=is_root,
                theirs=theirs.tree if theirs is not None else None,
            )
        elif config is not None and not merge:
            steps += check_settings_commit(commit, config)

        if merge:
            return steps + self._check_merge(commit, changes, work)
        if config is not None:
            steps += [
                self._find(
                    "settings.change",
                    commit,
                    path,
                    "a settings commit records no session, and changes none",
                )
                for path in sorted(changes.sessions)
            ]
            return steps

        named = None
        if trailers is None:
            if changes.sessions or not is_root:
                steps.append(
                    self._find(
                        "commit.no-session",
                        commit,
                        "",
                        "the commit records no session (no Session-Id trailer)",
                    )
                )
        else:
            named = session_dir(trailers.session_id) if safe_id(trailers.session_id) else None
            if not changes.sessions:
                step = Unchanged(work.commit, trailers.session_id, named, trailers.rerender)
                if self.local:
                    holder = self._recorded_in(parent, trailers.session_id)
                    steps += unchanged_findings(step, holder)
                else:
                    steps.append(step)
                return steps
        for path, (old, new) in sorted(changes.sessions.items()):
            if path != named:
                if new is None:
                    steps.append(self._find("session.removed", commit, path, "removes a session"))
                    continue
                if trailers is not None and trailers.rerender:
                    steps.append(
                        self._find(
                            "rerender.wrong-session",
                            commit,
                            path,
                            f"a re-render of session {trailers.session_id} changes another session",
                        )
                    )
                else:
                    names = f" (it names {trailers.session_id})" if trailers else ""
                    steps.append(
                        self._find(
                            "session.unnamed-change",
                            commit,
                            path,
                            f"changes a session its message does not name{names}",
                        )
                    )
                folder, read = self._collected(partial(self.folders.read, commit, path, new))
                steps += read
                steps += self._collected(
                    partial(self.folders.check, commit, folder, [commit.tree])
                )[1]
                continue
            if new is None:
                steps.append(
                    self._find("session.removed", commit, path, "removes the session it names")
                )
                continue
            steps += self._session(commit, path, old, new, trailers, [commit.tree], work)
        return steps

    def _check_merge(self, commit: CommitInfo, changes: Changes, work: CommitWork) -> list[Step]:
        other = read_commit(self.store, commit.parents[1])
        if other is None or read_entries(self.store, other.tree) is None:
            what = "commit" if other is None else "commit's tree"
            return [
                self._find(
                    "history.missing-object",
                    commit,
                    "",
                    f"the merged {what} {commit.parents[1].decode()[:12]} is not in the store",
                )
            ]
        ours = read_commit(self.store, commit.parents[0])
        assert ours is not None  # read in _check_commit
        steps: list[Step] = list(self._signed_for_both(commit, ours, other))
        steps += check_merged_settings(self.ctx, commit, (ours, other))
        # by session folder, the trees of the commits the merge brings that recorded it,
        # and those folders of them that such a commit changed where the session was held
        made_in: dict[str, list[bytes]] = {}
        changed: set[str] = set()
        if not self.local:
            side_steps, made_in, changed = self._check_merged_side(commit, work)
            steps += side_steps
        steps += self._kept_from(commit, other)
        for path, (old, new) in sorted(changes.sessions.items()):
            theirs = self.ctx.lookup(other.tree, path)
            if new is None:
                steps.append(
                    self._find("session.removed", commit, path, "the merge removes a session")
                )
            elif theirs is None or theirs[1] != new:
                steps.append(
                    self._find(
                        "session.unnamed-change",
                        commit,
                        path,
                        "the merge records a session folder that neither side of it has",
                    )
                )
            elif not self.local and old is not None and path not in changed:
                # a folder of a session both sides held that no commit the merge brings
                # changed: not the other side's change, but the first side's undone
                steps.append(
                    self._find(
                        "session.revision",
                        commit,
                        path,
                        "the merge takes a session folder that its other side did not change "
                        "since the two sides parted: it undoes what its first side made of it",
                    )
                )
            elif not self.local:
                # its templates are in the tree of the commit that rendered it
                trees = [commit.tree, other.tree, *made_in.get(path, ())]
                steps += self._session(commit, path, old, new, None, trees, work)
        return steps

    def _signed_for_both(
        self, merge: CommitInfo, ours: CommitInfo, other: CommitInfo
    ) -> list[Finding]:
        """When its first side trusts no signer and its other side does, a merge is signed
        as the other side's signers ask, and so is every commit of its first side since
        the two forked that no signer was asked of: whichever order a merge's parents come
        in, a side that forked before the trust was set is not let in unsigned, nor a merge
        that drops the trust. (When its first side trusts signers, the merge is judged by
        them, as any commit: a side that rotated its keys is merged by the new key.)"""
        floor = self.signatures.signers(other.tree) or ()
        if not floor or self.signatures.signers(ours.tree):
            return []
        found = self.signatures.check(merge, other)
        if self.local:
            return found
        try:
            mine = self.store.side_commits(other.id, ours.id)
        except (KeyError, StoreError, ValueError):
            return found  # _check_merged_side reports what cannot be read
        for sha in mine:
            commit = self.store.commit(sha)
            parent = read_commit(self.store, commit.parents[0]) if commit.parents else None
            if parent is not None and not self.signatures.signers(parent.tree):
                found += self.signatures.check(commit, parent, floor)
        return found

    def _kept_from(self, merge: CommitInfo, other: CommitInfo) -> list[Finding]:
        """A merge keeps every session its other side holds, at its revision or a later
        one (a re-render of the same record either way): what the first side's change
        does not show, as the merge is diffed against its first side."""
        try:
            kept = diff_sessions(self.store, other.tree, merge.tree).sessions
        except StoreError as exc:
            return [self._find("history.missing-object", merge, "", str(exc))]
        found = []
        for path, (theirs, mine) in sorted(kept.items()):
            if theirs is None:
                continue  # what the first side added
            if mine is None:
                found.append(
                    self._find(
                        "session.removed",
                        merge,
                        path,
                        "the merge leaves out a session its other side holds",
                    )
                )
                continue
            before, now = self._before_in(theirs), self._before_in(mine)
            if before is None or now is None:
                continue  # a manifest that does not read: reported where it was written
            if now.revision < before.revision or (
                now.revision == before.revision and now.record_blob != before.record_blob
            ):
                found.append(
                    self._find(
                        "session.revision",
                        merge,
                        path,
                        f"the merge keeps revision {now.revision} of a session whose other side "
                        f"records revision {before.revision}"
                        + (" differently" if now.revision == before.revision else ""),
                    )
                )
        return found

    def _check_merged_side(
        self, merge: CommitInfo, work: CommitWork
    ) -> tuple[list[Step], dict[str, list[bytes]], set[str]]:
        """Each commit the merge brings, judged by the change it makes; by session folder,
        the trees of those commits that recorded it (where its templates are); and the
        folders they changed where their first parent held the session (a re-render, a
        revision), not recorded anew."""
        try:
            brought = self.store.side_commits(merge.parents[0], merge.parents[1])
            made_in: dict[str, list[bytes]] = {}
            changed: set[str] = set()
            for sha in brought:
                commit = self.store.commit(sha)
                parent = read_commit(self.store, commit.parents[0]) if commit.parents else None
                before = parent.tree if parent is not None else None
                for path, (old, new) in diff_sessions(
                    self.store, before, commit.tree
                ).sessions.items():
                    if new is not None:
                        made_in.setdefault(path, []).append(commit.tree)
                        if old is not None:
                            changed.add(path)
        except (KeyError, StoreError, ValueError) as exc:
            found = self._find(
                "history.missing-object",
                merge,
                "",
                f"a commit on the merged side cannot be read: {exc}",
            )
            return [found], {}, set()
        side = CommitChecks(self.store, local=True)
        side.ctx, side.folders = self.ctx, self.folders  # one reader, one template cache
        side.signatures = self.signatures
        ours = read_commit(self.store, merge.parents[0])
        side.trust_floor = (self.signatures.signers(ours.tree) or ()) if ours else ()
        steps: list[Step] = []
        for sha in brought:
            side_work = side.prepare(sha)
            steps += side_work.steps
            work.sessions += side_work.sessions
            work.side_commits += 1
        return steps, made_in, changed

    def _recorded_in(self, parent: CommitInfo | None, session_id: str) -> str | None:
        """Where the parent's tree holds a session, if it does."""
        if parent is None or not safe_id(session_id):
            return None
        path = session_dir(session_id)
        return path if self.ctx.lookup(parent.tree, path) is not None else None

    def _before_in(self, old: bytes | None) -> Before | None:
        """The session as the folder's old tree held it, if it was recorded."""
        if old is None:
            return None
        entry = self.ctx.lookup(old, MANIFEST_FILE)
        data = self.ctx.blob(entry[1]) if entry else None
        record = self.ctx.lookup(old, RECORD_FILE)
        try:
            revision = Manifest.from_bytes(data).revision if data is not None else None
        except (ValueError, JSONTextError, UnicodeDecodeError):
            revision = None
        if revision is None:
            return None
        return Before(revision, "", record[1].decode() if record else None)

    def _moved(self, old: bytes | None, slug: str | None) -> str | None:
        """The slug the folder's old manifest gave the post, when this one changes it (a
        manifest that gave none, made before addresses were fixed, moves nothing)."""
        if old is None:
            return None
        entry = self.ctx.lookup(old, MANIFEST_FILE)
        data = self.ctx.blob(entry[1]) if entry else None
        try:
            was = Manifest.from_bytes(data).slug if data is not None else None
        except (ValueError, JSONTextError, UnicodeDecodeError):
            return None
        return was if was is not None and was != slug else None

    def _blob_deltas(self, changes: Changes) -> list[tuple[str, int, int]]:
        deltas: list[tuple[str, int, int]] = []
        for old_entry, new_entry in changes.files.values():
            for entry, delta in ((old_entry, -1), (new_entry, 1)):
                if entry is not None and is_blob(entry[0]):
                    deltas.append((entry[1].decode(), self._size(entry[1]), delta))
        for path, (old, new) in changes.sessions.items():
            for tree_id, delta in ((old, -1), (new, 1)):
                if tree_id is not None:
                    deltas += [
                        (sha.decode(), self._size(sha), delta)
                        for _, (mode, sha) in self.ctx.folder_files(tree_id, path).items()
                        if is_blob(mode)
                    ]
        return deltas

    def _size(self, sha: bytes) -> int:
        data = self.ctx.blob(sha)
        return 0 if data is None else len(data)  # a missing blob is reported by the diff

    def _session(
        self,
        commit: CommitInfo,
        path: str,
        old: bytes | None,
        new: bytes,
        trailers: SessionTrailers | None,
        template_trees: list[bytes],
        work: CommitWork,
    ) -> list[Step]:
        """Check one session folder as this commit leaves it: its work, or for a merged
        side, where the walk has no index, the findings it comes to."""
        work.sessions += 1
        folder_id = path.rsplit("/", 1)[-1]
        session = SessionWork(work.commit, path, folder_id, old is None, trailers)
        before = self._before_in(old) if self.local else None
        if session_dir(folder_id) != path if safe_id(folder_id) else True:
            session.read.append(
                self._find(
                    "session.path",
                    commit,
                    path,
                    f"session folder {folder_id!r} is not at the path its id decides",
                )
            )
        folder, read = self._collected(partial(self.folders.read, commit, path, new))
        session.read += read
        manifest, record = folder.manifest, folder.record
        if manifest is not None and record is not None:
            moved = self._moved(old, manifest.slug)
            if moved is not None:
                session.read.append(
                    self._find(
                        "session.address",
                        commit,
                        f"{path}/{MANIFEST_FILE}",
                        f"moves the session's post from sessions/{moved}/ to "
                        f"sessions/{manifest.slug}/: its address is fixed at its first record",
                    )
                )
            if manifest.session_id != folder_id:
                session.read.append(
                    self._find(
                        "manifest.invalid",
                        commit,
                        f"{path}/{MANIFEST_FILE}",
                        f"the manifest names session {manifest.session_id!r}, the folder {folder_id!r}",
                    )
                )
            if trailers is not None:
                session.named += self._check_trailers(
                    commit, path, trailers, record.session.session_type, record.session.agent_id
                )
            names_warnings, checked = self._collected(
                partial(self.folders.check, commit, folder, template_trees)
            )
            session.checks += checked
            if not checked:  # what the folder checks found, the statement would repeat
                session.checks += check_provenance(
                    self.ctx, commit, path, manifest, folder.files, template_trees
                )
            record_entry = folder.files.get(f"{path}/{RECORD_FILE}")
            session.record_in_tree = record_entry[1].decode() if record_entry else None
            session.manifest_record = manifest.record.blob
            session.state = SessionState(
                folder_id,
                path,
                manifest.record.blob,
                manifest.revision,
                record.fingerprint,
                record.session.session_type,
                manifest.pipeline_id,
                folder.filters,
            )
            session.artifacts = [
                (a.kind, a.blob, a.pipeline, a.step, a.path) for a in manifest.artifacts
            ]
            session.warnings = (
                *record.warnings,
                *private_text_warnings(record.data),
                *gate_warnings(folder, self.ctx),
                *names_warnings,
            )
            session.twins = tuple(twin_keys(record.data))
        if self.local:
            return [*judge_session(session, before)]
        return [session]

    def _check_trailers(
        self, commit: CommitInfo, path: str, t: SessionTrailers, session_type: str, agent_id: str
    ) -> list[Finding]:
        found = []
        if t.session_type != session_type:
            found.append(
                self._find(
                    "commit.trailers",
                    commit,
                    path,
                    f"Session-Type trailer says {t.session_type!r}, the record says {session_type!r}",
                )
            )
        if t.agent_id != agent_id:
            found.append(
                self._find(
                    "commit.trailers",
                    commit,
                    path,
                    f"Agent-Id trailer says {t.agent_id!r}, the record says {agent_id!r}",
                )
            )
        return found
