"""The work repository as git itself reports it: where its hooks go (`core.hooksPath`
included) and its common git directory, shared by every linked worktree."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..errors import GitflywheelError

__all__ = ["WorkRepo", "work_repo", "work_git_dir"]


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


def work_git_dir(work: Path) -> Path:
    """The (common) git directory of the work repository at `work`."""
    return work_repo(work).git_dir
