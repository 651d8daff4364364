"""The store's settings in the history: a commit that adds or changes `gitflywheel.toml`
writes valid settings in the one form gitflywheel writes; only a settings commit
(`gitflywheel config`) changes them, and its trailers say which key and how; a merge
holds what a three-way merge of its sides' settings with their common base gives (what
`sync` writes), whichever order its parents come in: a key one side changed takes that
side's value, a value one side added or removed is added or removed, and a key both set
differently is no merge's to choose. A store that never set anything has no file, and
nothing here applies."""

from __future__ import annotations

from ..errors import InputError, StoreError
from ..session.settings import (
    KEYS,
    SettingsConflict,
    StoreSettings,
    Value,
    dumps_settings,
    merge_settings,
    parse_settings,
)
from ..storage.ancestry import merge_bases
from ..storage.commits import CONFIG_CHANGE, CONFIG_CHANGES, CONFIG_KEY, ConfigTrailers
from ..storage.layout import SETTINGS_FILE
from ..storage.objects import CommitInfo
from ..storage.trees import TREE_MODE
from .context import Context
from .result import Finding
from .rules import RULES

__all__ = ["check_merged_settings", "check_settings", "check_settings_commit", "settings_in"]

Entry = tuple[int, bytes]


def _finding(rule: str, commit: CommitInfo, message: str, path: str = SETTINGS_FILE) -> Finding:
    assert rule in RULES, rule
    return Finding(rule, commit.id.decode(), path, message)


def _read(ctx: Context, entry: Entry | None) -> StoreSettings | str:
    """The settings a file entry holds (None: the defaults), or why they cannot be read."""
    if entry is None:
        return StoreSettings()
    if entry[0] == TREE_MODE:
        return "a folder, not a file"
    data = ctx.blob(entry[1])
    if data is None:
        return "its blob is not in the store"
    try:
        settings = parse_settings(data)
    except InputError as exc:
        return f"{exc.field}: {exc.reason}" if exc.field else exc.reason
    if dumps_settings(settings) != data:
        return (
            "valid settings, but not in the form gitflywheel writes (its header, sections in "
            "order, one value a line): the file was written by hand"
        )
    return settings


def settings_in(ctx: Context, entry: Entry | None) -> StoreSettings | None:
    """The settings a file entry holds (None: no file, the defaults), whatever its form,
    or None when they do not parse (`settings.invalid` says so where they were written)."""
    if entry is None:
        return StoreSettings()
    data = ctx.blob(entry[1]) if entry[0] != TREE_MODE else None
    if data is None:
        return None
    try:
        return parse_settings(data)
    except InputError:
        return None


def _at(ctx: Context, tree: bytes | None) -> StoreSettings | None:
    """The settings a root tree holds, or None when they cannot be read."""
    entry = ctx.lookup(tree, SETTINGS_FILE) if tree is not None else None
    found = _read(ctx, entry)
    return found if isinstance(found, StoreSettings) else None


def check_settings(
    ctx: Context,
    commit: CommitInfo,
    change: tuple[Entry | None, Entry | None],
    config: ConfigTrailers | None,
    *,
    is_root: bool,
    theirs: bytes | None,
) -> list[Finding]:
    """A commit that changes `gitflywheel.toml` (`change`: its old and new entries):
    what it writes, and whether this commit may write it. `theirs` is the tree a merge
    takes in (whose settings `check_merged_settings` judges), None for any other commit."""
    old_entry, new_entry = change
    if new_entry is None:
        return [
            _finding(
                "settings.change",
                commit,
                "removes the store's settings; unset keys with `gitflywheel config --unset`",
            )
        ]
    new = _read(ctx, new_entry)
    if isinstance(new, str):
        return [_finding("settings.invalid", commit, new)]
    if is_root:
        return []
    if theirs is not None:
        return []
    if config is None:
        return [
            _finding(
                "settings.change",
                commit,
                "changes the store's settings without saying so: only a settings commit "
                "(`gitflywheel config`, with Config-Key and Config-Change trailers) may",
            )
        ]
    old = _read(ctx, old_entry)
    if isinstance(old, str):
        return []  # reported where it was written; nothing to compare with
    return _trailers(commit, config, old, new)


def check_settings_commit(commit: CommitInfo, config: ConfigTrailers) -> list[Finding]:
    """A settings commit whose tree leaves the settings file as it was."""
    return [
        _finding(
            "commit.trailers",
            commit,
            f"says it changes the setting {config.key!r}, but {SETTINGS_FILE} does not change",
        )
    ]


def _trailers(
    commit: CommitInfo, config: ConfigTrailers, old: StoreSettings, new: StoreSettings
) -> list[Finding]:
    """The trailers of a settings commit agree with the one key it changes."""
    if config.key not in KEYS:
        return [
            _finding("commit.trailers", commit, f"{CONFIG_KEY} {config.key!r} is not a setting")
        ]
    if config.change not in CONFIG_CHANGES:
        return [
            _finding(
                "commit.trailers",
                commit,
                f"{CONFIG_CHANGE} {config.change!r} is none of {', '.join(CONFIG_CHANGES)}",
            )
        ]
    changed = [key for key in KEYS if old.get(key) != new.get(key)]
    if changed != [config.key]:
        what = ", ".join(changed) if changed else "no setting"
        return [
            _finding(
                "commit.trailers",
                commit,
                f"{CONFIG_KEY} says {config.key}, but the commit changes {what}",
            )
        ]
    before, after = old.get(config.key), new.get(config.key)
    if not _agrees(config.change, before, after):
        return [
            _finding(
                "commit.trailers",
                commit,
                f"{CONFIG_CHANGE} says {config.change}, but {config.key} goes from "
                f"{before!r} to {after!r}",
            )
        ]
    return []


def _agrees(change: str, before: Value, after: Value) -> bool:
    """Whether a key going from `before` to `after` is the change named."""
    if change == "set":
        return (
            after is not None and after != () and (not isinstance(after, tuple) or len(after) == 1)
        )
    if change == "add":
        return (
            isinstance(after, tuple)
            and isinstance(before, tuple)
            and after[:-1] == before
            and len(after) == len(before) + 1
        )
    if isinstance(after, tuple) and isinstance(before, tuple):  # unset: fewer values
        return len(after) < len(before) and set(after) <= set(before)
    return after is None


def check_merged_settings(
    ctx: Context, merge: CommitInfo, parents: tuple[CommitInfo, CommitInfo]
) -> list[Finding]:
    """A merge's settings against the three-way merge of its two sides' with their
    common base: the sides' own when they hold the same file. Nothing to judge when a
    side's settings cannot be read (reported where they were written); the base is
    looked for only when the sides differ, which few merges' do."""
    ours_tree, theirs_tree = parents[0].tree, parents[1].tree
    ours_entry = ctx.lookup(ours_tree, SETTINGS_FILE)
    same = ours_entry == ctx.lookup(theirs_tree, SETTINGS_FILE)
    if same and ctx.lookup(merge.tree, SETTINGS_FILE) == ours_entry:
        return []
    merged, ours, theirs = (_at(ctx, t) for t in (merge.tree, ours_tree, theirs_tree))
    if merged is None or ours is None or theirs is None:
        return []
    if same:
        expected = [ours]
    else:
        try:
            bases = merge_bases(ctx.store, parents[0].id, parents[1].id)
            base = _at(ctx, ctx.store.commit(bases[0]).tree) if bases else StoreSettings()
        except (KeyError, StoreError):
            return []  # a commit between them is missing: history.missing-object says so
        if base is None:
            return []
        try:
            expected = [merge_settings(base, ours, theirs), merge_settings(base, theirs, ours)]
        except SettingsConflict as exc:
            return [
                _finding(
                    "settings.change",
                    merge,
                    f"both sides changed {exc.key} since they forked ({exc.reason}): no merge "
                    "may choose one; set it with `gitflywheel config` on one side first",
                )
            ]
    return [
        _finding(
            "settings.change",
            merge,
            f"the merge holds {key} = {merged.get(key)!r}, but its sides' settings merged "
            f"with their common base give {expected[0].get(key)!r}",
        )
        for key in KEYS
        if all(merged.get(key) != e.get(key) for e in expected)
    ]
