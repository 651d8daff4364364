"""Tree entries: every entry a commit adds or changes has a safe name and mode, sits where
the layout puts its kind, and names an object the store holds as that type."""

from __future__ import annotations

from collections.abc import Sequence

from ..storage.layout import (
    FANOUT_LEVELS,
    SESSIONS_DIR,
    SETTINGS_FILE,
    STORE_FILE,
    TEMPLATES_DIR,
)
from ..storage.objects import CommitInfo
from ..storage.treecheck import (
    describe_mode,
    display_name,
    duplicate_names,
    mode_problem,
    name_problems,
    out_of_order,
    template_problem,
)
from ..storage.treediff import MAX_DEPTH, Changes, RawEntry
from ..storage.trees import TREE_MODE
from .context import Context

__all__ = ["check_trees"]


def _in_fanout(folder: str) -> bool:
    """Whether the entries of `folder` are the sessions fan-out, where only folders belong."""
    return folder == SESSIONS_DIR or (
        folder.startswith(SESSIONS_DIR + "/") and folder.count("/") <= FANOUT_LEVELS
    )


def _shape_problem(folder: str, name: bytes, mode: int) -> str | None:
    """Why an entry is a file where the layout wants a folder, or the other way round."""
    what = describe_mode(mode)
    if folder == "" and name in (SESSIONS_DIR.encode(), TEMPLATES_DIR.encode()):
        if mode != TREE_MODE:
            return f"{what} where the {name.decode()}/ folder is expected"
    elif folder == "" and name in (STORE_FILE.encode(), SETTINGS_FILE.encode()):
        if mode == TREE_MODE:
            return f"a folder where the file {name.decode()} is expected"
    elif _in_fanout(folder) and mode != TREE_MODE:
        level = "a session folder" if folder.count("/") == FANOUT_LEVELS else "a fan-out folder"
        return f"{what} where {level} of {SESSIONS_DIR}/ is expected"
    return None


def check_trees(ctx: Context, commit: CommitInfo, changes: Changes) -> None:
    """Every entry the commit adds or changes: its mode, name and place, the objects it
    names; and every tree it rewrites: no name twice, git's order."""
    for path, _, problem in changes.missing:
        ctx.find("history.missing-object", commit, path, problem)
    for path in changes.too_deep:
        ctx.find(
            "tree.shape",
            commit,
            path,
            f"folders nested more than {MAX_DEPTH} deep, deeper than any store's layout; not walked",
        )
    for folder, old_entries, new_entries in changes.trees:
        _check_tree(ctx, commit, folder, old_entries, new_entries)


def _check_tree(
    ctx: Context,
    commit: CommitInfo,
    folder: str,
    old: Sequence[RawEntry],
    new: Sequence[RawEntry],
) -> None:
    def where(name: bytes) -> str:
        return f"{folder}/{display_name(name)}" if folder else display_name(name)

    twice = duplicate_names([name for name, _, _ in new])
    twice_before = set(duplicate_names([name for name, _, _ in old])) if twice else set()
    for name in twice:
        if name not in twice_before:
            ctx.find("tree.name", commit, where(name), "two entries of one tree have this name")
    unsorted = out_of_order([(name, mode) for name, mode, _ in new])
    if unsorted is not None and out_of_order([(name, mode) for name, mode, _ in old]) is None:
        ctx.find("tree.shape", commit, where(unsorted), "the tree's entries are not in git's order")
    known = set(old)
    for name, mode, sha in new:
        if (name, mode, sha) in known:
            continue  # judged when it came in
        found = [("tree.name", problem) for problem in name_problems(name)]
        found += [
            (rule, problem)
            for rule, problem in (
                ("tree.mode", mode_problem(mode)),
                ("tree.shape", _shape_problem(folder, name, mode)),
                (
                    "templates.invalid",
                    template_problem(name, mode) if folder == TEMPLATES_DIR else None,
                ),
            )
            if problem is not None
        ]
        for rule, problem in found:
            ctx.find(rule, commit, where(name), problem)
