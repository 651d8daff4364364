"""Hooks: every `git push` of a work repository records a build session in a store.

The folder owns the pre-push hook from end to end: `capture` (a session from a work
repository's commits), `remotes` (which repository a push went to), `spool` (the file
the hook writes for each push), `script` (the sh script git runs), `workrepo` (the work
repository as git reports it), `pushrules` (which pushes the work repository's own
settings record, and how), `install` (putting the hook in and taking it out),
`target` (the store it records into, opened once), `log`, `run` (spooled pushes in,
sessions out) and `status`. It may import the layers below it (recording, storage,
session and the standalone modules), never the API or the CLI, which call it from here.
"""

from __future__ import annotations

from .capture import Captured, CaptureOptions, NothingToCapture, capture, missing_commits
from .install import InstallResult, UninstallResult, install, installed_store, uninstall
from .log import LogEntry
from .remotes import push_session_id, remote_identity, remote_label
from .run import MAX_COMMITS, PushOutcome, RunReport, run
from .script import HOOK_NAME
from .spool import SPOOL_FORMAT, Push, SpoolError, Update, parse_spool
from .status import HookStatus, status
from .workrepo import work_git_dir

__all__ = [
    "HOOK_NAME",
    "SPOOL_FORMAT",
    "MAX_COMMITS",
    "CaptureOptions",
    "Captured",
    "NothingToCapture",
    "capture",
    "missing_commits",
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
