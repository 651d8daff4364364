"""One execution (a fill) as every broker format is read into it, and the helpers the
readers share: decimals, local times made UTC from an IANA zone, a row's own error.

A reader names where each execution came from (`file:row 7`), so that every problem
with an export points at the file, the row, the field and the reason."""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zoneinfo
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation

from ..errors import InputError

__all__ = [
    "Execution",
    "RowIds",
    "account_label",
    "decimal_field",
    "local_to_utc",
    "parse_date",
    "parse_time",
    "refuse_repeated_columns",
    "symbol_field",
    "zone",
]

MAX_ROWS = 1_000_000
"""The most executions one capture reads: a statement larger than this is no day's work."""


@dataclass(frozen=True)
class Execution:
    """A fill: `quantity` is positive, `side` says buy or sell; `fees` are what it cost
    (a credit is negative); `broker_pnl` the broker's realised P&L for it, net of fees,
    when the broker gives one; `open_close` "O", "C", "C;O" (closes, and opens the other
    side with the rest) or None when not stated."""

    origin: str
    account: str
    symbol: str
    side: str  # "buy" | "sell"
    quantity: Decimal
    price: Decimal
    fees: Decimal
    currency: str | None
    time: datetime  # UTC
    day: date  # the trading day: the date in the format's zone
    exec_id: str
    multiplier: Decimal = Decimal(1)
    broker_pnl: Decimal | None = None
    open_close: str | None = None
    ids: tuple[tuple[str, str], ...] = ()
    """The broker's ids of it, by kind (`("transactionID", "5")`), the one `exec_id` is
    first; none when `exec_id` is a hash of the row."""


def account_label(account: str) -> str:
    """How an account is named in public (session ids, row ids): by its last four digits,
    as a bank's statement names it ("ending 4321"); one with fewer digits by its last four
    letters and digits (a label such as `U1` or `IRA` stays as it is). Never a hash of the
    whole number: account numbers are so few (IB's are U and seven digits) that trying
    every one finds the number behind any hash of it in seconds."""
    digits = re.sub(r"[^0-9]", "", account)
    if len(digits) >= 4:
        return digits[-4:]
    kept = re.sub(r"[^A-Za-z0-9]", "", account)
    if kept:
        return kept[-4:]
    return hashlib.sha256(account.encode("utf-8", "surrogatepass")).hexdigest()[:8]


class RowIds:
    """Execution ids for rows that carry none: a hash of the row's content and how many
    identical rows came before it, so identical fills (real, both kept) get two ids and
    the same file read again gives the same ids. The row's account is hashed as its
    public label (`account_label`): every other cell of the row is in the record, so a
    hash of the whole number would give the number away to whoever tries them all."""

    def __init__(self) -> None:
        self._seen: Counter[str] = Counter()

    def __call__(self, cells: list[str], account: str = "") -> str:
        key = "\x1f".join(c.strip() for c in cells)
        if account.strip():
            key = key.replace(account.strip(), account_label(account.strip()))
        self._seen[key] += 1
        digest = hashlib.sha256(f"{key}\x1e{self._seen[key]}".encode()).hexdigest()
        return f"row-{digest[:16]}"


def symbol_field(text: str | None, origin: str, name: str) -> str:
    """A symbol as the export writes it, stripped: refused when missing, or when it holds
    a character no ticker has and a reader cannot see (a control character, a bidi
    override that shows `@X\u202eY` reversed, a zero width)."""
    symbol = (text or "").strip()
    if not symbol:
        raise InputError(origin, name, "missing")
    for char in symbol:
        if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            raise InputError(
                origin, name, f"holds U+{ord(char):04X}, a character no symbol has; refused"
            )
    return symbol


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def decimal_field(text: str | None, origin: str, name: str, *, required: bool = True) -> Decimal:
    """A decimal as exports write it: `1,234.50`, `-0.65`, `(12.00)` (negative), `$3`."""
    raw = (text or "").strip()
    if not raw:
        if required:
            raise InputError(origin, name, "missing: a number is needed")
        return Decimal(0)
    cleaned = raw.replace(",", "").replace("$", "").replace(" ", "")
    if cleaned.startswith("(") and cleaned.endswith(")"):
        cleaned = "-" + cleaned[1:-1]
    if cleaned.startswith("="):  # a spreadsheet formula guard: ="123"
        cleaned = cleaned[1:].strip('"')
    if not _NUMBER.match(cleaned):
        raise InputError(origin, name, f"{raw[:40]!r} is not a number")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise InputError(origin, name, f"{raw[:40]!r} is not a number") from None
    if abs(value) >= Decimal("1e15"):
        raise InputError(origin, name, f"{raw[:40]!r} is out of range")
    return value


def zone(name: str) -> zoneinfo.ZoneInfo:
    """The IANA time zone `name`, or a clear refusal (never the machine's zone)."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InputError(
            "--tz",
            "",
            f"{name!r} is not an IANA time zone (e.g. America/New_York); on a machine "
            "without the zone database, `pip install tzdata`",
        ) from None


_DATES = (
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), "ymd"),
    (re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$"), "ymd"),
    (re.compile(r"^(\d{1,2})[-/](\d{1,2})[-/](\d{4})$"), "mdy"),
    (re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2})$"), "mdy2"),
)


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def parse_date(text: str, origin: str, name: str) -> date:
    """A date as US exports write it: yyyymmdd, yyyy-mm-dd, yyyy/mm/dd, mm/dd/yyyy,
    mm-dd-yyyy, m/d/yy, dd-MMM-yy (a number before a number is never the day: those
    formats never write it so)."""
    raw = text.strip()
    named = re.match(r"^(\d{1,2})-([A-Za-z]{3})-(\d{2})$", raw)
    if named and named[2].lower() in _MONTHS:
        try:
            return date(2000 + int(named[3]), _MONTHS.index(named[2].lower()) + 1, int(named[1]))
        except ValueError:
            pass
    for pattern, order in _DATES:
        found = pattern.match(raw)
        if not found:
            continue
        a, b, c = (int(g) for g in found.groups())
        year, month, day = (a, b, c) if order == "ymd" else (c, a, b)
        if order == "mdy2":
            year += 2000
        try:
            return date(year, month, day)
        except ValueError:
            break
    raise InputError(origin, name, f"{raw[:40]!r} is not a date (mm/dd/yyyy or yyyy-mm-dd)")


def parse_time(text: str, origin: str, name: str) -> time:
    """A time of day: HH:MM:SS, HH:MM or HHMMSS, 24-hour."""
    raw = text.strip()
    found = re.match(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$", raw) or re.match(
        r"^(\d{2})(\d{2})(\d{2})$", raw
    )
    if found:
        hour, minute, second = (int(g or 0) for g in found.groups())
        if hour < 24 and minute < 60 and second < 60:
            return time(hour, minute, second)
    raise InputError(origin, name, f"{raw[:40]!r} is not a time of day (HH:MM:SS)")


def local_to_utc(
    day: date, clock: time, where: zoneinfo.ZoneInfo, origin: str, name: str
) -> datetime:
    """A wall-clock time in `where` as UTC. A time the clocks skipped or repeated (the
    hour of a daylight-saving change) takes the earlier offset (`fold=0`), as the
    broker's own statements do. One whose UTC falls outside the years 1 to 9999 (the last
    evening of 9999 in New York) is refused."""
    try:
        return datetime.combine(day, clock, tzinfo=where).astimezone(UTC)
    except OverflowError:
        raise InputError(
            origin, name, f"{day.isoformat()} {clock.isoformat()} in {where.key} is out of range"
        ) from None


def refuse_repeated_columns(
    origin: str, header: list[str], field_of: Callable[[str], str | None]
) -> None:
    """A header two of whose cells name one field (`Quantity` and `Qty`, `Price` twice;
    `field_of` reads a cell as the field it names, or None) is refused: which of them is
    meant cannot be known, and taking the last one silently could take the wrong one."""
    named: dict[str, list[str]] = {}
    for cell in header:
        field = field_of(cell)
        if field is not None:
            named.setdefault(field, []).append(cell.strip())
    for field, cells in named.items():
        if len(cells) > 1:
            raise InputError(
                origin,
                "",
                f"columns {' and '.join(map(repr, cells))} both give the {field}: which one "
                "is meant is not known; refused",
            )
