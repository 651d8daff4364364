"""`export --format hugo|jekyll`: built by the real generators (Debian's hugo and jekyll),
every image of every built page resolves, drafts stay out, hostile session text stays
text, and a blog's own files are never touched."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
import yaml
from conftest import CORPUS, EXAMPLES, Cli, session, snapshot
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from gitflywheel import api
from gitflywheel.errors import GitflywheelError
from gitflywheel.escape import has_hidden_controls, md_code
from gitflywheel.publishing.exports import (
    WORD_JOINER,
    hugo_safe,
    kramdown_safe,
    kramdown_text,
    no_task_boxes,
    owner_file,
    plan_hugo,
    plan_jekyll,
)
from gitflywheel.publishing.posts import PostFile, published_posts
from gitflywheel.storage.store import Store


def need(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        pytest.skip(f"{tool} is not installed (scripts/test-tools installs it from Debian)")
    return found


class Page(HTMLParser):
    """What the checks need of a built page: its image sources, elements and text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.images: list[str] = []
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.text: list[str] = []
        self.code: list[str] = []  # the text of each `<code>` element
        self._in_code = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += attrs
        if tag == "code":
            self._in_code = True
            self.code.append("")
        if tag == "img":
            self.images.append(dict(attrs).get("src") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "code":
            self._in_code = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in_code:
            self.code[-1] += data

    @property
    def all_text(self) -> str:
        return "".join(self.text)


def pages(out: Path) -> dict[Path, Page]:
    return {p: Page(p.read_text("utf-8")) for p in sorted(out.rglob("*.html"))}


def resolve(out: Path, page: Path, src: str, base: str = "/") -> Path:
    """The built file an `<img src>` of a page loads, as a web server at `base` serves it."""
    url = "/" + page.relative_to(out).as_posix()
    path = urlsplit(urljoin(url, src)).path
    assert path.startswith(base), f"{page}: {src} is outside the site's base path {base}"
    return out / unquote(path.removeprefix(base))


def check_images(out: Path, base: str = "/") -> tuple[int, set[Path]]:
    """Every `<img src>` of every built page is a file of the build: how many there are,
    and the files they load."""
    count, loaded = 0, set()
    for page, parsed in pages(out).items():
        for src in parsed.images:
            assert not urlsplit(src).scheme, f"{page}: {src} is not a file of the site"
            file = resolve(out, page, src, base)
            assert file.is_file(), f"{page}: {src} does not resolve"
            count += 1
            loaded.add(file.resolve())
    return count, loaded


def image_files(out: Path) -> set[Path]:
    return {p.resolve() for p in out.rglob("*") if p.suffix in (".png", ".svg", ".jpg")}


def build_store(cli: Cli, store: Path, *inputs: Path) -> None:
    result = cli("ingest", "--repo", store, *inputs)
    assert result.exit_code == 0, result.output


HUGO_CONFIG = """\
baseURL: "http://blog.example/sub/"
title: "A blog"
disableKinds: [taxonomy, term, RSS, sitemap, robotsTXT, 404]
"""
HUGO_SINGLE = """\
<!doctype html><html><head><title>{{ .Title }}</title>
{{ template "_internal/opengraph.html" . }}</head><body>
<h1 class="title">{{ .Title }}</h1>
<p class="meta">{{ .Date.Format "2006-01-02" }} · {{ .Params.author }} · {{ delimit .Params.tags ", " }}</p>
<p class="description">{{ .Description }}</p>
{{ with .Params.image }}<img class="cover" src="{{ . }}" alt="">{{ end }}
{{ .Content }}
</body></html>
"""
HUGO_LIST = """\
<!doctype html><html><head><title>{{ .Title }}</title></head><body>
{{ range .Pages }}<a href="{{ .RelPermalink }}">{{ .Title }}</a><div>{{ .Summary }}</div>{{ end }}
</body></html>
"""


def hugo_site(folder: Path) -> None:
    """A minimal Hugo site around an export: its config and two layouts, and a shortcode
    that says so when hostile text manages to call it."""
    (folder / "config.yaml").write_text(HUGO_CONFIG)
    layouts = folder / "layouts"
    (layouts / "_default").mkdir(parents=True, exist_ok=True)
    (layouts / "_default" / "single.html").write_text(HUGO_SINGLE)
    (layouts / "_default" / "list.html").write_text(HUGO_LIST)
    (layouts / "shortcodes").mkdir(exist_ok=True)
    for name in ("x", "figure"):
        (layouts / "shortcodes" / f"{name}.html").write_text("SHORTCODE-RAN")


def hugo_build(folder: Path) -> Path:
    done = subprocess.run(
        [need("hugo"), "--quiet", "--source", str(folder), "--destination", "public"],
        capture_output=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr.decode() + done.stdout.decode()
    return folder / "public"


JEKYLL_CONFIG = """\
title: "A blog"
baseurl: "/blog"
"""
# As Jekyll's own theme (minima) writes it: values escaped where they land in HTML.
JEKYLL_POST = """\
<!doctype html><html><head><title>{{ page.title | escape }}</title></head><body>
<h1 class="title">{{ page.title | escape }}</h1>
<p class="meta">{{ page.date | date: "%Y-%m-%d" }} · {{ page.author | escape }} · {{ page.tags | join: ", " | escape }}</p>
<p class="description">{{ page.description | escape }}</p>
{% if page.image %}<img class="cover" src="{{ page.image | relative_url }}" alt="">{% endif %}
{{ content }}
</body></html>
"""


JEKYLL_INDEX = """\
---
---
<!doctype html><html><head><title>{{ site.title | escape }}</title></head><body>
{% for post in site.posts %}<a href="{{ post.url | relative_url }}">{{ post.title | escape }}</a>
<div>{{ post.excerpt }}</div>{% endfor %}
</body></html>
"""


def jekyll_site(folder: Path) -> None:
    """A minimal Jekyll site: `_config.yml`, a post layout, an index of the posts with
    their excerpts, and an include that says so when hostile text manages to run Liquid."""
    (folder / "_config.yml").write_text(JEKYLL_CONFIG)
    (folder / "index.html").write_text(JEKYLL_INDEX)
    (folder / "_layouts").mkdir(parents=True, exist_ok=True)
    (folder / "_layouts" / "post.html").write_text(JEKYLL_POST)
    (folder / "_includes").mkdir(exist_ok=True)
    (folder / "_includes" / "x.html").write_text("LIQUID-RAN")


def jekyll_build(folder: Path) -> Path:
    done = subprocess.run(
        [need("jekyll"), "build", "--safe", "--quiet", "--source", str(folder),
         "--destination", str(folder / "_site")],
        capture_output=True,
        timeout=300,
        cwd=folder,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode() + done.stdout.decode()
    return folder / "_site"


PAGE_LABELS = {"build_log": "Build log", "trade_journal": "Trade journal"}


def store_pages(store: Path) -> dict[str, tuple[str, int]]:
    """slug -> (title, images of its session) of every page an export holds: each
    published post, and the build logs and trade journals beside them."""
    found: dict[str, tuple[str, int]] = {}
    with Store.open(store) as opened:
        for post in published_posts(opened).posts:
            found[post.slug] = (post.title, len(post.images))
            for file in post.files:
                if file.kind in PAGE_LABELS:
                    assert post.facts is not None
                    front = post.facts.artifacts[file.kind].context["front"]  # type: ignore[index]
                    title = f"{PAGE_LABELS[file.kind]}: {post.title}"
                    found[front["slug"]] = (title, len(post.images))
    return found


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def store_posts(store: Path) -> tuple[dict[str, str], set[str], int]:
    """(slug -> title of each published post, the slugs of the drafts, images in posts)."""
    with Store.open(store) as opened:
        found = published_posts(opened)
        slugs = {p.slug: p.title for p in found.posts}
        images = sum(len(p.images) for p in found.posts)
    drafts = set()
    for entry in api.ls(store):
        facts = json.loads(api.show(store, entry.session_id, "facts"))
        front = facts["artifacts"]["blog_post"]["context"]["front"]
        if front["draft"]:
            drafts.add(front["slug"])
    return slugs, drafts, images


@pytest.fixture()
def blog_store(tmp_path: Path, cli: Cli) -> Path:
    """The examples and the corpus in one store: drafts, screenshots, three session types."""
    store = tmp_path / "blog.git"
    build_store(cli, store, *sorted(EXAMPLES.glob("*.json")), CORPUS)
    return store


def test_hugo_builds_the_export_and_every_image_resolves(
    blog_store: Path, tmp_path: Path, cli: Cli
) -> None:
    need("hugo")
    site = tmp_path / "hugo"
    result = cli("export", "--repo", blog_store, site, "--format", "hugo", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    slugs, drafts, images = store_posts(blog_store)
    every = store_pages(blog_store)
    assert report["posts"] == len(slugs) > 5 and report["left_out"]["draft"] == len(drafts) > 0
    assert report["pages"] == len(every) > len(slugs)  # (20) build logs, trade journals too
    assert [s for s in every if s.endswith("-journal")] and [
        s for s in every if s.endswith("-build-log")
    ]
    written = [p for p in (site / "content").rglob("*") if p.is_file()]
    assert images >= 2 and report["files"] == len(written)

    hugo_site(site)
    out = hugo_build(site)
    built = {p.parent.name for p in (out / "posts").glob("*/index.html")}
    assert built == set(every) and not built & drafts
    count, loaded = check_images(out)
    assert count > images and loaded == image_files(out)
    assert len(loaded) == report["files"] - len(every)
    for slug, (title, _) in every.items():
        html = (out / "posts" / slug / "index.html").read_text("utf-8")
        page = Page(html)
        assert page.all_text.count(title) >= 2  # <title> and <h1>: Hugo read the front matter
        assert page.images[0] == "card.png"  # (20) the cover is the card, from `image`
        card = (out / "posts" / slug / "card.png").read_bytes()
        assert png_size(card) == (1200, 630)
        [og] = re.findall(r'<meta property="og:image" content="([^"]+)"', html)  # `images`
        assert og == f"http://blog.example/sub/posts/{slug}/card.png"
    devlog = next(s for s in slugs if s.startswith("spaceexplorer"))
    page = Page((out / "posts" / devlog / "index.html").read_text("utf-8"))
    assert "2025-12-03 · Agent-4 · devlog, aria" in page.all_text  # no agent tag by default
    assert "screenshots/01-title.png" in page.images


@pytest.mark.slow
def test_jekyll_builds_the_export_and_every_image_resolves(
    blog_store: Path, tmp_path: Path, cli: Cli
) -> None:
    need("jekyll")
    site = tmp_path / "jekyll"
    result = cli(
        "export", "--repo", blog_store, site, "--format", "jekyll", "--base-path", "/blog", "--json"
    )
    assert result.exit_code == 0, result.output
    slugs, drafts, images = store_posts(blog_store)
    every = store_pages(blog_store)
    report = json.loads(result.stdout)
    assert report["posts"] == len(slugs) and report["pages"] == len(every) > len(slugs)
    posts = sorted(p.name for p in (site / "_posts").iterdir())
    assert {p[11:-3] for p in posts} == set(every)
    assert all(len(p) > 11 and p[4] == p[7] == p[10] == "-" for p in posts)
    # the session's images and its card, once for all its pages
    assert report["files"] == len(every) + images + len(slugs)

    jekyll_site(site)
    out = jekyll_build(site)
    built = {p.stem: p for p in out.rglob("*.html") if p != out / "index.html"}
    assert set(built) == set(every) and not set(built) & drafts
    count, loaded = check_images(out, base="/blog/")
    assert count > images and loaded == image_files(out) and len(loaded) == images + len(slugs)
    for slug, (title, _) in every.items():
        page = Page(built[slug].read_text("utf-8"))
        assert page.all_text.count(title) >= 2
        [cover] = [src for src in page.images if src.endswith("/card.png")]  # (20) `image`
        assert png_size(resolve(out, built[slug], cover, "/blog/").read_bytes()) == (1200, 630)
    devlog = next(s for s in slugs if s.startswith("spaceexplorer"))
    assert built[devlog].relative_to(out).as_posix() == f"life_aria/2025/12/03/{devlog}.html"
    page = Page(built[devlog].read_text("utf-8"))
    assert "2025-12-03 · Agent-4 · devlog, aria" in page.all_text  # no agent tag by default
    assert page.images[0] == f"/blog/assets/{devlog}/card.png"
    assert f"/blog/assets/{devlog}/screenshots/01-title.png" in page.images


LIQUID = ["{{ site.time }}", "{% include x.html %}", "{% include ../../etc/passwd %}"]
SHORTCODES = ["{{< x >}}", "{{% x %}}", '{{< figure src="a" >}}', "{{</* x */>}}"]
HTML = ["<script>alert(1)</script>", "<img src=x onerror=alert(2)>"]
KRAMDOWN = "{::nomarkdown}<b>raw</b>{:/}"
HOSTILE = " ".join([*LIQUID, *SHORTCODES, *HTML, KRAMDOWN])


def hostile_session() -> dict[str, object]:
    return session(
        "hostile-1",
        title="Hostile " + HOSTILE,
        agent_id="Agent {{ site.title }}",
        overview=HOSTILE,
        problem='First line\n{: onclick="alert(3)"}\n\n{: #forged onclick="alert(4)"}',
        solution="An opener alone: {{% and {{<",
        lessons=[{"title": "{{% x %}}", "description": "{{< x >}} " + KRAMDOWN}],
        next_steps=[*LIQUID, *SHORTCODES, "Last of all, alone: {{% x"],
        source_data={
            "repo_path": "example/hostile",
            "git_commits": [{"message": "Work {{% x %}}", "files": ["a.py"]}],
            "tools_created": ["{{< x >}}", "{{% x %}}", "{% include x.html %}"],
        },
    )


def hostile_store(cli: Cli, tmp_path: Path) -> Path:
    data = tmp_path / "hostile.json"
    data.write_text(json.dumps(hostile_session()))
    store = tmp_path / "hostile.git"
    build_store(cli, store, data, EXAMPLES / "life_aria_session.json")
    return store


def assert_inert(page: Page, ran: str) -> None:
    """Nothing of the hostile text became markup or ran: no script, no handler, no raw
    `<b>`, no shortcode or include output; the text is there as written."""
    assert "script" not in page.tags and "b" not in page.tags
    assert not [a for a in page.attributes if a[0].startswith("on") or a[1] == "forged"]
    assert ran not in page.all_text
    text = page.all_text.replace(WORD_JOINER, "")
    for piece in [*LIQUID, *SHORTCODES, *HTML]:
        assert piece.replace('"', "") in text.replace('"', "").replace("“", "").replace("”", "")


def test_hostile_text_stays_text_in_hugo(tmp_path: Path, cli: Cli) -> None:
    need("hugo")
    store = hostile_store(cli, tmp_path)
    site = tmp_path / "hugo"
    assert cli("export", "--repo", store, site, "--format", "hugo").exit_code == 0
    hugo_site(site)
    out = hugo_build(site)
    hostile = [p for p in (out / "posts").iterdir() if p.name.startswith("hostile")]
    [folder] = [p for p in hostile if not p.name.endswith("-build-log")]
    [log] = [p for p in hostile if p.name.endswith("-build-log")]  # (20) a page too: inert
    assert not {"script", "b"} & set(Page((log / "index.html").read_text("utf-8")).tags)
    page = Page((folder / "index.html").read_text("utf-8"))
    assert_inert(page, "SHORTCODE-RAN")
    assert {"{{< x >}}", "{{% x %}}", "{% include x.html %}"} <= set(page.code)  # exactly
    assert "Last of all, alone: {{% x" in page.all_text.replace(WORD_JOINER, "")
    assert "SHORTCODE-RAN" not in "".join(p.read_text("utf-8") for p in out.rglob("*.html"))


def test_hostile_text_stays_text_in_jekyll(tmp_path: Path, cli: Cli) -> None:
    need("jekyll")
    store = hostile_store(cli, tmp_path)
    site = tmp_path / "jekyll"
    assert cli("export", "--repo", store, site, "--format", "jekyll").exit_code == 0
    jekyll_site(site)
    out = jekyll_build(site)
    [built] = [
        p
        for p in out.rglob("*.html")
        if p.name.startswith("hostile") and not p.name.endswith("-build-log.html")
    ]
    page = Page(built.read_text("utf-8"))
    assert_inert(page, "LIQUID-RAN")
    assert "root:" not in page.all_text
    assert "{::nomarkdown}" in page.all_text.replace(WORD_JOINER, "")
    index = Page((out / "index.html").read_text("utf-8"))  # the excerpts: no Liquid either
    assert_inert(index, "LIQUID-RAN")
    assert "LIQUID-RAN" not in "".join(p.read_text("utf-8") for p in out.rglob("*.html"))
    assert {"{{< x >}}", "{{% x %}}", "{% include x.html %}"} <= set(page.code)


# (18.15) What a session says shows as it says it, in both generators: kramdown knows no
# `\&` escape and reads `$$` as math, where goldmark reads the CommonMark body as it is.
LITERAL = "AT&amp;T &copy; $$E=mc^2$$ {% raw %} {{ x }} \\& \\$ $5 & 3 `$$ &amp;`"
LABELS = ["Title", "Overview", "Problem", "Solution", "Lesson", "Told", "Next"]


def literal_store(cli: Cli, tmp_path: Path) -> Path:
    data = tmp_path / "literal.json"
    data.write_text(
        json.dumps(
            session(
                "literal-1",
                title=f"Title {LITERAL}",
                overview=f"Overview {LITERAL}",
                problem=f"Problem {LITERAL}\nsecond line $$a$$",
                solution=f"Solution {LITERAL}",
                lessons=[{"title": f"Lesson {LITERAL}", "description": f"Told {LITERAL}"}],
                next_steps=[f"Next {LITERAL}"],
            )
        )
    )
    store = tmp_path / "literal.git"
    build_store(cli, store, data)
    return store


@pytest.mark.parametrize("fmt", ["hugo", pytest.param("jekyll", marks=pytest.mark.slow)])
def test_session_text_shows_exactly_as_written(fmt: str, tmp_path: Path, cli: Cli) -> None:
    store = literal_store(cli, tmp_path)
    site = tmp_path / fmt
    assert cli("export", "--repo", store, site, "--format", fmt).exit_code == 0
    if fmt == "hugo":
        hugo_site(site)
        [built] = (hugo_build(site) / "posts").glob("title-*[!g]/index.html")  # not -build-log
    else:
        jekyll_site(site)
        [built] = jekyll_build(site).rglob("title-*[!g].html")
    page = Page(built.read_text("utf-8"))
    text = page.all_text
    for label in LABELS:
        assert f"{label} {LITERAL}" in text, label
    assert "second line $$a$$" in text
    assert text.count(f"Overview {LITERAL}") == 1  # the body; the description is no repeat


def test_kramdown_text_leaves_code_and_link_destinations_alone() -> None:
    assert kramdown_text("AT\\&amp;T \\&copy; $$x$$ \\\\& \\*") == (
        "AT&amp;amp;T &amp;copy; \\$\\$x\\$\\$ \\\\& \\*"
    )
    assert kramdown_text("a `$ \\&` ``b`$`` [c](d$) `e $") == (
        "a `` $ \\& `` `` b`$ `` [c](d$) \\`e \\$"
    )
    fenced = "```\n$ \\&\n```\n~~~~\n$\n~~~\n~~~~\n$\n"
    assert kramdown_text(fenced) == fenced.removesuffix("$\n") + "\\$\n"


def test_kramdown_text_writes_each_code_span_as_kramdown_reads_code() -> None:
    """A code span between two backticks or more with a space inside each end (kramdown
    strips one), or, when its text starts with white space, a `<code>` element of
    character references; a backtick that opens no span is escaped."""
    assert kramdown_text("`a` ``b`c`` ```e``f``` `  d  `") == (
        "`` a `` `` b`c `` ``` e``f ``` <code>&#32;d&#32;</code>"  # CommonMark shows ` d `
    )
    assert (
        kramdown_text("- ` <img src=x>`\n") == "- <code>&#32;&#60;img&#32;src&#61;x&#62;</code>\n"
    )
    assert kramdown_text("`\tb` ` ` `` ` ``") == "<code>&#9;b</code> <code>&#32;</code> `` ` ``"
    assert kramdown_text("a `b\nc` d ``e` f") == "a `` b c `` d \\`\\`e\\` f"


# (21) kramdown reads a single backtick followed by white space as a literal backtick,
# and what follows as Markdown, raw HTML and all: a repository path whose last part
# starts with a space ran a handler in the Jekyll export. Every code span, whatever its
# text and wherever it stands, is code there.
CODE_TEXTS = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(2)</script>",
    "&lt;b&gt; &amp; &#60;i>",
    "$$x$$ {::nomarkdown}<b>k</b>{:/} {: onclick=alert(3)}",
    "a ` <i>b</i> `` c",
    "`` <b>x</b>",
    "x`",
]
CODE_EDGES = ["", " ", "\t", "  \t"]
HOSTILE_CODE = [
    f"{lead}{text}{trail}" for text in CODE_TEXTS for lead in CODE_EDGES for trail in CODE_EDGES
]


def hostile_code_body() -> str:
    """Each hostile code text in a span everywhere a span can stand: in a paragraph, at
    the start of a list item, in a table cell, as a link's text, in a heading."""
    spans = [md_code(text) for text in HOSTILE_CODE]
    cells = [md_code(text, cell=True) for text in HOSTILE_CODE]
    return "\n".join(
        [
            "\n".join(f"Text {span} and more.\n" for span in spans),
            "\n".join(f"- {span} after" for span in spans),
            "\n| code | n |\n|---|---:|",
            "\n".join(f"| {cell} | {n} |" for n, cell in enumerate(cells)),
            "",
            "\n".join(f"[{span}](https://example.com/{n})\n" for n, span in enumerate(spans)),
            "\n".join(f"## Heading {span}\n" for span in spans),
        ]
    )


@pytest.mark.slow
def test_no_code_span_opens_html_in_jekyll(tmp_path: Path, cli: Cli) -> None:
    need("jekyll")
    repro = session(
        "kramdown-xss",
        title="Refactor parser",
        source_data={
            "repo_path": '/src/ <img src="x" onerror="document.title=\'PWNED\'">',
            "git_commits": [{"hash": "0123456789abcdef", "message": "feat: one"}],
        },
    )
    (tmp_path / "xss.json").write_text(json.dumps(repro))
    store = tmp_path / "store.git"
    build_store(cli, store, EXAMPLES / "life_aria_session.json", tmp_path / "xss.json")
    with Store.open(store) as opened:
        posts = published_posts(opened).posts
        posts = [
            replace(p, body=hostile_code_body()) if p.session_type == "life_aria" else p
            for p in posts
        ]
        plan = plan_jekyll(opened, posts, "/")
    site = tmp_path / "jekyll"
    for name, data in plan.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_bytes(data)
    jekyll_site(site)
    (site / "_config.yml").write_text('title: "A blog"\n')
    out = jekyll_build(site)
    built = {p.stem: Page(p.read_text("utf-8")) for p in out.rglob("*.html")}
    for name, page in built.items():  # the excerpts of the index too
        assert not {"script", "b", "i"} & set(page.tags), name
        assert not [a for a in page.attributes if a[0].startswith("on")], name
        assert all(src.startswith("/assets/") for src in page.images), name  # covers
    log = built["refactor-parser-build-log"]
    assert ' <img src="x" onerror="document.title=\'PWNED\'">' in log.code
    [hostile] = [page for name, page in built.items() if name.startswith("spaceexplorer")]
    shown = [code.replace(WORD_JOINER, "") for code in hostile.code]
    assert sorted(shown) == sorted(HOSTILE_CODE * 5)  # each as written, in all five places


# (18.16) A linked screenshot captioned `x` is `- [x](url)`: goldmark made it a checked
# task box and lost the link.
LINKED = {
    "https://shots.example/a.png": "x",
    "https://shots.example/b.png": "X",
    "http://shots.example/c.png": "[x] done",
    "https://shots.example/d.png": "[ ]",
}


class Links(HTMLParser):
    """Each `<a href>` of a page with its text, and whether the page has an `<input>`."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.links: dict[str, str] = {}
        self.inputs = 0
        self._href: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.inputs += tag == "input"
        if tag == "a":
            self._href = dict(attrs).get("href") or ""
            self.links[self._href] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._href = None

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self.links[self._href] += data


@pytest.mark.parametrize("fmt", ["hugo", pytest.param("jekyll", marks=pytest.mark.slow)])
def test_a_linked_screenshot_is_a_link_with_its_caption(fmt: str, tmp_path: Path, cli: Cli) -> None:
    data = json.loads((EXAMPLES / "life_aria_session.json").read_text())
    data["source_data"]["screenshots"] += [{"path": u, "caption": c} for u, c in LINKED.items()]
    (tmp_path / "shots.json").write_text(json.dumps(data))
    shutil.copytree(EXAMPLES / "screens", tmp_path / "screens")
    store = tmp_path / "shots.git"
    build_store(cli, store, tmp_path / "shots.json")
    site = tmp_path / fmt
    assert cli("export", "--repo", store, site, "--format", fmt).exit_code == 0
    if fmt == "hugo":
        hugo_site(site)
        [built] = (hugo_build(site) / "posts").glob("*/index.html")
    else:
        jekyll_site(site)
        [built] = [p for p in jekyll_build(site).rglob("*.html") if p.name != "index.html"]
    page = Links(built.read_text("utf-8"))
    assert page.inputs == 0
    for url, caption in LINKED.items():
        assert page.links.get(url) == caption, url


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        ("- [x](u)\n* [ ] a\n1. [X](v)\n", "- [&#120;](u)\n* [&#32;] a\n1. [&#88;](v)\n"),
        ("> - [x](u)\n  + [x] b\n", "> - [&#120;](u)\n  + [&#120;] b\n"),
        ("- [xx](u)\n- \\[x\\] a\ntext [x](u)\n", "- [xx](u)\n- \\[x\\] a\ntext [x](u)\n"),
        ("```\n- [x](u)\n```\n- [x](u)\n", "```\n- [x](u)\n```\n- [&#120;](u)\n"),
    ],
)
def test_no_list_item_opens_with_a_task_box(body: str, shown: str) -> None:
    assert no_task_boxes(body) == shown


def test_shortcode_pairs_become_hugo_comments_and_lone_openers_are_broken() -> None:
    assert hugo_safe("a {{< x >}} b") == "a {{</* x */>}} b"
    assert hugo_safe("`{{% y %}}` and {{% z") == "`{{%/* y */%}}` and {{\u2060% z"
    assert hugo_safe("{{<>}}{{%%}}") == "{{</**/>}}{{%/**/%}}"
    assert hugo_safe("no {{ template }} here") == "no {{ template }} here"
    assert kramdown_safe('{::nomarkdown} {: a="b"} {#id} {x}') == (
        '{\u2060::nomarkdown} {\u2060: a="b"} {\u2060#id} {x}'
    )


def as_hugo_shows(text: str) -> str:
    """The text Hugo's page lexer makes of Markdown, where only comment-form shortcodes
    may appear: `{{</* x */>}}` shows as `{{< x >}}` (the comment closes at the first
    `*/>}}`, as hugo 0.111 does); a live shortcode fails the check."""
    out, pos = [], 0
    while (found := re.compile(r"\{\{([<%])").search(text, pos)) is not None:
        kind = found.group(1)
        closer = ">}}" if kind == "<" else "%}}"
        assert text.startswith("/*", found.end()), f"a live shortcode at {found.start()}"
        end = text.find("*/" + closer, found.end() + 2)
        assert end != -1, "an unclosed shortcode comment"
        out += [text[pos : found.start()], "{{", kind, text[found.end() + 2 : end], closer]
        pos = end + 5
    return "".join(out) + text[pos:]


PIECES = ["{{<", "{{%", ">}}", "%}}", "/*", "*/", "{", "}", "<", ">", "%", "/", "*", ":", "#"]


@given(st.lists(st.sampled_from([*PIECES, " ", "a", "\n", WORD_JOINER]), max_size=30).map("".join))
def test_hugo_shows_any_text_as_written_and_calls_nothing(text: str) -> None:
    assert as_hugo_shows(hugo_safe(text)).replace(WORD_JOINER, "") == text.replace(WORD_JOINER, "")
    shown = kramdown_safe(text)
    assert not re.search(r"\{[:#]", shown) and shown.replace(WORD_JOINER, "") == text.replace(
        WORD_JOINER, ""
    )


# (21) Front matter carried control characters and bidi controls, escaped, so that they
# read back as themselves: Hugo published them (its RSS feed was no longer XML) and a
# title's unbalanced right-to-left override reordered what followed it. And a tag longer
# than a file name may be (the site cuts its tag folders to 80) failed Hugo's build.
HIDDEN = "\x0b\x1b[2J\x85\u202e\u2066"


def hidden_store(cli: Cli, tmp_path: Path) -> Path:
    data = session(
        "hidden-1",
        title=f"Fix {HIDDEN} parser \u202eevil done",
        overview=f"Overview {HIDDEN} here.",
        source_data={
            "repo_path": "/x/" + "r" * 300,
            "git_commits": [{"hash": "0123456789abcdef", "message": f"feat: one {HIDDEN}"}],
        },
    )
    (tmp_path / "hidden.json").write_text(json.dumps(data))
    store = tmp_path / "hidden.git"
    build_store(cli, store, tmp_path / "hidden.json")
    return store


def front_of(text: str) -> dict[str, object]:
    front = yaml.safe_load(text.split("---\n")[1])
    assert isinstance(front, dict)
    return front


def test_front_matter_text_is_shown_text_and_tags_fit_a_folder(tmp_path: Path, cli: Cli) -> None:
    store = hidden_store(cli, tmp_path)
    with Store.open(store) as opened:
        # an author as a store another gitflywheel made may hold it (ingest refuses it)
        posts = [replace(p, author=f"Agent{HIDDEN}-1") for p in published_posts(opened).posts]
        plans = {"hugo": plan_hugo(opened, posts), "jekyll": plan_jekyll(opened, posts, "/")}
    for fmt, plan in plans.items():
        fronts = [front_of(data.decode()) for path, data in plan.items() if path.endswith(".md")]
        assert len(fronts) == 2, fmt  # the post and its build log
        for front in fronts:
            for key in ("title", "description", "author"):
                assert not has_hidden_controls(str(front[key])), (fmt, key, front[key])
            assert str(front["title"]).endswith("Fix [2J parser evil done")
            assert front["author"] == "Agent[2J-1"
            tags = front["tags"]
            assert isinstance(tags, list) and "r" * 80 in tags, tags
            assert all(len(tag) <= 80 for tag in tags)


@pytest.mark.slow
def test_hugo_builds_a_long_tag_and_a_feed_of_hidden_characters(tmp_path: Path, cli: Cli) -> None:
    need("hugo")
    store = hidden_store(cli, tmp_path)
    site = tmp_path / "hugo"
    assert cli("export", "--repo", store, site, "--format", "hugo").exit_code == 0
    hugo_site(site)
    (site / "config.yaml").write_text('baseURL: "http://blog.example/"\ntitle: "A blog"\n')
    out = hugo_build(site)  # tags and their RSS feeds too
    assert (out / "tags" / ("r" * 80) / "index.html").is_file()
    [post] = (out / "posts").glob("fix-*[!g]/index.html")
    assert Page(post.read_text("utf-8")).all_text.count("Fix [2J parser evil done") == 2
    feeds = list(out.rglob("*.xml"))
    assert len(feeds) > 3
    for path in [*feeds, *out.rglob("*.html")]:
        text = path.read_text("utf-8")
        if path.suffix == ".xml":
            etree.fromstring(text.encode())  # well formed
        assert not re.search(
            "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", text
        ), path


def revise_to_draft(cli: Cli, store: Path, tmp_path: Path) -> None:
    """`ingest --revise` the session `keep-1` into what the store publishes as a draft:
    a placeholder title, no commits, no story."""
    data = tmp_path / "draft.json"
    data.write_text(json.dumps(session("keep-1", title="Test session", source_data={})))
    result = cli("ingest", "--repo", store, "--revise", data)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("fmt", ["hugo", "jekyll"])
def test_re_export_replaces_its_own_posts_and_never_a_blog_s_files(
    fmt: str, tmp_path: Path, cli: Cli
) -> None:
    store = tmp_path / "store.git"
    first = tmp_path / "keep.json"
    first.write_text(json.dumps(session("keep-1", title="Kept post", overview="Kept.")))
    build_store(cli, store, first, EXAMPLES / "life_aria_session.json")
    blog = tmp_path / "blog"
    mine = {
        "hugo": ["content/posts/my-own/index.md", "content/posts/my-own/photo.png", "config.yaml"],
        "jekyll": ["_posts/2020-01-01-my-own.md", "assets/photo.png", "_config.yml"],
    }[fmt]
    for name in mine:
        (blog / name).parent.mkdir(parents=True, exist_ok=True)
        (blog / name).write_text(f"the owner's {name}\n")

    def export() -> int:
        return cli("export", "--repo", store, blog, "--format", fmt).exit_code

    assert export() == 0
    exported = snapshot(blog)
    ours = json.loads((blog / owner_file(fmt)).read_text())["files"]
    # 2 posts, 2 screenshots, a card; in Hugo, the build log's bundle and its card too
    assert len(ours) == {"hugo": 8, "jekyll": 7}[fmt] and not set(ours) & set(mine)
    assert export() == 0 and snapshot(blog) == exported  # the same bytes again

    # a file of the blog where the export would write: refused, nothing written
    post = next(p for p in ours if "kept-post" in p and p.endswith(".md") and "-log" not in p)
    (blog / post).write_text("edited by the owner\n")
    edited = snapshot(blog)
    result = cli("export", "--repo", store, blog, "--format", fmt)
    assert result.exit_code == 2 and "not written by gitflywheel" in result.output
    assert str(blog / post) in result.output and snapshot(blog) == edited
    (blog / post).unlink()
    assert export() == 0 and snapshot(blog) == exported  # a missing file comes back

    # the session became a draft: its post goes, the rest stays
    revise_to_draft(cli, store, tmp_path)
    assert export() == 0
    now = snapshot(blog)
    gone = {p for p in ours if "kept-post" in p}  # the post, its build log, their cards
    assert post in gone and set(now) == set(exported) - gone
    assert all(now[name] == exported[name] for name in mine)
    assert all((blog / name).read_text() == f"the owner's {name}\n" for name in mine)
    if fmt == "hugo":
        assert not (blog / post).parent.exists()  # the bundle's folder went with it

    # `--at` the commit before the revision: the post is published there, and comes back
    assert cli("export", "--repo", store, blog, "--format", fmt, "--at", "main~1").exit_code == 0
    assert snapshot(blog) == exported


def test_a_clash_on_a_fresh_blog_writes_nothing(tmp_path: Path, cli: Cli) -> None:
    store = tmp_path / "store.git"
    build_store(cli, store, EXAMPLES / "life_aria_session.json")
    blog = tmp_path / "blog"
    with Store.open(store) as opened:
        [post] = published_posts(opened).posts
    taken = blog / "assets" / post.slug / "screenshots" / "02-level1.png"
    taken.parent.mkdir(parents=True)
    taken.write_bytes(b"the owner's picture")
    before = snapshot(blog)
    result = cli("export", "--repo", store, blog, "--format", "jekyll")
    assert result.exit_code == 2 and str(taken) in result.output
    assert snapshot(blog) == before and not (blog / owner_file("jekyll")).exists()
    result = cli("export", "--repo", store, tmp_path / "h", "--format", "hugo", "--base-path", "/b")
    assert result.exit_code == 2 and "--base-path is for --format jekyll" in result.output
    with pytest.raises(GitflywheelError, match="--base-path"):
        api.export(store, tmp_path / "other", format="jekyll", base_path="/a b/")


@pytest.mark.parametrize("fmt", ["hugo", "jekyll"])
def test_a_chart_beside_the_post_resolves(fmt: str, tmp_path: Path, cli: Cli) -> None:
    """Any image file of a session is carried, SVG charts too, and the post's link to it
    resolves in the built blog."""
    need(fmt)
    store = tmp_path / "store.git"
    build_store(cli, store, EXAMPLES / "life_aria_session.json")
    with Store.open(store) as opened:
        [post] = published_posts(opened).posts
        chart = PostFile("equity_curve.svg", post.images[0].blob, "equity_curve")
        post = replace(
            post,
            files=(*post.files, chart),
            body=post.body + "\n![Equity curve](equity_curve.svg)\n",
        )
        plan = plan_hugo(opened, [post]) if fmt == "hugo" else plan_jekyll(opened, [post], "/")
    site = tmp_path / fmt
    for name, data in plan.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_bytes(data)
    if fmt == "hugo":
        hugo_site(site)
        out = hugo_build(site)
    else:
        jekyll_site(site)
        (site / "_config.yml").write_text('title: "A blog"\n')
        out = jekyll_build(site)
    count, loaded = check_images(out)
    assert any(p.name == "equity_curve.svg" for p in loaded) and loaded == image_files(out)


def test_the_tree_export_is_still_the_default(tmp_path: Path, cli: Cli) -> None:
    store = tmp_path / "store.git"
    build_store(cli, store, EXAMPLES / "life_aria_session.json")
    result = api.export(store, tmp_path / "tree")
    assert result.files > 3 and (tmp_path / "tree" / "gitflywheel.json").is_file()
    blog = api.export(store, tmp_path / "blog", format="hugo")
    assert (blog.posts, blog.written, blog.removed) == (1, 4, 0)  # the post, 2 images, the card
    again = api.export(store, tmp_path / "again", format="hugo")  # the same bytes
    assert snapshot(tmp_path / "again") == snapshot(tmp_path / "blog") and again == replace(
        blog, directory=str(tmp_path / "again")
    )


def test_placeholders_twins_and_empty_build_logs_stay_out(tmp_path: Path, cli: Cli) -> None:
    """(19) A test placeholder and the later of two twins are no posts of a blog."""
    commits = [{"hash": f"{i:040x}", "message": f"feat: step {i}"} for i in range(10)]
    sessions = [
        session("first", title="The work", timestamp="2026-01-01T23:51:59Z"),
        session("again", title="The work again", timestamp="2026-01-01T23:52:00Z"),
        session("agent-1", agent_id="TestAgent", title="Real-looking title"),
        session("00000000-0000-0000-0000-000000000001", title="Example"),
    ]
    for data in sessions[:2]:
        data["source_data"] = {"repo_path": "example/repo", "git_commits": commits}
    paths = []
    for number, data in enumerate(sessions):
        paths.append(tmp_path / f"{number}.json")
        paths[-1].write_text(json.dumps(data))
    store = tmp_path / "store.git"
    assert cli("ingest", "--repo", store, *paths).exit_code == 0
    for fmt in ("hugo", "jekyll"):
        out = tmp_path / fmt
        result = cli("export", "--repo", store, out, "--format", fmt, "--json")
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert report["posts"] == 1
        assert report["left_out"] == {"draft": 2, "twin of an earlier session": 1}
        texts = [p.read_text() for p in out.rglob("*.md")]
        assert len(texts) == 2 and all('session_id: "first"' in t for t in texts)  # + build log
