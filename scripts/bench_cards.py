"""Benchmark: what card images cost a site build, on a store of generated sessions.

Builds a store of N sessions from scripts/bench.py's generator (`--store PATH` keeps it
for the next run), then measures in process: the time to render one card's SVG
(`card.svg.j2` in the sandbox) and to draw it as a PNG (resvg, the shipped fonts) for
every published session (or `--sample N` of them; median and 95th percentile), the same
cards drawn together on every core (`draw_all`), and a whole `site` build with an empty
card cache and again with the cache it filled. Prints figures; never fails on
timing.

    .venv/bin/python scripts/bench_cards.py --sessions 3000 --store /tmp/bench-3k.git
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from gitflywheel.publishing.cards import (
    CardCache,
    card_context,
    card_png,
    card_svg,
    draw_all,
    raster_id,
    usable_cores,
)
from gitflywheel.publishing.posts import published_posts
from gitflywheel.publishing.site import build_site
from gitflywheel.rendering.sandbox import HTML
from gitflywheel.rendering.templates import SITE_TEMPLATES, Renderer, load_templates
from gitflywheel.storage.store import Store


def _bench() -> Any:
    """scripts/bench.py, for its session generator: both benchmarks share a corpus."""
    spec = importlib.util.spec_from_file_location("bench", Path(__file__).with_name("bench.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(ordered) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--store", type=Path, help="build the store here, or reuse it")
    parser.add_argument(
        "--sample", type=int, help="time one card at a time on this many sessions only"
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="gfw-bench-cards-"))
    store_path = args.store or tmp / "store.git"
    if not store_path.exists():
        data = _bench().write_sessions(tmp / "sessions.jsonl", args.seed, range(args.sessions))
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "gitflywheel", "ingest", "--repo", str(store_path), str(data)],
            check=True,
            env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000"},
            stderr=subprocess.DEVNULL,
        )
        print(
            f"built {store_path} ({args.sessions:,} sessions) in {time.perf_counter() - started:.0f} s"
        )
    print(f"load average {os.getloadavg()[0]:.2f}; {raster_id()}")
    pages = Renderer(load_templates(shipped=SITE_TEMPLATES), escaping=HTML, label="site template")
    with Store.open(store_path) as store:
        found = published_posts(store)
        posts = found.posts
        svg_times, png_times, sizes, charts, svgs = [], [], [], 0, []
        for post in posts[: args.sample]:
            started = time.perf_counter()
            context = card_context(post, "Work sessions", "1 January 2026")
            svg = card_svg(pages, context)
            svg_times.append(time.perf_counter() - started)
            svgs.append(svg)
            started = time.perf_counter()
            data = card_png(svg)
            png_times.append(time.perf_counter() - started)
            sizes.append(len(data))
            charts += context["chart"] is not None
        print(
            f"{len(posts):,} published sessions; timed one at a time: {len(svg_times):,} cards, {charts:,} with a chart"
        )
        print(f"card SVG (context + template): {_ms(svg_times)}")
        print(f"card PNG (resvg):              {_ms(png_times)}")
        print(f"card PNG size: median {statistics.median(sizes) / 1024:.0f} KiB")
        started = time.perf_counter()
        draw_all(svgs)
        took = time.perf_counter() - started
        print(
            f"card PNGs drawn together (draw_all, {usable_cores()} cores): "
            f"{took / len(svgs) * 1000:.1f} ms a card"
        )
        cache = CardCache(tmp / "cards")
        for label in ("site build, empty card cache", "site build, card cache filled"):
            drawn_before = cache.drawn
            started = time.perf_counter()
            build_site(store, base_url="https://example.org/", posts=found, cards=cache)
            took = time.perf_counter() - started
            print(f"{label}: {took:.1f} s ({cache.drawn - drawn_before:,} cards drawn)")
        print(f"(the cache holds {sum(1 for _ in (tmp / 'cards').rglob('*.png')):,} files)")
    print(f"temporary files in {tmp}")


if __name__ == "__main__":
    main()
