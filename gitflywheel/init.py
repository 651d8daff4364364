"""Creating a store: a bare repository whose first commit records the templates."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dulwich.objects import Blob

from .commits import commit_time, committer_identity, make_commit, setup_message
from .errors import StoreError
from .jsontext import dumps_pretty
from .layout import STORE_FILE, template_path
from .rendering import load_templates
from .store import Store
from .trees import FILE_MODE, TreeEditor

__all__ = [
    "InitResult",
    "init_store",
    "open_store",
    "store_templates_dir",
    "set_templates_dir",
    "TEMPLATES_CONFIG",
]

TEMPLATES_CONFIG = (b"gitflywheel", b"templates")
STORE_DESCRIPTION = {
    "format": 1,
    "layout": "sessions/<a>/<b>/<c>/<d>/<id>/ where abcd = the first hex digits of sha256(id)",
    "files": ["session.json", "facts.json", "manifest.json", "<kind>.md", "screenshots/"],
    "about": "A gitflywheel store: one commit per work session; see `gitflywheel --help`.",
}


@dataclass(frozen=True)
class InitResult:
    path: Path
    created: bool
    main: str


def store_templates_dir(store: Store) -> Path | None:
    """The templates folder set once for this store (`init --templates`), if any."""
    try:
        value = store.repo.get_config().get(TEMPLATES_CONFIG[0], TEMPLATES_CONFIG[1])
    except KeyError:
        return None
    return Path(os.fsdecode(value))


def init_store(path: Path, templates_dir: Path | None = None) -> InitResult:
    """Create the store with its first commit; on an existing store, change nothing."""
    if templates_dir is not None:
        load_templates(templates_dir)  # a folder that cannot be used is refused before any write
    if path.exists() and any(path.iterdir()):
        with Store.open(path) as store:
            if templates_dir is not None:
                set_templates_dir(store, templates_dir)
            tip = store.tip()
            if tip is None:
                tip = _first_commit(store, templates_dir)
            return InitResult(path, False, tip.decode())
    store = Store.create(path)
    with store:
        if templates_dir is not None:
            set_templates_dir(store, templates_dir)
        tip = _first_commit(store, templates_dir)
    return InitResult(path, True, tip.decode())


def open_store(path: Path, create: bool = False) -> Store:
    """Open a store to write to; with `create`, make it first when it does not exist.

    A git repository whose `main` was not made by gitflywheel is refused, so sessions
    never land in someone's project by a wrong `--repo`."""
    if create and (not path.exists() or not any(path.iterdir())):
        init_store(path)
    store = Store.open(path)
    tip = store.tip()
    if tip is None:
        store.close()
        init_store(path)
        store = Store.open(path)
    elif store.lookup(store.commit(tip).tree, STORE_FILE) is None:
        store.close()
        raise StoreError(
            f"{path}: a git repository, but not a gitflywheel store (main has no {STORE_FILE})"
        )
    return store


def set_templates_dir(store: Store, folder: Path) -> None:
    """Make `folder` the store's templates: ingest and rerender use them by default."""
    if not folder.is_dir():
        raise StoreError(f"{folder}: templates folder not found")
    config = store.repo.get_config()
    config.set(TEMPLATES_CONFIG[0], TEMPLATES_CONFIG[1], str(folder.resolve()).encode())
    config.write_to_path()


def _first_commit(store: Store, templates_dir: Path | None) -> bytes:
    with store.lock():
        tip = store.tip()
        if tip is not None:
            return tip
        editor = TreeEditor(store.tree, None)
        blobs = [Blob.from_string(dumps_pretty(STORE_DESCRIPTION).encode())]
        editor.set(STORE_FILE, FILE_MODE, blobs[0].id)
        for name, data in load_templates(templates_dir).items():
            blob = Blob.from_string(data)
            blobs.append(blob)
            editor.set(template_path(name), FILE_MODE, blob.id)
        root, trees = editor.write()
        when = commit_time()
        commit = make_commit(root, [], setup_message(), committer_identity(), None, when)
        store.write_objects([*blobs, *trees, commit])
        store.move_main(None, commit.id)
        return commit.id
