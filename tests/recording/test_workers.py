"""Planning workers: each input planned by a worker is planned as this process plans it,
its problems and warnings included, and the answers come in the order asked."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from conftest import EXAMPLES, session

from gitflywheel.recording.folder_plan import TemplateSet
from gitflywheel.recording.screenshots import ScreenshotPolicy
from gitflywheel.recording.workers import PlannedSession, PlanPool, plan_input
from gitflywheel.rendering.templates import load_templates
from gitflywheel.session.records import InputErrors


def _inputs(tmp_path: Path) -> list[object]:
    (tmp_path / "title.png").write_bytes((EXAMPLES / "screens" / "title.png").read_bytes())
    shots = ["title.png", "missing.png", "https://example.com/a.png"]
    return [
        session("s-1"),
        session("s-2", source_data={"repo_path": "r", "screenshots": shots}),
        {"session_id": "s-3", "session_type": "build"},  # invalid: fields missing
        ["not", "a", "session"],
        session("s-4", title="Fourth"),
    ]


def _outcome(origin: str, value: object, base: Path, templates: TemplateSet) -> object:
    try:
        return plan_input(origin, value, base, templates, ScreenshotPolicy())
    except InputErrors as exc:
        return [str(p) for p in exc.problems]


def test_workers_plan_as_this_process_does_in_order(tmp_path: Path) -> None:
    templates = TemplateSet(load_templates())
    inputs = _inputs(tmp_path)
    here = [_outcome(f"in:{i}", v, tmp_path, templates) for i, v in enumerate(inputs)]
    pool = PlanPool(templates, ScreenshotPolicy(), 2)
    try:
        tickets = [pool.submit(f"in:{i}", v, tmp_path) for i, v in enumerate(inputs)]
        there: list[object] = []
        for ticket in tickets:
            try:
                there.append(ticket.result())
            except InputErrors as exc:
                there.append([str(p) for p in exc.problems])
    finally:
        pool.close()
    assert there == here
    planned = there[1]
    assert isinstance(planned, PlannedSession)
    assert any("missing.png" in w for w in planned.warnings)
    assert not any("example.com" in w for w in planned.warnings)  # a URL is no problem
    assert sum("/screenshots/" in path for path, _ in planned.files) == 1
    assert isinstance(there[2], list) and isinstance(there[3], list)


def test_a_worker_that_dies_ends_the_run(tmp_path: Path) -> None:
    """Not one input's problem: an OSError, which the command line reports as such."""
    pool = PlanPool(TemplateSet(load_templates()), ScreenshotPolicy(), 1)
    try:
        assert isinstance(pool.submit("a", session("s-1"), tmp_path).result(), PlannedSession)
        for worker in pool._workers:
            assert worker.process.pid is not None
            os.kill(worker.process.pid, signal.SIGKILL)
            worker.process.join()
        with pytest.raises(OSError, match="a planning process stopped"):
            pool.submit("b", session("s-2"), tmp_path).result()
    finally:
        pool.close()


def test_workers_give_each_post_the_address_one_process_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(20) A worker plans a new session with its title's slug; when another session's
    post lives there (recorded before, or earlier in the run), its turn plans it again
    with the session's day after the slug: the history is the one a single process makes."""
    import json

    from conftest import git

    from gitflywheel import config, show
    from gitflywheel.recording.ingest import ingest

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764900000")
    first = tmp_path / "first.json"
    first.write_text(json.dumps(session("n-0", title="Nightly cleanup")))
    batch = tmp_path / "batch.jsonl"
    rows = [
        session(
            f"n-{i}",
            title="Nightly cleanup" if i % 2 else f"Task {i}",
            timestamp=f"2025-12-0{3 + i // 4}T0{i}:00:00Z",
        )
        for i in range(1, 8)
    ]
    batch.write_text("".join(json.dumps(r) + "\n" for r in rows))
    tips = []
    for workers in (1, 2):
        store = tmp_path / f"w{workers}.git"
        config(store, "site.base_url", "https://me.example.org/")
        assert ingest(store, [str(first)]).exit_code == 0  # the store holds a session now
        report = ingest(store, [str(batch)], workers=workers, parallel_after=0)
        assert report.exit_code == 0 and report.count("recorded") == 7
        tips.append(git("-C", store, "rev-parse", "main").strip())
    assert tips[0] == tips[1]
    manifests = {f"n-{i}": show(tmp_path / "w2.git", f"n-{i}").slug for i in range(8)}
    assert manifests == {
        "n-0": "nightly-cleanup",
        "n-1": "nightly-cleanup-2025-12-03",
        "n-2": "task-2",
        "n-3": "nightly-cleanup-2025-12-03-2",
        "n-4": "task-4",
        "n-5": "nightly-cleanup-2025-12-04",
        "n-6": "task-6",
        "n-7": "nightly-cleanup-2025-12-04-2",
    }
