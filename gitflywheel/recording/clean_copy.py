"""A cleaned copy of a store's history (`gitflywheel clean-copy OLD NEW`), for a store an
earlier gitflywheel filled with records as given, before it is pushed.

OLD is only read. NEW, a new store, replays OLD's history in order along first parents:
each session revision recorded again from the record it had, as its public record (the
rules ingest applies, with `privacy.private` as OLD had it then and as it has it now),
its stored screenshots with it; each change of the settings made again; a sync's merge
flattened into the revisions it brought, in the order its side recorded them. Rerender
commits are not replayed: NEW renders every revision with this version's pipelines anyway.
Session ids, their order and their revisions are kept; a revision whose public record
is the one before it (the rules made them equal) is counted as folded into it.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import InputError, StoreError
from ..jsontext import loads
from ..queries.settings import settings_at, settings_blob
from ..rendering.templates import load_templates
from ..session.manifest import Manifest
from ..session.public_text import NotPublic, public_record
from ..session.records import make_record
from ..session.settings import KEYS, StoreSettings, Value, dumps_settings
from ..storage.commits import (
    commit_time,
    committer_identity,
    config_message,
    config_trailers,
    session_trailers,
)
from ..storage.layout import MANIFEST_FILE, RECORD_FILE, SETTINGS_FILE, session_dir
from ..storage.objects import CommitInfo
from ..storage.store import Store
from ..storage.treediff import diff_sessions
from ..storage.trees import FILE_MODE
from ..storage.writing import Writer
from .folder_plan import store_names
from .ingest import Recorder
from .init import init_store, open_store, store_templates_dir
from .screenshots import ScreenshotPolicy

__all__ = ["CleanCopyResult", "clean_copy"]


@dataclass
class CleanCopyResult:
    """What a clean copy wrote: sessions and revisions recorded, what the public-text
    rules replaced in them (by rule), settings commits, and every commit NEW has."""

    old: str
    new: str
    sessions: int = 0
    revisions: int = 0
    folded: int = 0  # revisions whose public record equals the one before: not recorded
    redactions: dict[str, int] = field(default_factory=dict)
    settings_commits: int = 0
    skipped_rerenders: int = 0
    commits: int = 0  # every commit of NEW, its first commit included
    main: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def redacted(self) -> int:
        """How many texts the rules replaced, all rules together."""
        return sum(self.redactions.values())

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "redacted": self.redacted}


def _refuse_target(old: Path, new: Path) -> None:
    """NEW must be a path that does not exist, or an empty folder, and not OLD."""
    if new.exists() and not (new.is_dir() and not any(new.iterdir())):
        raise InputError(
            str(new),
            "",
            "exists and is not empty: a clean copy is written into a new store only",
        )
    if new.exists() and os.path.samefile(old, new):
        raise InputError(str(new), "", "is OLD itself: give a new path")


def clean_copy(old_path: Path, new_path: Path) -> CleanCopyResult:
    """Write NEW, a store whose history replays OLD's with every record made public (see
    the module's docstring); OLD is read, never written. InputError (exit 2) when NEW
    exists and is not empty, StoreError when OLD is no store or has no commit."""
    if not old_path.exists():
        raise StoreError(f"{old_path}: no such store")
    _refuse_target(old_path, new_path)
    result = CleanCopyResult(str(old_path), str(new_path))
    with open_store(old_path, read_only=True) as old:
        tip = old.tip()
        if tip is None:
            raise StoreError(f"{old_path}: the store has no commit yet: nothing to copy")
        chain = list(old.first_parent_chain(tip))[::-1]
        final_private = settings_at(old, old.commit(tip).tree).private_patterns()
        templates_dir = store_templates_dir(old)
        if templates_dir is not None and not templates_dir.is_dir():
            result.warnings.append(
                f"OLD's templates folder {templates_dir} is gone: NEW renders with the "
                "default templates"
            )
            templates_dir = None
        existed = new_path.exists()
        try:
            init_store(new_path, templates_dir)
            _write(old, new_path, chain, final_private, result)
        except BaseException:
            _remove_written(new_path, existed)
            raise
    return result


def _write(
    old: Store,
    new_path: Path,
    chain: list[CommitInfo],
    final_private: Sequence[re.Pattern[str]],
    result: CleanCopyResult,
) -> None:
    with (
        open_store(new_path) as new,
        new.writing() as writer,
        tempfile.TemporaryDirectory(prefix="gitflywheel-clean-") as scratch,
    ):
        templates = load_templates(store_templates_dir(new))
        copier = _Copier(old, writer, templates, Path(scratch), final_private, result)
        for commit in chain:
            copier.replay(commit)
        copier.recorder.flush()
        result.main = (writer.main or b"").decode()
        result.commits = sum(1 for _ in new.first_parent_chain(writer.main))


def _remove_written(new_path: Path, existed: bool) -> None:
    """Take back a copy that failed half-way: NEW was missing or empty, and is so again."""
    if not existed:
        shutil.rmtree(new_path, ignore_errors=True)
        return
    for child in new_path.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


class _Copier:
    """Replays OLD's commits onto NEW, one first-parent commit at a time."""

    def __init__(
        self,
        old: Store,
        writer: Writer,
        templates: dict[str, bytes],
        scratch: Path,
        final_private: Sequence[re.Pattern[str]],
        result: CleanCopyResult,
    ) -> None:
        self.old = old
        self.writer = writer
        self.templates = templates
        self.scratch = scratch
        self.final_private = tuple(final_private)
        self.result = result
        self.recorder = self._recorder()
        self.seen: set[str] = set()
        self.count = 0

    def _recorder(self) -> Recorder:
        # only the folder a revision's stored screenshots are written into is read; a
        # thread links its post at the site address NEW's settings give at this point
        tip = self.writer.main
        tree = self.writer.store.commit(tip).tree if tip is not None else None
        base_url = settings_at(self.writer.store, tree).site.base_url
        return Recorder(self.writer, self.templates, ScreenshotPolicy(), base_url=base_url)

    def replay(self, commit: CommitInfo) -> None:
        parent = self.old.commit(commit.parents[0]).tree if commit.parents else None
        trailers = session_trailers(commit.message)
        if trailers is not None and trailers.rerender:
            self.result.skipped_rerenders += 1
            return
        if settings_blob(self.old, parent) != settings_blob(self.old, commit.tree):
            self._settings(commit, parent)
        changed = diff_sessions(self.old, parent, commit.tree).sessions
        folders = [folder for folder, (_, tree) in changed.items() if tree is not None]
        if len(commit.parents) > 1:  # a sync's merge: the revisions it brought, in order
            folders = self._brought(commit.parents[0], commit.parents[1], set(folders))
        for folder in folders:
            self._session(commit.tree, folder, self._private(commit.tree))

    def _private(self, tree: bytes) -> tuple[re.Pattern[str], ...]:
        """`privacy.private` as OLD had it in `tree`, and as it has it now."""
        return (*settings_at(self.old, tree).private_patterns(), *self.final_private)

    def _brought(self, ours: bytes, theirs: bytes, changed: set[str]) -> list[str]:
        """Replay every revision a merge brought of the sessions it changes, in the order
        its side recorded them; the folders it changes that no side commit names (none,
        in a store sync made) are left to replay in their state at the merge."""
        done: set[str] = set()
        for sha in self.old.side_commits(ours, theirs):
            side = self.old.commit(sha)
            trailers = session_trailers(side.message)
            if trailers is None or trailers.rerender:
                continue
            folder = session_dir(trailers.session_id)
            if folder in changed:
                self._session(side.tree, folder, self._private(side.tree))
                done.add(folder)
        return sorted(changed - done)

    def _settings(self, commit: CommitInfo, parent: bytes | None) -> None:
        """Make OLD's change of the settings in NEW: a settings commit as it was (its
        file and message), any other change (a merge's) one key at a time."""
        before, after = settings_at(self.old, parent), settings_at(self.old, commit.tree)
        self.recorder.flush()
        config = config_trailers(commit.message)
        if config is not None and not commit.parents[1:]:
            self._settings_commit(dumps_settings(after), commit.message)
        else:
            for key, change, state in _steps(before, after):
                self._settings_commit(dumps_settings(state), config_message(key, change))
        self.recorder = self._recorder()

    def _settings_commit(self, data: bytes, message: bytes) -> None:
        tip = self.writer.main
        assert tip is not None  # NEW has its first commit
        editor = self.writer.edit(self.writer.store.commit(tip).tree)
        editor.set(SETTINGS_FILE, FILE_MODE, self.writer.put_blob(data))
        root = self.writer.write_tree(editor)
        made = self.writer.commit(root, [tip], message, committer_identity(), None, commit_time())
        self.writer.flush(made)
        self.result.settings_commits += 1

    def _session(self, tree: bytes, folder: str, private: Sequence[re.Pattern[str]]) -> None:
        """Record the session in `folder` of OLD's `tree` again, as its public record."""
        record_bytes = self._file(tree, f"{folder}/{RECORD_FILE}")
        manifest_bytes = self._file(tree, f"{folder}/{MANIFEST_FILE}")
        if record_bytes is None or manifest_bytes is None:
            self.result.warnings.append(f"{folder}: no record or manifest in OLD; not copied")
            return
        value = loads(record_bytes.decode("utf-8"))
        manifest = Manifest.from_bytes(manifest_bytes)
        self.count += 1
        here = self.scratch / str(self.count)
        here.mkdir()
        origin = f"{manifest.session_id} (revision {manifest.revision})"
        if isinstance(value, dict):
            self._screenshots(value, manifest, tree, here)
            found = _redactions(value, private)
        else:
            found = {}
        self.recorder.private = tuple(private)
        self.recorder.names = store_names(settings_at(self.old, tree))  # as names were then
        try:
            outcome = self.recorder.record(make_record(origin, value), True, here)
        except Exception as exc:
            raise StoreError(f"{self.old.path}: {origin} cannot be recorded again: {exc}") from exc
        if outcome.status == "unchanged":
            self.result.folded += 1
        else:
            for rule, n in found.items():
                self.result.redactions[rule] = self.result.redactions.get(rule, 0) + n
            self.result.revisions += 1
            if manifest.session_id not in self.seen:
                self.seen.add(manifest.session_id)
                self.result.sessions += 1
        self.result.warnings += [f"{origin}: {w}" for w in outcome.warnings]
        self.recorder.flush_when_due(500, 2.0)

    def _file(self, tree: bytes, path: str) -> bytes | None:
        found = self.old.lookup(tree, path)
        return None if found is None or found[0] != FILE_MODE else self.old.blob(found[1])

    def _screenshots(
        self, value: dict[str, Any], manifest: Manifest, tree: bytes, here: Path
    ) -> None:
        """Write each screenshot OLD stored for this revision into `here`, and point the
        record at it: a relative path as it is, any other by its file's name (as the
        public record names a local path) in a folder of its own."""
        source = value.get("source_data")
        shots = source.get("screenshots") if isinstance(source, dict) else None
        if not isinstance(shots, list):
            return
        for index, entry in enumerate(manifest.screenshots[: len(shots)]):
            if entry.status != "stored" or entry.file is None:
                continue
            data = self._file(tree, entry.file.path)
            given = shots[index]
            path = given.get("path") if isinstance(given, dict) else given
            if data is None or not isinstance(path, str):
                continue
            target = _beneath(here, index, path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            named = os.path.relpath(target, here) if _plain_relative(path) else str(target)
            if isinstance(given, dict):
                shots[index] = {**given, "path": named}
            else:
                shots[index] = named


def _plain_relative(path: str) -> bool:
    """A path to keep as given: relative, forward slashes, nothing that climbs out."""
    parts = PurePosixPath(path).parts
    return (
        bool(parts)
        and "\\" not in path
        and ":" not in path
        and not path.startswith(("/", "~"))
        and ".." not in parts
    )


def _beneath(here: Path, index: int, path: str) -> Path:
    """Where a screenshot's bytes go: at its relative path under `here`, else under a
    folder of its own by its file's name."""
    if _plain_relative(path):
        return here.joinpath(*PurePosixPath(path).parts)
    parts = [p for p in re.split(r"[\\/]+", path) if p and p not in (".", "..")]
    name = parts[-1] if parts else "screenshot"
    return here / f"shot-{index}" / name


def _redactions(value: dict[str, Any], private: Sequence[re.Pattern[str]]) -> dict[str, int]:
    """What the public-text rules replace in a record now, by rule (what it says it had
    replaced already left out)."""
    try:
        _, found = public_record(value, private)
    except NotPublic:  # the record is refused, and says why, when it is recorded again
        return {}
    counts: dict[str, int] = {}
    for item in found:
        counts[item.rule] = counts.get(item.rule, 0) + item.count
    before = value.get("redacted")
    if isinstance(before, list):
        for item in before:
            if isinstance(item, dict) and isinstance(item.get("count"), int):
                rule = str(item.get("rule"))
                counts[rule] = counts.get(rule, 0) - item["count"]
    return {rule: n for rule, n in sorted(counts.items()) if n > 0}


def _steps(before: StoreSettings, after: StoreSettings) -> Iterator[tuple[str, str, StoreSettings]]:
    """A change of the settings as `config` makes it, one key at a time: (key, how, the
    settings after that step)."""
    state = before
    for key in KEYS:
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if not KEYS[key].multi:
            state = state.replaced(key, new)
            yield key, "unset" if new is None else "set", state
            continue
        old_values = old if isinstance(old, tuple) else ()
        new_values = new if isinstance(new, tuple) else ()
        if new_values[: len(old_values)] != old_values:
            state = state.replaced(key, ())
            yield key, "unset", state
            old_values = ()
        for count in range(len(old_values) + 1, len(new_values) + 1):
            value: Value = new_values[:count]
            state = state.replaced(key, value)
            yield key, "add", state
