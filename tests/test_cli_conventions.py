"""What every command shares: one error prefix (click's usage errors too), --quiet, one
date format in --json, shell completion, and a package that says what it is."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import click
from conftest import EXAMPLES, Cli, git

import gitflywheel
from gitflywheel.cli import main

SCRIPT = Path(sys.executable).parent / "gitflywheel"
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def commands(group: click.Group = main) -> list[click.Command]:
    found: list[click.Command] = []
    for command in group.commands.values():
        found.append(command)
        if isinstance(command, click.Group):
            found += commands(command)
    return found


def test_every_error_says_error_and_a_usage_error_keeps_exit_2(cli: Cli, tmp_path: Path) -> None:
    usage = cli("ls", "--no-such-option")
    assert usage.exit_code == 2
    assert usage.stderr.startswith("Usage: ")
    assert usage.stderr.splitlines()[-1].startswith("error: No such option")
    assert "Error" not in usage.stderr
    unknown = cli("no-such-command")
    assert unknown.exit_code == 2 and unknown.stderr.splitlines()[-1].startswith("error: ")
    bad_value = cli("ls", "--type", "nope")
    assert bad_value.exit_code == 2 and "error: Invalid value for '--type'" in bad_value.stderr
    ours = cli("ls", "--repo", tmp_path / "nowhere.git")  # the project's own error
    assert ours.exit_code == 2 and ours.stderr.startswith("error: ")
    (tmp_path / "bad.json").write_text("{")
    invalid = cli("ingest", "--repo", tmp_path / "s.git", tmp_path / "bad.json")
    assert invalid.exit_code == 2 and invalid.stderr.startswith(f"error: {tmp_path / 'bad.json'}: ")
    for result in (usage, unknown, bad_value, ours, invalid):
        assert not re.search(r"^(gitflywheel|Error):", result.stderr, re.M), result.stderr


def test_help_and_version_still_exit_0(cli: Cli) -> None:
    assert cli("--help").exit_code == 0 and cli("--version").exit_code == 0
    assert cli("ls", "--help").exit_code == 0


def test_every_command_takes_quiet(cli: Cli) -> None:
    for command in commands():
        assert "--quiet" in [o for p in command.params for o in p.opts], command.name


def test_quiet_silences_all_but_errors(cli: Cli, tmp_path: Path) -> None:
    store = tmp_path / "s.git"
    loud = cli("ingest", "--repo", store, EXAMPLES)
    assert loud.exit_code == 0 and "3 recorded" in loud.stderr
    quiet = cli("verify", "--repo", store, "--quiet")
    assert quiet.exit_code == 0 and quiet.stderr == ""
    site = cli("site", "--repo", store, tmp_path / "out", "--no-feed", "-q")
    assert site.exit_code == 0 and site.stderr == ""
    (tmp_path / "bad.json").write_text("{")
    failing = cli("ingest", "--repo", store, "-q", EXAMPLES, tmp_path / "bad.json")
    assert failing.exit_code == 2
    lines = failing.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"error: {tmp_path / 'bad.json'}: not valid JSON"
    )
    missing = cli("verify", "--repo", tmp_path / "nowhere.git", "--quiet")
    assert missing.exit_code == 2 and missing.stderr.startswith("error: ")


def test_log_json_dates_are_iso_8601_in_utc_like_ls(cli: Cli, tmp_path: Path) -> None:
    store = tmp_path / "s.git"
    assert cli("ingest", "--repo", store, EXAMPLES).exit_code == 0
    entries = json.loads(cli("log", "--repo", store, "--json").stdout)
    assert entries and all(ISO_UTC.match(e["date"]) for e in entries), entries
    by_git = git(
        "-C", store, "log", "--first-parent", "--format=%cd", "--date=format-local:%Y-%m-%dT%H:%M:%SZ",
        "main", env={"TZ": "UTC"},
    ).split()  # fmt: skip
    assert [e["date"] for e in entries] == by_git
    rows = json.loads(cli("ls", "--repo", store, "--json").stdout)
    assert all(ISO_UTC.match(r["timestamp"]) for r in rows), rows
    text = cli("log", "--repo", store).stdout.splitlines()
    assert text[0].split("  ")[1] == entries[0]["date"].replace("T", " ").removesuffix("Z")


def test_shell_completion_script_is_produced() -> None:
    done = subprocess.run(
        [str(SCRIPT)],
        env={**os.environ, "_GITFLYWHEEL_COMPLETE": "bash_source"},
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    script = done.stdout.decode()
    assert "_gitflywheel_completion()" in script and "complete -o nosort -F" in script
    asked = subprocess.run(
        [str(SCRIPT)],
        env={
            **os.environ,
            "_GITFLYWHEEL_COMPLETE": "bash_complete",
            "COMP_WORDS": "gitflywheel ver",
            "COMP_CWORD": "1",
        },
        capture_output=True,
        timeout=60,
    )
    assert asked.stdout.decode().splitlines() == ["plain,verify"]


def test_the_package_is_typed_licensed_and_says_it_is_posix() -> None:
    assert (Path(gitflywheel.__file__).parent / "py.typed").is_file()
    dist = metadata.distribution("gitflywheel")
    files = {str(f) for f in dist.files or ()}
    assert "gitflywheel/py.typed" in files
    license_file = next(f for f in dist.files or () if f.name == "LICENSE")
    text = Path(str(license_file.locate())).read_text()
    assert text.startswith("MIT License") and "the gitflywheel authors" in text
    meta = dist.metadata
    assert meta["License-Expression"] == "MIT"
    classifiers = meta.get_all("Classifier") or []
    assert "Operating System :: POSIX" in classifiers and "Typing :: Typed" in classifiers
