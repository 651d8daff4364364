"""The build pipeline, S1 to S6: repository facts, the story, and four artifacts."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any, Final

from ..artifacts import ArtifactSpec
from ..models import BuildSession, parse_timestamp
from .common import duration_text, extra_text, first_line, identity, repo_name, short_id, slug, when
from .social import hashtags, thread

__all__ = ["RepoFacts", "Story", "repo_facts", "story", "run"]

PIPELINE: Final = "build"


@dataclass(frozen=True)
class RepoFacts:
    """S1: what the session did to its repository, reconciled from commits and metadata."""

    repo: str | None
    repo_path: str | None
    commits: list[dict[str, Any]]
    commit_count: int | None
    files: list[str]
    file_count: int | None
    lines_added: int | None
    lines_removed: int | None
    duration_minutes: int | None
    duration: str | None
    notes: list[str] = field(default_factory=list)


def _commit(raw: Any) -> dict[str, Any]:
    extra = raw.model_extra or {}
    stamp = raw.timestamp or ""
    with contextlib.suppress(ValueError):
        stamp = (
            parse_timestamp(stamp).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if stamp else ""
        )
    added = extra.get("lines_added")
    removed = extra.get("lines_removed")
    return {
        "hash": raw.hash or "",
        "short": (raw.hash or "")[:7],
        "subject": first_line(raw.message),
        "author": raw.author or "",
        "time": stamp,
        "files": list(raw.files),
        "lines_added": added if isinstance(added, int) and not isinstance(added, bool) else None,
        "lines_removed": removed
        if isinstance(removed, int) and not isinstance(removed, bool)
        else None,
    }


def repo_facts(session: BuildSession) -> RepoFacts:
    """S1: commits, files and line counts, each from the best source, disagreements noted."""
    meta = session.metadata
    commits = [_commit(c) for c in session.source_data.git_commits]
    notes: list[str] = []
    moments = []
    for raw in session.source_data.git_commits:
        try:
            moments.append(parse_timestamp(raw.timestamp or ""))
        except ValueError:
            break
    else:  # every commit has a time: tell them in the order they happened
        commits = [c for _, _, c in sorted(zip(moments, range(len(commits)), commits, strict=True))]

    listed_files = {f for c in commits for f in c["files"]}
    extra_files = (session.source_data.model_extra or {}).get("files_changed")
    if isinstance(extra_files, list):
        listed_files |= {f for f in extra_files if isinstance(f, str)}
    files = sorted(listed_files)

    commit_count: int | None = len(commits) if commits else meta.counter("commits")
    if commits and meta.counter("commits") is not None and meta.counter("commits") != len(commits):
        notes.append(
            f"metadata says {meta.counter('commits')} commits; the session lists {len(commits)}"
        )

    file_count: int | None = len(files) if files else meta.counter("files_changed")
    if (
        files
        and meta.counter("files_changed") is not None
        and meta.counter("files_changed") != len(files)
    ):
        notes.append(
            f"metadata says {meta.counter('files_changed')} files changed; the commits name {len(files)}"
        )

    lines: dict[str, int | None] = {}
    for key in ("lines_added", "lines_removed"):
        per_commit = [c[key] for c in commits]
        derived = sum(per_commit) if per_commit and all(v is not None for v in per_commit) else None
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

    minutes = meta.counter("duration_minutes")
    return RepoFacts(
        repo=repo_name(session.source_data.repo_path),
        repo_path=session.source_data.repo_path,
        commits=commits,
        commit_count=commit_count,
        files=files,
        file_count=file_count,
        lines_added=lines["lines_added"],
        lines_removed=lines["lines_removed"],
        duration_minutes=minutes,
        duration=duration_text(minutes),
        notes=notes,
    )


@dataclass(frozen=True)
class Story:
    """S2: the session told as a story, from its own fields or derived from its data."""

    title: str
    overview: str
    problem: str | None
    solution: str | None
    lessons: list[dict[str, str]]
    next_steps: list[str]
    achievements: list[str]
    deliverables: list[str]


def _deliverable(item: Any) -> str | None:
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        name = item.get("file") or item.get("name") or item.get("title")
        if isinstance(name, str):
            kind = item.get("type")
            status = item.get("status")
            bits = [b for b in (kind, status) if isinstance(b, str)]
            return f"{name} ({', '.join(bits)})" if bits else name
    return None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def story(session: BuildSession, facts: RepoFacts) -> Story:
    """S2: given story fields win; otherwise each part is derived from what changed."""
    meta_title = extra_text(session.metadata, "task_title", "current_mission")
    where = facts.repo or "the repository"
    subjects = [c["subject"] for c in facts.commits if c["subject"]]
    title = session.title or meta_title
    if not title:
        if subjects:
            title = (
                f"{where}: {subjects[-1]}"
                if len(subjects) == 1
                else f"{where}: {_plural(len(subjects), 'commit')}, from “{subjects[0]}”"
            )
        else:
            title = f"Build session in {where}"

    overview = (
        session.overview
        or extra_text(session.source_data, "work_summary")
        or extra_text(session.metadata, "session_summary")
    )
    if not overview:
        parts = [f"{session.agent_id} worked in {where}"]
        if facts.duration:
            parts.append(f"for {facts.duration}")
        sentence = " ".join(parts)
        changed = []
        if facts.commit_count:
            changed.append(_plural(facts.commit_count, "commit"))
        if facts.file_count:
            changed.append(_plural(facts.file_count, "file") + " touched")
        if facts.lines_added is not None or facts.lines_removed is not None:
            changed.append(f"+{facts.lines_added or 0}/−{facts.lines_removed or 0} lines")
        overview = (
            f"{sentence}: {', '.join(changed)}."
            if changed
            else f"{sentence}; no commits were recorded."
        )

    solution = session.solution
    if not solution and subjects:
        shown = subjects[:5]
        more = f", and {len(subjects) - 5} more" if len(subjects) > 5 else ""
        solution = "The work landed as " + "; ".join(f"“{s}”" for s in shown) + more + "."

    achievements = list(session.key_achievements)
    meta_achievements = (session.metadata.model_extra or {}).get("achievements")
    if isinstance(meta_achievements, list):
        achievements += [a for a in meta_achievements if isinstance(a, str)]
    return Story(
        title=title,
        overview=overview,
        problem=session.problem,
        solution=solution,
        lessons=[
            {"title": lesson.title, "description": lesson.description} for lesson in session.lessons
        ],
        next_steps=list(session.next_steps),
        achievements=achievements,
        deliverables=[d for d in (_deliverable(x) for x in session.deliverables) if d],
    )


def _social(
    session: BuildSession, facts: RepoFacts, told: Story, moment: dict[str, str]
) -> list[str]:
    figures = []
    if facts.commit_count:
        figures.append(_plural(facts.commit_count, "commit"))
    if facts.file_count:
        figures.append(_plural(facts.file_count, "file"))
    if facts.lines_added is not None:
        figures.append(f"+{facts.lines_added} lines")
    head = f"{told.title} ({moment['date']} {moment['time']} UTC, session {short_id(session)})"
    head += (": " + ", ".join(figures) + ".") if figures else "."
    paragraphs = [head, told.overview]
    paragraphs += [f"Done: {a}" for a in told.achievements[:3]]
    paragraphs += [
        f"Lesson: {lesson['title']}. {lesson['description']}".strip() for lesson in told.lessons[:2]
    ]
    if told.next_steps:
        paragraphs.append("Next: " + "; ".join(told.next_steps[:3]))
    return thread(
        paragraphs, hashtags("BuildInPublic", slug(facts.repo or ""), slug(session.agent_id))
    )


def run(session: BuildSession) -> list[ArtifactSpec]:
    """S1 to S6 for one build session."""
    facts = repo_facts(session)
    told = story(session, facts)
    moment = when(session)
    base = {
        **identity(session),
        "facts": facts,
        "story": told,
    }
    tags = ["build", "devlog"] + [
        t for t in (slug(facts.repo or "").lower(), slug(session.agent_id).lower()) if t
    ]
    recent = facts.commits[-10:]
    return [
        ArtifactSpec("readme", PIPELINE, "S3", "readme.md.j2", {**base, "recent_commits": recent}),
        ArtifactSpec("build_log", PIPELINE, "S4", "build_log.md.j2", base),
        ArtifactSpec("blog_post", PIPELINE, "S5", "blog_post.md.j2", {**base, "tags": tags}),
        ArtifactSpec(
            "social_post",
            PIPELINE,
            "S6",
            "social_post.md.j2",
            {"posts": _social(session, facts, told, moment)},
        ),
    ]
