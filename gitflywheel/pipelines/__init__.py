"""The pipelines: a validated session in, artifact specs out. Pure: no I/O, no clock.

Each pipeline carries a version (`build/2`): the facts it derives from a record change
only with it, so a store can tell which code made a session's facts. The store's display
names (`names.repo`, `names.agent`) are an input like the record: `names_used` says
which of them apply to a session, and the facts record those. So is the session's
address on the site (`Address`: its slug, fixed when first recorded, and the site's
address), which front matter and the thread's link are made of.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..session.artifacts import ArtifactSpec, Screenshot
from ..session.facts import Address, Names
from ..session.models import BuildSession, LifeAriaSession, TradeSession
from ..session.public_text import public_repo
from ..session.versions import PIPELINE_ID_PATTERN, split_pipeline_id
from . import build, life_aria, trade
from .common import NO_NAMES

__all__ = [
    "PIPELINE_ID_PATTERN",
    "run_pipeline",
    "address_used",
    "names_used",
    "pipeline_id",
    "installed_pipelines",
    "split_pipeline_id",
]

_MODULES = {"build": build, "trade": trade, "life_aria": life_aria}


def names_used(
    session: BuildSession | TradeSession | LifeAriaSession, names: Names = NO_NAMES
) -> Names:
    """The display names that apply to this session: its agent's, and for a build
    session, which names its repository, that repository's (by its public name)."""
    repo = public_repo(session.source_data.repo_path) if isinstance(session, BuildSession) else None
    return names.applying(repo, session.agent_id)


def run_pipeline(
    session: BuildSession | TradeSession | LifeAriaSession,
    screenshots: Sequence[Screenshot] = (),
    names: Names = NO_NAMES,
    address: Address | None = None,
) -> list[ArtifactSpec]:
    """The artifacts of one session, by its type, naming its repository and its agent as
    `names` shows them, its post at `address` (without a slug: the title's)."""
    where = address or Address()
    if isinstance(session, BuildSession):
        return build.run(session, names, where)
    if isinstance(session, TradeSession):
        return trade.run(session, names, where)
    return life_aria.run(session, screenshots, names, where)


def address_used(address: Address | None, specs: Sequence[ArtifactSpec]) -> Address:
    """The address the pipeline gave the session: `address` with the slug its blog
    post's front matter took (the title's, when `address` gave none)."""
    where = address or Address()
    for spec in specs:
        front = spec.context.get("front")
        if spec.kind == "blog_post" and isinstance(front, dict):
            return where.with_slug(str(front["slug"]))
    return where


def pipeline_id(session_type: str) -> str:
    """The installed pipeline and version for a session type: `build/2`."""
    return f"{session_type}/{_MODULES[session_type].VERSION}"


def installed_pipelines() -> list[str]:
    """Every pipeline this gitflywheel runs, with its version."""
    return [pipeline_id(name) for name in _MODULES]
