"""Where a remote is, and how to show it without the secrets its URL may carry.

A remote is given as a URL or path, or by the name of a remote in the store's git
config. A URL may hold credentials (`https://user:token@host/x.git`, a token as the user
name, `?access_token=...`); they are needed to reach the remote and must never be shown:
every message, JSON document and commit that speaks of a remote uses `redact_url`, and
every error text from the transport passes `redact_text` on its way out.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

from ..errors import GitflywheelError
from .store import Store, dulwich_repo

__all__ = ["DEFAULT_REMOTE", "RemoteLocation", "redact_url", "redact_text", "resolve_remote"]

DEFAULT_REMOTE = "origin"
HIDDEN = "***"
# Schemes whose user name is a login, not a secret (`ssh://git@host/x.git`).
_LOGIN_SCHEMES = ("ssh", "git+ssh", "ssh+git")
_URL_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://([^/@\s]+)@")
_URL_QUERY = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^\s?#]*)[?#][^\s]*")
# Shorter secrets are not worth hiding inside free text: they would mangle the words.
_MIN_SECRET = 4


class RemoteNotFound(GitflywheelError):
    """The remote given is neither a URL, a path, nor a remote named in the config."""


@dataclass(frozen=True)
class RemoteLocation:
    """A remote as git needs it (`url`, never shown) and as people may see it (`shown`)."""

    url: str
    name: str | None = None

    @property
    def redacted_url(self) -> str:
        return redact_url(self.url)

    @property
    def display(self) -> str:
        """What messages call it: `origin (https://***@host/x.git)`, or the redacted URL."""
        return f"{self.name} ({self.redacted_url})" if self.name else self.redacted_url

    def redact(self, text: str) -> str:
        """`text` (an error from the transport, say) with this remote's secrets hidden."""
        return redact_text(text, self.url)


def redact_url(url: str) -> str:
    """The URL without credentials: user info (but an ssh login name) and query hidden."""
    if "://" not in url:
        # scp-like `user@host:path` names an ssh login; `user:password@host:path` does not.
        user, at, rest = url.partition("@")
        if at and ":" in user and "/" not in user:
            return f"{HIDDEN}@{rest}"
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return _URL_QUERY.sub(rf"\1?{HIDDEN}", _URL_USERINFO.sub(_hide_userinfo, url))
    netloc = parts.netloc
    userinfo, at, host = netloc.rpartition("@")
    if at:
        login, colon, _ = userinfo.partition(":")
        if parts.scheme.lower() in _LOGIN_SCHEMES and login:
            netloc = f"{login}:{HIDDEN}@{host}" if colon else netloc
        else:
            netloc = f"{HIDDEN}@{host}"
    query = HIDDEN if parts.query else ""
    fragment = HIDDEN if parts.fragment else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, fragment))


def _hide_userinfo(match: re.Match[str]) -> str:
    """A `scheme://userinfo@` found in text, with the secret part of the user info hidden."""
    scheme, userinfo = match.group(1), match.group(2)
    login, colon, _ = userinfo.partition(":")
    if scheme.lower() in _LOGIN_SCHEMES and login:
        return f"{scheme}://{login}:{HIDDEN}@" if colon else match.group(0)
    return f"{scheme}://{HIDDEN}@"


def _secrets(url: str) -> list[str]:
    """The credentials a URL carries, as written and as decoded."""
    found: list[str] = []
    if "://" in url:
        try:
            parts = urlsplit(url)
        except ValueError:
            return found
        userinfo, at, _ = parts.netloc.rpartition("@")
        login, colon, password = userinfo.partition(":")
        if at:
            found += [userinfo, password]
            if parts.scheme.lower() not in _LOGIN_SCHEMES and not colon:
                found.append(login)  # a token given as the user name
        if parts.query:
            found.append(parts.query)
    else:
        user, at, _ = url.partition("@")
        if at and ":" in user and "/" not in user:
            found += [user, user.partition(":")[2]]
    decoded = [unquote(s) for s in found]
    return sorted({s for s in found + decoded if len(s) >= _MIN_SECRET}, key=len, reverse=True)


def redact_text(text: str, *urls: str) -> str:
    """`text` with every credential of `urls`, and of any URL written in it, hidden."""
    for url in urls:
        text = text.replace(url, redact_url(url))
        for secret in _secrets(url):
            text = text.replace(secret, HIDDEN)
    return _URL_USERINFO.sub(_hide_userinfo, text)


def _looks_like_location(remote: str) -> bool:
    return (
        "://" in remote
        or os.path.exists(remote)
        or remote.startswith(("/", ".", "~"))
        or ":" in remote
    )


def resolve_remote(store: Store, remote: str | None) -> RemoteLocation:
    """A remote named in the store's config (`remote.<name>.url`), else a URL or path."""
    name = remote or DEFAULT_REMOTE
    config = dulwich_repo(store).get_config()
    try:
        return RemoteLocation(os.fsdecode(config.get((b"remote", name.encode()), b"url")), name)
    except KeyError:
        pass
    if remote is None:
        raise RemoteNotFound(
            f"no remote given and no remote named {DEFAULT_REMOTE!r} in {store.path}/config"
        )
    if _looks_like_location(remote):
        return RemoteLocation(os.path.expanduser(remote) if remote.startswith("~") else remote)
    raise RemoteNotFound(
        f"{redact_url(remote)}: neither a URL, a path, nor a remote named in {store.path}/config"
    )
