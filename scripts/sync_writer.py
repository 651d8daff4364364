"""One writer of many sharing a remote: ingest each session of a JSON Lines file, one at
a time, and `sync` after each, as a person (or the push hook) does.

Prints one JSON object per sync (the session, the sync's action, its attempts and
seconds, or its error) and exits 1 when any sync failed. scripts/bench.py and
tests/remotes/test_sync_contention.py start several at once against one `git daemon`.

    .venv/bin/python scripts/sync_writer.py STORE URL SESSIONS.jsonl [--timeout 60]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from gitflywheel import api
from gitflywheel.errors import GitflywheelError


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("store", type=Path)
    parser.add_argument("url")
    parser.add_argument("sessions", type=Path)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    failed = False
    with tempfile.TemporaryDirectory(prefix="gfw-writer-") as scratch:
        one = Path(scratch) / "session.json"
        for line in args.sessions.read_text(encoding="utf-8").splitlines():
            one.write_text(line, encoding="utf-8")
            report = api.ingest(args.store, [one])
            row: dict[str, object] = {"session": json.loads(line)["session_id"]}
            if report.exit_code != 0:
                row["error"] = f"ingest exited {report.exit_code}"
                failed = True
            else:
                started = time.perf_counter()
                try:
                    result = api.sync(args.store, args.url, timeout=args.timeout)
                    row.update(action=result.action, attempts=result.attempts, pushed=result.pushed)
                except GitflywheelError as exc:
                    row["error"] = str(exc)
                    failed = True
                row["seconds"] = round(time.perf_counter() - started, 3)
            print(json.dumps(row), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
