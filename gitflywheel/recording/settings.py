"""Changing the store's settings (`gitflywheel config`): one commit per change, through
the store's writer, that rewrites `gitflywheel.toml` and nothing else, with trailers
that say which key changed and how (`storage.commits.config_message`). A change that
leaves the settings as they are makes no commit; a value that is not valid is refused
before anything is written."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..errors import InputError, StoreError
from ..queries.settings import settings_at
from ..session.settings import KEYS, StoreSettings, Value, dumps_settings
from ..storage.commits import commit_time, committer_identity, config_message
from ..storage.layout import SETTINGS_FILE
from ..storage.store import Store
from ..storage.trees import FILE_MODE

__all__ = ["Change", "ConfigChange", "change_setting", "new_value"]

Change = Literal["set", "add", "unset"]
_ORIGIN = "config"


@dataclass(frozen=True)
class ConfigChange:
    """What `config` did to one key: its value after the change, and the commit made
    (None when the value was already so)."""

    key: str
    change: str  # set | add | unset
    value: Value
    commit: str | None
    main: str


def _spec_for(key: str) -> None:
    if key not in KEYS:
        raise InputError(_ORIGIN, key, "not a setting (" + ", ".join(KEYS) + ")")


def new_value(settings: StoreSettings, key: str, value: str | None, change: Change) -> Value:
    """The key's value once `change` is made to `settings` (not yet validated); an
    InputError naming the key when the change makes no sense for it."""
    _spec_for(key)
    multi = KEYS[key].multi
    current = settings.get(key)
    if change == "unset":
        if value is None:
            return () if multi else None
        if not multi:
            raise InputError(_ORIGIN, key, "holds one value: --unset it without a VALUE")
        return tuple(v for v in current or () if v != value)
    if value is None:
        what = "--add" if change == "add" else "setting it"
        raise InputError(_ORIGIN, key, f"{what} needs a VALUE")
    if change == "add":
        if not multi:
            raise InputError(_ORIGIN, key, "holds one value: set it without --add")
        values = tuple(current or ())
        return values if value in values else (*values, value)
    if multi:
        values = tuple(current or ())
        if len(values) > 1 and values != (value,):
            raise InputError(
                _ORIGIN,
                key,
                f"holds {len(values)} values: --add another, or --unset {key} first",
            )
        return (value,)
    return value


def change_setting(store: Store, key: str, value: str | None, change: Change) -> ConfigChange:
    """Make one change to the settings on `main`: one commit when the value changes, none
    when it is already so. InputError (exit 2) for an unknown key or a value that is not
    valid, and then nothing is written."""
    _spec_for(key)
    with store.writing() as writer:
        tip = writer.main
        if tip is None:
            raise StoreError(f"{store.path}: the store has no commit yet; run `gitflywheel init`")
        tree = store.commit(tip).tree
        before = settings_at(store, tree)
        after = before.replaced(key, new_value(before, key, value, change), _ORIGIN)
        if after == before:
            return ConfigChange(key, change, before.get(key), None, tip.decode())
        editor = writer.edit(tree)
        editor.set(SETTINGS_FILE, FILE_MODE, writer.put_blob(dumps_settings(after)))
        root = writer.write_tree(editor)
        commit = writer.commit(
            root, [tip], config_message(key, change), committer_identity(), None, commit_time()
        )
        writer.flush(commit)
    return ConfigChange(key, change, after.get(key), commit.decode(), commit.decode())
