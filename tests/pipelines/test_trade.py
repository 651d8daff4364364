"""The trade pipeline: every figure of the journal equals one computed here from the
input alone, money with two decimals, rates as percentages, trades in time order."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pipeline_checks import (
    CORPUS,
    EXAMPLES,
    bodies,
    body,
    check_artifacts,
    figures,
    front_matter,
    opens_with_words,
    posts_of,
    render_all,
    tables,
)

from gitflywheel.jsontext import loads
from gitflywheel.session.records import InputErrors, make_record

CENT = Decimal("0.01")
EAST = timezone(timedelta(hours=9))
WEST = timezone(-timedelta(hours=5, minutes=30))


def money(x: Decimal, sign: bool = False) -> str:
    x = x.quantize(CENT, rounding=ROUND_HALF_EVEN)
    text = f"{abs(x) if x == 0 else x:,.2f}"  # a zero P&L is +0.00, never -0.00
    return "+" + text if sign and not text.startswith("-") else text


def percent_of(part: int, whole: int) -> str:
    """A rate as a percentage, whole when whole, else to a tenth: 50%, 66.7%."""
    tenth = (Decimal(part) * 100 / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)
    return f"{tenth.to_integral_value() if tenth == tenth.to_integral_value() else tenth}%"


def dec(value: Any) -> Decimal:
    return Decimal(str(value))


def expected_rows(trades: list[dict[str, Any]], day: str = "") -> list[list[str]]:
    """The trade table as it must read: UTC times (the hour alone on `day`, the session's
    day, which the page shows as its date), time order, symbols upper-case."""

    def moment(t: dict[str, Any]) -> datetime:
        parsed = datetime.fromisoformat(str(t["timestamp"]))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

    order = sorted(range(len(trades)), key=lambda i: (moment(trades[i]), i))
    rows = []
    for n, i in enumerate(order, start=1):
        t = trades[i]
        pnl = pnl_of(t)
        qty = dec(t["quantity"])
        rows.append(
            [
                str(n),
                moment(t).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC").removeprefix(f"{day} "),
                t["symbol"].strip().upper(),
                t["action"],
                format(qty.normalize(), "f") if qty != qty.to_integral_value() else str(int(qty)),
                money(dec(t["price"])),
                money(dec(t["exit_price"])) if "exit_price" in t else "-",
                money(pnl, sign=True) if pnl is not None else "open",
                money(dec(t["fees"])) if "fees" in t else "-",
            ]
        )
    return rows


def pnl_of(t: dict[str, Any]) -> Decimal | None:
    if "profit_loss" in t:
        return dec(t["profit_loss"])
    if "exit_price" in t:
        sign = 1 if t["action"] == "buy" else -1
        return (dec(t["exit_price"]) - dec(t["price"])) * dec(t["quantity"]) * sign
    return None


def expected_figures(trades: list[dict[str, Any]]) -> dict[str, str]:
    """The summary table, computed from the raw trades without the pipeline."""
    rows = expected_rows(trades)
    in_order = [r for r in rows if r[7] != "open"]
    pnls = [Decimal(r[7].replace(",", "")) for r in in_order]  # exact: input has cents
    exact = {i: pnl_of(t) for i, t in enumerate(trades)}
    closed = [p for p in exact.values() if p is not None]
    wins = [p for p in closed if p > 0]
    losses = [p for p in closed if p < 0]
    out = {
        "trades": str(len(trades)),
        "total P&L": money(sum(closed, Decimal(0)), sign=True) if closed else "n/a",
        "win rate": percent_of(len(wins), len(closed)) if closed else "n/a",
        "wins / losses": f"{len(wins)} / {len(losses)}",
        "average win": money(sum(wins) / len(wins), sign=True) if wins else "n/a",
        "average loss": money(sum(losses) / len(losses), sign=True) if losses else "n/a",
        "profit factor": str((sum(wins, Decimal(0)) / -sum(losses)).quantize(CENT))
        if losses
        else "n/a",
    }
    # the drawdown of the equity curve: each closed trade's P&L less its fees, then the
    # fees of open positions
    fee = {int(r[0]): Decimal(r[8].replace(",", "")) if r[8] != "-" else Decimal(0) for r in rows}
    net = [p - fee[int(r[0])] for p, r in zip(pnls, in_order, strict=True)]
    open_fees = sum((fee[int(r[0])] for r in rows if r[7] == "open"), Decimal(0))
    running = peak = drawdown = Decimal(0)
    for p in net + ([-open_fees] if net and open_fees else []):
        running += p
        peak = max(peak, running)
        drawdown = max(drawdown, peak - running)
    out["max drawdown"] = money(drawdown)
    if any("fees" in t for t in trades):
        fees = sum((dec(t["fees"]) for t in trades if "fees" in t), Decimal(0))
        out["fees"] = money(fees)
        out["net P&L"] = money(sum(closed, Decimal(0)) - fees, sign=True)
    if in_order:
        # best: the highest P&L, the earliest on a tie; worst: the lowest, the earliest
        best = max(in_order, key=lambda r: (Decimal(r[7].replace(",", "")), -int(r[0])))
        worst = min(in_order, key=lambda r: (Decimal(r[7].replace(",", "")), int(r[0])))
        out["best trade"] = f"{best[2]} {best[7]}"
        out["worst trade"] = f"{worst[2]} {worst[7]}"
    return out


def expected_by_symbol(trades: list[dict[str, Any]]) -> list[list[str]]:
    symbols = sorted({t["symbol"].strip().upper() for t in trades})
    out = []
    for s in symbols:
        mine = [t for t in trades if t["symbol"].strip().upper() == s]
        known = [p for p in map(pnl_of, mine) if p is not None]
        out.append(
            [
                s,
                str(len(mine)),
                str(sum(1 for p in known if p > 0)),
                money(sum(known, Decimal(0)), sign=True) if known else "open",
            ]
        )
    return out


def check_journal(raw: dict[str, Any], journal: str) -> None:
    trades = raw["source_data"]["trades"]
    found = tables(journal)
    trade_rows = [row for t in found if t[0][:3] == ["#", "time", "symbol"] for row in t[1:]]
    stamp = datetime.fromisoformat(str(raw["timestamp"]).replace("Z", "+00:00"))
    stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
    assert trade_rows == expected_rows(trades, stamp.astimezone(UTC).strftime("%Y-%m-%d"))
    shown = figures(journal)
    for name, value in expected_figures(trades).items():
        assert shown[name] == value, (name, shown[name], value)
    by_symbol = [row for t in found if t[0] == ["symbol", "trades", "wins", "P&L"] for row in t[1:]]
    assert by_symbol == expected_by_symbol(trades)
    if not trades:
        assert "No trades were recorded." in journal


def test_original_example_trade_session() -> None:
    path = CORPUS / "72fe669c_example_trade_session.json"
    journal = render_all(loads(path.read_text()))["trade_journal"]
    shown = figures(journal)
    assert shown["total P&L"] == "+125.50"
    assert shown["win rate"] == "66.7%"
    assert shown["best trade"] == "GOOGL +111.00"
    assert shown["worst trade"] == "MSFT -10.50"
    assert shown["trades"] == "3"
    assert "fees" not in shown and "net P&L" not in shown  # no fees given, none invented
    check_journal(json.loads(path.read_text()), journal)


def test_corpus_trade_sessions() -> None:
    for path in sorted(CORPUS.glob("*.json")):
        raw = json.loads(path.read_text())
        if raw["session_type"] == "trade":
            artifacts = render_all(loads(path.read_text()))
            assert set(artifacts) == {"trade_journal", "blog_post", "social_post"}
            check_journal(raw, artifacts["trade_journal"])
            check_artifacts(artifacts)


def test_example_with_fees_exits_and_mixed_case() -> None:
    raw = json.loads((EXAMPLES / "trade_session.json").read_text())
    artifacts = render_all(loads((EXAMPLES / "trade_session.json").read_text()))
    check_journal(raw, artifacts["trade_journal"])
    shown = figures(artifacts["trade_journal"])
    assert (shown["total P&L"], shown["fees"], shown["net P&L"]) == ("+119.30", "4.20", "+115.10")
    assert shown["max drawdown"] == "11.50" and shown["profit factor"] == "7.82"
    assert (
        "**Market:** trend bullish, volatility moderate, volume high" in artifacts["trade_journal"]
    )


def test_the_thread_leads_with_the_pnl_net_of_fees_as_post_and_chart_do() -> None:
    raw = json.loads((EXAMPLES / "trade_session.json").read_text())
    trades = raw["source_data"]["trades"]
    gross = sum((dec(t["profit_loss"]) for t in trades), Decimal(0))
    net = gross - sum((dec(t["fees"]) for t in trades), Decimal(0))
    artifacts = render_all(loads((EXAMPLES / "trade_session.json").read_text()))
    first = bodies(posts_of(artifacts["social_post"]))[0]
    lead = first.split(". ")[0]
    assert f"net P&L {money(net, sign=True)}" in lead and money(net, sign=True) == "+115.10"
    assert money(gross, sign=True) not in first
    assert figures(artifacts["blog_post"])["net P&L"] == money(net, sign=True)
    assert "win rate 50%" in lead  # 2 of 4 won


def test_times_in_utc_and_sorted_across_offsets() -> None:
    data = json.loads((EXAMPLES / "trade_session.json").read_text())
    trades = data["source_data"]["trades"]
    trades[0]["timestamp"] = "2025-12-05T23:59:00+09:00"  # 14:59 UTC: after MSFT? no, before
    trades[1]["timestamp"] = "2025-12-05T09:00:00-05:00"  # 14:00 UTC: now the first
    journal = render_all(loads(json.dumps(data)))["trade_journal"]
    rows = next(t for t in tables(journal) if t[0][0] == "#")[1:]
    assert [(r[1], r[2]) for r in rows[:2]] == [  # the session's day: the hour alone
        ("14:00 UTC", "MSFT"),
        ("14:59 UTC", "AAPL"),
    ]
    check_journal(data, journal)


def test_no_float_noise_and_open_trades_left_out() -> None:
    data = {
        "session_id": "t-noise",
        "session_type": "trade",
        "timestamp": "2025-12-02T03:30:00Z",
        "agent_id": "kay",
        "source_data": {
            "trades": [
                {"symbol": "x", "action": "buy", "quantity": 3, "price": 0.1, "exit_price": 0.2,
                 "timestamp": "2025-12-02T01:00:00Z"},
                {"symbol": "x", "action": "sell", "quantity": 0.5, "price": 175.5,
                 "timestamp": "2025-12-02T02:00:00Z"},
            ]
        },
    }  # fmt: skip
    journal = render_all(loads(json.dumps(data)))["trade_journal"]
    rows = next(t for t in tables(journal) if t[0][0] == "#")[1:]
    assert rows[0][4:8] == [
        "3",
        "0.10",
        "0.20",
        "+0.30",
    ]  # (0.2 - 0.1) * 3 with floats is 0.30000000000000004
    assert rows[1][4:8] == ["0.5", "175.50", "-", "open"]
    shown = figures(journal)
    assert (shown["open positions"], shown["open exposure"]) == ("1", "87.75")  # 0.5 x 175.50
    assert shown["wins / losses"] == "1 / 0"
    check_journal(data, journal)


def test_hostile_symbols_and_text_stay_in_their_cells() -> None:
    data = json.loads((EXAMPLES / "trade_session.json").read_text())
    data["source_data"]["trades"][0]["symbol"] = "a|b\\"
    data["title"] = "{{ 7*7 }} {% raw %}"
    data["what_worked"] = "{{ 7*7 }}"
    artifacts = render_all(loads(json.dumps(data)))
    check_journal(data, artifacts["trade_journal"])
    assert "# Trade journal: {{ 7\\*7 }} {% raw %}" in artifacts["trade_journal"]
    assert "**What worked:** {{ 7\\*7 }}" in artifacts["trade_journal"]
    assert "{{ 7*7 }}" in artifacts["social_post"]  # a post is plain text, not Markdown
    assert all("49" not in body(text) for text in artifacts.values())


# Strategies are built once: building one (above all st.timezones()) costs more than drawing.
prices = st.decimals(min_value=Decimal("0"), max_value=Decimal("99999"), places=2)
quantities = st.integers(1, 1000) | st.decimals(
    min_value=Decimal("0.001"), max_value=Decimal("50"), places=3
)
trade_times = st.datetimes(
    min_value=datetime(2025, 1, 1),
    max_value=datetime(2026, 1, 1),
    timezones=st.sampled_from([UTC, None]) | st.timezones(),
).map(lambda d: d.replace(microsecond=0).isoformat())


@st.composite
def trade_sessions(draw: st.DrawFn) -> dict[str, Any]:
    trades = []
    for _ in range(draw(st.integers(min_value=0, max_value=14))):
        trade: dict[str, Any] = {
            "symbol": draw(st.sampled_from(["aapl", "MSFT", " nvda", "BRK.B", "eur/usd"])),
            "action": draw(st.sampled_from(["buy", "sell"])),
            "quantity": draw(quantities),
            "price": draw(prices),
            "timestamp": draw(trade_times),
        }
        choice = draw(st.integers(0, 2))
        if choice == 0:
            trade["profit_loss"] = draw(
                st.decimals(min_value=Decimal("-9000"), max_value=Decimal("9000"), places=2)
            )
        elif choice == 1:
            trade["exit_price"] = draw(prices)
            trade["quantity"] = draw(st.integers(1, 1000))  # keeps the computed P&L to cents
        if draw(st.booleans()):
            trade["fees"] = draw(
                st.decimals(min_value=Decimal("0"), max_value=Decimal("99"), places=2)
            )
        trades.append(trade)
    return {
        "session_id": f"t-{draw(st.integers(0, 10**9))}",
        "session_type": "trade",
        "timestamp": "2025-12-09T20:00:00Z",
        "agent_id": "trader",
        "title": draw(st.none() | st.text(min_size=1, max_size=200)),
        "what_worked": draw(st.none() | st.text(max_size=400)),
        "what_didnt_work": draw(st.none() | st.text(max_size=400)),
        "source_data": {"trades": trades},
    }


def as_json(data: dict[str, Any]) -> str:
    """JSON numbers for the decimals: a float's repr is the shortest text that reads back
    as the same number, so 0.1 stays 0.1 on the way through."""
    return json.dumps(data, default=float)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trade_sessions())
@pytest.mark.slow
def test_generated_journals_equal_independent_figures(data: dict[str, Any]) -> None:
    text = as_json(data)
    artifacts = render_all(loads(text))
    check_journal(json.loads(text), artifacts["trade_journal"])
    check_artifacts(artifacts)
    in_journal, in_post = figures(artifacts["trade_journal"]), figures(artifacts["blog_post"])
    assert in_post and all(in_journal[name] == value for name, value in in_post.items())
    joined = " ".join(bodies(posts_of(artifacts["social_post"])))
    meta = front_matter(artifacts["trade_journal"])
    if data["source_data"]["trades"] or (data["what_worked"] or "").strip():
        assert not meta["draft"]
    if meta["draft"]:
        assert joined == ""  # a draft has no thread
    else:
        assert opens_with_words(joined, meta["title"])


def session_of(trades: list[dict[str, Any]], **source: Any) -> dict[str, Any]:
    return {
        "session_id": "t-figures",
        "session_type": "trade",
        "timestamp": "2025-12-02T20:00:00Z",
        "agent_id": "kay",
        "what_worked": "Patience.",
        "source_data": {"trades": trades, **source},
    }


def section(text: str, heading: str) -> str:
    """The text under one `## ` heading, up to the next."""
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def drawdown_of(pnls: list[Decimal]) -> Decimal:
    running = peak = worst = Decimal(0)
    for p in pnls:
        running += p
        peak = max(peak, running)
        worst = max(worst, peak - running)
    return worst


def test_currencies_are_never_added_together() -> None:
    trades = [
        {"symbol": "SAP", "action": "buy", "quantity": 2, "price": 120, "profit_loss": 30.5,
         "fees": 1.5, "currency": "EUR", "timestamp": "2025-12-02T09:00:00Z"},
        {"symbol": "AAPL", "action": "buy", "quantity": 1, "price": 200, "profit_loss": -12.25,
         "fees": 0.5, "timestamp": "2025-12-02T10:00:00Z"},
        {"symbol": "SIE", "action": "sell", "quantity": 1, "price": 180, "profit_loss": -40,
         "currency": "EUR", "timestamp": "2025-12-02T11:00:00Z"},
        {"symbol": "MSFT", "action": "buy", "quantity": 1, "price": 400, "profit_loss": 7,
         "timestamp": "2025-12-02T12:00:00Z"},
    ]  # fmt: skip
    # the default currency applies to trades that name none
    text = render_all(session_of(trades, currency="USD"))["trade_journal"]
    eur, usd = figures(section(text, "Summary: EUR")), figures(section(text, "Summary: USD"))
    assert (eur["total P&L"], eur["fees"], eur["net P&L"]) == ("-9.50", "1.50", "-11.00")
    assert (usd["total P&L"], usd["fees"], usd["net P&L"]) == ("-5.25", "0.50", "-5.75")
    assert (eur["best trade"], eur["worst trade"]) == ("SAP +30.50", "SIE -40.00")
    assert (usd["best trade"], usd["worst trade"]) == ("MSFT +7.00", "AAPL -12.25")
    assert eur["max drawdown"] == money(drawdown_of([Decimal("30.5"), Decimal(-40)]))
    assert usd["max drawdown"] == money(drawdown_of([Decimal("-12.75"), Decimal(7)])) == "12.75"
    assert "+9.25" not in text and "-14.75" not in text  # no cross-currency sum anywhere
    rows = next(t for t in tables(text) if t[0][0] == "#")
    assert rows[0][-1] == "currency" and [r[-1] for r in rows[1:]] == ["EUR", "USD", "EUR", "USD"]
    # without a default, trades with no currency form their own block
    text = render_all(session_of(trades))["trade_journal"]
    assert figures(section(text, "Summary: unstated currency"))["total P&L"] == "-5.25"
    assert figures(section(text, "Summary: EUR"))["total P&L"] == "-9.50"
    post = render_all(session_of(trades))["blog_post"]
    assert "P&L -9.50" in post and "P&L -5.25" in post


def test_a_thread_of_several_currencies_states_each_pnl_and_sums_none() -> None:
    trades = [
        {"symbol": "SAP", "action": "buy", "quantity": 2, "price": 120, "profit_loss": 30.5,
         "currency": "EUR", "timestamp": "2025-12-02T09:00:00Z"},
        {"symbol": "SIE", "action": "sell", "quantity": 1, "price": 180, "profit_loss": -40,
         "currency": "EUR", "timestamp": "2025-12-02T11:00:00Z"},
        {"symbol": "AAPL", "action": "buy", "quantity": 1, "price": 200, "profit_loss": -12.25,
         "timestamp": "2025-12-02T10:00:00Z"},
        {"symbol": "MSFT", "action": "buy", "quantity": 1, "price": 400, "profit_loss": 7,
         "timestamp": "2025-12-02T12:00:00Z"},
    ]  # fmt: skip
    posts = bodies(posts_of(render_all(session_of(trades, currency="USD"))["social_post"]))
    first = posts[0]
    assert first.startswith(  # no title: named by what it traded, not by its date
        "Trading SAP, SIE and 2 more: 4 trades, P&L -9.50 EUR and -5.25 USD."
    )
    # one fact of each currency, each saying which it is in
    assert (
        "The largest contributor (EUR) was SIE sell #3 at -40.00; the other closed trade made +30.50."
        in first
    )
    assert "The largest contributor (USD) was AAPL buy #2 at -12.25" in " ".join(posts)
    assert "-14.75" not in " ".join(posts) and "+9.25" not in " ".join(posts)
    unstated = bodies(posts_of(render_all(session_of(trades))["social_post"]))[0]
    assert "P&L -9.50 EUR and -5.25 in an unstated currency." in unstated


def test_currency_codes_are_checked() -> None:
    for bad in ("usd", "US", "EURO", "€"):
        trade = {"symbol": "X", "action": "buy", "quantity": 1, "price": 1, "currency": bad,
                 "timestamp": "2025-12-02T09:00:00Z"}  # fmt: skip
        with pytest.raises(InputErrors) as caught:
            make_record("in.json", session_of([trade]))
        assert "source_data.trades[0].currency" in str(caught.value), caught.value
        assert "ISO 4217" in str(caught.value)
        with pytest.raises(InputErrors) as caught:
            make_record("in.json", session_of([], currency=bad))
        assert "source_data.currency" in str(caught.value)


def test_open_positions_are_exposure_and_break_even_counts() -> None:
    trades = [
        {"symbol": "A", "action": "buy", "quantity": 3, "price": 10.25, "timestamp": "2025-12-02T09:00:00Z"},
        {"symbol": "B", "action": "sell", "quantity": 2, "price": 5, "timestamp": "2025-12-02T09:30:00Z"},
        {"symbol": "C", "action": "buy", "quantity": 1, "price": 50, "profit_loss": 0, "timestamp": "2025-12-02T10:00:00Z"},
        {"symbol": "D", "action": "buy", "quantity": 1, "price": 50, "profit_loss": 12, "timestamp": "2025-12-02T11:00:00Z"},
    ]  # fmt: skip
    artifacts = render_all(session_of(trades))
    shown = figures(artifacts["trade_journal"])
    exposure = Decimal(3) * Decimal("10.25") + Decimal(2) * Decimal(5)
    assert shown["open exposure"] == money(exposure) == "40.75"
    assert shown["open positions"] == "2"
    assert (shown["wins / losses"], shown["break-even"], shown["win rate"]) == (
        "1 / 0",
        "1",
        "50%",
    )
    rows = next(t for t in tables(artifacts["trade_journal"]) if t[0][0] == "#")[1:]
    assert [r[7] for r in rows] == ["open", "open", "+0.00", "+12.00"]  # open is no +0.00
    by_symbol = next(t for t in tables(artifacts["trade_journal"]) if t[0][0] == "symbol")[1:]
    assert [r[3] for r in by_symbol] == ["open", "open", "+0.00", "+12.00"]
    only_open = figures(render_all(session_of(trades[:2]))["trade_journal"])
    assert (only_open["total P&L"], only_open["open exposure"]) == ("n/a", "40.75")
    post = artifacts["blog_post"]
    assert "2 closed trades: 1 won, 0 lost, 1 break-even (win rate 50%), P&L +12.00." in post
    assert "50.00%" not in post and "50.00%" not in artifacts["trade_journal"]
    assert "2 positions still open (A, B): 40.75 at entry prices." in post
    assert figures(post)["open exposure"] == "40.75"


def minutes_between(a: str, b: str) -> int:
    return int((datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds() // 60)


def test_exit_order_hold_streaks_expectancy_and_r_multiples() -> None:
    # entry order A B C D; exit order B D A C: the drawdown and streaks follow the exits
    trades = [
        {"symbol": "A", "action": "buy", "quantity": 10, "price": 100, "stop_price": 95, "profit_loss": 100,
         "timestamp": "2025-12-02T10:00:00+00:00", "exit_timestamp": "2025-12-02T15:00:00+00:00"},
        {"symbol": "B", "action": "sell", "quantity": 5, "price": 50, "stop_price": 60, "profit_loss": -50,
         "timestamp": "2025-12-02T11:00:00+00:00", "exit_timestamp": "2025-12-02T12:00:00+00:00"},
        {"symbol": "C", "action": "buy", "quantity": 1, "price": 10, "profit_loss": 20,
         "timestamp": "2025-12-02T11:30:00+00:00", "exit_timestamp": "2025-12-02T16:00:00+00:00"},
        {"symbol": "D", "action": "buy", "quantity": 1, "price": 10, "profit_loss": -60,
         "timestamp": "2025-12-02T13:00:00+00:00", "exit_timestamp": "2025-12-02T14:00:00+00:00"},
    ]  # fmt: skip
    text = render_all(session_of(trades))["trade_journal"]
    shown = figures(text)
    by_exit = sorted(trades, key=lambda t: t["exit_timestamp"])
    pnls = [dec(t["profit_loss"]) for t in by_exit]
    assert shown["max drawdown"] == money(drawdown_of(pnls)) == "110.00"
    assert money(drawdown_of([dec(t["profit_loss"]) for t in trades])) == "90.00"  # entry order
    signs = "".join("W" if p > 0 else "L" for p in pnls)
    longest = {c: max(len(run) for run in signs.split("LW".replace(c, ""))) for c in "WL"}
    assert shown["longest win / loss streak"] == f"{longest['W']} / {longest['L']}" == "2 / 2"
    expectancy = sum(pnls, Decimal(0)) / len(pnls)
    assert shown["expectancy"] == money(expectancy, sign=True) == "+2.50"
    holds = [minutes_between(t["timestamp"], t["exit_timestamp"]) for t in trades]
    average = sum(holds) // len(holds)
    assert shown["average hold"] == f"{average // 60} h {average % 60} min" == "2 h 52 min"
    assert shown["long / short"] == "3 / 1"
    risk = next(t for t in tables(text) if t[0] == ["#", "symbol", "risk", "R"])[1:]
    r_values = {
        t["symbol"]: dec(t["profit_loss"])
        / (abs(dec(t["price"]) - dec(t["stop_price"])) * t["quantity"])
        for t in trades
        if "stop_price" in t
    }
    assert risk == [
        ["1", "A", "50.00", f"{r_values['A']:.2f}"],
        ["2", "B", "50.00", f"{r_values['B']:.2f}"],
    ]
    assert shown["average R"] == f"{sum(r_values.values()) / len(r_values):.2f}" == "0.50"
    assert "The drawdown of 110.00 came from B sell #2 (-50.00), D buy #4 (-60.00)." in text


def test_charts_are_shown_by_url_and_local_paths_never() -> None:
    data = json.loads((EXAMPLES / "trade_session.json").read_text())
    data["charts"] = [
        "https://example.com/c/aapl day.png",
        {"url": "https://example.com/board", "caption": "Board [live]"},
        "/home/kay/charts/secret.png",
        {"path": "C:\\Users\\kay\\chart.png", "caption": "local"},
        "javascript:alert(1)",
    ]
    for kind in ("trade_journal", "blog_post"):
        text = render_all(data)[kind]
        charts = section(text, "Charts")
        assert "![chart](https://example.com/c/aapl%20day.png)" in charts
        assert "[Board \\[live\\]](https://example.com/board)" in charts
        assert "secret" not in text and "kay\\" not in text and "javascript" not in text
        assert "local" not in charts


MONEY_TOKEN = re.compile(r"(?<![\w.])[+-]?\d[\d,]*(?:\.\d\d(?!%)|(?:\.\d)?%)")


def prose_and_cells(text: str) -> tuple[list[str], set[str]]:
    lines = body(text).splitlines()
    prose = [tok for line in lines if not line.startswith("|") for tok in MONEY_TOKEN.findall(line)]
    cells = {
        tok for t in tables(text) for row in t for cell in row for tok in MONEY_TOKEN.findall(cell)
    }
    return prose, cells


def test_prose_spells_every_figure_as_the_table_does() -> None:
    tiny = [{"symbol": "X", "action": "buy", "quantity": 1, "price": 1, "profit_loss": -0.001,
             "fees": 0.004, "timestamp": "2025-12-02T09:00:00Z"}]  # fmt: skip
    for kind in ("trade_journal", "blog_post"):
        text = render_all(session_of(tiny))[kind]
        prose, cells = prose_and_cells(text)
        assert prose and set(prose) <= cells, (kind, prose, cells)
        assert "-0.00" not in text
    # the post tells the key figures in sentences, each spelled as in its table
    post = render_all(json.loads((EXAMPLES / "trade_session.json").read_text()))["blog_post"]
    prose, _ = prose_and_cells(post)
    shown = figures(post)
    for name in ("total P&L", "net P&L", "fees", "expectancy", "max drawdown", "win rate"):
        assert shown[name] in prose, name
