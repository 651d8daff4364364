"""What a public artifact may show of a session: no local paths, no temporary folders,
no ids cut mid-token, no implausible durations. The record keeps everything as given."""

from __future__ import annotations

import re
from typing import Any, Final

from ..session.durations import DAY_MINUTES, commit_span, implausible_duration

__all__ = [
    "DAY_MINUTES",
    "LOCAL_PATH",
    "is_local_path",
    "is_temp_name",
    "public_repo",
    "public_id",
    "scrub",
    "scrub_all",
    "commit_span",
    "implausible_duration",
]

# A path on someone's disk: a drive letter, a UNC share, a home or system folder, `~/`.
_DRIVE = r"(?<![A-Za-z0-9])[A-Za-z]:[\\/][^\s\"'<>|`]*"
_UNC = r"(?<![\\\w])\\\\[^\s\"'<>|`\\]+\\[^\s\"'<>|`]*"
_POSIX = (
    r"(?<![\w./~-])(?:~(?=/)|/(?:home|Users|tmp|var|private|root|mnt|media|opt|etc|usr|srv|run|proc|"
    r"Volumes))(?:/[^\s\"'<>|`]*)?"
)
LOCAL_PATH: Final = re.compile(f"{_DRIVE}|{_UNC}|{_POSIX}(?=$|[\\s\"'<>|`,;:)\\]]|/)")
_TEMP_PART = re.compile(
    r"^(?:tmp[A-Za-z0-9_]{4,}|temp|tmp|appdata|pytest-\d+|pytest-of-.*|\.tmp.*)$", re.I
)
_TEMP_WORD = re.compile(r"(?<![A-Za-z0-9])tmp[a-z0-9_]{6,}(?![A-Za-z0-9])", re.I)
_TRIM = " \t.,;:!?)]}'\""
# What a reader does not see, the Unicode format characters (Cf): zero widths, the bidi
# controls publishing drops, the soft hyphen, tags. A path with one inside reads as a path.
_INVISIBLE = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    "\U000e0020-\U000e007f]"
)
_WORDS = re.compile(r"(\s+)")  # a path, a temporary name, never spans white space


def is_local_path(text: str) -> bool:
    """Whether `text` is (or starts as) a path on a local disk rather than a name."""
    return bool(LOCAL_PATH.match(text.strip()))


def is_temp_name(text: str) -> bool:
    """A temporary folder's name (`tmpqy_b7jky`, `Temp`, `pytest-12`): it names nothing."""
    return bool(_TEMP_PART.match(text.strip()))


def _parts(path: str) -> list[str]:
    return [p for p in re.split(r"[\\/]+", path.strip()) if p and p not in (".", "..")]


def public_repo(repo_path: str | None) -> str | None:
    """How a repository is named in public: `owner/repo` of a URL or `host/owner/repo`, the
    last meaningful component of a local path, nothing for a temporary folder."""
    if not repo_path or not repo_path.strip():
        return None
    text = repo_path.strip()
    url = re.match(r"^(?:[a-z][a-z0-9+.-]*://)?(?:[^@/\s]+@)?([^/:\s]+\.[^/:\s]+)[/:](.+)$", text)
    if url and not is_local_path(text):
        parts = _parts(url.group(2))
        if parts:
            parts[-1] = parts[-1].removesuffix(".git")
            return "/".join(parts[-2:]) or None
    parts = _parts(text)
    if any(is_temp_name(p) for p in parts):
        return None
    name = parts[-1].removesuffix(".git") if parts else ""
    drive = re.fullmatch(r"[A-Za-z]:", _INVISIBLE.sub("", name))  # `C:\`, a hidden `C:\`
    if not name or drive or not re.search(r"[A-Za-z0-9]", name):
        return None
    return name


def public_id(session_id: str) -> str:
    """The short form of an id that a reader can tell apart: the first 8 characters when
    they are a whole token (a UUID's first group), else the whole id, never a cut token."""
    if len(session_id) <= 8 or session_id[8] in "-_.":
        return session_id[:8]
    return session_id


def _replace_path(found: re.Match[str]) -> str:
    path = found.group(0)
    kept = path.rstrip(_TRIM)
    tail = path[len(kept) :]
    parts = _parts(kept)
    if not parts or any(is_temp_name(p) for p in parts):
        return "a local folder" + tail
    name = parts[-1]
    if re.fullmatch(r"[A-Za-z]:|~", name) or len(parts) == 1 and kept.startswith(("/", "~")):
        return "a local folder" + tail
    return name + tail


def scrub(text: str) -> str:
    """Session text fit to publish: each local path becomes its last component (a file's
    name), a path through a temporary folder and a temporary folder's name become
    `a local folder`. A path is found as a reader sees it: a word that hides one behind
    invisible characters (`C:` U+202E `\\Users`) loses them; other text keeps them."""
    if not text:
        return text
    scrubbed = _scrub(text)
    if scrubbed.isascii() or not _INVISIBLE.search(scrubbed):
        return scrubbed
    # a word that shows a path once its invisible characters are gone loses them first
    words = [(word, _scrub(word)) for word in _WORDS.split(text)]
    return "".join(
        _scrub(_INVISIBLE.sub("", word)) if _hides_path(done) else done for word, done in words
    )


def _scrub(text: str) -> str:
    # every path holds a '/' or a '\\', every temporary name 'tmp' in some case
    if "/" in text or "\\" in text:
        text = LOCAL_PATH.sub(_replace_path, text)
    if "tmp" in text.lower():
        text = _TEMP_WORD.sub("a local folder", text)
    return text


def _hides_path(text: str) -> bool:
    """Whether `text` shows a local path or a temporary name when its invisible
    characters are left out, as a reader sees it."""
    seen = _INVISIBLE.sub("", text)
    return seen != text and bool(LOCAL_PATH.search(seen) or _TEMP_WORD.search(seen))


def scrub_all(value: Any) -> Any:
    """`scrub` over every string of a plain-data context (dict keys are left as they are)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: scrub_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_all(v) for v in value]
    if isinstance(value, tuple):
        return tuple(scrub_all(v) for v in value)
    return value
