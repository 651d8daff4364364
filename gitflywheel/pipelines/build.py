"""The build pipeline, S1 to S7: repository facts, the story, four artifacts and a chart."""

from __future__ import annotations

import contextlib
import re
from datetime import datetime
from typing import Any, Final, TypedDict

from ..session.artifacts import ArtifactSpec
from ..session.facts import Address, Names
from ..session.models import BuildSession, GitCommit, parse_timestamp
from ..session.public_text import commit_span, implausible_duration, public_repo, scrub_all
from .changelog import BREAKING, GROUPS, OTHER, commit_url, group_of, implied_type, parse
from .charts import Dated, activity_chart
from .common import (
    NO_ADDRESS,
    NO_NAMES,
    deliverable_text,
    duration_text,
    extra_text,
    first_line,
    identity,
    lesson_list,
    one_line,
    plural,
    project_of,
    slug,
    utc_text,
    when,
)
from .drafts import draft_reasons, is_placeholder_title
from .front import front_matter, headline, post_slug, same_sentence, summary_line
from .social import fence, hashtags, opening, restates, threads

__all__ = [
    "Commit",
    "Group",
    "Author",
    "Quote",
    "RepoFacts",
    "Story",
    "repo_facts",
    "story",
    "run",
]

PIPELINE: Final = "build"
# Raised whenever the facts this pipeline derives change for some record, or what else
# verify derives with them (5: screenshots stored under their format's extension);
# stores keep the version beside the facts, and tests/pipelines/test_golden.py fails on a change
# without it.
VERSION: Final = 7
RECENT: Final = 10
FOLD: Final = 20  # commits shown per changelog group; the rest are counted
QUOTES: Final = 4  # conversation turns quoted in the blog post
QUOTE_CHARS: Final = 400


class Commit(TypedDict):
    """One commit as the artifacts show it: `type` is the conventional type it states or
    its first word implies (`changelog.implied_type`), `scope` its scope, else the agent
    of an `agent-4:` prefix, `description` its subject without either prefix."""

    hash: str
    short: str
    subject: str
    author: str
    time: str
    files: list[str]
    lines_added: int | None
    lines_removed: int | None
    type: str
    scope: str
    description: str
    breaking: bool
    url: str | None


class Group(TypedDict):
    """One changelog group: its title, the first `FOLD` commits and how many more."""

    title: str
    commits: list[Commit]
    more: int


class Author(TypedDict):
    """A contributor and how many of the session's commits are theirs."""

    name: str
    commits: int


class Quote(TypedDict):
    """A conversation turn worth quoting, with its speaker named."""

    speaker: str
    text: str
    time: str


class RepoFacts(TypedDict):
    """S1: what the session did to its repository, reconciled from commits and metadata;
    `project` is the project the repository stands for (`common.project_of`), whose tag
    is the artifacts' one tag for it."""

    repo: str | None
    project: dict[str, str] | None
    commits: list[Commit]
    commit_count: int | None
    files: list[str]
    file_count: int | None
    lines_added: int | None
    lines_removed: int | None
    duration_minutes: int | None
    duration: str | None
    figures: list[dict[str, str]]
    notes: list[str]
    changes: list[Group]
    authors: list[Author]


class Story(TypedDict):
    """S2: the session told as a story, from its own fields or derived from its data."""

    title: str
    overview: str
    problem: str | None
    solution: str | None
    lessons: list[dict[str, str]]
    next_steps: list[str]
    achievements: list[str]
    deliverables: list[str]
    tools: list[str]
    improvements: list[str]
    conversation: list[Quote]
    overview_derived: bool


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _commit(raw: GitCommit, repo_path: str | None, day: str = "") -> Commit:
    """One commit; its time is its hour alone when it falls on `day` (the session's day,
    which the page shows as its date), else its date and hour."""
    extra = raw.model_extra or {}
    stamp = raw.timestamp or ""
    if stamp:
        with contextlib.suppress(ValueError):  # an unreadable time is shown as given
            stamp = _on_day(parse_timestamp(stamp), day)
    sha = one_line(raw.hash or "")
    read = parse(raw.message)
    return {
        "hash": sha,
        "short": sha[:7],
        "subject": first_line(raw.message),
        "author": one_line(raw.author or "").strip(),
        "time": one_line(stamp),
        "files": [one_line(f) for f in raw.files],
        "lines_added": _whole(extra.get("lines_added")),
        "lines_removed": _whole(extra.get("lines_removed")),
        "type": implied_type(read),
        "scope": one_line(read.scope or read.agent),
        "description": one_line(read.description),
        "breaking": read.breaking,
        "url": commit_url(repo_path, sha),
    }


def _on_day(moment: datetime, day: str) -> str:
    """`16:02 UTC` on `day` (YYYY-MM-DD, UTC), `2025-12-31 10:02 UTC` on another."""
    same = utc_text(moment, "%Y-%m-%d") == day
    return utc_text(moment, "%H:%M UTC") if same else utc_text(moment)


def _chronological(raws: list[GitCommit], repo_path: str | None, day: str) -> list[Commit]:
    """In the order they happened when every commit has a readable time; else as listed."""
    commits = [_commit(c, repo_path, day) for c in raws]
    try:
        moments = [parse_timestamp(c.timestamp or "") for c in raws]
    except ValueError:
        return commits
    order = sorted(range(len(commits)), key=lambda i: (moments[i], i))
    return [commits[i] for i in order]


def repo_facts(session: BuildSession, names: Names = NO_NAMES) -> RepoFacts:
    """S1: commits, files and line counts, each from the best source, disagreements noted.
    The repository is named as `names` shows it; a repository shown under another name
    (or none) links no commit, as a link would name it."""
    meta = session.metadata
    public = public_repo(session.source_data.repo_path)
    renamed = public is not None and public in names.repo
    repo_path = None if renamed else session.source_data.repo_path
    commits = _chronological(session.source_data.git_commits, repo_path, when(session)["date"])
    notes: list[str] = []

    listed_files = {f for c in commits for f in c["files"]}
    extra_files = (session.source_data.model_extra or {}).get("files_changed")
    if isinstance(extra_files, list):
        listed_files |= {one_line(f) for f in extra_files if isinstance(f, str)}
    files = sorted(listed_files)

    given_commits = meta.counter("commits")
    commit_count = len(commits) if commits else given_commits
    if commits and given_commits is not None and given_commits != len(commits):
        notes.append(f"metadata says {given_commits} commits; the session lists {len(commits)}")

    given_files = meta.counter("files_changed")
    file_count = len(files) if files else given_files
    if files and given_files is not None and given_files != len(files):
        notes.append(f"metadata says {given_files} files changed; the commits name {len(files)}")

    lines: dict[str, int | None] = {}
    for key, per_commit in (
        ("lines_added", [c["lines_added"] for c in commits]),
        ("lines_removed", [c["lines_removed"] for c in commits]),
    ):
        known = [v for v in per_commit if v is not None]
        derived = sum(known) if known and len(known) == len(per_commit) else None
        given = meta.counter(key)
        lines[key] = given if given is not None else derived
        if given is not None and derived is not None and given != derived:
            notes.append(
                f"metadata says {given} {key.replace('_', ' ')}; the commits add up to {derived}"
            )

    for name in ("duration_minutes", "files_changed", "commits", "lines_added", "lines_removed"):
        value = getattr(meta, name)
        if isinstance(value, int) and value < 0:
            notes.append(f"metadata.{name} is negative ({value}) and is left out")

    if commit_count == 0 and (file_count or lines["lines_added"] or lines["lines_removed"]):
        # "0 commits" beside lines added says the work was not committed, or not counted:
        # the counter cannot be shown beside the lines as if it were true
        notes.append("metadata says 0 commits, yet files or lines changed; the count is left out")
        commit_count = None
    minutes = meta.counter("duration_minutes")
    odd = implausible_duration(minutes, commit_span(session.source_data.git_commits))
    if odd:
        notes.append(f"metadata.duration_minutes: {odd}; left out")
        minutes = None
    shown: list[tuple[str, int | str | None]] = [
        ("commits", commit_count),
        ("files changed", file_count),
        ("lines added", lines["lines_added"]),
        ("lines removed", lines["lines_removed"]),
        ("time spent", duration_text(minutes)),
    ]
    return {
        "repo": names.repo_name(public),
        "project": project_of(names.repo_name(public), display=renamed),
        "commits": commits,
        "commit_count": commit_count,
        "files": files,
        "file_count": file_count,
        "lines_added": lines["lines_added"],
        "lines_removed": lines["lines_removed"],
        "duration_minutes": minutes,
        "duration": duration_text(minutes),
        "figures": [{"name": k, "value": str(v)} for k, v in shown if v is not None],
        "notes": notes,
        "changes": changes(commits),
        "authors": authors(commits),
    }


def changes(commits: list[Commit]) -> list[Group]:
    """The commits grouped as a changelog: breaking changes first, then by type, each
    group in time order and folded after `FOLD` commits."""
    grouped: dict[str, list[Commit]] = {title: [] for title in GROUPS}
    for c in commits:
        grouped[group_of(c["type"], c["breaking"])].append(c)
    groups: list[Group] = [
        {"title": title, "commits": listed[:FOLD], "more": max(len(listed) - FOLD, 0)}
        for title, listed in grouped.items()
        if listed
    ]
    if len(groups) == 1 and groups[0]["title"] == OTHER:  # no commit follows the convention
        groups[0]["title"] = "Commits"
    return groups


def authors(commits: list[Commit]) -> list[Author]:
    """Who made the commits, most commits first, then by name."""
    counted: dict[str, int] = {}
    for c in commits:
        if c["author"]:
            counted[c["author"]] = counted.get(c["author"], 0) + 1
    order = sorted(counted.items(), key=lambda kv: (-kv[1], kv[0].casefold(), kv[0]))
    return [{"name": name, "commits": n} for name, n in order]


def _significance(commit: Commit) -> int:
    """0 for a breaking change, 1 a feature, 2 a fix, 3 anything else."""
    order = (BREAKING, group_of("feat", False), group_of("fix", False))
    group = group_of(commit["type"], commit["breaking"])
    return order.index(group) if group in order else len(order)


def _derived_title(commits: list[Commit]) -> str | None:
    """The most significant commit's description (breaking changes, then features, then
    fixes, then the rest; among equals the newest), and how many more commits there were
    (those without a message too)."""
    ranked = sorted(
        (i for i, c in enumerate(commits) if c["subject"]),
        key=lambda i: (_significance(commits[i]), -i),
    )
    if not ranked:
        return None
    first = headline(commits[ranked[0]]["subject"])  # without its prefixes
    first = first[:1].upper() + first[1:] if first else None
    if not first or len(commits) == 1:
        return first
    return f"{first}, and {plural(len(commits) - 1, 'more commit')}"


# How a group's commits are counted in prose: one, several.
_NOUNS: Final = {
    BREAKING: ("breaking change", "breaking changes"),
    "Features": ("feature", "features"),
    "Fixes": ("fix", "fixes"),
    "Documentation": ("documentation change", "documentation changes"),
    "Refactoring": ("refactoring", "refactorings"),
    "Performance": ("performance change", "performance changes"),
    "Tests": ("change to the tests", "changes to the tests"),
    "Build and CI": ("build or CI change", "build or CI changes"),
    "Chores": ("chore", "chores"),
    OTHER: ("other change", "other changes"),
}
NOTABLE: Final = 3  # themes whose notable commit the summary names
_AGENT_NAME = re.compile(r"^[A-Za-z][A-Za-z_]*-\d+$")  # a scope read from `agent-4:`


def _and(items: list[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _size(commit: Commit) -> int | None:
    added, removed = commit["lines_added"], commit["lines_removed"]
    return None if added is None or removed is None else added + removed


def notable(commits: list[Commit]) -> tuple[Commit, str]:
    """The commit with a message that stands for a group of equals, and which it is: the
    largest (lines added and removed) when every one gives its line counts and one is
    larger than the rest, else the newest (the last in time order)."""
    commits = [c for c in commits if c["subject"]] or commits
    sizes = [_size(c) for c in commits]
    if len(commits) > 1 and all(n is not None for n in sizes):
        largest = max(range(len(commits)), key=lambda i: (sizes[i] or 0, i))
        if sum(1 for n in sizes if n == sizes[largest]) == 1:
            return commits[largest], "largest"
    return commits[-1], "newest"


def _quoted(commit: Commit) -> str:
    text = headline(commit["description"] or commit["subject"]) or commit["subject"]
    return f"“{text[:1].upper() + text[1:]}”"


def themes(commits: list[Commit]) -> str | None:
    """The commits told by theme, most significant first: how many of each kind (and the
    scope or agent when they all share one), then the notable commit of the first
    `NOTABLE` themes (see `notable`); never the subjects one after another."""
    if not any(c["subject"] for c in commits):
        return None
    if len(commits) == 1:
        return f"One commit: {_quoted(commits[0])}."
    grouped: dict[str, list[Commit]] = {title: [] for title in GROUPS}
    for c in commits:
        grouped[group_of(c["type"], c["breaking"])].append(c)
    groups = [(title, listed) for title, listed in grouped.items() if listed]
    if len(groups) == 1 and groups[0][0] == OTHER:  # no commit says what kind it is
        commit, which = notable(commits)
        return f"{len(commits)} commits{_shared_scope(commits)}; the {which} is {_quoted(commit)}."
    counts = []
    for title, listed in groups:
        one, many = _NOUNS[title]
        counts.append(f"{len(listed)} {one if len(listed) == 1 else many}{_shared_scope(listed)}")
    picks = []
    for title, listed in [g for g in groups if any(c["subject"] for c in g[1])][:NOTABLE]:
        commit, which = notable(listed)
        what = _NOUNS[title][0] if len(listed) == 1 else f"{which} {_NOUNS[title][0]}"
        picks.append(f"the {what} {_quoted(commit)}")
    return f"The {len(commits)} commits bring {_and(counts)}. Notable: {_and(picks)}."


def _shared_scope(commits: list[Commit]) -> str:
    """` to api` (or ` by agent-4` for an agent's prefix) when every commit has that
    scope, else nothing."""
    scopes = {c["scope"] for c in commits}
    scope = scopes.pop() if len(scopes) == 1 else ""
    if not scope:
        return ""
    return f" by {scope}" if _AGENT_NAME.match(scope) else f" to {scope}"


def _derived_overview(session: BuildSession, facts: RepoFacts, names: Names) -> str:
    where = f" in {facts['repo']}" if facts["repo"] else ""
    sentence = f"{names.agent_name(session.agent_id)} worked{where}"
    if facts["duration"]:
        sentence += f" for {facts['duration']}"
    changed = []
    if facts["commit_count"]:
        changed.append(plural(facts["commit_count"], "commit"))
    if facts["file_count"]:
        changed.append(plural(facts["file_count"], "file") + " touched")
    if facts["lines_added"] is not None or facts["lines_removed"] is not None:
        changed.append(f"+{facts['lines_added'] or 0}/−{facts['lines_removed'] or 0} lines")
    if changed:
        return f"{sentence}: {', '.join(changed)}."
    return f"{sentence}; no commits were recorded."


def _counted_title(facts: RepoFacts) -> str | None:
    """`2 commits in repo`, from the counters alone, when a repository can be named."""
    if not facts["repo"]:
        return None
    if facts["commit_count"]:
        return f"{plural(facts['commit_count'], 'commit')} in {facts['repo']}"
    if facts["file_count"]:
        return f"{plural(facts['file_count'], 'file')} changed in {facts['repo']}"
    return None


def _delivered_title(deliverables: list[str]) -> str | None:
    if not deliverables:
        return None
    name = deliverables[0].replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    more = len(deliverables) - 1
    return headline(f"Delivered {name}" + (f" and {plural(more, 'more file')}" if more else ""))


def _title(
    session: BuildSession,
    facts: RepoFacts,
    achievements: list[str],
    deliverables: list[str],
) -> str:
    """The given title unless it is a placeholder; else a headline from the work itself:
    its summary, its commits, its first achievement, its overview, the conversation, its
    deliverables or its counters."""
    given = session.title or extra_text(session.metadata, "task_title", "current_mission")
    if not is_placeholder_title(given):
        assert given is not None
        return given
    summary = extra_text(session.source_data, "work_summary") or extra_text(
        session.metadata, "session_summary"
    )
    return (
        headline(summary)
        or _derived_title(facts["commits"])
        or headline(achievements[0] if achievements else None)
        or headline(session.overview)
        or headline(next((c.content for c in session.source_data.conversations), None))
        or _delivered_title(deliverables)
        or _counted_title(facts)
        or (given.strip() if given and given.strip() else None)
        or f"Build session, {when(session)['human']}"
    )


def _texts(session: BuildSession, key: str) -> list[str]:
    """The non-empty strings (or deliverable-like objects) listed under `key` in
    source_data or metadata, each once, in order."""
    found: list[str] = []
    for container in (session.source_data, session.metadata):
        listed = (container.model_extra or {}).get(key)
        if isinstance(listed, list):
            found += [t for t in map(deliverable_text, listed) if t and t not in found]
    return found


def _speaker(source: str, agent: str) -> str:
    """A turn's speaker by name: the agent for its own turns, the source's name otherwise."""
    name = one_line(source).strip()
    if name.lower() in ("agent", "assistant", "ai", "self", "me"):
        return agent
    if name.lower() in ("", "user", "you", "human"):
        return "User"
    return name[0].upper() + name[1:] if name.islower() else name


def conversation(session: BuildSession, names: Names = NO_NAMES) -> list[Quote]:
    """The build conversation's first and last turns, speakers named, each quote kept to
    about `QUOTE_CHARS` characters ending on a whole word; a turn's time is its hour when
    it falls on the session's day (the page shows that date already), else its date too."""
    turns = [c for c in session.source_data.conversations if c.content.strip()]
    if len(turns) > QUOTES:
        turns = turns[: QUOTES // 2] + turns[-(QUOTES // 2) :]
    quotes: list[Quote] = []
    for turn in turns:
        text = " ".join(turn.content.split())
        if len(text) > QUOTE_CHARS:
            head = text[: QUOTE_CHARS + 1]
            text = (head.rsplit(" ", 1)[0] if " " in head else text[:QUOTE_CHARS]) + " …"
        quotes.append(
            {
                "speaker": _speaker(turn.source, names.agent_name(session.agent_id)),
                "text": text,
                "time": _on_day(turn.timestamp, when(session)["date"]) if turn.timestamp else "",
            }
        )
    return quotes


def story(session: BuildSession, facts: RepoFacts, names: Names = NO_NAMES) -> Story:
    """S2: given story fields win; otherwise each part is derived from what changed."""
    achievements = list(session.key_achievements)
    for container, key in (
        (session.source_data, "key_achievements"),
        (session.metadata, "achievements"),
    ):
        found = (container.model_extra or {}).get(key)
        if isinstance(found, list):
            achievements += [a for a in found if isinstance(a, str) and a.strip()]
    achievements += [t for t in _texts(session, "completed_tasks") if t not in achievements]
    given_overview = (
        session.overview
        or extra_text(session.source_data, "work_summary")
        or extra_text(session.metadata, "session_summary")
    )
    derived = _derived_overview(session, facts, names)
    overview = given_overview or derived
    solution = session.solution or themes(facts["commits"])
    deliverables = list(session.deliverables)
    extra_deliverables = (session.source_data.model_extra or {}).get("deliverables")
    if isinstance(extra_deliverables, list):
        deliverables += extra_deliverables
    delivered = [d for d in map(deliverable_text, deliverables) if d]
    title = _title(session, facts, achievements, delivered)
    if same_sentence(overview, title):  # the title is the overview: open with the figures
        overview, given_overview = derived, None
    return {
        "title": title,
        "overview": overview,
        "problem": session.problem,
        "solution": solution,
        "lessons": lesson_list(session.lessons),
        "next_steps": list(session.next_steps),
        "achievements": achievements,
        "deliverables": delivered,
        "tools": _texts(session, "tools_created"),
        "improvements": _texts(session, "infrastructure_improvements"),
        "conversation": conversation(session, names),
        "overview_derived": not given_overview,
    }


def social(
    session: BuildSession,
    facts: RepoFacts,
    told: Story,
    names: Names = NO_NAMES,
    link: str | None = None,
) -> tuple[list[str], list[str]]:
    """S6: the thread (and its Mastodon form, when it differs), opening with the title
    and the figures (not the commit count when the title, made from the commits, counts
    them already), closing with the link to the session's page when it has one."""
    figures = []
    counted = len(facts["commits"]) > 1 and told["title"] == _derived_title(facts["commits"])
    if facts["commit_count"] and not counted:
        figures.append(plural(facts["commit_count"], "commit"))
    if facts["file_count"]:
        figures.append(plural(facts["file_count"], "file"))
    if facts["lines_added"] is not None:
        figures.append(f"+{facts['lines_added']} lines")
    overview = None if told["overview_derived"] else told["overview"]
    if overview and restates(overview, told["title"]):  # the title is this overview's headline
        head, overview = opening(overview, figures), None
    else:
        head = opening(told["title"], figures)
    paragraphs = [head] + ([overview] if overview else [])
    paragraphs += [f"Done: {a}" for a in told["achievements"][:3]]
    paragraphs += [f"Lesson: {x['title']}. {x['description']}".strip() for x in told["lessons"][:2]]
    if told["next_steps"]:
        paragraphs.append("Next: " + "; ".join(told["next_steps"][:3]))
    return threads(
        paragraphs,
        hashtags(
            facts["project"]["name"] if facts["project"] else None,
            names.agent_name(session.agent_id) if names.agent_tags else None,
            generic=["BuildInPublic"],
        ),
        link,
    )


def dated_commits(session: BuildSession) -> list[Dated]:
    """The session's commits that have a readable time, with their line counts."""
    dated: list[Dated] = []
    for raw in session.source_data.git_commits:
        try:
            at = parse_timestamp(raw.timestamp or "")
        except ValueError:
            continue
        extra = raw.model_extra or {}
        dated.append(
            {
                "at": at,
                "added": _whole(extra.get("lines_added")),
                "removed": _whole(extra.get("lines_removed")),
            }
        )
    return dated


NO_COMMITS: Final = "no commits listed: the build log has nothing to show"


def log_draft(facts: RepoFacts) -> list[str]:
    """Why the build log is a draft, beyond the session's reasons: it lists no commit."""
    return [] if facts["commits"] else [NO_COMMITS]


def run(
    session: BuildSession, names: Names = NO_NAMES, address: Address = NO_ADDRESS
) -> list[ArtifactSpec]:
    """S1 to S7 for one build session; drafts (see `drafts.draft_reasons`) get no thread
    and no chart, nor does a session without a dated commit. A build log that lists no
    commit is a draft of its own (`log_draft`): the site leaves it out of the post. The
    repository and the agent are named as `names` shows them, the post lives at
    `address` (see `front.post_slug`)."""
    facts = scrub_all(repo_facts(session, names))
    told = scrub_all(story(session, facts, names))
    place = post_slug(address, told["title"], session)
    agent = names.agent_name(session.agent_id)
    draft = draft_reasons(session)
    chart = None if draft else activity_chart(dated_commits(session), told["title"])
    link = {"file": chart["file"], "alt": chart["subtitle"]} if chart else None
    tags = ["build", "devlog"] + [
        t
        for t in (
            facts["project"]["tag"] if facts["project"] else None,
            slug(agent).lower() if names.agent_tags else None,
        )
        if t
    ]
    # The post opens with the overview the session gives; one derived from the figures
    # is not shown in it, since "By the numbers" states them, so it opens with the
    # problem or what was done. The description is a sentence the page does not open
    # with, and not the title.
    given = None if told["overview_derived"] else told["overview"]
    opening = given or told["problem"] or told["solution"]
    description = summary_line(
        given,
        told["problem"],
        told["solution"],
        _derived_overview(session, facts, names),
        *told["achievements"][:1],
        told["title"],
        avoid=(told["title"], opening),
    )

    def context(kind: str, reasons: list[str] | None = None, **more: Any) -> dict[str, Any]:
        reasons = draft if reasons is None else reasons
        front = front_matter(
            session,
            kind,
            title=told["title"],
            description=description,
            tags=tags,
            draft=reasons,
            slug=place,
            image=link["file"] if link else None,
            author=agent,
        )
        return {
            **identity(session, names),
            "front": front,
            "draft_reasons": reasons,
            "facts": facts,
            "story": told,
            **more,
        }

    posts, mastodon = (
        ([], []) if draft else social(session, facts, told, names, address.with_slug(place).url)
    )
    specs = [
        ArtifactSpec(
            "readme",
            PIPELINE,
            "S3",
            "readme.md.j2",
            context("readme", recent_commits=facts["commits"][-RECENT:]),
        ),
        ArtifactSpec(
            "build_log",
            PIPELINE,
            "S4",
            "build_log.md.j2",
            context("build_log", draft + log_draft(facts), chart=link),
        ),
        ArtifactSpec(
            "blog_post",
            PIPELINE,
            "S5",
            "blog_post.md.j2",
            context("blog_post", tags=tags, chart=link),
        ),
        ArtifactSpec(
            "social_post",
            PIPELINE,
            "S6",
            "social_post.md.j2",
            context("social_post", posts=posts, fence=fence(posts + mastodon), mastodon=mastodon),
        ),
    ]
    if chart is not None:
        specs.append(
            ArtifactSpec(
                "activity_chart",
                PIPELINE,
                "S7",
                "activity_chart.svg.j2",
                {**identity(session, names), "chart": chart},
            )
        )
    return specs
