"""Card images: the PNG a link to a session shows where it is shared (Open Graph, Twitter
cards), the thumbnail of the site's lists and the cover of the blog exports.

A card is drawn in two steps. `card_svg` renders the site template `card.svg.j2` in the
one sandboxed environment (HTML autoescape, so session text cannot open an element) from
a context computed here from the session's facts: its title wrapped and clamped to what
fits, its key figures, and its chart's geometry scaled into the card. `card_png` turns
that SVG text into a PNG with resvg, in process, drawing text with the fonts shipped in
`templates/fonts/` and never the machine's, so that the same SVG gives the same bytes on
any machine: a pure function of the SVG text, which `CardCache` keeps by its hash. An SVG
that names anything outside itself (an image, a file, a style sheet, a DOCTYPE) is
refused before it is drawn.
"""

from __future__ import annotations

import hashlib
import math
import multiprocessing
import os
import re
import struct
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import GitflywheelError
from ..figures import money, signed_money
from ..pipelines.common import utc_text
from ..rendering.templates import Renderer, shipped_templates_dir
from ..session.facts import ArtifactFacts, Facts
from .markdown_html import clean_text
from .posts import POST_KIND, Post
from .site_files import write_whole

__all__ = [
    "CARD_WIDTH",
    "CARD_HEIGHT",
    "CARD_TEMPLATE",
    "card_facts",
    "CardError",
    "CardCache",
    "card_context",
    "card_svg",
    "draw_cards",
    "draw_all",
    "card_png",
    "check_svg",
    "png_size",
    "raster_id",
    "wrap_text",
]

CARD_WIDTH = 1200
CARD_HEIGHT = 630
CARD_TEMPLATE = "card.svg.j2"
FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "NotoSansCJKsc-Bold.otf")
FONT_FAMILY = "DejaVu Sans"
MAX_TITLE_CHARS = 300  # of a title, at most what three lines could show
LEFT = 64  # the card's margins
RIGHT = CARD_WIDTH - 64
KIND_NAMES = {"build": "Build session", "trade": "Trading session", "life_aria": "Made with Aria"}
ACCENTS = {"build": "#60a5fa", "trade": "#4ade80", "life_aria": "#c084fc"}


class CardError(GitflywheelError):
    """A card that cannot be drawn: its SVG names something outside itself, or is no
    image of at least CARD_WIDTH x CARD_HEIGHT."""


# -- text that fits --------------------------------------------------------------------

# Advance widths of the printable ASCII characters in DejaVu Sans and its bold, in
# thousandths of the font size (from the fonts' hmtx tables).
_BOOK = (
    *(318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337),
    *(636,) * 10,
    *(337, 337, 838, 838, 838, 531, 1000, 684, 686, 698, 770, 632, 575, 775, 752, 295),
    *(295, 656, 557, 863, 748, 787, 603, 787, 695, 635, 611, 732, 684, 989, 685, 611),
    *(685, 390, 337, 390, 838, 500, 500, 613, 635, 550, 635, 615, 352, 635, 634, 278),
    *(278, 579, 278, 974, 634, 612, 635, 635, 411, 521, 392, 634, 592, 818, 592, 592),
    *(525, 636, 337, 636, 838),
)
_BOLD = (
    *(348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365),
    *(696,) * 10,
    *(400, 400, 838, 838, 838, 580, 1000, 774, 762, 734, 830, 683, 683, 821, 837, 372),
    *(372, 775, 637, 995, 837, 850, 733, 850, 770, 720, 682, 812, 774, 1103, 771, 724),
    *(725, 457, 365, 457, 838, 500, 500, 675, 716, 593, 716, 678, 435, 716, 712, 343),
    *(343, 665, 343, 1042, 712, 687, 716, 716, 493, 595, 478, 712, 652, 924, 645, 652),
    *(582, 712, 365, 712, 838),
)
_ELLIPSIS = "…"


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def text_width(text: str, size: float, bold: bool = False) -> float:
    """About how wide `text` is drawn at `size` px: exact for ASCII, a wide (CJK)
    character one em, a mark nothing, any other character a little more than most."""
    table = _BOLD if bold else _BOOK
    other = 720 if bold else 660
    total = 0
    for char in text:
        code = ord(char)
        if 0x20 <= code < 0x7F:
            total += table[code - 0x20]
        elif unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue
        elif _wide(char):
            total += 1000
        else:
            total += other
    return total * size / 1000


def _atoms(text: str) -> list[str]:
    """The pieces a line may break between: words, spaces, and each wide character."""
    atoms: list[str] = []
    word = ""
    for char in text:
        if char == " " or _wide(char):
            if word:
                atoms.append(word)
                word = ""
            atoms.append(char)
        else:
            word += char
    if word:
        atoms.append(word)
    return atoms


def _fit(text: str, size: float, bold: bool, width: float) -> str:
    """The longest start of `text` that fits `width` (at least one character)."""
    end = 1
    while end < len(text) and text_width(text[: end + 1], size, bold) <= width:
        end += 1
    return text[:end]


def wrap_text(
    text: str, size: float, width: float, max_lines: int, bold: bool = False
) -> tuple[list[str], bool]:
    """`text` on at most `max_lines` lines of at most `width` px, and whether it was cut
    (the last line then ends with an ellipsis). Breaks at spaces and around wide
    characters; a word longer than a line breaks where the line ends."""
    text = " ".join(text.split())
    cut = len(text) > MAX_TITLE_CHARS
    text = text[:MAX_TITLE_CHARS]
    lines: list[str] = []
    line = ""
    for atom in _atoms(text):
        if atom == " " and not line:
            continue
        if text_width(line + atom, size, bold) <= width:
            line += atom
            continue
        if line.strip():
            lines.append(line.rstrip())
        line = "" if atom == " " else atom
        while text_width(line, size, bold) > width:
            head = _fit(line, size, bold, width)
            lines.append(head)
            line = line[len(head) :]
        if len(lines) > max_lines:
            break
    if line.strip():
        lines.append(line.rstrip())
    if len(lines) > max_lines:
        lines, cut = lines[:max_lines], True
    if cut and lines:
        last = lines[-1]
        while last and text_width(last + _ELLIPSIS, size, bold) > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + _ELLIPSIS
    return lines, cut


def _text(value: object, limit: int = 200) -> str:
    """Session text as one line a card may print: no controls, bidi or other characters
    XML forbids, at most `limit` characters."""
    return " ".join(clean_text(str(value)).split())[:limit]


# -- what a card shows -------------------------------------------------------------------


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _decimal(value: object) -> Decimal | None:
    if _number(value) is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


# what a card reads of each artifact's context: the post's figures, the charts' geometry
_CARD_READS: dict[str, tuple[str, ...]] = {
    POST_KIND: ("facts", "summary", "gallery", "made", "lessons"),
    "equity_curve": ("chart",),
    "activity_chart": ("chart",),
}


def card_facts(facts: Facts) -> Facts:
    """The facts cut to what a card reads (`key_figures`, `chart_shape`): what a site
    keeps of every post while it builds, a small part of the whole."""
    kept: dict[str, ArtifactFacts] = {}
    for kind, keys in _CARD_READS.items():
        found = facts.artifacts.get(kind)  # type: ignore[call-overload]
        if found is None:
            continue
        context = {key: found.context[key] for key in keys if key in found.context}
        inner = context.get("facts")
        if isinstance(inner, dict):
            context["facts"] = {"figures": inner["figures"]} if "figures" in inner else {}
        kept[kind] = found.model_copy(update={"context": context})
    return facts.model_copy(update={"artifacts": kept})


def _context(post: Post, kind: str) -> Mapping[str, Any]:
    found = post.facts.artifacts.get(kind) if post.facts is not None else None  # type: ignore[call-overload]
    return found.context if found is not None else {}


def _figure(value: str, label: str, tone: str = "") -> dict[str, str]:
    return {"value": _text(value, 24), "label": _text(label, 40), "tone": tone}


def _tone(amount: Decimal) -> str:
    return "up" if amount > 0 else "down" if amount < 0 else ""


def key_figures(post: Post) -> list[dict[str, str]]:
    """At most four figures that say what the session did, from its facts: a build's
    own (commits, files, lines, time); a trade session's net P&L, win rate, closed trades and
    drawdown; what a session with Aria made. Facts of another shape give none."""
    context = _context(post, POST_KIND)
    found: list[dict[str, str]] = []
    if post.session_type == "build":
        facts = context.get("facts")
        items = facts.get("figures") if isinstance(facts, dict) else None
        for item in items if isinstance(items, list) else []:
            # a zero says nothing on a card (and "0 commits" beside lines added misleads)
            if (
                isinstance(item, dict)
                and item.get("value") not in (None, "", "0")
                and item.get("name")
            ):
                found.append(_figure(str(item["value"]), str(item["name"])))
    elif post.session_type == "trade":
        summary = context.get("summary")
        blocks = summary.get("blocks") if isinstance(summary, dict) else None
        blocks = [b for b in blocks if isinstance(b, dict)] if isinstance(blocks, list) else []
        for block in blocks[:2]:
            currency = f" {_text(block['currency'], 8)}" if block.get("currency") else ""
            net = _decimal(block.get("net_pnl"))
            if net is not None:
                found.append(_figure(signed_money(net) + currency, "net P&L", _tone(net)))
        if len(blocks) == 1:
            block = blocks[0]
            if isinstance(block.get("win_rate_text"), str):
                found.append(_figure(block["win_rate_text"], "win rate"))
            closed = _number(block.get("closed"))
            if closed is not None:
                found.append(_figure(f"{closed:.0f}", "closed trades"))
            drawdown = _decimal(block.get("max_drawdown"))
            if drawdown is not None:
                found.append(_figure(money(drawdown), "max drawdown"))
    elif post.session_type == "life_aria":
        for key, label in (("gallery", "screenshots"), ("made", "things made")):
            items = context.get(key)
            if isinstance(items, list) and items:
                found.append(_figure(str(len(items)), label))
        lessons = context.get("lessons")
        if isinstance(lessons, list) and lessons:
            found.append(_figure(str(len(lessons)), "lessons" if len(lessons) > 1 else "lesson"))
    return found[:4]


def _scaled(value: object, lo: float, hi: float, to_lo: float, to_hi: float) -> float | None:
    number = _number(value)
    if number is None or hi <= lo:
        return None
    share = min(max((number - lo) / (hi - lo), 0.0), 1.0)
    return round(to_lo + share * (to_hi - to_lo), 1)


def chart_shape(post: Post, box: tuple[float, float, float, float]) -> dict[str, Any] | None:
    """The session's chart, from the geometry in its facts, scaled into `box` (x, y,
    width, height): an equity curve's line, area and zero line, or the bars of a build's
    commits; None when the session has no chart, or its geometry is not one."""
    x0, y0, width, height = box
    for kind, shape in (("equity_curve", "line"), ("activity_chart", "bars")):
        chart = _context(post, kind).get("chart")
        if not isinstance(chart, dict):
            continue
        panels = chart.get("panels")
        panel = panels[0] if isinstance(panels, list) and panels else None
        left, right = _number(chart.get("left")), _number(chart.get("right"))
        if not isinstance(panel, dict) or left is None or right is None:
            continue
        top, bottom = _number(panel.get("top")), _number(panel.get("bottom"))
        if top is None or bottom is None:
            continue

        def x(value: object) -> float | None:
            return _scaled(value, left, right, x0, x0 + width)  # noqa: B023

        def y(value: object) -> float | None:
            return _scaled(value, top, bottom, y0, y0 + height)  # noqa: B023

        zero = y(panel.get("zero"))
        if shape == "line":
            raw = panel.get("points")
            points = (
                [(x(p.get("x")), y(p.get("y"))) for p in raw if isinstance(p, dict)]
                if isinstance(raw, list)
                else []
            )
            drawn = [(a, b) for a, b in points if a is not None and b is not None]
            if len(drawn) < 2 or zero is None:
                continue
            line = " ".join(f"{a:g},{b:g}" for a, b in drawn)
            last = panel.get("last")
            return {
                "shape": "line",
                "points": line,
                "area": f"{drawn[0][0]:g},{zero:g} {line} {drawn[-1][0]:g},{zero:g}",
                "zero": zero,
                "label": _text(last.get("label"), 24) if isinstance(last, dict) else "",
            }
        raw_bars = panel.get("bars")
        bars = []
        for bar in raw_bars if isinstance(raw_bars, list) else []:
            if not isinstance(bar, dict):
                continue
            bx, by = x(bar.get("x")), y(bar.get("y"))
            bw = _number(bar.get("width"))
            bh = _number(bar.get("height"))
            if bx is None or by is None or bw is None or bh is None:
                continue
            w = round(max(bw * width / (right - left), 1.0), 1)
            h = round(max(min(bh * height / (bottom - top), y0 + height - by), 0.0), 1)
            bars.append({"x": bx, "y": by, "width": w, "height": h})
        if bars and zero is not None:
            return {"shape": "bars", "bars": bars, "zero": zero, "label": ""}
    return None


def _title(title: str, width: float) -> dict[str, Any]:
    """The title at the largest size that shows it whole, else cut at the smallest."""
    for size, lines_at_most, first in ((64, 2, 168), (52, 3, 160), (44, 3, 154)):
        lines, cut = wrap_text(title, size, width, lines_at_most, bold=True)
        if not cut or size == 44:
            height = round(size * 1.16)
            return {
                "size": size,
                "lines": [{"text": text, "y": first + n * height} for n, text in enumerate(lines)],
            }
    raise AssertionError("unreachable")


def card_context(post: Post, site_title: str, date: str) -> dict[str, Any]:
    """What `card.svg.j2` draws, every text cleaned and cut to fit, every coordinate a
    number computed here."""
    chart = chart_shape(post, (640.0, 352.0, 456.0, 170.0))
    figures = key_figures(post)
    if chart is not None:
        figures = figures[:4]
        cells = [(LEFT + 280 * (n % 2), 400 + 100 * (n // 2)) for n in range(len(figures))]
        value_width = 260.0
    else:
        cells = [(LEFT + 272 * n, 470) for n in range(len(figures))]
        value_width = 252.0
    for figure, (fx, fy) in zip(figures, cells, strict=True):
        size = 44.0
        while size > 22 and text_width(figure["value"], size, bold=True) > value_width:
            size -= 2
        figure.update(x=str(fx), y=str(fy), size=f"{size:g}", label_y=str(fy + 32))
    kind = KIND_NAMES.get(post.session_type, post.session_type.replace("_", " ").capitalize())
    title = _title(_text(post.title, MAX_TITLE_CHARS * 2), RIGHT - LEFT)
    description: list[dict[str, Any]] = []
    if chart is None:  # the room a chart would take
        top = title["lines"][-1]["y"] + 70 if title["lines"] else 330
        lines, _ = wrap_text(_text(post.description, MAX_TITLE_CHARS * 2), 28, RIGHT - LEFT, 2)
        description = [{"text": text, "y": top + 40 * n} for n, text in enumerate(lines)]
    footer_width = RIGHT - LEFT - 40
    site_lines, _ = wrap_text(_text(site_title, 120), 22, footer_width / 2, 1)
    author_lines, _ = wrap_text(_text(post.author, 120), 22, footer_width / 2, 1)
    return {
        "width": CARD_WIDTH,
        "height": CARD_HEIGHT,
        "font_family": FONT_FAMILY,
        "accent": ACCENTS.get(post.session_type, "#93c5fd"),
        "kind": _text(kind, 40).upper(),
        "date": _text(date, 40),
        "title": title,
        "description": description,
        "figures": figures,
        "chart": chart,
        "site_title": site_lines[0] if site_lines else "",
        "author": author_lines[0] if author_lines else "",
    }


def draw_cards(
    posts: Sequence[Post], pages: Renderer, site_title: str, cache: CardCache
) -> list[bytes]:
    """The posts' cards, in order: each SVG rendered by `pages` (the site's renderer),
    then taken from `cache` or drawn. Each SVG is checked once, there (`check_svg`)."""
    svgs = [
        _rendered(pages, card_context(post, site_title, utc_text(post.date, "%-d %B %-Y")))
        for post in posts
    ]
    return cache.pngs(svgs)


def _rendered(pages: Renderer, context: Mapping[str, Any]) -> str:
    return pages.render_template(CARD_TEMPLATE, context).decode("utf-8")


def card_svg(pages: Renderer, context: Mapping[str, Any]) -> str:
    """The card's SVG text: `card.svg.j2` rendered by the site's renderer, checked to
    name nothing outside itself."""
    svg = _rendered(pages, context)
    check_svg(svg)
    return svg


# -- from SVG text to PNG bytes ----------------------------------------------------------

_SVG = "{http://www.w3.org/2000/svg}"
_REFUSED_ELEMENTS = {"image", "feImage", "foreignObject", "script", "style"}
_OUTSIDE_URL = re.compile(r"url\(\s*['\"]?\s*(?!#)", re.I)


def check_svg(svg: str) -> None:
    """Refuse SVG text that could make the rasteriser read anything but itself: a
    DOCTYPE or entity, a processing instruction, an image, style sheet or script
    element, a link (`href`) that is not to an element of its own (`#id`), or a `url()`
    that is not one."""
    declaration = re.match(r"\s*<\?xml\s[^?]*\?>", svg)
    rest = svg[declaration.end() :] if declaration else svg
    if "<!" in svg.replace("<!--", "") or "<?" in rest:
        raise CardError("card.svg.j2: a card may hold no DOCTYPE, entity or processing instruction")
    try:
        root = ET.fromstring(svg)
    except ET.ParseError as exc:
        raise CardError(f"card.svg.j2: not well-formed SVG: {exc}") from None
    if root.tag != f"{_SVG}svg":
        raise CardError("card.svg.j2: the card is not an <svg> element in the SVG namespace")
    for element in root.iter():
        name = str(element.tag).rsplit("}", 1)[-1]
        if name in _REFUSED_ELEMENTS:
            raise CardError(
                f"card.svg.j2: a card may hold no <{name}> element (it could name something "
                "outside the card, or run)"
            )
        for attribute, value in element.attrib.items():
            local = attribute.rsplit("}", 1)[-1]
            if (local == "href" and not value.startswith("#")) or _OUTSIDE_URL.search(value):
                raise CardError(
                    f"card.svg.j2: <{name} {local}=...> names something outside the card"
                )


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) of a PNG, from its IHDR chunk."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR" or len(data) < 24:
        raise CardError("not a PNG image")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _font_files() -> list[str]:
    folder = shipped_templates_dir() / "fonts"
    return [str(folder / name) for name in FONTS]


@cache
def raster_id() -> str:
    """What, besides the SVG text, decides a card's bytes: the rasteriser's version and
    the fonts'. Part of every cache key."""
    import resvg_py

    digest = hashlib.sha256()
    for path in _font_files():
        digest.update(Path(path).read_bytes())
    return f"resvg-py {resvg_py.__version__}, fonts {digest.hexdigest()[:16]}"


def card_png(svg: str) -> bytes:
    """The PNG of a card's SVG text, drawn by resvg with the shipped fonts only (never
    the machine's): the same text gives the same bytes. The SVG is checked first."""
    import resvg_py

    check_svg(svg)
    try:
        data = bytes(
            resvg_py.svg_to_bytes(
                svg_string=svg,
                font_files=_font_files(),
                skip_system_fonts=True,
                font_family=FONT_FAMILY,
                sans_serif_family=FONT_FAMILY,
                serif_family=FONT_FAMILY,
                monospace_family=FONT_FAMILY,
                cursive_family=FONT_FAMILY,
                fantasy_family=FONT_FAMILY,
            )
        )
    except ValueError as exc:
        raise CardError(f"card.svg.j2: the card cannot be drawn: {exc}") from None
    width, height = png_size(data)
    if width < CARD_WIDTH or height < CARD_HEIGHT:
        raise CardError(
            f"card.svg.j2: the card is {width}x{height}; a card is at least "
            f"{CARD_WIDTH}x{CARD_HEIGHT}"
        )
    return data


PARALLEL_FROM = 32
"""Cards to draw at least, before they are drawn by worker processes on every core."""


def usable_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def draw_all(
    svgs: Sequence[str],
    parallel_from: int = PARALLEL_FROM,
    pool: ProcessPoolExecutor | None = None,
) -> list[bytes]:
    """`card_png` of each SVG, in order: in this process, or, for `parallel_from` cards
    or more on more than one core, by worker processes (`pool`, when given: starting
    one costs about a second; a card is a pure function of its SVG text, so who draws it
    changes no byte)."""
    workers = min(usable_cores(), len(svgs) // max(parallel_from, 1))
    if workers < 2:
        return [card_png(svg) for svg in svgs]
    if pool is not None:
        return list(pool.map(card_png, svgs, chunksize=4))
    with _workers(workers) as own:
        return list(own.map(card_png, svgs, chunksize=4))


def _workers(count: int) -> ProcessPoolExecutor:
    context = multiprocessing.get_context("forkserver")  # no copy of the caller's state
    return ProcessPoolExecutor(count, mp_context=context)


class CardCache:
    """Cards already drawn, by the SHA-256 of the rasteriser, the fonts and the SVG text,
    in a folder (the store's `gitflywheel/cards/`); None keeps nothing. A file that is
    not a PNG is drawn again; a folder that cannot be written is only not written."""

    def __init__(self, folder: Path | None, parallel_from: int = PARALLEL_FROM) -> None:
        self.folder = folder
        self.parallel_from = parallel_from
        self.drawn = 0  # cards drawn by this cache, not found in it
        self._pool: ProcessPoolExecutor | None = None
        self._drawing = False

    @contextmanager
    def drawing(self) -> Iterator[CardCache]:
        """This cache, its cards drawn by one set of worker processes, started when first
        needed and stopped at the end, however many batches are drawn meanwhile (outside,
        each call that draws many starts its own)."""
        self._drawing = True
        try:
            yield self
        finally:
            self._drawing = False
            if self._pool is not None:
                self._pool.shutdown(cancel_futures=True)
                self._pool = None

    def _draw(self, svgs: Sequence[str]) -> list[bytes]:
        many = min(usable_cores(), len(svgs) // max(self.parallel_from, 1)) >= 2
        if self._drawing and many and self._pool is None:
            self._pool = _workers(usable_cores())
        return draw_all(svgs, self.parallel_from, self._pool)

    @staticmethod
    def key(svg: str) -> str:
        return hashlib.sha256(f"{raster_id()}\n{svg}".encode()).hexdigest()

    def _path(self, key: str) -> Path | None:
        return self.folder / key[:2] / f"{key}.png" if self.folder is not None else None

    def _kept(self, key: str, svg: str) -> bytes | None:
        path = self._path(key)
        if path is None:
            return None
        try:
            data = path.read_bytes()
            width, height = png_size(data)
            if width >= CARD_WIDTH and height >= CARD_HEIGHT:
                check_svg(svg)
                return data
        except (OSError, CardError):
            pass
        return None

    def png(self, svg: str) -> bytes:
        """The card of `svg`: from the folder when it is there, else drawn and kept."""
        return self.pngs([svg])[0]

    def pngs(self, svgs: Sequence[str]) -> list[bytes]:
        """The cards of `svgs`, in order: each from the folder when it is there, the rest
        drawn (`draw_all`) and kept."""
        keys = [self.key(svg) for svg in svgs]
        found: dict[str, bytes] = {}
        missing: dict[str, str] = {}
        for key, svg in zip(keys, svgs, strict=True):
            if key not in found and key not in missing:
                data = self._kept(key, svg)
                if data is None:
                    missing[key] = svg
                else:
                    found[key] = data
        drawn = self._draw(list(missing.values()))
        for key, data in zip(missing, drawn, strict=True):
            found[key] = data
            self.drawn += 1
            path = self._path(key)
            if path is not None:
                write_whole(path, data)
        return [found[key] for key in keys]
