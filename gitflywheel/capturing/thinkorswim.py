"""thinkorswim account statements (CSV): executions from "Account Trade History", their
fees from "Cash Balance".

Trade history columns: `Exec Time` (`m/d/yy HH:MM:SS`; a spread's further legs leave it
empty and share the first leg's), `Side` (BUY/SELL), signed `Qty`, `Pos Effect` (TO
OPEN/TO CLOSE), `Symbol`, `Exp`, `Strike`, `Type` (STOCK, ETF, CALL, PUT: an option's
symbol is written whole, `AAPL 21 MAR 25 180 CALL`, with a multiplier of 100), `Price`.
The statement states no execution ids or fees beside the trades: a fee is the `Misc
Fees` plus `Commissions & Fees` of the Cash Balance `TRD` row whose description names
the same side, quantity and symbol (`BOT +100 AAPL @175.50`) within two seconds of the
execution (the two sections' clocks can differ by a second or two). Times are the
platform's zone, New York unless `--tz` says otherwise. Amounts are US dollars.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict, deque
from datetime import datetime, timedelta
from decimal import Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

from ..errors import InputError
from .executions import (
    MAX_ROWS,
    Execution,
    RowIds,
    decimal_field,
    local_to_utc,
    parse_date,
    parse_time,
    symbol_field,
)

__all__ = ["BROKER", "DEFAULT_ZONE", "looks_like", "read"]

BROKER = "thinkorswim"
DEFAULT_ZONE = "America/New_York"
_TRADES = "account trade history"
_CASH = "cash balance"
_JOIN_SECONDS = 2


class _Fee(NamedTuple):
    """A Cash Balance trade row: when (wall clock), what it says was traded, its fees."""

    when: datetime
    side: str
    quantity: Decimal
    root: str
    amount: Decimal
    row: int


def looks_like(text: str) -> bool:
    lowered = text.lower()
    return _TRADES in lowered and ("exec time" in lowered or "account statement" in lowered)


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _sections(text: str) -> dict[str, list[tuple[int, list[str]]]]:
    """Rows by section: a section opens with a row holding only its name."""
    found: dict[str, list[tuple[int, list[str]]]] = {}
    current: list[tuple[int, list[str]]] | None = None
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        filled = [c.strip() for c in row if c.strip()]
        if len(filled) == 1 and filled[0].lower() in (_TRADES, _CASH):
            current = found.setdefault(filled[0].lower(), [])
            continue
        if not filled:
            if current:  # a blank line ends a section, once it has rows
                current = None
            continue
        if current is not None:
            current.append((number, row))
    return found


def _table(
    rows: list[tuple[int, list[str]]], name: str, needed: tuple[str, ...]
) -> tuple[dict[str, int], list[tuple[int, list[str]]]]:
    if not rows:
        return {}, []
    number, header = rows[0]
    columns = {_key(c): n for n, c in enumerate(header) if c.strip()}
    missing = [c for c in needed if c not in columns]
    if missing:
        raise InputError(f"{name}:row {number}", "", "the header lacks " + ", ".join(missing))
    return columns, rows[1:]


def _moment(text: str, origin: str, where: ZoneInfo) -> tuple[datetime, datetime]:
    """(UTC, local wall clock) of `m/d/yy HH:MM:SS`."""
    day_text, _, clock_text = text.strip().partition(" ")
    day = parse_date(day_text, origin, "Exec Time")
    clock = parse_time(clock_text or "", origin, "Exec Time")
    return local_to_utc(day, clock, where, origin, "Exec Time"), datetime.combine(day, clock)


_DESCRIPTION = re.compile(r"^(BOT|SOLD)\s+([+-]?[\d,.]+)\s+(\S+)")


def read(name: str, text: str, where: ZoneInfo) -> tuple[list[Execution], list[str]]:
    """The executions of one account statement, and notes on what could not be joined."""
    first = text.splitlines()[0] if text else ""
    found = re.search(r"Account Statement for\s+(\S+)", first)
    account = found.group(1) if found else ""
    sections = _sections(text)
    if _TRADES not in sections:
        raise InputError(name, "", 'no "Account Trade History" section')
    columns, rows = _table(sections[_TRADES], name, ("exectime", "side", "qty", "symbol", "price"))
    cash_columns, cash_rows = _table(sections.get(_CASH, []), name, ())
    fees: list[_Fee] = []
    for number, row in cash_rows:
        cells = {k: row[n] for k, n in cash_columns.items() if n < len(row)}
        if cells.get("type", "").strip() != "TRD":
            continue
        origin = f"{name}:row {number}"
        described = _DESCRIPTION.match(cells.get("description", "").strip())
        if not described or "date" not in cells:
            continue
        day = parse_date(cells["date"], origin, "DATE")
        clock = parse_time(cells.get("time", ""), origin, "TIME")
        charge = decimal_field(cells.get("miscfees"), origin, "Misc Fees", required=False)
        charge += decimal_field(
            cells.get("commissionsfees"), origin, "Commissions & Fees", required=False
        )
        side = "buy" if described.group(1) == "BOT" else "sell"
        quantity = abs(decimal_field(described.group(2), origin, "DESCRIPTION"))
        fees.append(
            _Fee(datetime.combine(day, clock), side, quantity, described.group(3), -charge, number)
        )
    # unused fee rows by what they traded and when (whole seconds), each in row order
    by_order: dict[tuple[str, Decimal, str, datetime], deque[_Fee]] = defaultdict(deque)
    for f in fees:
        by_order[(f.side, f.quantity, f.root, f.when)].append(f)
    used: set[int] = set()
    ids = RowIds()
    executions: list[Execution] = []
    notes: list[str] = []
    last_time = ""
    for number, row in rows:
        origin = f"{name}:row {number}"
        cells = {k: row[n] for k, n in columns.items() if n < len(row)}
        exec_time = cells.get("exectime", "").strip() or last_time
        if not exec_time:
            raise InputError(origin, "Exec Time", "missing")
        last_time = exec_time
        side = cells.get("side", "").strip().upper()
        if side not in ("BUY", "SELL"):
            raise InputError(origin, "Side", f"{side[:20]!r} is not BUY or SELL")
        quantity = decimal_field(cells.get("qty"), origin, "Qty")
        if quantity == 0 or (quantity > 0) != (side == "BUY"):
            raise InputError(origin, "Qty", f"{quantity} disagrees with Side {side}")
        price = decimal_field(cells.get("price"), origin, "Price")
        if price < 0:
            raise InputError(origin, "Price", "negative")
        root = symbol_field(cells.get("symbol"), origin, "Symbol")
        kind = cells.get("type", "").strip().upper()
        symbol, multiplier = root, Decimal(1)
        if kind in ("CALL", "PUT"):
            symbol = " ".join(
                p
                for p in (root, cells.get("exp", "").strip(), cells.get("strike", "").strip(), kind)
                if p
            )
            multiplier = Decimal(100)
        utc, local = _moment(exec_time, origin, where)
        effect = cells.get("poseffect", "").strip().upper()
        fee = Decimal(0)
        order = ("buy" if side == "BUY" else "sell", abs(quantity), root)
        # the nearest in time within _JOIN_SECONDS, the first row of those equally near
        heads = [
            (abs(step), queue[0].row, queue)
            for step in range(-_JOIN_SECONDS, _JOIN_SECONDS + 1)
            if (queue := by_order.get((*order, local + timedelta(seconds=step))))
        ]
        if heads:
            best = min(heads, key=lambda h: h[:2])[2].popleft()
            used.add(best.row)
            fee = best.amount
        elif fees or cash_rows:
            notes.append(f"{origin}: no Cash Balance row of its fees found; fees counted as 0")
        executions.append(
            Execution(
                origin=origin,
                account=account,
                symbol=symbol,
                side="buy" if side == "BUY" else "sell",
                quantity=abs(quantity),
                price=price,
                fees=fee,
                currency="USD",
                time=utc,
                day=local.date(),
                exec_id=ids(row),
                multiplier=multiplier,
                open_close="O" if effect == "TO OPEN" else "C" if effect == "TO CLOSE" else None,
            )
        )
        if len(executions) > MAX_ROWS:
            raise InputError(name, "", f"more than {MAX_ROWS:,} executions")
    for f in fees:
        if f.row not in used:
            notes.append(f"{name}:row {f.row}: a Cash Balance trade with no execution beside it")
    if not executions:
        raise InputError(name, "", 'no executions in "Account Trade History"')
    return executions, notes
