"""Social threads as a person would post them: plain text, at most 280 characters a post
as a client counts them, whole sentences, quotes kept together, a few valid tags ranked
by relevance closing the last post; for generated text, generated sessions of every
kind, the examples and the corpus."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import test_escaping as hostile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from pipeline_checks import (
    EXAMPLES,
    LIMIT,
    RENDERER,
    bodies,
    check_posts,
    client_length,
    corpus_files,
    front_matter,
    opens_with_words,
    posts_of,
    render_all,
    split_tags,
)

from gitflywheel.escape import plain_text
from gitflywheel.jsontext import loads
from gitflywheel.pipelines import run_pipeline, social
from gitflywheel.pipelines.social import cashtag, hashtag, hashtags, opening, thread
from gitflywheel.session.records import make_record

# Strategies are built once, at module level: building one costs more than drawing.
# Words hold Markdown's special characters but no sentence, clause or quote marks, so
# the only splits are between words.
words = st.text(
    alphabet=st.characters(
        codec="utf-8", categories=("L", "Nd"), include_characters="*_<>[]\\`|~&-"
    ),
    min_size=1,
    max_size=40,
)
paragraph_words = st.lists(words, min_size=1, max_size=80)
tag_names = st.lists(st.text(min_size=1, max_size=20), max_size=6)


def texts(data: Any) -> list[str]:
    """Every string of a session."""
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [t for v in data.values() for t in texts(v)]
    if isinstance(data, list):
        return [t for v in data for t in texts(v)]
    return []


@settings(deadline=None)
@given(st.lists(paragraph_words, min_size=1, max_size=6), tag_names)
def test_thread_keeps_every_word_whole_and_in_order(
    paragraphs: list[list[str]], names: list[str]
) -> None:
    # a first word of its own, so no paragraph repeats another (repeats are left out)
    given_text = [" ".join([f"p{i}", *p]) for i, p in enumerate(paragraphs)]
    tags = hashtags(*names)
    posts = thread(given_text, tags)
    check_posts(posts)
    text, closing = split_tags(" ".join(bodies(posts)))
    assert closing == tags[: len(closing)] and bool(closing) == bool(tags)  # most relevant kept
    assert text.replace("…", "").split() == " ".join(p + "." for p in given_text).split()
    assert sum(p.count("\\") for p in posts) == sum(p.count("\\") for p in given_text)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(hostile.build_sessions(), hostile.trade_sessions(), hostile.life_sessions()))
def test_generated_sessions_of_every_kind_make_plain_threads(
    case: tuple[dict[str, Any], tuple[Any, ...]],
) -> None:
    data, shots = case
    artifacts = render_all(data, shots)
    posts = posts_of(artifacts["social_post"])
    meta = front_matter(artifacts["social_post"])
    if meta["draft"]:
        assert posts == []
        return
    check_posts(posts)
    assert opens_with_words(" ".join(bodies(posts)), meta["title"])  # no opener before it
    if not any("\\" in t for t in texts(data)):
        assert not any("\\" in p for p in posts), posts  # no Markdown escapes


def test_a_long_text_becomes_a_numbered_thread_of_full_posts() -> None:
    text = " ".join(f"Sentence number {i:03d} says a little." for i in range(40))
    posts = thread([text], ["#BuildInPublic"])
    check_posts(posts)
    n = len(posts)
    assert [p.rsplit(" ", 1)[1] for p in posts] == [f"{i}/{n}" for i in range(1, n + 1)]
    assert posts[-1].endswith(f"little. #BuildInPublic {n}/{n}")
    for post in bodies(posts)[:-1]:
        assert post.endswith("little.")  # whole sentences, no ellipsis
        assert client_length(post) + len(" Sentence number 000 says a little.") + 6 > LIMIT


def test_short_paragraphs_share_a_post_and_tags_never_stand_alone() -> None:
    assert thread(["One", "Two.", ""], ["#a", "#b"]) == ["One. Two. #a #b"]
    assert thread([], ["#a"]) == []
    full = "x" * 270 + "."
    posts = thread(["Short one.", full], ["#Tag"])
    assert bodies(posts) == ["Short one.", full + " #Tag"]  # not a post of tags only


def test_a_long_sentence_splits_at_a_clause_and_only_then_with_an_ellipsis() -> None:
    clauses = ", ".join(f"then the {i:02d}th clause of a rather long sentence" for i in range(12))
    posts = bodies(thread([clauses], []))
    assert all(p.endswith((",", ".")) for p in posts) and "…" not in "".join(posts)
    no_clauses = " ".join(f"word{i:03d}" for i in range(100))
    posts = bodies(thread([no_clauses], []))
    assert all(p.endswith("…") for p in posts[:-1]) and posts[-1].endswith(".")


def test_quotes_stay_in_one_post_or_are_closed_and_reopened() -> None:
    quote = "Aria: “" + "a short quote that fits. " * 3 + "end.”"
    posts = bodies(thread(["x" * 200 + ".", quote], []))
    assert posts[1] == quote  # moved whole rather than split
    long_quote = "“" + " ".join(f"word{i:03d}" for i in range(80)) + ".”"
    posts = bodies(thread([long_quote], []))
    assert len(posts) > 1
    assert all(p.count("“") == p.count("”") == 1 for p in posts)
    assert thread(['He said "stop'], []) == ['He said "stop."']  # closed: balanced


def test_a_link_counts_as_23_characters() -> None:
    url = "https://example.org/" + "x" * 300
    text = "y" * 240 + f" {url}"
    assert thread([text], []) == [text + "."]  # 240 + 1 + 23 + 1 <= 280
    assert client_length(text) == 264


def test_plain_text_has_no_escapes_controls_or_bidi() -> None:
    assert plain_text("a_b \\<div> *x*\n\tnext\u202e\x1b[31m") == "a_b \\<div> *x* next [31m"
    data = json.loads((EXAMPLES / "build_session.json").read_text())
    data["title"] = "Ship <div> and a_b_c *fast* \u202eevil\x07"
    posts = posts_of(render_all(data)["social_post"])
    assert posts[0].startswith("Ship <div> and a_b_c *fast* evil: 3 commits")
    assert "\\" not in "".join(posts)


def test_no_figure_twice_in_the_opening() -> None:
    assert opening("2 commits in repo", ["2 commits", "5 files"]) == "2 commits in repo: 5 files."
    assert opening("Fixed it.", ["1 commit"]) == "Fixed it. 1 commit."
    assert opening("Fixed it", []) == "Fixed it."


def test_hashtags_are_valid_folded_camel_case_and_ranked() -> None:
    assert hashtag("Zoë's café") == "#ZoesCafe"
    assert hashtag("agent_cellphone-v2") == "#AgentCellphoneV2"
    assert hashtag("Straße") == "#Strasse"
    for bad in ("", None, "12345", "---", "tmpk2j3x_9", "pytest-of-root", "temp"):
        assert hashtag(bad) is None, bad
    assert hashtag("Template") == "#Template"
    assert cashtag("aapl") == "$AAPL"
    assert [cashtag(s) for s in ("BRK.B", "TOOLONG", "A1", "")] == [None] * 4
    assert hashtags("repo", "Agent-5", "REPO", generic=["BuildInPublic"]) == [
        "#Repo",
        "#Agent5",
        "#BuildInPublic",
    ]
    assert hashtags("a", "b", "c", "d", "e", generic=["G"]) == ["#A", "#B", "#C", "#G"]
    assert hashtags(symbols=["msft", "BRK.B"], generic=["TradingJournal"]) == [
        "$MSFT",
        "#BRKB",
        "#TradingJournal",
    ]


def test_example_build_thread() -> None:
    posts = posts_of(
        render_all(loads((EXAMPLES / "build_session.json").read_text()))["social_post"]
    )
    assert posts == [
        "Metrics guardrail for the output flywheel: 3 commits, 4 files, +412 lines. The"
        " flywheel had no alarm when artifact output stalled; now it has one. Lesson: Measure"
        " before you alert. A week of baseline numbers set thresholds that do not cry wolf."
        " 1/2",
        "Next: Wire the monitor into the nightly job; Add a weekly trend chart."
        " #AgentCellphone #BuildInPublic 2/2",
    ]


# Session text that is HTML, a run of backticks longer than a fence's three, and `---`.
HTML_SESSION: dict[str, Any] = {
    "session_id": "social-html-1",
    "session_type": "build",
    "timestamp": "2025-12-04T16:45:00Z",
    "agent_id": "Agent-5",
    "title": "Thread <iframe src=javascript:alert(1)> test",
    "source_data": {"repo_path": "github.com/example/app", "git_commits": [{"message": "Work"}]},
    "overview": "An image <img src=x onerror=alert(1)> shows; a script <script>alert(1)</script>"
    " too. " + "Filler words here. " * 12,
    "lessons": [{"title": "Fences ``` and ```` runs", "description": "A rule --- and `code`."}],
    "next_steps": ["---", "~~~ tilde fence", "<!-- a comment"],
}
LIVE = ("iframe", "img", "script")


class Elements(HTMLParser):
    """The elements of an HTML page, and the text of each <code> element."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.code: list[str] = []
        self._open = 0
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "code":
            self._open += 1
            self.code.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "code":
            self._open -= 1

    def handle_data(self, data: str) -> None:
        if self._open:
            self.code[-1] += data


def html_thread() -> tuple[str, list[str]]:
    """The social_post.md of HTML_SESSION, and its posts as the pipeline made them (the
    X thread's, then the Mastodon thread's)."""
    spec = next(
        s
        for s in run_pipeline(make_record("test", HTML_SESSION).session)
        if s.kind == "social_post"
    )
    posts: list[str] = spec.context["posts"] + spec.context["mastodon"]
    said = "\n".join(posts)
    for text in ("<iframe src=javascript:alert(1)>", "<img src=x onerror=alert(1)>", "````", "---"):
        assert text in said  # the thread carries what could turn into markup
    return RENDERER.render(spec).decode("utf-8"), posts


def test_a_thread_is_text_in_any_markdown_renderer() -> None:
    """(18.18) Each post is a fenced code block, so a Markdown renderer that lets HTML
    through (markdown-it's CommonMark, as GitHub Pages' and other viewers) shows it as
    text, and the block's text is the post exactly: no escape, no entity."""
    text, posts = html_thread()
    x, mastodon = posts_of(text), posts_of(text, mastodon=True)
    assert x + mastodon == posts and mastodon
    html = MarkdownIt("commonmark", {"html": True}).render(text.split("---\n", 2)[2])
    page = Elements(html)
    assert not set(page.tags) & set(LIVE), html
    assert page.code == [f"{post}\n" for post in posts]
    assert page.tags.count("hr") == len(x) - 1 + len(mastodon) - 1


def built(tool: str, folder: Path, *args: str) -> None:
    """Build a site with a real generator, or skip when it is not installed."""
    found = shutil.which(tool)
    if found is None:
        pytest.skip(f"{tool} is not installed (scripts/test-tools installs it from Debian)")
    done = subprocess.run([found, *args], capture_output=True, timeout=300, cwd=folder)
    assert done.returncode == 0, done.stderr.decode() + done.stdout.decode()


def test_a_thread_is_text_when_jekyll_builds_the_store(tmp_path: Path) -> None:
    """(18.18) GitHub Pages builds a repository's Markdown with Jekyll (kramdown): the
    thread's HTML stays text there too, each post shown as it is."""
    text, posts = html_thread()
    (tmp_path / "_config.yml").write_text('title: "A store"\n')
    (tmp_path / "social_post.md").write_text(text)
    built("jekyll", tmp_path, "build", "--safe", "--quiet", "--source", str(tmp_path))
    assert not list((tmp_path / "_site").rglob("social_post*"))  # published: false
    # and a page made of it all the same (an engine that ignores `published`) is text
    (tmp_path / "social_post.md").write_text(text.replace("published: false\n", ""))
    built("jekyll", tmp_path, "build", "--safe", "--quiet", "--source", str(tmp_path))
    html = (tmp_path / "_site" / "social_post.html").read_text(encoding="utf-8")
    page = Elements(html)
    assert not set(page.tags) & set(LIVE), html
    assert [code.rstrip("\n") for code in page.code] == posts, html


def test_a_thread_is_text_in_hugo_even_with_raw_html_allowed(tmp_path: Path) -> None:
    """(18.18) Hugo's goldmark, told to pass raw HTML through, keeps each post text."""
    text, posts = html_thread()
    (tmp_path / "hugo.toml").write_text("[markup.goldmark.renderer]\nunsafe = true\n")
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "social_post.md").write_text(text)
    (tmp_path / "layouts" / "_default").mkdir(parents=True)
    (tmp_path / "layouts" / "_default" / "single.html").write_text("{{ .Content }}")
    built("hugo", tmp_path, "--quiet", "--source", str(tmp_path), "--destination", "public")
    assert not list((tmp_path / "public").glob("*/index.html"))  # _build: render: never
    # and a page made of it all the same (an engine that ignores `_build`) is text
    unrendered = text.replace("_build:\n  render: never\n  list: never\n", "")
    (tmp_path / "content" / "social_post.md").write_text(unrendered)
    built("hugo", tmp_path, "--quiet", "--source", str(tmp_path), "--destination", "public")
    (page_file,) = (tmp_path / "public").glob("*/index.html")
    page = Elements(page_file.read_text(encoding="utf-8"))
    assert not set(page.tags) & set(LIVE), page.tags
    assert [code.rstrip("\n") for code in page.code] == posts


def test_the_fence_outgrows_every_run_of_backticks() -> None:
    assert social.fence([]) == social.fence(["no backticks."]) == "```"
    assert social.fence(["a `b` and ``c``.", "```` four."]) == "`````"


def test_read_thread_gives_back_the_posts_of_either_form() -> None:
    """The posts exactly as the pipeline made them, from the fenced form; and from a
    thread written before the fences, the lines between the `---` rules."""
    text, posts = html_thread()
    x, mastodon = social.read_threads(text.split("---\n", 2)[2])
    assert x + mastodon == posts and social.read_thread(text.split("---\n", 2)[2]) == x
    old = "\nFirst post. 1/2\n\n---\n\nSecond <b>post</b>. 2/2\n"
    assert social.read_thread(old) == ["First post. 1/2", "Second <b>post</b>. 2/2"]
    assert social.read_thread("\n") == []
    # a fence left open is not a block: its lines are read as they are
    assert social.read_thread("````text\nA post.\n```\n") == ["````text\nA post.\n```"]


def test_read_thread_takes_linear_time_on_open_fences() -> None:
    body = "```text\n" * 50_000 + "---\n" + "````\n" * 50_000
    assert len(social.read_thread(body)) == 2


@pytest.mark.parametrize(
    "path", sorted(EXAMPLES.glob("*.json")) + corpus_files(), ids=lambda p: p.name[:30]
)
def test_examples_and_corpus_keep_to_the_rules(path: Path) -> None:
    data = loads(path.read_text(encoding="utf-8"))
    artifacts = render_all(data)
    posts = posts_of(artifacts["social_post"])
    meta = front_matter(artifacts["social_post"])
    if meta["draft"]:
        assert posts == []  # a draft has no thread
        return
    check_posts(posts)
    assert split_tags(posts[-1] if len(posts) == 1 else bodies(posts)[-1])[1]  # tags close it
    said = " ".join(bodies(posts))
    assert opens_with_words(said, meta["title"])  # the title opens it
    words = " ".join(re.sub(r"[^\w]+", " ", meta["title"].casefold()).split())
    if len(words.split()) >= 3:  # ... once: a title made from the overview is not said twice
        assert " ".join(re.sub(r"[^\w]+", " ", said.casefold()).split()).count(words) == 1


def _cuts(word: str) -> list[int]:
    """Where a word may be cut: anywhere but inside a URL or an emoji sequence."""
    inside = {
        k
        for pattern in (social._URL, social._EMOJI_SEQUENCE)
        for m in pattern.finditer(word)
        for k in range(m.start() + 1, m.end())
    }
    return [k for k in range(len(word) + 1) if k not in inside]


def _words_fit_by_the_letter(text: str, limit: int) -> list[str]:
    """The word packing by the letter (weighing the whole rest of a long word at every
    cut, and every prefix for the longest that fits): what the linear version must give,
    piece for piece."""
    pieces: list[str] = []
    current = ""
    step = limit - social.weight(social.ELLIPSIS)
    for word in text.split(" "):
        while social.weight(word) > step:
            if current:
                pieces.append(current + social.ELLIPSIS)
                current = ""
            cuts = _cuts(word)
            fits = [k for k in cuts[1:] if social.weight(word[:k]) <= step]
            k = fits[-1] if fits else cuts[1]
            pieces.append(word[:k] + social.ELLIPSIS)
            word = word[k:]
        candidate = f"{current} {word}" if current else word
        if social.weight(candidate) + social.weight(social.ELLIPSIS) <= limit:
            current = candidate
        else:
            pieces.append(current + social.ELLIPSIS)
            current = word
    return [*pieces, current] if current else pieces


_PARTS = st.sampled_from(
    ["x", "y", " ", "http://", "https://", "HTTP://", "://", "h", "ttp", "é", "中", "…"]
    + ["👍", "🏽", "\u200d", "\ufe0f", "🇺", "1", "\u20e3", "\U000e0067", "©"]
)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PARTS, max_size=300).map("".join), st.integers(3, 60))
def test_cutting_long_words_gives_the_same_pieces(text: str, limit: int) -> None:
    assert social._words_fit(text, limit) == _words_fit_by_the_letter(text, limit)


def v3_weight(text: str) -> int:
    """twitter-text's v3 weights, by code points (each URL as 23): 1 in U+0000-U+10FF,
    U+2000-U+200D, U+2010-U+201F and U+2032-U+2037, 2 anywhere else."""
    light = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
    urls = re.findall(r"https?://\S+", text, re.IGNORECASE)
    rest = re.sub(r"https?://\S+", "", text, flags=re.IGNORECASE)
    return 23 * len(urls) + sum(
        1 if any(lo <= ord(ch) <= hi for lo, hi in light) else 2 for ch in rest
    )


CHINESE = (
    "今天我们把发布流程重新整理了一遍，先把构建脚本拆成几个小步骤，每一步都有自己的检查。"
    "然后我们发现缓存目录在不同机器上的路径不一样，导致第二次构建反而更慢。"
    "修好以后，整个流水线从十二分钟降到了四分钟，测试也更稳定了。"
    "下一步是把图表生成放进夜间任务里，并且给每周的趋势加上一个简单的报警阈值。"
)


def test_a_chinese_text_makes_posts_that_weigh_at_most_280_by_v3_rules() -> None:
    """(20) X counts a CJK character as 2: posts of Chinese are not refused."""
    text = CHINESE * 4
    assert 550 <= len(text) <= 650
    posts = thread([text], ["#构建", "#BuildInPublic"])
    assert len(posts) >= 4  # about 1,200 by weight: five posts, not three
    assert all(v3_weight(p) <= LIMIT for p in posts), [v3_weight(p) for p in posts]
    assert all(social.weight(p) == v3_weight(p) for p in posts)
    # whole sentences (a full stop 。 ends one; no `.` is added after it)
    assert "".join(split_tags(" ".join(bodies(posts)))[0].split(" ")) == text
    assert not any("…" in post for post in posts)
    assert social.weight("中" * 140) == v3_weight("中" * 140) == 280
    assert thread(["中" * 139 + "a."]) == ["中" * 139 + "a."]  # 280 exactly, one post
    assert len(thread(["中" * 139 + "ab."])) == 2


def test_emoji_count_as_two_and_sequences_as_one_emoji() -> None:
    """(20) An emoji weighs 2, and so does a sequence that shows as one (joined by
    U+200D, a skin tone, a variation selector, a keycap, a flag)."""
    for emoji in ("👍", "👍🏽", "👨\u200d👩\u200d👧\u200d👦", "❤\ufe0f", "1\ufe0f\u20e3", "🇺🇸"):
        assert social.weight(emoji) == 2, emoji
        assert social.weight(f"a {emoji} b") == 6, emoji
    assert social.weight("🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f") == 2
    assert social.weight("\u200d") == 1 and social.weight("\ufe0f") == 2  # alone: by range
    assert social.weight("中\ufe0f") == 4  # no emoji: each by its range
    assert social.weight("Déjà vu — “quoted” «ok»") == len("Déjà vu — “quoted” «ok»")
    assert social.weight("…") == 2
    family = "👨\u200d👩\u200d👧\u200d👦"
    text = " ".join(f"Shipped {i} 🚀👍🏽{family}!" for i in range(60))
    posts = thread([text], ["#BuildInPublic"])
    assert all(social.weight(p) <= LIMIT for p in posts)
    assert all(family in p or "👍🏽" in p for p in posts)
    joined = " ".join(bodies(posts))
    assert joined.count(family) == 60 and joined.count("👍🏽") == 60  # none split
    solid = "🚀" * 200  # one word of emoji: cut between emoji, by weight
    posts = thread([solid])
    assert all(v3_weight(p) <= LIMIT for p in posts)
    assert "".join(p.split(" ")[0].rstrip("….") for p in posts) == solid


@pytest.mark.parametrize(
    "word", ["x" * 200_000, "x" * 100_000 + "https://example.com/" + "y" * 99_980]
)
def test_a_long_word_is_weighed_in_linear_work(word: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cutting one long word weighs a bounded multiple of its length, not the rest of
    the word at every cut (which made a 4 MB overview take most of a minute)."""
    weighed = 0
    original = social.weight

    def counting(text: str, unit: social.Unit = social._v3) -> int:
        nonlocal weighed
        weighed += len(text)
        return original(text, unit)

    monkeypatch.setattr(social, "weight", counting)
    posts = thread([word])
    assert "".join(p.split(" ")[0].rstrip(social.ELLIPSIS) for p in posts).startswith(word[:1000])
    assert weighed <= 40 * len(word)
