"""The work repository as git itself reports it: where its hooks go (`core.hooksPath`
included), its common git directory, shared by every linked worktree, and what a remote
it pushed to holds now."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..errors import GitflywheelError

__all__ = [
    "LS_REMOTE_SECONDS",
    "RemoteUnreachable",
    "WorkRepo",
    "work_repo",
    "work_git_dir",
    "remote_refs",
    "remote_state",
    "tracking_head",
    "is_ancestor",
    "tracked_files",
]

LS_REMOTE_SECONDS = 60
# Nobody is there to answer a prompt: a remote that asks for a password is unreachable.
_NO_PROMPTS = {
    "GIT_TERMINAL_PROMPT": "0",
    "SSH_ASKPASS_REQUIRE": "never",
    "GCM_INTERACTIVE": "never",
}
_CREDENTIALS = re.compile(r"(://)[^/@\s]*@")


class RemoteUnreachable(GitflywheelError):
    """The remote a push went to cannot be asked what it holds now."""


@dataclass(frozen=True)
class WorkRepo:
    """Where a work repository keeps its hooks, and its (common) git directory."""

    hooks_dir: Path
    git_dir: Path  # the common git directory: shared by every worktree


def _git(work: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=work, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise GitflywheelError(f"cannot run git: {exc}") from None
    if done.returncode != 0:
        reason = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "git failed"
        raise GitflywheelError(f"{work}: not a git work repository ({reason})")
    return done.stdout.rstrip("\n")


def work_repo(work: Path) -> WorkRepo:
    """The work repository at `work`; an error of ours when `work` is not in one."""
    if not work.is_dir():
        raise GitflywheelError(f"{work}: not a folder")
    hooks, common = _git(work, "rev-parse", "--git-path", "hooks", "--git-common-dir").split("\n")
    return WorkRepo(Path(os.path.abspath(work / hooks)), Path(os.path.abspath(work / common)))


def tracked_files(work: Path, folder: Path) -> list[str]:
    """The files of `folder` that the work repository at `work` tracks (its index names
    them), as paths from the top of the work tree; none outside a work tree."""
    try:
        done = subprocess.run(
            ["git", "ls-files", "-z", "--full-name", "--", os.path.abspath(folder)],
            cwd=work,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            env=_git_env(),
            check=False,
        )
    except OSError:
        return []
    if done.returncode != 0:  # outside the work tree, or a bare repository
        return []
    return [os.fsdecode(p) for p in done.stdout.split(b"\0") if p]


def work_git_dir(work: Path) -> Path:
    """The (common) git directory of the work repository at `work`."""
    return work_repo(work).git_dir


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GIT_DIR", "GIT_WORK_TREE")}
    return {**env, **_NO_PROMPTS}


def remote_refs(git_dir: Path, cwd: Path, url: str, refs: list[str]) -> dict[str, str]:
    """Where the remote at `url` has the refs `refs` now (a ref it lacks is absent), asked
    as the push asked it: with the work repository's config, from the folder it ran in
    (a relative path is relative to it), never prompting. RemoteUnreachable otherwise."""
    return remote_state(git_dir, cwd, url, refs)[0]


def remote_state(
    git_dir: Path, cwd: Path, url: str, refs: list[str]
) -> tuple[dict[str, str], str | None]:
    """`remote_refs`, and the branch the remote's HEAD names (its default branch, as
    `git ls-remote --symref URL HEAD` reports it), or None when it names none."""
    where = cwd if cwd.is_dir() else git_dir
    patterns = [*refs, "HEAD"] if len(refs) <= 100 else []
    try:
        done = subprocess.run(
            ["git", f"--git-dir={git_dir}", "ls-remote", "--symref", "--", url, *patterns],
            cwd=where,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            env=_git_env(),
            timeout=LS_REMOTE_SECONDS,
            start_new_session=True,  # no terminal to prompt on
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RemoteUnreachable(f"no answer in {LS_REMOTE_SECONDS} s") from None
    except OSError as exc:
        raise RemoteUnreachable(f"cannot run git: {exc.strerror or exc}") from None
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = next((line for line in lines if line.startswith("fatal:")), "") or (
            lines[-1] if lines else f"git ls-remote failed ({done.returncode})"
        )
        raise RemoteUnreachable(_CREDENTIALS.sub(r"\1***@", reason)[:300])
    found: dict[str, str] = {}
    head: str | None = None
    for line in done.stdout.decode("utf-8", "replace").splitlines():
        sha, _, name = line.partition("\t")
        if sha.startswith("ref: ") and name == "HEAD":
            head = _branch(sha.removeprefix("ref: "))
        elif name in refs:
            found[name] = sha
    return found, head


def _branch(ref: str) -> str | None:
    return ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else None


def tracking_head(git_dir: Path, remote: str) -> str | None:
    """The branch `refs/remotes/<remote>/HEAD` of the work repository names (what
    `git clone` or `git remote set-head` saw as the remote's default), or None."""
    if not remote or remote.startswith("-"):
        return None
    done = _local_git(git_dir, "symbolic-ref", "-q", f"refs/remotes/{remote}/HEAD")
    if done is None or done.returncode != 0:
        return None
    ref = done.stdout.decode("utf-8", "replace").strip()
    prefix = f"refs/remotes/{remote}/"
    return ref.removeprefix(prefix) if ref.startswith(prefix) else None


def is_ancestor(git_dir: Path, ancestor: str, tip: str) -> bool:
    """Whether the work repository knows `tip` and `ancestor` is in its history."""
    done = _local_git(git_dir, "merge-base", "--is-ancestor", ancestor, tip)
    return done is not None and done.returncode == 0


def _local_git(git_dir: Path, *args: str) -> subprocess.CompletedProcess[bytes] | None:
    """A git command on the work repository's own objects and refs (no remote, no
    prompt), or None when git cannot be run."""
    try:
        return subprocess.run(
            ["git", f"--git-dir={git_dir}", *args],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            env=_git_env(),
            check=False,
        )
    except OSError:
        return None
