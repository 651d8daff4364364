"""Hooks: every `git push` of a work repository records a build session in a store.

`install` puts a `pre-push` hook where git looks for hooks. The hook, a small POSIX sh
script, runs the hook it replaced first (same input, same arguments: its refusal refuses
the push), then writes what is being pushed to a spool file and starts `gitflywheel hook
run` detached, after the push, so that the push is neither blocked nor slowed. The run
captures each published range as a build session and ingests it; what fails is logged,
and what could not be recorded stays spooled for the next run.

A spool file (`push.<random>`, written whole and renamed into place) is text, one record
a line: `gitflywheel-push 1`, then `remote NAME`, `url URL`, `cwd PATH`, `git-dir PATH`,
any number of `tracking SHA` (the remote's tracking refs before the push), and one or
more `update <local ref> <local sha> <remote ref> <remote sha>` (git's own pre-push lines).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import posixpath
import re
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from ..errors import GitflywheelError, StoreError
from ..jsontext import dumps_canonical
from ..recording.ingest import ingest
from ..recording.init import init_store, open_store
from ..storage.gitdir import REPO_SPOOL, StorePaths, WorkRepoPaths
from ..storage.locks import file_lock
from ..storage.store import Store
from .capture import CaptureOptions, NothingToCapture, capture, missing_commits

__all__ = [
    "HOOK_NAME",
    "SPOOL_FORMAT",
    "MAX_COMMITS",
    "Update",
    "Push",
    "SpoolError",
    "InstallResult",
    "UninstallResult",
    "LogEntry",
    "HookStatus",
    "PushOutcome",
    "RunReport",
    "remote_identity",
    "remote_label",
    "push_session_id",
    "parse_spool",
    "install",
    "uninstall",
    "status",
    "installed_store",
    "work_git_dir",
    "run",
]

HOOK_NAME = "pre-push"
ORIG_SUFFIX = ".gitflywheel-orig"
SPOOL_FORMAT = "gitflywheel-push 1"
MAX_COMMITS = 500  # a push of more (a new repository's whole history) keeps the newest
BROKEN_DIR = "broken"
_MARKER = "# gitflywheel-hook: "
_ZERO = re.compile(r"^0+$")
_SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_SKIPPED_REFS = ("refs/tags/", "refs/notes/")
_LOG_KEEP_BYTES = 512 * 1024
_PUSH_NAMESPACE = uuid.UUID("0d0f6a3e-9b1c-5e4f-8a27-3c5d7e9f1b2a")
_DEFAULT_PORTS = {"http": "80", "https": "443", "ssh": "22", "git": "9418", "git+ssh": "22"}


# -- which repository a remote is ------------------------------------------------------


def _local_path(path: str, cwd: str) -> str:
    if not posixpath.isabs(path):
        path = posixpath.join(cwd or "/", path)
    try:
        return os.path.realpath(path)
    except (OSError, ValueError):  # a NUL, a loop: the path as written
        return posixpath.normpath(path)


def _tidy_path(path: str) -> str:
    path = re.sub(r"/{2,}", "/", path).rstrip("/")
    if path.endswith(".git"):
        path = path[: -len(".git")].rstrip("/")
    return path


def _parse_remote(url: str, cwd: str) -> tuple[str | None, str]:
    """(host, path) of a network remote, or (None, absolute path) of one on disk."""
    text = url.strip()
    scheme_url = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)([^?#]*)", text)
    if scheme_url:
        scheme = scheme_url[1].lower()
        netloc = scheme_url[2].rpartition("@")[2]  # credentials, and the ssh user, go
        path = unquote(scheme_url[3])
        if scheme == "file":
            return None, _tidy_path(_local_path(path or "/", cwd))
        host, _, port = (
            netloc.lower().rpartition(":") if netloc.count(":") == 1 else (netloc, "", "")
        )
        if not host:
            host, port = netloc.lower(), ""
        if port and port != _DEFAULT_PORTS.get(scheme):
            host = f"{host}:{port}"
        return host, _tidy_path(path).lstrip("/")
    scp = re.match(r"^(?:[^@/]*@)?(\[[^\]]*\]|[^:/\\]+):(?!//)(.*)$", text)
    if scp and not re.match(r"^[A-Za-z]:[\\/]", text):  # not a Windows drive letter
        return scp[1].strip("[]").lower(), _tidy_path(scp[2]).lstrip("/")
    return None, _tidy_path(_local_path(text, cwd))


def remote_identity(url: str, cwd: str = "/") -> str:
    """What names the remote repository whatever the clone calls it: host and path, with
    no credentials, scheme, default port, `.git` suffix or trailing slash; the real path
    of a repository on disk. `https://u:p@Host/o/r.git/` and `git@host:o/r` agree."""
    host, path = _parse_remote(url, cwd)
    return f"{host}/{path}" if host is not None else f"file://{path}"


def remote_label(url: str, cwd: str = "/") -> str:
    """The remote as a session shows it: `host/owner/repo`, never credentials; for a
    repository on disk only its name, since public text carries no local paths."""
    host, path = _parse_remote(url, cwd)
    if host is not None:
        return f"{host}/{path}".rstrip("/")
    return posixpath.basename(path) or "repository"


def push_session_id(url: str, old: str, new: str, cwd: str = "/") -> str:
    """The same push from any clone of the same repository is the same session."""
    return str(uuid.uuid5(_PUSH_NAMESPACE, f"{remote_identity(url, cwd)}\n{old}..{new}"))


# -- the spool ---------------------------------------------------------------------------


class SpoolError(GitflywheelError):
    """A spool file that cannot be read as one."""


@dataclass(frozen=True)
class Update:
    """One line of git's pre-push input."""

    local_ref: str
    local_sha: str
    remote_ref: str
    remote_sha: str

    @property
    def deletes(self) -> bool:
        return bool(_ZERO.match(self.local_sha))

    @property
    def creates(self) -> bool:
        return bool(_ZERO.match(self.remote_sha))

    @property
    def publishes_work(self) -> bool:
        """Tags, notes and deletions publish no work of their own."""
        return not self.deletes and not self.remote_ref.startswith(_SKIPPED_REFS)


@dataclass(frozen=True)
class Push:
    """What one `git push` published, as the hook spooled it."""

    remote: str
    url: str
    cwd: str
    git_dir: str
    updates: tuple[Update, ...]
    tracking: tuple[str, ...] = ()


def parse_spool(data: bytes, origin: str) -> Push:
    """Read a spool file; anything but the format the hook writes is refused."""
    try:
        text = data.decode("utf-8", "surrogateescape")
    except UnicodeDecodeError:  # pragma: no cover - surrogateescape decodes any bytes
        raise SpoolError(f"{origin}: not text") from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or lines[0] != SPOOL_FORMAT:
        raise SpoolError(f"{origin}: not a gitflywheel spool file (no {SPOOL_FORMAT!r} line)")
    fields: dict[str, str] = {}
    updates: list[Update] = []
    tracking: list[str] = []
    for number, line in enumerate(lines[1:], start=2):
        key, _, value = line.partition(" ")
        if key in ("remote", "url", "cwd", "git-dir"):
            if key in fields:
                raise SpoolError(f"{origin}:{number}: {key} given twice")
            fields[key] = value
        elif key == "tracking":
            if not _SHA.match(value):
                raise SpoolError(f"{origin}:{number}: tracking: {value!r} is not a commit id")
            tracking.append(value)
        elif key == "update":
            parts = value.split(" ")
            if len(parts) != 4 or not all(_SHA.match(p) for p in (parts[1], parts[3])):
                raise SpoolError(
                    f"{origin}:{number}: update: expected '<local ref> <sha> <remote ref> <sha>'"
                )
            updates.append(Update(*parts))
        else:
            raise SpoolError(f"{origin}:{number}: unknown line {key[:40]!r}")
    for key in ("remote", "url", "git-dir"):
        if not fields.get(key):
            raise SpoolError(f"{origin}: {key}: missing")
    if not posixpath.isabs(fields["git-dir"]):
        raise SpoolError(f"{origin}: git-dir: {fields['git-dir']!r} is not an absolute path")
    if not updates:
        raise SpoolError(f"{origin}: no update lines")
    return Push(
        fields["remote"],
        fields["url"],
        fields.get("cwd") or fields["git-dir"],
        fields["git-dir"],
        tuple(updates),
        tuple(tracking),
    )


def _spool_files(folder: Path) -> list[Path]:
    try:
        return [p for p in folder.iterdir() if p.name.startswith("push.") and p.is_file()]
    except OSError:
        return []


def _set_aside(path: Path) -> Path:
    broken = path.parent / BROKEN_DIR
    broken.mkdir(exist_ok=True)
    target = broken / path.name
    os.replace(path, target)
    return target


# -- git, asked about the work repository --------------------------------------------------


def _git(work: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=work, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise GitflywheelError(f"cannot run git: {exc}") from None
    if done.returncode != 0:
        reason = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "git failed"
        raise GitflywheelError(f"{work}: not a git work repository ({reason})")
    return done.stdout.rstrip("\n")


@dataclass(frozen=True)
class _WorkRepo:
    hooks_dir: Path
    git_dir: Path  # the common git directory: shared by every worktree


def _work_repo(work: Path) -> _WorkRepo:
    if not work.is_dir():
        raise GitflywheelError(f"{work}: not a folder")
    hooks, common = _git(work, "rev-parse", "--git-path", "hooks", "--git-common-dir").split("\n")
    return _WorkRepo(Path(os.path.abspath(work / hooks)), Path(os.path.abspath(work / common)))


# -- the hook script ---------------------------------------------------------------------


def _sh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


_SCRIPT = r"""#!/bin/sh
# gitflywheel: each `git push` of this repository is recorded as a build session.
# Installed by `gitflywheel hook install`; `gitflywheel hook uninstall` removes it and puts
# back the hook it replaced. `GITFLYWHEEL_SKIP=1 git push` skips it. Whatever fails here,
# the push goes on: only the hook it replaced, run first, can refuse it.
{marker}
store={store}
objects={objects}
spool={spool}
python={python}
log={log}
missing={missing}
failed={failed}
set -f
nl='
'
input=''
updates=''
gfw_update() {{
  [ $# -eq 4 ] || return 0
  case $2 in *[!0]*) ;; *) return 0 ;; esac
  case $3 in refs/tags/*|refs/notes/*) return 0 ;; esac
  updates="${{updates}}update $1 $2 $3 $4$nl"
}}
while IFS= read -r line || [ -n "$line" ]; do
  input="$input$line$nl"
  gfw_update $line
done
case $0 in */*) here=${{0%/*}} ;; *) here=. ;; esac
if [ -f "$here/{orig}" ] && [ -x "$here/{orig}" ]; then
  # A shell script runs as if it were still {name}: some (husky) go by their own name.
  first=''
  IFS= read -r first <"$here/{orig}" || :
  case $first in
    '#!'*/sh | '#!'*/sh' '* | '#!'*/bash | '#!'*/bash' '* | '#!'*' sh' | '#!'*' bash')
      run=${{first#??}}
      case $run in */env' '*) run=${{run#*/env }} ;; esac
      printf '%s' "$input" | $run -c '. "$0{suffix}"' "$0" "$@" || exit $?
      ;;
    *) printf '%s' "$input" | "$here/{orig}" "$@" || exit $? ;;
  esac
fi
case ${{GITFLYWHEEL_SKIP:-}} in ''|0|false|no) ;; *) exit 0 ;; esac
[ -n "$updates" ] || exit 0
case "$1$2$PWD" in *"$nl"*) exit 0 ;; esac
if [ "$1" = "$2" ]; then
  where=$(git rev-parse --git-common-dir 2>/dev/null) || exit 0
else
  where=$(git rev-parse --git-common-dir --remotes="$1" 2>/dev/null) || exit 0
fi
gitdir=${{where%%"$nl"*}}
tracking=${{where#"$gitdir"}}
case $gitdir in /*) ;; *) gitdir="$PWD/$gitdir" ;; esac
body="{format}${{nl}}remote $1${{nl}}url $2${{nl}}cwd $PWD${{nl}}git-dir $gitdir$nl"
for sha in $tracking; do body="${{body}}tracking $sha$nl"; done
body="$body$updates"
gfw_spool() {{
  [ -d "$1" ] || mkdir -p "$1" 2>/dev/null || return 1
  tmp=$(mktemp "$1/.push.XXXXXXXXXX" 2>/dev/null) || return 1
  if printf '%s' "$body" >"$tmp" 2>/dev/null && mv -f "$tmp" "$1/${{tmp##*/.}}" 2>/dev/null; then
    return 0
  fi
  rm -f "$tmp" 2>/dev/null
  return 1
}}
if [ -d "$store" ] && [ -d "$objects" ] && gfw_spool "$spool"; then
  :
else
  log="$gitdir/{repo_log}"
  gfw_spool "$gitdir/{repo_spool}" || exit 0
fi
if [ -f "$python" ] && [ -x "$python" ]; then
  (
    trap '' HUP INT QUIT
    n=0
    while [ "$n" -lt 6000 ] && kill -0 "$PPID" 2>/dev/null; do
      sleep 0.1 2>/dev/null || sleep 1
      n=$((n + 1))
    done
    "$python" -m gitflywheel hook run --repo "$store" --git-dir "$gitdir"
    [ $? -ne 1 ] || printf '{{"time": "%s", "level": "error", "event": "hook", "message": %s}}\n' \
      "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$failed" >>"$log"
  ) </dev/null >/dev/null 2>&1 &
else
  printf '{{"time": "%s", "level": "error", "event": "hook", "message": %s}}\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$missing" >>"$log" 2>/dev/null
fi
exit 0
"""


def _script(store: Path, control_dir: Path, python: str) -> str:
    missing = (
        f"the interpreter {python} that runs gitflywheel is gone, so this push waits in "
        "the spool: run `gitflywheel hook install` again (the next push records it)"
    )
    failed = (
        f"{python} -m gitflywheel failed: is gitflywheel still installed for it? The push "
        "waits in the spool: run `gitflywheel hook run` to see why, `hook install` to mend"
    )
    config = {"format": 1, "store": str(store), "python": python}
    return _SCRIPT.format(
        marker=_MARKER + json.dumps(config, ensure_ascii=False),
        store=_sh_quote(str(store)),
        objects=_sh_quote(str(control_dir / "objects")),
        spool=_sh_quote(str(StorePaths(control_dir).hook_spool)),
        python=_sh_quote(python),
        log=_sh_quote(str(StorePaths(control_dir).hook_log)),
        missing=_sh_quote(json.dumps(missing, ensure_ascii=False)),
        failed=_sh_quote(json.dumps(failed, ensure_ascii=False)),
        orig=HOOK_NAME + ORIG_SUFFIX,
        name=HOOK_NAME,
        suffix=ORIG_SUFFIX,
        format=SPOOL_FORMAT,
        repo_spool=REPO_SPOOL,
        repo_log=WorkRepoPaths(Path()).log.as_posix(),
    )


def _installed_config(hook: Path) -> dict[str, Any] | None:
    """The settings of a gitflywheel hook at `hook`, or None when it is not ours."""
    try:
        with open(hook, encoding="utf-8", errors="replace") as f:
            head = f.read(4096)
    except OSError:
        return None
    for line in head.splitlines():
        if line.startswith(_MARKER):
            try:
                value = json.loads(line[len(_MARKER) :])
            except ValueError:
                return None
            return value if isinstance(value, dict) else None
    return None


def _write_executable(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.gitflywheel-tmp")
    tmp.write_text(text, encoding="utf-8")
    os.chmod(tmp, 0o755)
    os.replace(tmp, path)


# -- install, uninstall ------------------------------------------------------------------


@dataclass(frozen=True)
class InstallResult:
    hook: str
    store: str
    python: str
    kept: str | None  # the hook that was there before, now run first
    updated: bool  # a gitflywheel hook was there already


@dataclass(frozen=True)
class UninstallResult:
    hook: str
    removed: bool
    restored: str | None  # the hook put back
    waiting: int  # pushes still spooled in the work repository


def install(work: Path, store: Path, python: str | None = None) -> InstallResult:
    """Install the pre-push hook in the work repository at `work`, recording into `store`
    (created when missing), run by `python` (default: this interpreter)."""
    repo = _work_repo(work)
    store = Path(os.path.abspath(store))
    interpreter = os.path.abspath(python or sys.executable or "python3")
    if not os.path.isfile(interpreter) or not os.access(interpreter, os.X_OK):
        raise GitflywheelError(f"{interpreter}: not an interpreter that can run")
    if store.exists() and not store.is_dir():
        raise StoreError(f"{store}: a file, not a store")
    if store == repo.git_dir or (store / ".git") == repo.git_dir:
        raise StoreError(f"{store}: the work repository itself cannot be its store")
    if not store.exists() or not any(store.iterdir()):
        init_store(store)
    with open_store(store) as opened:
        control = opened.path
    StorePaths(control).hook_spool.mkdir(parents=True, exist_ok=True)

    repo.hooks_dir.mkdir(parents=True, exist_ok=True)
    hook = repo.hooks_dir / HOOK_NAME
    orig = repo.hooks_dir / (HOOK_NAME + ORIG_SUFFIX)
    ours = _installed_config(hook) is not None
    kept: Path | None = orig if orig.exists() or orig.is_symlink() else None
    if not ours and (hook.exists() or hook.is_symlink()):
        if kept is not None:
            raise GitflywheelError(
                f"{hook} is not gitflywheel's and {orig} (an earlier one) is there too: "
                "move one of them away, then install again"
            )
        os.replace(hook, orig)
        kept = orig
    _write_executable(hook, _script(store, control, interpreter))
    return InstallResult(str(hook), str(store), interpreter, str(kept) if kept else None, ours)


def uninstall(work: Path) -> UninstallResult:
    """Remove the hook and put back the one it replaced; another hook is left alone."""
    repo = _work_repo(work)
    hook = repo.hooks_dir / HOOK_NAME
    orig = repo.hooks_dir / (HOOK_NAME + ORIG_SUFFIX)
    waiting = len(_spool_files(WorkRepoPaths(repo.git_dir).spool))
    if _installed_config(hook) is None:
        if hook.exists() or hook.is_symlink():
            raise GitflywheelError(f"{hook} is not gitflywheel's hook: left as it is")
        return UninstallResult(str(hook), False, None, waiting)
    hook.unlink()
    restored = None
    if orig.exists() or orig.is_symlink():
        os.replace(orig, hook)
        restored = str(hook)
    return UninstallResult(str(hook), True, restored, waiting)


# -- the log -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogEntry:
    time: str
    level: str
    event: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _log(path: Path, level: str, event: str, message: str, **data: Any) -> None:
    """Append one JSON line; the log keeps its last half a megabyte."""
    entry = {"time": _now(), "level": level, "event": event, "message": message, **data}
    line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "ab") as f:
            f.write(line)
            size = f.tell()
        if size > 2 * _LOG_KEEP_BYTES:
            with open(path, "rb") as f:
                f.seek(size - _LOG_KEEP_BYTES)
                tail = f.read().split(b"\n", 1)[-1]
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_bytes(tail)
            os.replace(tmp, path)
    except OSError:
        pass  # nowhere to write: the spool still holds the push


def _read_log(path: Path) -> list[LogEntry]:
    try:
        data = path.read_bytes()
    except OSError:
        return []
    entries = []
    for raw in data.splitlines():
        try:
            value = json.loads(raw.decode("utf-8", "replace"))
        except ValueError:
            continue
        if not isinstance(value, dict):
            continue
        known = {k: str(value.get(k, "")) for k in ("time", "level", "event", "message")}
        rest = {k: v for k, v in value.items() if k not in known}
        entries.append(LogEntry(**known, data=rest))
    return entries


# -- the run: spooled pushes in, sessions out -------------------------------------------------


@dataclass
class PushOutcome:
    """What one spooled push became."""

    spool: str
    url: str
    recorded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    nothing_new: list[str] = field(default_factory=list)  # remote refs that published no commit
    notes: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class RunReport:
    store: str
    log: str
    pushes: list[PushOutcome] = field(default_factory=list)
    error: str | None = None  # what stopped the run (the pushes wait in the spool)
    waiting: int = 0
    broken: list[str] = field(default_factory=list)

    @property
    def recorded(self) -> int:
        return sum(len(p.recorded) for p in self.pushes)


def _store_problem(store: Path) -> str | None:
    """Why the store cannot take sessions now, or None."""
    if not store.exists():
        return f"{store}: the store is missing"
    if not store.is_dir():
        return f"{store}: a file, not a store"
    try:
        with open_store(store) as opened:
            probe = opened.paths.work / f".probe-{os.getpid()}"
            probe.parent.mkdir(exist_ok=True)
            probe.write_bytes(b"")
            probe.unlink()
    except GitflywheelError as exc:
        return str(exc)
    except OSError as exc:
        return f"{store}: cannot write to the store: {exc.strerror or exc}"
    return None


def _ordered(updates: tuple[Update, ...]) -> list[Update]:
    """Branches that existed first, as git listed them; then new ones by name. A commit
    that two refs of one push publish is counted with the first."""
    kept = [u for u in updates if u.publishes_work]
    return [u for u in kept if not u.creates] + sorted(
        (u for u in kept if u.creates), key=lambda u: u.remote_ref
    )


def _sessions(push: Push) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """Capture each range of a push: (sessions, remote refs with nothing new, notes)."""
    source = Path(push.git_dir)
    label = remote_label(push.url, push.cwd)
    updates = _ordered(push.updates)
    olds = [u.remote_sha for u in updates if not u.creates]
    absent = set(missing_commits(source, [*olds, *push.tracking]))
    tracking = [sha for sha in push.tracking if sha not in absent]
    sessions: list[dict[str, Any]] = []
    nothing: list[str] = []
    notes: list[str] = []
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
        options = CaptureOptions(
            source=source,
            until_rev=update.local_sha,
            exclude=exclude,
            max_commits=MAX_COMMITS,
            repo_label=label,
            session_id=push_session_id(push.url, update.remote_sha, update.local_sha, push.cwd),
        )
        try:
            captured = capture(options)
        except NothingToCapture:
            nothing.append(update.remote_ref)
            continue
        captured.session["source_data"]["push"] = {
            "ref": update.remote_ref,
            "before": None if update.creates else update.remote_sha,
            "after": update.local_sha,
        }
        sessions.append(captured.session)
        notes.extend(f"{update.remote_ref}: {n}" for n in captured.notes)
    return sessions, nothing, notes


def _record(store: Path, push: Push, origin: str) -> PushOutcome:
    """Capture and ingest one push. A store that fails raises StoreError or OSError (the
    push stays spooled); a push that can never be recorded raises another error of ours."""
    outcome = PushOutcome(origin, remote_label(push.url, push.cwd))
    sessions, outcome.nothing_new, outcome.notes = _sessions(push)
    if not sessions:
        return outcome
    lines = "".join(dumps_canonical(s) + "\n" for s in sessions).encode("utf-8")
    report = ingest(store, ["-"], stdin=io.BytesIO(lines))
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
    problem = _store_problem(store)
    control = store
    if problem is None:
        with contextlib.suppress(GitflywheelError), Store.open(store) as opened:
            control = opened.path
    log = StorePaths(control).hook_log if problem is None else None
    if log is None:
        if repo_spool is None:
            raise StoreError(problem or f"{store}: the store cannot be used")
        log = repo_spool / "hook.log"
    report = RunReport(str(store), str(log))
    spools = [StorePaths(control).hook_spool] + ([repo_spool] if repo_spool is not None else [])
    if problem is not None:
        report.error = problem
        report.waiting = sum(len(_spool_files(s)) for s in spools)
        _log(
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
            (p for s in spools for p in _spool_files(s)),
            key=lambda p: (_mtime(p), p.name),
        )
        for path in files:
            outcome = _run_one(store, path, log, report)
            if outcome is None:
                break
            report.pushes.append(outcome)
        report.waiting = sum(len(_spool_files(s)) for s in spools)
    if report.pushes or report.error:
        problems = [p.error for p in report.pushes if p.error] + [report.error or ""]
        summary = (
            f"recorded {_count(report.recorded, 'session')} from "
            f"{_count(len(report.pushes), 'push', 'pushes')}"
        )
        _log(
            log,
            "error" if any(problems) else "info",
            "run",
            "; ".join([summary, *filter(None, problems)]),
            recorded=report.recorded,
            waiting=report.waiting,
        )
    return report


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _run_one(store: Path, path: Path, log: Path, report: RunReport) -> PushOutcome | None:
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
        outcome = _record(store, push, str(path))
    except (StoreError, OSError) as exc:
        report.error = f"{path}: {exc}; it stays in the spool for the next run"
        _log(log, "error", "push", report.error)
        return None
    except GitflywheelError as exc:
        try:
            aside = _set_aside(path)
        except OSError as moved:
            report.error = f"{path}: {exc}; cannot set it aside: {moved.strerror or moved}"
            _log(log, "error", "push", report.error)
            return None
        report.broken.append(str(aside))
        message = f"{exc}; set aside as {aside} (move it back to {path.parent} to retry)"
        _log(log, "error", "push", message, spool=str(aside))
        return PushOutcome(str(aside), "", error=message)
    except Exception as exc:  # a bug must not lose the push: keep it, say what happened
        report.error = f"{path}: unexpected {type(exc).__name__}: {exc}; it stays in the spool"
        _log(log, "error", "push", report.error)
        return None
    path.unlink(missing_ok=True)
    _log(
        log,
        "info",
        "push",
        f"{outcome.url}: recorded {len(outcome.recorded)}, already there "
        f"{len(outcome.unchanged)}, nothing new for {len(outcome.nothing_new)} refs",
        git_dir=push.git_dir,
        url=outcome.url,
        recorded=outcome.recorded,
        unchanged=outcome.unchanged,
        notes=outcome.notes,
    )
    return outcome


# -- status --------------------------------------------------------------------------------


@dataclass
class HookStatus:
    """Is the hook installed, where, into which store, and how its runs went."""

    hook: str
    installed: bool
    other_hook: bool  # a hook that is not gitflywheel's sits where ours would
    chained: str | None  # the earlier hook ours runs first
    store: str | None
    store_problem: str | None
    python: str | None
    python_ok: bool
    waiting: int
    broken: list[str]
    sessions_recorded: int  # by runs of this repository's pushes
    last_runs: list[LogEntry]
    last_error: LogEntry | None
    logs: list[str]

    @property
    def failing(self) -> bool:
        """The last thing logged was an error: no run went well since."""
        if self.last_error is None:
            return False
        return not any(
            e.level != "error" and e.time >= self.last_error.time for e in self.last_runs
        )

    @property
    def ok(self) -> bool:
        return (
            self.installed
            and self.store_problem is None
            and self.python_ok
            and not self.broken
            and not self.failing
        )


def installed_store(work: Path) -> Path | None:
    """The store the hook installed in `work` records into, or None."""
    config = _installed_config(_work_repo(work).hooks_dir / HOOK_NAME)
    value = config.get("store") if config is not None else None
    return Path(value) if isinstance(value, str) else None


def work_git_dir(work: Path) -> Path:
    """The (common) git directory of the work repository at `work`."""
    return _work_repo(work).git_dir


def status(work: Path, store: Path | None = None) -> HookStatus:
    """What `hook status` shows, read from the hook, the store and the logs."""
    repo = _work_repo(work)
    hook = repo.hooks_dir / HOOK_NAME
    config = _installed_config(hook)
    orig = repo.hooks_dir / (HOOK_NAME + ORIG_SUFFIX)
    if store is None and config is not None and isinstance(config.get("store"), str):
        store = Path(config["store"])
    python = config.get("python") if config is not None else None
    python = python if isinstance(python, str) else None
    problem = _store_problem(store) if store is not None else None
    control = store
    if store is not None and problem is None:
        with contextlib.suppress(GitflywheelError), Store.open(store) as opened:
            control = opened.path
    spools = [WorkRepoPaths(repo.git_dir).spool]
    logs = [WorkRepoPaths(repo.git_dir).log]
    if control is not None:
        spools.insert(0, StorePaths(control).hook_spool)
        logs.insert(0, StorePaths(control).hook_log)
    entries = sorted((e for log in logs for e in _read_log(log)), key=lambda e: e.time)
    mine = os.path.realpath(repo.git_dir)
    recorded = sum(
        len(e.data.get("recorded") or [])
        for e in entries
        if e.event == "push" and os.path.realpath(str(e.data.get("git_dir") or "")) == mine
    )
    errors = [e for e in entries if e.level == "error"]
    broken = [str(p) for s in spools for p in _spool_files(s / BROKEN_DIR)]
    return HookStatus(
        hook=str(hook),
        installed=config is not None,
        other_hook=config is None and (hook.exists() or hook.is_symlink()),
        chained=str(orig) if config is not None and orig.exists() else None,
        store=str(store) if store is not None else None,
        store_problem=problem,
        python=python,
        python_ok=python is not None and os.access(python, os.X_OK),
        waiting=sum(len(_spool_files(s)) for s in spools),
        broken=broken,
        sessions_recorded=recorded,
        last_runs=[e for e in entries if e.event == "run"][-5:],
        last_error=errors[-1] if errors else None,
        logs=[str(p) for p in logs if p.exists()],
    )
