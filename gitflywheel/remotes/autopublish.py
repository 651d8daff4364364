"""Publishing that remembers and stays current: the remote a store publishes to, its
site branches built again from `main` before each push, and publishing by itself.

`publish URL` records the URL in the store's git config as a remote (`origin` unless
named otherwise), once the push went well, so that `publish` and `sync` without a
remote use it. A name is never changed behind the user's back: a URL other than the one
`origin` holds is pushed to and not recorded (a note says so), and `--name` or `--auto`
naming a remote that holds another URL is refused before anything is pushed
(`git remote set-url` changes it). The URL may carry credentials, so it
lives in the git config of this machine, never in the store's tree.

`publish --auto` records the remote's name as `gitflywheel.autopublish` in the same
config: after each run of the push hook that records a session, the run builds the site
branches again and publishes (`publish_after_recording`). A site branch is built from
`main` with the store's settings (`site.base_url`, `site.title`, feeds when there is an
address) and the shipped page templates whenever its `Built-From` is not `main`'s tip;
a store with a `site.base_url` and no site branch gets `pages`.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace

from ..errors import GitflywheelError, InputError
from ..publishing.site import make_site
from ..publishing.site_branch import BUILT_FROM, site_branches
from ..queries.settings import current_settings
from ..storage.commits import parse_trailers
from ..storage.remote_url import DEFAULT_REMOTE, RemoteLocation, redact_url, resolve_remote
from ..storage.store import Store
from .sync import PublishResult, publish

__all__ = [
    "AUTO_CONFIG",
    "auto_remote",
    "set_auto",
    "rebuild_sites",
    "publish_current",
    "publish_after_recording",
]

AUTO_CONFIG = "gitflywheel.autopublish"  # the remote the hook's run publishes to
FEED_FILE = "feed.xml"  # a site built with feeds holds it at its top
SITE_BRANCH = "pages"  # the site branch publish makes for a store with a site.base_url
_REMOTE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_SCP = re.compile(r"^[^/]*:")


def auto_remote(store: Store) -> str | None:
    """The remote the store publishes to by itself after each recorded session, or None."""
    return store.config_get(AUTO_CONFIG) or None


def set_auto(store: Store, remote: str | None) -> None:
    """Publish to `remote` (a name in the store's git config) after each recorded
    session; None turns it off."""
    if remote is None:
        store.config_unset(AUTO_CONFIG)
    else:
        store.config_set(AUTO_CONFIG, remote)


def _remembered_url(location: RemoteLocation) -> str:
    """The URL as the config keeps it: a path on disk made absolute, since the store's
    commands (and the hook's run, from `/`) start anywhere."""
    url = location.url
    if _SCHEME.match(url) or (_SCP.match(url) and not os.path.exists(url)):
        return url
    return os.path.abspath(url)


def _to_remember(
    store: Store, location: RemoteLocation, name: str | None, auto: bool | None
) -> tuple[str | None, str | None]:
    """The name a URL given to `publish` is to be recorded under, or None with why not:
    given by name (nothing to record), or, unnamed, another URL is `origin` already (it
    is pushed to all the same). InputError when `name` (or `auto`, which needs one)
    asks for a name that holds another URL: nothing is changed behind the user's back."""
    if location.name is not None:
        if name is not None and name != location.name:
            raise GitflywheelError(
                f"--name {name}: {location.name} is a remote's name already; give a URL to "
                "record under another name"
            )
        return None, None
    chosen = name or DEFAULT_REMOTE
    if not _REMOTE_NAME.fullmatch(chosen) or chosen.endswith((".", ".lock")) or ".." in chosen:
        raise InputError("--name", "", f"{chosen!r}: not a remote name (letters, digits, . _ -)")
    held = store.config_get(f"remote.{chosen}.url")
    if held is None or held == _remembered_url(location):
        return chosen, None
    why = (
        f"{chosen} is {redact_url(held)} already, not {location.redacted_url}: give --name "
        f"NAME to record this one under another name, or change it with "
        f"`git -C {store.path} remote set-url {chosen} URL`"
    )
    if name is not None or auto:
        raise InputError(
            f"{store.path}/config", f"remote.{chosen}.url", why + "; nothing was pushed"
        )
    return None, f"not recorded as a remote: {why}"


def _built_from(store: Store, tip: bytes) -> str | None:
    return parse_trailers(store.commit(tip).message).get(BUILT_FROM)


def rebuild_sites(store: Store) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Build every site branch again from `main` when it was built from another commit
    (the store's site.base_url and site.title, feeds when there is an address), or, in
    a store with a site.base_url and no site branch yet, build `pages`: the branches
    that got a new commit, and notes on those left as they were (a site with
    feeds, once built with `--base-url`, when the store has no site.base_url: built
    without its address it would lose them)."""
    tip = store.tip()
    if tip is None:
        return (), ()
    shared = current_settings(store).site
    branches = site_branches(store)
    stale: list[tuple[str, bytes | None]] = [
        (ref.decode("utf-8", "replace").removeprefix("refs/heads/"), head)
        for ref, head in sorted(branches.items())
        if _built_from(store, head) != tip.decode()
    ]
    if not branches and shared.base_url is not None:
        stale = [(SITE_BRANCH, None)]  # a store with an address has a site: `pages`
    if not stale:
        return (), ()
    made, notes = [], []
    for branch, head in stale:
        has_feeds = head is not None and store.lookup(store.commit(head).tree, FEED_FILE)
        if shared.base_url is None and has_feeds:
            notes.append(
                f"site branch {branch} was not built again (it has feeds, which need the "
                "site's address): `gitflywheel config site.base_url URL` once, and publish "
                "builds it from then on"
            )
            continue
        result = make_site(
            store,
            None,
            base_url=shared.base_url,
            branch=branch,
            title=shared.title or "Work sessions",
            feeds=shared.base_url is not None,
        )
        if result.branch_changed:
            made.append(branch)
    return tuple(made), tuple(notes)


def publish_current(
    store: Store,
    remote: str | None = None,
    *,
    name: str | None = None,
    auto: bool | None = None,
    dry_run: bool = False,
) -> PublishResult:
    """Build stale site branches again, push `main` and them, and, once the push went
    well, record a URL given as a remote (`name`, default origin) and, with `auto`,
    publish to it by itself after each recorded session (False: no longer, which holds
    even when this push fails). With `dry_run`, the remote is asked and checked as for
    a push and nothing changes: no site branch is built, nothing pushed or recorded."""
    if remote is None and name is not None:
        remote = name  # `publish --name NAME`: the remote recorded under that name
        name = None
    location = resolve_remote(store, remote)
    record_as, note = _to_remember(store, location, name, auto)
    if dry_run:
        return replace(
            publish(store, remote, dry_run=True),
            notes=(note,) if note else (),
            auto=auto_remote(store) is not None,
        )
    if auto is False:
        set_auto(store, None)  # off first: a remote out of reach now must not keep it on
    rebuilt, site_notes = rebuild_sites(store)
    result = publish(store, remote)
    if record_as is not None:
        store.config_set(f"remote.{record_as}.url", _remembered_url(location))
    if auto:
        set_auto(store, record_as or location.name or DEFAULT_REMOTE)
    return replace(
        result,
        rebuilt=rebuilt,
        remembered=record_as,
        notes=(*site_notes, *((note,) if note else ())),
        auto=auto_remote(store) is not None,
    )


def publish_after_recording(store: Store) -> PublishResult | None:
    """What the hook's run does once it recorded a session: publish to the remote
    `publish --auto` named (site branches built again first); None when it is off.
    Failures raise, for the run to log."""
    remote = auto_remote(store)
    if remote is None:
        return None
    rebuilt, notes = rebuild_sites(store)
    return replace(publish(store, remote), rebuilt=rebuilt, notes=notes, auto=True)
