"""Publishing and syncing: push `main`, fetch what others published, combine the two.

A remote is a path, a URL or a remote name (`remote_url`, which also hides credentials),
reached through `transport`. Nothing a remote sends is trusted: it is fetched into a
`quarantine`, every object is checked as git's fsck would and against the store's tree
rules (`objectcheck`, `treecheck`), its `main` must be a gitflywheel store sharing our
history, and whatever would become our `main` must keep verify's rules in every commit
it brings. Only then do the objects enter the store and `main` move. A remote that holds
something else (someone's project, another store) is never pushed to.

Combining is by session folder: a session that only one side recorded or changed since
the two histories parted is taken from that side; a session both sides changed
differently is a conflict, and nothing moves. The store's settings combine key by key
(`session.settings.merge_settings`): a key one side changed takes that side's value, a
key of several values both changed takes what each added and drops what each removed,
and a single value both set differently is a conflict naming the key, as a session is:
guessing which of two writers is right would lose the other's change unseen.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import EXIT_BAD_INPUT, ConflictError, InputError, RemoteError, StoreError
from ..jsontext import JSONTextError
from ..publishing.site_branch import site_branches
from ..queries.settings import settings_at
from ..session.manifest import Manifest
from ..session.settings import SettingsConflict, StoreSettings, dumps_settings, merge_settings
from ..storage.ancestry import ancestors, is_ancestor, merge_bases
from ..storage.commits import commit_time, committer_identity, merge_message
from ..storage.gitdir import VERIFIED_REF
from ..storage.layout import MANIFEST_FILE, RECORD_FILE, SETTINGS_FILE, STORE_FILE
from ..storage.objectcheck import check_objects
from ..storage.objectsize import MAX_OBJECT_BYTES
from ..storage.quarantine import Quarantine
from ..storage.remote_url import RemoteLocation, resolve_remote
from ..storage.store import MAIN, Store
from ..storage.transport import Link, RemoteMoved
from ..storage.treediff import diff_sessions
from ..storage.trees import FILE_MODE
from ..storage.writing import Writer
from ..verification import Finding, verify
from ..verification.folder import CleanFolders
from ..verification.history import adopt_verified
from ..verification.index import VerifyState

__all__ = ["DEFAULT_TIMEOUT", "PublishResult", "SyncResult", "RemoteNotAStore", "publish", "sync"]

_LISTED = 5


class RemoteNotAStore(RemoteError):
    """The remote holds something that is not this store's history: refused as bad usage."""

    exit_code = EXIT_BAD_INPUT


@dataclass(frozen=True)
class PublishResult:
    remote: str  # the remote's name, or its URL without credentials
    url: str  # its URL without credentials
    main: str | None
    before: str | None
    pushed: bool
    site_branches: tuple[str, ...] = ()  # site branches pushed with main (`site --branch`)
    dry_run: bool = False  # nothing was pushed: `pushed` and `site_branches` say what would be
    rebuilt: tuple[str, ...] = ()  # site branches built again from main before the push
    remembered: str | None = None  # the name the remote's URL was recorded under
    notes: tuple[str, ...] = ()  # e.g. why the URL was not recorded
    auto: bool | None = None  # whether the store publishes by itself after each session


@dataclass
class SyncResult:
    remote: str  # the remote's name, or its URL without credentials
    url: str  # its URL without credentials
    action: str  # up-to-date | pushed | fast-forward | merged
    main: str | None
    remote_before: str | None
    taken: list[str] = field(default_factory=list)
    pushed: bool = False
    dry_run: bool = False  # nothing changed here or there: the rest says what would
    attempts: int = 1  # cycles run: more than one when pushes lost races


def _named(location: RemoteLocation) -> tuple[str, str]:
    return location.name or location.redacted_url, location.redacted_url


def _listing(items: list[str]) -> str:
    more = f"; and {len(items) - _LISTED} more" if len(items) > _LISTED else ""
    return "; ".join(items[:_LISTED]) + more


def _refuse_foreign(link: Link, refs: dict[bytes, bytes]) -> None:
    """A remote with branches or tags but no `main` is someone's project, not a store."""
    others = sorted(r.decode("utf-8", "replace") for r in refs if r != b"HEAD")
    if others:
        raise RemoteNotAStore(
            link.explain(
                f"a git repository with {_listing(others)} but no main: not a gitflywheel "
                "store, so nothing was pushed there"
            )
        )


def _check_history(view: Store, link: Link, theirs: bytes, ours: bytes | None) -> None:
    """Their `main` must be a gitflywheel store, and share its first commits with ours."""
    if view.lookup(view.commit(theirs).tree, STORE_FILE) is None:
        raise RemoteNotAStore(
            link.explain(
                f"its main is not a gitflywheel store (it has no {STORE_FILE}); "
                "nothing was combined or pushed"
            )
        )
    if ours is not None and not merge_bases(view, ours, theirs):
        raise RemoteNotAStore(
            link.explain(
                "its main shares no history with this store (another store, or another "
                "project); nothing was combined or pushed"
            )
        )


def _check_objects(view: Store, link: Link, new: list[bytes]) -> None:
    problems = check_objects(view, new)
    if problems:
        raise RemoteError(
            link.explain(
                f"it sent objects this store refuses ({len(problems)} problem(s)), so nothing "
                "was taken: " + _listing([str(p) for p in problems])
            )
        )


def publish(store: Store, remote: str | None = None, *, dry_run: bool = False) -> PublishResult:
    """Push `main`; refused (RemoteError) when the remote has sessions we do not, and
    (RemoteNotAStore) when it holds something other than this store's history. With
    `dry_run`, everything is checked as for a push, the push is left out, and the result
    says what it would have pushed."""
    location = resolve_remote(store, remote)
    name, url = _named(location)
    with store.lock():
        tip = store.tip()
        if tip is None:
            raise RemoteError(f"{store.path}: nothing to publish yet")
        link = Link(store, location)
        refs = link.refs()
        theirs = refs.get(MAIN)
        # A site branch is derived from main: whatever the remote's copy holds is replaced.
        sites = {ref: sha for ref, sha in site_branches(store).items() if refs.get(ref) != sha}
        branches = tuple(sorted(r.decode("utf-8", "replace")[len("refs/heads/") :] for r in sites))
        if theirs == tip and not sites:
            return PublishResult(name, url, tip.decode(), tip.decode(), False)
        if theirs is None:
            _refuse_foreign(link, refs)
        elif theirs != tip and (theirs not in store or not is_ancestor(store, theirs, tip)):
            _explain_behind(store, link, theirs, tip)
        if not dry_run:
            link.push_main(theirs, tip, sites)
        return PublishResult(
            name, url, tip.decode(), theirs.decode() if theirs else None, True, branches, dry_run
        )


def _explain_behind(store: Store, link: Link, theirs: bytes, tip: bytes) -> None:
    """Their `main` has commits we lack: say whether `sync` can help, then refuse."""
    with Quarantine(store) as quarantine:
        if theirs not in store:
            theirs = link.fetch_main(quarantine).get(MAIN, theirs)
            _check_objects(quarantine.view, link, list(quarantine.new_objects()))
        _check_history(quarantine.view, link, theirs, tip)
    raise RemoteError(
        link.explain("main there has commits that are not here; run `gitflywheel sync` first")
    )


DEFAULT_TIMEOUT = 60.0  # seconds `sync` keeps trying to land its push
_FIRST_WAIT, _LONGEST_WAIT = 0.05, 2.0  # the back-off between attempts, before jitter


def sync(
    store: Store,
    remote: str | None = None,
    max_object_bytes: int = MAX_OBJECT_BYTES,
    *,
    dry_run: bool = False,
    progress: Callable[[int, int | None], None] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> SyncResult:
    """Fetch the remote's `main`, check it, combine it with ours, push the result back.
    An object over `max_object_bytes` (by its header, before it is inflated) refuses it.
    `progress(done, total)` follows the check of the commits it brings. With `dry_run`,
    what it fetches is checked and combined in the quarantine and then dropped: nothing
    enters the store, `main` stays, nothing is pushed, and the result says what would.

    When the push loses a race (another writer's push landed after our fetch), the whole
    cycle runs again after a jittered, growing pause, until the push lands or `timeout`
    seconds have passed (then RemoteError; nothing was lost here). Each attempt holds the
    store's writer lock from its fetch to its landing, and the pause between attempts
    does not: an ingest here may run meanwhile, and the next attempt combines our `main`
    as it is then with the newest fetched tip. The merge of a lost attempt is dropped,
    never built upon, and nothing moves here before the push has landed. Objects fetched
    and checked by an earlier attempt are neither fetched nor checked again."""
    location = resolve_remote(store, remote)
    deadline = time.monotonic() + max(0.0, timeout)
    link = Link(store, location)
    quarantine: Quarantine | None = None
    try:
        for attempt in itertools.count(1):
            with store.writing() as writer:
                if quarantine is None:  # made under the lock: no cleanup can take it
                    quarantine = Quarantine(store, max_object_bytes)
                    cycle = _Cycle(store, quarantine, link, location)
                try:
                    result = cycle.run(writer, dry_run, progress)
                except RemoteMoved as exc:
                    wait = min(_LONGEST_WAIT, _FIRST_WAIT * 2 ** (attempt - 1))
                    wait *= random.uniform(0.5, 1.5)  # writers that lost together retry apart
                    if time.monotonic() + wait > deadline:
                        raise RemoteError(
                            f"{exc} (tried {attempt} time(s) in {timeout:g} s; nothing was "
                            "lost here, and the next `gitflywheel sync` tries again)"
                        ) from None
                else:
                    result.attempts = attempt
                    return result
            time.sleep(wait)  # the writer lock is free meanwhile
    finally:
        if quarantine is not None:
            quarantine.discard()
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


class _Cycle:
    """One sync's fetch, check, combine and push, run again while pushes lose races."""

    def __init__(
        self, store: Store, quarantine: Quarantine, link: Link, location: RemoteLocation
    ) -> None:
        self.store, self.quarantine = store, quarantine
        self.link, self.location = link, location
        self.checked: set[bytes] = set()  # objects fetched and checked by this run
        self.clean = CleanFolders()  # session folders verify found clean in this run

    def run(
        self,
        writer: Writer,
        dry_run: bool,
        progress: Callable[[int, int | None], None] | None,
    ) -> SyncResult:
        """One attempt, under the store's writer lock, which `writer` holds."""
        store, quarantine, link = self.store, self.quarantine, self.link
        name, url = _named(self.location)
        ours = writer.main  # ours stays put: the store's lock is held for the whole attempt
        refs = link.fetch_main(quarantine)
        theirs = refs.get(MAIN)
        result = SyncResult(
            name,
            url,
            "up-to-date",
            ours.decode() if ours else None,
            theirs.decode() if theirs else None,
            dry_run=dry_run,
        )
        if theirs is None:
            _refuse_foreign(link, refs)
            if ours is not None:
                if not dry_run:
                    link.push_main(None, ours)
                result.action, result.pushed = "pushed", True
            return result
        quarantine.remember_fetched(theirs)
        if theirs == ours:
            return result
        if ours is not None and theirs in store and is_ancestor(store, theirs, ours):
            if not dry_run:
                link.push_main(theirs, ours)
            result.action, result.pushed = "pushed", True
            return result

        view = quarantine.view
        self._check_fetched(theirs, ours)
        held = quarantine.held()
        # The candidate becomes the quarantine's main (a merge's objects are written there),
        # where verify judges it before anything enters the store.
        with quarantine.writing() as incoming:
            if ours is None or is_ancestor(view, ours, theirs):
                candidate = theirs
                result.action = "fast-forward"
            else:
                candidate, result.taken = _combine(incoming, ours, theirs, self.location)
                result.action = "merged"
            incoming.flush(candidate)
        verified_before = store.read_ref(VERIFIED_REF)
        findings = _verify_incoming(store, quarantine, ours, candidate, progress, self.clean)
        if findings:
            raise RemoteError(
                link.explain(
                    f"its main brings {len(findings)} violation(s) of the store's rules, so "
                    "nothing was taken: " + _listing([str(f) for f in findings])
                )
            )
        result.main = candidate.decode()
        if dry_run:
            result.pushed = result.action == "merged"
            return result  # the quarantine, merge and all, is dropped
        if result.action == "merged":
            try:
                link.push_main(theirs, candidate, objects_from=view)
            except RemoteMoved:
                quarantine.drop_since(held, ours)  # the next attempt merges anew
                raise
            except RemoteError as exc:
                self._land(writer, candidate)
                raise RemoteError(
                    f"{exc}; the merge is recorded here (main {candidate.decode()[:12]}), "
                    "and `gitflywheel sync` pushes it once the remote takes it"
                ) from None
            result.pushed = True
        self._land(writer, candidate)
        # The candidate was verified in the quarantine: the next sync (or verify) starts there.
        adopt_verified(store, view, verified_before)
        return result

    def _check_fetched(self, theirs: bytes, ours: bytes | None) -> None:
        """The one place where fetched history is checked before anything is combined:
        every object not checked yet in this run, and their `main` as a store sharing our
        history. (verify's rules, signatures included, are judged on the candidate,
        `_verify_incoming`.)"""
        view, link = self.quarantine.view, self.link
        new = [sha for sha in self.quarantine.new_objects() if sha not in self.checked]
        _check_objects(view, link, new)
        self.checked.update(new)
        _check_history(view, link, theirs, ours)

    def _land(self, writer: Writer, candidate: bytes) -> None:
        """Admit the checked objects and move our `main` to the candidate."""
        self.quarantine.admit()
        writer.flush(candidate)


def _verify_incoming(
    store: Store,
    quarantine: Quarantine,
    ours: bytes | None,
    candidate: bytes,
    progress: Callable[[int, int | None], None] | None = None,
    clean: CleanFolders | None = None,
) -> list[Finding]:
    """verify's findings on the commits `candidate` (the quarantine's `main` now) would
    bring to our `main`, judged in the quarantine, from where the store's last
    verification left off."""
    view = quarantine.view
    verified = store.read_ref(VERIFIED_REF)
    state = VerifyState.load(store.path)
    if state is not None:
        if verified is not None:
            state.save_as(view.path)
            view.set_ref(VERIFIED_REF, verified)
        state.close()
    brought = ancestors(view, [candidate]) - (ancestors(view, [ours]) if ours else set())
    named = {sha.decode() for sha in brought}
    findings = verify(view, progress=progress, clean=clean).findings
    return [f for f in findings if f.commit in named]


def _combine(
    writer: Writer, ours: bytes, theirs: bytes, location: RemoteLocation
) -> tuple[bytes, list[str]]:
    """A merge commit, staged in `writer`, holding our tree plus every session folder
    only their side changed, and of those both sides changed, theirs where `_settle`
    keeps it (their revision over our re-render)."""
    store = writer.store
    bases = merge_bases(store, ours, theirs)
    base_tree = store.commit(bases[0]).tree if bases else None
    our_tree, their_tree = store.commit(ours).tree, store.commit(theirs).tree
    mine = diff_sessions(store, base_tree, our_tree).sessions
    incoming = diff_sessions(store, base_tree, their_tree).sessions
    both = sorted(
        path
        for path, (_, new) in incoming.items()
        if new is not None and path in mine and mine[path][1] != new
    )
    decided = {path: _settle(store, mine[path], incoming[path][1]) for path in both}
    conflicts = [path for path, keep in decided.items() if keep is None]
    if conflicts:
        listed = ", ".join(p.rsplit("/", 1)[-1] for p in conflicts[:10])
        raise ConflictError(
            f"{location.display}: {len(conflicts)} session(s) recorded differently here and there: {listed}; "
            "nothing was changed. Record the one you keep with `gitflywheel ingest --revise` on one side, then sync."
        )
    settings = _combined_settings(store, base_tree, our_tree, their_tree, location)
    editor = writer.edit(our_tree)
    taken = []
    for path, (_, new) in sorted(incoming.items()):
        if new is not None and (path not in mine or decided.get(path) == "theirs"):
            editor.set_tree(path, new)
            taken.append(path.rsplit("/", 1)[-1])
    if settings is not None:
        editor.set(SETTINGS_FILE, FILE_MODE, writer.put_blob(dumps_settings(settings)))
    root = writer.write_tree(editor)
    commit = writer.commit(
        root,
        [ours, theirs],
        merge_message(location.name),
        committer_identity(),
        None,
        commit_time(),
    )
    return commit, taken


def _settle(
    store: Store, mine: tuple[bytes | None, bytes | None], theirs: bytes | None
) -> str | None:
    """Which side's folder of a session both sides changed since they parted (`mine`:
    its folder then and here now) the merge keeps: "ours" or "theirs", or None for a
    conflict. The same record at the same revision on both sides is the session rendered
    again (rerender, other templates or names): either rendering is the session's, and
    the merge keeps ours. A side that only rendered it again gives way to a side that
    recorded a later revision. Anything else (two revisions) is a conflict."""
    was, here, there = (_recorded(store, folder) for folder in (mine[0], mine[1], theirs))
    if here is None or there is None:
        return None
    if here == there:
        return "ours"
    if was is not None and there == was and here[1] > there[1]:
        return "ours"  # they rendered it again, we revised it
    if was is not None and here == was and there[1] > here[1]:
        return "theirs"  # we rendered it again, they revised it
    return None


def _recorded(store: Store, folder: bytes | None) -> tuple[bytes, int] | None:
    """A session folder's record blob and the revision its manifest gives, or None when
    either cannot be read: two folders alike in both hold the same session, rendered
    alike or not."""
    record = None if folder is None else store.lookup(folder, RECORD_FILE)
    manifest = None if folder is None else store.lookup(folder, MANIFEST_FILE)
    if record is None or manifest is None:
        return None
    try:
        return record[1], Manifest.from_bytes(store.blob(manifest[1])).revision
    except (KeyError, StoreError, ValueError, JSONTextError, UnicodeDecodeError):
        return None


def _combined_settings(
    store: Store,
    base_tree: bytes | None,
    our_tree: bytes,
    their_tree: bytes,
    location: RemoteLocation,
) -> StoreSettings | None:
    """The settings the merge holds, key by key, when they differ from ours (None: ours
    stand); ConflictError naming the key both sides set differently."""
    try:
        base, ours, theirs = (settings_at(store, t) for t in (base_tree, our_tree, their_tree))
    except InputError as exc:
        raise RemoteError(
            f"{location.display}: the settings cannot be combined, as {exc}; nothing was changed"
        ) from None
    try:
        merged = merge_settings(base, ours, theirs)
    except SettingsConflict as exc:
        raise ConflictError(
            f"{location.display}: the setting {exc.key} was changed differently here and there "
            f"({exc.reason}); nothing was changed. Set it with `gitflywheel config` on one side "
            "to the value you keep, then sync."
        ) from None
    return None if merged == ours else merged
