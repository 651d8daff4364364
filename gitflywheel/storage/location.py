"""Which store a command works on when it is not told: the one rule every command and
function follows.

`--repo PATH` (an explicit path), else `$GITFLYWHEEL_REPO`, else `./flywheel.git` when
one exists in the current folder, else the user's store in the data folder
(`$XDG_DATA_HOME/gitflywheel/flywheel.git`, `~/.local/share/...` when that is unset).
Nothing names a folder inside a git work tree unless the user does: a project is never
given a store it did not ask for (`git status` stays clean).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ..errors import StoreError
from .layout import DEFAULT_STORE

__all__ = ["REPO_VARIABLE", "default_store", "user_store", "enclosing_work_tree"]

REPO_VARIABLE = "GITFLYWHEEL_REPO"


def user_store(env: Mapping[str, str] | None = None) -> Path:
    """The user's store: `$XDG_DATA_HOME/gitflywheel/flywheel.git`, where a relative or
    empty `XDG_DATA_HOME` counts as unset (the XDG rule), so `~/.local/share/...`."""
    env = os.environ if env is None else env
    data = env.get("XDG_DATA_HOME", "")
    if not data or not os.path.isabs(data):
        home = env.get("HOME") or os.path.expanduser("~")
        data = os.path.join(home, ".local", "share")
    return Path(data) / "gitflywheel" / DEFAULT_STORE


def enclosing_work_tree(path: Path) -> Path | None:
    """The top of the git work tree `path` would sit in (a folder above it holding
    `.git`), or None."""
    for folder in Path(os.path.abspath(path)).parents:
        if (folder / ".git").exists():
            return folder
    return None


def default_store(
    repo: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Path:
    """The store to work on: `repo` when given, else `$GITFLYWHEEL_REPO`, else
    `./flywheel.git` when it exists (relative, as given), else the user's store.

    The user's store, when it does not exist yet, must not fall inside a git work tree
    (an `XDG_DATA_HOME` in a project): StoreError, exit 2, naming both."""
    if repo is not None and os.fspath(repo) != "":
        return Path(repo)
    env = os.environ if env is None else env
    named = env.get(REPO_VARIABLE, "")
    if named:
        return Path(named)
    here = Path(DEFAULT_STORE)
    if os.path.lexists((cwd or Path.cwd()) / here):
        return here if cwd is None else cwd / here
    store = user_store(env)
    if not os.path.lexists(store):
        tree = enclosing_work_tree(store)
        if tree is not None:
            raise StoreError(
                f"{store}: the user's store would be made inside the git work tree {tree}; "
                f"give --repo PATH or set {REPO_VARIABLE} (a store is made inside a work "
                "tree only when named)"
            )
    return store
