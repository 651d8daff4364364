"""The SVG charts: a build session's commit activity and a trade session's equity curve.

Present only when there is something to chart, well-formed SVG with nothing in it that
runs or loads, rendered again byte for byte by `verify`, figures that agree with the
record (computed here again, from the record alone), and pictures a browser draws."""

from __future__ import annotations

import hashlib
import io
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from browser import Browser
from conftest import EXAMPLES, Cli, fsck, git
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pipeline_checks import SVG_NS, check_svg, front_matter, render_all

from gitflywheel.figures import money, signed_money
from gitflywheel.jsontext import loads
from gitflywheel.pipelines import pipeline_id
from gitflywheel.pipelines.charts import MAX_POINTS, drawn_points
from gitflywheel.storage.layout import artifact_path, session_dir

BUILD_ID = "3f2b7c1e-8a4d-4e6f-9b21-5c7d8e9f0a1b"
TRADE_ID = "9e8d7c6b-5a49-4382-b1c0-d9e8f7a6b5c4"
LIFE_ID = json.loads((EXAMPLES / "life_aria_session.json").read_text())["session_id"]
VERSION2_BUNDLE = Path(__file__).resolve().parents[1] / "data" / "version2-store.bundle"
ME = ["-c", "user.name=Mallory", "-c", "user.email=mallory@example.com"]


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = loads((EXAMPLES / name).read_text())
    return data


def commit(n: int, at: str | None, added: int | None = None, removed: int | None = None) -> Any:
    found: dict[str, Any] = {"hash": f"{n:040x}", "message": f"feat: step {n}", "files": ["a"]}
    if at is not None:
        found["timestamp"] = at
    if added is not None:
        found["lines_added"] = added
    if removed is not None:
        found["lines_removed"] = removed
    return found


def build_session(commits: list[Any], **more: Any) -> dict[str, Any]:
    return {
        "session_id": "b-1",
        "session_type": "build",
        "timestamp": "2025-12-04T18:00:00Z",
        "agent_id": "Agent-1",
        "title": "Charted work",
        "source_data": {"repo_path": "github.com/o/r", "git_commits": commits},
        **more,
    }


def trade(
    symbol: str, pnl: Decimal | int | None, currency: str | None, **more: Any
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "symbol": symbol,
        "action": "buy",
        "quantity": 1,
        "price": 10,
        "timestamp": more.pop("timestamp", "2025-12-04T15:00:00Z"),
        **more,
    }
    if pnl is not None:
        found["profit_loss"] = pnl
    if currency is not None:
        found["currency"] = currency
    return found


def trade_session(trades: list[Any], title: str = "Two books", **source: Any) -> dict[str, Any]:
    return {
        "session_id": "t-1",
        "session_type": "trade",
        "timestamp": "2025-12-04T21:00:00Z",
        "agent_id": "Agent-7",
        "title": title,
        "source_data": {"trades": trades, **source},
    }


MULTI = trade_session(
    [
        trade("AAPL", None, "USD", exit_price=15, fees=1, exit_timestamp="2025-12-04T16:00:00Z"),
        trade("MSFT", Decimal(-50), "USD", exit_timestamp="2025-12-04T15:30:00Z"),
        trade("TSLA", Decimal(36), "USD", fees=2, exit_timestamp="2025-12-04T17:00:00Z"),
        trade("7203.T", Decimal(-4000), "JPY", exit_timestamp="2025-12-04T02:00:00Z"),
        trade("6758.T", Decimal(12000), "JPY", exit_timestamp="2025-12-04T03:00:00Z"),
        trade("9984.T", None, "JPY", fees=300),
    ]
)


# -- which sessions get a chart --------------------------------------------------------------


def test_examples_get_their_charts_beside_the_posts_that_link_them(
    cli: Cli, tmp_path: Path
) -> None:
    store = tmp_path / "store.git"
    assert cli("ingest", "--repo", store, EXAMPLES).exit_code == 0
    kinds = {}
    for session_id in (BUILD_ID, TRADE_ID, LIFE_ID):
        manifest = json.loads(cli("show", "--repo", store, session_id).stdout)
        kinds[session_id] = {a["kind"]: a for a in manifest["artifacts"]}
    chart = kinds[BUILD_ID]["activity_chart"]
    assert chart["path"] == f"{session_dir(BUILD_ID)}/activity_chart.svg"
    assert chart["path"] == artifact_path(BUILD_ID, "activity_chart")
    assert chart["template"]["path"] == "templates/activity_chart.svg.j2"
    curve = kinds[TRADE_ID]["equity_curve"]
    assert curve["path"] == f"{session_dir(TRADE_ID)}/equity_curve.svg"
    assert curve["template"]["path"] == "templates/equity_curve.svg.j2"
    assert not {"activity_chart", "equity_curve"} & set(kinds[LIFE_ID])
    assert "equity_curve" not in kinds[BUILD_ID] and "activity_chart" not in kinds[TRADE_ID]

    for session_id, kind, linked in (
        (BUILD_ID, "activity_chart", ("blog_post", "build_log")),
        (TRADE_ID, "equity_curve", ("blog_post", "trade_journal")),
    ):
        svg = git("-C", store, "show", f"main:{artifact_path(session_id, kind)}")
        assert cli("show", "--repo", store, session_id, kind).stdout == svg
        post = cli("show", "--repo", store, session_id, "blog_post").stdout
        label = "Commit activity" if kind == "activity_chart" else "Equity curve"
        check_svg(svg, f"{label}: {front_matter(post)['title']}")
        for other in linked:
            text = cli("show", "--repo", store, session_id, other).stdout
            assert re.search(rf"^!\[[^\]\n]+\]\({kind}\.svg\)$", text, re.M), (other, text)
            assert front_matter(text)["image"] == f"{kind}.svg"
    export = tmp_path / "out"
    assert cli("export", "--repo", store, export).exit_code == 0
    assert (export / session_dir(BUILD_ID) / "activity_chart.svg").is_file()
    assert (export / session_dir(TRADE_ID) / "equity_curve.svg").is_file()
    fsck(store)


def test_no_chart_without_a_dated_commit_a_closed_trade_or_for_a_draft() -> None:
    undated = render_all(build_session([commit(1, None), commit(2, "not a time")]), charts=True)
    assert "activity_chart" not in undated
    assert "image" not in front_matter(undated["blog_post"])
    assert "activity_chart.svg" not in undated["blog_post"] + undated["build_log"]
    dated = render_all(
        build_session([commit(1, None), commit(2, "2025-12-04T15:00:00Z")]), charts=True
    )
    assert "1 commit, per hour" in dated["activity_chart"]

    open_only = render_all(trade_session([trade("AAPL", None, "USD", fees=1)]), charts=True)
    assert "equity_curve" not in open_only
    assert "equity_curve.svg" not in open_only["blog_post"] + open_only["trade_journal"]
    assert "image" not in front_matter(open_only["trade_journal"])

    draft = {
        "session_id": "d-1",
        "session_type": "build",
        "timestamp": "2025-12-04T18:00:00Z",
        "agent_id": "Agent-1",
        "metadata": {"current_mission": "Test Mission"},
        "source_data": {"repo_path": "C:\\Users\\me\\AppData\\Local\\Temp\\tmpqy_b7jky"},
    }
    artifacts = render_all(draft, charts=True)
    assert front_matter(artifacts["blog_post"])["draft"] is True
    assert "activity_chart" not in artifacts


def test_the_activity_chart_counts_every_dated_commit_per_hour_or_per_day() -> None:
    hours = [
        commit(1, "2025-12-04T15:20:00Z", 10, 2),
        commit(2, "2025-12-04T17:02:00+02:00", 5, None),  # 15:02 UTC
        commit(3, "2025-12-04T16:40:00Z", None, 7),
        commit(4, None),
    ]
    svg = render_all(build_session(hours), charts=True)["activity_chart"]
    root = check_svg(svg, "Commit activity: Charted work")
    tips = [t.text or "" for t in root.iter(f"{SVG_NS}title")][1:]
    assert tips == [
        "2025-12-04 15:00 UTC: 2 commits, +15/−2 lines",
        "2025-12-04 16:00 UTC: 1 commit, +0/−7 lines",
        "2025-12-04 15:00 UTC: 15 lines added",
        "2025-12-04 15:00 UTC: 2 lines removed",
        "2025-12-04 16:00 UTC: 7 lines removed",
    ]
    assert "3 commits, +15/−9 lines, per hour, 2025-12-04 (UTC)" in svg
    labels = [t.text for t in root.iter(f"{SVG_NS}text")]
    assert "15:00" in labels and "16:00" in labels

    days = [commit(n, f"2025-11-{d:02d}T10:00:00Z") for n, d in enumerate((1, 1, 3, 20, 20, 20))]
    svg = render_all(build_session(days), charts=True)["activity_chart"]
    root = check_svg(svg, "Commit activity: Charted work")
    tips = [t.text or "" for t in root.iter(f"{SVG_NS}title")][1:]
    assert tips == ["2025-11-01: 2 commits", "2025-11-03: 1 commit", "2025-11-20: 3 commits"]
    assert "6 commits, per day, 2025-11-01 to 2025-11-20 (UTC)" in svg
    bars = [r for r in root.iter(f"{SVG_NS}rect") if r.find(f"{SVG_NS}title") is not None]
    heights = [float(r.attrib["height"]) for r in bars]
    assert heights[2] > heights[0] > heights[1] > 0  # 3 > 2 > 1 commits
    assert heights[0] == pytest.approx(heights[1] * 2, abs=0.2)


# -- the equity curve agrees with the record --------------------------------------------------


def expected_curves(data: dict[str, Any]) -> dict[str | None, list[Decimal]]:
    """From the record alone: per currency, the running P&L in exit order, each closed
    trade's P&L less its fees, the fees of open positions last."""
    # exits in time order; a tie goes to the earlier entry, then to the earlier input
    by_currency: dict[str | None, list[tuple[str, str, int, Decimal]]] = {}
    open_fees: dict[str | None, Decimal] = {}
    default = data["source_data"].get("currency")
    for n, t in enumerate(data["source_data"]["trades"]):
        currency = t.get("currency") or default
        fees = Decimal(str(t.get("fees", 0)))
        if "profit_loss" in t:
            pnl = Decimal(str(t["profit_loss"]))
        elif "exit_price" in t:
            move = Decimal(str(t["exit_price"])) - Decimal(str(t["price"]))
            pnl = (move if t["action"] == "buy" else -move) * Decimal(str(t["quantity"]))
        else:
            open_fees[currency] = open_fees.get(currency, Decimal(0)) + fees
            continue
        closed_at = t.get("exit_timestamp") or t["timestamp"]
        by_currency.setdefault(currency, []).append((closed_at, t["timestamp"], n, pnl - fees))
    curves: dict[str | None, list[Decimal]] = {}
    for currency, closed in by_currency.items():
        running = [Decimal(0)]
        for *_, amount in sorted(closed):
            running.append(running[-1] + amount)
        if open_fees.get(currency):
            running.append(running[-1] - open_fees[currency])
        curves[currency] = running
    return curves


def panels(root: ElementTree.Element) -> list[dict[str, Any]]:
    """Each currency panel of an equity curve as a reader sees it: heading, the y-axis
    labels at their heights, the polyline's points and the label of the last point."""
    found = []
    for group in root.iter(f"{SVG_NS}g"):
        texts = list(group.iter(f"{SVG_NS}text"))
        line = group.find(f"{SVG_NS}polyline")
        assert line is not None
        points = [tuple(map(float, p.split(","))) for p in line.attrib["points"].split(" ")]
        ticks = [
            (float(t.attrib["y"]), t.text or "")
            for t in texts
            if t.attrib.get("text-anchor") == "end" and t.attrib.get("font-family")
        ]
        last = next(
            t.text for t in texts if t.attrib.get("font-weight") == "bold" and t.attrib.get("dy")
        )
        found.append({"heading": texts[0].text, "ticks": ticks, "points": points, "last": last})
    return found


def amount_of(label: str) -> Decimal:
    return Decimal(label.replace(",", "").replace("+", ""))


def check_curve(svg: str, data: dict[str, Any]) -> None:
    """Every panel's points sit where the record's running P&L puts them on its own axis,
    and the last point is labelled with the currency's net P&L."""
    curves = expected_curves(data)
    root = ElementTree.fromstring(svg)
    shown = panels(root)
    order = sorted(curves, key=lambda c: (c is None, c or ""))
    named = [p["heading"].split(":")[0] if ":" in p["heading"] else None for p in shown]
    if order == [None]:  # one currency, never stated: nothing to name
        assert named == [None]
    else:
        assert named == [c or "unstated currency" for c in order]
    for panel, currency in zip(shown, order, strict=True):
        running = curves[currency]
        net = running[-1]
        assert (
            panel["last"]
            == f"{money(net) if not net else signed_money(net)} {currency or ''}".strip()
        )
        assert f" {money(net) if not net else signed_money(net)} over " in panel["heading"]
        assert len(panel["points"]) == len(running)
        (y0, l0), (y1, l1) = panel["ticks"][0], panel["ticks"][-1]
        v0, v1 = amount_of(l0), amount_of(l1)
        assert v0 <= 0 <= v1
        for (_, y), value in zip(panel["points"], running, strict=True):
            expected = y0 + float((value - v0) / (v1 - v0)) * (y1 - y0)
            assert y == pytest.approx(expected, abs=0.11), (currency, value)
        xs = [x for x, _ in panel["points"]]
        assert xs == sorted(xs) and len(set(xs)) == len(xs)


def test_the_equity_curve_ends_at_each_currencys_net_pnl() -> None:
    artifacts = render_all(MULTI, charts=True)
    check_svg(artifacts["equity_curve"], "Equity curve: Two books")
    check_curve(artifacts["equity_curve"], MULTI)
    headings = [p["heading"] for p in panels(ElementTree.fromstring(artifacts["equity_curve"]))]
    assert headings == [
        "JPY: net P&L +7,700.00 over 2 closed trades",
        "USD: net P&L -12.00 over 3 closed trades",
    ]
    journal = artifacts["trade_journal"]
    assert "| net P&L | +7,700.00 |" in journal and "| net P&L | -12.00 |" in journal
    example_trades = example("trade_session.json")
    check_curve(render_all(example_trades, charts=True)["equity_curve"], example_trades)


def largest_drop(running: list[Decimal]) -> Decimal:
    """The largest fall of a curve from a peak to a later trough."""
    peak, drop = running[0], Decimal(0)
    for value in running:
        peak = max(peak, value)
        drop = max(drop, peak - value)
    return drop


def test_the_drawdown_is_the_largest_drop_of_the_curve_beside_it() -> None:
    data = example("trade_session.json")
    artifacts = render_all(data, charts=True)
    check_curve(artifacts["equity_curve"], data)
    (running,) = expected_curves(data).values()
    drop = largest_drop(running)
    assert money(drop) == "11.50"  # net of fees; gross it would be 10.50
    for kind in ("trade_journal", "blog_post"):
        assert f"| max drawdown | {money(drop)} |" in artifacts[kind]
        assert (
            f"The drawdown of {money(drop)}, net of fees, came from MSFT buy #2"
            in (artifacts[kind])
        )
    journal = render_all(MULTI, charts=True)["trade_journal"]
    for currency, values in expected_curves(MULTI).items():
        start = journal.index(f"\n## Summary: {currency}\n")
        end = journal.find("\n## ", start + 1)
        block = journal[start : end if end != -1 else None]
        assert f"| max drawdown | {money(largest_drop(values))} |" in block, currency


def test_the_curve_says_exit_order_only_when_every_trade_gives_its_exit_time() -> None:
    data = example("trade_session.json")  # no exit times: the order the journal lists
    assert not any("exit_timestamp" in t for t in data["source_data"]["trades"])
    artifacts = render_all(data, charts=True)
    for kind, text in artifacts.items():
        assert "exit order" not in text, kind
    assert "Cumulative realised P&amp;L in the order listed" in artifacts["equity_curve"]
    assert "closed trades in the order listed" in artifacts["equity_curve"]
    # every closed trade gives its exit time: exit order
    assert (
        "Cumulative realised P&amp;L in exit order"
        in render_all(MULTI, charts=True)["equity_curve"]
    )
    # some do, some do not: said so
    mixed = trade_session(
        [
            trade("A", Decimal(5), None, exit_timestamp="2025-12-04T18:00:00Z"),
            trade("B", Decimal(-3), None),
        ]
    )
    svg = render_all(mixed, charts=True)["equity_curve"]
    assert "exit order" not in svg and "of entry where no exit time is given" in svg


amounts = st.decimals(
    min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=2, allow_nan=False
)
moments = st.integers(0, 23).map(lambda h: f"2025-12-04T{h:02d}:00:00Z")


@st.composite
def trade_sessions(draw: st.DrawFn) -> dict[str, Any]:
    trades = []
    for _ in range(draw(st.integers(1, 8))):
        found = trade(
            draw(st.sampled_from(["AAPL", "<b>", "A&B", "]]>", "X\x07Y"])),
            draw(amounts) if draw(st.booleans()) else None,
            draw(st.sampled_from(["USD", "JPY", None])),
            timestamp=draw(moments),
        )
        if draw(st.booleans()):
            found["exit_timestamp"] = draw(moments)
        if draw(st.booleans()):
            found["fees"] = abs(draw(amounts))
        trades.append(found)
    return trade_session(trades, title=draw(st.sampled_from(["Books", "a <b> & ]]> \x1b[0m"])))


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(trade_sessions())
def test_equity_curves_of_generated_sessions_agree_with_the_record(data: dict[str, Any]) -> None:
    artifacts = render_all(data, charts=True)
    closed = any("profit_loss" in t for t in data["source_data"]["trades"])
    assert ("equity_curve" in artifacts) == closed
    if closed:
        title = front_matter(artifacts["blog_post"])["title"]
        check_svg(artifacts["equity_curve"], f"Equity curve: {title}")
        check_curve(artifacts["equity_curve"], data)
        closed = [t for t in data["source_data"]["trades"] if "profit_loss" in t]
        if all("exit_timestamp" in t for t in closed):
            assert "P&amp;L in exit order" in artifacts["equity_curve"]
        if not any("exit_timestamp" in t for t in closed):
            assert "exit order" not in artifacts["equity_curve"]


# -- hostile text --------------------------------------------------------------------------

hostile = st.lists(
    st.sampled_from(["<", ">", "&", '"', "'", "]]>", "\x00", "\x1b", "\u202e", "é", "a", " "]),
    min_size=1,
    max_size=8,
).map("".join)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(hostile, hostile, st.sampled_from(["USD", "JPY", None]))
def test_hostile_titles_and_symbols_stay_text(
    title: str, symbol: str, currency: str | None
) -> None:
    build = render_all(
        build_session([commit(1, "2025-12-04T15:00:00Z")], title=f"Fix {title}"), charts=True
    )
    trades = trade_session(
        [trade(f"S{symbol}", Decimal(5), currency), trade("B", Decimal(-2), "USD")],
        title=f"Trade {title}",
    )
    traded = render_all(trades, charts=True)
    for artifacts, kind, label in (
        (build, "activity_chart", "Commit activity"),
        (traded, "equity_curve", "Equity curve"),
    ):
        svg = artifacts[kind]
        root = check_svg(svg, f"{label}: {front_matter(artifacts['blog_post'])['title']}")
        assert "<![CDATA[" not in svg and "\x1b" not in svg and "\u202e" not in svg
        assert all(child.tag != f"{SVG_NS}script" for child in root.iter())
    tips = [
        t.text or "" for t in ElementTree.fromstring(traded["equity_curve"]).iter(f"{SVG_NS}title")
    ]
    assert any(tip.startswith("S") and " buy #1: +5.00, running +5.00" in tip for tip in tips)


# -- verify renders the charts again, byte for byte ------------------------------------------


def test_verify_renders_a_chart_again_and_catches_a_forged_one(cli: Cli, tmp_path: Path) -> None:
    store = tmp_path / "store.git"
    assert cli("ingest", "--repo", store, EXAMPLES).exit_code == 0
    report = json.loads(cli("verify", "--repo", store, "--full", "--json").stdout)
    assert report["ok"] and report["figures"]["artifacts"] == 11, report
    steps = {(s["step"], s["kind"]) for s in report["artifacts_by_step"]}
    assert {("S7", "activity_chart"), ("T7", "equity_curve")} <= steps
    work = tmp_path / "work"
    git("clone", "-q", store, work)
    chart = work / artifact_path(BUILD_ID, "activity_chart")
    forged = chart.read_text().replace('fill="#2563eb"', 'fill="#ff0000"')
    assert forged != chart.read_text()
    chart.write_text(forged)
    manifest_path = work / session_dir(BUILD_ID) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    data = chart.read_bytes()
    for entry in manifest["artifacts"]:
        if entry["kind"] == "activity_chart":
            entry.update(
                blob=git("hash-object", chart).strip(),
                sha256=hashlib.sha256(data).hexdigest(),
                size=len(data),
            )
    manifest["revision"] = 2
    from gitflywheel.jsontext import dumps_pretty

    manifest_path.write_text(dumps_pretty(manifest))
    git(
        *ME,
        "-C",
        work,
        "commit",
        "-qam",
        f"Revise (revision 2) build session {BUILD_ID}\n\nSession-Id: {BUILD_ID}\n"
        f"Session-Type: build\nAgent-Id: Agent-5\nRevision: 2\n",
    )
    git("-C", work, "push", "-q", "origin", "HEAD:main")
    result = cli("verify", "--repo", store, "--json")
    found = json.loads(result.stdout)["findings"]
    assert result.exit_code == 1
    assert any(
        f["rule"] == "artifact.render" and f["path"] == artifact_path(BUILD_ID, "activity_chart")
        for f in found
    ), found


def test_a_store_made_before_the_charts_verifies_as_another_version(
    cli: Cli, tmp_path: Path
) -> None:
    store = tmp_path / "v2.git"
    git("clone", "-q", "--bare", VERSION2_BUNDLE, store)
    result = cli("verify", "--repo", store, "--full", "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 0 and report["ok"], report["findings"]
    assert set(report["other_versions"]) == {"build/2", "trade/2", "life_aria/2"}
    assert {pipeline_id(kind) for kind in ("build", "trade", "life_aria")}.isdisjoint(
        report["other_versions"]
    )
    kinds = {
        a["kind"]
        for m in map(json.loads, [cli("show", "--repo", store, BUILD_ID).stdout])
        for a in m["artifacts"]
    }
    assert "activity_chart" not in kinds
    assert cli("rerender", "--repo", store, "--all").exit_code == 0
    after = json.loads(cli("verify", "--repo", store, "--full", "--json").stdout)
    assert after["ok"] and after["other_versions"] == {}
    assert cli("show", "--repo", store, BUILD_ID, "activity_chart").exit_code == 0
    fsck(store)


# -- a browser draws them ------------------------------------------------------------------


def non_background(png: bytes) -> tuple[int, dict[str, int]]:
    """Pixels that are not the white page, and how many of them are blue, green and red
    (the chart's bars and lines) rather than the grey and black of its text and axes."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        pixels = list(image.convert("RGB").get_flattened_data())
    drawn = [p for p in pixels if p != (255, 255, 255)]
    colours = {
        "blue": sum(1 for r, g, b in drawn if b > 180 and r < 100),
        "green": sum(1 for r, g, b in drawn if g > 130 and r < 80 and b < 120),
        "red": sum(1 for r, g, b in drawn if r > 180 and g < 80 and b < 80),
    }
    return len(drawn), colours


def right_edge_drawn(png: bytes) -> bool:
    """Whether anything but the page's white shows in the chart's last 8 pixel columns
    (x 792 to 799), where only text too long for the chart would reach."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        edge = image.convert("RGB").crop((792, 0, 800, image.height))
        return any(p != (255, 255, 255) for p in edge.get_flattened_data())


def charts_to_look_at() -> dict[str, tuple[str, str]]:
    """The charts of the examples, a two-currency trade session and a build session of
    three weeks with line counts: name -> (kind, SVG)."""
    lines = [
        commit(n, f"2025-11-{1 + n % 20:02d}T1{n % 7}:00:00Z", 37 * n % 400, 13 * n % 90)
        for n in range(1, 40)
    ]
    found = {}
    for name, data in (
        ("build", example("build_session.json")),
        ("trade", example("trade_session.json")),
        ("multi", MULTI),
        ("weeks", build_session(lines)),
        ("long", build_session(lines[:3], title=("A title that goes on " * 10).strip())),
    ):
        artifacts = render_all(data, charts=True)
        kind = "activity_chart" if "activity_chart" in artifacts else "equity_curve"
        found[name] = (kind, artifacts[kind])
    return found


@pytest.mark.slow
def test_a_browser_draws_every_chart(browser: Browser, tmp_path: Path) -> None:
    pytest.importorskip("PIL", reason="Pillow reads the screenshots (pip install pillow)")
    for name, (kind, svg) in charts_to_look_at().items():
        folder = tmp_path / name
        folder.mkdir()
        (folder / f"{kind}.svg").write_text(svg)
        (folder / "post.html").write_text(
            f"<!doctype html><html><head><title>{name}</title></head><body>"
            f'<img src="{kind}.svg" alt="chart"></body></html>'
        )
        page = browser.open_page(folder / f"{kind}.svg", width=820, height=600)
        assert page.problems() == [], (name, page.problems())
        assert page.title == ElementTree.fromstring(svg).findtext(f"{SVG_NS}title")
        (tmp_path / f"{name}.png").write_bytes(page.screenshot)
        drawn, colours = non_background(page.screenshot)
        assert drawn > 2000, (name, drawn)  # text, axes and marks: not a blank page
        assert colours["blue"] > 100, (name, colours)  # the bars or the curve
        if name == "weeks":
            assert colours["green"] > 100 and colours["red"] > 100, colours
        assert not right_edge_drawn(page.screenshot), name  # no text runs off the chart
        embedded = browser.open_page(folder / "post.html", width=820, height=600)
        assert embedded.problems() == [] and embedded.images == 1, embedded.problems()


@given(st.lists(st.integers(-10_000, 10_000).map(Decimal), min_size=1, max_size=3_000))
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_a_long_curve_keeps_its_ends_peaks_and_troughs_and_stays_bounded(
    values: list[Decimal],
) -> None:
    kept = drawn_points(values)
    assert kept == sorted(set(kept)) and kept[0] == 0 and kept[-1] == len(values) - 1
    if len(values) <= MAX_POINTS:
        assert kept == list(range(len(values)))
    else:
        assert len(kept) <= MAX_POINTS + 2
        drawn = [values[i] for i in kept]
        assert min(drawn) == min(values) and max(drawn) == max(values)


@pytest.mark.slow
def test_a_day_of_ten_thousand_trades_is_recorded_with_its_curve(
    cli: Cli, store: Path, tmp_path: Path
) -> None:
    """The equity curve of a very long session draws each run's extremes, so that the
    session is recorded rather than refused for the size of its chart."""
    trades = [
        trade(
            "AAPL",
            ((i * 7919) % 201) - 100,
            "USD",
            timestamp=f"2025-12-04T{i % 24:02d}:00:00Z",
        )
        for i in range(10_000)
    ]
    data = trade_session(trades, title="Ten thousand")
    data["session_id"] = "ten-thousand-1"
    path = tmp_path / "many.json"
    path.write_text(json.dumps(data))
    done = cli("ingest", "--repo", store, path)
    assert done.exit_code == 0, done.stderr
    svg = git("-C", store, "show", f"main:{artifact_path('ten-thousand-1', 'equity_curve')}")
    check_svg(svg, "Equity curve: Ten thousand")
    (panel,) = panels(ElementTree.fromstring(svg))
    assert len(panel["points"]) <= MAX_POINTS + 2
    running = expected_curves(data)["USD"]
    assert panel["last"] == f"{signed_money(running[-1]) if running[-1] else money(0)} USD"
    assert cli("verify", "--repo", store).exit_code == 0
