"""Benchmark: `sync` refusing a blob of zeros over the object limit, against `git fetch`.

A store of two sessions is published to a bare hub on disk; the hub then commits a blob
of N zeros (2 GB by default: a few megabytes packed). Prints the time and the peak memory
(of the process and everything it waited for) of `gitflywheel sync` from the hub, which
refuses the blob from its pack header, and of `git fetch` of the same `main` into a bare
copy of the store, which takes it. Never fails on a figure.

    .venv/bin/python scripts/bench_sync_cap.py --bytes 2000000000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "data" / "corpus" / "dreamos"
GFW = [sys.executable, "-m", "gitflywheel"]
_MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps({"code": done.returncode, "err": done.stderr.decode()[-300:],
                  "seconds": seconds, "peak": peak}))
"""


def run(*args: str | Path, cwd: Path | None = None) -> str:
    return subprocess.run(
        [*map(str, args)], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def measured(*args: str | Path) -> dict[str, object]:
    """Time and peak memory of a command, in a process of its own."""
    out = run(sys.executable, "-c", _MEASURE, *args)
    result: dict[str, object] = json.loads(out)
    return result


def setup(root: Path, size: int) -> tuple[Path, Path]:
    hub, mine = root / "hub.git", root / "mine.git"
    run("git", "init", "-q", "--bare", "-b", "main", hub)
    run(*GFW, "ingest", "--repo", mine, *sorted(CORPUS.glob("*.json"))[:2])
    run(*GFW, "publish", "--repo", mine, hub)
    zeros = root / "zeros.bin"
    with open(zeros, "wb") as f:
        f.truncate(size)
    blob = run("git", "-C", hub, "hash-object", "-w", zeros).strip()
    zeros.unlink()
    listing = run("git", "-C", hub, "ls-tree", "main")
    tree = subprocess.run(
        ["git", "-C", str(hub), "mktree"],
        input=f"{listing}100644 blob {blob}\tzeros.bin\n",
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    commit = subprocess.run(
        ["git", "-C", str(hub), "commit-tree", tree, "-p", "main", "-m", "Zeros"],
        check=True,
        capture_output=True,
        text=True,
        env={"GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@b", "GIT_COMMITTER_NAME": "A",
             "GIT_COMMITTER_EMAIL": "a@b", "PATH": "/usr/bin:/bin"},
    ).stdout.strip()  # fmt: skip
    run("git", "-C", hub, "update-ref", "refs/heads/main", commit)
    run("git", "-C", hub, "repack", "-adq")
    return hub, mine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bytes", type=int, default=2_000_000_000, help="zeros in the blob")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-sync-cap-") as tmp:
        root = Path(tmp)
        os.chdir(root)  # the installed gitflywheel, not the source folder beside it
        hub, mine = setup(root, args.bytes)
        packed = sum(p.stat().st_size for p in (hub / "objects" / "pack").glob("*.pack"))
        copy = root / "copy.git"
        run("git", "clone", "-q", "--bare", mine, copy)
        sync = measured(*GFW, "sync", "--repo", mine, hub)
        fetch = measured("git", "-C", copy, "fetch", "-q", str(hub), "main")
    print(f"blob of {args.bytes:,} zeros; the hub's packs: {packed:,} bytes")
    for name, m in (("gitflywheel sync (refuses)", sync), ("git fetch (takes)", fetch)):
        print(
            f"{name:28} exit {m['code']}  {m['seconds']:7.2f} s  "
            f"peak {int(m['peak']) / 2**20:8.1f} MiB"  # type: ignore[call-overload]
        )
    print(f"sync said: {str(sync['err']).strip()}")


if __name__ == "__main__":
    main()
