"""The query index: `ls` and `which` answer as the history does, however the store moved.

Each test compares the answers from the index with the answers read from the tip's
manifests (`use_index=False`), and looks into the SQLite file to see whether it was
brought up to date from the change or rebuilt: a probe row put in its `meta` table
survives an update and goes with a rebuild.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path

import pytest
from conftest import CORPUS, GFW, Cli, git, session
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from gitflywheel.errors import StoreError
from gitflywheel.queries.index import index_path
from gitflywheel.queries.sessions import iter_manifests, list_sessions, which
from gitflywheel.storage.store import Store

FILTERS: list[dict[str, str]] = [
    {},
    {"session_type": "build"},
    {"session_type": "trade"},
    {"session_type": "life_aria"},
    {"agent": "Agent-1"},
    {"since": "2025-12-02"},
    {"until": "2025-12-02"},
    {"since": "2025-11-01", "until": "2025-12-03"},
    {"since": "2025-12-02T03:30:00Z", "until": "2025-12-05T00:00:00+02:00"},
    {"session_type": "build", "since": "2025-12-01"},
]


def agents(store: Path) -> set[str]:
    with Store.open(store) as opened:
        return {m.agent_id for m in iter_manifests(opened)}


def blobs(store: Path) -> list[str]:
    """Every blob `which` names a holder of: records, artifacts, screenshots (not facts)."""
    with Store.open(store) as opened:
        return sorted({f.blob for m in iter_manifests(opened) for f in m.files() if f != m.facts})


def assert_same_answers(store: Path) -> None:
    """Every filter of `ls` and every blob for `which`: index and history agree, and the
    index describes the tip afterwards."""
    with Store.open(store) as opened:
        filters = FILTERS + [{"agent": a} for a in sorted(agents(store))]
        for f in filters:
            assert list_sessions(opened, **f) == list_sessions(opened, **f, use_index=False), f
        for blob in [*blobs(store), "0" * 40]:
            assert which(opened, blob) == which(opened, blob, use_index=False), blob
        tip = opened.tip()
    assert tip is not None and described(store) == tip.decode()


def described(store: Path) -> str | None:
    db = sqlite3.connect(index_path(Store.open(store)))
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'commit'").fetchone()
        return None if row is None else str(row[0])
    finally:
        db.close()


def put_probe(store: Path) -> None:
    db = sqlite3.connect(index_path(Store.open(store)))
    with db:
        db.execute("INSERT INTO meta VALUES ('probe', 'kept by an update')")
    db.close()


def probe_kept(store: Path) -> bool:
    db = sqlite3.connect(index_path(Store.open(store)))
    try:
        return db.execute("SELECT 1 FROM meta WHERE key = 'probe'").fetchone() is not None
    finally:
        db.close()


def ls_ids(cli: Cli, store: Path, *args: str) -> list[str]:
    result = cli("ls", "--repo", store, "--json", *args)
    assert result.exit_code == 0, result.output
    return [row["session_id"] for row in json.loads(result.output)]


def ingest_json(cli: Cli, store: Path, tmp_path: Path, name: str, *docs: object) -> None:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(list(docs)))
    result = cli("ingest", "--repo", store, path, *(["--revise"] if name.startswith("rev") else []))
    assert result.exit_code == 0, result.output


def remove_index(store: Path) -> None:
    path = index_path(Store.open(store))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def index_rows(store: Path) -> tuple[list[tuple[object, ...]], ...]:
    """Every row of the index but its probe, in a fixed order."""
    db = sqlite3.connect(index_path(Store.open(store)))
    try:
        return tuple(
            db.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
            for table in ("sessions", "files")
        ) + (db.execute("SELECT * FROM meta WHERE key != 'probe' ORDER BY key").fetchall(),)
    finally:
        db.close()


def assert_index_as_built_from_history(store: Path) -> None:
    """The index describes the tip, with the rows a build from the tip's tree makes."""
    with Store.open(store) as opened:
        tip = opened.tip()
    assert tip is not None and described(store) == tip.decode()
    kept = index_rows(store)
    remove_index(store)
    assert_same_answers(store)  # built again, from the history
    assert index_rows(store) == kept


@pytest.mark.slow
def test_the_corpus_answers_the_same_from_the_index(cli: Cli, corpus_store: Path) -> None:
    remove_index(corpus_store)
    assert_same_answers(corpus_store)
    assert index_path(Store.open(corpus_store)).is_file()
    assert_same_answers(corpus_store)  # the second time from an index already up to date
    listed = cli("ls", "--repo", corpus_store, "--json")
    with Store.open(corpus_store) as opened:
        history = list_sessions(opened, use_index=False)
    assert json.loads(listed.output) == [vars(r) for r in history]
    blob = blobs(corpus_store)[0]
    found = cli("which", "--repo", corpus_store, blob, "--json")
    assert found.exit_code == 0
    with Store.open(corpus_store) as opened:
        _, holders = which(opened, blob, use_index=False)
    assert json.loads(found.output)["holders"] == [vars(h) for h in holders]


@pytest.mark.slow
def test_an_ingest_and_a_revision_update_the_index_from_the_change(
    cli: Cli, corpus_store: Path, tmp_path: Path
) -> None:
    assert_same_answers(corpus_store)
    put_probe(corpus_store)
    ingest_json(cli, corpus_store, tmp_path, "new", session("new-1"), session("new-2"))
    assert "new-1" in ls_ids(cli, corpus_store)
    assert probe_kept(corpus_store)  # brought up to date, not rebuilt
    assert_same_answers(corpus_store)
    ingest_json(cli, corpus_store, tmp_path, "revised", session("new-1", title="Second take"))
    with Store.open(corpus_store) as opened:
        (row,) = [r for r in list_sessions(opened) if r.session_id == "new-1"]
    assert (row.revision, row.title) == (2, "Second take")
    assert probe_kept(corpus_store)
    assert_same_answers(corpus_store)


def test_ingest_keeps_the_index_from_what_it_wrote(cli: Cli, tmp_path: Path) -> None:
    """A new store's first ingest starts the index, every later ingest and revision moves
    it along (the probe stays), and its rows are those the history gives."""
    store = tmp_path / "store.git"
    corpus = sorted(CORPUS.glob("*.json"))
    assert cli("ingest", "--repo", store, *corpus[:12]).exit_code == 0
    assert_index_as_built_from_history(store)
    put_probe(store)
    assert cli("ingest", "--repo", store, *corpus[12:]).exit_code == 0
    ingest_json(cli, store, tmp_path, "new", session("new-1"), session("new-2"))
    ingest_json(cli, store, tmp_path, "revised", session("new-1", title="Second take"))
    assert probe_kept(store)  # moved along, never rebuilt
    assert_index_as_built_from_history(store)


def test_bulk_ingest_with_workers_keeps_the_index(tmp_path: Path) -> None:
    """Sessions planned by worker processes, landing in several batches."""
    from gitflywheel.recording.ingest import ingest

    store = tmp_path / "store.git"
    report = ingest(store, [str(CORPUS)], workers=2, parallel_after=2, batch_size=7)
    assert report.exit_code == 0 and report.count("recorded") > 14
    assert_index_as_built_from_history(store)


def test_an_index_missing_or_behind_is_brought_up_then_moved_along(
    cli: Cli, tmp_path: Path
) -> None:
    """No index on a store with sessions, or one describing an older commit: ingest's
    slug lookups bring it to the tip from the history (a rebuild, or an update from the
    change), and its flushes move it along from there."""
    store = tmp_path / "store.git"
    corpus = sorted(CORPUS.glob("*.json"))
    assert cli("ingest", "--repo", store, *corpus[:5]).exit_code == 0
    remove_index(store)
    assert cli("ingest", "--repo", store, *corpus[5:10]).exit_code == 0
    assert_index_as_built_from_history(store)
    put_probe(store)
    assert cli("config", "--repo", store, "site.title", "Elsewhere").exit_code == 0
    assert cli("ingest", "--repo", store, *corpus[10:15]).exit_code == 0
    assert probe_kept(store)
    assert_index_as_built_from_history(store)


def test_advance_moves_only_an_index_of_the_commit_it_starts_from(cli: Cli, tmp_path: Path) -> None:
    from gitflywheel.queries.index import advance

    store = tmp_path / "store.git"
    assert cli("ingest", "--repo", store, *sorted(CORPUS.glob("*.json"))[:5]).exit_code == 0
    with Store.open(store) as opened:
        before = opened.tip()
    assert before is not None and described(store) == before.decode()
    assert cli("config", "--repo", store, "site.title", "Elsewhere").exit_code == 0
    with Store.open(store) as opened:
        after = opened.tip()
        assert after is not None
        assert not advance(opened, after, after, {})  # it describes `before`, not `after`
        assert described(store) == before.decode()
        assert advance(opened, before, after, {})  # a settings commit changes no folder
    assert described(store) == after.decode()
    assert_index_as_built_from_history(store)
    remove_index(store)
    with Store.open(store) as opened:
        assert not advance(opened, after, after, {})  # sessions it never read: left alone
    assert not index_path(Store.open(store)).exists()


@pytest.mark.slow
def test_a_sync_merge_updates_the_index(cli: Cli, tmp_path: Path) -> None:
    corpus = sorted(CORPUS.glob("*.json"))
    hub = tmp_path / "hub.git"
    git("init", "-q", "--bare", "-b", "main", hub)
    a, b = tmp_path / "a.git", tmp_path / "b.git"
    assert cli("ingest", "--repo", a, *corpus[:10]).exit_code == 0
    assert cli("sync", "--repo", a, hub).exit_code == 0
    assert cli("sync", "--repo", b, hub).exit_code == 0
    assert cli("ingest", "--repo", a, *corpus[10:20]).exit_code == 0
    assert cli("ingest", "--repo", b, *corpus[20:30]).exit_code == 0
    assert cli("sync", "--repo", a, hub).exit_code == 0
    assert_same_answers(b)
    put_probe(b)
    merged = cli("sync", "--repo", b, hub, "--json")
    assert json.loads(merged.stdout)["action"] == "merged"
    assert len(ls_ids(cli, b)) == 30
    assert probe_kept(b)
    assert_same_answers(b)


@pytest.mark.slow
def test_main_rewound_rebuilds_the_index(cli: Cli, corpus_store: Path, tmp_path: Path) -> None:
    ingest_json(cli, corpus_store, tmp_path, "later", session("later-1"))
    assert_same_answers(corpus_store)
    put_probe(corpus_store)
    git("-C", corpus_store, "update-ref", "refs/heads/main", "main~1")
    assert "later-1" not in ls_ids(cli, corpus_store)
    assert not probe_kept(corpus_store)  # the index named a commit main no longer reaches
    assert_same_answers(corpus_store)


def damage_garbage(path: Path) -> None:
    path.write_bytes(b"not an sqlite file at all, " * 100)


def damage_truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def damage_pages(path: Path) -> None:
    """Pages zeroed, as a lost write leaves them: SQLite finds them when it reads them."""
    data = bytearray(path.read_bytes())
    third = len(data) // 3
    data[third : 2 * third] = bytes(third)
    path.write_bytes(bytes(data))


def damage_foreign_commit(path: Path) -> None:
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'commit'", ("f" * 40,))
    db.close()


def damage_format(path: Path) -> None:
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE meta SET value = '999' WHERE key = 'format'")
        db.execute("DELETE FROM sessions")
    db.close()


def damage_schema(path: Path) -> None:
    db = sqlite3.connect(path)
    with db:
        db.execute("DROP TABLE files")
    db.close()


@pytest.mark.parametrize(
    "damage",
    [
        damage_garbage,
        damage_truncated,
        damage_pages,
        damage_foreign_commit,
        damage_format,
        damage_schema,
    ],
)
@pytest.mark.slow
def test_a_damaged_index_is_never_trusted(cli: Cli, corpus_store: Path, damage: object) -> None:
    assert_same_answers(corpus_store)
    path = index_path(Store.open(corpus_store))
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    damage(path)  # type: ignore[operator]
    assert_same_answers(corpus_store)


@pytest.mark.slow
def test_an_index_naming_a_commit_ahead_of_main_is_rebuilt(
    cli: Cli, corpus_store: Path, tmp_path: Path
) -> None:
    """An index made on another branch's history (or from a copy of another store)."""
    assert_same_answers(corpus_store)
    git("-C", corpus_store, "branch", "before", "main")
    ingest_json(cli, corpus_store, tmp_path, "ahead", session("ahead-1"))
    assert_same_answers(corpus_store)
    git("-C", corpus_store, "update-ref", "refs/heads/main", "before")
    assert "ahead-1" not in ls_ids(cli, corpus_store)
    assert_same_answers(corpus_store)


def test_something_in_the_way_of_the_index_leaves_the_history_to_answer(
    cli: Cli, corpus_store: Path
) -> None:
    remove_index(corpus_store)
    path = index_path(Store.open(corpus_store))
    path.mkdir(parents=True)  # a folder where the file would be: nothing can be written
    with Store.open(corpus_store) as opened:
        assert list_sessions(opened) == list_sessions(opened, use_index=False)
        blob = blobs(corpus_store)[0]
        assert which(opened, blob) == which(opened, blob, use_index=False)
    assert path.is_dir()


def test_a_timestamp_that_does_not_parse_fails_as_the_history_does(
    cli: Cli, store: Path, tmp_path: Path
) -> None:
    ingest_json(cli, store, tmp_path, "few", session("t-1"), session("t-2"))
    assert_same_answers(store)
    path = next(
        line.split("\t")[1]
        for line in git("-C", store, "ls-tree", "-r", "main").splitlines()
        if line.endswith("/t-2/manifest.json")
    )
    manifest = json.loads(git("-C", store, "show", f"main:{path}"))
    manifest["timestamp"] = "the day after tomorrow"
    blob = (
        subprocess.run(
            ["git", "-C", store, "hash-object", "-w", "--stdin"],
            input=json.dumps(manifest).encode(),
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    index = {"GIT_INDEX_FILE": str(tmp_path / "edit.index")}
    git("-C", store, "read-tree", "main", env=index)
    git("-C", store, "update-index", "--cacheinfo", f"100644,{blob},{path}", env=index)
    tree = git("-C", store, "write-tree", env=index).strip()
    commit = git(
        "-C",
        store,
        "-c",
        "user.name=Someone",
        "-c",
        "user.email=someone@example.com",
        "commit-tree",
        tree,
        "-p",
        "main",
        "-m",
        "A manifest edited by hand",
    ).strip()
    git("-C", store, "update-ref", "refs/heads/main", commit)
    with Store.open(store) as opened:
        for f in ({}, {"session_type": "build"}, {"since": "2025-01-01"}):
            with pytest.raises(StoreError) as from_history:
                list_sessions(opened, **f, use_index=False)
            with pytest.raises(StoreError) as from_index:
                list_sessions(opened, **f)
            assert str(from_index.value) == str(from_history.value)
            assert "t-2: manifest timestamp" in str(from_index.value)
        assert list_sessions(opened, agent="nobody") == []
        for blob_id in blobs(store):
            assert which(opened, blob_id) == which(opened, blob_id, use_index=False)


@pytest.mark.slow
def test_queries_never_wait_for_the_writer_lock_nor_hold_up_ingest(
    cli: Cli, corpus_store: Path, tmp_path: Path
) -> None:
    assert_same_answers(corpus_store)
    env = {**os.environ, "GITFLYWHEEL_REPO": str(corpus_store)}
    with Store.open(corpus_store) as opened, opened.lock():  # a writer at work
        done = subprocess.run(
            [*GFW, "ls", "--json"], capture_output=True, timeout=60, env=env, check=False
        )
        assert done.returncode == 0 and len(json.loads(done.stdout)) > 50
    db = sqlite3.connect(index_path(Store.open(corpus_store)), isolation_level=None)
    db.execute("BEGIN IMMEDIATE")  # another reader bringing the index up to date
    try:
        data = tmp_path / "while.json"
        data.write_text(json.dumps(session("while-1")))
        ingest = subprocess.run(
            [*GFW, "ingest", str(data)], capture_output=True, timeout=60, env=env, check=False
        )
        assert ingest.returncode == 0, ingest.stderr
        blob = blobs(corpus_store)[0]
        answer = subprocess.run(
            [*GFW, "which", blob], capture_output=True, timeout=60, env=env, check=False
        )
        assert answer.returncode == 0, answer.stderr  # the history answered meanwhile
    finally:
        db.execute("ROLLBACK")
        db.close()
    assert "while-1" in ls_ids(cli, corpus_store)
    assert_same_answers(corpus_store)


def _installed_distributions(name: str) -> list[metadata.Distribution]:
    """The installed distribution `name` and every one it requires (extras left out)."""
    found: dict[str, metadata.Distribution] = {}
    todo = [name]
    while todo:
        dist = metadata.distribution(todo.pop())
        key = canonicalize_name(dist.metadata["Name"])
        if key in found:
            continue
        found[key] = dist
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return list(found.values())


def _copy_installed_package(into: Path) -> None:
    """gitflywheel as installed, and what it requires, copied file by file as their
    RECORDs list them: a folder for another user's PYTHONPATH, since the clone's own
    virtualenv may sit in a folder only its owner can enter."""
    for dist in _installed_distributions("gitflywheel"):
        for file in dist.files or []:
            if ".." in file.parts:  # scripts in bin/: not needed to import
                continue
            source = Path(str(dist.locate_file(file)))
            if source.is_file():
                target = into / file
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)


@pytest.fixture()
def world_readable_copy(corpus_store: Path) -> Iterator[Path]:
    """The corpus store copied where another user can read it, and nobody can write;
    beside it, in `lib/`, the installed package for that user's Python to import."""
    remove_index(corpus_store)  # the one ingest kept: this store's history answers
    index_path(Store.open(corpus_store)).parent.rmdir()
    where = Path(tempfile.mkdtemp(prefix="gfw-readonly-"))
    try:
        _copy_installed_package(where / "lib")
        shutil.copytree(corpus_store, where / "store.git")
        for folder, dirs, files in os.walk(where):
            for name in dirs:
                Path(folder, name).chmod(0o555)
            for name in files:
                Path(folder, name).chmod(0o444)
        where.chmod(0o755)
        yield where / "store.git"
    finally:
        for folder, dirs, _ in os.walk(where):
            for name in dirs:
                Path(folder, name).chmod(0o755)
        shutil.rmtree(where)


def _python_for(run: Callable[..., subprocess.CompletedProcess[bytes]], lib: Path) -> str:
    """A Python of this version that `run`'s user can start and that imports gitflywheel
    from `lib`: the one this virtualenv was made from, else the same program by its real
    path or from PATH; the test is skipped when there is none."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    check = (
        f"import sys, gitflywheel; assert '%d.%d' % sys.version_info[:2] == {version!r}; "
        "print(gitflywheel.__file__)"
    )
    candidates = [
        getattr(sys, "_base_executable", None),
        os.path.realpath(sys.executable),
        shutil.which(f"python{version}"),
    ]
    tried = []
    for python in dict.fromkeys(c for c in candidates if c):
        probe = run(python, "-c", check)
        if probe.returncode == 0:
            assert probe.stdout.decode().startswith(str(lib)), probe.stdout  # not the clone's
            return python
        tried.append(f"{python}: {probe.stderr[-200:]!r}")
    pytest.skip(f"another user can run no Python {version} importing from {lib}: {tried}")


def test_a_read_only_store_answers_from_its_history(world_readable_copy: Path) -> None:
    store = world_readable_copy
    lib = store.parent / "lib"
    as_reader: list[str] = []
    if os.geteuid() == 0:  # root writes anywhere: read as nobody instead
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv to read as another user")
        as_reader = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    # The reader imports the copy in `lib/`, never the clone's virtualenv or source tree,
    # which may sit in a folder only its owner can enter (a private home, `mktemp -d`).
    env = {
        **os.environ,
        "HOME": str(store.parent),
        "GITFLYWHEEL_REPO": str(store),
        "PYTHONPATH": str(lib),
        "PYTHONNOUSERSITE": "1",
    }
    env.pop("VIRTUAL_ENV", None)

    def run(*args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [*as_reader, *args], env=env, cwd=store.parent, capture_output=True, check=False
        )

    python = _python_for(run, lib)
    probe = run(python, "-c", f"open({str(store / 'config')!r}).read()")
    assert probe.returncode == 0, probe.stderr  # the reader reads the store
    denied = run(python, "-c", f"open({str(store / 'probe')!r}, 'w')")
    assert denied.returncode != 0  # the store is read-only to this reader
    listed = run(python, "-m", "gitflywheel", "ls", "--json")
    assert listed.returncode == 0, listed.stderr
    with Store.open(store) as opened:
        expected = [vars(r) for r in list_sessions(opened, use_index=False)]
        blob = sorted({a.blob for m in iter_manifests(opened) for a in m.artifacts})[0]
        _, holders = which(opened, blob, use_index=False)
    assert json.loads(listed.stdout) == expected
    found = run(python, "-m", "gitflywheel", "which", blob, "--json")
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["holders"] == [vars(h) for h in holders]
    assert not (store / "gitflywheel").exists()
