"""What a batch command reports: one outcome per item, the exit code the highest met.

`ingest` and `rerender` each have their own outcome type (their statuses differ); the
tally over them is this one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Generic, Protocol, TypeVar

from ..errors import EXIT_OK

__all__ = ["BatchReport", "ItemOutcome"]


class ItemOutcome:
    """What became of one item: a status, and the exit code it means (by the subclass's
    `EXIT_CODES`)."""

    EXIT_CODES: ClassVar[Mapping[str, int]] = {}
    status: str

    @property
    def exit_code(self) -> int:
        return self.EXIT_CODES[self.status]


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
    # Outcomes counted but not kept (`add(keep=False)`): a long run's memory stays flat.
    tallied: Counter[str] = field(default_factory=Counter)
    highest: int = EXIT_OK
    dry_run: bool = False  # nothing was written: the outcomes say what a real run would do

    def add(self, outcome: OutcomeT, keep: bool = True) -> None:
        """Keep an outcome, or only count it and its exit code."""
        if keep:
            self.outcomes.append(outcome)
        else:
            self.tallied[outcome.status] += 1
            self.highest = max(self.highest, outcome.exit_code)

    @property
    def exit_code(self) -> int:
        return max([self.highest, *(o.exit_code for o in self.outcomes)])

    def count(self, status: str) -> int:
        return self.tallied[status] + sum(1 for o in self.outcomes if o.status == status)
