"""capture: a build session from a real repository, piped into ingest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitflywheel.hooks.capture import (
    CaptureOptions,
    agent_id,
    capture,
    line_counts,
    split_lines,
)
from gitflywheel.session.records import make_record

GFW = [sys.executable, "-m", "gitflywheel"]


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(HOME=str(home), GIT_CONFIG_NOSYSTEM="1", SOURCE_DATE_EPOCH="1700000000")
    return env


def _git(repo: Path, env: dict[str, str], *args: str, when: str | None = None) -> str:
    extra = {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when} if when else {}
    return subprocess.run(
        ["git", "-C", str(repo), *args],
        check=True,
        capture_output=True,
        text=True,
        env={**env, **extra},
    ).stdout


@pytest.fixture()
def work_repo(tmp_path: Path) -> tuple[Path, dict[str, str], list[str]]:
    """A repository with four commits by two authors; returns it, the env, and the ids."""
    env = _env(tmp_path)
    repo = tmp_path / "work"
    repo.mkdir()
    _git(repo, env, "init", "-q", "-b", "main")
    _git(repo, env, "config", "user.name", "Ada")
    _git(repo, env, "config", "user.email", "ada@example.com")
    steps = [
        ("app.py", "print('hello')\n", "Start the app", "2025-12-01T10:00:00+00:00"),
        ("app.py", "print('hello')\nprint('world')\n", "Say more", "2025-12-01T11:30:00+00:00"),
        ("README.md", "# App\n\nIt prints.\n", "Write the README", "2025-12-02T09:15:00+00:00"),
        ("logo.bin", "\x00\x01binary", "Add a logo", "2025-12-02T10:00:00+00:00"),
    ]
    for path, text, message, when in steps:
        (repo / path).write_text(text)
        _git(repo, env, "add", path)
        _git(repo, env, "commit", "-q", "-m", message, when=when)
    ids = _git(repo, env, "log", "--reverse", "--format=%H").split()
    return repo, env, ids


def _capture(repo: Path, env: dict[str, str], *args: str) -> dict[str, object]:
    out = subprocess.run(
        [*GFW, "capture", "--source", str(repo), *args], check=True, capture_output=True, env=env
    )
    return json.loads(out.stdout)


def test_capture_since_rev_lists_exactly_those_commits(
    work_repo: tuple[Path, dict[str, str], list[str]],
) -> None:
    repo, env, ids = work_repo
    session = _capture(
        repo, env, "--since-rev", "HEAD~3", "--agent", "Agent-7", "--title", "Polish"
    )
    commits = session["source_data"]["git_commits"]  # type: ignore[index]
    assert [c["hash"] for c in commits] == ids[1:]
    assert [c["message"] for c in commits] == ["Say more", "Write the README", "Add a logo"]
    assert commits[0]["files"] == ["app.py"] and commits[0]["lines_added"] == 1
    assert commits[0]["lines_removed"] == 0
    assert commits[2]["lines_added"] == 0  # binary: no lines counted
    meta = session["metadata"]
    assert meta == {
        "commits": 3,
        "duration_minutes": (22 * 60 + 30),
        "files_changed": 3,
        "lines_added": 4,
        "lines_removed": 0,
    }
    assert session["agent_id"] == "Agent-7" and session["title"] == "Polish"
    assert session["timestamp"] == "2025-12-02T10:00:00Z"


def test_capture_time_window(work_repo: tuple[Path, dict[str, str], list[str]]) -> None:
    repo, env, ids = work_repo
    session = _capture(repo, env, "--since", "2025-12-01", "--until", "2025-12-01")
    assert [c["hash"] for c in session["source_data"]["git_commits"]] == ids[:2]  # type: ignore[index]
    assert session["agent_id"] == "Ada"


@pytest.mark.slow
def test_capture_is_deterministic_and_ingests(
    work_repo: tuple[Path, dict[str, str], list[str]], tmp_path: Path
) -> None:
    repo, env, ids = work_repo
    first = subprocess.run(
        [*GFW, "capture", "--source", str(repo)], check=True, capture_output=True, env=env
    ).stdout
    again = subprocess.run(
        [*GFW, "capture", "--source", str(repo)], check=True, capture_output=True, env=env
    ).stdout
    assert first == again
    store = tmp_path / "store.git"
    done = subprocess.run(
        [*GFW, "ingest", "--repo", str(store), "-"], input=first, capture_output=True, env=env
    )
    assert done.returncode == 0, done.stderr
    session_id = json.loads(first)["session_id"]
    log = subprocess.run(
        [*GFW, "show", "--repo", str(store), session_id, "build_log"],
        check=True,
        capture_output=True,
        env=env,
    ).stdout.decode()
    for sha in ids:
        assert sha[:7] in log
    assert "Write the README" in log
    subprocess.run(
        ["git", "-C", str(store), "fsck", "--strict"], check=True, env=env, capture_output=True
    )


def test_capture_refuses_what_is_not_there(
    work_repo: tuple[Path, dict[str, str], list[str]], tmp_path: Path
) -> None:
    repo, env, _ = work_repo
    bad = subprocess.run(
        [*GFW, "capture", "--source", str(repo), "--since-rev", "nope"],
        capture_output=True,
        env=env,
    )
    assert bad.returncode == 2 and b"--since-rev: 'nope'" in bad.stderr
    empty = tmp_path / "plain"
    empty.mkdir()
    outside = subprocess.run(
        [*GFW, "capture", "--source", str(empty)], capture_output=True, env=env
    )
    assert outside.returncode == 2 and b"not inside a git repository" in outside.stderr
    none = subprocess.run(
        [*GFW, "capture", "--source", str(repo), "--since", "2030-01-01"],
        capture_output=True,
        env=env,
    )
    assert none.returncode == 2 and b"no commits" in none.stderr


def _new_repo(tmp_path: Path, name: str = "work") -> tuple[Path, dict[str, str]]:
    env = _env(tmp_path)
    repo = tmp_path / name
    repo.mkdir()
    _git(repo, env, "init", "-q", "-b", "main")
    _git(repo, env, "config", "user.name", "Ada")
    _git(repo, env, "config", "user.email", "ada@example.com")
    return repo, env


def _run_capture(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*GFW, "capture", "--source", str(repo), *args], capture_output=True, env=env
    )


def test_capture_lists_a_submodule_change_without_reading_it(tmp_path: Path) -> None:
    repo, env = _new_repo(tmp_path)
    (repo / "app.py").write_text("x = 1\n")
    _git(repo, env, "add", "app.py")
    _git(repo, env, "commit", "-q", "-m", "Start", when="2025-12-01T10:00:00+00:00")
    # A gitlink names a commit of another repository: it is not in this one.
    elsewhere = "2f77b65ac22c11aec08523fc32f9013fe19624f3"
    _git(repo, env, "update-index", "--add", "--cacheinfo", f"160000,{elsewhere},vendor/lib")
    (repo / ".gitmodules").write_text('[submodule "lib"]\n\tpath = vendor/lib\n\turl = ../lib\n')
    _git(repo, env, "add", ".gitmodules")
    _git(repo, env, "commit", "-q", "-m", "Vendor the lib", when="2025-12-01T11:00:00+00:00")
    moved = "3f77b65ac22c11aec08523fc32f9013fe19624f3"
    _git(repo, env, "update-index", "--cacheinfo", f"160000,{moved},vendor/lib")
    _git(repo, env, "commit", "-q", "-m", "Bump the lib", when="2025-12-01T12:00:00+00:00")
    done = _run_capture(repo, env)
    assert done.returncode == 0, done.stderr.decode()
    commits = json.loads(done.stdout)["source_data"]["git_commits"]
    assert [c["message"] for c in commits] == ["Start", "Vendor the lib", "Bump the lib"]
    assert commits[1]["files"] == [".gitmodules", "vendor/lib"]
    assert commits[1]["lines_added"] == 3  # .gitmodules; the gitlink has no lines
    assert commits[2]["files"] == ["vendor/lib"] and commits[2]["lines_added"] == 0


def _shallow_source(tmp_path: Path) -> tuple[Path, dict[str, str], list[str]]:
    repo, env = _new_repo(tmp_path, "upstream")
    for number in range(1, 6):
        (repo / "notes.txt").write_text("".join(f"line {n}\n" for n in range(number)))
        _git(repo, env, "add", "notes.txt")
        when = f"2025-12-01T1{number}:00:00+00:00"
        _git(repo, env, "commit", "-q", "-m", f"Step {number}", when=when)
    ids = _git(repo, env, "log", "--reverse", "--format=%H").split()
    return repo, env, ids


@pytest.mark.slow
def test_capture_of_a_shallow_clone_starts_at_its_boundary(tmp_path: Path) -> None:
    upstream, env, ids = _shallow_source(tmp_path)
    clone = tmp_path / "ci"
    _git(tmp_path, env, "clone", "-q", "--depth", "3", f"file://{upstream}", str(clone))
    done = _run_capture(clone, env)
    assert done.returncode == 0, done.stderr.decode()
    session = json.loads(done.stdout)
    # Step 3's parent is not in the clone: it is where the history starts, not counted.
    assert [c["hash"] for c in session["source_data"]["git_commits"]] == ids[3:]
    assert session["metadata"]["commits"] == 2
    assert session["metadata"]["lines_added"] == 2
    assert b"shallow" in done.stderr and ids[2][:12].encode() in done.stderr
    assert b"Traceback" not in done.stderr

    since = _run_capture(clone, env, "--since-rev", ids[3])
    assert since.returncode == 0, since.stderr.decode()
    assert [c["hash"] for c in json.loads(since.stdout)["source_data"]["git_commits"]] == ids[4:]


def test_capture_of_a_depth_one_clone_says_why_there_is_nothing(tmp_path: Path) -> None:
    upstream, env, ids = _shallow_source(tmp_path)
    clone = tmp_path / "ci"
    _git(tmp_path, env, "clone", "-q", "--depth", "1", f"file://{upstream}", str(clone))
    done = _run_capture(clone, env)
    assert done.returncode == 2
    assert b"Traceback" not in done.stderr
    assert b"shallow" in done.stderr and b"--deepen" in done.stderr


def test_capture_decodes_a_message_in_its_declared_encoding(tmp_path: Path) -> None:
    repo, env = _new_repo(tmp_path)
    (repo / "menu.txt").write_text("caf\n")
    _git(repo, env, "add", "menu.txt")
    message = tmp_path / "message.txt"
    message.write_bytes("Café crème à la carte\n\nÜber alles.\n".encode("iso-8859-1"))
    _git(repo, env, "-c", "i18n.commitEncoding=ISO-8859-1", "commit", "-q", "-F", str(message))
    raw = subprocess.run(
        ["git", "-C", str(repo), "cat-file", "commit", "HEAD"],
        check=True,
        capture_output=True,
        env=env,
    ).stdout
    assert b"\nencoding ISO-8859-1\n" in raw and "Café".encode("iso-8859-1") in raw
    done = _run_capture(repo, env)
    assert done.returncode == 0, done.stderr.decode()
    commit = json.loads(done.stdout)["source_data"]["git_commits"][0]
    assert commit["message"] == "Café crème à la carte\n\nÜber alles."
    # git, re-encoding to UTF-8 for its log, agrees.
    assert _git(repo, env, "log", "-1", "--format=%B").strip() == commit["message"]


def test_capture_orders_same_second_commits_by_history(tmp_path: Path) -> None:
    repo, env = _new_repo(tmp_path)
    when = "2025-12-01T10:00:00+00:00"
    for number in range(8):
        (repo / "count.txt").write_text(f"{number}\n")
        _git(repo, env, "add", "count.txt")
        _git(repo, env, "commit", "-q", "-m", f"Count {number}", when=when)
    history = _git(repo, env, "rev-list", "--reverse", "HEAD").split()
    assert history != sorted(history)  # an order by id would not be the history
    done = _run_capture(repo, env)
    assert done.returncode == 0, done.stderr.decode()
    commits = json.loads(done.stdout)["source_data"]["git_commits"]
    assert [c["hash"] for c in commits] == history
    assert [c["message"] for c in commits] == [f"Count {n}" for n in range(8)]


def test_capture_until_rev_ends_the_range(
    work_repo: tuple[Path, dict[str, str], list[str]],
) -> None:
    repo, env, ids = work_repo
    session = _capture(repo, env, "--since-rev", ids[0], "--until-rev", ids[2])
    assert [c["hash"] for c in session["source_data"]["git_commits"]] == ids[1:3]  # type: ignore[index]
    bad = _run_capture(repo, env, "--until-rev", "nope")
    assert bad.returncode == 2 and b"--until-rev: 'nope'" in bad.stderr


def test_capture_of_a_damaged_repository_is_an_error_not_a_traceback(
    work_repo: tuple[Path, dict[str, str], list[str]],
) -> None:
    repo, env, ids = work_repo
    tree = _git(repo, env, "rev-parse", f"{ids[1]}^{{tree}}").strip()
    (repo / ".git" / "objects" / tree[:2] / tree[2:]).unlink()
    done = _run_capture(repo, env)
    assert done.returncode == 2
    assert b"Traceback" not in done.stderr and tree.encode() in done.stderr


def _literal_commit(repo: Path, env: dict[str, str], header: str, message: str) -> str:
    """A commit written as given, as `git commit` never would: git's fsck on transfer is
    off by default, so such commits arrive from upstream."""
    return (
        subprocess.run(
            ["git", "-C", str(repo), "hash-object", "-t", "commit", "--literally", "-w", "--stdin"],
            input=f"{header}\n{message}\n".encode(),
            check=True,
            capture_output=True,
            env=env,
        )
        .stdout.decode()
        .strip()
    )


@pytest.mark.parametrize(
    "who",
    [
        "author A <a@example.com>\ncommitter A <a@example.com>",  # no date
        "committer A <a@example.com> 1764583200 +0000",  # no author
        "author A 1764583200 +0000\ncommitter A 1764583200 +0000",  # no email: no date read
        "author A <a@example.com> 99999999999999999 +0000\n"
        "committer A <a@example.com> 99999999999999999 +0000",  # no calendar holds it
    ],
)
def test_capture_leaves_out_a_malformed_commit_and_goes_on(tmp_path: Path, who: str) -> None:
    repo, env = _new_repo(tmp_path)
    (repo / "a.txt").write_text("one\n")
    _git(repo, env, "add", "a.txt")
    _git(repo, env, "commit", "-q", "-m", "Start", when="2025-12-01T10:00:00+00:00")
    start = _git(repo, env, "rev-parse", "HEAD").strip()
    tree = _git(repo, env, "rev-parse", "HEAD^{tree}").strip()
    bad = _literal_commit(repo, env, f"tree {tree}\nparent {start}\n{who}\n", "secret wip")
    _git(repo, env, "update-ref", "refs/heads/main", bad)
    (repo / "a.txt").write_text("one\ntwo\n")
    _git(repo, env, "commit", "-q", "-am", "After it", when="2025-12-01T11:00:00+00:00")
    after = _git(repo, env, "rev-parse", "HEAD").strip()
    done = _run_capture(repo, env)
    assert done.returncode == 0, done.stderr.decode()
    assert b"Traceback" not in done.stderr
    assert f"{bad[:12]}".encode() in done.stderr and b"malformed" in done.stderr
    commits = json.loads(done.stdout)["source_data"]["git_commits"]
    assert [c["hash"] for c in commits] == [start, after]
    assert commits[1]["lines_added"] == 1  # against its parent's tree, as git diffs it
    # At the tip, with nothing else new: nothing to capture, said without a traceback.
    only = _run_capture(repo, env, "--since-rev", start, "--until-rev", bad)
    assert only.returncode == 2 and b"Traceback" not in only.stderr
    assert b"malformed" in only.stderr


def test_capture_stops_at_a_commit_that_cannot_be_parsed(tmp_path: Path) -> None:
    repo, env = _new_repo(tmp_path)
    (repo / "a.txt").write_text("one\n")
    _git(repo, env, "add", "a.txt")
    _git(repo, env, "commit", "-q", "-m", "Start", when="2025-12-01T10:00:00+00:00")
    tree = _git(repo, env, "rev-parse", "HEAD^{tree}").strip()
    garbage = _literal_commit(repo, env, "hello world\n", "")
    stamp = "A <a@example.com> 1764583200 +0000"
    child = _literal_commit(
        repo, env, f"tree {tree}\nparent {garbage}\nauthor {stamp}\ncommitter {stamp}\n", "Child"
    )
    _git(repo, env, "update-ref", "refs/heads/main", child)
    _git(
        repo, env, "commit", "-q", "--allow-empty", "-m", "Later", when="2025-12-01T11:00:00+00:00"
    )
    done = _run_capture(repo, env)
    assert done.returncode == 0, done.stderr.decode()
    assert b"Traceback" not in done.stderr and garbage[:12].encode() in done.stderr
    assert [c["message"] for c in json.loads(done.stdout)["source_data"]["git_commits"]] == [
        "Later"
    ]


def _numstat(repo: Path, env: dict[str, str], sha: str) -> tuple[int, int]:
    added = removed = 0
    for line in _git(repo, env, "show", "--numstat", "--no-renames", "--format=", sha).splitlines():
        plus, minus, _ = line.split("\t", 2)
        if plus != "-":  # binary
            added, removed = added + int(plus), removed + int(minus)
    return added, removed


@pytest.mark.slow
def test_capture_counts_lines_as_git_diff_numstat_does(tmp_path: Path) -> None:
    repo, env = _new_repo(tmp_path)
    code = [f"def f{n}():\n    return {n}\n\n" for n in range(12)]
    braces = "".join(f"if (x{n}) {{\n  y();\n}}\n" for n in range(8))
    steps: list[tuple[str, bytes | None]] = [
        ("code.py", "".join(code).encode()),
        ("code.py", "".join(code[:3] + ["# new\n"] + code[3:7] + code[8:]).encode()),  # in, out
        ("code.py", "".join(code[5:] + code[:5]).encode()),  # a block moved to the end
        ("braces.c", braces.encode()),
        ("braces.c", braces.replace("  y();\n}\nif (x3)", "  z();\n}\n}\nif (x3)").encode()),
        ("end.txt", b"one\ntwo\nthree\n"),
        ("end.txt", b"one\ntwo\nthree"),  # no newline at the end
        ("mac.txt", b"one\rtwo\rthree\r"),  # a CR is not a line break for git
        ("mac.txt", b"one\rtwo\rfour\r"),
        ("dos.txt", b"one\r\ntwo\r\n"),
        ("dos.txt", b"one\ntwo\r\n"),
        ("logo.bin", b"\x00\x01\x02"),
        ("same.txt", b"x\n" * 20000),
        ("same.txt", b"x\n" * 10000 + b"y\n" + b"x\n" * 10000),  # quadratic for difflib
        ("code.py", None),  # deleted
    ]
    for number, (name, data) in enumerate(steps):
        if data is None:
            _git(repo, env, "rm", "-q", name)
        else:
            (repo / name).write_bytes(data)
            _git(repo, env, "add", name)
        _git(
            repo,
            env,
            "commit",
            "-q",
            "-m",
            f"Step {number}",
            when=f"2025-12-01T10:{number:02d}:00Z",
        )
    done = _run_capture(repo, env)
    assert done.returncode == 0, done.stderr.decode()
    commits = json.loads(done.stdout)["source_data"]["git_commits"]
    assert len(commits) == len(steps)
    for c in commits:
        assert (c["lines_added"], c["lines_removed"]) == _numstat(repo, env, c["hash"]), c[
            "message"
        ]


def test_line_counts_past_the_shared_ends_do_no_work_and_a_budget_bounds_the_rest() -> None:
    same = [b"x\n"] * 20000
    assert line_counts(same, same[:10000] + [b"y\n"] + same[10000:], budget=0) == (1, 0)
    assert line_counts(same, same[1:], budget=0) == (0, 1)
    # A shortest edit script, as git's: 300 lines reversed keep one in place...
    lines = [f"{n}\n".encode() for n in range(300)]
    assert line_counts(lines, lines[::-1]) == (299, 299)
    # ...and past the budget, each line counts as often as one side has it more.
    assert line_counts(lines, lines[::-1], budget=1000) == (0, 0)
    assert line_counts(lines, lines[::-1] + [b"new\n"], budget=1000) == (1, 0)
    assert line_counts([b"a\n", b"b\n"], [b"b\n", b"a\n"]) == (1, 1)  # a move, as git says
    assert split_lines(b"a\nb\r\nc") == [b"a\n", b"b\r\n", b"c"] and split_lines(b"") == []


def _on_top(repo: Path, env: dict[str, str], name: bytes, message: bytes) -> str:
    """A commit by `name` with `message` on top of HEAD, written byte for byte as it
    may arrive from upstream (git's own `commit` tidies names up first)."""
    head = _git(repo, env, "rev-parse", "HEAD").strip()
    tree = _git(repo, env, "rev-parse", "HEAD^{tree}").strip()
    who = name + b" <someone@example.com> 1764583200 +0000"
    raw = b"tree %s\nparent %s\nauthor %s\ncommitter %s\n\n%s\n" % (
        tree.encode(),
        head.encode(),
        who,
        who,
        message,
    )
    return (
        subprocess.run(
            ["git", "-C", str(repo), "hash-object", "-t", "commit", "--literally", "-w", "--stdin"],
            input=raw,
            check=True,
            capture_output=True,
            env=env,
        )
        .stdout.decode()
        .strip()
    )


@pytest.mark.parametrize(
    "name, message, agent",
    [
        ("مهدی\u200cزاده".encode(), b"Fix the parser", "مهدیزاده"),  # a zero-width non-joiner
        (b"Ada\tLovelace", b"Fix the parser", "Ada Lovelace"),
        (b"A" * 129, b"Fix the parser", "A" * 128),
        (b"\xe2\x80\xae\x1b[31m", b"Fix the parser", "[31m"),  # bidi override, escape
        (b"\xe2\x80\x8b", b"Fix the parser", "unknown"),  # nothing visible is left
        (b"Ada", b"x" * (1 << 20) + b"\n\n" + b"y" * (1 << 20), "Ada"),  # over 1 MiB
        (b"Ada<ada@old.example>", b"Fix the parser", "Ada"),  # git reads up to the first <
        (b"Ada > Bob", b"Fix the parser", "Ada > Bob"),
        (b"Ada\t", b"Fix the parser", "Ada"),
    ],
)
def test_what_capture_makes_of_any_author_and_message_is_recorded(
    tmp_path: Path, cli: Cli, name: bytes, message: bytes, agent: str
) -> None:
    repo, env = _new_repo(tmp_path)
    _git(repo, env, "commit", "-q", "--allow-empty", "-m", "Start", when="2025-12-01T10:00:00Z")
    top = _on_top(repo, env, name, message)
    done = _run_capture(repo, env, "--until-rev", top)
    assert done.returncode == 0, done.stderr.decode()
    session = json.loads(done.stdout)
    assert session["agent_id"] == agent
    # The name is the one git reads (`%an`), made an agent id.
    assert agent_id(_git(repo, env, "log", "-1", "--format=%an", top).rstrip("\n")) == agent
    kept = session["source_data"]["git_commits"][-1]["message"]
    if len(message) > 10_000:
        assert len(kept) < 10_000 and "(cut: 1,048,276 more characters)" in kept
        assert b"cut to" in done.stderr and top[:12].encode() in done.stderr
    ingested = cli("ingest", "--repo", tmp_path / "store.git", "-", input=done.stdout)
    assert ingested.exit_code == 0, ingested.output
    assert "recorded" in ingested.output


_NAMES = st.text(st.characters(exclude_characters="<>\n\x00"), max_size=200)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=_NAMES, message=st.text(max_size=400), long=st.integers(0, 3))
def test_capture_of_any_author_and_message_passes_make_record(
    tmp_path_factory: pytest.TempPathFactory, name: str, message: str, long: int
) -> None:
    root = tmp_path_factory.mktemp("any")
    repo, env = _new_repo(root)
    _git(repo, env, "commit", "-q", "--allow-empty", "-m", "Start", when="2025-12-01T10:00:00Z")
    text = (message * (1 + long * 40)).encode("utf-8", "surrogatepass")
    top = _on_top(repo, env, name.encode("utf-8", "surrogatepass"), text)
    captured = capture(CaptureOptions(source=repo, until_rev=top))
    make_record("any", captured.session)  # raises when ingest would refuse it
