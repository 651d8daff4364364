"""What `hook status` shows: is the hook installed, where, into which store, and how
its runs went; read from the hook, the store and the logs, changing nothing."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import GitflywheelError
from ..recording.init import open_store
from ..remotes.autopublish import auto_remote
from ..storage.gitdir import StorePaths, WorkRepoPaths
from .install import installed_hook
from .log import LogEntry, read_log
from .script import HOOK_NAME, ORIG_SUFFIX, hook_manager, installed_config
from .spool import BROKEN_DIR, spool_files
from .target import check_store
from .workrepo import work_repo

__all__ = ["HookStatus", "status"]


@dataclass
class HookStatus:
    """Is the hook installed, where, into which store, and how its runs went."""

    hook: str
    installed: bool
    other_hook: bool  # a hook that is not gitflywheel's sits where ours would
    manager: str | None  # the hook manager holding the pre-push hook: pre-commit, husky
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
    publishes_to: str | None = None  # the remote `publish --auto` named, if any
    last_publish: LogEntry | None = None  # how publishing by itself went last

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


def status(work: Path, store: Path | None = None) -> HookStatus:
    """What `hook status` shows, read from the hook, the store and the logs."""
    repo = work_repo(work)
    found = installed_hook(repo.hooks_dir)
    hook = found or repo.hooks_dir / HOOK_NAME
    config = installed_config(hook)
    orig = repo.hooks_dir / (HOOK_NAME + ORIG_SUFFIX)
    if store is None and config is not None and isinstance(config.get("store"), str):
        store = Path(config["store"])
    python = config.get("python") if config is not None else None
    python = python if isinstance(python, str) else None
    checked = check_store(store) if store is not None else None
    problem = checked.problem if checked is not None else None
    control = checked.git_dir if checked is not None else None
    spools = [WorkRepoPaths(repo.git_dir).spool]
    logs = [WorkRepoPaths(repo.git_dir).log]
    if control is not None:
        spools.insert(0, StorePaths(control).hook_spool)
        logs.insert(0, StorePaths(control).hook_log)
    entries = sorted((e for log in logs for e in read_log(log)), key=lambda e: e.time)
    mine = os.path.realpath(repo.git_dir)
    recorded = sum(
        len(e.data.get("recorded") or [])
        for e in entries
        if e.event == "push" and os.path.realpath(str(e.data.get("git_dir") or "")) == mine
    )
    errors = [e for e in entries if e.level == "error"]
    publishes_to = None
    if control is not None and problem is None:
        try:
            with open_store(control) as opened:
                publishes_to = auto_remote(opened)
        except (GitflywheelError, OSError):
            pass
    published = [e for e in entries if e.event == "publish"]
    broken = [str(p) for s in spools for p in spool_files(s / BROKEN_DIR)]
    return HookStatus(
        hook=str(hook),
        installed=config is not None,
        other_hook=config is None and (hook.exists() or hook.is_symlink()),
        manager=hook_manager(repo.hooks_dir),
        chained=str(orig) if config is not None and orig.exists() else None,
        store=str(store) if store is not None else None,
        store_problem=problem,
        python=python,
        python_ok=python is not None and os.access(python, os.X_OK),
        waiting=sum(len(spool_files(s)) for s in spools),
        broken=broken,
        sessions_recorded=recorded,
        last_runs=[e for e in entries if e.event == "run"][-5:],
        last_error=errors[-1] if errors else None,
        logs=[str(p) for p in logs if p.exists()],
        publishes_to=publishes_to,
        last_publish=published[-1] if published else None,
    )
