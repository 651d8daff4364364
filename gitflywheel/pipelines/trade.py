"""The trade pipeline, T1 to T7: normalise, summarise, lessons, journal, posts, equity curve."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, TypedDict

from ..figures import money, rate, signed_money
from ..session.artifacts import ArtifactSpec
from ..session.facts import Address, Names
from ..session.models import Trade, TradeSession, in_utc
from ..session.public_text import implausible_duration, scrub, scrub_all
from .charts import Order, Series, Step, equity_chart
from .common import NO_ADDRESS, NO_NAMES, duration_text, identity, lesson_list, slug, utc_text, when
from .drafts import draft_reasons, is_placeholder_title
from .front import front_matter, headline, post_slug, summary_line
from .social import fence, hashtags, opening, threads

__all__ = [
    "NormalTrade",
    "SymbolSummary",
    "CurrencySummary",
    "Summary",
    "Review",
    "normalise",
    "summarise",
    "lessons",
    "market",
    "title",
    "social",
    "equity_series",
    "run",
]

PIPELINE: Final = "trade"
# Raised whenever the facts this pipeline derives change for some record, or what else
# verify derives with them (5: screenshots stored under their format's extension, the
# drawdown measured on the equity curve's net steps, win rates without spurious decimals);
# stores keep the version beside the facts, and tests/pipelines/test_golden.py fails on a change
# without it.
VERSION: Final = 7
ZERO = Decimal(0)


class NormalTrade(TypedDict):
    """T1: one trade, decimals only, symbol upper-case, with its P&L when it is known.
    `closed_at` (ISO, UTC) orders closed trades by exit: the exit time, else the entry;
    `exited` says whether the trade gives its exit time."""

    index: int
    time: str
    symbol: str
    action: str
    quantity: Decimal
    price: Decimal
    exit_price: Decimal | None
    fees: Decimal | None
    pnl: Decimal | None
    currency: str | None
    closed_at: str
    exited: bool
    hold_minutes: int | None
    risk: Decimal | None
    r_multiple: Decimal | None


def _pnl(trade: Trade) -> Decimal | None:
    """Given P&L, else computed from the exit: long gains as price rises, short as it falls."""
    if trade.profit_loss is not None:
        return trade.profit_loss
    if trade.exit_price is None:
        return None
    move = trade.exit_price - trade.price
    return (move if trade.action == "buy" else -move) * trade.quantity


def _hold_minutes(trade: Trade) -> int | None:
    """Whole minutes from entry to exit; None without an exit time or when it precedes entry."""
    if trade.exit_timestamp is None:
        return None
    seconds = (trade.exit_timestamp - trade.timestamp).total_seconds()
    return int(seconds // 60) if seconds >= 0 else None


def _normal(n: int, trade: Trade, default_currency: str | None, day: str = "") -> NormalTrade:
    pnl = _pnl(trade)
    risk = None
    if trade.stop_price is not None and trade.stop_price != trade.price:
        risk = abs(trade.price - trade.stop_price) * trade.quantity
    exit_moment = trade.exit_timestamp if trade.exit_timestamp is not None else trade.timestamp
    return {
        "index": n,
        "time": _time(trade.timestamp, day),
        "symbol": trade.symbol.strip().upper(),
        "action": trade.action,
        "quantity": trade.quantity,
        "price": trade.price,
        "exit_price": trade.exit_price,
        "fees": trade.fees,
        "pnl": pnl,
        "currency": trade.currency or default_currency,
        "closed_at": in_utc(exit_moment).isoformat(),
        "exited": trade.exit_timestamp is not None,
        "hold_minutes": _hold_minutes(trade),
        "risk": risk,
        "r_multiple": pnl / risk if pnl is not None and risk is not None else None,
    }


def _time(moment: datetime, day: str) -> str:
    """A trade's time: its hour alone on `day` (the session's, which the page shows as
    its date), else its date and hour (UTC)."""
    same = utc_text(moment, "%Y-%m-%d") == day
    return utc_text(moment, "%H:%M UTC") if same else utc_text(moment)


def normalise(session: TradeSession) -> list[NormalTrade]:
    """T1: sorted by time (input order breaks ties)."""
    ordered = sorted(enumerate(session.source_data.trades), key=lambda p: (p[1].timestamp, p[0]))
    default = session.source_data.currency
    day = when(session)["date"]
    return [_normal(n, t, default, day) for n, (_, t) in enumerate(ordered, start=1)]


class SymbolSummary(TypedDict):
    """T2, per symbol: its trades, wins and P&L (None while all its trades are open)."""

    symbol: str
    trades: int
    wins: int
    pnl: Decimal | None


class CurrencySummary(TypedDict):
    """T2, per currency (None: unstated): amounts in different currencies never meet."""

    currency: str | None
    trades: int
    closed: int
    open: int
    long: int
    short: int
    total_pnl: Decimal
    wins: int
    losses: int
    break_even: int
    win_rate: Decimal | None
    win_rate_text: str | None
    best: NormalTrade | None
    worst: NormalTrade | None
    average_win: Decimal | None
    average_loss: Decimal | None
    profit_factor: Decimal | None
    expectancy: Decimal | None
    fees: Decimal | None
    net_pnl: Decimal | None
    max_drawdown: Decimal
    drawdown_steps: list[Step]
    open_exposure: Decimal | None
    open_symbols: list[str]
    win_streak: int
    loss_streak: int
    average_hold_minutes: int | None
    average_hold: str | None
    average_r: Decimal | None
    r_trades: int
    by_symbol: list[SymbolSummary]


class Summary(TypedDict):
    """T2: the figures a trader reads first, one block per currency."""

    trades: int
    closed: int
    currencies: int
    blocks: list[CurrencySummary]
    charts: list[dict[str, str]]


def _pnl_of(trade: NormalTrade) -> Decimal:
    pnl = trade["pnl"]
    assert pnl is not None
    return pnl


def _streaks(pnls: list[Decimal]) -> tuple[int, int]:
    """The longest runs of wins and of losses; a break-even trade ends both."""
    best_win = best_loss = win = loss = 0
    for p in pnls:
        win = win + 1 if p > 0 else 0
        loss = loss + 1 if p < 0 else 0
        best_win, best_loss = max(best_win, win), max(best_loss, loss)
    return best_win, best_loss


def _exit_order(trades: list[NormalTrade]) -> list[NormalTrade]:
    """The closed trades among `trades`, by exit (the entry where no exit time is given)."""
    return sorted(
        (t for t in trades if t["pnl"] is not None), key=lambda t: (t["closed_at"], t["index"])
    )


def _net_steps(trades: list[NormalTrade]) -> list[Step]:
    """The realised P&L of one currency step by step, net of fees: every closed trade's
    P&L less its fees in exit order, then the fees paid on positions still open; nothing
    without a closed trade. The equity curve draws these steps and the drawdown is
    measured on them, so that the two always agree."""
    closed = _exit_order(trades)
    if not closed:
        return []
    steps: list[Step] = [
        {"what": _trade_name(t), "amount": _pnl_of(t) - (t["fees"] or ZERO)} for t in closed
    ]
    open_fees = sum((t["fees"] or ZERO for t in trades if t["pnl"] is None), ZERO)
    if open_fees:
        steps.append({"what": "fees on open positions", "amount": -open_fees})
    return steps


def _drawdown(steps: list[Step]) -> tuple[Decimal, list[Step]]:
    """The largest fall of the running P&L from a peak, and the steps from peak to trough."""
    running, peak, drawdown = ZERO, ZERO, ZERO
    peak_at, span = 0, (0, 0)
    for n, step in enumerate(steps, start=1):
        running += step["amount"]
        if running > peak:
            peak, peak_at = running, n
        if peak - running > drawdown:
            drawdown, span = peak - running, (peak_at, n)
    return drawdown, steps[span[0] : span[1]]


def _block(currency: str | None, trades: list[NormalTrade]) -> CurrencySummary:
    """T2 for the trades of one currency: P&L over trades whose P&L is known, in exit order;
    the drawdown on the same net steps as the equity curve (see `_net_steps`)."""
    closed = _exit_order(trades)
    open_trades = [t for t in trades if t["pnl"] is None]
    pnls = [_pnl_of(t) for t in closed]
    wins = [p for p in pnls if p > 0]
    losses = [p for p in pnls if p < 0]
    total = sum(pnls, ZERO)
    gross_loss = -sum(losses, ZERO)
    drawdown, drawdown_steps = _drawdown(_net_steps(trades))
    win_streak, loss_streak = _streaks(pnls)
    fee_values = [t["fees"] for t in trades if t["fees"] is not None]
    fees = sum(fee_values, ZERO) if fee_values else None
    holds = [t["hold_minutes"] for t in closed if t["hold_minutes"] is not None]
    rs = [t["r_multiple"] for t in closed if t["r_multiple"] is not None]
    symbols: dict[str, list[NormalTrade]] = defaultdict(list)
    for t in trades:
        symbols[t["symbol"]].append(t)
    by_symbol: list[SymbolSummary] = [
        {
            "symbol": symbol,
            "trades": len(items),
            "wins": sum(1 for t in items if t["pnl"] is not None and t["pnl"] > 0),
            "pnl": (
                sum((_pnl_of(t) for t in items if t["pnl"] is not None), ZERO)
                if any(t["pnl"] is not None for t in items)
                else None
            ),
        }
        for symbol, items in sorted(symbols.items())
    ]
    by_index = sorted(closed, key=lambda t: t["index"])
    return {
        "currency": currency,
        "trades": len(trades),
        "closed": len(closed),
        "open": len(open_trades),
        "long": sum(1 for t in trades if t["action"] == "buy"),
        "short": sum(1 for t in trades if t["action"] == "sell"),
        "total_pnl": total,
        "wins": len(wins),
        "losses": len(losses),
        "break_even": len(pnls) - len(wins) - len(losses),
        "win_rate": Decimal(len(wins)) / Decimal(len(pnls)) if pnls else None,
        "win_rate_text": rate(Decimal(len(wins)) / Decimal(len(pnls))) if pnls else None,
        "best": max(by_index, key=lambda t: (_pnl_of(t), -t["index"])) if closed else None,
        "worst": min(by_index, key=lambda t: (_pnl_of(t), t["index"])) if closed else None,
        "average_win": sum(wins, ZERO) / len(wins) if wins else None,
        "average_loss": sum(losses, ZERO) / len(losses) if losses else None,
        "profit_factor": sum(wins, ZERO) / gross_loss if gross_loss else None,
        "expectancy": total / len(pnls) if pnls else None,
        "fees": fees,
        "net_pnl": total - fees if fees is not None else None,
        "max_drawdown": drawdown,
        "drawdown_steps": drawdown_steps,
        "open_exposure": (
            sum((t["quantity"] * t["price"] for t in open_trades), ZERO) if open_trades else None
        ),
        "open_symbols": sorted({t["symbol"] for t in open_trades}),
        "win_streak": win_streak,
        "loss_streak": loss_streak,
        "average_hold_minutes": sum(holds) // len(holds) if holds else None,
        "average_hold": duration_text(sum(holds) // len(holds)) if holds else None,
        "average_r": sum(rs, ZERO) / len(rs) if rs else None,
        "r_trades": len(rs),
        "by_symbol": by_symbol,
    }


def _chart(value: Any) -> dict[str, str] | None:
    """A chart to show: an http(s) URL as an image or a link; a local path is never shown."""
    url, caption = value, "chart"
    if isinstance(value, dict):
        url = value.get("url") or value.get("path")
        caption = value.get("caption") or value.get("title") or caption
    if not isinstance(url, str) or not isinstance(caption, str):
        return None
    if not re.match(r"https?://\S", url.strip(), re.IGNORECASE):
        return None
    image = bool(re.search(r"\.(png|jpe?g|gif|webp|svg)$", url.split("?")[0], re.IGNORECASE))
    return {"url": url.strip(), "caption": caption, "kind": "image" if image else "link"}


def summarise(trades: list[NormalTrade], charts: list[Any] | None = None) -> Summary:
    """T2: one block per currency (stated ones by code, then unstated)."""
    groups: dict[str | None, list[NormalTrade]] = defaultdict(list)
    for t in trades:
        groups[t["currency"]].append(t)
    order = sorted(groups, key=lambda c: (c is None, c or ""))
    blocks = [_block(c, groups[c]) for c in order] or [_block(None, [])]
    shown = [c for c in map(_chart, charts or []) if c is not None]
    return {
        "trades": len(trades),
        "closed": sum(b["closed"] for b in blocks),
        "currencies": len(groups),
        "blocks": blocks,
        "charts": shown,
    }


class Review(TypedDict):
    """T3: the session's own review, the key figures in sentences, and what the tables do
    not show (the largest contributor, what drove the drawdown, what is still open)."""

    market_analysis: str | None
    what_worked: str | None
    what_didnt_work: str | None
    lessons: list[dict[str, str]]
    next_goals: list[str]
    figures: list[str]
    facts: list[str]


def _in(block: CurrencySummary) -> str:
    return f" ({block['currency']})" if block["currency"] else ""


def _trade_name(t: NormalTrade) -> str:
    return f"{t['symbol']} {t['action']} #{t['index']}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _figures(block: CurrencySummary, several: bool) -> list[str]:
    """The key figures of one currency block as sentences, spelled as in the table."""
    where = _in(block) if several or block["currency"] else ""
    out: list[str] = []
    if block["closed"]:
        counts = f"{block['wins']} won, {block['losses']} lost"
        if block["break_even"]:
            counts += f", {block['break_even']} break-even"
        out.append(
            f"{_plural(block['closed'], 'closed trade')}{where}: {counts} "
            f"(win rate {block['win_rate_text']}), P&L {signed_money(block['total_pnl'])}."
        )
        if block["fees"] is not None and block["net_pnl"] is not None and block["fees"] > 0:
            out.append(
                f"Fees of {money(block['fees'])} leave {signed_money(block['net_pnl'])} net."
            )
        if block["expectancy"] is not None:
            out.append(f"Expectancy {signed_money(block['expectancy'])} per closed trade.")
    if block["open_exposure"] is not None:
        out.append(
            f"{_plural(block['open'], 'position')} still open{where} "
            f"({', '.join(block['open_symbols'])}): "
            f"{money(block['open_exposure'])} at entry prices."
        )
    return out


def _notes(block: CurrencySummary, several: bool) -> list[str]:
    """What the summary table does not say for one currency block."""
    where = _in(block) if several else ""
    out: list[str] = []
    big = max(
        (t for t in (block["best"], block["worst"]) if t is not None),
        key=lambda t: abs(_pnl_of(t)),
        default=None,
    )
    if big is not None and block["closed"] > 1 and _pnl_of(big):
        # the trade furthest from zero, and what the session made without it
        rest = block["total_pnl"] - _pnl_of(big)
        others = (
            "the other closed trade made"
            if block["closed"] == 2
            else f"the other {_plural(block['closed'] - 1, 'closed trade')} made"
        )
        out.append(
            f"The largest contributor{where} was {_trade_name(big)} at "
            f"{signed_money(_pnl_of(big))}; {others} {signed_money(rest)}"
            + ("." if block["closed"] == 2 else " together.")
        )
    losers = [
        f"{s['what']} ({signed_money(s['amount'])})"
        for s in block["drawdown_steps"]
        if s["amount"] < 0
    ]
    net = ", net of fees," if block["fees"] is not None else ""
    if block["max_drawdown"] > 0 and losers:
        out.append(
            f"The drawdown of {money(block['max_drawdown'])}{where}{net} came from "
            + ", ".join(losers)
            + "."
        )
    return out


def lessons(session: TradeSession, summary: Summary) -> Review:
    """T3: the session's own review, and what T2 shows worth saying in words."""
    several = summary["currencies"] > 1
    return {
        "market_analysis": session.market_analysis,
        "what_worked": session.what_worked,
        "what_didnt_work": session.what_didnt_work,
        "lessons": lesson_list(session.lessons),
        "next_goals": list(session.next_goals) or list(session.next_steps),
        "figures": [f for b in summary["blocks"] for f in _figures(b, several)],
        "facts": [f for b in summary["blocks"] for f in _notes(b, several)],
    }


def _market_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def market(session: TradeSession) -> list[dict[str, str]]:
    """The market conditions as name/value text, sorted by name."""
    conditions = session.source_data.market_conditions or {}
    return [{"name": k, "value": _market_value(v)} for k, v in sorted(conditions.items())]


def title(session: TradeSession, symbols: Sequence[str] = ()) -> str:
    """The session's title unless it is a placeholder; else a headline from its market
    analysis, else the `symbols` it traded (`Trading AAPL, MSFT and 2 more`), else one
    made of its date (a page shows its date already: only when nothing else names it)."""
    given = session.title if not is_placeholder_title(session.title) else None
    traded = None
    if symbols:
        shown = (
            list(symbols[:3]) if len(symbols) <= 3 else [*symbols[:2], f"{len(symbols) - 2} more"]
        )
        traded = f"Trading {_and(shown)}"
    return scrub(
        given
        or headline(session.market_analysis)
        or traded
        or f"Trading session, {when(session)['human']}"
    )


def _and(items: list[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _net(block: CurrencySummary) -> Decimal:
    """A currency's P&L net of fees (its P&L when no fees are given): where its equity
    curve ends."""
    return block["net_pnl"] if block["net_pnl"] is not None else block["total_pnl"]


def _pnl_label(blocks: list[CurrencySummary]) -> str:
    return "net P&L" if any(b["fees"] is not None for b in blocks) else "P&L"


def social(
    session: TradeSession, summary: Summary, review: Review, link: str | None = None
) -> tuple[list[str], list[str]]:
    """T5: the thread (and its Mastodon form, when it differs), opening with the title
    and the P&L net of fees (each currency's, never summed), as the equity curve ends,
    then what the tables do not say (one fact per currency first), closing with the link
    to the session's page when it has one."""
    block = summary["blocks"][0]
    figures = [_plural(summary["trades"], "trade")]
    several = summary["currencies"] > 1
    facts = review["facts"][:2]
    if not several and block["closed"]:
        figures.append(f"{_pnl_label([block])} {signed_money(_net(block))}{_in(block)}")
    if not several and block["win_rate_text"] is not None:
        figures.append(f"win rate {block['win_rate_text']}")
    if several:
        closed = [b for b in summary["blocks"] if b["closed"]]
        amounts = [
            f"{signed_money(_net(b))} {b['currency']}"
            if b["currency"]
            else f"{signed_money(_net(b))} in an unstated currency"
            for b in closed
        ]
        if amounts:
            figures.append(f"{_pnl_label(closed)} {_and(amounts)}")
        firsts = [n[0] for n in (_notes(b, several) for b in closed) if n]
        facts = (firsts + [f for f in review["facts"] if f not in firsts])[:2]
    paragraphs = [opening(title(session, _symbols(summary)), figures)]
    paragraphs += facts
    if review["what_worked"]:
        paragraphs.append(f"What worked: {review['what_worked']}")
    if review["what_didnt_work"]:
        paragraphs.append(f"What didn't: {review['what_didnt_work']}")
    symbols = _symbols(summary)[:3]
    return threads(paragraphs, hashtags(symbols=symbols, generic=["TradingJournal"]), link)


def _symbols(summary: Summary) -> list[str]:
    """The symbols traded, in the order the summary ranks them, each once."""
    return list(dict.fromkeys(s["symbol"] for b in summary["blocks"] for s in b["by_symbol"]))


def _order(closed: list[NormalTrade]) -> Order:
    """How the closed trades are ordered: by exit only when every one gives its exit time;
    when none does, by entry, the order the journal lists them in."""
    if all(t["exited"] for t in closed):
        return "exit"
    if not any(t["exited"] for t in closed):
        return "listed"
    return "mixed"


def equity_series(trades: list[NormalTrade], summary: Summary) -> list[Series]:
    """Each currency's realised P&L step by step, net of fees (`_net_steps`, the steps its
    drawdown is measured on); the steps add up to the currency's net P&L (its P&L when no
    fees are given). No steps for a currency without a closed trade."""
    out: list[Series] = []
    for block in summary["blocks"]:
        mine = [t for t in trades if t["currency"] == block["currency"]]
        closed = _exit_order(mine)
        out.append(
            {
                "currency": block["currency"],
                "steps": _net_steps(mine),
                "closed": len(closed),
                "order": _order(closed),
                "net": _net(block),
                "net_label": _pnl_label([block]),
            }
        )
    return out


def run(
    session: TradeSession, names: Names = NO_NAMES, address: Address = NO_ADDRESS
) -> list[ArtifactSpec]:
    """T1 to T7 for one trade session; drafts (see `drafts.draft_reasons`) get no thread
    and no chart, nor does a session without a closed trade. The agent is named as
    `names` shows it, the post lives at `address` (see `front.post_slug`)."""
    trades = scrub_all(normalise(session))
    summary = scrub_all(summarise(trades, session.charts))
    review = scrub_all(lessons(session, summary))
    minutes = session.metadata.counter("duration_minutes")
    if implausible_duration(minutes):
        minutes = None
    headline_text = title(session, _symbols(summary))
    place = post_slug(address, headline_text, session)
    draft = draft_reasons(session)
    chart = None if draft else equity_chart(equity_series(trades, summary), headline_text)
    link = {"file": chart["file"], "alt": chart["subtitle"]} if chart else None
    tags = ["trading"] + [slug(s).lower() for s in _symbols(summary)[:5] if slug(s)]
    description = summary_line(
        review["market_analysis"],
        review["figures"][0] if review["figures"] else None,
        headline_text,
        avoid=(headline_text, review["market_analysis"]),
    )

    def front(kind: str) -> dict[str, Any]:
        return front_matter(
            session,
            kind,
            title=headline_text,
            description=description,
            tags=tags,
            draft=draft,
            slug=place,
            image=link["file"] if link else None,
            author=names.agent_name(session.agent_id),
        )

    context = {
        **identity(session, names, title=headline_text, duration=duration_text(minutes)),
        "front": front("trade_journal"),
        "draft_reasons": draft,
        "trades": trades,
        "summary": summary,
        "review": review,
        "market": scrub_all(market(session)),
        "chart": link,
    }
    posts, mastodon = (
        ([], []) if draft else social(session, summary, review, address.with_slug(place).url)
    )
    specs = [
        ArtifactSpec("trade_journal", PIPELINE, "T4", "trade_journal.md.j2", context),
        ArtifactSpec(
            "blog_post",
            PIPELINE,
            "T6",
            "trade_post.md.j2",
            {**context, "front": front("blog_post"), "title": headline_text},
        ),
        ArtifactSpec(
            "social_post",
            PIPELINE,
            "T5",
            "social_post.md.j2",
            {
                **identity(session, names),
                "front": front("social_post"),
                "draft_reasons": draft,
                "posts": posts,
                "fence": fence(posts + mastodon),
                "mastodon": mastodon,
            },
        ),
    ]
    if chart is not None:
        specs.append(
            ArtifactSpec(
                "equity_curve",
                PIPELINE,
                "T7",
                "equity_curve.svg.j2",
                {**identity(session, names, title=headline_text), "chart": chart},
            )
        )
    return specs
