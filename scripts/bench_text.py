"""Benchmark: every text stage a session's free text passes through, at 1, 2 and 4 MB.

Each stage runs on the same kinds of hostile text (many words; one long word; one long
word that ends in a link; a local path repeated) at three sizes, and the table prints
the seconds per MB at each size and the ratio of the 4 MB figure to the 1 MB figure:
about 1 when the stage is linear in its input, about 4 when it is quadratic. It judges
nothing and never fails.

    .venv/bin/python scripts/bench_text.py [--sizes 1 2 4] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gitflywheel import escape
from gitflywheel.jsontext import dumps_canonical, loads
from gitflywheel.pipelines import run_pipeline
from gitflywheel.pipelines.social import thread
from gitflywheel.publishing.markdown_html import render_markdown
from gitflywheel.session.public_text import scrub
from gitflywheel.session.records import make_record

MB = 1_000_000
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "build_session.json"

TEXTS: dict[str, Callable[[int], str]] = {
    "words": lambda n: ("a sentence of work, said plainly. " * (n // 35 + 1))[:n],
    "one word": lambda n: "x" * n,
    "word + link": lambda n: "x" * (n - 30) + "https://example.com/" + "y" * 10,
    "paths": lambda n: ("C:\\Users\\me\\AppData\\Local\\Temp\\tmpab12cd34 " * (n // 43 + 1))[:n],
}


def _session(text: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["overview"] = text
    return data


def _pipeline(text: str) -> object:
    return run_pipeline(make_record("bench", _session(text)).session)


STAGES: dict[str, Callable[[str], object]] = {
    "parse JSON (jsontext.loads)": lambda t: loads(dumps_canonical(_session(t))),
    "validate (make_record)": lambda t: make_record("bench", _session(t)),
    "plain_text": escape.plain_text,
    "md_inline": escape.md_inline,
    "yaml_string": escape.yaml_string,
    "scrub (public text)": scrub,
    "social thread": lambda t: thread([t]),
    "build pipeline (S1-S7)": _pipeline,
    "Markdown to HTML": lambda t: render_markdown(t, lambda url: url),
}


def seconds(stage: Callable[[str], object], text: str, repeat: int) -> float:
    """The best of `repeat` runs: the least disturbed by the rest of the machine."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        stage(text)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1, 2, 4], help="MB")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure, the best kept")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    sizes: list[float] = args.sizes
    rows = []
    head = f"{'stage':30} {'text':12}" + "".join(f" {f'{s:g} MB s/MB':>12}" for s in sizes)
    print(head + f" {'ratio':>7}")
    for stage_name, stage in STAGES.items():
        for text_name, make in TEXTS.items():
            per_mb = []
            for size in sizes:
                n = int(size * MB)
                try:
                    per_mb.append(seconds(stage, make(n), args.repeat) / size)
                except Exception as exc:  # a stage may refuse such text: say so, go on
                    per_mb.append(float("nan"))
                    refusal = f"{type(exc).__name__}: {str(exc)[:60]}"
                    print(f"{stage_name:30} {text_name:12} refused at {size:g} MB: {refusal}")
                    break
            ratio = per_mb[-1] / per_mb[0] if len(per_mb) == len(sizes) and per_mb[0] else None
            cells = "".join(f" {v:12.3f}" for v in per_mb)
            print(
                f"{stage_name:30} {text_name:12}{cells} {ratio if ratio is None else round(ratio, 2)!s:>7}"
            )
            rows.append(
                {"stage": stage_name, "text": text_name, "seconds_per_mb": per_mb, "ratio": ratio}
            )
    if args.json:
        args.json.write_text(json.dumps({"sizes_mb": sizes, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
