"""Charts as facts: the geometry of the SVG charts, computed here, laid out by templates.

A chart is data (coordinates rounded to a tenth of a pixel, labels already formatted with
`figures`), so that its template only writes elements and the SVG renders again byte for
byte from the facts, whatever the machine's fonts or a plotting library's version. Two
charts: a build session's commit activity (commits, and lines when the commits give them,
per hour, day, week, month or year) and a trade session's equity curve (cumulative
realised P&L net of fees, in exit order when every trade gives its exit time, one panel
per currency). Pure: no I/O, no clock.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal, localcontext
from typing import Any, Final, Literal, TypedDict

from ..figures import money, signed_money
from ..session.models import in_utc
from ..storage.layout import artifact_file

__all__ = [
    "ACTIVITY_FILE",
    "EQUITY_FILE",
    "WIDTH",
    "Dated",
    "Step",
    "Order",
    "ORDER_WORDS",
    "Series",
    "coord",
    "nice_ticks",
    "activity_chart",
    "equity_chart",
]

ACTIVITY_FILE: Final = artifact_file("activity_chart")
EQUITY_FILE: Final = artifact_file("equity_curve")
WIDTH: Final = 800
RIGHT: Final = 24
HEAD: Final = 84  # the title and subtitle above the first panel
PANEL: Final = 160  # the height of one plot area
GAP: Final = 64  # between panels: the axis labels of one and the heading of the next
FOOT: Final = 48  # below the last panel: its x labels and the axis title
MAX_X_LABELS: Final = 8
MAX_POINTS: Final = 400  # a curve with more points draws each run's extremes only
TITLE_CHARS: Final = 80  # what fits the width in bold 16 px sans-serif
_TENTH = Decimal("0.1")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


_PRECISE = Context(prec=60)
"""The arithmetic of the charts' geometry: exact for any coordinate a chart computes."""


def coord(value: Decimal | float | int) -> int | Decimal:
    """A coordinate rounded to a tenth, as a number that reads back from JSON as it is
    written: an int when whole (never `-0`), else a Decimal with one decimal digit."""
    tenth = Decimal(str(value)).quantize(_TENTH, context=_PRECISE)
    if tenth == tenth.to_integral_value():
        return int(tenth)
    return tenth


def _scale(value: Decimal, lo: Decimal, hi: Decimal, top: float, bottom: float) -> int | Decimal:
    """y of a value on an axis from lo (at bottom) to hi (at top)."""
    with localcontext() as ctx:
        ctx.prec = 60
        share = (value - lo) / (hi - lo)
        return coord(Decimal(str(bottom)) - share * Decimal(str(bottom - top)))


def nice_ticks(
    lo: Decimal, hi: Decimal, target: int = 4, least: Decimal | None = None
) -> list[Decimal]:
    """Round tick values (1, 2 or 5 times a power of ten apart) covering lo..hi, at most
    `target` + 2 of them; a range of nothing is widened to one unit around it. `least`:
    the smallest step worth a label (1 for counts, 0.01 for money shown with two decimals)."""
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        unit = Decimal(1).scaleb(hi.adjusted()) if hi else Decimal(1)
        lo, hi = lo - unit, hi + unit
    with localcontext() as ctx:
        ctx.prec = 60
        raw = (hi - lo) / target
        power = Decimal(1).scaleb(raw.adjusted())
        step = next(power * m for m in (1, 2, 5, 10) if power * m >= raw)
        if least is not None:
            step = max(step, least)
        first = (lo / step).to_integral_value(rounding=ROUND_FLOOR)
        last = (hi / step).to_integral_value(rounding=ROUND_CEILING)
        count = int(last - first)
        return [((first + i) * step).normalize() + 0 for i in range(count + 1)]


# ---- commit activity ----------------------------------------------------------------


class Dated(TypedDict):
    """A commit with a readable time: when (UTC), and its line counts when given."""

    at: datetime
    added: int | None
    removed: int | None


_UNITS: Final = ("hour", "day", "week", "month", "year")
_LIMITS: Final = {"hour": 48, "day": 92, "week": 104, "month": 120}


def _bucket(at: datetime, unit: str) -> int:
    """The number of the hour, day, week (from Monday), month or year a moment falls in."""
    day = at.date().toordinal()
    if unit == "hour":
        return day * 24 + at.hour
    if unit == "day":
        return day
    if unit == "week":
        return (day - 1) // 7  # day 1, 0001-01-01, is a Monday
    if unit == "month":
        return at.year * 12 + at.month - 1
    return at.year


def _bucket_start(number: int, unit: str) -> date:
    if unit == "hour":
        return date.fromordinal(number // 24)
    if unit == "day":
        return date.fromordinal(number)
    if unit == "week":
        return date.fromordinal(number * 7 + 1)
    if unit == "month":
        return date(number // 12, number % 12 + 1, 1)
    return date(number, 1, 1)


def _bucket_label(number: int, unit: str) -> str:
    start = _bucket_start(number, unit)
    if unit == "hour":
        return f"{number % 24:02d}:00"
    if unit in ("day", "week"):
        return f"{_MONTHS[start.month - 1]} {start.day}"
    if unit == "month":
        return f"{_MONTHS[start.month - 1]} {start.year:04d}"
    return f"{start.year:04d}"


def _bucket_name(number: int, unit: str) -> str:
    """The bucket as a tooltip names it: `2025-12-04 15:00 UTC`, `week of 2025-12-01`."""
    start = _bucket_start(number, unit)
    if unit == "hour":
        return f"{start.isoformat()} {number % 24:02d}:00 UTC"
    if unit == "day":
        return start.isoformat()
    if unit == "week":
        return f"week of {start.isoformat()}"
    if unit == "month":
        return f"{start.year:04d}-{start.month:02d}"
    return f"{start.year:04d}"


def _unit(first: datetime, last: datetime) -> str:
    """The finest unit that shows the span in a readable number of bars."""
    for unit in _UNITS[:-1]:
        if _bucket(last, unit) - _bucket(first, unit) < _LIMITS[unit]:
            return unit
    return "year"


def _fit(text: str, limit: int = TITLE_CHARS) -> str:
    """Text shown in the picture, cut to about `limit` narrow characters (a wide one, CJK
    or emoji, counts two) with `…`, so that it stays inside the chart; the `<title>`
    keeps it whole."""
    used = 0
    for i, ch in enumerate(text):
        used += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        if used > limit - 1 and i < len(text) - 1:
            return text[:i].rstrip() + "…"
    return text


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _x_labels(
    numbers: range, unit: str, left: float, slot: float, y: float
) -> list[dict[str, Any]]:
    """At most MAX_X_LABELS labels under the bars, evenly spaced, the first one included."""
    every = max(1, math.ceil(len(numbers) / MAX_X_LABELS))
    return [
        {"x": coord(left + slot * (i + 0.5)), "y": coord(y), "label": _bucket_label(n, unit)}
        for i, n in enumerate(numbers)
        if i % every == 0
    ]


def activity_chart(commits: Sequence[Dated], title: str) -> dict[str, Any] | None:
    """The commit-activity chart of a build session: commits per bucket, and below them
    lines added (up) and removed (down) when every commit gives its line counts (a partial
    count would mislead); None when no commit has a readable time."""
    if not commits:
        return None
    moments = [in_utc(c["at"]) for c in commits]
    first, last = min(moments), max(moments)
    unit = _unit(first, last)
    numbers = range(_bucket(first, unit), _bucket(last, unit) + 1)
    counts = dict.fromkeys(numbers, 0)
    added = dict.fromkeys(numbers, 0)
    removed = dict.fromkeys(numbers, 0)
    with_lines = all(c["added"] is not None or c["removed"] is not None for c in commits)
    for c, at in zip(commits, moments, strict=True):
        n = _bucket(at, unit)
        counts[n] += 1
        added[n] += c["added"] or 0
        removed[n] += c["removed"] or 0

    widest = max(len(str(max(added.values()))), len(str(max(removed.values()))), 3) + 1
    left = float(min(max(16 + 7 * widest, 56), 260))
    plot = WIDTH - left - RIGHT
    slot = plot / len(numbers)
    bar = max(slot * 0.7, 0.2)
    offset = (slot - bar) / 2
    panels: list[dict[str, Any]] = []

    top = float(HEAD)
    ticks = nice_ticks(Decimal(0), Decimal(max(counts.values())), least=Decimal(1))
    hi = ticks[-1]
    bottom = top + PANEL
    bars = []
    for i, n in enumerate(numbers):
        if not counts[n]:
            continue
        y = _scale(Decimal(counts[n]), Decimal(0), hi, top, bottom)
        tip = f"{_bucket_name(n, unit)}: {_count(counts[n], 'commit')}"
        if with_lines:
            tip += f", +{added[n]}/−{removed[n]} lines"
        bars.append(
            {
                "x": coord(left + slot * i + offset),
                "y": y,
                "width": coord(bar),
                "height": coord(bottom - float(y)),
                "fill": "#2563eb",
                "tip": tip,
            }
        )
    panels.append(
        {
            "heading": f"Commits per {unit}",
            "heading_y": coord(top - 12),
            "top": coord(top),
            "bottom": coord(bottom),
            "zero": coord(bottom),
            "ticks": [
                {"y": _scale(t, Decimal(0), hi, top, bottom), "label": str(int(t))} for t in ticks
            ],
            "bars": bars,
        }
    )

    if with_lines:
        top = bottom + GAP
        bottom = top + PANEL
        up = max(added.values())
        down = max(removed.values())
        lo_value, hi_value = Decimal(-down), Decimal(up)
        if up == down == 0:
            hi_value = Decimal(1)
        zero = _scale(Decimal(0), lo_value, hi_value, top, bottom)
        bars = []
        for i, n in enumerate(numbers):
            for amount, sign, fill, word in (
                (added[n], 1, "#16a34a", "added"),
                (removed[n], -1, "#dc2626", "removed"),
            ):
                if not amount:
                    continue
                end = _scale(Decimal(sign * amount), lo_value, hi_value, top, bottom)
                y0, y1 = (end, zero) if sign > 0 else (zero, end)
                bars.append(
                    {
                        "x": coord(left + slot * i + offset),
                        "y": y0,
                        "width": coord(bar),
                        "height": coord(float(y1) - float(y0)),
                        "fill": fill,
                        "tip": f"{_bucket_name(n, unit)}: {amount} lines {word}",
                    }
                )
        line_ticks = [(Decimal(0), "0")]
        if up:
            line_ticks.append((Decimal(up), f"+{up}"))
        if down:
            line_ticks.append((Decimal(-down), f"−{down}"))
        panels.append(
            {
                "heading": f"Lines added (up) and removed (down) per {unit}",
                "heading_y": coord(top - 12),
                "top": coord(top),
                "bottom": coord(bottom),
                "zero": zero,
                "ticks": [
                    {"y": _scale(v, lo_value, hi_value, top, bottom), "label": label}
                    for v, label in line_ticks
                ],
                "bars": bars,
            }
        )

    height = bottom + FOOT
    span = first.date().isoformat()
    if last.date() != first.date():
        span += f" to {last.date().isoformat()}"
    total = _count(len(commits), "commit")
    if with_lines:
        total += f", +{sum(added.values())}/−{sum(removed.values())} lines"
    return {
        "file": ACTIVITY_FILE,
        "title": f"Commit activity: {title}",
        "heading": _fit(f"Commit activity: {title}"),
        "subtitle": f"{total}, per {unit}, {span} (UTC)",
        "description": f"Bar chart of {total} per {unit}, {span} (UTC).",
        "width": WIDTH,
        "height": coord(height),
        "left": coord(left),
        "right": coord(WIDTH - RIGHT),
        "label_x": coord(left - 6),
        "center": coord(left + plot / 2),
        "panels": panels,
        "x_labels": _x_labels(numbers, unit, left, slot, bottom + 18),
        "x_title": f"{unit} (UTC)",
        "x_title_y": coord(bottom + 38),
    }


# ---- equity curve ---------------------------------------------------------------------


class Step(TypedDict):
    """One change of a currency's realised P&L: what made it and by how much."""

    what: str
    amount: Decimal


Order = Literal["exit", "listed", "mixed"]
# How a curve's closed trades are ordered, in words: by exit when every one gives its exit
# time, in the order listed (by entry) when none does, else by exit or entry.
ORDER_WORDS: Final[dict[str, str]] = {
    "exit": "in exit order",
    "listed": "in the order listed",
    "mixed": "in order of exit (of entry where no exit time is given)",
}


class Series(TypedDict):
    """One currency's steps, ordered as `order` says; they add up to its net P&L."""

    currency: str | None
    steps: list[Step]
    closed: int
    order: Order
    net: Decimal
    net_label: str


def _amount(value: Decimal) -> str:
    """Signed money, except that nothing is `0.00`, never `+0.00`."""
    return money(value) if not value else signed_money(value)


def drawn_points(values: Sequence[Decimal]) -> list[int]:
    """The indices of the points a curve draws: all of them up to MAX_POINTS; beyond,
    in each of MAX_POINTS // 4 equal runs its first, lowest, highest and last point, so
    that every peak and trough stays on the curve while its size stays bounded (a day
    of ten thousand trades draws as one of a hundred)."""
    if len(values) <= MAX_POINTS:
        return list(range(len(values)))
    runs = MAX_POINTS // 4
    kept: set[int] = {0, len(values) - 1}
    for r in range(runs):
        lo, hi = len(values) * r // runs, len(values) * (r + 1) // runs
        run = range(lo, hi)
        kept.update(
            (lo, hi - 1, min(run, key=values.__getitem__), max(run, key=values.__getitem__))
        )
    return sorted(kept)


def equity_chart(series: Sequence[Series], title: str) -> dict[str, Any] | None:
    """The equity curve of a trade session: one panel per currency (amounts in different
    currencies never share an axis), each the running P&L from 0 through every step, a
    zero line, its y axis labelled with `signed_money`; None when no currency has a step."""
    shown = [s for s in series if s["steps"]]
    if not shown:
        return None
    panels: list[dict[str, Any]] = []
    labels_by_panel = []
    for s in shown:
        values = [Decimal(0)]
        for step in s["steps"]:
            values.append(values[-1] + step["amount"])
        ticks = nice_ticks(
            min(min(values), Decimal(0)), max(max(values), Decimal(0)), least=Decimal("0.01")
        )
        labels_by_panel.append((s, values, ticks, [_amount(t) for t in ticks]))
    longest = max(len(label) for *_, labels in labels_by_panel for label in labels)
    left = float(min(max(16 + 7 * longest, 64), 260))
    plot = WIDTH - left - RIGHT - 8
    top = float(HEAD)
    for s, values, ticks, labels in labels_by_panel:
        bottom = top + PANEL
        lo, hi = ticks[0], ticks[-1]
        steps = len(values) - 1
        xs = [left + plot * i / steps for i in range(len(values))]
        ys = [_scale(v, lo, hi, top, bottom) for v in values]
        running = [_amount(v) for v in values]
        kept = drawn_points(values)
        dots = [
            {
                "x": coord(xs[i]),
                "y": ys[i],
                "tip": f"{s['steps'][i - 1]['what']}: {_amount(s['steps'][i - 1]['amount'])}, "
                f"running {running[i]}",
            }
            for i in kept
            if i > 0
        ]
        every = max(1, math.ceil(steps / 10))
        shown_x = [i for i in range(0, steps + 1, every)]
        if shown_x[-1] != steps:  # the last step is always labelled
            if steps - shown_x[-1] < every / 2:
                shown_x.pop()  # its neighbour would touch it
            shown_x.append(steps)
        x_ticks = [{"x": coord(xs[i]), "label": str(i)} for i in shown_x]
        net = f"{s['net_label']} {_amount(s['net'])} over {_count(s['closed'], 'closed trade')}"
        named = s["currency"] or ("unstated currency" if len(shown) > 1 else None)
        panels.append(
            {
                "heading": f"{named}: {net}" if named else net[0].upper() + net[1:],
                "heading_y": coord(top - 12),
                "top": coord(top),
                "bottom": coord(bottom),
                "zero": _scale(Decimal(0), lo, hi, top, bottom),
                "ticks": [
                    {"y": _scale(t, lo, hi, top, bottom), "label": label}
                    for t, label in zip(ticks, labels, strict=True)
                ],
                "points": [{"x": coord(xs[i]), "y": ys[i]} for i in kept],
                "dots": dots,
                "last": {
                    "x": coord(xs[-1]),
                    "y": ys[-1],
                    "label": f"{running[-1]} {s['currency'] or ''}".strip(),
                },
                "x_ticks": x_ticks,
                "x_labels_y": coord(bottom + 18),
                "x_title_y": coord(bottom + 38),
                "x_title": f"closed trades {ORDER_WORDS[s['order']]}"
                + (", then fees on open positions" if steps > s["closed"] else ""),
            }
        )
        top = bottom + GAP + 8
    height = top - GAP - 8 + FOOT
    currencies = ", ".join(s["currency"] or "unstated currency" for s in shown)
    orders = {s["order"] for s in shown}
    order = ORDER_WORDS[orders.pop() if len(orders) == 1 else "mixed"]
    what = f"the cumulative realised P&L {order}"
    if len(shown) > 1:
        subtitle, description = f"({currencies})", f"{what}, one panel per currency: {currencies}"
    elif shown[0]["currency"]:
        subtitle, description = f"({currencies})", f"{what}, in {currencies}"
    else:
        subtitle, description = "", what
    return {
        "file": EQUITY_FILE,
        "title": f"Equity curve: {title}",
        "heading": _fit(f"Equity curve: {title}"),
        "subtitle": f"Cumulative realised P&L {order} {subtitle}".strip(),
        "description": f"Line chart of {description}.",
        "width": WIDTH,
        "height": coord(height),
        "left": coord(left),
        "right": coord(left + plot),
        "label_x": coord(left - 6),
        "center": coord(left + plot / 2),
        "panels": panels,
    }
