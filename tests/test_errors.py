"""Errors, never tracebacks: one bad session does not sink its batch, and a store or a
file that cannot be written is one line naming it and why, with the documented exit code."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Cli, fsck, git, session, snapshot

from gitflywheel.rendering.templates import shipped_templates_dir

VALID = 30


def batch(tmp_path: Path, *odd: dict[str, object], at: int = VALID // 2) -> Path:
    """30 valid sessions with the odd ones in the middle, as one JSON array."""
    sessions = [session(f"ok-{i:02d}") for i in range(VALID)]
    sessions[at:at] = list(odd)
    path = tmp_path / "batch.json"
    path.write_text(json.dumps(sessions))
    return path


def trade(session_id: str, price: object) -> dict[str, object]:
    return {
        "session_id": session_id,
        "session_type": "trade",
        "timestamp": "2025-12-02T03:30:00Z",
        "agent_id": "trader",
        "source_data": {
            "trades": [
                {
                    "symbol": "ACME",
                    "action": "buy",
                    "quantity": 1,
                    "price": price,
                    "exit_price": 2,
                    "timestamp": "2025-12-02T03:31:00Z",
                }
            ]
        },
    }


def stored_ids(store: Path) -> set[str]:
    log = git("-C", store, "log", "--format=%(trailers:key=Session-Id,valueonly,separator=,)")
    return {line for line in log.splitlines() if line}


def extra_line() -> int:
    """The line `templates_with` puts its extra text on."""
    return (shipped_templates_dir() / "readme.md.j2").read_text().count("\n") + 1


def templates_with(tmp_path: Path, extra: str) -> Path:
    """The shipped readme template with `extra` at its end."""
    folder = tmp_path / "templates"
    folder.mkdir()
    shipped = (shipped_templates_dir() / "readme.md.j2").read_text()
    (folder / "readme.md.j2").write_text(shipped + extra)
    return folder


# -- one bad session never sinks the batch ---------------------------------------------


def test_a_price_too_large_loses_nothing_else(cli: Cli, store: Path, tmp_path: Path) -> None:
    path = batch(tmp_path, trade("huge", 1e30), session("after-huge"))
    result = cli.process("ingest", "--repo", store, path)
    stderr = result.stderr.decode()
    assert "Traceback" not in stderr
    ids = stored_ids(store)
    assert {f"ok-{i:02d}" for i in range(VALID)} | {"after-huge"} <= ids
    if "huge" in ids:  # the formatters take any amount: recorded like the rest
        assert result.returncode == 0, stderr
    else:  # or one line, the input and the reason, and exit 2
        assert result.returncode == 2
        assert f"error: {path}[{VALID // 2}]: " in stderr
    fsck(store)
    assert cli("verify", "--repo", store, "--full").exit_code == 0


def test_a_template_failing_for_one_session_loses_only_that_one(
    cli: Cli, store: Path, tmp_path: Path
) -> None:
    path = batch(tmp_path, session("bad"), session("after-bad"))
    mine = templates_with(tmp_path, '{% if session.id == "bad" %}{{ 1/0 }}{% endif %}\n')
    result = cli.process("ingest", "--repo", store, path, "--templates", mine)
    stderr = result.stderr.decode()
    assert result.returncode == 2 and "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert errors == [
        f"error: {path}[{VALID // 2}]: rendering: template readme.md.j2, line {extra_line()}: "
        "ZeroDivisionError: division by zero"
    ]
    assert f"{VALID + 1} recorded, 1 invalid" in stderr
    assert stored_ids(store) == {f"ok-{i:02d}" for i in range(VALID)} | {"after-bad"}
    # nothing of it in any tree: the session after it was planned on the tree before it
    assert "/bad/" not in git("-C", store, "log", "--name-only", "--format=")
    fsck(store)
    assert cli("verify", "--repo", store, "--full").exit_code == 0
    again = cli("ingest", "--repo", store, path)  # the shipped templates take it
    assert again.exit_code == 0 and "1 recorded" in again.stderr


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("{{ 1/0 }}", "ZeroDivisionError: division by zero"),
        ("{% for i in range(10**9) %}.{% endfor %}", ""),
    ],
)
def test_a_template_failing_for_every_session_changes_nothing(
    cli: Cli, store: Path, tmp_path: Path, template: str, reason: str
) -> None:
    assert cli("init", "--repo", store).exit_code == 0
    before = snapshot(store)
    path = batch(tmp_path)
    mine = templates_with(tmp_path, template + "\n")
    result = cli.process("ingest", "--repo", store, path, "--templates", mine)
    stderr = result.stderr.decode()
    assert result.returncode == 2 and "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == VALID
    for i, line in enumerate(errors):
        assert line.startswith(
            f"error: {path}[{i}]: rendering: template readme.md.j2, line {extra_line()}: "
        )
        assert line.endswith(reason)
    assert snapshot(store) == before


def test_a_revision_that_fails_keeps_the_recorded_one(
    cli: Cli, store: Path, tmp_path: Path
) -> None:
    first = tmp_path / "first.json"
    first.write_text(json.dumps(session("rev-1")))
    assert cli("ingest", "--repo", store, first).exit_code == 0
    tip = git("-C", store, "rev-parse", "main").strip()
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps([session("rev-1", title="Changed"), session("rev-2")]))
    mine = templates_with(tmp_path, '{% if session.id == "rev-1" %}{{ 1/0 }}{% endif %}\n')
    result = cli("ingest", "--repo", store, changed, "--revise", "--templates", mine)
    assert result.exit_code == 2
    assert git("-C", store, "rev-parse", "main~1").strip() == tip
    assert json.loads(cli("show", "--repo", store, "rev-1").stdout)["revision"] == 1
    changed = git("-C", store, "diff", "--name-only", tip, "main").split()
    assert changed and all("/rev-2/" in f or f.startswith("templates/") for f in changed)
    fsck(store)


# -- errors of the machine: one line, the thing and the reason, exit 2 -------------------


def _is_root() -> bool:
    return os.geteuid() == 0


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """`folder` cannot be written: a read-only bind mount as root (whom modes do not
    stop), its mode otherwise."""
    if _is_root():
        mounted = subprocess.run(["mount", "--bind", folder, folder], capture_output=True)
        if mounted.returncode != 0:
            pytest.skip(f"root, and no bind mount here: {mounted.stderr.decode().strip()}")
        try:
            done = subprocess.run(
                ["mount", "-o", "remount,ro,bind", folder], capture_output=True, check=False
            )
            if done.returncode != 0:
                pytest.skip(f"root, and no read-only remount here: {done.stderr.decode()}")
            yield
        finally:
            subprocess.run(["umount", folder], check=True)
        return
    modes = {p: p.stat().st_mode for p in [folder, *folder.rglob("*")] if p.is_dir()}
    for path in modes:
        path.chmod(stat.S_IMODE(modes[path]) & ~0o222)
    try:
        yield
    finally:
        for path, mode in modes.items():
            path.chmod(stat.S_IMODE(mode))


@contextlib.contextmanager
def tiny_disk(where: Path, size: str = "1m") -> Iterator[Path]:
    """A file system of `size` at `where`: a tmpfs, which needs root."""
    if not _is_root():
        pytest.skip("a full disk needs a small tmpfs, and mounting one needs root")
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", where], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"no tmpfs mount here: {done.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", where], check=True)


def refused(done: subprocess.CompletedProcess[bytes], *names: str) -> str:
    """Exit 2, one `error:` line naming each of `names`, no traceback."""
    stderr = done.stderr.decode()
    assert done.returncode == 2, stderr
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, stderr
    for name in names:
        assert name in lines[0], (name, lines[0])
    return lines[0]


def test_a_read_only_store(cli: Cli, store: Path, tmp_path: Path) -> None:
    assert cli("init", "--repo", store).exit_code == 0
    path = batch(tmp_path)
    before = snapshot(store)
    with read_only(store / "objects"):
        done = cli.process("ingest", "--repo", store, path)
    line = refused(done, str(store / "objects"))
    assert line.endswith(("Read-only file system", "Permission denied")), line
    assert snapshot(store) == before
    fsck(store)
    assert cli("ingest", "--repo", store, path).exit_code == 0  # writable again: it lands


def test_a_full_disk(cli: Cli, tmp_path: Path) -> None:
    with tiny_disk(tmp_path / "disk") as disk:
        store = disk / "store.git"
        assert cli("init", "--repo", store).exit_code == 0
        before = snapshot(store)
        with contextlib.suppress(OSError), open(disk / "filler", "wb") as filler:
            while True:
                filler.write(b"\0" * 4096)
                filler.flush()
        done = cli.process("ingest", "--repo", store, batch(tmp_path))
        line = refused(done, str(store))
        assert line.endswith("No space left on device"), line
        assert snapshot(store) == before  # no pack half written, main where it was
        (disk / "filler").unlink()
        fsck(store)
        assert cli("ingest", "--repo", store, batch(tmp_path)).exit_code == 0


@pytest.mark.slow
def test_a_report_that_cannot_be_written(cli: Cli, store: Path, tmp_path: Path) -> None:
    assert cli("ingest", "--repo", store, batch(tmp_path)).exit_code == 0
    nowhere = tmp_path / "no-such-folder" / "ssot.md"
    refused(cli.process("verify", "--repo", store, "--report", nowhere), str(nowhere))
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    under_file = a_file / "ssot.md"
    refused(cli.process("verify", "--repo", store, "--report", under_file), str(under_file))
    # a folder: click says so, as it says every bad option, with exit 2
    done = cli.process("verify", "--repo", store, "--report", tmp_path)
    assert done.returncode == 2 and b"is a directory" in done.stderr
    assert b"Traceback" not in done.stderr
    # nothing verified was lost: the next run (not --full) still checks everything
    ok = cli("verify", "--repo", store, "--json")
    assert ok.exit_code == 0 and json.loads(ok.stdout)["commits_checked"] == VALID + 1


def test_a_report_write_that_fails_keeps_the_result(cli: Cli, store: Path, tmp_path: Path) -> None:
    assert cli("ingest", "--repo", store, batch(tmp_path)).exit_code == 0
    folder = tmp_path / "reports"
    folder.mkdir()
    report = folder / "ssot.md"
    with read_only(folder):
        done = cli.process("verify", "--repo", store, "--report", report, "--json")
    line = refused(done, str(report))
    assert "cannot write the report" in line
    assert json.loads(done.stdout)["ok"] is True  # the result is out before the report


def test_export_onto_a_file(cli: Cli, store: Path, tmp_path: Path) -> None:
    assert cli("ingest", "--repo", store, batch(tmp_path)).exit_code == 0
    a_file = tmp_path / "a-file"
    a_file.write_text("mine\n")
    done = cli.process("export", "--repo", store, a_file)
    assert done.returncode == 2 and b"is a file" in done.stderr
    assert b"Traceback" not in done.stderr
    refused(cli.process("export", "--repo", store, a_file / "out"), str(a_file / "out"))
    assert a_file.read_text() == "mine\n"


def test_the_console_script_and_python_m_share_the_entry_point(
    cli: Cli, store: Path, tmp_path: Path
) -> None:
    """`gitflywheel` (the console script) and `python -m gitflywheel` turn an OSError
    into one line and exit 2, like the project's own errors."""
    from conftest import GFW

    assert cli("init", "--repo", store).exit_code == 0
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    script = Path(GFW[0]).parent / "gitflywheel"
    for command in ([str(script)], GFW):
        done = subprocess.run(
            [*command, "export", "--repo", str(store), str(a_file / "out")], capture_output=True
        )
        assert refused(done, str(a_file / "out")).endswith("Not a directory")
        done = subprocess.run([*command, "ls", "--repo", str(a_file)], capture_output=True)
        assert done.returncode == 2 and b"is a file" in done.stderr
        assert b"Traceback" not in done.stderr
