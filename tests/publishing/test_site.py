"""`gitflywheel site`: a static site and Atom feeds from the store, checked with real tools.

Every local link of every page resolves to a file of the site; drafts appear nowhere; two
builds are the same bytes; hostile session text stays inert; the feeds validate against
RFC 4287's RELAX NG schema (tests/data/atom) and parse with feedparser; headless
Chromium loads the pages with nothing broken; and `site --branch` + `publish` serves the
same site from a fresh clone of the branch.
"""

from __future__ import annotations

import html
import json
import os
import re
import struct
import subprocess
import urllib.request
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import feedparser
import pytest
import yaml
from browser import Browser
from conftest import CORPUS, EXAMPLES, Cli, git, session, snapshot
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree
from servers import git_daemon

from gitflywheel import ingest, ls, serve, show
from gitflywheel.publishing.posts import published_posts, split_front_matter
from gitflywheel.publishing.site import PER_PAGE, path_slug, place_posts
from gitflywheel.storage.store import Store

ATOM_RNG = Path(__file__).resolve().parents[1] / "data" / "atom" / "rfc4287.rng"
ATOM = "{http://www.w3.org/2005/Atom}"
BASE = "https://me.example.org/flywheel/"


# -- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def full_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The examples, the whole corpus and three weeks of work, in one store (built once
    for this file): more posts than the first page and two numbered pages hold."""
    path = tmp_path_factory.mktemp("full") / "store.git"
    week = tmp_path_factory.mktemp("week")
    for day in range(1, 22):
        work = session(
            f"week-{day}",
            title=f"Day {day} of the parser rewrite",
            timestamp=f"2025-12-{day + 10:02d}T09:00:00Z",
        )
        (week / f"week-{day}.json").write_text(json.dumps(work))
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1764633600")
    report = ingest(path, [EXAMPLES, CORPUS, week])
    assert report.exit_code == 0
    return path


@pytest.fixture(scope="module")
def full_site(full_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site") / "out"
    from gitflywheel import site

    result = site(full_store, out, base_url=BASE)
    assert result.sessions > 0 and result.left_out.get("draft", 0) > 0
    return out


def drafts(store: Path) -> list[dict[str, object]]:
    """The front matter of every draft in the store, read from its artifacts."""
    found = []
    for row in ls(store):
        front, _ = split_front_matter(show(store, row.session_id, "blog_post").decode())
        data = yaml.safe_load(front)
        if data.get("draft"):
            found.append(data)
    return found


class Links(HTMLParser):
    """Every href and src of a page, and every tag and attribute name it uses."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self.tags: set[str] = set()
        self.attributes: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            self.attributes.add(name)
            if name in ("href", "src") and value is not None:
                self.urls.append(value)


def page_links(page: Path) -> Links:
    parser = Links()
    parser.feed(page.read_text(encoding="utf-8"))
    parser.close()
    return parser


def html_pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def local_target(site: Path, page: Path, url: str) -> Path | None:
    """The file a relative link of `page` names, or None for an absolute link."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return None
    if not parts.path:
        return page
    if parts.path.startswith("/"):  # 404.html's root-relative links: from the base's path
        path = parts.path.removeprefix(urlsplit(BASE).path)
        assert path != parts.path, (page, url)
        target = (site / unquote(path)).resolve()
        return target / "index.html" if not path or path.endswith("/") else target
    target = (page.parent / unquote(parts.path)).resolve()
    if parts.path.endswith("/"):
        target = target / "index.html"
    return target


# -- links, drafts, determinism ---------------------------------------------------------


@pytest.mark.slow
def test_every_local_link_of_every_page_resolves_to_a_file_of_the_site(full_site: Path) -> None:
    pages = html_pages(full_site)
    assert len(pages) > 20
    root = full_site.resolve()
    checked = 0
    for page in pages:
        for url in page_links(page).urls:
            assert not url.lower().startswith(("javascript:", "data:", "file:")), (page, url)
            target = local_target(full_site, page, url)
            if target is None:
                assert url.startswith(("https://", "http://", "mailto:")), (page, url)
                continue
            assert target.is_relative_to(root), (page, url)
            assert target.is_file(), f"{page.relative_to(full_site)}: {url} -> nothing"
            checked += 1
    assert checked > 500


def test_the_site_has_the_pages_it_promises(full_site: Path, full_store: Path) -> None:
    with Store.open(full_store) as store:
        posts = published_posts(store).posts
    index = (full_site / "index.html").read_text()
    newest = [p.title for p in posts[:PER_PAGE]]
    positions = [index.find(title.replace("&", "&amp;")) for title in newest]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)  # newest first
    # the older posts PER_PAGE a page, numbered from the oldest; the first page the rest
    pages = len(posts) // PER_PAGE - 1
    assert pages >= 1 and (full_site / "page" / str(pages) / "index.html").is_file()
    assert not (full_site / "page" / str(pages + 1)).exists()
    oldest = (full_site / "page" / "1" / "index.html").read_text()
    assert posts[-1].title.replace("&", "&amp;") in oldest
    assert index.count('class="card"') == len(posts) - pages * PER_PAGE
    for kind in ("build", "trade", "life-aria"):
        assert (full_site / "types" / kind / "index.html").is_file()
        assert (full_site / "types" / kind / "feed.xml").is_file()
    assert (full_site / "tags" / "index.html").is_file()
    for post in posts:
        folders = list((full_site / "sessions").glob(f"{path_slug(post.slug)}*/index.html"))
        assert len(folders) == 1, post.slug
        for file in post.files:
            assert (folders[0].parent / file.name).is_file()  # the .md and images beside it


def test_the_older_links_lead_through_every_post_once_newest_first(
    full_site: Path, full_store: Path
) -> None:
    with Store.open(full_store) as store:
        posts = published_posts(store).posts
    expected = [p.title.replace("&", "&amp;") for p in posts]
    card = re.compile(r'<h2><a href="[^"]*">([^<]*)</a></h2>')
    page, seen, visited = full_site / "index.html", [], []
    while True:
        visited.append(page.relative_to(full_site).as_posix())
        text = page.read_text()
        seen += card.findall(text)
        older = re.search(r'<a rel="next" href="([^"]+)">', text)
        if older is None:
            break
        target = local_target(full_site, page, older.group(1))
        assert target is not None and target.is_file()
        back = re.search(r'<a rel="prev" href="([^"]+)">', target.read_text())
        assert back is not None and local_target(full_site, target, back.group(1)) == page
        page = target
    assert seen == expected
    numbered = len(posts) // PER_PAGE - 1
    assert visited == ["index.html", *(f"page/{n}/index.html" for n in range(numbered, 0, -1))]
    assert (
        f"Page 1: sessions 1–{PER_PAGE}<" in (full_site / "page" / "1" / "index.html").read_text()
    )
    front = (full_site / "index.html").read_text()
    assert f">Sessions {numbered * PER_PAGE + 1}–{len(posts)}<" in front


def test_no_draft_appears_anywhere(full_site: Path, full_store: Path) -> None:
    found = drafts(full_store)
    assert len(found) > 10
    everything = b"\n".join(p.read_bytes() for p in full_site.rglob("*") if p.is_file())
    for front in found:
        for value in (front["slug"], front["session_id"], front["title"]):
            assert str(value).encode() not in everything, value
    names = {p.name for p in full_site.rglob("*")}
    assert not any(str(f["slug"]) in names for f in found)


def test_two_builds_are_the_same_bytes(cli: Cli, full_store: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert cli("site", "--repo", full_store, a, "--base-url", BASE).exit_code == 0
    assert cli("site", "--repo", full_store, b, "--base-url", BASE).exit_code == 0
    assert snapshot(a) == snapshot(b)
    again = cli("site", "--repo", full_store, a, "--base-url", BASE, "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["written"] == 0


def test_a_rebuild_replaces_what_the_last_one_wrote_and_nothing_else(
    cli: Cli, tmp_path: Path
) -> None:
    store, out = tmp_path / "s.git", tmp_path / "out"
    assert cli("ingest", "--repo", store, EXAMPLES).exit_code == 0
    assert cli("site", "--repo", store, out, "--no-feed").exit_code == 0
    (out / "CNAME").write_text("me.example.org\n")
    assert cli("site", "--repo", store, out, "--no-feed", "--at", "main~1").exit_code == 0
    assert (out / "CNAME").read_text() == "me.example.org\n"  # not ours: left alone
    assert not (out / "feed.xml").exists()
    assert sum(1 for p in out.glob("sessions/*")) == 2  # the newest session's folder is gone
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    refused = cli("site", "--repo", store, foreign, "--no-feed")
    assert refused.exit_code == 2 and "not a site gitflywheel built" in refused.stderr
    assert (foreign / "notes.txt").read_text() == "mine" and len(list(foreign.iterdir())) == 1


def test_the_feed_needs_a_base_url_or_no_feed(cli: Cli, tmp_path: Path) -> None:
    store = tmp_path / "s.git"
    assert cli("ingest", "--repo", store, EXAMPLES).exit_code == 0
    missing = cli("site", "--repo", store, tmp_path / "out")
    assert missing.exit_code == 2 and "--base-url" in missing.stderr
    assert not (tmp_path / "out").exists()
    bad = cli("site", "--repo", store, tmp_path / "out", "--base-url", "javascript:alert(1)")
    assert bad.exit_code == 2 and "--base-url" in bad.stderr
    nowhere = cli("site", "--repo", store, "--no-feed")
    assert nowhere.exit_code == 2 and "OUT" in nowhere.stderr
    assert cli("site", "--repo", store, tmp_path / "out", "--no-feed").exit_code == 0
    assert not list((tmp_path / "out").rglob("feed.xml"))
    assert "application/atom+xml" not in (tmp_path / "out" / "index.html").read_text()


def test_a_base_url_with_credentials_or_hidden_characters_is_refused(
    cli: Cli, tmp_path: Path
) -> None:
    """Every page, feed and sitemap prints the address: a token in it would be published,
    as the site.base_url setting already refuses; the message hides it too."""
    store = tmp_path / "s.git"
    assert cli("ingest", "--repo", store, EXAMPLES).exit_code == 0
    for url in (
        "https://bob:ghp_secret123@me.example.org/fly/",
        "https://ghp_secret123@me.example.org/fly/",
        "https://me.example.org/fl\u202eyl/",
        "https://me.example.org/f\u200bly/",
    ):
        out = tmp_path / "out"
        done = cli("site", "--repo", store, out, "--base-url", url)
        assert done.exit_code == 2 and "--base-url" in done.stderr, url
        assert "ghp_secret123" not in done.stderr
        assert not out.exists()


# -- the feeds ---------------------------------------------------------------------------


def validate(feed: Path) -> etree._ElementTree:
    schema = etree.RelaxNG(etree.parse(str(ATOM_RNG)))
    document = etree.parse(str(feed))
    assert schema.validate(document), f"{feed}: {schema.error_log}"
    return document


def test_the_schema_refuses_a_feed_that_breaks_rfc_4287(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_text(
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
        "<updated>yesterday</updated></feed>"
    )
    schema = etree.RelaxNG(etree.parse(str(ATOM_RNG)))
    assert not schema.validate(etree.parse(str(broken)))


def test_feeds_validate_and_hold_the_published_sessions(full_site: Path, full_store: Path) -> None:
    with Store.open(full_store) as store:
        posts = published_posts(store).posts
    feeds = sorted(full_site.rglob("feed.xml"))
    projects = sorted(p.parent.name for p in full_site.glob("projects/*/feed.xml"))
    assert projects == ["agentcellphone", "repo"]  # the corpus's and the week's (example/repo)
    assert len(feeds) == 1 + 3 + len(projects)  # the site's, one per type, one per project
    for feed in feeds:
        validate(feed)
        parsed = feedparser.parse(feed.read_bytes())
        assert parsed.bozo == 0, (feed, parsed.get("bozo_exception"))
    main = feedparser.parse((full_site / "feed.xml").read_bytes())
    expected = ["urn:gitflywheel:session:" + quote(p.session_id, safe="-._~") for p in posts]
    assert [e.id for e in main.entries] == expected
    assert [e.title for e in main.entries] == [p.title for p in posts]
    newest = max(p.date for p in posts).astimezone(UTC)
    assert main.feed.updated == newest.strftime("%Y-%m-%dT%H:%M:%SZ")
    for entry, post in zip(main.entries, posts, strict=True):
        assert entry.link.startswith(BASE + "sessions/")
        assert entry.author == post.author
        for url in re.findall(r'(?:href|src)="([^"]+)"', entry.content[0].value):
            assert url.startswith(("https://", "http://", "mailto:")), url
    trade = feedparser.parse((full_site / "types" / "trade" / "feed.xml").read_bytes())
    assert {e.id for e in trade.entries} == {
        "urn:gitflywheel:session:" + p.session_id for p in posts if p.session_type == "trade"
    }


def test_entry_ids_are_stable_across_hosts_and_rebuilds(full_store: Path, tmp_path: Path) -> None:
    from gitflywheel import site

    site(full_store, tmp_path / "a", base_url="https://a.example/")
    site(full_store, tmp_path / "b", base_url="http://b.example/x/y")
    ids = [
        [e.id for e in feedparser.parse((tmp_path / d / "feed.xml").read_bytes()).entries]
        for d in "ab"
    ]
    assert ids[0] == ids[1] and len(ids[0]) > 5
    assert (
        etree.parse(str(tmp_path / "b" / "feed.xml")).getroot().find(f"{ATOM}link").get("href")
        == "http://b.example/x/y/feed.xml"
    )


def test_an_empty_store_has_a_valid_feed_dated_by_its_commit(cli: Cli, tmp_path: Path) -> None:
    store = tmp_path / "s.git"
    assert cli("init", "--repo", store).exit_code == 0
    out = tmp_path / "out"
    assert cli("site", "--repo", store, out, "--base-url", BASE).exit_code == 0
    root = validate(out / "feed.xml").getroot()
    assert root.find(f"{ATOM}updated").text == datetime.fromtimestamp(1764633600, UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    assert "Nothing published yet" in (out / "index.html").read_text()


# -- hostile text ----------------------------------------------------------------------

HOSTILE = (
    "<script>alert(1)</script> ]]> \x07\x1b[31m \u202eevil\u202c &amp; <img src=x onerror=alert(2)>"
)


def hostile_sessions() -> list[dict[str, object]]:
    build = session(
        "hostile-build",
        title=f"Title {HOSTILE}",
        overview=f"Overview {HOSTILE} [click](javascript:alert(3)) ![x](data:image/png;base64,AAAA)",
        problem="<iframe src='https://evil.example'></iframe> [a](JaVaScRiPt:alert(4))",
        solution="[rel](../../../../etc/passwd) [ok](https://example.org/a?b=c&d=<e>)",
        lessons=[{"title": "]]><x>", "description": "<svg onload=alert(5)>"}],
        agent_id="Agent <b>bold</b>",
    )
    build["source_data"] = {
        "repo_path": "github.com/evil/<script>x</script>",
        "git_commits": [{"message": f"feat: {HOSTILE}"}],
    }
    trade = {
        "session_id": "hostile-trade",
        "session_type": "trade",
        "timestamp": "2025-12-06T10:00:00Z",
        "agent_id": "trader",
        "title": "]]></title><entry>",
        "source_data": {
            "trades": [
                {
                    "symbol": "../../X<script>",
                    "action": "buy",
                    "quantity": 1,
                    "price": 10,
                    "exit_price": 11,
                    "profit_loss": 1,
                    "timestamp": "2025-12-06T10:00:00Z",
                }
            ]
        },
        "overview": HOSTILE,
    }
    return [build, trade]


def test_hostile_session_text_is_inert_in_pages_and_feeds(cli: Cli, tmp_path: Path) -> None:
    sessions = tmp_path / "hostile.json"
    sessions.write_text(json.dumps(hostile_sessions()))
    store, out = tmp_path / "s.git", tmp_path / "site" / "out"
    result = cli("ingest", "--repo", store, sessions)
    assert result.exit_code == 0, result.output
    done = cli("site", "--repo", store, out, "--base-url", BASE, "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["sessions"] == 2
    assert sorted(p.name for p in (tmp_path / "site").iterdir()) == ["out"]
    for page in html_pages(out):
        text = page.read_text(encoding="utf-8")
        links = page_links(page)
        assert not links.tags & {"script", "iframe", "svg", "object", "embed", "x", "entry"}
        assert not {a for a in links.attributes if a.startswith("on")}, page
        for url in links.urls:
            assert not url.lower().strip().startswith(("javascript:", "data:")), url
            assert "etc/passwd" not in url
        assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]", text)
    shown = "".join(p.read_text() for p in out.glob("sessions/*/index.html"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown  # kept, as text
    for feed in out.rglob("feed.xml"):
        validate(feed)
        parsed = feedparser.parse(feed.read_bytes())
        assert parsed.bozo == 0
        raw = feed.read_bytes()
        assert b"\x07" not in raw and b"\x1b" not in raw and "\u202e".encode() not in raw
        for entry in parsed.entries:
            content = Links()
            content.feed(entry.content[0].value)
            assert not content.tags & {"script", "iframe", "svg"}
            assert not {a for a in content.attributes if a.startswith("on")}
            assert not [u for u in content.urls if u.lower().startswith(("javascript:", "data:"))]
    titles = [e.title for e in feedparser.parse((out / "feed.xml").read_bytes()).entries]
    assert any("]]>" in t for t in titles)  # kept as text, not as markup


class Thread(HTMLParser):
    """The text of each item of a page's thread (`<ol class="thread">`)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[str] = []
        self.inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "li":
            self.items.append("")
            self.inside = True

    def handle_endtag(self, tag: str) -> None:
        self.inside = self.inside and tag != "li"

    def handle_data(self, data: str) -> None:
        if self.inside:
            self.items[-1] += data


def test_the_thread_page_shows_each_post_as_posted_and_no_fence(tmp_path: Path) -> None:
    """(18.18) social_post.md holds each post in a fenced code block; the site's thread
    page shows exactly the posts: HTML in them as text, and no fence line."""
    from gitflywheel import site

    data = session(
        "thread-1",
        title="Thread <img src=x onerror=alert(1)> and ``` fences",
        overview="An <iframe src=javascript:alert(1)> frame --- and ```` runs. " * 8,
    )
    path, store, out = tmp_path / "thread.json", tmp_path / "s.git", tmp_path / "out"
    path.write_text(json.dumps(data))
    assert ingest(store, [path]).exit_code == 0
    posts = json.loads(show(store, "thread-1", "facts"))["artifacts"]["social_post"]["context"]
    posts = posts["posts"]
    assert len(posts) > 1 and "```" in show(store, "thread-1", "social_post").decode()
    site(store, out, base_url=BASE)
    (page,) = out.glob("sessions/*/social_post.html")
    thread = Thread()
    thread.feed(page.read_text(encoding="utf-8"))
    assert thread.items == posts
    assert not page_links(page).tags & {"img", "iframe", "script"}


@given(st.text(max_size=60))
def test_path_slugs_cannot_leave_their_folder(text: str) -> None:
    slug = path_slug(text)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*|x", slug), slug
    assert len(slug) <= 80


def test_tags_and_slugs_that_collide_get_their_own_folders(full_store: Path) -> None:
    from dataclasses import replace

    from gitflywheel.publishing.posts import PostFile

    with Store.open(full_store) as store:
        posts = published_posts(store).posts[:4]
    twisted = [
        replace(
            posts[0],
            slug="same",
            tags=("C++", "c", "c-" + "0" * 8),
            files=(
                *posts[0].files,
                *(PostFile(n, "0" * 40, "x") for n in ("index.html", "../up.png", "a b.png")),
            ),
        ),
        replace(posts[1], slug="Same!", tags=("C#", "../..", "")),
        replace(posts[2], slug="../../same", tags=("c++",)),
        replace(posts[3], slug="", tags=("\u202e", ".")),
    ]
    entries = place_posts(twisted)
    assert set(entries[0].files) == {f.name for f in posts[0].files}  # none of the three
    folders = [e.slug for e in entries]
    assert len(set(folders)) == 4 and all(re.fullmatch(r"[a-z0-9-]+", f) for f in folders)
    # the oldest keeps the slug, the later ones get their day after it: no hash letters
    same = sorted(entries[:3], key=lambda e: (e.post.date, e.post.session_id))
    assert same[0].slug == "same"
    for entry in same[1:]:
        day = entry.post.date.astimezone(UTC).strftime("%Y-%m-%d")
        assert re.fullmatch(f"same-{day}(-[0-9]+)?", entry.slug), entry.slug
    tag_slugs: dict[str, str] = {}
    for entry in entries:
        for tag, slug in entry.tags:
            assert tag_slugs.setdefault(tag, slug) == slug
    assert len(set(tag_slugs.values())) == len(tag_slugs)
    assert all(re.fullmatch(r"[a-z0-9-]+", s) for s in tag_slugs.values())


# -- a browser reads it ------------------------------------------------------------------


@pytest.mark.slow
def test_chromium_loads_the_index_and_a_page_of_each_type(
    browser: Browser, full_site: Path, full_store: Path, tmp_path: Path
) -> None:
    shots = Path(os.environ.get("GITFLYWHEEL_SCREENSHOTS", tmp_path / "screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    with Store.open(full_store) as store:
        posts = published_posts(store).posts
    chosen = {}
    for post in posts:  # the newest of each type, preferring one with images
        if post.session_type not in chosen or (
            post.images and not chosen[post.session_type].images
        ):
            chosen[post.session_type] = post
    assert set(chosen) == {"build", "trade", "life_aria"}
    targets = {"index": full_site / "index.html"}
    for kind, post in sorted(chosen.items()):
        (folder,) = (full_site / "sessions").glob(f"{path_slug(post.slug)}*/index.html")
        targets[kind] = folder
    for name, target in targets.items():
        page = browser.open_page(target, width=1100)
        assert page.problems() == [], (name, page.problems())
        (shots / f"{name}.png").write_bytes(page.screenshot)
        if name == "life_aria":
            assert page.images >= 2 and not page.broken_images
        if name == "index":
            assert page.images >= 1
        assert page.title and page.text.strip()
    narrow = browser.open_page(targets["index"], width=380)
    assert narrow.problems() == []


# -- a branch that publish pushes ----------------------------------------------------------


def files_of(folder: Path) -> dict[str, str]:
    return {k: v for k, v in snapshot(folder).items() if not k.startswith(".git/")}


@pytest.mark.slow
def test_site_branch_published_to_a_git_daemon_serves_the_same_site(
    cli: Cli, tmp_path: Path
) -> None:
    store, out = tmp_path / "s.git", tmp_path / "out"
    assert cli("ingest", "--repo", store, EXAMPLES).exit_code == 0
    main_before = git("-C", store, "rev-parse", "main").strip()
    built = cli("site", "--repo", store, out, "--branch", "pages", "--base-url", BASE, "--json")
    assert built.exit_code == 0, built.output
    first = json.loads(built.stdout)
    assert first["branch_changed"] is True and first["branch"] == "pages"
    assert git("-C", store, "rev-parse", "main").strip() == main_before
    message = git("-C", store, "log", "-1", "--format=%B", "pages")
    assert f"Built-From: {main_before}" in message
    again = cli("site", "--repo", store, "--branch", "pages", "--base-url", BASE, "--json")
    assert json.loads(again.stdout)["branch_changed"] is False
    assert git("-C", store, "rev-list", "--count", "pages").strip() == "1"
    assert cli("verify", "--repo", store, "--full").exit_code == 0
    git("-C", store, "fsck", "--strict", "--no-progress")

    served = tmp_path / "served"
    served.mkdir()
    git("init", "-q", "--bare", "-b", "main", served / "hub.git")
    with git_daemon(served) as base:
        url = f"{base}/hub.git"
        published = cli("publish", "--repo", store, url, "--json")
        assert published.exit_code == 0, published.output
        assert json.loads(published.stdout)["site_branches"] == ["pages"]
        clone = tmp_path / "clone"
        git("clone", "-q", "-b", "pages", url, clone)
        assert files_of(clone) == snapshot(out)

        # A new session: one more commit on the branch, on top of the last.
        newer = tmp_path / "new.json"
        newer.write_text(json.dumps(session("s-new", title="Faster pages")))
        assert cli("ingest", "--repo", store, newer).exit_code == 0
        rebuilt = cli("site", "--repo", store, out, "--branch", "pages", "--base-url", BASE)
        assert rebuilt.exit_code == 0
        parents = git("-C", store, "log", "-1", "--format=%P", "pages").split()
        assert parents == [first["branch_commit"]]

        # Someone moved the pages branch there: the site, derived from main, replaces it.
        other = tmp_path / "other"
        git("clone", "-q", "-b", "pages", url, other)
        (other / "index.html").write_text("defaced")
        git("-C", other, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qam", "x")
        git("-C", other, "push", "-q", "origin", "pages")
        assert cli("publish", "--repo", store, url).exit_code == 0
        fresh = tmp_path / "fresh"
        git("clone", "-q", "-b", "pages", url, fresh)
        assert files_of(fresh) == snapshot(out)
        assert git("-C", fresh, "rev-parse", "HEAD") == git("-C", store, "rev-parse", "pages")
        nothing = cli("publish", "--repo", store, url, "--json")
        assert json.loads(nothing.stdout)["pushed"] is False
    assert cli("verify", "--repo", store).exit_code == 0


def test_site_branch_refuses_main_and_foreign_branches(cli: Cli, tmp_path: Path) -> None:
    store = tmp_path / "s.git"
    assert cli("ingest", "--repo", store, EXAMPLES).exit_code == 0
    tip = git("-C", store, "rev-parse", "main").strip()
    for name in ("main", "../x", "a..b", "-x", "with space"):
        refused = cli("site", "--repo", store, "--branch", name, "--no-feed")
        assert refused.exit_code == 2 and "--branch" in refused.stderr, name
    git("-C", store, "branch", "notes", "main")
    refused = cli("site", "--repo", store, "--branch", "notes", "--no-feed")
    assert refused.exit_code == 2 and "not built by" in refused.stderr
    assert git("-C", store, "rev-parse", "notes").strip() == tip
    assert git("-C", store, "rev-parse", "main").strip() == tip


# -- Markdown to HTML ------------------------------------------------------------------------


def test_markdown_html_passes_no_raw_html_and_only_safe_links() -> None:
    from gitflywheel.publishing.markdown_html import render_markdown

    text = (
        "# Title\n\nIntro <script>alert(1)</script> <b onclick=x>b</b>\n\n"
        "[js](javascript:alert(1)) [JS](JaVaScRiPt:alert(1)) [vb](vbscript:x) [file](file:///etc/passwd)\n\n"
        "![data](data:image/png;base64,AAAA) ![here](shot.png) ![gone](missing.png)\n\n"
        "[web](https://example.org/?a=1&b=<2>) [mail](mailto:me@example.org) [post](blog_post.md)"
        " [log](build_log.md#top) [up](../../x.md) [anchor](#totals)\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n\x07bell \u202eevil\n"
    )
    files = {"shot.png", "blog_post.md", "build_log.md"}

    def resolve(url: str) -> str | None:
        path = url.split("#")[0]
        if path in files:
            return url.replace(".md", ".html")
        return None

    rendered = render_markdown(text, resolve, drop_title=True)
    html = rendered.html
    assert "<h1>" not in html  # the page shows the title itself
    assert "<script" not in html and "&lt;script&gt;" in html
    assert "<b" not in html and "onclick" not in html.replace("&lt;b onclick", "")
    for bad in ("javascript:", "JaVaScRiPt:", "vbscript:", "file:", "data:", "missing.png", "../"):
        assert f'"{bad}' not in html and f"={bad}" not in html, bad
    assert '<img src="shot.png" alt="here"' in html and rendered.images == ["shot.png"]
    assert "gone" in html  # a dropped image keeps its alt text
    assert 'href="https://example.org/?a=1&amp;b=%3C2%3E" rel="nofollow noopener"' in html
    assert 'href="mailto:me@example.org"' in html
    assert 'href="blog_post.html"' in html and 'href="build_log.html#top"' in html
    assert 'href="#totals"' in html
    assert '<table class="table">' in html
    assert "\x07" not in html and "\u202e" not in html


def test_markup_a_user_template_writes_stays_inert_on_the_site(cli: Cli, tmp_path: Path) -> None:
    from gitflywheel.rendering.templates import shipped_templates_dir

    templates = tmp_path / "templates"
    templates.mkdir()
    shipped = (shipped_templates_dir() / "blog_post.md.j2").read_text()
    (templates / "blog_post.md.j2").write_text(
        shipped.rstrip("\n") + "\n\n<script>alert(1)</script><img src=x onerror=alert(2)>\n\n"
        "[x](javascript:alert(3)) ![d](data:image/png;base64,AAAA) [up](../../../../etc/passwd)\n"
    )
    store, out = tmp_path / "s.git", tmp_path / "out"
    done = cli("ingest", "--repo", store, "--templates", templates, EXAMPLES / "build_session.json")
    assert done.exit_code == 0, done.output
    assert cli("site", "--repo", store, out, "--base-url", BASE).exit_code == 0
    (page,) = out.glob("sessions/*/index.html")
    links = page_links(page)
    assert "script" not in links.tags and not {a for a in links.attributes if a.startswith("on")}
    assert not [u for u in links.urls if u.startswith(("javascript:", "data:")) or "passwd" in u]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.read_text()
    validate(out / "feed.xml")


def test_site_is_a_function_of_the_package(tmp_path: Path) -> None:
    import importlib

    import gitflywheel

    importlib.import_module("gitflywheel.publishing.site")  # the module does not take the name
    assert "site" in gitflywheel.__all__ and callable(gitflywheel.site)
    store = tmp_path / "s.git"
    ingest(store, [EXAMPLES])
    result = gitflywheel.site(store, tmp_path / "out", base_url=BASE, branch="pages")
    assert (result.sessions, result.feeds, result.branch, result.branch_changed) == (
        3,
        5,  # the site's, one per type, the example build's project
        "pages",
        True,
    )
    assert result.pages == len(list((tmp_path / "out").rglob("*.html")))
    assert result.files == len([p for p in (tmp_path / "out").rglob("*") if p.is_file()])
    on_branch = git("-C", store, "ls-tree", "-r", "--name-only", "pages").split()
    cards = sorted(p for p in on_branch if re.search(r"/card-[0-9a-f]{12}\.png$", p))
    assert len(cards) == 3  # (20) the card images are on the site branch too
    assert cards == sorted(
        p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("card-*.png")
    )


CHART = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="120" viewBox="0 0 320 120">'
    '<rect width="320" height="120" fill="#f4f6f9"/>'
    '<polyline points="0,100 80,70 160,80 240,30 320,20" fill="none" stroke="#1f6feb" stroke-width="3"/>'
    "</svg>\n"
)


def test_a_sessions_charts_show_on_its_page_whether_the_post_links_them_or_not(
    browser: Browser, tmp_path: Path
) -> None:
    """Chart artifacts (`equity_curve.svg`, `activity_chart.svg`) are files of the session
    like any other: the one the post links shows where the post puts it, the other in the
    page's Charts section; both load in a browser."""
    from dataclasses import replace

    from gitflywheel.publishing.posts import PostFile
    from gitflywheel.publishing.site import build_site, write_site

    store_path = tmp_path / "s.git"
    ingest(store_path, [EXAMPLES / "trade_session.json"])
    with Store.open(store_path) as store:
        with store.writing() as writer:
            chart = writer.put_blob(CHART.encode())
            writer.flush()
        found = published_posts(store)
        (post,) = found.posts
        assert "(equity_curve.svg)" in post.body and post.file("equity_curve.svg") is not None
        charted = replace(  # a second chart that the post does not link
            post,
            files=(*post.files, PostFile("activity_chart.svg", chart.decode(), "activity_chart")),
        )
        found.posts = [charted]
        build = build_site(store, base_url=BASE, posts=found)
    out = tmp_path / "out"
    write_site(build, out)
    (page_path,) = out.glob("sessions/*/index.html")
    html = page_path.read_text()
    assert '<img src="equity_curve.svg" alt="' in html
    charts = html.split('<section class="charts">', 1)[1].split("</section>", 1)[0]
    assert 'src="activity_chart.svg"' in charts and "equity_curve.svg" not in charts
    assert (page_path.parent / "activity_chart.svg").read_text() == CHART
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert f'src="{BASE}sessions/' in feed.entries[0].content[0].value
    page = browser.open_page(page_path, width=1000)
    assert page.problems() == [] and page.images == 2


def test_page_templates_are_overridden_by_file_name(cli: Cli, tmp_path: Path) -> None:
    store, mine = tmp_path / "s.git", tmp_path / "mine"
    assert cli("ingest", "--repo", store, EXAMPLES).exit_code == 0
    mine.mkdir()
    (mine / "_card.html.j2").write_text(
        '<p class="mine"><a href="{{ post.url }}index.html">{{ post.title }}</a></p>\n'
    )
    out = tmp_path / "out"
    done = cli("site", "--repo", store, out, "--no-feed", "--templates", mine)
    assert done.exit_code == 0, done.output
    index = (out / "index.html").read_text()
    assert index.count('<p class="mine">') == 3 and 'class="card"' not in index
    assert git("-C", store, "ls-tree", "--name-only", "main", "templates/").count("html") == 0
    (mine / "list.html.j2").write_text("{% for x in %}")
    broken = cli("site", "--repo", store, tmp_path / "other", "--no-feed", "--templates", mine)
    assert broken.exit_code == 2 and "site template list.html.j2" in broken.stderr
    assert "Traceback" not in broken.output


# (21) Session text escaped into HTML grows (Markdown's `\\<` is two bytes, `&lt;` four;
# a quote is one, `&#34;` five): a session ingest took, its artifacts under the 1 MiB a
# template may write, made a page pass that limit, and the whole site failed with it.
BIG_SESSIONS = [
    session("angles", title="Angles", overview="<" * 400_000),
    session("quotes", title='"' * 120_000, timestamp="2025-12-03T03:30:00Z"),
]


@pytest.mark.slow
def test_pages_as_large_as_what_a_session_holds_are_built(cli: Cli, tmp_path: Path) -> None:
    store, out = tmp_path / "s.git", tmp_path / "out"
    for data in BIG_SESSIONS:
        (tmp_path / f"{data['session_id']}.json").write_text(json.dumps(data))
    report = ingest(store, sorted(tmp_path.glob("*.json")))
    assert report.count("recorded") == 2, report
    built = cli("site", "--repo", store, out, "--branch", "pages", "--base-url", BASE)
    assert built.exit_code == 0, built.output
    sizes = {p.relative_to(out).as_posix(): p.stat().st_size for p in out.rglob("*.html")}
    assert sum(size > 1 << 20 for size in sizes.values()) >= 6  # session, artifact, list pages
    [angles] = out.glob("sessions/angles*/index.html")
    assert "&lt;" * 400_000 in angles.read_text("utf-8")
    assert '"' * 120_000 in html.unescape((out / "index.html").read_text("utf-8"))
    git("clone", "-q", "-b", "pages", store, tmp_path / "clone")
    assert files_of(tmp_path / "clone") == snapshot(out)
    with serve(store, poll_seconds=3600) as preview:  # the preview builds it too
        preview.start()
        path = angles.relative_to(out).as_posix()
        with urllib.request.urlopen(preview.url + path, timeout=60) as answer:
            assert answer.status == 200 and b"&lt;" * 400_000 in answer.read()


def test_a_page_that_writes_too_much_names_its_session(cli: Cli, tmp_path: Path) -> None:
    """A page may write more when it holds more, and a template that writes on and on is
    still stopped: the error says which session's page."""
    store, mine = tmp_path / "s.git", tmp_path / "mine"
    (tmp_path / "one.json").write_text(json.dumps(session("one", title="One")))
    assert cli("ingest", "--repo", store, tmp_path / "one.json").exit_code == 0
    mine.mkdir()
    (mine / "session.html.j2").write_text("{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}")
    result = cli("site", "--repo", store, tmp_path / "out", "--no-feed", "--templates", mine)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert (
        "session one: site template session.html.j2: the output passed the limit of 1,048,576 "
        "bytes" in result.stderr
    )
    assert not (tmp_path / "out").exists()


def test_a_build_that_fails_half_way_leaves_the_last_site_as_it_was(
    cli: Cli, tmp_path: Path
) -> None:
    """The site is written whole or not at all: a template that fails on a later page,
    or a write that fails after some files, leaves the folder exactly as it was."""
    from dataclasses import replace

    from gitflywheel.publishing.site import build_site, write_site

    store, out, mine = tmp_path / "s.git", tmp_path / "out", tmp_path / "mine"
    assert cli("ingest", "--repo", store, EXAMPLES).exit_code == 0
    assert cli("site", "--repo", store, out, "--no-feed").exit_code == 0
    (out / "CNAME").write_text("me.example.org\n")
    before = snapshot(out)
    mine.mkdir()
    (mine / "tags.html.j2").write_text("{{ tags.nope }}")  # the last page built
    broken = cli("site", "--repo", store, out, "--no-feed", "--at", "main~1", "--templates", mine)
    assert broken.exit_code == 2 and "site template tags.html.j2, line 1" in broken.stderr
    assert snapshot(out) == before

    with Store.open(store) as opened:
        build = build_site(opened, base_url=None, feeds=False, at="main~1")
    # a file, then a file beneath it: the second cannot be written after the first was
    files = {**build.files, "sessions/zz": b"a file", "sessions/zz/below": b"cannot be"}
    with pytest.raises(OSError):
        write_site(replace(build, files=files), out)
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "out", "s.git"]

    style = (out / "style.css").stat()
    assert write_site(build, out) > 0  # and a good build replaces it whole
    assert (out / "style.css").stat().st_ino == style.st_ino  # unchanged: the same file
    assert set(snapshot(out)) == {*build.files, "CNAME"}
    assert all((out / name).read_bytes() == data for name, data in build.files.items())
    assert (out / "CNAME").read_text() == "me.example.org\n"
    assert sum(1 for p in out.glob("sessions/*")) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "out", "s.git"]


# Names `git check-ref-format --branch` refuses: every rule of it (18.13).
REFUSED_BRANCHES = [
    "x.lock", "pages/x.lock", "a.lock/b", ".lock", ".x", "a/.b", "x.", "x/", "/x", "a//b",
    "a..b", "a@{b", "a b", "a~b", "a^b", "a:b", "a?b", "a*b", "a[b", "a\\b", "a\tb",
    "a\x7fb", "a\x01b", "-x", "HEAD",
]  # fmt: skip
# Names git takes, and a site branch may have.
TAKEN_BRANCHES = ["pages", "gh-pages", "site/v1.2", "a.lock.b", "x.locks", "lock", "docs_x/p-2"]


def git_takes_branch(name: str, cwd: Path) -> bool:
    done = subprocess.run(
        ["git", "check-ref-format", "--branch", name], cwd=cwd, capture_output=True
    )
    return done.returncode == 0


@pytest.mark.slow
def test_site_branch_names_are_checked_as_git_checks_them(cli: Cli, tmp_path: Path) -> None:
    store = tmp_path / "s.git"
    assert cli("ingest", "--repo", store, EXAMPLES).exit_code == 0
    before = snapshot(store)
    for name in REFUSED_BRANCHES:
        assert not git_takes_branch(name, store), name
        refused = cli("site", "--repo", store, "--branch", name, "--no-feed")
        assert refused.exit_code == 2, (name, refused.output)
        assert "--branch" in refused.stderr and "Traceback" not in refused.output, name
        assert snapshot(store) == before, name  # refused before any work
    # the reported case, as a real process: one line, exit 2, no traceback
    done = cli.process("site", "--repo", store, "--branch", "x.lock", "--no-feed")
    assert done.returncode == 2 and b"Traceback" not in done.stderr, done.stderr
    assert b"ends with `.lock`" in done.stderr and len(done.stderr.splitlines()) == 1
    for name in TAKEN_BRANCHES:
        assert git_takes_branch(name, store), name
        built = cli("site", "--repo", store, "--branch", name, "--no-feed")
        assert built.exit_code == 0, (name, built.output)
        assert git("-C", store, "rev-parse", "--verify", f"refs/heads/{name}").strip()
    git("-C", store, "fsck", "--strict", "--no-progress")


def test_the_store_settings_give_the_site_its_address_and_title(
    tmp_path: Path, cli: Cli, store: Path
) -> None:
    """`site.base_url` and `site.title`, set once with `config`, are what `site` uses
    when its options do not say otherwise."""
    assert cli("ingest", "--repo", store, EXAMPLES).exit_code == 0
    assert cli("config", "--repo", store, "site.base_url", BASE).exit_code == 0
    assert cli("config", "--repo", store, "site.title", "Kay sessions").exit_code == 0
    out = tmp_path / "out"
    done = cli("site", "--repo", store, out)
    assert done.exit_code == 0, done.stderr
    assert BASE in (out / "feed.xml").read_text()
    assert "Kay sessions" in (out / "index.html").read_text()
    other = tmp_path / "other"
    assert cli("site", "--repo", store, other, "--title", "Mine", "--no-feed").exit_code == 0
    assert "Mine" in (other / "index.html").read_text()
    assert "Kay sessions" not in (other / "index.html").read_text()


def test_the_site_leaves_out_placeholders_twins_and_empty_build_logs(tmp_path: Path) -> None:
    """(19) Only real work is on the site: no test placeholder, one of two twins, and no
    build log page for a session that lists no commit."""
    from gitflywheel import site

    commits = [{"hash": f"{i:040x}", "message": f"feat: step {i}"} for i in range(10)]
    sessions = [
        session("first", title="The work", timestamp="2026-01-01T23:51:59Z"),
        session("again", title="The work again", timestamp="2026-01-01T23:52:00Z"),
        session("agent-1", agent_id="test_agent", title="A test run"),
        session("story-1", overview="Designed the interfaces.", source_data={"git_commits": []}),
    ]
    for data in sessions[:2]:
        data["source_data"] = {"repo_path": "example/repo", "git_commits": commits}
    for number, data in enumerate(sessions):
        (tmp_path / f"{number}.json").write_text(json.dumps(data))
    store = tmp_path / "store.git"
    assert ingest(store, [tmp_path / f"{n}.json" for n in range(4)]).exit_code == 0
    out = tmp_path / "out"
    result = site(store, out, base_url=BASE)
    assert result.sessions == 2
    assert result.left_out == {"draft": 1, "twin of an earlier session": 1}
    everything = b"\n".join(p.read_bytes() for p in out.rglob("*") if p.is_file())
    assert b"The work again" not in everything and b"A test run" not in everything
    assert b"The work" in everything and b"Designed the interfaces." in everything
    pages = {p.name for p in out.rglob("*.html")}
    logs = list(out.rglob("build_log.*"))
    assert len(logs) == 2 and all("sessions/the-work/" in str(p) for p in logs), (logs, pages)


# -- share cards, sitemap, robots, 404 -----------------------------------------------------

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def head_tags(page: Path) -> dict[str, str]:
    """A page's share-card tags (og:*, twitter:*, article:*) and canonical link."""
    tree = etree.parse(str(page), etree.HTMLParser())
    found = {
        str(m.get("property") or m.get("name")): str(m.get("content"))
        for m in tree.iterfind(".//head/meta")
        if (m.get("property") or m.get("name") or "").startswith(("og:", "twitter:", "article:"))
    }
    for link in tree.iterfind(".//head/link[@rel='canonical']"):
        found["canonical"] = str(link.get("href"))
    return found


def site_file(site: Path, url: str) -> Path:
    """The file of the site an absolute URL of it names."""
    assert url.startswith(BASE), url
    path = site / unquote(url.removeprefix(BASE))
    return path / "index.html" if url.endswith("/") else path


@pytest.fixture(scope="module")
def examples_sites(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The examples built with the base URL, and with --no-feed and no address."""
    from gitflywheel import site

    folder = tmp_path_factory.mktemp("cards")
    store = folder / "store.git"
    assert ingest(store, [EXAMPLES]).exit_code == 0
    site(store, folder / "out", base_url=BASE)
    site(store, folder / "bare", base_url=None, feeds=False)
    return folder / "out", folder / "bare"


def png_size(data: bytes) -> tuple[int, int]:
    """A PNG's width and height, read from its IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def check_share_cards(out: Path, pages: list[Path]) -> None:
    """(20) og:*, twitter:* and canonical on every session page, from the base URL; the
    image is the session's card: an absolute URL of a PNG of at least 1200x630 that the
    site holds, its size in og:image:width and og:image:height."""
    for page in pages:
        tags = head_tags(page)
        url = BASE + page.parent.relative_to(out).as_posix() + "/"
        assert tags["canonical"] == tags["og:url"] == url, page
        assert tags["og:type"] == "article" and tags["og:site_name"] == "Work sessions"
        assert tags["og:title"] and tags["og:description"], page
        image = tags["og:image"]
        assert image.startswith(url + "card-") and image.endswith(".png"), image
        assert tags["twitter:card"] == "summary_large_image" and tags["twitter:image"] == image
        data = site_file(out, image).read_bytes()
        width, height = png_size(data)
        assert width >= 1200 and height >= 630, image
        assert (tags["og:image:width"], tags["og:image:height"]) == (str(width), str(height))
        assert tags["og:image:type"] == "image/png" and tags["og:image:alt"]


def test_every_session_page_has_a_share_card_with_absolute_urls(
    examples_sites: tuple[Path, Path],
) -> None:
    out, _ = examples_sites
    pages = sorted(out.glob("sessions/*/index.html"))
    assert len(pages) == 3
    check_share_cards(out, pages)
    for page in (out / "index.html", out / "types" / "trade" / "index.html"):
        tags = head_tags(page)
        assert tags["og:title"] and tags["canonical"] == tags["og:url"]
        assert site_file(out, tags["canonical"]) == page


def test_every_session_page_of_the_corpus_and_examples_has_a_card(full_site: Path) -> None:
    pages = sorted(full_site.glob("sessions/*/index.html"))
    assert len(pages) > 10
    check_share_cards(full_site, pages)


def test_thumbnails_are_the_card_images_shown_small(full_site: Path) -> None:
    """(20) every list shows each post's card as its thumbnail, never a whole SVG chart;
    the image says its size, so that the page keeps its place while it loads."""
    for page in [full_site / "index.html", *full_site.glob("types/*/index.html")]:
        tree = etree.parse(str(page), etree.HTMLParser())
        thumbs = tree.findall(".//a[@class='cover']/img")
        assert thumbs and len(thumbs) == len(tree.findall(".//article[@class='card']")), page
        for img in thumbs:
            assert re.fullmatch(
                r"(\.\./)*sessions/[a-z0-9-]+/card-[0-9a-f]{12}\.png", img.get("src")
            )
            assert (img.get("width"), img.get("height")) == ("1200", "630")
            assert (page.parent / img.get("src")).is_file()
    css = (full_site / "style.css").read_text()
    assert ".card .cover img { width: 11rem; height: auto; aspect-ratio: 1200 / 630;" in css


def test_the_sitemap_lists_every_page_and_only_pages_that_exist(
    examples_sites: tuple[Path, Path],
) -> None:
    out, _ = examples_sites
    tree = etree.parse(str(out / "sitemap.xml"))
    assert tree.getroot().tag == f"{SITEMAP}urlset"
    urls = {
        str(u.findtext(f"{SITEMAP}loc")): u.findtext(f"{SITEMAP}lastmod") for u in tree.getroot()
    }
    files = {site_file(out, url) for url in urls}
    assert all(f.is_file() for f in files)
    pages = set(out.rglob("*.html")) - {out / "404.html"}
    assert files == pages
    with_dates = {url: when for url, when in urls.items() if "/sessions/" in url}
    assert with_dates and all(
        re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(when)) for when in with_dates.values()
    )
    aria = next(url for url in urls if url.endswith("with-aria/"))
    assert urls[aria] == "2025-12-03"  # the session's date
    robots = (out / "robots.txt").read_text()
    assert "User-agent: *" in robots and f"Sitemap: {BASE}sitemap.xml" in robots.splitlines()


def test_more_pages_than_one_sitemap_may_list_are_listed_by_an_index_of_sitemaps(
    examples_sites: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gitflywheel import site
    from gitflywheel.publishing import site as building

    out, _ = examples_sites
    listed = etree.parse(str(out / "sitemap.xml")).getroot()
    every = {str(u.findtext(f"{SITEMAP}loc")): u.findtext(f"{SITEMAP}lastmod") for u in listed}
    monkeypatch.setattr(building, "SITEMAP_URLS", 7)  # sitemaps.org: 50,000 a file
    store = out.parent / "store.git"
    split = tmp_path / "split"
    site(store, split, base_url=BASE)
    index = etree.parse(str(split / "sitemap.xml")).getroot()
    assert index.tag == f"{SITEMAP}sitemapindex"
    found: dict[str, str | None] = {}
    for number, child in enumerate(index, 1):
        loc = str(child.findtext(f"{SITEMAP}loc"))
        assert loc == f"{BASE}sitemap-{number}.xml"  # at the root: a sitemap lists below it
        assert child.find(f"{SITEMAP}lastmod") is None  # its pages move between parts
        part = etree.parse(str(split / f"sitemap-{number}.xml")).getroot()
        assert part.tag == f"{SITEMAP}urlset" and 0 < len(part) <= 7
        urls = {str(u.findtext(f"{SITEMAP}loc")): u.findtext(f"{SITEMAP}lastmod") for u in part}
        assert found.keys().isdisjoint(urls)
        found.update(urls)
    assert found == every and len(index) == -(-len(every) // 7)
    robots = (split / "robots.txt").read_text()
    assert f"Sitemap: {BASE}sitemap.xml" in robots.splitlines()


def test_the_404_page_links_home_from_anywhere(examples_sites: tuple[Path, Path]) -> None:
    out, _ = examples_sites
    links = page_links(out / "404.html").urls
    assert urlsplit(BASE).path in links  # home, root-relative: it is served at any path
    assert f"{urlsplit(BASE).path}style.css" in links
    assert not [u for u in links if not u.startswith("/")]
    assert "<h1>Page not found</h1>" in (out / "404.html").read_text()


def test_a_site_without_an_address_has_no_absolute_tags_nor_sitemap(
    examples_sites: tuple[Path, Path],
) -> None:
    _, bare = examples_sites
    assert not (bare / "sitemap.xml").exists()
    assert (bare / "robots.txt").read_text() == "User-agent: *\nAllow: /\n"
    assert (bare / "404.html").is_file() and "/" in page_links(bare / "404.html").urls
    assert len(list(bare.glob("sessions/*/card-*.png"))) == 3  # the thumbnails still
    for page in bare.rglob("*.html"):
        assert head_tags(page) == {}, page
        text = page.read_text()
        assert 'property="og:' not in text and 'rel="canonical"' not in text, page
