"""ingest: the corpus, identity and revisions, containers, reproducibility, packing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import CORPUS, EXAMPLES, GFW, Cli, fsck, git, session, snapshot

from gitflywheel.storage.layout import session_dir


def trailers(store: Path, key: str = "Session-Id") -> list[str]:
    out = git("-C", store, "log", f"--format=%(trailers:key={key},valueonly)")
    return [line for line in out.splitlines() if line.strip()]


def test_whole_corpus_goes_in_once(cli: Cli, store: Path) -> None:
    first = cli("ingest", "--repo", store, CORPUS, "--json")
    assert first.exit_code == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["counts"] == {
        "recorded": 54,
        "revised": 0,
        "unchanged": 7,
        "invalid": 0,
        "conflict": 0,
    }
    ids = trailers(store)
    assert len(ids) == 54 and len(set(ids)) == 54
    assert all(o["set_aside"] == ["artifacts", "pipeline_status"] for o in report["outcomes"])
    tip = git("-C", store, "rev-parse", "main")
    again = cli("ingest", "--repo", store, CORPUS)
    assert again.exit_code == 0
    assert "0 recorded" in again.stderr and "61 unchanged" in again.stderr
    assert git("-C", store, "rev-parse", "main") == tip
    fsck(store)
    # HEAD points at main, so plain git works with no options.
    assert git("-C", store, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert len(git("-C", store, "rev-list", "main").split()) == 55


def test_warnings_for_negative_durations(cli: Cli, store: Path) -> None:
    result = cli("ingest", "--repo", store, CORPUS)
    warned = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warned) == 26
    negative = [line for line in warned if "metadata.duration_minutes: is negative" in line]
    too_long = [line for line in warned if "is more than a day; left out of public" in line]
    assert (len(negative), len(too_long)) == (21, 5)
    manifest = json.loads(
        cli("show", "--repo", store, "646956dd-afa2-4ebd-9ba2-5df901282b7b").stdout
    )
    assert manifest["warnings"] == [
        "metadata.duration_minutes: is negative (-307); treated as unknown"
    ]


def test_commit_shape(cli: Cli, store: Path) -> None:
    assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    message = git("-C", store, "log", "-1", "--format=%B")
    assert message.splitlines()[0] == "Record build session 3f2b7c1e-8a4d-4e6f-9b21-5c7d8e9f0a1b"
    assert trailers(store, "Revision") == ["1"]
    assert trailers(store, "Agent-Id") == ["Agent-5"]
    assert trailers(store, "Session-Type") == ["build"]
    assert git("-C", store, "log", "-1", "--format=%an|%aI|%cI") == (
        "Agent-5|2025-12-04T16:45:00+00:00|2025-12-02T00:00:00+00:00\n"
    )
    folder = session_dir("3f2b7c1e-8a4d-4e6f-9b21-5c7d8e9f0a1b")
    files = git("-C", store, "ls-tree", "-r", "--name-only", "main", folder).split()
    assert sorted(f.rsplit("/", 1)[1] for f in files) == [
        "activity_chart.svg",
        "blog_post.md",
        "build_log.md",
        "facts.json",
        "manifest.json",
        "readme.md",
        "session.json",
        "social_post.md",
    ]
    record = json.loads(git("-C", store, "show", f"main:{folder}/session.json"))
    assert "artifacts" not in record and "pipeline_status" not in record
    templates = git("-C", store, "ls-tree", "--name-only", "main", "templates/").split()
    assert "templates/readme.md.j2" in templates


def test_same_sessions_same_main_with_source_date_epoch(cli: Cli, tmp_path: Path) -> None:
    a, b = tmp_path / "a.git", tmp_path / "b.git"
    for store in (a, b):
        assert cli("ingest", "--repo", store, CORPUS, EXAMPLES).exit_code == 0
    assert git("-C", a, "rev-parse", "main") == git("-C", b, "rev-parse", "main")


def test_conflict_then_revision(cli: Cli, store: Path, tmp_path: Path) -> None:
    first = tmp_path / "one.json"
    first.write_text(json.dumps(session("s-1", title="First")))
    assert cli("ingest", "--repo", store, first).exit_code == 0
    changed = tmp_path / "two.json"
    changed.write_text(json.dumps(session("s-1", title="Second")))
    before = snapshot(store)
    refused = cli("ingest", "--repo", store, changed)
    assert refused.exit_code == 3
    assert "session_id: 's-1' is already recorded (revision 1) with other content" in refused.stderr
    assert snapshot(store) == before
    revised = cli("ingest", "--repo", store, changed, "--revise")
    assert revised.exit_code == 0, revised.stderr
    assert trailers(store, "Revision") == ["2", "1"]
    assert git("-C", store, "log", "-1", "--format=%s").startswith(
        "Revise (revision 2) build session s-1"
    )
    folder = session_dir("s-1")
    assert json.loads(git("-C", store, "show", f"main:{folder}/session.json"))["title"] == "Second"
    assert json.loads(git("-C", store, "show", f"main~1:{folder}/session.json"))["title"] == "First"
    # the same revision again is unchanged, even with --revise
    assert cli("ingest", "--repo", store, changed, "--revise").exit_code == 0
    assert trailers(store, "Revision") == ["2", "1"]
    fsck(store)


def test_same_record_in_other_clothes_is_unchanged(cli: Cli, store: Path, tmp_path: Path) -> None:
    data = session("s-2", timestamp="2025-12-02T03:30:00Z", metadata={"duration_minutes": 5})
    one = tmp_path / "one.json"
    one.write_text(json.dumps(data))
    assert cli("ingest", "--repo", store, one).exit_code == 0
    other = json.dumps(
        {**data, "timestamp": "2025-12-02T04:30:00+01:00", "artifacts": {"x": 1}}, indent=7
    )
    (tmp_path / "two.json").write_text(other)
    result = cli("ingest", "--repo", store, tmp_path / "two.json", "--json")
    assert json.loads(result.stdout)["counts"]["unchanged"] == 1


def test_containers(cli: Cli, store: Path, tmp_path: Path) -> None:
    (tmp_path / "in" / "deeper").mkdir(parents=True)
    (tmp_path / "in" / "b.json").write_text(json.dumps([session("arr-1"), session("arr-2")]))
    (tmp_path / "in" / "deeper" / "a.jsonl").write_text(
        json.dumps(session("line-1")) + "\n\n" + json.dumps(session("line-2")) + "\n"
    )
    (tmp_path / "in" / "notes.txt").write_text("not a session")
    result = cli("ingest", "--repo", store, tmp_path / "in", "--json")
    assert result.exit_code == 0, result.stderr
    outcomes = json.loads(result.stdout)["outcomes"]
    origins = [Path(o["origin"]).name for o in outcomes]
    assert origins == ["b.json[0]", "b.json[1]", "a.jsonl:1", "a.jsonl:3"]
    one = cli("ingest", "--repo", store, "-", input=json.dumps(session("stdin-1")))
    assert one.exit_code == 0 and "1 recorded" in one.stderr
    lines = json.dumps(session("stdin-2")) + "\n" + json.dumps(session("stdin-3")) + "\n"
    many = cli("ingest", "--repo", store, "-", input=lines)
    assert many.exit_code == 0 and "2 recorded" in many.stderr
    assert len(trailers(store)) == 7


def test_jsonl_bad_line_reported_by_line(cli: Cli, store: Path, tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text(
        json.dumps(session("ok-1")) + "\n{not json\n" + json.dumps(session("ok-2")) + "\n"
    )
    result = cli("ingest", "--repo", store, path)
    assert result.exit_code == 2
    assert f"error: {path}:2: not valid JSON" in result.stderr
    assert len(trailers(store)) == 2


@pytest.mark.slow
def test_many_sessions_few_packs_small_trees(cli: Cli, store: Path, tmp_path: Path) -> None:
    path = tmp_path / "many.jsonl"
    path.write_text("".join(json.dumps(session(f"m-{i:05d}")) + "\n" for i in range(1500)))
    result = cli("ingest", "--repo", store, path)
    assert result.exit_code == 0, result.stderr
    counts = dict(line.split(": ") for line in git("-C", store, "count-objects", "-v").splitlines())
    assert counts["count"] == "0"  # no loose objects
    assert int(counts["packs"]) <= 12
    trees = git("-C", store, "ls-tree", "-r", "-t", "main", "sessions").splitlines()
    folders = {line.split("\t")[1] for line in trees if " tree " in line}
    buckets = [f for f in folders if f.count("/") <= 4]
    assert max(len(git("-C", store, "ls-tree", f"main:{f}").splitlines()) for f in buckets) <= 16
    assert {f.count("/") for f in folders} == {0, 1, 2, 3, 4, 5}
    fsck(store)


def permissions_apply() -> list[str]:
    """A command prefix under which file permissions hold: root's override dropped."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: file permissions do not apply")
    return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]


def test_unreadable_folder_or_file_is_reported_and_the_rest_lands(
    store: Path, tmp_path: Path
) -> None:
    sessions = tmp_path / "sessions"
    (sessions / "locked").mkdir(parents=True)
    (sessions / "a.json").write_text(json.dumps(session("readable-1")))
    (sessions / "locked" / "b.json").write_text(json.dumps(session("locked-1")))
    (sessions / "z.json").write_text(json.dumps(session("locked-2")))
    (sessions / "locked").chmod(0)
    (sessions / "z.json").chmod(0)
    try:
        done = subprocess.run(
            [*permissions_apply(), *GFW, "ingest", "--repo", store, sessions],
            capture_output=True,
            timeout=300,
        )
    finally:
        (sessions / "locked").chmod(0o755)
        (sessions / "z.json").chmod(0o644)
    stderr = done.stderr.decode()
    assert done.returncode == 2, stderr
    locked, file = sessions / "locked", sessions / "z.json"
    assert f"error: {locked}: cannot read this folder: Permission denied" in stderr
    assert f"error: {file}: cannot read: Permission denied" in stderr
    assert "1 recorded, 2 invalid" in stderr
    assert trailers(store) == ["readable-1"]
    fsck(store)


def test_fifo_named_like_an_input_is_refused_without_blocking(store: Path, tmp_path: Path) -> None:
    sessions = tmp_path / "sessions"
    sessions.mkdir()
    (sessions / "a.json").write_text(json.dumps(session("fifo-neighbour-1")))
    os.mkfifo(sessions / "x.json")
    os.mkfifo(tmp_path / "named.jsonl")
    done = subprocess.run(
        [*GFW, "ingest", "--repo", store, sessions, tmp_path / "named.jsonl"],
        capture_output=True,
        timeout=60,
    )
    stderr = done.stderr.decode()
    assert done.returncode == 2, stderr
    assert f"error: {sessions / 'x.json'}: not a regular file (a FIFO); not read" in stderr
    assert f"error: {tmp_path / 'named.jsonl'}: not a regular file (a FIFO); not read" in stderr
    assert trailers(store) == ["fifo-neighbour-1"]
    fsck(store)


def test_a_link_out_of_the_folder_is_not_read(store: Path, tmp_path: Path) -> None:
    """`ingest DIR` reads the files in DIR: a `.json` that is a symbolic link to a file
    elsewhere (a key, someone's notes) is refused; a link to a file inside DIR is read."""
    sessions = tmp_path / "sessions"
    (sessions / "sub").mkdir(parents=True)
    outside = tmp_path / "private.json"
    outside.write_text(json.dumps(session("outside-1")))
    (sessions / "a.json").write_text(json.dumps(session("inside-1")))
    (sessions / "link-out.json").symlink_to(outside)
    (sessions / "sub" / "up.json").symlink_to(Path("..", "..", "private.json"))
    (sessions / "sub" / "same.json").symlink_to(Path("..", "a.json"))
    done = subprocess.run([*GFW, "ingest", "--repo", store, sessions], capture_output=True)
    stderr = done.stderr.decode()
    assert done.returncode == 2, stderr
    reason = "a symbolic link to a file outside the folder; not read"
    assert f"error: {sessions / 'link-out.json'}: {reason}" in stderr
    assert f"error: {sessions / 'sub' / 'up.json'}: {reason}" in stderr
    assert trailers(store) == ["inside-1"]
    fsck(store)


def test_a_report_that_only_counts_says_what_one_that_keeps_says() -> None:
    """Ingest's command line keeps no outcome unless it prints them all (--json)."""
    from gitflywheel.recording.ingest import IngestReport, Outcome

    given = [Outcome("a", "recorded"), Outcome("b", "invalid"), Outcome("c", "recorded")]
    kept, counted = IngestReport("s"), IngestReport("s")
    for outcome in given:
        kept.add(outcome)
        counted.add(outcome, keep=False)
    assert counted.outcomes == [] and kept.outcomes == given
    for status in ("recorded", "invalid", "conflict"):
        assert counted.count(status) == kept.count(status)
    assert counted.exit_code == kept.exit_code == 2
