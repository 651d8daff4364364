"""How a record names the versions that made it: pipeline ids (`build/4`) and filter-set
ids (`filters/1`). The pipelines and filter sets themselves live above the session model."""

from __future__ import annotations

import re

from .artifacts import PipelineName

__all__ = ["PIPELINE_ID_PATTERN", "FILTER_SET_PATTERN", "split_pipeline_id"]

PIPELINE_ID_PATTERN = r"^(build|trade|life_aria)/[1-9][0-9]{0,8}$"
FILTER_SET_PATTERN = r"^filters/[1-9][0-9]{0,8}$"
_PIPELINE_ID = re.compile(PIPELINE_ID_PATTERN)


def split_pipeline_id(value: str) -> tuple[PipelineName, int]:
    """`build/2` -> ("build", 2); ValueError for anything else."""
    if not _PIPELINE_ID.match(value):
        raise ValueError(f"{value!r} is not a pipeline and version such as build/2")
    name, version = value.split("/")
    kinds: dict[str, PipelineName] = {"build": "build", "trade": "trade", "life_aria": "life_aria"}
    return kinds[name], int(version)
