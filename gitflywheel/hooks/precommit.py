"""The hook as pre-commit runs it (`.pre-commit-hooks.yaml`, `stages: [pre-push]`): the
push pre-commit describes, spooled in the user's store, and the run started detached once
the `git push` has ended, as the sh hook does.

pre-commit hands its hooks no input: it reads git's lines itself and says, in
`PRE_COMMIT_*` variables, the first ref of the push that publishes commits (its local
and remote refs and commits: the remote's commit, or the one before the first new
commit, or none for a whole history), the remote's name and URL. That one ref is what is recorded; the run checks it
landed as for any push. The `git push` is pre-commit's parent process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import GitflywheelError
from ..recording.init import init_store, open_store
from ..storage.gitdir import StorePaths
from .script import GIT_LOCATION_VARIABLES
from .spool import SPOOL_FORMAT, write_spool
from .workrepo import work_git_dir

__all__ = ["PreCommitPush", "pre_commit_push"]

_ZERO = "0" * 40
# Wait for the `git push` as the sh hook does: 6,000 times a tenth of a second at most.
_WAIT = (
    'n=0; while [ "$n" -lt 6000 ] && kill -0 "$1" 2>/dev/null; do '
    'sleep 0.1 2>/dev/null || sleep 1; n=$((n + 1)); done; shift; exec "$@"'
)


@dataclass(frozen=True)
class PreCommitPush:
    """What `hook pre-commit` did: the spool file it wrote, or why it wrote none."""

    spool: str | None
    store: str
    note: str | None = None


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    return done.stdout.strip() if done.returncode == 0 else ""


def _parent_of(pid: int) -> int | None:
    """The parent of process `pid` (POSIX `ps`), or None."""
    out = subprocess.run(
        ["ps", "-o", "ppid=", "-p", str(pid)], capture_output=True, text=True, check=False
    ).stdout.strip()
    return int(out) if out.isdigit() and int(out) > 1 else None


def pre_commit_push(
    store: Path, env: Mapping[str, str], cwd: Path, python: str | None = None
) -> PreCommitPush:
    """Spool the push pre-commit describes in `env` into `store` (created when missing)
    and start the run that records it once the push ends. Outside a pre-commit pre-push
    run (no `PRE_COMMIT_TO_REF`), nothing is spooled and the result says why."""
    remote_ref = env.get("PRE_COMMIT_REMOTE_BRANCH", "")
    local_ref = env.get("PRE_COMMIT_LOCAL_BRANCH", "")
    url = env.get("PRE_COMMIT_REMOTE_URL", "")
    to_ref = env.get("PRE_COMMIT_TO_REF", "")
    if not to_ref and local_ref and remote_ref and url:
        # A push of a whole history (its root commit too): pre-commit names no commits.
        to_ref = _git(cwd, "rev-parse", "--verify", "-q", f"{local_ref}^{{commit}}")
    if not (to_ref and remote_ref and url):
        return PreCommitPush(None, str(store), "not run by pre-commit at pre-push: nothing to do")
    if remote_ref.startswith(("refs/tags/", "refs/notes/")):
        return PreCommitPush(None, str(store), f"{remote_ref}: tags and notes record nothing")
    git_dir = work_git_dir(cwd)
    remote = env.get("PRE_COMMIT_REMOTE_NAME", "") or url
    from_ref = env.get("PRE_COMMIT_FROM_REF", "") or _ZERO
    store = Path(os.path.abspath(store))
    if not store.exists() or (store.is_dir() and not any(store.iterdir())):
        init_store(store)
    with open_store(store) as opened:
        control = opened.path
    lines = [
        SPOOL_FORMAT,
        f"remote {remote}",
        f"url {url}",
        f"cwd {os.path.abspath(cwd)}",
        f"git-dir {git_dir}",
    ]
    pre_commit = os.getppid()
    push = _parent_of(pre_commit)
    if push is not None:
        lines.append(f"pid {push}")
    if remote != url:
        tracking = _git(cwd, "rev-parse", f"--remotes={remote}")
        lines += [f"tracking {sha}" for sha in tracking.split() if sha]
    lines.append(f"update {local_ref or remote_ref} {to_ref} {remote_ref} {from_ref}")
    if any("\n" in line for line in lines):
        raise GitflywheelError("a line break in what pre-commit says of the push: not spooled")
    spooled = write_spool(StorePaths(control).hook_spool, "\n".join(lines) + "\n")
    interpreter = python or sys.executable
    run = [interpreter, "-E", "-P", "-m", "gitflywheel", "hook", "run", "--repo", str(store)]
    run += ["--git-dir", str(git_dir)]
    clean = {k: v for k, v in os.environ.items() if k not in GIT_LOCATION_VARIABLES}
    subprocess.Popen(
        ["sh", "-c", _WAIT, "gitflywheel-wait", str(push or pre_commit), *run],
        cwd="/",
        env=clean,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return PreCommitPush(str(spooled), str(store))
