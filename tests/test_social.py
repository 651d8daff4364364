"""Social posts: at most 280 characters each, `---` between posts, never a word cut,
hashtags at the end; for the corpus and for thousands of generated texts."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pipeline_checks import (
    LIMIT,
    MARKER,
    bodies,
    corpus_files,
    front_matter,
    plain,
    posts_of,
    render_all,
)

from gitflywheel.jsontext import loads
from gitflywheel.pipelines.social import hashtags, thread

words = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp")),
    min_size=1,
    max_size=40,
)
spaces = st.sampled_from([" ", "  ", "\n", "\t", " \n "])


@st.composite
def paragraph(draw: st.DrawFn) -> str:
    chosen = draw(st.lists(words, max_size=80))
    return "".join(w + draw(spaces) for w in chosen)


@settings(deadline=None)
@given(st.lists(paragraph(), min_size=1, max_size=6), st.lists(words, max_size=5))
def test_thread_keeps_every_word_whole_and_in_order(paragraphs: list[str], tags: list[str]) -> None:
    posts = thread(paragraphs, " ".join(tags))
    assert all(0 < len(p) <= LIMIT for p in posts)
    assert all(p == " ".join(p.split()) for p in posts)  # no stray white space
    rebuilt = [w for body in bodies(posts) for w in body.split()]
    assert rebuilt == " ".join(paragraphs + tags).split()


@settings(deadline=None)
@given(st.lists(paragraph(), min_size=1, max_size=4), st.lists(words, min_size=1, max_size=4))
def test_hashtags_close_the_thread(paragraphs: list[str], tags: list[str]) -> None:
    posts = bodies(thread(paragraphs, " ".join(tags)))
    assert posts[-1].split()[-len(tags) :] == tags


def test_a_long_text_becomes_a_numbered_thread() -> None:
    text = " ".join(f"word{i:03d}" for i in range(200))  # 1,599 characters
    posts = thread([text], "#BuildInPublic")
    assert len(posts) == 6
    assert [p.rsplit(" ", 1)[1] for p in posts] == [f"{i}/6" for i in range(1, 7)]
    assert posts[-1].endswith("#BuildInPublic 6/6")
    assert all(len(p) <= LIMIT for p in posts)
    # the text is packed: each post but the last is too full to take the next word
    for post, following in zip(bodies(posts), bodies(posts)[1:], strict=False):
        assert len(post) + 1 + len(following.split()[0]) + len(" 6/6") > LIMIT


def test_short_paragraphs_share_a_post() -> None:
    assert thread(["One.", "Two.", ""], "#a #b") == ["One. Two. #a #b"]
    assert thread([], "") == []


def test_a_word_longer_than_a_post_is_the_only_thing_split() -> None:
    url = "https://example.org/" + "x" * 400
    posts = thread([f"see {url} now"], "")
    assert all(len(p) <= LIMIT for p in posts)
    assert "".join(bodies(posts)).replace(" ", "") == f"see{url}now"
    assert bodies(posts)[0] == "see"  # the long word starts a post of its own


def test_hashtags_distinct_in_order_empty_dropped() -> None:
    assert hashtags("BuildInPublic", "", None, "Repo", "BuildInPublic") == "#BuildInPublic #Repo"


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name[:30])
def test_corpus_posts_keep_to_the_rules(path: Path) -> None:
    artifacts = render_all(loads(path.read_text(encoding="utf-8")))
    posts = posts_of(artifacts["social_post"])
    if front_matter(artifacts["social_post"])["draft"]:
        assert posts == []  # a draft has no thread
        return
    assert all(0 < len(p) <= LIMIT for p in posts)
    assert posts[-1].split()[-1].startswith("#") or MARKER.search(posts[-1])
    joined = " ".join(bodies(posts))
    # the title opens the thread whole: a word cut at a post boundary would break it apart
    heading = next(
        line
        for text in artifacts.values()
        for line in text.splitlines()
        if line.startswith(("## ", "# Trade journal: "))
    )
    title = plain(heading.removeprefix("## ").removeprefix("# Trade journal: "))
    assert joined.startswith(" ".join(title.split()) + (": " if title[-1] != "." else " "))
