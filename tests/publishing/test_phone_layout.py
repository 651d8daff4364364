"""On a phone (390 CSS px wide) the site's pages stay readable (20): table cells keep
their text on one line and the tables scroll sideways inside their own box, the page
itself never does, and chart text stays at least 10 px high."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from browser import Browser
from conftest import EXAMPLES
from lxml import etree

from gitflywheel import ingest, site

PHONE = 390
SMALLEST_TEXT = 10.0  # CSS px

# What a reader of a phone would measure: how many lines each cell's text takes, which
# boxes are wider than they show and whether they scroll, where each chart lands.
MEASURE = """
(() => {
  const lines = (node) => {
    const range = document.createRange();
    range.selectNodeContents(node);
    const tops = new Set(
      Array.from(range.getClientRects()).filter((r) => r.width > 0).map((r) => Math.round(r.top))
    );
    return tops.size;
  };
  const cells = Array.from(document.querySelectorAll('table td, table th'))
    .filter((cell) => cell.textContent.trim())
    .map((cell) => ({ text: cell.textContent.trim(), lines: lines(cell) }));
  const tables = Array.from(document.querySelectorAll('table')).map((table) => {
    let box = table;  // the nearest box that scrolls sideways, the table's own or a wrapper
    while (box && !['auto', 'scroll'].includes(getComputedStyle(box).overflowX)) {
      box = box.parentElement;
    }
    const shown = (box || table).getBoundingClientRect();
    return {
      wider: table.scrollWidth > table.clientWidth,
      scrolls: box !== null && box !== document.documentElement && box !== document.body,
      left: shown.left,
      right: shown.right,
    };
  });
  const charts = Array.from(document.images)
    .filter((img) => /[.]svg$/.test(img.getAttribute('src')))
    .map((img) => ({ src: img.getAttribute('src'), width: img.getBoundingClientRect().width }));
  return { cells, tables, charts, page: document.documentElement.scrollWidth };
})()
"""


@pytest.fixture(scope="module")
def examples_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("phones")
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1764633600")
    assert ingest(root / "store.git", [EXAMPLES]).exit_code == 0
    site(root / "store.git", root / "out", base_url="https://me.example.org/flywheel/")
    return root / "out"


def smallest_font(svg: Path) -> tuple[float, float]:
    """The SVG's viewBox width and the smallest font size its text is drawn at."""
    tree = etree.parse(str(svg))
    view = tree.getroot().get("viewBox")
    assert view, f"{svg.name} has no viewBox"
    sizes = [float(size) for size in tree.xpath("//@font-size")]
    sizes += [
        float(found)
        for style in tree.xpath("//@style")
        for found in re.findall(r"font-size:\s*([\d.]+)", style)
    ]
    assert sizes, f"{svg.name} names no font size"
    return float(view.split()[2]), min(sizes)


def read_on_a_phone(browser: Browser, page: Path, shots: Path) -> dict[str, Any]:
    seen = browser.open_page(page, width=PHONE, height=844, script=MEASURE)
    assert seen.problems() == [], seen.problems()
    name = f"{page.parent.name}-{page.stem}"[:60]
    (shots / f"phone-{name}.png").write_bytes(seen.screenshot)
    measured: dict[str, Any] = seen.measured
    assert measured["page"] <= PHONE, f"{page}: the page itself scrolls sideways"
    for chart in measured["charts"]:
        view_width, font = smallest_font(page.parent / chart["src"])
        shown = font * chart["width"] / view_width
        assert shown >= SMALLEST_TEXT, f"{chart['src']}: text drawn {shown:.1f} px high"
    return measured


@pytest.mark.slow
def test_on_a_phone_tables_scroll_in_their_box_and_charts_stay_legible(
    browser: Browser, examples_site: Path, tmp_path: Path
) -> None:
    shots = Path(os.environ.get("GITFLYWHEEL_SCREENSHOTS", tmp_path / "screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    (journal,) = examples_site.glob("sessions/*/trade_journal.html")
    measured = read_on_a_phone(browser, journal, shots)
    assert len(measured["tables"]) >= 3 and len(measured["cells"]) > 50
    broken = [cell for cell in measured["cells"] if cell["lines"] != 1]
    assert broken == [], broken
    assert any(table["wider"] for table in measured["tables"]), "nothing to scroll: test moot"
    for table in measured["tables"]:
        assert not table["wider"] or table["scrolls"], table
        assert table["left"] >= 0 and table["right"] <= PHONE, table
    assert [chart["src"] for chart in measured["charts"]] == ["equity_curve.svg"]

    # The session pages, whose posts show the trade's and the build's charts.
    charted = 0
    for page in sorted(examples_site.glob("sessions/*/index.html")):
        measured = read_on_a_phone(browser, page, shots)
        assert all(cell["lines"] == 1 for cell in measured["cells"]), measured["cells"]
        charted += len(measured["charts"])
    assert charted >= 2
