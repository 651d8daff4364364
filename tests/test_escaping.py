"""Session text is escaped for where it lands: no HTML, link, block or front matter of its
own in any artifact, front matter that reads back to the exact strings, and each escaper
checked against a real Markdown, YAML and XML parser."""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token
from pipeline_checks import RENDERER, check_svg, plain, shown, shown_code, tables

from gitflywheel.escape import (
    md_code,
    md_inline,
    md_text,
    md_url,
    terminal,
    xml_text,
    yaml_string,
)
from gitflywheel.pipelines import run_pipeline
from gitflywheel.rendering.templates import Renderer
from gitflywheel.session.artifacts import ArtifactSpec, Screenshot
from gitflywheel.session.records import make_record
from gitflywheel.storage.layout import CHART_KINDS

# The parser the checks trust: CommonMark with raw HTML allowed, so that any HTML that
# got through shows as a token; and the same with GitHub's tables and strikethrough.
COMMONMARK = MarkdownIt("commonmark", {"html": True})
GFM = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
PARSERS = (COMMONMARK, GFM)

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "\n---\n",
    "\n===\n",
    "\ntitle: forged\n",
    "](javascript:alert(1))",
    "[x](javascript:alert(1))",
    "![x](javascript:alert(1))",
    "[x]: javascript:alert(1)",
    "<!--",
    "-->",
    "<?php",
    "<div>",
    "</p>",
    "<https://evil.example>",
    "&lt;script&gt;",
    "&#60;",
    "`",
    "```",
    "~~~",
    "~~",
    "\\",
    "|",
    "*",
    "_",
    "**",
    "# ",
    "#",
    "> ",
    "- ",
    "+ ",
    "1. ",
    "2)",
    "    ",
    "\t",
    "\r\n",
    "\r",
    "\u2028",
    "\x85",
    "\x00",
    "\x1b[2J",
    "\x1b]0;owned\x07",
    "\u202e",
    "\u2066",
    "\u200d",
    "\ufeff",
    "é",
    "日本",
    "🙂",
]
hostile = st.lists(
    st.one_of(st.sampled_from(HOSTILE), st.text(max_size=6)), min_size=1, max_size=6
).map("".join)
visible = hostile.map(
    lambda s: "".join(ch for ch in s if unicodedata.category(ch)[0] not in "CZ" or ch == " ")
)
agents = visible.map(lambda s: s.strip()[:40] or "Agent-1")
moments = st.sampled_from(["2025-12-02T03:30:00Z", "2025-12-03T19:31:00+02:00"])


def walk(tokens: list[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        yield from walk(token.children or [])


def front_and_body(text: str) -> tuple[dict[str, Any] | None, str]:
    if not text.startswith("---\n"):
        return None, text
    _, head, body = text.split("---\n", 2)
    meta = yaml.safe_load(head)
    assert isinstance(meta, dict)
    return meta, body


# ---- the escapers, each against the parser of its context ----------------------------


def one_paragraph(markdown: str) -> list[Token]:
    """The inline tokens of a text that must parse as one plain paragraph."""
    for parser in PARSERS:
        blocks = parser.parse(markdown)
        assert [b.type for b in blocks] in (
            [],
            ["paragraph_open", "inline", "paragraph_close"],
        ), markdown
    return list(walk(GFM.parse(markdown)))


@given(hostile)
def test_md_inline_is_one_line_of_plain_text(text: str) -> None:
    escaped = md_inline(text)
    assert "\n" not in escaped and "\r" not in escaped
    tokens = one_paragraph(escaped)
    assert {t.type for t in tokens} <= {"paragraph_open", "inline", "paragraph_close", "text"}
    assert plain(escaped) == shown(text)


FORBIDDEN = {
    "html_block",
    "html_inline",
    "link_open",
    "code_inline",
    "em_open",
    "s_open",
    "fence",
    "code_block",
    "hr",
    "ordered_list_open",
}
CONTEXTS = {
    "list item": ("- {}", {"bullet_list_open": 1, "list_item_open": 1}),
    "heading": ("## {}", {"heading_open": 1, "paragraph_open": 0}),
    "bold": ("**{}**: after", {"strong_open": 1}),
    "quote": ("> **Aria** (19:40 UTC): {}", {"blockquote_open": 1, "strong_open": 1}),
    "image text": ("![{}](screenshots/01.png)", {"image": 1}),
    "table cell": ("| a | b |\n|---|---|\n| {} | x |", {"table_open": 1, "td_open": 2}),
}


@pytest.mark.parametrize("context", CONTEXTS)
@given(text=hostile)
def test_md_inline_stays_in_its_context(context: str, text: str) -> None:
    pattern, expected = CONTEXTS[context]
    assume(context != "bold" or shown(text))  # `****` is no emphasis
    tokens = list(walk(GFM.parse(pattern.format(md_inline(text)))))
    types = Counter(t.type for t in tokens)
    assert not FORBIDDEN & set(types), types
    assert {name: types[name] for name in expected} == expected
    if context == "image text":
        image = next(t for t in tokens if t.type == "image")
        assert image.attrs["src"] == "screenshots/01.png"
        assert "".join(c.content for c in image.children or []) == shown(text)
    if context == "heading":
        heading = next(t for t in tokens if t.type == "inline")
        assert plain(heading.content) == shown(text)


def text_line(line: str) -> str:
    """A line of prose as a reader sees it: bidi controls out, controls as U+FFFD."""
    line = re.sub("[\u202a-\u202e\u2066-\u2069]", "", line)
    return re.sub("[\x00-\x08\x0b-\x1f\x7f-\x9f]", "\ufffd", line).strip()


@given(hostile)
def test_md_text_keeps_its_lines_and_opens_no_block(text: str) -> None:
    escaped = md_text(text)
    for parser in PARSERS:
        types = {t.type for t in walk(parser.parse(escaped))}
        assert types <= {"paragraph_open", "paragraph_close", "inline", "text", "softbreak"}
    lines = [text_line(line) for line in re.split(r"\r\n|\r|\n", text)]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    assert [plain(line) for line in escaped.split("\n")] == (lines or [""])


@pytest.mark.parametrize("cell", [False, True])
@given(text=hostile)
def test_md_code_shows_the_text_exactly(cell: bool, text: str) -> None:
    span = md_code(text, cell=cell)
    markdown = f"| a |\n|---|\n| {span} |" if cell else f"- files: {span}"
    codes = [t for t in walk(GFM.parse(markdown)) if t.type == "code_inline"]
    assert [c.content for c in codes] == [shown_code(text) or " "]
    assert not [t for t in walk(GFM.parse(markdown)) if "html" in t.type]


@given(st.one_of(hostile, st.sampled_from(["javascript:alert(1)", "JaVaScRiPt:x", "data:x"])))
def test_md_url_cannot_break_out_or_run_script(url: str) -> None:
    images = [t for t in walk(GFM.parse(f"![x]({md_url(url)})")) if t.type == "image"]
    assert len(images) == 1
    src = images[0].attrs["src"]
    assert isinstance(src, str)
    assert not re.match(r"\s*(javascript|vbscript|data|file):", src, re.I)


@given(st.text())
def test_yaml_string_reads_back_exactly(text: str) -> None:
    assert yaml.safe_load(f"title: {yaml_string(text)}\n") == {"title": text}


@given(hostile)
def test_yaml_string_has_nothing_invisible(text: str) -> None:
    quoted = yaml_string(text)
    assert "\n" not in quoted
    assert not [ch for ch in quoted if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")]


@given(st.text())
def test_xml_text_is_text_and_attribute(text: str) -> None:
    escaped = xml_text(text)
    element = ET.fromstring(f'<t a="{escaped}">{escaped}</t>')
    expected = re.sub("[\u202a-\u202e\u2066-\u2069]", "", text)
    expected = re.sub("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]", "\ufffd", expected)
    assert (element.text or "") == expected
    assert element.get("a") == expected


@given(hostile)
def test_terminal_text_has_no_control_left(text: str) -> None:
    shown_text = terminal(text)
    assert not [ch for ch in shown_text if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")]


def test_terminal_shows_escapes() -> None:
    assert terminal("a\x1b]0;owned\x07b\nc\u202ed\u200be\t") == (
        "a\\x1b]0;owned\\x07b\\nc\\u202ed\\u200be\\t"
    )
    assert terminal("Grüße, 日本 🙂") == "Grüße, 日本 🙂"


# ---- whole artifacts, from sessions whose every string is hostile ----------------------


def lessons_of(draw: st.DrawFn) -> list[dict[str, str]]:
    return [
        {"title": draw(hostile), "description": draw(hostile)}
        for _ in range(draw(st.integers(0, 2)))
    ]


def story_fields(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "title": draw(st.none() | hostile),
        "overview": draw(st.none() | hostile),
        "problem": draw(st.none() | hostile),
        "solution": draw(st.none() | hostile),
        "lessons": lessons_of(draw),
        "next_steps": draw(st.lists(hostile, max_size=2)),
        "key_achievements": draw(st.lists(hostile, max_size=2)),
        "deliverables": draw(
            st.lists(
                hostile | st.fixed_dictionaries({"file": hostile, "type": hostile}), max_size=2
            )
        ),
    }


@st.composite
def build_sessions(draw: st.DrawFn) -> tuple[dict[str, Any], tuple[Screenshot, ...]]:
    commits = [
        {
            "message": draw(hostile),
            "author": draw(hostile),
            "hash": draw(hostile),
            "timestamp": draw(hostile | moments),
            "files": draw(st.lists(hostile, max_size=2)),
        }
        for _ in range(draw(st.integers(0, 3)))
    ]
    data = {
        "session_id": "b-1",
        "session_type": "build",
        "timestamp": draw(moments),
        "agent_id": draw(agents),
        **story_fields(draw),
        "metadata": {"task_title": draw(hostile), "achievements": [draw(hostile)]},
        "source_data": {
            "repo_path": draw(hostile),
            "git_commits": commits,
            "files_changed": draw(st.lists(hostile, max_size=2)),
            "work_summary": draw(hostile),
        },
    }
    return data, ()


@st.composite
def trade_sessions(draw: st.DrawFn) -> tuple[dict[str, Any], tuple[Screenshot, ...]]:
    trades = [
        {
            "symbol": draw(hostile.filter(bool)),
            "action": draw(st.sampled_from(["buy", "sell"])),
            "quantity": draw(st.integers(1, 100)),
            "price": draw(st.integers(0, 500)),
            "timestamp": draw(moments),
            "profit_loss": draw(st.none() | st.integers(-50, 50)),
        }
        for _ in range(draw(st.integers(0, 3)))
    ]
    conditions = draw(
        st.dictionaries(
            hostile, hostile | st.integers() | st.lists(hostile, max_size=2), max_size=3
        )
    )
    data = {
        "session_id": "t-1",
        "session_type": "trade",
        "timestamp": draw(moments),
        "agent_id": draw(agents),
        **story_fields(draw),
        "market_analysis": draw(st.none() | hostile),
        "what_worked": draw(st.none() | hostile),
        "what_didnt_work": draw(st.none() | hostile),
        "next_goals": draw(st.lists(hostile, max_size=2)),
        "source_data": {"trades": trades, "market_conditions": conditions},
    }
    return data, ()


@st.composite
def life_sessions(draw: st.DrawFn) -> tuple[dict[str, Any], tuple[Screenshot, ...]]:
    turns = [
        {"source": draw(hostile.filter(bool)), "content": draw(hostile), "timestamp": draw(moments)}
        for _ in range(draw(st.integers(0, 3)))
    ]
    shots = tuple(
        Screenshot(draw(hostile), draw(st.none() | st.just(f"{i:02d}-shot.png")))
        for i in range(draw(st.integers(0, 3)))
    )
    data = {
        "session_id": "l-1",
        "session_type": "life_aria",
        "timestamp": draw(moments),
        "agent_id": draw(agents),
        **story_fields(draw),
        "source_data": {"conversations": turns, "screenshots": [s.source for s in shots]},
    }
    return data, shots


def check_artifact(kind: str, context: dict[str, Any], data: dict[str, Any], text: str) -> None:
    """What the template wrote is all the structure there is."""
    meta, body = front_and_body(text)
    assert meta is not None  # every artifact has front matter
    assert meta["title"] == context["front"]["title"]
    assert meta["author"] == data["agent_id"]
    assert meta["session_id"] == data["session_id"]
    if kind == "blog_post":
        assert meta["title"] == context.get("title") or context["story"]["title"]
    hidden = [ch for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\t\n"]
    assert not hidden and not re.search("[\u202a-\u202e\u2066-\u2069]", text)
    # nor in the front matter, for a viewer that shows it as Markdown
    whole = Counter(t.type for t in walk(COMMONMARK.parse(text)))
    links = len(context.get("links", []))  # a screenshot given as a URL is linked
    assert not whole["html_inline"] and not whole["html_block"] and whole["link_open"] == links
    expected_images = [g["path"] for g in context.get("gallery", [])]
    if context.get("chart"):  # the session's own chart, beside the artifact
        expected_images.append(context["chart"]["file"])
    for parser in PARSERS:
        tokens = list(walk(parser.parse(body)))
        types = Counter(t.type for t in tokens)
        assert not types["html_block"] and not types["html_inline"], kind
        assert types["link_open"] == links, kind  # the templates write no other links
        # a social post's posts are fenced code blocks, each exactly its post (18.18),
        # and the Mastodon thread's after them when it differs
        fences = [(t.info, t.content) for t in tokens if t.type == "fence"]
        posts = (
            [*context["posts"], *(context.get("mastodon") or [])] if kind == "social_post" else []
        )
        assert fences == [("text", f"{post}\n") for post in posts], kind
        assert not types["code_block"] and not types["s_open"], kind
        assert not types["ordered_list_open"] and not types["em_open"], kind
        assert [t.attrs["src"] for t in tokens if t.type == "image"] == expected_images
        threads = [context.get("posts") or [], context.get("mastodon") or []]
        rules = sum(max(len(t) - 1, 0) for t in threads) if kind == "social_post" else 0
        assert types["hr"] == rules, kind  # a draft's social post has no thread at all
        assert types["blockquote_open"] == len(context.get("highlights", []))
        headings = [t for t in tokens if t.type == "heading_open"]
        assert all(h.markup.startswith("#") for h in headings), kind  # no setext heading
    opening = {
        "readme": "",
        "build_log": "Build log: ",
        "trade_journal": "Trade journal: ",
    }.get(kind)
    if opening is not None:
        first = next(t for t in walk(GFM.parse(body)) if t.type == "inline")
        title = context["session"].get("title") or context["story"]["title"]
        assert plain(first.content) == (opening + shown(title)).strip()
    if kind == "trade_journal" and context["trades"]:
        rows = tables(body)[0][1:]
        assert [row[2] for row in rows] == [shown(t["symbol"]) for t in context["trades"]]


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.one_of(build_sessions(), trade_sessions(), life_sessions()))
@pytest.mark.slow
def test_hostile_session_text_makes_no_markup_of_its_own(
    case: tuple[dict[str, Any], tuple[Screenshot, ...]],
) -> None:
    data, shots = case
    record = make_record("test", data)
    for spec in run_pipeline(record.session, shots):
        if spec.kind in CHART_KINDS:
            check_svg(RENDERER.render(spec).decode("utf-8"), spec.context["chart"]["title"])
            continue
        check_artifact(spec.kind, spec.context, data, RENDERER.render(spec).decode("utf-8"))


def test_a_hostile_title_stays_a_title() -> None:
    data = {
        "session_id": "hostile-1",
        "session_type": "build",
        "timestamp": "2025-12-02T03:30:00Z",
        "agent_id": "Agent-1",
        "title": "Fix <script>alert(1)</script>\n---\ntitle: forged",
        "lessons": [{"title": "<img src=x onerror=alert(1)>", "description": "[a](javascript:b)"}],
        "next_steps": ["<!-- swallow", "`code` *bold*"],
        "source_data": {"repo_path": "repo`<b>x</b>", "git_commits": [{"message": "Work"}]},
    }
    record = make_record("test", data)
    artifacts = {s.kind: RENDERER.render(s).decode() for s in run_pipeline(record.session)}
    blog = artifacts["blog_post"]
    meta, body = front_and_body(blog)
    assert meta is not None
    assert {k: meta[k] for k in ("title", "author", "tags", "session_id")} == {
        "title": "Fix <script>alert(1)</script>\n---\ntitle: forged",
        "author": "Agent-1",
        "tags": ["build", "devlog", "b"],  # the project; no agent tag by default
        "session_id": "hostile-1",
    }
    assert "- **\\<img src=x onerror=alert(1)>**: \\[a\\](javascript:b)\n" in body
    assert "- \\<!-- swallow\n- \\`code\\` \\*bold\\*\n" in body
    readme = front_and_body(artifacts["readme"])[1]
    assert readme.startswith("\n## Fix \\<script>alert(1)\\</script> --- title: forged\n")
    assert "Repository `b>` · session `hostile-1` by Agent-1" in readme  # its last component
    for kind, text in artifacts.items():  # a social post's text too, in code blocks (18.18)
        assert not [t for t in walk(COMMONMARK.parse(text)) if "html" in t.type], kind


def test_templates_escape_by_default_and_never_twice() -> None:
    source = (
        "{{ x }} | {{ x|md_inline }} | {{ x|md_code }} | {{ '**made**'|safe }}\n"
        "{{ p|md_text }}\ntitle: {{ x|yaml_string }}\n"
    )
    renderer = Renderer({"mine.md.j2": source.encode()})
    spec = ArtifactSpec("readme", "build", "S3", "mine.md.j2", {"x": "*a* <b>", "p": "1. x\n# y"})
    assert renderer.render(spec).decode() == (
        "\\*a\\* \\<b> | \\*a\\* \\<b> | `*a* <b>` | **made**\n"
        '1\\. x\n\\# y\ntitle: "*a* \\x3cb>"\n'
    )
