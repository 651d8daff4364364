"""What a site or a blog export publishes: the posts of a store, drafts left out."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import EXAMPLES, Cli, session

from gitflywheel.publishing.posts import published_posts, split_front_matter
from gitflywheel.storage.store import Store


def test_the_examples_are_posts_newest_first_with_their_files(
    tmp_path: Path, cli: Cli, store: Path
) -> None:
    draft = tmp_path / "draft.json"
    draft.write_text(
        json.dumps(session("empty-1", title="Test Mission", source_data={"git_commits": []}))
    )
    assert cli("ingest", "--repo", store, EXAMPLES, draft).exit_code == 0
    with Store.open(store) as opened:
        found = published_posts(opened)
        assert found.commit == opened.tip().decode()
    assert [p.session_type for p in found.posts] == ["trade", "build", "life_aria"]
    assert found.left_out == {"draft": 1}
    life = found.posts[2]
    assert life.title == "SpaceExplorer: first playable build with Aria"
    assert life.date.isoformat() == "2025-12-03T19:30:00+00:00"
    assert life.slug.startswith("spaceexplorer-first-playable-build-with-aria-")
    assert life.image == "screenshots/01-title.png"
    assert not life.body.startswith("---") and "![title](screenshots/01-title.png)" in life.body
    assert life.files[0].name == "blog_post.md"
    shot = life.file("screenshots/01-title.png")
    assert shot is not None and shot.kind == "screenshot" and shot.is_image
    assert {f.name for f in life.images} >= {"screenshots/01-title.png"}
    assert all(not f.is_image for f in found.posts[1].files if f.name.endswith(".md"))


def test_a_format1_store_says_what_it_left_out(format1_store: Path) -> None:
    with Store.open(format1_store) as opened:
        found = published_posts(opened)
    assert found.posts == []
    assert list(found.left_out) == [
        "made before facts were kept (run `gitflywheel rerender --all`)"
    ]


def test_front_matter_is_split_only_when_it_is_closed() -> None:
    assert split_front_matter("---\ntitle: x\n---\n\nBody\n") == ("title: x\n", "Body\n")
    assert split_front_matter("---\ntitle: x\nBody\n") == ("", "---\ntitle: x\nBody\n")
    assert split_front_matter("Body\n") == ("", "Body\n")
