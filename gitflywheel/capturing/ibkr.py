"""Interactive Brokers Flex Query statements, XML and CSV: their `Trade` rows as executions.

Fields (XML attribute or CSV column, matched without case or punctuation): `accountId`
(`ClientAccountID`), `symbol`, `buySell`, signed `quantity`, `tradePrice`, `currency`
(`CurrencyPrimary`), `dateTime` (`yyyyMMdd;HHmmss`, or any date, separator and time
format a Flex query offers; a zone suffix such as ` EDT` is dropped, the zone comes
from `--tz`), `ibCommission` (negative:
a charge), `openCloseIndicator` (`O`, `C`, or `C;O`: a fill that closes a position
and opens the other side with the rest), `fifoPnlRealized` (net of commissions), `multiplier`,
`transactionID` (the execution's id; else `tradeID`, `ibExecID`; another export knows the
same execution by any of these it shares), `notes` (`Notes/Codes`:
`P` partial, `Ca` cancelled, `Co` corrected). Rows of another `levelOfDetail` than
EXECUTION (orders, symbol summaries) are not executions and are skipped. A cancellation
row takes out the execution it cancels (by `origTradeID`, else by account, symbol,
quantity, price and time); a correction is an execution like any other.

The XML is read with the standard library's parser rather than `ibflex`: ibflex types
every attribute of the whole statement and refuses a statement with an attribute it does
not know or a time with a zone suffix, while only `Trade` rows are needed here, read the
same way from XML and CSV; a document type declaration (entities) is refused outright.
"""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from collections import defaultdict, deque
from collections.abc import Iterator
from datetime import date, datetime
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

__all__ = ["BROKER", "DEFAULT_ZONE", "looks_like_csv", "looks_like_xml", "read"]

BROKER = "Interactive Brokers"
DEFAULT_ZONE = "America/New_York"

_ALIASES = {
    "accountid": "account",
    "clientaccountid": "account",
    "acctalias": "alias",
    "currency": "currency",
    "currencyprimary": "currency",
    "symbol": "symbol",
    "buysell": "buysell",
    "quantity": "quantity",
    "tradeprice": "price",
    "datetime": "datetime",
    "tradedate": "tradedate",
    "tradetime": "tradetime",
    "ibcommission": "commission",
    "opencloseindicator": "openclose",
    "fifopnlrealized": "fifopnl",
    "multiplier": "multiplier",
    "transactionid": "transactionid",
    "tradeid": "tradeid",
    "ibexecid": "ibexecid",
    "origtradeid": "origtradeid",
    "notes": "notes",
    "notescodes": "notes",
    "levelofdetail": "levelofdetail",
}
_IDS = (("transactionid", "transactionID"), ("tradeid", "tradeID"), ("ibexecid", "ibExecID"))
"""An execution's ids, the first present its `exec_id`."""
# The date formats a Flex query offers (yyyyMMdd, yyyy-MM-dd, MM/dd/yyyy, MM/dd/yy,
# dd-MMM-yy), a separator (`;`, `,`, a space, or none), the time (HHmmss or HH:mm:ss),
# and maybe a zone's abbreviation, which is dropped: the zone comes from --tz.
_DATETIME = re.compile(
    r"^(?P<date>\d{8}|\d{4}-\d{2}-\d{2}|\d{2}/\d{2}/\d{4}|\d{2}/\d{2}/\d{2}|\d{2}-[A-Za-z]{3}-\d{2})"
    r"(?:[;,T ]\s*)?(?P<time>\d{6}|\d{2}:\d{2}:\d{2})(?:\s+[A-Z]{2,5})?$"
)


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def looks_like_xml(text: str) -> bool:
    head = text[:4096]
    return head.lstrip().startswith("<") and (
        "<FlexQueryResponse" in head or "<FlexStatement" in head
    )


def _field_of(cell: str) -> str | None:
    """The field a header cell names, if it names one."""
    return _ALIASES.get(_key(cell))


def _header(cells: list[str]) -> dict[str, int] | None:
    """A Flex CSV header row (with the HEADER/section prefix when the query adds it)."""
    keys = [_key(c) for c in cells]
    if "buysell" in keys and "tradeprice" in keys and "symbol" in keys:
        return {_ALIASES[k]: n for n, k in enumerate(keys) if k in _ALIASES}
    return None


def looks_like_csv(text: str) -> bool:
    head = "\n".join(text[:65536].splitlines()[:-1] or [text[:65536]])
    try:
        return any(_header(row) is not None for row in csv.reader(io.StringIO(head)))
    except csv.Error:
        return False


def _open_close(text: str) -> str | None:
    """`O`, `C`, or `C;O` for a fill that closes a position and opens the other side with
    the rest (IB writes it so); None when the row does not say."""
    found = {part.strip()[:1] for part in text.upper().split(";")} & {"O", "C"}
    if found == {"O", "C"}:
        return "C;O"
    return found.pop() if found else None


def _codes(notes: str) -> set[str]:
    return {c.strip() for c in re.split(r"[;,]", notes) if c.strip()}


class _Reader:
    def __init__(self, name: str, where: ZoneInfo) -> None:
        self.name = name
        self.zone = where
        self.ids = RowIds()
        # executions by the order they were read; a cancellation finds the one it takes
        # out by its trade id or its fill, in these indexes (not by a scan of every row)
        self.kept: dict[int, Execution] = {}
        self.by_trade_id: dict[str, deque[int]] = defaultdict(deque)
        self.by_fill: dict[tuple[object, ...], deque[int]] = defaultdict(deque)
        self.notes: list[str] = []
        self.rows = 0

    def row(self, origin: str, fields: dict[str, str], cells: list[str]) -> None:
        level = fields.get("levelofdetail", "").strip().upper()
        if level and level != "EXECUTION":
            return
        notes = fields.get("notes", "")
        side_text = fields.get("buysell", "").strip().upper()
        cancel = "Ca" in _codes(notes) or "(CA" in side_text
        side = side_text.split()[0] if side_text else ""
        if side not in ("BUY", "SELL"):
            raise InputError(origin, "buySell", f"{side_text[:20]!r} is not BUY or SELL")
        symbol = symbol_field(fields.get("symbol"), origin, "symbol")
        quantity = decimal_field(fields.get("quantity"), origin, "quantity")
        if quantity == 0:
            raise InputError(origin, "quantity", "zero: an execution fills something")
        if not cancel and (quantity > 0) != (side == "BUY"):
            raise InputError(origin, "quantity", f"{quantity} disagrees with buySell {side}")
        price = decimal_field(fields.get("price"), origin, "tradePrice")
        if price < 0:
            raise InputError(origin, "tradePrice", "negative")
        moment, day = self._when(origin, fields)
        commission = decimal_field(fields.get("commission"), origin, "ibCommission", required=False)
        multiplier = decimal_field(fields.get("multiplier"), origin, "multiplier", required=False)
        if multiplier < 0:
            raise InputError(origin, "multiplier", "negative")
        currency = fields.get("currency", "").strip() or None
        if currency is not None and not re.fullmatch(r"[A-Z]{3}", currency):
            raise InputError(origin, "currency", f"{currency[:20]!r} is not an ISO 4217 code")
        open_close = _open_close(fields.get("openclose", ""))
        pnl_text = fields.get("fifopnl", "").strip()
        ids = tuple(
            (label, fields[key].strip()) for key, label in _IDS if fields.get(key, "").strip()
        )
        exec_id = ids[0][1] if ids else self.ids(cells, fields.get("account", ""))
        execution = Execution(
            origin=origin,
            account=fields.get("account", "").strip(),
            symbol=symbol,
            side="buy" if quantity > 0 else "sell",
            quantity=abs(quantity),
            price=price,
            fees=-commission,
            currency=currency,
            time=moment,
            day=day,
            exec_id=exec_id,
            multiplier=multiplier or Decimal(1),
            broker_pnl=decimal_field(pnl_text, origin, "fifoPnlRealized") if pnl_text else None,
            open_close=open_close,
            ids=ids,
        )
        self.rows += 1
        if self.rows > MAX_ROWS:
            raise InputError(self.name, "", f"more than {MAX_ROWS:,} executions")
        if cancel:
            self._cancel(execution, fields)
        else:
            self.kept[self.rows] = execution
            trade_id = fields.get("tradeid", "").strip()
            if trade_id:
                self.by_trade_id[trade_id].append(self.rows)
            self.by_fill[_fill(execution, execution.side)].append(self.rows)

    def _when(self, origin: str, fields: dict[str, str]) -> tuple[datetime, date]:
        text = fields.get("datetime", "").strip()
        if text:
            found = _DATETIME.match(text)
            if not found:
                raise InputError(
                    origin,
                    "dateTime",
                    f"{text[:40]!r} is not yyyyMMdd;HHmmss (or another Flex date and time format)",
                )
            day = parse_date(found["date"], origin, "dateTime")
            clock = parse_time(found["time"], origin, "dateTime")
        elif fields.get("tradedate", "").strip():
            day = parse_date(fields["tradedate"], origin, "tradeDate")
            clock = parse_time(fields.get("tradetime", "") or "00:00:00", origin, "tradeTime")
        else:
            raise InputError(origin, "dateTime", "missing: a Trade row needs its time")
        return local_to_utc(day, clock, self.zone, origin, "dateTime"), day

    def _cancel(self, cancelling: Execution, fields: dict[str, str]) -> None:
        """Take out the first execution read that `cancelling` cancels: the one whose
        tradeID is its origTradeID, else the same fill on the other side."""
        original = fields.get("origtradeid", "").strip()
        if original:
            candidates = self.by_trade_id.get(original, deque())
        else:
            other = "sell" if cancelling.side == "buy" else "buy"
            candidates = self.by_fill.get(_fill(cancelling, other), deque())
        while candidates:
            kept = self.kept.pop(candidates.popleft(), None)
            if kept is not None:
                self.notes.append(f"{cancelling.origin}: cancels {kept.origin}; both left out")
                return
        self.notes.append(
            f"{cancelling.origin}: cancels a trade that is not in this file; left out"
        )


def _fill(execution: Execution, side: str) -> tuple[object, ...]:
    return (
        execution.account,
        execution.symbol,
        execution.quantity,
        execution.price,
        execution.time,
        side,
    )


def _read_xml(name: str, text: str, reader: _Reader) -> None:
    # anywhere: comments of any length may come before a declaration
    if re.search(r"<!DOCTYPE|<!ENTITY", text, re.IGNORECASE):
        raise InputError(name, "", "a document type declaration: refused (Flex XML has none)")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise InputError(name, "", f"not well-formed XML: {exc}") from None
    statements = list(root.iter("FlexStatement")) or [root]
    count = 0
    for statement in statements:
        account = statement.get("accountId", "")
        for element in statement.iter("Trade"):
            count += 1
            origin = f"{name}: Trade {count}"
            said = [v for a, v in element.attrib.items() if _key(a) == "transactionid" and v]
            if said:
                origin += f" (transactionID {said[0][:40]})"
            fields: dict[str, str] = {}
            named: dict[str, str] = {}
            for attr, value in element.attrib.items():
                key = _ALIASES.get(_key(attr))
                if key is None:
                    continue
                if key in fields and fields[key] != value:
                    raise InputError(
                        origin,
                        attr,
                        f"{value[:40]!r}, while {named[key]} says {fields[key][:40]!r}: both "
                        "give the same field; which one is meant is not known",
                    )
                fields[key], named[key] = value, attr
            fields.setdefault("account", account)
            reader.row(origin, fields, [f"{k}={v}" for k, v in sorted(element.attrib.items())])


def _rows(text: str) -> Iterator[tuple[int, str, list[str]]]:
    """(line, descriptor, cells): with "Include section code and line descriptor" a row
    starts with HEADER or DATA and the section's code, taken off here."""
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        descriptor = row[0].strip().upper() if row else ""
        if descriptor in ("HEADER", "DATA") and len(row) > 2:
            yield number, descriptor, row[2:]
        else:
            yield number, "", row


def _read_csv(name: str, text: str, reader: _Reader) -> None:
    """The Trade rows of a Flex CSV. A statement of several sections has a header row
    for each: rows under another section's header (one that starts as the trades' header
    does, or a HEADER line) are not trades and are skipped."""
    columns: dict[str, int] | None = None
    first = ""
    try:
        for number, descriptor, row in _rows(text):
            header = _header(row)
            if header is not None:
                # `AccountID` and `ClientAccountID`, `Quantity` twice
                refuse_repeated_columns(f"{name}:row {number}", row, _field_of)
                columns, first = header, _key(row[0])
                continue
            if not any(c.strip() for c in row):
                continue
            if descriptor == "HEADER" or (first and _key(row[0]) == first):
                columns = None  # another section begins
                continue
            if columns is None:
                continue
            if row[0].strip().upper() in ("BOF", "EOF", "BOA", "EOA", "BOS", "EOS"):
                continue
            if len(row) <= max(columns.values()):
                raise InputError(
                    f"{name}:row {number}",
                    "",
                    f"{len(row)} cells; the header has {max(columns.values()) + 1} or more",
                )
            fields = {key: row[n] for key, n in columns.items()}
            reader.row(f"{name}:row {number}", fields, row)
    except csv.Error as exc:
        raise InputError(name, "", f"not CSV: {exc}") from None


def read(name: str, text: str, where: ZoneInfo) -> tuple[list[Execution], list[str]]:
    """The executions of one Flex statement (XML or CSV), and notes on what was left out."""
    reader = _Reader(name, where)
    if looks_like_xml(text):
        _read_xml(name, text, reader)
    else:
        _read_csv(name, text, reader)
    if not reader.kept and not reader.notes:
        raise InputError(name, "", "no Trade rows of executions in this Flex statement")
    return list(reader.kept.values()), reader.notes
