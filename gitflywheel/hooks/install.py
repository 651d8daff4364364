"""Installing the hook in a work repository and taking it out again: the hook it finds
there is kept and run first, and put back when ours is removed."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import GitflywheelError, StoreError
from ..recording.init import init_store, open_store
from ..storage.gitdir import StorePaths, WorkRepoPaths
from .script import HOOK_NAME, ORIG_SUFFIX, installed_config, render_script
from .spool import spool_files
from .workrepo import work_repo

__all__ = ["InstallResult", "UninstallResult", "install", "uninstall", "installed_store"]


@dataclass(frozen=True)
class InstallResult:
    """Where the hook went, what it records into and runs with, and what it kept."""

    hook: str
    store: str
    python: str
    kept: str | None  # the hook that was there before, now run first
    updated: bool  # a gitflywheel hook was there already


@dataclass(frozen=True)
class UninstallResult:
    """Whether the hook was removed, which one was put back, and what still waits."""

    hook: str
    removed: bool
    restored: str | None  # the hook put back
    waiting: int  # pushes still spooled in the work repository


def install(work: Path, store: Path, python: str | None = None) -> InstallResult:
    """Install the pre-push hook in the work repository at `work`, recording into `store`
    (created when missing), run by `python` (default: this interpreter)."""
    repo = work_repo(work)
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
    ours = installed_config(hook) is not None
    kept: Path | None = orig if orig.exists() or orig.is_symlink() else None
    if not ours and (hook.exists() or hook.is_symlink()):
        if kept is not None:
            raise GitflywheelError(
                f"{hook} is not gitflywheel's and {orig} (an earlier one) is there too: "
                "move one of them away, then install again"
            )
        os.replace(hook, orig)
        kept = orig
    _write_executable(hook, render_script(store, control, interpreter))
    return InstallResult(str(hook), str(store), interpreter, str(kept) if kept else None, ours)


def uninstall(work: Path) -> UninstallResult:
    """Remove the hook and put back the one it replaced; another hook is left alone."""
    repo = work_repo(work)
    hook = repo.hooks_dir / HOOK_NAME
    orig = repo.hooks_dir / (HOOK_NAME + ORIG_SUFFIX)
    waiting = len(spool_files(WorkRepoPaths(repo.git_dir).spool))
    if installed_config(hook) is None:
        if hook.exists() or hook.is_symlink():
            raise GitflywheelError(f"{hook} is not gitflywheel's hook: left as it is")
        return UninstallResult(str(hook), False, None, waiting)
    hook.unlink()
    restored = None
    if orig.exists() or orig.is_symlink():
        os.replace(orig, hook)
        restored = str(hook)
    return UninstallResult(str(hook), True, restored, waiting)


def installed_store(work: Path) -> Path | None:
    """The store the hook installed in `work` records into, or None."""
    config = installed_config(work_repo(work).hooks_dir / HOOK_NAME)
    value = config.get("store") if config is not None else None
    return Path(value) if isinstance(value, str) else None


def _write_executable(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.gitflywheel-tmp")
    tmp.write_text(text, encoding="utf-8")
    os.chmod(tmp, 0o755)
    os.replace(tmp, path)
