"""Every command is a function of the package: `from gitflywheel import ingest, verify`.

Each is called against a real store, with a path and with an open Store, and returns
values without printing anything."""

from __future__ import annotations

import importlib
import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES, Cli, fsck, git, session

import gitflywheel
from gitflywheel import (
    ConflictError,
    GitflywheelError,
    Store,
    StoreError,
    capture,
    clean_copy,
    export,
    hook_install,
    hook_run,
    hook_status,
    hook_uninstall,
    ingest,
    init,
    log,
    ls,
    maintain,
    publish,
    rerender,
    schema,
    show,
    site,
    sync,
    verify,
    which,
)

BUILD_ID = "3f2b7c1e-8a4d-4e6f-9b21-5c7d8e9f0a1b"


def test_every_command_is_a_function(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    store = tmp_path / "s.git"
    created = init(store)
    assert created.created and len(created.main) == 40
    assert init(store).created is False

    report = ingest(store, [EXAMPLES])
    assert report.exit_code == 0 and report.count("recorded") == 3
    assert {o.session_id for o in report.outcomes} >= {BUILD_ID}
    again = ingest(store, EXAMPLES)  # one path, not a list
    assert again.count("unchanged") == 3

    rows = ls(store)
    assert [r.session_type for r in rows] == ["life_aria", "build", "trade"]
    assert [r.session_id for r in ls(store, session_type="build")] == [BUILD_ID]
    assert [r.session_id for r in ls(store, since="2025-12-04", until="2025-12-04")] == [BUILD_ID]

    manifest = show(store, BUILD_ID)
    assert manifest.session_id == BUILD_ID and manifest.revision == 1
    readme = show(store, BUILD_ID, "readme")
    path = next(a.path for a in manifest.artifacts if a.kind == "readme")
    assert readme == git("-C", store, "show", f"main:{path}").encode()

    post = tmp_path / "post.md"
    post.write_bytes(readme)
    blob, holders = which(store, post)
    assert blob == git("hash-object", post).strip()
    assert [(h.session_id, h.kind) for h in holders] == [(BUILD_ID, "readme")]

    entries = log(store)
    assert len(entries) == 4 and entries[0].commit == git("-C", store, "rev-parse", "main").strip()
    assert [e.session_id for e in log(store, limit=1)] == [entries[0].session_id]

    result = verify(store, full=True)
    assert result.ok and result.figures["sessions"] == 3

    out = export(store, tmp_path / "out", at="main~1")
    assert out.commit == entries[1].commit and out.files > 0 and out.skipped == []

    remote = tmp_path / "remote.git"
    git("init", "-q", "--bare", "-b", "main", remote)
    pushed = publish(store, str(remote))
    assert pushed.pushed and pushed.main == entries[0].commit
    mirror = tmp_path / "mirror.git"
    synced = sync(mirror, str(remote))  # a store that does not exist yet is made
    assert synced.main == entries[0].commit
    fsck(mirror)

    assert schema("session")["title"] == "work_session"
    assert "properties" in schema("manifest")
    assert capsys.readouterr() == ("", "")  # nothing printed, ever


def test_an_open_store_is_taken_as_it_is(tmp_path: Path) -> None:
    store_path = tmp_path / "s.git"
    ingest(store_path, [EXAMPLES / "build_session.json"])
    with Store.open(store_path) as store:
        assert [r.session_id for r in ls(store)] == [BUILD_ID]
        assert show(store, BUILD_ID).session_id == BUILD_ID
        assert verify(store).ok
        assert log(store)[0].session_id == BUILD_ID
        extra = tmp_path / "more.json"
        extra.write_text(json.dumps(session("more-1")))
        assert ingest(store, [extra]).count("recorded") == 1
        assert {r.session_id for r in ls(store)} == {BUILD_ID, "more-1"}
        store.tip()  # still open: the functions leave a Store they were given open


def test_sessions_from_a_stream(tmp_path: Path) -> None:
    data = "\n".join(json.dumps(session(f"s-{i}")) for i in range(3)).encode()
    report = ingest(tmp_path / "s.git", ["-"], stdin=io.BytesIO(data))
    assert report.count("recorded") == 3


def test_errors_are_raised_with_their_exit_code(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as missing:
        ls(tmp_path / "nowhere.git")
    assert missing.value.exit_code == 2 and "no store here" in str(missing.value)
    store = tmp_path / "s.git"
    first = tmp_path / "a.json"
    first.write_text(json.dumps(session("x-1")))
    ingest(store, [first])
    with pytest.raises(GitflywheelError, match="no such session"):
        show(store, "nope")
    with pytest.raises(GitflywheelError, match="not a revision"):
        export(store, tmp_path / "out", at="main~-1")
    first.write_text(json.dumps(session("x-1", title="Changed")))
    report = ingest(store, [first])  # invalid inputs and conflicts are outcomes, not raised
    assert report.exit_code == ConflictError.exit_code == 3
    assert ingest(store, [first], revise=True).count("revised") == 1


def test_capture(tmp_path: Path) -> None:
    repo = tmp_path / "work"
    git("init", "-q", "-b", "main", repo)
    env = {"GIT_AUTHOR_DATE": "2025-12-02T10:00:00Z", "GIT_COMMITTER_DATE": "2025-12-02T10:00:00Z"}
    for name in ("a", "b"):
        (repo / f"{name}.txt").write_text(f"{name}\n")
        git("-C", repo, "add", f"{name}.txt")
        git(
            "-C", repo, "-c", "user.name=Ann", "-c", "user.email=a@b", "commit", "-q", "-m", name,
            env=env,
        )  # fmt: skip
    notes: list[str] = []
    found = capture(
        repo,
        title="Two files",
        until="2025-12-02",
        lessons=[("Small", "steps")],
        on_note=notes.append,
    )
    assert type(found) is dict and notes == []  # a plain dict, as JSON would give it
    assert found["title"] == "Two files" and found["agent_id"] == "Ann"
    assert [c["message"] for c in found["source_data"]["git_commits"]] == ["a", "b"]
    with pytest.raises(GitflywheelError, match="no commits in the window"):
        capture(repo, since="2025-12-03")
    report = ingest(tmp_path / "s.git", ["-"], stdin=io.BytesIO(json.dumps(found).encode()))
    assert report.count("recorded") == 1
    # ingest takes the dict itself, in its turn among files, as the same record
    other = tmp_path / "other.git"
    again = ingest(other, [found, EXAMPLES])
    assert [o.origin for o in again.outcomes][0] == "<session 1>"
    assert again.count("recorded") == 4 and again.exit_code == 0
    assert show(other, found["session_id"], "record") == show(
        tmp_path / "s.git", found["session_id"], "record"
    )
    assert ingest(other, found).count("unchanged") == 1  # one dict, not in a list
    bad = ingest(other, [{**found, "duration_minutes": float("nan")}])
    assert bad.count("invalid") == 1 and bad.exit_code == 2


def test_a_shallow_clone_notes_reach_on_note(tmp_path: Path) -> None:
    work = tmp_path / "work"
    git("init", "-q", "-b", "main", work)
    for name in ("a", "b", "c"):
        (work / f"{name}.txt").write_text(f"{name}\n")
        git("-C", work, "add", f"{name}.txt")
        git("-C", work, "-c", "user.name=Ann", "-c", "user.email=a@b", "commit", "-q", "-m", name)
    shallow = tmp_path / "shallow"
    git("clone", "-q", "--depth", "2", f"file://{work}", shallow)
    notes: list[str] = []
    assert capture(shallow, on_note=notes.append)["source_data"]["git_commits"]
    assert notes and "shallow" in notes[0], notes


def test_the_public_surface() -> None:
    assert set(gitflywheel.__all__) >= {
        "init",
        "ingest",
        "verify",
        "ls",
        "show",
        "which",
        "log",
        "export",
        "publish",
        "sync",
        "capture",
        "schema",
        "Store",
    }
    for name in gitflywheel.__all__:
        assert getattr(gitflywheel, name) is not None, name
    # the module gitflywheel/ingest.py does not take the function's place
    importlib.import_module("gitflywheel.recording.ingest")
    importlib.import_module("gitflywheel.verification")

    assert callable(gitflywheel.ingest) and gitflywheel.ingest is ingest
    assert gitflywheel.verify is verify
    from gitflywheel.recording.ingest import Recorder  # the module is there for what it holds

    assert Recorder.__module__ == "gitflywheel.recording.ingest"


def test_importing_the_package_stays_cheap() -> None:
    """The functions load on first use: `import gitflywheel` loads no dulwich, no
    pydantic, no jinja2 (the CLI's --help and the git hook start fast)."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, gitflywheel; "
            "print(*sorted(m for m in ('dulwich', 'pydantic', 'jinja2') if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == []


def test_screenshots_from_elsewhere(tmp_path: Path) -> None:
    """The library takes the same screenshot rules as `ingest --screenshots-from`."""
    shots = tmp_path / "shots"
    shots.mkdir()
    (shots / "a.png").write_bytes((EXAMPLES / "screens" / "title.png").read_bytes())
    inputs = tmp_path / "in"
    inputs.mkdir()
    doc = {
        "session_id": "shot-1",
        "session_type": "life_aria",
        "timestamp": "2025-12-03T19:30:00Z",
        "agent_id": "Agent-4",
        "source_data": {"screenshots": [str(shots / "a.png")]},
    }
    (inputs / "s.json").write_text(json.dumps(doc))
    refused = ingest(tmp_path / "a.git", inputs)
    assert (
        refused.outcomes[0].warnings and not show(tmp_path / "a.git", "shot-1").screenshots[0].file
    )
    taken = ingest(tmp_path / "b.git", inputs, screenshots_from=[shots])
    assert not taken.outcomes[0].warnings
    assert show(tmp_path / "b.git", "shot-1").screenshots[0].status == "stored"
    too_big = ingest(tmp_path / "c.git", inputs, screenshots_from=[shots], max_screenshot_bytes=10)
    assert too_big.outcomes[0].warnings and "shot-1" in {
        r.session_id for r in ls(tmp_path / "c.git")
    }


def _work_repo(path: Path) -> Path:
    """An ordinary project: a work tree with a commit on main."""
    git("init", "-q", "-b", "main", path)
    (path / "a.txt").write_text("a\n")
    git("-C", path, "add", "a.txt")
    git("-C", path, "-c", "user.name=Ann", "-c", "user.email=a@b", "commit", "-q", "-m", "a")
    return path


@pytest.fixture()
def not_stores(tmp_path: Path) -> dict[str, Path]:
    """A work repository, and a bare repository whose main is someone's project."""
    work = _work_repo(tmp_path / "work")
    bare = tmp_path / "bare.git"
    git("init", "-q", "--bare", "-b", "main", bare)
    git("-C", work, "push", "-q", bare, "main")
    return {"work": work, "bare": bare}


# Each command that takes a store: the API call, and the same as a command line.
COMMANDS: dict[
    str, tuple[Callable[[Path, Path], Any], Callable[[Path, Path], list[str | Path]]]
] = {
    "init": (lambda repo, tmp: init(repo), lambda repo, tmp: ["init", "--repo", repo]),
    "ingest": (
        lambda repo, tmp: ingest(repo, EXAMPLES / "build_session.json"),
        lambda repo, tmp: ["ingest", "--repo", repo, EXAMPLES / "build_session.json"],
    ),
    "rerender": (
        lambda repo, tmp: rerender(repo, all_sessions=True),
        lambda repo, tmp: ["rerender", "--repo", repo, "--all"],
    ),
    "verify": (lambda repo, tmp: verify(repo), lambda repo, tmp: ["verify", "--repo", repo]),
    "ls": (lambda repo, tmp: ls(repo), lambda repo, tmp: ["ls", "--repo", repo]),
    "ls --json": (
        lambda repo, tmp: ls(repo, format="json"),
        lambda repo, tmp: ["ls", "--repo", repo, "--json"],
    ),
    "show": (
        lambda repo, tmp: show(repo, BUILD_ID),
        lambda repo, tmp: ["show", "--repo", repo, BUILD_ID],
    ),
    "which": (
        lambda repo, tmp: which(repo, "0" * 40),
        lambda repo, tmp: ["which", "--repo", repo, "0" * 40],
    ),
    "log": (lambda repo, tmp: log(repo), lambda repo, tmp: ["log", "--repo", repo]),
    "export": (
        lambda repo, tmp: export(repo, tmp / "out"),
        lambda repo, tmp: ["export", "--repo", repo, tmp / "out"],
    ),
    "export --format hugo": (
        lambda repo, tmp: export(repo, tmp / "blog", format="hugo"),
        lambda repo, tmp: ["export", "--repo", repo, tmp / "blog", "--format", "hugo"],
    ),
    "maintain": (lambda repo, tmp: maintain(repo), lambda repo, tmp: ["maintain", "--repo", repo]),
    "clean-copy": (
        lambda repo, tmp: clean_copy(repo, tmp / "clean.git"),
        lambda repo, tmp: ["clean-copy", "--repo", repo, tmp / "clean.git"],
    ),
    "publish": (
        lambda repo, tmp: publish(repo, str(tmp / "remote.git")),
        lambda repo, tmp: ["publish", "--repo", repo, tmp / "remote.git"],
    ),
    "sync": (
        lambda repo, tmp: sync(repo, str(tmp / "remote.git")),
        lambda repo, tmp: ["sync", "--repo", repo, tmp / "remote.git"],
    ),
    "site": (
        lambda repo, tmp: site(repo, tmp / "site", feeds=False),
        lambda repo, tmp: ["site", "--repo", repo, tmp / "site", "--no-feed"],
    ),
    "hook install": (
        lambda repo, tmp: hook_install(tmp / "project", repo),
        lambda repo, tmp: ["hook", "install", "--source", tmp / "project", "--repo", repo],
    ),
}


@pytest.mark.parametrize("kind", ["work", "bare"])
@pytest.mark.parametrize("command", COMMANDS)
def test_what_is_not_a_store_is_refused_alike(
    cli: Cli, tmp_path: Path, not_stores: dict[str, Path], command: str, kind: str
) -> None:
    """The API refuses what the command line refuses, with its message and exit code."""
    repo = not_stores[kind]
    call, args = COMMANDS[command]
    _work_repo(tmp_path / "project")
    git("init", "-q", "--bare", "-b", "main", tmp_path / "remote.git")
    before = {p: git("-C", p, "for-each-ref") for p in (repo, tmp_path / "remote.git")}
    with pytest.raises(StoreError) as refused:
        call(repo, tmp_path)
    # What only reads takes a clone of a store with its files checked out: the work
    # repository is refused for what its main holds, not for its work tree.
    reads = command.split()[0] in ("verify", "ls", "show", "which", "log", "export", "clean-copy")
    why = "a git work tree" if kind == "work" and not reads else "main has no gitflywheel.json"
    assert str(refused.value).startswith(f"{repo}: ") and why in str(refused.value)
    result = cli(*args(repo, tmp_path))
    assert (result.exit_code, result.stderr) == (
        refused.value.exit_code,
        f"error: {refused.value}\n",
    )
    assert refused.value.exit_code == 2 and result.stdout == ""
    assert {p: git("-C", p, "for-each-ref") for p in before} == before  # nothing moved
    assert not (tmp_path / "project" / ".git" / "hooks" / "pre-push").exists()
    assert not (tmp_path / "clean.git").exists()  # nothing written for OLD that is no store


@pytest.mark.parametrize("kind", ["work", "bare"])
def test_an_open_repository_that_is_not_a_store_is_refused(
    tmp_path: Path, not_stores: dict[str, Path], kind: str
) -> None:
    remote = tmp_path / "remote.git"
    git("init", "-q", "--bare", "-b", "main", remote)
    with Store.open(not_stores[kind]) as opened:
        for call in (lambda: publish(opened, str(remote)), lambda: ls(opened)):
            with pytest.raises(StoreError, match="not a gitflywheel store|a git work tree") as e:
                call()
            assert e.value.exit_code == 2
        opened.tip()  # left open
    assert git("-C", remote, "for-each-ref") == ""


def test_a_checked_out_clone_of_a_store_can_be_read(tmp_path: Path) -> None:
    store = tmp_path / "s.git"
    ingest(store, EXAMPLES / "build_session.json")
    clone = tmp_path / "clone"
    git("clone", "-q", store, clone)
    for repo in (clone, clone / ".git"):
        assert [r.session_id for r in ls(repo)] == [BUILD_ID] and verify(repo).ok
        assert log(repo)[0].session_id == BUILD_ID
    with pytest.raises(StoreError, match="a git work tree"):
        ingest(clone, EXAMPLES / "trade_session.json")  # never written to


def test_publish_of_a_work_repository_is_refused(tmp_path: Path) -> None:
    """A wrong `repo` never pushes someone's project to a remote."""
    work = _work_repo(tmp_path / "work")
    remote = tmp_path / "remote.git"
    git("init", "-q", "--bare", "-b", "main", remote)
    with pytest.raises(StoreError, match="a git work tree") as refused:
        publish(work, str(remote))
    assert refused.value.exit_code == 2
    assert git("-C", remote, "for-each-ref") == ""


def test_the_hook_commands_are_functions(cli: Cli, tmp_path: Path) -> None:
    work = _work_repo(tmp_path / "work")
    store = tmp_path / "s.git"
    assert not hook_status(work).installed
    installed = hook_install(work, store)
    assert installed.store == str(store) and not installed.updated and installed.kept is None
    assert hook_install(work, store).updated
    status = hook_status(work)
    assert status.installed and status.store == str(store) and status.store_problem is None
    ran = hook_run(work)  # the store the hook records into
    assert ran.store == str(store) and ran.error is None and ran.recorded == 0
    removed = hook_uninstall(work)
    assert removed.removed and not hook_status(work).installed
    with pytest.raises(GitflywheelError, match="no gitflywheel hook here"):
        hook_run(work)
    # A store that cannot take the pushes: the run says so, as `hook run` does (exit 2).
    ran = hook_run(work, work)
    assert ran.error is not None and "a git work tree" in ran.error
    result = cli("hook", "run", "--source", work, "--repo", work)
    assert result.exit_code == 2 and f"error: {ran.error}\n" in result.stderr


def test_the_package_names_are_the_api_names() -> None:
    """One list: what `gitflywheel` exports is `__version__` and `gitflywheel.api.__all__`."""
    from gitflywheel import api

    assert gitflywheel.__all__ == ["__version__", *api.__all__]
    for name in api.__all__:
        assert getattr(gitflywheel, name) is getattr(api, name), name
    assert {"hook_install", "hook_uninstall", "hook_status", "hook_run"} <= set(dir(gitflywheel))
    with pytest.raises(AttributeError):
        gitflywheel.no_such_name  # noqa: B018
