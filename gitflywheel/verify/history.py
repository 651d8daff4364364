"""The history walk: each commit of `main` judged against the one before it.

What changed in a commit's tree must be what its trailers say: one session recorded (a
new one or its next revision), or one session re-rendered by `rerender` (its record and
revision kept), and nothing else but templates. Every session folder it touches is
judged by the folder checks, and must be unique in the store. What earlier commits
established is kept in the index (see index), so a second run reads only the commits
added since; `full` walks everything from the root. Commits a sync merge brings are
judged by their own change as well.
"""

from __future__ import annotations

from collections.abc import Iterator

from dulwich.errors import ObjectFormatException
from dulwich.objects import Commit

from ..commits import SessionTrailers, session_trailers
from ..errors import StoreError
from ..jsontext import JSONTextError
from ..layout import (
    MANIFEST_FILE,
    RECORD_FILE,
    SESSIONS_DIR,
    STORE_FILE,
    TEMPLATES_DIR,
    session_dir,
)
from ..manifest import Manifest
from ..store import Store
from ..treediff import Changes, diff_sessions, read_entries
from .context import Context, is_blob, read_commit, safe_id
from .entries import check_trees
from .folder import Folder, FolderChecks
from .index import SessionState, VerifyState
from .result import Finding, VerifyResult

__all__ = ["VERIFIED_REF", "verify"]

VERIFIED_REF = b"refs/gitflywheel/verified"


class _Before:
    """What the store held of a session before the commit being judged."""

    def __init__(self, revision: int, path: str, record_blob: str | None) -> None:
        self.revision = revision
        self.path = path
        self.record_blob = record_blob


class _Walk:
    def __init__(
        self,
        ctx: Context,
        state: VerifyState,
        folders: FolderChecks,
        local: bool = False,
    ) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.state = state
        self.folders = folders
        # local: judge commits a merge brings by their own change only; the store-wide
        # rules (duplicates, the index) apply at the merge, to what it finally takes.
        self.local = local

    def find(self, rule: str, commit: Commit, path: str, message: str) -> None:
        self.ctx.find(rule, commit, path, message)

    def check_commit(self, commit: Commit, is_root: bool) -> None:
        parent = read_commit(self.store, commit.parents[0]) if commit.parents else None
        if commit.parents and (parent is None or read_entries(self.store, parent.tree) is None):
            what = "commit" if parent is None else "commit's tree"
            self.find(
                "history.missing-object",
                commit,
                "",
                f"its parent {what} {commit.parents[0].decode()[:12]} is not in the store, "
                "so the change it makes cannot be judged",
            )
            return
        changes = diff_sessions(
            self.store, parent.tree if parent else None, commit.tree, thorough=True
        )
        check_trees(self.ctx, commit, changes)
        if any(path == "" for path, _, _ in changes.missing):
            return  # no tree to judge
        if not self.local:
            self._count_blobs(changes)
        trailers = session_trailers(commit.message)
        merge = len(commit.parents) > 1

        for path, (old_file, new_file) in sorted(changes.files.items()):
            top = path.split("/", 1)[0]
            if top == TEMPLATES_DIR and (trailers is not None or is_root or merge):
                continue
            if is_root and top == STORE_FILE:
                continue
            if top == SESSIONS_DIR and new_file is not None:
                continue  # a file in the fan-out: tree.shape says so
            if top == SESSIONS_DIR:
                self.find(
                    "history.unexpected-path", commit, path, "a file outside any session folder"
                )
            else:
                what = "adds" if old_file is None else "removes" if new_file is None else "changes"
                self.find(
                    "history.unexpected-path",
                    commit,
                    path,
                    f"{what} a path that only the first commit may set up",
                )

        if merge:
            self._check_merge(commit, changes)
            return

        named = None
        if trailers is None:
            if changes.sessions or not is_root:
                self.find(
                    "commit.no-session",
                    commit,
                    "",
                    "the commit records no session (no Session-Id trailer)",
                )
        else:
            named = session_dir(trailers.session_id) if safe_id(trailers.session_id) else None
            if not changes.sessions:
                holder = self._recorded(trailers.session_id, parent)
                if trailers.rerender:
                    self.find(
                        "commit.trailers",
                        commit,
                        named or "",
                        f"says it re-renders session {trailers.session_id!r} but changes nothing",
                    )
                elif holder is not None:
                    self.find(
                        "duplicate.record",
                        commit,
                        holder,
                        f"records session {trailers.session_id} again with the same record (a pipeline run twice)",
                    )
                else:
                    self.find(
                        "commit.trailers",
                        commit,
                        named or "",
                        f"names session {trailers.session_id!r} but records nothing",
                    )
                return
        for path, (old, new) in sorted(changes.sessions.items()):
            if path != named:
                if new is None:
                    self.find("session.removed", commit, path, "removes a session")
                    continue
                if trailers is not None and trailers.rerender:
                    self.find(
                        "rerender.wrong-session",
                        commit,
                        path,
                        f"a re-render of session {trailers.session_id} changes another session",
                    )
                else:
                    names = f" (it names {trailers.session_id})" if trailers else ""
                    self.find(
                        "session.unnamed-change",
                        commit,
                        path,
                        f"changes a session its message does not name{names}",
                    )
                self.check_content(commit, path, new, [commit.tree])
                continue
            if new is None:
                self.find("session.removed", commit, path, "removes the session it names")
                continue
            self.check_session(commit, path, old, new, trailers, [commit.tree])

    def _check_merge(self, commit: Commit, changes: Changes) -> None:
        other = read_commit(self.store, commit.parents[1])
        if other is None or read_entries(self.store, other.tree) is None:
            what = "commit" if other is None else "commit's tree"
            self.find(
                "history.missing-object",
                commit,
                "",
                f"the merged {what} {commit.parents[1].decode()[:12]} is not in the store",
            )
            return
        if not self.local:
            self.check_merged_side(commit)
        for path, (old, new) in sorted(changes.sessions.items()):
            theirs = self.ctx.lookup(other.tree, path)
            if new is None:
                self.find("session.removed", commit, path, "the merge removes a session")
            elif theirs is None or theirs[1] != new:
                self.find(
                    "session.unnamed-change",
                    commit,
                    path,
                    "the merge records a session folder that neither side of it has",
                )
            elif not self.local:
                self.check_session(commit, path, old, new, None, [commit.tree, other.tree])

    def check_merged_side(self, merge: Commit) -> None:
        """Each commit the merge brings, judged by the change it makes."""
        side = _Walk(self.ctx, self.state, self.folders, local=True)
        try:
            brought = self.store.side_commits(merge.parents[0], merge.parents[1])
        except (KeyError, StoreError, ObjectFormatException, ValueError) as exc:
            self.find(
                "history.missing-object",
                merge,
                "",
                f"a commit on the merged side cannot be read: {exc}",
            )
            return
        for sha in brought:
            commit = self.store.commit(sha)
            side.check_commit(commit, is_root=not commit.parents)
            self.ctx.result.commits_checked += 1

    def _recorded(self, session_id: str, parent: Commit | None) -> str | None:
        """Where a session is already recorded before this commit, if it is."""
        if not self.local:
            held = self.state.session(session_id)
            return held.path if held else None
        if parent is None or not safe_id(session_id):
            return None
        path = session_dir(session_id)
        return path if self.ctx.lookup(parent.tree, path) is not None else None

    def _before(self, old: bytes | None, folder_id: str) -> _Before | None:
        """The session as the store held it before this commit, if it was recorded."""
        if not self.local:
            held = self.state.session(folder_id)
            return _Before(held.revision, held.path, held.record_blob) if held else None
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
        return _Before(revision, "", record[1].decode() if record else None)

    def _count_blobs(self, changes: Changes) -> None:
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
        self.state.blob_refs(deltas)

    def _size(self, sha: bytes) -> int:
        data = self.ctx.blob(sha)
        return 0 if data is None else len(data)  # a missing blob is reported by the diff

    def check_session(
        self,
        commit: Commit,
        path: str,
        old: bytes | None,
        new: bytes,
        trailers: SessionTrailers | None,
        template_trees: list[bytes],
    ) -> None:
        """Judge one session folder as this commit leaves it."""
        self.ctx.result.sessions_checked += 1
        folder_id = path.rsplit("/", 1)[-1]
        if session_dir(folder_id) != path if safe_id(folder_id) else True:
            self.find(
                "session.path",
                commit,
                path,
                f"session folder {folder_id!r} is not at the path its id decides",
            )
        before = self._before(old, folder_id)
        folder = self.folders.read(commit, path, new)
        manifest, record = folder.manifest, folder.record
        if manifest is None or record is None:
            return
        session = record.session
        if manifest.session_id != folder_id:
            self.find(
                "manifest.invalid",
                commit,
                f"{path}/{MANIFEST_FILE}",
                f"the manifest names session {manifest.session_id!r}, the folder {folder_id!r}",
            )
        if before is not None and old is None:
            self.find(
                "session.path",
                commit,
                path,
                f"session {folder_id} is already recorded at {before.path}",
            )
        if trailers is not None:
            self._check_trailers(commit, path, trailers, session.session_type, session.agent_id)
        if trailers is not None and trailers.rerender:
            self._check_rerender(commit, folder, before, trailers)
        else:
            self._check_revision(commit, folder, before, trailers)
        self.folders.check(commit, folder, template_trees)
        if self.local:
            return

        record_blob = manifest.record.blob
        held = self.state.record_holder(record_blob)
        if held is not None and not (trailers is not None and trailers.rerender):
            self.find(
                "duplicate.record",
                commit,
                f"{path}/{RECORD_FILE}",
                f"records a session record the store already had (revision {held[1]} of {held[0]}): a pipeline run twice",
            )
        for artifact in manifest.artifacts:
            other = self.state.artifact_holder(artifact.kind, artifact.blob, folder_id)
            if other is not None:
                self.find(
                    "duplicate.artifact",
                    commit,
                    artifact.path,
                    f"its {artifact.kind} is byte-identical to that of session {other}: it would be published twice",
                )
        twin = self.state.session_with_fingerprint(record.fingerprint, folder_id)
        if twin is not None:
            self.find(
                "duplicate.session",
                commit,
                path,
                f"the same session as {twin}, recorded under another id",
            )
        self.state.put_session(
            SessionState(
                folder_id,
                path,
                record_blob,
                manifest.revision,
                record.fingerprint,
                session.session_type,
                manifest.pipeline_id,
                folder.filters,
            ),
            [(a.kind, a.blob, a.pipeline, a.step) for a in manifest.artifacts],
            record.warnings,
        )

    def _check_revision(
        self,
        commit: Commit,
        folder: Folder,
        before: _Before | None,
        trailers: SessionTrailers | None,
    ) -> None:
        """A commit that records a session records its next revision, and says which."""
        manifest = folder.manifest
        assert manifest is not None
        expected = 1 if before is None else before.revision + 1
        if trailers is not None and trailers.revision != expected:
            self.find(
                "session.revision",
                commit,
                folder.path,
                f"records revision {trailers.revision}, but the next revision of {folder.folder_id} is {expected}",
            )
        if trailers is not None and manifest.revision != trailers.revision:
            self.find(
                "session.revision",
                commit,
                f"{folder.path}/{MANIFEST_FILE}",
                f"the manifest says revision {manifest.revision}, the trailer {trailers.revision}",
            )
        if trailers is None and manifest.revision < expected:
            # A merge takes a folder whose earlier revisions live on the merged side.
            self.find(
                "session.revision",
                commit,
                f"{folder.path}/{MANIFEST_FILE}",
                f"the merge records revision {manifest.revision}, but {expected - 1} is already here",
            )

    def _check_rerender(
        self, commit: Commit, folder: Folder, before: _Before | None, trailers: SessionTrailers
    ) -> None:
        """A re-render keeps the session's record and revision: only facts, artifacts and
        the manifest may change."""
        manifest = folder.manifest
        assert manifest is not None
        if before is None:
            self.find(
                "rerender.record-changed",
                commit,
                folder.path,
                "says it re-renders a session that was not recorded before it",
            )
            return
        record_entry = folder.files.get(f"{folder.path}/{RECORD_FILE}")
        now = record_entry[1].decode() if record_entry else None
        if now != before.record_blob or manifest.record.blob != before.record_blob:
            self.find(
                "rerender.record-changed",
                commit,
                f"{folder.path}/{RECORD_FILE}",
                "a re-render changes the session's record",
            )
        if manifest.revision != before.revision or trailers.revision != before.revision:
            self.find(
                "rerender.record-changed",
                commit,
                f"{folder.path}/{MANIFEST_FILE}",
                f"a re-render changes the revision: it was {before.revision}, the manifest says "
                f"{manifest.revision} and the trailer {trailers.revision}",
            )

    def check_content(
        self, commit: Commit, path: str, new: bytes, template_trees: list[bytes]
    ) -> None:
        """The folder's own rules (files, facts, artifacts) for a change that is not allowed."""
        self.folders.check(commit, self.folders.read(commit, path, new), template_trees)

    def _check_trailers(
        self, commit: Commit, path: str, t: SessionTrailers, session_type: str, agent_id: str
    ) -> None:
        if t.session_type != session_type:
            self.find(
                "commit.trailers",
                commit,
                path,
                f"Session-Type trailer says {t.session_type!r}, the record says {session_type!r}",
            )
        if t.agent_id != agent_id:
            self.find(
                "commit.trailers",
                commit,
                path,
                f"Agent-Id trailer says {t.agent_id!r}, the record says {agent_id!r}",
            )


def _first_parent_ids(store: Store, tip: bytes) -> Iterator[bytes]:
    """The first-parent chain from `tip`, down to the root or to the last commit the store
    holds (the commit whose parent is missing reports it)."""
    sha: bytes | None = tip
    while sha is not None:
        commit = read_commit(store, sha)
        if commit is None:
            return
        yield sha
        sha = commit.parents[0] if commit.parents else None


def _is_ancestor(store: Store, ancestor: bytes, tip: bytes) -> bool:
    seen: set[bytes] = set()
    stack = [tip]
    while stack:
        sha = stack.pop()
        if sha == ancestor:
            return True
        commit = None if sha in seen else read_commit(store, sha)
        if commit is None:
            continue
        seen.add(sha)
        stack.extend(commit.parents)
    return False


def verify(store: Store, full: bool = False) -> VerifyResult:
    """Verify `main`; incremental from the last clean run unless `full`."""
    tip = store.tip()
    result = VerifyResult(str(store.path), tip.decode() if tip else None, full)
    verified = store.read_ref(VERIFIED_REF)
    result.verified_before = verified.decode() if verified else None
    if tip is None:
        return result
    if read_commit(store, tip) is None:
        result.findings.append(
            Finding(
                "history.missing-object",
                tip.decode(),
                "refs/heads/main",
                f"main points at {tip.decode()[:12]}, which is not a commit in the store",
            )
        )
        return result
    if verified is not None and (verified not in store or not _is_ancestor(store, verified, tip)):
        result.findings.append(
            Finding(
                "history.rewritten",
                verified.decode(),
                "refs/heads/main",
                f"commit {verified.decode()[:12]}, verified by an earlier run, is no longer part of main: "
                "the history was rewritten or rewound",
            )
        )

    state = None if full else VerifyState.load(store.path)
    chain: list[bytes] = []
    if (
        state is not None
        and verified is not None
        and state.get_meta("verified") == verified.decode()
    ):
        for sha in _first_parent_ids(store, tip):
            if sha == verified:
                break
            chain.append(sha)
        else:
            state.close()
            state, chain = None, []
    elif state is not None:
        state.close()
        state = None
    if state is None:
        result.full = True
        state = VerifyState(None)
        chain = list(_first_parent_ids(store, tip))
    chain.reverse()

    ctx = Context(store, result)
    walk = _Walk(ctx, state, FolderChecks(ctx))
    for sha in chain:
        commit = store.commit(sha)
        walk.check_commit(commit, is_root=not commit.parents)
        result.commits_checked += 1

    result.figures = state.figures()
    result.sessions_by_type = state.sessions_by_type()
    result.artifacts_by_step = state.artifacts_by_step()
    result.pipelines = state.pipelines()
    result.filter_sets = state.filter_sets()
    result.warnings = [
        Finding("session.warning", "", session_dir(sid), text, "warning")
        for sid, text in state.all_warnings()
    ]
    if result.ok:
        state.set_meta("verified", tip.decode())
        state.save_as(store.path)
        store.set_ref(VERIFIED_REF, tip)
    state.close()
    return result
