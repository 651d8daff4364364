"""Benchmark: ingest, verify and list N generated sessions; compare with git's own tools.

Prints figures, never fails on timing. Ratios are against git run on the same data in
the same run: `git fast-import` writing the same history (fed by `git fast-export` of
the store), `git log --raw` walking it, `git ls-tree -r` listing it.

    .venv/bin/python scripts/bench_ingest.py --sessions 20000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def session(i: int) -> dict[str, object]:
    """A build session with a few commits; every one distinct."""
    commits = [
        {
            "hash": f"{i:08x}{j:032x}",
            "message": f"Change {j} of task {i}: tighten module {i % 97}",
            "author": f"agent-{i % 7}",
            "timestamp": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T{j:02d}:{i % 60:02d}:00Z",
            "files": [f"src/module_{i % 97}/part_{j}.py", f"tests/test_{i % 97}_{j}.py"],
        }
        for j in range(3)
    ]
    return {
        "session_id": f"bench-{i:07d}",
        "session_type": "build",
        "timestamp": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T20:{i % 60:02d}:{i % 59:02d}Z",
        "agent_id": f"agent-{i % 7}",
        "title": f"Task {i}: module {i % 97}",
        "metadata": {"duration_minutes": 30 + i % 90, "files_changed": 6, "commits": 3},
        "source_data": {"repo_path": f"example/repo-{i % 13}", "git_commits": commits},
    }


def run(cmd: list[str], **kw: object) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)  # type: ignore[call-overload]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=5000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    gfw = [sys.executable, "-m", "gitflywheel"]
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    tmp = Path(tempfile.mkdtemp(prefix="gfw-bench-"))
    data = tmp / "sessions.jsonl"
    with data.open("w") as f:
        for i in range(args.sessions):
            f.write(json.dumps(session(i)) + "\n")
    store = tmp / "store.git"
    n = args.sessions

    # Ingest in quarters: does the cost per session grow with the store?
    lines = data.read_text().splitlines(keepends=True)
    quarters: list[tuple[float, int]] = []
    for q in range(4):
        part = tmp / f"q{q}.jsonl"
        chunk = lines[q * n // 4 : (q + 1) * n // 4]
        part.write_text("".join(chunk))
        ingest = [*gfw, "ingest", "--repo", str(store), str(part)]
        quarters.append((run(ingest, env=env, stderr=subprocess.DEVNULL), len(chunk)))
    again = [*gfw, "ingest", "--repo", str(store), str(data)]
    t_again = run(again, env=env, stderr=subprocess.DEVNULL)
    t_ingest = sum(t for t, _ in quarters)
    rss_ingest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    # git's own fastest writer, on the same history.
    copy = tmp / "copy.git"
    subprocess.run(["git", "init", "-q", "--bare", str(copy)], check=True)
    export = tmp / "export.stream"
    with export.open("wb") as out:
        subprocess.run(["git", "-C", str(store), "fast-export", "main"], check=True, stdout=out)
    with export.open("rb") as stream:
        t_fast_import = run(["git", "-C", str(copy), "fast-import", "--quiet"], stdin=stream)

    t_verify = run([*gfw, "verify", "--repo", str(store), "--full"], stderr=subprocess.DEVNULL)
    t_verify_again = run([*gfw, "verify", "--repo", str(store)], stderr=subprocess.DEVNULL)
    t_git_log = run(["git", "-C", str(store), "log", "--raw", "-r", "--no-abbrev", "main"])
    t_fsck = run(["git", "-C", str(store), "fsck", "--strict"], stderr=subprocess.DEVNULL)
    t_ls = run([*gfw, "ls", "--repo", str(store)])
    t_git_ls = run(["git", "-C", str(store), "ls-tree", "-r", "main"])
    t_startup = run([*gfw, "--help"])
    packs = len(list((store / "objects" / "pack").glob("*.pack")))
    size = sum(p.stat().st_size for p in (store / "objects").rglob("*") if p.is_file())

    per = lambda t, k: 1000 * t / max(k, 1)  # noqa: E731
    print(
        f"sessions: {n:,}   store: {size / 1e6:.1f} MB in {packs} pack(s)   peak RSS of a child: {rss_ingest:.0f} MB"
    )
    for q, (took, count) in enumerate(quarters, start=1):
        print(f"ingest quarter {q}  : {took:7.2f} s  {per(took, count):6.2f} ms/session")
    print(
        f"ingest all again  : {t_again:7.2f} s  {per(t_again, n):6.2f} ms/session (all unchanged)"
    )
    print(
        f"git fast-import   : {t_fast_import:7.2f} s  same history; ingest/fast-import x{t_ingest / t_fast_import:.1f}"
    )
    print(
        f"verify --full     : {t_verify:7.2f} s  {per(t_verify, n):6.2f} ms/commit; vs git log --raw -r "
        f"({t_git_log:.2f} s) x{t_verify / t_git_log:.1f}, vs git fsck --strict ({t_fsck:.2f} s) x{t_verify / t_fsck:.1f}"
    )
    print(f"verify (nothing new): {t_verify_again:5.2f} s")
    print(
        f"ls                : {t_ls:7.2f} s  vs git ls-tree -r ({t_git_ls:.2f} s) x{t_ls / t_git_ls:.1f}"
    )
    print(f"startup (--help)  : {t_startup:7.2f} s")
    if args.keep:
        print(f"kept: {tmp}")
    else:
        subprocess.run(["rm", "-rf", str(tmp)], check=True)


if __name__ == "__main__":
    main()
