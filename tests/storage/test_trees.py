"""The tree editor writes the trees git writes: entries in git's order, ids as git's."""

from __future__ import annotations

import hashlib
from pathlib import Path

from conftest import git

from gitflywheel.storage.trees import FILE_MODE, TreeEditor


def _blob(text: str) -> bytes:
    data = text.encode()
    return hashlib.sha1(b"blob %d\x00" % len(data) + data).hexdigest().encode()


def test_written_trees_are_gits_own(tmp_path: Path) -> None:
    """A folder sorts as `name/`: `a` (a folder) after `a.b` and `a-b`, before `a0`."""
    paths = ["a/x", "a.b", "a-b", "a0", "b/c/d.md", "b/c.md", "b.md", "z"]
    editor = TreeEditor(lambda sha: None, None)  # type: ignore[arg-type, return-value]
    for path in paths:
        editor.set(path, FILE_MODE, _blob(path))
    root, made = editor.write_raw()
    repo = tmp_path / "r.git"
    git("init", "-q", "--bare", repo)
    for path in paths:
        assert git("-C", repo, "hash-object", "-w", "--stdin", input=path.encode()).strip()
    for sha, raw in made:
        written = git("-C", repo, "hash-object", "-t", "tree", "-w", "--stdin", input=raw)
        assert written.strip() == sha.decode()
    assert git("-C", repo, "ls-tree", "-r", "--name-only", root.decode()).split() == sorted(paths)
    git("-C", repo, "fsck", "--strict", "--no-dangling")
    _, objects = editor.write_raw()
    assert objects == []  # nothing changed since
