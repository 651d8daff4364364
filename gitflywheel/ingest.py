"""Ingest: validate, render and record sessions, one commit each.

Records are planned against an in-memory view of the tip's tree; every `batch_size`
commits the new objects go to disk as one pack and `main` moves by compare-and-swap.
An interruption loses at most the batch in flight, never anything stored, and running
the same ingest again finishes the job (what is stored already is reported unchanged).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal

from dulwich.objects import Blob, Commit, ShaFile, Tree

from .commits import SessionTrailers, commit_time, identity, make_commit, session_message
from .errors import EXIT_BAD_INPUT, EXIT_CONFLICT, EXIT_OK, GitflywheelError, InputError
from .init import open_store, store_templates_dir
from .inputs import InputItem, read_inputs
from .layout import MANIFEST_FILE, RECORD_FILE, session_dir, template_path
from .manifest import Manifest
from .outcomes import BatchReport
from .packs import unpacked_entry
from .plan import ScreenshotFile, SessionPlan, TemplateSet, assemble, git_blob_id
from .planpool import UNCONTAINED, PlanPool, Ticket, derive_and_render, reason
from .records import InputErrors, Record, make_record
from .rendering import load_templates
from .screenshots import DEFAULT_MAX_SCREENSHOT_BYTES, Refusal, ScreenshotPolicy, read_screenshot
from .store import Store
from .trees import FILE_MODE, TreeEditor

__all__ = ["Status", "Outcome", "IngestReport", "ingest", "Recorder"]

Status = Literal["recorded", "revised", "unchanged", "invalid", "conflict"]
_EXIT = {
    "recorded": EXIT_OK,
    "revised": EXIT_OK,
    "unchanged": EXIT_OK,
    "invalid": EXIT_BAD_INPUT,
    "conflict": EXIT_CONFLICT,
}

PARALLEL_AFTER = 64  # inputs read before workers start: a few sessions are planned here
_AHEAD_PER_WORKER = 8  # sessions planned ahead per worker, waiting for their turn


@dataclass
class Outcome:
    """What happened to one input document."""

    origin: str
    status: Status
    session_id: str | None = None
    revision: int | None = None
    commit: str | None = None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    set_aside: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return _EXIT[self.status]


@dataclass
class IngestReport(BatchReport[Outcome]):
    """Every outcome of one ingest call; the exit code is the highest met."""


def _blob(data: bytes) -> Blob:
    return Blob.from_string(data)


class Recorder:
    """Plans commits on top of a tip, in memory, and writes them to the store in batches."""

    def __init__(
        self,
        store: Store,
        templates: dict[str, bytes],
        screenshot_policy: ScreenshotPolicy | None = None,
    ) -> None:
        self.store = store
        self.screenshot_policy = screenshot_policy or ScreenshotPolicy()
        self.templates = TemplateSet(templates)
        self.landed = store.tip()
        self.head = self.landed
        self.unflushed, self.last_flush = 0, time.monotonic()  # commits planned since, and when
        root = store.commit(self.head).tree if self.head else None
        self.pending: dict[bytes, ShaFile] = {}
        self.packed: dict[bytes, bytes] = {}  # blobs a worker packed: hex id -> entry
        self.editor = TreeEditor(self._tree, root)
        self.template_blobs = {name: _blob(data) for name, data in templates.items()}

    def _object(self, sha: bytes) -> ShaFile:
        return self.pending.get(sha) or self.store[sha]

    def _tree(self, sha: bytes) -> Tree:
        obj = self._object(sha)
        if not isinstance(obj, Tree):
            raise GitflywheelError(f"{sha.decode()}: not a tree")
        return obj

    def _blob_bytes(self, sha: bytes) -> bytes:
        if sha in self.packed:
            return unpacked_entry(self.packed[sha])
        return self._object(sha).as_raw_string()

    def record(
        self, record: Record, revise: bool, base_dir: Path, ahead: _Ahead | None = None
    ) -> Outcome:
        """Record one valid session on top of the planned head, or say why not; `ahead`:
        its screenshots read and its plan under way already."""
        outcome = Outcome(
            record.origin,
            "recorded",
            record.session_id,
            warnings=list(record.warnings),
            set_aside=list(record.set_aside),
        )
        folder = session_dir(record.session_id)
        record_blob = git_blob_id(record.stored_bytes).encode()
        revision = 1
        existing = self.editor.get(f"{folder}/{RECORD_FILE}")
        manifest_entry = self.editor.get(f"{folder}/{MANIFEST_FILE}")
        if existing is not None and manifest_entry is not None:
            previous = Manifest.from_bytes(self._blob_bytes(manifest_entry[1]))
            if existing[1] == record_blob:
                outcome.status, outcome.revision = "unchanged", previous.revision
                return outcome
            if not revise:
                outcome.status, outcome.revision = "conflict", previous.revision
                outcome.problems.append(
                    f"{record.origin}: session_id: {record.session_id!r} is already recorded "
                    f"(revision {previous.revision}) with other content; use --revise to record a new revision"
                )
                return outcome
            revision = previous.revision + 1
            outcome.status = "revised"
        outcome.revision = revision

        packed: dict[bytes, bytes] = {}
        if ahead is not None and ahead.ticket is not None:
            outcome.warnings += ahead.warnings
            (derived, rendered), packed = ahead.ticket.result()
            plan = assemble(derived, self.templates, revision, rendered)
        else:
            screenshots = self._screenshots(record, base_dir, outcome.warnings)
            plan = self.plan(record, screenshots, revision)
        session = record.session
        trailers = SessionTrailers(
            session.session_id, session.session_type, session.agent_id, revision
        )
        outcome.commit = self.land(plan, session_message(trailers), packed)
        return outcome

    def plan(self, record: Record, screenshots: list[ScreenshotFile], revision: int) -> SessionPlan:
        """The session's folder as the plan makes it with these templates; whatever its
        pipeline or a template raises is this input's problem (an InputError)."""
        derived, rendered = derive_and_render(record, screenshots, self.templates)
        return assemble(derived, self.templates, revision, rendered)

    def read(self, path: str) -> bytes | None:
        """The bytes of a file in the planned head's tree, or None."""
        entry = self.editor.get(path)
        return None if entry is None else self._blob_bytes(entry[1])

    def is_current(self, plan: SessionPlan) -> bool:
        """Whether the planned head's tree already holds every file of the plan as planned."""
        return all(
            (entry := self.editor.get(path)) is not None and entry[1].decode() == git_blob_id(data)
            for path, data in plan.files.items()
        )

    def land(
        self, plan: SessionPlan, message: bytes, packed: Mapping[bytes, bytes] | None = None
    ) -> str:
        """Plan one commit on the head: the session's folder becomes the plan's, and
        templates/ the templates it rendered with; `packed`: blobs of the plan packed
        already (hex id -> `packs.packed_entry`). Returns the commit id."""
        objects: list[ShaFile] = []
        ready: dict[bytes, bytes] = {}
        session = plan.derived.record.session
        committed = commit_time()
        # Everything is planned: only now the tree changes, and a failure in between puts
        # it back as the head has it, so a session that fails leaves no trace.
        try:
            self.editor.remove(plan.folder)
            for path, data in plan.files.items():
                sha = git_blob_id(data).encode()
                if packed and sha in packed:
                    ready[sha] = packed[sha]
                else:
                    objects.append(_blob(data))
                self.editor.set(path, FILE_MODE, sha)
            for name, blob in self.template_blobs.items():
                if self.editor.get(template_path(name)) != (FILE_MODE, blob.id):
                    objects.append(blob)
                    self.editor.set(template_path(name), FILE_MODE, blob.id)
            root, trees = self.editor.write()
        except BaseException:
            self._reset_editor()
            raise
        commit = make_commit(
            root,
            [self.head] if self.head else [],
            message,
            identity(session.agent_id),
            session.timestamp,
            committed,
        )
        for obj in (*objects, *trees, commit):
            self.pending[obj.id] = obj
        self.packed.update(ready)
        self.head = commit.id
        self.unflushed += 1
        return commit.id.decode()

    def _reset_editor(self) -> None:
        """Forget planned tree edits that did not make a commit: back to the head's tree."""
        root = self._commit_tree(self.head) if self.head else None
        self.editor = TreeEditor(self._tree, root)

    def _commit_tree(self, sha: bytes) -> bytes:
        commit = self._object(sha)
        if not isinstance(commit, Commit):
            raise GitflywheelError(f"{sha.decode()}: not a commit")
        return bytes(commit.tree)

    def _screenshots(
        self, record: Record, base_dir: Path, warnings: list[str]
    ) -> list[ScreenshotFile]:
        """Each screenshot the record names, with its bytes when the policy lets it be read."""
        shots: list[ScreenshotFile] = []
        for index, ref in enumerate(record.session.source_data.screenshot_refs()):
            source = ref.path
            found = read_screenshot(source, base_dir, self.screenshot_policy)
            if isinstance(found, Refusal):
                if not found.url:  # the reason is for the person ingesting, not the record
                    warnings.append(
                        f"source_data.screenshots[{index}]: {source!r} not read: {found.reason}"
                    )
                shots.append(ScreenshotFile(source, None, ref.caption))
            else:
                shots.append(ScreenshotFile(source, found, ref.caption))
        return shots

    def flush_when_due(self, batch_size: int, flush_seconds: float) -> None:
        """Flush once `batch_size` commits are planned or `flush_seconds` have passed since
        the last flush: a batch is one pack, and an interrupted run loses at most one."""
        if self.unflushed >= batch_size or time.monotonic() - self.last_flush > flush_seconds:
            self.flush()

    def flush(self) -> None:
        """Write the planned objects as one pack and move `main` to the planned head."""
        self.unflushed, self.last_flush = 0, time.monotonic()
        if self.head == self.landed:
            return
        assert self.head is not None
        self.store.write_objects(self.pending.values(), self.packed)
        self.store.move_main(self.landed, self.head)
        self.landed = self.head
        self.pending.clear()
        self.packed.clear()
        # What is on disk now reloads on demand: memory stays bounded by one batch.
        self.editor = TreeEditor(self._tree, self.store.commit(self.head).tree)


def ingest(
    store_path: Path,
    paths: Iterable[str],
    *,
    revise: bool = False,
    templates_dir: Path | None = None,
    stdin: BinaryIO | None = None,
    batch_size: int = 500,
    flush_seconds: float = 2.0,
    on_outcome: Callable[[Outcome], None] | None = None,
    max_screenshot_bytes: int = DEFAULT_MAX_SCREENSHOT_BYTES,
    screenshots_from: Sequence[Path] = (),
    workers: int = 1,
    parallel_after: int = PARALLEL_AFTER,
    keep_outcomes: bool = True,
) -> IngestReport:
    """Ingest every session document named by `paths` into the store (created if missing).

    Planned commits land every `batch_size` sessions or `flush_seconds`, whichever comes
    first, and when the run is interrupted (Ctrl-C, SIGTERM), so an interruption loses
    little work and never leaves the store invalid. Screenshots are read only from the
    input's folder tree and `screenshots_from`, up to `max_screenshot_bytes` each.
    With `workers` > 1, past `parallel_after` inputs, that many processes plan the
    sessions ahead (the history made is the same). They start as multiprocessing's
    forkserver starts them, importing the caller's main module: a script that passes
    `workers` must guard its own work with `if __name__ == "__main__":`. The command
    line passes one per core. Without `keep_outcomes` the report only counts them
    (`on_outcome` sees each), so a long run's memory does not grow with it.
    """
    report = IngestReport(str(store_path))
    with open_store(store_path, create=True) as store, store.lock():
        templates = load_templates(templates_dir or store_templates_dir(store))
        policy = ScreenshotPolicy(tuple(screenshots_from), max_screenshot_bytes)
        recorder = Recorder(store, templates, policy)
        pool: PlanPool | None = None
        ahead: deque[_Ahead] = deque()

        def done(outcome: Outcome) -> None:
            report.add(outcome, keep_outcomes)
            if on_outcome is not None:
                on_outcome(outcome)
            recorder.flush_when_due(batch_size, flush_seconds)

        try:
            for seen, item in enumerate(read_inputs(list(paths), stdin), start=1):
                if pool is None and workers > 1 and seen > parallel_after:
                    pool = PlanPool(recorder.templates, workers)
                if pool is None:
                    done(_ingest_item(recorder, item, revise))
                    continue
                ahead.append(_prepare(recorder, pool, item))
                while ahead and (len(ahead) > _AHEAD_PER_WORKER * pool.workers or ahead[0].ready()):
                    done(_finish(recorder, ahead.popleft(), revise))
            while ahead:
                done(_finish(recorder, ahead.popleft(), revise))
        except (KeyboardInterrupt, SystemExit):
            recorder.flush()  # what is planned is complete: keep it
            raise
        finally:
            if pool is not None:
                pool.close()
        recorder.flush()
    return report


@dataclass
class _Ahead:
    """An input read ahead of its turn: its outcome when it has one already (invalid),
    else its record, and, unless it is stored already (then its turn decides), its
    screenshots read and a worker planning it."""

    item: InputItem
    outcome: Outcome | None = None
    record: Record | None = None
    warnings: list[str] = field(default_factory=list)
    ticket: Ticket | None = None

    def ready(self) -> bool:
        return self.ticket is None or self.ticket.ready()


def _prepare(recorder: Recorder, pool: PlanPool, item: InputItem) -> _Ahead:
    """Validate an input and start planning it. Its plan depends on the record, the
    screenshots and the templates alone (not on its revision or what lands before it),
    so it is the plan its turn would make."""
    entry = _Ahead(item)

    def validate() -> Outcome:
        record = make_record(item.origin, item.value)
        entry.record = record
        if recorder.editor.get(f"{session_dir(record.session_id)}/{RECORD_FILE}") is None:
            shots = recorder._screenshots(record, item.base_dir, entry.warnings)
            entry.ticket = pool.submit(record, shots)
        return Outcome(item.origin, "recorded")

    outcome = _contained(item, validate)
    if entry.record is None:
        entry.outcome = outcome
    return entry


def _finish(recorder: Recorder, entry: _Ahead, revise: bool) -> Outcome:
    """The outcome of an input read ahead, in its turn."""
    if entry.outcome is not None:
        return entry.outcome
    record = entry.record
    assert record is not None
    return _contained(
        entry.item, lambda: recorder.record(record, revise, entry.item.base_dir, entry)
    )


def _ingest_item(recorder: Recorder, item: InputItem, revise: bool) -> Outcome:
    """One input's outcome. Whatever goes wrong with it, short of an interruption or the
    store failing, makes this input invalid, and the recorder is left as it was."""
    return _contained(
        item,
        lambda: recorder.record(make_record(item.origin, item.value), revise, item.base_dir),
    )


def _contained(item: InputItem, work: Callable[[], Outcome]) -> Outcome:
    """`work`'s outcome for this input, or, whatever goes wrong with the input, short of
    an interruption or the store failing, its problems as an invalid outcome."""
    if item.error is not None:
        return Outcome(item.origin, "invalid", problems=[str(item.error)])
    session_id = item.value.get("session_id") if isinstance(item.value, dict) else None
    outcome = Outcome(item.origin, "invalid", session_id if isinstance(session_id, str) else None)
    try:
        return work()
    except InputErrors as exc:
        outcome.problems = [str(p) for p in exc.problems]
    except InputError as exc:
        outcome.problems = [str(exc)]
    except GitflywheelError as exc:
        outcome.problems = [str(InputError(item.origin, "", str(exc)))]
    except UNCONTAINED:
        raise
    except Exception as exc:
        outcome.problems = [str(InputError(item.origin, "", reason(exc)))]
    return outcome
