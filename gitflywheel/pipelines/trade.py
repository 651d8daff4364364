"""The trade pipeline, T1 to T5: normalise, summarise, lessons, journal, social post."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from typing import Any, Final, TypedDict

from ..artifacts import ArtifactSpec
from ..figures import fixed2, money, percent, signed_money
from ..models import Trade, TradeSession
from .common import duration_text, identity, lesson_list, slug, utc_text, when
from .drafts import draft_reasons, is_placeholder_title
from .front import front_matter, headline, summary_line
from .public import implausible_duration, scrub, scrub_all
from .social import hashtags, opening, thread

__all__ = [
    "NormalTrade",
    "SymbolSummary",
    "Summary",
    "Review",
    "normalise",
    "summarise",
    "lessons",
    "market",
    "title",
    "social",
    "run",
]

PIPELINE: Final = "trade"
# Raised whenever the facts this pipeline derives change for some record; stores keep
# the version beside the facts, and tests/test_golden.py fails on a change without it.
VERSION: Final = 2
ZERO = Decimal(0)


class NormalTrade(TypedDict):
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
        {
            "index": n,
            "time": utc_text(t.timestamp),
            "symbol": t.symbol.strip().upper(),
            "action": t.action,
            "quantity": t.quantity,
            "price": t.price,
            "exit_price": t.exit_price,
            "fees": t.fees,
            "pnl": _pnl(t),
        }
        for n, (_, t) in enumerate(ordered, start=1)
    ]


class SymbolSummary(TypedDict):
    """T2, per symbol: its trades, wins and P&L."""

    symbol: str
    trades: int
    wins: int
    pnl: Decimal


class Summary(TypedDict):
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
    by_symbol: list[SymbolSummary]


def _pnl_of(trade: NormalTrade) -> Decimal:
    pnl = trade["pnl"]
    assert pnl is not None
    return pnl


def summarise(trades: list[NormalTrade]) -> Summary:
    """T2: over trades whose P&L is known; fees and net only where fees are given."""
    closed = [t for t in trades if t["pnl"] is not None]
    pnls = [_pnl_of(t) for t in closed]
    wins = [p for p in pnls if p > 0]
    losses = [p for p in pnls if p < 0]
    total = sum(pnls, ZERO)
    gross_loss = -sum(losses, ZERO)
    running, peak, drawdown = ZERO, ZERO, ZERO
    for p in pnls:
        running += p
        peak = max(peak, running)
        drawdown = max(drawdown, peak - running)
    fee_values = [t["fees"] for t in trades if t["fees"] is not None]
    fees = sum(fee_values, ZERO) if fee_values else None
    symbols: dict[str, list[NormalTrade]] = defaultdict(list)
    for t in trades:
        symbols[t["symbol"]].append(t)
    by_symbol: list[SymbolSummary] = [
        {
            "symbol": symbol,
            "trades": len(items),
            "wins": sum(1 for t in items if t["pnl"] is not None and t["pnl"] > 0),
            "pnl": sum((_pnl_of(t) for t in items if t["pnl"] is not None), ZERO),
        }
        for symbol, items in sorted(symbols.items())
    ]
    return {
        "trades": len(trades),
        "closed": len(closed),
        "total_pnl": total,
        "wins": len(wins),
        "losses": len(losses),
        "win_rate": Decimal(len(wins)) / Decimal(len(pnls)) if pnls else None,
        "best": max(closed, key=lambda t: (_pnl_of(t), -t["index"])) if closed else None,
        "worst": min(closed, key=lambda t: (_pnl_of(t), t["index"])) if closed else None,
        "average_win": sum(wins, ZERO) / len(wins) if wins else None,
        "average_loss": sum(losses, ZERO) / len(losses) if losses else None,
        "profit_factor": sum(wins, ZERO) / gross_loss if gross_loss else None,
        "fees": fees,
        "net_pnl": total - fees if fees is not None else None,
        "max_drawdown": drawdown,
        "by_symbol": by_symbol,
    }


class Review(TypedDict):
    """T3: the session's own review, and the figures worth calling out."""

    market_analysis: str | None
    what_worked: str | None
    what_didnt_work: str | None
    lessons: list[dict[str, str]]
    next_goals: list[str]
    facts: list[str]


def lessons(session: TradeSession, summary: Summary) -> Review:
    """T3: the session's own review, and the facts from T2 worth calling out."""
    facts: list[str] = []
    if summary["win_rate"] is not None:
        facts.append(
            f"Won {summary['wins']} of {summary['closed']} closed trades ({percent(summary['win_rate'])})."
        )
    best, worst = summary["best"], summary["worst"]
    if best is not None and _pnl_of(best) > 0:
        facts.append(
            f"Best trade: {best['symbol']} {best['action']} at {money(best['price'])}, {signed_money(_pnl_of(best))}."
        )
    if worst is not None and _pnl_of(worst) < 0:
        facts.append(
            f"Worst trade: {worst['symbol']} {worst['action']} at {money(worst['price'])}, {signed_money(_pnl_of(worst))}."
        )
    if summary["max_drawdown"] > 0:
        facts.append(f"Largest drawdown of the running P&L: {money(summary['max_drawdown'])}.")
    if summary["profit_factor"] is not None:
        facts.append(
            f"Profit factor {fixed2(summary['profit_factor'])}: gross wins over gross losses."
        )
    fees = summary["fees"]
    if fees is not None and fees > 0 and summary["net_pnl"] is not None:
        facts.append(
            f"Fees took {money(fees)}: {signed_money(summary['total_pnl'])} gross, {signed_money(summary['net_pnl'])} net."
        )
    if summary["trades"] > summary["closed"]:
        open_count = summary["trades"] - summary["closed"]
        facts.append(
            f"{open_count} trade{'' if open_count == 1 else 's'} had no exit or P&L and "
            f"{'is' if open_count == 1 else 'are'} left out of the figures."
        )
    return {
        "market_analysis": session.market_analysis,
        "what_worked": session.what_worked,
        "what_didnt_work": session.what_didnt_work,
        "lessons": lesson_list(session.lessons),
        "next_goals": list(session.next_goals) or list(session.next_steps),
        "facts": facts,
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


def title(session: TradeSession) -> str:
    """The session's title unless it is a placeholder; else a headline from its market
    analysis, or one made of its date."""
    given = session.title if not is_placeholder_title(session.title) else None
    return scrub(
        given or headline(session.market_analysis) or f"Trading session, {when(session)['human']}"
    )


def social(session: TradeSession, summary: Summary, review: Review) -> list[str]:
    """T5: the thread, opening with the title and the P&L."""
    figures = [f"{summary['trades']} trade{'' if summary['trades'] == 1 else 's'}"]
    if summary["closed"]:
        figures.append(f"P&L {signed_money(summary['total_pnl'])}")
    if summary["win_rate"] is not None:
        figures.append(f"win rate {percent(summary['win_rate'])}")
    paragraphs = [opening(title(session), figures)]
    paragraphs += review["facts"][1:3]
    if review["what_worked"]:
        paragraphs.append(f"What worked: {review['what_worked']}")
    if review["what_didnt_work"]:
        paragraphs.append(f"What didn't: {review['what_didnt_work']}")
    symbols = [s["symbol"] for s in summary["by_symbol"][:3]]
    return thread(paragraphs, hashtags(symbols=symbols, generic=["TradingJournal"]))


def run(session: TradeSession) -> list[ArtifactSpec]:
    """T1 to T5 for one trade session; drafts (see `drafts.draft_reasons`) get no thread."""
    trades = scrub_all(normalise(session))
    summary = summarise(trades)
    review = scrub_all(lessons(session, summary))
    minutes = session.metadata.counter("duration_minutes")
    if implausible_duration(minutes):
        minutes = None
    headline_text = title(session)
    draft = draft_reasons(session)
    tags = ["trading"] + [
        slug(s["symbol"]).lower() for s in summary["by_symbol"][:5] if slug(s["symbol"])
    ]
    description = summary_line(
        review["market_analysis"], review["facts"][0] if review["facts"] else None, headline_text
    )

    def front(kind: str) -> dict[str, Any]:
        return front_matter(
            session, kind, title=headline_text, description=description, tags=tags, draft=draft
        )

    context = {
        **identity(session, title=headline_text, duration=duration_text(minutes)),
        "front": front("trade_journal"),
        "draft_reasons": draft,
        "trades": trades,
        "summary": summary,
        "review": review,
        "market": scrub_all(market(session)),
    }
    posts = [] if draft else social(session, summary, review)
    return [
        ArtifactSpec("trade_journal", PIPELINE, "T4", "trade_journal.md.j2", context),
        ArtifactSpec(
            "social_post",
            PIPELINE,
            "T5",
            "social_post.md.j2",
            {
                **identity(session),
                "front": front("social_post"),
                "draft_reasons": draft,
                "posts": posts,
            },
        ),
    ]
