"""Headless Chromium for the tests: load a page as a reader's browser would, and report.

Speaks the DevTools protocol over `--remote-debugging-pipe` (NUL-separated JSON on file
descriptors 3 and 4), so it needs nothing but Debian's `chromium`. `open_page` loads a
file or URL, waits for its load event, and returns what a reader would notice: console
errors, resources that failed to load, images that did not decode, the page's text, and
a PNG screenshot of the whole page. `script`, a JavaScript expression, is evaluated once
the page has loaded and its JSON-able value kept as `page.measured` (layout checks).

    with Browser() as browser:
        page = browser.open_page(path, width=1000)
        assert not page.problems(), page.problems()
        (tmp_path / "index.png").write_bytes(page.screenshot)
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

__all__ = ["Browser", "Page", "chromium_path", "need_chromium"]

TIMEOUT = 60.0

_PROBE = """
(() => {
  const broken = Array.from(document.images)
    .filter((img) => !(img.complete && img.naturalWidth > 0))
    .map((img) => img.currentSrc || img.src || img.getAttribute('src'));
  return {
    broken,
    images: document.images.length,
    title: document.title,
    text: document.body ? document.body.innerText : document.documentElement.textContent,
    width: Math.ceil(document.documentElement.scrollWidth),
    height: Math.ceil(document.documentElement.scrollHeight),
  };
})()
"""


def chromium_path() -> str | None:
    """Debian's chromium, when installed."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def need_chromium() -> str:
    """The browser's path, or skip the test saying why."""
    found = chromium_path()
    if found is None:
        pytest.skip(
            "headless Chromium is not installed (Debian package `chromium`; .ci/run installs it)"
        )
    return found


@dataclass
class Page:
    """What loading one page showed."""

    url: str
    title: str
    text: str
    images: int
    broken_images: list[str]
    console_errors: list[str] = field(default_factory=list)
    failed_loads: list[str] = field(default_factory=list)
    screenshot: bytes = b""
    measured: Any = None

    def problems(self) -> list[str]:
        """Everything a reader would see go wrong, one line each; empty when none."""
        return (
            [f"console: {line}" for line in self.console_errors]
            + [f"failed to load: {url}" for url in self.failed_loads]
            + [f"image did not load: {url}" for url in self.broken_images]
        )


class Browser:
    """One headless Chromium process, driven over a pipe."""

    def __init__(self) -> None:
        self._binary = need_chromium()
        self._profile = tempfile.mkdtemp(prefix="gitflywheel-chromium-")
        self._next_id = 0
        self._buffer = b""
        self._events: list[dict[str, Any]] = []
        to_browser_read, self._to_browser = os.pipe()
        self._from_browser, from_browser_write = os.pipe()

        def wire() -> None:  # in the child: the protocol's descriptors are 3 and 4
            commands, replies = os.dup(to_browser_read), os.dup(from_browser_write)
            os.dup2(commands, 3)
            os.dup2(replies, 4)

        self._process = subprocess.Popen(
            [
                self._binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--hide-scrollbars",
                "--mute-audio",
                "--remote-debugging-pipe",
                f"--user-data-dir={self._profile}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=wire,
            pass_fds=(3, 4),  # kept open past preexec_fn, which wires them
        )
        os.close(to_browser_read)
        os.close(from_browser_write)

    def __enter__(self) -> Browser:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):  # already gone
            self._send("Browser.close", timeout=5)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        for fd in (self._to_browser, self._from_browser):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self._profile, ignore_errors=True)

    def open_page(
        self,
        target: str | Path,
        *,
        width: int = 1200,
        height: int = 800,
        full_page: bool = True,
        script: str | None = None,
    ) -> Page:
        """Load a file (path) or URL in a new tab and report on it once it has loaded;
        `script`'s value, evaluated at the viewport's size, becomes `page.measured`."""
        url = Path(target).resolve().as_uri() if isinstance(target, Path) else target
        target_id = self._send("Target.createTarget", url="about:blank")["targetId"]
        session = self._send("Target.attachToTarget", targetId=target_id, flatten=True)["sessionId"]
        try:
            for domain in ("Page", "Runtime", "Log", "Network"):
                self._send(f"{domain}.enable", session=session)
            self._send(
                "Emulation.setDeviceMetricsOverride",
                session=session,
                width=width,
                height=height,
                deviceScaleFactor=1,
                mobile=False,
            )
            self._events.clear()
            self._send("Page.navigate", session=session, url=url)
            self._wait_for("Page.loadEventFired", session)
            probe = self._send(
                "Runtime.evaluate", session=session, expression=_PROBE, returnByValue=True
            )["result"]["value"]
            measured = None
            if script is not None:
                answer = self._send(
                    "Runtime.evaluate", session=session, expression=script, returnByValue=True
                )
                if "exceptionDetails" in answer:
                    raise RuntimeError(f"script failed: {answer['exceptionDetails']}")
                measured = answer["result"].get("value")
            if full_page:
                self._send(
                    "Emulation.setDeviceMetricsOverride",
                    session=session,
                    width=width,
                    height=max(height, min(int(probe["height"]), 16000)),
                    deviceScaleFactor=1,
                    mobile=False,
                )
            shot = self._send("Page.captureScreenshot", session=session, format="png")["data"]
            page = Page(
                url=url,
                title=probe["title"],
                text=probe["text"] or "",
                images=probe["images"],
                broken_images=list(probe["broken"]),
                screenshot=base64.b64decode(shot),
                measured=measured,
            )
            self._collect(page, session)
            return page
        finally:
            self._send("Target.closeTarget", targetId=target_id)

    # -- the protocol ----------------------------------------------------------------

    def _collect(self, page: Page, session: str) -> None:
        urls = {
            e["params"]["requestId"]: e["params"]["request"]["url"]
            for e in self._events
            if e.get("method") == "Network.requestWillBeSent" and e.get("sessionId") == session
        }
        for event in self._events:
            if event.get("sessionId") != session:
                continue
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                page.console_errors.append(
                    details.get("exception", {}).get("description") or details.get("text", "")
                )
            elif method == "Runtime.consoleAPICalled" and params.get("type") in {"error", "assert"}:
                page.console_errors.append(
                    " ".join(
                        str(arg.get("value", arg.get("description"))) for arg in params["args"]
                    )
                )
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                entry = params["entry"]
                page.console_errors.append(
                    f"{entry.get('text', '')} {entry.get('url', '')}".strip()
                )
            elif method == "Network.loadingFailed" and not params.get("canceled"):
                url = urls.get(params.get("requestId", ""), "?")
                page.failed_loads.append(f"{url} ({params.get('errorText', '')})")

    def _send(
        self, method: str, *, session: str | None = None, timeout: float = TIMEOUT, **params: Any
    ) -> Any:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline, method)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._events.append(reply)

    def _wait_for(self, method: str, session: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while not any(
            e.get("method") == method and e.get("sessionId") == session for e in self._events
        ):
            self._events.append(self._read(deadline, method))

    def _read(self, deadline: float, waiting_for: str) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                raise TimeoutError(f"chromium did not answer {waiting_for} in time")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError(f"chromium exited while waiting for {waiting_for}")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        return message
