"""Executions in Tradervue's generic import layout (CSV, comma or tab separated), which
any spreadsheet can write: `Date, Time, Symbol, Quantity, Price, Side`, optional
`Commission`, `TransFee`, `ECNFee` (a positive fee is a charge, a negative one a credit),
and, beyond Tradervue's own columns, `Account` and `Currency`.

Dates are month first or year first (mm/dd/yyyy, mm-dd-yyyy, yyyy/mm/dd, yyyy-mm-dd,
yyyymmdd), times HH:MM:SS in 24 hours; a file without a Time column gets noon, as
Tradervue does, and a note (an empty Time cell of a file that has one is refused).
`Side` starts with B or S (Buy, BOT, Sell, SLD, Short; a buy of a negative quantity is
refused, a sale's may be written either way); without it a negative quantity is a sell.
Without a header the columns must be in the order above. Times are New York time unless
`--tz` says otherwise.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import time
from decimal import Decimal
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
    refuse_repeated_columns,
    symbol_field,
)

__all__ = ["BROKER", "DEFAULT_ZONE", "looks_like", "read"]

BROKER = "Tradervue generic"
DEFAULT_ZONE = "America/New_York"
_SYNONYMS = {
    "date": "date",
    "tradedate": "date",
    "time": "time",
    "exectime": "time",
    "symbol": "symbol",
    "ticker": "symbol",
    "quantity": "quantity",
    "qty": "quantity",
    "shares": "quantity",
    "price": "price",
    "side": "side",
    "action": "side",
    "commission": "commission",
    "comm": "commission",
    "transfee": "transfee",
    "ecnfee": "ecnfee",
    "account": "account",
    "currency": "currency",
}
_ORDER = ["date", "time", "symbol", "quantity", "price", "side"]


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _dialect(text: str) -> str:
    first = text.split("\n", 1)[0]
    return "\t" if first.count("\t") > first.count(",") else ","


def _header(row: list[str]) -> dict[str, int] | None:
    keys = [_SYNONYMS.get(_key(c)) for c in row]
    if "symbol" in keys and "quantity" in keys and "price" in keys:
        return {k: n for n, k in enumerate(keys) if k is not None}
    return None


def looks_like(text: str) -> bool:
    try:
        for row in csv.reader(io.StringIO(text[:4096]), delimiter=_dialect(text)):
            if any(c.strip() for c in row):
                return _header(row) is not None
    except csv.Error:
        return False
    return False


def read(name: str, text: str, where: ZoneInfo) -> tuple[list[Execution], list[str]]:
    """The executions of one file, and notes (a file without times)."""
    ids = RowIds()
    columns: dict[str, int] | None = None
    executions: list[Execution] = []
    notes: list[str] = []
    try:
        for number, row in enumerate(
            csv.reader(io.StringIO(text), delimiter=_dialect(text)), start=1
        ):
            if not any(c.strip() for c in row):
                continue
            if columns is None:
                columns = _header(row)
                if columns is not None:
                    refuse_repeated_columns(
                        f"{name}:row {number}", row, lambda cell: _SYNONYMS.get(_key(cell))
                    )
                    if "date" not in columns:
                        raise InputError(
                            f"{name}:row {number}",
                            "Date",
                            "no Date column: give each execution's date",
                        )
                    if "time" not in columns:
                        notes.append(f"{name}: no Time column: every execution at 12:00:00")
                    continue
                columns = {k: n for n, k in enumerate(_ORDER)}
            executions.append(_execution(f"{name}:row {number}", row, columns, where, ids))
            if len(executions) > MAX_ROWS:
                raise InputError(name, "", f"more than {MAX_ROWS:,} executions")
    except csv.Error as exc:
        raise InputError(name, "", f"not CSV: {exc}") from None
    if not executions:
        raise InputError(name, "", "no executions in this file")
    return executions, notes


def _execution(
    origin: str, row: list[str], columns: dict[str, int], where: ZoneInfo, ids: RowIds
) -> Execution:
    cells = {k: row[n].strip() for k, n in columns.items() if n < len(row)}
    if len(row) <= max(columns[k] for k in ("symbol", "quantity", "price")):
        raise InputError(origin, "", f"{len(row)} cells; the header has more")
    symbol = symbol_field(cells.get("symbol"), origin, "Symbol")
    quantity = decimal_field(cells.get("quantity"), origin, "Quantity")
    if quantity == 0:
        raise InputError(origin, "Quantity", "zero: an execution fills something")
    side_text = cells.get("side", "")
    if side_text:
        if side_text[:1].upper() not in ("B", "S"):
            raise InputError(origin, "Side", f"{side_text[:20]!r} starts with neither B nor S")
        side = "buy" if side_text[:1].upper() == "B" else "sell"
        if side == "buy" and quantity < 0:  # a sale's quantity may be either sign
            raise InputError(origin, "Quantity", f"{quantity} disagrees with Side {side_text[:20]}")
    else:
        side = "buy" if quantity > 0 else "sell"
    price = decimal_field(cells.get("price"), origin, "Price")
    if price < 0:
        raise InputError(origin, "Price", "negative")
    day = parse_date(cells.get("date", ""), origin, "Date")
    if "time" not in columns:
        clock = time(12)
    elif not cells.get("time"):  # noon would move it among the day's fills
        raise InputError(origin, "Time", "missing: the file has a Time column")
    else:
        clock = parse_time(cells["time"], origin, "Time")
    fees = Decimal(0)
    for key, label in (
        ("commission", "Commission"),
        ("transfee", "TransFee"),
        ("ecnfee", "ECNFee"),
    ):
        fees += decimal_field(cells.get(key), origin, label, required=False)
    currency = cells.get("currency") or None
    if currency is not None and not re.fullmatch(r"[A-Z]{3}", currency):
        raise InputError(origin, "Currency", f"{currency[:20]!r} is not an ISO 4217 code")
    return Execution(
        origin=origin,
        account=cells.get("account", ""),
        symbol=symbol.upper(),
        side=side,
        quantity=abs(quantity),
        price=price,
        fees=fees,
        currency=currency,
        time=local_to_utc(day, clock, where, origin, "Date"),
        day=day,
        exec_id=ids(row, cells.get("account", "")),
    )
