"""Benchmark: `ls --json` and `which BLOB` against `git ls-tree -r main`, on one store.

Prints figures (the best of a few runs, each with the load average beside it, as the
machine may be shared) and the ratios to git in the same run; never fails on timing.
The store is built once (`--store PATH` keeps it for the next run); `--python-path DIR`
runs another checkout of gitflywheel against the same store, to compare versions.

    .venv/bin/python scripts/bench_query.py --sessions 20000 --store /tmp/bench-20k.git
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _bench_ingest_session() -> object:
    """The generator of scripts/bench_ingest.py, so both benchmarks share a corpus."""
    spec = importlib.util.spec_from_file_location(
        "bench_ingest", Path(__file__).with_name("bench_ingest.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.session


def timed(cmd: list[str], env: dict[str, str], runs: int, cwd: Path) -> tuple[float, float, float]:
    """(best time, time of the first run, load average of the last minute at the best)."""
    times, loads = [], []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env, cwd=cwd)
        times.append(time.perf_counter() - started)
        loads.append(os.getloadavg()[0])
    best = min(range(runs), key=times.__getitem__)
    return times[best], times[0], loads[best]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=20000)
    parser.add_argument("--store", type=Path, help="build the store here, or reuse it")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--python-path", help="run the gitflywheel found here instead")
    args = parser.parse_args()
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    if args.python_path:
        env["PYTHONPATH"] = args.python_path
    gfw = [sys.executable, "-m", "gitflywheel"]
    store = args.store or Path(tempfile.mkdtemp(prefix="gfw-bench-query-")) / "store.git"
    if not store.exists():
        session = _bench_ingest_session()
        data = store.parent / f"{store.name}.jsonl"
        with data.open("w") as f:
            for i in range(args.sessions):
                f.write(json.dumps(session(i)) + "\n")  # type: ignore[operator]
        started = time.perf_counter()
        subprocess.run(
            [*gfw, "ingest", "--repo", str(store), str(data)],
            check=True,
            env={k: v for k, v in env.items() if k != "PYTHONPATH"},
            stderr=subprocess.DEVNULL,
        )
        print(f"built {store} in {time.perf_counter() - started:.0f} s")
    listing = subprocess.run(
        ["git", "-C", str(store), "ls-tree", "-r", "main"], check=True, capture_output=True
    ).stdout.decode()
    posts = [line.split()[2] for line in listing.splitlines() if line.endswith("/blog_post.md")]
    blob = posts[len(posts) // 2]
    sessions = len(posts)
    version = subprocess.run(
        [*gfw, "--version"], env=env, cwd=store.parent, capture_output=True, check=True
    )
    where = subprocess.run(
        [sys.executable, "-c", "import gitflywheel; print(gitflywheel.__file__)"],
        env=env,
        cwd=store.parent,
        capture_output=True,
        check=True,
    )

    rows = {
        "git ls-tree -r main": ["git", "-C", str(store), "ls-tree", "-r", "main"],
        "ls --json": [*gfw, "ls", "--repo", str(store), "--json"],
        "ls --agent --json": [*gfw, "ls", "--repo", str(store), "--agent", "agent-3", "--json"],
        "which BLOB": [*gfw, "which", "--repo", str(store), blob],
        "--help (startup)": [*gfw, "--help"],
    }
    print(f"sessions: {sessions:,}   store: {store}   cores: {os.cpu_count()}")
    print(f"{version.stdout.decode().strip()} from {where.stdout.decode().strip()}")
    base = None
    for name, cmd in rows.items():
        # From the store's folder: `python -m` puts the working folder first on sys.path,
        # and a checkout there would shadow the gitflywheel asked for.
        best, first, load = timed(cmd, env, args.runs, store.parent)
        base = base or best
        print(
            f"{name:<22} best {best:7.3f} s  first {first:7.3f} s  "
            f"x{best / base:5.1f} git ls-tree   (load {load:.2f})"
        )


if __name__ == "__main__":
    main()
