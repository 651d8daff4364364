"""Creating and opening a store: a bare repository whose first commit records the templates.

Every command that writes opens the store here, so that a repository that is not a
store (someone's project, a work tree) is refused before anything is written to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import StoreError
from ..jsontext import dumps_pretty
from ..storage.commits import commit_time, committer_identity, setup_message
from ..storage.gitdir import OWN_REFS_PREFIX
from ..storage.layout import STORE_FILE, template_path
from ..storage.store import Store
from ..storage.trees import FILE_MODE

__all__ = [
    "InitResult",
    "init_store",
    "open_store",
    "check_store",
    "repository_problem",
    "store_templates_dir",
    "set_templates_dir",
    "TEMPLATES_CONFIG",
]

TEMPLATES_CONFIG = "gitflywheel.templates"
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
    value = store.config_get(TEMPLATES_CONFIG)
    return None if value is None else Path(value)


def init_store(path: Path, templates_dir: Path | None = None) -> InitResult:
    """Create the store with its first commit; on an existing store, change nothing."""
    if templates_dir is not None:
        from ..rendering.templates import load_templates  # Jinja2 only for a store's making

        load_templates(templates_dir)  # a folder that cannot be used is refused before any write
    with open_store(path, create=True, first_commit=False) as store:
        if templates_dir is not None:
            set_templates_dir(store, templates_dir)
        tip = store.tip()
        created = tip is None
        if tip is None:
            tip = _first_commit(store, templates_dir)
    return InitResult(path, created, tip.decode())


def repository_problem(store: Store, read_only: bool = False) -> str | None:
    """Why this git repository is not a store and cannot become one, or None.

    A store is a bare repository whose `main` starts with gitflywheel's first commit. An
    empty bare repository (no refs at all) may become one. Anything else is someone's
    project, and sessions must never land in it by a wrong `--repo`. To be `read_only`
    (queried, exported, verified), a clone of a store with its files checked out will
    do as well."""
    if not store.is_bare() and not read_only:
        return (
            "a git work tree (its files are checked out), not a gitflywheel store; "
            "a store is a bare repository: give --repo a new path"
        )
    tip = store.tip()
    if tip is not None:
        try:
            tree = store.commit(tip).tree
        except (KeyError, ValueError, StoreError) as exc:  # MalformedObject too
            if read_only:
                return None  # verify says so, naming the commit
            return (
                f"main points at {tip.decode()[:12]}, which cannot be read as a commit "
                f"({exc}): run `gitflywheel verify`"
            )
        if store.lookup(tree, STORE_FILE) is None:
            return f"a git repository, but not a gitflywheel store (main has no {STORE_FILE})"
        return None
    refs = sorted(
        ref.decode("utf-8", "replace")
        for ref in store.ref_names()
        if ref != b"HEAD" and not ref.startswith(OWN_REFS_PREFIX)
    )
    if refs:
        listed = ", ".join(refs[:5]) + (f" and {len(refs) - 5} more" if len(refs) > 5 else "")
        return f"a git repository with {listed} but no main: not a gitflywheel store"
    return None


def check_store(store: Store, path: Path | None = None, read_only: bool = False) -> None:
    """Refuse (exit 2) a git repository that is not a store and cannot become one (see
    `repository_problem`), named as `path` (default: its git directory); `open_store`
    and the API's functions check an open Store so."""
    problem = repository_problem(store, read_only)
    if problem is not None:
        raise StoreError(f"{store.path if path is None else path}: {problem}")


def open_store(
    path: Path, create: bool = False, first_commit: bool = True, *, read_only: bool = False
) -> Store:
    """Open a store, refusing any git repository that is not one (exit 2); every command
    and function of the API opens its store here.

    With `create`, a missing path, an empty folder or an empty bare repository becomes a
    store (HEAD on `main`) with its first commit, unless `first_commit` is false: a store
    that takes its whole history from a remote (`sync`) starts empty. What only reads the
    store (`read_only`) takes a clone of one with its files checked out too."""
    if create and (not path.exists() or (path.is_dir() and not any(path.iterdir()))):
        Store.create(path).close()
    store = Store.open(path)
    try:
        check_store(store, path, read_only)
    except StoreError:
        store.close()
        raise
    if create and store.tip() is None:
        store.point_head_at_main()  # git clone checks out HEAD
        if first_commit:
            _first_commit(store, None)
    return store


def set_templates_dir(store: Store, folder: Path) -> None:
    """Make `folder` the store's templates: ingest and rerender use them by default."""
    if not folder.is_dir():
        raise StoreError(f"{folder}: templates folder not found")
    store.config_set(TEMPLATES_CONFIG, str(folder.resolve()))


def _first_commit(store: Store, templates_dir: Path | None) -> bytes:
    from ..rendering.templates import load_templates

    with store.writing() as writer:
        if writer.main is not None:
            return writer.main
        editor = writer.edit(None)
        editor.set(STORE_FILE, FILE_MODE, writer.put_blob(dumps_pretty(STORE_DESCRIPTION).encode()))
        for name, data in load_templates(templates_dir).items():
            editor.set(template_path(name), FILE_MODE, writer.put_blob(data))
        root = writer.write_tree(editor)
        when = commit_time()
        commit = writer.commit(root, [], setup_message(), committer_identity(), None, when)
        writer.flush(commit)
        return commit
