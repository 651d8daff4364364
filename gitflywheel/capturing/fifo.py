"""Executions into trades by FIFO lots: per account, symbol, currency and multiplier, each
fill first closes the oldest open lots on the other side, and what is left opens a lot.

Partial fills and scale-outs make one round trip per lot part closed; a fill that
crosses zero (sell 150 while long 100) closes the lot and opens a short with the rest.
Fees go with the quantity they were paid for: an opening fill's fees are shared among
the round trips that close its lot, in proportion to quantity (to the hundredth of a
cent, the last part taking what is left, so nothing is lost or made up), and a closing
fill's fees likewise among the lots it closes. What stays open at the end is an open
lot. Pure: no clock, no I/O."""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from decimal import Decimal

from .executions import Execution

__all__ = ["Lot", "RoundTrip", "Matched", "match"]

_SHARE = Decimal("0.0001")
ZERO = Decimal(0)


@dataclass
class Lot:
    """An open position part: what is left of an opening fill, and its fees not yet used."""

    opening: Execution
    direction: int  # +1 long, -1 short
    quantity: Decimal
    fees_left: Decimal


@dataclass(frozen=True)
class RoundTrip:
    """A lot part opened and closed: P&L before fees (quantity x price move x multiplier)."""

    opening: Execution
    closing: Execution
    direction: int
    quantity: Decimal
    pnl: Decimal
    fees: Decimal


@dataclass
class Matched:
    """The round trips in closing order, the lots still open, and closing fills that
    found no lot in these files (the position was opened before them)."""

    round_trips: list[RoundTrip] = field(default_factory=list)
    open_lots: list[Lot] = field(default_factory=list)
    unmatched: list[tuple[Execution, Decimal]] = field(default_factory=list)


def _share(total: Decimal, part: Decimal, whole: Decimal) -> Decimal:
    """The part of `total` that `part` of `whole` pays; all of it when part is the whole."""
    if part == whole:
        return total
    return (total * part / whole).quantize(_SHARE)


def match(executions: list[Execution]) -> Matched:
    """FIFO lots over `executions` (taken in time order, then input order)."""
    done = Matched()
    books: dict[tuple[str, str, str | None, Decimal], deque[Lot]] = defaultdict(deque)
    ordered = sorted(enumerate(executions), key=lambda p: (p[1].time, p[0]))
    for _, fill in ordered:
        book = books[(fill.account, fill.symbol, fill.currency, fill.multiplier)]
        direction = 1 if fill.side == "buy" else -1
        left, fees_left = fill.quantity, fill.fees
        while left > 0 and book and book[0].direction != direction:
            lot = book[0]
            part = min(left, lot.quantity)
            open_fees = _share(lot.fees_left, part, lot.quantity)
            close_fees = _share(fees_left, part, left)
            move = (fill.price - lot.opening.price) * lot.direction
            done.round_trips.append(
                RoundTrip(
                    opening=lot.opening,
                    closing=fill,
                    direction=lot.direction,
                    quantity=part,
                    pnl=move * part * fill.multiplier,
                    fees=open_fees + close_fees,
                )
            )
            lot.quantity -= part
            lot.fees_left -= open_fees
            left -= part
            fees_left -= close_fees
            if lot.quantity == 0:
                book.popleft()
        if left > 0:
            if fill.open_close == "C":
                done.unmatched.append((fill, left))
            else:
                book.append(Lot(fill, direction, left, fees_left))
    done.open_lots = [lot for book in books.values() for lot in book]
    done.open_lots.sort(key=lambda lot: (lot.opening.time, lot.opening.exec_id))
    return done
