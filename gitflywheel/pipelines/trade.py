"""The trade pipeline, T1 to T5: normalise, summarise, lessons, journal, social post."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from ..artifacts import ArtifactSpec
from ..models import Trade, TradeSession
from .common import duration_text, identity, short_id, slug, when
from .social import hashtags, thread

__all__ = ["NormalTrade", "Summary", "normalise", "summarise", "lessons", "run"]

PIPELINE: Final = "trade"
ZERO = Decimal(0)


@dataclass(frozen=True)
class NormalTrade:
    """T1: one trade, decimals only, symbol upper-case, with its P&L when it is known."""

    index: int
    time: str
    symbol: str
    action: str
    quantity: Decimal
    price: Decimal
    exit_price: Decimal | None
    fees: Decimal | None
    pnl: Decimal | None


def _pnl(trade: Trade) -> Decimal | None:
    """Given P&L, else computed from the exit: long gains as price rises, short as it falls."""
    if trade.profit_loss is not None:
        return trade.profit_loss
    if trade.exit_price is None:
        return None
    move = trade.exit_price - trade.price
    return (move if trade.action == "buy" else -move) * trade.quantity


def normalise(session: TradeSession) -> list[NormalTrade]:
    """T1: sorted by time (input order breaks ties)."""
    ordered = sorted(enumerate(session.source_data.trades), key=lambda p: (p[1].timestamp, p[0]))
    return [
        NormalTrade(
            index=n,
            time=t.timestamp.strftime("%Y-%m-%d %H:%M UTC"),
            symbol=t.symbol.strip().upper(),
            action=t.action,
            quantity=t.quantity,
            price=t.price,
            exit_price=t.exit_price,
            fees=t.fees,
            pnl=_pnl(t),
        )
        for n, (_, t) in enumerate(ordered, start=1)
    ]


@dataclass(frozen=True)
class Summary:
    """T2: the figures a trader reads first."""

    trades: int
    closed: int
    total_pnl: Decimal
    wins: int
    losses: int
    win_rate: Decimal | None
    best: NormalTrade | None
    worst: NormalTrade | None
    average_win: Decimal | None
    average_loss: Decimal | None
    profit_factor: Decimal | None
    fees: Decimal | None
    net_pnl: Decimal | None
    max_drawdown: Decimal
    by_symbol: list[dict[str, Any]]


def summarise(trades: list[NormalTrade]) -> Summary:
    """T2: over trades whose P&L is known; fees and net only where fees are given."""
    closed = [t for t in trades if t.pnl is not None]
    pnls = [t.pnl for t in closed if t.pnl is not None]
    wins = [p for p in pnls if p > 0]
    losses = [p for p in pnls if p < 0]
    total = sum(pnls, ZERO)
    gross_loss = -sum(losses, ZERO)
    running, peak, drawdown = ZERO, ZERO, ZERO
    for p in pnls:
        running += p
        peak = max(peak, running)
        drawdown = max(drawdown, peak - running)
    fee_values = [t.fees for t in trades if t.fees is not None]
    fees = sum(fee_values, ZERO) if fee_values else None
    symbols: dict[str, list[NormalTrade]] = defaultdict(list)
    for t in trades:
        symbols[t.symbol].append(t)
    by_symbol = [
        {
            "symbol": symbol,
            "trades": len(items),
            "pnl": sum((t.pnl for t in items if t.pnl is not None), ZERO),
            "wins": sum(1 for t in items if t.pnl is not None and t.pnl > 0),
        }
        for symbol, items in sorted(symbols.items())
    ]
    return Summary(
        trades=len(trades),
        closed=len(closed),
        total_pnl=total,
        wins=len(wins),
        losses=len(losses),
        win_rate=Decimal(len(wins)) / Decimal(len(pnls)) if pnls else None,
        best=max(closed, key=lambda t: (t.pnl, -t.index)) if closed else None,
        worst=min(closed, key=lambda t: (t.pnl, t.index)) if closed else None,
        average_win=sum(wins, ZERO) / len(wins) if wins else None,
        average_loss=sum(losses, ZERO) / len(losses) if losses else None,
        profit_factor=sum(wins, ZERO) / gross_loss if gross_loss else None,
        fees=fees,
        net_pnl=total - fees if fees is not None else None,
        max_drawdown=drawdown,
        by_symbol=by_symbol,
    )


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):,.2f}"


def lessons(session: TradeSession, summary: Summary) -> dict[str, Any]:
    """T3: the session's own review, and the facts from T2 worth calling out."""
    facts: list[str] = []
    if summary.win_rate is not None:
        pct = (summary.win_rate * 100).quantize(Decimal("0.01"))
        facts.append(f"Won {summary.wins} of {summary.closed} closed trades ({pct}%).")
    if summary.best is not None and summary.best.pnl is not None and summary.best.pnl > 0:
        facts.append(
            f"Best trade: {summary.best.symbol} {summary.best.action} at {_money(summary.best.price)}, +{_money(summary.best.pnl)}."
        )
    if summary.worst is not None and summary.worst.pnl is not None and summary.worst.pnl < 0:
        facts.append(
            f"Worst trade: {summary.worst.symbol} {summary.worst.action} at {_money(summary.worst.price)}, {_money(summary.worst.pnl)}."
        )
    if summary.max_drawdown > 0:
        facts.append(f"Largest drawdown of the running P&L: {_money(summary.max_drawdown)}.")
    if summary.profit_factor is not None:
        facts.append(
            f"Profit factor {summary.profit_factor.quantize(Decimal('0.01'))}: gross wins over gross losses."
        )
    if summary.fees is not None and summary.total_pnl and summary.fees > 0:
        facts.append(f"Fees took {_money(summary.fees)} of {_money(summary.total_pnl)} gross P&L.")
    if summary.trades > summary.closed:
        facts.append(
            f"{summary.trades - summary.closed} trade(s) had no exit or P&L and are left out of the figures."
        )
    return {
        "market_analysis": session.market_analysis,
        "what_worked": session.what_worked,
        "what_didnt_work": session.what_didnt_work,
        "lessons": [
            {"title": lesson.title, "description": lesson.description} for lesson in session.lessons
        ],
        "next_goals": list(session.next_goals) or list(session.next_steps),
        "facts": facts,
    }


def _social(
    session: TradeSession, summary: Summary, review: dict[str, Any], moment: dict[str, str]
) -> list[str]:
    sign = "+" if summary.total_pnl >= 0 else ""
    head = (
        f"{session.title or 'Trading session'} ({moment['date']} {moment['time']} UTC, session {short_id(session)}): "
        f"{summary.trades} trades, P&L {sign}{_money(summary.total_pnl)}"
    )
    if summary.win_rate is not None:
        head += f", win rate {(summary.win_rate * 100).quantize(Decimal('0.01'))}%"
    paragraphs = [head + "."]
    paragraphs += review["facts"][1:3]
    if review["what_worked"]:
        paragraphs.append(f"What worked: {review['what_worked']}")
    if review["what_didnt_work"]:
        paragraphs.append(f"What didn't: {review['what_didnt_work']}")
    symbols = [slug(s["symbol"]) for s in summary.by_symbol[:3]]
    return thread(paragraphs, hashtags("TradingJournal", *symbols))


def run(session: TradeSession) -> list[ArtifactSpec]:
    """T1 to T5 for one trade session."""
    trades = normalise(session)
    summary = summarise(trades)
    review = lessons(session, summary)
    moment = when(session)
    context = {
        **identity(
            session,
            title=session.title or f"Trading session, {moment['human']}",
            duration=duration_text(session.metadata.counter("duration_minutes")),
        ),
        "trades": trades,
        "summary": summary,
        "review": review,
        "market": dict(session.source_data.market_conditions or {}),
    }
    return [
        ArtifactSpec("trade_journal", PIPELINE, "T4", "trade_journal.md.j2", context),
        ArtifactSpec(
            "social_post",
            PIPELINE,
            "T5",
            "social_post.md.j2",
            {"posts": _social(session, summary, review, moment)},
        ),
    ]
