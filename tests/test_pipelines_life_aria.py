"""The life/Aria pipeline: a devlog with the story, attributed conversation highlights
and a screenshot gallery (missing ones left to the record), and a social post within the rules."""

from __future__ import annotations

import json
from typing import Any

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
)

from gitflywheel.artifacts import Screenshot
from gitflywheel.jsontext import loads

SHOTS = (
    Screenshot("screens/title.png", "01-title.png"),
    Screenshot("screens/level1.png", "02-level1.png"),
    Screenshot("screens/gone.png", None),
)


def images(text: str) -> list[str]:
    return [
        child.attrs["src"]
        for token in MD.parse(text)
        if token.type == "inline"
        for child in token.children or []
        if child.type == "image"
    ]


def test_devlog_story_highlights_gallery_and_missing() -> None:
    raw = json.loads((EXAMPLES / "life_aria_session.json").read_text())
    artifacts = render_all(loads(json.dumps(raw)), SHOTS)
    assert set(artifacts) == {"blog_post", "social_post"}
    devlog = artifacts["blog_post"]
    meta = front_matter(devlog)
    assert (meta["title"], meta["author"]) == (raw["title"], "Agent-4")
    assert meta["tags"] == ["devlog", "aria", "agent4"]
    assert raw["overview"] in devlog
    assert images(devlog) == ["screenshots/01-title.png", "screenshots/02-level1.png"]
    assert "gone.png" not in devlog and "missing" not in devlog  # the record keeps it
    assert "> **You** (19:31 UTC): Let's make the ship wrap around the screen edges." in devlog
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
            draw(st.text(min_size=1, max_size=60)), draw(st.none() | st.just(f"{i:02d}.png"))
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
