"""The command line: parse options, call one function of `gitflywheel.api`, format its result.

Messages for people go to standard error; `--json` prints one JSON document to standard
output. The project's errors become messages and exit codes here and nowhere else.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

import click

from .console import Progress, error, say, set_quiet
from .errors import EXIT_BAD_INPUT, GitflywheelError
from .escape import terminal
from .recording.screenshots import DEFAULT_MAX_SCREENSHOT_BYTES
from .storage.objectsize import MAX_OBJECT_BYTES
from .version import __version__

if TYPE_CHECKING:
    from .publishing.preview import PreviewBuild
    from .recording.ingest import Outcome
    from .recording.rerender import RerenderOutcome

F = TypeVar("F", bound=Callable[..., Any])


_STORE = "gitflywheel.storage.store"  # ctx.meta key: the store a command works on


def _note_store(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path:
    from . import api

    store = api.default_store(value)
    ctx.meta[_STORE] = store
    return store


def repo_option(func: F) -> F:
    """`--repo PATH`, else $GITFLYWHEEL_REPO, else ./flywheel.git when it exists, else the
    user's store (`api.default_store`)."""
    return click.option(
        "--repo",
        "repo",
        type=click.Path(path_type=Path, file_okay=False),
        envvar="GITFLYWHEEL_REPO",
        show_envvar=True,
        callback=_note_store,
        help="The store: a git repository. Default: ./flywheel.git when it exists, else "
        "$XDG_DATA_HOME/gitflywheel/flywheel.git (~/.local/share/gitflywheel/flywheel.git).",
    )(func)


def json_option(func: F) -> F:
    return click.option(
        "--json", "as_json", is_flag=True, help="Print one JSON document to standard output."
    )(func)


def dry_run_option(func: F) -> F:
    return click.option(
        "--dry-run",
        "dry_run",
        is_flag=True,
        help="Say what would be done, and change nothing (the store, its refs, the remote).",
    )(func)


def emit_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def emitted(value: Any, as_json: bool) -> bool:
    """With --json, print `value` as JSON and say so; the caller then says nothing more."""
    if as_json:
        emit_json(value)
    return as_json


def _os_problem(exc: OSError) -> str:
    """An OSError as `thing: reason`, e.g. `out/post.md: Permission denied`."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    things = [os.fsdecode(f) for f in (exc.filename, exc.filename2) if f is not None]
    return f"{' -> '.join(things)}: {reason}" if things else reason


def _usage(exc: click.UsageError) -> str:
    """The usage line and the hint that click shows above a usage error."""
    ctx = exc.ctx
    if ctx is None:
        return ""
    hint = ""
    if ctx.command.get_help_option(ctx) is not None:
        option = max(ctx.command.get_help_option_names(ctx), key=len)
        hint = f"Try '{ctx.command_path} {option}' for help.\n"
    return f"{ctx.get_usage()}\n{hint}"


class _Group(click.Group):
    """The one entry point (console script, `python -m gitflywheel`, tests): the project's
    errors, OSError and click's own errors (a usage error keeps its exit 2) become one
    line on standard error, `error: ...`, and the exit code they mean. Every command
    added to it takes `-q/--quiet`, and so do those of its groups (`hook`)."""

    group_class = type  # a group of this group is one too

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.UsageError as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # click 8.2+: the help, as asked
                exc.show()
            else:
                click.echo(_usage(exc), err=True)  # a blank line before the error, as click has it
                error(exc.format_message())
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            error(exc.format_message())
            sys.exit(exc.exit_code)
        except click.Abort:
            error("aborted")
            sys.exit(1)
        except GitflywheelError as exc:
            error(str(exc))
            sys.exit(exc.exit_code)
        except OSError as exc:
            error(_os_problem(exc))
            sys.exit(EXIT_BAD_INPUT)
        sys.exit(code if isinstance(code, int) else 0)

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        if any("--quiet" in p.opts for p in cmd.params):  # one command in two groups
            super().add_command(cmd, name)
            return
        cmd.params.append(
            click.Option(
                ["-q", "--quiet"],
                is_flag=True,
                expose_value=False,
                is_eager=True,
                callback=set_quiet,
                help="Say nothing on standard error but errors (no progress, no notes).",
            )
        )
        super().add_command(cmd, name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (BrokenPipeError, KeyboardInterrupt):
            ctx.exit(130)
        except OSError as exc:
            # A failure with no file named (a full disk while writing a pack) names the store.
            if exc.filename is None and ctx.meta.get(_STORE) is not None:
                exc.filename = str(ctx.meta[_STORE])
            raise


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version=__version__, prog_name="gitflywheel")
def main() -> None:
    """Turn work sessions into publishable artifacts, each recorded exactly once in a git store.

    A session (build, trade or life_aria JSON) goes in with `ingest`; its artifacts are
    rendered from Jinja2 templates and recorded, with the session, as one commit on `main`.
    """


@main.command()
@repo_option
@click.option(
    "--templates",
    "templates_dir",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Use the templates in this folder (overriding shipped ones by file name) for every later ingest. "
    "Only its own *.j2 regular files are read: UTF-8, at most 1 MiB each.",
)
@json_option
def init(repo: Path, templates_dir: Path | None, as_json: bool) -> None:
    """Create the store (a bare git repository with `main`); on an existing store, say so."""
    from . import api

    result = api.init(repo, templates_dir)
    if as_json:
        emit_json({"store": str(result.path), "created": result.created, "main": result.main})
    else:
        say(
            f"{'Created' if result.created else 'Already a store:'} {result.path} (main at {result.main[:12]})"
        )


@main.command()
@repo_option
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--revise",
    is_flag=True,
    help="Record a changed session as its next revision instead of refusing it.",
)
@click.option(
    "--templates",
    "templates_dir",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Templates overriding the shipped ones by file name, for this ingest. Only the "
    "folder's own *.j2 regular files are read: UTF-8, at most 1 MiB each.",
)
@click.option(
    "--screenshots-from",
    "screenshots_from",
    multiple=True,
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Also read screenshots from inside this folder (repeatable). By default a "
    "screenshot is read only from inside the input file's folder (for - : the working "
    "directory).",
)
@click.option(
    "--max-screenshot-bytes",
    type=click.IntRange(min=1, max=MAX_OBJECT_BYTES),
    default=DEFAULT_MAX_SCREENSHOT_BYTES,
    show_default=True,
    help="A larger screenshot is not read; it is noted as missing, with a warning. At "
    "most 64 MiB, the largest object a store takes from a remote.",
)
@dry_run_option
@json_option
def ingest(
    repo: Path,
    paths: tuple[str, ...],
    revise: bool,
    templates_dir: Path | None,
    screenshots_from: tuple[Path, ...],
    max_screenshot_bytes: int,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Validate, render and record sessions: one commit per new session or revision.

    PATHS are .json files (one session or an array), .jsonl files (one per line),
    folders (every *.json and *.jsonl below, in sorted order), or - for standard input.
    Exit 0 when every session was recorded or already there, 2 for invalid input,
    3 for a session id already recorded with other content (without --revise).

    A screenshot is read only when it is a PNG, JPEG, GIF, WebP or AVIF image (by its
    content; stored under that format's extension), a regular file inside the input
    file's folder (or a --screenshots-from folder), symlinks resolved; any other is noted
    as missing in the manifest, with a warning. A URL is never fetched.

    With --dry-run every session is validated and rendered, nothing is written, and the
    counts say what would be recorded, revised or refused (the exit code too).
    """
    from . import api

    progress = Progress("ingest", "sessions", hidden=as_json)

    set_aside = 0

    def on_outcome(outcome: Outcome) -> None:
        nonlocal set_aside
        set_aside += bool(outcome.set_aside) and outcome.status in (
            "recorded",
            "revised",
            "unchanged",
        )
        progress.status(outcome.status)
        for problem in outcome.problems:
            error(problem)
        for warning in outcome.warnings:
            if not as_json and outcome.status in ("recorded", "revised"):
                say(f"warning: {outcome.origin}: {warning}")

    # SIGTERM ends the run like Ctrl-C does: what is planned lands first.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    with progress:
        report = api.ingest(
            repo,
            paths,
            revise=revise,
            templates=templates_dir,
            stdin=sys.stdin.buffer,
            max_screenshot_bytes=max_screenshot_bytes,
            screenshots_from=screenshots_from,
            on_outcome=on_outcome,
            workers=None,  # one per core
            keep_outcomes=as_json,
            dry_run=dry_run,
            progress=progress,
        )
    counts = {
        s: report.count(s) for s in ("recorded", "revised", "unchanged", "invalid", "conflict")
    }
    if as_json:
        emit_json(
            {
                "store": report.store,
                "dry_run": report.dry_run,
                "exit_code": report.exit_code,
                "counts": counts,
                "outcomes": [asdict(o) for o in report.outcomes],
            }
        )
    else:
        if set_aside:
            say(
                f"note: set aside the derived fields `artifacts`/`pipeline_status` of {set_aside} input(s); "
                "the store's manifests record artifacts"
            )
        say(
            ("dry run, nothing written: would be " if dry_run else "")
            + ", ".join(f"{n} {s}" for s, n in counts.items() if n or s == "recorded")
            + f" -> {report.store}"
        )
    sys.exit(report.exit_code)


@main.command()
@repo_option
@click.argument("session_ids", nargs=-1, metavar="[SESSION_ID]...")
@click.option("--all", "all_sessions", is_flag=True, help="Every session at the tip of main.")
@click.option(
    "--templates",
    "templates_dir",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Render with these templates (overriding shipped ones by file name); once every "
    "session renders with them, they become the store's templates, as `init --templates` "
    "sets them.",
)
@dry_run_option
@json_option
def rerender(
    repo: Path,
    session_ids: tuple[str, ...],
    all_sessions: bool,
    templates_dir: Path | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Render sessions again with this version's pipelines and the store's templates.

    One commit per session whose facts or artifacts change (`Re-render ... session`, with a
    Rendered-By trailer); its record, revision and address (its slug) stay as they are,
    and a session already current makes no commit. Display names and the site's address
    (site.base_url, which threads link) are the settings' at the tip of main. Safe to
    interrupt and run again. Exit 0 when every named
    session is current now, 2 for a session not in the store or that cannot be rendered.
    With --dry-run nothing is written (nor are --templates made the store's): the
    counts, and each session's line, say which would be rendered again.
    """
    from . import api

    progress = Progress("rerender", "sessions", hidden=as_json)

    def on_outcome(outcome: RerenderOutcome) -> None:
        progress.status(outcome.status)
        for problem in outcome.problems:
            if outcome.exit_code == 0:
                say(f"note: {problem}")
            else:
                error(problem)
        if dry_run and outcome.status == "rerendered" and not as_json:
            say(f"would render again: {outcome.session_id} ({outcome.was} -> {outcome.now})")

    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    with progress:
        report = api.rerender(
            repo,
            session_ids,
            all_sessions=all_sessions,
            templates=templates_dir,
            on_outcome=on_outcome,
            progress=progress,
            dry_run=dry_run,
        )
    counts = {s: report.count(s) for s in ("rerendered", "current", "newer", "missing", "invalid")}
    if as_json:
        emit_json(
            {
                "store": report.store,
                "dry_run": report.dry_run,
                "templates": report.templates,
                "exit_code": report.exit_code,
                "counts": counts,
                "outcomes": [asdict(o) for o in report.outcomes],
            }
        )
    else:
        if report.templates and not dry_run:
            say(f"templates: {report.templates} are the store's templates now")
        say(
            ("dry run, nothing written: would be " if dry_run else "")
            + ", ".join(f"{n} {s}" for s, n in counts.items() if n or s == "rerendered")
            + f" -> {report.store}"
        )
    sys.exit(report.exit_code)


@main.command("ls")
@repo_option
@click.option(
    "--type",
    "session_type",
    type=click.Choice(["build", "trade", "life_aria"]),
    help="Only this type.",
)
@click.option("--agent", help="Only sessions by this agent id.")
@click.option("--since", help="Only sessions at or after this date (YYYY-MM-DD) or date-time.")
@click.option("--until", help="Only sessions on or before this date (the whole day) or date-time.")
@json_option
def ls_command(
    repo: Path,
    session_type: str | None,
    agent: str | None,
    since: str | None,
    until: str | None,
    as_json: bool,
) -> None:
    """List the sessions at the tip of `main`, oldest first."""
    from . import api

    if as_json:
        click.echo(
            api.ls(
                repo,
                session_type=session_type,
                agent=agent,
                since=since,
                until=until,
                format="json",
            )
        )
        return
    for r in api.ls(repo, session_type=session_type, agent=agent, since=since, until=until):
        rev = f" r{r.revision}" if r.revision > 1 else ""
        click.echo(
            f"{terminal(r.timestamp)}  {terminal(r.session_type):<9}  {terminal(r.agent_id):<12}  "
            f"{terminal(r.session_id)}{rev}" + (f"  {terminal(r.title)}" if r.title else "")
        )


@main.command()
@repo_option
@click.argument("session_id")
@click.argument("kind", required=False)
@json_option
def show(repo: Path, session_id: str, kind: str | None, as_json: bool) -> None:
    """Show a session's manifest, or the text of one artifact (KIND: readme, blog_post,
    build_log, social_post, trade_journal, or the SVG charts activity_chart and
    equity_curve; record for the session record, facts for what its templates render
    from, provenance for an in-toto statement of its artifacts: their SHA-256, what they
    were made from, the commit that recorded them and its signer)."""
    from . import api

    if kind is None:
        click.echo(api.show(repo, session_id).to_bytes().decode(), nl=False)
        return
    data = api.show(repo, session_id, kind)
    if as_json:
        emit_json({"session_id": session_id, "kind": kind, "text": data.decode("utf-8", "replace")})
    else:
        sys.stdout.buffer.write(data)


@main.command()
@repo_option
@click.argument("file_or_blob")
@json_option
def which(repo: Path, file_or_blob: str, as_json: bool) -> None:
    """Which sessions hold an artifact with these bytes (a file, or a git blob id).

    Exits 1 when no session holds it."""
    from . import api

    blob, holders = api.which(repo, file_or_blob)
    if as_json:
        emit_json({"blob": blob, "holders": [asdict(h) for h in holders]})
    else:
        for h in holders:
            click.echo(f"{terminal(h.session_id)}\t{terminal(h.kind)}\t{terminal(h.path)}")
        if not holders:
            say(f"no session holds blob {blob}")
    sys.exit(0 if holders else 1)


@main.command()
@repo_option
@click.option(
    "-n", "--max-count", "limit", type=click.IntRange(min=1), help="At most this many commits."
)
@json_option
def log(repo: Path, limit: int | None, as_json: bool) -> None:
    """The audit trail: one line per commit on `main`, newest first, from its trailers."""
    from . import api

    entries = api.log(repo, limit)
    if as_json:
        emit_json([asdict(e) for e in entries])
        return
    for e in entries:
        when = e.date.replace("T", " ").removesuffix("Z")  # UTC
        if e.session_id:
            click.echo(
                f"{e.commit[:12]}  {when}  r{e.revision}  {terminal(e.session_type):<9}  "
                f"{terminal(e.agent_id):<12}  {terminal(e.session_id)}"
                + (f"  (re-rendered: {terminal(e.rendered_by)})" if e.rendered_by else "")
            )
        else:
            click.echo(f"{e.commit[:12]}  {when}  {terminal(e.subject)}")


@main.command()
@repo_option
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--at", "rev", help="The commit to export (an id, main, main~3, ...); default: the tip."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["tree", "hugo", "jekyll"]),
    default="tree",
    show_default=True,
    help="tree: the commit's files as they are, into an empty folder. hugo, jekyll: the "
    "published posts, build logs and trade journals with their images and card images, "
    "into a blog's folder (page bundles under content/posts/; _posts/ and assets/).",
)
@click.option(
    "--base-path",
    help="With --format jekyll: the path the blog is served under (its baseurl, e.g. "
    "/blog), for the links to images; default: /.",
)
@json_option
def export(
    repo: Path, directory: Path, rev: str | None, fmt: str, base_path: str | None, as_json: bool
) -> None:
    """Write the tree of a commit out as plain files in DIRECTORY, or, with --format hugo
    or jekyll, its published posts, build logs and trade journals as that blog expects
    them, each with its session's card image (card.png) as its cover.

    A blog export never overwrites a file it did not write: an export into the same
    folder again replaces its own posts and removes those of sessions that became
    drafts, and stops before writing anything if another file is in the way.
    """
    from . import api

    if base_path is not None and fmt != "jekyll":
        raise click.UsageError("--base-path is for --format jekyll")
    if fmt != "tree":
        blog_format = cast(Literal["hugo", "jekyll"], fmt)
        with Progress("export", "sessions", hidden=as_json) as progress:
            blog = api.export(
                repo,
                directory,
                rev,
                format=blog_format,
                base_path=base_path or "/",
                progress=progress,
            )
        if emitted(asdict(blog), as_json):
            return
        for reason, count in blog.left_out.items():
            say(f"note: left out {count} session{'' if count == 1 else 's'}: {reason}")
        say(
            f"Exported {blog.posts} posts ({blog.pages} pages) of {blog.commit[:12]} for {fmt} "
            f"to {directory}: "
            f"{blog.files} files, {blog.written} written, {blog.removed} removed"
        )
        return
    with Progress("export", "files", hidden=as_json) as progress:
        result = api.export(repo, directory, rev, progress=progress)
    if as_json:
        emit_json(asdict(result))
    else:
        for note in result.skipped:
            say(f"note: skipped {note}")
        say(f"Wrote {result.files} files of {result.commit[:12]} to {directory}")


@main.command()
@repo_option
@click.option(
    "--report",
    "report_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the SSOT verification report as Markdown to this file.",
)
@click.option(
    "--full", is_flag=True, help="Check the whole history, not only what is new since the last run."
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    help="Processes that check commits at once (default: one per core).",
)
@json_option
def verify(
    repo: Path, report_path: Path | None, full: bool, jobs: int | None, as_json: bool
) -> None:
    """Prove the single-source-of-truth rules from the history of `main`.

    Every session at exactly one path, changes only as named revisions or re-renders,
    every artifact present and rendered again byte for byte from its recorded facts,
    template and filter set, facts derived again from the record by this version's
    pipelines, no duplicates, no rewritten history. Sessions made by other pipeline
    versions are counted, not violations (`rerender` updates them). Other branches (a
    site's, from `site --branch`) are not read.
    Verify reads `main` as it is when the run starts, so ingest goes on meanwhile; a
    second verify of the same store waits for the first. Commits are checked by
    --jobs processes (default: one per core), the findings in commit order.
    Exit 0 when all holds, 1 on any violation.
    """
    from . import api
    from .verification.report import markdown_report, upgrade_notes  # formatting a result

    if report_path is not None and not report_path.absolute().parent.is_dir():
        # Said before verifying, which takes time
        raise GitflywheelError(
            f"{report_path}: cannot write the report there: {report_path.parent} is not a folder"
        )

    def waiting() -> None:
        say("waiting for another verify of this store to finish")

    with Progress("verify", "commits", hidden=as_json) as progress:
        result = api.verify(repo, full=full, jobs=jobs, on_wait=waiting, progress=progress)
    if as_json:
        emit_json(result.to_json())
    else:
        for finding in result.findings:
            say(f"violation: {finding}")
        for warning in result.warnings:
            say(f"warning: {warning.path}: {warning.message}")
        fig = result.figures
        say(
            f"{'OK' if result.ok else 'FAILED'}: {result.commits_checked} commits checked"
            f"{' (full)' if result.full else ' (since last run)'}; {fig.get('sessions', 0)} sessions, "
            f"{fig.get('artifacts', 0)} artifacts, {len(result.findings)} violations, {len(result.warnings)} warnings"
        )
        for note in upgrade_notes(result):
            say(f"note: {note}")
    if report_path is not None:
        # After the result is out: a run records what it checked, so a report that
        # cannot be written must not take the findings with it.
        try:
            report_path.write_text(markdown_report(result), encoding="utf-8")
        except OSError as exc:
            raise GitflywheelError(f"cannot write the report: {_os_problem(exc)}") from exc
    sys.exit(0 if result.ok else 1)


@main.command()
@repo_option
@click.option("--full", is_flag=True, help="Merge every pack into one, however large.")
@json_option
def maintain(repo: Path, full: bool, as_json: bool) -> None:
    """Keep the store quick to read, push and clone: fewer packs, and git's indexes.

    Under the writer lock: loose objects go into a pack, packs are merged into as few as
    the geometric rule allows (--full: into one), and, when git is installed, git writes
    a multi-pack-index with a reachability bitmap and a commit-graph. Then the query
    index that ls and which read is brought up to date. Nothing is pruned. Run it now
    and then (ingest merges packs itself); a second run right after changes nothing.
    """
    from . import api

    result = api.maintain(repo, full=full)
    if as_json:
        emit_json(result.to_json())
        return
    say(
        f"{'Maintained' if result.changed else 'Nothing to do'}: {result.packs_before} -> "
        f"{result.packs_after} packs ({result.packs_merged} merged, {result.loose_packed} "
        f"loose objects packed); multi-pack-index {result.multi_pack_index}; commit-graph "
        f"{result.commit_graph}; query index {result.query_index}"
    )


@main.command("clean-copy")
@repo_option
@click.argument("new", type=click.Path(path_type=Path, file_okay=False))
@json_option
def clean_copy(repo: Path, new: Path, as_json: bool) -> None:
    """Write NEW, a cleaned copy of the store (--repo), for a store not yet pushed.

    An earlier gitflywheel stored records as given, local paths, tokens and all (verify
    warns of each: record.private-text). NEW replays the store's history in order: every
    session revision recorded again as its public record (the rules ingest applies now,
    privacy.private as the store had it then and has it now), session ids, their order and
    revisions kept, stored screenshots with them; the settings changes made again; a
    sync's merges flattened into the revisions they brought; rerenders left out (NEW
    renders with this version). The store is only read. NEW must not exist or be an
    empty folder (exit 2 otherwise). Then publish NEW, not the store."""
    from . import api

    result = api.clean_copy(repo, new)
    if emitted(result.to_json(), as_json):
        return
    for warning in result.warnings:
        say(f"warning: {warning}")
    rules = ", ".join(f"{rule} {n}" for rule, n in result.redactions.items())
    folded = f", {result.folded} folded into the one before" if result.folded else ""
    say(
        f"Copied {result.sessions} sessions ({result.revisions} revisions{folded}) into "
        f"{result.new}: {result.redacted} texts replaced"
        + (f" ({rules})" if rules else "")
        + f"; {result.settings_commits} settings commits, {result.skipped_rerenders} "
        f"rerenders left out, {result.commits} commits in all; main {result.main[:12]}"
    )


@main.command()
@repo_option
@click.argument("remote", required=False)
@click.option(
    "--name",
    help="Record a REMOTE given as a URL or path under this name (default: origin).",
)
@click.option(
    "--auto/--no-auto",
    "auto",
    default=None,
    help="--auto: from now on publish to this remote by itself after each session the "
    "push hook records (the hook's run builds the site and pushes). --no-auto: no longer "
    "(this publish still pushes).",
)
@dry_run_option
@json_option
def publish(
    repo: Path,
    remote: str | None,
    name: str | None,
    auto: bool | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Push `main` to REMOTE: a path, file://, git://, ssh://, http(s):// URL, or a remote
    name in the store's git config (default: origin).

    A URL or path is recorded in the store's git config as the remote origin (--name:
    another name) once the push went well, so that `publish` and `sync` alone use it. A
    recorded name is never changed: a URL other than origin's is pushed to and not
    recorded (a note says so); --name or --auto for a name that holds another URL is
    refused (exit 2) before anything is pushed (`git -C STORE remote set-url` changes it).

    Site branches (`site --branch NAME`) go with it, each built again from main first
    when it is not current (with the settings site.base_url and site.title), and a store
    with a site.base_url and no site branch gets `pages`; the remote's copy of such a
    branch is replaced whatever it holds.

    Exit 1 if the remote refuses or cannot be reached, or has sessions this store does
    not (run `sync` then); 2 if it holds something that is not this store (someone's
    project, another store). Credentials in a URL are used, never shown.

    With --dry-run the remote is asked and checked as for a push, and nothing is pushed:
    it says which refs would be."""
    from . import api

    result = api.publish(repo, remote, name=name, auto=auto, dry_run=dry_run)
    if as_json:
        emit_json(asdict(result))
        return
    if result.rebuilt:
        say(f"Built the site again from main: {', '.join(result.rebuilt)}")
    if result.remembered:
        say(f"Recorded {result.url} as the remote {result.remembered}")
    for note in result.notes:
        say(f"note: {note}")
    if auto is not None and not dry_run:
        say(f"Publishes by itself after each recorded session: {'yes' if result.auto else 'no'}")
    if result.pushed and dry_run:
        also = "".join(f" and {b}" for b in result.site_branches)
        say(
            f"dry run, nothing pushed: would push main "
            f"{result.main[:12] if result.main else ''}{also} to {_where(result)}"
        )
    elif result.pushed:
        also = "".join(f" and {b}" for b in result.site_branches)
        say(f"Published main {result.main[:12] if result.main else ''}{also} to {_where(result)}")
    else:
        say(f"{_where(result)} already has main {result.main[:12] if result.main else ''}")


def _where(result: Any) -> str:
    """A remote as messages show it: its name and URL, or its URL, without credentials."""
    return result.url if result.remote == result.url else f"{result.remote} ({result.url})"


@main.command()
@repo_option
@click.argument("remote", required=False)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    help="Seconds to keep trying while other writers' pushes land first: each attempt "
    "fetches again and combines with what they pushed.",
)
@dry_run_option
@json_option
def sync(repo: Path, remote: str | None, timeout: float, dry_run: bool, as_json: bool) -> None:
    """Fetch what REMOTE (default: origin, which `publish URL` records) published,
    combine it with this store, and push the result.

    Sessions recorded on only one side are taken as they are (a fast-forward, or a merge
    commit when both sides have new sessions). A session recorded differently on both
    sides is a conflict: exit 3 and nothing changes. What the remote sends is checked
    before anything moves: objects as git's fsck would, the store's tree rules, and
    verify's rules for every commit it brings. Exit 1 if the remote refuses, cannot be
    reached or sends what this store refuses; 2 if it holds something that is not this
    store. A missing store is created empty and takes the remote's history.

    With --dry-run, what the remote sends is fetched and checked aside and then dropped:
    it says what would happen (fast-forward, merge with the sessions it would take, a
    push) and changes nothing, here or there (a missing store is not created)."""
    from . import api

    with Progress("sync", "commits", hidden=as_json) as progress:
        result = api.sync(repo, remote, dry_run=dry_run, progress=progress, timeout=timeout)
    if as_json:
        emit_json(asdict(result))
    elif dry_run:
        detail = f", taking {len(result.taken)} sessions from there" if result.taken else ""
        say(
            f"dry run, nothing changed: would be {result.action}{detail}: main "
            f"{result.main[:12] if result.main else '-'}"
            f"{', then pushed' if result.pushed and result.action != 'pushed' else ''}"
            f" <-> {_where(result)}"
        )
        for session_id in result.taken:
            say(f"would take: {session_id}")
    else:
        detail = f" ({len(result.taken)} sessions taken from there)" if result.taken else ""
        say(
            f"{result.action}{detail}: main {result.main[:12] if result.main else '-'}"
            f"{', pushed' if result.pushed else ''} <-> {_where(result)}"
        )


@main.command()
@repo_option
@click.argument("out", type=click.Path(path_type=Path, file_okay=False), required=False)
@click.option(
    "--base-url",
    help="The site's address (https://me.codeberg.page/flywheel/): the Atom feeds' links "
    "and the share-card tags (og:image: each session's card image) are absolute. Needed "
    "unless --no-feed or the store's setting site.base_url says it.",
)
@click.option(
    "--no-feed", "no_feed", is_flag=True, help="Build no Atom feeds (no --base-url needed)."
)
@click.option("--at", "rev", help="Build from this commit (main~3, an id); default: the tip.")
@click.option(
    "--branch",
    help="Also commit the site to this branch of the store (e.g. pages), one commit per "
    "build that changes it; `publish` pushes it with main. verify ignores it.",
)
@click.option(
    "--templates",
    "templates_dir",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Page templates overriding the shipped ones by file name (base.html.j2, "
    "session.html.j2, list.html.j2, artifact.html.j2, tags.html.j2, project.html.j2, "
    "projects.html.j2, _card.html.j2, style.css.j2, card.svg.j2). Not recorded in the store.",
)
@click.option(
    "--title", help="The site's title (default: the store's site.title, else Work sessions)."
)
@json_option
def site(
    repo: Path,
    out: Path | None,
    base_url: str | None,
    no_feed: bool,
    rev: str | None,
    branch: str | None,
    templates_dir: Path | None,
    title: str | None,
    as_json: bool,
) -> None:
    """Build the store as a static web site with Atom feeds, in the folder OUT.

    An index of the published sessions (newest first, paged), a page per session (its
    blog post, gallery, charts, its other artifacts as pages and as Markdown), a page per
    session type and per tag, a changelog per project of the build sessions, an Atom
    feed for the whole store, per type and per project. Each session has a card image, a
    1200x630 PNG that shared links show (og:image, with the site's address) and the lists
    show as its thumbnail. Drafts never appear; links inside the site are relative; no
    JavaScript. OUT is created, or must be a folder an earlier build wrote (what that build
    wrote is replaced).

    With --branch NAME the site is committed to that branch of the store (never main;
    verify does not read it), and `gitflywheel publish` pushes it with main, so a pages
    host that serves the branch puts the site online."""
    from . import api

    with Progress("site", "sessions", hidden=as_json) as progress:
        result = api.site(
            repo,
            out,
            base_url=base_url,
            at=rev,
            branch=branch,
            templates=templates_dir,
            title=title,
            feeds=not no_feed,
            progress=progress,
        )
    if emitted(asdict(result), as_json):
        return
    for reason, count in result.left_out.items():
        say(f"note: left out {count} session(s): {reason}")
    where = [f"to {out}" if out is not None else ""]
    if result.branch is not None:
        where.append(
            f"{'committed to' if result.branch_changed else 'unchanged on'} branch "
            f"{result.branch} ({(result.branch_commit or '')[:12]})"
        )
    say(
        f"Site of {result.commit[:12]}: {result.sessions} sessions, {result.pages} pages, "
        f"{result.feeds} feeds, {result.files} files, " + " and ".join(w for w in where if w)
    )


@main.command()
@repo_option
@click.option(
    "--port",
    type=click.IntRange(min=0, max=65535),
    default=8000,
    show_default=True,
    help="The port on 127.0.0.1 (0: any free one).",
)
def serve(repo: Path, port: int) -> None:
    """Preview the site on http://127.0.0.1:PORT/ until Ctrl-C.

    The site is built as `site` builds it, into a temporary folder (removed at the end),
    and built again whenever the store's main moves (an ingest, a sync). It is served
    to this machine only (127.0.0.1, never every interface): the site's files and
    nothing else, no folder listings, each file with its content type."""
    from . import api

    def built(build: PreviewBuild) -> None:
        if build.error is not None:
            error(f"the site was not built again, the last one is served: {build.error}")
        elif build.site is not None:
            say(
                f"built {build.site.sessions} sessions, {build.site.pages} pages of {build.site.commit[:12]}"
            )

    # SIGTERM stops it as Ctrl-C does: the temporary folder goes with it.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    with api.serve(repo, port, on_build=built) as preview:
        say(f"Serving the site of {repo} at {preview.url} (Ctrl-C to stop)")
        try:
            preview.serve_forever()
        except KeyboardInterrupt:
            say("stopped")


@main.command(context_settings={"max_content_width": 100})
@repo_option
@click.option("--add", is_flag=True, help="Add VALUE to a key that holds several.")
@click.option(
    "--unset", is_flag=True, help="Remove KEY, or with VALUE that one value of a key of several."
)
@click.option("--list", "list_all", is_flag=True, help="Print every setting, one KEY=VALUE a line.")
@click.argument("key", required=False)
@click.argument("value", required=False)
@json_option
def config(
    repo: Path,
    add: bool,
    unset: bool,
    list_all: bool,
    key: str | None,
    value: str | None,
    as_json: bool,
) -> None:
    """The store's settings, shared by every writer, like `git config`.

    `config KEY` prints its value (one a line for a key of several; nothing when unset);
    `config KEY VALUE` sets it, `--add` adds one value to a key of several, `--unset`
    removes it. Each change is one commit on main that rewrites gitflywheel.toml and
    nothing else (`config: set site.base_url`, trailers Config-Key and Config-Change), so
    `git log` is the audit trail; a value already so makes no commit. An unknown key or
    a value that is not valid: exit 2, nothing written. The settings are public once
    pushed: settings of one machine (a remote with credentials, a signing key) belong in
    the store's git config (`git -C STORE config`), not here.

    \b
    Keys:
      site.base_url     the site's address: an http(s) URL, no credentials; threads
                        recorded from then on link their post there (rerender: the rest)
      site.title        the site's title: one line of text
      privacy.private   (several) a regular expression of text that never leaves the
                        machine: removed from each record at ingest; the pattern itself
                        is public, so do not spell the secret out in it
      names.repo        (several) FROM=TO: show repository FROM as TO (FROM=: name it nowhere)
      names.agent       (several) FROM=TO: show agent FROM as TO
      names.agent_tags  true: the agent is a tag and a hashtag (default: it is not)
      publish.drafts    (several) a regular expression: a session whose agent id, title
                        or id it finds is not published
      trust.signers     (several) NAME KEYTYPE KEY (git's allowed-signers format): from
                        then on every commit must be signed by a trusted key
    """
    from . import api

    if list_all:
        if key is not None or add or unset:
            raise click.UsageError("--list takes no KEY, --add or --unset")
        settings = api.config(repo)
        values = {k: list(v) if isinstance(v, tuple) else v for k, v in settings.values().items()}
        if emitted(values, as_json):
            return
        for k, v in values.items():
            for one in v if isinstance(v, list) else [v]:
                click.echo(f"{k}={terminal(one)}")
        return
    if key is None:
        raise click.UsageError("give a KEY (or --list)")
    if value is None and not (add or unset):
        found = api.config(repo, key)
        if emitted(list(found) if isinstance(found, tuple) else found, as_json):
            return
        for one in found if isinstance(found, tuple) else [] if found is None else [found]:
            click.echo(terminal(one))
        return
    change = api.config(repo, key, value, add=add, unset=unset)
    assert not isinstance(change, str | tuple) and change is not None
    if emitted(asdict(change), as_json):
        return
    if change.commit is None:
        say(f"{key}: already so; nothing to commit")
    else:
        say(f"{change.change} {key}: commit {change.commit[:12]} on main")


def _lesson(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> list[tuple[str, str]]:
    lessons = []
    for value in values:
        title, sep, description = value.partition(":")
        if not title.strip():
            raise click.BadParameter(f"{value!r}: give it as 'title: description'")
        lessons.append((title.strip(), description.strip() if sep else ""))
    return lessons


@main.group(invoke_without_command=True)
@click.option(
    "--source",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    default=".",
    show_default=True,
    help="The git repository worked in (not the store).",
)
@click.option("--since-rev", help="Only commits after this revision (e.g. a tag, or HEAD~5).")
@click.option(
    "--until-rev", help="Walk back from this revision instead of HEAD (a branch, tag or id)."
)
@click.option("--since", "since", help="Only commits at or after this date or date-time.")
@click.option(
    "--until", "until", help="Only commits on or before this date (the whole day) or date-time."
)
@click.option("--agent", "agent_id", help="Who worked (default: the author of the last commit).")
@click.option(
    "--session-id", help="The session id (default: derived from the repository and the commits)."
)
@click.option("--title", help="The session's title.")
@click.option("--overview", help="What the session was about.")
@click.option("--problem", help="The problem the session solved.")
@click.option("--solution", help="How it was solved.")
@click.option(
    "--lesson", "lessons", multiple=True, callback=_lesson, help="'title: description'; repeatable."
)
@click.option("--next-step", "next_steps", multiple=True, help="A next step; repeatable.")
@click.option(
    "--duration",
    "duration_minutes",
    type=click.IntRange(min=0),
    help="Minutes worked (default: first to last commit).",
)
@click.pass_context
def capture(
    ctx: click.Context,
    source: Path,
    since_rev: str | None,
    until_rev: str | None,
    since: str | None,
    until: str | None,
    agent_id: str | None,
    session_id: str | None,
    title: str | None,
    overview: str | None,
    problem: str | None,
    solution: str | None,
    lessons: list[tuple[str, str]],
    next_steps: tuple[str, ...],
    duration_minutes: int | None,
) -> None:
    """Write a build session (JSON, to standard output) from a git repository's commits;
    `capture trades` and `capture chat` write sessions from broker and chat exports.

    Pipe it on: `gitflywheel capture --since-rev v1.2 | gitflywheel ingest -`. In a shallow
    clone the history starts at its boundary: those commits are not counted (a note says so)."""
    if ctx.invoked_subcommand is not None:
        given = [
            param.opts[0]
            for param in ctx.command.params
            if param.name is not None
            and ctx.get_parameter_source(param.name) is not click.core.ParameterSource.DEFAULT
        ]
        if given:
            raise click.UsageError(
                f"{', '.join(given)}: an option of `capture` from a git repository, not of "
                f"`capture {ctx.invoked_subcommand}`"
            )
        return
    from . import api
    from .jsontext import dumps_pretty

    session = api.capture(
        source,
        since_rev=since_rev,
        until_rev=until_rev,
        since=since or None,
        until=until or None,
        agent=agent_id,
        session_id=session_id,
        title=title,
        overview=overview,
        problem=problem,
        solution=solution,
        lessons=lessons,
        next_steps=next_steps,
        duration_minutes=duration_minutes,
        on_note=lambda note: say(f"note: {note}"),
    )
    click.echo(dumps_pretty(session), nl=False)


def _emit_sessions(sessions: list[dict[str, Any]], notes: list[str]) -> None:
    from .jsontext import dumps_pretty

    for note in notes:
        say(f"note: {note}")
    say(f"{len(sessions)} session{'' if len(sessions) == 1 else 's'} captured")
    click.echo(dumps_pretty(sessions), nl=False)


@capture.command("trades")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "trade_format",
    type=click.Choice(["ibkr", "thinkorswim", "tradervue"]),
    help="The export's format (default: found from its content).",
)
@click.option(
    "--tz",
    help="The IANA time zone the export's times are in (default: America/New_York for "
    "every format; never the machine's zone).",
)
@click.option("--agent", "agent_id", help="Who traded (default: trader).")
def capture_trades(
    files: tuple[Path, ...], trade_format: str | None, tz: str | None, agent_id: str | None
) -> None:
    """Write trade sessions (a JSON array, to standard output) from broker exports: one
    per trading day and account.

    Reads Interactive Brokers Flex Query statements (XML or CSV), thinkorswim account
    statements (CSV) and CSVs in Tradervue's generic layout (Date, Time, Symbol, Quantity,
    Price, Side, optional Commission, TransFee, ECNFee). Executions become trades by FIFO
    lots; times become UTC. Pipe it on: `gitflywheel capture trades flex.xml | gitflywheel
    ingest -`."""
    from . import api

    captured = api.capture_trades(
        list(files),
        format=cast(Literal["ibkr", "thinkorswim", "tradervue"] | None, trade_format),
        tz=tz,
        agent=agent_id,
    )
    _emit_sessions(captured.sessions, captured.notes)


@capture.command("chat")
@click.argument("exports", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--since", help="Only days of conversations on or after this date.")
@click.option(
    "--conversation",
    "conversations",
    multiple=True,
    help="Only this conversation (its id in the export); repeatable.",
)
@click.option("--agent", "agent_id", help="Who worked with the assistant (default: user).")
@click.option(
    "--images-to",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("chat-images"),
    show_default=True,
    help="Where images of the export are written, to be read by ingest as screenshots.",
)
@click.option(
    "--max-screenshot-bytes",
    type=click.IntRange(min=1, max=MAX_OBJECT_BYTES),
    default=DEFAULT_MAX_SCREENSHOT_BYTES,
    show_default=True,
    help="Larger images are left out (with a note).",
)
def capture_chat(
    exports: tuple[Path, ...],
    since: str | None,
    conversations: tuple[str, ...],
    agent_id: str | None,
    images_to: Path,
    max_screenshot_bytes: int,
) -> None:
    """Write life/Aria sessions (a JSON array, to standard output) from chat exports: one
    per conversation and UTC day.

    Reads ChatGPT's data export (the ZIP, or conversations.json and its split files:
    the branch the conversation was left on, with its images), Claude.ai's export
    (conversations.json) and Markdown transcripts (front matter, a `## speaker` heading
    per turn). Pipe it on: `gitflywheel capture chat export.zip | gitflywheel ingest -`
    (run from the folder holding --images-to, or give ingest --screenshots-from)."""
    from . import api

    captured = api.capture_chat(
        list(exports),
        since=since or None,
        conversations=conversations,
        agent=agent_id,
        images_to=images_to,
        max_image_bytes=max_screenshot_bytes,
    )
    _emit_sessions(captured.sessions, captured.notes)


@main.command()
@click.argument(
    "which_schema",
    metavar="session|manifest|facts",
    type=click.Choice(["session", "manifest", "facts"]),
)
def schema(which_schema: str) -> None:
    """Print a JSON Schema: of a work session (the input), of a session's manifest, or of
    its facts (facts.json: what templates render from, and what your own templates get)."""
    from . import api

    emit_json(api.schema(cast(Literal["session", "manifest", "facts"], which_schema)))


@main.group()
def hook() -> None:
    """Record every `git push` of a work repository as a build session (a pre-push hook).

    Run inside the work repository: `gitflywheel hook install` (into the user's store;
    --repo: another). The hook never blocks or slows a push: it spools what is pushed and,
    once the push has ended, records what the remote took (and, after `publish --auto`,
    publishes)."""


def _source_option(func: F) -> F:
    return click.option(
        "--source",
        type=click.Path(path_type=Path, file_okay=False, exists=True),
        default=".",
        show_default=True,
        help="The work repository (not the store).",
    )(func)


@hook.command("install")
@repo_option
@_source_option
@click.option(
    "--python",
    "python",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="The interpreter the hook runs gitflywheel with (default: this one).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Install into a hooks folder the work repository tracks (core.hooksPath at "
    "committed files) all the same.",
)
@json_option
def hook_install(repo: Path, source: Path, python: Path | None, force: bool, as_json: bool) -> None:
    """Install the pre-push hook: each push records a build session in the store.

    The store (created when missing; without --repo the user's store, never one inside
    the work tree) and the interpreter are recorded as absolute paths. A pre-push hook
    already there is kept as pre-push.gitflywheel-orig and runs first: when it refuses a
    push, the push is refused and nothing is recorded. Under pre-commit the hook is its
    pre-push.legacy, and is updated there. A hooks folder the work repository tracks is
    refused without --force: the hook would put this machine's paths into the project."""
    from . import api

    result = api.hook_install(source, repo, python=python, force=force)
    if emitted(asdict(result), as_json):
        return
    say(
        f"{'Updated' if result.updated else 'Installed'} {result.hook}: every push records "
        f"a build session in {result.store}"
    )
    if result.kept:
        say(f"The hook that was there runs first: {result.kept}")


@hook.command("uninstall")
@_source_option
@json_option
def hook_uninstall(source: Path, as_json: bool) -> None:
    """Remove the hook and put back the one it replaced."""
    from . import api

    result = api.hook_uninstall(source)
    if emitted(asdict(result), as_json):
        return
    if not result.removed:
        say(f"No gitflywheel hook at {result.hook}")
    else:
        say(f"Removed {result.hook}" + (", put back the earlier hook" if result.restored else ""))
    if result.waiting:
        say(f"note: {result.waiting} pushes wait in the spool: `gitflywheel hook run` records them")


@hook.command("status")
@_source_option
@json_option
def hook_status(source: Path, as_json: bool) -> None:
    """Where the hook is, its store, the last runs, the last error, sessions recorded."""
    from . import api

    st = api.hook_status(source)
    if as_json:
        emit_json({**asdict(st), "ok": st.ok, "failing": st.failing})
        return
    if st.installed:
        wrapped = " (run by pre-commit's pre-push)" if st.hook.endswith(".legacy") else ""
        click.echo(f"hook: installed at {st.hook}{wrapped}")
    elif st.other_hook and st.manager == "husky":
        click.echo(
            f"hook: not installed ({st.hook} is husky's, which a husky run writes again: "
            "`gitflywheel hook install` puts ours in front of it)"
        )
    elif st.other_hook:
        click.echo(f"hook: not installed ({st.hook} is another hook)")
    else:
        click.echo(f"hook: not installed (it would go to {st.hook})")
    if st.manager:
        click.echo(f"hook manager: {st.manager}")
    if st.chained:
        click.echo(f"runs first: {st.chained}")
    if st.store:
        click.echo(
            f"store: {st.store}" + (f" -- PROBLEM: {st.store_problem}" if st.store_problem else "")
        )
    if st.python:
        click.echo(f"interpreter: {st.python}" + ("" if st.python_ok else " -- MISSING"))
    if st.publishes_to:
        click.echo(f"publishes by itself to: {st.publishes_to}")
    if st.last_publish:
        p = st.last_publish
        click.echo(f"last publish {p.time} {p.level}: {p.message}")
    click.echo(f"sessions recorded from this repository: {st.sessions_recorded}")
    click.echo(f"pushes waiting: {st.waiting}")
    for path in st.broken:
        click.echo(f"broken spool file, set aside: {path}")
    for entry in st.last_runs:
        click.echo(f"run {entry.time} {entry.level}: {entry.message}")
    if st.last_error:
        e = st.last_error
        click.echo(
            f"last error {e.time}: {e.message}" + (" (since fixed)" if not st.failing else "")
        )
    say("OK" if st.ok else "NEEDS ATTENTION")


@hook.command("pre-commit")
@click.option(
    "--repo",
    "repo",
    type=click.Path(path_type=Path),
    help="The store (default: as every command finds it; the user's store).",
)
def hook_pre_commit(repo: Path | None) -> None:
    """The hook as pre-commit runs it: add gitflywheel to .pre-commit-config.yaml with
    `stages: [pre-push]` (see .pre-commit-hooks.yaml). It spools the push pre-commit
    describes and records it once the push has ended; it never fails a push."""
    from . import api

    try:
        result = api.hook_pre_commit(repo)
    except (GitflywheelError, OSError) as exc:
        say(f"note: gitflywheel did not record this push: {exc}")
        return
    if result.note:
        say(f"note: {result.note}")


@hook.command("run")
@click.option(
    "--repo",
    "repo",
    type=click.Path(path_type=Path),
    help="The store (default: the one the installed hook records into).",
)
@_source_option
@click.option(
    "--git-dir",
    "git_dir",
    type=click.Path(path_type=Path),
    help="The work repository's git directory, whose spool is drained too.",
)
@json_option
def hook_run(repo: Path | None, source: Path, git_dir: Path | None, as_json: bool) -> None:
    """Record the pushes waiting in the spool now (the hook runs this after each push).

    Exit 0 when the store took them, 2 when it could not (they stay spooled)."""
    from . import api

    report = api.hook_run(source, repo, git_dir=git_dir)
    if as_json:
        emit_json({**asdict(report), "recorded": report.recorded})
    else:
        for push in report.pushes:
            if push.error:
                error(push.error)
        if report.error:
            error(report.error)
        if report.publish_error:
            error(report.publish_error)
        elif report.published:
            say(f"published to {report.published}")
        say(
            f"recorded {report.recorded} sessions from {len(report.pushes)} pushes; "
            f"{report.waiting} waiting -> {report.store}"
        )
    sys.exit(EXIT_BAD_INPUT if report.error else 0)
