"""What a pipeline hands to rendering: one spec per artifact, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ArtifactSpec", "Screenshot"]


@dataclass(frozen=True)
class ArtifactSpec:
    """One artifact to render: its kind, the step that made it, and the template's context."""

    kind: str
    pipeline: str
    step: str
    template: str
    context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Screenshot:
    """A screenshot the session names: `stored` is its file name in the session folder,
    or None when the path did not resolve to a file when the session was ingested."""

    source: str
    stored: str | None
