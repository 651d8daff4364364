"""What a batch command reports: one outcome per item, the exit code the highest met.

`ingest` and `rerender` each have their own outcome type (their statuses differ); the
tally over them is this one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from .errors import EXIT_OK

__all__ = ["BatchReport"]


class _Outcome(Protocol):
    @property
    def status(self) -> str: ...

    @property
    def exit_code(self) -> int: ...


OutcomeT = TypeVar("OutcomeT", bound=_Outcome)


@dataclass
class BatchReport(Generic[OutcomeT]):
    """Every outcome of one call on a store; the exit code is the highest met."""

    store: str
    outcomes: list[OutcomeT] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return max((o.exit_code for o in self.outcomes), default=EXIT_OK)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)
