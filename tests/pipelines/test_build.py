"""The build pipeline: the build log lists every commit and totals computed here from
the input alone; figures reconciled, disagreements noted; the story never filler."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from pipeline_checks import (
    CORPUS,
    EXAMPLES,
    bodies,
    check_artifacts,
    corpus_files,
    figures,
    front_matter,
    opens_with_words,
    plain,
    posts_of,
    render_all,
    shown_code,
    tables,
)
from pipeline_checks import shown as shown_text

from gitflywheel.jsontext import loads
from gitflywheel.pipelines import run_pipeline
from gitflywheel.session.public_text import scrub
from gitflywheel.session.records import make_record

KINDS = {"readme", "build_log", "blog_post", "social_post"}


def utc(stamp: str, day: str = "") -> str:
    """A time as artifacts show it: its hour alone on `day`, the session's (UTC)."""
    moment = datetime.fromisoformat(stamp)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    shown = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return shown[11:] if shown[:10] == day else shown


def one_line(name: str) -> str:
    return " ".join(name.splitlines())


def counter(raw: dict[str, Any], name: str) -> int | None:
    value = raw.get("metadata", {}).get(name)
    return value if isinstance(value, int) and value >= 0 else None


TYPE_GROUPS = {
    "feat": "Features",
    "fix": "Fixes",
    "docs": "Documentation",
    "refactor": "Refactoring",
    "perf": "Performance",
    "test": "Tests",
    "build": "Build and CI",
    "ci": "Build and CI",
    "chore": "Chores",
}
ORDER = ["Breaking changes", *dict.fromkeys(TYPE_GROUPS.values()), "Other changes"]


IMPLIED = [  # a subject without a type: the type its first word implies
    ("Features", r"(add|adds|added|create|creates|created|implement|implements|implemented)"),
    ("Fixes", r"(fix|fixes|fixed|resolve|resolves|resolved|correct|corrects|corrected)"),
    ("Documentation", r"(document|documents|documented)"),
]


def expected_group(message: str) -> tuple[str, str, str]:
    """Group, scope and description of a commit, read by the conventional-commit rules; a
    leading `agent-4:` is the scope when the commit states none, and a subject with no
    type is grouped by its first word (`Add`: a feature)."""
    lines = message.strip().splitlines() or [""]
    subject = lines[0].strip()
    agent = re.match(r"([A-Za-z][A-Za-z_]*-\d+): +(?=\S)", subject)
    subject = subject[agent.end() :] if agent else subject
    who = agent.group(1) if agent else ""
    head = re.fullmatch(r"([A-Za-z]+)(?:\(([^()]*)\))?(!)?: +(\S.*)", subject)
    footer = any(re.match(r"BREAKING[ -]CHANGE: ", line) for line in lines[1:])
    if not head or head.group(1).lower() not in TYPE_GROUPS:
        implied = next(
            (group for group, verbs in IMPLIED if re.match(verbs + r"\b", subject, re.I)),
            "Other changes",
        )
        return ("Breaking changes" if footer else implied, who, subject)
    kind, scope, bang, text = head.groups()
    group = "Breaking changes" if bang or footer else TYPE_GROUPS.get(kind.lower(), "Other changes")
    return group, (scope or "").strip() or who, text.strip()


def changelog(log: str) -> dict[str, list[str]]:
    """The build log's changelog: each group's heading and its list items, as plain text."""
    part = log.split("\n## Changes\n", 1)[1]
    part = re.split(r"^## ", part, flags=re.M)[0]
    groups: dict[str, list[str]] = {}
    for chunk in re.split(r"^### ", part, flags=re.M)[1:]:
        title, _, rest = chunk.partition("\n")
        groups[title] = [plain(m) for m in re.findall(r"^- (.*)$", rest, flags=re.M)]
    return groups


def check_build_log(raw: dict[str, Any], log: str) -> None:
    """Every commit once, grouped by conventional type with breaking changes first, in
    time order, at most 20 a group; subject, short hash, time and file count on its line,
    the author when there are several; the contributors; and the totals row."""
    commits = raw.get("source_data", {}).get("git_commits", [])
    if all(c.get("timestamp") for c in commits):
        commits = sorted(commits, key=lambda c: datetime.fromisoformat(c["timestamp"]))
    shown = changelog(log)
    want: dict[str, list[dict[str, Any]]] = {}
    for c in commits:
        want.setdefault(expected_group(c["message"])[0], []).append(c)
    if list(want) == ["Other changes"]:
        want = {"Commits": want["Other changes"]}
    order = [*ORDER, "Commits"]
    assert list(shown) == sorted(want, key=order.index)
    authors = {scrub(one_line(c.get("author", ""))).strip() for c in commits} - {""}
    for title, listed in want.items():
        lines = shown[title]
        if len(listed) > 20:
            assert lines[20:] == [f"and {len(listed) - 20} more"]
        assert len(lines) == min(len(listed), 20) + (len(listed) > 20)
        for c, line in zip(listed[:20], lines, strict=False):
            _, scope, text = expected_group(c["message"])
            opening = (f"{shown_text(scrub(one_line(scope)))}: " if scope else "") + (
                shown_text(scrub(one_line(text))) or "(no message)"
            )
            assert line.startswith(opening), (line, opening)
            if c.get("hash"):
                assert f"({shown_code(scrub(one_line(c['hash'])))[:7]})" in line, line
            author = shown_text(scrub(one_line(c.get("author", ""))).strip())
            assert (f" by {author}" in line) == bool(len(authors) > 1 and author), line
            if c.get("timestamp"):
                try:
                    assert f" · {utc(c['timestamp'], utc(raw['timestamp'])[:10])}" in line
                except ValueError:
                    assert shown_text(one_line(c["timestamp"])) in line
            n = len(c.get("files", []))
            assert (f" · {n} file" in line) == bool(n), line
    if authors:
        counts: dict[str, int] = {}
        for c in commits:
            name = scrub(one_line(c.get("author", ""))).strip()
            if name:
                counts[name] = counts.get(name, 0) + 1
        contributors = log.split("\n## Contributors\n", 1)[1].split("\n## ", 1)[0]
        found = [plain(m) for m in re.findall(r"^- (.*)$", contributors, flags=re.M)]
        assert sorted(found) == sorted(
            f"{shown_text(a)} ({n} commit{'' if n == 1 else 's'})" for a, n in counts.items()
        )
    else:
        assert "## Contributors" not in log
    files = {one_line(f) for c in commits for f in c.get("files", [])}
    files |= {one_line(f) for f in raw.get("source_data", {}).get("files_changed", []) or []}
    lines = {}
    for key in ("lines_added", "lines_removed"):
        per_commit = [c.get(key) for c in commits]
        summed = sum(per_commit) if per_commit and None not in per_commit else None
        lines[key] = counter(raw, key) if counter(raw, key) is not None else summed
    minutes = counter(raw, "duration_minutes")

    moments = [datetime.fromisoformat(c["timestamp"]) for c in commits if c.get("timestamp")]
    span = (max(moments) - min(moments)).total_seconds() // 60 if len(moments) > 1 else None
    if minutes is not None and (minutes > 24 * 60 or span is not None and span > minutes + 60):
        minutes = None  # implausible: more than a day, or far less than the commits span
    changed = len(files) or counter(raw, "files_changed") or any(lines.values())
    given = counter(raw, "commits")
    expected = {  # "0 commits" beside files or lines changed is not shown
        "commits": len(commits) or (None if given == 0 and changed else given),
        "files changed": len(files) or counter(raw, "files_changed"),
        "lines added": lines["lines_added"],
        "lines removed": lines["lines_removed"],
    }
    want = {k: str(v) for k, v in expected.items() if v is not None}
    if minutes is not None:
        h, m = divmod(minutes, 60)
        want["time spent"] = f"{m} min" if not h else f"{h} h {m} min" if m else f"{h} h"
    assert figures(log) == want
    if "unknown" not in json.dumps(raw).casefold():  # a repository may be named so
        assert "unknown" not in log


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name[:30])
def test_every_corpus_session_renders_valid_artifacts(path: Path) -> None:
    raw = json.loads(path.read_text(encoding="utf-8"))
    artifacts = render_all(loads(path.read_text(encoding="utf-8")))
    check_artifacts(artifacts)
    if raw["session_type"] == "build":
        assert set(artifacts) == KINDS
        check_build_log(raw, artifacts["build_log"])
        meta = front_matter(artifacts["blog_post"])
        assert meta["author"] == raw["agent_id"]
        moment = datetime.fromisoformat(raw["timestamp"])
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        assert meta["date"] == moment.astimezone(UTC).replace(microsecond=0)
        for kind, text in artifacts.items():  # each artifact names its session and moment
            assert raw["session_id"][:8] in text, kind


def test_corpus_sessions_with_distinct_ids_never_share_an_artifact() -> None:
    seen: dict[tuple[str, str], str] = {}
    for path in corpus_files():
        raw = json.loads(path.read_text())
        for kind, text in render_all(loads(path.read_text())).items():
            other = seen.setdefault((kind, text), raw["session_id"])
            assert other == raw["session_id"], (kind, path.name)


def test_near_empty_sessions_differ_by_their_moment_or_id() -> None:
    base = {"session_type": "build", "agent_id": "Agent-1", "source_data": {"git_commits": []}}
    a = render_all({**base, "session_id": "aaaa1111-x", "timestamp": "2025-12-02T03:30:00Z"})
    b = render_all({**base, "session_id": "aaaa1111-x", "timestamp": "2025-12-02T03:30:01Z"})
    c = render_all({**base, "session_id": "bbbb2222-x", "timestamp": "2025-12-02T03:30:00Z"})
    for kind in KINDS:
        assert len({a[kind], b[kind], c[kind]}) == 3, kind


def test_rendering_is_deterministic() -> None:
    data = loads((EXAMPLES / "build_session.json").read_text())
    assert render_all(data) == render_all(loads((EXAMPLES / "build_session.json").read_text()))


def test_example_build_log_figures() -> None:
    raw = json.loads((EXAMPLES / "build_session.json").read_text())
    artifacts = render_all(loads(json.dumps(raw)))
    check_build_log(raw, artifacts["build_log"])
    assert figures(artifacts["readme"]) == {
        "commits": "3",
        "files changed": "4",
        "lines added": "412",
        "lines removed": "37",
        "time spent": "1 h 35 min",
    }
    recent = next(t for t in tables(artifacts["readme"]) if t[0][0] == "commit")
    assert [r[0] for r in recent[1:]] == ["fedcba9", "0a1b2c3", "9c1d2e3"]  # newest first


def test_figures_reconciled_and_disagreement_noted() -> None:
    data = json.loads((EXAMPLES / "build_session.json").read_text())
    data["metadata"].update(commits=5, files_changed=4, lines_added=400)
    for commit, (added, removed) in zip(
        data["source_data"]["git_commits"], [(300, 10), (100, 20), (12, 7)], strict=True
    ):
        commit.update(lines_added=added, lines_removed=removed)
    data["metadata"].pop("lines_removed")
    readme = render_all(loads(json.dumps(data)))["readme"]
    shown = figures(readme)
    assert shown["commits"] == "3"  # the commits listed win over the metadata
    assert shown["lines added"] == "400"  # the metadata's figure, with the sum noted
    assert shown["lines removed"] == "37"  # derived from the commits: 10 + 20 + 7
    assert "metadata says" not in readme  # the record's notes, not the reader's
    notes = facts_of(data)["notes"]
    assert "metadata says 5 commits; the session lists 3" in notes
    assert "metadata says 400 lines added; the commits add up to 412" in notes
    assert not any("files changed; the commits" in n for n in notes)  # 4 and 4: nothing to note


def test_negative_counters_are_unknown_and_noted() -> None:
    path = CORPUS / "729cbc27_646956dd-afa2-4ebd-9ba2-5df901282b7b_build.json"
    artifacts = render_all(loads(path.read_text()))
    for text in artifacts.values():
        assert "-307" not in text and "negative" not in text and "unknown" not in text
    assert "time spent" not in figures(artifacts["readme"])
    notes = facts_of(loads(path.read_text()))["notes"]
    assert "metadata.duration_minutes is negative (-307) and is left out" in notes


def facts_of(data: dict[str, Any]) -> dict[str, Any]:
    """The build pipeline's facts for one session, as its artifacts' contexts hold them."""
    specs = run_pipeline(make_record("test", data).session)
    facts: dict[str, Any] = specs[0].context["facts"]
    return facts


def test_story_derived_from_data_when_absent() -> None:
    data = json.loads((EXAMPLES / "build_session.json").read_text())
    for key in ("title", "overview", "problem", "solution", "lessons", "next_steps"):
        data.pop(key)
    artifacts = render_all(loads(json.dumps(data)))
    blog = artifacts["blog_post"]
    # "Add ..." is a feature, the most significant change
    title = "Add metrics monitor with RED/YELLOW/GREEN thresholds"
    assert front_matter(blog)["title"] == f"{title}, and 2 more commits"
    # the figures are the description, not a sentence the post opens with
    figures = "Agent-5 worked in example/agent-cellphone for 1 h 35 min: 3 commits, 4 files touched, +412/−37 lines."
    assert front_matter(blog)["description"] == figures
    assert figures not in blog.split("---\n", 2)[2]
    assert (
        "The 3 commits bring 1 feature, 1 documentation change and 1 other change. Notable: "
        "the feature “Add metrics monitor with RED/YELLOW/GREEN thresholds”, the documentation "
        "change “Document the guardrail protocol” and the other change “Alert hook posts status "
        "changes to the devlog channel”."
    ) in plain(blog)
    assert "## The problem" not in blog and "## Lessons" not in blog  # no filler


def test_given_story_is_used_as_written() -> None:
    raw = json.loads((EXAMPLES / "build_session.json").read_text())
    blog = render_all(loads(json.dumps(raw)))["blog_post"]
    meta = front_matter(blog)
    assert meta["title"] == raw["title"]
    assert meta["tags"] == ["build", "devlog", "agentcellphone"]  # no agent tag by default
    for text in (raw["overview"], raw["problem"], raw["solution"], *raw["next_steps"]):
        assert text in blog
    assert "**Measure before you alert**: A week of baseline" in blog


def test_session_text_that_looks_like_a_template_stays_literal() -> None:
    data = json.loads((EXAMPLES / "build_session.json").read_text())
    data["title"] = "{{ 7*7 }} and {% raw %}"
    data["overview"] = "{{ config }} {% for x in range(3) %}x{% endfor %}"
    data["source_data"]["git_commits"][0]["message"] = "{{ 7*7 }} | pipe"
    data["source_data"]["git_commits"][0]["author"] = "a|b"
    artifacts = render_all(loads(json.dumps(data)))
    for kind, text in artifacts.items():
        assert "{{ 7*7 }}" in text.replace("\\*", "*"), kind  # `*` is escaped in Markdown
        assert "49" not in text, kind
    assert front_matter(artifacts["blog_post"])["title"] == "{{ 7*7 }} and {% raw %}"
    recent = next(t for t in tables(artifacts["readme"]) if t[0][0] == "commit")
    assert recent[-1][1:3] == ["{{ 7*7 }} | pipe", "a|b"]
    check_build_log(data, artifacts["build_log"])


text = st.text(min_size=1, max_size=300)
moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)).map(
    lambda d: d.replace(microsecond=0).isoformat() + "Z"
)


@st.composite
def build_sessions(draw: st.DrawFn) -> dict[str, Any]:
    commits = []
    for _ in range(draw(st.integers(0, 6))):
        commit: dict[str, Any] = {
            "message": draw(text),
            "hash": f"{draw(st.integers(0, 2**160 - 1)):040x}",
            "author": draw(st.text(max_size=30)),
            "files": draw(st.lists(st.text(min_size=1, max_size=50).filter(str.strip), max_size=4)),
        }
        if draw(st.booleans()):
            commit["timestamp"] = draw(moments)
        if draw(st.booleans()):
            commit["lines_added"] = draw(st.integers(0, 5000))
            commit["lines_removed"] = draw(st.integers(0, 5000))
        commits.append(commit)
    metadata = {
        name: draw(st.integers(-500, 5000))
        for name in ("duration_minutes", "commits", "files_changed", "lines_added", "lines_removed")
        if draw(st.booleans())
    }
    return {
        "session_id": f"b-{draw(st.integers(0, 10**9))}",
        "session_type": "build",
        "timestamp": draw(moments),
        "agent_id": draw(
            st.text(
                alphabet=st.characters(
                    min_codepoint=0x20, max_codepoint=0x2FF, exclude_categories=("Cc", "Cf")
                ),
                min_size=1,
                max_size=40,
            )
        ),
        "title": draw(st.none() | text),
        "overview": draw(st.none() | st.text(max_size=1000)),
        "key_achievements": draw(st.lists(text, max_size=4)),
        "lessons": [
            {"title": draw(text), "description": draw(st.text(max_size=400))}
            for _ in range(draw(st.integers(0, 3)))
        ],
        "next_steps": draw(st.lists(text, max_size=3)),
        "metadata": metadata,
        "source_data": {"repo_path": draw(st.text(max_size=80)), "git_commits": commits},
    }


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(build_sessions())
def test_generated_build_sessions(data: dict[str, Any]) -> None:
    artifacts = render_all(data)
    check_artifacts(artifacts)
    check_build_log(data, artifacts["build_log"])
    joined = " ".join(bodies(posts_of(artifacts["social_post"])))
    meta = front_matter(artifacts["blog_post"])
    assert opens_with_words(joined, meta["title"]) if not meta["draft"] else joined == ""


def test_a_lesson_with_neither_title_nor_description_is_left_out() -> None:
    from markdown_it import MarkdownIt

    data = {
        "session_id": "blank-lesson",
        "session_type": "build",
        "timestamp": "2025-12-02T03:30:00Z",
        "agent_id": "Agent-1",
        "lessons": [{"title": "Kept", "description": ""}, {"title": "    ", "description": " "}],
    }
    blog = render_all(data)["blog_post"]
    assert "- **Kept**" in blog and "****" not in blog
    body = blog.split("---\n", 2)[2]  # after the front matter
    assert not [t for t in MarkdownIt("commonmark").parse(body) if t.type == "hr"]


MDIT = MarkdownIt("commonmark").enable("table")


def build(
    commits: list[dict[str, Any]], repo: str = "github.com/o/r", **more: Any
) -> dict[str, Any]:
    return {
        "session_id": "changelog-1",
        "session_type": "build",
        "timestamp": "2025-12-02T03:30:00Z",
        "agent_id": "Agent-1",
        "source_data": {"repo_path": repo, "git_commits": commits},
        **more,
    }


def commit(n: int, message: str, author: str = "Agent-1", **more: Any) -> dict[str, Any]:
    return {
        "hash": f"{n:07x}" + "c" * 33,
        "message": message,
        "author": author,
        "timestamp": f"2025-12-02T{n // 60:02d}:{n % 60:02d}:00Z",
        **more,
    }


def sections(markdown: str) -> dict[str, list[str]]:
    """Each heading of a rendered artifact and the plain text of the list items under it."""
    found: dict[str, list[str]] = {}
    heading = ""
    tokens = MDIT.parse(markdown.split("---\n", 2)[2])
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            heading = tokens[i + 1].content
            found[heading] = []
        elif token.type == "list_item_open":
            found.setdefault(heading, []).append(plain(tokens[i + 2].content))
    return found


def links(markdown: str) -> list[str]:
    return [
        child.attrs["href"]
        for token in MDIT.parse(markdown)
        for child in token.children or []
        if child.type == "link_open"
    ]


def test_commits_grouped_by_type_with_breaking_changes_first() -> None:
    log = render_all(
        build(
            [
                commit(1, "docs(readme): explain the store"),
                commit(2, "feat(cli): add rerender"),
                commit(3, "Tidy things up"),
                commit(4, "fix: keep dates in UTC"),
                commit(5, "feat(store)!: one commit per session"),
                commit(6, "refactor: split verify\n\nBREAKING CHANGE: verify is a package"),
                commit(7, "ci: run mypy"),
                commit(8, "chore: bump"),
                commit(9, "Note: a plain subject with a colon"),
            ]
        )
    )["build_log"]
    got = sections(log)
    titles = [t for t in got if t not in ("Contributors", "Totals")]
    assert titles[titles.index("Changes") + 1 :] == [
        "Breaking changes",
        "Features",
        "Fixes",
        "Documentation",
        "Build and CI",
        "Chores",
        "Other changes",
    ]
    assert got["Breaking changes"][0].startswith("store: one commit per session (0000005)")
    assert got["Breaking changes"][1].startswith("split verify (0000006)")
    assert got["Features"][0].startswith("cli: add rerender (0000002)")
    assert got["Other changes"][0].startswith("Tidy things up (0000003)")
    assert got["Other changes"][1].startswith("Note: a plain subject with a colon (0000009)")
    assert "### 1." not in log and "- files" not in log


@pytest.mark.parametrize(
    ("repo", "base"),
    [
        ("github.com/o/r", "https://github.com/o/r/commit/"),
        ("https://github.com/o/r.git", "https://github.com/o/r/commit/"),
        ("git@github.com:o/r.git", "https://github.com/o/r/commit/"),
        ("https://gitlab.com/group/sub/r", "https://gitlab.com/group/sub/r/-/commit/"),
        ("gitlab.example.org/o/r", "https://gitlab.example.org/o/r/-/commit/"),
        ("https://codeberg.org/o/r", "https://codeberg.org/o/r/commit/"),
        ("gitea.example.net/o/r", "https://gitea.example.net/o/r/commit/"),
        ("ssh://git@forgejo.example.net:2222/o/r.git", "https://forgejo.example.net/o/r/commit/"),
    ],
)
def test_commits_link_to_their_forge(repo: str, base: str) -> None:
    sha = "0000001" + "c" * 33
    artifacts = render_all(build([commit(1, "feat: one")], repo=repo))
    assert links(artifacts["build_log"]) == [base + sha]
    assert links(artifacts["readme"]) == [base + sha]


@pytest.mark.parametrize(
    "repo",
    [
        "D:\\Agent_Cellphone_V2_Repository",
        "D:/code/github.com/o/r",
        "/home/me/github.com/o/r",
        "~/src/gitlab.com/o/r",
        "Agent_Cellphone_V2_Repository",
        "bitbucket.org/o/r",
        "github.com/o",
    ],
)
def test_no_commit_link_without_a_known_forge(repo: str) -> None:
    artifacts = render_all(build([commit(1, "feat: one")], repo=repo))
    for kind in ("build_log", "readme"):
        assert links(artifacts[kind]) == [], kind
    assert sections(artifacts["build_log"])["Features"] == [
        "one (0000001) · 00:01 UTC"
    ]  # the session's day: the hour


def test_long_groups_are_folded_and_contributors_counted() -> None:
    commits = [commit(n, f"feat: feature {n}", "Ada" if n % 3 else "Bo") for n in range(1, 26)]
    commits += [commit(30, "fix: one fix", "Cy", files=["a.py", "b.py"])]
    log = render_all(build(commits))["build_log"]
    got = sections(log)
    assert len(got["Features"]) == 21 and got["Features"][-1] == "and 5 more"
    assert got["Features"][0] == "feature 1 (0000001) by Ada · 00:01 UTC"
    assert got["Features"][2] == "feature 3 (0000003) by Bo · 00:03 UTC"
    assert got["Fixes"] == ["one fix (000001e) by Cy · 00:30 UTC · 2 files"]
    assert got["Contributors"] == ["Ada (17 commits)", "Bo (8 commits)", "Cy (1 commit)"]
    assert len(log) < 8000
    check_build_log(build(commits), log)


def test_one_author_is_named_once_among_the_contributors() -> None:
    log = render_all(build([commit(1, "feat: a"), commit(2, "fix: b")]))["build_log"]
    assert " by " not in log
    assert sections(log)["Contributors"] == ["Agent-1 (2 commits)"]


def corpus_session(prefix: str) -> dict[str, Any]:
    return dict(loads(next(CORPUS.glob(prefix + "*.json")).read_text(encoding="utf-8")))


def test_tools_and_improvements_are_shown() -> None:
    artifacts = render_all(corpus_session("7df07646"))
    blog, readme = sections(artifacts["blog_post"]), sections(artifacts["readme"])
    assert blog["Tools created"][0] == "tools/sftp_credential_troubleshooter.py"
    assert len(blog["Tools created"]) == 5
    assert "Enhanced ConnectionManager with stage-aware diagnostics" in blog["What came out of it"]
    assert "Tool: tools/deploy_freeride_functions.py" in readme["Highlights"]
    assert "Added --dry-run/--verify-only mode for safe testing" in readme["Highlights"]


def test_build_conversation_is_quoted_with_its_speakers_named() -> None:
    data = corpus_session("fcb44a82")
    data["source_data"]["conversations"] += [
        {"source": "user", "content": "Ship it. " * 80},
        {"source": "assistant", "content": "Done:\nall three documents."},
    ]
    blog = render_all(data)["blog_post"]
    quotes = [plain(t.content) for t in MDIT.parse(blog.split("---\n", 2)[2]) if t.type == "inline"]
    quotes = [
        q for q in quotes if q.split(":", 1)[0].split(" (")[0] in ("Captain", "User", "Agent-2")
    ]
    # the session's day is the page's date: a turn on that day shows its time alone
    assert quotes[0].startswith("Captain (03:17 UTC): Phase 2 Architecture Blueprint")
    assert quotes[1].startswith("User: Ship it.") and quotes[1].endswith(" …")
    assert len(quotes[1]) < 420
    assert quotes[2] == "Agent-2: Done: all three documents."
    assert "You" not in blog
    assert blog.count("\n> ") == 3


@given(st.text(max_size=60), st.text(max_size=20))
def test_any_message_lands_in_exactly_one_group(message: str, repo: str) -> None:
    from gitflywheel.pipelines.changelog import GROUPS, commit_url, group_of, parse
    from gitflywheel.session.public_text import is_local_path

    read = parse(message)
    assert group_of(read.type, read.breaking) in GROUPS
    if ":" not in message:
        assert read.type == "" and not read.breaking
    url = commit_url(repo, "a" * 40)
    assert url is None or (url.startswith("https://") and not is_local_path(repo))


def test_an_author_of_white_space_is_no_author() -> None:
    """A blank author is nobody: not a contributor, not `by ` on a commit's line."""
    commits = [
        {"message": "0", "hash": "0" * 40, "author": author, "files": []}
        for author in ("0", "", " ")
    ]
    data: dict[str, Any] = {
        "session_id": "b-0",
        "session_type": "build",
        "timestamp": "2020-01-01T00:00:00Z",
        "agent_id": "0",
        "source_data": {"git_commits": commits},
    }
    log = render_all(data)["build_log"]
    check_build_log(data, log)
    assert "\n-  (1 commit)" not in log and " by " not in log


CONVENTIONAL = re.compile(
    r"^(?:feat|fix|docs|refactor|perf|test|build|ci|chore)(?:\([^()]*\))?!?:", re.IGNORECASE
)


def derived_texts(artifacts: dict[str, str]) -> list[str]:
    """Each artifact's front-matter title and description, and the thread's opening."""
    texts = [
        str(front_matter(text)[key])
        for text in artifacts.values()
        for key in ("title", "description")
    ]
    return texts + bodies(posts_of(artifacts["social_post"]))[:1]


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name[:30])
def test_no_derived_headline_holds_a_commit_type(path: Path) -> None:
    raw = json.loads(path.read_text(encoding="utf-8"))
    if raw["session_type"] != "build":
        return
    for session in (raw, {**raw, "title": None, "metadata": {}}):
        for text in derived_texts(render_all(loads(json.dumps(session)))):
            assert not CONVENTIONAL.match(text), (path.name, text)


def test_a_derived_title_is_the_newest_feature_without_its_prefix() -> None:
    path = CORPUS / "dfd4700e_21f90784-6764-4c30-99db-7f631a525695_build.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    raw["metadata"].pop("task_title")
    meta = front_matter(render_all(loads(json.dumps(raw)))["blog_post"])
    assert meta["title"] == "Add FastAPI deployment status checker utility, and 9 more commits"
    assert not CONVENTIONAL.match(meta["description"])


def test_a_derived_title_prefers_breaking_then_features_then_fixes_newest_first() -> None:
    def title(*messages: str) -> str:
        commits = [
            {"message": m, "hash": f"{i:040x}", "timestamp": f"2025-12-02T0{i}:00:00Z"}
            for i, m in enumerate(messages)
        ]
        data = {
            "session_id": "order-1",
            "session_type": "build",
            "timestamp": "2025-12-02T10:00:00Z",
            "agent_id": "Agent-1",
            "source_data": {"git_commits": commits},
        }
        return str(front_matter(render_all(data)["blog_post"])["title"])

    assert title("docs: a", "fix: b", "feat: c", "feat: d", "chore: e").startswith("D, and 4")
    assert title("feat: a", "fix(x)!: b", "feat: c").startswith("B, and 2")
    assert title("docs: a", "fix: b", "fix: c", "test: d").startswith("C, and 3")
    assert title("docs: a", "agent-4: chore(ci): tidy up").startswith("Tidy up, and 1")
    assert title("agent-4: feat: add a ship") == "Add a ship"


TYPES = ("feat", "fix", "docs", "refactor", "perf", "test", "build", "ci", "chore")


@st.composite
def conventional_sessions(draw: st.DrawFn) -> dict[str, Any]:
    """Generated build sessions without a title of their own, whose commits (and any
    overview or achievements) open with conventional-commit prefixes."""
    data = draw(build_sessions())
    prefix = st.builds(
        lambda agent, kind, scope, bang: agent + kind + scope + bang + ": ",
        st.sampled_from(["", "agent-4: "]),
        st.sampled_from(TYPES + tuple(t.upper() for t in TYPES)),
        st.sampled_from(["", "(api)", "(agent-4)", "()"]),
        st.sampled_from(["", "!"]),
    )
    for commit in data["source_data"]["git_commits"]:
        commit["message"] = draw(prefix) + commit["message"]
    data["title"] = None
    if data["overview"] is not None and draw(st.booleans()):
        data["overview"] = draw(prefix) + data["overview"]
    data["key_achievements"] = [draw(prefix) + a for a in data["key_achievements"]]
    return data


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conventional_sessions())
def test_generated_derived_headlines_hold_no_commit_type(data: dict[str, Any]) -> None:
    artifacts = render_all(data)
    check_artifacts(artifacts)
    for text in derived_texts(artifacts):
        assert not CONVENTIONAL.match(text.lstrip()), text
