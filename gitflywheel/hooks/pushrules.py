"""Which pushes are sessions: the work repository's own settings, read from what it pushed.

`.gitflywheel.toml` at the root of the pushed commit's tree, or else the
`[tool.gitflywheel]` table of its `pyproject.toml` (session/work_settings.py says what
the keys mean). Read from the commit the push published, never the work tree, so that
what is recorded follows what was published. Settings that cannot be read are an
InputError naming the ref, the commit, the file, the key and the reason: the run sets
that push aside with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..session.work_settings import (
    PYPROJECT_FILE,
    PYPROJECT_TABLE,
    WORK_SETTINGS_FILE,
    WorkSettings,
    parse_work_settings,
)
from .capture import read_file_at

__all__ = ["FALLBACK_DEFAULT_BRANCHES", "Rules", "Decision", "rules_at", "branch_of", "decide"]

FALLBACK_DEFAULT_BRANCHES = ("main", "master")  # when the remote's default is unknown


@dataclass(frozen=True)
class Rules:
    """The settings a pushed commit holds, and where they were read (None: defaults)."""

    settings: WorkSettings
    origin: str | None = None


@dataclass(frozen=True)
class Decision:
    """What a push to one ref records: nothing (`skip`, why), or a session, a draft
    when `draft` says why."""

    skip: str | None = None
    draft: str | None = None


def rules_at(source: Path, ref: str, sha: str) -> Rules:
    """The settings of the commit `sha` pushed to `ref` in the repository at `source`."""
    for name, table in ((WORK_SETTINGS_FILE, ()), (PYPROJECT_FILE, PYPROJECT_TABLE)):
        data = read_file_at(source, sha, name)
        if data is None:
            continue
        origin = f"{ref} at {sha[:12]}: {name}"
        try:
            found = parse_work_settings(data, origin, table)
        except InputError as exc:
            raise InputError(
                exc.origin, exc.field, exc.reason + ": the push is not recorded"
            ) from None
        if found is not None:
            return Rules(found, name if not table else f"{name} [{'.'.join(table)}]")
    return Rules(WorkSettings())


def branch_of(ref: str) -> str:
    """The branch a remote ref names (`refs/heads/x` is `x`); another ref as it is."""
    return ref.removeprefix("refs/heads/")


def decide(rules: Rules, ref: str, default_branch: str | None) -> Decision:
    """Whether a push to `ref` records, and whether as a draft; `default_branch` is the
    remote's (None: unknown, then `main` and `master` count as it)."""
    settings, where = rules.settings, rules.origin or "the defaults"
    branch = branch_of(ref)
    if not settings.record:
        return Decision(skip=f"{ref}: record = false in {where}: not recorded")
    if not settings.records(branch):
        return Decision(skip=f"{ref}: {branch} is not one of the branches {where} records")
    defaults = (default_branch,) if default_branch else FALLBACK_DEFAULT_BRANCHES
    if not settings.is_draft(branch, defaults):
        return Decision()
    if settings.drafts is not None:
        return Decision(draft=f"{branch} is one of the drafts branches of {where}")
    shown = default_branch or " or ".join(FALLBACK_DEFAULT_BRANCHES)
    return Decision(draft=f"{branch} is not the remote's default branch ({shown})")
