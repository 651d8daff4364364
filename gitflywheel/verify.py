"""SSOT verification: walk `main`'s history and prove every rule, or name what breaks it.

Each commit is judged against the one before it: what changed in its tree must be what
its trailers say, every session folder it touches must be complete, canonical, rendered
again byte for byte from its record and recorded templates, and unique in the store.
What earlier commits established is kept in an index (see verify_state), so a second
run reads only the commits added since; `full` walks everything from the root.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from dulwich.errors import ObjectFormatException
from dulwich.objects import Commit

from .artifacts import Screenshot
from .commits import SessionTrailers, session_trailers
from .errors import StoreError
from .jsontext import JSONTextError, decode_utf8, loads
from .layout import (
    FANOUT_LEVELS,
    MANIFEST_FILE,
    RECORD_FILE,
    SESSIONS_DIR,
    STORE_FILE,
    TEMPLATES_DIR,
    session_dir,
)
from .manifest import Manifest
from .models import SESSION_ID_PATTERN
from .pipelines import run_pipeline
from .records import InputErrors, Record, make_record
from .rendering import Renderer, RenderError
from .store import Store
from .treecheck import (
    GITLINK_MODE,
    describe_mode,
    display_name,
    duplicate_names,
    mode_problem,
    name_problems,
    out_of_order,
    template_problem,
)
from .treediff import MAX_DEPTH, Changes, RawEntry, diff_sessions, read_entries
from .trees import TREE_MODE
from .verify_state import SessionState, VerifyState

__all__ = ["VERIFIED_REF", "Finding", "VerifyResult", "verify"]

VERIFIED_REF = b"refs/gitflywheel/verified"
_SESSION_ID = re.compile(SESSION_ID_PATTERN)

# rule -> what it means, for the report's legend
RULES = {
    "session.path": "each session id is recorded at exactly one path, matching the id inside the record",
    "session.record": "a session record is valid against the session schema and stored in canonical form",
    "session.unnamed-change": "no commit changes a session that its message does not name",
    "session.removed": "no commit removes a session",
    "session.revision": "every revision is recorded as one, in order",
    "manifest.invalid": "every session folder has a manifest that matches the manifest schema",
    "artifact.missing": "every file a manifest lists is in the tree, with the blob id and SHA-256 listed",
    "artifact.unlisted": "nothing in a session folder is missing from its manifest",
    "artifact.render": "every artifact renders again, byte for byte, from its session and recorded template",
    "artifact.template": "the template that rendered an artifact is in the tree at that commit",
    "duplicate.artifact": "no two sessions hold byte-identical artifacts of the same kind",
    "duplicate.record": "no commit records a session record that the store already had",
    "duplicate.session": "no session is recorded under two ids with the same content",
    "commit.trailers": "a commit's trailers agree with the change it makes",
    "commit.no-session": "every commit but the first and sync merges records exactly one session",
    "history.unexpected-path": "nothing outside sessions/ and templates/ changes after the first commit",
    "history.rewritten": "the history verified last time is still part of main",
    "history.missing-object": "every tree, blob, parent commit and gitlink commit the history names is in the store, as the type it is named as",
    "tree.mode": "every entry of a tree is a regular file (100644) or a folder (040000): no executable, symbolic link or gitlink",
    "tree.name": "no entry is named '', '.', '..' or .git in any spelling git refuses, holds '/', '\\', NUL or a control character, or shares its name with another entry of its tree",
    "tree.shape": "files are where the layout expects files and folders where it expects folders, trees keep git's order, and nothing nests deeper than the layout",
    "templates.invalid": "templates/ holds only regular *.j2 files",
}


@dataclass(frozen=True)
class Finding:
    """One violation (or warning): the rule, the commit, the path, and why."""

    rule: str
    commit: str
    path: str
    message: str
    severity: str = "violation"

    def __str__(self) -> str:
        return f"{self.commit[:12]} {self.path or '-'}: {self.message} [{self.rule}]"


@dataclass
class VerifyResult:
    """What a run found, what it covered, and the store's figures."""

    store: str
    tip: str | None
    full: bool
    commits_checked: int = 0
    sessions_checked: int = 0
    findings: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    figures: dict[str, int] = field(default_factory=dict)
    sessions_by_type: dict[str, int] = field(default_factory=dict)
    artifacts_by_step: list[tuple[str, str, str, int]] = field(default_factory=list)
    verified_before: str | None = None

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        data["artifacts_by_step"] = [
            {"pipeline": p, "step": s, "kind": k, "count": n}
            for p, s, k, n in self.artifacts_by_step
        ]
        return data


# -- walking trees ---------------------------------------------------------------------


def _folder_files(
    store: Store, tree_id: bytes, prefix: str, depth: int = 0
) -> Iterator[tuple[str, tuple[int, bytes]]]:
    """(path, (mode, id)) of every entry under a session folder, its folders included.
    A tree the store cannot read, or nested beyond MAX_DEPTH, is not walked: the diff of
    the commit that brought it names it."""
    for name, mode, sha in read_entries(store, tree_id) or []:
        path = f"{prefix}/{display_name(name)}"
        yield path, (mode, sha)
        if mode == TREE_MODE and depth < MAX_DEPTH:
            yield from _folder_files(store, sha, path, depth + 1)


def _is_blob(mode: int) -> bool:
    return mode not in (TREE_MODE, GITLINK_MODE)


def _in_fanout(folder: str) -> bool:
    """Whether the entries of `folder` are the sessions fan-out, where only folders belong."""
    return folder == SESSIONS_DIR or (
        folder.startswith(SESSIONS_DIR + "/") and folder.count("/") <= FANOUT_LEVELS
    )


def _shape_problem(folder: str, name: bytes, mode: int) -> str | None:
    """Why an entry is a file where the layout wants a folder, or the other way round."""
    what = describe_mode(mode)
    if folder == "" and name in (SESSIONS_DIR.encode(), TEMPLATES_DIR.encode()):
        if mode != TREE_MODE:
            return f"{what} where the {name.decode()}/ folder is expected"
    elif folder == "" and name == STORE_FILE.encode():
        if mode == TREE_MODE:
            return f"a folder where the file {STORE_FILE} is expected"
    elif _in_fanout(folder) and mode != TREE_MODE:
        level = "a session folder" if folder.count("/") == FANOUT_LEVELS else "a fan-out folder"
        return f"{what} where {level} of {SESSIONS_DIR}/ is expected"
    return None


# -- the walk --------------------------------------------------------------------------


class _Verifier:
    def __init__(
        self, store: Store, state: VerifyState, result: VerifyResult, local: bool = False
    ) -> None:
        self.store = store
        self.state = state
        self.result = result
        # local: judge commits a merge brings by their own change only; the store-wide
        # rules (duplicates, the index) apply at the merge, to what it finally takes.
        self.local = local
        self._renderers: dict[frozenset[tuple[str, str]], Renderer] = {}

    def find(self, rule: str, commit: Commit, path: str, message: str) -> None:
        self.result.findings.append(Finding(rule, commit.id.decode(), path, message))

    def check_commit(self, commit: Commit, is_root: bool) -> None:
        parent = _read_commit(self.store, commit.parents[0]) if commit.parents else None
        if commit.parents and (parent is None or read_entries(self.store, parent.tree) is None):
            what = "commit" if parent is None else "commit's tree"
            self.find(
                "history.missing-object",
                commit,
                "",
                f"its parent {what} {commit.parents[0].decode()[:12]} is not in the store, "
                "so the change it makes cannot be judged",
            )
            return
        changes = diff_sessions(
            self.store, parent.tree if parent else None, commit.tree, thorough=True
        )
        self.check_trees(commit, changes)
        if any(path == "" for path, _, _ in changes.missing):
            return  # no tree to judge
        if not self.local:
            self._count_blobs(changes)
        trailers = session_trailers(commit.message)
        merge = len(commit.parents) > 1

        for path, (old_file, new_file) in sorted(changes.files.items()):
            top = path.split("/", 1)[0]
            if top == TEMPLATES_DIR and (trailers is not None or is_root or merge):
                continue
            if is_root and top == STORE_FILE:
                continue
            if top == SESSIONS_DIR and new_file is not None:
                continue  # a file in the fan-out: tree.shape says so
            if top == SESSIONS_DIR:
                self.find(
                    "history.unexpected-path", commit, path, "a file outside any session folder"
                )
            else:
                what = "adds" if old_file is None else "removes" if new_file is None else "changes"
                self.find(
                    "history.unexpected-path",
                    commit,
                    path,
                    f"{what} a path that only the first commit may set up",
                )

        if merge:
            other = _read_commit(self.store, commit.parents[1])
            if other is None or read_entries(self.store, other.tree) is None:
                what = "commit" if other is None else "commit's tree"
                self.find(
                    "history.missing-object",
                    commit,
                    "",
                    f"the merged {what} {commit.parents[1].decode()[:12]} is not in the store",
                )
                return
            if not self.local:
                self.check_merged_side(commit)
            for path, (old, new) in sorted(changes.sessions.items()):
                theirs = self._lookup(other.tree, path)
                if new is None:
                    self.find("session.removed", commit, path, "the merge removes a session")
                elif theirs is None or theirs[1] != new:
                    self.find(
                        "session.unnamed-change",
                        commit,
                        path,
                        "the merge records a session folder that neither side of it has",
                    )
                elif not self.local:
                    self.check_session(commit, path, old, new, None, [commit.tree, other.tree])
            return

        named = None
        if trailers is None:
            if changes.sessions or not is_root:
                self.find(
                    "commit.no-session",
                    commit,
                    "",
                    "the commit records no session (no Session-Id trailer)",
                )
        else:
            named = session_dir(trailers.session_id) if _safe_id(trailers.session_id) else None
            if not changes.sessions:
                holder = self._recorded(trailers.session_id, parent)
                if holder is not None:
                    self.find(
                        "duplicate.record",
                        commit,
                        holder,
                        f"records session {trailers.session_id} again with the same record (a pipeline run twice)",
                    )
                else:
                    self.find(
                        "commit.trailers",
                        commit,
                        named or "",
                        f"names session {trailers.session_id!r} but records nothing",
                    )
                return
        for path, (old, new) in sorted(changes.sessions.items()):
            if path != named:
                if new is None:
                    self.find("session.removed", commit, path, "removes a session")
                    continue
                names = f" (it names {trailers.session_id})" if trailers else ""
                self.find(
                    "session.unnamed-change",
                    commit,
                    path,
                    f"changes a session its message does not name{names}",
                )
                self.check_content(commit, path, new, [commit.tree])
                continue
            if new is None:
                self.find("session.removed", commit, path, "removes the session it names")
                continue
            self.check_session(commit, path, old, new, trailers, [commit.tree])

    def check_merged_side(self, merge: Commit) -> None:
        """Each commit the merge brings, judged by the change it makes."""
        side = _Verifier(self.store, self.state, self.result, local=True)
        side._renderers = self._renderers
        try:
            brought = self.store.side_commits(merge.parents[0], merge.parents[1])
        except (KeyError, StoreError, ObjectFormatException, ValueError) as exc:
            self.find(
                "history.missing-object",
                merge,
                "",
                f"a commit on the merged side cannot be read: {exc}",
            )
            return
        for sha in brought:
            commit = self.store.commit(sha)
            side.check_commit(commit, is_root=not commit.parents)
            self.result.commits_checked += 1

    def check_trees(self, commit: Commit, changes: Changes) -> None:
        """Every entry the commit adds or changes: its mode, name and place, the objects
        it names; and every tree it rewrites: no name twice, git's order."""
        for path, _, problem in changes.missing:
            self.find("history.missing-object", commit, path, problem)
        for path in changes.too_deep:
            self.find(
                "tree.shape",
                commit,
                path,
                f"folders nested more than {MAX_DEPTH} deep, deeper than any store's layout; not walked",
            )
        for folder, old_entries, new_entries in changes.trees:
            self._check_tree(commit, folder, old_entries, new_entries)

    def _check_tree(
        self, commit: Commit, folder: str, old: list[RawEntry], new: list[RawEntry]
    ) -> None:
        def where(name: bytes) -> str:
            return f"{folder}/{display_name(name)}" if folder else display_name(name)

        twice_before = set(duplicate_names([name for name, _, _ in old]))
        for name in duplicate_names([name for name, _, _ in new]):
            if name not in twice_before:
                self.find(
                    "tree.name", commit, where(name), "two entries of one tree have this name"
                )
        unsorted = out_of_order([(name, mode) for name, mode, _ in new])
        if unsorted is not None and out_of_order([(name, mode) for name, mode, _ in old]) is None:
            self.find(
                "tree.shape", commit, where(unsorted), "the tree's entries are not in git's order"
            )
        known = set(old)
        for name, mode, sha in new:
            if (name, mode, sha) in known:
                continue  # judged when it came in
            found = [("tree.name", problem) for problem in name_problems(name)]
            found += [
                (rule, problem)
                for rule, problem in (
                    ("tree.mode", mode_problem(mode)),
                    ("tree.shape", _shape_problem(folder, name, mode)),
                    (
                        "templates.invalid",
                        template_problem(name, mode) if folder == TEMPLATES_DIR else None,
                    ),
                )
                if problem is not None
            ]
            for rule, problem in found:
                self.find(rule, commit, where(name), problem)

    def _lookup(self, tree_id: bytes, path: str) -> tuple[int, bytes] | None:
        """(mode, id) at `path`, or None, also when a tree on the way is not in the store."""
        try:
            return self.store.lookup(tree_id, path)
        except (KeyError, StoreError, ObjectFormatException, ValueError):
            return None

    def _blob(self, sha: bytes) -> bytes | None:
        """A blob's bytes, or None when the store does not hold it as a blob (reported by
        the diff of the commit that names it)."""
        try:
            return self.store.blob(sha)
        except (KeyError, StoreError, ObjectFormatException, ValueError):
            return None

    def _recorded(self, session_id: str, parent: Commit | None) -> str | None:
        """Where a session is already recorded before this commit, if it is."""
        if not self.local:
            held = self.state.session(session_id)
            return held.path if held else None
        if parent is None or not _safe_id(session_id):
            return None
        path = session_dir(session_id)
        return path if self._lookup(parent.tree, path) is not None else None

    def _previous_revision(self, old: bytes | None, folder_id: str) -> tuple[int, str] | None:
        """(revision, path) of the session before this commit, if it was recorded."""
        if not self.local:
            held = self.state.session(folder_id)
            return (held.revision, held.path) if held else None
        if old is None:
            return None
        entry = self._lookup(old, MANIFEST_FILE)
        data = self._blob(entry[1]) if entry else None
        try:
            return (Manifest.from_bytes(data).revision, "") if data is not None else None
        except (ValueError, JSONTextError, UnicodeDecodeError):
            return None

    def _count_blobs(self, changes: Changes) -> None:
        deltas: list[tuple[str, int, int]] = []
        for old_entry, new_entry in changes.files.values():
            for entry, delta in ((old_entry, -1), (new_entry, 1)):
                if entry is not None and _is_blob(entry[0]):
                    deltas.append((entry[1].decode(), self._size(entry[1]), delta))
        for path, (old, new) in changes.sessions.items():
            for tree_id, delta in ((old, -1), (new, 1)):
                if tree_id is not None:
                    deltas += [
                        (sha.decode(), self._size(sha), delta)
                        for _, (mode, sha) in _folder_files(self.store, tree_id, path)
                        if _is_blob(mode)
                    ]
        self.state.blob_refs(deltas)

    def _size(self, sha: bytes) -> int:
        data = self._blob(sha)
        return 0 if data is None else len(data)  # a missing blob is reported by the diff

    def check_session(
        self,
        commit: Commit,
        path: str,
        old: bytes | None,
        new: bytes,
        trailers: SessionTrailers | None,
        template_trees: list[bytes],
    ) -> None:
        """Judge one session folder as this commit leaves it."""
        self.result.sessions_checked += 1
        folder_id = path.rsplit("/", 1)[-1]
        if session_dir(folder_id) != path if _safe_id(folder_id) else True:
            self.find(
                "session.path",
                commit,
                path,
                f"session folder {folder_id!r} is not at the path its id decides",
            )
        files = dict(_folder_files(self.store, new, path))
        previous = self._previous_revision(old, folder_id)

        manifest = self._manifest(commit, path, files)
        record = self._record(commit, path, files, folder_id)
        if manifest is None or record is None:
            return
        session = record.session
        record_blob = manifest.record.blob
        if manifest.session_id != folder_id:
            self.find(
                "manifest.invalid",
                commit,
                f"{path}/{MANIFEST_FILE}",
                f"the manifest names session {manifest.session_id!r}, the folder {folder_id!r}",
            )

        expected_revision = 1 if previous is None else previous[0] + 1
        if previous is not None and old is None:
            self.find(
                "session.path",
                commit,
                path,
                f"session {folder_id} is already recorded at {previous[1]}",
            )
        if trailers is not None:
            self._check_trailers(commit, path, trailers, session.session_type, session.agent_id)
            if trailers.revision != expected_revision:
                self.find(
                    "session.revision",
                    commit,
                    path,
                    f"records revision {trailers.revision}, but the next revision of {folder_id} is {expected_revision}",
                )
        if trailers is not None and manifest.revision != trailers.revision:
            self.find(
                "session.revision",
                commit,
                f"{path}/{MANIFEST_FILE}",
                f"the manifest says revision {manifest.revision}, the trailer {trailers.revision}",
            )
        if trailers is None and manifest.revision < expected_revision:
            # A merge takes a folder whose earlier revisions live on the merged side.
            self.find(
                "session.revision",
                commit,
                f"{path}/{MANIFEST_FILE}",
                f"the merge records revision {manifest.revision}, but {expected_revision - 1} is already here",
            )
        self._check_files(commit, path, files, manifest)
        self._check_rendering(commit, path, manifest, session, template_trees)
        if self.local:
            return

        held = self.state.record_holder(record_blob)
        if held is not None:
            self.find(
                "duplicate.record",
                commit,
                f"{path}/{RECORD_FILE}",
                f"records a session record the store already had (revision {held[1]} of {held[0]}): a pipeline run twice",
            )

        for artifact in manifest.artifacts:
            other = self.state.artifact_holder(artifact.kind, artifact.blob, folder_id)
            if other is not None:
                self.find(
                    "duplicate.artifact",
                    commit,
                    artifact.path,
                    f"its {artifact.kind} is byte-identical to that of session {other}: it would be published twice",
                )
        twin = self.state.session_with_fingerprint(record.fingerprint, folder_id)
        if twin is not None:
            self.find(
                "duplicate.session",
                commit,
                path,
                f"the same session as {twin}, recorded under another id",
            )
        self.state.put_session(
            SessionState(
                folder_id,
                path,
                record_blob,
                manifest.revision,
                record.fingerprint,
                session.session_type,
            ),
            [(a.kind, a.blob, a.pipeline, a.step) for a in manifest.artifacts],
            record.warnings,
        )

    def check_content(
        self, commit: Commit, path: str, new: bytes, template_trees: list[bytes]
    ) -> None:
        """The folder's own rules (files, manifest, rendering) for a change that is not allowed."""
        files = dict(_folder_files(self.store, new, path))
        manifest = self._manifest(commit, path, files)
        record = self._record(commit, path, files, path.rsplit("/", 1)[-1])
        if manifest is not None and record is not None:
            self._check_files(commit, path, files, manifest)
            self._check_rendering(commit, path, manifest, record.session, template_trees)

    def _check_trailers(
        self, commit: Commit, path: str, t: SessionTrailers, session_type: str, agent_id: str
    ) -> None:
        if t.session_type != session_type:
            self.find(
                "commit.trailers",
                commit,
                path,
                f"Session-Type trailer says {t.session_type!r}, the record says {session_type!r}",
            )
        if t.agent_id != agent_id:
            self.find(
                "commit.trailers",
                commit,
                path,
                f"Agent-Id trailer says {t.agent_id!r}, the record says {agent_id!r}",
            )

    def _manifest(
        self, commit: Commit, path: str, files: dict[str, tuple[int, bytes]]
    ) -> Manifest | None:
        entry = files.get(f"{path}/{MANIFEST_FILE}")
        if entry is None:
            self.find("manifest.invalid", commit, path, "the session folder has no manifest.json")
            return None
        if entry[0] == TREE_MODE:
            self.find(
                "tree.shape",
                commit,
                f"{path}/{MANIFEST_FILE}",
                f"a folder where the file {MANIFEST_FILE} is expected",
            )
            return None
        data = self._blob(entry[1])
        if data is None:
            return None
        try:
            return Manifest.from_bytes(data)
        except (ValueError, JSONTextError, UnicodeDecodeError) as exc:
            reason = str(exc).splitlines()[0]
            self.find(
                "manifest.invalid",
                commit,
                f"{path}/{MANIFEST_FILE}",
                f"not a valid manifest: {reason}",
            )
            return None

    def _record(
        self, commit: Commit, path: str, files: dict[str, tuple[int, bytes]], folder_id: str
    ) -> Record | None:
        record_path = f"{path}/{RECORD_FILE}"
        entry = files.get(record_path)
        if entry is None:
            self.find("session.record", commit, path, "the session folder has no session.json")
            return None
        if entry[0] == TREE_MODE:
            self.find(
                "tree.shape",
                commit,
                record_path,
                f"a folder where the file {RECORD_FILE} is expected",
            )
            return None
        data = self._blob(entry[1])
        if data is None:
            return None
        try:
            record = make_record(record_path, loads(decode_utf8(data)))
        except JSONTextError as exc:
            self.find("session.record", commit, record_path, f"not valid JSON: {exc}")
            return None
        except InputErrors as exc:
            self.find(
                "session.record",
                commit,
                record_path,
                "not a valid session: " + "; ".join(f"{p.field}: {p.reason}" for p in exc.problems),
            )
            return None
        if record.session_id != folder_id:
            self.find(
                "session.path",
                commit,
                record_path,
                f"the record's session_id {record.session_id!r} does not match its folder {folder_id!r}",
            )
        if record.stored_bytes != data:
            self.find("session.record", commit, record_path, "the record is not in canonical form")
        return record

    def _check_files(
        self, commit: Commit, path: str, files: dict[str, tuple[int, bytes]], manifest: Manifest
    ) -> None:
        listed = {f"{path}/{MANIFEST_FILE}"}
        for ref in manifest.files():
            listed.add(ref.path)
            entry = files.get(ref.path)
            if entry is None:
                self.find(
                    "artifact.missing",
                    commit,
                    ref.path,
                    "listed in the manifest but not in the tree",
                )
                continue
            if entry[0] == TREE_MODE:
                self.find(
                    "tree.shape",
                    commit,
                    ref.path,
                    "a folder where a file the manifest lists is expected",
                )
                continue
            if entry[1].decode() != ref.blob:
                self.find(
                    "artifact.missing",
                    commit,
                    ref.path,
                    f"blob {entry[1].decode()[:12]} in the tree, {ref.blob[:12]} in the manifest",
                )
                continue
            data = self._blob(entry[1])
            if data is None:
                continue
            if hashlib.sha256(data).hexdigest() != ref.sha256 or len(data) != ref.size:
                self.find(
                    "artifact.missing",
                    commit,
                    ref.path,
                    "SHA-256 or size differs from the manifest",
                )
        unlisted = {p for p, (mode, _) in files.items() if mode != TREE_MODE} - listed
        for file_path in sorted(unlisted):
            self.find(
                "artifact.unlisted",
                commit,
                file_path,
                "in the session folder but not in its manifest",
            )

    def _check_rendering(
        self, commit: Commit, path: str, manifest: Manifest, session: Any, trees: list[bytes]
    ) -> None:
        templates: dict[str, str] = {}
        sources: dict[str, bytes] = {}
        for artifact in manifest.artifacts:
            ref = artifact.template
            in_tree = any(
                (found := self._lookup(tree, ref.path)) is not None
                and found[1].decode() == ref.blob
                for tree in trees
            )
            if not in_tree:
                self.find(
                    "artifact.template",
                    commit,
                    artifact.path,
                    f"template {ref.path} at blob {ref.blob[:12]} is not in the tree at this commit",
                )
            source = self._blob(ref.blob.encode())
            if source is None:
                self.find(
                    "artifact.template",
                    commit,
                    artifact.path,
                    f"template blob {ref.blob[:12]} is not in the store",
                )
                return
            templates[ref.path.rsplit("/", 1)[-1]] = ref.blob
            sources[ref.path.rsplit("/", 1)[-1]] = source
        screenshots = [
            Screenshot(s.source, s.file.path.rsplit("/", 1)[-1] if s.file else None)
            for s in manifest.screenshots
        ]
        key = frozenset(templates.items())
        renderer = self._renderers.get(key)
        if renderer is None:
            renderer = Renderer(sources)
            self._renderers[key] = renderer
        expected = {a.kind: a for a in manifest.artifacts}
        try:
            specs = run_pipeline(session, screenshots)
        except Exception as exc:  # a record the pipelines cannot handle is a finding, not a crash
            self.find("artifact.render", commit, path, f"the pipeline fails on this record: {exc}")
            return
        for spec in specs:
            entry = expected.pop(spec.kind) if spec.kind in expected else None
            if entry is None:
                self.find(
                    "artifact.missing",
                    commit,
                    path,
                    f"the {spec.kind} artifact is not in the manifest",
                )
                continue
            try:
                data = renderer.render(spec)
            except RenderError as exc:
                self.find("artifact.render", commit, entry.path, f"does not render again: {exc}")
                continue
            if hashlib.sha256(data).hexdigest() != entry.sha256:
                self.find(
                    "artifact.render",
                    commit,
                    entry.path,
                    "rendering the record with its recorded template gives other bytes",
                )
        for kind, artifact in expected.items():
            self.find(
                "artifact.render",
                commit,
                artifact.path,
                f"the {kind} artifact is not made by its pipeline",
            )


def _safe_id(session_id: str) -> bool:
    return _SESSION_ID.match(session_id) is not None


def _read_commit(store: Store, sha: bytes) -> Commit | None:
    """A commit, or None when the store does not hold one under this id."""
    try:
        return store.commit(sha)
    except (KeyError, StoreError, ObjectFormatException, ValueError):
        return None


def _first_parent_ids(store: Store, tip: bytes) -> Iterator[bytes]:
    """The first-parent chain from `tip`, down to the root or to the last commit the store
    holds (the commit whose parent is missing reports it)."""
    sha: bytes | None = tip
    while sha is not None:
        commit = _read_commit(store, sha)
        if commit is None:
            return
        yield sha
        sha = commit.parents[0] if commit.parents else None


def _is_ancestor(store: Store, ancestor: bytes, tip: bytes) -> bool:
    seen: set[bytes] = set()
    stack = [tip]
    while stack:
        sha = stack.pop()
        if sha == ancestor:
            return True
        commit = None if sha in seen else _read_commit(store, sha)
        if commit is None:
            continue
        seen.add(sha)
        stack.extend(commit.parents)
    return False


def verify(store: Store, full: bool = False) -> VerifyResult:
    """Verify `main`; incremental from the last clean run unless `full`."""
    tip = store.tip()
    result = VerifyResult(str(store.path), tip.decode() if tip else None, full)
    verified = store.read_ref(VERIFIED_REF)
    result.verified_before = verified.decode() if verified else None
    if tip is None:
        return result
    if _read_commit(store, tip) is None:
        result.findings.append(
            Finding(
                "history.missing-object",
                tip.decode(),
                "refs/heads/main",
                f"main points at {tip.decode()[:12]}, which is not a commit in the store",
            )
        )
        return result
    if verified is not None and (verified not in store or not _is_ancestor(store, verified, tip)):
        result.findings.append(
            Finding(
                "history.rewritten",
                verified.decode(),
                "refs/heads/main",
                f"commit {verified.decode()[:12]}, verified by an earlier run, is no longer part of main: "
                "the history was rewritten or rewound",
            )
        )

    state = None if full else VerifyState.load(store.path)
    chain: list[bytes] = []
    if (
        state is not None
        and verified is not None
        and state.get_meta("verified") == verified.decode()
    ):
        for sha in _first_parent_ids(store, tip):
            if sha == verified:
                break
            chain.append(sha)
        else:
            state.close()
            state, chain = None, []
    elif state is not None:
        state.close()
        state = None
    if state is None:
        result.full = True
        state = VerifyState(None)
        chain = list(_first_parent_ids(store, tip))
    chain.reverse()

    checker = _Verifier(store, state, result)
    for sha in chain:
        commit = store.commit(sha)
        checker.check_commit(commit, is_root=not commit.parents)
        result.commits_checked += 1

    result.figures = state.figures()
    result.sessions_by_type = state.sessions_by_type()
    result.artifacts_by_step = state.artifacts_by_step()
    result.warnings = [
        Finding("session.warning", "", session_dir(sid), text, "warning")
        for sid, text in state.all_warnings()
    ]
    if result.ok:
        state.set_meta("verified", tip.decode())
        state.save_as(store.path)
        store.set_ref(VERIFIED_REF, tip)
    state.close()
    return result
