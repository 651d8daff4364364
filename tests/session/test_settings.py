"""The store's settings: the model's checks, the TOML file both ways, the three-way merge."""

from __future__ import annotations

import re
import time
import tomllib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitflywheel.errors import InputError
from gitflywheel.session.settings import (
    KEYS,
    SettingsConflict,
    StoreSettings,
    dumps_settings,
    merge_settings,
    parse_settings,
)

GOOD = {
    "site.base_url": "https://me.codeberg.page/flywheel/",
    "site.title": 'Work "sessions" \\ of Ada',
    "privacy.private": (r"acme-\d{4}", r"[Pp]roject[- ]X"),
    "names.repo": ("me/secret-repo=a client project",),
    "names.agent": ("Agent-1=Ada", "bot=The bot"),
    "names.agent_tags": "true",
}


def test_every_key_round_trips_through_the_file() -> None:
    settings = StoreSettings.of(GOOD)
    data = dumps_settings(settings)
    assert parse_settings(data) == settings
    assert dumps_settings(parse_settings(data)) == data
    assert tomllib.loads(data.decode())["site"]["title"] == GOOD["site.title"]
    assert settings.values() == GOOD
    assert settings.agent_names() == {"Agent-1": "Ada", "bot": "The bot"}
    assert settings.repo_names() == {"me/secret-repo": "a client project"}
    assert settings.agent_tags() and not StoreSettings().agent_tags()
    assert [p.pattern for p in settings.private_patterns()] == list(GOOD["privacy.private"])


def test_no_settings_are_the_defaults() -> None:
    empty = StoreSettings()
    assert empty.values() == {}
    assert empty.get("site.base_url") is None and empty.get("privacy.private") == ()
    assert parse_settings(dumps_settings(empty)) == empty
    assert parse_settings(b"") == empty


_text = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Cf", "Zl", "Zp")), min_size=1, max_size=40
).filter(str.strip)


@given(title=_text, names=st.lists(_text.filter(lambda t: "=" not in t), unique=True, max_size=5))
def test_any_valid_text_round_trips(title: str, names: list[str]) -> None:
    settings = StoreSettings.of(
        {"site.title": title, "names.agent": tuple(f"{n}={n[::-1]}" for n in names)}
    )
    data = dumps_settings(settings)
    assert parse_settings(data) == settings
    assert dumps_settings(parse_settings(data)) == data


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("site.base_url", "ftp://example.com/", "http:// or https://"),
        ("site.base_url", "https:///nohost", "http:// or https://"),
        ("site.base_url", "https://me:token@example.com/", "credentials"),
        ("site.base_url", "https://example.com/?q=1", "no query"),
        ("site.base_url", "https://example.com/a b", "no spaces"),
        ("site.title", "two\nlines", "control character"),
        ("site.title", "   ", "blank"),
        ("site.title", "right\u202eleft", "invisible"),
        ("site.title", "x" * 201, "longer than"),
        ("privacy.private", ("(unclosed",), "not a regular expression"),
        ("privacy.private", ("a*",), "matches empty text"),
        ("privacy.private", ("(a+)+b",), "exponential"),
        ("privacy.private", ("(x*y*)*z",), "exponential"),
        ("privacy.private", ("same", "same"), "twice"),
        ("names.agent", ("no-equals-sign",), "FROM=TO"),
        ("names.agent", ("=Ada",), "FROM=TO"),
        ("names.agent", ("Agent-1=",), "FROM=TO"),
        ("names.repo", ("=Shown",), "FROM=TO"),
        ("names.repo", ("secret=  ",), "FROM=TO"),
        ("names.repo", ("a=b", "a=c"), "two names"),
        ("site.title", ("a tuple",), "one value"),
        ("names.agent", "Agent-1=Ada", "several values"),
        ("site.colour", "blue", "not a setting"),
        ("names.agent_tags", "yes", "true or false"),
        ("names.agent_tags", ("true",), "one value"),
    ],
)
def test_bad_values_are_refused_naming_the_key(key: str, value: object, reason: str) -> None:
    with pytest.raises(InputError) as caught:
        StoreSettings.of({key: value})  # type: ignore[dict-item]
    assert caught.value.field == key
    assert reason in caught.value.reason


def test_a_repository_may_be_shown_as_nothing() -> None:
    """`names.repo FROM=`: the repository is not named at all (19)."""
    settings = StoreSettings.of({"names.repo": ("me/secret=", "a/b=B")})
    assert settings.repo_names() == {"me/secret": "", "a/b": "B"}
    assert parse_settings(dumps_settings(settings)) == settings


def test_a_pathological_pattern_is_refused_quickly() -> None:
    started = time.monotonic()
    with pytest.raises(InputError, match="exponential"):
        StoreSettings.of({"privacy.private": ("^(([a-z])+.)+[A-Z]([a-z])+$",)})
    assert time.monotonic() - started < 0.5
    # one repetition, or a bounded one around it, is fine
    StoreSettings.of({"privacy.private": (r"(ab)+c", r"(\d{3}-){2}\d{4}", r"(?:x|y)+")})


@pytest.mark.parametrize(
    ("data", "field", "reason"),
    [
        (b"[site\n", "", "not TOML"),
        (b"\xff\xfe", "", "not UTF-8"),
        (b'title = "x"\n', "title", "[sections]"),
        (b'[site]\ncolour = "blue"\n', "site.colour", "not a setting"),
        (b"[site]\ntitle = 3\n", "site.title", "a string"),
        (b'[privacy]\nprivate = "one"\n', "privacy.private", "an array of strings"),
        (b'[privacy]\nprivate = ["(a+)+"]\n', "privacy.private", "exponential"),
    ],
)
def test_a_file_that_is_not_settings_is_refused(data: bytes, field: str, reason: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_settings(data)
    assert caught.value.origin == "gitflywheel.toml"
    assert caught.value.field == field and reason in caught.value.reason


def test_the_keys_are_documented() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for key in KEYS:
        assert f"`{key}`" in readme, key


def test_merge_takes_each_key_from_the_side_that_changed_it() -> None:
    base = StoreSettings.of({"site.title": "Old", "privacy.private": ("a1", "b2")})
    ours = base.replaced("site.title", "New").replaced("privacy.private", ("a1", "b2", "c3"))
    theirs = base.replaced("site.base_url", "https://x.org/").replaced("privacy.private", ("b2",))
    merged = merge_settings(base, ours, theirs)
    assert merged.values() == {
        "site.base_url": "https://x.org/",
        "site.title": "New",
        "privacy.private": ("b2", "c3"),
    }
    assert merge_settings(base, ours, base) == ours
    assert merge_settings(base, ours, ours) == ours


def test_merge_refuses_one_key_set_two_ways() -> None:
    base = StoreSettings()
    with pytest.raises(SettingsConflict) as caught:
        merge_settings(base, base.replaced("site.title", "A"), base.replaced("site.title", "B"))
    assert caught.value.key == "site.title"
    with pytest.raises(SettingsConflict) as named:
        merge_settings(
            base,
            base.replaced("names.agent", ("Agent-1=Ada",)),
            base.replaced("names.agent", ("Agent-1=Bob",)),
        )
    assert named.value.key == "names.agent"


def test_private_patterns_are_plain_python_regular_expressions() -> None:
    settings = StoreSettings.of({"privacy.private": (r"(?i)acme-\d+",)})
    (pattern,) = settings.private_patterns()
    assert isinstance(pattern, re.Pattern) and pattern.search("see ACME-42")
