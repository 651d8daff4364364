"""What a verify run found and covered: findings, figures, and the versions that made the
store's sessions."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..pipelines import installed_pipelines
from ..rendering.filtersets import FILTER_SETS

__all__ = ["Finding", "VerifyResult"]


@dataclass(frozen=True)
class Finding:
    """One violation (or warning): the rule, the commit, the path, and why."""

    rule: str
    commit: str
    path: str
    message: str
    severity: str = "violation"

    def __str__(self) -> str:
        return f"{self.commit[:12]} {self.path or '-'}: {self.message} [{self.rule}]"


@dataclass
class VerifyResult:
    """What a run found, what it covered, and the store's figures.

    `pipelines` counts the sessions at the tip by the pipeline version that made them and
    `filter_sets` by the filter set their artifacts were rendered with; `other_versions`
    and `unknown_filter_sets` are the part this gitflywheel does not run: never a
    violation (their artifacts are checked against their facts, or by hash), and
    `gitflywheel rerender` brings them up to date.
    """

    store: str
    tip: str | None
    full: bool
    commits_checked: int = 0
    sessions_checked: int = 0
    findings: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    figures: dict[str, int] = field(default_factory=dict)
    sessions_by_type: dict[str, int] = field(default_factory=dict)
    artifacts_by_step: list[tuple[str, str, str, int]] = field(default_factory=list)
    pipelines: dict[str, int] = field(default_factory=dict)
    filter_sets: dict[str, int] = field(default_factory=dict)
    verified_before: str | None = None

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def other_versions(self) -> dict[str, int]:
        """Sessions at the tip made by a pipeline version this gitflywheel does not run."""
        installed = set(installed_pipelines())
        return {p: n for p, n in self.pipelines.items() if p not in installed}

    @property
    def unknown_filter_sets(self) -> dict[str, int]:
        """Sessions at the tip rendered with a filter set this gitflywheel does not have."""
        return {s: n for s, n in self.filter_sets.items() if s not in FILTER_SETS}

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        data["artifacts_by_step"] = [
            {"pipeline": p, "step": s, "kind": k, "count": n}
            for p, s, k, n in self.artifacts_by_step
        ]
        data["installed_pipelines"] = installed_pipelines()
        data["other_versions"] = self.other_versions
        data["unknown_filter_sets"] = self.unknown_filter_sets
        return data
