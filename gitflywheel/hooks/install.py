"""Installing the hook in a work repository and taking it out again: the hook it finds
there is kept and run first, and put back when ours is removed.

Hook managers move hooks about: pre-commit's `install` renames ours to `pre-push.legacy`
and runs it from there, so ours is looked for there too (`installed_hook`); husky
rewrites its folder on each run, so a husky hook where ours was, with the copy of it we
kept beside, means ours was overwritten and may be installed again. A hooks folder the
work repository tracks (`core.hooksPath` at committed files) is refused unless forced:
the hook holds this machine's absolute paths, which would be committed to the project.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import GitflywheelError, InputError, StoreError
from ..recording.init import init_store, open_store
from ..storage.gitdir import StorePaths, WorkRepoPaths
from .script import HOOK_NAME, LEGACY_SUFFIX, ORIG_SUFFIX, installed_config, render_script
from .spool import spool_files
from .workrepo import tracked_files, work_repo

__all__ = [
    "InstallResult",
    "UninstallResult",
    "install",
    "uninstall",
    "installed_store",
    "installed_hook",
]


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


def installed_hook(hooks_dir: Path) -> Path | None:
    """Where gitflywheel's hook is in `hooks_dir`: `pre-push`, or `pre-push.legacy`
    when pre-commit wrapped it; None when it is in neither."""
    for name in (HOOK_NAME, HOOK_NAME + LEGACY_SUFFIX):
        if installed_config(hooks_dir / name) is not None:
            return hooks_dir / name
    return None


def _same_bytes(a: Path, b: Path) -> bool:
    try:
        return a.read_bytes() == b.read_bytes()
    except OSError:
        return False


def install(
    work: Path, store: Path, python: str | None = None, *, force: bool = False
) -> InstallResult:
    """Install the pre-push hook in the work repository at `work`, recording into `store`
    (created when missing), run by `python` (default: this interpreter). A hooks folder
    with files the work repository tracks is refused (InputError) unless `force`."""
    repo = work_repo(work)
    store = Path(os.path.abspath(store))
    interpreter = os.path.abspath(python or sys.executable or "python3")
    if not os.path.isfile(interpreter) or not os.access(interpreter, os.X_OK):
        raise GitflywheelError(f"{interpreter}: not an interpreter that can run")
    if store.exists() and not store.is_dir():
        raise StoreError(f"{store}: a file, not a store")
    if store == repo.git_dir or (store / ".git") == repo.git_dir:
        raise StoreError(f"{store}: the work repository itself cannot be its store")
    tracked = tracked_files(work, repo.hooks_dir)
    if tracked and not force:
        listed = ", ".join(tracked[:3]) + (
            f" and {len(tracked) - 3} more" if len(tracked) > 3 else ""
        )
        raise InputError(
            str(repo.hooks_dir),
            "core.hooksPath",
            f"a hooks folder the work repository tracks ({listed}): the hook would write "
            "this machine's absolute paths (the store, the interpreter) into the project's "
            "files, for every clone to commit; install with --force to write it all the "
            "same, or point core.hooksPath at a folder that is not committed",
        )
    if not store.exists() or not any(store.iterdir()):
        init_store(store)
    with open_store(store) as opened:
        control = opened.path
    StorePaths(control).hook_spool.mkdir(parents=True, exist_ok=True)

    repo.hooks_dir.mkdir(parents=True, exist_ok=True)
    hook = installed_hook(repo.hooks_dir) or repo.hooks_dir / HOOK_NAME
    orig = repo.hooks_dir / (HOOK_NAME + ORIG_SUFFIX)
    ours = installed_config(hook) is not None
    kept: Path | None = orig if orig.exists() or orig.is_symlink() else None
    if not ours and (hook.exists() or hook.is_symlink()):
        if kept is not None and not _same_bytes(hook, orig):
            raise GitflywheelError(
                f"{hook} is not gitflywheel's and {orig} (an earlier one) is there too: "
                "move one of them away, then install again"
            )
        # The same bytes as the hook kept: a manager (husky) wrote its hook over ours again.
        os.replace(hook, orig)
        kept = orig
    _write_executable(hook, render_script(store, control, interpreter))
    return InstallResult(str(hook), str(store), interpreter, str(kept) if kept else None, ours)


def uninstall(work: Path) -> UninstallResult:
    """Remove the hook (at `pre-push`, or at `pre-push.legacy` under pre-commit) and put
    back the one it replaced; another hook is left alone."""
    repo = work_repo(work)
    orig = repo.hooks_dir / (HOOK_NAME + ORIG_SUFFIX)
    waiting = len(spool_files(WorkRepoPaths(repo.git_dir).spool))
    hook = installed_hook(repo.hooks_dir)
    if hook is None:
        hook = repo.hooks_dir / HOOK_NAME
        if (hook.exists() or hook.is_symlink()) and not _same_bytes(hook, orig):
            raise GitflywheelError(f"{hook} is not gitflywheel's hook: left as it is")
        if orig.exists() and _same_bytes(hook, orig):
            orig.unlink()  # the copy kept of the hook a manager wrote over ours again
        return UninstallResult(str(hook), False, None, waiting)
    hook.unlink()
    restored = None
    if orig.exists() or orig.is_symlink():
        os.replace(orig, hook)
        restored = str(hook)
    return UninstallResult(str(hook), True, restored, waiting)


def installed_store(work: Path) -> Path | None:
    """The store the hook installed in `work` records into, or None."""
    hook = installed_hook(work_repo(work).hooks_dir)
    config = installed_config(hook) if hook is not None else None
    value = config.get("store") if config is not None else None
    return Path(value) if isinstance(value, str) else None


def _write_executable(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.gitflywheel-tmp")
    tmp.write_text(text, encoding="utf-8")
    os.chmod(tmp, 0o755)
    os.replace(tmp, path)
