"""storage.transport: list a remote's refs, fetch its `main`, push ours, over every transport.

Each test runs against a bare repository served by a real `git daemon` and by `git
http-backend` on loopback, and reached as a path and as a file:// URL (through the `git`
program); `git ls-remote` and `git rev-parse` in the served repository are the second
opinion.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import EXAMPLES, Cli, fsck, git, snapshot
from servers import TRANSPORTS, git_http

from gitflywheel.errors import RemoteError
from gitflywheel.storage.quarantine import Quarantine
from gitflywheel.storage.remote_url import RemoteLocation
from gitflywheel.storage.store import Store
from gitflywheel.storage.transport import Link

MAIN = b"refs/heads/main"
SITE = b"refs/heads/site"


def tip(repo: Path, ref: str = "refs/heads/main") -> str:
    return git("-C", repo, "rev-parse", ref).strip()


def ls_remote(url: str) -> dict[bytes, bytes]:
    """What `git ls-remote` says the remote has (name -> id)."""
    refs = {}
    for line in git("ls-remote", url).splitlines():
        sha, name = line.split("\t")
        refs[name.encode()] = sha.encode()
    return refs


@pytest.fixture()
def served(cli: Cli, tmp_path: Path) -> tuple[Path, Path]:
    """A store with two sessions and a served root holding `hub.git`, a copy of its first
    commit with a site branch and an annotated tag; the store is one commit ahead."""
    store = tmp_path / "store.git"
    assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    root = tmp_path / "served"
    hub = root / "hub.git"
    git("clone", "-q", "--bare", store, hub)
    git("-C", hub, "config", "http.receivepack", "true")
    first = tip(hub)
    git("-C", hub, "update-ref", SITE.decode(), first)
    git(
        "-C",
        hub,
        "tag",
        "-a",
        "v1",
        "-m",
        "first",
        first,
        env={"GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.invalid"},
    )
    assert cli("ingest", "--repo", store, EXAMPLES / "trade_session.json").exit_code == 0
    return store, hub


def link(store: Store, url: str) -> Link:
    return Link(store, RemoteLocation(url))


@pytest.mark.parametrize("transport", sorted(TRANSPORTS))
def test_refs_are_those_git_ls_remote_lists(served: tuple[Path, Path], transport: str) -> None:
    path, hub = served
    with TRANSPORTS[transport](hub.parent) as base, Store.open(path) as store:
        url = f"{base}/hub.git"
        listed = ls_remote(url)
        refs = link(store, url).refs()
    assert {MAIN, SITE, b"refs/tags/v1"} <= set(refs)
    assert refs[MAIN] == tip(hub).encode()
    assert refs[b"refs/tags/v1"] == tip(hub, "refs/tags/v1").encode()  # the tag, not peeled
    # Every ref git lists, with the same id (git also names the peeled tag `v1^{}`).
    assert {k: v for k, v in refs.items() if k in listed} == listed
    assert set(listed) - set(refs) <= {b"refs/tags/v1^{}"}


@pytest.mark.parametrize("transport", sorted(TRANSPORTS))
def test_fetch_main_brings_the_remote_history_into_a_quarantine(
    cli: Cli, served: tuple[Path, Path], transport: str
) -> None:
    path, hub = served
    common = tip(hub)  # the store has it, and one commit more the hub does not know
    other = hub.parent.parent / "other.git"
    git("clone", "-q", "--bare", hub, other)
    assert cli("ingest", "--repo", other, EXAMPLES / "life_aria_session.json").exit_code == 0
    git("-C", other, "push", "-q", hub, "main")
    theirs = tip(hub)
    listed = git("-C", hub, "rev-list", "--objects", theirs, "--not", common)
    wanted = {line.split()[0] for line in listed.splitlines()}
    before = snapshot(path / "objects")
    with TRANSPORTS[transport](hub.parent) as base, Store.open(path) as store:
        with Quarantine(store) as quarantine:
            refs = link(store, f"{base}/hub.git").fetch_main(quarantine)
            assert refs[MAIN] == theirs.encode()
            assert {sha.decode() for sha in quarantine.new_objects()} == wanted
            # git, reading the quarantine (and the store through it), has the whole history.
            git("-C", quarantine.path, "rev-list", "--objects", theirs)
            assert theirs.encode() not in store
        # Nothing reached the store; the fetch moved no ref of the remote.
        assert snapshot(path / "objects") == before
    assert tip(hub) == theirs


@pytest.mark.parametrize("transport", sorted(TRANSPORTS))
def test_push_main_moves_the_remote_main_and_other_branches(
    served: tuple[Path, Path], transport: str
) -> None:
    path, hub = served
    old, ours = tip(hub), tip(path)
    with TRANSPORTS[transport](hub.parent) as base, Store.open(path) as store:
        url = f"{base}/hub.git"
        link(store, url).push_main(old.encode(), ours.encode(), also={SITE: ours.encode()})
        listed = ls_remote(url)
    assert listed[MAIN] == listed[SITE] == ours.encode()
    assert tip(hub) == ours
    fsck(hub)
    # Pushing the same again is no change, and succeeds (main is where we want it).
    with TRANSPORTS[transport](hub.parent) as base, Store.open(path) as store:
        link(store, f"{base}/hub.git").push_main(old.encode(), ours.encode())
    assert tip(hub) == ours


def commit_on(repo: Path, parent: str, message: str) -> str:
    """A commit made by git in `repo` on top of `parent`, with its tree."""
    ident = {"GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    ident |= {"GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.invalid"}
    tree = f"{parent}^{{tree}}"
    return git("-C", repo, "commit-tree", "-p", parent, "-m", message, tree, env=ident).strip()


@pytest.mark.parametrize("transport", sorted(TRANSPORTS))
def test_push_main_refuses_when_the_remote_main_moved(
    served: tuple[Path, Path], transport: str
) -> None:
    path, hub = served
    ours, expected = tip(path), tip(hub)  # we believe the remote is where we left it...
    moved = commit_on(hub, expected, "elsewhere")
    git("-C", hub, "update-ref", "refs/heads/main", moved, expected)  # ...but it moved on
    before = snapshot(hub)
    with TRANSPORTS[transport](hub.parent) as base, Store.open(path) as store:
        url = f"{base}/hub.git"
        with pytest.raises(RemoteError) as refused:
            link(store, url).push_main(expected.encode(), ours.encode(), also={SITE: ours.encode()})
    message = str(refused.value)
    assert message.startswith(url), message
    assert "main moved while we worked" in message
    assert tip(hub) == moved and tip(hub, SITE.decode()) == expected
    assert snapshot(hub) == before


def test_a_local_remote_hook_refuses_the_push_and_says_why(served: tuple[Path, Path]) -> None:
    """A path is reached through `git receive-pack`: the remote's own hooks run."""
    path, hub = served
    hook = hub / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'the hub is frozen' >&2\nexit 1\n")
    hook.chmod(0o755)
    old = tip(hub)
    with Store.open(path) as store, pytest.raises(RemoteError) as refused:
        link(store, str(hub)).push_main(old.encode(), tip(path).encode())
    message = str(refused.value)
    assert message.startswith(str(hub)), message
    assert "refused" in message and "the hub is frozen" in message
    assert tip(hub) == old


def test_a_local_remote_refuses_what_is_not_a_fast_forward(served: tuple[Path, Path]) -> None:
    """`receive.denyNonFastForwards` of the remote applies to a push over a path."""
    path, hub = served
    git("-C", hub, "config", "receive.denyNonFastForwards", "true")
    moved = commit_on(hub, tip(hub), "elsewhere")
    git("-C", hub, "update-ref", "refs/heads/main", moved)
    with Store.open(path) as store, pytest.raises(RemoteError) as refused:
        # We expect the remote where it is, but ours does not descend from it.
        link(store, f"file://{hub}").push_main(moved.encode(), tip(path).encode())
    message = str(refused.value)
    assert "push of main refused" in message, message
    assert tip(hub) == moved


def test_an_unreachable_remote_is_one_error_naming_it_without_secrets(
    served: tuple[Path, Path],
) -> None:
    path, hub = served
    with (
        git_http(hub.parent, credentials=("me", "s3cret-token")) as base,
        Store.open(path) as store,
    ):
        host = base.removeprefix("http://")
        for url in [f"http://me:wrong-pass@{host}/hub.git", f"http://{host}/hub.git"]:
            with pytest.raises(RemoteError) as failed:
                link(store, url).refs()
            text = str(failed.value)
            assert "wrong-pass" not in text and "s3cret" not in text
            assert host in text and "401" in text
        # With the right credentials, the same server answers.
        refs = link(store, f"http://me:s3cret-token@{host}/hub.git").refs()
        assert refs[MAIN] == tip(hub).encode()
    with Store.open(path) as store, pytest.raises(RemoteError) as missing:
        link(store, str(hub.parent / "nothing.git")).refs()
    assert str(hub.parent / "nothing.git") in str(missing.value)


def test_what_the_remote_said_again_and_again_is_told_once(tmp_path: Path) -> None:
    """A sync's attempts share one link and hear the same lines again: an error names
    each of the last ones once, in the order last said."""
    remote = tmp_path / "hub.git"
    git("init", "-q", "--bare", remote)
    with Store.create(tmp_path / "store.git") as store:
        link = Link(store, RemoteLocation(str(remote)))
        for _ in range(10):
            link._hear(b"main moved: fetch again")
            link._hear(b"try later")
        link._hear(b"main moved: fetch again")
        told = link.explain("gave up")
    assert told.endswith("gave up (remote: try later; main moved: fetch again)"), told
