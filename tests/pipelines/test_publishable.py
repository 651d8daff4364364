"""Artifacts a person can publish as they are: no local path or temporary folder, no
"unknown", front matter blogs read, unique slugs, drafts for sessions with nothing to say,
implausible durations kept to the record."""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pipeline_checks import (
    CORPUS,
    EXAMPLES,
    LIMIT,
    body,
    check_front_matter,
    check_svg,
    corpus_files,
    front_matter,
    posts_of,
    render_all,
    seen_texts,
)

from gitflywheel.jsontext import loads
from gitflywheel.pipelines.life_aria import speaker
from gitflywheel.session import public_text as public
from gitflywheel.session.artifacts import Screenshot
from gitflywheel.session.public_text import public_id, public_repo, scrub
from gitflywheel.session.records import make_record

# A drive letter starts a word and its backslash starts no YAML or Markdown escape: in
# front matter, "\x3c:\x1f" and "A:\x1b" are escaped characters, in Markdown `A:\[` and
# `Q:\*` are `A:[` and `Q:*`, not `C:\` (a real path's backslash is written `\\` in both).
# What a reader sees, escapes resolved, is checked as well (`SEEN_PRIVATE`).
PRIVATE = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]:\\(?!x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8}|[!-/:-@\[\]^_`{-~])"
    r"|/home/|/Users/|/tmp/|AppData|tmp[a-z0-9_]{6,}",
    re.I,
)
SEEN_PRIVATE = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]:\\|/home/|/Users/|/tmp/|AppData|tmp[a-z0-9_]{6,}", re.I
)
RICH_IDS = {  # the corpus build sessions of real work: a story, deliverables, a conversation
    "a5-2025-12-02-guardrail-impl",
    "12c9458e-892f-49a9-889d-74538fa37234",
    "7670d1d3-bf6e-40c1-b382-43e13f968ff6",
    "a2-phase2-arch-2025-12-02",
}
PLACEHOLDER_IDS = {  # test placeholders with commits, trades or counters: drafts all the same
    "00000000-0000-0000-0000-000000000001",  # an all-zero id, bare counters
    "00000000-0000-0000-0000-000000000002",  # the trade example under an all-zero id
    "a57c6a6e-efc2-4822-bbbb-971bb9a05b7a",  # agent TestAgent
    "21f90784-6764-4c30-99db-7f631a525695",  # title Test Task
}
SHOTS = (
    Screenshot("C:\\Users\\me\\Pictures\\title.png", "01-title.png"),
    Screenshot("/home/kay/shots/gone.png", None),
)


def sessions() -> list[tuple[str, dict[str, Any]]]:
    files = corpus_files() + sorted(EXAMPLES.glob("*.json"))
    return [(p.name, loads(p.read_text(encoding="utf-8"))) for p in files]


def check_public(artifacts: dict[str, str]) -> None:
    """What every public artifact holds to, whatever the session."""
    for kind, text in artifacts.items():
        found = PRIVATE.search(text)
        assert not found, (kind, found.group(0), text[max(0, found.start() - 80) : found.end()])
        for seen in seen_texts(kind, text):
            found = SEEN_PRIVATE.search(seen)
            assert not found, (kind, found.group(0), seen[max(0, found.start() - 80) :])
        assert not re.search(r"\bunknown\b", body(text), re.I), (kind, text)
        assert "missing:" not in text and "Note:" not in text, kind
        if text.startswith("<svg"):  # a chart: SVG, titled after the post it sits beside
            title = front_matter(artifacts["blog_post"])["title"]
            check_svg(
                text,
                f"{'Commit activity' if kind == 'activity_chart' else 'Equity curve'}: {title}",
            )
            continue
        meta = front_matter(text)
        check_front_matter(meta)
        posts = posts_of(text) if kind == "social_post" else []
        assert all(0 < len(p) <= LIMIT for p in posts), posts
        if meta["draft"] and kind == "social_post":
            assert posts == []


def test_a_markdown_escape_after_a_drive_letter_is_no_path() -> None:
    """`A:[` is written `A:\\[` in Markdown: a reader sees `A:[`, no drive; a real `A:\\`
    is written `A:\\\\`, and is never there (see `scrub`)."""
    data = {
        "session_id": "s-1",
        "session_type": "trade",
        "timestamp": "2025-12-02T03:00:00Z",
        "agent_id": "kay",
        "title": "Q:* and R:_",
        "what_worked": "/tmp/tmpabcdef12 A:[",
        "next_steps": ["A:\\ then C:\\Users\\kay\\plan.md"],
    }
    artifacts = render_all(data)
    assert "**What worked:** a local folder A:\\[" in artifacts["trade_journal"]
    assert "- a local folder then plan.md" in artifacts["trade_journal"]
    check_public(artifacts)


@pytest.mark.parametrize(
    "name,data", sessions(), ids=lambda v: v[:30] if isinstance(v, str) else ""
)
def test_every_artifact_is_publishable(name: str, data: dict[str, Any]) -> None:
    shots = SHOTS if data["session_type"] == "life_aria" else ()
    check_public(render_all(data, shots, charts=True))


def test_test_runs_are_drafts_and_rich_sessions_are_not() -> None:
    drafts, published = set(), set()
    for name, data in sessions():
        artifacts = render_all(data)
        flags = {front_matter(t)["draft"] for k, t in artifacts.items() if k != "build_log"}
        assert len(flags) == 1, name  # every artifact of a session agrees, but a build log
        draft = flags.pop()
        if "build_log" in artifacts:  # a draft of its own when it lists no commit
            listed = bool(data.get("source_data", {}).get("git_commits"))
            assert front_matter(artifacts["build_log"])["draft"] is (draft or not listed), name
        (drafts if draft else published).add(data["session_id"])
    tests = {
        json.loads(p.read_text())["session_id"]
        for p in corpus_files()
        if json.loads(p.read_text()).get("metadata", {}).get("current_mission") == "Test Mission"
    }
    assert len(tests) == 46
    assert drafts == tests | PLACEHOLDER_IDS
    assert published >= RICH_IDS
    examples = {loads(p.read_text())["session_id"] for p in EXAMPLES.glob("*.json")}
    assert examples <= published


def test_slugs_unique_over_the_corpus_store(tmp_path: Path) -> None:
    """A store of the corpus gives each session an address of its own, fixed at its first
    record: the title's slug, with the session's day after it only where an earlier
    session took that slug (no hash letters); every kind's slug follows it."""
    from gitflywheel import ingest, ls, show

    for number, path in enumerate(corpus_files() + sorted(EXAMPLES.glob("*.json"))):
        (tmp_path / f"{number:03d}-{path.name}").write_bytes(path.read_bytes())
    report = ingest(tmp_path / "s.git", [tmp_path], revise=True)
    assert report.exit_code == 0, report
    slugs: dict[str, str] = {}
    for row in ls(tmp_path / "s.git"):
        fronts = [
            front_matter(show(tmp_path / "s.git", row.session_id, kind).decode())
            for kind in row.artifacts
            if not kind.endswith(("chart", "curve"))
        ]
        slugs[row.session_id] = post = min((f["slug"] for f in fronts), key=len)
        assert all(f["slug"].startswith(post) for f in fronts)
        assert not re.search(r"-[a-p]{6}(?:-|$)", slugs[row.session_id])  # no hash letters
    assert len(set(slugs.values())) == len(slugs)
    dated = [s for s in slugs.values() if re.search(r"-\d{4}-\d{2}-\d{2}$", s)]
    assert all(s[:-11] in slugs.values() for s in dated)  # beside the one that took it


def test_placeholder_titles_become_headlines() -> None:
    path = CORPUS / "dfd4700e_21f90784-6764-4c30-99db-7f631a525695_build.json"
    data = loads(path.read_text())
    assert data["metadata"]["task_title"] == "Test Task"
    meta = front_matter(render_all(data)["blog_post"])
    assert meta["title"] == "Add FastAPI deployment status checker utility, and 9 more commits"
    # the title's words, at most 60 characters, and no hash letters
    assert meta["slug"] == "add-fastapi-deployment-status-checker-utility-and-9-more"
    assert meta["draft"]  # a test's title: its commits are no post of their own


def test_a_test_run_before_and_after() -> None:
    path = CORPUS / "00ba833d_633cb6a5-70c4-44cd-b00d-299845fa2095_build.json"
    data = loads(path.read_text())
    artifacts = render_all(data)
    meta = front_matter(artifacts["blog_post"])
    assert meta["draft"] is True and meta["categories"] == ["build"]
    assert meta["tags"] == ["build", "devlog"]  # no repository in a temporary folder
    assert not any("tmp" in t for t in meta["tags"])
    assert "232 h" not in "".join(artifacts.values())  # more than a day: not a fact
    warnings = make_record("x", data).warnings
    assert any("duration_minutes: 13973 minutes is more than a day" in w for w in warnings)


def test_durations_far_from_the_commit_span_are_left_out() -> None:
    data = json.loads((EXAMPLES / "build_session.json").read_text())
    data["metadata"]["duration_minutes"] = 5  # the commits span hours
    artifacts = render_all(loads(json.dumps(data)))
    assert "5 min" not in artifacts["readme"] and "5 min" not in artifacts["blog_post"]
    assert any("far shorter" in w for w in make_record("x", data).warnings)


def test_one_voice_per_post() -> None:
    for _, data in sessions():
        for kind, text in render_all(data).items():
            assert not re.search(r"^#+ .*\b(I|we|my|our)\b", text, re.M | re.I), (kind, text)


@pytest.mark.parametrize(
    "path,name",
    [
        ("C:\\Users\\USER\\AppData\\Local\\Temp\\tmpqy_b7jky", None),
        ("/tmp/pytest-of-kay/pytest-3/repo0", None),
        ("D:/Agent_Cellphone_V2_Repository", "Agent_Cellphone_V2_Repository"),
        ("D:\\work\\flywheel\\", "flywheel"),
        ("/home/kay/src/gitflywheel", "gitflywheel"),
        ("github.com/example/agent-cellphone", "example/agent-cellphone"),
        ("https://user:pw@github.com/o/r.git", "o/r"),
        ("git@github.com:o/r.git", "o/r"),
        ("remote", "remote"),
        ("", None),
        ("C:\\", None),
        ("C\u202e:\\", None),
        ("D:\\Users\\kay\\fly\u200bwheel", "fly\u200bwheel"),
    ],
)
def test_public_repository_names(path: str, name: str | None) -> None:
    assert public_repo(path) == name


def test_scrub_keeps_names_and_drops_places() -> None:
    assert scrub("see C:\\Users\\me\\Pictures\\ship.png.") == "see ship.png."
    assert scrub("in /home/kay/src/app, then") == "in app, then"
    assert scrub("ran in /tmp/tmpab12cd34/x") == "ran in a local folder"
    assert scrub("#tmpqyb7jky and ~ and a/b/c") == "#a local folder and ~ and a/b/c"
    assert public_id("a5-2025-12-02-guardrail-impl") == "a5-2025-12-02-guardrail-impl"
    assert public_id("633cb6a5-70c4-44cd") == "633cb6a5"


# Characters a reader does not see: bidi controls (which publishing drops), zero widths,
# the soft hyphen, a byte order mark.
INVISIBLE = ["\u202e", "\u2066", "\u200b", "\u00ad", "\ufeff"]


@pytest.mark.parametrize("mark", INVISIBLE, ids=lambda m: f"U+{ord(m):04X}")
def test_scrub_finds_a_path_behind_invisible_characters(mark: str) -> None:
    assert scrub(f"A:{mark}\\") == "a local folder"
    assert scrub(f"see C:{mark}\\Users\\kay\\notes.txt.") == "see notes.txt."
    assert scrub(f"in /ho{mark}me/kay/app, then") == "in app, then"
    assert scrub(f"ran in tmp{mark}ab12cd34") == "ran in a local folder"
    # the rest of the text keeps them: a right-to-left word, an emoji's joiner
    assert scrub(f"a {mark}word{mark} and D:{mark}/proj/a.txt") == f"a {mark}word{mark} and a.txt"
    assert (
        scrub("\U0001f469\u200d\U0001f4bb Z:\u200b/") == "\U0001f469\u200d\U0001f4bb a local folder"
    )
    assert scrub(f"{mark}A:[ and C:\\x{mark}y") == f"{mark}A:[ and x{mark}y"  # nothing hidden


def test_a_speaker_named_by_a_path_is_named_by_its_last_part() -> None:
    """Title-casing would hide the path from `scrub` (`/Home/Kay`): it goes first."""
    assert speaker("/home/kay/notes", "kay") == "Notes"
    assert speaker("/tmp/tmpab12cd34/x", "kay") == "A Local Folder"
    assert speaker("code reviewer", "kay") == "Code Reviewer"
    assert speaker("~/", "kay") == "~/"  # scrubbed as it is, later, as before


def test_every_format_character_is_seen_through() -> None:
    """Every Unicode format character (Cf) this Python knows hides nothing."""
    marks = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"]
    assert len(marks) > 150 and "\u202e" in marks and "\u200b" in marks
    assert [m for m in marks if scrub(f"A:{m}\\") != "a local folder"] == []


def hidden(path: str, mark: str, at: int) -> str:
    """`path` with an invisible character inside it, after its `at`-th character."""
    at = 1 + at % (len(path) - 1)
    return path[:at] + mark + path[at:]


def seeded_session(kind: str, place: str) -> dict[str, Any]:
    """A session of `kind` with `place` in every free-text field its artifacts show."""
    told = f"ran it from {place}, twice"
    data: dict[str, Any] = {
        "session_id": f"s-{kind}",
        "session_type": kind,
        "timestamp": "2025-12-02T03:00:00Z",
        "agent_id": "kay",
        "metadata": {"duration_minutes": 30},
        "source_data": {"repo_path": "github.com/o/r", "screenshots": []},
        "charts": [{"url": "https://example.org/c.png", "caption": told}],
        "deliverables": [told],
        "lessons": [{"title": place, "description": told}],
        "market_analysis": told,
        "next_goals": [told],
    }
    for field in ("title", "overview", "problem", "solution", "what_worked", "what_didnt_work"):
        data[field] = told
    for field in ("next_steps", "key_achievements"):
        data[field] = [told, place]
    source = data["source_data"]
    source["conversations"] = [
        {"source": place, "content": told},
        {"source": "aria", "content": place},
    ]
    if kind == "build":
        source["git_commits"] = [
            {"message": told, "author": place, "files": [place], "timestamp": f"{t}Z"}
            for t in ("2025-12-02T03:00:00", "2025-12-02T03:20:00")
        ]
    if kind == "trade":
        source["market_conditions"] = {"trend": told, "note": place}
        source["trades"] = [
            {
                "symbol": s,
                "action": "buy",
                "quantity": 1,
                "price": 10,
                "exit_price": p,
                "timestamp": f"2025-12-02T03:{m}:00Z",
            }
            for s, p, m in (("AAPL", 12, "00"), ("MSFT", 9, "10"))
        ]
    return data


@pytest.mark.parametrize("kind", ["build", "trade", "life_aria"])
@pytest.mark.parametrize(
    "place",
    [
        hidden(p, m, n)
        for p in ("A:\\", "C:\\Users\\kay\\notes.txt")
        for m in INVISIBLE
        for n in (0, 2)
    ]
    + ["/home/kay/notes", "/tmp/tmpab12cd34/x", "Z:/", "tmp\u200bab12cd34"],
)
def test_no_field_shows_a_hidden_path(kind: str, place: str) -> None:
    check_public(render_all(seeded_session(kind, place), charts=True))


places = st.sampled_from(
    [
        "C:\\Users\\USER\\AppData\\Local\\Temp\\tmpqy_b7jky",
        "/home/kay/work/app",
        "/Users/kay/app",
        "/tmp/tmpabcdef12",
        "D:/work/repo",
        "A:\\",
        "github.com/o/r",
    ]
)
paths = places | st.builds(hidden, places, st.sampled_from(INVISIBLE), st.integers(0, 40))
text = st.text(max_size=60)


@st.composite
def hostile_sessions(draw: st.DrawFn) -> dict[str, Any]:
    """Sessions of every type whose text is seeded with local paths and temp names."""
    kind = draw(st.sampled_from(["build", "trade", "life_aria"]))

    def seeded() -> str:
        return draw(text) + " " + draw(paths) + " " + draw(text)

    data: dict[str, Any] = {
        "session_id": f"s-{draw(st.integers(0, 10**9))}",
        "session_type": kind,
        "timestamp": "2025-12-02T03:00:00Z",
        "agent_id": draw(st.sampled_from(["Agent-1", "kay"])),
        "title": draw(st.none() | st.sampled_from(["Test Mission", ""]) | st.builds(seeded)),
        "overview": draw(st.none() | st.builds(seeded)),
        "next_steps": draw(st.lists(st.builds(seeded), max_size=2)),
        "metadata": {"duration_minutes": draw(st.integers(0, 20000))},
        "source_data": {"repo_path": draw(paths)},
    }
    if kind == "build":
        data["source_data"]["git_commits"] = [
            {"message": seeded(), "files": [draw(paths) + "/a.py"], "author": seeded()}
            for _ in range(draw(st.integers(0, 3)))
        ]
    if kind == "trade":
        data["what_worked"] = draw(st.none() | st.builds(seeded))
    if kind == "life_aria":
        data["source_data"]["conversations"] = [
            {"source": "aria", "content": seeded()} for _ in range(draw(st.integers(0, 2)))
        ]
    return data


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_sessions())
@pytest.mark.slow
def test_generated_sessions_publish_no_private_text(data: dict[str, Any]) -> None:
    artifacts = render_all(data, SHOTS if data["session_type"] == "life_aria" else ())
    check_public(artifacts)
    minutes = data["metadata"]["duration_minutes"]
    if minutes > 24 * 60:
        h, m = divmod(minutes, 60)
        assert all(f"{h} h" not in body(t) for t in artifacts.values())


_PATHISH = st.lists(
    st.sampled_from(
        list("/\\:~.-_ aAcCkKpPmMtTxyz019")
        + ["home", "Users", "tmp", "TMP", "Tmp", "tEmP"]
        + ["\u202e", "\u200b", "\u00ad", "\ufeff", "ſ", "İ", "K", "é", "\n", '"']
    ),
    max_size=30,
).map("".join)


@given(_PATHISH | st.text(max_size=30))
def test_scrub_skips_only_what_cannot_match(text: str) -> None:
    # the quick checks of _scrub (no '/' or '\\', no 'tmp' in any case, ASCII) skip only
    # substitutions that would find nothing
    reference = public._TEMP_WORD.sub(
        "a local folder", public.LOCAL_PATH.sub(public._replace_path, text)
    )
    assert public._scrub(text) == reference
