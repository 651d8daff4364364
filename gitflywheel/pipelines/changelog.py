"""Commits read the way changelog tools read them: conventional-commit type, scope and
breaking mark; and each commit's web address on the forge that hosts the repository."""

from __future__ import annotations

import re
from typing import Final, NamedTuple

from ..session.public_text import is_local_path

__all__ = [
    "GROUPS",
    "BREAKING",
    "OTHER",
    "Conventional",
    "parse",
    "implied_type",
    "group_of",
    "commit_url",
]

BREAKING: Final = "Breaking changes"
OTHER: Final = "Other changes"
# Type to group, in the order the groups are shown (breaking changes come before all).
_TYPES: Final = {
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
GROUPS: Final = (BREAKING, *dict.fromkeys(_TYPES.values()), OTHER)

# A leading `agent-4:` names who made a commit (the agents of a team prefix their
# commits so), not what it did: it is read as the commit's agent, then the rest is read.
_AGENT = re.compile(r"^([A-Za-z][A-Za-z_]*-\d+): +(?=\S)")
# The first word of a subject that says what kind of change it is, as changelog tools
# read a subject that has no type (git-cliff's Keep a Changelog parsers: `^add`, `^fix`).
_VERBS: Final = (
    ("feat", re.compile(r"(?:add(?:s|ed)?|creat(?:e|es|ed)|implement(?:s|ed)?)\b", re.I)),
    ("fix", re.compile(r"(?:fix(?:es|ed)?|resolv(?:e|es|ed)|correct(?:s|ed)?)\b", re.I)),
    ("docs", re.compile(r"document(?:s|ed)?\b", re.I)),
)
_HEADER = re.compile(r"^([A-Za-z]+)(?:\(([^()\r\n]*)\))?(!)?: +(\S.*)$")
_FOOTER = re.compile(r"^BREAKING[ -]CHANGE: ", re.M)
_SHA = re.compile(r"^[0-9a-fA-F]{7,64}$")
_URL = re.compile(
    r"^(?:(?:https?|ssh|git)://)?(?:[^@/\s]+@)?([A-Za-z0-9.-]+\.[A-Za-z]{2,})(?::\d+)?[/:](.+)$"
)
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


class Conventional(NamedTuple):
    """A commit subject read as `agent: type(scope)!: description`; type is empty when
    it is not one, agent when no `agent-4:` prefix opens it."""

    type: str
    scope: str
    breaking: bool
    description: str
    agent: str = ""


def parse(message: str) -> Conventional:
    """The agent (a leading `agent-4:`), type, scope, breaking mark (`!` or a `BREAKING
    CHANGE:` footer) and description of a commit message; a subject without a known type
    is its own description (after the agent's prefix)."""
    lines = message.strip().splitlines()
    subject = lines[0].strip() if lines else ""
    footer = bool(_FOOTER.search("\n".join(lines[1:])))
    agent = _AGENT.match(subject)
    if agent:
        subject = subject[agent.end() :]
    who = agent.group(1) if agent else ""
    found = _HEADER.match(subject)
    if not found or found.group(1).lower() not in _TYPES:  # `Note: …` is not a type
        return Conventional("", "", footer, subject, who)
    kind, scope, bang, text = found.groups()
    return Conventional(
        kind.lower(), (scope or "").strip(), bool(bang) or footer, text.strip(), who
    )


def implied_type(read: Conventional) -> str:
    """The commit's type: the one it states, else the one its first word implies (`Add`,
    `Create`, `Implement`: feat; `Fix`, `Resolve`: fix; `Document`: docs), else none."""
    if read.type:
        return read.type
    return next((kind for kind, verb in _VERBS if verb.match(read.description)), "")


def group_of(kind: str, breaking: bool) -> str:
    """The changelog group a commit of this type belongs in."""
    return BREAKING if breaking else _TYPES.get(kind, OTHER)


def commit_url(repo_path: str | None, sha: str) -> str | None:
    """The commit's page when the repository is named by a URL or `host/owner/repo` on
    GitHub, a GitLab host, Codeberg or a Gitea/Forgejo host; never for a local path."""
    if not repo_path or not _SHA.match(sha):
        return None
    text = repo_path.strip()
    found = _URL.match(text)
    if not found or is_local_path(text) or "\\" in text:
        return None
    host = found.group(1).lower()
    parts = [p for p in found.group(2).split("/") if p]
    if parts:
        parts[-1] = parts[-1].removesuffix(".git")
    if len(parts) < 2 or not all(_NAME.match(p) and p not in (".", "..") for p in parts):
        return None
    if host == "github.com":
        return f"https://github.com/{parts[0]}/{parts[1]}/commit/{sha}"
    if host == "gitlab.com" or host.startswith("gitlab."):
        return f"https://{host}/{'/'.join(parts)}/-/commit/{sha}"
    if host == "codeberg.org" or host.split(".")[0] in ("gitea", "forgejo"):
        return f"https://{host}/{parts[0]}/{parts[1]}/commit/{sha}"
    return None
