"""The files of a site build, each put on disk as it is made, so that a build holds
their names and hashes, never their bytes: its memory does not grow with the site.

They are written to a staging folder (beside the site's folder when one is named, so
that `folder_writer` links them into place instead of writing them again), removed by
`close()` or when the files are no longer used.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from collections.abc import Iterator, Mapping
from hashlib import sha256
from pathlib import Path

__all__ = ["SiteFiles"]


class SiteFiles(Mapping[str, bytes]):
    """Site path -> bytes, kept in a staging folder; iterated in path order."""

    def __init__(self, near: Path | None = None) -> None:
        parent = near if near is not None and near.is_dir() else None
        self.folder = Path(tempfile.mkdtemp(prefix=".gitflywheel-site-", dir=parent))
        self.digests: dict[str, str] = {}  # site path -> SHA-256 of its bytes
        self._remove = weakref.finalize(self, shutil.rmtree, str(self.folder), True)

    def add(self, path: str, data: bytes) -> None:
        target = self.file(path)
        if path not in self.digests:
            target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self.digests[path] = sha256(data).hexdigest()

    def file(self, path: str) -> Path:
        """Where the bytes of `path` are on disk."""
        return self.folder.joinpath(*path.split("/"))

    def __getitem__(self, path: str) -> bytes:
        if path not in self.digests:
            raise KeyError(path)
        return self.file(path).read_bytes()

    def __contains__(self, path: object) -> bool:
        return path in self.digests

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.digests))

    def __len__(self) -> int:
        return len(self.digests)

    def close(self) -> None:
        """Remove the staging folder (the files cannot be read after)."""
        self._remove()
