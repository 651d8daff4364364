"""The README's Python examples run as written, in a folder set up as they expect: a
work repository with a tag `v1.2` and commits after it, `sessions/` holding the
examples, the store `flywheel.git` made by the first line."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import EXAMPLES, ROOT, git

BLOCKS = re.findall(r"^```python\n(.*?)^```", (ROOT / "README.md").read_text(), re.M | re.S)


def test_the_readme_has_python_examples() -> None:
    assert BLOCKS and "from gitflywheel import" in BLOCKS[0]


def test_the_python_examples_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    work = tmp_path / "work"
    shutil.copytree(EXAMPLES, work / "sessions")
    git("init", "-q", "-b", "main", work)
    identity = ["-c", "user.name=Ann", "-c", "user.email=ann@example.org"]
    for name in ("first", "second", "third"):
        (work / f"{name}.txt").write_text(f"{name}\n")
        git("-C", work, "add", f"{name}.txt")
        git("-C", work, *identity, "commit", "-q", "-m", f"Add {name}")
        if name == "first":
            git("-C", work, "tag", "v1.2")
    monkeypatch.chdir(work)
    namespace: dict[str, object] = {}
    for block in BLOCKS:
        exec(compile(block, "README.md", "exec"), namespace)
    assert capsys.readouterr().out.startswith("3 0\n")  # the first example's print
    assert (work / "out" / "gitflywheel.json").is_file()
    assert (work / "my-blog" / "_posts").is_dir()
    log = git("-C", work / "flywheel.git", "log", "--format=%s", "main")
    assert log.splitlines()[0].startswith("Record build session ")  # the captured one
