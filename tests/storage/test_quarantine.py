"""storage.quarantine: what a remote sends stays apart from the store until admitted.

A remote made by `git clone` of the store and one more ingest is fetched into a
quarantine; the real git (`git cat-file --batch-check`, `git rev-list --objects`, `git
fsck --strict`) says which objects the store holds before and after.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import CORPUS, EXAMPLES, Cli, fsck, git, snapshot

from gitflywheel.storage.gitdir import QUARANTINE_PREFIX, StorePaths
from gitflywheel.storage.objects import CommitInfo, TreeEntry
from gitflywheel.storage.objectsize import UnreadablePack
from gitflywheel.storage.quarantine import Quarantine
from gitflywheel.storage.remote_url import RemoteLocation
from gitflywheel.storage.store import Store
from gitflywheel.storage.transport import Link


def held(repo: Path, ids: set[str]) -> set[str]:
    """Those of `ids` that `git cat-file` finds in `repo` (its alternates included)."""
    out = git(
        "-C", repo, "cat-file", "--batch-check", input="".join(f"{i}\n" for i in ids).encode()
    )
    return {line.split()[0] for line in out.splitlines() if not line.endswith(" missing")}


AUTHOR = b"Test <test@example.invalid>"
CORPUS_PICK = sorted(CORPUS.glob("*.json"))[0]


def tip(repo: Path) -> str:
    return git("-C", repo, "rev-parse", "refs/heads/main").strip()


@pytest.fixture()
def ahead(cli: Cli, tmp_path: Path) -> tuple[Path, Path, set[str]]:
    """A store, a remote one ingest ahead of it, and the ids of the objects only the
    remote has (as `git rev-list --objects` lists them)."""
    store, remote = tmp_path / "store.git", tmp_path / "remote.git"
    assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    git("clone", "-q", "--bare", store, remote)
    assert cli("ingest", "--repo", remote, EXAMPLES / "trade_session.json").exit_code == 0
    listed = git("-C", remote, "rev-list", "--objects", "main", "--not", tip(store))
    only_remote = {line.split()[0] for line in listed.splitlines()}
    assert len(only_remote) > 5 and held(store, only_remote) == set()
    return store, remote, only_remote


def fetch(store: Store, quarantine: Quarantine, remote: Path) -> dict[bytes, bytes]:
    return Link(store, RemoteLocation(str(remote))).fetch_main(quarantine)


def test_fetched_objects_are_not_in_the_store_until_admitted(
    ahead: tuple[Path, Path, set[str]],
) -> None:
    path, remote, only_remote = ahead
    ours, theirs = tip(path), tip(remote)
    objects_before = snapshot(path / "objects")
    with Store.open(path) as store, Quarantine(store) as quarantine:
        assert quarantine.path.parent == StorePaths(path).work
        assert quarantine.path.name.startswith(QUARANTINE_PREFIX)
        assert StorePaths(path).quarantines() == [quarantine.path]
        refs = fetch(store, quarantine, remote)
        assert refs[b"refs/heads/main"] == theirs.encode()
        # Held apart: exactly what the store lacks, nothing it has, and not in the store.
        assert {sha.decode() for sha in quarantine.new_objects()} == only_remote
        assert held(path, only_remote) == set()
        assert snapshot(path / "objects") == objects_before
        # Through the quarantine, git and the view see both sides, and the whole history.
        assert held(quarantine.path, only_remote) == only_remote
        git("-C", quarantine.path, "rev-list", "--objects", theirs)
        assert quarantine.view.raw(theirs.encode())[0] == "commit"
        assert quarantine.view.raw(ours.encode())[0] == "commit"
        quarantine.admit()
        assert held(path, only_remote) == only_remote
        assert tip(path) == ours  # admitting moves no ref
        fsck(path)
        assert store.raw(theirs.encode())[0] == "commit"
    assert not quarantine.path.exists()
    # The store now has the remote's whole history: main may point at it.
    git("-C", path, "update-ref", "refs/heads/main", theirs, ours)
    fsck(path)
    assert git("-C", path, "rev-list", "--count", "main") == "3\n"


def test_a_merge_written_in_the_quarantine_stays_there_until_admitted(
    ahead: tuple[Path, Path, set[str]],
) -> None:
    """As sync does: a commit staged through `writing()` lands in the quarantine and
    moves its `main`; the store's objects and `main` change only when admitted."""
    path, remote, _ = ahead
    ours, theirs = tip(path), tip(remote)
    with Store.open(path) as store, store.lock(), Quarantine(store) as quarantine:
        fetch(store, quarantine, remote)
        info = quarantine.view.commit(theirs.encode())
        assert isinstance(info, CommitInfo)
        assert info.id == theirs.encode() and info.parents == (ours.encode(),)
        entries = quarantine.view.tree(info.tree)
        assert all(isinstance(entry, TreeEntry) for entry in entries)
        listed = git("-C", quarantine.path, "ls-tree", "-z", "--name-only", info.tree.decode())
        assert sorted(entry.name.decode() for entry in entries) == sorted(
            name for name in listed.split("\0") if name
        )
        objects_before = snapshot(path / "objects")
        with quarantine.writing() as incoming:
            assert incoming.main == ours.encode()
            merge = incoming.commit(
                info.tree, [ours.encode(), theirs.encode()], b"merge\n", AUTHOR, None, 1_700_000_000
            )
            incoming.flush(merge)
        made = merge.decode()
        assert tip(quarantine.path) == made
        assert held(quarantine.path, {made}) == {made}
        assert held(path, {made}) == set()
        assert snapshot(path / "objects") == objects_before
        assert tip(path) == ours
        assert {sha.decode() for sha in quarantine.new_objects()} >= {made}
        quarantine.admit()
        assert held(path, {made}) == {made}
        assert tip(path) == ours
    git("-C", path, "update-ref", "refs/heads/main", made, ours)
    fsck(path)
    assert git("-C", path, "rev-parse", "main^1", "main^2").split() == [ours, theirs]


def test_a_dropped_quarantine_leaves_nothing(ahead: tuple[Path, Path, set[str]]) -> None:
    path, remote, only_remote = ahead
    before = snapshot(path)
    with Store.open(path) as store:
        with Quarantine(store) as quarantine:
            fetch(store, quarantine, remote)
            assert {sha.decode() for sha in quarantine.new_objects()} == only_remote
            assert any(quarantine.path.rglob("*.pack"))
        assert not quarantine.path.exists()
        # Leaving by an error drops it just the same.
        with pytest.raises(RuntimeError), Quarantine(store) as second:
            fetch(store, second, remote)
            raise RuntimeError("a check failed")
        assert not second.path.exists()
    assert StorePaths(path).quarantines() == []
    assert held(path, only_remote) == set()
    assert outside_work(snapshot(path)) == outside_work(before)
    fsck(path)


def outside_work(files: dict[str, str]) -> dict[str, str]:
    """A store's files but those of gitflywheel's own folder (the query index, ...)."""
    return {k: v for k, v in files.items() if not k.startswith("gitflywheel")}


def test_a_fresh_store_takes_a_whole_history(cli: Cli, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    assert cli("ingest", "--repo", remote, EXAMPLES / "build_session.json").exit_code == 0
    everything = {
        line.split()[0] for line in git("-C", remote, "rev-list", "--objects", "main").splitlines()
    }
    path = tmp_path / "fresh.git"
    with Store.create(path) as store:
        assert store.tip() is None
        with Quarantine(store) as quarantine:
            fetch(store, quarantine, remote)
            assert {sha.decode() for sha in quarantine.new_objects()} == everything
            assert held(path, everything) == set()
            quarantine.admit()
    assert held(path, everything) == everything
    git("-C", path, "update-ref", "refs/heads/main", tip(remote))
    fsck(path)


KILLED_FETCH = textwrap.dedent(
    """
    import os, signal, sys
    from gitflywheel.storage.quarantine import Quarantine
    from gitflywheel.storage.remote_url import RemoteLocation
    from gitflywheel.storage.store import Store
    from gitflywheel.storage.transport import Link

    store = Store.open(sys.argv[1])
    quarantine = Quarantine(store)
    Link(store, RemoteLocation(sys.argv[2])).fetch_main(quarantine)
    print(quarantine.path, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_a_killed_process_leftovers_go_with_the_next_writer_lock(
    cli: Cli, ahead: tuple[Path, Path, set[str]]
) -> None:
    path, remote, only_remote = ahead
    ours = tip(path)
    done = subprocess.run(
        [sys.executable, "-c", KILLED_FETCH, str(path), str(remote)],
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    left = Path(done.stdout.decode().strip())
    assert left.is_dir() and any(left.rglob("*.pack"))
    assert StorePaths(path).quarantines() == [left]
    assert held(path, only_remote) == set()
    # A reader leaves it be; the next writer, under the store's lock, removes it.
    assert cli("ls", "--repo", path).exit_code == 0
    assert left.exists()
    result = cli("ingest", "--repo", path, EXAMPLES / "life_aria_session.json")
    assert result.exit_code == 0, result.output
    assert not left.exists()
    assert StorePaths(path).quarantines() == []
    assert tip(remote) not in held(path, {tip(remote)})
    assert git("-C", path, "rev-parse", "main~1").strip() == ours
    fsck(path)


def test_a_live_quarantine_outlasts_another_writers_lock(
    cli: Cli, ahead: tuple[Path, Path, set[str]]
) -> None:
    """As a sync between two attempts: its quarantine lives on without the store's writer
    lock. Another writer takes that lock and cleans up what killed writers left, yet
    leaves a quarantine whose own lock is held (util-linux `flock` agrees it is)."""
    path, remote, only_remote = ahead
    with Store.open(path) as store:
        with store.lock():
            quarantine = Quarantine(store)
            fetch(store, quarantine, remote)
        lock = StorePaths(quarantine.path).quarantine_lock
        try:
            busy = subprocess.run(["flock", "-n", lock, "true"], capture_output=True)
            assert busy.returncode == 1
            result = cli("ingest", "--repo", path, EXAMPLES / "life_aria_session.json")
            assert result.exit_code == 0, result.output
            assert cli("maintain", "--repo", path, "--full").exit_code == 0  # packs merged
            assert StorePaths(path).quarantines() == [quarantine.path]
            assert {sha.decode() for sha in quarantine.new_objects()} == only_remote
            # The next attempt fetches what the remote has since, against the store as
            # it is now, and keeps apart only what neither side has.
            older = tip(remote)
            assert cli("ingest", "--repo", remote, CORPUS_PICK).exit_code == 0
            listed = git("-C", remote, "rev-list", "--objects", "main", "--not", older)
            newer = {line.split()[0] for line in listed.splitlines()}
            with store.lock():
                fetch(store, quarantine, remote)
                assert {sha.decode() for sha in quarantine.new_objects()} == only_remote | newer
                quarantine.admit()
        finally:
            quarantine.discard()
    assert StorePaths(path).quarantines() == []
    assert held(path, only_remote | newer) == only_remote | newer
    git("-C", path, "update-ref", "refs/gitflywheel/fetched", tip(remote))
    fsck(path)
    packed = [  # `git show-index`: offset, id, crc32
        line.split()[1]
        for index in (path / "objects" / "pack").glob("*.idx")
        for line in git("show-index", input=index.read_bytes()).splitlines()
    ]
    assert len(packed) == len(set(packed))  # nothing is stored twice


def two_versions(cli: Cli, tmp_path: Path) -> tuple[Path, Path, str, set[str]]:
    """A store that has a large file, and a remote one commit ahead that changes a line of
    it: the store, the remote, the store's tip, and the ids only the remote has."""
    store, remote, work = tmp_path / "store.git", tmp_path / "remote.git", tmp_path / "work"
    assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    git("clone", "-q", "--bare", store, remote)
    git("clone", "-q", remote, work)
    me = ["-c", "user.name=A", "-c", "user.email=a@example.invalid"]
    lines = [f"line {n}: {'abcdefgh' * (n % 7)}\n" for n in range(5000)]
    (work / "big.txt").write_text("".join(lines))
    git("-C", work, "add", "big.txt")
    git("-C", work, *me, "commit", "-qm", "big")
    git("-C", work, "push", "-q", "origin", "HEAD:main")
    git("-C", store, "fetch", "-q", remote, "main:main")  # the store has the big blob
    (work / "big.txt").write_text("".join(lines) + "one more line\n")
    git("-C", work, *me, "commit", "-qam", "bigger")
    git("-C", work, "push", "-q", "origin", "HEAD:main")
    ours = tip(store)
    listed = git("-C", remote, "rev-list", "--objects", "main", "--not", ours)
    return store, remote, ours, {line.split()[0] for line in listed.splitlines()}


def pack_objects(repo: Path, revs: str, *options: str) -> bytes:
    """The pack git makes of `revs` (`git pack-objects --revs`)."""
    return subprocess.run(
        ["git", "-C", repo, "pack-objects", "--revs", "--stdout", "-q", *options],
        input=revs.encode(),
        capture_output=True,
        check=True,
    ).stdout


def test_what_the_store_has_is_neither_fetched_again_nor_copied(cli: Cli, tmp_path: Path) -> None:
    store, remote, ours, only_remote = two_versions(cli, tmp_path)
    with Store.open(store) as opened, Quarantine(opened) as quarantine:
        fetch(opened, quarantine, remote)
        assert {sha.decode() for sha in quarantine.new_objects()} == only_remote
        big = git("-C", remote, "rev-parse", "main:big.txt").strip()
        assert big in only_remote
        quarantine.admit()
    # What git sends for this fetch is a thin pack: alone, it has deltas git cannot resolve.
    thin = pack_objects(remote, f"{tip(remote)}\n^{ours}\n", "--thin")
    alone = tmp_path / "alone.git"
    git("init", "-q", "--bare", alone)
    indexed = subprocess.run(
        ["git", "-C", alone, "index-pack", "--stdin"], input=thin, capture_output=True
    )
    assert indexed.returncode != 0 and b"unresolved delta" in indexed.stderr
    # Yet the store holds each object once, in its packs, and all of it is reachable.
    git("-C", store, "update-ref", "refs/heads/main", tip(remote))
    fsck(store)
    packed = []
    for index in sorted((store / "objects" / "pack").glob("*.idx")):
        for line in git("verify-pack", "-v", index).splitlines():
            fields = line.split()
            if len(fields) >= 5 and len(fields[0]) == 40:
                packed.append(fields[0])
    loose = [f.parent.name + f.name for f in (store / "objects").glob("[0-9a-f][0-9a-f]/*")]
    everything = packed + loose  # git's own fetch above left some objects loose
    assert len(everything) == len(set(everything))
    counted = dict(
        line.split(": ") for line in git("-C", store, "count-objects", "-v").splitlines()
    )
    assert (int(counted["in-pack"]), int(counted["count"])) == (len(packed), len(loose))
    reachable = git("-C", store, "rev-list", "--objects", "--all").splitlines()
    assert len(reachable) == len(everything)


def test_a_pack_is_kept_without_what_the_store_has(cli: Cli, tmp_path: Path) -> None:
    """`receive` of a pack as git makes it: a thin one resolves against the store, a whole
    one leaves out what the store has, and one whose bases nobody has is refused with
    nothing kept."""
    store, remote, ours, only_remote = two_versions(cli, tmp_path)
    thin = pack_objects(remote, f"{tip(remote)}\n^{ours}\n", "--thin")
    whole = pack_objects(remote, f"{tip(remote)}\n")
    with Store.open(store) as opened:
        for pack in (thin, whole):
            with Quarantine(opened) as quarantine:
                (quarantine.path / "incoming.pack").write_bytes(pack)
                quarantine.receive(quarantine.path / "incoming.pack")
                assert {sha.decode() for sha in quarantine.new_objects()} == only_remote
                [kept] = (quarantine.path / "objects" / "pack").glob("*.idx")
                shown = git("verify-pack", "-v", kept)  # git reads it: whole objects only
                assert f"non delta: {len(only_remote)} objects" in shown
                assert "chain length" not in shown
    with Store.create(tmp_path / "empty.git") as empty, Quarantine(empty) as quarantine:
        (quarantine.path / "incoming.pack").write_bytes(thin)
        with pytest.raises(UnreadablePack, match="deltas on 1 object"):
            quarantine.receive(quarantine.path / "incoming.pack")
        assert quarantine.held() == frozenset()


@pytest.mark.parametrize("meanwhile", ["one blob, loose", "all of it, packed"])
def test_what_the_store_came_to_hold_meanwhile_is_not_admitted_twice(
    ahead: tuple[Path, Path, set[str]], meanwhile: str
) -> None:
    """As when another writer lands objects while a sync waits between attempts: admit
    leaves out what the store holds by then, whether loose or packed."""
    path, remote, only_remote = ahead
    with Store.open(path) as store, Quarantine(store) as quarantine:
        with store.lock():
            fetch(store, quarantine, remote)
        if meanwhile == "one blob, loose":
            kinds = git(
                "-C", remote, "cat-file", "--batch-check", input="\n".join(only_remote).encode()
            )
            blob = min(line.split()[0] for line in kinds.splitlines() if " blob " in line)
            content = subprocess.run(
                ["git", "-C", remote, "cat-file", "blob", blob], capture_output=True, check=True
            ).stdout
            assert git("-C", path, "hash-object", "-w", "--stdin", input=content).strip() == blob
        else:
            git("-C", path, "fetch", "-q", remote, "main:theirs")
            git("-C", path, "repack", "-q", "-a", "-d")  # one pack of everything
        with store.lock():
            quarantine.admit()
    assert held(path, only_remote) == only_remote
    git("-C", path, "update-ref", "refs/heads/theirs", tip(remote))
    fsck(path)
    packed = [  # `git show-index`: offset, id, crc32
        line.split()[1]
        for index in (path / "objects" / "pack").glob("*.idx")
        for line in git("show-index", input=index.read_bytes()).splitlines()
    ]
    loose = [f.parent.name + f.name for f in (path / "objects").glob("[0-9a-f][0-9a-f]/*")]
    everything = packed + loose
    assert len(everything) == len(set(everything))  # nothing is stored twice
    assert set(everything) >= only_remote
