"""Publishing and syncing: push `main`, fetch what others published, combine the two.

Remotes are anything dulwich's client speaks (a path, file://, git://, ssh://,
http(s)://) or a remote name from the store's git config (`remote.<name>.url`).
Combining is by session folder: a session that only one side recorded or changed
since the two histories parted is taken from that side; a session both sides changed
differently is a conflict, and nothing moves.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from dulwich.client import get_transport_and_path
from dulwich.errors import GitProtocolError, HangupException
from dulwich.graph import find_merge_base
from dulwich.objects import ObjectID

from .commits import commit_time, committer_identity, make_commit, merge_message
from .errors import ConflictError, RemoteError
from .store import MAIN, Store
from .treediff import diff_sessions
from .trees import TreeEditor

__all__ = ["PublishResult", "SyncResult", "publish", "sync", "remote_url"]

DEFAULT_REMOTE = "origin"


@dataclass(frozen=True)
class PublishResult:
    remote: str
    main: str | None
    before: str | None
    pushed: bool


@dataclass
class SyncResult:
    remote: str
    action: str  # up-to-date | pushed | fast-forward | merged
    main: str | None
    remote_before: str | None
    taken: list[str] = field(default_factory=list)
    pushed: bool = False


def remote_url(store: Store, remote: str | None) -> str:
    """A URL or path as given, or the URL of a named remote in the store's config."""
    name = remote or DEFAULT_REMOTE
    config = store.repo.get_config()
    try:
        return os.fsdecode(config.get((b"remote", name.encode()), b"url"))
    except KeyError:
        pass
    if remote is None:
        raise RemoteError(
            f"no remote given and no remote named {DEFAULT_REMOTE!r} in {store.path}/config"
        )
    if (
        "://" in remote
        or os.path.exists(remote)
        or remote.startswith(("/", ".", "~"))
        or ":" in remote
    ):
        return remote
    raise RemoteError(f"{remote}: neither a URL, a path, nor a remote named in {store.path}/config")


def _client(store: Store, url: str) -> tuple[Any, str]:
    try:
        return get_transport_and_path(url, config=store.repo.get_config_stack())
    except ValueError as exc:
        raise RemoteError(f"{url}: {exc}") from None


def _remote_main(store: Store, url: str) -> bytes | None:
    """Fetch `main` from the remote into the store's objects; return its commit id."""
    client, path = _client(store, url)

    def wants(refs: dict[bytes, bytes], depth: int | None = None) -> list[bytes]:
        sha = refs.get(MAIN)
        return [sha] if sha is not None and sha not in store else []

    try:
        result = client.fetch(path, store.repo, determine_wants=wants)
    except (GitProtocolError, HangupException, OSError) as exc:
        raise RemoteError(f"{url}: cannot fetch: {exc}") from None
    found = result.refs.get(MAIN)
    return bytes(found) if found is not None else None


def _push(store: Store, url: str, expected: bytes | None, new: bytes) -> None:
    """Move the remote's `main` from `expected` to `new`, or fail without change."""
    client, path = _client(store, url)

    def update_refs(refs: dict[bytes, bytes]) -> dict[bytes, bytes]:
        current = refs.get(MAIN)
        if current != expected and current != new:
            raise RemoteError(f"{url}: main moved while we worked; run `gitflywheel sync` again")
        updated = dict(refs)
        updated[MAIN] = new
        return updated

    try:
        result = client.send_pack(
            path, update_refs, generate_pack_data=store.repo.generate_pack_data
        )
    except RemoteError:
        raise
    except (GitProtocolError, HangupException, OSError) as exc:
        raise RemoteError(f"{url}: push refused: {exc}") from None
    status = (result.ref_status or {}).get(MAIN)
    if status is not None:
        raise RemoteError(f"{url}: push of main refused: {status}")


def _is_ancestor(store: Store, ancestor: bytes, tip: bytes) -> bool:
    return ancestor == tip or find_merge_base(store.repo, [ObjectID(ancestor), ObjectID(tip)]) == [
        ancestor
    ]


def publish(store: Store, remote: str | None = None) -> PublishResult:
    """Push `main`; refused (RemoteError) when the remote has sessions we do not."""
    url = remote_url(store, remote)
    tip = store.tip()
    if tip is None:
        raise RemoteError(f"{store.path}: nothing to publish yet")
    theirs = _remote_main(store, url)
    if theirs == tip:
        return PublishResult(url, tip.decode(), tip.decode(), False)
    if theirs is not None and not _is_ancestor(store, theirs, tip):
        raise RemoteError(
            f"{url}: main there has commits that are not here; run `gitflywheel sync` first"
        )
    _push(store, url, theirs, tip)
    return PublishResult(url, tip.decode(), theirs.decode() if theirs else None, True)


def sync(store: Store, remote: str | None = None) -> SyncResult:
    """Fetch the remote's `main`, combine it with ours, push the result back."""
    url = remote_url(store, remote)
    with store.lock():
        ours = store.tip()
        theirs = _remote_main(store, url)
        result = SyncResult(
            url, "up-to-date", ours.decode() if ours else None, theirs.decode() if theirs else None
        )
        if theirs is None or ours is None or theirs == ours:
            if theirs is None and ours is not None:
                _push(store, url, None, ours)
                result.action, result.pushed = "pushed", True
            elif ours is None and theirs is not None:
                store.move_main(None, theirs)
                result.action, result.main = "fast-forward", theirs.decode()
            return result
        if _is_ancestor(store, theirs, ours):
            _push(store, url, theirs, ours)
            result.action, result.pushed = "pushed", True
            return result
        if _is_ancestor(store, ours, theirs):
            store.move_main(ours, theirs)
            result.action, result.main = "fast-forward", theirs.decode()
            return result
        merged, taken = _combine(store, ours, theirs, url)
        store.move_main(ours, merged)
        result.action, result.main, result.taken = "merged", merged.decode(), taken
        _push(store, url, theirs, merged)
        result.pushed = True
        return result


def _combine(store: Store, ours: bytes, theirs: bytes, url: str) -> tuple[bytes, list[str]]:
    """A merge commit holding our tree plus every session folder only their side changed."""
    bases = find_merge_base(store.repo, [ObjectID(ours), ObjectID(theirs)])
    base_tree = store.commit(bases[0]).tree if bases else None
    our_tree, their_tree = store.commit(ours).tree, store.commit(theirs).tree
    mine = diff_sessions(store, base_tree, our_tree).sessions
    incoming = diff_sessions(store, base_tree, their_tree).sessions
    conflicts = sorted(
        path
        for path, (_, new) in incoming.items()
        if new is not None and path in mine and mine[path][1] != new
    )
    if conflicts:
        listed = ", ".join(p.rsplit("/", 1)[-1] for p in conflicts[:10])
        raise ConflictError(
            f"{url}: {len(conflicts)} session(s) recorded differently here and there: {listed}; "
            "nothing was changed. Record the one you keep with `gitflywheel ingest --revise` on one side, then sync."
        )
    editor = TreeEditor(store.tree, our_tree)
    taken = []
    for path, (_, new) in sorted(incoming.items()):
        if new is not None and (path not in mine):
            editor.set_tree(path, new)
            taken.append(path.rsplit("/", 1)[-1])
    root, trees = editor.write()
    commit = make_commit(
        root, [ours, theirs], merge_message(url), committer_identity(), None, commit_time()
    )
    store.write_objects([*trees, commit])
    return commit.id, taken
