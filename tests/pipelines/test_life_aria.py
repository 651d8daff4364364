"""The life/Aria pipeline: a devlog with the story, attributed conversation highlights
and a screenshot gallery (missing ones left to the record), and a social post within the rules."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli, fsck
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pipeline_checks import (
    EXAMPLES,
    MD,
    bodies,
    check_artifacts,
    front_matter,
    opens_with_words,
    plain,
    posts_of,
    render_all,
    tables,
)

from gitflywheel.jsontext import loads
from gitflywheel.session.artifacts import Screenshot
from gitflywheel.session.records import InputErrors, make_record

SHOTS = (
    Screenshot("screens/title.png", "01-title.png"),
    Screenshot("screens/level1.png", "02-level1.png"),
    Screenshot("screens/gone.png", None),
)


def image_tokens(text: str) -> list[Any]:
    return [
        child
        for token in MD.parse(text)
        if token.type == "inline"
        for child in token.children or []
        if child.type == "image"
    ]


def images(text: str) -> list[str]:
    return [child.attrs["src"] for child in image_tokens(text)]


def alts(text: str) -> list[str]:
    return ["".join(c.content for c in child.children or []) for child in image_tokens(text)]


def links(text: str) -> list[str]:
    return [
        child.attrs["href"]
        for token in MD.parse(text)
        if token.type == "inline"
        for child in token.children or []
        if child.type == "link_open"
    ]


def speakers(text: str) -> list[str]:
    """The bold name opening each quoted turn, as markdown-it reads it."""
    tokens = MD.parse(text)
    found = []
    for i, token in enumerate(tokens):
        if token.type == "blockquote_open" and tokens[i + 2].type == "inline":
            children = [c for c in tokens[i + 2].children or [] if c.content or c.nesting]
            if len(children) > 1 and children[0].type == "strong_open":
                found.append(children[1].content)
    return found


def test_devlog_story_highlights_gallery_and_missing() -> None:
    raw = json.loads((EXAMPLES / "life_aria_session.json").read_text())
    artifacts = render_all(loads(json.dumps(raw)), SHOTS)
    assert set(artifacts) == {"blog_post", "social_post"}
    devlog = artifacts["blog_post"]
    meta = front_matter(devlog)
    assert (meta["title"], meta["author"]) == (raw["title"], "Agent-4")
    assert meta["tags"] == ["devlog", "aria"]  # an agent is a tag only when settings ask
    assert raw["overview"] in devlog
    assert images(devlog) == ["screenshots/01-title.png", "screenshots/02-level1.png"]
    # no caption is made from a file's name: the session's title stands in
    assert alts(devlog) == [f"Screenshot 1 of {raw['title']}", f"Screenshot 2 of {raw['title']}"]
    stems = {Path(s.source).stem for s in SHOTS} | {Path(s.stored or "").stem for s in SHOTS}
    assert not stems & {a.casefold() for a in alts(devlog)}
    assert "gone.png" not in devlog and "missing" not in devlog  # the record keeps it
    assert "> **Agent-4** (19:31 UTC): Let's make the ship wrap around the screen edges." in devlog
    assert "> **Aria** (19:40 UTC): Done: positions now wrap modulo the canvas size." in devlog
    assert "**Ship early**: A playable loop beats a perfect menu." in devlog
    check_artifacts(artifacts)
    assert render_all(loads(json.dumps(raw)), SHOTS) == artifacts  # deterministic


def test_overview_derived_and_odd_deliverables_shown_or_skipped() -> None:
    raw = json.loads((EXAMPLES / "life_aria_session.json").read_text())
    del raw["overview"], raw["title"]
    raw["deliverables"] = ["game.html", {"file": "ship.js", "type": "code"}, 5, None, {"x": 1}]
    raw["source_data"]["conversations"][1]["timestamp"] = "2025-12-03T21:40:00+02:00"
    devlog = render_all(loads(json.dumps(raw)), SHOTS)["blog_post"]
    assert front_matter(devlog)["title"] == "Making things with Aria, December 3, 2025"
    assert (
        "Agent-4 spent 1 h 30 min with Aria: 2 turns of conversation and 3 screenshots." in devlog
    )
    assert "- game.html\n- ship.js (code)\n" in devlog
    assert "> **Aria** (19:40 UTC)" in devlog  # converted to UTC


def test_session_text_stays_literal() -> None:
    raw = json.loads((EXAMPLES / "life_aria_session.json").read_text())
    raw["title"] = "{{ 7*7 }}"
    raw["source_data"]["conversations"][1]["content"] = "{% for x in [1] %}{{ 7*7 }}{% endfor %}"
    artifacts = render_all(loads(json.dumps(raw)), SHOTS)
    for kind, text in artifacts.items():
        literal = "{{ 7*7 }}" if kind == "social_post" else "{{ 7\\*7 }}"  # plain text there
        assert literal in text and "49" not in text


@st.composite
def life_sessions(draw: st.DrawFn) -> tuple[dict[str, Any], tuple[Screenshot, ...]]:
    turns = [
        {
            "source": draw(st.sampled_from(["aria", "user", "Aria", "coach"])),
            "content": draw(st.text(max_size=900)),
        }
        for _ in range(draw(st.integers(0, 12)))
    ]
    shots = tuple(
        Screenshot(
            draw(st.text(min_size=1, max_size=60)),
            draw(st.none() | st.just(f"{i:02d}.png")),
            draw(st.none() | st.text(max_size=80)),
        )
        for i in range(draw(st.integers(0, 4)))
    )
    data = {
        "session_id": f"l-{draw(st.integers(0, 10**9))}",
        "session_type": "life_aria",
        "timestamp": "2025-12-03T19:30:00Z",
        "agent_id": draw(st.sampled_from(["Agent-4", "kay", "Ω"])),
        "title": draw(st.none() | st.text(min_size=1, max_size=200)),
        "overview": draw(st.none() | st.text(max_size=800)),
        "lessons": [
            {
                "title": draw(st.text(min_size=1, max_size=80)),
                "description": draw(st.text(max_size=300)),
            }
            for _ in range(draw(st.integers(0, 3)))
        ],
        "source_data": {"conversations": turns, "screenshots": [s.source for s in shots]},
    }
    return data, shots


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(life_sessions())
def test_generated_life_sessions(case: tuple[dict[str, Any], tuple[Screenshot, ...]]) -> None:
    data, shots = case
    artifacts = render_all(data, shots)
    check_artifacts(artifacts)
    devlog = artifacts["blog_post"]
    stored = [s for s in shots if s.stored]
    assert [i for i in images(devlog) if i.startswith("screenshots/")] == [
        f"screenshots/{s.stored}" for s in stored
    ]
    lines = [plain(line) for line in devlog.splitlines()]
    assert not any(line.startswith("- missing:") for line in lines)
    assert "You" not in speakers(devlog)
    meta = front_matter(devlog)
    joined = " ".join(bodies(posts_of(artifacts["social_post"])))
    assert opens_with_words(joined, meta["title"]) if not meta["draft"] else joined == ""
    if stored:
        assert meta["image"] == f"screenshots/{stored[0].stored}"
        assert not meta["draft"]


def test_text_opening_an_html_block_cannot_swallow_the_gallery() -> None:
    raw = json.loads((EXAMPLES / "life_aria_session.json").read_text())
    raw["overview"] = "<?php the rest would be raw HTML"
    raw["problem"] = "<!-- never closed"
    devlog = render_all(loads(json.dumps(raw)), SHOTS)["blog_post"]
    assert images(devlog) == ["screenshots/01-title.png", "screenshots/02-level1.png"]
    # no caption is made from a file's name: the session's title stands in
    assert alts(devlog) == [f"Screenshot 1 of {raw['title']}", f"Screenshot 2 of {raw['title']}"]
    stems = {Path(s.source).stem for s in SHOTS} | {Path(s.stored or "").stem for s in SHOTS}
    assert not stems & {a.casefold() for a in alts(devlog)}


def turns(*contents: str) -> list[dict[str, str]]:
    return [
        {
            "source": "user" if i % 2 == 0 else "aria",
            "content": c,
            "timestamp": f"2025-12-03T19:{i:02d}:00Z",
        }
        for i, c in enumerate(contents)
    ]


def test_speakers_are_named_never_you() -> None:
    raw = json.loads((EXAMPLES / "life_aria_session.json").read_text())
    raw["source_data"]["conversations"] = [
        {"source": "user", "content": "Make the ship faster."},
        {"source": "ARIA", "content": "Speed doubled."},
        {"source": "code reviewer", "content": "Looks right to me."},
        {"source": "Human", "content": "Ship it."},
    ]
    artifacts = render_all(loads(json.dumps(raw)), SHOTS)
    devlog = artifacts["blog_post"]
    assert speakers(devlog) == ["Agent-4", "Aria", "Code Reviewer", "Agent-4"]
    assert "**You**" not in devlog
    check_artifacts(artifacts)


def test_highlights_are_chosen_for_content_in_time_order() -> None:
    raw = json.loads((EXAMPLES / "life_aria_session.json").read_text())
    filler = ["ok", "thanks", "sure", "yes", "hmm", "right", "cool", "fine"]
    code = "Wrap with `x = x % width` in update(), so the ship reappears on the left."
    long = "We decided to keep the physics simple because " + "the loop must stay fast " * 6
    raw["source_data"]["conversations"] = turns(
        *filler[:3], code, *filler[3:5], long, *filler[5:], "Next we add asteroids and a score."
    ) + turns(*(f"Detail {i}: the ship, the stars and the menu all work now." for i in range(5)))
    devlog = render_all(loads(json.dumps(raw)), SHOTS)["blog_post"]
    quoted = [t.content for t in MD.parse(devlog) if t.type == "inline" and "UTC)" in t.content]
    assert len(quoted) == 8
    assert any("x % width" in q for q in quoted) and any("physics simple" in q for q in quoted)
    assert not any(q.endswith(": ok") or q.endswith(": thanks") for q in quoted)
    assert quoted.index(next(q for q in quoted if "x % width" in q)) < quoted.index(
        next(q for q in quoted if "physics simple" in q)
    )  # in the order said, not by weight


CAPTIONED = (
    Screenshot("screens/title.png", "01-title.png", "The title screen"),
    Screenshot("screens/level-1_big.png", "02-level-1_big.png"),
    Screenshot("https://example.com/shots/boss.png", None, "The boss"),
    Screenshot("screens/gone.png", None, "Never stored"),
    Screenshot("screens/menu.png", "05-menu.png", "Menu [draft] | v2"),
)


def test_cover_then_grid_with_captions_as_alt_texts_and_urls_linked() -> None:
    raw = json.loads((EXAMPLES / "life_aria_session.json").read_text())
    artifacts = render_all(loads(json.dumps(raw)), CAPTIONED)
    devlog = artifacts["blog_post"]
    assert images(devlog) == [
        "screenshots/01-title.png",
        "screenshots/02-level-1_big.png",
        "screenshots/05-menu.png",
    ]
    title = front_matter(devlog)["title"]
    assert alts(devlog) == ["The title screen", f"Screenshot 2 of {title}", "Menu [draft] | v2"]
    assert front_matter(devlog)["image"] == "screenshots/01-title.png"
    cover = devlog.index("screenshots/01-title.png")
    assert cover < devlog.index("## From the conversation") < devlog.index("## Screenshots")
    grid = tables(devlog)
    # a caption shows under its image only when the session gave it: one made of the
    # title would say the title again
    assert len(grid) == 1 and grid[0][1] == ["", "Menu [draft] | v2"]
    assert title not in plain(devlog.split("---\n", 2)[2])  # an alt text is not shown text
    assert links(devlog) == ["https://example.com/shots/boss.png"]
    assert "Never stored" not in devlog and "gone.png" not in devlog and "missing" not in devlog
    check_artifacts(artifacts)


def test_gallery_rows_hold_three() -> None:
    raw = json.loads((EXAMPLES / "life_aria_session.json").read_text())
    shots = tuple(Screenshot(f"s/{i}.png", f"{i:02d}-{i}.png") for i in range(1, 7))
    devlog = render_all(loads(json.dumps(raw)), shots)["blog_post"]
    assert images(devlog) == [f"screenshots/{i:02d}-{i}.png" for i in range(1, 7)]
    assert [len(t[0]) for t in tables(devlog)] == [3, 3]
    assert [len(t) for t in tables(devlog)] == [1, 1]  # no caption row: none was given
    assert alts(devlog)[5] == f"Screenshot 6 of {raw['title']}"


def test_screenshot_objects_and_strings_are_read() -> None:
    raw = json.loads((EXAMPLES / "life_aria_session.json").read_text())
    raw["source_data"]["screenshots"] = [
        "a.png",
        {"path": "b.png", "caption": "Bee"},
        {"path": "c.png", "taken": "later"},
    ]
    source = make_record("test", raw).session.source_data
    assert [(r.path, r.caption) for r in source.screenshot_refs()] == [
        ("a.png", None),
        ("b.png", "Bee"),
        ("c.png", None),
    ]
    for bad in ({"caption": "no path"}, {"path": 5}, {"path": "d.png", "caption": ["x"]}, 7):
        raw["source_data"]["screenshots"] = [bad]
        with pytest.raises(InputErrors) as caught:
            make_record("test", raw)
        assert [str(e) for e in caught.value.problems] == [
            "test: source_data.screenshots: "
            + (
                "[0].caption must be a string"
                if isinstance(bad, dict) and "caption" in bad and "path" in bad
                else "[0] must be a path (a string) or an object with a string path"
            )
        ]


def test_ingested_and_exported_devlog_images_resolve_beside_it(cli: Cli, tmp_path: Path) -> None:
    """End to end: real PNG files named as objects with captions, ingested and exported;
    every image of the devlog is a file relative to the devlog's own folder."""
    work = tmp_path / "work"
    shutil.copytree(EXAMPLES / "screens", work / "shots")
    raw = json.loads((EXAMPLES / "life_aria_session.json").read_text())
    raw["source_data"]["screenshots"] = [
        {"path": "shots/title.png", "caption": "Title screen, before the first run"},
        "shots/level1.png",
        {"path": str(work / "shots" / "level1.png"), "caption": "Level one, again"},
        {"path": "https://example.com/boss.png", "caption": "The boss"},
        {"path": "shots/gone.png", "caption": "Lost on the way"},
    ]
    (work / "aria.json").write_text(json.dumps(raw))
    store, out = tmp_path / "s.git", tmp_path / "out"
    assert cli("ingest", "--repo", store, work / "aria.json").exit_code == 0
    assert cli("verify", "--repo", store).exit_code == 0
    fsck(store)
    assert cli("export", "--repo", store, out).exit_code == 0
    (devlog_path,) = out.glob("sessions/*/*/*/*/*/blog_post.md")
    devlog = devlog_path.read_text()
    assert len(images(devlog)) == 3
    for src in images(devlog):
        assert (devlog_path.parent / src).is_file(), src
    assert (devlog_path.parent / images(devlog)[0]).read_bytes() == (
        EXAMPLES / "screens" / "title.png"
    ).read_bytes()
    assert alts(devlog) == [
        "Title screen, before the first run",
        f"Screenshot 2 of {front_matter(devlog)['title']}",  # never `level1`, its file's name
        "Level one, again",
    ]
    assert front_matter(devlog)["image"] == images(devlog)[0]
    assert links(devlog) == ["https://example.com/boss.png"]
    assert speakers(devlog) == ["Agent-4", "Aria"] and "You" not in devlog
    assert "Lost on the way" not in devlog and "gone.png" not in devlog
    manifest = json.loads((devlog_path.parent / "manifest.json").read_text())
    assert [(s["source"], s["status"], s.get("caption")) for s in manifest["screenshots"]] == [
        ("shots/title.png", "stored", "Title screen, before the first run"),
        ("shots/level1.png", "stored", None),
        ("level1.png", "stored", "Level one, again"),  # a local path: its file's name
        ("https://example.com/boss.png", "missing", "The boss"),
        ("shots/gone.png", "missing", "Lost on the way"),
    ]
    assert cli("rerender", "--repo", store, "--all").exit_code == 0  # renders the same again
    assert cli("log", "--repo", store).stdout.count("\n") == 2  # no re-render commit
