"""Markdown already rendered to HTML, kept between site builds beside the store (its
`gitflywheel/site-cache/`), so that a build renders only the texts it has not seen.

A fragment is the pure result of `render_markdown`: its key is the SHA-256 of all that
decides it, the text, the files of the session a relative link may point to, the prefix
those links get, whether the title is dropped, and the code that renders (this
gitflywheel's version, markdown-it-py's, and the source of `markdown_html`). So an
entry is never stale, only unused; a cache is never trusted over history: a file that
cannot be read or parsed is rendered again, and a folder that cannot be written is only
not written. None keeps nothing (every text is rendered).
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
from .markdown_html import Rendered, Resolve, render_markdown
from .site_files import write_whole

__all__ = ["FragmentCache"]

_FORMAT = 1


@cache
def _renderer_id() -> str:
    """What renders: the package's and markdown-it-py's versions and this renderer's
    source, so that a change to any of them renders every text again."""
    source = Path(markdown_html.__file__).read_bytes()
    return f"{_FORMAT} {__version__} {markdown_it.__version__} {hashlib.sha256(source).hexdigest()}"


class FragmentCache:
    """Rendered Markdown by the hash of what decides it, in a folder (None: none kept)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.rendered = 0  # texts rendered by this cache, not found in it
        self.found = 0

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
        path = self.folder / key[:2] / f"{key}.json"
        try:
            kept = json.loads(path.read_bytes())
            found = Rendered(kept["html"], list(kept["images"]), list(kept["links"]))
            if isinstance(found.html, str) and all(
                isinstance(s, str) for s in (*found.images, *found.links)
            ):
                self.found += 1
                return found
        except (OSError, ValueError, KeyError, TypeError):
            pass
        result = render_markdown(text, resolve, drop_title=drop_title)
        self.rendered += 1
        data = {"html": result.html, "images": result.images, "links": result.links}
        write_whole(path, json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogatepass"))
        return result

    def flush(self) -> None:
        """Put what is kept on disk: each text is written whole as it is rendered, so
        nothing waits here. A site's worker process calls this at the end of each part of
        the sessions it makes."""
