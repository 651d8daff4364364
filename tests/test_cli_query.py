"""ls, show, which, log, export, schema, init, and every command's help."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from conftest import CORPUS, EXAMPLES, ROOT, Cli, git
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitflywheel.cli import main

BUILD_ID = "3f2b7c1e-8a4d-4e6f-9b21-5c7d8e9f0a1b"


@pytest.fixture()
def examples_store(cli: Cli, tmp_path: Path) -> Path:
    store = tmp_path / "ex.git"
    assert cli("ingest", "--repo", store, EXAMPLES).exit_code == 0
    return store


def test_init_twice(cli: Cli, tmp_path: Path) -> None:
    store = tmp_path / "new.git"
    first = cli("init", "--repo", store, "--json")
    assert first.exit_code == 0 and json.loads(first.stdout)["created"] is True
    second = cli("init", "--repo", store)
    assert second.exit_code == 0 and "Already a store" in second.stderr
    assert git("-C", store, "log", "--format=%s").strip() == "Set up gitflywheel store"


def test_repo_from_environment(
    cli: Cli, examples_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITFLYWHEEL_REPO", str(examples_store))
    assert len(cli("ls").stdout.splitlines()) == 3


def test_ls_filters(cli: Cli, examples_store: Path) -> None:
    rows = json.loads(cli("ls", "--repo", examples_store, "--json").stdout)
    assert [r["session_type"] for r in rows] == ["life_aria", "build", "trade"]
    only = json.loads(cli("ls", "--repo", examples_store, "--json", "--type", "trade").stdout)
    assert [r["agent_id"] for r in only] == ["trader-kay"]
    by_agent = json.loads(
        cli("ls", "--repo", examples_store, "--json", "--agent", "Agent-5").stdout
    )
    assert [r["session_id"] for r in by_agent] == [BUILD_ID]
    window = json.loads(
        cli(
            "ls",
            "--repo",
            examples_store,
            "--json",
            "--since",
            "2025-12-04",
            "--until",
            "2025-12-04",
        ).stdout
    )
    assert [r["session_id"] for r in window] == [BUILD_ID]
    bad = cli("ls", "--repo", examples_store, "--since", "last week")
    assert bad.exit_code == 2 and "--since: 'last week' is not a date" in bad.stderr


def test_show_manifest_and_artifacts(cli: Cli, examples_store: Path) -> None:
    manifest = json.loads(cli("show", "--repo", examples_store, BUILD_ID).stdout)
    assert manifest["session_id"] == BUILD_ID and manifest["revision"] == 1
    kinds = {a["kind"]: a for a in manifest["artifacts"]}
    assert set(kinds) == {"readme", "build_log", "blog_post", "social_post", "activity_chart"}
    for kind, entry in kinds.items():
        text = cli("show", "--repo", examples_store, BUILD_ID, kind).stdout
        assert git("-C", examples_store, "show", f"main:{entry['path']}") == text
        assert entry["step"] in ("S3", "S4", "S5", "S6", "S7") and entry["template"][
            "path"
        ].startswith("templates/")
    record = json.loads(cli("show", "--repo", examples_store, BUILD_ID, "record").stdout)
    assert record["session_id"] == BUILD_ID
    missing = cli("show", "--repo", examples_store, BUILD_ID, "trade_journal")
    assert missing.exit_code == 2 and "has no trade_journal" in missing.stderr
    unknown = cli("show", "--repo", examples_store, "nope")
    assert unknown.exit_code == 2 and "no such session" in unknown.stderr


def test_screenshots_stored_and_missing_listed(cli: Cli, tmp_path: Path) -> None:
    data = json.loads((EXAMPLES / "life_aria_session.json").read_text())
    data["source_data"]["screenshots"].append("screens/gone.png")
    (tmp_path / "screens").mkdir()
    for name in ("title.png", "level1.png"):
        (tmp_path / "screens" / name).write_bytes((EXAMPLES / "screens" / name).read_bytes())
    path = tmp_path / "aria.json"
    path.write_text(json.dumps(data))
    store = tmp_path / "s.git"
    assert cli("ingest", "--repo", store, path).exit_code == 0
    manifest = json.loads(cli("show", "--repo", store, data["session_id"]).stdout)
    shots = manifest["screenshots"]
    assert [s["status"] for s in shots] == ["stored", "stored", "missing"]
    stored = shots[0]["file"]
    assert git("-C", store, "rev-parse", f"main:{stored['path']}").strip() == stored["blob"]
    holders = json.loads(
        cli("which", "--repo", store, EXAMPLES / "screens" / "title.png", "--json").stdout
    )
    assert [h["kind"] for h in holders["holders"]] == ["screenshot"]


def test_which(cli: Cli, examples_store: Path, tmp_path: Path) -> None:
    text = cli("show", "--repo", examples_store, BUILD_ID, "blog_post").stdout
    post = tmp_path / "post.md"
    post.write_text(text)
    found = json.loads(cli("which", "--repo", examples_store, post, "--json").stdout)
    assert [(h["session_id"], h["kind"]) for h in found["holders"]] == [(BUILD_ID, "blog_post")]
    assert found["blob"] == git("hash-object", post).strip()
    by_id = cli("which", "--repo", examples_store, found["blob"])
    assert by_id.exit_code == 0 and BUILD_ID in by_id.stdout
    post.write_text(text + "edited\n")
    assert cli("which", "--repo", examples_store, post).exit_code == 1
    assert cli("which", "--repo", examples_store, "not-a-file").exit_code == 2


def test_log(cli: Cli, examples_store: Path) -> None:
    entries = json.loads(cli("log", "--repo", examples_store, "--json").stdout)
    assert [e["session_type"] for e in entries] == ["trade", "life_aria", "build", None]
    assert entries[-1]["subject"] == "Set up gitflywheel store"
    assert [e["commit"] for e in entries] == git("-C", examples_store, "rev-list", "main").split()
    assert len(cli("log", "--repo", examples_store, "-n", "2").stdout.splitlines()) == 2


def test_export(cli: Cli, examples_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = cli("export", "--repo", examples_store, out, "--json")
    assert result.exit_code == 0
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert files == sorted(
        git("-C", examples_store, "ls-tree", "-r", "--name-only", "main").split()
    )
    older = tmp_path / "older"
    assert cli("export", "--repo", examples_store, older, "--at", "main~2").exit_code == 0
    assert len(list(older.glob("sessions/*/*/*"))) == 1
    again = cli("export", "--repo", examples_store, out)
    assert again.exit_code == 2 and "not empty" in again.stderr
    assert cli("export", "--repo", examples_store, tmp_path / "x", "--at", "nope").exit_code == 2


@pytest.mark.slow
def test_schemas(cli: Cli, corpus_store: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    session_schema = json.loads(cli("schema", "session").stdout)
    for path in sorted(CORPUS.glob("*.json")):
        jsonschema.validate(json.loads(path.read_text()), session_schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"session_id": "../x", "session_type": "build"}, session_schema)
    manifest_schema = json.loads(cli("schema", "manifest").stdout)
    for line in git("-C", corpus_store, "ls-tree", "-r", "main", "sessions").splitlines():
        if line.endswith("/manifest.json"):
            jsonschema.validate(
                json.loads(git("-C", corpus_store, "cat-file", "-p", line.split()[2])),
                manifest_schema,
            )


def _commands() -> list[str]:
    return sorted(main.commands)


@pytest.mark.parametrize("command", _commands())
def test_every_command_has_help_and_is_in_the_readme(cli: Cli, command: str) -> None:
    result = cli(command, "--help")
    assert result.exit_code == 0
    assert (main.commands[command].help or "").strip()
    readme = (ROOT / "README.md").read_text()
    assert re.search(rf"gitflywheel {command}\b", readme), (
        f"README.md does not mention `gitflywheel {command}`"
    )
    reporting = {
        "init",
        "ingest",
        "ls",
        "show",
        "which",
        "log",
        "verify",
        "export",
        "publish",
        "sync",
    }
    if command in reporting:
        assert "--json" in result.stdout
    if command not in ("schema", "capture"):
        assert "--repo" in result.stdout


def test_python_m_and_version(cli: Cli) -> None:
    import subprocess

    from conftest import GFW

    done = subprocess.run([*GFW, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "ingest" in done.stdout
    assert cli("--version").exit_code == 0


# -- export: what a tree may hold, and revisions ---------------------------------------


def _commit_extra_entries(store: Path, entries: list[tuple[str, str, bytes]]) -> str:
    """A commit on main whose tree is main's plus `entries` (mode, sha, name), made with
    plain git: a store someone else wrote to."""
    lines = b"".join(
        line.split(b"\t", 1)[0] + b"\t" + line.split(b"\t", 1)[1] + b"\0"
        for line in git("-C", store, "ls-tree", "-z", "main").encode().split(b"\0")
        if line
    )
    for mode, sha, name in entries:
        kind = {"160000": "commit", "040000": "tree"}.get(mode, "blob")
        lines += f"{mode} {kind} {sha}\t".encode() + name + b"\0"
    done = subprocess.run(
        ["git", "-C", store, "mktree", "-z"], input=lines, capture_output=True, check=True
    )
    tree = done.stdout.decode().strip()
    env = {"GIT_AUTHOR_NAME": "x", "GIT_AUTHOR_EMAIL": "x@y", "GIT_COMMITTER_NAME": "x"}
    env["GIT_COMMITTER_EMAIL"] = "x@y"
    commit = git("-C", store, "commit-tree", tree, "-p", "main", "-m", "by hand", env=env)
    git("-C", store, "update-ref", "refs/heads/main", commit.strip())
    return commit.strip()


def _blob(store: Path, data: bytes) -> str:
    return git("-C", store, "hash-object", "-w", "--stdin", input=data).strip()


def test_export_skips_submodules_and_links(cli: Cli, examples_store: Path, tmp_path: Path) -> None:
    target = _blob(examples_store, b"/etc/passwd")
    script = _blob(examples_store, b"#!/bin/sh\necho hi\n")
    commit = _commit_extra_entries(
        examples_store,
        [
            ("160000", "1" * 40, b"sub"),
            ("120000", target, b"link"),
            ("100755", script, b"run.sh"),
        ],
    )
    out = tmp_path / "out"
    done = cli.process("export", "--repo", examples_store, out)
    stderr = done.stderr.decode()
    assert done.returncode == 0 and "Traceback" not in stderr, stderr
    assert "note: skipped sub: a submodule (gitlink)" in stderr
    assert "note: skipped link: a symbolic link" in stderr
    assert f"of {commit[:12]}" in stderr
    assert not (out / "sub").exists() and not (out / "link").is_symlink()
    assert (out / "run.sh").read_bytes() == b"#!/bin/sh\necho hi\n"
    assert os.access(out / "run.sh", os.X_OK)
    result = json.loads(
        cli("export", "--repo", examples_store, tmp_path / "again", "--json").stdout
    )
    assert [s.split(":")[0] for s in result["skipped"]] == ["link", "sub"]
    files = git("-C", examples_store, "ls-tree", "-r", "--name-only", "main").split()
    assert result["files"] == len(files) - 2


@pytest.mark.parametrize("name", [b".GIT", b".git.", b"git~1", b".g\xe2\x80\x8cit"])
def test_export_refuses_a_name_some_file_system_reads_as_dot_git(
    cli: Cli, examples_store: Path, tmp_path: Path, name: bytes
) -> None:
    """`.git` on NTFS or HFS+ (any case, trailing dots, the short name, ignored code
    points) is refused as `.git` is: an export folder may be on such a disk."""
    _commit_extra_entries(examples_store, [("100644", _blob(examples_store, b"x\n"), name)])
    out = tmp_path / "out"
    done = cli.process("export", "--repo", examples_store, out)
    stderr = done.stderr.decode()
    assert done.returncode == 2 and "would escape the export folder" in stderr, stderr
    assert "Traceback" not in stderr


def test_export_keeps_names_that_are_not_utf8(
    cli: Cli, examples_store: Path, tmp_path: Path
) -> None:
    """Two names that decode to the same text with 'replace' are two files."""
    names = {b"caf\xe9.md": b"latin-1 e acute\n", b"caf\xe8.md": b"latin-1 e grave\n"}
    _commit_extra_entries(
        examples_store, [("100644", _blob(examples_store, data), n) for n, data in names.items()]
    )
    out = tmp_path / "out"
    done = cli.process("export", "--repo", examples_store, out)
    assert done.returncode == 0, done.stderr.decode()
    for name, data in names.items():
        assert (os.fsencode(out) + b"/" + name) in [
            os.fsencode(out) + b"/" + n for n in os.listdir(os.fsencode(out))
        ]
        with open(os.fsencode(out) + b"/" + name, "rb") as f:
            assert f.read() == data


@pytest.mark.parametrize(
    ("rev", "reason"),
    [
        ("main^{tree}", "^{tree} names a tree, not a commit"),
        ("main~-1", "not a revision"),
        ("main~99", "no such revision in the store"),
        ("nope", "no such revision in the store"),
        ("../../../etc/passwd", "not a revision"),
        ("main^^{blob}", "^{blob} names a blob, not a commit"),
    ],
)
def test_export_refuses_a_revision_it_cannot_read(
    cli: Cli, examples_store: Path, tmp_path: Path, rev: str, reason: str
) -> None:
    done = cli.process("export", "--repo", examples_store, tmp_path / "out", "--at", rev)
    stderr = done.stderr.decode()
    assert done.returncode == 2 and "Traceback" not in stderr, stderr
    assert stderr.startswith(f"error: {rev!r}: {reason}"), stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("rev", ["main", "main~1", "main~", "main^", "main^^", "main^{commit}~1"])
def test_export_reads_revisions_as_git_does(
    cli: Cli, examples_store: Path, tmp_path: Path, rev: str
) -> None:
    result = cli("export", "--repo", examples_store, tmp_path / "out", "--at", rev, "--json")
    assert result.exit_code == 0, result.stderr
    expected = git("-C", examples_store, "rev-parse", "--verify", f"{rev}^{{commit}}").strip()
    assert json.loads(result.stdout)["commit"] == expected


_REV_PARTS = st.sampled_from(["main", "HEAD", "~", "^", "~1", "^2", "{", "}", "commit", "-", "0"])


@settings(
    max_examples=150,
    deadline=None,
    # the store is only read
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(_REV_PARTS, min_size=1, max_size=6).map("".join))
def test_a_revision_is_what_git_says_or_refused(examples_store: Path, rev: str) -> None:
    from gitflywheel.storage.store import RevisionError, Store

    with Store.open(examples_store) as store:
        try:
            found = store.resolve(rev).decode()
        except RevisionError:
            return
    done = subprocess.run(
        ["git", "-C", examples_store, "rev-parse", "--verify", "-q", f"{rev}^{{commit}}"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and done.stdout.strip() == found, rev
