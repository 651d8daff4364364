"""Filter sets: the numbered, frozen functions that templates format values with.

An artifact is made of its facts, its template, and what formats values for the
template: the filters it calls by name (`money`, `md_text`, `yaml_string`, ...) and the
finalize that escapes every `{{ }}` by default. The manifest names the set beside the
template blob, and a set, once released, never changes (tests/rendering/test_filtersets.py pins
each set's outputs), so old facts with their old template and old set render again byte
for byte, forever.

To change a filter (or the default escaping): keep the released set's functions as they
are (move the old code into a frozen module here if the new one replaces it in `escape`,
`figures` or `sandbox`), add `filters/N+1` with the new functions, and make it
CURRENT_FILTERS. Sessions rendered since use the new set;
older ones keep theirs until `gitflywheel rerender`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ..errors import GitflywheelError
from ..session.versions import FILTER_SET_PATTERN
from . import sandbox

__all__ = [
    "FILTER_SET_PATTERN",
    "FilterSet",
    "FILTER_SETS",
    "CURRENT_FILTERS",
    "UnknownFilterSet",
    "filter_set",
]

_NAME = re.compile(FILTER_SET_PATTERN)


@dataclass(frozen=True)
class FilterSet:
    """A released set: the filters templates call by name, and the finalize every
    `{{ }}` goes through."""

    filters: Mapping[str, Callable[..., Any]]
    finalize: Callable[[Any], Any]


FILTER_SETS: dict[str, FilterSet] = {
    "filters/1": FilterSet(MappingProxyType(dict(sandbox.FILTERS)), sandbox.FINALIZE),
}
CURRENT_FILTERS = "filters/1"


class UnknownFilterSet(GitflywheelError):
    """A filter set this gitflywheel does not have (a later version made it)."""


def filter_set(name: str) -> FilterSet:
    """The functions of a released set, by name."""
    found = FILTER_SETS.get(name)
    if found is None:
        shape = "" if _NAME.match(name) else " (a set is named like filters/1)"
        raise UnknownFilterSet(
            f"filter set {name!r} is not one this gitflywheel has{shape}; "
            f"it has {', '.join(sorted(FILTER_SETS))}"
        )
    return found
