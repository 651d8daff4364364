"""Filter sets: numbered, frozen, pinned on a table of inputs, and recorded per artifact."""

from __future__ import annotations

import pytest
from golden import FILTER_INPUTS, check, filter_pin_path, filter_pins

from gitflywheel.rendering import filtersets
from gitflywheel.rendering.filtersets import FILTER_SETS, FilterSet, UnknownFilterSet, filter_set
from gitflywheel.rendering.sandbox import FILTERS, FINALIZE


def test_each_released_set_prints_what_it_was_pinned_to() -> None:
    for name in FILTER_SETS:
        path = filter_pin_path(name)
        assert path.exists(), f"{path}: run python scripts/update_golden.py"
        assert check(path, path.read_bytes(), filter_pins(name)) is None, name


def test_the_current_set_is_the_last_and_covers_every_filter_templates_use() -> None:
    numbers = sorted(int(name.split("/")[1]) for name in FILTER_SETS)
    assert f"filters/{numbers[-1]}" == filtersets.CURRENT_FILTERS
    current = filter_set(filtersets.CURRENT_FILTERS)
    assert set(current.filters) == set(FILTERS) and current.finalize is FINALIZE
    assert len(FILTER_INPUTS) > 20


def test_a_filter_changed_in_place_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    released = FILTER_SETS["filters/1"]
    money = released.filters["money"]
    changed = FilterSet({**released.filters, "money": lambda v: f"${money(v)}"}, released.finalize)
    pinned = filter_pin_path("filters/1").read_bytes()
    monkeypatch.setitem(FILTER_SETS, "filters/1", changed)
    message = check(filter_pin_path("filters/1"), pinned, filter_pins("filters/1"))
    assert message is not None and "A released set never changes" in message


def test_a_released_set_cannot_be_changed_through_its_mapping() -> None:
    with pytest.raises(TypeError):
        FILTER_SETS["filters/1"].filters["money"] = str  # type: ignore[index]


def test_a_set_this_version_does_not_have_is_named() -> None:
    with pytest.raises(UnknownFilterSet, match="filters/9"):
        filter_set("filters/9")


def test_the_default_escaping_is_part_of_the_set(monkeypatch: pytest.MonkeyPatch) -> None:
    released = FILTER_SETS["filters/1"]
    pinned = filter_pin_path("filters/1").read_bytes()
    looser = FilterSet(released.filters, lambda value: str(value))
    monkeypatch.setitem(FILTER_SETS, "filters/1", looser)
    assert check(filter_pin_path("filters/1"), pinned, filter_pins("filters/1")) is not None
