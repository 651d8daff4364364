"""A local preview of the site (`gitflywheel serve`): built into a temporary folder,
served on 127.0.0.1 only, built again when the store's `main` moves.

The server is Python's `http.server`, narrowed: files of the site only (no directory
listing, nothing outside the build, not even through a symbolic link in it), content
types from a fixed table (never guessed from the machine's own), `nosniff` and a content
security policy that runs no script, the site's own 404 page, and a request whose Host
header names another site (a DNS rebinding page), or that names two, is refused. At most
`MAX_CONNECTIONS` clients are served at once; one more is closed at once rather than
given a thread, and a request that has not arrived whole within `idle_seconds`, however
steadily it trickles in, is closed. Nothing here prints: what happens is told to `on_event`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ..errors import GitflywheelError
from ..escape import terminal
from ..queries.settings import current_settings
from ..recording.init import open_store
from ..storage.store import Store
from .site import SiteResult, make_site

__all__ = ["HOST", "MAX_CONNECTIONS", "Preview", "PreviewBuild"]

HOST = "127.0.0.1"  # never every interface: a preview is for this machine
_POLL_SECONDS = 1.0
_IDLE_SECONDS = 30.0  # a connection that sends nothing for this long is closed
MAX_CONNECTIONS = 64
"""Clients served at once: a reader's browser opens a handful; a flood gets no threads."""

# What each file of a site is served as; anything else as bytes to download.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
}
_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'none'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",  # a preview changes under the reader
}


@dataclass(frozen=True)
class PreviewBuild:
    """One build of the preview: the commit of `main` it shows, and the site's figures;
    or the error that kept it from replacing the one served."""

    commit: str | None
    site: SiteResult | None = None
    error: str | None = None


class _Handler(SimpleHTTPRequestHandler):
    server: _Server

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        server = args[2]
        super().__init__(*args, directory=str(server.preview.current), **kwargs)

    def setup(self) -> None:
        super().setup()
        # a client that sends nothing (or a request a byte at a time) lets go of its
        # thread and its socket in the end, rather than holding them for ever: each
        # read waits idle_seconds at most, and the whole request (its line and headers)
        # must arrive within idle_seconds too, or the server closes the connection
        self.connection.settimeout(self.server.preview.idle_seconds)
        self.server.reading(self.connection)

    def finish(self) -> None:
        self.server.done_reading(self.connection)
        super().finish()

    def end_headers(self) -> None:
        for name, value in _HEADERS.items():
            self.send_header(name, value)
        super().end_headers()

    def parse_request(self) -> bool:
        try:
            if not super().parse_request():
                return False
        finally:
            self.server.done_reading(self.connection)
        hosts = self.headers.get_all("Host") or [""]
        if len(hosts) != 1 or hosts[0].lower() not in self.server.preview.hosts:
            self.send_error(HTTPStatus.MISDIRECTED_REQUEST, "not this preview's address")
            return False
        return True

    def guess_type(self, path: str | Any) -> str:
        return CONTENT_TYPES.get(Path(str(path)).suffix.lower(), "application/octet-stream")

    def send_head(self) -> Any:
        path = self.translate_path(self.path)
        # `%00`: no file has such a name. A backslash neither: `/\evil.example/../tags`
        # is the folder `tags`, and the redirect to its slash, to the address as asked,
        # took a browser to evil.example (which reads `/\` as `//`)
        asked = urllib.parse.unquote(self.path.split("?", 1)[0].split("#", 1)[0])
        if "\x00" in path or "\\" in asked or not self._inside(path):
            self.send_error(HTTPStatus.NOT_FOUND)
            return None
        return super().send_head()

    def _inside(self, path: str) -> bool:
        """Whether `path`, its symbolic links followed, is inside the site: a link in the
        build that leads out of it (to a home folder, `/etc`) serves nothing."""
        root = os.path.realpath(self.directory)
        return os.path.commonpath([root, os.path.realpath(path)]) == root

    def list_directory(self, path: str | Any) -> None:
        self.send_error(HTTPStatus.NOT_FOUND)
        return None

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = Path(self.directory, "404.html")
        if code != HTTPStatus.NOT_FOUND or not page.is_file():
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.send_response(code)
        self.send_header("Content-Type", CONTENT_TYPES[".html"])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        # the request line is the client's: its control characters are shown as escapes
        message = terminal(format % args)
        self.server.preview.tell(f"{self.address_string()} {message}")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    preview: Preview

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._lock = threading.Lock()
        self._reading: dict[socket.socket, float] = {}  # connection -> its deadline

    def reading(self, connection: socket.socket) -> None:
        """`connection` is reading its request, which must arrive by idle_seconds from now."""
        with self._lock:
            self._reading[connection] = time.monotonic() + self.preview.idle_seconds

    def done_reading(self, connection: socket.socket) -> None:
        with self._lock:
            self._reading.pop(connection, None)

    def service_actions(self) -> None:
        """Between requests (every half second): close the connections whose request
        has not arrived in time, however steadily it trickles in."""
        super().service_actions()
        now = time.monotonic()
        with self._lock:
            late = [c for c, deadline in self._reading.items() if deadline < now]
            for connection in late:
                del self._reading[connection]
        for connection in late:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def process_request(self, request: Any, client_address: Any) -> None:
        """A thread for the client while fewer than MAX_CONNECTIONS are served; else the
        connection is closed at once."""
        if not self.slots.acquire(blocking=False):
            self.preview.tell(f"{client_address[0]} refused: {MAX_CONNECTIONS} clients served")
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A request that failed is told in one line, never a traceback on the terminal."""
        error = sys.exc_info()[1]
        self.preview.tell(f"{client_address[0]} request failed: {type(error).__name__}: {error}")


class Preview:
    """The site of the store at `store_path`, served at `url` once `serve_forever` (or
    `start`, in a thread) runs, and built again whenever `main` moves. A context manager:
    leaving it stops the server and removes the builds."""

    def __init__(
        self,
        store_path: Path,
        port: int = 0,
        *,
        poll_seconds: float = _POLL_SECONDS,
        idle_seconds: float = _IDLE_SECONDS,
        on_build: Callable[[PreviewBuild], None] | None = None,
        on_event: Callable[[str], None] | None = None,
    ) -> None:
        self.store_path = store_path
        self.poll_seconds = poll_seconds
        self.idle_seconds = idle_seconds
        self.on_build, self.on_event = on_build, on_event
        self.folder = Path(tempfile.mkdtemp(prefix="gitflywheel-serve-"))
        self.builds = 0
        self.shown: str | None = None  # the commit of main the site shows
        self.current = self.folder / "empty"
        self.current.mkdir()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._serving = False
        try:
            self.server = _Server((HOST, port), _Handler)
        except OSError as exc:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise GitflywheelError(
                f"{HOST}:{port}: cannot serve there: {exc.strerror or exc}"
            ) from None
        self.server.preview = self
        self.port: int = self.server.server_address[1]
        self.url = f"http://{HOST}:{self.port}/"
        self.hosts = {f"{HOST}:{self.port}", f"localhost:{self.port}"}
        try:
            first = self.refresh()
        except BaseException:
            self.close()
            raise
        if first is not None and first.error is not None:
            self.close()
            raise GitflywheelError(first.error)

    def __enter__(self) -> Preview:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def tell(self, message: str) -> None:
        if self.on_event is not None:
            self.on_event(message)

    def _tip(self) -> str | None:
        with open_store(self.store_path, read_only=True) as store:
            tip = store.tip()
        return tip.decode() if tip else None

    def refresh(self) -> PreviewBuild | None:
        """Build the site again when `main` moved since the last build (None: it did not).
        A build that fails leaves the last one served, and says why."""
        try:
            tip = self._tip()
        except GitflywheelError as exc:
            return self._built(PreviewBuild(None, error=str(exc)))
        if tip == self.shown and self.builds:
            return None
        self.builds += 1
        out = self.folder / f"build-{self.builds}"
        try:
            site = self._build(out)
        except (GitflywheelError, OSError) as exc:
            shutil.rmtree(out, ignore_errors=True)
            return self._built(PreviewBuild(tip, error=str(exc)))
        before, self.current, self.shown = self.current, out, site.commit
        if before.parent == self.folder:  # the build before the last one is not served
            for old in self.folder.iterdir():
                if old not in (before, out):
                    shutil.rmtree(old, ignore_errors=True)
        return self._built(PreviewBuild(site.commit, site))

    def _build(self, out: Path) -> SiteResult:
        with open_store(self.store_path, read_only=True) as store:
            return _make(store, out, self.url)

    def _built(self, build: PreviewBuild) -> PreviewBuild:
        if self.on_build is not None:
            self.on_build(build)
        return build

    def _poll(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            self.refresh()

    def start(self) -> None:
        """Serve and watch `main` in background threads (`close` stops them)."""
        self._serving = True
        for target in (self.server.serve_forever, self._poll):
            thread = threading.Thread(target=target, name="gitflywheel-serve", daemon=True)
            thread.start()
            self._threads.append(thread)

    def serve_forever(self) -> None:
        """Serve until interrupted (Ctrl-C), watching `main` meanwhile."""
        watcher = threading.Thread(target=self._poll, name="gitflywheel-watch", daemon=True)
        watcher.start()
        self._threads.append(watcher)
        self._serving = True
        self.server.serve_forever()

    def close(self) -> None:
        self._stop.set()
        if self._serving:
            self._serving = False
            self.server.shutdown()
        self.server.server_close()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join()
        with contextlib.suppress(OSError):
            shutil.rmtree(self.folder)


def _make(store: Store, out: Path, url: str) -> SiteResult:
    """The site as `gitflywheel site` builds it, its feeds linking to the preview."""
    shared = current_settings(store).site
    return make_site(store, out, base_url=url, title=shared.title or "Work sessions")
