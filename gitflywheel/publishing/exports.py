"""Exports for existing blogs: a store's published posts laid out as Hugo or Jekyll reads
them, written into a blog's folder beside what its owner keeps there.

Every published kind that is a page goes out: the blog post, and the build log and trade
journal beside it (a README section is a part of a README, a social thread text to post,
never a page). Hugo gets a page bundle per page, `content/posts/<slug>/index.md`, its
screenshots and charts beside it at the names it links to. Jekyll gets
`_posts/YYYY-MM-DD-<slug>.md` and the session's `assets/<post slug>/...`, the links to its
images rewritten to those files under the site's base path. Each page's cover is the
session's card image (`cards`), `card.png` beside it. Drafts are never exported.
A post whose address moved (a store made before addresses were fixed) keeps its old one:
Hugo's `aliases`, and for Jekyll a redirect page where the old post was.

Session text must stay text in a generator that runs code on content: Jekyll posts say
`render_with_liquid: false`, kramdown's attribute and extension syntax (`{:`, `{::`,
`{#`) is broken with an invisible WORD JOINER, and Hugo shortcode openers (`{{<`, `{{%`)
are turned into Hugo's own comment form, which shows them as written (a lone opener
gets the WORD JOINER). And it must show as written: a post's body is CommonMark, which
Hugo's goldmark reads as it is, while kramdown knows no `\\&` escape (it would show the
backslash, and the entity after it as its character) and reads `$$` as math, so the
Jekyll body says `&amp;` and `\\$` instead (`kramdown_text`). Neither gets a list item
that opens with `[x]` or `[ ]`, which goldmark makes a checkbox even before a link's
destination (`- [x](url)`, a screenshot captioned `x`): `no_task_boxes`. Front matter
says what the site shows: its titles, descriptions and author without control or bidi
characters (`clean_text`), which a generator would publish (in a feed that is then no
XML), and its tags as the site's (`shown_tag`), at most as long as its tag folders'
names (`SLUG_LENGTH`), since Hugo makes a folder of each.

The export owns only what it wrote: `.gitflywheel-<format>.json` in the folder lists each
file and its SHA-256. A later export replaces or removes those files while they are
unchanged, and refuses, before writing anything, to touch a file it did not write
(`folder_writer`, which `site OUT` writes with too).
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from ..errors import GitflywheelError, StoreError
from ..escape import md_url, yaml_string
from ..rendering.sandbox import HTML
from ..rendering.templates import SITE_TEMPLATES, Renderer, load_templates
from ..storage.store import Store
from .cards import CardCache, draw_cards
from .folder_writer import write_folder
from .markdown_html import clean_text
from .posts import (
    POST_KIND,
    SLUG_LENGTH,
    Post,
    PostFile,
    published_posts,
    shown_tag,
    split_front_matter,
)

__all__ = [
    "BlogFormat",
    "BLOG_FORMATS",
    "BlogExportResult",
    "ExportClash",
    "export_blog",
    "plan_hugo",
    "plan_jekyll",
    "hugo_safe",
    "kramdown_safe",
    "kramdown_text",
    "no_task_boxes",
    "owner_file",
    "redirect_page",
]

BlogFormat = Literal["hugo", "jekyll"]
BLOG_FORMATS: tuple[BlogFormat, ...] = ("hugo", "jekyll")
HUGO_SECTION = "content/posts"
JEKYLL_POSTS = "_posts"
JEKYLL_ASSETS = "assets"
WORD_JOINER = "\u2060"
PAGE_KINDS: dict[str, str] = {
    POST_KIND: "",
    "build_log": "Build log",
    "trade_journal": "Trade journal",
}
CARD_FILE = "card.png"
_OWNER_VERSION = 1


class ExportClash(GitflywheelError):
    """The export would overwrite or remove a file gitflywheel did not write."""


@dataclass(frozen=True)
class BlogExportResult:
    """What a blog export did: the commit, the posts, the files it holds in the folder,
    how many it wrote (new or changed), removed, and the sessions left out by reason."""

    format: str
    commit: str
    directory: str
    posts: int
    files: int
    written: int
    removed: int
    left_out: dict[str, int]
    pages: int = 0  # the posts and the build logs and trade journals beside them


def owner_file(fmt: BlogFormat) -> str:
    """The file, in the blog's folder, listing what an export of that format wrote."""
    return f".gitflywheel-{fmt}.json"


# --- session text made inert for each generator -------------------------------------

_SHORTCODE = re.compile(r"\{\{([<%])")
_CLOSER = {"<": ">}}", "%": "%}}"}
_KRAMDOWN = re.compile(r"\{(?=[:#])")


def hugo_safe(text: str) -> str:
    """Markdown in which Hugo finds no shortcode to call. A `{{<`/`{{%` ... `>}}`/`%}}`
    pair becomes Hugo's comment form (`{{</* ... */>}}`), which Hugo shows exactly as the
    pair was written, in text and in code alike; an opener with no closer after it gets a
    WORD JOINER after its braces, so that it shows the same and opens nothing."""
    out: list[str] = []
    pos = 0
    while (found := _SHORTCODE.search(text, pos)) is not None:
        kind = found.group(1)
        end = text.find(_CLOSER[kind], found.end())
        out.append(text[pos : found.start()])
        if end == -1:
            out.append("{{" + WORD_JOINER + kind)
            pos = found.end()
        else:
            out.append("{{" + kind + "/*" + text[found.end() : end] + "*/" + _CLOSER[kind])
            pos = end + 3
    out.append(text[pos:])
    return "".join(out)


def kramdown_safe(text: str) -> str:
    """Markdown in which kramdown (Jekyll's renderer) finds no attribute list, extension
    or header id: `{:`, `{::` and `{#` get a WORD JOINER after the brace, so that
    `{::nomarkdown}` passes no HTML and `{: onclick=...}` sets no attribute."""
    return _KRAMDOWN.sub("{" + WORD_JOINER, text)


# What kramdown reads differently from CommonMark, outside code: an escape, a code span
# (rewritten), a link's destination (copied as it is), a dollar sign.
_COMMONMARK_TOKEN = re.compile(r"\\(.)|(`+)|\]\([^()\s]*\)|\$", re.S)
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")


def _kramdown_inline(text: str) -> str:
    out: list[str] = []
    pos = 0
    while (found := _COMMONMARK_TOKEN.search(text, pos)) is not None:
        out.append(text[pos : found.start()])
        pos = found.end()
        token = found.group(0)
        if found.group(1) == "&":
            out.append("&amp;")  # kramdown has no `\&`: the entity's `&` as an entity
        elif token == "$":
            out.append("\\$")  # `$$` opens kramdown math; `\$` is a dollar sign
        elif found.group(2):
            # a code span runs to the next run of as many backticks; none: literal ones,
            # escaped, so that kramdown cannot open a span of its own with them
            close = re.compile(rf"(?<!`){token}(?!`)").search(text, pos)
            if close is None:
                out.append("\\`" * len(token))
            else:
                out.append(_kramdown_code(text[pos : close.start()]))
                pos = close.end()
        else:
            out.append(token)  # any other escape, and link destinations, read alike
    out.append(text[pos:])
    return "".join(out)


_LINE_ENDING = re.compile(r"\r\n|\r|\n")
_ALNUM = re.compile(r"[A-Za-z0-9]")


def _kramdown_code(inner: str) -> str:
    """A CommonMark code span (`inner`: what its backticks enclose) written so that
    kramdown reads it as code showing the same text, wherever it stands. CommonMark's
    text: line endings as spaces, one space off each end when both ends have one.
    kramdown takes a single backtick followed by white space as a literal backtick (what
    follows is then Markdown, raw HTML and all), and in a table row it writes each span
    again with a single backtick when it holds none. So the text goes between runs of two
    backticks or more (longer than any run inside), with a space inside each end, which
    kramdown strips; text that starts with white space goes into an HTML `<code>`
    element instead, each character but ASCII letters and digits as a character
    reference: kramdown copies that element's content as it is."""
    text = _LINE_ENDING.sub(" ", inner)
    if len(text) > 1 and text[0] == text[-1] == " " and text.strip(" "):
        text = text[1:-1]
    if not text or text[0].isspace():
        refs = "".join(c if _ALNUM.match(c) else f"&#{ord(c)};" for c in text)
        return f"<code>{refs}</code>"
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * max(2, longest + 1)
    return f"{fence} {text} {fence}"


def _closes(line: str, fence: str) -> bool:
    """Whether `line` closes a code block `fence` opened: as many of its character or
    more, and nothing after them."""
    found = _FENCE.match(line)
    return (
        found is not None
        and found.group(1)[0] == fence[0]
        and len(found.group(1)) >= len(fence)
        and not line[found.end() :].strip()
    )


def kramdown_text(body: str) -> str:
    """A CommonMark body as kramdown (Jekyll's renderer, GFM input) shows the same text:
    an escaped `&` (`\\&copy;`, which CommonMark shows as written) becomes `&amp;`, and
    every `$` outside code becomes `\\$`, since kramdown reads `$$...$$` as math. Each
    code span is written as kramdown reads it as code showing the same text
    (`_kramdown_code`), a backtick that opens none as `\\``; fenced code blocks and link
    destinations are copied as they are."""
    return _outside_fences(body, _kramdown_inline)


# A list item that starts with `[ ]`, `[x]` or `[X]`: goldmark (Hugo) and GitHub make it a
# task's checkbox even when a link's destination follows (`- [x](url)`), and the link is lost.
_TASK_BOX = re.compile(r"^((?:[ \t]*>)*[ \t]*(?:[-+*]|\d{1,9}[.)])[ \t]+)\[([ \txX])\]", re.M)


def _no_task_box(text: str) -> str:
    return _TASK_BOX.sub(lambda m: f"{m.group(1)}[&#{ord(m.group(2))};]", text)


def no_task_boxes(body: str) -> str:
    """A body in which no list item opens with a task box: the one character between the
    brackets (a link's text, such as a screenshot's caption `x`) is written as its
    character reference, which every generator shows as the character and none reads as
    a box. Fenced code blocks are copied as they are."""
    return _outside_fences(body, _no_task_box)


def _outside_fences(body: str, convert: Callable[[str], str]) -> str:
    """The body with `convert` applied to each paragraph outside fenced code blocks."""
    out: list[str] = []
    paragraph: list[str] = []
    fence = ""
    for line in body.splitlines(keepends=True):
        opener = _FENCE.match(line)
        if fence:
            out.append(line)
            if _closes(line, fence):
                fence = ""
        elif opener and not (opener.group(1)[0] == "`" and "`" in line[opener.end() :]):
            out.append(convert("".join(paragraph)))
            paragraph = []
            out.append(line)
            fence = opener.group(1)
        elif not line.strip():
            out.append(convert("".join(paragraph)) + line)
            paragraph = []
        else:
            paragraph.append(line)
    out.append(convert("".join(paragraph)))
    return "".join(out)


# --- front matter ---------------------------------------------------------------------


def _yaml_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(yaml_string(v) for v in values) + "]"


def _text(value: str) -> str:
    """Session text for front matter, as the site shows it (`clean_text`): no control
    character (a generator would publish it, and in an RSS feed it is not XML) and no
    bidi control (an unbalanced one reorders what follows it)."""
    return yaml_string(clean_text(value))


def _tags(tags: Iterable[str]) -> list[str]:
    """A post's tags as the site shows them (`shown_tag`), each at most `SLUG_LENGTH`
    characters as the site's tag folders are: Hugo makes a folder of each tag, and a
    longer name is one no file system takes."""
    out: list[str] = []
    for tag in tags:
        shown = shown_tag(tag)[:SLUG_LENGTH].rstrip()
        if shown and shown not in out:
            out.append(shown)
    return out


def _front(pairs: list[tuple[str, str]]) -> str:
    return "---\n" + "".join(f"{key}: {value}\n" for key, value in pairs) + "---\n\n"


def _common_front(post: Post, slug: str) -> list[tuple[str, str]]:
    return [
        ("description", _text(post.description)),
        ("slug", yaml_string(slug)),
        ("tags", _yaml_list(_tags(post.tags))),
        ("categories", _yaml_list(post.categories)),
        ("author", _text(post.author)),
    ]


def _utc(post: Post) -> datetime:
    """The post's time in UTC (a time without an offset is taken as UTC), so that the
    date in a Jekyll file name and in its front matter agree on every host."""
    date = post.date
    return date.replace(tzinfo=UTC) if date.tzinfo is None else date.astimezone(UTC)


def _owned_by(post: Post) -> list[tuple[str, str]]:
    return [
        ("session_id", yaml_string(post.session_id)),
        ("session_type", yaml_string(post.session_type)),
        ("generator", yaml_string("gitflywheel")),
    ]


# --- the layouts ----------------------------------------------------------------------

_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,200}[a-z0-9])?")


def _slug(post: Post, slug: str | None = None) -> str:
    slug = post.slug if slug is None else slug
    if not _SLUG.fullmatch(slug):
        raise StoreError(
            f"session {post.session_id}: slug {slug!r} is not lowercase letters, digits "
            "and hyphens; it cannot name a file of the blog"
        )
    return slug


@dataclass(frozen=True)
class _Page:
    """One page of the export: a session's post, build log or trade journal."""

    post: Post
    kind: str
    slug: str
    title: str
    body: str


def _pages(store: Store, post: Post) -> list[_Page]:
    """The post, then each other published artifact of the session that is a page, with
    the slug its front matter gives (`...-build-log`, `...-journal`) and its kind's name
    before the title."""
    pages = [_Page(post, POST_KIND, _slug(post), post.title, post.body)]
    for file in post.files:
        label = PAGE_KINDS.get(file.kind)
        if not label:
            continue
        found = post.facts.artifacts.get(file.kind) if post.facts is not None else None  # type: ignore[call-overload]
        front = found.context.get("front") if found is not None else None
        slug = front.get("slug") if isinstance(front, dict) else None
        if not isinstance(slug, str):
            slug = f"{post.slug}-{file.kind.replace('_', '-')}"
        _, body = split_front_matter(_blob(store, post, file).decode("utf-8", "replace"))
        pages.append(_Page(post, file.kind, _slug(post, slug), f"{label}: {post.title}", body))
    return pages


def _file_name(post: Post, file: PostFile) -> str:
    """A file's name inside the post's folder, refused if it could leave that folder."""
    parts = file.name.split("/")
    if any(p in ("", ".", "..") or "\\" in p or "\x00" in p or p.startswith(".") for p in parts):
        raise StoreError(
            f"session {post.session_id}: file {file.name!r} could land outside its post's folder"
        )
    return file.name


def _blob(store: Store, post: Post, file: PostFile) -> bytes:
    try:
        return store.blob(file.blob.encode())
    except KeyError:
        raise StoreError(
            f"session {post.session_id}: {file.name}: object {file.blob} is missing from the store"
        ) from None


def _images(page: _Page) -> list[PostFile]:
    """The images a page's bundle holds: all of the session's beside its post (as ever),
    those it links beside a build log or journal."""
    if page.kind == POST_KIND:
        return page.post.images
    linked = {m.group(1) for m in _LINK.finditer(page.body)}
    return [i for i in page.post.images if i.name in linked or md_url(i.name) in linked]


def _all_pages(store: Store, posts: list[Post]) -> list[_Page]:
    """Every page of the posts, refused when two of them share a slug."""
    pages = [page for post in posts for page in _pages(store, post)]
    seen: dict[str, _Page] = {}
    for page in pages:
        other = seen.setdefault(page.slug, page)
        if other is not page:
            raise StoreError(
                f"sessions {other.post.session_id} and {page.post.session_id} share the slug "
                f"{page.slug!r}; one blog cannot hold both"
            )
    return pages


def plan_hugo(
    store: Store, posts: list[Post], cards: Mapping[str, bytes] | None = None
) -> dict[str, bytes]:
    """Every file of the Hugo export, by path inside the site: one page bundle per page,
    its images beside `index.md` at the relative names its body links to, and the
    session's card (`cards`: session id -> PNG) as `card.png`, its cover."""
    files: dict[str, bytes] = {}
    for page in _all_pages(store, posts):
        post = page.post
        folder = f"{HUGO_SECTION}/{page.slug}"
        front = [
            ("title", _text(page.title)),
            ("date", _utc(post).isoformat()),
            *_common_front(post, page.slug),
            ("draft", "false"),
        ]
        if page.kind == POST_KIND and post.moved_from:
            # where the page was before its address was fixed: Hugo writes a redirect there
            olds = [f"/{HUGO_SECTION.removeprefix('content/')}/{_old}/" for _old in _olds(post)]
            front.append(("aliases", _yaml_list(olds)))
        card = cards.get(post.session_id) if cards is not None else None
        cover = CARD_FILE if card is not None else post.image
        if cover and (card is not None or post.file(cover) is not None):
            # `images`: what Hugo's own templates (Open Graph, Twitter cards) make an
            # absolute URL of with the site's baseURL, path included; `image`: the cover
            # as a file of the bundle, for themes that look it up among its resources.
            url = f"{HUGO_SECTION.removeprefix('content/')}/{page.slug}/{cover}"
            front += [("images", _yaml_list([url])), ("image", yaml_string(cover))]
        text = _front(front + _owned_by(post)) + hugo_safe(no_task_boxes(page.body))
        files[f"{folder}/index.md"] = text.encode("utf-8")
        for image in _images(page):
            files[f"{folder}/{_file_name(post, image)}"] = _blob(store, post, image)
        if card is not None:
            files[f"{folder}/{CARD_FILE}"] = card
    return files


_BASE_PATH = re.compile(r"/(?:[A-Za-z0-9._~-]+/)*")


def base_path_of(value: str) -> str:
    """`--base-path` as Jekyll's `baseurl` would be joined: `/`, or `/blog/` (slashes
    added), of letters, digits and `._~-` only, so it needs no escaping in a link."""
    path = "/" + value.strip("/") + "/" if value.strip("/") else "/"
    if not _BASE_PATH.fullmatch(path) or "/../" in path or "/./" in path:
        raise GitflywheelError(
            f"--base-path {value!r}: a URL path of letters, digits and ._~- such as /blog"
        )
    return path


_LINK = re.compile(r"\]\(([^()\s]+)\)")


def _rewrite_links(body: str, targets: dict[str, str]) -> str:
    """The body with each link or image whose destination is one of the post's files
    pointed at where that file now lives."""
    return _LINK.sub(lambda m: f"]({targets.get(m.group(1), m.group(1))})", body)


def plan_jekyll(
    store: Store,
    posts: list[Post],
    base_path: str = "/",
    cards: Mapping[str, bytes] | None = None,
) -> dict[str, bytes]:
    """Every file of the Jekyll export: `_posts/YYYY-MM-DD-<slug>.md` for each page with
    Liquid off, and the session's images and card (`cards`: session id -> PNG, the
    cover) under `assets/<post slug>/`, linked by root paths under `base_path` (a post's
    own URL is /YYYY/MM/DD/..., where relative links break)."""
    base = base_path_of(base_path)
    files: dict[str, bytes] = {}
    for page in _all_pages(store, posts):
        post = page.post
        assets = f"{JEKYLL_ASSETS}/{_slug(post)}"
        targets: dict[str, str] = {}
        for image in post.images:
            name = _file_name(post, image)
            files[f"{assets}/{name}"] = _blob(store, post, image)
            targets[md_url(name)] = md_url(f"{base}{assets}/{name}")
        front = [
            ("layout", "post"),
            ("title", _text(page.title)),
            ("date", _utc(post).strftime("%Y-%m-%d %H:%M:%S %z")),
            *_common_front(post, page.slug),
        ]
        card = cards.get(post.session_id) if cards is not None else None
        if card is not None:
            files[f"{assets}/{CARD_FILE}"] = card
            front.append(("image", yaml_string(f"/{assets}/{CARD_FILE}")))
        elif post.image and post.file(post.image) is not None:
            # without the base path: layouts and jekyll-seo-tag add it (`relative_url`)
            front.append(("image", yaml_string(f"/{assets}/{post.image}")))
        front += [("render_with_liquid", "false"), *_owned_by(post)]
        body = kramdown_safe(kramdown_text(no_task_boxes(_rewrite_links(page.body, targets))))
        day = _utc(post).strftime("%Y-%m-%d")
        files[f"{JEKYLL_POSTS}/{day}-{page.slug}.md"] = (_front(front) + body).encode("utf-8")
        if page.kind == POST_KIND:
            # Jekyll has no redirects of its own (jekyll-redirect-from is a plugin GitHub
            # Pages has, Debian's Jekyll not): a plain page where the post was, beside where
            # it is now, under the default permalink (/:categories/:year/:month/:day/:title)
            where = "/".join([*(_category_path(c) for c in post.categories), *day.split("-")])
            for old in _olds(post):
                files[f"{where}/{old}.html"] = redirect_page(f"{page.slug}.html", post.title)
    return files


def _olds(post: Post) -> list[str]:
    """The post's earlier slugs that name a file of the blog, other than its own."""
    return [old for old in post.moved_from if _SLUG.fullmatch(old) and old != post.slug]


def _category_path(category: str) -> str:
    """A category as Jekyll's default permalink writes it in a URL path."""
    if not _SLUG.fullmatch(category.replace("_", "-")):
        raise StoreError(f"category {category!r} cannot name a folder of the blog")
    return category


def redirect_page(target: str, title: str, canonical: str | None = None) -> bytes:
    """A page that sends readers and search engines on to `target` (a URL relative to
    the page): a meta refresh, a canonical link (`canonical`, the absolute URL, when
    known), and a link for people."""
    href, text = html.escape(target), html.escape(clean_text(title))
    canonical = html.escape(canonical or target)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{text}</title>\n"
        f'<meta http-equiv="refresh" content="0; url={href}">\n'
        f'<link rel="canonical" href="{canonical}">\n'
        '<meta name="robots" content="noindex">\n'
        "</head>\n<body>\n"
        f'<p>This page moved: <a href="{href}">{text}</a>.</p>\n'
        "</body>\n</html>\n"
    ).encode()


# --- writing into a blog's folder -----------------------------------------------------


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _owned(target: Path, fmt: BlogFormat) -> dict[str, str]:
    """The files an earlier export wrote (path -> SHA-256), from its owner file."""
    record = target / owner_file(fmt)
    if not record.exists():
        return {}
    try:
        data: Any = json.loads(record.read_bytes())
        files = data["files"]
        if not isinstance(files, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in files.items()
        ):
            raise TypeError("files is not an object of path -> SHA-256")
    except (ValueError, KeyError, TypeError) as exc:
        raise ExportClash(
            f"{record}: not a list of exported files ({exc}); remove it only if gitflywheel "
            "wrote nothing else here"
        ) from None
    return {k: v for k, v in files.items() if _inside(k)}


def _inside(path: str) -> bool:
    pure = PurePosixPath(path)
    return not pure.is_absolute() and ".." not in pure.parts and "\\" not in path


def export_blog(
    store: Store,
    target: Path,
    fmt: BlogFormat,
    at: str | None = None,
    base_path: str = "/",
    title: str = "Work sessions",
    progress: Callable[[int, int | None], None] | None = None,
) -> BlogExportResult:
    """Write the published posts at a commit (default: the tip) into a blog's folder,
    as `fmt` lays them out. Files an earlier export wrote are replaced, or removed when
    their session is no longer published (it became a draft); any other file in the
    way is a clash, reported before anything is written. Each session's card image
    (drawn with the site's card template, `title` the site's name on it) is its cover.
    `progress(done, None)` after each session read."""
    if fmt not in BLOG_FORMATS:
        raise GitflywheelError(f"--format {fmt!r}: one of tree, {', '.join(BLOG_FORMATS)}")
    if target.exists() and not target.is_dir():
        raise GitflywheelError(f"{target}: exists and is not a folder")
    found = published_posts(store, at, progress)
    renderer = Renderer(
        load_templates(shipped=SITE_TEMPLATES), escaping=HTML, label="site template"
    )
    cache = CardCache(store.paths.card_cache)
    drawn = draw_cards(found.posts, renderer, title, cache)
    cards = {post.session_id: card for post, card in zip(found.posts, drawn, strict=True)}
    plan = (
        plan_hugo(store, found.posts, cards)
        if fmt == "hugo"
        else plan_jekyll(store, found.posts, base_path, cards)
    )
    owned: dict[str, str | None] = dict(_owned(target, fmt) if target.exists() else {})
    record_file = owner_file(fmt)
    if (target / record_file).is_file():
        owned[record_file] = None  # read above: ours, whatever it holds
    record = {
        "generator": "gitflywheel",
        "version": _OWNER_VERSION,
        "format": fmt,
        "commit": found.commit,
        "files": {p: _sha256(d) for p, d in sorted(plan.items())},
    }
    changes = write_folder(
        target,
        {**plan, record_file: (json.dumps(record, indent=2) + "\n").encode()},
        owned,
        shared=True,
        error=ExportClash,
        keep=(HUGO_SECTION, "content", JEKYLL_POSTS, JEKYLL_ASSETS),
    )
    return BlogExportResult(
        fmt,
        found.commit,
        str(target),
        len(found.posts),
        len(plan),
        len([p for p in changes.written if p != record_file]),
        len(changes.removed),
        dict(sorted(found.left_out.items())),
        sum(
            1 for path in plan if path.startswith(f"{JEKYLL_POSTS}/") or path.endswith("/index.md")
        ),
    )
