"""Benchmark: how long `git push` takes with the gitflywheel hook installed, and without.

Two work repositories, each with its bare remote on disk; one has the hook. Each round
pushes one new commit from each, timed, in turns, so that the load of a shared machine
weighs on both sides alike; then it waits, untimed, for the hook's detached run to record
the push, so that a timed push pays only what the hook costs the push itself. Prints the
median of N pushes on each side, the median of the paired differences, and the time of the
hook script alone (fed one line as git would feed it, started through sh); never fails.

    .venv/bin/python scripts/bench_hook.py --pushes 40

With `--tags N`, it times instead one push of N new tags from each side (tags record
nothing, so this is what the hook costs a push of many refs) and prints both times and
their ratio: the hook should add a constant, whatever N.

    .venv/bin/python scripts/bench_hook.py --tags 20000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def git(*args: str | Path, cwd: Path) -> str:
    return subprocess.run(
        ["git", *map(str, args)], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def timed_push(work: Path) -> float:
    """Seconds to push one new commit."""
    (work / "counter.txt").write_text(f"{time.monotonic_ns()}\n")
    git("commit", "-q", "-am", "Count once more", cwd=work)
    start = time.perf_counter()
    git("push", "-q", "origin", "main", cwd=work)
    return time.perf_counter() - start


def make_work(root: Path, name: str) -> Path:
    remote = root / f"{name}-remote.git"
    work = root / name
    git("init", "-q", "--bare", "-b", "main", remote, cwd=root)
    git("init", "-q", "-b", "main", work, cwd=root)
    git("config", "user.name", "Bench", cwd=work)
    git("config", "user.email", "bench@example.com", cwd=work)
    git("remote", "add", "origin", remote, cwd=work)
    (work / "counter.txt").write_text("0\n")
    git("add", "counter.txt", cwd=work)
    git("commit", "-q", "-m", "Start", cwd=work)
    git("push", "-q", "origin", "main", cwd=work)
    return work


def runs_logged(log: Path) -> int:
    if not log.exists():
        return 0
    return sum(1 for line in log.read_text().splitlines() if '"event": "run"' in line)


def wait_for_run(log: Path, count: int, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while runs_logged(log) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def show(name: str, times: list[float]) -> float:
    ms = sorted(t * 1000 for t in times)
    median = statistics.median(ms)
    print(
        f"{name:<14} median {median:7.1f} ms   min {ms[0]:7.1f}   "
        f"p90 {ms[int(len(ms) * 0.9) - 1]:7.1f}   max {ms[-1]:7.1f}   ({len(ms)} pushes)"
    )
    return median


def timed_tags_push(work: Path, count: int) -> float:
    """Seconds to push `count` new tags, all on HEAD."""
    head = git("rev-parse", "HEAD", cwd=work).strip()
    stamp = time.monotonic_ns()
    lines = "".join(f"create refs/tags/t{stamp}-{n} {head}\n" for n in range(count))
    subprocess.run(["git", "update-ref", "--stdin"], cwd=work, input=lines, text=True, check=True)
    start = time.perf_counter()
    git("push", "-q", "origin", "--tags", cwd=work)
    return time.perf_counter() - start


def bench_tags(root: Path, count: int, rounds: int) -> None:
    plain = make_work(root, "plain")
    hooked = make_work(root, "hooked")
    subprocess.run(
        [sys.executable, "-m", "gitflywheel", "hook", "install", "--repo", root / "store.git"],
        cwd=hooked,
        check=True,
        capture_output=True,
    )
    without: list[float] = []
    with_hook: list[float] = []
    for _ in range(rounds):
        without.append(timed_tags_push(plain, count))
        with_hook.append(timed_tags_push(hooked, count))
    print(
        f"git push of {count:,} new tags to a bare remote on disk "
        f"({sys.platform}, git {git_version()}, best of {rounds})"
    )
    best_without, best_with = min(without), min(with_hook)
    print(f"without hook   {best_without * 1000:9.1f} ms")
    print(f"with hook      {best_with * 1000:9.1f} ms")
    print(
        f"ratio          {best_with / best_without:9.2f}   "
        f"(the hook adds {(best_with - best_without) * 1000:+.1f} ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--pushes", type=int, default=40, help="pushes per side (default 40)")
    parser.add_argument(
        "--tags", type=int, default=0, help="time one push of this many tags per side instead"
    )
    parser.add_argument("--rounds", type=int, default=3, help="tag pushes per side (default 3)")
    args = parser.parse_args()
    for key in [k for k in os.environ if k.startswith("GIT_")]:
        del os.environ[key]
    if args.tags:
        with tempfile.TemporaryDirectory(prefix="gfw-bench-hook-") as tmp:
            os.environ.update(HOME=tmp, GIT_CONFIG_NOSYSTEM="1")
            bench_tags(Path(tmp), args.tags, args.rounds)
        return
    with tempfile.TemporaryDirectory(prefix="gfw-bench-hook-") as tmp:
        root = Path(tmp)
        os.environ.update(HOME=str(root), GIT_CONFIG_NOSYSTEM="1")
        plain = make_work(root, "plain")
        hooked = make_work(root, "hooked")
        store = root / "store.git"
        subprocess.run(
            [sys.executable, "-m", "gitflywheel", "hook", "install", "--repo", store],
            cwd=hooked,
            check=True,
            capture_output=True,
        )
        log = store / "gitflywheel" / "hook.log"
        for _ in range(3):  # warm the caches
            timed_push(plain)
        without: list[float] = []
        with_hook: list[float] = []
        for round_ in range(args.pushes):
            without.append(timed_push(plain))
            with_hook.append(timed_push(hooked))
            wait_for_run(log, round_ + 1)
        # The hook script alone, fed what git feeds it for one new commit.
        hook = hooked / ".git" / "hooks" / "pre-push"
        alone: list[float] = []
        for round_ in range(args.pushes):
            before = git("rev-parse", "HEAD", cwd=hooked).strip()
            (hooked / "counter.txt").write_text(f"{time.monotonic_ns()}\n")
            git("commit", "-q", "-am", "Count once more", cwd=hooked)
            line = f"refs/heads/main {git('rev-parse', 'HEAD', cwd=hooked).strip()} "
            start = time.perf_counter()
            subprocess.run(  # through sh, as git would: the hook's parent ends with it
                ["sh", "-c", '"$0" "$@"; exit $?', hook, "origin", str(root / "hooked-remote.git")],
                cwd=hooked,
                input=f"{line}refs/heads/main {before}\n".encode(),
                check=True,
            )
            alone.append(time.perf_counter() - start)
            git("push", "-q", "--no-verify", "origin", "main", cwd=hooked)
            wait_for_run(log, args.pushes + round_ + 1)
        sessions = json.loads(
            subprocess.run(
                [sys.executable, "-m", "gitflywheel", "ls", "--repo", store, "--json"],
                check=True,
                capture_output=True,
            ).stdout
        )

    print(f"git push of one commit to a bare remote on disk ({sys.platform}, git {git_version()})")
    show("without hook", without)
    show("with hook", with_hook)
    diffs = [(b - a) * 1000 for a, b in zip(without, with_hook, strict=True)]
    print(
        f"the hook adds {statistics.median(diffs):+.1f} ms to a push (median of paired "
        f"differences; mean {statistics.mean(diffs):+.1f} ms; target: within 50 ms)"
    )
    show("hook alone", alone)
    print(f"sessions recorded by the hook: {len(sessions)} of {2 * args.pushes} pushes")


def git_version() -> str:
    return subprocess.run(
        ["git", "--version"], check=True, capture_output=True, text=True
    ).stdout.split()[-1]


if __name__ == "__main__":
    main()
