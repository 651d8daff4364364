"""Session dates git accepts: a session from before 1970 gets a commit date git takes,
and a date-time whose UTC form no date-time can hold is a clear error, never a crash."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import Cli, fsck, git, session
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitflywheel.pipelines import run_pipeline
from gitflywheel.rendering.templates import Renderer, load_templates
from gitflywheel.session.records import InputErrors, format_timestamp, make_record
from gitflywheel.storage.commits import GIT_TIME_MAX, make_commit

# timestamp as given -> the record's UTC form, and the author date git shows (%at)
RECORDED = {
    "moon": ("1969-07-20T20:17:40Z", "1969-07-20T20:17:40Z", 0),
    "old": ("1900-01-01T00:00:00Z", "1900-01-01T00:00:00Z", 0),
    "year-one": ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z", 0),
    "year-one-west": ("0001-01-01T00:00:00-14:00", "0001-01-01T14:00:00Z", 0),
    "last-east": ("9999-12-31T23:59:59+14:00", "9999-12-31T09:59:59Z", 253402250399),
    "last": ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z", 253402300799),
    "epoch": ("1970-01-01T00:00:00+00:00", "1970-01-01T00:00:00Z", 0),
    "odd-offset": ("2025-12-02T03:30:00-23:59", "2025-12-03T03:29:00Z", 1764732540),
}
# valid ISO 8601, but in UTC before the year 1 or after 9999: refused
REFUSED = {
    "before-year-one": "0001-01-01T00:00:00+14:00",
    "after-9999": "9999-12-31T23:59:59-14:00",
    "far-west": "9999-12-31T00:01:00-23:59",
}


def _inputs(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for name, (given_, _, _) in RECORDED.items():
        (folder / f"{name}.json").write_text(json.dumps(session(name, timestamp=given_)))
    for name, given_ in REFUSED.items():
        (folder / f"{name}.json").write_text(json.dumps(session(name, timestamp=given_)))
    return folder


def test_every_session_date_makes_a_commit_git_accepts(
    cli: Cli, store: Path, tmp_path: Path
) -> None:
    result = cli.process("ingest", "--repo", store, _inputs(tmp_path))
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    assert "Traceback" not in stderr
    for name, given_ in REFUSED.items():
        line = f"error: {tmp_path / 'in' / name}.json: timestamp: {given_!r} is out of range"
        assert any(row.startswith(line) for row in stderr.splitlines()), (line, stderr)
    assert f"{len(RECORDED)} recorded, {len(REFUSED)} invalid" in stderr
    fsck(store)
    log = git("-C", store, "log", "--format=%(trailers:key=Session-Id,valueonly,separator=,) %at")
    dates = dict(line.split(" ") for line in log.splitlines() if not line.startswith(" "))
    assert dates == {name: str(at) for name, (_, _, at) in RECORDED.items()}
    for name, (_, utc, _) in RECORDED.items():
        manifest = json.loads(cli("show", "--repo", store, name).stdout)
        record = json.loads(cli("show", "--repo", store, name, "record").stdout)
        assert manifest["timestamp"] == record["timestamp"] == utc
    assert cli("verify", "--repo", store, "--full").exit_code == 0


def test_a_server_that_checks_objects_takes_them(cli: Cli, store: Path, tmp_path: Path) -> None:
    """A remote with receive.fsckObjects refuses a date git cannot read; these it takes."""
    assert cli("ingest", "--repo", store, _inputs(tmp_path)).exit_code == 2
    remote = tmp_path / "remote.git"
    git("init", "-q", "--bare", "-b", "main", remote)
    git("-C", remote, "config", "receive.fsckObjects", "true")
    git("-C", store, "push", "-q", remote, "main")
    assert git("-C", remote, "rev-parse", "main") == git("-C", store, "rev-parse", "main")


def test_dates_in_commits_and_conversations(cli: Cli, store: Path, tmp_path: Path) -> None:
    """A build's commit time is free text, shown as given when UTC cannot hold it; a
    conversation's is a date-time, refused the same way as the session's."""
    build = session(
        "build-1",
        timestamp="0001-01-01T00:00:00Z",
        source_data={
            "git_commits": [
                {"message": "first", "timestamp": "0001-01-01T00:00:00+14:00"},
                {"message": "second", "timestamp": "0005-06-01T00:00:00+14:00"},
            ]
        },
    )
    talk = {
        "session_id": "talk-1",
        "session_type": "life_aria",
        "timestamp": "1000-01-01T00:00:00Z",
        "agent_id": "Agent-4",
        "source_data": {
            "conversations": [
                {"source": "user", "content": "hi", "timestamp": "9999-12-31T23:00:00-10:00"}
            ]
        },
    }
    path = tmp_path / "both.json"
    path.write_text(json.dumps([build, talk]))
    result = cli("ingest", "--repo", store, path)
    assert result.exit_code == 2
    assert (
        f"error: {path}[1]: source_data.conversations[0].timestamp: "
        "'9999-12-31T23:00:00-10:00' is out of range" in result.stderr
    )
    log = cli("show", "--repo", store, "build-1", "build_log").stdout
    assert "\ndate: 0001-01-01T00:00:00+00:00\n" in log  # the page shows it: the log does not
    assert " · 0001-01-01T00:00:00+14:00" in log  # as given
    assert " · 0005-05-31 10:00 UTC" in log
    fsck(store)


def test_ls_windows_at_the_ends_of_time(cli: Cli, store: Path, tmp_path: Path) -> None:
    assert cli("ingest", "--repo", store, _inputs(tmp_path)).exit_code == 2
    rows = json.loads(cli("ls", "--repo", store, "--json", "--until", "0001-01-01").stdout)
    assert {r["session_id"] for r in rows} == {"year-one", "year-one-west"}
    rows = json.loads(cli("ls", "--repo", store, "--json", "--since", "9999-12-31").stdout)
    assert {r["session_id"] for r in rows} == {"last", "last-east"}
    rows = json.loads(
        cli("ls", "--repo", store, "--json", "--since", "0001-01-01T00:00:00-14:00").stdout
    )
    assert "year-one" not in {r["session_id"] for r in rows}
    for option in ("--since", "--until"):
        bad = cli.process("ls", "--repo", store, option, "0001-01-01T00:00:00+14:00")
        assert bad.returncode == 2
        assert f"{option}: '0001-01-01T00:00:00+14:00' is out of range" in bad.stderr.decode()
        assert b"Traceback" not in bad.stderr


# -- properties ------------------------------------------------------------------------

_offsets = st.one_of(
    st.just(""),
    st.just("Z"),
    st.builds(
        lambda sign, h, m: f"{sign}{h:02d}:{m:02d}",
        st.sampled_from("+-"),
        st.integers(0, 23),
        st.integers(0, 59),
    ),
)
_moments = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(1, 1, 3)),
    st.datetimes(min_value=datetime(9999, 12, 29), max_value=datetime(9999, 12, 31, 23, 59)),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)),
)


def _utc_in_range(naive: datetime, offset: str) -> bool:
    if offset in ("", "Z"):
        return True
    minutes = int(offset[1:3]) * 60 + int(offset[4:6])
    shift = timedelta(minutes=minutes if offset[0] == "+" else -minutes)
    try:
        naive - shift
    except OverflowError:
        return False
    return True


_RENDERER = Renderer(load_templates())


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_moments, _offsets)
def test_any_timestamp_is_recorded_or_refused_as_out_of_range(naive: datetime, offset: str) -> None:
    text = naive.isoformat() + offset
    try:
        record = make_record("t.json", session("p-1", timestamp=text))
    except InputErrors as exc:
        assert not _utc_in_range(naive, offset), (text, str(exc))
        assert [p.field for p in exc.problems] == ["timestamp"]
        assert exc.problems[0].reason.startswith(f"{text!r} is out of range")
        return
    assert _utc_in_range(naive, offset), text
    stored = record.data["timestamp"]
    moment = record.session.timestamp
    assert stored == format_timestamp(moment) and stored.endswith("Z")
    assert datetime.fromisoformat(stored) == moment
    assert stored[:4] == f"{moment.astimezone(UTC).year:04d}"
    for spec in run_pipeline(record.session):
        _RENDERER.render(spec)
    commit = make_commit(b"0" * 40, [], b"m\n", b"a <a@b>", moment, 1764633600)
    assert 0 <= commit.author_time <= GIT_TIME_MAX
    if moment >= datetime(1970, 1, 1, tzinfo=UTC):
        assert commit.author_time == int(moment.timestamp())


@pytest.mark.parametrize("committed", [-5, 10**20])
def test_commit_dates_stay_in_what_git_reads(committed: int) -> None:
    """SOURCE_DATE_EPOCH out of range is clamped the same way."""
    moment = datetime(2025, 1, 1, tzinfo=timezone(timedelta(hours=5)))
    commit = make_commit(b"0" * 40, [], b"m\n", b"a <a@b>", moment, committed)
    assert 0 <= commit.commit_time <= GIT_TIME_MAX
    assert commit.author_time == int(moment.timestamp())
