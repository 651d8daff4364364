"""Time `gitflywheel site` at M sessions: a full build from empty site caches, a build
into the same folder after one new session, and the peak memory of a full build at M
and at M/2 (the RSS of its largest process, and the summed PSS of all its processes:
its page workers too); each a process of its own; and the files the full build left in
the store's `site-cache/`. Prints the figures and ratios; never judges.

    .venv/bin/python scripts/bench_site.py --sessions 1000 [--profile out.prof]

`--profile FILE` writes cProfile's figures of the rebuild after one new session.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import Runner, write_sessions  # noqa: E402

URL = ["--base-url", "http://bench.example/"]


def run(args: list[str], profile: Path | None = None) -> tuple[float, int]:
    """Seconds and peak RSS (MB) of one gitflywheel process."""
    lead = (
        [sys.executable, "-m", "cProfile", "-o", str(profile), "-m"]
        if profile
        else [
            sys.executable,
            "-m",
        ]
    )
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run([*lead, "gitflywheel", *args], check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(after, before) // 1024


def memory_of(args: list[str], tmp: Path) -> tuple[int, int]:
    """Peak RSS (MB) of the largest process of one gitflywheel command (/usr/bin/time
    when present), and the peak of its processes' summed PSS (MB, sampled from /proc)."""
    done = Runner(tmp).run([sys.executable, "-m", "gitflywheel", *args], whole=True)
    return round(done.rss_mb), round(done.tree_mb)


def files_in(folder: Path) -> tuple[int, int]:
    """How many files a folder holds, and their bytes, below it too."""
    sizes = [
        (Path(top) / name).stat().st_size for top, _, names in os.walk(folder) for name in names
    ]
    return len(sizes), sum(sizes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", type=Path)
    parser.add_argument("--keep", type=Path, help="a folder to work in, kept after")
    args = parser.parse_args()
    m = args.sessions
    tmp = args.keep or Path(tempfile.mkdtemp(prefix="bench-site-"))
    tmp.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1764900000")
    store = tmp / "site.git"

    def ingest(name: str, indices: range) -> None:
        path = write_sessions(tmp / name, args.seed, indices)
        run(["ingest", "--repo", str(store), str(path)])

    def site(out: Path, profile: Path | None = None) -> tuple[float, int]:
        return run(["site", "--repo", str(store), str(out), *URL], profile)

    ingest("half.jsonl", range(m // 2))
    half_rss, half_tree = memory_of(["site", "--repo", str(store), str(tmp / "half"), *URL], tmp)
    ingest("rest.jsonl", range(m // 2, m))
    shutil.rmtree(store / "gitflywheel" / "site-cache", ignore_errors=True)
    full_rss, full_tree = memory_of(["site", "--repo", str(store), str(tmp / "rss"), *URL], tmp)
    shutil.rmtree(store / "gitflywheel" / "site-cache", ignore_errors=True)
    full, _ = site(tmp / "full")
    cache_files, cache_bytes = files_in(store / "gitflywheel" / "site-cache")
    ingest("one.jsonl", range(m + 10_000, m + 10_001))
    again, _ = site(tmp / "full", args.profile)
    print(f"sessions            {m:,}")
    print(f"full build          {full:.2f} s")
    print(f"after one new       {again:.2f} s  ({again / full:.3f} of full)")
    print(
        f"site cache          {cache_files:,} files, {cache_bytes / 1e6:.1f} MB after the full build"
    )
    print(
        f"peak RSS            {full_rss} MB at {m:,}, {half_rss} MB at {m // 2:,}"
        f"  ({full_rss / max(half_rss, 1):.2f})"
    )
    print(
        f"peak PSS, all procs {full_tree} MB at {m:,}, {half_tree} MB at {m // 2:,}"
        f"  ({full_tree / max(half_tree, 1):.2f})"
    )
    if args.keep is None:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
