"""How the pipelines write (20), each rule on the real corpus session it was seen in: the
commits told by theme, never one subject after another; no figure contradicted beside
it; no sentence said twice (title, description, opening); the session's date shown once,
by the page; one tag per project."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from pipeline_checks import CORPUS, EXAMPLES, body, corpus_files, figures, front_matter, plain
from pipeline_checks import render_all as render

from gitflywheel.jsontext import loads
from gitflywheel.pipelines import run_pipeline
from gitflywheel.session.artifacts import Screenshot
from gitflywheel.session.records import make_record

MD = MarkdownIt("commonmark").enable("table")
TEAM = CORPUS / "dfd4700e_21f90784-6764-4c30-99db-7f631a525695_build.json"
PHASE2 = CORPUS / "be8443c5_a2-phase2-arch-2025-12-02_build.json"
WORDPRESS = CORPUS / "7df07646_7670d1d3-bf6e-40c1-b382-43e13f968ff6_build.json"
GUARDRAIL = CORPUS / "0c0a7fef_agent5_guardrail_implementation_2025-12-02.json"
SHOTS = (
    Screenshot("screens/title.png", "01-title.png"),
    Screenshot("screens/level1.png", "02-level1.png"),
)


def raw(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = loads(path.read_text(encoding="utf-8"))
    return data


def render_all(data: dict[str, Any]) -> dict[str, str]:
    shots = SHOTS if data["session_type"] == "life_aria" else ()
    return render(data, shots)


def sessions() -> list[Path]:
    return [*corpus_files(), *sorted(EXAMPLES.glob("*.json"))]


def words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def first_sentence(text: str) -> str:
    found = re.match(r"(.+?[.!?])(?:\s|$)", " ".join(text.split()))
    return found.group(1) if found else " ".join(text.split())


def opening(artifact: str) -> str:
    """The first sentence a reader meets below the title: the first paragraph's."""
    tokens = MD.parse(body(artifact))
    for at, token in enumerate(tokens):
        if token.type == "paragraph_open" and tokens[at + 1].content.strip():
            text = plain(tokens[at + 1].content)
            if not text.startswith("!"):  # an image is no sentence
                return first_sentence(text)
    return ""


def test_a_teams_commits_are_told_by_theme() -> None:
    """dfd4700e: ten commits prefixed `agent-4:`, `feat:`, `docs:`; the story says what
    kinds of change they were and names one of each of the first kinds, never the
    subjects one after another, and no prefix is printed raw."""
    data = raw(TEAM)
    data["metadata"].pop("task_title")  # a placeholder: the title comes from the commits
    blog = render_all(data)["blog_post"]
    done = plain(body(blog).split("## What was done\n\n", 1)[1].split("\n\n", 1)[0])
    assert done == (
        "The 10 commits bring 4 features, 1 fix by agent-2, 1 documentation change and 4 "
        "other changes. Notable: the newest feature “Add FastAPI deployment status checker "
        "utility”, the fix “Fix remaining compilation error in runner.py” and the "
        "documentation change “Create comprehensive FastAPI deployment guide”."
    )
    assert "landed as" not in blog and "; “" not in blog
    assert not re.search(r"\b(?:agent-\d+|feat|docs|fix): ", plain(body(blog)))
    readme = render_all(data)["readme"]
    assert not re.search(r"\b(?:feat|docs|fix)(?:\([^)]*\))?!?: ", plain(body(readme)))
    assert "| **agent-2:** Fix remaining compilation error in runner.py |" in readme
    log = render_all(data)["build_log"]
    assert "- **agent-2:** Fix remaining compilation error in runner.py" in log
    features = log.split("### Features\n", 1)[1].split("###", 1)[0]
    assert features.count("\n- ") == 4  # `Add …` and `Create …` read as features


def test_a_title_that_counts_the_commits_is_not_followed_by_their_count() -> None:
    """dfd4700e: "Add FastAPI …, and 9 more commits: 10 commits, 187 files." said the
    count twice in the thread's first post."""
    data = raw(TEAM)
    data["metadata"].pop("task_title")
    specs = run_pipeline(make_record("t", data).session)
    first = next(s.context["posts"] for s in specs if s.kind == "social_post")[0]
    assert first.startswith(
        "Add FastAPI deployment status checker utility, and 9 more commits: 187 files."
    )
    assert "10 commits" not in first


def test_among_equals_the_largest_when_sizes_are_known_else_the_newest() -> None:
    def story(*commits: tuple[str, int | None]) -> str:
        data = {
            "session_id": "equals-1",
            "session_type": "build",
            "timestamp": "2025-12-02T10:00:00Z",
            "agent_id": "Agent-1",
            "source_data": {
                "git_commits": [
                    {
                        "message": message,
                        "hash": f"{i:040x}",
                        "timestamp": f"2025-12-02T0{i}:00:00Z",
                        **({"lines_added": size, "lines_removed": 0} if size is not None else {}),
                    }
                    for i, (message, size) in enumerate(commits)
                ]
            },
        }
        return str(run_pipeline(make_record("t", data).session)[0].context["story"]["solution"])

    assert "the largest fix “Big”" in story(("fix: big", 90), ("fix: small", 5), ("feat: x", 1))
    assert "the newest fix “Small”" in story(("fix: big", 90), ("fix: small", None))
    assert story(("a", 1), ("b", 1)) == "2 commits; the newest is “B”."
    assert story(("fix(hook): a", None), ("fix(hook): b", None)).startswith(
        "The 2 commits bring 2 fixes to hook."
    )
    assert story(("fix: only", None)) == "One commit: “Only”."


def test_zero_commits_beside_lines_added_is_not_stated() -> None:
    """be8443c5 (and 7df07646): `metadata.commits` 0 beside 1200 lines added and 3 files;
    "0 commits to Agent_Cellphone_V2_Repository" contradicted the lines beside it. The
    count is left out, with a note in the facts; the repository is still named."""
    for path in (PHASE2, WORDPRESS):
        data = raw(path)
        artifacts = render_all(data)
        for kind, text in artifacts.items():
            assert not re.search(r"\b0 commits\b", plain(body(text))), (path.name, kind)
        assert "commits" not in figures(artifacts["readme"])
        assert "files changed in Agent_Cellphone_V2_Repository" in artifacts["blog_post"]
        facts = run_pipeline(make_record("t", data).session)[0].context["facts"]
        assert facts["commit_count"] is None
        assert any("0 commits" in note for note in facts["notes"])


@pytest.mark.parametrize("path", sessions(), ids=lambda p: p.name[:30])
def test_title_description_and_opening_are_three_sentences(path: Path) -> None:
    """Over the corpus and the examples: the front matter's title and description and the
    first sentence under the title are never the same sentence (0c0a7fef's title was its
    work summary, which was also its description and its opening)."""
    data = raw(path)
    for kind, text in render_all(data).items():
        if kind == "social_post":
            continue
        meta = front_matter(text)
        said = [str(meta["title"]), str(meta["description"]), opening(text)]
        said = [words(s) for s in said if s]
        assert len(said) == len(set(said)), (path.name, kind, said)


def test_a_summary_that_is_the_title_is_said_once() -> None:
    """0c0a7fef: work summary "Output Flywheel Metrics Guardrail + Live Monitoring
    implementation" is the title; the post opens with what came out of it, the
    description is the figures."""
    blog = render_all(raw(GUARDRAIL))["blog_post"]
    meta = front_matter(blog)
    assert meta["title"] == "Output Flywheel Metrics Guardrail + Live Monitoring implementation"
    assert meta["description"] == (
        "Agent-5 worked in Agent_Cellphone_V2_Repository for 2 h: 4 files touched, +450/−0 lines."
    )
    assert plain(body(blog)).count("Output Flywheel Metrics Guardrail") == 0
    assert body(blog).lstrip().startswith("## What came out of it")


DATE_FORMS = ("%Y-%m-%d", "%B %-d, %Y", "%-d %B %Y", "%d %B %Y")


@pytest.mark.parametrize("path", sessions(), ids=lambda p: p.name[:30])
def test_the_sessions_date_is_left_to_the_page(path: Path) -> None:
    """The front matter's `date` is the one place of the session's date: a blog engine and
    the site show it in the page's header, so no artifact's text repeats it in another
    format (the blog post said "recorded 2025-12-02 11:11:35 UTC" below a header "2
    December 2025"); times on that day show as hours. Image descriptions may name it."""
    data = raw(path)
    moment = datetime.fromisoformat(str(data["timestamp"]).replace("Z", "+00:00"))
    moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    for kind, text in render_all(data).items():
        shown = plain(re.sub(r"!\[[^\]]*\]", "", body(text))).replace(data["session_id"], "")
        for form in DATE_FORMS:
            assert moment.strftime(form) not in shown, (path.name, kind, form)


def test_one_project_is_one_tag() -> None:
    """The corpus names its repository `Agent_Cellphone_V2_Repository` (as a path, as
    `D:\\...`), the example `github.com/example/agent-cellphone`: one project, one tag
    (`agentcellphone`) and one hashtag (`#AgentCellphone`), not two."""
    tags: set[str] = set()
    hashtags: set[str] = set()
    paths = [p for p in corpus_files() if "Agent_Cellphone" in p.read_text()]
    for path in [*paths, EXAMPLES / "build_session.json"]:
        specs = run_pipeline(make_record("t", raw(path)).session)
        front = next(s.context["front"] for s in specs if s.kind == "blog_post")
        tags |= set(front["tags"]) - {"build", "devlog"}
        posts = next(s.context["posts"] for s in specs if s.kind == "social_post")
        hashtags |= set(re.findall(r"#\w+", " ".join(posts))) - {"#BuildInPublic"}
    assert tags == {"agentcellphone"}
    assert hashtags == {"#AgentCellphone"}


def test_a_display_name_is_the_projects_name_as_given() -> None:
    from gitflywheel.session.facts import Names

    specs = run_pipeline(
        make_record("t", raw(WORDPRESS)).session,
        (),
        Names.of({"Agent_Cellphone_V2_Repository": "Cellphone V2"}),
    )
    facts = specs[0].context["facts"]
    assert facts["project"] == {"name": "Cellphone V2", "tag": "cellphonev2"}


def test_the_agent_is_no_tag_by_default() -> None:
    for path in sessions():
        data = raw(path)
        agent = re.sub(r"[^0-9a-z]", "", str(data["agent_id"]).lower())
        for text in render_all(data).values():
            if text.startswith("---"):
                assert agent not in front_matter(text)["tags"], path.name


def test_every_written_sentence_is_json_safe() -> None:
    """The new sentences are facts: they survive the facts' JSON as they are."""
    data = raw(TEAM)
    specs = run_pipeline(make_record("t", data).session)
    for spec in specs:
        assert json.loads(json.dumps(spec.context, default=str)) is not None
