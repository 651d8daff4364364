"""Ingest: validate, render and record sessions, one commit each.

Records are planned against an in-memory view of the tip's tree; every `batch_size`
commits the new objects go to disk as one pack and `main` moves by compare-and-swap.
An interruption loses at most the batch in flight, never anything stored, and running
the same ingest again finishes the job (what is stored already is reported unchanged).
"""

from __future__ import annotations

import contextlib
import io
import re
import sqlite3
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from pathlib import Path
from typing import BinaryIO, Literal

from ..errors import EXIT_BAD_INPUT, EXIT_CONFLICT, EXIT_OK, InputError
from ..jsontext import JSONTextError
from ..pipelines.common import utc_text
from ..queries import index as queryindex
from ..queries.index import SlugIndex, slug_index
from ..queries.sessions import iter_session_folders
from ..queries.settings import current_settings
from ..rendering.templates import load_templates
from ..session.facts import SLUG_PATTERN, Address, Facts, FactsError, Names
from ..session.manifest import Manifest
from ..session.records import Record, make_record, public
from ..storage.commits import SessionTrailers, commit_time, identity, session_message
from ..storage.layout import (
    FACTS_FILE,
    MANIFEST_FILE,
    RECORD_FILE,
    SESSIONS_DIR,
    session_dir,
    template_path,
)
from ..storage.objects import BLOB_TYPE, blob_id
from ..storage.objectsize import MAX_OBJECT_BYTES
from ..storage.packs import packed_entry
from ..storage.trees import FILE_MODE
from ..storage.writing import Writer
from .batch import BatchReport, ItemOutcome
from .folder_plan import ScreenshotFile, SessionPlan, TemplateSet, assemble, store_names
from .init import open_store, store_templates_dir
from .inputs import STDIN, InputItem, nothing_came_in, read_inputs
from .screenshots import DEFAULT_MAX_SCREENSHOT_BYTES, ScreenshotPolicy
from .workers import (
    PlannedSession,
    PlanPool,
    Ticket,
    derive_and_render,
    input_problems,
    named_as,
    read_screenshots,
)

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
# Sessions planned ahead per worker, waiting for their turn: enough to keep the workers
# busy while this process lands a batch (its trees, commit, pack and query index: a
# few hundred sessions' planning), a few MB of results in all.
_AHEAD_PER_WORKER = 64
# Inputs taken between two drops of the maps of the packs the ingesting process reads
# (the fan-out trees each session lands in, and whether a session is stored): a read maps
# all of a large folio of the page cache (Linux 6.x), so a batch's reads of a store of
# 100,000 sessions mapped some 100 MB of its packs; dropped this often, a few MB.
_READS_KEPT = 64


@dataclass
class Outcome(ItemOutcome):
    """What happened to one input document."""

    origin: str
    status: Status
    session_id: str | None = None
    revision: int | None = None
    commit: str | None = None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    set_aside: list[str] = field(default_factory=list)

    EXIT_CODES = _EXIT


@dataclass
class IngestReport(BatchReport[Outcome]):
    """Every outcome of one ingest call; the exit code is the highest met."""


class Recorder:
    """Plans commits on top of `main`, in memory, and lands them through a store's writer
    in batches."""

    def __init__(
        self,
        writer: Writer,
        templates: dict[str, bytes],
        screenshot_policy: ScreenshotPolicy | None = None,
        private: Sequence[re.Pattern[str]] = (),
        names: Names | None = None,
        dry_run: bool = False,
        base_url: str | None = None,
    ) -> None:
        self.writer = writer
        self.dry_run = dry_run  # plan every commit, land none
        self.base_url = base_url  # the store's site.base_url: threads link their posts
        self.slugs: dict[str, str] = {}  # slug -> session id, given since the index moved
        self.scanned: dict[str, list[str]] | None = None  # the tip's slugs, without the index
        self.index: SlugIndex | None = None  # the query index, open once asked
        self.screenshot_policy = screenshot_policy or ScreenshotPolicy()
        self.private = tuple(private)  # the store's privacy.private, compiled
        self.names = names or Names()  # the store's names.repo and names.agent
        self.templates = TemplateSet(templates)
        self.head = writer.main
        self.head_tree = writer.store.commit(self.head).tree if self.head else None
        # a store that held no session when the run began has no slug but this run's,
        # held here until the query index holds them (`flush`)
        self.fresh = self.head_tree is None or (
            writer.store.lookup(self.head_tree, SESSIONS_DIR) is None
        )
        self.unflushed, self.last_flush = 0, time.monotonic()  # commits planned since, and when
        self.reads = 0  # inputs taken since the maps of the packs were last dropped
        # The query index's rows of each folder planned since the last flush: when `main`
        # moves, the index moves with it, from memory (queries.index.advance).
        self.landed: dict[str, queryindex.FolderRows] = {}
        self.editor = writer.edit(self.head_tree)
        self.template_blobs = {
            template_path(name): (blob_id(data), packed_entry(BLOB_TYPE, data))
            for name, data in templates.items()
        }

    def _blob_bytes(self, sha: bytes) -> bytes:
        return self.writer.blob(sha)

    def has_session(self, session_id: str) -> bool:
        """Whether the planned head records a session with this id."""
        return self.editor.get(f"{session_dir(session_id)}/{RECORD_FILE}") is not None

    def _revision(self, outcome: Outcome, record_blob: bytes, revise: bool) -> int | None:
        """The revision a record (by its blob id) would be, or None when its outcome is
        settled already: unchanged, or a conflict without `revise`."""
        assert outcome.session_id is not None
        folder = session_dir(outcome.session_id)
        existing = self.editor.get(f"{folder}/{RECORD_FILE}")
        manifest_entry = self.editor.get(f"{folder}/{MANIFEST_FILE}")
        if existing is None or manifest_entry is None:
            outcome.revision = 1
            return 1
        previous = Manifest.from_bytes(self._blob_bytes(manifest_entry[1]))
        outcome.revision = previous.revision
        if existing[1] == record_blob:
            outcome.status = "unchanged"
            return None
        if not revise:
            outcome.status = "conflict"
            outcome.problems.append(
                f"{outcome.origin}: session_id: {outcome.session_id!r} is already recorded "
                f"(revision {previous.revision}) with other content; use --revise to record a new revision"
            )
            return None
        outcome.status, outcome.revision = "revised", previous.revision + 1
        return outcome.revision

    def record(self, given: Record, revise: bool, base_dir: Path) -> Outcome:
        """Record one valid session (as given: its screenshots are read from where it
        names them) on top of the planned head, as its public record, or say why not."""
        record = public(given, self.private)
        outcome = Outcome(
            record.origin,
            "recorded",
            record.session_id,
            warnings=list(record.warnings),
            set_aside=list(record.set_aside),
        )
        revision = self._revision(outcome, blob_id(record.stored_bytes), revise)
        if revision is None:
            return outcome
        screenshots, warnings = read_screenshots(given, base_dir, self.screenshot_policy)
        outcome.warnings += warnings
        plan = self.plan(record, named_as(record, screenshots), revision)
        session = record.session
        trailers = SessionTrailers(
            session.session_id, session.session_type, session.agent_id, revision
        )
        outcome.commit = self.land(plan, session_message(trailers))
        return outcome

    def record_planned(self, origin: str, planned: PlannedSession, revise: bool) -> Outcome | None:
        """Record a session a worker planned as its first revision, or say why not; None
        when it would be another revision (its manifest says 1): plan it again here."""
        outcome = Outcome(
            origin,
            "recorded",
            planned.session_id,
            warnings=list(planned.warnings),
            set_aside=list(planned.set_aside),
        )
        revision = self._revision(outcome, planned.record_blob, revise)
        if revision is None:
            return outcome
        if revision != 1 or planned.slug is None or self._taken(planned.slug, planned.session_id):
            return None  # planned again here: another revision, or an address taken
        self.slugs[planned.slug] = planned.session_id
        trailers = SessionTrailers(planned.session_id, planned.session_type, planned.agent_id, 1)
        outcome.commit = self._land(
            session_dir(planned.session_id),
            planned.files,
            planned.packed,
            session_message(trailers),
            identity(planned.agent_id),
            planned.timestamp,
            planned.index_rows,
        )
        return outcome

    def plan(self, record: Record, screenshots: list[ScreenshotFile], revision: int) -> SessionPlan:
        """The session's folder as the plan makes it with these templates; whatever its
        pipeline or a template raises is this input's problem (an InputError). Its post
        keeps the address its recorded facts fixed; a session without one (new, or made
        by a version before addresses were fixed) gets its title's, made free of any
        other session's (`free_slug`)."""
        address = self.address(record.session_id)
        derived, rendered = derive_and_render(
            record, screenshots, self.templates, self.names, address
        )
        given = derived.facts.address
        if address.slug is None and given is not None and given.slug is not None:
            free = self.free_slug(given.slug, record.session_id, record.session.timestamp)
            if free != given.slug:
                derived, rendered = derive_and_render(
                    record, screenshots, self.templates, self.names, address.with_slug(free)
                )
            self.slugs[free] = record.session_id
        return assemble(derived, self.templates, revision, rendered)

    def address(self, session_id: str) -> Address:
        """Where the session's post lives, as the planned head's folder of it fixed it
        (its facts' address), with the store's site address; no slug for a new session,
        nor for one made before addresses were fixed, whose post's slug then is one it
        moved from (the site keeps a redirect there)."""
        base = Address(base_url=self.base_url)
        data = self.read(f"{session_dir(session_id)}/{FACTS_FILE}")
        if data is None:
            return base
        try:
            facts = Facts.from_bytes(data)
        except (FactsError, JSONTextError, ValueError):
            return base
        if facts.address is not None and facts.address.slug is not None:
            return facts.address.model_copy(update={"base_url": self.base_url})
        post = facts.artifacts.get("blog_post")
        front = post.context.get("front") if post is not None else None
        old = front.get("slug") if isinstance(front, dict) else None
        if isinstance(old, str) and len(old) <= 100 and re.fullmatch(SLUG_PATTERN, old):
            return base.model_copy(update={"moved_from": [old]})
        return base

    def free_slug(self, slug: str, session_id: str, moment: datetime) -> str:
        """`slug` when no other session's post lives there, else the first free of
        `slug-YYYY-MM-DD` (the session's day, UTC) and `slug-YYYY-MM-DD-2`, `-3`...:
        readable, and the same in every store fed the same sessions in the same order."""
        if not self._taken(slug, session_id):
            return slug
        day = utc_text(moment, "%Y-%m-%d")
        number = 1
        while True:
            candidate = f"{slug}-{day}" if number == 1 else f"{slug}-{day}-{number}"
            if not self._taken(candidate, session_id):
                return candidate
            number += 1

    def _taken(self, slug: str, session_id: str) -> bool:
        """Whether another session's post lives at `slug`: given in this run since the
        query index last moved (`flush`), or at the tip, as the index says (one lookup),
        else as the tip's manifests say (read once, when the index cannot be kept, and in
        a dry run, which writes nothing, the index's cache included)."""
        holder = self.slugs.get(slug)
        if holder is not None or self.fresh:
            return holder is not None and holder != session_id
        holders = None
        if self.scanned is None and not self.dry_run:
            if self.index is None:
                self.index = slug_index(self.writer.store)
            if self.index is not None:
                try:
                    holders = self.index.holders(slug)
                except sqlite3.Error:
                    self.close()
        if holders is None:
            holders = self._scan().get(slug, [])
        return any(h != session_id for h in holders)

    def close(self) -> None:
        """Let go of the query index, when a lookup opened it."""
        if self.index is not None:
            self.index.close()
            self.index = None

    def _scan(self) -> dict[str, list[str]]:
        if self.scanned is None:
            self.scanned = {}
            store = self.writer.store
            if self.writer.main is not None:
                root = store.commit(self.writer.main).tree
                for session_id, folder in iter_session_folders(store, root):
                    entry = store.lookup(folder, MANIFEST_FILE)
                    if entry is None:
                        continue
                    try:
                        slug = Manifest.from_bytes(store.blob(entry[1])).slug
                    except (ValueError, KeyError):
                        continue
                    if slug is not None:
                        self.scanned.setdefault(slug, []).append(session_id)
        return self.scanned

    def read(self, path: str) -> bytes | None:
        """The bytes of a file in the planned head's tree, or None."""
        entry = self.editor.get(path)
        return None if entry is None else self._blob_bytes(entry[1])

    def is_current(self, plan: SessionPlan) -> bool:
        """Whether the planned head's tree already holds every file of the plan as planned."""
        return all(
            (entry := self.editor.get(path)) is not None and entry[1] == blob_id(data)
            for path, data in plan.files.items()
        )

    def land(self, plan: SessionPlan, message: bytes) -> str:
        """Plan one commit on the head: the session's folder becomes the plan's, and
        templates/ the templates it rendered with. Returns the commit id."""
        files: list[tuple[str, bytes]] = []
        packed: dict[bytes, bytes] = {}
        for path, data in plan.files.items():
            sha = blob_id(data)
            files.append((path, sha))
            packed[sha] = packed_entry(BLOB_TYPE, data)
        session = plan.derived.record.session
        return self._land(
            plan.folder,
            files,
            packed,
            message,
            identity(session.agent_id),
            session.timestamp,
            queryindex.folder_rows(plan.manifest),
        )

    def _land(
        self,
        folder: str,
        files: Iterable[tuple[str, bytes]],
        packed: Mapping[bytes, bytes],
        message: bytes,
        author: bytes,
        authored: datetime | None,
        rows: queryindex.FolderRows,
    ) -> str:
        """Plan one commit on the head: `folder` holds `files` (path, blob id) and nothing
        else, their blobs in `packed` (hex id -> `packs.packed_entry`), and templates/ the
        templates; `rows` are the query index's of its manifest. Returns the commit id."""
        committed = commit_time()
        new_blobs: dict[bytes, bytes] = dict(packed)
        # Everything is planned: only now the tree changes, and a failure in between puts
        # it back as the head has it, so a session that fails leaves no trace.
        try:
            self.editor.remove(folder)
            for path, sha in files:
                self.editor.set(path, FILE_MODE, sha)
            for path, (sha, entry) in self.template_blobs.items():
                if self.editor.get(path) != (FILE_MODE, sha):
                    new_blobs[sha] = entry
                    self.editor.set(path, FILE_MODE, sha)
            root = self.writer.write_tree(self.editor)
        except BaseException:
            self._reset_editor()
            raise
        self.writer.put_packed(new_blobs)
        parents = [self.head] if self.head else []
        self.head = self.writer.commit(root, parents, message, author, authored, committed)
        self.head_tree = root
        self.unflushed += 1
        self.landed[folder] = rows
        return self.head.decode()

    def _reset_editor(self) -> None:
        """Forget planned tree edits that did not make a commit: back to the head's tree."""
        self.editor = self.writer.edit(self.head_tree)

    def flush_when_due(self, batch_size: int, flush_seconds: float) -> None:
        """Flush once `batch_size` commits are planned or `flush_seconds` have passed since
        the last flush: a batch is one pack, and an interrupted run loses at most one.
        Between flushes, the maps of the packs read are dropped every `_READS_KEPT`
        inputs (the trees read stay parsed in the editor)."""
        self.reads += 1
        if self.unflushed >= batch_size or time.monotonic() - self.last_flush > flush_seconds:
            self.flush()
        elif self.reads >= _READS_KEPT:
            self.writer.store.release_packs()
            self.reads = 0

    def flush(self) -> None:
        """Write the planned objects as one pack and move `main` to the planned head."""
        self.unflushed, self.last_flush, self.reads = 0, time.monotonic(), 0
        landed, self.landed = self.landed, {}
        if self.head is None or self.head == self.writer.main or self.dry_run:
            return
        base = self.writer.main
        self.writer.flush(self.head)
        if queryindex.advance(self.writer.store, base, self.head, landed) and self.scanned is None:
            # the addresses given so far are the index's now: asked there, not held here
            # (a run of a million sessions would hold a million)
            self.slugs.clear()
            self.fresh = False
        # What is on disk now reloads on demand: memory stays bounded by one batch.
        self._reset_editor()


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
    items: Iterable[InputItem] = (),
    dry_run: bool = False,
    progress: Callable[[int, int | None], None] | None = None,
    expected: int | None = None,
) -> IngestReport:
    """Ingest every session document named by `paths`, then the parsed `items`, into the
    store (created if missing).

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
    `max_screenshot_bytes` is at most the largest object a store takes from a remote
    (`objectsize.MAX_OBJECT_BYTES`), so that every store it records can be synced.
    `progress(done, expected)` is called after each outcome. With `dry_run`, every
    session is planned as it would be and nothing is written: the
    outcomes say what would be recorded, revised or refused (a missing store is planned
    as a new one, in a temporary folder that is removed after).
    """
    if not 0 < max_screenshot_bytes <= MAX_OBJECT_BYTES:
        raise InputError(
            "--max-screenshot-bytes",
            "",
            f"{max_screenshot_bytes:,} is not between 1 and {MAX_OBJECT_BYTES:,}, the largest "
            "object a store takes from a remote",
        )
    paths = list(paths)
    if paths == [STDIN] and stdin is not None and items == ():
        # Only standard input, and nothing in it: a pipe whose first command failed.
        # Refused before the store is opened, so none is made for it.
        data = stdin.read()
        if not data.strip():
            raise nothing_came_in()
        stdin = io.BytesIO(data)
    report = IngestReport(str(store_path), dry_run=dry_run)
    with contextlib.ExitStack() as scratch:
        if dry_run and _missing_store(store_path):
            store_path = Path(scratch.enter_context(tempfile.TemporaryDirectory())) / "new.git"
        _ingest_into(
            store_path,
            report,
            paths,
            revise=revise,
            templates_dir=templates_dir,
            stdin=stdin,
            batch_size=batch_size,
            flush_seconds=flush_seconds,
            on_outcome=on_outcome,
            max_screenshot_bytes=max_screenshot_bytes,
            screenshots_from=screenshots_from,
            workers=workers,
            parallel_after=parallel_after,
            keep_outcomes=keep_outcomes,
            items=items,
            progress=progress,
            expected=expected,
        )
    return report


def _missing_store(path: Path) -> bool:
    return not path.exists() or (path.is_dir() and not any(path.iterdir()))


def _ingest_into(
    store_path: Path,
    report: IngestReport,
    paths: Iterable[str],
    *,
    revise: bool,
    templates_dir: Path | None,
    stdin: BinaryIO | None,
    batch_size: int,
    flush_seconds: float,
    on_outcome: Callable[[Outcome], None] | None,
    max_screenshot_bytes: int,
    screenshots_from: Sequence[Path],
    workers: int,
    parallel_after: int,
    keep_outcomes: bool,
    items: Iterable[InputItem],
    progress: Callable[[int, int | None], None] | None,
    expected: int | None,
) -> None:
    dry_run = report.dry_run
    # the largest merges of packs are written beside the ingest, which goes on meanwhile
    with open_store(store_path, create=True) as store, store.writing(merge_beside=True) as writer:
        templates = load_templates(templates_dir or store_templates_dir(store))
        policy = ScreenshotPolicy(tuple(screenshots_from), max_screenshot_bytes)
        settings = current_settings(store)
        private = settings.private_patterns()
        names = store_names(settings)
        base_url = settings.site.base_url
        recorder = Recorder(writer, templates, policy, private, names, dry_run, base_url)
        pool: PlanPool | None = None
        ahead: deque[_Ahead] = deque()

        finished = 0

        def done(outcome: Outcome) -> None:
            nonlocal finished
            if dry_run:
                outcome.commit = None  # planned, never made
            report.add(outcome, keep_outcomes)
            if on_outcome is not None:
                on_outcome(outcome)
            if progress is not None:
                finished += 1
                progress(finished, expected)
            recorder.flush_when_due(batch_size, flush_seconds)

        try:
            inputs = chain(read_inputs(list(paths), stdin), items)
            for seen, item in enumerate(inputs, start=1):
                if pool is None and workers > 1 and seen > parallel_after:
                    pool = PlanPool(
                        recorder.templates,
                        policy,
                        workers,
                        private,
                        names,
                        Address(base_url=base_url),
                    )
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
            recorder.close()
            if pool is not None:
                pool.close()
        recorder.flush()


@dataclass
class _Ahead:
    """An input read ahead of its turn, and, unless it is invalid already or its session
    is stored already (then its turn decides), a worker planning it."""

    item: InputItem
    ticket: Ticket | None = None

    def ready(self) -> bool:
        return self.ticket is None or self.ticket.ready()


def _prepare(recorder: Recorder, pool: PlanPool, item: InputItem) -> _Ahead:
    """Start planning an input. Its plan depends on the input, its screenshots and the
    templates alone (not on its revision or what lands before it), so it is the plan
    its turn would make, as long as its session is new then (else its turn plans again)."""
    entry = _Ahead(item)
    value = item.value
    session_id = value.get("session_id") if isinstance(value, dict) else None
    if item.error is None and not (
        isinstance(session_id, str) and recorder.has_session(session_id)
    ):
        entry.ticket = pool.submit(item.origin, value, item.base_dir)
    return entry


def _finish(recorder: Recorder, entry: _Ahead, revise: bool) -> Outcome:
    """The outcome of an input read ahead, in its turn."""
    ticket = entry.ticket
    if ticket is None:
        return _ingest_item(recorder, entry.item, revise)
    item = entry.item

    def work() -> Outcome:
        outcome = recorder.record_planned(item.origin, ticket.result(), revise)
        if outcome is None:  # another revision of its session: planned again, here
            outcome = recorder.record(make_record(item.origin, item.value), revise, item.base_dir)
        return outcome

    return _contained(item, work)


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
    except BaseException as exc:
        problems = input_problems(item.origin, exc)
        if problems is None:
            raise
        outcome.problems = [str(p) for p in problems]
    return outcome
