"""What public text may show: no local paths, no temporary folders, no credentials or
tokens, nothing the store's owner calls private, no ids cut mid-token.

Everything in a store is public once pushed, so these rules hold twice: at ingest, for
the record itself (`public_record`: every free text of the session, each replacement
counted by rule and field, never kept), and in every artifact (`scrub`), so that a
record an older gitflywheel stored as given is still shown clean.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any, Final

import orjson

from .durations import DAY_MINUTES, commit_span, implausible_duration

__all__ = [
    "DAY_MINUTES",
    "LOCAL_PATH",
    "is_local_path",
    "is_temp_name",
    "public_repo",
    "public_id",
    "scrub",
    "scrub_all",
    "SECRET_RULES",
    "NotPublic",
    "Redaction",
    "redact",
    "public_record",
    "private_text_warnings",
    "commit_span",
    "implausible_duration",
]

# A path on someone's disk: a drive letter, a UNC share, a home or system folder, `~/`
# (`~user/`), a `file:` URL or an editor's (`vscode://file/...`), or the work folder of
# a container, a CI runner or a cluster (`/work`, `/workspace(s)`, GitLab's `/builds`,
# GitHub Actions' `/github/workspace`, `/scratch`, `/data`): a machine's own folders, by
# their first part, since `/api/users` or `/src` in a sentence are a site's address or the
# repository's own path, and stay.
# Windows homes are found as Git Bash, Cygwin and a drive-relative or rooted path write
# them too (`/c/Users/...`, `/cygdrive/c/...`, `C:Users\...`, `\Users\...`), and other
# homes as shared systems mount them (`/home2`, `/export/home`, `/nfs`, `/afs`, macOS's
# `/System/Volumes/Data/Users`).
_DRIVE = r"(?<![A-Za-z0-9])[A-Za-z]:(?:[\\/]|(?i:users)[\\/])[^\s\"'<>|`]*"
_UNC = r"(?<![\\\w])\\\\[^\s\"'<>|`\\]+\\[^\s\"'<>|`]*"
_ROOTED = r"(?<![\\\w:])\\(?i:users)\\[^\s\"'<>|`]*"
_FILE_URL = r"(?<![\w.+-])(?i:file):/[^\s\"'<>|`]*|(?<=[A-Za-z0-9])://(?i:file)/[^\s\"'<>|`]*"
_FOLDERS = (
    "home\\d*|Users|tmp|var|private|root|mnt|media|opt|etc|usr|srv|run|proc|"
    "Volumes|System|work|workspaces?|builds|github|scratch|data|cygdrive|nfs|afs|"
    "export(?=/home\\b)|[A-Za-z](?=/(?:Users|home)/)"
)
_POSIX = rf"(?<![\w./~-])(?:~(?:[A-Za-z_][\w.-]*)?(?=/)|/(?:{_FOLDERS}))(?:/[^\s\"'<>|`]*)?"
LOCAL_PATH: Final = re.compile(
    f"{_FILE_URL}|{_DRIVE}|{_UNC}|{_ROOTED}|{_POSIX}(?=$|[\\s\"'<>|`,;:)\\]]|/)"
)
# What every match of LOCAL_PATH holds: `file:/`, a drive's `:/` or `:\` (`:Users\`), a
# share's `\\` or a rooted `\Users\`, `~/` or `~user/`, or a `/` and one of its folders
# as a whole word. Text without it is told in one quick scan, where LOCAL_PATH tries its
# lookbehinds at every character. Each hint starts at a character most text seldom holds
# (`:`, `\`, `~`, `/`): one that started at a letter (a drive's, `file:`'s) would make the
# scan try every alternative at every character, four times slower; `_holds_local_path`
# looks back from the `:` instead (one character for a drive, four for `file:`).
_PATH_HINT = re.compile(
    rf":[\\/]|:(?i:users)(?=[\\/])|\\\\|\\(?i:users)(?=\\)"
    rf"|~(?:[A-Za-z_][\w.-]*)?(?=/)|/(?:{_FOLDERS})\b"
)
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
    if path.startswith("://"):  # an editor's link, `vscode://file/...`: `vscode: name`
        return ": " + _public_path(path[3:])
    return _public_path(path)


def _public_path(path: str) -> str:
    """What a local path shows: its last part, `a local folder` for a temporary folder,
    a home folder or a root; the punctuation that ends a sentence kept."""
    kept = path.rstrip(_TRIM)
    tail = path[len(kept) :]
    parts = _parts(kept)
    if not parts or any(is_temp_name(p) for p in parts):
        return "a local folder" + tail
    name = parts[-1]
    if (
        re.fullmatch(r"[A-Za-z]:|~[\w.-]*|(?i:file):", name)
        or len(parts) == 1
        and kept.startswith(("/", "~"))
        or len(parts) > 1
        and _HOMES.fullmatch(parts[-2])  # a home folder is named by its owner
        and all(_MOUNTS.fullmatch(p) for p in parts[:-2])  # `/home/kay`, not `docs/users/x`
    ):
        return "a local folder" + tail
    return name + tail


_HOMES = re.compile(r"home\d*|(?i:users)|[A-Za-z]:(?i:users)")
_MOUNTS = re.compile(
    r"[A-Za-z]:?|(?i:file:|localhost|cygdrive|system|volumes|data|export|nfs|afs|mnt)"
)
"""What may come before a home folder's parent in the path of a home folder itself: a
drive, `file:`, and the mounts systems put homes under."""


def _untouched(text: str) -> bool:
    """Whether no rule can change `text`: ASCII (so nothing invisible can hide a path or
    a temporary name), no local path (most text has no separator a path needs; a
    repository's own paths and a site's addresses have one, and are searched), no `tmp`
    in any case and no hint of a credential. Most session text is such, and costs these
    few scans."""
    return (
        text.isascii()
        and "tmp" not in text.lower()
        and not _hints_secret(text)
        and (("/" not in text and "\\" not in text) or not _holds_local_path(text))
    )


def _holds_local_path(text: str) -> bool:
    """Whether LOCAL_PATH finds a path in `text`, tried only where one could start: at a
    hint (`~/`, `\\\\`, `/home`), the drive letter before a `:/`, the `file` before a
    `:/`, or a hint that a hint found first overlaps (`:/home`, `:\\\\`). LOCAL_PATH's
    own search tries its lookbehinds at every character (200 us for a record's JSON text
    that holds a `/data` which is no path); these few tries cost a quarter of that."""
    match = LOCAL_PATH.match
    for hint in _PATH_HINT.finditer(text):
        at = hint.start()
        if match(text, at) or (at and match(text, at - 1)) or match(text, at + 1):
            return True
        if at >= 4 and text[at - 4 : at].lower() == "file" and match(text, at - 4):
            return True
    return False


def scrub(text: str) -> str:
    """Session text fit to publish: each local path becomes its last component (a file's
    name), a path through a temporary folder and a temporary folder's name become
    `a local folder`. A path is found as a reader sees it: a word that hides one behind
    invisible characters (`C:` U+202E `\\Users`) loses them; other text keeps them."""
    if not text or _untouched(text):
        return text
    return _scrub_rules(text)


def _scrub_rules(text: str) -> str:
    """`scrub` without its fast path: every rule applied."""
    scrubbed = _scrub(_without_secrets(text)[0])
    if scrubbed.isascii() or not _INVISIBLE.search(scrubbed):
        return scrubbed
    # a word that shows a path once its invisible characters are gone loses them first:
    # one whose visible reading scrubs to other text than it shows now (`C:` U+202E
    # `\\Users\\kay`, whose `\\Users\\kay` alone was a path as well); other words keep them
    out = []
    for word in _WORDS.split(text):
        done = _scrub(word)
        if _INVISIBLE.search(word):
            seen = _scrub(_INVISIBLE.sub("", word))
            if seen != _INVISIBLE.sub("", done):
                done = seen
        out.append(done)
    return "".join(out)


def _scrub(text: str) -> str:
    # every path holds a '/' or a '\\', every temporary name 'tmp' in some case
    if "/" in text or "\\" in text:
        text = LOCAL_PATH.sub(_replace_path, text)
    if "tmp" in text.lower():
        text = _TEMP_WORD.sub("a local folder", text)
    return text


def scrub_all(value: Any) -> Any:
    """`scrub` over every string of a plain-data context (dict keys are left as they are).
    A dict or list no rule can touch comes back as it is (`value` itself), told from its
    JSON text in a few scans (`_untouched_json`) instead of a call for each string."""
    if (type(value) is dict or type(value) is list) and _untouched_json(value):
        return value
    return _scrub_all(value)


def _scrub_all(value: Any) -> Any:
    """`scrub_all` without its fast path: every string walked."""
    if type(value) is str and len(value) <= _REMEMBERED:
        return _scrub_short(value)
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: v if type(v) in _NO_TEXT else _scrub_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [v if type(v) in _NO_TEXT else _scrub_all(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_scrub_all(v) for v in value)
    return value


_NO_TEXT = frozenset({int, float, bool, Decimal, type(None)})
"""Values that hold no text, which `scrub_all` keeps as they are without a call."""
_REMEMBERED = 256
"""The longest text whose scrubbed form is remembered: a pipeline scrubs the same names,
paths and messages in several of its contexts (a few thousand short texts, a few MB)."""


@lru_cache(maxsize=4096)
def _scrub_short(text: str) -> str:
    """`scrub` of a short text, remembered."""
    return scrub(text)


# Credentials and tokens of the well-known formats, each a rule of its own: the name is
# what a manifest counts and what replaces the text (`[redacted github-token]`).
SECRET_RULES: Final[dict[str, re.Pattern[str]]] = {
    "private-key": re.compile(
        r"-----BEGIN[A-Z ]{0,40} PRIVATE KEY( BLOCK)?-----"
        r"(?:[\s\S]*?-----END[A-Z ]{0,40} PRIVATE KEY( BLOCK)?-----|[\s\S]*)"
    ),
    "github-token": re.compile(
        r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{22,255})"
    ),
    "gitlab-token": re.compile(r"(?<![A-Za-z0-9_-])gl(?:pat|dt|ptt|rt)-[A-Za-z0-9_-]{20,}"),
    "aws-access-key": re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])"),
    "slack-token": re.compile(
        r"(?<![A-Za-z0-9])xox[abeoprs]-[A-Za-z0-9-]{10,}"
        r"|(?<![A-Za-z0-9])xapp-\d-[A-Za-z0-9-]{10,}"
        r"|https://hooks\.slack\.com/services/[A-Za-z0-9/]+"
    ),
    # Stripe's secret and restricted keys and webhook secrets (a publishable `pk_` is public)
    "stripe-key": re.compile(
        r"(?<![A-Za-z0-9_])(?:[sr]k_(?:live|test)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9+/=]{20,})"
    ),
    "google-api-key": re.compile(r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])"),
    # an AWS secret key is 40 characters of base64 with nothing to tell it by: its name
    "aws-secret-key": re.compile(
        r"(?<![A-Za-z0-9_])(?:aws_secret(?:_access)?_key|AWS_SECRET(?:_ACCESS)?_KEY|SecretAccessKey)"
        r"[\"']?\s*[:=]\s*[\"']?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])"
    ),
    "npm-token": re.compile(r"(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])"),
    "pypi-token": re.compile(r"(?<![A-Za-z0-9_-])pypi-AgE[A-Za-z0-9_-]{40,}"),
    "api-key": re.compile(r"(?<![A-Za-z0-9_-])sk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}"),
    "jwt": re.compile(
        r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"
    ),
    # `scheme://user:secret@host` (`://:secret@`, and `//user:secret@` where a URL can
    # start: `@maven//:guava@x` is no URL): the user and what follows it go, the
    # address stays
    "url-credentials": re.compile(
        r"(?i)(?:(?<=://)|(?<=//)(?<![^\s(\[<\"'=]//))"
        r"(?:[^/\s@:\"',]+(?::[^/\s@\"',]*)?|:[^/\s@\"',]*)@(?=[^\s@/]+)"
    ),
    # an e-mail address is a person's, not for a public page; one made to be shown stays:
    # a no-reply address, a forge's `git@`, the domains reserved for examples (RFC 2606)
    "email": re.compile(
        r"(?<![A-Za-z0-9._%+=-])(?!git@|(?:no-?reply|do-?not-?reply)@)"
        r"[A-Za-z0-9][A-Za-z0-9._%+=-]{0,63}@"
        r"(?![A-Za-z0-9.-]*no-?reply)"
        r"(?!(?:[A-Za-z0-9-]+\.)*(?:example\.(?:com|org|net)|[A-Za-z0-9-]+\.(?:example|test|invalid|localhost))(?![A-Za-z0-9.-]))"
        r"(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}(?![A-Za-z0-9-])",
        re.I,
    ),
}
# What each rule's text needs to hold: a cheap test before any of them runs (the
# definition; `_hints_secret` answers it).
_SECRET_HINT = re.compile(
    r"-----BEGIN|gh[pousr]_|github_pat_|gl(?:pat|dt|ptt|rt)-|A[KSBC][IC]A|xox|xapp-|hooks\.slack"
    r"|npm_|pypi-|sk-|k_live_|k_test_|whsec_|AIza|aws_secret|AWS_SECRET|SecretAccessKey|eyJ"
    r"|//[^/\s]*@|[A-Za-z0-9]@[A-Za-z0-9]"
)
# The same alternatives, each scanned for on its own: a word by `in`, a pattern by the
# word it opens with, the two that hold an `@` only in text that has one. One scan of
# the alternation tries its `[A-Za-z0-9]@` at every letter, several times slower; and
# the scans are spelled out, not looped over, since most texts are short and a loop
# (a generator for `any`) costs more than the scans themselves.
_GITHUB_HINT = re.compile(r"gh[pousr]_").search
_GITLAB_HINT = re.compile(r"gl(?:pat|dt|ptt|rt)-").search
_AWS_HINT = re.compile(r"A[KSBC][IC]A").search
_AWS_SECRET_HINT = re.compile(r"aws_secret|AWS_SECRET|SecretAccessKey").search
_HINT_AT = re.compile(r"//[^/\s]*@|[A-Za-z0-9]@[A-Za-z0-9]")


def _hints_secret(text: str) -> bool:
    """Whether `_SECRET_HINT` finds something in `text`."""
    return (
        "-----BEGIN" in text
        or "github_pat_" in text
        or "xox" in text
        or "hooks.slack" in text
        or "npm_" in text
        or "pypi-" in text
        or "sk-" in text
        or "k_live_" in text
        or "k_test_" in text
        or "whsec_" in text
        or "AIza" in text
        or "xapp-" in text
        or "eyJ" in text
        or (("ecret" in text or "ECRET" in text) and _AWS_SECRET_HINT(text) is not None)
        or _GITHUB_HINT(text) is not None
        or _GITLAB_HINT(text) is not None
        or _AWS_HINT(text) is not None
        or ("@" in text and _HINT_AT.search(text) is not None)
    )


def _without_secrets(
    text: str, private: Sequence[re.Pattern[str]] = ()
) -> tuple[str, Counter[str]]:
    """`text` with every credential, token and private text replaced; how many, by rule."""
    counts: Counter[str] = Counter()
    if not text.isascii():
        seen = _INVISIBLE.sub("", text)
        if seen != text and _secrets_in(seen, private) > _secrets_in(text, private):
            text = seen  # a token or a private text hidden behind invisible characters
    if _hints_secret(text):
        for rule, pattern in SECRET_RULES.items():
            replacement = "" if rule == "url-credentials" else f"[redacted {rule}]"
            text, n = pattern.subn(replacement, text)
            if n:
                counts[rule] += n
    for pattern in private:
        text, n = pattern.subn("[private]", text)
        if n:
            counts["private"] += n
    return text, counts


def _secrets_in(text: str, private: Sequence[re.Pattern[str]]) -> int:
    """How many credentials, tokens and private texts `text` holds: more once its
    invisible characters are left out means one was hidden by them (the text then loses
    them all; one whose secrets are all in sight keeps its joiners)."""
    found = sum(len(p.findall(text)) for p in private)
    if _hints_secret(text):
        found += sum(len(p.findall(text)) for p in SECRET_RULES.values())
    return found


def redact(text: str, private: Sequence[re.Pattern[str]] = ()) -> tuple[str, Counter[str]]:
    """Text fit for the record: credentials, tokens and private text replaced, and local
    paths and temporary names as `scrub` shows them; how many of each rule."""
    if not private and _untouched(text):
        return text, Counter()
    return _redact_rules(text, private)


def _redact_rules(text: str, private: Sequence[re.Pattern[str]] = ()) -> tuple[str, Counter[str]]:
    """`redact` without its fast path: every rule applied."""
    cleaned, counts = _without_secrets(text, private)
    # until nothing changes: what one pass leaves can read as a path again (`/C:/x` -> `/x`)
    for _ in range(8):
        scrubbed = scrub(cleaned)
        if scrubbed == cleaned:
            break
        found = len(LOCAL_PATH.findall(_INVISIBLE.sub("", cleaned)))
        temp = len(_TEMP_WORD.findall(_INVISIBLE.sub("", cleaned)))
        counts["local-path"] += found or (0 if temp else 1)
        if temp:
            counts["temporary-name"] += temp
        cleaned = scrubbed
    return cleaned, counts


@dataclass(frozen=True)
class Redaction:
    """What the public-text rules replaced in a record: the rule, the field, how often.
    Never the text itself."""

    rule: str
    field: str
    count: int

    def as_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "field": self.field, "count": self.count}


_SCREENSHOT_PATH = re.compile(r"source_data\.screenshots\[\d+\](?:\.path)?")
_FIXED = frozenset({"session_id", "session_type"})  # the record's identity: never replaced


class NotPublic(ValueError):
    """A record whose private text cannot be replaced: the field and the reason, never
    the text."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


def public_record(
    data: dict[str, Any], private: Sequence[re.Pattern[str]] = ()
) -> tuple[dict[str, Any], list[Redaction]]:
    """The record as it may enter the store: every free text through `redact`, the
    repository named as it is in public (a temporary folder names none), and what was
    replaced, by rule and field (sorted), besides what the record says was replaced
    already (`redacted`), so that the rules applied twice change nothing. Every string
    is free text here, a key of an object too, but for the session's type and id: an id
    the rules would change (a token, a private name) cannot be replaced, and is refused
    (NotPublic), as is an object two of whose keys read the same once replaced. A record
    no rule can touch comes back as it is (`data` itself) after one scan of its JSON."""
    if not private and _untouched_json(data):
        return data, []
    return _public_record_rules(data, private)


def _public_record_rules(
    data: dict[str, Any], private: Sequence[re.Pattern[str]] = ()
) -> tuple[dict[str, Any], list[Redaction]]:
    """`public_record` without its fast path: every string walked."""
    found: Counter[tuple[str, str]] = Counter()

    def walk(value: Any, where: str) -> Any:
        if isinstance(value, str) and _SCREENSHOT_PATH.fullmatch(where):
            # a screenshot on someone's disk is named by its file's name, as it is stored
            cleaned, counts = redact(value, private)
            if cleaned != value and is_local_path(value):
                named = _parts(_without_secrets(value, private)[0])
                cleaned = named[-1] if named else cleaned
            for rule, n in counts.items():
                found[(rule, where)] += n
            return cleaned
        if isinstance(value, str):
            cleaned, counts = redact(value, private)
            for rule, n in counts.items():
                found[(rule, where)] += n
            return cleaned
        if isinstance(value, dict):
            out: dict[Any, Any] = {}
            for k, v in value.items():
                if not where and k in _FIXED:
                    out[k] = v
                    continue
                key = walk(k, f"{where}.(key)" if where else "(key)") if type(k) is str else k
                if key in out:
                    raise NotPublic(
                        where or "(session)",
                        f"two keys read {key!r} once the public-text rules replace what "
                        "they must; rename one",
                    )
                out[key] = walk(v, f"{where}.{key}" if where else key)
            return out
        if isinstance(value, list):
            return [walk(v, f"{where}[{i}]") for i, v in enumerate(value)]
        return value

    session_id = data.get("session_id")
    if isinstance(session_id, str):  # a temporary folder's name is none of these: it stays
        _, counts = _without_secrets(session_id, private)
        if counts:
            rules = ", ".join(sorted(counts))
            raise NotPublic(
                "session_id",
                f"holds text the public-text rules replace ({rules}), and an id cannot be "
                "replaced: give the session another id",
            )
    cleaned: dict[str, Any] = walk(data, "")
    source = cleaned.get("source_data")
    raw_source = data.get("source_data")
    repo = raw_source.get("repo_path") if isinstance(raw_source, dict) else None
    if isinstance(source, dict) and isinstance(repo, str) and repo.strip():
        # A local folder is named by its last part, as artifacts name it; a temporary
        # one names nothing (its scrubbed text, `a local folder`, is no repository).
        plain = _without_secrets(repo, private)[0]
        named = public_repo(plain)
        if named is None and source.get("repo_path") != plain:  # counted by the walk
            del source["repo_path"]
        elif named is not None and is_local_path(plain):
            source["repo_path"] = named
    if not found:
        return cleaned, []
    before = cleaned.get("redacted")
    merged: Counter[tuple[str, str]] = Counter(found)
    if isinstance(before, list):
        for item in before:
            if isinstance(item, dict) and isinstance(item.get("count"), int):
                merged[(str(item.get("rule")), str(item.get("field")))] += item["count"]
    redactions = [Redaction(rule, where, n) for (rule, where), n in sorted(merged.items())]
    cleaned["redacted"] = [r.as_json() for r in redactions]
    return cleaned, redactions


def _untouched_json(data: dict[str, Any] | list[Any]) -> bool:
    """Whether no string of `data` (nor a key) holds anything a rule can replace, as
    `_untouched` tells, told from its JSON text in a few scans: orjson writes every
    string as it is but for escapes, where a literal backslash is the only one that holds
    two backslashes in a row, and whatever it cannot write (a lone surrogate, a huge
    integer) takes the walk. A text with no escape at all holds every string verbatim
    between quotes, where a local path ends as it would at the string's end: no match of
    LOCAL_PATH in it, none in any of its strings (a repository's own paths, `src/app.py`)."""
    try:
        text = orjson.dumps(data, default=str).decode("utf-8")
    except (TypeError, ValueError):
        return False
    return (
        text.isascii()
        and "tmp" not in text.lower()
        and not _hints_secret(text)
        and (
            ("/" not in text and "\\\\" not in text)
            or ("\\" not in text and not _holds_local_path(text))
        )
    )


def private_text_warnings(data: dict[str, Any]) -> list[str]:
    """What a stored record holds that the public-text rules would have replaced (a
    record an earlier gitflywheel stored as given): one warning naming the rules and
    fields, never the text, and what to do."""
    try:
        _, found = public_record(data)
    except NotPublic as exc:  # no copy can keep it: its id, or keys that would merge
        return [f"record.private-text: {exc.field}: {exc.reason}; it is public once pushed"]
    if not found:
        return []
    listed = "; ".join(f"{r.rule} in {r.field}" for r in found[:5])
    more = f" and {len(found) - 5} more" if len(found) > 5 else ""
    return [
        f"record.private-text: the record holds text the public-text rules replace "
        f"({listed}{more}); it is public once pushed: for a store not yet pushed, write "
        "a cleaned copy (`gitflywheel clean-copy --repo OLD.git NEW.git`), which keeps the "
        "sessions' ids and revisions and stores their public records, and publish that"
    ]
