"""Planning sessions on the machine's other cores: the pure stage of ingest, in parallel.

Deriving a session's facts and rendering its artifacts take most of an ingest's time and
depend on the record, its screenshots and the templates alone, so worker processes do
them while the ingesting process validates, builds trees and writes packs; ingest takes
the results in input order, so the history is the same as planned one at a time. The
workers start from a clean interpreter (forkserver): they inherit no open store, lock
or file, compile the templates once each, and ignore Ctrl-C, which the ingesting
process handles (it stops them).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Mapping, Sequence
from multiprocessing.pool import AsyncResult, Pool
from typing import Any

from .errors import GitflywheelError, InputError
from .packs import packed_entry
from .plan import Derived, ScreenshotFile, TemplateSet, derive, git_blob_id
from .records import Record

__all__ = ["Planned", "PlanPool", "available_cores", "derive_and_render", "UNCONTAINED"]

# Not one input's problem: these end the run, and an OSError is the store's or the
# machine's, reported as such by the CLI.
UNCONTAINED = (KeyboardInterrupt, SystemExit, MemoryError, OSError)

Planned = tuple[Derived, dict[str, bytes]]
_BLOB = 3  # git's type number


def available_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def derive_and_render(
    record: Record, screenshots: Sequence[ScreenshotFile], templates: TemplateSet
) -> Planned:
    """The session's facts and each artifact rendered from them. Whatever its pipeline or
    a template raises is this input's problem (an InputError)."""
    try:
        derived = derive(record, screenshots)
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


# -- the workers -------------------------------------------------------------------------

_TEMPLATES: TemplateSet | None = None


def _start_worker(templates: Mapping[str, bytes], filters: str) -> None:
    global _TEMPLATES
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _TEMPLATES = TemplateSet(templates, filters)


def _plan(record: Record, screenshots: Sequence[ScreenshotFile]) -> tuple[Any, ...]:
    """In a worker: the plan's parts without the record (the caller has it), or the
    InputError's parts (an exception with its own arguments does not pickle)."""
    assert _TEMPLATES is not None
    try:
        derived, rendered = derive_and_render(record, screenshots, _TEMPLATES)
    except InputError as exc:
        return ("error", exc.origin, exc.field, exc.reason)
    blobs = [record.stored_bytes, derived.facts_bytes, *rendered.values()]
    blobs += derived.screenshot_files.values()
    # Deflating is much of writing a pack: done here, the ingesting process copies them.
    packed = {git_blob_id(data).encode(): packed_entry(_BLOB, data) for data in blobs}
    return (
        "ok",
        packed,
        derived.pipeline,
        derived.facts_bytes,
        derived.facts,
        derived.screenshots,
        derived.screenshot_files,
        rendered,
    )


class Ticket:
    """A session being planned by a worker."""

    def __init__(self, record: Record, result: AsyncResult[tuple[Any, ...]]) -> None:
        self.record = record
        self._result = result

    def ready(self) -> bool:
        return self._result.ready()

    def result(self) -> tuple[Planned, dict[bytes, bytes]]:
        """The plan's parts, as `derive_and_render` gives them, and its files' blobs
        packed (hex id -> `packs.packed_entry`); or its InputError."""
        found = self._result.get()
        if found[0] == "error":
            raise InputError(found[1], found[2], found[3])
        _, packed, pipeline, facts_bytes, facts, shots, shot_files, rendered = found
        derived = Derived(self.record, pipeline, facts_bytes, facts, shots, shot_files)
        return (derived, rendered), packed


class PlanPool:
    """Worker processes that plan sessions with one set of templates."""

    def __init__(self, templates: TemplateSet, workers: int) -> None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        self._pool: Pool = context.Pool(
            workers, initializer=_start_worker, initargs=(templates.templates, templates.filters)
        )
        self.workers = workers

    def submit(self, record: Record, screenshots: Sequence[ScreenshotFile]) -> Ticket:
        return Ticket(record, self._pool.apply_async(_plan, (record, list(screenshots))))

    def close(self) -> None:
        """Stop the workers: at once, whatever they were doing (nothing of theirs is
        kept but what the caller took)."""
        self._pool.terminate()
        self._pool.join()
