"""The pipelines: a validated session in, artifact specs out. Pure: no I/O, no clock.

Each pipeline carries a version (`build/2`): the facts it derives from a record change
only with it, so a store can tell which code made a session's facts.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..session.artifacts import ArtifactSpec, Screenshot
from ..session.models import BuildSession, LifeAriaSession, TradeSession
from ..session.versions import PIPELINE_ID_PATTERN, split_pipeline_id
from . import build, life_aria, trade

__all__ = [
    "PIPELINE_ID_PATTERN",
    "run_pipeline",
    "pipeline_id",
    "installed_pipelines",
    "split_pipeline_id",
]

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
