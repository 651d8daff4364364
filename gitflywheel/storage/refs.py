"""The refs gitflywheel moves (`main`, and branches such as a site's), and the error
when one moved under a writer."""

from __future__ import annotations

from dulwich.refs import Ref

from ..errors import StoreError

__all__ = ["MAIN", "HEAD", "RefMoved"]

MAIN = Ref(b"refs/heads/main")
HEAD = Ref(b"HEAD")


class RefMoved(StoreError):
    """`main` (or a branch) is not where we expected it: someone else moved it."""
