"""What a pipeline hands to rendering: one spec per artifact, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["ArtifactKind", "PipelineName", "ArtifactSpec", "Screenshot"]

ArtifactKind = Literal[
    "readme",
    "blog_post",
    "build_log",
    "social_post",
    "trade_journal",
    "activity_chart",
    "equity_curve",
]
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
