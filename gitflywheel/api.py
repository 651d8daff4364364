"""Every command as a function: `from gitflywheel import ingest, verify, ls`.

Each takes the store as a path or an open `Store` (as dulwich's porcelain takes a path or
a repo), returns what the command reports, and never prints or exits: failures raise the
project's errors (`gitflywheel.errors`), each carrying the exit code the CLI would use.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, overload

from .errors import (
    ConflictError,
    GitflywheelError,
    InputError,
    RemoteError,
    StoreError,
)
from .storage.store import Store

if TYPE_CHECKING:
    from .capturing.result import CapturedSessions
    from .hooks import HookStatus, InstallResult, RunReport, UninstallResult
    from .hooks.precommit import PreCommitPush
    from .publishing.exports import BlogExportResult
    from .publishing.preview import Preview, PreviewBuild
    from .publishing.site import SiteResult
    from .queries.sessions import ExportResult, Holder, LogEntry, SessionRow
    from .recording.clean_copy import CleanCopyResult
    from .recording.ingest import IngestReport, Outcome
    from .recording.init import InitResult
    from .recording.maintain import MaintainResult
    from .recording.rerender import RerenderOutcome, RerenderReport
    from .recording.settings import ConfigChange
    from .remotes.sync import PublishResult, SyncResult
    from .session.manifest import Manifest
    from .session.settings import StoreSettings, Value
    from .verification import VerifyResult

# The public surface: `gitflywheel` exports these (and its __version__), loading them on
# first use, so this list is the one place a new function is named.
__all__: list[str] = [
    "StoreLike",
    "Store",
    "default_store",
    "init",
    "ingest",
    "rerender",
    "verify",
    "ls",
    "show",
    "which",
    "log",
    "export",
    "maintain",
    "clean_copy",
    "publish",
    "sync",
    "site",
    "serve",
    "config",
    "capture",
    "capture_trades",
    "capture_chat",
    "schema",
    "hook_install",
    "hook_uninstall",
    "hook_status",
    "hook_run",
    "hook_pre_commit",
    "GitflywheelError",
    "InputError",
    "ConflictError",
    "StoreError",
    "RemoteError",
]

StoreLike = Store | str | os.PathLike[str]
PathLike = str | os.PathLike[str]
# A long command's progress: called with what is done so far and the total (None when
# it is not known in advance), as often as there is news; the CLI draws it.
ProgressCallback = Callable[[int, int | None], None]


def _path(repo: StoreLike) -> Path:
    return repo.path if isinstance(repo, Store) else Path(repo)


@contextlib.contextmanager
def _open(
    repo: StoreLike, *, create: bool = False, first_commit: bool = True, read_only: bool = False
) -> Iterator[Store]:
    """The store itself when given one (left open), else the store at that path (closed
    after); either way a repository that is not a store is refused, as the CLI refuses
    it (`recording.init.open_store`: the same message and exit code)."""
    from .recording.init import check_store, open_store

    if isinstance(repo, Store):
        check_store(repo, read_only=read_only)
        yield repo
        return
    with open_store(
        Path(repo), create=create, first_commit=first_commit, read_only=read_only
    ) as store:
        yield store


def default_store(repo: PathLike | None = None) -> Path:
    """The store a command works on: `repo` when given, else `$GITFLYWHEEL_REPO`, else
    `./flywheel.git` when one exists in the current folder, else the user's store,
    `$XDG_DATA_HOME/gitflywheel/flywheel.git` (`~/.local/share/...` when unset). The
    user's store is never made inside a git work tree (StoreError, exit 2)."""
    from .storage.location import default_store as resolve

    return resolve(repo)


def init(repo: StoreLike, templates: PathLike | None = None) -> InitResult:
    """Create the store (or, on an existing one, change nothing but `templates`, the
    folder of templates it renders with from now on)."""
    from .recording.init import init_store

    return init_store(_path(repo), Path(templates) if templates is not None else None)


def ingest(
    repo: StoreLike,
    paths: PathLike | Mapping[str, Any] | Iterable[PathLike | Mapping[str, Any]],
    *,
    revise: bool = False,
    templates: PathLike | None = None,
    stdin: BinaryIO | None = None,
    max_screenshot_bytes: int | None = None,
    screenshots_from: Iterable[PathLike] = (),
    on_outcome: Callable[[Outcome], None] | None = None,
    workers: int | None = 1,
    keep_outcomes: bool = True,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
) -> IngestReport:
    """Validate, render and record every session in `paths` (files, folders, or `-` for
    `stdin`); the store is created when missing. Invalid inputs are reported in the
    result's outcomes, not raised, and the valid ones are recorded; only `-` with nothing
    on `stdin` (a pipe whose first command failed) raises InputError, and makes no
    store. Screenshots are read only from inside each input's folder and
    `screenshots_from`, images of at most `max_screenshot_bytes` (default 8 MiB).

    `on_outcome` sees each outcome as it happens; without `keep_outcomes` the result only
    counts them, so a long run's memory does not grow with it. `workers` processes (None:
    one per core) plan many inputs ahead; they import the caller's main module, so a
    script passing more than 1 guards its work with `if __name__ == "__main__":`.

    `paths` may also hold sessions as dicts (what `capture` returns), ingested in their
    turn as if read from a file in the working directory. With `dry_run`, nothing is
    written and the outcomes say what would be recorded, revised or refused.
    `progress(done, total)` counts the outcomes; the total, read ahead from the files,
    is None for standard input or a file holding an array."""
    from .recording.ingest import ingest as run
    from .recording.inputs import InputItem, count_documents, session_items
    from .recording.screenshots import DEFAULT_MAX_SCREENSHOT_BYTES
    from .recording.workers import available_cores

    names = [paths] if isinstance(paths, str | os.PathLike | Mapping) else list(paths)
    files = [os.fspath(p) for p in names if not isinstance(p, Mapping)]
    items: Iterable[InputItem] = ()
    if len(files) < len(names):  # sessions given as dicts, in their turn among the files
        items, files = session_items(names, stdin), []
    return run(
        _path(repo),
        files,
        revise=revise,
        templates_dir=Path(templates) if templates is not None else None,
        stdin=stdin,
        on_outcome=on_outcome,
        max_screenshot_bytes=(
            DEFAULT_MAX_SCREENSHOT_BYTES if max_screenshot_bytes is None else max_screenshot_bytes
        ),
        screenshots_from=[Path(p) for p in screenshots_from],
        workers=available_cores() if workers is None else workers,
        keep_outcomes=keep_outcomes,
        items=items,
        dry_run=dry_run,
        progress=progress,
        expected=count_documents(names) if progress is not None else None,
    )


def rerender(
    repo: StoreLike,
    session_ids: Iterable[str] = (),
    *,
    all_sessions: bool = False,
    templates: PathLike | None = None,
    on_outcome: Callable[[RerenderOutcome], None] | None = None,
    progress: ProgressCallback | None = None,
    dry_run: bool = False,
) -> RerenderReport:
    """Render the named sessions (or every one) again with this version's pipelines and
    the store's templates (or `templates`, which become the store's); one commit per
    session that changes. Sessions not in the store are outcomes, not raised;
    `on_outcome` sees each as it happens, `progress(done, total)` counts them. With
    `dry_run`, nothing is written: the outcomes say which would be rendered again."""
    from .recording.rerender import rerender as run

    return run(
        _path(repo),
        list(session_ids),
        all_sessions=all_sessions,
        templates_dir=Path(templates) if templates is not None else None,
        on_outcome=on_outcome,
        progress=progress,
        dry_run=dry_run,
    )


def verify(
    repo: StoreLike,
    *,
    full: bool = False,
    jobs: int | None = None,
    on_wait: Callable[[], None] | None = None,
    progress: ProgressCallback | None = None,
) -> VerifyResult:
    """Prove the SSOT rules from the history of `main` (only what is new since the last
    run, unless `full`) with `jobs` processes (default: one per core); `result.ok` is
    False when anything is violated. It reads `main` as the run finds it, never waiting
    for writers; a second verify of the store waits for the first (`on_wait` is called
    then); `progress(done, total)` counts the commits checked.
    `gitflywheel.verification.report.markdown_report(result)` is the report as Markdown."""
    from .verification import verify as run

    with _open(repo, read_only=True) as store:
        return run(store, full=full, jobs=jobs, on_wait=on_wait, progress=progress)


@overload
def ls(
    repo: StoreLike,
    *,
    session_type: str | None = None,
    agent: str | None = None,
    since: str | None = None,
    until: str | None = None,
    format: Literal["rows"] = ...,
) -> list[SessionRow]: ...
@overload
def ls(
    repo: StoreLike,
    *,
    session_type: str | None = None,
    agent: str | None = None,
    since: str | None = None,
    until: str | None = None,
    format: Literal["json"],
) -> str: ...
def ls(
    repo: StoreLike,
    *,
    session_type: str | None = None,
    agent: str | None = None,
    since: str | None = None,
    until: str | None = None,
    format: Literal["rows", "json"] = "rows",
) -> list[SessionRow] | str:
    """The sessions at the tip, oldest first; `since`/`until` are dates (`until` takes in
    the whole day) or ISO 8601 date-times. With `format="json"`, the same rows as one
    JSON array (a session a line), written by the query index when it can."""
    from .queries.sessions import list_sessions, list_sessions_json

    with _open(repo, read_only=True) as store:
        if format == "json":
            return list_sessions_json(store, session_type, agent, since, until)
        return list_sessions(store, session_type, agent, since, until)


@overload
def show(repo: StoreLike, session_id: str, kind: None = None) -> Manifest: ...
@overload
def show(repo: StoreLike, session_id: str, kind: str) -> bytes: ...
def show(repo: StoreLike, session_id: str, kind: str | None = None) -> Manifest | bytes:
    """A session's manifest, or with `kind` the bytes of one artifact (`record`: the
    session record; `facts`; `provenance`: the in-toto statement of its artifacts)."""
    from .queries.sessions import show_artifact, show_session

    with _open(repo, read_only=True) as store:
        return (
            show_session(store, session_id)
            if kind is None
            else show_artifact(store, session_id, kind)
        )


def which(repo: StoreLike, file_or_blob: PathLike) -> tuple[str, list[Holder]]:
    """The blob id of a file (or a blob id as given) and the sessions holding it."""
    from .queries.sessions import which as find

    with _open(repo, read_only=True) as store:
        return find(store, os.fspath(file_or_blob))


def log(repo: StoreLike, limit: int | None = None) -> list[LogEntry]:
    """The audit trail: the first-parent history of `main`, newest first."""
    from .queries.sessions import log as read

    with _open(repo, read_only=True) as store:
        return read(store, limit)


@overload
def export(
    repo: StoreLike,
    directory: PathLike,
    at: str | None = None,
    *,
    format: Literal["tree"] = ...,
    progress: ProgressCallback | None = None,
) -> ExportResult: ...
@overload
def export(
    repo: StoreLike,
    directory: PathLike,
    at: str | None = None,
    *,
    format: Literal["hugo", "jekyll"],
    base_path: str = "/",
    progress: ProgressCallback | None = None,
) -> BlogExportResult: ...
def export(
    repo: StoreLike,
    directory: PathLike,
    at: str | None = None,
    *,
    format: Literal["tree", "hugo", "jekyll"] = "tree",
    base_path: str = "/",
    progress: ProgressCallback | None = None,
) -> ExportResult | BlogExportResult:
    """Write the tree of a commit (default: the tip; `at`: `main~3`, an id) as files; with
    `format` hugo or jekyll, its published posts, build logs and trade journals, each with
    its session's card image as its cover, into a blog's folder (`base_path`: where a
    Jekyll blog is served). A blog export's result counts posts, pages, files written and
    removed, and the sessions left out by reason. `progress(done, None)` counts the files
    written (a blog: the sessions read)."""
    with _open(repo, read_only=True) as store:
        if format == "tree":
            from .queries.sessions import export as run

            return run(store, Path(directory), at, progress)
        from .publishing.exports import export_blog
        from .queries.settings import current_settings

        title = current_settings(store).site.title or "Work sessions"
        return export_blog(store, Path(directory), format, at, base_path, title, progress)


def maintain(repo: StoreLike, *, full: bool = False) -> MaintainResult:
    """Pack loose objects, merge packs (`full`: into one), and, when git is installed,
    have git write a multi-pack-index with its bitmap and a commit-graph; nothing is
    pruned. `result.changed` is False when there was nothing to do."""
    from .recording.maintain import maintain as run

    with _open(repo) as store:
        return run(store, full=full)


def clean_copy(old: StoreLike, new: PathLike) -> CleanCopyResult:
    """Write `new`, a store whose history replays `old`'s with every record as its public
    record (what ingest stores now), for a store an earlier version filled and that is not
    pushed yet: session ids, their order and revisions kept, screenshots and settings
    carried over, rerenders left out. `old` is only read; `new` must not exist or be an
    empty folder (InputError, exit 2, otherwise)."""
    from .recording.clean_copy import clean_copy as run

    return run(_path(old), Path(new))


def publish(
    repo: StoreLike,
    remote: str | None = None,
    *,
    name: str | None = None,
    auto: bool | None = None,
    dry_run: bool = False,
) -> PublishResult:
    """Push `main` and the site branches to a remote (a path, a URL, or a remote name;
    default `origin`), each site branch built again from `main` first when it is not
    current (with the store's `site.base_url` and `site.title`).

    A URL (or path) is recorded in the store's git config as the remote `name` (default
    `origin`) once the push went well, so that `publish()` and `sync()` use it from then
    on. A recorded name is never changed: another URL is pushed to and not recorded
    (`result.notes` says so), and `name` or `auto` for a name that holds another URL is
    refused (InputError, exit 2) before anything is pushed. `auto=True`: after each
    session the push hook records, its run publishes there by itself; `auto=False`: no
    longer (turned off even when this push fails). With `dry_run`, everything is checked
    but nothing is built, pushed or recorded: the result says what would be pushed
    (`pushed`, `site_branches`)."""
    from .remotes.autopublish import publish_current

    with _open(repo) as store:
        return publish_current(store, remote, name=name, auto=auto, dry_run=dry_run)


def sync(
    repo: StoreLike,
    remote: str | None = None,
    *,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
    timeout: float = 60.0,
) -> SyncResult:
    """Fetch what a remote published, combine it with the store (created when missing),
    and push the result; without `remote`, the one `publish` recorded (`origin`).
    `progress(done, total)` counts the commits it brings as they are checked. With
    `dry_run`, nothing changes here or there (a missing store is not created) and the
    result says what would: the action, the sessions taken, a push. While another
    writer's push lands first, it tries again, until `timeout` seconds have passed."""
    from .remotes.sync import sync as run

    path = _path(repo)
    if dry_run and not isinstance(repo, Store) and not path.exists():
        raise StoreError(
            f"{path}: no store here; sync would make one that takes the remote's history, "
            "and a dry run creates nothing"
        )
    with _open(repo, create=not dry_run, first_commit=False) as store:
        return run(store, remote, dry_run=dry_run, progress=progress, timeout=timeout)


def site(
    repo: StoreLike,
    out: PathLike | None,
    *,
    base_url: str | None = None,
    at: str | None = None,
    branch: str | None = None,
    templates: PathLike | None = None,
    title: str | None = None,
    feeds: bool = True,
    progress: ProgressCallback | None = None,
) -> SiteResult:
    """Build the store (at `at`, default the tip of `main`) as a static site with Atom
    feeds, written to the folder `out` and/or committed to the store's `branch`. Drafts
    never appear; the feeds need `base_url` (else `feeds=False`). `base_url` and `title`
    default to the store's settings `site.base_url` and `site.title` (`config`), and the
    title then to "Work sessions". `progress(done, total)` counts the sessions read,
    then (with their total) those whose pages are made."""
    from .publishing.site import make_site
    from .queries.settings import current_settings

    with _open(repo) as store:
        shared = current_settings(store).site
        return make_site(
            store,
            Path(out) if out is not None else None,
            base_url=base_url or shared.base_url,
            at=at,
            branch=branch,
            templates_dir=Path(templates) if templates is not None else None,
            title=title or shared.title or "Work sessions",
            feeds=feeds,
            progress=progress,
        )


def serve(
    repo: StoreLike,
    port: int = 0,
    *,
    poll_seconds: float = 1.0,
    on_build: Callable[[PreviewBuild], None] | None = None,
    on_event: Callable[[str], None] | None = None,
) -> Preview:
    """The store's site, built into a temporary folder and ready to be served on
    127.0.0.1 at `port` (0: any free port; the result's `url` says which), built again
    whenever `main` moves (checked every `poll_seconds`). Nothing is served until the
    result's `serve_forever()` (until Ctrl-C) or `start()` (in background threads);
    `close()`, or leaving it as a context manager, stops it and removes the builds.
    `on_build` hears each build (or why one failed: the last good one stays served),
    `on_event` each request."""
    from .publishing.preview import Preview

    with _open(repo, read_only=True):  # what is not a store is refused here, as elsewhere
        pass
    return Preview(
        _path(repo), port, poll_seconds=poll_seconds, on_build=on_build, on_event=on_event
    )


@overload
def config(repo: StoreLike, key: None = None) -> StoreSettings: ...
@overload
def config(
    repo: StoreLike,
    key: str,
    value: None = None,
    *,
    add: Literal[False] = False,
    unset: Literal[False] = False,
) -> Value: ...
@overload
def config(
    repo: StoreLike, key: str, value: str | None = None, *, add: bool = False, unset: bool = False
) -> ConfigChange | Value: ...
def config(
    repo: StoreLike,
    key: str | None = None,
    value: str | None = None,
    *,
    add: bool = False,
    unset: bool = False,
) -> StoreSettings | Value | ConfigChange:
    """The store's settings, like `git config`, kept in `gitflywheel.toml` on `main`.

    Without `key`: every setting (a `StoreSettings`; `.values()` lists those set). With
    `key` alone: its value (a text, a tuple of texts for a multi-valued key, or None /
    `()` when unset). With `value`: set it; with `add`: add one value to a multi-valued
    key; with `unset`: remove the key (or, given `value`, that one value). A change is one
    commit (`config: set site.base_url`, trailers `Config-Key`, `Config-Change`), none
    when the value is already so; the result says which (`ConfigChange`). An unknown key
    or a value that is not valid raises InputError (exit 2) and nothing is written. A
    change creates the store when it is missing. The keys: `session.settings.KEYS`."""
    from .queries.settings import current_settings
    from .recording.settings import change_setting
    from .session.settings import KEYS

    if add and unset:
        raise GitflywheelError("config: --add or --unset, not both")
    if key is None:
        if value is not None or add or unset:
            raise GitflywheelError("config: give the KEY to change")
        with _open(repo, read_only=True) as store:
            return current_settings(store)
    if key not in KEYS:
        raise InputError("config", key, "not a setting (" + ", ".join(KEYS) + ")")
    if value is None and not (add or unset):
        with _open(repo, read_only=True) as store:
            return current_settings(store).get(key)
    with _open(repo, create=True) as store:
        return change_setting(store, key, value, "add" if add else "unset" if unset else "set")


def capture(
    source: PathLike = ".",
    *,
    since_rev: str | None = None,
    until_rev: str | None = None,
    since: str | datetime | None = None,
    until: str | datetime | None = None,
    agent: str | None = None,
    session_id: str | None = None,
    title: str | None = None,
    overview: str | None = None,
    problem: str | None = None,
    solution: str | None = None,
    lessons: Iterable[tuple[str, str]] = (),
    next_steps: Iterable[str] = (),
    duration_minutes: int | None = None,
    on_note: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """A build session from a git repository's commits, as a plain JSON-ready dict that
    `ingest` takes as it is (`ingest(store, [capture(".")])`). `on_note` hears what was
    left out and why (a shallow clone's boundary, contents missing from a partial clone).
    A date as `until` takes in the whole day. A date that cannot be read is refused as
    the command line's `--since`/`--until`."""
    from .hooks.capture import CaptureOptions
    from .hooks.capture import capture as run
    from .queries.sessions import parse_day, parse_until

    captured = run(
        CaptureOptions(
            source=Path(source),
            since_rev=since_rev,
            until_rev=until_rev,
            since=parse_day(since, "--since") if isinstance(since, str) else since,
            until=parse_until(until, "--until") if isinstance(until, str) else until,
            agent_id=agent,
            session_id=session_id,
            title=title,
            overview=overview,
            problem=problem,
            solution=solution,
            lessons=list(lessons),
            next_steps=list(next_steps),
            duration_minutes=duration_minutes,
        )
    )
    for note in captured.notes:
        if on_note is not None:
            on_note(note)
    return captured.session


def capture_trades(
    paths: PathLike | Iterable[PathLike],
    *,
    format: Literal["ibkr", "thinkorswim", "tradervue"] | None = None,
    tz: str | None = None,
    agent: str | None = None,
) -> CapturedSessions:
    """Trade sessions from broker exports (Interactive Brokers Flex XML or CSV, a
    thinkorswim account statement, Tradervue's generic CSV), one per trading day and
    account: `.sessions` are JSON-ready dicts for `ingest`, `.notes` say what was left out.
    Executions become trades by FIFO lots; times become UTC from the IANA zone `tz` (each
    format's default: America/New_York). A malformed export raises InputError (exit 2)
    naming the file, the row, the field and the reason."""
    from .capturing.trades import capture_trades as run

    names = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    return run(names, format=format, tz=tz, agent=agent)


def capture_chat(
    paths: PathLike | Iterable[PathLike],
    *,
    since: str | None = None,
    conversations: Iterable[str] = (),
    agent: str | None = None,
    images_to: PathLike = "chat-images",
    max_image_bytes: int | None = None,
) -> CapturedSessions:
    """Life/Aria sessions from chat exports (ChatGPT's ZIP or conversations.json,
    Claude.ai's conversations.json: one per conversation and UTC day; a Markdown
    transcript: one), `since` a date (from that day on), `conversations` only those ids.
    Images of an export or a transcript that are images by the screenshot rules, at most
    `max_image_bytes` (default 8 MiB), are written to `images_to` and named as
    screenshots; ingest reads them from there (the working directory for `-`, else
    `screenshots_from`). A malformed export raises InputError (exit 2) naming the file,
    the conversation, the field and the reason."""
    from .capturing.chats import capture_chats as run
    from .queries.sessions import parse_day
    from .recording.screenshots import DEFAULT_MAX_SCREENSHOT_BYTES
    from .storage.objectsize import MAX_OBJECT_BYTES

    limit = DEFAULT_MAX_SCREENSHOT_BYTES if max_image_bytes is None else max_image_bytes
    if not 1 <= limit <= MAX_OBJECT_BYTES:
        raise GitflywheelError(
            f"--max-screenshot-bytes: {limit} is not between 1 and {MAX_OBJECT_BYTES:,}"
        )
    names = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    return run(
        names,
        since=parse_day(since, "--since").date() if since else None,
        conversations=list(conversations),
        agent=agent,
        images_to=images_to,
        max_image_bytes=limit,
    )


def schema(name: Literal["session", "manifest", "facts"]) -> dict[str, Any]:
    """The JSON Schema of a work session, of a session's manifest, or of its facts."""
    if name == "session":
        from .session.models import session_json_schema

        return session_json_schema()
    if name == "manifest":
        from .session.manifest import manifest_json_schema

        return manifest_json_schema()
    if name == "facts":
        from .session.facts import facts_json_schema

        return facts_json_schema()
    raise GitflywheelError(f"{name!r}: not a schema (session, manifest or facts)")


def hook_install(
    source: PathLike,
    repo: StoreLike | None = None,
    *,
    python: PathLike | None = None,
    force: bool = False,
) -> InstallResult:
    """Install the pre-push hook in the work repository `source`: each push records a
    build session in the store `repo` (default: `default_store()`; created when
    missing), run by `python` (default: this interpreter). A pre-push hook already there
    is kept and runs first. A hooks folder the work repository tracks is refused
    (InputError, exit 2) unless `force`: the hook holds this machine's absolute paths."""
    from .hooks import install

    store = _path(repo) if repo is not None else default_store()
    return install(
        Path(source), store, os.fspath(python) if python is not None else None, force=force
    )


def hook_uninstall(source: PathLike = ".") -> UninstallResult:
    """Remove the hook from the work repository `source` and put back the one it
    replaced; another program's hook is refused, left as it is."""
    from .hooks import uninstall

    return uninstall(Path(source))


def hook_status(source: PathLike = ".") -> HookStatus:
    """The hook of the work repository `source`: where it is, its store and interpreter,
    the pushes waiting, the last runs and the last error."""
    from .hooks import status

    return status(Path(source))


def hook_run(
    source: PathLike = ".", repo: StoreLike | None = None, *, git_dir: PathLike | None = None
) -> RunReport:
    """Record the pushes waiting in the spools now: the store's (`repo`, default: the one
    the hook installed in `source` records into) and the work repository's (`git_dir`,
    default: `source`'s git directory). A push that cannot be recorded stays spooled and
    the result's `error` says why; nothing is raised for it."""
    from .hooks import installed_store, run, work_git_dir

    work_dir = Path(git_dir) if git_dir is not None else None
    if work_dir is None:
        try:
            work_dir = work_git_dir(Path(source))
        except GitflywheelError:
            if repo is None:
                raise  # neither a work repository nor a store: nothing to drain
    store = _path(repo) if repo is not None else installed_store(Path(source))
    if store is None:
        raise GitflywheelError("no gitflywheel hook here: give the store with --repo")
    return run(store, work_dir)


def hook_pre_commit(repo: StoreLike | None = None, source: PathLike = ".") -> PreCommitPush:
    """The hook as pre-commit runs it at pre-push (`.pre-commit-hooks.yaml`): spool the
    push its `PRE_COMMIT_*` variables describe into the store (default:
    `default_store()`, created when missing) and start the run that records it once the
    push has ended. Outside such a run, nothing is done and the result says so."""
    from .hooks.precommit import pre_commit_push

    store = _path(repo) if repo is not None else default_store()
    return pre_commit_push(store, os.environ, Path(source))
