"""capture trades: broker exports of each real layout into trade sessions, ingested into
a real store; every figure below is worked out by hand from the rows of tests/data."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, Cli, git
from hypothesis import given, settings
from hypothesis import strategies as st

from gitflywheel import capture_trades
from gitflywheel.capturing.executions import Execution
from gitflywheel.capturing.fifo import match
from gitflywheel.errors import InputError
from gitflywheel.jsontext import dumps_pretty, loads

DATA = ROOT / "tests" / "data" / "capture"
D = Decimal


def _capture(cli: Cli, *args: str | Path) -> list[dict[str, Any]]:
    result = cli("capture", "trades", *args)
    assert result.exit_code == 0, result.stderr
    sessions = loads(result.stdout)
    assert isinstance(sessions, list)
    return sessions


def _ingest(cli: Cli, store: Path, sessions: list[dict[str, Any]]) -> str:
    result = cli("ingest", "--repo", store, "-", input=dumps_pretty(sessions))
    assert result.exit_code == 0, result.stderr
    return result.stderr


def _blocks(cli: Cli, store: Path, session_id: str) -> dict[str, dict[str, Any]]:
    facts = json.loads(cli("show", "--repo", store, session_id, "facts").stdout)
    blocks = facts["artifacts"]["trade_journal"]["context"]["summary"]["blocks"]
    return {b["currency"]: b for b in blocks}


def _trips(session: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (
            t["symbol"],
            t["action"],
            t["quantity"],
            t["price"],
            t.get("exit_price"),
            t.get("profit_loss"),
            t.get("fees"),
            t.get("currency"),
            t["timestamp"],
            t.get("exit_timestamp"),
        )
        for t in session["source_data"]["trades"]
    ]


def test_ibkr_flex_xml_round_trips_fees_currencies_and_utc(cli: Cli, tmp_path: Path) -> None:
    sessions = _capture(cli, DATA / "ibkr-flex.xml")
    assert [s["session_id"][:17] for s in sessions] == ["trades-2025-03-03", "trades-2025-03-04"]
    day1, day2 = sessions
    # New York is UTC-5 on 3 March 2025 (EST; daylight time starts 9 March): 09:35:12 -> 14:35:12Z
    assert day1["timestamp"] == "2025-03-03T14:35:12Z"
    # AAPL: bought 100 @ 175.50 (fee 1.00), sold 60 @ 176.25 (fee 0.60), 40 @ 174.90 (fee 0.40).
    #   60: (176.25 - 175.50) x 60 = 45.00; fees 1.00 x 60/100 + 0.60 = 1.20
    #   40: (174.90 - 175.50) x 40 = -24.00; fees 1.00 x 40/100 + 0.40 = 0.80
    # VOD (GBP): sold short 10 @ 72.10, bought back @ 71.50: (72.10 - 71.50) x 10 = 6.00; fees 3 + 3
    # MSFT 50 @ 400 and its cancellation: both left out.
    assert _trips(day1) == [
        ("AAPL", "buy", 60, D("175.50"), D("176.25"), D("45.00"), D("1.20"), "USD",
         "2025-03-03T14:35:12Z", "2025-03-03T15:02:45Z"),
        ("AAPL", "buy", 40, D("175.50"), D("174.90"), D("-24.00"), D("0.80"), "USD",
         "2025-03-03T14:35:12Z", "2025-03-03T16:15:00Z"),
        ("VOD", "sell", 10, D("72.10"), D("71.50"), D("6.00"), D("6.00"), "GBP",
         "2025-03-03T15:30:00Z", "2025-03-03T15:45:00Z"),
    ]  # fmt: skip
    # MSFT 20 @ 401.00 bought on the 3rd at 14:00 EST (the " EST" suffix dropped) = 19:00Z,
    # sold on the 4th @ 405.00: 4.00 x 20 = 80.00, fees 1.00 + 1.00; it belongs to the 4th,
    # the day its P&L was realised. AAPL 5 @ 177.00 at 15:59 stays open (fee 0.35).
    assert _trips(day2) == [
        ("MSFT", "buy", 20, D("401.00"), D("405.00"), D("80.00"), D("2.00"), "USD",
         "2025-03-03T19:00:00Z", "2025-03-04T14:30:00Z"),
        ("AAPL", "buy", 5, D("177.00"), None, None, D("0.35"), "USD",
         "2025-03-04T20:59:00Z", None),
    ]  # fmt: skip
    # IB says 77.00 for the MSFT sale; the lots give 80.00 - 2.00 = 78.00: a note in the record
    notes = day2["source_data"]["capture_notes"]
    assert len(notes) == 1 and "ibkr-flex.xml: Trade 9 (transactionID 1009)" in notes[0]
    assert "77.00" in notes[0] and "78.00" in notes[0] and str(DATA) not in notes[0]
    assert "capture_notes" not in day1["source_data"]  # 43.80 and -24.80 agree with IB's

    store = tmp_path / "s.git"
    assert "2 recorded" in _ingest(cli, store, sessions)
    usd, gbp = (
        _blocks(cli, store, day1["session_id"])["USD"],
        _blocks(cli, store, day1["session_id"])["GBP"],
    )
    assert (D(str(usd["total_pnl"])), D(str(usd["fees"])), D(str(usd["net_pnl"]))) == (
        D("45.00") - D("24.00"),
        D("1.20") + D("0.80"),
        D("21.00") - D("2.00"),
    )
    assert (D(str(gbp["total_pnl"])), D(str(gbp["fees"])), D(str(gbp["net_pnl"]))) == (6, 6, 0)
    usd2 = _blocks(cli, store, day2["session_id"])["USD"]
    assert D(str(usd2["open_exposure"])) == 5 * D("177.00")  # 885.00
    assert D(str(usd2["net_pnl"])) == D("80.00") - (D("2.00") + D("0.35"))

    # the same file captured again records nothing new
    again = _capture(cli, DATA / "ibkr-flex.xml")
    assert again == sessions
    assert "0 recorded, 2 unchanged" in _ingest(cli, store, again)
    git("-C", store, "fsck", "--strict")
    assert len(git("-C", store, "rev-list", "main").split()) == 3  # the store's first commit + 2


def test_ibkr_flex_csv_option_with_multiplier(cli: Cli, tmp_path: Path) -> None:
    (session,) = _capture(cli, DATA / "ibkr-flex.csv")
    (trade,) = session["source_data"]["trades"]
    # 2 contracts x 100: (3.10 - 2.50) x 2 x 100 = 120.00; fees 1.30 + 1.30 = 2.60, and
    # IB's 117.40 = 120.00 - 2.60 agrees: no note. The ORDER row is not an execution.
    assert (trade["quantity"], trade["multiplier"], trade["profit_loss"], trade["fees"]) == (
        2, 100, D("120.00"), D("2.60")
    )  # fmt: skip
    assert trade["timestamp"] == "2025-03-05T15:15:00Z" and trade["execution_ids"] == [
        "2001",
        "2002",
    ]
    assert "capture_notes" not in session["source_data"]
    assert "1 recorded" in _ingest(cli, tmp_path / "s.git", [session])


def test_thinkorswim_statement_fees_joined_by_time(cli: Cli, tmp_path: Path) -> None:
    (session,) = _capture(cli, DATA / "thinkorswim-statement.csv")
    spy, call = session["source_data"]["trades"]
    # SPY 200 @ 570.10 -> 571.35: 1.25 x 200 = 250.00. Fees from Cash Balance, a second
    # off the executions: 0.01 + 0.65 (09:31:06 vs 09:31:05) and 0.52 + 0.65 = 1.83.
    assert (spy["profit_loss"], spy["fees"], spy["timestamp"], spy["exit_timestamp"]) == (
        D("250.00"), D("1.83"), "2025-03-05T14:31:05Z", "2025-03-05T14:58:42Z"
    )  # fmt: skip
    assert call["symbol"] == "SPY 21 MAR 25 575 CALL" and call["multiplier"] == 100
    assert (call["fees"], call.get("exit_price")) == (D("0.65"), None)  # still open
    store = tmp_path / "s.git"
    _ingest(cli, store, [session])
    usd = _blocks(cli, store, session["session_id"])["USD"]
    assert D(str(usd["net_pnl"])) == D("250.00") - (D("1.83") + D("0.65"))


def test_tradervue_identical_fills_both_stay(cli: Cli, tmp_path: Path) -> None:
    first, second = _capture(cli, DATA / "tradervue.csv", "--agent", "Ada")
    a, b = first["source_data"]["trades"]
    # Two identical buys of 50 @ 250.00 (fees 1.00 + 0.10 each) are two fills; the sale of
    # 100 @ 255.50 (fees 1.00 + 0.05 - 0.20 = 0.85) closes both: 5.50 x 50 = 275.00 each,
    # fees 1.10 + 0.85 x 50/100 = 1.525 each.
    assert (a["profit_loss"], a["fees"], b["profit_loss"], b["fees"]) == (
        D("275.00"), D("1.525"), D("275.00"), D("1.525")
    )  # fmt: skip
    assert a["execution_ids"][0] != b["execution_ids"][0]
    assert first["agent_id"] == "Ada"
    # 10 March 2025 is daylight time in New York (UTC-4): 09:30 -> 13:30Z; a sale given by
    # a negative quantity and no side
    (nvda,) = second["source_data"]["trades"]
    assert (nvda["timestamp"], nvda["profit_loss"], nvda["fees"]) == (
        "2025-03-10T13:30:00Z", D("-20.00"), D("2.00")
    )  # fmt: skip
    # --tz: the same rows read as Tokyo time (UTC+9)
    (tokyo, _) = _capture(cli, DATA / "tradervue.csv", "--tz", "Asia/Tokyo")
    assert tokyo["timestamp"] == "2025-03-06T00:45:00Z"
    store = tmp_path / "s.git"
    assert "2 recorded" in _ingest(cli, store, [first, second])
    facts = json.loads(cli("show", "--repo", store, first["session_id"], "facts").stdout)
    (block,) = facts["artifacts"]["trade_journal"]["context"]["summary"]["blocks"]
    assert D(str(block["net_pnl"])) == 2 * D("275.00") - 2 * D("1.525")  # 546.95


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        (
            "flex.xml",
            '<FlexQueryResponse><FlexStatements><FlexStatement accountId="U1"><Trades>'
            '<Trade symbol="AAPL" buySell="BUY" quantity="10" tradePrice="abc" '
            'dateTime="20250303;093512" transactionID="7"/></Trades></FlexStatement>'
            "</FlexStatements></FlexQueryResponse>",
            "flex.xml: Trade 1 (transactionID 7): tradePrice: 'abc' is not a number",
        ),
        (
            "flex.xml",
            '<FlexQueryResponse><FlexStatements><FlexStatement accountId="U1"><Trades>'
            '<Trade symbol="AAPL" buySell="BUY" quantity="10" tradePrice="1" '
            'dateTime="03/03/2025 09:35" transactionID="7"/></Trades></FlexStatement>'
            "</FlexStatements></FlexQueryResponse>",
            "flex.xml: Trade 1 (transactionID 7): dateTime: '03/03/2025 09:35' is not yyyyMMdd;HHmmss",
        ),
        (
            "flex.xml",
            '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><FlexQueryResponse/>',
            "flex.xml: a document type declaration: refused",
        ),
        (  # a declaration after 64 KiB of comment is a declaration all the same
            "flex.xml",
            '<?xml version="1.0"?><!-- <FlexQueryResponse> -->'
            + "<!--"
            + "x" * 70_000
            + "-->"
            + '<!DOCTYPE x [<!ENTITY a "aaaa">]><FlexQueryResponse/>',
            "flex.xml: a document type declaration: refused",
        ),
        (
            "flex.xml",
            "<FlexQueryResponse><FlexStatements><FlexStatement",
            "flex.xml: not well-formed XML",
        ),
        (
            "trades.csv",
            "Date,Time,Symbol,Quantity,Price,Side\n03/06/2025,09:45:00,TSLA,50,250.00,Hold\n",
            "trades.csv:row 2: Side: 'Hold' starts with neither B nor S",
        ),
        (
            "trades.csv",
            "Date,Time,Symbol,Quantity,Price,Side\n13/31/2025,09:45:00,TSLA,50,250.00,Buy\n",
            "trades.csv:row 2: Date: '13/31/2025' is not a date",
        ),
        (
            "trades.csv",
            "Date,Time,Symbol,Quantity,Price,Side\n03/06/2025,25:45:00,TSLA,50,250.00,Buy\n",
            "trades.csv:row 2: Time: '25:45:00' is not a time of day",
        ),
        (  # noon would put it after the 11:00 sale: a short, not a long
            "trades.csv",
            "Date,Time,Symbol,Quantity,Price,Side\n2025-03-06,,TSLA,5,1,Buy\n"
            "2025-03-06,11:00:00,TSLA,5,2,Sell\n",
            "trades.csv:row 2: Time: missing: the file has a Time column",
        ),
        (  # the last of the two was taken: the price, or the quantity, silently
            "trades.csv",
            "Date,Time,Symbol,Quantity,Price,Side,Price\n2025-03-06,09:00:00,TSLA,5,1,Buy,2\n",
            "trades.csv:row 1: columns 'Price' and 'Price' both give the price",
        ),
        (
            "trades.csv",
            "Date,Time,Symbol,Quantity,Qty,Price,Side\n2025-03-06,09:00:00,TSLA,5,50,1,Buy\n",
            "trades.csv:row 1: columns 'Quantity' and 'Qty' both give the quantity",
        ),
        (
            "flex.csv",
            '"ClientAccountID","AccountID","Symbol","DateTime","Buy/Sell","Quantity","TradePrice"\n'
            '"U1","U2","F","20250303;093512","BUY","1","10"\n',
            "flex.csv:row 1: columns 'ClientAccountID' and 'AccountID' both give the account",
        ),
        (
            "flex.xml",
            '<FlexQueryResponse><FlexStatements><FlexStatement accountId="U1"><Trades>'
            '<Trade symbol="AAPL" buySell="BUY" quantity="10" tradePrice="1" currency="USD" '
            'currencyPrimary="EUR" dateTime="20250303;093512" transactionID="7"/></Trades>'
            "</FlexStatement></FlexStatements></FlexQueryResponse>",
            "flex.xml: Trade 1 (transactionID 7): currencyPrimary: 'EUR', while currency says "
            "'USD': both give the same field",
        ),
        (  # a sale, by its sign, bought: IB's and thinkorswim's readers refuse it too
            "trades.csv",
            "Date,Time,Symbol,Quantity,Price,Side\n2025-03-06,09:00:00,TSLA,-5,1,Buy\n",
            "trades.csv:row 2: Quantity: -5 disagrees with Side Buy",
        ),
        (
            "statement.csv",
            "Account Statement for 1 (margin)\n\nAccount Trade History\n"
            ",Exec Time,Spread,Side,Qty,Pos Effect,Symbol,Exp,Strike,Type,Price,Net Price,Order Type\n"
            ",3/5/25 09:31:05,STOCK,BUY,-200,TO OPEN,SPY,,,ETF,570.10,570.10,LMT\n",
            "statement.csv:row 5: Qty: -200 disagrees with Side BUY",
        ),
        ("notes.txt", "just some notes\n", "notes.txt: not a trade export this reads"),
        (  # each figure in range, their product not: a decimal.InvalidOperation traceback
            "trades.csv",
            "Date,Time,Symbol,Quantity,Price,Side\n"
            "2025-03-06,09:45:00,TSLA,999999999999999,0.01,Buy\n"
            "2025-03-06,10:45:00,TSLA,999999999999999,999999999999999,Sell\n",
            "trades.csv:row 3: profit_loss: 9.9999999999999799E+29 is out of range",
        ),
        (  # 23:59 on the last day of 9999 in New York is in the year 10000 in UTC
            "trades.csv",
            "Date,Time,Symbol,Quantity,Price,Side\n9999-12-31,23:59:00,TSLA,5,1,Buy\n",
            "trades.csv:row 2: Date: 9999-12-31 23:59:00 in America/New_York is out of range",
        ),
        (  # a NUL past the first 64 KiB reached the record as a symbol's \u0000
            "trades.csv",
            "Date,Time,Symbol,Quantity,Price,Side\n"
            + "03/06/2025,09:45:00,TSLA,50,250.00,Buy\n" * 2000
            + "03/06/2025,09:45:00,TS\0LA,50,250.00,Buy\n",
            "trades.csv:row 2002: a NUL byte: binary content",
        ),
        (  # shown reversed (`@XY` reads `@YX`), to make a ticker look like another
            "trades.csv",
            "Date,Time,Symbol,Quantity,Price,Side\n03/06/2025,09:45:00,A\u202eLPA,5,1,Buy\n",
            "trades.csv:row 2: Symbol: holds U+202E, a character no symbol has; refused",
        ),
        (
            "flex.csv",
            '"ClientAccountID","Symbol","DateTime","Buy/Sell","Quantity","TradePrice"\n'
            '"U1","F\u200b","20250303;093512","BUY","1","10"\n',
            "flex.csv:row 2: symbol: holds U+200B, a character no symbol has; refused",
        ),
    ],
)
def test_a_malformed_export_names_file_row_field_and_reason(
    cli: Cli, tmp_path: Path, name: str, text: str, where: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    result = cli.process("capture", "trades", path)
    assert result.returncode == 2
    message = result.stderr.decode()
    assert message.startswith("error: ") and "Traceback" not in message
    assert where in message.replace(str(tmp_path) + "/", ""), message
    assert result.stdout == b""


def test_unknown_zone_and_missing_file_are_refused(cli: Cli, tmp_path: Path) -> None:
    done = cli.process("capture", "trades", DATA / "tradervue.csv", "--tz", "Mars/Olympus")
    assert done.returncode == 2 and b"'Mars/Olympus' is not an IANA time zone" in done.stderr
    done = cli.process("capture", "trades", DATA / "tradervue.csv", "--agent", "a\nb")
    assert done.returncode == 2 and b"tradervue.csv: agent_id: String should match" in done.stderr
    done = cli.process("capture", "trades", tmp_path / "none.csv")
    assert done.returncode == 2 and b"none.csv: no such file" in done.stderr


def test_the_library_refuses_as_the_command_does() -> None:
    with pytest.raises(InputError, match="not a trade export"):
        capture_trades(DATA / "transcript.md")
    with pytest.raises(InputError, match="'csv' is not one of ibkr, thinkorswim, tradervue"):
        capture_trades(DATA / "tradervue.csv", format="csv")  # type: ignore[arg-type]
    found = capture_trades(DATA / "tradervue.csv", format="tradervue")
    assert [s["session_id"] for s in found.sessions] == ["trades-2025-03-06", "trades-2025-03-10"]


def _fill(n: int, side: str, qty: int, price: int, fee: str = "0") -> Execution:
    from datetime import UTC, date, datetime

    return Execution(
        origin=f"row {n}",
        account="A",
        symbol="X",
        side=side,
        quantity=D(qty),
        price=D(price),
        fees=D(fee),
        currency="USD",
        time=datetime(2025, 1, 2, 15, 0, n, tzinfo=UTC),
        day=date(2025, 1, 2),
        exec_id=str(n),
    )


def test_a_fill_crossing_zero_closes_the_lot_and_opens_the_other_side() -> None:
    done = match([_fill(1, "buy", 100, 10, "1.00"), _fill(2, "sell", 150, 12, "1.50")])
    (trip,) = done.round_trips
    # 100 closed: (12 - 10) x 100 = 200; fees 1.00 + 1.50 x 100/150 = 2.00
    assert (trip.quantity, trip.pnl, trip.fees) == (100, 200, D("2.00"))
    (lot,) = done.open_lots
    assert (lot.direction, lot.quantity, lot.fees_left) == (-1, 50, D("0.50"))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["buy", "sell"]), st.integers(1, 500), st.integers(1, 999)),
        min_size=1,
        max_size=30,
    )
)
def test_fifo_keeps_every_share_and_every_cent_of_fees(fills: list[tuple[str, int, int]]) -> None:
    executions = [_fill(n, s, q, p, "0.07") for n, (s, q, p) in enumerate(fills)]
    done = match(executions)
    bought = sum(q for s, q, _ in fills if s == "buy")
    sold = sum(q for s, q, _ in fills if s == "sell")
    open_long = sum(lot.quantity for lot in done.open_lots if lot.direction > 0)
    open_short = sum(lot.quantity for lot in done.open_lots if lot.direction < 0)
    closed = sum(t.quantity for t in done.round_trips)
    assert bought == closed + open_long and sold == closed + open_short
    fees = sum((t.fees for t in done.round_trips), D(0)) + sum(
        (lot.fees_left for lot in done.open_lots), D(0)
    )
    assert fees == D("0.07") * len(fills)


_CELLS = st.text(
    alphabet=st.sampled_from(list('0123456789+-.,;:/ ()$="ABCSTUVWXYZabcxyz\n\t')), max_size=12
)


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(
        [
            "Date,Time,Symbol,Quantity,Price,Side,Commission\n",
            '"ClientAccountID","CurrencyPrimary","Symbol","DateTime","Buy/Sell","Quantity",'
            '"TradePrice","IBCommission","Open/CloseIndicator","FifoPnlRealized","Notes/Codes"\n',
            "Account Statement for 1\n\nAccount Trade History\n"
            ",Exec Time,Spread,Side,Qty,Pos Effect,Symbol,Exp,Strike,Type,Price,Net Price,Order Type\n",
        ]
    ),
    st.lists(st.lists(_CELLS, min_size=0, max_size=13), min_size=1, max_size=6),
)
def test_any_rows_give_sessions_or_an_input_error(header: str, rows: list[list[str]]) -> None:
    import tempfile

    body = "".join(",".join(row) + "\n" for row in rows)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.csv"
        path.write_text(header + body)
        try:
            found = capture_trades(path)
        except InputError as exc:
            assert str(exc).startswith(str(path)) or str(exc).startswith("--tz")
            return
        for session in found.sessions:
            assert session["session_type"] == "trade" and session["source_data"]["trades"]


def test_ibkr_cancellations_positions_from_before_and_rebates(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "flex.csv"
    path.write_text(
        '"ClientAccountID","CurrencyPrimary","Symbol","DateTime","Buy/Sell","Quantity",'
        '"TradePrice","IBCommission","Open/CloseIndicator","FifoPnlRealized","Notes/Codes"\n'
        # a sale of a position bought before this statement: no lot here
        '"U1","USD","KO","20250307;093000","SELL","-10","60.00","-1.00","C","50.00",""\n'
        # a fill and its cancellation (no origTradeID: matched by what it repeats)
        '"U1","USD","PEP","20250307;100000","BUY","5","150.00","-1.00","O","0",""\n'
        '"U1","USD","PEP","20250307;100000","SELL (Ca.)","-5","150.00","1.00","O","0","Ca"\n'
        # a round trip whose fees are a net rebate: -0.20 on entry, +0.05 on exit
        '"U1","USD","F","20250307;110000","BUY","100","10.00","0.20","O","0",""\n'
        '"U1","USD","F","20250307;120000","SELL","-100","10.10","-0.05","C","10.15",""\n'
    )
    result = cli("capture", "trades", path)
    assert result.exit_code == 0, result.stderr
    (session,) = loads(result.stdout)
    (trade,) = session["source_data"]["trades"]
    # F: (10.10 - 10.00) x 100 = 10.00 before fees; fees -0.20 + 0.05 = -0.15, a credit,
    # counted in the P&L: 10.15 with fees 0, as IB's 10.15 says
    assert (trade["symbol"], trade["profit_loss"], trade["fees"]) == ("F", D("10.15"), D("0.00"))
    notes = session["source_data"]["capture_notes"]
    assert any("closes 10 KO opened before these files" in n for n in notes)
    assert any("a fee credit of 0.15 on F" in n for n in notes)
    assert "cancels flex.csv:row 3; both left out" in result.stderr.replace(str(tmp_path) + "/", "")


def test_the_git_options_are_not_taken_by_the_export_commands(cli: Cli) -> None:
    result = cli("capture", "--since-rev", "v1", "--agent", "A", "trades", DATA / "tradervue.csv")
    assert result.exit_code == 2 and "--since-rev, --agent: an option of `capture`" in result.stderr
    assert result.stdout == ""


def test_ibkr_csv_of_several_sections_reads_only_the_trades(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "flex.csv"
    path.write_text(
        '"BOF","U1","Trades","1","20250307","20250307","20250308;101010","","",""\n'
        '"HEADER","CTRN","ClientAccountID","CurrencyPrimary","Amount","Description"\n'
        '"DATA","CTRN","U1","USD","-5.00","ADR fee"\n'
        '"HEADER","TRNT","ClientAccountID","CurrencyPrimary","Symbol","DateTime","Buy/Sell",'
        '"Quantity","TradePrice","IBCommission"\n'
        '"DATA","TRNT","U1","USD","F","20250307;110000","BUY","100","10.00","-1.00"\n'
        '"DATA","TRNT","U1","USD","F","20250307;120000","SELL","-100","10.10","-1.00"\n'
        '"HEADER","POST","ClientAccountID","CurrencyPrimary","Symbol","Position"\n'
        '"DATA","POST","U1","USD","AAPL","100"\n'
        '"EOF","U1","Trades","1","20250307","20250307","","","",""\n'
    )
    (session,) = _capture(cli, path)
    (trade,) = session["source_data"]["trades"]
    # (10.10 - 10.00) x 100 = 10.00; fees 1.00 + 1.00
    assert (trade["symbol"], trade["profit_loss"], trade["fees"]) == ("F", D("10.00"), D("2.00"))


def test_the_capturing_package_never_takes_the_capture_function_s_place() -> None:
    import gitflywheel
    import gitflywheel.capturing.trades  # noqa: F401

    assert callable(gitflywheel.capture) and callable(gitflywheel.capture_trades)


@pytest.mark.parametrize(
    "written",
    ["20250303;093512", "2025-03-03;09:35:12", "03/03/2025 093512", "03/03/25,09:35:12",
     "03-Mar-25;093512", "20250303093512", "20250303;093512 EST"],
)  # fmt: skip
def test_every_flex_date_time_format_reads_alike(written: str, tmp_path: Path) -> None:
    path = tmp_path / "flex.csv"
    path.write_text(
        '"ClientAccountID","Symbol","DateTime","Buy/Sell","Quantity","TradePrice"\n'
        f'"U1","F","{written}","BUY","1","10"\n'
    )
    (session,) = capture_trades(path).sessions
    assert session["timestamp"] == "2025-03-03T14:35:12Z"  # 09:35:12 EST, UTC-5


def test_a_note_in_the_record_never_spells_the_account_out(cli: Cli, tmp_path: Path) -> None:
    """A statement is often named by its account (`U7654321_2025.csv`); a note names its
    file, and the session id hashes the account so as not to spell it: the record's note
    says ACCOUNT where the name held it. The note on standard error keeps it, for the
    user."""
    export = tmp_path / "U7654321_2025.csv"
    export.write_text(
        "Date,Time,Symbol,Quantity,Price,Side,Account,Commission\n"
        "2025-12-01,10:00:00,AAPL,10,5,Sell,U7654321,0\n"
        "2025-12-01,11:00:00,AAPL,5,6,Buy,U7654321,-2\n"
    )
    result = cli("capture", "trades", export)
    assert result.exit_code == 0 and "U7654321_2025.csv:row 3" in result.stderr
    (captured,) = loads(result.stdout)
    (note,) = captured["source_data"]["capture_notes"]
    assert note.startswith("ACCOUNT_2025.csv:row 3: a fee credit")
    store = tmp_path / "s.git"
    _ingest(cli, store, [captured])
    assert "U7654321" not in git("-C", store, "log", "-p", "main")


def test_no_id_in_the_record_gives_the_account_number_away(cli: Cli, tmp_path: Path) -> None:
    """Account numbers are few (IB's: U and seven digits), so a hash of one is undone by
    trying them all (ten million SHA-256 take seconds): the session id names the account
    by its last four digits, and a row's id hashes the row with those alone, so the same
    rows of two accounts ending alike get the same ids."""
    ids = {}
    for account in ("U7654321", "U1114321"):
        export = tmp_path / f"{account}.csv"
        export.write_text(
            "Date,Time,Symbol,Quantity,Price,Side,Account\n"
            f"2025-12-01,10:00:00,AAPL,10,5,Buy,{account}\n"
            f"2025-12-01,11:00:00,AAPL,10,6,Sell,{account}\n"
        )
        (captured,) = _capture(cli, export)
        assert captured["session_id"] == "trades-2025-12-01-4321"
        ids[account] = captured["source_data"]["trades"][0]["execution_ids"]
        store = tmp_path / f"{account}.git"
        _ingest(cli, store, [captured])
        history = git("-C", store, "log", "-p", "main")
        digest = hashlib.sha256(account.encode()).hexdigest()
        assert account not in history and digest[:8] not in history
    assert ids["U7654321"] == ids["U1114321"]
    both = tmp_path / "both.csv"
    both.write_text(
        (tmp_path / "U7654321.csv").read_text() + "2025-12-01,12:00:00,AAPL,1,5,Buy,U1114321\n"
    )
    result = cli("capture", "trades", both)
    assert result.exit_code == 2 and result.stdout == ""
    assert "account: accounts U1114321 and U7654321 both end in 4321" in result.stderr


def test_an_export_in_utf16_or_mixed_encodings_is_told(cli: Cli, tmp_path: Path) -> None:
    """Excel's "Unicode text" is UTF-16: refused with what to do, not as binary. A file
    that is not UTF-8 is read as Windows-1252, and a note says so and where (a UTF-8
    name further in reads wrongly then)."""
    rows = "Date,Time,Symbol,Quantity,Price,Side\n03/06/2025,09:45:00,TSLA,5,1,Buy\n"
    path = tmp_path / "trades.csv"
    path.write_bytes(rows.encode("utf-16"))
    done = cli.process("capture", "trades", path)
    assert done.returncode == 2 and b"UTF-16 text: save the export as UTF-8" in done.stderr
    path.write_bytes(rows.encode() + "03/06/2025,09:46:00,\xc4B,5,1,Buy\n".encode("latin-1"))
    result = cli("capture", "trades", path)
    assert result.exit_code == 0
    assert "trades.csv:row 3: not UTF-8, so the file is read as Windows-1252" in result.stderr
    (session,) = loads(result.stdout)
    assert [t["symbol"] for t in session["source_data"]["trades"]] == ["TSLA", "\xc4B"]


_AMOUNT = st.sampled_from([D("0.0001"), D("999999999999999")]) | st.decimals(
    min_value=D("0.0001"), max_value=D("999999999999999"), places=4
)
_DAY = st.sampled_from([date(1, 1, 1), date(9999, 12, 31)]) | st.dates()


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(
            _DAY,
            st.times().map(lambda t: t.replace(microsecond=0)),
            st.sampled_from(["Buy", "Sell"]),
            _AMOUNT,
            _AMOUNT,
            st.decimals(min_value=D("-9999"), max_value=D("999999999999999"), places=2),
        ),
        min_size=1,
        max_size=6,
    ),
    st.sampled_from(["America/New_York", "Asia/Tokyo", "Pacific/Kiritimati", "UTC"]),
)
def test_well_formed_rows_of_any_date_and_size_give_sessions_or_an_input_error(
    rows: list[tuple[Any, ...]], tz: str
) -> None:
    """Every cell as the format wants it, at the edges of what it allows: the first and
    last days a date holds, in any zone (an OverflowError), amounts whose products pass
    what a cent can be rounded in (a decimal.InvalidOperation)."""
    import tempfile

    body = "".join(
        f"{day.isoformat()},{clock.isoformat()},SYM,{quantity},{price},{side},{fee}\n"
        for day, clock, side, quantity, price, fee in rows
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.csv"
        path.write_text("Date,Time,Symbol,Quantity,Price,Side,Commission\n" + body)
        try:
            found = capture_trades(path, tz=tz)
        except InputError as exc:
            assert str(path) in str(exc), exc
        else:
            assert all(s["source_data"]["trades"] for s in found.sessions)


_CLOSE_AND_OPEN = [  # (time, buySell, quantity, price, openCloseIndicator, fifoPnlRealized, id)
    ("20250305;100000", "BUY", "100", "10", "O", "0", "1"),
    ("20250305;110000", "SELL", "-150", "12", "C;O", "200", "2"),
    ("20250305;120000", "BUY", "50", "11", "C", "50", "3"),
]


@pytest.mark.parametrize("kind", ["csv", "xml"])
def test_an_ibkr_fill_that_closes_and_opens_opens_a_lot_with_the_rest(
    cli: Cli, tmp_path: Path, kind: str
) -> None:
    """IB writes `C;O` for a sale of 150 while long 100: it closes the 100 and opens a
    short of 50, which the next buy covers; none of it was opened before the file."""
    if kind == "csv":
        path = tmp_path / "flex.csv"
        path.write_text(
            '"ClientAccountID","CurrencyPrimary","Symbol","Multiplier","DateTime","Buy/Sell",'
            '"Quantity","TradePrice","IBCommission","Open/CloseIndicator","FifoPnlRealized",'
            '"TransactionID","LevelOfDetail"\n'
            + "".join(
                f'"U7654321","USD","XYZ","1","{t}","{side}","{q}","{p}","0","{oc}","{pnl}",'
                f'"{n}","EXECUTION"\n'
                for t, side, q, p, oc, pnl, n in _CLOSE_AND_OPEN
            )
        )
    else:
        path = tmp_path / "flex.xml"
        path.write_text(
            '<FlexQueryResponse><FlexStatements><FlexStatement accountId="U7654321"><Trades>'
            + "".join(
                f'<Trade accountId="U7654321" currency="USD" symbol="XYZ" multiplier="1" '
                f'dateTime="{t}" buySell="{side}" quantity="{q}" tradePrice="{p}" '
                f'ibCommission="0" openCloseIndicator="{oc}" fifoPnlRealized="{pnl}" '
                f'transactionID="{n}" levelOfDetail="EXECUTION"/>'
                for t, side, q, p, oc, pnl, n in _CLOSE_AND_OPEN
            )
            + "</Trades></FlexStatement></FlexStatements></FlexQueryResponse>"
        )
    (session,) = _capture(cli, path)
    # long 100 @ 10 sold @ 12: +200; short 50 @ 12 covered @ 11: +50; IB says the same
    assert [
        (t["action"], t["quantity"], t["price"], t["exit_price"], t["profit_loss"])
        for t in session["source_data"]["trades"]
    ] == [("buy", 100, 10, 12, 200), ("sell", 50, 12, 11, 50)]
    assert "capture_notes" not in session["source_data"]


_FLEX_HEADER = (
    '"ClientAccountID","CurrencyPrimary","Symbol","DateTime","Buy/Sell","Quantity",'
    '"TradePrice","IBCommission","TransactionID"\n'
)


def test_two_rows_of_one_file_with_one_id_are_one_execution_or_refused(
    cli: Cli, tmp_path: Path
) -> None:
    """The same execution in two exports counts once, but within one file an id
    repeated on a different row would silently lose an execution: refused, naming both
    rows and the id. The same row written twice is one execution, with a note."""
    path = tmp_path / "flex.csv"
    path.write_text(
        _FLEX_HEADER + '"U1","USD","F","20250307;110000","BUY","100","10.00","-1.00","77"\n'
        '"U1","USD","F","20250307;120000","SELL","-100","10.10","-1.00","77"\n'
    )
    done = cli.process("capture", "trades", path)
    message = done.stderr.decode().replace(str(tmp_path) + "/", "")
    assert done.returncode == 2 and done.stdout == b"" and "Traceback" not in message
    assert (
        "flex.csv:row 3: transactionID: 77 is also the id of flex.csv:row 2, a different "
        "execution" in message
    ), message
    path.write_text(
        _FLEX_HEADER + '"U1","USD","F","20250307;110000","BUY","100","10.00","-1.00","77"\n'
        '"U1","USD","F","20250307;110000","BUY","100","10.00","-1.00","77"\n'
        '"U1","USD","F","20250307;120000","SELL","-100","10.10","-1.00","78"\n'
    )
    result = cli("capture", "trades", path)
    assert result.exit_code == 0, result.stderr
    (session,) = loads(result.stdout)
    (trade,) = session["source_data"]["trades"]
    assert (trade["quantity"], trade["profit_loss"], trade["fees"]) == (100, D("10.00"), D("2.00"))
    assert "flex.csv:row 3: repeats flex.csv:row 2 (transactionID 77); read once" in (
        result.stderr.replace(str(tmp_path) + "/", "")
    )


def test_one_ib_execution_in_exports_of_other_id_fields_counts_once(
    cli: Cli, tmp_path: Path
) -> None:
    """Two Flex queries of the same fills: one gives transactionID and tradeID, the other
    tradeID alone. The first id present differs (1001 against 501), but the tradeID they
    share makes each fill one execution: the P&L is not doubled, in either order."""
    xml = tmp_path / "week.xml"
    xml.write_text(
        '<FlexQueryResponse><FlexStatements><FlexStatement accountId="U7654321"><Trades>'
        '<Trade accountId="U7654321" currency="USD" symbol="F" dateTime="20250307;110000" '
        'buySell="BUY" quantity="100" tradePrice="10.00" ibCommission="-1.00" '
        'transactionID="1001" tradeID="501"/>'
        '<Trade accountId="U7654321" currency="USD" symbol="F" dateTime="20250307;120000" '
        'buySell="SELL" quantity="-100" tradePrice="10.10" ibCommission="-1.00" '
        'transactionID="1002" tradeID="502"/>'
        "</Trades></FlexStatement></FlexStatements></FlexQueryResponse>"
    )
    csv = tmp_path / "day.csv"
    csv.write_text(
        '"ClientAccountID","CurrencyPrimary","Symbol","DateTime","Buy/Sell","Quantity",'
        '"TradePrice","IBCommission","TradeID"\n'
        '"U7654321","USD","F","20250307;110000","BUY","100","10.00","-1.00","501"\n'
        '"U7654321","USD","F","20250307;120000","SELL","-100","10.10","-1.00","502"\n'
    )
    for files in ((xml, csv), (csv, xml)):
        (session,) = _capture(cli, *files)
        (trade,) = session["source_data"]["trades"]
        # (10.10 - 10.00) x 100 = 10.00; fees 1.00 + 1.00
        assert (trade["quantity"], trade["profit_loss"], trade["fees"]) == (
            100, D("10.00"), D("2.00")
        )  # fmt: skip


def test_a_tradervue_file_without_a_time_column_trades_at_noon(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "trades.csv"
    path.write_text("Date,Symbol,Quantity,Price,Side\n2025-03-06,TSLA,5,1,Buy\n")
    result = cli("capture", "trades", path)
    assert result.exit_code == 0, result.stderr
    assert "trades.csv: no Time column: every execution at 12:00:00" in result.stderr
    (session,) = loads(result.stdout)
    assert session["timestamp"] == "2025-03-06T17:00:00Z"  # noon EST, UTC-5


@pytest.mark.parametrize(
    ("file_name", "account", "kept"),
    [
        ("7654321.csv", "U7654321", "ACCOUNT.csv"),
        ("flex_7654321_2025.csv", "U7654321", "flex_ACCOUNT_2025.csv"),
        ("12345678.csv", "123-45678", "ACCOUNT.csv"),
        ("4321.csv", "U7654321", "4321.csv"),  # the last four digits: the session id's own
    ],
)
def test_a_file_named_by_the_account_s_number_alone_is_masked_too(
    cli: Cli, tmp_path: Path, file_name: str, account: str, kept: str
) -> None:
    """A statement named by the account's number without its letter (`7654321.csv` of
    U7654321) spelled the account out in the record's notes as much as `U7654321.csv`."""
    export = tmp_path / file_name
    export.write_text(
        "Date,Time,Symbol,Quantity,Price,Side,Account,Commission\n"
        f"2025-12-01,10:00:00,AAPL,10,5,Sell,{account},0\n"
        f"2025-12-01,11:00:00,AAPL,5,6,Buy,{account},-2\n"
    )
    (captured,) = _capture(cli, export)
    (note,) = captured["source_data"]["capture_notes"]
    assert note.startswith(f"{kept}:row 3: a fee credit"), note
    store = tmp_path / "s.git"
    _ingest(cli, store, [captured])
    history = git("-C", store, "log", "-p", "main")
    digits = "".join(c for c in account if c.isdigit())
    assert account not in history and digits not in history


def test_the_same_files_give_the_same_sessions_in_any_order(cli: Cli, tmp_path: Path) -> None:
    """A buy in one file and a sale in another at the same second: taken in the order
    the files were given, the pair was a long one way and a short the other. The files
    are taken in the order of their content, each one's rows in its own order."""
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("Date,Time,Symbol,Quantity,Price,Side\n2025-03-06,10:00:00,TSLA,100,10,Buy\n")
    b.write_text(
        "Date,Time,Symbol,Quantity,Price,Side\n2025-03-06,10:00:00,TSLA,100,12,Sell\n"
        "2025-03-06,11:00:00,TSLA,100,11,Buy\n"
    )
    forward, backward = _capture(cli, a, b), _capture(cli, b, a)
    assert forward == backward
    (session,) = forward
    closed, still_open = session["source_data"]["trades"]
    assert closed["profit_loss"] == D("200.00") and still_open["price"] == 11
    # one execution under two ids (a query with transactionID, one with tradeID alone):
    # the copy kept, and the id the record shows, do not follow the order given either
    xml, csv = tmp_path / "week.xml", tmp_path / "day.csv"
    xml.write_text(
        '<FlexQueryResponse><FlexStatements><FlexStatement accountId="U1"><Trades>'
        '<Trade symbol="F" dateTime="20250307;110000" buySell="BUY" quantity="100" '
        'tradePrice="10" transactionID="1001" tradeID="501"/>'
        "</Trades></FlexStatement></FlexStatements></FlexQueryResponse>"
    )
    csv.write_text(
        '"ClientAccountID","Symbol","DateTime","Buy/Sell","Quantity","TradePrice","TradeID"\n'
        '"U1","F","20250307;110000","BUY","100","10","501"\n'
    )
    assert _capture(cli, xml, csv) == _capture(cli, csv, xml)
