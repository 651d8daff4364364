"""Which repository a push went to: one identity for every spelling of a remote's URL,
a label a session may show, and the session id of a push.

`https://u:p@Host/o/r.git/` and `git@host:o/r` name one repository; a repository on disk
is its real path. Credentials never survive, and public text carries no local paths.
"""

from __future__ import annotations

import os
import posixpath
import re
import uuid
from urllib.parse import unquote

__all__ = ["remote_identity", "remote_label", "push_session_id"]

_PUSH_NAMESPACE = uuid.UUID("0d0f6a3e-9b1c-5e4f-8a27-3c5d7e9f1b2a")
_DEFAULT_PORTS = {"http": "80", "https": "443", "ssh": "22", "git": "9418", "git+ssh": "22"}


def _local_path(path: str, cwd: str) -> str:
    if not posixpath.isabs(path):
        path = posixpath.join(cwd or "/", path)
    try:
        return os.path.realpath(path)
    except (OSError, ValueError):  # a NUL, a loop: the path as written
        return posixpath.normpath(path)


def _tidy_path(path: str) -> str:
    path = re.sub(r"/{2,}", "/", path).rstrip("/")
    if path.endswith(".git"):
        path = path[: -len(".git")].rstrip("/")
    return path


def _parse_remote(url: str, cwd: str) -> tuple[str | None, str]:
    """(host, path) of a network remote, or (None, absolute path) of one on disk."""
    text = url.strip()
    scheme_url = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)([^?#]*)", text)
    if scheme_url:
        scheme = scheme_url[1].lower()
        netloc = scheme_url[2].rpartition("@")[2]  # credentials, and the ssh user, go
        path = unquote(scheme_url[3])
        if scheme == "file":
            return None, _tidy_path(_local_path(path or "/", cwd))
        host, _, port = (
            netloc.lower().rpartition(":") if netloc.count(":") == 1 else (netloc, "", "")
        )
        if not host:
            host, port = netloc.lower(), ""
        if port and port != _DEFAULT_PORTS.get(scheme):
            host = f"{host}:{port}"
        return host, _tidy_path(path).lstrip("/")
    scp = re.match(r"^(?:[^@/]*@)?(\[[^\]]*\]|[^:/\\]+):(?!//)(.*)$", text)
    if scp and not re.match(r"^[A-Za-z]:[\\/]", text):  # not a Windows drive letter
        return scp[1].strip("[]").lower(), _tidy_path(scp[2]).lstrip("/")
    return None, _tidy_path(_local_path(text, cwd))


def remote_identity(url: str, cwd: str = "/") -> str:
    """What names the remote repository whatever the clone calls it: host and path, with
    no credentials, scheme, default port, `.git` suffix or trailing slash; the real path
    of a repository on disk. `https://u:p@Host/o/r.git/` and `git@host:o/r` agree."""
    host, path = _parse_remote(url, cwd)
    return f"{host}/{path}" if host is not None else f"file://{path}"


def remote_label(url: str, cwd: str = "/") -> str:
    """The remote as a session shows it: `host/owner/repo`, never credentials; for a
    repository on disk only its name, since public text carries no local paths."""
    host, path = _parse_remote(url, cwd)
    if host is not None:
        return f"{host}/{path}".rstrip("/")
    return posixpath.basename(path) or "repository"


def push_session_id(url: str, old: str, new: str, cwd: str = "/") -> str:
    """The same push from any clone of the same repository is the same session."""
    return str(uuid.uuid5(_PUSH_NAMESPACE, f"{remote_identity(url, cwd)}\n{old}..{new}"))
