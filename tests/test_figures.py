"""Figures: every Decimal a session can hold is formatted, exactly, never an exception;
a price of 1e30 goes through ingest like any other."""

from __future__ import annotations

import json
import re
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from pathlib import Path

from conftest import Cli, git
from hypothesis import given
from hypothesis import strategies as st
from pipeline_checks import EXAMPLES, tables

from gitflywheel.figures import fixed2, money, percent, quantity, signed_money
from gitflywheel.storage.layout import artifact_path

# Huge, tiny and long: every exponent the JSON reader lets through (|exponent| <= 400),
# products of two of them, and up to 60 digits.
decimals = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False),
    st.builds(
        lambda sign, digits, exponent: Decimal((sign, tuple(digits), exponent)),
        st.integers(0, 1),
        st.lists(st.integers(0, 9), min_size=1, max_size=60),
        st.integers(-900, 900),
    ),
)


def cents(value: Decimal) -> Decimal:
    """The value rounded half-to-even to two places, exactly, whatever its size."""
    with localcontext() as ctx:
        ctx.prec = max(28, value.adjusted() + 5)
        return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


@given(decimals)
def test_money_is_exact_grouped_and_total(value: Decimal) -> None:
    text = money(value)
    assert re.fullmatch(r"-?\d{1,3}(,\d{3})*\.\d{2}", text), text
    assert Decimal(text.replace(",", "")) == cents(value)
    assert not (text.startswith("-") and cents(value).is_zero())  # never -0.00
    signed = signed_money(value)
    assert signed[0] in "+-" and signed.lstrip("+") == text


@given(decimals)
def test_ratio_percent_and_quantity_are_exact_and_total(value: Decimal) -> None:
    assert Decimal(fixed2(value)) == cents(value)
    assert re.fullmatch(r"-?\d+\.\d{2}", fixed2(value))
    shown = percent(value)
    with localcontext() as ctx:
        ctx.prec = 2000
        hundredfold = value * 100
    assert shown.endswith("%") and Decimal(shown[:-1]) == cents(hundredfold)
    amount = quantity(value)
    assert Decimal(amount) == value and "E" not in amount
    assert "." not in amount or not amount.endswith("0")


def test_figures_beyond_any_session_stay_bounded() -> None:
    assert money(Decimal("1e999999")) == "1.00E+999999"
    assert money(Decimal("-1e-999999")) == "0.00"
    assert money(Decimal("NaN")) == "NaN"
    assert len(quantity(Decimal("1e999999"))) < 20


def test_a_price_of_1e30_is_ingested(cli: Cli, tmp_path: Path) -> None:
    data = json.loads((EXAMPLES / "trade_session.json").read_text())
    data["source_data"]["trades"][0]["price"] = 1e30
    data["source_data"]["trades"][0]["exit_price"] = 2e30
    data["source_data"]["trades"][0].pop("profit_loss", None)
    path = tmp_path / "big.json"
    path.write_text(json.dumps(data))
    store = tmp_path / "s.git"
    result = cli("ingest", "--repo", store, path)
    assert result.exit_code == 0, result.stderr
    journal = git("-C", store, "show", f"main:{artifact_path(data['session_id'], 'trade_journal')}")
    rows = next(t for t in tables(journal) if t[0][0] == "#")[1:]
    entry = "1,000,000,000,000,000,000,000,000,000,000.00"
    assert [r[5] for r in rows if r[5] == entry] == [entry]
