"""The progress line: drawn on standard error when it is a terminal (a real
pseudo-terminal here), never in a pipe, with --json or --quiet, and erased at the end."""

from __future__ import annotations

import fcntl
import io
import json
import os
import pty
import shutil
import struct
import subprocess
import termios
from pathlib import Path

import pytest
from conftest import CORPUS, EXAMPLES, GFW, Cli, session

from gitflywheel import ingest
from gitflywheel.console import Progress

ERASE = "\r\x1b[K"


def on_terminal(*args: str | Path, columns: int = 0) -> tuple[int, str, str]:
    """Run gitflywheel with standard error on a pseudo-terminal (`columns` wide, when
    given): (exit code, stdout, what the terminal got)."""
    main, child = pty.openpty()
    if columns:
        fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    process = subprocess.Popen(
        [*GFW, *map(str, args)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=child,
    )
    os.close(child)
    seen = bytearray()
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        seen += data
    os.close(main)
    out = process.stdout.read() if process.stdout else b""
    code = process.wait(timeout=300)
    return code, out.decode(), seen.decode("utf-8", "replace").replace("\r\n", "\n")


def in_a_pipe(*args: str | Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*GFW, *map(str, args)], capture_output=True, timeout=300)


@pytest.fixture()
def filled(cli: Cli, tmp_path: Path) -> Path:
    store = tmp_path / "s.git"
    assert (
        cli("ingest", "--repo", store, EXAMPLES, *sorted(CORPUS.glob("*.json"))[:6]).exit_code == 0
    )
    return store


def drawn(terminal: str, label: str) -> list[str]:
    """The progress lines drawn for `label`, as they were drawn."""
    return [
        part.split("\n")[0] for part in terminal.split(ERASE)[1:] if part.startswith(f"{label}: ")
    ]


def test_verify_and_site_draw_their_count_and_erase_it(filled: Path, tmp_path: Path) -> None:
    code, out, terminal = on_terminal("verify", "--repo", filled, "--full")
    assert code == 0 and out == ""
    lines = drawn(terminal, "verify")
    assert lines, terminal
    assert all(line.split()[1].count("/") == 1 and "commits" in line for line in lines)
    # erased before the first message, and not drawn again after it
    messages = terminal.split(ERASE)[-1]
    assert not messages.startswith("verify: ") and "\nOK: " in messages
    code, _, terminal = on_terminal("site", "--repo", filled, tmp_path / "out", "--no-feed")
    messages = terminal.split(ERASE)[-1]
    assert code == 0 and drawn(terminal, "site") == ["site: 1 sessions"]
    assert not messages.startswith("site: ") and "\nSite of " in messages


def test_ingest_counts_by_outcome_against_its_total(tmp_path: Path) -> None:
    code, _, terminal = on_terminal("ingest", "--repo", tmp_path / "s.git", EXAMPLES)
    assert code == 0
    lines = drawn(terminal, "ingest")
    assert lines and lines[0].startswith("ingest: 1/3 sessions 33% (1 recorded)"), lines
    assert terminal.endswith(f"{ERASE}3 recorded -> {tmp_path / 's.git'}\n")


def test_the_total_is_read_ahead_from_the_inputs(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    shutil.copytree(EXAMPLES, inputs)
    lines = [json.dumps(session(f"line-{n}")) for n in range(4)]
    (inputs / "more.jsonl").write_text("\n".join([lines[0], "", *lines[1:], "{broken"]) + "\n")
    (inputs / "empty.jsonl").write_text("")
    seen: list[tuple[int, int | None]] = []
    report = ingest(
        tmp_path / "s.git", [inputs, session("a-dict")], progress=lambda d, t: seen.append((d, t))
    )
    outcomes = len(report.outcomes)
    assert outcomes == 3 + 5 + 1 + 1  # examples, the lines (one broken), the empty file, the dict
    assert seen == [(n, outcomes) for n in range(1, outcomes + 1)]
    (tmp_path / "array.json").write_text(json.dumps([session("x"), session("y")]))
    seen.clear()
    ingest(tmp_path / "s.git", [tmp_path / "array.json"], progress=lambda d, t: seen.append((d, t)))
    assert seen == [(1, None), (2, None)]  # an array is counted only by parsing it
    seen.clear()
    ingest(
        tmp_path / "s.git",
        ["-"],
        stdin=io.BytesIO(b"{}"),
        progress=lambda d, t: seen.append((d, t)),
    )
    assert seen == [(1, None)]


def test_the_line_is_cut_to_the_terminal_width(filled: Path) -> None:
    code, _, terminal = on_terminal("verify", "--repo", filled, "--full", columns=12)
    lines = drawn(terminal, "verify")
    assert code == 0 and lines, terminal
    assert all(len(line) == 11 for line in lines), lines  # 11 columns: a wrap could not be erased


def test_nothing_is_drawn_in_a_pipe_with_json_or_quiet(filled: Path) -> None:
    piped = in_a_pipe("verify", "--repo", filled, "--full")
    assert piped.returncode == 0 and b"\x1b" not in piped.stderr and b"\r" not in piped.stderr
    code, out, terminal = on_terminal("verify", "--repo", filled, "--full", "--json")
    assert code == 0 and out.startswith("{") and "\x1b" not in terminal
    code, _, terminal = on_terminal("verify", "--repo", filled, "--full", "--quiet")
    assert code == 0 and terminal == ""


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_line_says_count_total_rate_and_time_left() -> None:
    progress = Progress("verify", "commits", stream=FakeTerminal())
    progress.done, progress.total = 250, 1000
    assert progress.line(progress.started + 10) == "verify: 250/1,000 commits 25% 25/s 30s left"
    progress.done = 4
    assert progress.line(progress.started + 2) == "verify: 4/1,000 commits 0% 2.0/s 8m18s left"
    assert progress.line(progress.started + 0.5) == "verify: 4/1,000 commits 0%"
    unknown = Progress("export", "files", stream=FakeTerminal())
    unknown.done = 12
    assert unknown.line(unknown.started + 4) == "export: 12 files 3.0/s"
    hidden = Progress("verify", "commits", hidden=True, stream=FakeTerminal())
    hidden(1, 2)
    assert hidden.stream.getvalue() == ""  # type: ignore[attr-defined]


def test_it_is_drawn_again_at_most_four_times_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr("gitflywheel.console.time.monotonic", lambda: now[0])
    screen = FakeTerminal()
    with Progress("ingest", "sessions", stream=screen) as progress:
        for done in range(1, 101):  # a session every 1/16 s for 6.25 s
            progress.status("recorded")
            progress(done, 100)
            now[0] += 0.0625
    drawings = screen.getvalue().split(ERASE)
    assert drawings[0] == "" and drawings[-1] == ""  # each drawing erases; the end erases
    assert len(drawings) - 2 == 25  # every fourth session: once per 0.25 s
    assert drawings[1] == "ingest: 1/100 sessions 1% (1 recorded)"  # no rate yet
    assert drawings[-2] == "ingest: 97/100 sessions 97% (97 recorded) 16/s 0s left"
