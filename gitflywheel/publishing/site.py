"""The store as a static web site: pages from the published posts, and Atom feeds.

Read from one commit (`posts.published_posts`, so drafts never appear), rendered with
the templates in `templates/site/` (a folder of the user's overrides them by file name)
in the one sandboxed environment, with HTML autoescape and the limits every template has
(`rendering`), each file put on disk as it is made (`site_files`: a mapping of site
paths to bytes that holds only their hashes) for `write_site` to put in a folder and
`site_branch` to commit to a branch; Markdown rendered once is kept beside the store
(`fragments`), and so are records of what each post, session, page and feed made
(`build_memo`): a build after a small change reads and renders only what changed, and
takes the rest from the site's folder. When many session folders are to be read, or
many sessions' cards or pages made, worker processes forked from the build do it on
every core (a set of them for at most 1,024 sessions), each writing its files into the
staging folder and handing back their hashes, which the build takes in the sessions'
order. Nothing depends on the clock or the machine: the
same store gives the same bytes, whatever the records hold.

Layout, every link relative inside the site:

    index.html, page/N/index.html           every post, newest first: the newest, then
                                            PER_PAGE a page, page 1 the oldest
    sessions/<slug>/index.html              a post, its gallery, charts and other files
    sessions/<slug>/<kind>.html             its other artifacts as pages (build log...)
    sessions/<slug>/<file>                  every file of the session, as stored (.md too)
    sessions/<old slug>/index.html          a redirect where a post was before it moved
    sessions/<slug>/card-<hash>.png         its card image: share cards, thumbnails (`cards`)
    types/<type>/index.html, .../page/N/    the posts of one session type
    types/<type>/feed.xml                   their Atom feed
    tags/index.html, tags/<tag>/index.html  every tag; the posts of one tag
    projects/index.html                     every project of the build sessions
    projects/<tag>/index.html, feed.xml     a project's changelog (`projects`) and its feed
    feed.xml                                the Atom feed of the whole store
    style.css, .nojekyll                    the style sheet; pages hosts serve files as they are
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import hashlib
import json
import multiprocessing
import posixpath
import re
import signal
import sys
import threading
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache, lru_cache, partial
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from markupsafe import Markup

from ..errors import GitflywheelError
from ..escape import xml_text
from ..jsontext import JSONTextError, dumps_canonical
from ..pipelines.common import utc_text
from ..pipelines.social import read_threads
from ..queries.provenance import Provenance, provenances, recording_commits, statement_bytes
from ..queries.settings import settings_blob
from ..rendering.sandbox import HTML
from ..rendering.templates import SITE_TEMPLATES, Limits, Renderer, RenderError, load_templates
from ..session.facts import Facts
from ..session.settings import check_value
from ..storage.store import Store
from .build_memo import BuildMemo
from .cards import CardCache, card_facts, draw_cards, png_size, usable_cores
from .exports import redirect_page
from .feed import FeedEntry, atom_feed
from .folder_writer import write_folder
from .fragments import FragmentCache
from .markdown_html import Rendered, clean_text
from .posts import (
    POST_KIND,
    SLUG_LENGTH,
    Post,
    PostFile,
    Posts,
    post_body,
    post_facts,
    published_posts,
    shown_tag,
    split_front_matter,
)
from .projects import Change, Project, changelog, changelog_in, projects
from .site_files import SiteFiles

__all__ = [
    "PER_PAGE",
    "PAGES_PARALLEL_FROM",
    "FEED_ENTRIES",
    "MARKER_FILE",
    "SiteError",
    "SiteBuild",
    "SiteResult",
    "build_site",
    "make_site",
    "write_site",
    "check_base_url",
    "path_slug",
    "place_posts",
]

PER_PAGE = 10
CARD_BATCH = 256  # cards drawn (on every core) and put on disk, sessions made, at a time
BATCHES_A_FORK = 4  # batches of sessions' pages one set of page workers makes
PAGES_PARALLEL_FROM = 64
"""Sessions of a batch to make at least (those no record of an earlier build holds),
before their pages are made by worker processes on every core."""
YOUNG_OBJECTS = 50_000  # allocations between two passes of the collector in a build
PAGES_CHUNK = 16  # sessions a worker makes and hands back at a time, in the site's order
_NO_SHARE = {"type": "website", "description": "", "published": None, "image": None}
CARD_IMAGES = (".png", ".jpg", ".jpeg", ".gif", ".webp")  # what share cards show; no SVG
FEED_ENTRIES = 100  # the newest posts a feed holds
SITEMAP_URLS = 50_000  # the most pages one sitemap file may list (sitemaps.org)
MARKER_FILE = ".gitflywheel-site.json"  # the files a build wrote: the next one replaces them
TYPE_LABELS = {"build": "Build sessions", "trade": "Trading sessions", "life_aria": "With Aria"}
KIND_LABELS = {
    "blog_post": "Blog post",
    "readme": "README section",
    "build_log": "Build log",
    "trade_journal": "Trade journal",
    "social_post": "Social thread",
}
SHOWN_PER_CHARACTER = 24
"""The most bytes a page may write for each character of text its template is handed
(`_handed`), when that comes to more than the page's own output limit: six for a
character escaped in HTML (`"` is `&quot;`), four times over (a session's page shows
its title in its `<title>`, its heading and two share tags). So a page holding a
session's largest artifact, or the titles of ten sessions, is made however large they
are, while a template that writes on and on is stopped as ever."""
_PER_ITEM = 64  # what `_handed` counts for each item of a list or mapping: its markup
_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
# a path that `quote(path, safe="/")` gives back as it is (most of a site's: slugs)
_QUOTED_ALREADY = re.compile(r"[A-Za-z0-9_.~/-]*")


class SiteError(GitflywheelError):
    """A site that cannot be built or written as asked (bad option, foreign folder)."""


def _handed(value: object) -> int:
    """How much a page's context hands its template: the characters of its strings, and
    `_PER_ITEM` for each item of its lists and mappings."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, Mapping):
        value = value.values()
    elif not isinstance(value, list | tuple):
        return 0
    return sum(_PER_ITEM + _handed(item) for item in value)


def _page_limits(limits: Limits, context: Mapping[str, Any]) -> Limits:
    """The limits of one page: its output may reach `SHOWN_PER_CHARACTER` bytes for
    each character it is handed, when that is more than `limits` allow."""
    most = SHOWN_PER_CHARACTER * _handed(context)
    return replace(limits, output_bytes=most) if most > limits.output_bytes else limits


@dataclass
class SiteBuild:
    """A built site: its files (site path -> bytes, on disk until read: `SiteFiles`),
    what it shows and leaves out."""

    commit: str  # the commit of the store it was built from
    files: Mapping[str, bytes]
    sessions: int
    pages: int  # HTML pages
    feeds: int
    left_out: Counter[str] = field(default_factory=Counter)  # reason -> sessions
    workers: int = 1  # the processes that made the sessions' pages (1: the build's own)


def check_base_url(url: str) -> str:
    """The site's address for the feed's absolute links: an http(s) URL with a host,
    ending with `/`."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise SiteError(
            f"--base-url {_shown_url(url)}: not the site's address (an http:// or https:// URL with a "
            "host, no query, e.g. https://me.codeberg.page/flywheel/)"
        )
    if any(c.isspace() or c in "<>\"'\\" or ord(c) < 32 for c in url):
        raise SiteError(f"--base-url {_shown_url(url)}: a URL holds no spaces, quotes or controls")
    try:  # the rule of the site.base_url setting: no credentials, nothing invisible
        check_value("site.base_url", url)
    except ValueError as exc:
        raise SiteError(f"--base-url {_shown_url(url)}: {exc}") from None
    return url if url.endswith("/") else url + "/"


def _shown_url(url: str) -> str:
    """A URL for a message, any credentials in it hidden."""
    return repr(re.sub(r"(?<=//)[^/@]*@", "***@", url, count=1))


def path_slug(text: str, fallback: str = "x") -> str:
    """A path component from any text: ASCII letters, digits and `-`, at most 80 long;
    never empty, `.` or `..` (so no session or tag can escape its folder)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:SLUG_LENGTH].strip("-")
    return slug or fallback


def _short_hash(text: str, n: int = 8) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:n]


@dataclass(slots=True)
class _Entry:
    """A post and where the site puts it."""

    post: Post
    slug: str  # sessions/<slug>/
    files: dict[str, PostFile]  # safe file name -> file
    tags: list[tuple[str, str]]  # (tag, tag slug)
    card: tuple[str, int, int] | None = None  # the card image's file name, width, height

    @property
    def folder(self) -> str:
        return f"sessions/{self.slug}/"


_Done = TypeVar("_Done")  # what a worker makes of one session
_Item = TypeVar("_Item")  # what names a session to a worker


@dataclass(frozen=True)
class _Card:
    """A session's card image as made (here or by a worker): its file's name in the
    session's folder, its size, the SHA-256 of its bytes, whether the site's folder held
    it already (`SiteFiles.kept`)."""

    name: str
    width: int
    height: int
    sha256: str
    kept: bool


@dataclass
class _Made:
    """What making a session's pages added: each file (site path, SHA-256, and whether
    the site's folder holds those bytes already, so that they were not staged) in the
    order added, and its pages' sitemap entries (path, last modified)."""

    files: list[tuple[str, str, bool]]
    sitemap: list[tuple[str, datetime | None]]


def _safe_file_name(name: str) -> bool:
    """A session file the site copies: plain ASCII path segments, and not a page the
    site writes itself (`*.html`)."""
    parts = name.split("/")
    return not name.lower().endswith((".html", ".htm")) and all(
        _SAFE_SEGMENT.fullmatch(p) and p not in (".", "..") for p in parts
    )


@lru_cache(maxsize=4096)
def _day(moment: datetime) -> str:
    """`2025-12-04`, the UTC day of a page's date in the sitemap (a session's pages share
    one date: formatted once)."""
    return utc_text(moment, "%Y-%m-%d")


_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
_SITEMAPS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def _date_text(moment: datetime) -> str:
    """`4 December 2025`, in UTC as every artifact gives its times."""
    return utc_text(moment, "%-d %B %-Y")


def _unique(slug: str, key: str, taken: set[str], always: bool = False) -> str:
    """`slug`, or `slug-<hash of key>` when it is taken (or `always`), longer until free."""
    digest = _short_hash(key, 64)
    candidate = slug
    if always or candidate in taken:
        for width in (8, 16, 64):
            candidate = f"{slug[:70]}-{digest[:width]}"
            if candidate not in taken:
                break
        number = 2
        while candidate in taken:
            candidate = f"{slug[:70]}-{digest[:8]}-{number}"
            number += 1
    taken.add(candidate)
    return candidate


def _free(slug: str, post: Post, taken: set[str]) -> str:
    """`slug`, or when another post has it, `slug-YYYY-MM-DD` (the post's day), then
    `-2`, `-3`...: what ingest gives a session whose title's slug is taken, which two
    stores that recorded the same title apart (and were synced) both hold."""
    candidate, number = slug, 1
    while candidate in taken:
        day = utc_text(post.date, "%Y-%m-%d")
        candidate = f"{slug[:70]}-{day}" if number == 1 else f"{slug[:70]}-{day}-{number}"
        number += 1
    taken.add(candidate)
    return candidate


def place_posts(posts: list[Post]) -> list[_Entry]:
    """Give each post a folder and each tag a slug, both path-safe: a post's folder is
    its slug (fixed when it was first recorded, unique in a store ingest fills); of posts
    that share one (stores synced), the oldest keeps it and later ones get their day
    after it (`_free`); tags whose slugs collide each get a suffix from their name."""
    slugs: dict[str, str] = {}
    taken: set[str] = set()
    for post in sorted(posts, key=lambda p: (p.date, p.session_id)):
        slugs[post.session_id] = _free(path_slug(post.slug, "session"), post, taken)
    # the tags and file names that repeat from post to post, each judged once
    cleaned = {t: shown_tag(t) for t in {t for p in posts for t in p.tags}}
    safe = {n: _safe_file_name(n) for n in {f.name for p in posts for f in p.files}}
    tag_names = sorted(set(cleaned.values()) - {""})
    by_slug: dict[str, list[str]] = defaultdict(list)
    for tag in tag_names:
        by_slug[path_slug(tag, "tag")].append(tag)
    tag_slugs: dict[str, str] = {}
    used = {slug for slug, names in by_slug.items() if len(names) == 1}
    for slug, names in sorted(by_slug.items()):
        if len(names) == 1:
            tag_slugs[names[0]] = slug
        else:
            for tag in names:
                tag_slugs[tag] = _unique(slug, tag, used, always=True)
    entries = []
    for post in posts:
        tags = sorted({cleaned[t] for t in post.tags} - {""})
        entries.append(
            _Entry(
                post,
                slugs[post.session_id],
                {f.name: f for f in post.files if safe[f.name]},
                [(t, tag_slugs[t]) for t in tags],
            )
        )
    return entries


class _Site:
    """One build: the posts, their places, the pages so far."""

    def __init__(
        self,
        store: Store,
        posts: list[Post],
        pages: Renderer,
        title: str,
        base_url: str | None,
        address: str | None = None,
        cards: CardCache | None = None,
        fragments: FragmentCache | None = None,
        staging: Path | None = None,
        reuse: Path | None = None,
        memo: BuildMemo | None = None,
        workers: int = 1,
        parallel_from: int = PAGES_PARALLEL_FROM,
    ) -> None:
        self.store = store
        self.workers = workers  # processes that make the sessions' pages (1: this one)
        self.parallel_from = parallel_from
        self._pool: ProcessPoolExecutor | None = None
        self._pooling = False
        self.frozen = False  # what it holds put out of the collector's reach (`page_workers`)
        self.made_by = 1  # the processes that made sessions' pages so far
        self.memo = memo or BuildMemo(None)
        self.key = ""  # what decides every page besides its own context (`decide`)
        self.recording: list[str] | None = None  # the paths a session's pages add
        self.cards = cards or CardCache(None)
        self.fragments = fragments or FragmentCache(None)
        self.pages = pages
        self.title = clean_text(title)
        self.base_url = base_url  # for the feeds: None when the site has none
        self.address = address  # the site's absolute address, when known
        self.sitemap: dict[str, datetime | None] = {}  # page path -> last modified
        self.files = SiteFiles(  # on disk as they are made
            staging, reuse, self.memo.folder_state(reuse) if reuse is not None else None
        )
        self.entries = place_posts(posts)
        self.types = sorted({e.post.session_type for e in self.entries})
        self.type_slugs = {t: path_slug(t, "type") for t in self.types}
        self.projects: list[Project] = []  # set by build_site: they link from every page
        self.by_id = {e.post.session_id: e for e in self.entries}
        self.tag_slugs = {t: slug for e in self.entries for t, slug in e.tags}
        self.in_feeds: set[str] = set()  # the sessions a feed shows (`feeds_show`)
        self.card_facts: dict[str, bytes] = {}  # session id -> `keep_card_facts`

    @staticmethod
    def root(path: str) -> str:
        """The relative way from a page back to the site's root: `../../` or ``."""
        return "../" * path.count("/")

    def decide(self, templates_id: str, settings: bytes | None) -> None:
        """The key of what every page depends on besides its own context: the templates,
        the site's title and addresses, its types and whether it has projects, and the
        store's settings (drafts, trusted signers)."""
        self.key = self.memo.key(
            "site",
            templates_id,
            self.title,
            self.base_url,
            self.address,
            self.type_slugs,
            bool(self.projects),
            settings.decode() if settings else None,
        )

    def add(self, path: str, data: bytes) -> None:
        self.files.add(path, data)
        if self.recording is not None:
            self.recording.append(path)

    def kept(self, path: str, digest: str) -> bool:
        """Whether the site's folder holds `path` as `digest` says (then it is the
        build's without being made again)."""
        if not self.files.keep(path, digest):
            return False
        if self.recording is not None:
            self.recording.append(path)
        return True

    def absolute(self, path: str) -> str | None:
        """A page's or file's absolute URL (a folder's for its index.html), or None
        without the site's address."""
        if self.address is None:
            return None
        path = path.removesuffix("index.html")
        return self.address + (path if _QUOTED_ALREADY.fullmatch(path) else quote(path, safe="/"))

    def page(
        self,
        path: str,
        template: str,
        *,
        share: dict[str, Any] | None = None,
        modified: datetime | None = None,
        root: str | None = None,
        listed: bool = True,
        decided: object = None,
        more: Callable[[], dict[str, Any]] | None = None,
        **context: Any,
    ) -> None:
        """Render `path`: `share` are the page's share-card tags (title, and for a
        session description, type, image), given only with the site's address; a
        `listed` page goes in the sitemap, `modified` its date there. `more()` is more
        of the context, made only when the page is rendered (not when the folder has
        it): `decided` stands for it in the page's key, what decides it (`shown`)."""
        root = self.root(path) if root is None else root
        canonical = self.absolute(path) if listed else None
        if listed:
            self.sitemap[path] = modified
        key = ""  # a session's pages are kept by its record (`sessions`)
        if self.recording is None:
            key = self.memo.key(
                "page", self.key, path, template, root, listed, share, context, decided
            )
            made = self.memo.get("page", key)
            if made is not None and self.kept(path, str(made.get("sha256"))):
                return
        if more is not None:
            context.update(more())
        self.add(
            path,
            self.render_page(
                template,
                {
                    "root": root,
                    "site_title": self.title,
                    "nav": [
                        {
                            "label": TYPE_LABELS.get(t, t),
                            "url": f"{root}types/{self.type_slugs[t]}/",
                        }
                        for t in self.types
                    ],
                    "feed_url": f"{root}feed.xml" if self.base_url else None,
                    "projects_url": f"{root}projects/" if self.projects else None,
                    "canonical": canonical,
                    "share": (
                        {**_NO_SHARE, "site_name": self.title, **(share or {})}
                        if canonical
                        else None
                    ),
                    **context,
                },
            ),
        )
        if key:
            self.memo.put("page", key, {"sha256": self.files.digests[path]})

    def render_page(self, template: str, context: Mapping[str, Any]) -> bytes:
        """A page rendered within the site's limits, or, one that does not render within
        them, again within its own (`_page_limits`): only a page handed much text is
        counted, and counting what a page is handed costs a fifth of rendering it."""
        try:
            return self.pages.render_template(template, context)
        except RenderError:
            limits = self.pages.limits
            own = _page_limits(limits, context)
            if own is limits:
                raise
        self.pages.limits = own
        try:
            return self.pages.render_template(template, context)
        finally:
            self.pages.limits = limits

    # -- a post's text ------------------------------------------------------------------

    def resolver(self, entry: _Entry, prefix: str) -> Callable[[str], str | None]:
        """Where a relative link of the session's Markdown points: one of its files
        (an artifact's Markdown as its page), else nowhere."""
        rendered = {name for name in entry.files if name.endswith(".md")}

        def resolve(url: str) -> str | None:
            parts = urlsplit(url)
            if not parts.path:
                return url if parts.fragment and not parts.query else None
            name = posixpath.normpath(parts.path.removeprefix("./"))
            if name not in entry.files:
                return None
            if name in rendered:
                name = "index.html" if name == f"{POST_KIND}.md" else name[:-3] + ".html"
            return prefix + name + (f"#{parts.fragment}" if parts.fragment else "")

        return resolve

    def markdown(self, entry: _Entry, text: str, prefix: str) -> Rendered:
        """A text of the session as HTML, its links relative to `prefix`, its title
        left out (the page shows it): from the fragment cache when it was rendered
        before."""
        return self.fragments.markdown(
            text, self.resolver(entry, prefix), files=entry.files, prefix=prefix, drop_title=True
        )

    def keep_card_facts(self, extra: Mapping[str, Any]) -> None:
        """Hold what each post's card reads of its facts, from what its summary keeps
        (`_summary_extra`: the facts cut to it, as facts.json spells them, which read
        back as the same facts): a card to draw reads no facts file."""
        for session_id, kept in extra.items():
            card = kept.get("card") if isinstance(kept, dict) else None
            if isinstance(card, str) and session_id in self.by_id:
                self.card_facts[session_id] = card.encode("utf-8", "surrogatepass")

    def with_facts(self, post: Post) -> Post:
        """The post with what its card reads of its facts (a summary holds none)."""
        if post.facts is not None:
            return post
        held = self.card_facts.get(post.session_id)
        if held is not None:
            with contextlib.suppress(GitflywheelError, ValueError):  # else read again
                return replace(post, facts=Facts.from_bytes(held))
        facts = post_facts(self.store, post)
        return replace(post, facts=card_facts(facts)) if facts is not None else post

    def card_key(self, entry: _Entry) -> str | None:
        """What decides a post's card image: the session, the templates, the title; None
        for a post not read from a session folder of the store."""
        return self.memo.key("card", self.key, entry.post.tree) if entry.post.tree else None

    def draw_cards(self, recorders: Mapping[str, bytes], tip: bytes) -> None:
        """Each session's card image, named by its bytes' hash (a card that changes gets
        a new address, so that no host shows an old one from its cache). When there are
        enough to make, worker processes make them (`page_workers`), each reading its
        sessions' facts, writing the card SVGs and drawing the cards not in the card
        cache; else this process makes them, drawing on every core."""
        drawn: list[int] = []
        keys = [self.card_key(entry) for entry in self.entries]
        self.memo.prefetch("card", filter(None, keys))
        for number, (entry, key) in enumerate(zip(self.entries, keys, strict=True)):
            made = self.memo.get("card", key) if key else None
            try:
                if made is not None and self.kept(entry.folder + made["name"], str(made["sha256"])):
                    entry.card = (str(made["name"]), int(made["width"]), int(made["height"]))
                    continue
            except (KeyError, TypeError, ValueError):
                pass
            drawn.append(number)
        span = CARD_BATCH * BATCHES_A_FORK  # workers forked anew for each span (`_build`)
        for first in range(0, len(drawn), span):
            part = drawn[first : first + span]
            with self.making_pages():  # workers forked now know no card: they stop after
                pool = self.page_workers(len(drawn), recorders, tip)
                if pool is None:  # too few, one core, other threads: drawn here, below
                    break
                for number, card in zip(part, _cards_by(pool, self.workers, part), strict=True):
                    self.take_card(self.entries[number], card)
        else:  # every card made by workers, or none to make
            return
        with self.cards.drawing() as cards:  # one set of workers for every batch
            for start in range(0, len(drawn), CARD_BATCH):
                batch = [self.entries[n] for n in drawn[start : start + CARD_BATCH]]
                for entry, card in zip(batch, self.make_cards(batch, cards), strict=True):
                    self.take_card(entry, card)
                self.store.release_packs()  # the pages of packs read stay out of memory

    def make_cards(self, batch: list[_Entry], cards: CardCache) -> list[_Card]:
        """The cards of `batch`, drawn or taken from `cards` and put in the staging
        folder: what each is (`take_card` makes it the build's)."""
        posts = [self.with_facts(entry.post) for entry in batch]
        made: list[_Card] = []
        for entry, data in zip(
            batch, draw_cards(posts, self.pages, self.title, cards), strict=True
        ):
            name = f"card-{hashlib.sha256(data).hexdigest()[:12]}.png"
            path = entry.folder + name
            self.add(path, data)
            made.append(
                _Card(name, *png_size(data), self.files.digests[path], path in self.files.kept)
            )
        return made

    def take_card(self, entry: _Entry, card: _Card) -> None:
        """A session's card made (here or by a worker), as the build's: its file, its
        place on the session's pages, its record."""
        path = entry.folder + card.name
        self.files.note(path, card.sha256, card.kept)
        entry.card = (card.name, card.width, card.height)
        key = self.card_key(entry)
        if key is not None:
            record = {"name": card.name, "width": card.width, "height": card.height}
            self.memo.put("card", key, {**record, "sha256": card.sha256})

    def card(self, entry: _Entry, root: str) -> dict[str, Any]:
        """What a list shows of a post (its thumbnail is its card image) and what its
        page shows in its header."""
        post = entry.post
        cover: str | None
        cover_size: tuple[int, int] | None
        if entry.card is not None:
            cover, cover_size = entry.card[0], entry.card[1:]
        else:
            cover = post.image if post.image in entry.files else None
            if cover is None:
                cover = next((n for n, f in entry.files.items() if f.is_image), None)
            cover_size = None
        return {
            "title": clean_text(post.title),
            "url": f"{root}{entry.folder}",
            "date": _date_text(post.date),
            "iso_date": post.date.isoformat(),
            "type": TYPE_LABELS.get(post.session_type, post.session_type),
            "type_url": f"{root}types/{self.type_slugs[post.session_type]}/",
            "description": clean_text(post.description),
            "author": clean_text(post.author),
            "tags": [{"name": t, "url": f"{root}tags/{s}/"} for t, s in entry.tags],
            "cover": f"{root}{entry.folder}{cover}" if cover else None,
            "cover_width": cover_size[0] if cover_size else None,
            "cover_height": cover_size[1] if cover_size else None,
            "cover_alt": clean_text(
                (entry.files[cover].alt if cover in entry.files else None) or post.title
            ),
        }

    def cards_shown(self, entries: list[_Entry], root: str) -> dict[str, Any]:
        """A list page's posts, for its context."""
        return {"posts": [self.card(e, root) for e in entries]}

    def shown(self, entry: _Entry, root: str) -> object:
        """What decides `card(entry, root)` besides `root` and the build's key, for
        other keys, cheaper to have than the card: the session folder's tree and what
        the build adds to it (the post's place, tags, card image and last change); the
        card itself for a post not read from a session folder."""
        post = entry.post
        if not post.tree:
            return self.card(entry, root)
        return [post.tree, post.last_changed, entry.slug, entry.tags, entry.card]

    def share_card(self, entry: _Entry) -> dict[str, Any]:
        """A session page's share-card tags: its title, description, and its card image
        (else a raster image it shows: its cover, else its first screenshot; an SVG
        chart is no card image)."""
        post = entry.post
        size: tuple[int, ...] = ()
        alt = clean_text(post.title)
        if entry.card is not None:
            image: str | None = entry.card[0]
            size = entry.card[1:]
        else:
            raster = [n for n, f in sorted(entry.files.items()) if n.lower().endswith(CARD_IMAGES)]
            image = post.image if post.image in raster else next(iter(raster), None)
            alt = clean_text((entry.files[image].alt if image else None) or post.title)
        return {
            "title": clean_text(post.title),
            "description": clean_text(post.description),
            "type": "article",
            "published": post.date.isoformat(),
            "image": self.absolute(entry.folder + image) if image else None,
            "image_type": "image/png" if image and image.endswith(".png") else None,
            "image_width": size[0] if size else None,
            "image_height": size[1] if size else None,
            "image_alt": alt,
        }

    def redirects(self) -> None:
        """A page at each address a post had before (`Post.moved_from`) that no post has
        now: it sends the reader, and search engines (canonical link), to the post's
        page. Listed nowhere: no sitemap entry, no link."""
        folders = {e.slug for e in self.entries}
        for entry in self.entries:
            for old in entry.post.moved_from:
                slug = path_slug(old, "session")
                path = f"sessions/{slug}/index.html"
                if slug in folders or path in self.files:
                    continue
                target = f"../{entry.slug}/"
                title = clean_text(entry.post.title)
                self.add(path, redirect_page(target, title, self.absolute(entry.folder)))

    def sitemap_files(self) -> dict[str, bytes]:
        """`sitemap.xml`: every listed page at its absolute URL, with its date when it
        has one. A site of more than SITEMAP_URLS pages, which no sitemap may list in one
        file, lists them in `sitemap-1.xml`, `sitemap-2.xml`... (at the site's root, as a
        sitemap lists only pages under its own folder), which `sitemap.xml` indexes."""
        # by path alone: no two pages share one
        pages = [(path, self.sitemap[path]) for path in sorted(self.sitemap)]
        if len(pages) <= SITEMAP_URLS:
            return {"sitemap.xml": self._urlset(pages)}
        files: dict[str, bytes] = {}
        lines = [_XML_DECLARATION, f'<sitemapindex xmlns="{_SITEMAPS}">']
        for number, start in enumerate(range(0, len(pages), SITEMAP_URLS), 1):
            part = pages[start : start + SITEMAP_URLS]
            path = f"sitemap-{number}.xml"
            files[path] = self._urlset(part)
            # no <lastmod>: it would be when the part last changed, which a page added or
            # taken away anywhere before it does (its pages move from part to part)
            lines.append(f"<sitemap><loc>{xml_text(self.absolute(path) or '')}</loc></sitemap>")
        lines.append("</sitemapindex>")
        files["sitemap.xml"] = ("\n".join(lines) + "\n").encode()
        return files

    def _urlset(self, pages: list[tuple[str, datetime | None]]) -> bytes:
        """A sitemap of `pages` (path, date or None)."""
        lines = [_XML_DECLARATION, f'<urlset xmlns="{_SITEMAPS}">']
        for path, modified in pages:
            url = xml_text(self.absolute(path) or "")
            when = f"<lastmod>{_day(modified)}</lastmod>" if modified else ""
            lines.append(f"<url><loc>{url}</loc>{when}</url>")
        lines.append("</urlset>")
        return ("\n".join(lines) + "\n").encode()

    # -- pages ----------------------------------------------------------------------------

    def sessions(
        self,
        start: int,
        end: int,
        recorders: Mapping[str, bytes],
        tip: bytes,
        progress: Callable[[int, int | None], None] | None = None,
    ) -> None:
        """The pages and files of the sessions `entries[start:end]`, and each one's
        provenance (an in-toto statement): taken from the site's folder when a record of
        the same session, neighbours, card and recording commit lists them there, else
        made (here, or by worker processes when there are enough: `page_workers`) and
        recorded, in the sessions' order either way."""
        made: list[tuple[int, str]] = []
        numbers = range(start, min(end, len(self.entries)))
        keys = [self.session_key(number, recorders) for number in numbers]
        self.memo.prefetch("session", filter(None, keys))
        for number, key in zip(numbers, keys, strict=True):
            if not (key and self.kept_session(key)):
                made.append((number, key))
            elif progress is not None:
                progress(number + 1, len(self.entries))
        todo = [number for number, _ in made]
        read = all(self.entries[n].post.tree for n in todo)
        pool = self.page_workers(len(made), recorders, tip)
        results: Iterable[_Made]
        if pool is None:
            found = provenances(
                self.store,
                [self.entries[n].post.session_id for n in todo],
                tip,
                recorders if read else None,
            )
            results = (
                self.make_session(n, provenance) for n, provenance in zip(todo, found, strict=True)
            )
        else:
            results = _made_by(pool, self.workers, todo, read)
        for (number, key), result in zip(made, results, strict=True):
            self.take(number, key, result, progress)

    def make_session(self, number: int, provenance: Provenance) -> _Made:
        """The pages and files of the session `entries[number]` and its provenance, put
        in the staging folder: what they are (`take` makes them the build's)."""
        entry = self.entries[number]
        self.recording = []
        try:
            self.session_pages(
                entry,
                newer=self.entries[number - 1] if number > 0 else None,
                older=self.entries[number + 1] if number + 1 < len(self.entries) else None,
            )
        except RenderError as exc:  # which session's page, for its owner to look at
            raise RenderError(f"session {entry.post.session_id}: {exc}") from exc
        self.add(entry.folder + "provenance.json", statement_bytes(provenance))
        paths, self.recording = self.recording, None
        return _Made(
            [(p, self.files.digests[p], p in self.files.kept) for p in paths],
            [(p, self.sitemap[p]) for p in paths if p in self.sitemap],
        )

    def take(
        self,
        number: int,
        key: str,
        made: _Made,
        progress: Callable[[int, int | None], None] | None,
    ) -> None:
        """A session's pages made (here or by a worker), as the build's: its files, its
        sitemap entries, its record under `key`, and the progress."""
        for path, digest, kept in made.files:
            self.files.note(path, digest, kept)
        for path, modified in made.sitemap:
            self.sitemap[path] = modified
        if key:
            self.memo.put(
                "session",
                key,
                {
                    "files": [[p, d] for p, d, _ in made.files],
                    "sitemap": [[p, m.isoformat() if m else None] for p, m in made.sitemap],
                },
            )
        if progress is not None:
            progress(number + 1, len(self.entries))

    def forget(self, made: _Made) -> None:
        """In a worker: what `made` added, dropped from its memory once handed back."""
        for path, _, _ in made.files:
            self.files.forget(path)
        for path, _ in made.sitemap:
            self.sitemap.pop(path, None)

    @contextmanager
    def making_pages(self) -> Iterator[None]:
        """The sessions' cards or pages, made meanwhile by one set of worker processes
        (started when a batch has enough to make: `page_workers`), which are stopped at
        the end, once their work in hand is done (so that none writes into the staging
        folder after, and the next set, forked later, knows what this one made)."""
        global _FORKED
        self._pooling = True
        try:
            yield
        finally:
            self._pooling = False
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None
            _FORKED = None

    def page_workers(
        self, count: int, recorders: Mapping[str, bytes], tip: bytes
    ) -> ProcessPoolExecutor | None:
        """The worker processes that make `count` sessions' cards or pages, or None to
        make them here: below `parallel_from`, on one core, or when this process runs
        other threads (a preview's server, a card drawing pool). They are forked, so
        that each has this build as it is (posts, places, cards, templates, caches)
        without a copy sent over."""
        global _FORKED
        if not self._pooling or self.workers < 2 or count < max(self.parallel_from, 1):
            return None
        if self._pool is None:
            if threading.active_count() > 1:
                return None
            _FORKED = _Forked(self, recorders, tip)
            # no cache database connection open across the fork (`cache_db`)
            self.fragments.flush()
            self.memo.flush()
            # what the build holds is out of the collector's reach, in it and in the
            # workers: a collection in a worker would touch (and so copy) all of it;
            # collected once a build (`frozen`: what was frozen stays so to its end)
            if not self.frozen:
                gc.collect()
                self.frozen = True
            gc.freeze()
            _return_free_pages()
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_start_worker,
            )
            self.made_by = self.workers
        return self._pool

    def recorders(self, tip: bytes) -> dict[str, bytes]:
        """The commit that recorded each session as it is (`recording_commits`), found
        from what the last build found, kept with the commit it was built from."""
        folders = {e.post.session_id: e.post.tree.encode() for e in self.entries if e.post.tree}
        key = self.memo.key("recorders")
        kept = self.memo.get("recorders", key)
        earlier: tuple[bytes, dict[str, tuple[bytes, bytes | None]]] | None = None
        try:
            if kept is not None:
                earlier = (
                    str(kept["tip"]).encode(),
                    {
                        str(sid): (str(folder).encode(), str(commit).encode() if commit else None)
                        for sid, (folder, commit) in kept["found"].items()
                    },
                )
        except (KeyError, TypeError, ValueError, AttributeError):
            earlier = None
        try:
            found = recording_commits(self.store, tip, folders, earlier)
        except KeyError:  # a commit the record names is not in the store: look again
            found = recording_commits(self.store, tip, folders)
        record = {
            sid: [folder.decode(), found[sid].decode() if sid in found else None]
            for sid, folder in folders.items()
        }
        self.memo.put("recorders", key, {"tip": tip.decode(), "found": record})
        return found

    def session_key(self, number: int, recorders: Mapping[str, bytes]) -> str:
        """What decides a session's pages: its folder, its place and tags, its card, its
        neighbours as its page shows them, the commit that recorded it (its provenance);
        "" for a post not read from a session folder of the store."""
        entry = self.entries[number]
        if not entry.post.tree:
            return ""
        newer = self.entries[number - 1] if number > 0 else None
        older = self.entries[number + 1] if number + 1 < len(self.entries) else None
        recorder = recorders.get(entry.post.session_id)
        return self.memo.key(
            "session",
            self.key,
            entry.post.tree,
            entry.post.last_changed,
            entry.slug,
            entry.tags,
            entry.card,
            self.shown(newer, "../../") if newer else None,
            self.shown(older, "../../") if older else None,
            recorder.decode() if recorder is not None else None,
        )

    def kept_session(self, key: str) -> bool:
        """Whether the site's folder holds every file a session's record lists (then
        they are the build's, and its pages are in the sitemap)."""
        made = self.memo.get("session", key)
        try:
            if made is None or not all(self.kept(str(p), str(d)) for p, d in made["files"]):
                return False
            for path, modified in made["sitemap"]:
                self.sitemap[str(path)] = datetime.fromisoformat(modified) if modified else None
        except (KeyError, TypeError, ValueError):
            return False
        return True

    def session_pages(
        self, entry: _Entry, newer: _Entry | None = None, older: _Entry | None = None
    ) -> None:
        post = entry.post
        folder = entry.folder
        for name, file in sorted(entry.files.items()):
            self.add(folder + name, self.store.blob(file.blob.encode()))
        text = post_body(self.store, post)
        body = self.markdown(entry, text, "")
        if self.base_url is not None and post.session_id in self.in_feeds:
            # its body as its feeds show it, made here (on every core) for `feed` to
            # take from the fragment cache
            self.markdown(entry, text, self.base_url + entry.folder)
        shown = set(body.images)
        images = [(n, f) for n, f in sorted(entry.files.items()) if f.is_image and n not in shown]
        gallery = [
            {"src": n, "alt": clean_text(f.alt or n.rsplit("/", 1)[-1])}
            for n, f in images
            if not n.lower().endswith(".svg")
        ]
        charts = [
            {"src": n, "alt": clean_text(f.alt or n.rsplit(".", 1)[0].replace("_", " "))}
            for n, f in images
            if n.lower().endswith(".svg")
        ]
        others = []
        for name, file in sorted(entry.files.items(), key=lambda kv: (kv[1].kind, kv[0])):
            if not name.endswith(".md"):
                continue
            label = KIND_LABELS.get(file.kind, file.kind.replace("_", " ").capitalize())
            page = "index.html" if file.kind == POST_KIND else name[:-3] + ".html"
            others.append({"label": label, "page": page, "raw": name, "kind": file.kind})
            if file.kind != POST_KIND:
                self.artifact_page(entry, name, file, label)
        self.page(
            folder + "index.html",
            "session.html.j2",
            share=self.share_card(entry),
            modified=post.last_changed,
            post=self.card(entry, self.root(folder + "index.html")),
            session_id=clean_text(post.session_id),
            revision=post.revision,
            body=Markup(body.html),
            gallery=gallery,
            charts=charts,
            artifacts=others,
            newer=self.card(newer, "../../") if newer else None,
            older=self.card(older, "../../") if older else None,
        )

    def artifact_page(self, entry: _Entry, name: str, file: PostFile, label: str) -> None:
        text = self.store.blob(file.blob.encode()).decode("utf-8", "replace")
        _, body = split_front_matter(text)
        thread: list[str] = []
        mastodon: list[str] = []
        html = Markup("")
        if file.kind == "social_post":
            # the posts as posted, not their fences
            thread, mastodon = read_threads(clean_text(body))
        else:
            html = Markup(self.markdown(entry, body, "").html)
        path = entry.folder + name[:-3] + ".html"
        self.page(
            path,
            "artifact.html.j2",
            share={"title": f"{label}: {clean_text(entry.post.title)}"},
            modified=entry.post.date,
            post=self.card(entry, self.root(path)),
            label=label,
            raw=name.rsplit("/", 1)[-1],
            body=html,
            thread=thread,
            mastodon=mastodon,
        )

    def list_pages(
        self, prefix: str, heading: str, entries: list[_Entry], feed: str | None = None
    ) -> None:
        """`prefix`index.html, the newest posts, and `prefix`page/N/index.html, the older
        ones PER_PAGE a page, numbered from the oldest: page 1 holds the first PER_PAGE
        posts. So a page once full stays as it is while posts are added: a new post
        changes the first page alone, which holds all the posts no full page does
        (PER_PAGE to 2 * PER_PAGE - 1 of them, or all, when there are fewer)."""
        full = max(len(entries) // PER_PAGE - 1, 0)  # the numbered pages
        front = len(entries) - full * PER_PAGE
        for number in range(full + 1):  # 0: the first page
            if number == 0:
                path, chunk, first = prefix + "index.html", entries[:front], full * PER_PAGE
            else:
                end = len(entries) - (number - 1) * PER_PAGE
                path, chunk = prefix + f"page/{number}/index.html", entries[end - PER_PAGE : end]
                first = (number - 1) * PER_PAGE
            root = self.root(path)
            here = root + prefix

            def at(n: int, here: str = here) -> str:
                return here if n == 0 else f"{here}page/{n}/"

            newer = None if number == 0 else at(number + 1 if number < full else 0)
            older = at(number - 1 if number > 0 else full) if number != 1 and full else None
            self.page(
                path,
                "list.html.j2",
                share={"title": heading},
                modified=max((e.post.date for e in chunk), default=None),
                heading=heading,
                decided=[self.shown(e, root) for e in chunk],
                more=partial(self.cards_shown, chunk, root),
                page_number=number,
                first=first + 1,
                last=first + len(chunk),
                newer=newer,
                older=older,
                list_feed=f"{root}{feed}" if feed and self.base_url else None,
            )

    def project_pages(self, project: Project, tip_time: datetime | None) -> None:
        """A project's changelog page, `projects/<tag>/`, and (with feeds) its feed of the
        project's sessions."""
        prefix = f"projects/{path_slug(project.tag, 'project')}/"
        root = self.root(prefix + "index.html")
        by_id = self.by_id
        tag = self.tag_slugs.get(project.tag)

        def session(session_id: str) -> dict[str, str]:
            entry = by_id[session_id]
            return {
                "title": clean_text(entry.post.title),
                "url": f"{root}{entry.folder}",
                "date": _date_text(entry.post.date),
            }

        def change(item: Change) -> dict[str, Any]:
            return {
                "text": clean_text(item.text),
                "scope": clean_text(item.scope),
                "short": clean_text(item.short),
                "url": item.url,
                "session": session(item.session_id),
            }

        def releases() -> list[dict[str, Any]]:
            return [
                {
                    "key": release.key,
                    "title": release.title,
                    "sessions": [session(s) for s in release.sessions],
                    "sections": [
                        {"title": title, "changes": [change(c) for c in changes]}
                        for title, changes in release.ordered()
                    ],
                }
                for release in project.releases
            ]

        # A project's changes are read from its sessions' folders (`projects`), so the
        # folders' trees and the sessions' places decide the page, which is made only
        # when one of them changed. A post not read from a folder gives its changes.
        made = None if all(p.tree for p in project.posts) else releases()
        decided: object = made
        if made is None:
            decided = [(p.session_id, p.tree, by_id[p.session_id].folder) for p in project.posts]
        self.page(
            prefix + "index.html",
            "project.html.j2",
            share={"title": f"{clean_text(project.name)}: changelog"},
            modified=max((p.date for p in project.posts), default=None),
            heading=clean_text(project.name),
            tag_url=f"{root}tags/{tag}/" if tag else None,
            sessions=len(project.posts),
            list_feed=f"{root}{prefix}feed.xml" if self.base_url else None,
            decided=decided,
            more=lambda: {"releases": made if made is not None else releases()},
        )
        if self.base_url is not None and tip_time is not None:
            self.feed(
                prefix + "feed.xml",
                f"{self.title}: {clean_text(project.name)}",
                self.of_project(project),
                tip_time,
            )

    def of_type(self, session_type: str) -> list[_Entry]:
        """The posts of one session type, newest first: its list pages and its feed."""
        return [e for e in self.entries if e.post.session_type == session_type]

    def of_project(self, project: Project) -> list[_Entry]:
        """A project's posts, newest first: its feed."""
        return [self.by_id[p.session_id] for p in project.posts]

    def feeds_show(self) -> None:
        """Note the sessions a feed will show (`in_feeds`): the newest of the site, of
        each type and of each project."""
        if self.base_url is None:
            return
        lists = [
            self.entries,
            *(self.of_type(t) for t in self.types),
            *(self.of_project(project) for project in self.projects),
        ]
        self.in_feeds = {e.post.session_id for shown in lists for e in shown[:FEED_ENTRIES]}

    def feed(self, path: str, title: str, entries: list[_Entry], empty_updated: datetime) -> None:
        assert self.base_url is not None
        base = self.base_url
        shown = entries[:FEED_ENTRIES]
        decided = [(e.post.tree, e.slug, e.tags, e.post.last_changed) for e in shown]
        if all(e.post.tree for e in shown):
            key = self.memo.key("feed", self.key, path, title, decided, not shown and empty_updated)
            made = self.memo.get("feed", key)
            if made is not None and self.kept(path, str(made.get("sha256"))):
                return
        else:
            key = ""
        items = []
        for entry in shown:
            post = entry.post
            url = base + entry.folder
            body = self.markdown(entry, post_body(self.store, post), url)
            items.append(
                FeedEntry(
                    session_id=post.session_id,
                    title=post.title,
                    url=url,
                    date=post.date,
                    author=post.author,
                    summary=post.description,
                    html=body.html,
                    categories=tuple(t for t, _ in entry.tags),
                    updated=post.last_changed,
                )
            )
        folder = path.rsplit("/", 1)[0] + "/" if "/" in path else ""
        self.add(
            path,
            atom_feed(
                title=title,
                feed_url=base + path,
                site_url=base + folder,
                feed_id=base + path,
                entries=items,
                empty_updated=empty_updated,
            ),
        )
        if key:
            self.memo.put("feed", key, {"sha256": self.files.digests[path]})
        self.store.release_packs()  # the pages of the packs its bodies were read from


@dataclass
class _Forked:
    """What a build's worker processes inherit: the build, and what its sessions'
    provenance reads (the commit built from, the commit that recorded each session)."""

    site: _Site
    recorders: Mapping[str, bytes]
    tip: bytes
    inherited: tuple[object, ...] = ()  # in a worker: what it replaced of the parent's


_FORKED: _Forked | None = None  # set while a build's workers may be forked
_MADE_HERE = 0  # chunks a worker made since it last let go of its packs


def _return_free_pages() -> None:
    """Give the system back the pages of the C heap that hold nothing (glibc's
    `malloc_trim`), before workers are forked: what the build read and let go (the
    summaries' facts, the cards' facts) leaves free pages all over the heap, which stay
    in its resident set and, after a fork, in each worker's (shared, until a worker's
    allocations land in them and copy them). Nothing where the C library has no such
    call."""
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is not None:
        trim(0)


@cache
def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None)
    except OSError:  # pragma: no cover - a system without dlopen(NULL)
        return None


def _start_worker() -> None:
    """In a worker forked from a build: its own reader of the store (the parent's pack
    files are not to be read from two processes), no records kept (the parent writes
    them, from what the worker hands back, as they do its files and sitemap entries,
    which are all it knows of), cards drawn in this process (it is one of
    the workers on every core), the staging folder left to the parent to remove, and
    Ctrl-C left to the parent (which stops the workers)."""
    assert _FORKED is not None
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    site = _FORKED.site
    site.files.forked()
    # what is replaced stays referenced: freed here, every object it holds would be
    # written to (its count of references) and so copied from the parent
    _FORKED.inherited = (site.sitemap, site.memo, site.store)
    site.sitemap = {}  # as the files: what the worker adds, handed back
    site.store = site.store.reopened()
    site.memo = BuildMemo(None)
    site.cards.parallel_from = sys.maxsize


def _make_chunk(numbers: list[int], read: bool) -> list[_Made]:
    """In a worker: the pages of the sessions `numbers` (in order), and what each added.
    `read`: every post of the batch was read from a session folder, so the recording
    commits found already are theirs."""
    assert _FORKED is not None
    site = _FORKED.site
    try:
        found = provenances(
            site.store,
            [site.entries[n].post.session_id for n in numbers],
            _FORKED.tip,
            _FORKED.recorders if read else None,
        )
        made = [site.make_session(n, p) for n, p in zip(numbers, found, strict=True)]
        for each in made:
            site.forget(each)
        return made
    finally:
        _end_chunk(site)


def _draw_chunk(numbers: list[int]) -> list[_Card]:
    """In a worker: the cards of the sessions `numbers` (in order), drawn here when the
    card cache has none, put in the staging folder."""
    assert _FORKED is not None
    site = _FORKED.site
    try:
        made = site.make_cards([site.entries[n] for n in numbers], site.cards)
        for number, card in zip(numbers, made, strict=True):
            site.files.forget(site.entries[number].folder + card.name)
        return made
    finally:
        _end_chunk(site)


def _end_chunk(site: _Site) -> None:
    """The end of a worker's chunk: what its caches hold put on disk (the parent never
    sees a worker's memory), and after every CARD_BATCH sessions, the pages of the
    packs it read let go (as the build's own process does)."""
    global _MADE_HERE
    site.fragments.flush()
    _MADE_HERE += 1
    if _MADE_HERE * PAGES_CHUNK >= CARD_BATCH:
        site.store.release_packs()
        _MADE_HERE = 0


def _by_workers(
    pool: ProcessPoolExecutor,
    workers: int,
    work: Callable[[list[_Item]], list[_Done]],
    numbers: list[_Item],
    what: str,
) -> Iterator[_Done]:
    """What `work` made of each session of `numbers` (their numbers, or their folders),
    in order, made by the `workers` of `pool` in chunks of contiguous sessions (at most
    PAGES_CHUNK, four a worker at least). An error of a worker's is raised as it is (as
    the same sessions made here would raise it: the first in their order); a worker
    that died is a SiteError that says `what` it was doing."""
    size = max(1, min(PAGES_CHUNK, -(-len(numbers) // (4 * workers))))
    futures: list[Future[list[_Done]]] = [
        pool.submit(work, numbers[at : at + size]) for at in range(0, len(numbers), size)
    ]
    try:
        for future in futures:
            yield from future.result()
    except BrokenProcessPool:
        raise SiteError(
            f"a process {what} ended before it was done (killed, or "
            "out of memory?); nothing was written"
        ) from None
    except GitflywheelError as exc:
        raise exc from None  # without the worker's traceback as its cause
    finally:
        for future in futures:
            future.cancel()


class _Readers:
    """The session folders a build reads, read on every core (a `posts.Spread`): by
    worker processes forked at the first batch with `parallel_from` folders or more to
    read (not when this process runs other threads: a preview's server), each with a
    reader of the store of its own, kept for the rest of the reading, stopped at its
    end (`close`)."""

    def __init__(self, store: Store, memo: BuildMemo, workers: int, parallel_from: int) -> None:
        self.store = store
        self.memo = memo
        self.workers = workers
        self.parallel_from = parallel_from
        self._pool: ProcessPoolExecutor | None = None
        self._read: Callable[[Store, list[bytes]], list[dict[str, Any]]] | None = None

    def __call__(
        self, read: Callable[[Store, list[bytes]], list[dict[str, Any]]], folders: list[bytes]
    ) -> Iterable[dict[str, Any]]:
        global _READING
        if self._pool is None:
            if (
                self.workers < 2
                or len(folders) < max(self.parallel_from, 1)
                or threading.active_count() > 1
            ):
                return read(self.store, folders)
            self._read = _READING = read
            self.memo.flush()  # no cache database connection open across the fork
            gc.collect()
            gc.freeze()  # what the build holds stays shared with the workers (`page_workers`)
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("fork"),
                initializer=partial(_start_reader, self.store),
            )
        if read is not self._read:  # the workers run what they were forked with
            return read(self.store, folders)
        return _by_workers(
            self._pool, self.workers, _read_chunk, folders, "reading the sessions' posts"
        )

    def close(self) -> None:
        global _READING
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
            gc.unfreeze()
        _READING = None


_READING: Callable[[Store, list[bytes]], list[dict[str, Any]]] | None = None  # `_Readers`
_READER_STORE: Store | None = None  # a reader worker's own reader of the store


def _start_reader(store: Store) -> None:
    """In a worker forked to read session folders: a reader of the store of its own
    (the parent's pack files are not to be read from two processes), Ctrl-C left to the
    parent."""
    global _READER_STORE
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _READER_STORE = store.reopened()


def _read_chunk(folders: list[bytes]) -> list[dict[str, Any]]:
    """In a reader worker: the summaries of `folders` (`posts.published_posts`)."""
    assert _READING is not None and _READER_STORE is not None
    try:
        return _READING(_READER_STORE, folders)
    finally:
        _READER_STORE.release_packs()


def _made_by(
    pool: ProcessPoolExecutor, workers: int, numbers: list[int], read: bool
) -> Iterator[_Made]:
    """The pages of each session of `numbers`, made by workers (`_by_workers`)."""
    making = partial(_make_chunk, read=read)
    return _by_workers(pool, workers, making, numbers, "making the sessions' pages")


def _cards_by(pool: ProcessPoolExecutor, workers: int, numbers: list[int]) -> Iterator[_Card]:
    """The card of each session of `numbers`, made by workers (`_by_workers`)."""
    return _by_workers(pool, workers, _draw_chunk, numbers, "making the sessions' cards")


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Python's collector passes less often while it lasts: a build holds a few hundred
    thousand long-lived objects (posts, their summaries, its files' table) and makes
    few reference cycles, yet at the default threshold (a pass every 700 allocations,
    every object walked at every tenth pass of the middle generation that finds the
    old one grown by a quarter) it walked them all three or four times in a build after
    one new session at 5,000 sessions: a seventh of that build. The threshold it had is
    restored after."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], YOUNG_OBJECTS), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


@_fewer_collections()
def build_site(
    store: Store,
    *,
    base_url: str | None,
    at: str | None = None,
    templates: Mapping[str, bytes] | None = None,
    title: str = "Work sessions",
    feeds: bool = True,
    posts: Posts | None = None,
    limits: Limits | None = None,
    cards: CardCache | None = None,
    fragments: FragmentCache | None = None,
    staging: Path | None = None,
    reuse: Path | None = None,
    memo: BuildMemo | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    workers: int | None = None,
    parallel_from: int = PAGES_PARALLEL_FROM,
) -> SiteBuild:
    """Build every page and feed of the site from the store at `at` (default: the tip),
    or from `posts` read from it already. Feeds need `base_url` (their links are
    absolute): without it, pass `feeds=False`. Each page renders within `limits`; a
    page template that fails or passes one raises RenderError naming it. Each session
    gets a card image, drawn or taken from `cards` (default: the store's cache); its
    Markdown is rendered once and kept in `fragments` (default: the store's cache).
    Each file goes to disk as it is made (in a folder made in `staging`, when given:
    the folder the site's folder is in), never the whole site in memory; a file that the
    folder `reuse` (the site's folder, holding its last build) has already is not. What
    each session and page made is noted in `memo` (default: the store's), by what
    decides it: a session or page whose record matches, and whose files `reuse` holds,
    is neither read nor rendered again. `progress(done, total)` is called after each
    session's pages. A batch of at least `parallel_from` sessions to make has its pages
    made by `workers` processes (default: one a usable core; 1: none started), each a
    fork of this one: the same bytes, the same records."""
    if feeds and base_url is None:
        raise SiteError(
            "the Atom feeds need the site's address for their links: give --base-url URL "
            "(e.g. https://me.codeberg.page/flywheel/), set it once for every writer with "
            "`gitflywheel config site.base_url URL`, or --no-feed"
        )
    base = check_base_url(base_url) if base_url is not None else None
    memo = memo if memo is not None else BuildMemo(store.paths.site_cache)
    workers = usable_cores() if workers is None else workers
    readers = _Readers(store, memo, workers, parallel_from)
    try:
        try:
            found = (
                posts
                if posts is not None
                else published_posts(
                    store,
                    at,
                    progress,
                    keep_facts=card_facts,
                    summaries=memo,
                    extra=_summary_extra,
                    spread=readers,
                )
            )
        finally:
            readers.close()
        sources = templates if templates is not None else load_templates(shipped=SITE_TEMPLATES)
        templates_id = memo.key(
            "templates", sorted((k, hashlib.sha256(v).hexdigest()) for k, v in sources.items())
        )
        site = _Site(
            store,
            found.posts,
            Renderer(sources, limits, escaping=HTML, label="site template"),
            title,
            base if feeds else None,
            base,
            cards if cards is not None else CardCache(store.paths.card_cache),
            fragments if fragments is not None else FragmentCache(store.paths.site_cache),
            staging,
            reuse,
            memo,
            workers,
            parallel_from,
        )
        try:
            return _build(store, site, found, posts is None, feeds, base, templates_id, progress)
        except BaseException:
            site.files.close()
            raise
        finally:
            site.fragments.flush()
            if site.frozen:
                gc.unfreeze()
    finally:  # what the caches hold goes to their database, whether the build ended well
        memo.flush()


def _summary_extra(store: Store, folder: bytes, post: Post) -> dict[str, Any]:
    """What a site keeps of a post's facts in its summary, read with them: what a
    project's changelog reads of a build session (`projects.changelog`), and what
    its card reads (`cards.card_facts`), as JSON."""
    facts = post_facts(store, replace(post, tree=folder.decode()))  # read with the post
    card = None
    if facts is not None:
        with contextlib.suppress(JSONTextError, TypeError, ValueError):  # then read again
            card = dumps_canonical(card_facts(facts).model_dump(exclude_defaults=True))
    return {
        "build": changelog_in(facts) if facts and post.session_type == "build" else None,
        "card": card,
    }


def _build(
    store: Store,
    site: _Site,
    found: Posts,
    owned: bool,
    feeds: bool,
    base: str | None,
    templates_id: str,
    progress: Callable[[int, int | None], None] | None,
) -> SiteBuild:
    tip = found.commit.encode()
    root = store.commit(tip).tree

    def changelog_of(post: Post) -> Any:
        kept = found.extra.get(post.session_id)
        if isinstance(kept, dict):
            return kept.get("build")
        folder = store.lookup(root, post.folder)
        return changelog(store, folder[1]) if folder is not None else None

    site.projects = projects(store, found.commit, [e.post for e in site.entries], changelog_of)
    site.keep_card_facts(found.extra)
    if owned:  # what the changelogs and cards read of each session is held no more
        found.extra.clear()
    site.decide(templates_id, settings_blob(store, root))
    # the commit that recorded each session as it is: its provenance, beside its page
    recorders = site.recorders(tip)
    site.feeds_show()
    site.draw_cards(recorders, tip)
    site.card_facts.clear()  # read no more: not in the memory the page workers share
    for first in range(0, len(site.entries), CARD_BATCH * BATCHES_A_FORK):
        # workers forked anew every so many sessions: what they came to copy of the
        # build's memory (every object they touch, as Python counts its references) is
        # let go, so that their memory does not grow with the store
        with site.making_pages():
            end = min(first + CARD_BATCH * BATCHES_A_FORK, len(site.entries))
            for start in range(first, end, CARD_BATCH):
                site.sessions(start, start + CARD_BATCH, recorders, tip, progress)
                store.release_packs()  # the pages of packs read stay out of memory
    site.redirects()
    site.list_pages("", site.title, site.entries, "feed.xml")
    for session_type in site.types:
        prefix = f"types/{site.type_slugs[session_type]}/"
        site.list_pages(
            prefix,
            TYPE_LABELS.get(session_type, session_type),
            site.of_type(session_type),
            prefix + "feed.xml",
        )
    by_tag: dict[tuple[str, str], list[_Entry]] = defaultdict(list)
    for entry in site.entries:
        for named in entry.tags:
            by_tag[named].append(entry)
    for (tag, slug), tagged in sorted(by_tag.items()):
        site.list_pages(f"tags/{slug}/", f"Tagged {tag}", tagged)
    tip_time = datetime.fromtimestamp(store.commit(tip).commit_time, UTC)
    for project in site.projects:
        site.project_pages(project, tip_time if feeds else None)
    if site.projects:
        site.page(
            "projects/index.html",
            "projects.html.j2",
            share={"title": "Projects"},
            modified=max((p.date for pr in site.projects for p in pr.posts), default=None),
            heading="Projects",
            projects=[
                {
                    "name": clean_text(p.name),
                    "url": f"{path_slug(p.tag, 'project')}/",
                    "sessions": len(p.posts),
                    "latest": _date_text(p.posts[0].date),
                }
                for p in site.projects
            ],
        )
    site.page(
        "tags/index.html",
        "tags.html.j2",
        share={"title": "Tags"},
        modified=max((e.post.date for e in site.entries), default=None),
        heading="Tags",
        tags=[
            {"name": tag, "url": f"{slug}/", "count": len(tagged)}
            for (tag, slug), tagged in sorted(by_tag.items(), key=lambda kv: kv[0][0].lower())
        ],
    )
    feed_count = 0
    if feeds:
        site.feed("feed.xml", site.title, site.entries, tip_time)
        for session_type in site.types:
            prefix = f"types/{site.type_slugs[session_type]}/"
            site.feed(
                prefix + "feed.xml",
                f"{site.title}: {TYPE_LABELS.get(session_type, session_type)}",
                site.of_type(session_type),
                tip_time,
            )
        feed_count = 1 + len(site.types) + len(site.projects)
    # served for any missing path, so its links are root-relative
    site.page(
        "404.html",
        "404.html.j2",
        root=urlsplit(base).path if base else "/",
        listed=False,
        heading="Page not found",
    )
    robots = "User-agent: *\nAllow: /\n"
    if base is not None:
        for path, data in site.sitemap_files().items():
            site.add(path, data)
        robots += f"Sitemap: {base}sitemap.xml\n"
    site.add("robots.txt", robots.encode())
    site.add("style.css", site.pages.render_template("style.css.j2", {}))
    site.add(".nojekyll", b"")
    site.add(MARKER_FILE, _marker(site.files))
    return SiteBuild(
        commit=found.commit,
        files=site.files,
        sessions=len(site.entries),
        pages=sum(1 for path in site.files if path.endswith(".html")),
        feeds=feed_count,
        left_out=found.left_out,
        workers=site.made_by,
    )


def _marker(files: Iterable[str]) -> bytes:
    """The record of the files a build wrote: `json.dumps(..., indent=1)`'s text, each
    name spelt by its C encoder (its indented writer is Python's, ten times slower)."""
    listed = sorted([*files, MARKER_FILE])
    names = ",\n  ".join(map(encode_basestring_ascii, listed))
    return f'{{\n "gitflywheel_site": 1,\n "files": [\n  {names}\n ]\n}}\n'.encode()


def _previous_files(out: Path) -> list[str] | None:
    """The files the last build wrote to `out`, or None when it holds no site of ours."""
    marker = out / MARKER_FILE
    if not marker.is_file():
        return None
    try:
        listed = json.loads(marker.read_text(encoding="utf-8"))["files"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise SiteError(
            f"{marker}: not a file gitflywheel wrote; remove it or pick another folder"
        ) from None
    return [
        name
        for name in listed
        if isinstance(name, str)
        and not name.startswith("/")
        and (".." not in name or ".." not in name.split("/"))
        and "\\" not in name
    ]


def write_site(build: SiteBuild, out: Path) -> int:
    """Put the site's files in `out` (created when missing) all at once (or, when few
    changed, one by one: `folder_writer`), in place of what the last build wrote there
    (other files of the folder stay); a folder that
    holds other files and no site is refused, and so is a file of the site's that is
    in the way. Returns how many files were written or removed."""
    previous = _previous_files(out) if out.is_dir() else None
    changes = write_folder(
        out,
        build.files,
        None if previous is None else dict.fromkeys(previous),
        shared=False,
        error=SiteError,
        what="a site",
        record=MARKER_FILE,
    )
    return len(changes.written) + len(changes.removed)


@dataclass
class SiteResult:
    """What `gitflywheel site` did: the build, where it went, what it left out."""

    commit: str  # the commit of `main` the site was built from
    sessions: int
    pages: int
    feeds: int
    files: int
    out: str | None  # the folder written, if any
    written: int  # files written or removed there
    branch: str | None = None
    branch_commit: str | None = None
    branch_changed: bool = False
    left_out: dict[str, int] = field(default_factory=dict)


def make_site(
    store: Store,
    out: Path | None,
    *,
    base_url: str | None,
    at: str | None = None,
    branch: str | None = None,
    templates_dir: Path | None = None,
    title: str = "Work sessions",
    feeds: bool = True,
    progress: Callable[[int, int | None], None] | None = None,
    workers: int | None = None,
    parallel_from: int = PAGES_PARALLEL_FROM,
) -> SiteResult:
    """Build the site, write it to `out` and/or commit it to `branch` of the store;
    `progress(done, total)` after each session's pages; `workers` and `parallel_from`
    as `build_site` takes them."""
    from .site_branch import branch_ref

    if out is None and branch is None:
        raise SiteError("say where the site goes: a folder OUT, --branch NAME, or both")
    if branch is not None:
        branch_ref(branch)  # a bad name is refused before any work
    memo = BuildMemo(store.paths.site_cache)
    build = build_site(
        store,
        base_url=base_url,
        at=at,
        templates=load_templates(templates_dir, SITE_TEMPLATES),
        title=title,
        feeds=feeds,
        staging=out.resolve().parent if out is not None else None,
        reuse=out if out is not None and (out / MARKER_FILE).is_file() else None,
        memo=memo,
        progress=progress,
        workers=workers,
        parallel_from=parallel_from,
    )
    try:
        result = _put(store, build, out, branch, memo)
        memo.prune(FragmentCache.code())  # what other versions kept: never read here
        return result
    finally:
        memo.flush()  # what `_put` noted of the folder and the branch
        if isinstance(build.files, SiteFiles):
            build.files.close()


def _put(
    store: Store, build: SiteBuild, out: Path | None, branch: str | None, memo: BuildMemo
) -> SiteResult:
    """Write a build to the folder `out` and/or commit it to `branch`; `memo` notes what
    `out` holds now, for the next build."""
    from .site_branch import commit_site

    result = SiteResult(
        commit=build.commit,
        sessions=build.sessions,
        pages=build.pages,
        feeds=build.feeds,
        files=len(build.files),
        out=str(out) if out is not None else None,
        written=0,
        left_out=dict(sorted(build.left_out.items())),
    )
    if out is not None:
        result.written = write_site(build, out)
        if isinstance(build.files, SiteFiles):
            memo.remember_folder(out, build.files.digests.items(), build.files.trusted_state())
    if branch is not None:
        key = memo.key("blobs")
        kept = memo.get("blobs", key) or {}
        blob_ids = {d: s.encode() for d, s in kept.items() if isinstance(s, str)}
        done = commit_site(store, branch, build.files, build.commit, blob_ids)
        if isinstance(build.files, SiteFiles):
            digests = set(build.files.digests.values())
            kept = {d: s.decode() for d, s in blob_ids.items() if d in digests}
            memo.put("blobs", key, kept)
        result.branch, result.branch_commit, result.branch_changed = (
            done.branch,
            done.commit,
            done.made,
        )
    return result
