"""A changelog per project: the published build sessions of one project, their changes
gathered newest first, by month, in Keep a Changelog's sections.

A project is what a build session's facts name (`facts.project`, from the repository:
`pipelines.common.project_of`, one tag however its repositories are spelt); facts made
before projects were named give it from their repository the same way. A session's
changes are its commits, read as the build log reads them (conventional type and scope,
an `agent-4:` prefix as the scope, `Add`/`Fix` as types): features are Added, fixes
Fixed, documentation Documentation, tests, build, CI and chores Maintenance, anything
else Changed, and breaking changes come first. Sessions carry no release tag (neither
the work session format nor `capture` records one), so the changes are grouped by the
month of their session, in UTC. A session that lists no commit is one line of its own
under "Sessions without listed commits". Pure reading: nothing here writes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from ..errors import GitflywheelError
from ..pipelines.changelog import group_of, implied_type, parse
from ..pipelines.common import project_of, utc_text
from ..session.facts import Facts
from ..storage.layout import FACTS_FILE
from ..storage.store import Store
from .posts import Post

__all__ = [
    "SECTIONS",
    "NO_COMMITS",
    "Change",
    "Release",
    "Project",
    "section_of",
    "changelog",
    "changelog_in",
    "read_changelog",
    "projects",
]

# Keep a Changelog's sections, in the order a project page shows them.
SECTIONS: Final = ("Breaking changes", "Added", "Changed", "Fixed", "Documentation", "Maintenance")
NO_COMMITS: Final = "Sessions without listed commits"
_SECTIONS_LISTED: Final = frozenset(SECTIONS)
_SECTION_OF_GROUP: Final = {
    "Breaking changes": "Breaking changes",
    "Features": "Added",
    "Fixes": "Fixed",
    "Documentation": "Documentation",
    "Refactoring": "Changed",
    "Performance": "Changed",
    "Tests": "Maintenance",
    "Build and CI": "Maintenance",
    "Chores": "Maintenance",
    "Other changes": "Changed",
}


def section_of(kind: str, breaking: bool) -> str:
    """The Keep a Changelog section of a commit of this type (`feat`: Added)."""
    return _SECTION_OF_GROUP[group_of(kind, breaking)]


@dataclass(frozen=True)
class Change:
    """One line of a changelog: a commit (its scope, description, short hash and link),
    or a session without listed commits (its title); `session_id` says whose."""

    session_id: str
    text: str
    scope: str = ""
    short: str = ""
    url: str | None = None


@dataclass
class Release:
    """The changes of one month (`2025-12`, titled `December 2025`), by section, and
    the sessions they come from (ids, newest first)."""

    key: str
    title: str
    sections: dict[str, list[Change]] = field(default_factory=dict)
    sessions: list[str] = field(default_factory=list)

    def ordered(self) -> list[tuple[str, list[Change]]]:
        """The sections that hold a change, in `SECTIONS` order, sessions last."""
        order = [*SECTIONS, NO_COMMITS]
        return [(s, self.sections[s]) for s in order if self.sections.get(s)]


@dataclass
class Project:
    """A project: its name (as its newest session names it), tag, sessions (newest
    first) and releases (newest first)."""

    name: str
    tag: str
    posts: list[Post]
    releases: list[Release]


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def changelog(store: Store, folder: bytes) -> dict[str, Any] | None:
    """What a project's changelog reads of a build session (its folder's tree id):
    `changelog_in` of the facts its artifacts were rendered from, or None when it has
    none readable."""
    entry = store.lookup(folder, FACTS_FILE)
    if entry is None:
        return None
    try:
        facts = Facts.from_bytes(store.blob(entry[1]))
    except (GitflywheelError, KeyError, ValueError):
        return None
    return changelog_in(facts)


def changelog_in(facts: Facts) -> dict[str, Any] | None:
    """What a project's changelog reads of a build session's facts (`facts` of its build
    log, else of its post), as JSON (what a site keeps of it between builds): its
    project (None: it names none) and its changes, newest first, each
    [section, text, scope, short hash, link or None]; None when neither artifact's
    context holds the session's figures."""
    for kind in ("build_log", "blog_post"):
        found = facts.artifacts.get(kind)
        value = found.context.get("facts") if found is not None else None
        if isinstance(value, dict):
            return {"project": _project(value), "changes": [list(c) for c in _changes(value)]}
    return None


_Line = tuple[str, str, str, str, str | None]  # a change: section, text, scope, short, url


def read_changelog(value: Any) -> tuple[dict[str, str] | None, list[_Line]] | None:
    """`changelog_in`'s JSON as read back (project, changes), or None when it is not
    shaped so (a kept copy that cannot be trusted: read the facts again)."""
    if not isinstance(value, dict):
        return None
    named, changes = value.get("project"), value.get("changes")
    if named is not None and not (
        isinstance(named, dict)
        and all(isinstance(named.get(k), str) and named[k].strip() for k in ("name", "tag"))
    ):
        return None
    if not isinstance(changes, list):
        return None
    lines: list[_Line] = []
    for line in changes:
        if not (
            isinstance(line, list)
            and len(line) == 5
            and line[0] in _SECTIONS_LISTED
            and all(isinstance(t, str) for t in line[1:4])
            and (line[4] is None or (isinstance(line[4], str) and line[4].startswith("https://")))
        ):
            return None
        lines.append((line[0], line[1], line[2], line[3], line[4]))
    project = {"name": named["name"], "tag": named["tag"]} if named is not None else None
    return project, lines


def _project(facts: dict[str, Any]) -> dict[str, str] | None:
    named = facts.get("project")
    if isinstance(named, dict) and _text(named.get("tag")) and _text(named.get("name")):
        return {"name": _text(named["name"]), "tag": _text(named["tag"])}
    return project_of(_text(facts.get("repo")) or None)  # facts made before projects


def _changes(facts: dict[str, Any]) -> list[_Line]:
    """A session's commits as changes, newest first, each with its section."""
    commits = facts.get("commits")
    listed = [c for c in commits if isinstance(c, dict)] if isinstance(commits, list) else []
    out: list[_Line] = []
    for commit in reversed(listed):  # stored in time order
        subject = _text(commit.get("subject"))
        read = parse(subject)
        kind = _text(commit.get("type")) or implied_type(read)
        breaking = commit.get("breaking") is True or read.breaking
        url = commit.get("url")
        out.append(
            (
                section_of(kind, breaking),
                _text(commit.get("description")) or read.description or "(no message)",
                _text(commit.get("scope")) or read.scope or read.agent,
                _text(commit.get("short")),
                url if isinstance(url, str) and url.startswith("https://") else None,
            )
        )
    return out


def projects(
    store: Store,
    commit: str,
    posts: Iterable[Post],
    changelog_of: Callable[[Post], Any] | None = None,
) -> list[Project]:
    """The projects of the published build sessions `posts` (newest first) at `commit`,
    by name; a session whose facts name no project is in none. `changelog_of` gives a
    post's `changelog` kept already (default: read from the store; also what is read
    when it gives something not shaped as one)."""
    root = store.commit(commit.encode()).tree
    found: dict[str, Project] = {}
    months: dict[str, dict[str, Release]] = defaultdict(dict)
    for post in posts:
        if post.session_type != "build":
            continue
        kept = changelog_of(post) if changelog_of is not None else None
        read = read_changelog(kept)
        if read is None and (changelog_of is None or kept is not None):
            # none given, or one of another shape (None given: its facts have none)
            folder = store.lookup(root, post.folder)
            read = read_changelog(changelog(store, folder[1]) if folder is not None else None)
        named, lines = read if read is not None else (None, [])
        if named is None:
            continue
        project = found.setdefault(named["tag"], Project(named["name"], named["tag"], [], []))
        project.posts.append(post)
        key = utc_text(post.date, "%Y-%m")
        release = months[named["tag"]].get(key)
        if release is None:
            release = Release(key, utc_text(post.date, "%B %-Y"))
            months[named["tag"]][key] = release
            project.releases.append(release)
        release.sessions.append(post.session_id)
        for section, text, scope, short, url in lines or [(NO_COMMITS, post.title, "", "", None)]:
            change = Change(post.session_id, text, scope, short, url)
            release.sections.setdefault(section, []).append(change)
    return sorted(found.values(), key=lambda p: (p.name.casefold(), p.tag))
