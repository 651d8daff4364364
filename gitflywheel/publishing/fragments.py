"""Markdown already rendered to HTML, kept between site builds beside the store (in the
database of its `gitflywheel/site-cache/`: `cache_db`), so that a build renders only the
texts it has not seen.

A fragment is the pure result of `render_markdown`: its key is the SHA-256 of all that
decides it, the text, the files of the session a relative link may point to, the prefix
those links get, whether the title is dropped, and the code that renders (this
gitflywheel's version, markdown-it-py's, and the source of `markdown_html`). So an
entry is never stale, only unused; a cache is never trusted over history: an entry that
cannot be read or parsed is rendered again, and a database that cannot be written is
only not written. Entries are written in batches: `flush()` writes those held (and must
be called before a fork, and at the end of a build). None keeps nothing (every text is
rendered).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import markdown_it

from ..version import __version__
from . import markdown_html
from .cache_db import CacheDB
from .markdown_html import Rendered, Resolve, render_markdown

__all__ = ["FragmentCache"]

_FORMAT = 1


@cache
def _renderer_id() -> str:
    """What renders: the package's and markdown-it-py's versions and this renderer's
    source, so that a change to any of them renders every text again."""
    source = Path(markdown_html.__file__).read_bytes()
    return f"{_FORMAT} {__version__} {markdown_it.__version__} {hashlib.sha256(source).hexdigest()}"


class FragmentCache:
    """Rendered Markdown by the hash of what decides it, in the database of a folder
    (None: none kept)."""

    KIND = "fragment"  # its records' kind in the database

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.records = CacheDB(folder)
        self.rendered = 0  # texts rendered by this cache, not found in it
        self.found = 0

    @staticmethod
    @cache
    def code() -> str:
        """A short name of the code that renders, which each entry is kept with: a
        database pruned for it keeps them (`CacheDB.prune`)."""
        return hashlib.sha256(_renderer_id().encode()).hexdigest()[:16]

    @staticmethod
    def key(text: str, files: Iterable[str], prefix: str, drop_title: bool) -> str:
        decided = json.dumps(
            [_renderer_id(), prefix, sorted(files), drop_title, text], ensure_ascii=False
        )
        return hashlib.sha256(decided.encode("utf-8", "surrogatepass")).hexdigest()

    def markdown(
        self,
        text: str,
        resolve: Resolve,
        *,
        files: Iterable[str],
        prefix: str,
        drop_title: bool = False,
    ) -> Rendered:
        """`render_markdown(text, resolve, drop_title=...)`, from the folder when it is
        there. `resolve` must be decided by `files` (the names a link may point to) and
        `prefix` (what they get in front) alone."""
        if self.folder is None:
            self.rendered += 1
            return render_markdown(text, resolve, drop_title=drop_title)
        key = self.key(text, files, prefix, drop_title)
        data = self.records.get(self.KIND, key)
        try:
            if data is not None:
                kept = json.loads(data)
                found = Rendered(kept["html"], list(kept["images"]), list(kept["links"]))
                if isinstance(found.html, str) and all(
                    isinstance(s, str) for s in (*found.images, *found.links)
                ):
                    self.found += 1
                    return found
        except (ValueError, KeyError, TypeError):
            pass
        result = render_markdown(text, resolve, drop_title=drop_title)
        self.rendered += 1
        made = {"html": result.html, "images": result.images, "links": result.links}
        self.records.put(
            self.KIND,
            key,
            json.dumps(made, ensure_ascii=False).encode("utf-8", "surrogatepass"),
            self.code(),
        )
        return result

    def flush(self) -> None:
        """Write the entries held (`CacheDB.flush`): at the end of a build, before a fork,
        and at the end of each part of the sessions a site's worker process makes."""
        self.records.flush()
