"""Card images (20): one PNG of 1200x630 per published session, drawn by resvg from the
site template `card.svg.j2` with the shipped fonts only; the same SVG gives the same
bytes; hostile session text stays text and the card names nothing outside itself."""

from __future__ import annotations

import io
import json
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import EXAMPLES, ROOT, Cli, session
from PIL import Image

from gitflywheel import ingest
from gitflywheel.publishing.cards import (
    CardCache,
    CardError,
    card_context,
    card_png,
    card_svg,
    check_svg,
    wrap_text,
)
from gitflywheel.publishing.posts import published_posts
from gitflywheel.publishing.site import build_site
from gitflywheel.rendering.sandbox import HTML
from gitflywheel.rendering.templates import SITE_TEMPLATES, Renderer, load_templates
from gitflywheel.storage.store import Store

HOSTILE_TITLE = (
    '周五收盘：科技股动能延续 <image href="file:///etc/passwd"/> ]]><!DOCTYPE x> &amp; '
    "\u202eevil\u202c שלום עולם مرحبا " + "Ω" * 5000
)
DRAWN = {"svg", "rect", "text", "tspan", "line", "polygon", "polyline"}


def ihdr(data: bytes) -> tuple[int, int]:
    """A PNG's width and height, from its IHDR chunk (the first, by the PNG spec)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def cards_of(site: Path) -> dict[str, bytes]:
    return {p.parent.name: p.read_bytes() for p in sorted(site.glob("sessions/*/card-*.png"))}


def pages() -> Renderer:
    return Renderer(load_templates(shipped=SITE_TEMPLATES), escaping=HTML, label="site template")


@pytest.fixture(scope="module")
def examples_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cards") / "store.git"
    assert ingest(path, [EXAMPLES]).exit_code == 0
    return path


def test_each_published_session_has_a_1200x630_png_card(examples_store: Path) -> None:
    with Store.open(examples_store) as store:
        build = build_site(store, base_url=None, feeds=False, cards=CardCache(None))
    cards = {p: d for p, d in build.files.items() if "/card-" in p}
    assert len(cards) == build.sessions == 3
    for path, data in cards.items():
        assert ihdr(data) == (1200, 630), path
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            assert image.size == (1200, 630) and image.format == "PNG"
            darkest, lightest = image.convert("L").getextrema()
            assert darkest < 40 and lightest > 240  # light text drawn on the dark ground


def test_two_builds_draw_the_same_bytes(cli: Cli, examples_store: Path, tmp_path: Path) -> None:
    for out in ("a", "b"):
        done = cli("site", "--repo", examples_store, tmp_path / out, "--no-feed")
        assert done.exit_code == 0, done.output
    first, second = cards_of(tmp_path / "a"), cards_of(tmp_path / "b")
    assert len(first) == 3 and first == second
    with Store.open(examples_store) as store:
        post = published_posts(store).posts[0]
    svg = card_svg(pages(), card_context(post, "Work sessions", "4 December 2025"))
    assert card_png(svg) == card_png(svg)


def test_the_readme_shows_the_card_the_trade_example_gets(examples_store: Path) -> None:
    """docs/card-trade-example.png, which the README shows, is today's card (rebuild it
    with `gitflywheel site` of the examples when the card's look changes)."""
    with Store.open(examples_store) as store:
        build = build_site(store, base_url=None, feeds=False, cards=CardCache(None))
    [card] = [d for p, d in build.files.items() if "tech-momentum" in p and "/card-" in p]
    assert (ROOT / "docs" / "card-trade-example.png").read_bytes() == card
    assert "(docs/card-trade-example.png)" in (ROOT / "README.md").read_text()


@pytest.mark.parametrize(
    "geometry",
    [
        {"left": "x", "right": 10, "panels": []},
        {"left": 0, "right": 10, "panels": [{"top": 0, "bottom": 1, "points": 7, "bars": 3}]},
        {"left": 0, "right": 10, "panels": [{"top": 0, "bottom": 1, "points": [{"x": "1e999"}]}]},
        {"left": 10, "right": 0, "panels": [{"top": 5, "bottom": 1, "zero": 1, "bars": [{}]}]},
        {"left": 0, "right": 1e308, "panels": [{"top": 0, "bottom": 1, "zero": float("nan")}]},
    ],
)
def test_facts_of_another_shape_draw_a_card_without_them(
    examples_store: Path, geometry: dict[str, object]
) -> None:
    """Facts another gitflywheel made (a synced store, another pipeline version) may not
    hold the figures or the chart geometry this one reads: the card leaves them out."""
    from dataclasses import replace

    from gitflywheel.session.facts import ArtifactFacts

    with Store.open(examples_store) as store:
        post = next(p for p in published_posts(store).posts if p.session_type == "trade")
    assert post.facts is not None
    artifacts = dict(post.facts.artifacts)
    chart = artifacts["equity_curve"]
    artifacts["equity_curve"] = ArtifactFacts(
        step=chart.step, template=chart.template, context={"chart": geometry}
    )
    blog = artifacts["blog_post"]
    artifacts["blog_post"] = ArtifactFacts(
        step=blog.step,
        template=blog.template,
        context={"summary": {"blocks": [7, {"net_pnl": "x"}]}},
    )
    odd = replace(post, facts=post.facts.model_copy(update={"artifacts": artifacts}))
    context = card_context(odd, "Work sessions", "5 December 2025")
    assert context["chart"] is None and context["figures"] == []
    assert ihdr(card_png(card_svg(pages(), context))) == (1200, 630)


def test_cards_drawn_by_worker_processes_are_the_same_bytes(examples_store: Path) -> None:
    """Many cards are drawn on every core (`draw_all`); who draws a card changes no byte."""
    from gitflywheel.publishing.cards import usable_cores

    with Store.open(examples_store) as store:
        alone = build_site(store, base_url=None, feeds=False, cards=CardCache(None))
        pooled = CardCache(None, parallel_from=1)
        together = build_site(store, base_url=None, feeds=False, cards=pooled)
    assert pooled.drawn == 3 and together.files == alone.files
    if usable_cores() < 2:
        pytest.skip("one core: the cards were drawn in this process")


def test_one_set_of_workers_draws_every_batch_of_a_build(examples_store: Path) -> None:
    """Starting worker processes costs about a second: a build's batches share them."""
    from gitflywheel.publishing.cards import usable_cores

    if usable_cores() < 2:
        pytest.skip("one core: cards are drawn in this process")
    with Store.open(examples_store) as store:
        posts = published_posts(store).posts
    svgs = [card_svg(pages(), card_context(p, "Work sessions", "1 May 2025")) for p in posts]
    cache = CardCache(None, parallel_from=1)
    with cache.drawing():
        first = cache.pngs(svgs)
        workers = cache._pool
        second = cache.pngs(svgs)
        assert workers is not None and cache._pool is workers
    assert cache._pool is None and cache.drawn == 2 * len(svgs)
    assert first == second == [card_png(svg) for svg in svgs]
    cache.pngs(svgs)  # outside a build: a call starts and stops its own
    assert cache._pool is None


def test_the_cache_keeps_cards_by_the_hash_of_their_svg(
    examples_store: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "cards"
    with Store.open(examples_store) as store:
        cache = CardCache(folder)
        first = build_site(store, base_url=None, feeds=False, cards=cache)
        assert cache.drawn == 3 and len(list(folder.rglob("*.png"))) == 3
        again = CardCache(folder)
        second = build_site(store, base_url=None, feeds=False, cards=again)
        assert again.drawn == 0 and second.files == first.files
        damaged = sorted(folder.rglob("*.png"))[0]
        damaged.write_bytes(b"not a png")
        third = CardCache(folder)
        assert build_site(store, base_url=None, feeds=False, cards=third).files == first.files
        assert third.drawn == 1 and damaged.read_bytes()[:4] == b"\x89PNG"
    # the store's own cache, by default
    with Store.open(examples_store) as store:
        build_site(store, base_url=None, feeds=False)
        assert len(list(store.paths.card_cache.rglob("*.png"))) == 3


def test_a_hostile_title_stays_text_on_a_card_that_names_nothing_outside(
    cli: Cli, tmp_path: Path
) -> None:
    """XML and markup, 5,000 characters, bidi controls, right-to-left and CJK text: a
    valid 1200x630 PNG whose SVG holds only the elements the template draws, the title
    cut to three lines."""
    record = session("hostile-card", title=HOSTILE_TITLE, agent_id="Agent-7")
    (tmp_path / "in.json").write_text(json.dumps(record))
    store = tmp_path / "s.git"
    assert ingest(store, [tmp_path / "in.json"]).exit_code == 0
    with Store.open(store) as opened:
        (post,) = published_posts(opened).posts
    context = card_context(post, "Work sessions", "6 December 2025")
    lines = [line["text"] for line in context["title"]["lines"]]
    assert len(lines) == 3 and lines[-1].endswith("…") and lines[0].startswith("周五收盘")
    assert "\u202e" not in "".join(lines)
    svg = card_svg(pages(), context)
    root = ET.fromstring(svg)
    assert {str(e.tag).rsplit("}", 1)[-1] for e in root.iter()} <= DRAWN
    assert not [a for e in root.iter() for a in e.attrib if a.rsplit("}", 1)[-1] == "href"]
    assert "<image" not in svg and "<!DOCTYPE" not in svg
    shown = " ".join(e.text or "" for e in root.iter("{http://www.w3.org/2000/svg}text"))
    # as text; the local path was named by its last part at ingest
    assert '<image href="passwd"/> ]]><!DOCTYPE' in shown
    out = tmp_path / "out"
    assert cli("site", "--repo", store, out, "--no-feed").exit_code == 0
    (data,) = cards_of(out).values()
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        assert image.size == (1200, 630)


OUTSIDE = [
    '<image href="file:///etc/passwd" width="9" height="9"/>',
    '<image xmlns:x="http://www.w3.org/1999/xlink" x:href="/etc/hostname"/>',
    '<use href="other.svg#a"/>',
    '<rect width="9" height="9" fill="url(https://example.org/p.svg#g)"/>',
    '<rect width="9" height="9" style="fill: url( \'other.svg#g\' )"/>',
    "<style>@import url(https://example.org/x.css);</style>",
    '<filter id="f"><feImage href="file:///etc/passwd"/></filter>',
    "<foreignObject><p>x</p></foreignObject>",
    "<script>alert(1)</script>",
]


@pytest.mark.parametrize("inside", OUTSIDE)
def test_an_svg_naming_anything_outside_itself_is_never_drawn(inside: str) -> None:
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="630">{inside}</svg>'
    with pytest.raises(CardError, match="card.svg.j2"):
        check_svg(svg)
    with pytest.raises(CardError):
        card_png(svg)


@pytest.mark.parametrize(
    "svg",
    [
        '<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>',
        '<?xml-stylesheet href="https://example.org/x.css"?><svg xmlns="http://www.w3.org/2000/svg"/>',
        "<svg>no namespace</svg>",
        '<svg xmlns="http://www.w3.org/2000/svg"><text>unclosed</svg>',
    ],
)
def test_doctypes_entities_and_broken_svg_are_refused(svg: str) -> None:
    with pytest.raises(CardError):
        check_svg(svg)


def test_a_card_smaller_than_1200x630_is_refused() -> None:
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="600" height="315"><rect width="600" height="315"/></svg>'
    with pytest.raises(CardError, match="600x315"):
        card_png(svg)


def test_a_user_card_template_is_checked_like_the_shipped_one(cli: Cli, tmp_path: Path) -> None:
    store, mine = tmp_path / "s.git", tmp_path / "mine"
    assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    mine.mkdir()
    (mine / "card.svg.j2").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="630">'
        '<image href="file:///etc/passwd" width="100" height="100"/></svg>\n'
    )
    done = cli("site", "--repo", store, tmp_path / "out", "--no-feed", "--templates", mine)
    assert done.exit_code == 2 and "card.svg.j2" in done.stderr and "outside" in done.stderr
    assert "Traceback" not in done.output and not (tmp_path / "out").exists()


def test_titles_wrap_at_spaces_and_around_wide_characters() -> None:
    lines, cut = wrap_text("Metrics guardrail for the output flywheel", 64, 1072, 2, bold=True)
    assert lines == ["Metrics guardrail for the", "output flywheel"] and not cut
    lines, cut = wrap_text("科技" * 40, 52, 600, 3, bold=True)
    assert len(lines) == 3 and cut and lines[-1].endswith("…")
    assert all(len(line) <= 12 for line in lines)
    lines, cut = wrap_text("x" * 200, 44, 500, 3, bold=True)
    assert len(lines) == 3 and cut and "".join(lines).rstrip("…") == "x" * len("".join(lines)[:-1])
    assert wrap_text("", 44, 500, 3) == ([], False)
