"""Which screenshots a session may have read from disk, and reading them.

A session names its screenshots; a path it names is hostile until checked. Only a
regular file inside the input file's folder tree (standard input: the working
directory) or a folder the user allows (`--screenshots-from`) is read, symlinks resolved
and then checked, at most `max_bytes`, and only when its content is a PNG, JPEG, GIF,
WebP or AVIF image by structure, not by a first few bytes alone, and of a size in pixels
a reader's browser can hold (a small file can declare a billion pixels). An image is published
beside the artifacts as it is, so it is stored under the extension of the format it is
(a GIF named `pwn.shtml` becomes `02-pwn.gif`): a web server serves it as an image,
never as a page. SVG is refused: it is XML that can carry script and load other files.
A URL is never fetched.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from ..localfiles import FileRefused, read_beneath
from ..session.artifacts import is_linked_url, is_url

__all__ = [
    "DEFAULT_MAX_SCREENSHOT_BYTES",
    "MAX_PIXELS",
    "MAX_SIDE",
    "IMAGE_EXTENSIONS",
    "ImageFormat",
    "ScreenshotPolicy",
    "Refusal",
    "image_format",
    "image_size",
    "is_linked_url",
    "publishable_screenshot",
    "read_screenshot",
]

DEFAULT_MAX_SCREENSHOT_BYTES = 8 * 1024 * 1024
MAX_SIDE = 32_768  # pixels on a side: a full-page screenshot is tall, not this tall
MAX_PIXELS = 50_000_000  # what a reader's browser decodes (200 MB at 4 bytes a pixel)

ImageFormat = Literal["png", "jpeg", "gif", "webp", "avif"]
# The one extension a stored screenshot of each format gets: what every web server maps
# to that image type.
IMAGE_EXTENSIONS: Final[Mapping[ImageFormat, str]] = {
    "png": ".png",
    "jpeg": ".jpg",
    "gif": ".gif",
    "webp": ".webp",
    "avif": ".avif",
}
_FORMAT_NAMES: Final[Mapping[ImageFormat, str]] = {
    "png": "a PNG",
    "jpeg": "a JPEG",
    "gif": "a GIF",
    "webp": "a WebP",
    "avif": "an AVIF",
}
# Extensions a store made before screenshots were named by format may hold: publishing
# still copies such a file when its content is that format.
_OLD_EXTENSIONS: Final[Mapping[ImageFormat, tuple[str, ...]]] = {"jpeg": (".jpeg",)}


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


# -- image formats, by content ------------------------------------------------------------

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers (C4 DHT, C8 JPG and CC DAC lie among them and are not frames)
_JPEG_FRAMES = frozenset({*range(0xC0, 0xD0)} - {0xC4, 0xC8, 0xCC})
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM and RST0-7: no length
_AVIF_BRANDS = frozenset({b"avif", b"avis"})


def _announced(data: bytes) -> ImageFormat | None:
    """The format whose signature the first bytes carry, whether or not the rest is one."""
    if data.startswith(_PNG_SIGNATURE):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp" and any(brand in data[8:64] for brand in _AVIF_BRANDS):
        return "avif"
    return None


def _is_png(data: bytes) -> bool:
    """Signature, then an IHDR chunk of 13 bytes (width and height not 0) with its CRC."""
    if len(data) < 33 or data[8:16] != b"\x00\x00\x00\x0dIHDR":
        return False
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    crc = int.from_bytes(data[29:33], "big")
    return width > 0 and height > 0 and zlib.crc32(data[12:29]) == crc


def _is_jpeg(data: bytes) -> bool:
    """SOI, then marker segments that each fit, a frame header among them, up to the
    start of the scan."""
    pos, frame = 2, False
    while pos + 2 <= len(data):
        if data[pos] != 0xFF:
            return False
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker in _JPEG_STANDALONE:
            pos += 2
            continue
        if marker in (0x00, 0xD8, 0xD9) or pos + 4 > len(data):
            return False  # a stuffed zero, a second SOI, the end before any scan
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if length < 2 or pos + 2 + length > len(data):
            return False
        if marker == 0xDA:
            return frame
        frame = frame or marker in _JPEG_FRAMES
        pos += 2 + length
    return False


def _gif_sub_blocks(data: bytes, pos: int) -> int:
    """Where a chain of data sub-blocks ends (after its 0 terminator), or -1."""
    while pos < len(data):
        size = data[pos]
        pos += 1 + size
        if size == 0:
            return pos
    return -1


def _is_gif(data: bytes) -> bool:
    """Header, a logical screen descriptor (size not 0) and its colour table, then
    blocks that each fit, at least one image among them, up to the trailer (or the end
    of the data right after a whole image)."""
    if len(data) < 13:
        return False
    width, height, flags = struct.unpack("<HHB", data[6:11])
    if width == 0 or height == 0:
        return False
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    images = 0
    while pos < len(data):
        introducer = data[pos]
        if introducer == 0x3B:  # the trailer
            return images > 0
        if introducer == 0x21:  # an extension: its label, then sub-blocks
            pos = _gif_sub_blocks(data, pos + 2)
        elif introducer == 0x2C:  # an image: descriptor, colour table, LZW code size, data
            if pos + 10 > len(data):
                return False
            local = data[pos + 9]
            pos += 10 + (3 << ((local & 7) + 1) if local & 0x80 else 0)
            if pos >= len(data) or not 2 <= data[pos] <= 12:
                return False
            pos = _gif_sub_blocks(data, pos + 1)
            images += 1
        else:
            return False
        if pos < 0 or pos > len(data):
            return False
    return images > 0


def _is_webp(data: bytes) -> bool:
    """RIFF....WEBP holding as many bytes as it says, its first chunk a VP8 key frame, a
    VP8L image or a VP8X header, each with its own signature."""
    if len(data) < 20:
        return False
    riff_size = int.from_bytes(data[4:8], "little")
    chunk, chunk_size = data[12:16], int.from_bytes(data[16:20], "little")
    if riff_size < 4 + 8 + chunk_size or riff_size + 8 > len(data):
        return False
    if chunk == b"VP8 ":
        return chunk_size >= 10 and data[23:26] == b"\x9d\x01\x2a"
    if chunk == b"VP8L":
        return chunk_size >= 5 and data[20] == 0x2F
    if chunk == b"VP8X":
        return chunk_size == 10
    return False


def _is_avif(data: bytes) -> bool:
    """An ISO-BMFF `ftyp` box that names the avif or avis brand, whole, then a box."""
    size = int.from_bytes(data[0:4], "big")
    if size < 16 or size % 4 or size + 8 > len(data):
        return False
    brands = {data[8:12], *(data[i : i + 4] for i in range(16, size, 4))}
    following = int.from_bytes(data[size : size + 4], "big")
    kind = data[size + 4 : size + 8]
    return bool(brands & _AVIF_BRANDS) and following >= 8 and kind.isalnum() and kind.isascii()


_CHECKS: Final[Mapping[ImageFormat, Callable[[bytes], bool]]] = {
    "png": _is_png,
    "jpeg": _is_jpeg,
    "gif": _is_gif,
    "webp": _is_webp,
    "avif": _is_avif,
}


def image_format(data: bytes) -> ImageFormat | None:
    """The image format these bytes are (png, jpeg, gif, webp, avif), judged by their
    signature and the structure that must follow it; None for anything else."""
    announced = _announced(data)
    return announced if announced is not None and _CHECKS[announced](data) else None


def _avif_size(data: bytes) -> tuple[int, int] | None:
    """The image spatial extent (`ispe`) an AVIF's header declares, if it is found in
    its first 64 KiB (the item properties come before the pixels)."""
    at = data.find(b"ispe", 0, 65_536)
    if at < 4 or at + 16 > len(data):
        return None
    return int.from_bytes(data[at + 8 : at + 12], "big"), int.from_bytes(
        data[at + 12 : at + 16], "big"
    )


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """The size the first frame header declares (segments walked as `_is_jpeg` does)."""
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF or marker in _JPEG_STANDALONE:
            pos += 1 if marker == 0xFF else 2
            continue
        if marker in _JPEG_FRAMES and pos + 9 <= len(data):
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        return width, int.from_bytes(data[27:30], "little") + 1
    return None


def _png_size(data: bytes) -> tuple[int, int]:
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _gif_size(data: bytes) -> tuple[int, int]:
    width, height = struct.unpack("<HH", data[6:10])
    return width, height


_SIZES: Final[Mapping[ImageFormat, Callable[[bytes], tuple[int, int] | None]]] = {
    "png": _png_size,
    "jpeg": _jpeg_size,
    "gif": _gif_size,
    "webp": _webp_size,
    "avif": _avif_size,
}


def image_size(data: bytes, found: ImageFormat | None = None) -> tuple[int, int] | None:
    """The width and height an image declares, in pixels; None when it is not an image
    or does not say where it is looked for. `found`: its `image_format`, when known."""
    found = found or image_format(data)
    return _SIZES[found](data) if found is not None else None


def _too_large(data: bytes, found: ImageFormat) -> Refusal | None:
    """Why an image is refused for its size in pixels: a small file can declare a size
    whose pixels no reader's browser should have to hold (a decompression bomb)."""
    size = image_size(data, found)
    if size is None:
        return None
    width, height = size
    if max(width, height) <= MAX_SIDE and width * height <= MAX_PIXELS:
        return None
    return Refusal(
        f"an image of {width}x{height} pixels, too large to show: at most {MAX_SIDE:,} "
        f"pixels a side and {MAX_PIXELS:,} in all"
    )


def publishable_screenshot(name: str, data: bytes) -> bool:
    """A stored screenshot a site or a blog may serve: an image by its content, under a
    name whose only dot starts that format's extension (what the store names it now;
    `.jpeg` too, as older stores did), so no server takes it for a page or a script."""
    found = image_format(data)
    base = name.rsplit("/", 1)[-1].lower()
    if found is None or base.count(".") != 1:
        return False
    return base.endswith((IMAGE_EXTENSIONS[found], *_OLD_EXTENSIONS.get(found, ())))


def _looks_like_svg(data: bytes) -> bool:
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(b"<") and b"<svg" in head


def _not_an_image(data: bytes) -> Refusal:
    if _looks_like_svg(data):
        return Refusal("an SVG image, refused because SVG can carry script; use PNG instead")
    announced = _announced(data)
    if announced is not None:
        name = _FORMAT_NAMES[announced]
        return Refusal(f"not an image: it starts like {name} but is not a well-formed one")
    return Refusal("not an image: its content is not a PNG, JPEG, GIF, WebP or AVIF image")


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
    found = image_format(data)
    if found is None:
        return _not_an_image(data)
    return _too_large(data, found) or data
