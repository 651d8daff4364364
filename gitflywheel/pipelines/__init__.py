"""The pipelines: a validated session in, artifact specs out. Pure: no I/O, no clock.

Each pipeline carries a version (`build/2`): the facts it derives from a record change
only with it, so a store can tell which code made a session's facts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..artifacts import ArtifactSpec, PipelineName, Screenshot
from ..models import BuildSession, LifeAriaSession, TradeSession
from . import build, life_aria, trade

__all__ = [
    "PIPELINE_ID_PATTERN",
    "run_pipeline",
    "pipeline_id",
    "installed_pipelines",
    "split_pipeline_id",
]

PIPELINE_ID_PATTERN = r"^(build|trade|life_aria)/[1-9][0-9]{0,8}$"
_PIPELINE_ID = re.compile(PIPELINE_ID_PATTERN)
_MODULES = {"build": build, "trade": trade, "life_aria": life_aria}


def run_pipeline(
    session: BuildSession | TradeSession | LifeAriaSession, screenshots: Sequence[Screenshot] = ()
) -> list[ArtifactSpec]:
    """The artifacts of one session, by its type."""
    if isinstance(session, BuildSession):
        return build.run(session)
    if isinstance(session, TradeSession):
        return trade.run(session)
    return life_aria.run(session, screenshots)


def pipeline_id(session_type: str) -> str:
    """The installed pipeline and version for a session type: `build/2`."""
    return f"{session_type}/{_MODULES[session_type].VERSION}"


def installed_pipelines() -> list[str]:
    """Every pipeline this gitflywheel runs, with its version."""
    return [pipeline_id(name) for name in _MODULES]


def split_pipeline_id(value: str) -> tuple[PipelineName, int]:
    """`build/2` -> ("build", 2); ValueError for anything else."""
    if not _PIPELINE_ID.match(value):
        raise ValueError(f"{value!r} is not a pipeline and version such as build/2")
    name, version = value.split("/")
    kinds: dict[str, PipelineName] = {"build": "build", "trade": "trade", "life_aria": "life_aria"}
    return kinds[name], int(version)
