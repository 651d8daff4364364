"""What the pipeline tests share: rendering with the shipped templates, and readers of
the rendered Markdown (tables, front matter, posts) that know nothing of the pipelines."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import yaml
from markdown_it import MarkdownIt

from gitflywheel.pipelines import run_pipeline
from gitflywheel.rendering.templates import Renderer, load_templates
from gitflywheel.session.artifacts import Screenshot
from gitflywheel.session.records import make_record
from gitflywheel.storage.layout import CHART_KINDS

TESTS = Path(__file__).resolve().parent
CORPUS = TESTS / "data" / "corpus" / "dreamos"
EXAMPLES = TESTS.parent / "examples"
LIMIT = 280
RENDERER = Renderer(load_templates())
MD = MarkdownIt("commonmark").enable("table")
MARKER = re.compile(r" (\d+)/(\d+)$")


def render_all(
    data: dict[str, Any], screenshots: tuple[Screenshot, ...] = (), charts: bool = False
) -> dict[str, str]:
    """Every Markdown artifact of one session (and its SVG charts with `charts=True`), by
    kind, rendered with the shipped templates."""
    record = make_record("test", data)
    return {
        spec.kind: RENDERER.render(spec).decode("utf-8")
        for spec in run_pipeline(record.session, screenshots)
        if charts or spec.kind not in CHART_KINDS
    }


def corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("*.json"))


def plain(markdown: str) -> str:
    """Inline Markdown as a reader sees it: its text, escapes resolved, markup dropped."""
    out = []
    for token in MD.parseInline(markdown):
        for child in token.children or []:
            if child.type in ("text", "code_inline"):
                out.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                out.append("\n")
    return "".join(out)


def shown_code(text: str) -> str:
    """Session text in a code span as a reader sees it: line breaks folded to spaces, bidi
    controls left out, control characters as U+FFFD."""
    text = re.sub("[\u202a-\u202e\u2066-\u2069]", "", " ".join(text.splitlines()))
    return re.sub("[\x00-\x08\x0b-\x1f\x7f-\x9f]", "\ufffd", text)


def shown(text: str) -> str:
    """Session text as one line of an artifact shows it: as in a code span, ends trimmed."""
    return shown_code(text).strip()


def words_shown(text: str) -> list[str]:
    """The words of session text as a social post shows them: plain text, bidi and
    control characters left out."""
    text = re.sub("[\u202a-\u202e\u2066-\u2069]", "", text)
    return re.sub("[\x00-\x08\x0b-\x1f\x7f-\x9f]", " ", text).split()


def opens_with_words(text: str, opening: str) -> bool:
    """Whether `text` opens with session text `opening` as a post shows it, whatever the
    white space between words, the ellipses and quotes a split sentence gains, and the
    punctuation of a title the thread states in the words of its summary (`:B` as `B.`)."""
    marks = re.compile(r"[^\w\s]")
    shown = " ".join(marks.sub("", " ".join(words_shown(opening))).split())
    return " ".join(marks.sub("", text).split()).startswith(shown)


def body(text: str) -> str:
    """An artifact without its front matter."""
    return text.split("---\n", 2)[2] if text.startswith("---\n") else text


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _tokens_text(tokens: list[Any]) -> list[str]:
    out: list[str] = []
    for token in tokens:
        if token.type != "inline":  # an inline token's content is its Markdown source
            out.append(token.content)
        out += [str(v) for v in (token.attrs or {}).values()]
        out += _tokens_text(token.children or [])
    return out


def seen_texts(kind: str, text: str) -> list[str]:
    """The texts a reader of an artifact sees, as they see them: the front matter's values
    as YAML reads them, Markdown with its escapes resolved (code spans, link and image
    addresses included), a thread as it is, a chart's text and attributes; invisible
    characters (Unicode format characters: bidi controls, zero widths) left out."""
    if text.startswith("<svg"):
        root = ElementTree.fromstring(text)
        shown = list(root.itertext()) + [v for e in root.iter() for v in e.attrib.values()]
    else:
        shown = _strings(front_matter(text))
        if kind == "social_post":
            shown.append(body(text))
        else:
            shown += _tokens_text(MD.parse(body(text)))
    return ["".join(ch for ch in s if unicodedata.category(ch) != "Cf") for s in shown]


MASTODON_HEADING = "## Mastodon"
MASTODON_LIMIT = 500


def posts_of(text: str, mastodon: bool = False) -> list[str]:
    """The posts of a social artifact, as a reader sees them: after the front matter, each
    the one line of a fenced code block (```` ```text ````, the fence longer than any run of
    backticks in the thread), the blocks separated by lines holding only `---`; none for a
    draft. Posts are plain text: the block's line is the post as it is. The X thread comes
    first; the Mastodon thread (`mastodon`), when there is one, after a `## Mastodon` line."""
    lines = body(text).splitlines()
    assert lines.count(MASTODON_HEADING) <= 1, lines
    at = lines.index(MASTODON_HEADING) if MASTODON_HEADING in lines else len(lines)
    lines = lines[at + 1 :] if mastodon else lines[:at]
    posts: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line or (line == "---" and posts):
            i += 1
            continue
        opened = re.fullmatch(r"(`{3,})text", line)
        assert opened, f"not a fenced post: {line!r}"
        assert lines[i + 2] == opened[1], lines[i : i + 3]  # one line, then the same fence
        posts.append(lines[i + 1])
        i += 3
    assert lines.count("---") == max(len(posts) - 1, 0), lines  # a rule between two posts
    return posts


def bodies(posts: list[str]) -> list[str]:
    """The posts without their `n/N` markers (which a thread of one does not have)."""
    if len(posts) == 1:
        return posts
    out = []
    for i, post in enumerate(posts, start=1):
        found = MARKER.search(post)
        assert found and found.groups() == (str(i), str(len(posts))), post
        out.append(post[: found.start()])
    return out


def front_matter(text: str) -> dict[str, Any]:
    assert text.startswith("---\n"), text[:40]
    data = yaml.safe_load(text.split("---\n", 2)[1])
    assert isinstance(data, dict)
    return data


def tables(text: str) -> list[list[list[str]]]:
    """Every table of a Markdown text as rows of cell texts (header row first), as
    markdown-it reads them (escapes resolved): a cell that breaks its table shows."""
    found: list[list[list[str]]] = []
    row: list[str] | None = None
    in_cell = False
    for token in MD.parse(text):
        if token.type == "table_open":
            found.append([])
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close" and row is not None:
            found[-1].append(row)
            row = None
        elif token.type in ("th_open", "td_open"):
            in_cell = True
        elif token.type in ("th_close", "td_close"):
            in_cell = False
        elif token.type == "inline" and in_cell and row is not None:
            row.append("".join(child.content for child in token.children or []))
    return found


def figures(text: str) -> dict[str, str]:
    """The two-column `| figure | value |` tables of an artifact, as one dict."""
    out: dict[str, str] = {}
    for table in tables(text):
        if table and table[0] == ["figure", "value"]:
            out.update({row[0]: row[1] for row in table[1:]})
    return out


FRONT_KEYS = {
    "title": str,
    "date": datetime,
    "description": str,
    "slug": str,
    "tags": list,
    "categories": list,
    "draft": bool,
    "author": str,
    "session_id": str,
}


def check_front_matter(meta: dict[str, Any]) -> None:
    """The keys blogs need, each of its type: a title and description, a date with its
    offset, a slug of lower-case letters, digits and `-`, lists of strings, a boolean draft,
    an image only when there is one."""
    for key, kind in FRONT_KEYS.items():
        assert isinstance(meta.get(key), kind), (key, meta)
    assert set(meta) <= set(FRONT_KEYS) | {"image", "published", "_build"}, meta
    if "published" in meta or "_build" in meta:  # a thread: text to post, never a page
        assert meta["published"] is False, meta
        assert meta["_build"] == {"render": "never", "list": "never"}, meta
    assert meta["title"].strip() and meta["description"].strip(), meta
    assert meta["date"].utcoffset() is not None, meta
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", meta["slug"]), meta
    for key in ("tags", "categories"):
        assert all(isinstance(t, str) and t for t in meta[key]), meta
    if "image" in meta:
        assert isinstance(meta["image"], str) and meta["image"], meta


SVG_NS = "{http://www.w3.org/2000/svg}"
GENERIC_FONTS = {"sans-serif", "monospace"}
# what could run code, fetch something or show another document inside an SVG
UNSAFE_SVG_TAGS = {"script", "foreignObject", "image", "use", "a", "iframe", "style", "feImage"}
NUMBER_ATTRIBUTES = {"x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "width", "height", "dy"}
TENTHS = re.compile(r"-?\d+(\.\d)?")


def check_svg(text: str, title: str) -> ElementTree.Element:
    """A chart as a browser and a reviewer need it: well-formed SVG with a viewBox, its
    `<title>` first (the given title, exactly), generic font families only, coordinates in
    tenths, and nothing that runs, loads or links anything (no script, no `on*` handler, no
    href, no `url(...)`, no DOCTYPE or entity). Returns the root element."""
    assert "<!DOCTYPE" not in text and "<!ENTITY" not in text and "<?" not in text
    root = ElementTree.fromstring(text)
    assert root.tag == f"{SVG_NS}svg"
    width, height = float(root.attrib["width"]), float(root.attrib["height"])
    assert root.attrib["viewBox"] == f"0 0 {root.attrib['width']} {root.attrib['height']}"
    assert 0 < width <= 2000 and height > 0
    first = root[0]
    # as XML can carry it: bidi controls left out, characters XML forbids as U+FFFD
    carried = re.sub("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]", "\ufffd", title)
    carried = re.sub("[\u202a-\u202e\u2066-\u2069]", "", carried)
    assert first.tag == f"{SVG_NS}title" and first.text == carried, (first.text, title)
    for element in root.iter():
        tag = element.tag.removeprefix(SVG_NS)
        assert element.tag.startswith(SVG_NS) and tag not in UNSAFE_SVG_TAGS, element.tag
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on") and "href" not in name.lower(), name
            assert "url(" not in value.replace(" ", "").lower(), value
            if name == "font-family":
                assert value in GENERIC_FONTS, value
            if name in NUMBER_ATTRIBUTES:
                assert TENTHS.fullmatch(value), (name, value)
        if tag == "polyline":
            for pair in element.attrib["points"].split(" "):
                assert all(TENTHS.fullmatch(v) for v in pair.split(",")), pair
    return root


def check_artifacts(artifacts: dict[str, str]) -> None:
    """What holds for every artifact: one final newline, Markdown that parses, blog front
    matter that YAML reads with the keys Jekyll and Hugo use, posts within 280 characters;
    a chart is SVG as `check_svg` wants it, titled after the blog post."""
    for kind, text in artifacts.items():
        assert text.endswith("\n") and not text.endswith("\n\n"), kind
        if kind in CHART_KINDS:
            title = front_matter(artifacts["blog_post"])["title"]
            label = "Commit activity" if kind == "activity_chart" else "Equity curve"
            check_svg(text, f"{label}: {title}")
            continue
        assert MD.parse(text), kind
        check_front_matter(front_matter(text))
        if kind == "social_post":
            check_posts(posts_of(text))
            mastodon = posts_of(text, mastodon=True)
            if mastodon:
                assert mastodon != posts_of(text), "a Mastodon thread only where it differs"
                check_posts(mastodon, MASTODON_LIMIT)


URL = re.compile(r"https?://\S+", re.IGNORECASE)
TAG = re.compile(r"[#$]\w+")
VALID_TAG = re.compile(r"#(?!\d+$)[^\W_]+|\$[A-Z]{1,6}")
QUOTES = (("“", "”"), ("«", "»"), ('"', '"'))
# the figures a pipeline states in the post that opens its thread
FIGURE = re.compile(
    r"\b\d+ (?:commit|file|trade)s?\b|\+\d+ lines|P&L [+-]?[\d,.]+\d|win rate [\d.]+%"
)
BOUNDARY = re.compile('[.!?…,;:—–]["”’)»]*$')


def client_length(post: str) -> int:
    """A post's length as a reader's client counts it: a link as 23, the rest by code
    points."""
    return len(URL.sub("", post)) + 23 * len(URL.findall(post))


def split_tags(post: str) -> tuple[str, list[str]]:
    """A post's text and the tags that close it."""
    words = post.split(" ")
    tags: list[str] = []
    while len(words) > 1 and TAG.fullmatch(words[-1]):
        tags.insert(0, words.pop())
    return " ".join(words), tags


LINK = re.compile(r" Read more: https?://\S+/$")


def check_posts(posts: list[str], limit: int = LIMIT) -> None:
    """A thread as a person would post it: each post within 280 characters (`limit`), one
    line of plain text, not only tags, ending at the end of a sentence or clause (or an
    ellipsis), quotes paired, no figure stated twice, and at most four valid tags closing
    the last, after the link to the session's page when there is one."""
    assert all(posts), posts
    for i, post in enumerate(bodies(posts)):
        assert client_length(posts[i]) <= limit, (client_length(posts[i]), posts[i])
        assert "\n" not in post and post == post.strip(), post
        text, tags = split_tags(post)
        link = LINK.search(text)
        if link:
            assert i == len(posts) - 1, post  # the link closes the thread
            text = text[: link.start()]
        assert not TAG.fullmatch(text.split(" ")[-1] if tags else "x"), post
        assert text and not all(TAG.fullmatch(w) for w in text.split(" ")), post  # not only tags
        assert BOUNDARY.search(text), post  # never cut mid-sentence
        for o, c in QUOTES:
            assert (text.count(o) == text.count(c)) if o != c else text.count(o) % 2 == 0, post
        found = FIGURE.findall(text)
        assert len(found) == len(set(found)), (found, post)
        if tags:
            assert i == len(posts) - 1 and len(tags) <= 4, post
            assert all(VALID_TAG.fullmatch(t) for t in tags), tags
            assert len({t.casefold() for t in tags}) == len(tags), tags
