"""What a site or a blog export publishes: the posts of a store, drafts left out."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES, Cli, git, session

from gitflywheel.publishing.build_memo import BuildMemo
from gitflywheel.publishing.cache_db import FILE_NAME
from gitflywheel.publishing.posts import published_posts, split_front_matter
from gitflywheel.storage.layout import session_dir
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
    assert life.slug == "spaceexplorer-first-playable-build-with-aria"  # no hash letters
    assert life.image == "screenshots/01-title.png"
    cover = f"![Screenshot 1 of {life.title}](screenshots/01-title.png)"  # never `title`
    assert not life.body.startswith("---") and cover in life.body
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


def _edit_facts(store: Path, session_id: str, edit: Callable[[dict[str, Any]], None]) -> None:
    """Change one session's facts.json on main with plain git, as a remote another
    gitflywheel wrote (or someone bypassing it) could have."""
    path = f"{session_dir(session_id)}/facts.json"
    facts = json.loads(git("-C", store, "show", f"main:{path}"))
    edit(facts)
    blob = git("-C", store, "hash-object", "-w", "--stdin", input=json.dumps(facts).encode())
    env = {"GIT_INDEX_FILE": str(store / "hostile.index")}
    git("-C", store, "read-tree", "main", env=env)
    git("-C", store, "update-index", "--cacheinfo", f"100644,{blob.strip()},{path}", env=env)
    tree = git("-C", store, "write-tree", env=env).strip()
    tip = git("-C", store, "rev-parse", "main").strip()
    ident = ["-c", "user.name=Other", "-c", "user.email=other@example.com"]
    commit = git(*ident, "-C", store, "commit-tree", tree, "-p", tip, "-m", "Facts from elsewhere")
    git("-C", store, "update-ref", "refs/heads/main", commit.strip(), tip)


@pytest.mark.parametrize(
    ("front", "reason"),
    [
        ({"date": "not-a-date"}, "front matter: date 'not-a-date': not an ISO 8601 time"),
        ({"date": "2025-12-01T10:00:00"}, "an ISO 8601 time without its zone"),
        ({"date": 20251201}, "int, not an ISO 8601 time"),
        ({"tags": "one"}, "front matter: tags is not a list of texts"),
        ({"title": ["x"]}, "front matter: title is list, not text"),
    ],
)
def test_facts_that_cannot_be_published_leave_the_post_out_and_nothing_crashes(
    tmp_path: Path, cli: Cli, store: Path, front: dict[str, Any], reason: str
) -> None:
    """Facts a synced remote made (another pipeline version, another tool) are checked
    before anything uses them: the post is left out with the reason; the site and the
    blog exports are built from the rest."""
    assert cli("ingest", "--repo", store, EXAMPLES).exit_code == 0
    build_id = json.loads((EXAMPLES / "build_session.json").read_text())["session_id"]

    def edit(facts: dict[str, Any]) -> None:
        facts["pipeline"] = "build/99"
        facts["artifacts"]["blog_post"]["context"]["front"].update(front)

    _edit_facts(store, build_id, edit)
    with Store.open(store) as opened:
        found = published_posts(opened)
    assert [p.session_type for p in found.posts] == ["trade", "life_aria"]
    assert len(found.left_out) == 1 and reason in next(iter(found.left_out))
    done = cli("site", "--repo", store, tmp_path / "site", "--base-url", "https://example.com/")
    assert done.exit_code == 0, done.stderr
    for blog in ("hugo", "jekyll"):
        done = cli("export", "--repo", store, tmp_path / blog, "--format", blog)
        assert done.exit_code == 0, done.stderr


# -- the publish gate (19) --------------------------------------------------------------

COMMITS = [{"hash": f"{i:040x}", "message": f"feat: step {i}"} for i in range(10)]


def write(folder: Path, *sessions: dict[str, object]) -> list[Path]:
    """Each session as a file of `folder`, in the order given (ingest's order)."""
    folder.mkdir(exist_ok=True)
    paths = []
    for number, data in enumerate(sessions):
        path = folder / f"{number:02d}-{data['session_id']}.json"
        path.write_text(json.dumps(data))
        paths.append(path)
    return paths


def posted(store: Path) -> tuple[list[str], dict[str, int]]:
    with Store.open(store) as opened:
        found = published_posts(opened)
    return [p.session_id for p in found.posts], dict(found.left_out)


def twin(session_id: str, timestamp: str, **fields: object) -> dict[str, object]:
    data = session(session_id, timestamp=timestamp, title=f"Work of {session_id}", **fields)
    data["source_data"] = {"repo_path": "example/repo", "git_commits": COMMITS}
    return data


def test_test_placeholders_and_bare_counters_are_left_out(
    tmp_path: Path, cli: Cli, store: Path
) -> None:
    paths = write(
        tmp_path / "in",
        session("real-1", title="Parser rewrite"),
        session("agent-1", agent_id="TestAgent"),
        session("00000000-0000-0000-0000-000000000001"),
        session("task-1", metadata={"task_title": "Test Task"}),
        session(
            "count-1",
            metadata={"commits": 2, "files_changed": 5},
            source_data={"repo_path": "D:/Agent_Cellphone_V2_Repository"},
        ),
    )
    assert cli("ingest", "--repo", store, *paths).exit_code == 0
    assert posted(store) == (["real-1"], {"draft": 4})


def test_a_build_log_without_commits_is_left_out_of_its_post(
    tmp_path: Path, cli: Cli, store: Path
) -> None:
    paths = write(
        tmp_path / "in",
        session("story-1", overview="Designed the interfaces.", source_data={"git_commits": []}),
        session("commits-1", timestamp="2025-12-01T03:30:00Z"),
    )
    assert cli("ingest", "--repo", store, *paths).exit_code == 0
    with Store.open(store) as opened:
        story, commits = published_posts(opened).posts
    assert story.session_id == "story-1" and commits.session_id == "commits-1"
    assert story.file("build_log.md") is None and story.file("readme.md") is not None
    assert commits.file("build_log.md") is not None


def test_of_twins_only_the_earlier_is_published(tmp_path: Path, cli: Cli, store: Path) -> None:
    paths = write(
        tmp_path / "in",
        twin("first", "2026-01-01T23:51:59Z"),
        twin("again", "2026-01-01T23:52:00Z"),  # the same 10 commits under another id
        session("other", title="Other work"),
    )
    assert cli("ingest", "--repo", store, *paths).exit_code == 0
    assert posted(store) == (["first", "other"], {"twin of an earlier session": 1})


def test_a_twin_of_a_draft_is_published(tmp_path: Path, cli: Cli, store: Path) -> None:
    """The earlier twin is a test's placeholder: the later one is the work to show."""
    paths = write(
        tmp_path / "in",
        twin("placeholder", "2026-01-01T23:51:59Z", agent_id="TestAgent"),
        twin("real", "2026-01-01T23:52:00Z"),
    )
    assert cli("ingest", "--repo", store, *paths).exit_code == 0
    assert posted(store) == (["real"], {"draft": 1})


def test_twins_by_their_deliverables_at_the_same_moment(
    tmp_path: Path, cli: Cli, store: Path
) -> None:
    made = ["docs/GUIDE.md", "tools/check.py"]
    paths = write(
        tmp_path / "in",
        session("one", title="Guide", deliverables=made, source_data={"git_commits": []}),
        session("two", title="Guide again", deliverables=made[::-1], source_data={}),
        session(
            "three",
            title="Guide, later",
            timestamp="2025-12-03T03:30:00Z",
            deliverables=made,
            source_data={},
        ),
    )
    assert cli("ingest", "--repo", store, *paths).exit_code == 0
    assert posted(store) == (["three", "one"], {"twin of an earlier session": 1})


def test_the_store_settings_can_add_a_draft_rule(tmp_path: Path, cli: Cli, store: Path) -> None:
    """`publish.drafts`: a session whose agent id, title or id a pattern finds is left
    out of what the store publishes, with the reason; the rest is published."""
    assert cli("ingest", "--repo", store, EXAMPLES).exit_code == 0
    assert cli("config", "--repo", store, "--add", "publish.drafts", "^trader-").exit_code == 0
    with Store.open(store) as opened:
        found = published_posts(opened)
    assert [p.session_type for p in found.posts] == ["build", "life_aria"]
    assert found.left_out == {"a draft by the store's setting publish.drafts (^trader-)": 1}
    out = tmp_path / "hugo"
    assert cli("export", "--repo", store, out, "--format", "hugo").exit_code == 0
    assert not [p for p in out.rglob("*.md") if "trader-kay" in p.read_text()]
    assert cli("config", "--repo", store, "--add", "publish.drafts", "(a+)+").exit_code == 2


def test_posts_read_with_summaries_are_those_read_from_the_store(
    tmp_path: Path, cli: Cli, store: Path
) -> None:
    more = [session(f"many-{n}", title=f"Session number {n}") for n in range(40)]
    for n, work in enumerate(more):
        (tmp_path / f"many-{n}.json").write_text(json.dumps(work))
    assert cli("ingest", "--repo", store, EXAMPLES, *tmp_path.glob("many-*.json")).exit_code == 0
    memo = BuildMemo(tmp_path / "cache")
    with Store.open(store) as opened:
        plain = published_posts(opened)
        first = published_posts(opened, summaries=memo)  # each folder read, then kept
        memo.flush()
        again = published_posts(opened, summaries=BuildMemo(tmp_path / "cache"))
    titles = [p.title for p in plain.posts]
    assert len(titles) == 43 and [p.title for p in first.posts] == titles
    assert [p.title for p in again.posts] == titles
    assert [p.tree for p in again.posts] == [p.tree for p in first.posts]
    # the folders under a fan-out tree are kept by its id: a record that lists
    # anything but tree ids is not taken, the tree is walked again
    with contextlib.closing(sqlite3.connect(tmp_path / "cache" / FILE_NAME)) as db, db:
        kinds = dict(db.execute("SELECT kind, count(*) FROM records GROUP BY kind").fetchall())
        assert kinds["sessions under"] > 1
        db.execute(
            "UPDATE records SET data = ? WHERE kind = 'sessions under'", (b'{"folders": [1]}',)
        )
    with Store.open(store) as opened:
        broken = published_posts(opened, summaries=BuildMemo(tmp_path / "cache"))
    assert [p.title for p in broken.posts] == titles
