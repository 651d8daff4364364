"""`gitflywheel serve`: the site on 127.0.0.1, real HTTP requests on loopback, built again
when an ingest moves main."""

from __future__ import annotations

import http.client
import json
import queue
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import EXAMPLES, GFW, session

from gitflywheel import StoreError, ingest, serve
from gitflywheel.publishing.preview import PreviewBuild


def get(url: str, host: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (by lowercase name) and body of a real request."""
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            status, headers, body = answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as exc:
        status, headers, body = exc.code, exc.headers, exc.read()
    return status, {k.lower(): v for k, v in headers.items()}, body


@pytest.fixture()
def filled(tmp_path: Path) -> Path:
    store = tmp_path / "s.git"
    assert ingest(store, [EXAMPLES]).exit_code == 0
    return store


def test_the_site_is_served_on_loopback_with_safe_headers(filled: Path) -> None:
    with serve(filled, poll_seconds=3600) as preview:
        assert (
            preview.url.startswith("http://127.0.0.1:")
            and preview.server.server_address[0] == "127.0.0.1"
        )
        preview.start()
        status, headers, body = get(preview.url)
        assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
        assert headers["x-content-type-options"] == "nosniff"
        assert "script-src 'none'" in headers["content-security-policy"]
        assert b"<!DOCTYPE html>" in body
        for path, kind in (
            ("feed.xml", "application/xml; charset=utf-8"),
            ("style.css", "text/css; charset=utf-8"),
            ("robots.txt", "text/plain; charset=utf-8"),
        ):
            status, headers, _ = get(preview.url + path)
            assert (status, headers["content-type"]) == (200, kind), path
        feed = get(preview.url + "feed.xml")[2].decode()
        assert preview.url in feed  # the feed links to the preview itself
        # a folder without an index is not listed, nor is anything outside the site
        folder = next(
            p for p in preview.current.iterdir() if p.is_dir() and not (p / "index.html").exists()
        )
        for path in (
            f"{folder.name}/",
            "..%2f..%2f..%2f..%2fetc/passwd",
            "%2e%2e/%2e%2e/etc/passwd",
        ):
            status, headers, body = get(preview.url + path)
            assert status == 404 and b"Index of" not in body and b"root:" not in body, path
            assert headers["content-type"] == "text/html; charset=utf-8"  # the site's 404 page
        # a page from elsewhere that points its name at 127.0.0.1 gets nothing
        status, _, body = get(preview.url, host="evil.example")
        assert status == 421 and b"<!DOCTYPE html>\n<html lang" not in body
        connection = http.client.HTTPConnection("127.0.0.1", preview.port, timeout=30)
        connection.putrequest("GET", "/../../../../etc/passwd", skip_host=True)
        connection.putheader("Host", f"127.0.0.1:{preview.port}")
        connection.endheaders()
        answer = connection.getresponse()
        assert answer.status == 404 and b"root:" not in answer.read()
        connection.close()
        folder = preview.folder
    assert not folder.exists()  # the builds go with the preview


def test_a_new_ingest_shows_up(filled: Path, tmp_path: Path) -> None:
    builds: queue.Queue[PreviewBuild] = queue.Queue()
    with serve(filled, poll_seconds=0.1, on_build=builds.put) as preview:
        first = builds.get(timeout=5)
        assert first.site is not None and first.error is None
        preview.start()
        assert b"A new session on the site" not in get(preview.url)[2]
        new = tmp_path / "new.json"
        new.write_text(json.dumps(session("seen-live", title="A new session on the site")))
        assert ingest(filled, [new]).count("recorded") == 1
        second = builds.get(timeout=120)  # the watcher saw main move and built again
        assert second.site is not None and second.commit != first.commit
        assert second.site.sessions == first.site.sessions + 1
        assert b"A new session on the site" in get(preview.url)[2]
        assert preview.refresh() is None  # main has not moved since


def test_a_store_that_is_not_there_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        serve(tmp_path / "nowhere.git")


def test_the_command_serves_until_stopped(filled: Path) -> None:
    process = subprocess.Popen(
        [*GFW, "serve", "--repo", str(filled), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        built = process.stderr.readline()
        serving = process.stderr.readline()
        assert built.startswith("built 3 sessions"), built
        url = serving.split(" at ", 1)[1].split()[0]
        assert url.startswith("http://127.0.0.1:")
        status, _, body = get(url)
        assert status == 200 and b"<!DOCTYPE html>" in body
    finally:
        process.terminate()
        code = process.wait(timeout=60)
    assert code == 143  # SIGTERM: stopped, its temporary folder removed


def test_a_path_with_a_nul_byte_is_not_found_and_prints_no_traceback(
    filled: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """`%00` in a request's path made `open` raise: the server printed a traceback on the
    terminal and dropped the connection. It is a missing file like any other."""
    events: list[str] = []
    with serve(filled, poll_seconds=3600, on_event=events.append) as preview:
        preview.start()
        for path in ("index.html%00.png", "sessions/%00/", "%00"):
            status, headers, body = get(preview.url + path)
            assert status == 404 and headers["content-type"] == "text/html; charset=utf-8", path
        assert get(preview.url)[0] == 200
    captured = capfd.readouterr()
    assert "Traceback" not in captured.err + captured.out
    assert not any("failed" in event for event in events)


def test_a_client_that_sends_nothing_is_let_go(filled: Path) -> None:
    """A connection that never finishes its request (slowloris) held its thread and
    socket for ever; it is closed once idle, and other readers are served meanwhile."""
    import socket

    from gitflywheel.publishing.preview import Preview

    with Preview(filled, poll_seconds=3600, idle_seconds=0.5) as preview:
        preview.start()
        slow = socket.create_connection(("127.0.0.1", preview.port), timeout=10)
        slow.sendall(b"GET / HTTP/1.1\r\n")  # and nothing more
        assert get(preview.url)[0] == 200  # others are served meanwhile
        try:
            assert slow.recv(1024) == b""  # closed by the server, not by our timeout
        finally:
            slow.close()


def test_what_a_client_sends_reaches_the_events_with_controls_escaped(filled: Path) -> None:
    """A request line is the client's text: an escape sequence in it would drive the
    terminal `on_event` prints to; it arrives as `\\x1b`."""
    import socket

    events: list[str] = []
    with serve(filled, poll_seconds=3600, on_event=events.append) as preview:
        preview.start()
        with socket.create_connection(("127.0.0.1", preview.port), timeout=10) as client:
            client.sendall(
                b"GET /\x1b]0;owned\x07\x1b[2J HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n\r\n"
                % preview.port
            )
            while client.recv(65536):
                pass
    assert events and not any("\x1b" in e or "\x07" in e for e in events)
    assert any("\\x1b]0;owned\\x07" in e for e in events)


def test_a_link_in_the_site_that_leads_out_of_it_serves_nothing(
    filled: Path, tmp_path: Path
) -> None:
    """The server followed symbolic links: one in the build (to a file or a folder
    outside it) served that file to any reader of the preview."""
    secret = tmp_path / "outside"
    secret.mkdir()
    (secret / "key.txt").write_text("PRIVATE KEY")
    with serve(filled, poll_seconds=3600) as preview:
        preview.start()
        (preview.current / "key.txt").symlink_to(secret / "key.txt")
        (preview.current / "outside").symlink_to(secret, target_is_directory=True)
        (preview.current / "inside.css").symlink_to(preview.current / "style.css")
        for path in ("key.txt", "outside/key.txt", "outside/"):
            status, _, body = get(preview.url + path)
            assert status == 404 and b"PRIVATE KEY" not in body, path
        status, headers, _ = get(preview.url + "inside.css")
        assert (status, headers["content-type"]) == (200, "text/css; charset=utf-8")


def test_a_request_naming_two_hosts_is_refused(filled: Path) -> None:
    """Only the first Host header was checked: a request naming this preview and another
    site is ambiguous (a proxy may read the second), and is refused like the other."""
    with serve(filled, poll_seconds=3600) as preview:
        preview.start()
        connection = http.client.HTTPConnection("127.0.0.1", preview.port, timeout=30)
        connection.putrequest("GET", "/", skip_host=True)
        connection.putheader("Host", f"127.0.0.1:{preview.port}")
        connection.putheader("Host", "evil.example")
        connection.endheaders()
        answer = connection.getresponse()
        assert answer.status == 421 and b"<!DOCTYPE html>\n<html lang" not in answer.read()
        connection.close()


def test_clients_beyond_the_limit_are_closed_not_given_threads(
    filled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every connection got a thread of its own, however many were opened (a flood of
    idle ones took as many threads); beyond MAX_CONNECTIONS one is closed at once, and
    once the others go, readers are served again."""
    import socket

    from gitflywheel.publishing import preview as module

    monkeypatch.setattr(module, "MAX_CONNECTIONS", 3)
    events: list[str] = []
    with serve(filled, poll_seconds=3600, on_event=events.append) as preview:
        preview.start()
        idle = [socket.create_connection(("127.0.0.1", preview.port), timeout=30) for _ in "abc"]
        for client in idle:
            client.sendall(b"GET / HTTP/1.1\r\n")  # and nothing more
        extra = socket.create_connection(("127.0.0.1", preview.port), timeout=30)
        try:
            assert extra.recv(1024) == b""  # closed by the server, not by our timeout
        finally:
            extra.close()
        assert any("refused: 3 clients served" in e for e in events)
        for client in idle:
            client.close()
        status = 0
        for _ in range(300):  # until the server has let go of the closed ones
            try:
                status = get(preview.url)[0]
                break
            except (ConnectionError, urllib.error.URLError):
                time.sleep(0.1)
        assert status == 200


def test_a_folder_asked_for_through_a_backslash_redirects_nowhere(filled: Path) -> None:
    """`/\\evil.example/../tags` is the folder `tags`: the server redirected it to its
    slash as asked, `Location: /\\evil.example/../tags/`, which a browser reads as
    `//evil.example/...`, another site. A path with a backslash names no file of a site."""
    with serve(filled, poll_seconds=3600) as preview:
        preview.start()
        folder = next(p.name for p in preview.current.iterdir() if (p / "index.html").is_file())
        for path in (f"/\\evil.example/../{folder}", f"/%5cevil.example/../{folder}"):
            connection = http.client.HTTPConnection("127.0.0.1", preview.port, timeout=30)
            connection.request("GET", path)
            answer = connection.getresponse()
            answer.read()
            assert answer.status == 404 and answer.getheader("Location") is None, path
            connection.close()
        status, headers, _ = get(preview.url + folder + "/")
        assert status == 200


def test_a_request_that_trickles_in_is_cut_off(filled: Path) -> None:
    """Each read waited idle_seconds, so a client sending a byte a little more often than
    that held its connection (and its thread) for ever; the whole request must arrive
    within idle_seconds."""
    import select
    import socket

    from gitflywheel.publishing.preview import Preview

    with Preview(filled, poll_seconds=3600, idle_seconds=1) as preview:
        preview.start()
        slow = socket.create_connection(("127.0.0.1", preview.port), timeout=10)
        closed = False
        try:
            slow.sendall(b"GET / HTTP/1.1\r\nX-Slow: ")
            for _ in range(150):  # 30 s of a byte each 0.2 s: far past the second allowed
                try:
                    slow.sendall(b"a")
                except OSError:
                    closed = True
                    break
                if select.select([slow], [], [], 0.2)[0] and slow.recv(1024) == b"":
                    closed = True
                    break
        finally:
            slow.close()
        assert closed
        assert get(preview.url)[0] == 200
