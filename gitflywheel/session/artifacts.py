"""What a pipeline hands to rendering: one spec per artifact, no I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..storage.layout import ArtifactKind

__all__ = [
    "ArtifactKind",
    "PipelineName",
    "ArtifactSpec",
    "Screenshot",
    "SLUG_PATTERN",
    "is_url",
    "is_linked_url",
]

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
"""A post's slug, its folder on a site: lowercase ASCII words joined by `-`."""

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_LINKED_SCHEMES = ("http://", "https://")

PipelineName = Literal["build", "trade", "life_aria"]


@dataclass(frozen=True)
class ArtifactSpec:
    """One artifact to render: its kind, the step that made it, and the template's context."""

    kind: ArtifactKind
    pipeline: PipelineName
    step: str
    template: str
    context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Screenshot:
    """A screenshot the session names: `stored` is its file name in the session folder,
    or None when the path did not resolve to a file when the session was ingested;
    `caption` is the one the session gives, if any."""

    source: str
    stored: str | None
    caption: str | None = None


def is_url(source: str) -> bool:
    """A screenshot named by a URL (any scheme) rather than a path."""
    return bool(_URL.match(source))


def is_linked_url(source: str) -> bool:
    """An http(s) URL: never fetched, linked from the artifact instead."""
    return is_url(source) and source.lower().startswith(_LINKED_SCHEMES)
