"""The site caches' one database: records by kind and key, held and written in batches,
shared by processes forked from a build and by builds at once, and never more than a
cache (a file damaged, a folder that cannot be written, a path that is a folder, a lock
held too long cost work, never an error).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import EXAMPLES

from gitflywheel import ingest
from gitflywheel.publishing import cache_db
from gitflywheel.publishing.build_memo import BuildMemo
from gitflywheel.publishing.cache_db import BATCH, FILE_NAME, CacheDB
from gitflywheel.publishing.cards import CardCache
from gitflywheel.publishing.fragments import FragmentCache
from gitflywheel.publishing.site import build_site
from gitflywheel.rendering.templates import SITE_TEMPLATES, RenderError, load_templates
from gitflywheel.storage.store import Store

BASE = "https://me.example.org/flywheel/"


def rows(folder: Path) -> dict[tuple[str, str], bytes]:
    """Every record the database in `folder` holds, read by SQLite itself."""
    with contextlib.closing(sqlite3.connect(folder / FILE_NAME)) as db:
        found = db.execute("SELECT kind, key, data FROM records").fetchall()
    return {(kind, key): bytes(data) for kind, key, data in found}


def in_child(work: Callable[[], int]) -> int:
    """The exit code of `work()` run in a process forked from this one."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 99
        try:
            code = work()
        finally:
            os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def test_records_round_trip_by_kind_and_key(tmp_path: Path) -> None:
    cache = CacheDB(tmp_path / "c")
    cache.put("page", "k1", b"one")
    cache.put("card", "k1", b"two")  # the same key, another kind
    cache.put("page", "k2", b"")
    assert cache.get("page", "k1") == b"one"  # held, not yet written
    assert not (tmp_path / "c" / FILE_NAME).exists()
    cache.flush()
    assert rows(tmp_path / "c") == {
        ("page", "k1"): b"one",
        ("card", "k1"): b"two",
        ("page", "k2"): b"",
    }
    again = CacheDB(tmp_path / "c")
    assert again.get("page", "k1") == b"one" and again.get("card", "k1") == b"two"
    assert again.get("page", "k2") == b"" and again.get("summary", "k1") is None
    again.put("page", "k1", b"three")  # in place of what was there
    again.flush()
    assert CacheDB(tmp_path / "c").get("page", "k1") == b"three"
    assert CacheDB(None).get("page", "k1") is None


def test_pruning_removes_the_records_of_every_other_code_and_keeps_the_rest(
    tmp_path: Path,
) -> None:
    cache = CacheDB(tmp_path)
    cache.put("page", "old", b"1", code="older")
    cache.put("page", "new", b"2", code="this")
    cache.put("folders", "f", b"3")  # no code's
    cache.flush()
    cache.put("card", "older-held", b"4", code="older")  # held, written by `prune`
    cache.put("fragment", "html", b"6", code="renderer")  # another kind's code, kept too
    cache.prune({"this", "renderer"})
    assert rows(tmp_path) == {
        ("page", "new"): b"2",
        ("folders", "f"): b"3",
        ("fragment", "html"): b"6",
    }
    with contextlib.closing(sqlite3.connect(tmp_path / FILE_NAME)) as db:
        assert sorted(db.execute("SELECT code FROM codes")) == [("renderer",), ("this",)]
    cache.put("page", "again", b"5", code="this")
    cache.prune({"this", "renderer"})  # nothing of another code: nothing goes
    assert len(rows(tmp_path)) == 4
    cache.prune({"this"})  # the renderer's code is now another's
    assert set(rows(tmp_path)) == {("page", "new"), ("folders", "f"), ("page", "again")}
    CacheDB(None).prune({"this"})  # keeping nothing, prunes nothing


def test_records_read_ahead_are_those_a_lookup_finds_once(tmp_path: Path) -> None:
    writer = CacheDB(tmp_path)
    for n in range(1200):  # more than one query's worth
        writer.put("session", f"{n:04}", str(n).encode())
    writer.flush()
    cache = CacheDB(tmp_path)
    wanted = [f"{n:04}" for n in range(0, 1300, 3)]  # some never written
    cache.prefetch("session", wanted)
    writer.put("session", "0003", b"changed after")  # a read ahead is what was read
    writer.flush()
    assert [cache.get("session", k) for k in wanted] == [
        str(int(k)).encode() if int(k) < 1200 else None for k in wanted
    ]
    assert cache.get("session", "0003") == b"changed after"  # read ahead once, then read
    cache.prefetch("session", ["0006"])
    cache.put("session", "0006", b"put after")  # a put wins over what was read ahead
    assert cache.get("session", "0006") == b"put after"
    cache.prefetch("page", ["0001"])  # another kind: nothing there
    assert cache.get("page", "0001") is None
    CacheDB(None).prefetch("session", wanted)  # keeping nothing, reads nothing


def test_records_are_written_a_batch_at_a_time(tmp_path: Path) -> None:
    writer, reader = CacheDB(tmp_path), CacheDB(tmp_path)
    for n in range(BATCH - 1):
        writer.put("fragment", str(n), b"x" * n)
    assert reader.get("fragment", "0") is None  # held by the writer
    writer.put("fragment", "last", b"y")
    assert len(rows(tmp_path)) == BATCH  # written, without a flush
    assert reader.get("fragment", "0") == b"" and reader.get("fragment", "last") == b"y"


def test_a_build_writes_what_it_holds_at_its_end_and_when_it_fails(tmp_path: Path) -> None:
    store = tmp_path / "s.git"
    assert ingest(store, [EXAMPLES]).exit_code == 0
    with Store.open(store) as opened:
        cache = opened.paths.site_cache
        memo, fragments = BuildMemo(cache), FragmentCache(cache)
        build_site(opened, base_url=BASE, memo=memo, fragments=fragments, cards=CardCache(None))
    kept = rows(cache)
    assert len([k for k in kept if k[0] == FragmentCache.KIND]) == fragments.rendered > 0
    assert len([k for k in kept if k[0] != FragmentCache.KIND]) == memo.made > 0

    (tmp_path / "other").mkdir()
    broken = {**load_templates(shipped=SITE_TEMPLATES), "404.html.j2": b"{{ 1 // 0 }}"}
    with Store.open(store) as opened, pytest.raises(RenderError):
        build_site(  # the last page fails: what the build made before it is kept
            opened,
            base_url=BASE,
            templates=broken,
            memo=BuildMemo(tmp_path / "other"),
            fragments=FragmentCache(tmp_path / "other"),
            cards=CardCache(None),
        )
    kinds = {kind for kind, _ in rows(tmp_path / "other")}
    assert {FragmentCache.KIND, "post", "session", "page"} <= kinds


def test_a_forked_process_writes_through_a_connection_of_its_own(tmp_path: Path) -> None:
    cache = CacheDB(tmp_path)
    cache.put("page", "before", b"flushed")
    cache.flush()
    assert cache.get("page", "before") == b"flushed"  # the parent's connection is open
    cache.put("page", "held", b"by the parent")

    def child() -> int:
        if cache.get("page", "held") is not None:  # the parent's records are dropped
            return 1
        if cache.get("page", "before") != b"flushed":
            return 2
        cache.put("page", "child", b"from the child")
        cache.flush()
        return 0

    assert in_child(child) == 0
    assert cache.get("page", "child") == b"from the child"  # the parent's connection sees it
    assert cache.get("page", "held") == b"by the parent"
    cache.flush()
    assert rows(tmp_path) == {
        ("page", "before"): b"flushed",
        ("page", "held"): b"by the parent",
        ("page", "child"): b"from the child",
    }


def test_two_processes_writing_at_once_both_keep_everything(tmp_path: Path) -> None:
    script = (
        "import sys; from pathlib import Path\n"
        "from gitflywheel.publishing.cache_db import CacheDB\n"
        "cache = CacheDB(Path(sys.argv[1]))\n"
        "for n in range(3000):\n"
        "    cache.put(sys.argv[2], str(n), sys.argv[2].encode() * 200)\n"
        "cache.flush()\n"
    )
    writers = [
        subprocess.Popen([sys.executable, "-c", script, str(tmp_path), kind], cwd=tmp_path)
        for kind in ("page", "fragment")
    ]
    assert [w.wait() for w in writers] == [0, 0]
    kept = rows(tmp_path)
    assert len(kept) == 6000
    assert kept["page", "2999"] == b"page" * 200 and kept["fragment", "0"] == b"fragment" * 200


def test_a_lock_held_too_long_costs_the_records_never_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_db, "BUSY_SECONDS", 0.2)
    first = CacheDB(tmp_path)
    first.put("page", "old", b"kept")
    first.flush()
    other = sqlite3.connect(tmp_path / FILE_NAME, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer that does not let go
    cache = CacheDB(tmp_path)
    cache.put("page", "new", b"lost")
    cache.flush()
    assert cache.get("page", "old") == b"kept"  # reads go on
    other.execute("ROLLBACK")
    other.close()
    assert rows(tmp_path) == {("page", "old"): b"kept"}


@pytest.fixture
def built(tmp_path: Path) -> Iterator[tuple[Path, Callable[[], dict[str, bytes]]]]:
    """A store with a site built once into its caches, and a build that reads them."""
    store = tmp_path / "s.git"
    assert ingest(store, [EXAMPLES]).exit_code == 0
    with Store.open(store) as opened:
        cache = opened.paths.site_cache

    def build() -> dict[str, bytes]:
        with Store.open(store) as opened:
            return dict(build_site(opened, base_url=BASE, cards=CardCache(None)).files)

    yield cache, build


def test_a_database_of_garbage_is_made_again_and_the_build_goes_on(
    built: tuple[Path, Callable[[], dict[str, bytes]]],
) -> None:
    cache, build = built
    expected = build()
    for name in (FILE_NAME + "-wal", FILE_NAME + "-shm"):
        (cache / name).unlink(missing_ok=True)
    (cache / FILE_NAME).write_bytes(os.urandom(8192))
    fragments = FragmentCache(cache)
    assert fragments.records.get(FragmentCache.KIND, "0" * 64) is None
    assert build() == expected
    assert len(rows(cache)) > 0  # made again, by the build
    memo = BuildMemo(cache)
    assert memo.get("page", "0" * 64) is None


def test_a_truncated_database_is_never_trusted_and_the_build_goes_on(
    built: tuple[Path, Callable[[], dict[str, bytes]]],
) -> None:
    cache, build = built
    expected = build()
    path = cache / FILE_NAME

    def truncate() -> None:
        assert not (cache / (FILE_NAME + "-wal")).exists()  # the log is in the file
        with path.open("r+b") as file:
            file.truncate(path.stat().st_size // 2)

    whole = rows(cache)
    truncate()
    assert build() == expected
    assert build() == expected
    truncate()
    reader = CacheDB(cache)
    for (kind, key), data in whole.items():
        assert reader.get(kind, key) in (None, data)  # never other bytes


def test_a_database_path_that_is_a_folder_costs_only_work(
    built: tuple[Path, Callable[[], dict[str, bytes]]],
) -> None:
    cache, build = built
    (cache / FILE_NAME).mkdir(parents=True)
    records = CacheDB(cache)
    records.put("page", "k", b"x")
    records.flush()
    assert records.get("page", "k") is None
    fragments = FragmentCache(cache)
    first = build()
    assert build() == first and (cache / FILE_NAME).is_dir()
    assert fragments.records.get(FragmentCache.KIND, "0" * 64) is None


def test_a_folder_that_cannot_be_written_costs_only_work(tmp_path: Path) -> None:
    """In a folder this process may read but not write (as root, the child drops to
    `nobody`): an empty one, and one holding a database written before."""
    with tempfile.TemporaryDirectory() as top:
        os.chmod(top, 0o755)
        empty, made = Path(top, "empty"), Path(top, "made")
        written = CacheDB(made)
        written.put("page", "k", b"kept")
        written.flush()
        for folder in (empty, made):
            folder.mkdir(exist_ok=True)
            folder.chmod(0o555)

        def child() -> int:
            if os.geteuid() == 0:
                os.setgid(65534)
                os.setuid(65534)
            for folder in (empty, made, empty / "below"):
                records = CacheDB(folder)
                if records.get("page", "k") not in (None, b"kept"):
                    return 1
                records.put("page", "new", b"x")
                records.flush()
                memo = BuildMemo(folder)
                memo.put("page", "m", {"a": 1})
                memo.flush()
                if memo.get("page", "none") is not None:
                    return 2
            return 0

        assert in_child(child) == 0
        assert sorted(os.listdir(empty)) == []
        assert rows(made) == {("page", "k"): b"kept"}


def test_the_per_file_layout_of_earlier_versions_is_removed_never_read(tmp_path: Path) -> None:
    key = "ab" + "0" * 62
    (tmp_path / "ab").mkdir()
    (tmp_path / "ab" / f"{key}.json").write_text(
        '{"html": "<p>old</p>", "images": [], "links": []}'
    )
    (tmp_path / "built" / "page" / "ab").mkdir(parents=True)
    (tmp_path / "built" / "page" / "ab" / f"{key}.json").write_text('{"sha256": "0"}')
    (tmp_path / "notes").mkdir()  # not of that layout: left alone
    assert BuildMemo(tmp_path).get("page", key) is None
    assert FragmentCache(tmp_path).records.get(FragmentCache.KIND, key) is None
    left = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(FILE_NAME + "-"))
    assert left == [FILE_NAME, "notes"]


def test_busy_and_damaged_are_told_by_the_primary_code_of_an_extended_one() -> None:
    """SQLite reports a log being recovered as SQLITE_BUSY_RECOVERY (261), a busy the
    busy wait does not cover: it is waited for like SQLITE_BUSY (5)."""
    errors = {}
    for code in (5, 261, 6, 11, 267, 26, 1):
        error = sqlite3.OperationalError("database is locked")
        error.sqlite_errorcode = code  # type: ignore[attr-defined]
        errors[code] = (cache_db._busy(error), cache_db._damaged(error))
    assert errors == {
        5: (True, False),
        261: (True, False),
        6: (True, False),
        11: (False, True),
        267: (False, True),
        26: (False, True),
        1: (False, False),
    }
