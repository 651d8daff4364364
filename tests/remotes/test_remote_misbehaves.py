"""A remote that misbehaves at the protocol's level: one that accepts and never answers,
one that advertises a `main` it does not send, one whose commits git's own fsck refuses.
Each is refused with one line naming the remote, the store unchanged and its lock free."""

from __future__ import annotations

import hashlib
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import pytest
from conftest import EXAMPLES, Cli, forge_tip, fsck, git


@contextmanager
def listening(serve: Callable[[socket.socket], None]) -> Iterator[int]:
    """A TCP server on loopback that runs `serve` for each connection; its port."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    stop = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            held.append(conn)
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        server.close()


def silent(conn: socket.socket) -> None:
    """Accepts, and never says a word."""


def _pkt(data: bytes) -> bytes:
    return b"%04x" % (len(data) + 4) + data


def _read_pkt(stream: BinaryIO) -> bytes:
    size = int(stream.read(4), 16)
    return b"" if size == 0 else stream.read(size - 4)


def advertises_what_it_lacks(conn: socket.socket) -> None:
    """A git:// server whose `main` is an id it never sends: an empty pack follows."""
    stream = conn.makefile("rb")
    wanted = b"ab" * 20
    body = b"PACK" + struct.pack(">II", 2, 0)
    try:
        _read_pkt(stream)
        conn.sendall(_pkt(wanted + b" HEAD\0ofs-delta\n") + _pkt(wanted + b" refs/heads/main\n"))
        conn.sendall(b"0000")
        while _read_pkt(stream) != b"":  # the wants, to a flush
            pass
        while True:  # the haves: a NAK for each flush, to `done`
            line = _read_pkt(stream)
            if line == b"":
                conn.sendall(_pkt(b"NAK\n"))
            elif line.startswith(b"done"):
                break
        conn.sendall(_pkt(b"NAK\n") + body + hashlib.sha1(body).digest())
    except (OSError, ValueError):
        pass
    conn.close()


@pytest.fixture()
def store(cli: Cli, tmp_path: Path) -> Path:
    store = tmp_path / "s.git"
    assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    git("-C", store, "config", "gitflywheel.networkTimeout", "2")
    return store


def unchanged(cli: Cli, store: Path, before: str) -> None:
    assert git("-C", store, "rev-parse", "main") == before
    fsck(store)
    # the lock is free: another writer goes on at once
    assert cli("ingest", "--repo", store, EXAMPLES / "trade_session.json").exit_code == 0


@pytest.mark.parametrize("command", ["publish", "sync"])
def test_a_remote_that_never_answers_is_given_up(cli: Cli, store: Path, command: str) -> None:
    before = git("-C", store, "rev-parse", "main")
    with listening(silent) as port:
        for url in (f"git://127.0.0.1:{port}/x.git", f"http://u:tok@127.0.0.1:{port}/x.git"):
            started = time.monotonic()
            result = cli(command, "--repo", store, url)
            assert time.monotonic() - started < 30
            assert result.exit_code == 1, result.output
            assert "it did not answer for 2 s" in result.stderr, result.stderr
            assert "tok" not in result.stderr and "Traceback" not in result.stderr
    unchanged(cli, store, before)


@pytest.mark.parametrize("command", ["publish", "sync"])
def test_a_remote_that_advertises_a_main_it_does_not_send(
    cli: Cli, store: Path, command: str
) -> None:
    before = git("-C", store, "rev-parse", "main")
    with listening(advertises_what_it_lacks) as port:
        result = cli(command, "--repo", store, f"git://127.0.0.1:{port}/x.git")
    assert result.exit_code == 1, result.output
    assert "its main names commit abababababab, which it did not send" in result.stderr
    assert "Traceback" not in result.stderr
    unchanged(cli, store, before)


@pytest.mark.parametrize(
    ("where", "edit"),
    [
        ("message", lambda raw: raw.replace(b"\n\nSession-Id", b"\0x\n\nSession-Id", 1)),
        ("header", lambda raw: raw.replace(b"\n\n", b"\nextra a\0b\n\n", 1)),
    ],
)
def test_a_commit_git_s_fsck_refuses_is_refused(
    cli: Cli, store: Path, tmp_path: Path, where: str, edit: Callable[[bytes], bytes]
) -> None:
    """A NUL ends a commit's message for git (its trailers unseen) and git's fsck refuses
    it (nulInCommit, nulInHeader): sync takes no such commit."""
    remote = tmp_path / "remote.git"
    git("clone", "-q", "--bare", store, remote)
    assert cli("ingest", "--repo", remote, EXAMPLES / "trade_session.json").exit_code == 0
    forge_tip(remote, edit)
    before = git("-C", store, "rev-parse", "main")
    result = cli("sync", "--repo", store, remote)
    assert result.exit_code == 1, result.output
    assert f"a NUL byte in its {where}, which `git fsck --strict` refuses" in result.stderr
    unchanged(cli, store, before)
