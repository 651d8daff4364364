"""storage.gitdir and storage.locks: gitflywheel's own files in a git directory, and the
lock every writer takes.

The lock is checked across real processes, with util-linux `flock` as the second
opinion, and with its holder killed by SIGKILL; the paths are checked against a store
the CLI made and used, with `git fsck --strict` and `git clone` as witnesses that none of
them is part of what git stores or sends.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from conftest import EXAMPLES, Cli, fsck, git

from gitflywheel.errors import StoreError
from gitflywheel.storage.gitdir import (
    OWN_REFS_PREFIX,
    QUARANTINE_PREFIX,
    REPO_SPOOL,
    VERIFIED_REF,
    WORK_DIR,
    StorePaths,
    WorkRepoPaths,
)
from gitflywheel.storage.locks import file_lock

# -- gitdir ------------------------------------------------------------------------------


def test_store_paths_names(tmp_path: Path) -> None:
    paths = StorePaths(tmp_path)
    assert WORK_DIR == "gitflywheel" and paths.work == tmp_path / "gitflywheel"
    assert paths.writer_lock == tmp_path / "gitflywheel.lock"
    assert paths.verify_lock == tmp_path / "gitflywheel-verify.lock"
    assert paths.quarantine_lock == tmp_path / "gitflywheel-quarantine.lock"
    assert paths.query_index == tmp_path / "gitflywheel" / "query.sqlite3"
    assert paths.verify_index == tmp_path / "gitflywheel" / "verify.sqlite3"
    assert paths.verify_index_fresh == tmp_path / "gitflywheel" / "verify.sqlite3.new"
    assert paths.hook_spool == tmp_path / "gitflywheel" / "spool"
    assert paths.hook_log == tmp_path / "gitflywheel" / "hook.log"
    assert paths.hook_lock == tmp_path / "gitflywheel" / "hook.lock"
    assert VERIFIED_REF == b"refs/gitflywheel/verified"
    assert VERIFIED_REF.startswith(OWN_REFS_PREFIX)
    work = WorkRepoPaths(tmp_path)
    assert work.spool == tmp_path / REPO_SPOOL == tmp_path / "gitflywheel-spool"
    assert work.log == tmp_path / "gitflywheel-spool" / "hook.log"


def test_quarantines_lists_only_incoming_folders_sorted(tmp_path: Path) -> None:
    paths = StorePaths(tmp_path)
    assert paths.quarantines() == []  # no work folder yet: nothing, no error
    paths.work.mkdir()
    assert paths.quarantines() == []
    for name in [f"{QUARANTINE_PREFIX}b", f"{QUARANTINE_PREFIX}a", "spool", "query.sqlite3"]:
        (paths.work / name).mkdir()
    assert paths.quarantines() == [
        paths.work / f"{QUARANTINE_PREFIX}a",
        paths.work / f"{QUARANTINE_PREFIX}b",
    ]


def test_a_used_store_keeps_its_own_files_where_store_paths_say_and_git_ignores_them(
    cli: Cli, tmp_path: Path
) -> None:
    store = tmp_path / "store.git"
    assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    assert cli("ls", "--repo", store).exit_code == 0
    assert cli("verify", "--repo", store).exit_code == 0
    paths = StorePaths(store)
    assert paths.writer_lock.is_file()
    assert paths.verify_lock.is_file()
    assert paths.query_index.is_file()
    assert paths.verify_index.is_file()
    assert not paths.verify_index_fresh.exists()
    assert paths.quarantines() == []
    main = git("-C", store, "rev-parse", "main").strip()
    verified = git("-C", store, "for-each-ref", "--format=%(refname) %(objectname)")
    assert f"{VERIFIED_REF.decode()} {main}" in verified.splitlines()
    # git sees none of it: the store checks clean, and a clone carries none of it.
    fsck(store)
    clone = tmp_path / "clone.git"
    git("clone", "-q", "--bare", store, clone)
    assert not (clone / WORK_DIR).exists()
    assert not any(clone.glob("gitflywheel*"))
    assert git("-C", clone, "for-each-ref", "refs/gitflywheel/") == ""
    assert "gitflywheel/" not in git("-C", store, "ls-tree", "-r", "--name-only", "main")


# -- locks -------------------------------------------------------------------------------

HOLDER = textwrap.dedent(
    """
    import sys, time
    from gitflywheel.storage.locks import file_lock

    with file_lock(__import__("pathlib").Path(sys.argv[1]), lambda: print("waiting", flush=True)):
        print("held", flush=True)
        sys.stdin.read()  # until the parent closes it (or kills us)
    print("released", flush=True)
    """
)


def holder(lock: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def next_line(process: subprocess.Popen[str], seconds: float = 30.0) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], seconds)
    assert ready, "the process said nothing"
    return process.stdout.readline().strip()


def silent_for(process: subprocess.Popen[str], seconds: float) -> bool:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], seconds)
    return not ready


def flock_free(lock: Path) -> bool:
    """util-linux flock's word: can the lock be taken right now?"""
    if shutil.which("flock") is None:
        pytest.skip("util-linux flock is not installed")
    done = subprocess.run(["flock", "-n", "-E", "75", str(lock), "true"], capture_output=True)
    assert done.returncode in (0, 75), done.stderr
    return done.returncode == 0


def test_file_lock_makes_its_folder_and_keeps_its_file(tmp_path: Path) -> None:
    lock = tmp_path / "deep" / "er" / "x.lock"
    called: list[int] = []
    with file_lock(lock, lambda: called.append(1)):
        assert lock.is_file()
        assert not flock_free(lock)
    assert called == []  # nobody held it: no waiting said
    assert lock.is_file() and flock_free(lock)


def test_file_lock_is_released_when_the_block_raises(tmp_path: Path) -> None:
    lock = tmp_path / "x.lock"
    with pytest.raises(ValueError), file_lock(lock):
        raise ValueError("boom")
    assert flock_free(lock)


def test_file_lock_that_cannot_be_made_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with (
        pytest.raises(StoreError, match="cannot take the lock"),
        file_lock(tmp_path / "file" / "x"),
    ):
        pass


def test_a_second_process_waits_until_the_first_lets_go(tmp_path: Path) -> None:
    lock = tmp_path / "writer.lock"
    first = holder(lock)
    second = None
    try:
        assert next_line(first) == "held"
        assert not flock_free(lock)
        second = holder(lock)
        assert next_line(second) == "waiting"
        assert silent_for(second, 0.5)  # it does not get the lock while the first holds it
        assert first.stdin is not None
        first.stdin.close()
        assert next_line(first) == "released"
        assert next_line(second) == "held"
        assert not flock_free(lock)
        assert second.stdin is not None
        second.stdin.close()
        assert next_line(second) == "released"
        assert second.wait(timeout=30) == 0 and first.wait(timeout=30) == 0
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
    assert flock_free(lock)


def test_the_lock_of_a_process_killed_minus_9_is_free_again(tmp_path: Path) -> None:
    lock = tmp_path / "writer.lock"
    first = holder(lock)
    try:
        assert next_line(first) == "held"
        # A waiter in this very process: file_lock opens the file anew, so it waits too.
        waited = threading.Event()
        got = threading.Event()

        def wait_for_it() -> None:
            with file_lock(lock, waited.set):
                got.set()

        thread = threading.Thread(target=wait_for_it, daemon=True)
        thread.start()
        assert waited.wait(10)
        time.sleep(0.3)
        assert not got.is_set()
        os.kill(first.pid, signal.SIGKILL)
        assert first.wait(timeout=30) == -signal.SIGKILL
        assert got.wait(10), "the lock of a killed process stayed taken"
        thread.join(10)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert lock.is_file()  # the file stays, to be taken again
    assert flock_free(lock)
