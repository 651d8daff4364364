"""Where things live in the store's tree: the one place that decides paths in it
(paths inside the git directory, beside the tree, are `gitdir`'s).

A session's folder is a function of its id alone, fanned out by the first four hex
digits of the SHA-256 of the id, one digit per level (`sessions/a/b/c/d/<id>`): at a
million sessions a bucket holds about 15 folders, every other tree at most 16 entries,
so recording a session rewrites about 90 tree entries, however large the store is.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import Literal, get_args

__all__ = [
    "ArtifactKind",
    "TEMPLATE_SUFFIX",
    "DEFAULT_STORE",
    "SESSIONS_DIR",
    "FANOUT_LEVELS",
    "TEMPLATES_DIR",
    "STORE_FILE",
    "SETTINGS_FILE",
    "RECORD_FILE",
    "MANIFEST_FILE",
    "FACTS_FILE",
    "SCREENSHOTS_DIR",
    "ARTIFACT_KINDS",
    "CHART_KINDS",
    "session_dir",
    "artifact_file",
    "artifact_path",
    "template_path",
    "screenshot_name",
]

# The artifacts a session folder may hold, each one file named after its kind.
ArtifactKind = Literal[
    "readme",
    "blog_post",
    "build_log",
    "social_post",
    "trade_journal",
    "activity_chart",
    "equity_curve",
]
DEFAULT_STORE = "flywheel.git"  # where the store is when neither --repo nor $GITFLYWHEEL_REPO says
SESSIONS_DIR = "sessions"
FANOUT_LEVELS = 4  # session folders sit this many levels below sessions/
TEMPLATES_DIR = "templates"
TEMPLATE_SUFFIX = ".j2"  # templates/ holds *.j2 files only
STORE_FILE = "gitflywheel.json"
SETTINGS_FILE = "gitflywheel.toml"  # the store's settings (`gitflywheel config`), when set
RECORD_FILE = "session.json"
MANIFEST_FILE = "manifest.json"
FACTS_FILE = "facts.json"
SCREENSHOTS_DIR = "screenshots"
ARTIFACT_KINDS: tuple[str, ...] = get_args(ArtifactKind)
CHART_KINDS: tuple[str, ...] = (
    "activity_chart",
    "equity_curve",
)  # SVG; every other kind is Markdown


@lru_cache(maxsize=4096)
def session_dir(session_id: str) -> str:
    """`sessions/a/b/c/d/<id>`, where abcd starts the SHA-256 of the id (remembered for
    the sessions met last: a check or a plan asks for each file of a session's folder)."""
    digest = hashlib.sha256(session_id.encode("utf-8")).hexdigest()
    return "/".join([SESSIONS_DIR, *digest[:FANOUT_LEVELS], session_id])


def artifact_file(kind: str) -> str:
    """An artifact's file name: its kind, `.svg` for a chart, `.md` for everything else."""
    return f"{kind}.svg" if kind in CHART_KINDS else f"{kind}.md"


def artifact_path(session_id: str, kind: str) -> str:
    """Where a session's artifact of this kind lives: beside the others in its folder."""
    return f"{session_dir(session_id)}/{artifact_file(kind)}"


def template_path(name: str) -> str:
    return f"{TEMPLATES_DIR}/{name}"


_UNSAFE_STEM = re.compile(r"[^A-Za-z0-9_-]+")
_EXTENSION = re.compile(r"\.[a-z0-9]{1,8}")
_MAX_NAME = 120


def screenshot_name(index: int, source: str, extension: str) -> str:
    """A stored screenshot's file name: its position, the source's own name made safe
    with its extension dropped, and `extension`, the one of the format its bytes are
    (`pwn.shtml` holding a GIF is `02-pwn.gif`). The name has no other dot, so no web
    server takes a part of it for a page or a script."""
    if not _EXTENSION.fullmatch(extension):
        raise ValueError(f"{extension!r} is not a file extension such as .png")
    base = source.replace("\\", "/").rsplit("/", 1)[-1]
    stem = _UNSAFE_STEM.sub("_", base.rsplit(".", 1)[0] if "." in base else base)
    return f"{index + 1:02d}-{stem or 'screenshot'}"[: _MAX_NAME - len(extension)] + extension
