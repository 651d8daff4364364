"""A changelog per project (20): the site's project page gathers the changes of every
published build session of one project, newest first, by month, in Keep a Changelog's
sections, with its own Atom feed (validated against RFC 4287's schema and read with
feedparser, as the site's other feeds are)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import quote

import feedparser
import pytest
from conftest import CORPUS, EXAMPLES, session
from lxml import etree

from gitflywheel import ingest, site

ATOM_RNG = Path(__file__).resolve().parents[1] / "data" / "atom" / "rfc4287.rng"
BASE = "https://me.example.org/flywheel/"
# The corpus session of a team's ten commits (`agent-4:`, `feat:`, `docs:` prefixes); its
# placeholder title ("Test Task") made it a draft, so it is published here without it.
TEAM = CORPUS / "dfd4700e_21f90784-6764-4c30-99db-7f631a525695_build.json"


def commit(n: int, message: str, when: str) -> dict[str, object]:
    return {"hash": f"{n:040x}", "message": message, "timestamp": when, "files": ["a.py"]}


@pytest.fixture(scope="module")
def project_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The examples and the corpus, the team's session published, a later session of
    the same project (another spelling of its repository) with a breaking change and a
    scoped feature, and a session of another project."""
    inputs = tmp_path_factory.mktemp("inputs")
    team = json.loads(TEAM.read_text())
    team["metadata"].pop("task_title")
    team["session_id"] = "team-1"
    later = session(
        "later-1",
        title="Calls route through the new API",
        timestamp="2026-02-03T10:00:00Z",
        source_data={
            "repo_path": "github.com/me/AgentCellphoneV3",
            "git_commits": [
                commit(1, "feat(api): route calls", "2026-02-03T09:00:00Z"),
                commit(2, "fix!: drop the old call table", "2026-02-03T09:30:00Z"),
                commit(3, "chore: tidy", "2026-02-03T09:40:00Z"),
            ],
        },
    )
    other = session(
        "other-1",
        title="Parser works",
        timestamp="2026-02-04T10:00:00Z",
        source_data={
            "repo_path": "parser-works",
            "git_commits": [commit(4, "feat: parse dates", "2026-02-04T09:00:00Z")],
        },
    )
    for data in (team, later, other):
        (inputs / f"{data['session_id']}.json").write_text(json.dumps(data))
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1764633600")
    store = tmp_path_factory.mktemp("store") / "store.git"
    assert ingest(store, [EXAMPLES, CORPUS, inputs]).exit_code == 0
    out = tmp_path_factory.mktemp("site") / "out"
    result = site(store, out, base_url=BASE)
    assert result.feeds == 1 + 3 + 2  # the site's, one per type, one per project
    return out


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()


def sections(page: str) -> list[tuple[str, list[tuple[str, list[str]]]]]:
    """Each month's heading, and its sections' headings and items as text."""
    months = []
    for part in re.split(r"<h2>", page)[1:]:
        title, _, rest = part.partition("</h2>")
        found = []
        for chunk in re.split(r"<h3>", rest)[1:]:
            heading, _, items = chunk.partition("</h3>")
            found.append((heading, [text_of(li) for li in re.findall(r"<li>(.*?)</li>", items)]))
        months.append((title, found))
    return months


def test_the_project_page_is_a_cumulative_changelog(project_site: Path) -> None:
    page = (project_site / "projects" / "agentcellphone" / "index.html").read_text()
    months = sections(page)
    # newest first; the example (github.com/example/agent-cellphone), the corpus
    # (Agent_Cellphone_V2_Repository) and AgentCellphoneV3 are one project
    assert [m[0] for m in months] == ["February 2026", "January 2026", "December 2025"]
    february = dict(months[0][1])
    assert list(february) == ["Breaking changes", "Added", "Maintenance"]  # Keep a Changelog
    assert february["Breaking changes"] == ["drop the old call table (0000000)"]
    assert february["Added"] == ["api: route calls (0000000)"]
    january = dict(months[1][1])
    assert list(january) == ["Added", "Changed", "Fixed", "Documentation"]
    assert january["Added"][0] == "Add FastAPI deployment status checker utility (da48506)"
    assert "agent-4: Add validation execution quick reference card (b36eb45)" in january["Added"]
    assert january["Fixed"] == ["agent-2: Fix remaining compilation error in runner.py (3b3f3d2)"]
    december = dict(months[2][1])
    assert december["Added"] == ["Add metrics monitor with RED/YELLOW/GREEN thresholds (9c1d2e3)"]
    # the corpus sessions of the project that list no commit are named, newest first
    assert december["Sessions without listed commits"][0] == (
        "WordPress deployment automation hardening"
    )
    assert "Parser works" not in page and "parse dates" not in page  # another project
    assert 'href="https://github.com/example/agent-cellphone/commit/9c1d2e3' in page
    assert "agent-4: feat" not in page and "feat(" not in page and "fix!:" not in page


def test_the_project_feed_holds_its_sessions_newest_first(project_site: Path) -> None:
    feed = project_site / "projects" / "agentcellphone" / "feed.xml"
    schema = etree.RelaxNG(etree.parse(str(ATOM_RNG)))
    assert schema.validate(etree.parse(str(feed))), schema.error_log
    parsed = feedparser.parse(feed.read_bytes())
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    ids = [e.id for e in parsed.entries]
    assert ids[:2] == ["urn:gitflywheel:session:later-1", "urn:gitflywheel:session:team-1"]
    assert "urn:gitflywheel:session:other-1" not in ids
    example = "urn:gitflywheel:session:" + quote("3f2b7c1e-8a4d-4e6f-9b21-5c7d8e9f0a1b")
    assert example in ids and len(ids) == 7
    assert parsed.feed.title == "Work sessions: Agent Cellphone"
    assert parsed.feed.link == BASE + "projects/agentcellphone/"
    assert parsed.feed.updated == "2026-02-03T10:00:00Z"
    other = feedparser.parse((project_site / "projects" / "parserworks" / "feed.xml").read_bytes())
    assert [e.id for e in other.entries] == ["urn:gitflywheel:session:other-1"]


def test_every_page_links_the_projects(project_site: Path) -> None:
    index = (project_site / "projects" / "index.html").read_text()
    assert re.findall(r'<a href="([^"]+)">', index.split("<main>")[1])[:2] == [
        "agentcellphone/index.html",
        "parserworks/index.html",
    ]
    assert "7 sessions, the latest 3 February 2026" in text_of(index)
    for page in ("index.html", "tags/index.html", "projects/agentcellphone/index.html"):
        html = (project_site / page).read_text()
        assert "projects/index.html" in html, page


def test_a_kept_changelog_of_another_shape_is_read_from_the_facts_again(tmp_path: Path) -> None:
    """A site keeps each build session's changelog lines in its summary; one that does
    not read back as lines (another section, a link that is no https URL, a number for a
    text, a project without a tag) is never shown: the facts are read again, and the
    project page is the page of a build from nothing."""
    import contextlib
    import sqlite3

    from gitflywheel.publishing.cache_db import FILE_NAME
    from gitflywheel.storage.store import Store

    store = tmp_path / "s.git"
    assert ingest(store, [EXAMPLES]).exit_code == 0
    page = Path("projects") / "agentcellphone" / "index.html"
    site(store, tmp_path / "first", base_url=BASE)
    expected = (tmp_path / "first" / page).read_bytes()
    with Store.open(store) as opened:
        cache = opened.paths.site_cache / FILE_NAME
    damages = [
        {
            "project": {"name": "Agent Cellphone", "tag": "agentcellphone"},
            "changes": [["Stolen", "x", "", "", None]],
        },
        {
            "project": {"name": "Agent Cellphone", "tag": "agentcellphone"},
            "changes": [["Added", "x", "", "", "javascript:alert(1)"]],
        },
        {
            "project": {"name": "Agent Cellphone", "tag": "agentcellphone"},
            "changes": [["Added", 1, "", "", None]],
        },
        {"project": {"name": "Agent Cellphone"}, "changes": []},
    ]
    for number, damage in enumerate(damages):
        with contextlib.closing(sqlite3.connect(cache)) as db, db:
            rows = db.execute("SELECT key, data FROM records WHERE kind = 'post'").fetchall()
            builds = [(key, json.loads(data)) for key, data in rows]
            builds = [(key, s) for key, s in builds if (s.get("extra") or {}).get("build")]
            assert builds
            for key, summary in builds:
                summary["extra"]["build"] = damage
                db.execute(
                    "UPDATE records SET data = ? WHERE kind = 'post' AND key = ?",
                    (json.dumps(summary).encode(), key),
                )
        site(store, tmp_path / f"again-{number}", base_url=BASE)
        again = (tmp_path / f"again-{number}" / page).read_bytes()
        assert again == expected, damage
        assert b"Stolen" not in again and b"javascript:" not in again
