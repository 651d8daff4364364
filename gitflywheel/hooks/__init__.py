"""The git push hook: install it in a work repository, see how it runs, record what it
spooled. Its functions and result types are imported from here."""

from .hook import (
    HookStatus,
    InstallResult,
    RunReport,
    UninstallResult,
    install,
    installed_store,
    run,
    status,
    uninstall,
    work_git_dir,
)

__all__ = [
    "HookStatus",
    "InstallResult",
    "RunReport",
    "UninstallResult",
    "install",
    "installed_store",
    "run",
    "status",
    "uninstall",
    "work_git_dir",
]
