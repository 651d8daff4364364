"""The history walk: each commit of `main` judged against the one before it.

What changed in a commit's tree must be what its trailers say: one session recorded (a
new one or its next revision), or one session re-rendered by `rerender` (its record and
revision kept), and nothing else but templates. Every session folder it touches is
judged by the folder checks, and must be unique in the store. Each commit's own change
is prepared on its own (commitwork), in worker processes when there are many (pool);
the walk then judges the prepared work in commit order against what earlier commits
established, which is kept in the index (see index), so a second run reads only the
commits added since; `full` walks everything from the root. Commits a sync merge brings
are judged by their own change as well. A run reads the commit `main` points at when it
starts and what lies under it, so writers go on meanwhile; two runs take turns (lock).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ..errors import GitflywheelError
from ..queries.settings import settings_at
from ..storage.gitdir import VERIFIED_REF, StorePaths
from ..storage.layout import RECORD_FILE, session_dir
from ..storage.locks import file_lock, file_lock_if_free
from ..storage.store import Store
from .commitwork import (
    Before,
    BlobRefs,
    CommitWork,
    SessionWork,
    Unchanged,
    finding,
    judge_session,
    merged_re_render,
    unchanged_findings,
)
from .context import read_commit, unread_commit
from .folder import CleanFolders
from .index import VerifyState
from .pool import Preparing, default_jobs
from .result import Finding, VerifyResult

__all__ = ["VERIFIED_REF", "adopt_verified", "verify"]

_RELEASE_EVERY = 1024  # commits read between releases of the pack pages read


class _Walk:
    """Prepared commits judged in commit order against the index, which they update."""

    def __init__(self, state: VerifyState, result: VerifyResult) -> None:
        self.state = state
        self.result = result

    def judge(self, work: CommitWork) -> None:
        found = self.result.findings
        for step in work.steps:
            if isinstance(step, Finding):
                found.append(step)
            elif isinstance(step, BlobRefs):
                self.state.blob_refs(step.deltas)
            elif isinstance(step, Unchanged):
                held = self.state.session(step.session_id)
                found += unchanged_findings(step, held.path if held else None)
            else:
                self._session(step)
        self.result.commits_checked += 1 + work.side_commits
        self.result.sessions_checked += work.sessions

    def _session(self, work: SessionWork) -> None:
        held = self.state.session(work.folder_id)
        before = Before(held.revision, held.path, held.record_blob) if held else None
        found = self.result.findings
        found += judge_session(work, before)
        state = work.state
        if state is None:
            return
        rerender = merged_re_render(work, before) or (
            work.trailers is not None and work.trailers.rerender
        )
        holder = self.state.record_holder(state.record_blob)
        if holder is not None and not rerender:
            found.append(
                finding(
                    "duplicate.record",
                    work.commit,
                    f"{work.path}/{RECORD_FILE}",
                    f"records a session record the store already had (revision {holder[1]} of {holder[0]}): a pipeline run twice",
                )
            )
        for kind, blob, _, _, path in work.artifacts:
            other = self.state.artifact_holder(kind, blob, work.folder_id)
            if other is not None:
                found.append(
                    finding(
                        "duplicate.artifact",
                        work.commit,
                        path,
                        f"its {kind} is byte-identical to that of session {other}: it would be published twice",
                    )
                )
        twin = self.state.session_with_fingerprint(state.fingerprint, work.folder_id)
        if twin is not None:
            found.append(
                finding(
                    "duplicate.session",
                    work.commit,
                    work.path,
                    f"the same session as {twin}, recorded under another id",
                )
            )
        twins: dict[str, list[str]] = {}
        for key, what in work.twins:
            earlier = self.state.twin_of(key, work.folder_id)
            if earlier is not None:
                twins.setdefault(earlier, []).append(what)
        warnings = list(work.warnings) + [
            f"session {work.folder_id} is a twin of session {earlier}, recorded before it: "
            f"{' and '.join(what)}; the site and exports publish only one of the two"
            for earlier, what in twins.items()
        ]
        self.state.put_session(
            state,
            [(kind, blob, pipeline, step) for kind, blob, pipeline, step, _ in work.artifacts],
            warnings,
            [key for key, _ in work.twins],
            first=held is None,
        )


def _first_parent_ids(store: Store, tip: bytes) -> Iterator[bytes]:
    """The first-parent chain from `tip`, down to the root or to the last commit the store
    holds (the commit whose parent is missing reports it)."""
    sha: bytes | None = tip
    read = 0
    while sha is not None:
        commit = read_commit(store, sha)
        if commit is None:
            return
        yield sha
        sha = commit.parents[0] if commit.parents else None
        read += 1
        if read % _RELEASE_EVERY == 0:
            store.release_packs()  # commits lie all over the packs


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
        if len(seen) % _RELEASE_EVERY == 0:
            store.release_packs()
    return False


def _same_names(store: Store, verified: bytes, tip: bytes) -> bool:
    """Whether the display names (`names.repo`, `names.agent`) are the same at both
    commits: when they changed, every session's warnings are judged again (a full run),
    as a session made with the older names is warned of."""
    try:
        before, now = (settings_at(store, store.commit(sha).tree).names for sha in (verified, tip))
    except (GitflywheelError, KeyError, ValueError):
        return False
    return before == now


def verify(
    store: Store,
    full: bool = False,
    jobs: int | None = None,
    on_wait: Callable[[], None] | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    clean: CleanFolders | None = None,
) -> VerifyResult:
    """Verify `main`; incremental from the last clean run unless `full`. `jobs`
    processes prepare the commits (default: one per core); `on_wait` is called if
    another verify of the store runs, which this one then waits for; `progress(done,
    total)` after each commit checked. `clean` carries the folders found clean from one
    run to the next on a store whose objects do not change meanwhile (a sync's attempts
    on its quarantine)."""
    with file_lock(StorePaths(store.path).verify_lock, on_wait):
        return _verify(
            store, full, default_jobs() if jobs is None else max(1, jobs), progress, clean
        )


def adopt_verified(store: Store, judged: Store, before: bytes | None) -> bool:
    """Take what a clean run verified in `judged` (a sync's quarantine, whose `main` the
    store's `main` now is) as the store's own verification, so that the next run, or the
    next sync, starts from there: only when that run was clean, the store's verified
    commit is still `before` (the one the judged run started from) and no verify of the
    store runs now. True when adopted; else the next verify checks the new commits."""
    tip, verified = judged.tip(), judged.read_ref(VERIFIED_REF)
    if tip is None or verified != tip or store.tip() != tip:
        return False
    with file_lock_if_free(StorePaths(store.path).verify_lock) as free:
        if not free or store.read_ref(VERIFIED_REF) != before:
            return False
        state = VerifyState.load(judged.path)
        if state is None or state.get_meta("verified") != tip.decode():
            if state is not None:
                state.close()
            return False
        try:
            state.save_as(store.path)
        finally:
            state.close()
        store.set_ref(VERIFIED_REF, tip)
    return True


def _verify(
    store: Store,
    full: bool,
    jobs: int,
    progress: Callable[[int, int | None], None] | None = None,
    clean: CleanFolders | None = None,
) -> VerifyResult:
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
                f"main points at {tip.decode()[:12]}, which {unread_commit(store, tip)}",
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
        and _same_names(store, verified, tip)
    ):
        for sha in _first_parent_ids(store, tip):
            if sha == verified:
                break
            chain.append(sha)
        else:
            state.close()
            state, chain = None, []
        chain.reverse()
    elif state is not None:
        state.close()
        state = None

    with Preparing(store, jobs, clean) as preparing:
        fresh = state is None
        if state is None:
            result.full = True
            state = VerifyState.fresh(store.path)
        try:
            if fresh:  # the whole history: the processes start on its newest commits
                chain = preparing.listed(_first_parent_ids(store, tip))
            walk = _Walk(state, result)
            for number, work in enumerate(preparing.works(chain), 1):
                walk.judge(work)
                if progress is not None:
                    progress(number, len(chain))
            _summarise(state, result)
            if result.ok:
                state.set_meta("verified", tip.decode())
                state.save_as(store.path)
                store.set_ref(VERIFIED_REF, tip)
        finally:
            state.close()
    return result


def _summarise(state: VerifyState, result: VerifyResult) -> None:
    result.figures = state.figures()
    result.sessions_by_type = state.sessions_by_type()
    result.artifacts_by_step = state.artifacts_by_step()
    result.pipelines = state.pipelines()
    result.filter_sets = state.filter_sets()
    result.warnings = [
        Finding("session.warning", "", session_dir(sid), text, "warning")
        for sid, text in state.all_warnings()
    ]
