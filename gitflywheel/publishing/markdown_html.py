"""Markdown to HTML for the site and the feed, with session text kept inert.

markdown-it-py in CommonMark mode with tables and strikethrough. Raw HTML in the text is
never passed through (it shows as text), links and images go only to http(s), mailto or a
relative path (never `javascript:`, `data:`, `file:`), and characters a reader cannot see
but that change what they see (C0/C1 controls, bidi overrides) are taken out first. Each
relative link goes through the caller's `resolve`, which returns where it points in the
built site, or None to drop the link (its text stays) or the image (its alt text stays).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token

__all__ = ["Rendered", "render_markdown", "clean_text", "is_relative_url"]

_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")
_SAFE_SCHEMES = ("http", "https", "mailto")

Resolve = Callable[[str], str | None]


def clean_text(text: str) -> str:
    """Text with bidi controls and control characters (but tab, line feed, carriage
    return) taken out: what XML and HTML forbid, or would show reordered."""
    return _CONTROLS.sub("", _BIDI.sub("", text))


def is_relative_url(url: str) -> bool:
    """A URL with no scheme and no host: a path inside the site (`screenshots/a.png`)."""
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and not url.startswith(("//", "\\"))


def _safe_link(url: str) -> bool:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    if parts.scheme:
        return parts.scheme.lower() in _SAFE_SCHEMES
    return is_relative_url(url.strip())


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.validateLink = _safe_link  # type: ignore[method-assign]
    return md


_MD = _parser()


@dataclass
class Rendered:
    """A Markdown text as HTML, and the relative targets its links and images named."""

    html: str
    images: list[str] = field(default_factory=list)  # resolved image sources, in order
    links: list[str] = field(default_factory=list)


def render_markdown(text: str, resolve: Resolve, *, drop_title: bool = False) -> Rendered:
    """HTML for a Markdown text. `drop_title`: leave out a first-level heading that opens
    the text (the page shows the title itself)."""
    tokens = _MD.parse(clean_text(text))
    if (
        drop_title
        and len(tokens) >= 3
        and tokens[0].type == "heading_open"
        and tokens[0].tag == "h1"
    ):
        tokens = tokens[3:]
    result = Rendered("")
    _fix(tokens, resolve, result)
    result.html = _MD.renderer.render(tokens, _MD.options, {})
    return result


def _fix(tokens: list[Token], resolve: Resolve, result: Rendered) -> None:
    """Point relative links and images where `resolve` says; drop those it cannot place."""
    for token in tokens:
        if token.type == "table_open":
            token.attrSet("class", "table")
        if token.children:
            kept: list[Token] = []
            dropping = 0  # nesting depth of a dropped link whose text stays
            for child in token.children:
                if child.type == "link_open":
                    href = _target(str(child.attrGet("href") or ""), resolve)
                    if href is None:
                        dropping += 1
                        continue
                    child.attrSet("href", href)
                    if not is_relative_url(href):
                        child.attrSet("rel", "nofollow noopener")
                    else:
                        result.links.append(href)
                elif child.type == "link_close" and dropping:
                    dropping -= 1
                    continue
                elif child.type == "image":
                    src = _target(str(child.attrGet("src") or ""), resolve)
                    if src is None:
                        kept.append(_text(child.content))
                        continue
                    child.attrSet("src", src)
                    if is_relative_url(src):
                        result.images.append(src)
                kept.append(child)
            token.children = kept


def _target(url: str, resolve: Resolve) -> str | None:
    if not _safe_link(url):
        return None
    if url.startswith("#"):
        return url  # a place in the same page
    return resolve(url) if is_relative_url(url) else url


def _text(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token
