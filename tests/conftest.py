"""Shared fixtures: the CLI in-process and as a real process, real git as a second opinion."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from browser import Browser, need_chromium
from click.testing import CliRunner, Result

from gitflywheel.cli import main

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "data" / "corpus" / "dreamos"
EXAMPLES = ROOT / "examples"
# A store made before stores kept facts (manifest format 1): scripts/make_old_store.sh format1
FORMAT1_BUNDLE = ROOT / "tests" / "data" / "format1-store.bundle"
FORMAT1_SESSIONS = 12
GFW = [sys.executable, "-m", "gitflywheel"]


@pytest.fixture(autouse=True)
def clean_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No GIT_* variables, a HOME of our own, and a fixed commit time unless a test says."""
    for key in list(os.environ):
        if key.startswith("GIT_") or key in (
            "GITFLYWHEEL_REPO",
            "SOURCE_DATE_EPOCH",
            "XDG_DATA_HOME",
        ):
            monkeypatch.delenv(key)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764633600")


@dataclass
class Cli:
    """Runs gitflywheel in-process (fast) or as a real process (signals, concurrency)."""

    runner: CliRunner

    def __call__(self, *args: str | Path, input: bytes | str | None = None) -> Result:
        return self.runner.invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)

    def process(
        self, *args: str | Path, input: bytes | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [*GFW, *map(str, args)], input=input, capture_output=True, timeout=300
        )


@pytest.fixture()
def cli() -> Cli:
    return Cli(CliRunner())


def git(
    *args: str | Path,
    cwd: Path | None = None,
    input: bytes | None = None,
    env: dict[str, str] | None = None,
) -> str:
    """Run the real git; fail the test on a non-zero exit."""
    done = subprocess.run(
        ["git", *map(str, args)],
        cwd=cwd,
        input=input,
        capture_output=True,
        env={**os.environ, **(env or {})},
    )
    assert done.returncode == 0, f"git {' '.join(map(str, args))}: {done.stderr.decode()}"
    return done.stdout.decode()


def fsck(store: Path) -> None:
    """The store passes `git fsck --strict`."""
    git("-C", store, "fsck", "--strict", "--no-progress")


def forge_tip(store: Path, edit: Callable[[bytes], bytes]) -> str:
    """Move main to a commit written by hand: the tip's bytes through `edit`, stored as
    they are (`git hash-object --literally`, which checks nothing). Its id."""
    raw = subprocess.run(
        ["git", "-C", store, "cat-file", "commit", "main"], capture_output=True, check=True
    ).stdout
    forged = (
        subprocess.run(
            ["git", "-C", store, "hash-object", "-t", "commit", "--literally", "-w", "--stdin"],
            input=edit(raw),
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    git("-C", store, "update-ref", "refs/heads/main", forged)
    return forged


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under a folder and the SHA-256 of its bytes: to prove nothing changed."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "gitflywheel.lock"
    }


def session(session_id: str = "s-1", **fields: object) -> dict[str, object]:
    """A minimal valid build session."""
    data: dict[str, object] = {
        "session_id": session_id,
        "session_type": "build",
        "timestamp": "2025-12-02T03:30:00Z",
        "agent_id": "Agent-1",
        "source_data": {
            "repo_path": "example/repo",
            "git_commits": [{"message": f"Work on {session_id}"}],
        },
    }
    data.update(fields)
    return data


def write_session(folder: Path, data: dict[str, object]) -> Path:
    """`data` as a new session file in `folder` (made when missing), named by its id and
    the files the folder holds already, so that a revision is a file of its own."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{data['session_id']}-{len(list(folder.iterdir()))}.json"
    path.write_text(json.dumps(data))
    return path


@pytest.fixture()
def store(tmp_path: Path) -> Path:
    return tmp_path / "store.git"


@pytest.fixture()
def corpus_store(tmp_path: Path, cli: Cli) -> Iterator[Path]:
    """A store holding the whole corpus."""
    path = tmp_path / "corpus.git"
    result = cli("ingest", "--repo", path, CORPUS)
    assert result.exit_code == 0, result.output
    yield path


@pytest.fixture()
def format1_store(tmp_path: Path) -> Path:
    """A clone of the store made by gitflywheel before facts were kept (format 1)."""
    path = tmp_path / "format1.git"
    git("clone", "-q", "--bare", FORMAT1_BUNDLE, path)
    return path


# Hypothesis profiles: `quick` by default, `thorough` with `pytest --slow` or
# GITFLYWHEEL_SLOW=1. A test that sets its own max_examples keeps it.
from hypothesis import settings as hypothesis_settings  # noqa: E402

hypothesis_settings.register_profile("quick", max_examples=50, deadline=None)
hypothesis_settings.register_profile("thorough", max_examples=2000, deadline=None)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--slow", action="store_true", help="Run property tests with many more examples."
    )


def pytest_configure(config: pytest.Config) -> None:
    slow = config.getoption("--slow") or os.environ.get("GITFLYWHEEL_SLOW") == "1"
    hypothesis_settings.load_profile("thorough" if slow else "quick")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole run (skips the test when it is not installed)."""
    need_chromium()
    with Browser() as chromium:
        yield chromium


def checkout(store: Path, tmp_path: Path) -> Path:
    """A fresh clone of the store with its files checked out, in tmp_path/work."""
    work = tmp_path / "work"
    if work.exists():
        shutil.rmtree(work)
    git("clone", "-q", store, work)
    return work


def tree_of(store: Path, branch: str) -> str:
    """The tree id of `branch` in the store at `store`, as git says it."""
    return subprocess.run(
        ["git", "--git-dir", str(store), "rev-parse", f"{branch}^{{tree}}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
