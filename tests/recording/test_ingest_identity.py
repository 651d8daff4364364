"""Bulk ingest makes exactly the history that one ingest per session makes.

However ingest batches, caches, packs or spreads its work, the commits are a function of
the sessions alone (with SOURCE_DATE_EPOCH set, as the tests do): a store built in one
bulk run has the same `main`, commit for commit, as one built a session at a time, and
both pass `git fsck --strict`.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import EXAMPLES, ROOT, fsck, git

from gitflywheel.recording.ingest import ingest


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench", ROOT / "scripts" / "bench.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench", module)  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _documents(tmp_path: Path) -> list[dict[str, Any]]:
    """Generated sessions of all three types, one with a screenshot file beside the
    input, one revised later in the run and one given twice (unchanged)."""
    bench = _bench()
    docs: list[dict[str, Any]] = [bench.session(7, i) for i in range(36)]
    (tmp_path / "screens").mkdir(exist_ok=True)
    (tmp_path / "screens" / "title.png").write_bytes(
        (EXAMPLES / "screens" / "title.png").read_bytes()
    )
    aria = next(d for d in docs if d["session_type"] == "life_aria")
    aria["source_data"]["screenshots"].append("screens/title.png")
    revised = json.loads(json.dumps(docs[3]))
    revised["title"] = "A second revision of this session"
    return [*docs, revised, docs[5]]


def _log(store: Path) -> list[str]:
    return git("-C", store, "rev-list", "main").split()


@pytest.mark.parametrize(
    ("batch_size", "workers", "parallel_after"),
    [(7, 1, 64), (500, 2, 1), (5, 2, 10)],
    ids=["small batches", "planned by workers", "workers after ten"],
)
@pytest.mark.slow
def test_bulk_ingest_makes_the_history_of_one_ingest_per_session(
    tmp_path: Path, batch_size: int, workers: int, parallel_after: int
) -> None:
    docs = _documents(tmp_path)
    one_by_one = tmp_path / "one.git"
    for number, doc in enumerate(docs):
        path = tmp_path / f"one-{number}.json"
        path.write_text(json.dumps(doc))
        report = ingest(one_by_one, [str(path)], revise=True, workers=1)
        assert report.exit_code == 0, report.outcomes
    bulk = tmp_path / "bulk.git"
    lines = tmp_path / "all.jsonl"
    lines.write_text("".join(json.dumps(doc) + "\n" for doc in docs))
    report = ingest(
        bulk,
        [str(lines)],
        revise=True,
        batch_size=batch_size,
        flush_seconds=1e9,
        workers=workers,
        parallel_after=parallel_after,
    )
    assert [o.status for o in report.outcomes][-2:] == ["revised", "unchanged"]
    assert report.count("recorded") == len(docs) - 2
    assert _log(bulk) == _log(one_by_one)
    assert len(_log(bulk)) == len(docs) - 1 + 1  # the setup commit, no commit for "unchanged"
    fsck(bulk)
    shots = git("-C", bulk, "ls-tree", "-r", "--name-only", "main").split()
    assert any("/screenshots/" in p for p in shots)


def test_workers_report_a_failing_template_as_one_process_does(tmp_path: Path) -> None:
    """A template that fails for some sessions: the same outcomes, problems and history
    whether the sessions are planned here or by workers."""
    docs = _documents(tmp_path)[:20]
    broken = tmp_path / "templates"
    broken.mkdir()
    # Fails (division by zero) for about half the build sessions, by their id.
    (broken / "readme.md.j2").write_text(
        '{% if session.short_id[0] in "01234567" %}{{ 1 // 0 }}{% endif %}# readme\n'
    )
    lines = tmp_path / "all.jsonl"
    lines.write_text("".join(json.dumps(doc) + "\n" for doc in docs))
    seen = []
    for workers in (1, 2):
        store = tmp_path / f"w{workers}.git"
        report = ingest(
            store, [str(lines)], templates_dir=broken, workers=workers, parallel_after=1
        )
        seen.append(([(o.status, o.problems) for o in report.outcomes], _log(store)))
    assert seen[0] == seen[1]
    statuses = [status for status, _ in seen[0][0]]
    assert "invalid" in statuses and "recorded" in statuses
