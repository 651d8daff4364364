"""scripts/bench.py runs end to end: its quick smoke run reports every measure.

It judges no timing; it proves that the benchmark still works against today's commands.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

MEASURES = {
    "ingest_bulk",
    "verify_full",
    "verify_full_per_commit",
    "ingest_one",
    "verify_incremental",
    "ls_json_first",
    "which_blob_first",
    "ls_json_no_index",
    "ls_json",
    "which_blob",
    "rss_ingest_bulk",
    "rss_verify_full",
    "site_full",
    "site_full_drawing",
    "site_incremental",
    "site_backdated",
    "site_memory",
    "writers_failed_syncs",
    "writers_sync_median",
}
INFORMATION = {
    "ls_json_no_index",
    "site_full_drawing",
    "site_backdated",
    "writers_sync_median",
}  # figures beside a baseline
COUNTS = {"writers_failed_syncs"}  # a count that should be 0


@pytest.mark.slow
def test_quick_run_reports_every_measure(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench.py"), "--quick", "--json", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    assert set(report["measures"]) == MEASURES
    for name, m in report["measures"].items():
        if name in COUNTS:
            assert m["value"] == 0 and m["target"] == 0, name
            continue
        assert m["value"] > 0, name
        assert (m["target"] is None) == (name in INFORMATION), name
        assert name in INFORMATION or m["target"] > 0, name
        assert m["pass"] is None, name  # a smoke run judges nothing
        if m["baseline_name"] is not None:
            assert m["baseline"] > 0 and m["ratio"] > 0, name
    assert report["quick"] is True and report["sessions"] > 0
    assert report["facts"]["fast_import_same_commits"] is True
    assert report["facts"]["writers_every_session_everywhere"] is True
    # verify --full and fsck ran twice each, and the table compares the faster of each
    for runs, name in (
        ("verify_full_runs_seconds", "value"),
        ("git_fsck_full_runs_seconds", "baseline"),
    ):
        assert len(report["facts"][runs]) == 2
        cpu = report["facts"][runs.replace("_seconds", "_cpu_seconds")]
        assert len(cpu) == 2 and all(c > 0 for c in cpu)
        assert report["measures"]["verify_full"][name] == pytest.approx(
            min(report["facts"][runs]), abs=0.01
        )
    if Path("/proc/self/smaps_rollup").exists():  # the memory of all ingest's processes
        assert report["facts"]["ingest_bulk_all_processes_pss_mb"] > 10
    assert report["machine"]["cores"] > 0
    for package in ("dulwich", "zlib-ng", "resvg-py", "gitflywheel"):  # each printed too
        assert report["machine"][package] not in ("", "not installed"), package
        assert f"{package} {report['machine'][package]}" in done.stdout, package
    for name in MEASURES - {"rss_ingest_bulk", "rss_verify_full"}:
        assert report["measures"][name]["what"] in done.stdout


@pytest.mark.slow
def test_signed_quick_run_reports_signed_ingest(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "bench.py"),
            "--signed",
            "--quick",
            "--json",
            str(out),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    assert set(report["measures"]) == {"ingest_bulk_signed", "ingest_bulk_signing_cost"}
    for name, m in report["measures"].items():
        assert m["value"] > 0 and m["baseline"] > 0, name
        assert m["pass"] is None, name  # a smoke run judges nothing
    assert report["facts"]["same_trees"] is True
    assert report["facts"]["newest_50_signed_good"] is True
