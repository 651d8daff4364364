"""`capture trades`: broker exports into trade sessions, one per trading day and account.

Reads each file (its format detected from its content, or given), turns executions into
trades by FIFO lots (`fifo.py`), and writes each day's trades as a trade session: a
round trip belongs to the day its lot was closed (the day its P&L was realised), an open
lot to the day it was opened. Times become UTC from an IANA zone (the format's default,
or `--tz`), never the machine's. The same files give the same sessions, in whatever
order they are given (fills of one time in two files are taken in the order of the
files' content, each file's in its own order): ids come from the day and the account's public label (its last four digits, never the number nor a
hash of it), trades carry the broker's execution ids (or row hashes).
"""

from __future__ import annotations

import hashlib
import os
import re
import string
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from ..errors import InputError
from ..session.records import format_timestamp
from . import ibkr, thinkorswim, tradervue
from .executions import Execution, account_label, zone
from .fifo import Lot, RoundTrip, match
from .result import CapturedSessions, check

__all__ = ["FORMATS", "TradeFormat", "capture_trades", "detect"]

TradeFormat = Literal["ibkr", "thinkorswim", "tradervue"]
FORMATS: tuple[TradeFormat, ...] = ("ibkr", "thinkorswim", "tradervue")
_READERS = {"ibkr": ibkr, "thinkorswim": thinkorswim, "tradervue": tradervue}
MAX_FILE_BYTES = 256 * 1024 * 1024
"""The largest export read: years of executions fit in far less."""
_TOLERANCE = Decimal("0.01")


@dataclass(frozen=True)
class _Day:
    account: str
    day: date
    broker: str


def detect(name: str, text: str) -> TradeFormat:
    """The format of an export, from its content."""
    if ibkr.looks_like_xml(text) or ibkr.looks_like_csv(text):
        return "ibkr"
    if thinkorswim.looks_like(text):
        return "thinkorswim"
    if tradervue.looks_like(text):
        return "tradervue"
    raise InputError(
        name,
        "",
        "not a trade export this reads (an IB Flex statement, a thinkorswim account "
        "statement, or a CSV with Date, Time, Symbol, Quantity, Price, Side); give --format",
    )


def _text(path: Path) -> tuple[str, str | None]:
    """The export's text, and a note when it was not UTF-8."""
    try:
        if not path.exists():
            raise InputError(str(path), "", "no such file")
        if not path.is_file():
            raise InputError(str(path), "", "not a regular file; not read")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InputError(str(path), "", f"larger than {MAX_FILE_BYTES:,} bytes")
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), "", f"cannot read: {exc.strerror or exc}") from None
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise InputError(str(path), "", "UTF-16 text: save the export as UTF-8 (or CSV UTF-8)")
    if b"\0" in data:  # anywhere: a NUL a megabyte in would reach a symbol
        line = data.count(b"\n", 0, data.index(b"\0")) + 1
        raise InputError(f"{path}:row {line}", "", "a NUL byte: binary content, not a text export")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        row = data.count(b"\n", 0, exc.start) + 1
        note = (
            f"{path}:row {row}: not UTF-8, so the file is read as Windows-1252 (a UTF-8 "
            "name in it, such as Ä, reads as Ã„)"
        )
        return data.decode("cp1252", "replace"), note


_LARGEST = Decimal("1e15")


def _amount(value: Decimal) -> Decimal:
    """Money to the cent when that loses nothing, else every digit it has."""
    if abs(value) >= _LARGEST:  # beyond what quantize can hold in 28 digits, too
        return value.normalize()
    cents = value.quantize(Decimal("0.01"))
    return cents if cents == value else value.normalize()


def _checked(value: Decimal, origin: str, name: str) -> Decimal:
    """An amount of a trade, refused when no trade makes it (quantity and price each
    just under 10^15 multiply to 10^30)."""
    if abs(value) >= _LARGEST:
        raise InputError(origin, name, f"{_amount(value)} is out of range")
    return _amount(value)


def _trade(trip: RoundTrip, notes: list[str]) -> dict[str, Any]:
    pnl, fees = trip.pnl, trip.fees
    if fees < 0:
        notes.append(
            f"{trip.closing.origin}: a fee credit of {-fees} on {trip.opening.symbol} is "
            "counted in its P&L (fees are never negative in a record)"
        )
        pnl, fees = pnl - fees, Decimal(0)
    trade: dict[str, Any] = {
        "symbol": trip.opening.symbol,
        "action": "buy" if trip.direction > 0 else "sell",
        "quantity": trip.quantity,
        "price": trip.opening.price,
        "timestamp": format_timestamp(trip.opening.time),
        "exit_price": trip.closing.price,
        "exit_timestamp": format_timestamp(trip.closing.time),
        "profit_loss": _checked(pnl, trip.closing.origin, "profit_loss"),
        "fees": _checked(fees, trip.closing.origin, "fees"),
        "execution_ids": [trip.opening.exec_id, trip.closing.exec_id],
    }
    if trip.opening.currency:
        trade["currency"] = trip.opening.currency
    if trip.opening.multiplier != 1:
        trade["multiplier"] = trip.opening.multiplier
    return trade


def _open(lot: Lot, notes: list[str]) -> dict[str, Any]:
    trade: dict[str, Any] = {
        "symbol": lot.opening.symbol,
        "action": "buy" if lot.direction > 0 else "sell",
        "quantity": lot.quantity,
        "price": lot.opening.price,
        "timestamp": format_timestamp(lot.opening.time),
        "execution_ids": [lot.opening.exec_id],
    }
    if lot.fees_left > 0:
        trade["fees"] = _checked(lot.fees_left, lot.opening.origin, "fees")
    elif lot.fees_left < 0:
        notes.append(f"{lot.opening.origin}: a fee credit of {-lot.fees_left} on an open lot")
    if lot.opening.currency:
        trade["currency"] = lot.opening.currency
    if lot.opening.multiplier != 1:
        trade["multiplier"] = lot.opening.multiplier
    return trade


def _spellings(account: str) -> set[str]:
    """How a file's name or a note may spell an account out: the account itself
    (`U7654321`), its number without the letters before it (`7654321`), and its digits
    alone (`12345678` of `123-45678`); a number of four digits or fewer says no more than
    the account's public label (`account_label`), and is kept."""
    found = {account} if len(account) >= 4 else set()
    for form in (account.lstrip(string.ascii_letters), re.sub(r"[^0-9]", "", account)):
        if len(re.sub(r"[^0-9]", "", form)) > 4:
            found.add(form)
    return found


def _masked(text: str, accounts: Iterable[str]) -> str:
    forms = {form for account in accounts for form in _spellings(account)}
    for form in sorted(forms, key=lambda a: (-len(a), a)):
        text = text.replace(form, "ACCOUNT")
    return text


def _keys(execution: Execution) -> list[tuple[str, str, str]]:
    """What an execution is known by in any export: each id the broker gives it (an IB
    export has transactionID, tradeID or ibExecID as its query asks), by kind; else the
    hash of its row."""
    ids = execution.ids or (("row", execution.exec_id),)
    return [(execution.account, kind, value) for kind, value in ids]


def _once(found: list[Execution], notes: list[str]) -> list[Execution]:
    """The executions of one file, each once. Two rows of one file with the same
    execution id are one execution written twice when all else agrees (a note says so),
    and refused when it does not: one of two executions would be lost."""
    first: dict[tuple[str, str, str], Execution] = {}
    kept: list[Execution] = []
    for execution in found:
        kind, value = execution.ids[0] if execution.ids else ("execution id", execution.exec_id)
        other = first.setdefault((execution.account, kind, value), execution)
        if other is execution:
            kept.append(execution)
        elif replace(other, origin="") == replace(execution, origin=""):
            notes.append(f"{execution.origin}: repeats {other.origin} ({kind} {value}); read once")
        else:
            raise InputError(
                execution.origin,
                kind,
                f"{value} is also the id of {other.origin}, a different execution (one of "
                "them would be lost): an id names one execution",
            )
    return kept


def _public_names(paths: list[Path], accounts: Iterable[str]) -> list[tuple[str, str]]:
    """(path, what a note says for it): each file by its name, any account number in the
    name spelled ACCOUNT (a statement's file is often named by its account); longest
    path first, so that no path is replaced inside a longer one."""
    return [
        (str(path), _masked(path.name, accounts))
        for path in sorted(set(paths), key=lambda p: (-len(str(p)), str(p)))
    ]


def _by_name(note: str, names: list[tuple[str, str]], account: str) -> str:
    """A note as the record keeps it: files by their name, not where they lie on disk,
    and no account number spelled out, neither in a file's name nor the session's own
    account (the session id names it by its last four digits alone). Each note is read
    once for each file, not once for every account of the capture."""
    for path, name in names:
        note = note.replace(path, name)
    return _masked(note, [account])


def _session_id(account: str, day: date) -> str:
    if not account:
        return f"trades-{day.isoformat()}"
    return f"trades-{day.isoformat()}-{account_label(account)}"


def _labels(accounts: Iterable[str], names: list[Path]) -> None:
    """Refuse two accounts that would share a session id (both ending in 4321)."""
    taken: dict[str, str] = {}
    for account in sorted(a for a in accounts if a):
        other = taken.setdefault(account_label(account), account)
        if other != account:
            raise InputError(
                ", ".join(map(str, names)),
                "account",
                f"accounts {other} and {account} both end in {account_label(account)}, "
                "which names a trading day's session: capture them one at a time",
            )


def capture_trades(
    paths: Iterable[str | os.PathLike[str]],
    *,
    format: TradeFormat | None = None,
    tz: str | None = None,
    agent: str | None = None,
) -> CapturedSessions:
    """Trade sessions from broker exports, in day then account order."""
    if format is not None and format not in FORMATS:
        raise InputError("--format", "", f"{format!r} is not one of {', '.join(FORMATS)}")
    where_given = zone(tz) if tz else None
    executions: list[Execution] = []
    brokers: dict[str, str] = {}
    notes: list[str] = []
    seen: set[tuple[str, str, str]] = set()
    names = [Path(p) for p in paths]
    if not names:
        raise InputError("capture trades", "", "no file given")
    files: list[tuple[str, str, str, list[Execution]]] = []
    for path in names:
        text, decoded = _text(path)
        if decoded:
            notes.append(decoded)
        kind = format or detect(str(path), text)
        reader = _READERS[kind]
        where = where_given or zone(reader.DEFAULT_ZONE)
        found, said = reader.read(str(path), text, where)
        notes.extend(said)
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        files.append((digest, str(path), reader.BROKER, _once(found, notes)))
    # The files in the order of their content, whatever order they were given in: fills
    # of one time in two files, and the one of two copies of an execution that is kept,
    # then come out the same (match takes fills of one time in the order given).
    for _, _, broker, mine in sorted(files, key=lambda f: f[:2]):
        for execution in mine:
            if not seen.isdisjoint(_keys(execution)):
                continue  # the same execution in two overlapping exports
            executions.append(execution)
            brokers.setdefault(execution.account, broker)
        for execution in mine:  # after the file: its own rows are told apart by _once
            seen.update(_keys(execution))
    matched = match(executions)
    days: dict[tuple[str, date], list[Execution]] = defaultdict(list)
    for execution in executions:
        days[(execution.account, execution.day)].append(execution)
    trades: dict[tuple[str, date], list[dict[str, Any]]] = defaultdict(list)
    day_notes: dict[tuple[str, date], list[str]] = defaultdict(list)
    for trip in matched.round_trips:
        key = (trip.closing.account, trip.closing.day)
        trades[key].append(_trade(trip, day_notes[key]))
    for lot in matched.open_lots:
        key = (lot.opening.account, lot.opening.day)
        trades[key].append(_open(lot, day_notes[key]))
    for fill, left in matched.unmatched:
        day_notes[(fill.account, fill.day)].append(
            f"{fill.origin}: closes {left} {fill.symbol} opened before these files; "
            "not a round trip here"
        )
    by_closing: dict[str, list[RoundTrip]] = defaultdict(list)
    for trip in matched.round_trips:
        by_closing[trip.closing.exec_id].append(trip)
    partly_unmatched = {fill.exec_id for fill, _ in matched.unmatched}
    for execution in executions:
        trips = by_closing.get(execution.exec_id, [])
        if execution.broker_pnl is None or not trips:
            continue
        if execution.exec_id in partly_unmatched:
            continue  # part of it closed a lot from before the files: no like-for-like sum
        ours = sum((t.pnl - t.fees for t in trips), Decimal(0))
        if abs(ours - execution.broker_pnl) > _TOLERANCE:
            day_notes[(execution.account, execution.day)].append(
                f"{execution.origin}: the broker's realised P&L is {execution.broker_pnl}, "
                f"FIFO lots here give {_amount(ours)} (net of fees), a difference of "
                f"{_amount(ours - execution.broker_pnl)}"
            )
    sessions = []
    accounts = {account for account, _ in days}
    _labels(accounts, names)
    public = _public_names(names, accounts)
    for account, day in sorted(days, key=lambda k: (k[1], k[0])):
        key = (account, day)
        notes.extend(day_notes[key])
        if not trades[key]:
            continue
        fills = sorted(e.time for e in days[key])
        listed = sorted(trades[key], key=lambda t: (t["timestamp"], t.get("exit_timestamp", "~")))
        source: dict[str, Any] = {"broker": brokers.get(account, ""), "trades": listed}
        if day_notes[key]:
            source["capture_notes"] = [_by_name(n, public, account) for n in day_notes[key]]
        sessions.append(
            check(
                {
                    "session_id": _session_id(account, day),
                    "session_type": "trade",
                    "timestamp": format_timestamp(fills[0]),
                    "agent_id": agent or "trader",
                    "metadata": {
                        "duration_minutes": int((fills[-1] - fills[0]).total_seconds() // 60),
                    },
                    "source_data": source,
                },
                ", ".join(map(str, names)),
            )
        )
    if not sessions:
        raise InputError(
            ", ".join(map(str, names)),
            "",
            "no trades to make a session of" + ("; " + "; ".join(notes) if notes else ""),
        )
    return CapturedSessions(sessions, notes)
