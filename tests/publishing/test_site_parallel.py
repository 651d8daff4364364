"""A site whose sessions' pages are made by worker processes (forked from the build,
each writing into the staging folder) is the very site a build in one process makes:
every file, byte for byte, and the tree of the site branch. A worker's error comes out
as the same error; a worker killed midway is a clear error that leaves the folder as it
was.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES, session, tree_of

from gitflywheel import api
from gitflywheel.publishing import site as site_module
from gitflywheel.publishing.cards import CardCache, usable_cores
from gitflywheel.publishing.site import PAGES_PARALLEL_FROM, build_site, make_site, write_site
from gitflywheel.publishing.site_branch import commit_site
from gitflywheel.rendering.templates import SITE_TEMPLATES, RenderError, load_templates
from gitflywheel.storage.store import Store

BASE = "https://me.example.org/flywheel/"


def story(number: int) -> dict[str, object]:
    return session(
        f"p-{number}",
        title=f"Parser step {number}",
        timestamp=f"2025-11-{1 + number % 28:02d}T{number % 24:02d}:00:00Z",
        tags=[f"t{number % 3}", "parser"],
        source_data={
            "repo_path": "example/parser",
            "git_commits": [{"message": f"feat(parser): step {number}", "hash": f"{number:040x}"}],
            "overview": f"Step {number}: see [the log](build_log.md).",
        },
    )


def ingest(tmp_path: Path, count: int) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for number in range(count):
        (folder / f"p-{number}.json").write_text(json.dumps(story(number)))
    path = tmp_path / "s.git"
    assert api.ingest(path, [EXAMPLES, *sorted(folder.iterdir())]).exit_code == 0
    return path


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764900000")
    return ingest(tmp_path, 14)


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def cold_build(
    path: Path, out: Path, workers: int, cards: CardCache | None = None
) -> tuple[dict[str, bytes], str, int]:
    """A build from no records of an earlier one (every session's pages made), written
    to `out` and committed to the branch named as the folder: its files, that branch's
    tree and how many processes made the pages."""
    shutil.rmtree(path / "gitflywheel" / "site-cache", ignore_errors=True)
    with Store.open(path) as store:
        built = build_site(
            store,
            base_url=BASE,
            staging=out.parent,
            workers=workers,
            parallel_from=1,
            cards=cards,
        )
        try:
            write_site(built, out)
            commit_site(store, out.name, built.files, built.commit)
        finally:
            built.files.close()  # type: ignore[attr-defined]
    return files_of(out), tree_of(path, out.name), built.workers


def test_workers_make_the_same_site(store: Path, tmp_path: Path) -> None:
    serial, serial_tree, one = cold_build(store, tmp_path / "serial", workers=1)
    # its cards drawn by the same workers, into the card cache they share: none here
    cards = CardCache(tmp_path / "cards", parallel_from=1)
    parallel, parallel_tree, two = cold_build(store, tmp_path / "parallel", 2, cards)
    assert (one, two) == (1, 2)
    assert cards.drawn == 0 and len(list((tmp_path / "cards").rglob("*.png"))) > 10
    assert len(serial) > 100 and any(p.startswith("sessions/parser-step-13/") for p in serial)
    assert parallel.keys() == serial.keys()
    assert [p for p in serial if parallel[p] != serial[p]] == []
    assert parallel_tree == serial_tree
    # a staging folder is left nowhere
    names = ["cards", "in", "parallel", "s.git", "serial"]
    assert sorted(p.name for p in tmp_path.iterdir()) == names


def test_workers_forked_anew_every_few_sessions_make_the_same_site(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cards and pages made in batches of 3 sessions, each set of workers making one
    batch (a new set forked for the next): the bytes of a build in one process."""
    serial, serial_tree, _ = cold_build(store, tmp_path / "serial", workers=1)
    monkeypatch.setattr(site_module, "CARD_BATCH", 3)
    monkeypatch.setattr(site_module, "BATCHES_A_FORK", 1)
    forks = []
    real = site_module.ProcessPoolExecutor

    def counted(*args: Any, **kwargs: Any) -> Any:
        forks.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(site_module, "ProcessPoolExecutor", counted)
    cards = CardCache(tmp_path / "cards", parallel_from=1)
    parallel, parallel_tree, two = cold_build(store, tmp_path / "parallel", 2, cards)
    assert two == 2 and len(forks) >= 2 * -(-14 // 3)  # readers, cards, pages, 5 times
    assert parallel == serial and parallel_tree == serial_tree


def test_workers_into_the_folder_of_the_last_build(store: Path, tmp_path: Path) -> None:
    """Into a folder that holds the site already (each file found there with the same
    bytes is kept, not staged), from no records: the same folder, the same branch, and
    a build after it that makes nothing again gives it too."""
    serial, serial_tree, _ = cold_build(store, tmp_path / "serial", workers=1)
    out = tmp_path / "site"
    with Store.open(store) as opened:
        for _ in range(2):
            shutil.rmtree(store / "gitflywheel" / "site-cache", ignore_errors=True)
            done = make_site(opened, out, base_url=BASE, branch="pages", workers=2, parallel_from=1)
            assert files_of(out) == serial and tree_of(store, "pages") == serial_tree
        again = make_site(opened, out, base_url=BASE, branch="pages", workers=2, parallel_from=1)
    assert again.written == 0 and not again.branch_changed and done.files == again.files
    assert files_of(out) == serial


def test_a_workers_template_error_is_the_same_error(store: Path, tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "session.html.j2").write_text(
        '{% if post.title == "Parser step 9" %}{{ 1 // 0 }}{% endif %}{{ post.title }}\n'
    )
    sources = load_templates(templates, SITE_TEMPLATES)
    raised = []
    for workers in (1, 2):
        stage = tmp_path / f"stage-{workers}"
        stage.mkdir()
        with Store.open(store) as opened, pytest.raises(RenderError) as caught:
            build_site(
                opened,
                base_url=BASE,
                templates=sources,
                staging=stage,
                workers=workers,
                parallel_from=1,
            )
        assert list(stage.iterdir()) == []  # the staging folder removed
        raised.append((type(caught.value), str(caught.value), caught.value.__cause__))
    assert raised[0][:2] == raised[1][:2]
    assert "session.html.j2, line 1" in raised[0][1] and "ZeroDivisionError" in raised[0][1]
    assert raised[1][2] is None  # no traceback of the worker's to show


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.slow
@pytest.mark.skipif(usable_cores() < 2 or not Path("/proc/self").exists(), reason="one core")
def test_a_worker_killed_midway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full build of enough sessions to start workers, one of them killed while the
    pages are made: an error (no traceback), a nonzero exit, and the folder as the last
    build left it."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764900000")
    path = ingest(tmp_path, PAGES_PARALLEL_FROM * 3)
    out = tmp_path / "site"
    command = [sys.executable, "-m", "gitflywheel", "site", "--repo", str(path), str(out)]
    command += ["--base-url", BASE]
    subprocess.run(command, check=True, capture_output=True)
    before = files_of(out)
    shutil.rmtree(path / "gitflywheel" / "site-cache")  # every session's pages made again
    build = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    killed = None
    deadline = time.monotonic() + 60
    while killed is None and build.poll() is None and time.monotonic() < deadline:
        workers = _children(build.pid)
        if workers:
            os.kill(workers[0], signal.SIGKILL)
            killed = workers[0]
        time.sleep(0.002)
    _, errors = build.communicate(timeout=120)
    assert killed is not None, "no worker was seen"
    text = errors.decode()
    assert build.returncode != 0
    # the first workers seen read the posts (no summary of them is kept)
    assert re.search(
        r"error: a process (reading the sessions' posts|making the sessions' (cards|pages)) "
        "ended before",
        text,
    )
    assert "Traceback" not in text
    assert files_of(out) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".gitflywheel-site-")] == []


def test_a_first_folder_is_the_staging_folder_moved(store: Path, tmp_path: Path) -> None:
    """A site written to a folder that does not exist yet is its staging folder, moved
    once: the same files, modes and branch tree as one written into an empty folder (its
    files linked in one by one), the folder's mode as `mkdir` gives it, and the branch
    committed after the folder reads its files from their new place."""
    linked = tmp_path / "linked"
    linked.mkdir()  # an empty folder that exists: the files are linked into a new one
    moved = tmp_path / "deep" / "moved"
    with Store.open(store) as opened:
        make_site(opened, linked, base_url=BASE, branch="linked")
        shutil.rmtree(store / "gitflywheel" / "site-cache")
        done = make_site(opened, moved, base_url=BASE, branch="moved")
    assert done.written == len(files_of(moved)) > 100
    assert files_of(moved) == files_of(linked)
    assert tree_of(store, "moved") == tree_of(store, "linked")

    def modes(folder: Path) -> dict[str, int]:
        return {p.relative_to(folder).as_posix(): p.stat().st_mode for p in folder.rglob("*")}

    assert modes(moved) == modes(linked)
    made = tmp_path / "made"
    made.mkdir()
    assert moved.stat().st_mode == made.stat().st_mode == linked.stat().st_mode
    assert sorted(p.name for p in (tmp_path / "deep").iterdir()) == ["moved"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_the_free_pages_of_the_heap_leave_the_resident_set_before_a_fork() -> None:
    """What a build let go stays in its resident set (and each forked worker's) until
    the C library gives the pages back: `_return_free_pages` does, before workers are
    forked. Here 40 MB freed under a block still held (the heap cannot shrink from its
    top) leaves the resident set."""
    libc = site_module._libc()
    if libc is None or not hasattr(libc, "malloc_trim"):
        pytest.skip("no malloc_trim in this C library")
    page = os.sysconf("SC_PAGE_SIZE")

    def resident() -> int:
        return int(Path("/proc/self/statm").read_text().split()[1]) * page

    blocks = [bytearray(4000) for _ in range(10_000)]  # under malloc's mmap threshold
    held = bytearray(4000)  # above them, so that freeing them cannot just lower the top
    del blocks
    before = resident()
    site_module._return_free_pages()
    assert before - resident() > 20 * 2**20
    assert len(held) == 4000
