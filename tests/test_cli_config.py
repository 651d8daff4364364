"""`gitflywheel config` and `gitflywheel.config`: the store's settings, one commit each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Cli, fsck, git, snapshot

import gitflywheel
from gitflywheel.errors import InputError
from gitflywheel.queries.settings import current_settings, settings_at
from gitflywheel.recording.settings import ConfigChange
from gitflywheel.session.settings import KEYS, StoreSettings
from gitflywheel.storage.store import Store


def trailers(store: Path) -> list[tuple[str, str, str]]:
    """(subject, Config-Key, Config-Change) of each commit on main, newest first."""
    out = git(
        "-C",
        store,
        "log",
        "--format=%s%x1f%(trailers:key=Config-Key,valueonly,separator=)"
        "%x1f%(trailers:key=Config-Change,valueonly,separator=)%x1e",
        "main",
    )
    return [tuple(r.strip("\n").split("\x1f")) for r in out.split("\x1e") if r.strip()]  # type: ignore[misc]


def count(store: Path) -> int:
    return int(git("-C", store, "rev-list", "--count", "main"))


@pytest.fixture()
def fresh(tmp_path: Path) -> Path:
    store = tmp_path / "fresh.git"
    gitflywheel.init(store)
    return store


def test_set_add_unset_one_commit_each(cli: Cli, fresh: Path) -> None:
    store = fresh
    before = count(store)
    steps = [
        ("site.base_url", "https://me.codeberg.page/flywheel/"),
        ("site.title", "Work sessions of Ada"),
        ("--add", "privacy.private", r"acme-\d{4}"),
        ("--add", "privacy.private", "[Pp]roject[- ]X"),
        ("--add", "names.agent", "Agent-1=Ada"),
        ("--unset", "privacy.private", r"acme-\d{4}"),
        ("--unset", "site.title"),
    ]
    for args in steps:
        result = cli("config", "--repo", store, *args)
        assert result.exit_code == 0, result.output
        assert "commit" in result.stderr and result.stdout == ""
    assert count(store) == before + len(steps)
    assert trailers(store)[: len(steps)] == [
        ("config: unset site.title", "site.title", "unset"),
        ("config: unset privacy.private", "privacy.private", "unset"),
        ("config: add names.agent", "names.agent", "add"),
        ("config: add privacy.private", "privacy.private", "add"),
        ("config: add privacy.private", "privacy.private", "add"),
        ("config: set site.title", "site.title", "set"),
        ("config: set site.base_url", "site.base_url", "set"),
    ]
    # each settings commit changes gitflywheel.toml and nothing else
    for n in range(len(steps)):
        changed = git("-C", store, "diff-tree", "--no-commit-id", "-r", "--name-only", f"main~{n}")
        assert changed.split() == ["gitflywheel.toml"]

    listed = cli("config", "--repo", store, "--list")
    assert listed.stdout.splitlines() == [
        "site.base_url=https://me.codeberg.page/flywheel/",
        "privacy.private=[Pp]roject[- ]X",
        "names.agent=Agent-1=Ada",
    ]
    as_json = json.loads(cli("config", "--repo", store, "--list", "--json").stdout)
    assert as_json == {
        "site.base_url": "https://me.codeberg.page/flywheel/",
        "privacy.private": ["[Pp]roject[- ]X"],
        "names.agent": ["Agent-1=Ada"],
    }
    assert cli("config", "--repo", store, "site.base_url").stdout == (
        "https://me.codeberg.page/flywheel/\n"
    )
    assert json.loads(cli("config", "--repo", store, "names.agent", "--json").stdout) == [
        "Agent-1=Ada"
    ]
    unset = cli("config", "--repo", store, "site.title", "--json")
    assert unset.exit_code == 0 and json.loads(unset.stdout) is None
    assert cli("config", "--repo", store, "site.title").stdout == ""

    assert cli("verify", "--repo", store, "--full").exit_code == 0
    fsck(store)
    log = cli("log", "--repo", store, "-n", "1")
    assert "config: unset site.title" in log.stdout


def test_an_unchanged_value_makes_no_commit(cli: Cli, fresh: Path) -> None:
    assert cli("config", "--repo", fresh, "site.title", "Mine").exit_code == 0
    assert cli("config", "--repo", fresh, "--add", "names.repo", "a/b=B").exit_code == 0
    tip = git("-C", fresh, "rev-parse", "main")
    for args in (
        ("site.title", "Mine"),
        ("--add", "names.repo", "a/b=B"),
        ("--unset", "site.base_url"),
        ("--unset", "names.repo", "not/there=X"),
    ):
        again = cli("config", "--repo", fresh, *args, "--json")
        assert again.exit_code == 0, again.output
        assert json.loads(again.stdout)["commit"] is None
    assert git("-C", fresh, "rev-parse", "main") == tip


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("site.colour", "blue"), "site.colour"),
        (("site.base_url", "javascript:alert(1)"), "site.base_url"),
        (("site.base_url", "https://me:hunter2@example.com/"), "credentials"),
        (("--add", "privacy.private", "(unclosed"), "privacy.private"),
        (("--add", "privacy.private", "(a+)+$"), "exponential"),
        (("--add", "privacy.private", ".*"), "empty text"),
        (("--add", "names.agent", "Ada"), "FROM=TO"),
        (("--add", "site.title", "x"), "--add"),
        (("--unset", "site.title", "x"), "without a VALUE"),
        (("site.title", "two\nlines"), "control character"),
    ],
)
def test_invalid_input_is_refused_and_nothing_written(
    cli: Cli, fresh: Path, args: tuple[str, ...], named: str
) -> None:
    before = snapshot(fresh)
    result = cli("config", "--repo", fresh, *args)
    assert result.exit_code == 2, result.output
    assert named in result.stderr and result.stderr.count("\n") == 1
    assert snapshot(fresh) == before


def test_several_values_are_not_overwritten_by_one(cli: Cli, fresh: Path) -> None:
    for pattern in ("one-[0-9]", "two-[0-9]"):
        assert cli("config", "--repo", fresh, "--add", "privacy.private", pattern).exit_code == 0
    refused = cli("config", "--repo", fresh, "privacy.private", "three-[0-9]")
    assert refused.exit_code == 2 and "--add" in refused.stderr
    assert cli("config", "--repo", fresh, "--unset", "privacy.private").exit_code == 0
    assert cli("config", "--repo", fresh, "privacy.private", "three-[0-9]").exit_code == 0
    assert cli("config", "--repo", fresh, "privacy.private").stdout == "three-[0-9]\n"


def test_usage_errors(cli: Cli, fresh: Path) -> None:
    assert cli("config", "--repo", fresh).exit_code == 2
    assert cli("config", "--repo", fresh, "--list", "site.title").exit_code == 2
    both = cli("config", "--repo", fresh, "--add", "--unset", "names.agent", "a=b")
    assert both.exit_code == 2


def test_help_names_every_key(cli: Cli) -> None:
    text = cli("config", "--help").output
    for key in KEYS:
        assert key in text
    assert "git config" in text and "public" in text


def test_a_missing_store_is_created_by_a_change(cli: Cli, tmp_path: Path) -> None:
    store = tmp_path / "new.git"
    assert cli("config", "--repo", store, "--list").exit_code == 2  # reading creates nothing
    assert not store.exists()
    assert cli("config", "--repo", store, "site.title", "Fresh").exit_code == 0
    assert [s for s, _, _ in trailers(store)] == [
        "config: set site.title",
        "Set up gitflywheel store",
    ]
    assert cli("verify", "--repo", store).exit_code == 0
    fsck(store)


def test_the_api(tmp_path: Path) -> None:
    store = tmp_path / "api.git"
    gitflywheel.init(store)
    assert "config" in gitflywheel.__all__
    assert gitflywheel.config(store) == StoreSettings()
    change = gitflywheel.config(store, "site.base_url", "https://x.example/")
    assert isinstance(change, ConfigChange)
    assert change.commit is not None and change.value == "https://x.example/"
    added = gitflywheel.config(store, "privacy.private", r"acme-\d+", add=True)
    assert isinstance(added, ConfigChange) and added.value == (r"acme-\d+",)
    assert gitflywheel.config(store, "site.base_url") == "https://x.example/"
    assert gitflywheel.config(store, "privacy.private") == (r"acme-\d+",)
    settings = gitflywheel.config(store)
    assert settings.values() == {
        "site.base_url": "https://x.example/",
        "privacy.private": (r"acme-\d+",),
    }
    removed = gitflywheel.config(store, "site.base_url", unset=True)
    assert isinstance(removed, ConfigChange) and removed.value is None
    with pytest.raises(InputError) as caught:
        gitflywheel.config(store, "privacy.private", "(", add=True)
    assert caught.value.field == "privacy.private" and caught.value.exit_code == 2
    with Store.open(store) as opened:
        assert current_settings(opened).values() == {"privacy.private": (r"acme-\d+",)}
        # the settings at any commit of the history
        older = opened.commit(opened.resolve("main~1")).tree
        assert settings_at(opened, older).values() == {
            "site.base_url": "https://x.example/",
            "privacy.private": (r"acme-\d+",),
        }
        assert gitflywheel.config(opened, "site.title") is None
