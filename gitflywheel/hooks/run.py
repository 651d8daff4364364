"""The run: spooled pushes in, build sessions out.

After a push, the hook starts `hook run`; it takes the spool files of the store and of
the work repository, oldest first, captures each range the push published as a build
session and ingests it. What fails is logged: a push that can never be recorded is set
aside, one that cannot be recorded now (the store failing) stays spooled for the next run.

The hook runs before the push, so a spool file says what git meant to publish: a push
the remote refused (in whole or in part) and `git push --dry-run` spool one too. Once the
push has ended, the run asks the remote (`git ls-remote`, as the push reached it) where
each ref is now, and records only what it holds: a ref at the pushed commit, or at a
later one that has it. The rest is dropped from the spool with its reason; a remote that
cannot be asked keeps the push spooled for the next run, never recorded unverified.

When the store publishes by itself (`publish --auto`), a run that recorded a session
(or follows a run whose publishing failed) then builds the site branches again and
publishes; a failure is logged (`hook status` shows it) and tried again by the next run.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import GitflywheelError, StoreError
from ..recording.ingest import ingest
from ..recording.init import open_store
from ..recording.inputs import InputItem
from ..remotes.autopublish import publish_after_recording
from ..storage.gitdir import StorePaths, WorkRepoPaths
from ..storage.locks import file_lock
from .capture import CaptureOptions, NothingToCapture, capture, missing_commits
from .log import read_log, write_log
from .pushrules import decide, rules_at
from .remotes import push_session_id, remote_label
from .spool import Push, SpoolError, Update, parse_spool, set_aside, spool_files
from .target import check_store
from .workrepo import RemoteUnreachable, is_ancestor, remote_state, tracking_head

__all__ = ["MAX_COMMITS", "PushOutcome", "RunReport", "run"]

MAX_COMMITS = 500  # a push of more (a new repository's whole history) keeps the newest
RUNNING_PUSH_SECONDS = 3600  # a spool file's push counts as running at most this long


@dataclass
class PushOutcome:
    """What one spooled push became."""

    spool: str
    url: str
    recorded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    nothing_new: list[str] = field(default_factory=list)  # remote refs that published no commit
    skipped: list[str] = field(default_factory=list)  # refs the work repository does not record
    dropped: list[str] = field(default_factory=list)  # refs the remote does not hold, and why
    notes: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class RunReport:
    """What a run did: each push it took, what stopped it, and what still waits."""

    store: str
    log: str
    pushes: list[PushOutcome] = field(default_factory=list)
    error: str | None = None  # what stopped the run (the pushes wait in the spool)
    waiting: int = 0
    broken: list[str] = field(default_factory=list)
    published: str | None = None  # where the run published by itself (`publish --auto`)
    publish_error: str | None = None  # why that failed (tried again by the next run)

    @property
    def recorded(self) -> int:
        return sum(len(p.recorded) for p in self.pushes)


def _ordered(updates: tuple[Update, ...]) -> list[Update]:
    """Branches that existed first, as git listed them; then new ones by name. A commit
    that two refs of one push publish is counted with the first."""
    kept = [u for u in updates if u.publishes_work]
    return [u for u in kept if not u.creates] + sorted(
        (u for u in kept if u.creates), key=lambda u: u.remote_ref
    )


@dataclass
class _Captures:
    sessions: list[dict[str, Any]] = field(default_factory=list)
    nothing: list[str] = field(default_factory=list)  # remote refs with nothing new
    skipped: list[str] = field(default_factory=list)  # what the work repository records not
    notes: list[str] = field(default_factory=list)


def _sessions(push: Push, default_branch: str | None) -> _Captures:
    """Capture each range of a push, as the work repository's settings at each pushed
    commit say (`pushrules`); an InputError when they cannot be read."""
    source = Path(push.git_dir)
    label = remote_label(push.url, push.cwd)
    updates = _ordered(push.updates)
    olds = [u.remote_sha for u in updates if not u.creates]
    absent = set(missing_commits(source, [*olds, *push.tracking]))
    tracking = [sha for sha in push.tracking if sha not in absent]
    out = _Captures()
    notes = out.notes
    published: list[str] = []
    for update in updates:
        if not update.creates and update.remote_sha not in absent:
            exclude = [update.remote_sha]
        else:
            # A new branch, or a remote that moved to commits this clone never saw:
            # what the remote had (its tracking refs) is not new work.
            exclude = [*tracking, *published]
            if not update.creates:
                notes.append(
                    f"{update.remote_ref}: the remote was at {update.remote_sha[:12]}, "
                    "which this clone does not have: captured what its tracking refs lack"
                )
        published.append(update.local_sha)
        rules = rules_at(source, update.remote_ref, update.local_sha)
        decision = decide(rules, update.remote_ref, default_branch)
        if decision.skip is not None:
            out.skipped.append(decision.skip)
            continue
        options = CaptureOptions(
            source=source,
            until_rev=update.local_sha,
            exclude=exclude,
            max_commits=MAX_COMMITS,
            repo_label=rules.settings.name or label,
            session_id=push_session_id(push.url, update.remote_sha, update.local_sha, push.cwd),
        )
        try:
            captured = capture(options)
        except NothingToCapture:
            out.nothing.append(update.remote_ref)
            continue
        count = int(captured.session["metadata"]["commits"])
        least = rules.settings.min_commits
        if count < least:
            out.skipped.append(
                f"{update.remote_ref}: {count} new commit{'' if count == 1 else 's'}, fewer "
                f"than min_commits = {least} in {rules.origin}: not recorded"
            )
            continue
        if rules.settings.name:
            captured.session["source_data"]["remote"] = label
        if decision.draft is not None:
            captured.session["metadata"]["draft"] = True
            captured.session["metadata"]["draft_reason"] = decision.draft
        captured.session["source_data"]["push"] = {
            "ref": update.remote_ref,
            "before": None if update.creates else update.remote_sha,
            "after": update.local_sha,
        }
        out.sessions.append(captured.session)
        notes.extend(f"{update.remote_ref}: {n}" for n in captured.notes)
    return out


def _published(push: Push, unreachable: dict[str, str]) -> tuple[Push, list[str], str | None]:
    """The push less the updates the remote does not hold now, why each was dropped, and
    the remote's default branch (its HEAD, else the work repository's
    `refs/remotes/<remote>/HEAD`, else None). RemoteUnreachable when the remote cannot
    be asked (`unreachable` remembers it)."""
    work = [u for u in push.updates if u.publishes_work]
    if not work:
        return push, [], None
    key = f"{push.git_dir}\n{push.cwd}\n{push.url}"
    if key in unreachable:
        raise RemoteUnreachable(unreachable[key])
    try:
        now, head = remote_state(
            Path(push.git_dir), Path(push.cwd), push.url, sorted({u.remote_ref for u in work})
        )
    except RemoteUnreachable as exc:
        unreachable[key] = str(exc)
        raise
    kept: list[Update] = []
    dropped: list[str] = []
    for update in push.updates:
        at = now.get(update.remote_ref)
        if not update.publishes_work or at == update.local_sha:
            kept.append(update)
        elif at is not None and is_ancestor(Path(push.git_dir), update.local_sha, at):
            kept.append(update)  # published, and built on since
        else:
            where = "has no such ref" if at is None else f"has it at {at[:12]}"
            dropped.append(
                f"{update.remote_ref}: the remote {where}, not at the pushed "
                f"{update.local_sha[:12]} (the push was refused, or a dry run): not recorded"
            )
    if head is None and push.remote != push.url:
        head = tracking_head(Path(push.git_dir), push.remote)
    return replace(push, updates=tuple(kept)), dropped, head


def _record(store: Path, push: Push, origin: str, unreachable: dict[str, str]) -> PushOutcome:
    """Capture and ingest what one push published. A store that fails raises StoreError or
    OSError (the push stays spooled), so does a remote that cannot be asked
    (RemoteUnreachable); a push that can never be recorded raises another error of ours."""
    outcome = PushOutcome(origin, remote_label(push.url, push.cwd))
    push, outcome.dropped, default_branch = _published(push, unreachable)
    if not any(u.publishes_work for u in push.updates):
        return outcome
    captures = _sessions(push, default_branch)
    sessions = captures.sessions
    outcome.nothing_new, outcome.skipped, outcome.notes = (
        captures.nothing,
        captures.skipped,
        captures.notes,
    )
    if not sessions:
        return outcome
    base = Path(push.cwd)  # where a screenshot path would be read from: captures name none
    items = [InputItem(f"{origin}[{n}]", base, s) for n, s in enumerate(sessions)]
    report = ingest(store, (), items=items)
    for session, result in zip(sessions, report.outcomes, strict=False):
        sid = str(session["session_id"])
        if result.status in ("recorded", "revised"):
            outcome.recorded.append(sid)
        elif result.status == "unchanged":
            outcome.unchanged.append(sid)
        elif result.status == "conflict":
            # Another clone recorded this push first, seeing other remote refs.
            outcome.unchanged.append(sid)
            outcome.notes.append(f"{sid}: already recorded (from another clone), kept as it was")
        else:
            raise SpoolError("; ".join(result.problems) or f"{sid}: not recorded")
    return outcome


def run(store: Path, git_dir: Path | None = None) -> RunReport:
    """Record every push waiting in the store's spool and in `git_dir`'s, oldest first.

    Never raises for a push: a push that cannot be read is set aside (`broken/`), one
    that cannot be recorded now stays spooled, and both are logged."""
    store = Path(os.path.abspath(store))
    repo_spool = WorkRepoPaths(Path(git_dir)).spool if git_dir is not None else None
    checked = check_store(store)
    problem, control = checked.problem, checked.git_dir
    log = StorePaths(control).hook_log if problem is None else None
    if log is None:
        if repo_spool is None:
            raise StoreError(problem or f"{store}: the store cannot be used")
        log = repo_spool / "hook.log"
    report = RunReport(str(store), str(log))
    spools = [StorePaths(control).hook_spool] + ([repo_spool] if repo_spool is not None else [])
    if problem is not None:
        report.error = problem
        report.waiting = sum(len(spool_files(s)) for s in spools)
        write_log(
            log,
            "error",
            "run",
            f"{problem}; {_count(report.waiting, 'push', 'pushes')} waiting in the spool "
            "(bring the store back, or `gitflywheel hook install --repo` another one)",
            waiting=report.waiting,
        )
        return report
    with file_lock(StorePaths(control).hook_lock):
        files = sorted(
            (p for s in spools for p in spool_files(s)),
            key=lambda p: (_mtime(p), p.name),
        )
        unreachable: dict[str, str] = {}
        for path in files:
            outcome = _run_one(store, path, log, report, unreachable)
            if outcome is None:
                break
            report.pushes.append(outcome)
        report.waiting = sum(len(spool_files(s)) for s in spools)
        if report.recorded or _publish_failed_last(log):
            _publish(control, log, report)
    if report.pushes or report.error or report.publish_error:
        problems = [p.error for p in report.pushes if p.error] + [
            report.error or "",
            report.publish_error or "",
        ]
        summary = (
            f"recorded {_count(report.recorded, 'session')} from "
            f"{_count(len(report.pushes), 'push', 'pushes')}"
        )
        write_log(
            log,
            "error" if any(problems) else "info",
            "run",
            "; ".join([summary, *filter(None, problems)]),
            recorded=report.recorded,
            waiting=report.waiting,
        )
    return report


def _publish_failed_last(log: Path) -> bool:
    """Whether the last time a run published by itself, it failed."""
    tried = [e for e in read_log(log) if e.event == "publish"]
    return bool(tried) and tried[-1].level == "error"


def _publish(control: Path, log: Path, report: RunReport) -> None:
    """Publish by itself when the store says so (`publish --auto`), logging how it went;
    never raises: the push is over and recorded, the next run tries again."""
    try:
        with open_store(control) as store:
            result = publish_after_recording(store)
    except (GitflywheelError, OSError) as exc:
        report.publish_error = f"publishing by itself failed: {exc}; the next run tries again"
        write_log(log, "error", "publish", report.publish_error)
        return
    except Exception as exc:  # a bug must not pass for a push's failure: say what happened
        report.publish_error = (
            f"publishing by itself failed: unexpected {type(exc).__name__}: {exc}"
        )
        write_log(log, "error", "publish", report.publish_error)
        return
    if result is None:
        return
    report.published = result.remote
    branches = ", ".join(("main", *result.site_branches))
    write_log(
        log,
        "info",
        "publish",
        f"published {branches} to {result.remote}"
        if result.pushed
        else f"{result.remote} already had main {(result.main or '')[:12]}",
        remote=result.remote,
        url=result.url,
        main=result.main,
        rebuilt=list(result.rebuilt),
        pushed=result.pushed,
    )


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _running(push: Push, path: Path) -> bool:
    """Whether the `git push` that spooled this is still running (its own run, started
    once it ends, takes it then)."""
    if push.pid is None or time.time() - _mtime(path) > RUNNING_PUSH_SECONDS:
        return False
    try:
        os.kill(push.pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        return True
    return True


def _run_one(
    store: Path, path: Path, log: Path, report: RunReport, unreachable: dict[str, str]
) -> PushOutcome | None:
    """One spool file; None when the run must stop (the store failed)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return PushOutcome(str(path), "", notes=["taken by another run"])
    except OSError as exc:
        report.error = f"{path}: cannot read: {exc.strerror or exc}"
        return None
    try:
        push = parse_spool(data, str(path))
        if _running(push, path):
            return PushOutcome(str(path), "", notes=["the push is still running: its run takes it"])
        outcome = _record(store, push, str(path), unreachable)
    except RemoteUnreachable as exc:
        label = remote_label(push.url, push.cwd)
        message = (
            f"{path}: cannot ask {label} what it holds ({exc}): "
            "it stays in the spool, to be checked and recorded by the next run"
        )
        write_log(log, "error", "push", message)
        return PushOutcome(str(path), label, error=message)
    except (StoreError, OSError) as exc:
        report.error = f"{path}: {exc}; it stays in the spool for the next run"
        write_log(log, "error", "push", report.error)
        return None
    except GitflywheelError as exc:
        try:
            aside = set_aside(path)
        except OSError as moved:
            report.error = f"{path}: {exc}; cannot set it aside: {moved.strerror or moved}"
            write_log(log, "error", "push", report.error)
            return None
        report.broken.append(str(aside))
        message = f"{exc}; set aside as {aside} (move it back to {path.parent} to retry)"
        write_log(log, "error", "push", message, spool=str(aside))
        return PushOutcome(str(aside), "", error=message)
    except Exception as exc:  # a bug must not lose the push: keep it, say what happened
        report.error = f"{path}: unexpected {type(exc).__name__}: {exc}; it stays in the spool"
        write_log(log, "error", "push", report.error)
        return None
    path.unlink(missing_ok=True)
    message = (
        f"{outcome.url}: recorded {len(outcome.recorded)}, already there "
        f"{len(outcome.unchanged)}, nothing new for {len(outcome.nothing_new)} refs"
    )
    if outcome.dropped:
        message += f"; dropped {len(outcome.dropped)}: " + "; ".join(outcome.dropped)
    if outcome.skipped:
        message += "; " + "; ".join(outcome.skipped)
    write_log(
        log,
        "info",
        "push",
        message,
        git_dir=push.git_dir,
        url=outcome.url,
        recorded=outcome.recorded,
        unchanged=outcome.unchanged,
        dropped=outcome.dropped,
        skipped=outcome.skipped,
        notes=outcome.notes,
    )
    return outcome
