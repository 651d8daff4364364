"""Planning sessions on the machine's other cores: ingest's work on each input, in parallel.

Validating an input, deriving its facts, rendering its artifacts, writing its manifest
and deflating its files take most of an ingest's time and depend on the input, its
screenshots and the templates alone, so worker processes do them while the ingesting
process builds trees, commits and writes packs; ingest takes the results in input
order, so the history is the same as planned one at a time. A worker sends back only
what the tree and the pack need: each file's path and blob id, and its blobs packed.
The workers start from a clean interpreter (forkserver): they inherit no open store,
lock or file, compile the templates once each, and ignore Ctrl-C, which the ingesting
process handles (it stops them).
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import queue
import re
import signal
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from ..errors import GitflywheelError, InputError
from ..queries.index import FolderRows, folder_rows
from ..session.facts import Address, Names
from ..session.records import InputErrors, Record, make_record, public
from ..storage.layout import RECORD_FILE, session_dir
from ..storage.objects import BLOB_TYPE, blob_id
from ..storage.packs import packed_entry
from .folder_plan import Derived, ScreenshotFile, TemplateSet, assemble, derive
from .screenshots import Refusal, ScreenshotPolicy, read_screenshot

__all__ = [
    "Planned",
    "PlannedSession",
    "PlanPool",
    "Ticket",
    "available_cores",
    "derive_and_render",
    "read_screenshots",
    "named_as",
    "plan_input",
    "input_problems",
    "reason",
    "UNCONTAINED",
]

# Not one input's problem: these end the run, and an OSError is the store's or the
# machine's, reported as such by the CLI.
UNCONTAINED = (KeyboardInterrupt, SystemExit, MemoryError, OSError)

Planned = tuple[Derived, dict[str, bytes]]


def available_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def derive_and_render(
    record: Record,
    screenshots: Sequence[ScreenshotFile],
    templates: TemplateSet,
    names: Names | None = None,
    address: Address | None = None,
) -> Planned:
    """The session's facts (with the store's display `names`, its post at `address`)
    and each artifact rendered from them. Whatever its pipeline or a template raises is this input's problem (an
    InputError)."""
    try:
        derived = derive(record, screenshots, names, address)
    except UNCONTAINED:
        raise
    except Exception as exc:
        raise InputError(
            record.origin, f"pipeline {record.session.session_type}", reason(exc)
        ) from exc
    rendered: dict[str, bytes] = {}
    for spec in derived.facts.specs():
        try:
            rendered[spec.kind] = templates.render(spec)
        except UNCONTAINED:
            raise
        except GitflywheelError as exc:  # a RenderError names the template, line and reason
            raise InputError(record.origin, "rendering", reason(exc)) from exc
        except Exception as exc:
            raise InputError(
                record.origin, f"rendering template {spec.template}", reason(exc)
            ) from exc
    return derived, rendered


def reason(exc: BaseException) -> str:
    """An exception as a reason a person can read, whatever raised it."""
    import decimal

    text = " ".join(str(exc).split())  # one line, whatever the message
    if isinstance(exc, GitflywheelError):
        return text
    if isinstance(exc, decimal.DecimalException):
        text = "a number too large or too precise to compute with"
    name = type(exc).__name__
    return f"{text} ({name})" if text and text != name else name


def input_problems(origin: str, exc: BaseException) -> list[InputError] | None:
    """What went wrong with one input, as its problems; None when `exc` is not the
    input's fault (an interruption, the store or the machine failing): it ends the run."""
    if isinstance(exc, InputErrors):
        return list(exc.problems)
    if isinstance(exc, InputError):
        return [exc]
    if isinstance(exc, UNCONTAINED) or not isinstance(exc, Exception):
        return None
    if isinstance(exc, GitflywheelError):
        return [InputError(origin, "", str(exc))]
    return [InputError(origin, "", reason(exc))]


def read_screenshots(
    record: Record, base_dir: Path, policy: ScreenshotPolicy
) -> tuple[list[ScreenshotFile], list[str]]:
    """Each screenshot the record names, with its bytes when the policy lets it be read,
    and a warning for each one that a person ingesting should hear about."""
    shots: list[ScreenshotFile] = []
    warnings: list[str] = []
    for index, ref in enumerate(record.session.source_data.screenshot_refs()):
        source = ref.path
        found = read_screenshot(source, base_dir, policy)
        if isinstance(found, Refusal):
            if not found.url:  # the reason is for the person ingesting, not the record
                warnings.append(
                    f"source_data.screenshots[{index}]: {source!r} not read: {found.reason}"
                )
            shots.append(ScreenshotFile(source, None, ref.caption))
        else:
            shots.append(ScreenshotFile(source, found, ref.caption))
    return shots, warnings


def named_as(record: Record, shots: Sequence[ScreenshotFile]) -> list[ScreenshotFile]:
    """The screenshots read for a record as given, named as the public record names them
    (a local path by its file's name): what enters the store never holds the path."""
    refs = record.session.source_data.screenshot_refs()
    return [
        ScreenshotFile(ref.path, shot.data, ref.caption)
        for ref, shot in zip(refs, shots, strict=True)
    ]


@dataclass(frozen=True)
class PlannedSession:
    """A valid input planned as its session's first revision: what its turn needs to
    tell whether it is stored already, and to record it. `files`: (path, blob id) of
    every file of its folder; `packed`: their blobs (hex id -> `packs.packed_entry`)."""

    session_id: str
    session_type: str
    agent_id: str
    timestamp: datetime | None
    warnings: tuple[str, ...]
    set_aside: tuple[str, ...]
    files: tuple[tuple[str, bytes], ...]
    packed: dict[bytes, bytes]
    index_rows: FolderRows  # what the query index holds of its folder
    slug: str | None = None  # the post's address the plan gave it (the title's)

    @property
    def record_blob(self) -> bytes:
        """The blob id of the record as stored."""
        return dict(self.files)[f"{session_dir(self.session_id)}/{RECORD_FILE}"]


def plan_input(
    origin: str,
    value: Any,
    base_dir: Path,
    templates: TemplateSet,
    policy: ScreenshotPolicy,
    private: Sequence[re.Pattern[str]] = (),
    names: Names | None = None,
    address: Address | None = None,
) -> PlannedSession:
    """One input validated, its screenshots read, and its session's folder planned as
    revision 1, every blob deflated. Raises its problems (InputErrors, InputError)."""
    given = make_record(origin, value)
    screenshots, warnings = read_screenshots(given, base_dir, policy)
    record = public(given, private)
    screenshots = named_as(record, screenshots)
    derived, rendered = derive_and_render(record, screenshots, templates, names, address)
    plan = assemble(derived, templates, 1, rendered)
    listed = {ref.path: ref.blob.encode() for ref in plan.manifest.files()}  # ids of these bytes
    files: list[tuple[str, bytes]] = []
    packed: dict[bytes, bytes] = {}
    for path, data in plan.files.items():
        sha = listed.get(path) or blob_id(data)  # the manifest is not listed in itself
        files.append((path, sha))
        if sha not in packed:
            packed[sha] = packed_entry(BLOB_TYPE, data)
    session = record.session
    return PlannedSession(
        session.session_id,
        session.session_type,
        session.agent_id,
        session.timestamp,
        (*record.warnings, *warnings),
        record.set_aside,
        tuple(files),
        packed,
        folder_rows(plan.manifest),
        derived.facts.address.slug if derived.facts.address else None,
    )


# -- the workers -------------------------------------------------------------------------

_TEMPLATES: TemplateSet | None = None
_POLICY = ScreenshotPolicy()
_PRIVATE: tuple[re.Pattern[str], ...] = ()
_NAMES: Names | None = None
_ADDRESS: Address | None = None


def _serve(
    conn: Connection,
    templates: Mapping[str, bytes],
    filters: str,
    policy: ScreenshotPolicy,
    private: tuple[re.Pattern[str], ...],
    names: Names | None = None,
    address: Address | None = None,
) -> None:
    """A worker: plan each input as it comes, send each result back in the same order.
    One thread takes the tasks off the connection as they come and another sends the
    results, so that planning never waits on the connection: not for a task the
    ingesting process is still writing, nor for room to send a result while it lands a
    batch (then it reads none, and a pipe holds only a few). Neither process blocks the
    other, however large a task or a result; the results waiting here are at most the
    tasks the ingesting process handed out ahead (`ingest`'s lookahead)."""
    global _TEMPLATES, _POLICY, _PRIVATE, _NAMES, _ADDRESS
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _TEMPLATES, _POLICY, _PRIVATE = TemplateSet(templates, filters), policy, private
    _NAMES, _ADDRESS = names, address
    tasks: queue.SimpleQueue[tuple[str, Any, Path] | None] = queue.SimpleQueue()
    results: queue.SimpleQueue[tuple[str, Any] | None] = queue.SimpleQueue()

    def receive() -> None:
        try:
            while True:
                tasks.put(conn.recv())
        except (EOFError, OSError):
            tasks.put(None)

    def send() -> None:
        try:
            while (result := results.get()) is not None:
                conn.send(result)
        except OSError:  # the ingesting process is gone: nobody to answer
            tasks.put(None)

    threading.Thread(target=receive, daemon=True).start()
    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    while (task := tasks.get()) is not None and sender.is_alive():
        results.put(_plan(*task))
    results.put(None)
    sender.join()


def _plan(origin: str, value: Any, base_dir: Path) -> tuple[str, Any]:
    """In a worker: the planned session; or its problems' parts (an exception with its
    own arguments does not pickle); or what ends the run, for the ingesting process to
    raise in its turn."""
    assert _TEMPLATES is not None
    try:
        planned = plan_input(
            origin, value, base_dir, _TEMPLATES, _POLICY, _PRIVATE, _NAMES, _ADDRESS
        )
        return ("planned", planned)
    except BaseException as exc:
        problems = input_problems(origin, exc)
        if problems is None:
            return ("raised", _picklable(exc))
        return ("invalid", [(p.origin, p.field, p.reason) for p in problems])


def _picklable(exc: BaseException) -> BaseException:
    """`exc`, or, when it would not arrive whole through a pickle, its reason."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(reason(exc))
    return exc


class _Worker:
    """One worker process, its connection, and the tickets it has yet to answer, in the
    order it answers them."""

    def __init__(self, process: BaseProcess, conn: Connection) -> None:
        self.process = process
        self.conn = conn
        self.waiting: deque[Ticket] = deque()

    def receive(self) -> None:
        """Take the next result off the connection (waiting for it): the oldest ticket's."""
        try:
            found = self.conn.recv()
        except (EOFError, ConnectionError):
            raise self.stopped() from None
        self.waiting.popleft()._found = found

    def send(self, task: tuple[str, Any, Path]) -> None:
        try:
            self.conn.send(task)
        except ConnectionError:
            raise self.stopped() from None

    def stopped(self) -> OSError:
        self.process.join(1)
        return OSError(f"a planning process stopped (exit code {self.process.exitcode})")


class Ticket:
    """An input being planned by a worker."""

    def __init__(self, worker: _Worker) -> None:
        self._worker = worker
        self._found: tuple[str, Any] | None = None

    def ready(self) -> bool:
        """Whether its result has come (results that came before it are taken too)."""
        worker = self._worker
        while self._found is None and worker.conn.poll():
            worker.receive()
        return self._found is not None

    def result(self) -> PlannedSession:
        """The planned session, waiting for it; or the input's problems (InputErrors)."""
        while self._found is None:
            self._worker.receive()
        kind, found = self._found
        if kind == "raised":
            raise found
        if kind == "invalid":
            raise InputErrors([InputError(*parts) for parts in found])
        assert isinstance(found, PlannedSession)
        return found


class PlanPool:
    """Worker processes that plan inputs with one set of templates and screenshot policy.
    Each has its own connection and answers in the order it was asked, so no thread of
    this process hands tasks or results around: an input goes to the worker with the
    fewest waiting."""

    def __init__(
        self,
        templates: TemplateSet,
        policy: ScreenshotPolicy,
        workers: int,
        private: Sequence[re.Pattern[str]] = (),
        names: Names | None = None,
        address: Address | None = None,
    ) -> None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        self._workers: list[_Worker] = []
        try:
            for _ in range(workers):
                ours, theirs = context.Pipe()
                process = context.Process(
                    target=_serve,
                    args=(
                        theirs,
                        templates.templates,
                        templates.filters,
                        policy,
                        tuple(private),
                        names,
                        address,
                    ),
                    daemon=True,
                )
                process.start()
                theirs.close()
                self._workers.append(_Worker(process, ours))
        except BaseException:
            self.close()
            raise
        self.workers = workers

    def submit(self, origin: str, value: Any, base_dir: Path) -> Ticket:
        """Start planning one input (a parsed JSON value)."""
        worker = min(self._workers, key=lambda w: len(w.waiting))
        worker.send((origin, value, base_dir))
        ticket = Ticket(worker)
        worker.waiting.append(ticket)
        return ticket

    def close(self) -> None:
        """Stop the workers: at once, whatever they were doing (nothing of theirs is
        kept but what the caller took)."""
        for worker in self._workers:
            worker.process.terminate()
        for worker in self._workers:
            worker.process.join()
            worker.process.close()
            worker.conn.close()
        self._workers = []
