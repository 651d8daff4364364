"""Which screenshots a session may have read from disk, and reading them.

A session names its screenshots; a path it names is hostile until checked. Only a
regular file inside the input file's folder tree (standard input: the working
directory) or a folder the user allows (`--screenshots-from`) is read, symlinks resolved
and then checked, at most `max_bytes`, and only when its first bytes say PNG, JPEG, GIF
or WebP. SVG is refused: it is XML that can carry script and load other files, and an
image is published beside the artifacts as it is. A URL is never fetched.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..localfiles import FileRefused, read_beneath
from ..session.artifacts import is_linked_url, is_url

__all__ = [
    "DEFAULT_MAX_SCREENSHOT_BYTES",
    "ScreenshotPolicy",
    "Refusal",
    "image_kind",
    "is_linked_url",
    "read_screenshot",
]

DEFAULT_MAX_SCREENSHOT_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class ScreenshotPolicy:
    """Folders screenshots may also come from, besides the input's own, and the size cap."""

    roots: tuple[Path, ...] = ()
    max_bytes: int = DEFAULT_MAX_SCREENSHOT_BYTES


@dataclass(frozen=True)
class Refusal:
    """Why a screenshot was not read. `url`: an http(s) URL, never fetched by design, so
    not a problem to warn about."""

    reason: str
    url: bool = False


def image_kind(data: bytes) -> str | None:
    """The image format that the first bytes announce (png, jpeg, gif, webp), else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if len(data) >= 12 and data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "webp"
    return None


def _looks_like_svg(data: bytes) -> bool:
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(b"<") and b"<svg" in head


def _local_path(source: str, base_dir: Path) -> Path:
    path = Path(source.replace("\\", "/")) if "\\" in source and "/" not in source else Path(source)
    return path if path.is_absolute() else base_dir / path


def read_screenshot(source: str, base_dir: Path, policy: ScreenshotPolicy) -> bytes | Refusal:
    """The image bytes of one screenshot the session names, or why it was not read.

    `base_dir` is the folder of the input file (the working directory for stdin); a
    relative `source` resolves against it, and it is the first folder allowed."""
    if is_url(source):
        if is_linked_url(source):
            return Refusal("a URL: never fetched", url=True)
        return Refusal("a URL that is not http(s): never read")
    roots = (base_dir, *policy.roots)
    try:
        data = read_beneath(_local_path(source, base_dir), roots, policy.max_bytes)
    except FileRefused as exc:
        hint = {
            "outside": "; allow a folder with --screenshots-from",
            "too_big": " (--max-screenshot-bytes)",
        }.get(exc.cause, "")
        return Refusal(exc.reason + hint)
    if image_kind(data) is not None:
        return data
    if _looks_like_svg(data):
        return Refusal("an SVG image, refused because SVG can carry script; use PNG instead")
    return Refusal("not an image: its first bytes are not PNG, JPEG, GIF or WebP")
