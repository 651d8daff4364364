"""The store's writer and what readers get back, with the real git as the second opinion.

A flush writes one pack and then moves `main` by compare-and-swap; a `main` moved by
someone else is refused; the writer lock is held for the whole block; an exception
inside the block writes nothing. Commits written round-trip through `git cat-file` and
`git fsck --strict`, and a `CommitInfo` says what `git log` says.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import pytest
from conftest import fsck, git

from gitflywheel.errors import StoreError
from gitflywheel.storage.commits import committer_identity
from gitflywheel.storage.objects import MalformedObject, blob_id
from gitflywheel.storage.packs import IDX_PREFIX, MAX_PACKS, PACK_PREFIX, PackIndex, Packs
from gitflywheel.storage.store import RefMoved, Store
from gitflywheel.storage.trees import FILE_MODE, TREE_MODE

AUTHOR = b"Ada Lovelace <ada@example.com>"
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Someone",
    "GIT_AUTHOR_EMAIL": "someone@example.com",
    "GIT_COMMITTER_NAME": "Someone",
    "GIT_COMMITTER_EMAIL": "someone@example.com",
}
WHEN = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)


def _packs(path: Path) -> list[Path]:
    return sorted((path / "objects" / "pack").glob("*.pack"))


def _new_store(tmp_path: Path) -> Store:
    store = Store.create(tmp_path / "s.git")
    store.point_head_at_main()
    return store


def _commit_files(store: Store, files: dict[str, bytes], message: bytes = b"Files\n") -> bytes:
    """One commit on `main` holding `files` on top of its tip's tree."""
    with store.writing() as writer:
        tip = writer.main
        editor = writer.edit(store.commit(tip).tree if tip else None)
        for path, data in files.items():
            editor.set(path, FILE_MODE, writer.put_blob(data))
        root = writer.write_tree(editor)
        commit = writer.commit(root, [tip] if tip else [], message, AUTHOR, WHEN, 1764633600)
        writer.flush(commit)
    return commit


def test_a_flush_writes_one_pack_then_moves_main(tmp_path: Path) -> None:
    with _new_store(tmp_path) as store:
        files = {f"a/b/{n}.md": f"file {n}\n".encode() for n in range(5)}
        first = _commit_files(store, files)
        assert len(_packs(store.path)) == 1
        second = _commit_files(store, {"a/c.md": b"more\n"})
        packs = _packs(store.path)
        assert len(packs) == 2
        listed = git("verify-pack", "-v", packs[-1].with_suffix(".idx"))
        kinds = sorted(line.split()[1] for line in listed.splitlines() if line[:1].isalnum()
                       and len(line.split()) >= 5)  # fmt: skip
        assert kinds == ["blob", "commit", "tree", "tree"]  # the new file, its folder, the root
        assert git("-C", store.path, "rev-parse", "main").strip() == second.decode()
        assert git("-C", store.path, "rev-parse", "main^").strip() == first.decode()
        assert store.tip() == second
    fsck(tmp_path / "s.git")


def test_staged_objects_read_back_before_the_flush(tmp_path: Path) -> None:
    with _new_store(tmp_path) as store, store.writing() as writer:
        sha = writer.put_blob(b"hello\n")
        editor = writer.edit(None)
        editor.set("x/hello.txt", FILE_MODE, sha)
        root = writer.write_tree(editor)
        assert writer.blob(sha) == b"hello\n"
        (folder,) = writer.tree(root)
        assert (folder.name, folder.mode) == (b"x", TREE_MODE)
        assert list(writer.tree(folder.id)) == [(b"hello.txt", FILE_MODE, sha)]
        assert sha not in store and _packs(store.path) == []


def test_a_main_moved_by_someone_else_is_refused(tmp_path: Path) -> None:
    with _new_store(tmp_path) as store:
        first = _commit_files(store, {"a.md": b"a\n"})
        with store.writing() as writer:
            editor = writer.edit(store.commit(first).tree)
            editor.set("b.md", FILE_MODE, writer.put_blob(b"b\n"))
            ours = writer.commit(writer.write_tree(editor), [first], b"Ours\n", AUTHOR, WHEN, 1)
            # Someone else moves main meanwhile (plain git takes no lock of ours).
            theirs = git("-C", store.path, "commit-tree", "-p", first.decode(), "-m", "Theirs",
                         git("-C", store.path, "rev-parse", "main^{tree}").strip(),
                         env=GIT_IDENTITY).strip()  # fmt: skip
            git("-C", store.path, "update-ref", "refs/heads/main", theirs, first.decode())
            with pytest.raises(RefMoved, match="main moved while we worked"):
                writer.flush(ours)
        assert git("-C", store.path, "rev-parse", "main").strip() == theirs
        assert store.tip() == theirs.encode()
    fsck(tmp_path / "s.git")


def test_the_writer_lock_is_held_for_the_whole_block(tmp_path: Path) -> None:
    def locked(path: Path) -> bool:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False

    with _new_store(tmp_path) as store:
        lock = store.paths.writer_lock
        with store.writing() as writer:
            assert locked(lock)
            writer.put_blob(b"x\n")
            writer.flush()
            assert locked(lock)
        assert not locked(lock)


def test_an_exception_inside_the_block_writes_nothing(tmp_path: Path) -> None:
    with _new_store(tmp_path) as store:
        first = _commit_files(store, {"a.md": b"a\n"})
        before = _packs(store.path)
        with pytest.raises(RuntimeError), store.writing() as writer:
            sha = writer.put_blob(b"never written\n")
            editor = writer.edit(store.commit(first).tree)
            editor.set("never.md", FILE_MODE, sha)
            writer.commit(writer.write_tree(editor), [first], b"Never\n", AUTHOR, WHEN, 1)
            raise RuntimeError("interrupted")
        assert _packs(store.path) == before
        assert sha not in store
        assert store.tip() == first
    done = subprocess.run(["git", "-C", tmp_path / "s.git", "cat-file", "-e", sha.decode()])
    assert done.returncode != 0


def test_objects_the_store_holds_are_not_written_again_when_asked(tmp_path: Path) -> None:
    with _new_store(tmp_path) as store:
        _commit_files(store, {"a.md": b"a\n"})
        before = _packs(store.path)
        with store.writing(skip_stored=True) as writer:
            writer.put_blob(b"a\n")
            writer.flush()
        assert _packs(store.path) == before


def test_a_branch_moves_by_compare_and_swap_and_main_is_not_a_branch_to_move(
    tmp_path: Path,
) -> None:
    with _new_store(tmp_path) as store:
        first = _commit_files(store, {"a.md": b"a\n"})
        tree = store.commit(first).tree
        with store.writing() as writer:
            site = writer.commit(tree, [], b"Site\n", committer_identity(), None, 5)
            writer.move_branch(b"refs/heads/pages", None, site)
            with pytest.raises(StoreError, match="not a branch gitflywheel may move"):
                writer.move_branch(b"refs/heads/main", first, site)
            with pytest.raises(RefMoved):
                writer.move_branch(b"refs/heads/pages", first, site)  # it is at `site`
        assert git("-C", store.path, "rev-parse", "pages").strip() == site.decode()
        assert store.tip() == first
    fsck(tmp_path / "s.git")


@pytest.mark.parametrize("name", ["x.lock", "a..b", "a b", "-x", "a/.b", "HEAD", "x/"])
def test_a_branch_name_git_refuses_is_a_store_error_before_anything_is_written(
    tmp_path: Path, name: str
) -> None:
    """(18.13) dulwich's RefFormatError never escapes: the name is refused as git's
    check-ref-format would, before the writer writes its pack."""
    with _new_store(tmp_path) as store:
        first = _commit_files(store, {"a.md": b"a\n"})
        packs = _packs(store.path)
        with store.writing() as writer:
            site = writer.commit(store.commit(first).tree, [], b"Site\n", AUTHOR, None, 5)
            with pytest.raises(StoreError, match="not a branch name git accepts"):
                writer.move_branch(f"refs/heads/{name}".encode(), None, site)
        assert _packs(store.path) == packs
        if name not in ("-x", "HEAD"):  # fine past the first part, as git has it
            with pytest.raises(StoreError, match="not a ref name git accepts"):
                store.set_ref(f"refs/gitflywheel/{name}".encode(), first)
        assert git("-C", store.path, "for-each-ref", "--format=%(refname)").split() == [
            "refs/heads/main"
        ]
    fsck(tmp_path / "s.git")


def test_a_commit_round_trips_through_git(tmp_path: Path) -> None:
    with _new_store(tmp_path) as store:
        first = _commit_files(store, {"a.md": b"a\n"}, b"First\n\nSession-Id: s-1\n")
        second = _commit_files(store, {"b.md": b"b\n"}, "Zweite \u00fcber\n".encode())
        for sha in (first, second):
            info = store.commit(sha)
            shown = subprocess.run(
                ["git", "-C", store.path, "cat-file", "commit", sha.decode()],
                capture_output=True,
                check=True,
            ).stdout
            assert shown == info.raw
    fsck(tmp_path / "s.git")


_FORMAT = "%H%n%T%n%P%n%an <%ae>%n%cn <%ce>%n%at%n%ct%n%ai%n%ci%n%B"


def _zone(text: str) -> int:
    """`+0530` as seconds east of UTC."""
    sign = -1 if text.startswith("-") else 1
    return sign * (int(text[1:3]) * 3600 + int(text[3:5]) * 60)


@pytest.mark.parametrize("zones", [("+0000", "+0000"), ("+0530", "-0700")])
def test_commit_info_says_what_git_log_says(tmp_path: Path, zones: tuple[str, str]) -> None:
    """Ours and one made by plain git, with zones other than UTC and two parents."""
    with _new_store(tmp_path) as store:
        first = _commit_files(store, {"a.md": b"a\n"})
        second = _commit_files(store, {"b.md": b"b\n"}, b"Second\n\nRevision: 2\n")
        env = {
            "GIT_AUTHOR_NAME": "Grace Hopper",
            "GIT_AUTHOR_EMAIL": "grace@example.com",
            "GIT_AUTHOR_DATE": f"1700000000 {zones[0]}",
            "GIT_COMMITTER_NAME": "Linus",
            "GIT_COMMITTER_EMAIL": "linus@example.com",
            "GIT_COMMITTER_DATE": f"1700000100 {zones[1]}",
        }
        tree = git("-C", store.path, "rev-parse", "main^{tree}").strip()
        merged = git(
            "-C", store.path, "commit-tree", "-p", second.decode(), "-p", first.decode(),
            "-m", "A merge", "-m", "by git", tree, env=env,
        ).strip()  # fmt: skip
        for sha in (first, second, merged.encode()):
            out = git("-C", store.path, "log", "-1", f"--format={_FORMAT}", sha.decode())
            lines = out.split("\n")
            info = store.commit(sha)
            assert info.id.decode() == lines[0]
            assert info.tree.decode() == lines[1]
            assert [p.decode() for p in info.parents] == lines[2].split()
            assert info.author.decode() == lines[3]
            assert info.committer.decode() == lines[4]
            assert (info.author_time, info.commit_time) == (int(lines[5]), int(lines[6]))
            assert info.author_timezone == _zone(lines[7].split()[-1])
            assert info.commit_timezone == _zone(lines[8].split()[-1])
            assert info.message.decode().rstrip("\n") == "\n".join(lines[9:]).rstrip("\n")
            with pytest.raises(AttributeError):
                info.tree = b"0" * 40  # type: ignore[misc]  # frozen


def test_tree_entries_are_what_git_ls_tree_lists(tmp_path: Path) -> None:
    with _new_store(tmp_path) as store:
        tip = _commit_files(store, {"a.b": b"1\n", "a/x": b"2\n", "a0": b"3\n", "b.md": b"4\n"})
        root = store.commit(tip).tree
        listed = git("-C", store.path, "ls-tree", root.decode()).splitlines()
        expected = []
        for line in listed:
            meta, name = line.split("\t")
            mode, _, sha = meta.split()
            expected.append((name.encode(), int(mode, 8), sha.encode()))
        assert list(store.tree(root)) == expected
        assert store.lookup(root, "a/x") == (FILE_MODE, blob_id(b"2\n"))


def test_blob_ids_are_gits(tmp_path: Path) -> None:
    for data in (b"", b"hello\n", bytes(range(256)) * 40):
        assert blob_id(data).decode() == git("hash-object", "--stdin", input=data).strip()


def test_a_commit_that_does_not_parse_is_a_store_error(tmp_path: Path) -> None:
    with _new_store(tmp_path) as store:
        _commit_files(store, {"a.md": b"a\n"})
        text = b"author M <m@e> 1 +0000\ncommitter M <m@e> 1 +0000\n\nNo tree\n"
        sha = git(
            "-C", store.path, "hash-object", "-w", "-t", "commit", "--literally", "--stdin",
            input=text,
        ).strip().encode()  # fmt: skip
        with pytest.raises(MalformedObject, match="tree") as raised:
            store.commit(sha)
        assert isinstance(raised.value, StoreError)
        with pytest.raises(StoreError, match="not a commit"):
            store.commit(blob_id(b"a\n"))


def _pack_ids(store: Path) -> list[str]:
    """The id of every object in every pack, as `git show-index` lists them."""
    ids = []
    for index in sorted((store / "objects" / "pack").glob("*.idx")):
        listed = git("show-index", input=index.read_bytes())
        ids += [line.split()[1] for line in listed.splitlines()]
    return ids


def test_merges_written_beside_a_long_writer_land_before_its_lock_is_released(
    tmp_path: Path,
) -> None:
    """A writer that asks for it (ingest) has its merges written by a thread beside it;
    each lands at a later pack or when the block ends, which waits for it: then every
    object is in exactly one pack, no temporary file is left, and git reads it all."""
    flushes = 40
    with _new_store(tmp_path) as store:
        with store.writing(merge_beside=True) as writer:
            tip = None
            for n in range(flushes):
                editor = writer.edit(store.commit(tip).tree if tip else None)
                editor.set(f"f/{n}.md", FILE_MODE, writer.put_blob(f"file {n}\n".encode() * 40))
                tip = writer.commit(writer.write_tree(editor), [tip] if tip else [], b"F\n",
                                    AUTHOR, WHEN, 1764633600 + n)  # fmt: skip
                writer.flush(tip)
        assert tip is not None and store.tip() == tip
    folder = tmp_path / "s.git" / "objects" / "pack"
    assert len(_packs(tmp_path / "s.git")) < flushes // 2  # merged
    assert not list(folder.glob("tmp_*"))
    ids = _pack_ids(tmp_path / "s.git")
    listed = git("-C", tmp_path / "s.git", "rev-list", "--objects", "main").split()
    assert len(ids) == len(set(ids)) and set(ids) == {i for i in listed if len(i) == 40}
    fsck(tmp_path / "s.git")


def test_a_merge_beside_the_writer_that_fails_is_raised_and_leaves_every_pack(
    tmp_path: Path,
) -> None:
    """A damaged pack stops the merge written beside the writer: the writer raises why
    when it lands it (here, at the end of the block), and every pack is left as it was."""
    with _new_store(tmp_path) as store:
        tip = b""
        for n in range(MAX_PACKS):
            tip = _commit_files(store, {f"{n}.md": f"file {n}\n".encode() * 40})
        damaged = _packs(store.path)[0]
        listed = git("verify-pack", "-v", damaged.with_suffix(".idx"))
        _, _, _, packed, offset = next(
            line.split()[:5] for line in listed.splitlines() if line.split()[1:2] == ["blob"]
        )
        data = bytearray(damaged.read_bytes())
        data[int(offset) + int(packed) - 2] ^= 0xFF  # inside the blob's deflated bytes
        damaged.write_bytes(bytes(data))
        before = {p: p.read_bytes() for p in _packs(store.path)}
        with pytest.raises(StoreError, match="damaged"), store.writing(merge_beside=True) as w:
            editor = w.edit(store.commit(tip).tree)
            editor.set("last.md", FILE_MODE, w.put_blob(b"last\n"))
            w.flush(w.commit(w.write_tree(editor), [tip], b"Last\n", AUTHOR, WHEN, 1764633600))
        after = {p: p.read_bytes() for p in _packs(store.path)}
        assert all(after.get(p) == kept for p, kept in before.items())
        assert len(after) == MAX_PACKS + 1
        assert not list(damaged.parent.glob("tmp_*"))


def test_a_pack_being_written_is_never_taken_for_a_pack(tmp_path: Path) -> None:
    """A pack and its index are written under temporary names that neither dulwich nor
    git takes for a pack: a reader listing the folder meanwhile (here, with a pack written
    whole and its index half written) reads the store as if they were not there, and the
    next writer removes them."""
    with _new_store(tmp_path) as store:
        first = _commit_files(store, {"a.md": b"a\n"})
        (pack,) = _packs(store.path)
        named: list[str] = []

        def write(f: BinaryIO) -> tuple[PackIndex, bytes]:
            named.append(Path(f.name).name)
            f.write(pack.read_bytes())
            (
                pack.parent / f"{IDX_PREFIX}{Path(f.name).name.removeprefix(PACK_PREFIX)}"
            ).write_bytes(pack.with_suffix(".idx").read_bytes()[:100])
            with Store.open(store.path) as reader:  # a reader of the folder as it is now
                assert reader.commit(first).tree
                assert reader.pack_layout().packs == [pack.stem]
            fsck(store.path)  # git refuses a `.idx` it finds half written
            raise RuntimeError("killed")

        with pytest.raises(RuntimeError, match="killed"):
            Packs(store.path / "objects", lambda sha: (0, b""))._install(write)
        assert named and named[0].startswith(PACK_PREFIX) and not named[0].endswith(".pack")
        leftover = pack.parent / named[0]
        leftover.write_bytes(b"left by a killed writer")
        with store.lock():
            assert not leftover.exists()
    fsck(tmp_path / "s.git")
