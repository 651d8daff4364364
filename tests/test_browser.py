"""The headless-Chromium helper sees what a reader would: the page checks cannot pass blindly."""

from __future__ import annotations

from pathlib import Path

from browser import Browser

PIXEL = '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20"><rect width="20" height="20" fill="red"/></svg>'


def test_a_clean_page_has_no_problems(browser: Browser, tmp_path: Path) -> None:
    (tmp_path / "dot.svg").write_text(PIXEL)
    (tmp_path / "index.html").write_text(
        '<!doctype html><html><head><title>Clean</title></head><body><h1>Hello</h1><img src="dot.svg" alt=""></body></html>'
    )
    page = browser.open_page(tmp_path / "index.html", width=400, height=300)
    assert page.problems() == []
    assert (page.title, page.images) == ("Clean", 1)
    assert page.text.strip() == "Hello"
    assert page.screenshot.startswith(b"\x89PNG\r\n\x1a\n")


def test_broken_images_and_console_errors_are_reported(browser: Browser, tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text(
        "<!doctype html><html><head><title>Broken</title></head><body>"
        '<img src="missing.png"><script>console.error("boom")</script></body></html>'
    )
    page = browser.open_page(tmp_path / "index.html")
    missing = (tmp_path / "missing.png").as_uri()
    assert page.broken_images == [missing]
    assert any(missing in line for line in page.failed_loads)
    assert "boom" in page.console_errors
