"""Atom feeds (RFC 4287) of the published posts, built with ElementTree so that they are
always well formed.

Entry ids are `urn:gitflywheel:session:<session id>` (percent-encoded), the same on every
host and every rebuild; an entry's `published` is the session's time and its `updated`
the time its latest revision was recorded (the session's time when it has none); the
feed's `updated` is its newest entry's (never the clock); characters XML 1.0 forbids and bidi controls are taken out of every text.
Links are absolute (Atom readers need them), made from the site's base URL.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from ..version import __version__
from .markdown_html import clean_text

__all__ = ["ATOM_NS", "FeedEntry", "entry_id", "atom_feed"]

ATOM_NS = "http://www.w3.org/2005/Atom"
_A = f"{{{ATOM_NS}}}"


@dataclass(frozen=True)
class FeedEntry:
    """One post as a feed shows it; `url` is absolute, `html` the post's content."""

    session_id: str
    title: str
    url: str
    date: datetime
    author: str
    summary: str
    html: str
    categories: tuple[str, ...]
    updated: datetime | None = None  # its latest revision's time; None: its date


def entry_id(session_id: str) -> str:
    """The entry's id: stable across hosts and rebuilds, and a valid IRI whatever the id."""
    return "urn:gitflywheel:session:" + quote(session_id, safe="-._~")


def _stamp(moment: datetime) -> str:
    """An RFC 3339 date-time in UTC, whole seconds."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _add(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, _A + tag, {k: clean_text(v) for k, v in attrs.items()})
    if text is not None:
        element.text = clean_text(text)
    return element


def atom_feed(
    *,
    title: str,
    feed_url: str,
    site_url: str,
    feed_id: str,
    entries: Sequence[FeedEntry],
    empty_updated: datetime,
) -> bytes:
    """An Atom feed document (UTF-8 bytes). `entries` newest first; `empty_updated` is
    the feed's time when it has none (the time of the commit the site is built from)."""
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(_A + "feed")
    _add(feed, "id", feed_id)
    _add(feed, "title", title)
    newest = max((e.updated or e.date for e in entries), default=empty_updated)
    _add(feed, "updated", _stamp(newest))
    _add(feed, "link", rel="self", type="application/atom+xml", href=feed_url)
    _add(feed, "link", rel="alternate", type="text/html", href=site_url)
    _add(feed, "generator", "gitflywheel", version=__version__)
    if not entries:
        _add(_add(feed, "author"), "name", "gitflywheel")
    for item in entries:
        entry = _add(feed, "entry")
        _add(entry, "id", entry_id(item.session_id))
        _add(entry, "title", item.title or item.session_id)
        _add(entry, "updated", _stamp(item.updated or item.date))
        _add(entry, "published", _stamp(item.date))
        _add(_add(entry, "author"), "name", item.author or "unknown")
        _add(entry, "link", rel="alternate", type="text/html", href=item.url)
        for term in item.categories:
            if clean_text(term):
                _add(entry, "category", term=term)
        if item.summary:
            _add(entry, "summary", item.summary)
        _add(entry, "content", item.html, type="html")
    ET.indent(feed)
    document: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return document + b"\n"
