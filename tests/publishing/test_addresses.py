"""Stable addresses and threads that link their post (issue 20): a session's slug is fixed
when it is first recorded, a revised title changes the page and not its address, a page
that moved keeps a redirect (the site, Hugo's aliases, a Jekyll page), the feed entry's
`updated` follows revisions, and the thread links the post when the store knows its
site's address, within X's weights (a Chinese session too) and Mastodon's 500."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from calendar import timegm
from pathlib import Path

import feedparser
import pytest
import yaml
from conftest import git, session

from gitflywheel import config, export, ingest, rerender, show, site, verify
from gitflywheel.pipelines import social
from gitflywheel.publishing.posts import split_front_matter
from gitflywheel.recording.ingest import ingest as record

BASE = "https://me.example.org/flywheel/"
SOURCE = "2025-12-02T03:30:00Z"  # the sessions' own time (conftest.session)


def write(folder: Path, name: str, data: dict[str, object]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def story(session_id: str, title: str, **fields: object) -> dict[str, object]:
    """A build session with a story of its own, so that it is published."""
    told: dict[str, object] = {
        "title": title,
        "overview": f"{title}: the work of the day, told in a sentence or two.",
        "key_achievements": ["Wrote the tests first."],
    }
    return session(session_id, **{**told, **fields})


def threads(store: Path, session_id: str) -> tuple[list[str], list[str]]:
    _, body = split_front_matter(show(store, session_id, "social_post").decode())
    return social.read_threads(body)


def front(store: Path, session_id: str, kind: str = "blog_post") -> dict[str, object]:
    head, _ = split_front_matter(show(store, session_id, kind).decode())
    data = yaml.safe_load(head)
    assert isinstance(data, dict)
    return data


def entry_times(feed: Path) -> tuple[int, int]:
    """(published, updated) of the feed's only entry, as a feed reader reads them."""
    parsed = feedparser.parse(feed.read_bytes())
    assert not parsed.bozo, parsed.bozo_exception
    (entry,) = parsed.entries
    return timegm(entry.published_parsed), timegm(entry.updated_parsed)


def test_a_revised_title_keeps_the_address_and_moves_the_feed_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, out = tmp_path / "s.git", tmp_path / "site"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764900000")  # 2025-12-05, after the session
    config(store, "site.base_url", BASE)
    first = write(tmp_path / "in", "first", story("rev-1", "Fix the parser"))
    assert ingest(store, [first]).exit_code == 0
    assert site(store, out).sessions == 1
    page = out / "sessions" / "fix-the-parser" / "index.html"
    assert "Fix the parser" in page.read_text(encoding="utf-8")
    published, updated = entry_times(out / "feed.xml")
    assert published == updated == timegm((2025, 12, 2, 3, 30, 0))
    x, _ = threads(store, "rev-1")
    assert x[-1].count(f"{BASE}sessions/fix-the-parser/") == 1

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1765000000")  # a day later: the revision
    second = write(tmp_path / "in", "second", story("rev-1", "The parser rewrite lands"))
    report = ingest(store, [second], revise=True)
    assert report.exit_code == 0 and report.count("revised") == 1
    assert site(store, out).sessions == 1
    assert page.is_file()  # the old URL still resolves: the same file, the same path
    text = page.read_text(encoding="utf-8")
    assert "The parser rewrite lands" in text and "Fix the parser" not in text
    assert sorted(p.name for p in (out / "sessions").iterdir()) == ["fix-the-parser"]
    assert front(store, "rev-1")["title"] == "The parser rewrite lands"
    assert front(store, "rev-1")["slug"] == "fix-the-parser"
    assert front(store, "rev-1", "social_post")["slug"] == "fix-the-parser-social"
    assert show(store, "rev-1").slug == "fix-the-parser"
    x, _ = threads(store, "rev-1")
    assert (
        x[0].startswith("The parser rewrite lands") and f"{BASE}sessions/fix-the-parser/" in x[-1]
    )
    published, updated = entry_times(out / "feed.xml")
    assert published == timegm((2025, 12, 2, 3, 30, 0)) and updated == 1765000000
    parsed = feedparser.parse((out / "feed.xml").read_bytes())
    assert timegm(parsed.feed.updated_parsed) == 1765000000  # the newest entry's time
    sitemap = (out / "sitemap.xml").read_text()
    assert f"<loc>{BASE}sessions/fix-the-parser/</loc><lastmod>2025-12-06</lastmod>" in sitemap
    assert verify(store, full=True).ok


def test_a_thread_links_its_post_only_when_the_store_knows_the_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764900000")
    store = tmp_path / "s.git"
    data = write(tmp_path / "in", "one", story("link-1", "Guardrails for the flywheel"))
    assert ingest(store, [data]).exit_code == 0
    x, mastodon = threads(store, "link-1")
    assert x and not any("://" in post or "Read more" in post for post in x + mastodon)
    facts = json.loads(show(store, "link-1", "facts"))
    assert facts["address"] == {"slug": "guardrails-for-the-flywheel"}  # no site address

    # the address set later: verify says the thread is behind, rerender brings it up
    assert config(store, "site.base_url", BASE) is not None
    result = verify(store, full=True)
    assert result.ok
    assert any("older site address" in w.message for w in result.warnings), result.warnings
    assert rerender(store, all_sessions=True).count("rerendered") == 1
    x, mastodon = threads(store, "link-1")
    url = f"{BASE}sessions/guardrails-for-the-flywheel/"
    assert x[-1].endswith(f"Read more: {url} #Repo #BuildInPublic")
    assert all(social.weight(post) <= social.LIMIT for post in x)
    assert not any(url in post for post in x[:-1])  # once, in the last post
    facts = json.loads(show(store, "link-1", "facts"))
    assert facts["address"] == {"base_url": BASE, "slug": "guardrails-for-the-flywheel"}
    assert front(store, "link-1")["slug"] == "guardrails-for-the-flywheel"  # it stays
    result = verify(store, full=True)
    assert result.ok and not result.warnings, result.warnings
    assert rerender(store, all_sessions=True).count("rerendered") == 0
    log = git("-C", store, "log", "--format=%s", "main")
    assert log.splitlines()[:2] == [
        "Re-render build session link-1",
        "config: set site.base_url",
    ]


CHINESE = (
    "今天我们重写了解析器的错误恢复逻辑。以前遇到一个缺失的括号，整个文件都会报错，"
    "现在解析器会跳过出错的语句，继续检查后面的代码，并把每个错误的位置和原因一起报告出来。"
    "我们还为三十多种常见的语法错误写了测试，每个测试都检查错误信息是否清楚、位置是否准确。"
    "最难的部分是字符串和注释里的括号，它们不应该影响恢复。"
    "下一步是把同样的方法用在类型检查器上，让用户一次就能看到所有的问题，而不是改一个再跑一次。"
    "这次改动也让编辑器插件受益：用户输入到一半时，插件不再因为一个错误而失去整个文件的高亮和提示，"
    "补全功能在出错的地方之后依然可以正常工作，大家都很满意。"
)


def test_a_chinese_thread_fits_x_as_x_weighs_it_and_links_its_post(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(20) A session in Chinese: its ~273-character overview weighs about twice that on
    X, so the X thread takes several posts of at most 280 by X's weights, the last one
    linking the post; Mastodon counts code points, so its thread is shorter."""
    assert 265 <= len(CHINESE) <= 280
    assert social.weight(CHINESE) > 2 * social.LIMIT - 60  # one post on Mastodon, not on X
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764900000")
    store = tmp_path / "s.git"
    config(store, "site.base_url", BASE)
    data = story("zh-1", "解析器的错误恢复", overview=CHINESE)
    assert ingest(store, [write(tmp_path / "in", "zh", data)]).exit_code == 0
    slug = front(store, "zh-1")["slug"]
    assert slug == "build-2025-12-02"  # no ASCII in the title: its type and day
    url = f"{BASE}sessions/{slug}/"
    x, mastodon = threads(store, "zh-1")
    assert len(x) >= 2
    for post in x:
        assert social.weight(post) <= social.LIMIT, (social.weight(post), post)
    assert url in x[-1] and not any(url in post for post in x[:-1])
    assert "".join(x).count("。") == CHINESE.count("。")  # every sentence is posted
    assert not any(social.ELLIPSIS in post for post in x)  # whole sentences, none cut
    assert mastodon and len(mastodon) < len(x)
    for post in mastodon:
        counted = len(post.replace(url, "")) + (social.URL_WEIGHT if url in post else 0)
        assert counted <= 500, counted
    assert url in mastodon[-1]
    assert verify(store, full=True).ok


def test_sessions_of_one_title_get_readable_addresses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first keeps the title's slug, a later one gets its day after it, and a third
    on that day `-2`, whether they come in one ingest or in several (the query index
    answers then); each thread links its own post."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764900000")
    store = tmp_path / "s.git"
    config(store, "site.base_url", BASE)
    a = write(tmp_path / "a", "a", story("same-a", "Nightly cleanup"))
    b = write(
        tmp_path / "b", "b", story("same-b", "Nightly cleanup", timestamp="2025-12-03T03:00:00Z")
    )
    c = write(
        tmp_path / "c", "c", story("same-c", "Nightly cleanup", timestamp="2025-12-03T09:00:00Z")
    )
    assert ingest(store, [a, b]).exit_code == 0  # in one run
    assert ingest(store, [c]).exit_code == 0  # in another
    slugs = {sid: front(store, sid)["slug"] for sid in ("same-a", "same-b", "same-c")}
    assert slugs == {
        "same-a": "nightly-cleanup",
        "same-b": "nightly-cleanup-2025-12-03",
        "same-c": "nightly-cleanup-2025-12-03-2",
    }
    for sid, slug in slugs.items():
        assert f"{BASE}sessions/{slug}/" in threads(store, sid)[0][-1]
    out = tmp_path / "site"
    site(store, out)
    for slug in slugs.values():
        assert (out / "sessions" / slug / "index.html").is_file()
    # the same sessions in the same order give the same addresses in another store
    other = tmp_path / "t.git"
    config(other, "site.base_url", BASE)
    assert ingest(other, [a, b, c]).exit_code == 0
    assert {sid: front(other, sid)["slug"] for sid in slugs} == slugs
    # and one commit a batch, the addresses given asked of the index once it holds them
    batched = tmp_path / "u.git"
    config(batched, "site.base_url", BASE)
    assert record(batched, [str(a), str(b), str(c)], batch_size=1).exit_code == 0
    assert {sid: front(batched, sid)["slug"] for sid in slugs} == slugs
    assert verify(store, full=True).ok


OLD_STORE = Path(__file__).resolve().parents[1] / "data" / "screenshots-store.bundle"


def test_a_page_an_older_version_published_keeps_a_redirect(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store made by build/4 and life_aria/3 published its posts under slugs ending in
    hash letters; rerender gives each its title's slug and keeps the old one, where the
    site writes a redirect (meta refresh and canonical link, in no sitemap), Hugo an
    alias and the Jekyll export a redirect page."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764900000")
    store = tmp_path / "old.git"
    git("clone", "-q", "--bare", OLD_STORE, store)
    old = {
        sid: str(front(store, sid)["slug"])
        for sid in ("old-screenshots-build", "old-screenshots-life")
    }
    assert all(re.search(r"-[a-p]{6}$", slug) for slug in old.values())
    before = tmp_path / "before"
    site(store, before, base_url=BASE)
    assert all((before / "sessions" / slug / "index.html").is_file() for slug in old.values())

    config(store, "site.base_url", BASE)
    assert rerender(store, all_sessions=True).count("rerendered") == 2
    new = {sid: str(front(store, sid)["slug"]) for sid in old}
    assert new == {
        "old-screenshots-build": old["old-screenshots-build"][:-7],
        "old-screenshots-life": old["old-screenshots-life"][:-7],
    }
    facts = json.loads(show(store, "old-screenshots-build", "facts"))
    assert facts["address"]["moved_from"] == [old["old-screenshots-build"]]
    assert verify(store, full=True).ok

    after = tmp_path / "after"
    site(store, after)
    sitemap = (after / "sitemap.xml").read_text()
    for sid, slug in old.items():
        moved = after / "sessions" / slug / "index.html"
        text = moved.read_text(encoding="utf-8")
        target = f"../{new[sid]}/"
        assert f'<meta http-equiv="refresh" content="0; url={target}">' in text
        assert f'<link rel="canonical" href="{BASE}sessions/{new[sid]}/">' in text
        assert (after / "sessions" / new[sid] / "index.html").is_file()
        assert f"sessions/{slug}/" not in sitemap and f"sessions/{new[sid]}/" in sitemap
        for page in after.rglob("*.html"):  # listed nowhere
            assert f"{slug}/" not in page.read_text(encoding="utf-8") or page == moved

    hugo = tmp_path / "hugo"
    export(store, hugo, format="hugo")
    bundle = hugo / "content" / "posts" / new["old-screenshots-build"] / "index.md"
    head, _ = split_front_matter(bundle.read_text(encoding="utf-8"))
    assert yaml.safe_load(head)["aliases"] == [f"/posts/{old['old-screenshots-build']}/"]
    jekyll = tmp_path / "jekyll"
    export(store, jekyll, format="jekyll")
    redirect = jekyll / "build" / "2025" / "12" / "04" / f"{old['old-screenshots-build']}.html"
    assert f'url={new["old-screenshots-build"]}.html"' in redirect.read_text(encoding="utf-8")

    built = tool_site("hugo", hugo, "--quiet", "--destination", "public")
    if built:
        alias = hugo / "public" / "posts" / old["old-screenshots-build"] / "index.html"
        assert f"/posts/{new['old-screenshots-build']}/" in alias.read_text(encoding="utf-8")
    built = tool_site("jekyll", jekyll, "build", "--safe", "--quiet", "--source", str(jekyll))
    if built:
        post = (
            jekyll
            / "_site"
            / "build"
            / "2025"
            / "12"
            / "04"
            / f"{new['old-screenshots-build']}.html"
        )
        moved = post.with_name(f"{old['old-screenshots-build']}.html")
        assert post.is_file() and moved.is_file()  # the redirect sits where the post was
        assert f"url={post.name}" in moved.read_text(encoding="utf-8")


def tool_site(tool: str, folder: Path, *args: str) -> bool:
    """Build a blog folder with a real generator; False when it is not installed."""
    found = shutil.which(tool)
    if found is None:
        return False
    if tool == "hugo":
        (folder / "hugo.toml").write_text('baseURL = "https://blog.example.org/"\n')
        (folder / "layouts" / "_default").mkdir(parents=True, exist_ok=True)
        (folder / "layouts" / "_default" / "single.html").write_text("{{ .Content }}")
    else:
        (folder / "_config.yml").write_text('title: "A blog"\n')
        (folder / "_layouts").mkdir(exist_ok=True)
        (folder / "_layouts" / "post.html").write_text("{{ content }}")
    done = subprocess.run([found, *args], capture_output=True, timeout=300, cwd=folder)
    assert done.returncode == 0, done.stderr.decode() + done.stdout.decode()
    return True


def test_the_readme_shows_the_thread_the_example_makes(tmp_path: Path) -> None:
    """The thread the README shows, link and Mastodon section included, is what the
    example build session gives with site.base_url set: the README stays true."""
    from conftest import EXAMPLES

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    shown = readme.split("````markdown\n", 1)[1].split("````\n", 1)[0]
    store = tmp_path / "s.git"
    config(store, "site.base_url", BASE)
    assert ingest(store, [EXAMPLES / "build_session.json"]).exit_code == 0
    _, body = split_front_matter(
        show(store, "3f2b7c1e-8a4d-4e6f-9b21-5c7d8e9f0a1b", "social_post").decode()
    )
    assert body == shown
