"""The store's settings as a tree of its history holds them (`gitflywheel.toml`, parsed by
`session.settings`): what ingest, the site and `config` read. Nothing here writes."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import StoreError
from ..session.settings import StoreSettings, parse_settings
from ..storage.layout import SETTINGS_FILE
from ..storage.store import Store
from ..storage.trees import TREE_MODE

__all__ = ["settings_at", "current_settings", "settings_blob"]


def settings_blob(
    store: Store,
    tree: bytes | None,
    lookup: Callable[[bytes, str], tuple[int, bytes] | None] | None = None,
) -> bytes | None:
    """The id of the settings file in a root tree, or None when it has none; StoreError
    when a folder has its name. `lookup` finds the path in the tree (default:
    `store.lookup`; verify's reads the entries its diff read already)."""
    if tree is None:
        return None
    found = (lookup or store.lookup)(tree, SETTINGS_FILE)
    if found is None:
        return None
    if found[0] == TREE_MODE:
        raise StoreError(f"{SETTINGS_FILE} in tree {tree.decode()[:12]}: a folder, not a file")
    return found[1]


def settings_at(store: Store, tree: bytes | None) -> StoreSettings:
    """The settings a root tree holds (None, or a tree without the file: the defaults).
    A file that does not parse or validate is an InputError naming the key and reason
    (verify reports such a commit as `settings.invalid`)."""
    blob = settings_blob(store, tree)
    if tree is None or blob is None:
        return StoreSettings()
    return parse_settings(store.blob(blob), f"{SETTINGS_FILE} in tree {tree.decode()[:12]}")


def current_settings(store: Store) -> StoreSettings:
    """The settings at the tip of `main` (the defaults for a store with no commit)."""
    tip = store.tip()
    return settings_at(store, store.commit(tip).tree if tip is not None else None)
