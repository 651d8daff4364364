"""The site's caches beside the store: a build that reuses what earlier builds rendered
gives the very bytes of a build from nothing, after new sessions, revisions and damage.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest
from conftest import EXAMPLES, session, snapshot, write_session

from gitflywheel import ingest
from gitflywheel.publishing.cache_db import FILE_NAME
from gitflywheel.publishing.cards import CardCache
from gitflywheel.publishing.fragments import FragmentCache
from gitflywheel.publishing.site import SiteBuild, build_site, write_site
from gitflywheel.storage.store import Store

BASE = "https://me.example.org/flywheel/"


def story(session_id: str, title: str, commit: str, day: int) -> dict[str, object]:
    return session(
        session_id,
        title=title,
        timestamp=f"2025-12-{day:02d}T09:00:00Z",
        source_data={
            "repo_path": "example/parser",
            "git_commits": [{"message": f"feat(parser): {commit}", "hash": f"{day:040x}"}],
            "overview": f"{title}: see [the log](build_log.md) and [a site](https://x.example/).",
        },
    )


def records(cache: Path, kind: str | None = None) -> list[tuple[str, str]]:
    """(kind, key) of every record in the cache's database (of `kind`, when given)."""
    with contextlib.closing(sqlite3.connect(cache / FILE_NAME)) as db:
        rows = db.execute("SELECT kind, key FROM records ORDER BY kind, key").fetchall()
    return [(k, key) for k, key in rows if kind is None or k == kind]


def build(store: Path, fragments: FragmentCache) -> SiteBuild:
    with Store.open(store) as opened:
        return build_site(opened, base_url=BASE, cards=CardCache(None), fragments=fragments)


def test_a_warm_build_after_new_and_revised_sessions_is_the_bytes_of_a_cold_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764900000")
    store, inputs = tmp_path / "s.git", tmp_path / "in"
    first = [
        write_session(inputs, story(f"p-{i}", f"Parser step {i}", f"step {i}", i)) for i in (1, 2)
    ]
    assert ingest(store, [EXAMPLES, *first]).exit_code == 0
    with Store.open(store) as opened:
        cache = opened.paths.site_cache
    warm = FragmentCache(cache)
    write_site(build(store, warm), tmp_path / "warm")
    assert warm.rendered == len(records(cache, FragmentCache.KIND)) > 0  # each text once

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1765000000")
    new = write_session(inputs, story("p-3", "Parser step 3", "step 3", 3))
    assert ingest(store, [new]).exit_code == 0
    revised = write_session(
        inputs, story("p-1", "Parser step one, again", "the first step again", 1)
    )
    assert ingest(store, [revised], revise=True).count("revised") == 1

    again = FragmentCache(cache)
    warm_build = build(store, again)
    cold = FragmentCache(None)
    cold_build = build(store, cold)
    # only what changed was rendered: the new session's texts and the revised one's
    assert again.rendered + again.found == cold.rendered
    assert 0 < again.rendered <= cold.rendered // 2
    assert warm_build.files == cold_build.files
    write_site(warm_build, tmp_path / "warm")
    write_site(cold_build, tmp_path / "cold")
    assert snapshot(tmp_path / "warm") == snapshot(tmp_path / "cold")
    page = (tmp_path / "warm" / "sessions" / "parser-step-1" / "index.html").read_text()
    assert "Parser step one, again" in page and 'href="build_log.html"' in page


def test_a_damaged_cache_is_rendered_again_never_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764900000")
    store = tmp_path / "s.git"
    assert ingest(store, [EXAMPLES]).exit_code == 0
    with Store.open(store) as opened:
        cache = opened.paths.site_cache
    expected = build(store, FragmentCache(cache)).files
    kept = records(cache)  # rendered Markdown, and the records of the build
    assert {kind for kind, _ in kept} >= {FragmentCache.KIND, "post", "page", "session"}
    with contextlib.closing(sqlite3.connect(cache / FILE_NAME)) as db, db:
        for number, (kind, key) in enumerate(kept):  # cut short, not JSON, another shape
            damage = [b'{"html": "<p>', b"\xff\xfe", b'{"html": 1}', b"[]"][number % 4]
            db.execute(
                "UPDATE records SET data = ? WHERE kind = ? AND key = ?", (damage, kind, key)
            )
    damaged = FragmentCache(cache)
    assert build(store, damaged).files == expected
    assert damaged.rendered == len([k for k, _ in kept if k == FragmentCache.KIND])
    assert build(store, FragmentCache(cache)).files == expected  # written again, whole


def test_a_card_drawn_from_the_facts_a_site_keeps_is_the_card_of_all_its_facts(
    corpus_store: Path,
) -> None:
    """A site keeps only what a card reads of each post's facts (`card_facts`), in each
    post's summary as facts.json spells them: the card's context from those is the
    context from the whole."""
    from dataclasses import replace

    from gitflywheel.publishing.cards import card_context, card_facts
    from gitflywheel.publishing.posts import published_posts
    from gitflywheel.publishing.site import _summary_extra
    from gitflywheel.session.facts import Facts

    assert ingest(corpus_store, [EXAMPLES]).exit_code == 0
    with Store.open(corpus_store) as opened:
        posts = published_posts(opened).posts
        charted = 0
        for post in posts:
            assert post.facts is not None
            slim = replace(post, facts=card_facts(post.facts))
            assert card_context(slim, "Site", "1 May") == card_context(post, "Site", "1 May")
            charted += card_context(post, "Site", "1 May")["chart"] is not None
            # what a post's summary keeps of them reads back as the same facts
            kept = _summary_extra(opened, post.tree.encode(), post)["card"]
            assert Facts.from_bytes(kept.encode()) == slim.facts
    assert len({p.session_type for p in posts}) == 3 and charted > 0


def test_a_site_build_leaves_no_staging_folder_beside_its_folder(tmp_path: Path) -> None:
    """Pages go to disk as they are made, in a folder beside OUT that is gone after the
    build, whether it was written or failed."""
    from gitflywheel import site

    store, out = tmp_path / "s.git", tmp_path / "out"
    assert ingest(store, [EXAMPLES]).exit_code == 0
    assert site(store, out, base_url=BASE).files == len(snapshot(out))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "s.git"]
    with Store.open(store) as opened:
        built = build_site(opened, base_url=BASE)
    staged = built.files.folder  # type: ignore[attr-defined]
    assert staged.is_dir() and dict(built.files) == {
        name: (out / name).read_bytes() for name in snapshot(out)
    }
    built.files.close()  # type: ignore[attr-defined]
    assert not staged.exists()


def test_a_build_into_its_last_folder_writes_only_what_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file the folder holds already, byte for byte, is neither staged nor written
    again (the same file, the same inode); the folder ends as a build into a new one."""
    from gitflywheel import site

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764900000")
    store, out, inputs = tmp_path / "s.git", tmp_path / "out", tmp_path / "in"
    assert ingest(store, [EXAMPLES]).exit_code == 0
    site(store, out, base_url=BASE)
    (out / "CNAME").write_text("me.example.org\n")
    before = {p: (out / p).stat().st_ino for p in snapshot(out)}
    assert (
        ingest(store, [write_session(inputs, story("p-9", "Parser step 9", "step 9", 9))]).exit_code
        == 0
    )
    result = site(store, out, base_url=BASE)
    assert 0 < result.written < len(before) // 2
    site(store, tmp_path / "new", base_url=BASE)
    assert snapshot(out) == {**snapshot(tmp_path / "new"), "CNAME": snapshot(out)["CNAME"]}
    same = [p for p, ino in before.items() if (out / p).stat().st_ino == ino]
    assert "style.css" in same and "CNAME" in same and len(same) >= len(before) - result.written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "new", "out", "s.git"]


def test_a_build_that_reused_one_folder_is_written_whole_to_another(tmp_path: Path) -> None:
    """The files a build found in its last folder (not staged) are read from there, by
    their hash, when the build goes to another folder."""
    from gitflywheel import site

    store, out = tmp_path / "s.git", tmp_path / "out"
    assert ingest(store, [EXAMPLES]).exit_code == 0
    site(store, out, base_url=BASE)
    with Store.open(store) as opened:
        built = build_site(opened, base_url=BASE, reuse=out)
    assert len(built.files.kept) == len(built.files)  # type: ignore[attr-defined]
    write_site(built, tmp_path / "other")
    assert snapshot(tmp_path / "other") == snapshot(out)
    (out / "style.css").write_text("changed")  # a kept file changed after the build
    with pytest.raises(FileNotFoundError, match="changed while the site was built"):
        write_site(built, tmp_path / "third")
    assert not (tmp_path / "third").exists()


def test_a_site_build_removes_what_other_versions_kept_and_keeps_its_own(
    tmp_path: Path,
) -> None:
    """Each record names the code that made it: a build that ended well removes those of
    other code (an earlier gitflywheel's, which no key of this one names), keeps its own
    and the state of its folder, and the next build still takes every page it can."""
    from gitflywheel import site
    from gitflywheel.publishing.build_memo import code_tag
    from gitflywheel.publishing.cache_db import CacheDB

    store, out = tmp_path / "s.git", tmp_path / "out"
    assert ingest(store, [EXAMPLES]).exit_code == 0
    site(store, out, base_url=BASE)
    cache = store / "gitflywheel" / "site-cache"
    kept = records(cache)
    older = CacheDB(cache)
    for kind, key in kept:  # what a build of other code made, under keys of its own
        older.put(kind, "older-" + key, b"{}", code="0" * 16)
    older.flush()
    assert len(records(cache)) == 2 * len(kept)
    again = site(store, out, base_url=BASE)
    assert records(cache) == kept and again.written == 0
    assert {"folders", "fragment", "post", "session"} <= {kind for kind, _ in kept}
    assert code_tag() != "0" * 16
