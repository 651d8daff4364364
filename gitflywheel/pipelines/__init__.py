"""The pipelines: a validated session in, artifact specs out. Pure: no I/O, no clock."""

from __future__ import annotations

from collections.abc import Sequence

from ..artifacts import ArtifactSpec, Screenshot
from ..models import BuildSession, LifeAriaSession, TradeSession
from . import build, life_aria, trade

__all__ = ["run_pipeline"]


def run_pipeline(
    session: BuildSession | TradeSession | LifeAriaSession, screenshots: Sequence[Screenshot] = ()
) -> list[ArtifactSpec]:
    """The artifacts of one session, by its type."""
    if isinstance(session, BuildSession):
        return build.run(session)
    if isinstance(session, TradeSession):
        return trade.run(session)
    return life_aria.run(session, screenshots)
