"""The refs gitflywheel moves (`main`, and branches such as a site's), the error when one
moved under a writer, and the rules a branch's name keeps (git's `check-ref-format`)."""

from __future__ import annotations

import re

from dulwich.refs import Ref

from ..errors import StoreError

__all__ = ["MAIN", "HEAD", "RefMoved", "BadRefName", "branch_name_problem"]

MAIN = Ref(b"refs/heads/main")
HEAD = Ref(b"HEAD")

# What `git check-ref-format --branch` refuses anywhere in a name: `..`, `@{`, `//`, a
# control character, a space, `~ ^ : ? * [ \`.
_FORBIDDEN = re.compile(r"\.\.|@\{|//|[\x00-\x20\x7f~^:?*\[\\]")


class RefMoved(StoreError):
    """`main` (or a branch) is not where we expected it: someone else moved it."""


class BadRefName(StoreError):
    """A ref name git would refuse (its `check-ref-format`)."""


def branch_name_problem(name: str) -> str | None:
    """Why `git check-ref-format --branch` refuses `name` as a branch (`refs/heads/NAME`),
    or None: what it says of `..`, `@{`, `//`, control characters and ` ~^:?*[\\`; a name
    that starts with `-` or `/`, or ends with `/` or `.`; a part between slashes that
    starts with `.` or ends with `.lock`; `@` alone, and `HEAD`."""
    if not name:
        return "it is empty"
    found = _FORBIDDEN.search(name)
    if found is not None:
        what = found.group()
        shown = repr(what) if what.isprintable() and what != " " else f"U+{ord(what):04X}"
        return f"it holds {shown}"
    if name.startswith("-"):
        return "it starts with `-`"
    if name.startswith("/") or name.endswith("/"):
        return "it starts or ends with `/`"
    if name.endswith("."):
        return "it ends with `.`"
    if name in ("@", "HEAD"):
        return f"{name} is not a branch"
    for part in name.split("/"):
        if part.startswith("."):
            return f"its part {part!r} starts with `.`"
        if part.endswith(".lock"):
            return f"its part {part!r} ends with `.lock`"
    return None
