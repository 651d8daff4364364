"""Where things live in the store's tree. The one place that decides paths.

A session's folder is a function of its id alone, fanned out by the SHA-256 of the id
into 256 x 256 buckets: at a million sessions a bucket holds about 15 folders, and no
tree ever holds more than 256 entries.
"""

from __future__ import annotations

import hashlib

__all__ = [
    "SESSIONS_DIR",
    "TEMPLATES_DIR",
    "STORE_FILE",
    "RECORD_FILE",
    "MANIFEST_FILE",
    "SCREENSHOTS_DIR",
    "ARTIFACT_KINDS",
    "session_dir",
    "artifact_path",
    "template_path",
    "session_id_from_path",
]

SESSIONS_DIR = "sessions"
TEMPLATES_DIR = "templates"
STORE_FILE = "gitflywheel.json"
RECORD_FILE = "session.json"
MANIFEST_FILE = "manifest.json"
SCREENSHOTS_DIR = "screenshots"
ARTIFACT_KINDS = ("readme", "blog_post", "build_log", "social_post", "trade_journal")


def session_dir(session_id: str) -> str:
    """`sessions/ab/cd/<id>`, where abcd starts the SHA-256 of the id."""
    digest = hashlib.sha256(session_id.encode("utf-8")).hexdigest()
    return f"{SESSIONS_DIR}/{digest[:2]}/{digest[2:4]}/{session_id}"


def artifact_path(session_id: str, kind: str) -> str:
    """Each artifact is Markdown, named after its kind."""
    return f"{session_dir(session_id)}/{kind}.md"


def template_path(name: str) -> str:
    return f"{TEMPLATES_DIR}/{name}"


def session_id_from_path(path: str) -> str | None:
    """The session id a path belongs to, if it lies in a well-placed session folder."""
    parts = path.split("/")
    if len(parts) < 4 or parts[0] != SESSIONS_DIR:
        return None
    return parts[3] if session_dir(parts[3]) == "/".join(parts[:4]) else None
