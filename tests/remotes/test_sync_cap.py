"""An object too large for a store refuses a sync before anything inflates it (18.8).

A remote made by the real git commits a blob of zeros, which compresses a thousandfold:
sync reads its size from the pack's header, refuses it with the object's id, its size and
the limit, and its memory stays small; the store is unchanged and the quarantine gone.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CORPUS, GFW, Cli, git, snapshot
from servers import git_daemon

from gitflywheel.errors import RemoteError
from gitflywheel.remotes.sync import sync
from gitflywheel.storage.objectsize import MAX_OBJECT_BYTES
from gitflywheel.storage.store import Store

# Runs a command and prints its exit code, output and the peak memory of it and every
# process it waited for: a process of its own, so that nothing the test ran before counts.
_MEASURE = """
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, timeout=600)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps({"code": done.returncode, "out": done.stdout.decode(),
                  "err": done.stderr.decode(), "peak": peak}))
"""


def store_and_hub(cli: Cli, root: Path) -> tuple[Path, Path]:
    """A store with two sessions, published to a bare hub under `root`."""
    hub = root / "hub.git"
    git("init", "-q", "--bare", "-b", "main", hub)
    mine = root.parent / "mine.git"
    assert cli("ingest", "--repo", mine, *sorted(CORPUS.glob("*.json"))[:2]).exit_code == 0
    assert cli("publish", "--repo", mine, hub).exit_code == 0
    return mine, hub


def commit_zeros(hub: Path, size: int, name: str = "zeros.bin") -> str:
    """A commit on the hub's `main` adding a blob of `size` zeros; the blob's id."""
    blob = subprocess.run(
        f"head -c {size} /dev/zero | git -C {hub} hash-object -w --stdin",
        shell=True,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    listing = git("-C", hub, "ls-tree", "main")
    tree = git("-C", hub, "mktree", input=f"{listing}100644 blob {blob}\t{name}\n".encode())
    commit = git(
        "-C", hub, "commit-tree", tree.strip(), "-p", "main", "-m", "Zeros",
        env={"GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@b", "GIT_COMMITTER_NAME": "A",
             "GIT_COMMITTER_EMAIL": "a@b"},
    ).strip()  # fmt: skip
    git("-C", hub, "update-ref", "refs/heads/main", commit)
    git("-C", hub, "repack", "-adq")  # the hub sends its packed bytes as they are
    return blob


def quarantines(store: Path) -> list[Path]:
    return list((store / "gitflywheel").glob("incoming-*"))


@pytest.mark.slow
def test_a_blob_of_zeros_over_the_limit_is_refused_in_little_memory(
    cli: Cli, tmp_path: Path
) -> None:
    served = tmp_path / "served"
    served.mkdir()
    mine, hub = store_and_hub(cli, served)
    size = 200_000_000
    assert size > MAX_OBJECT_BYTES
    blob = commit_zeros(hub, size)
    before = snapshot(mine)
    with git_daemon(served) as base:
        done = subprocess.run(
            [sys.executable, "-c", _MEASURE, *GFW, "sync", "--repo", str(mine), f"{base}/hub.git"],
            capture_output=True,
            check=True,
            timeout=600,
        )
    measured = json.loads(done.stdout)
    assert measured["code"] == 1, measured
    said = measured["err"]
    assert "Traceback" not in said and "Traceback" not in measured["out"]
    assert f"blob {blob}" in said and "200,000,000 bytes" in said, said
    assert f"{MAX_OBJECT_BYTES:,} bytes" in said, said
    assert measured["peak"] < 150 * 1024 * 1024, measured["peak"]
    assert snapshot(mine) == before
    assert quarantines(mine) == []


def test_a_lowered_limit_refuses_a_smaller_blob_and_changes_nothing(
    cli: Cli, tmp_path: Path
) -> None:
    served = tmp_path / "served"
    served.mkdir()
    mine, hub = store_and_hub(cli, served)
    blob = commit_zeros(hub, 3_000_000)
    before = snapshot(mine)
    with Store.open(mine) as store, pytest.raises(RemoteError) as refused:
        sync(store, str(hub), max_object_bytes=1_000_000)
    said = str(refused.value)
    assert refused.value.exit_code == 1
    assert str(hub) in said, said
    assert f"blob {blob} is 3,000,000 bytes, over the limit of 1,000,000 bytes" in said, said
    assert snapshot(mine) == before
    assert quarantines(mine) == []
    # under the store's own limit the blob passes, and verify's rules judge the commit
    with Store.open(mine) as store, pytest.raises(RemoteError) as judged:
        sync(store, str(hub))
    assert "over the limit" not in str(judged.value)
    assert "zeros.bin: adds a path that only the first commit may set up" in str(judged.value)
    assert snapshot(mine) == before
