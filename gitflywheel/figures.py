"""How a figure is spelled: money, signed money, percentages, ratios and quantities.

One set of formatters for tables and sentences alike, exact over every Decimal a session
can hold (huge, tiny, many digits): they format, they never raise on a number. Rounding
is half-to-even to two decimals, done by `format`, which needs no context precision;
an amount that rounds to zero never shows a minus sign.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

__all__ = ["money", "signed_money", "percent", "rate", "fixed2", "quantity"]

# Beyond this many digits before the point a figure is written in scientific notation,
# so that no formatter output grows without bound (sessions stay far below it).
_FIXED_DIGITS = 1000


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _unsigned_zero(text: str) -> str:
    """`-0.00` -> `0.00`: a sign on an amount that rounds to nothing says something false."""
    if text.startswith("-") and not any(ch in "123456789" for ch in text):
        return text[1:]
    return text


def _two_decimals(amount: Decimal, spec: str) -> str:
    if not amount.is_finite():
        return str(amount)
    if amount and amount.adjusted() >= _FIXED_DIGITS:
        return format(amount, ".2E")
    return _unsigned_zero(format(amount, spec))


def money(value: Any) -> str:
    """Two decimals, exact, grouped: 175.5 -> 175.50, -1234.5 -> -1,234.50; never -0.00."""
    return _two_decimals(_decimal(value), ",.2f")


def signed_money(value: Any) -> str:
    """Money with its sign always shown: +25.00, -10.50."""
    text = money(value)
    return text if text.startswith(("-", "+")) or text[:1].isalpha() else f"+{text}"


def percent(value: Any) -> str:
    """A rate (0..1) as a percentage with two decimals: 0.6667 -> 66.67%."""
    amount = _decimal(value)
    if amount.is_finite():
        sign, digits, exponent = amount.as_tuple()
        assert isinstance(exponent, int)
        amount = Decimal((sign, digits, exponent + 2))  # times 100, exactly
    return _two_decimals(amount, ".2f") + "%"


def rate(value: Any) -> str:
    """A rate (0..1) as a percentage without spurious decimals: whole when whole, else
    at most one decimal (half-to-even): 0.5 -> 50%, 0.6667 -> 66.7%, 0.125 -> 12.5%.
    (`percent`, the template filter of a released filter set, keeps its two decimals.)"""
    amount = _decimal(value)
    if not amount.is_finite():
        return f"{amount}%"
    sign, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)
    amount = Decimal((sign, digits, exponent + 2))  # times 100, exactly
    text = _two_decimals(amount, ".1f")
    if text.endswith(".0"):
        text = text[:-2]
    return ("0" if text == "-0" else text) + "%"


def fixed2(value: Any) -> str:
    """Two decimals, no grouping: a ratio such as a profit factor."""
    return _two_decimals(_decimal(value), ".2f")


def quantity(value: Any) -> str:
    """A quantity as given, without trailing zeros: 10 -> 10, 0.50 -> 0.5, 1E+2 -> 100."""
    amount = _decimal(value)
    if not amount.is_finite() or (amount and abs(amount.adjusted()) >= _FIXED_DIGITS):
        return str(amount)
    text = format(amount, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
