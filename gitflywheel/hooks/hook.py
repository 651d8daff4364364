"""The names `gitflywheel.hooks.hook` held before the hook was split by concern, kept
only until the command line imports them from `gitflywheel.hooks`; it defines nothing.
"""

from __future__ import annotations

from . import (
    HOOK_NAME,
    MAX_COMMITS,
    SPOOL_FORMAT,
    HookStatus,
    InstallResult,
    LogEntry,
    Push,
    PushOutcome,
    RunReport,
    SpoolError,
    UninstallResult,
    Update,
    install,
    installed_store,
    parse_spool,
    push_session_id,
    remote_identity,
    remote_label,
    run,
    status,
    uninstall,
    work_git_dir,
)

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
