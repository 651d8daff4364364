"""Rerender: bring recorded sessions up to date with this gitflywheel's pipelines.

Each session is planned again from its record and its stored screenshots, with the
installed pipelines, the store's templates (or new ones, which then become the store's),
the current filter set and the display names and site address (`site.base_url`) the
settings at main's tip give (a session whose facts recorded other names, or whose thread
links another address, renders again); its post keeps its address. A session whose folder would change gets one commit that
says so (`Re-render build session <id>`, a `Rendered-By` trailer) and keeps its record
and revision; a session already current gets none. Commits land in batches by
compare-and-swap under the store's lock, as ingest's do, so an interrupted run loses at
most the batch in flight and running it again finishes the job.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..errors import EXIT_BAD_INPUT, EXIT_OK, GitflywheelError
from ..jsontext import decode_utf8, loads
from ..pipelines import pipeline_id, split_pipeline_id
from ..queries.sessions import iter_session_folders
from ..queries.settings import current_settings
from ..rendering.filtersets import FILTER_SETS
from ..rendering.templates import load_templates
from ..session.manifest import Manifest
from ..session.models import SESSION_ID_PATTERN
from ..session.records import InputErrors, make_record
from ..storage.commits import SessionTrailers, rendered_by, session_message
from ..storage.layout import MANIFEST_FILE, RECORD_FILE, session_dir
from ..version import __version__
from .batch import BatchReport, ItemOutcome
from .folder_plan import ScreenshotFile, store_names
from .ingest import Recorder
from .init import open_store, set_templates_dir, store_templates_dir

__all__ = ["RerenderStatus", "RerenderOutcome", "RerenderReport", "rerender"]

_SESSION_ID = re.compile(SESSION_ID_PATTERN)
RerenderStatus = Literal["rerendered", "current", "newer", "missing", "invalid"]
_EXIT = {
    "rerendered": EXIT_OK,
    "current": EXIT_OK,
    "newer": EXIT_OK,
    "missing": EXIT_BAD_INPUT,
    "invalid": EXIT_BAD_INPUT,
}


@dataclass
class RerenderOutcome(ItemOutcome):
    """What happened to one session: re-rendered (with the commit), already current,
    made by a newer gitflywheel (left alone), not in the store, or not re-renderable."""

    session_id: str
    status: RerenderStatus
    was: str | None = None
    now: str | None = None
    commit: str | None = None
    problems: list[str] = field(default_factory=list)

    EXIT_CODES = _EXIT


@dataclass
class RerenderReport(BatchReport[RerenderOutcome]):
    """Every outcome of one rerender call, and the templates folder it made the store's."""

    templates: str | None = None


def rerender(
    store_path: Path,
    session_ids: Iterable[str] = (),
    *,
    all_sessions: bool = False,
    templates_dir: Path | None = None,
    batch_size: int = 500,
    flush_seconds: float = 2.0,
    on_outcome: Callable[[RerenderOutcome], None] | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    dry_run: bool = False,
) -> RerenderReport:
    """Render the named sessions (or every one, with `all_sessions`) again.

    With `templates_dir`, those templates (over the shipped ones, by file name) render
    the sessions and, once every one of them renders, become the store's templates, as
    `init --templates` sets them: a later `ingest` without `--templates` renders with
    them too (a folder that fails a session is not made the store's). `progress(done, total)`
    is called after each session. With `dry_run`, each session is planned as it would
    be and nothing is written (nor are the templates made the store's): the outcomes
    say which would be rendered again.
    """
    wanted = list(dict.fromkeys(session_ids))
    if all_sessions == bool(wanted):
        raise GitflywheelError("name the sessions to render again, or give --all (not both)")
    report = RerenderReport(str(store_path), dry_run=dry_run)
    with open_store(store_path) as store, store.writing() as writer:
        templates = load_templates(templates_dir or store_templates_dir(store))
        # the names at main's tip: a session they now name otherwise renders again
        # and its site address: a thread links its post at the address the settings give
        settings = current_settings(store)
        recorder = Recorder(
            writer,
            templates,
            names=store_names(settings),
            dry_run=dry_run,
            base_url=settings.site.base_url,
        )
        if all_sessions:
            wanted = [name for name, _ in iter_session_folders(store)]
        try:
            for number, session_id in enumerate(wanted, 1):
                outcome = _rerender_one(recorder, session_id)
                if dry_run:
                    outcome.commit = None  # planned, never made
                report.outcomes.append(outcome)
                if on_outcome is not None:
                    on_outcome(outcome)
                if progress is not None:
                    progress(number, len(wanted))
                recorder.flush_when_due(batch_size, flush_seconds)
        except (KeyboardInterrupt, SystemExit):
            recorder.flush()  # what is planned is complete: keep it
            raise
        finally:
            recorder.close()
        recorder.flush()
        # new templates become the store's once every session renders with them: a
        # folder that fails one would make every later ingest fail too
        if templates_dir is not None and not any(o.status == "invalid" for o in report.outcomes):
            if not dry_run:
                set_templates_dir(store, templates_dir)
            report.templates = str(templates_dir.resolve())
    return report


def _rerender_one(recorder: Recorder, session_id: str) -> RerenderOutcome:
    outcome = RerenderOutcome(session_id, "missing")
    folder = session_dir(session_id) if _plausible_id(session_id) else None
    manifest_bytes = recorder.read(f"{folder}/{MANIFEST_FILE}") if folder else None
    record_path = f"{folder}/{RECORD_FILE}"
    record_bytes = recorder.read(record_path) if folder else None
    if manifest_bytes is None or record_bytes is None:
        outcome.problems.append(f"{session_id}: no such session in the store")
        return outcome
    outcome.status = "invalid"
    try:
        manifest = Manifest.from_bytes(manifest_bytes)
        record = make_record(record_path, loads(decode_utf8(record_bytes)))
    except (ValueError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        outcome.problems.append(f"{session_id}: cannot be read back ({reason}); run verify")
        return outcome
    except InputErrors as exc:
        outcome.problems.append(f"{session_id}: the stored record is not valid: {exc}")
        return outcome
    outcome.was = manifest.pipeline_id
    if record.stored_bytes != record_bytes or record.session_id != session_id:
        outcome.problems.append(
            f"{session_id}: the stored record is not as gitflywheel writes it; run verify"
        )
        return outcome
    name, version = split_pipeline_id(manifest.pipeline_id)
    installed = pipeline_id(name)
    unknown = {a.filters for a in manifest.artifacts if a.filters and a.filters not in FILTER_SETS}
    if version > split_pipeline_id(installed)[1] or unknown:
        outcome.status = "newer"
        outcome.problems.append(
            f"{session_id}: made by {manifest.pipeline_id}"
            + (f" with {', '.join(sorted(unknown))}" if unknown else "")
            + f", newer than this gitflywheel ({installed}); left as it is"
        )
        return outcome

    shots = []
    for index, ref in enumerate(record.session.source_data.screenshot_refs()):
        source = ref.path
        entry = manifest.screenshots[index] if index < len(manifest.screenshots) else None
        stored = entry.file if entry is not None and entry.source == source else None
        # only the session's own files: a manifest is read, not trusted
        data = (
            recorder.read(stored.path) if stored and stored.path.startswith(f"{folder}/") else None
        )
        shots.append(ScreenshotFile(source, data, ref.caption))
    try:
        plan = recorder.plan(record, shots, manifest.revision)
    except GitflywheelError as exc:  # the pipeline or a template failed on this session
        outcome.problems.append(f"{session_id}: {exc}")
        return outcome
    outcome.now = plan.derived.pipeline
    if plan.manifest_bytes == manifest_bytes and recorder.is_current(plan):
        outcome.status = "current"
        return outcome
    session = record.session
    trailers = SessionTrailers(
        session.session_id,
        session.session_type,
        session.agent_id,
        manifest.revision,
        rendered_by(__version__, plan.derived.pipeline, recorder.templates.filters),
    )
    outcome.commit = recorder.land(plan, session_message(trailers))
    outcome.status = "rerendered"
    return outcome


def _plausible_id(session_id: str) -> bool:
    return _SESSION_ID.match(session_id) is not None
