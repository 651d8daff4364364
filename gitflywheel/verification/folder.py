"""One session folder as a commit leaves it: manifest, record, files, facts, artifacts.

The folder must be what the plan of its record says (recording/folder_plan.py): every file
the manifest lists is there with its blob id and SHA-256, and nothing else; every
artifact renders again, byte for byte, from the recorded facts with the recorded template
and filter set; and when this gitflywheel runs the pipeline version that made the facts,
the facts and the manifest follow again from the record. A session made by another
version is judged by its facts only, and a format-1 folder (made before facts were kept)
by its hashes; a filter set this gitflywheel lacks leaves the artifacts to their hashes.

Facts derive again with the display names they recorded (`names.repo`, `names.agent`),
never with the settings of the moment: those names must be what the store's settings at
the folder's commit give the session, and names the settings have changed since are a
warning (`gitflywheel rerender` renews the session). So with the post's address they
recorded (its slug, fixed at first record, and the site's address its thread links): a
site address the settings have changed since is a warning too.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field

from ..errors import GitflywheelError, InputError, StoreError
from ..jsontext import JSONTextError, decode_utf8, loads
from ..pipelines import names_used, pipeline_id
from ..pipelines.drafts import draft_reasons
from ..queries.settings import current_settings, settings_at, settings_blob
from ..recording.folder_plan import (
    Derived,
    ScreenshotFile,
    TemplateSet,
    derive,
    plan_manifest,
    store_names,
)
from ..rendering.filtersets import FILTER_SETS
from ..rendering.templates import RenderError
from ..session.facts import Address, Facts, FactsError, Names
from ..session.manifest import Manifest
from ..session.records import InputErrors, Record, make_record
from ..session.versions import split_pipeline_id
from ..storage.layout import (
    FACTS_FILE,
    MANIFEST_FILE,
    RECORD_FILE,
    TEMPLATES_DIR,
    artifact_path,
    session_dir,
    template_path,
)
from ..storage.objects import CommitInfo
from ..storage.treediff import read_entries
from ..storage.trees import TREE_MODE
from .context import Context, FolderFiles, is_blob

__all__ = ["CleanFolders", "Folder", "FolderChecks", "gate_warnings"]


@dataclass(frozen=True)
class Folder:
    """A session folder read from a tree: its files, and its manifest and record when
    they could be read (each problem with them is already a finding)."""

    path: str
    folder_id: str
    files: FolderFiles
    manifest: Manifest | None
    record: Record | None
    tree: bytes = b""  # the folder's tree id
    # path -> (bytes, SHA-256 hex) of each listed file its check has read and hashed, so
    # that the same bytes rendered or derived again are not hashed a second time
    hashed: dict[str, tuple[bytes, str]] = field(default_factory=dict, compare=False, repr=False)

    def sha256(self, path: str, data: bytes) -> str:
        """The SHA-256 (hex) of `data`, as hashed already when they are the bytes
        stored at `path` (a comparison of bytes costs far less than a hash)."""
        known = self.hashed.get(path)
        if known is not None and known[0] == data:
            return known[1]
        return hashlib.sha256(data).hexdigest()

    @property
    def filters(self) -> str:
        """The filter sets its artifacts name, comma-separated (none for format 1)."""
        if self.manifest is None:
            return ""
        return ",".join(sorted({a.filters for a in self.manifest.artifacts if a.filters}))


def gate_warnings(folder: Folder, ctx: Context) -> list[str]:
    """A session that an older pipeline version published and the current rules make a
    draft (a test placeholder, bare counters: `drafts.draft_reasons`): a warning, since
    its facts are what that version made; `gitflywheel rerender` makes it a draft."""
    manifest, record = folder.manifest, folder.record
    if manifest is None or record is None or manifest.facts is None or not manifest.pipeline:
        return []  # format 1 is never published (its facts were not kept)
    made, current = manifest.pipeline, pipeline_id(manifest.session_type)
    try:
        older = split_pipeline_id(made) < split_pipeline_id(current)
    except ValueError:
        older = False
    if not older:
        return []  # the current rules made its facts (facts.derive), or later ones did
    stored = sum(1 for shot in manifest.screenshots if shot.file is not None)
    reasons = draft_reasons(record.session, stored)
    if not reasons:
        return []
    entry = folder.files.get(manifest.facts.path)
    data = ctx.blob(entry[1]) if entry is not None and is_blob(entry[0]) else None
    try:
        facts = Facts.from_bytes(data, manifest.facts.path) if data is not None else None
    except FactsError:
        return []  # facts.invalid says so
    post = facts.artifacts.get("blog_post") if facts is not None else None
    front = post.context.get("front") if post is not None else None
    if not isinstance(front, dict) or front.get("draft", False):
        return []
    return [
        f"published by {made}, a draft by the rules of {current}: "
        f"{'; '.join(reasons)}; `gitflywheel rerender` makes it one"
    ]


class CleanFolders:
    """Folders found clean (no finding), by everything their check reads (see
    `FolderChecks._clean_key`), with their warnings, for one store as it stands during
    a verify run, or a sync's quarantine during its attempts: a folder that comes again
    with the same content in the same context (a merge bringing a session its side
    commit brought already, a sync trying again after a lost race) is not derived and
    rendered again. Bounded: the oldest go first."""

    LIMIT = 4096

    def __init__(self) -> None:
        self._found: OrderedDict[tuple[object, ...], tuple[str, ...]] = OrderedDict()

    def get(self, key: tuple[object, ...]) -> list[str] | None:
        found = self._found.get(key)
        if found is None:
            return None
        self._found.move_to_end(key)
        return list(found)

    def put(self, key: tuple[object, ...], warnings: list[str]) -> None:
        self._found[key] = tuple(warnings)
        if len(self._found) > self.LIMIT:
            self._found.popitem(last=False)


_NAMES_KEY = b'\n  "names": '
_ADDRESS_KEY = b'\n  "address": '


def _names_text(names: Names) -> str:
    """`repo 'X' as 'Y', agent 'A' as 'B'`, or `none`."""
    shown = [f"repo {k!r} as {v!r}" for k, v in sorted(names.repo.items())]
    shown += [f"agent {k!r} as {v!r}" for k, v in sorted(names.agent.items())]
    shown += ["agents as tags"] if names.agent_tags else []
    return ", ".join(shown) or "none"


class FolderChecks:
    """The rules of one session folder; compiled templates are kept across folders."""

    def __init__(self, ctx: Context, clean: CleanFolders | None = None) -> None:
        self.ctx = ctx
        self.clean = CleanFolders() if clean is None else clean
        self._template_sets: dict[tuple[frozenset[tuple[str, str]], str], TemplateSet] = {}
        self._names_at: dict[bytes | None, Names | None] = {}  # by the settings' blob
        self._site_at: dict[bytes | None, tuple[str | None] | None] = {}  # the same
        self._tip_names: tuple[Names | None] | None = None
        self._tip_site: tuple[str | None] | None = None
        self._settings_of: tuple[bytes | None, tuple[bytes | None]] | None = None

    def _settings_blob(self, tree: bytes | None) -> tuple[bytes | None] | None:
        """(the settings file's blob id,) in a root tree, or None when it cannot be read
        (settings.invalid says why); the last tree's answer is kept, as the checks of one
        folder ask it three times (a tree not read is asked again: it may come in)."""
        if self._settings_of is not None and self._settings_of[0] == tree:
            return self._settings_of[1]
        # through the entries the diff of the commit read already (read_entries keeps
        # them), not a parse of the root tree of its own
        if tree is not None and read_entries(self.ctx.store, tree) is None:
            return None
        try:
            found = (settings_blob(self.ctx.store, tree, self.ctx.lookup),)
        except StoreError:
            return None  # a folder: settings.invalid says so
        self._settings_of = (tree, found)
        return found

    # -- the store's display names -------------------------------------------------------

    def _settings_names(self, tree: bytes | None) -> Names | None:
        """The display names the settings of a root tree give; None when they cannot be
        read (settings.invalid says why)."""
        found = self._settings_blob(tree)
        if found is None:
            return None
        blob = found[0]
        if blob not in self._names_at:
            try:
                self._names_at[blob] = store_names(settings_at(self.ctx.store, tree))
            except (InputError, GitflywheelError, KeyError, ValueError):
                self._names_at[blob] = None
        return self._names_at[blob]

    def _current_names(self) -> Names | None:
        """The display names the settings at `main`'s tip give, read once."""
        if self._tip_names is None:
            try:
                names: Names | None = store_names(current_settings(self.ctx.store))
            except (InputError, GitflywheelError, KeyError, ValueError):
                names = None
            self._tip_names = (names,)
        return self._tip_names[0]

    def _names_findings(self, commit: CommitInfo, folder: Folder, used: Names) -> list[str]:
        """The recorded names against the settings: a finding when they are not what the
        settings at this commit give the session, a warning when the settings at the
        tip name it otherwise."""
        manifest, record = folder.manifest, folder.record
        assert manifest is not None and manifest.facts is not None and record is not None
        at_commit = self._settings_names(commit.tree)
        if at_commit is not None and names_used(record.session, at_commit) != used:
            self.ctx.find(
                "facts.derive",
                commit,
                manifest.facts.path,
                f"made with the names {_names_text(used)}; the store's settings at this "
                f"commit give {_names_text(names_used(record.session, at_commit))}",
            )
            return []
        now = self._current_names()
        if now is not None and names_used(record.session, now) != used:
            return [
                f"made with older names: rerender renews it (it names {_names_text(used)}; "
                f"the settings now give {_names_text(names_used(record.session, now))})"
            ]
        return []

    def _settings_site(self, tree: bytes | None) -> tuple[str | None] | None:
        """(`site.base_url`,) as the settings of a root tree give it; None when they
        cannot be read (settings.invalid says why)."""
        found = self._settings_blob(tree)
        if found is None:
            return None
        blob = found[0]
        if blob not in self._site_at:
            try:
                self._site_at[blob] = (settings_at(self.ctx.store, tree).site.base_url,)
            except (InputError, GitflywheelError, KeyError, ValueError):
                self._site_at[blob] = None
        return self._site_at[blob]

    def _address_warnings(self, commit: CommitInfo, folder: Folder, facts: Facts) -> list[str]:
        """The site address the thread links, against the settings: a finding when it is
        not what the settings at this commit give (a thread that links elsewhere), a
        warning when the settings at the tip give another (`site.base_url` changed
        since): `rerender` brings it up to date."""
        if facts.address is None:
            return []
        at_commit = self._settings_site(commit.tree)
        if at_commit is not None and at_commit[0] != facts.address.base_url:
            assert folder.manifest is not None and folder.manifest.facts is not None
            self.ctx.find(
                "facts.derive",
                commit,
                folder.manifest.facts.path,
                f"its thread links the site at {facts.address.base_url or 'no address'}; the "
                f"store's settings at this commit give {at_commit[0] or 'none'}",
            )
            return []
        if self._tip_site is None:
            try:
                self._tip_site = (current_settings(self.ctx.store).site.base_url,)
            except (InputError, GitflywheelError, KeyError, ValueError):
                self._tip_site = (facts.address.base_url,)
        now = self._tip_site[0]
        if facts.address.base_url == now:
            return []
        return [
            f"made with an older site address: rerender renews it (its thread links "
            f"{facts.address.base_url or 'no address'}; the settings now give {now or 'none'})"
        ]

    # -- reading -----------------------------------------------------------------------

    def read(self, commit: CommitInfo, path: str, tree_id: bytes) -> Folder:
        files = self.ctx.folder_files(tree_id, path)
        folder_id = path.rsplit("/", 1)[-1]
        return Folder(
            path,
            folder_id,
            files,
            self._manifest(commit, path, files),
            self._record(commit, path, files, folder_id),
            tree_id,
        )

    def _file(self, commit: CommitInfo, files: FolderFiles, path: str, what: str) -> bytes | None:
        entry = files.get(path)
        if entry is None:
            return None
        if entry[0] == TREE_MODE:
            self.ctx.find("tree.shape", commit, path, f"a folder where the file {what} is expected")
            return None
        return self.ctx.blob(entry[1])

    def _manifest(self, commit: CommitInfo, path: str, files: FolderFiles) -> Manifest | None:
        manifest_path = f"{path}/{MANIFEST_FILE}"
        if manifest_path not in files:
            self.ctx.find(
                "manifest.invalid", commit, path, "the session folder has no manifest.json"
            )
            return None
        data = self._file(commit, files, manifest_path, MANIFEST_FILE)
        if data is None:
            return None
        try:
            return Manifest.from_bytes(data)
        except (ValueError, JSONTextError, UnicodeDecodeError) as exc:
            reason = str(exc).splitlines()[0]
            self.ctx.find(
                "manifest.invalid", commit, manifest_path, f"not a valid manifest: {reason}"
            )
            return None

    def _record(
        self, commit: CommitInfo, path: str, files: FolderFiles, folder_id: str
    ) -> Record | None:
        record_path = f"{path}/{RECORD_FILE}"
        if record_path not in files:
            self.ctx.find("session.record", commit, path, "the session folder has no session.json")
            return None
        data = self._file(commit, files, record_path, RECORD_FILE)
        if data is None:
            return None
        try:
            record = make_record(record_path, loads(decode_utf8(data)))
        except JSONTextError as exc:
            self.ctx.find("session.record", commit, record_path, f"not valid JSON: {exc}")
            return None
        except InputErrors as exc:
            self.ctx.find(
                "session.record",
                commit,
                record_path,
                "not a valid session: " + "; ".join(f"{p.field}: {p.reason}" for p in exc.problems),
            )
            return None
        if record.session_id != folder_id:
            self.ctx.find(
                "session.path",
                commit,
                record_path,
                f"the record's session_id {record.session_id!r} does not match its folder {folder_id!r}",
            )
        if record.stored_bytes != data:
            self.ctx.find(
                "session.record", commit, record_path, "the record is not in canonical form"
            )
        return record

    # -- judging -----------------------------------------------------------------------

    def check(self, commit: CommitInfo, folder: Folder, template_trees: list[bytes]) -> list[str]:
        """Files, facts and artifacts of a folder whose manifest and record were read;
        returns its warnings (names the settings changed since). A folder found clean
        before with everything its check reads the same is not checked again."""
        if folder.manifest is None or folder.record is None:
            return []
        key = self._clean_key(commit, folder, template_trees)
        known = None if key is None else self.clean.get(key)
        if known is not None:
            return known
        sink = self.ctx.sink
        found = len(sink)
        self._check_files(commit, folder)
        warnings = self._check_rendering(commit, folder, template_trees)
        if key is not None and self.ctx.sink is sink and len(sink) == found:
            self.clean.put(key, warnings)
        return warnings

    def _clean_key(
        self, commit: CommitInfo, folder: Folder, template_trees: list[bytes]
    ) -> tuple[object, ...] | None:
        """Everything a folder's check reads, by content: its path and tree, the templates
        folders of its commit, the settings there and the display names at the tip; None
        when one of them cannot be read (the check says why)."""
        if not folder.tree:
            return None
        settings = self._settings_blob(commit.tree)
        if settings is None:
            return None
        now = self._current_names()
        names = (
            None
            if now is None
            else (tuple(sorted(now.repo.items())), tuple(sorted(now.agent.items())))
        )
        # the check reads the templates/ folders of these trees only, not the rest of them
        templates = tuple(self.ctx.lookup(tree, TEMPLATES_DIR) for tree in template_trees)
        return (folder.path, folder.tree, templates, settings[0], names)

    def _check_files(self, commit: CommitInfo, folder: Folder) -> None:
        assert folder.manifest is not None
        listed = {f"{folder.path}/{MANIFEST_FILE}"}
        for ref in folder.manifest.files():
            listed.add(ref.path)
            entry = folder.files.get(ref.path)
            if entry is None:
                self.ctx.find(
                    "artifact.missing",
                    commit,
                    ref.path,
                    "listed in the manifest but not in the tree",
                )
                continue
            if entry[0] == TREE_MODE:
                self.ctx.find(
                    "tree.shape",
                    commit,
                    ref.path,
                    "a folder where a file the manifest lists is expected",
                )
                continue
            if entry[1].decode() != ref.blob:
                self.ctx.find(
                    "artifact.missing",
                    commit,
                    ref.path,
                    f"blob {entry[1].decode()[:12]} in the tree, {ref.blob[:12]} in the manifest",
                )
                continue
            data = self.ctx.blob(entry[1])
            if data is None:
                continue
            digest = hashlib.sha256(data).hexdigest()
            folder.hashed[ref.path] = data, digest
            if digest != ref.sha256 or len(data) != ref.size:
                self.ctx.find(
                    "artifact.missing",
                    commit,
                    ref.path,
                    "SHA-256 or size differs from the manifest",
                )
        unlisted = {p for p, (mode, _) in folder.files.items() if mode != TREE_MODE} - listed
        for file_path in sorted(unlisted):
            self.ctx.find(
                "artifact.unlisted",
                commit,
                file_path,
                "in the session folder but not in its manifest",
            )

    def _templates(
        self, commit: CommitInfo, manifest: Manifest, trees: list[bytes]
    ) -> dict[str, tuple[str, bytes]] | None:
        """Template name -> (blob id, bytes) for every artifact; None when one is not there."""
        found: dict[str, tuple[str, bytes]] = {}
        for artifact in manifest.artifacts:
            ref = artifact.template
            in_tree = any(
                (entry := self.ctx.lookup(tree, ref.path)) is not None
                and entry[1].decode() == ref.blob
                for tree in trees
            )
            if not in_tree:
                self.ctx.find(
                    "artifact.template",
                    commit,
                    artifact.path,
                    f"template {ref.path} at blob {ref.blob[:12]} is not in the tree at this commit",
                )
            source = self.ctx.blob(ref.blob.encode())
            if source is None:
                self.ctx.find(
                    "artifact.template",
                    commit,
                    artifact.path,
                    f"template blob {ref.blob[:12]} is not in the store",
                )
                return None
            found[ref.path.rsplit("/", 1)[-1]] = (ref.blob, source)
        return found

    def _template_set(self, templates: dict[str, tuple[str, bytes]], filters: str) -> TemplateSet:
        key = (frozenset((name, blob) for name, (blob, _) in templates.items()), filters)
        found = self._template_sets.get(key)
        if found is None:
            sources = {name: data for name, (_, data) in templates.items()}
            found = self._template_sets[key] = TemplateSet(sources, filters)
        return found

    def _check_rendering(self, commit: CommitInfo, folder: Folder, trees: list[bytes]) -> list[str]:
        manifest, record = folder.manifest, folder.record
        assert manifest is not None and record is not None
        templates = self._templates(commit, manifest, trees)
        if manifest.facts is None:
            return []  # format 1, made by version 1: its hashes were checked above
        entry = folder.files.get(manifest.facts.path)
        if entry is None or entry[0] == TREE_MODE or entry[1].decode() != manifest.facts.blob:
            return []  # artifact.missing says so
        stored = self.ctx.blob(entry[1])
        if stored is None:
            return []
        derived = None
        warnings: list[str] = []
        if manifest.pipeline == pipeline_id(manifest.session_type):
            derived = self._derive(commit, folder, stored)
            if derived is not None:
                warnings = self._names_findings(commit, folder, derived.facts.names)
                warnings += self._address_warnings(commit, folder, derived.facts)
        try:
            # the same bytes parse the same: reuse what deriving parsed back
            facts = derived.facts if derived else Facts.from_bytes(stored, manifest.facts.path)
        except FactsError as exc:
            self.ctx.find("facts.invalid", commit, manifest.facts.path, str(exc))
            return warnings
        if not self._facts_match_manifest(commit, folder, facts):
            return warnings

        sets = {a.filters or "" for a in manifest.artifacts}
        if templates is None or not sets <= set(FILTER_SETS):
            return warnings  # a filter set of a later gitflywheel: counted, hashes checked
        specs = {spec.kind: spec for spec in facts.specs()}
        rendered: dict[str, bytes] = {}
        digests: dict[str, str] = {}
        for artifact in manifest.artifacts:
            template_set = self._template_set(templates, artifact.filters or "")
            try:
                data = template_set.render(specs[artifact.kind])
            except RenderError as exc:
                self.ctx.find(
                    "artifact.render",
                    commit,
                    artifact.path,
                    f"does not render again from its facts: {exc}",
                )
                continue
            digest = folder.sha256(artifact.path, data)
            if digest != artifact.sha256:
                self.ctx.find(
                    "artifact.render",
                    commit,
                    artifact.path,
                    "does not follow from its facts: rendering them with its recorded template "
                    f"and {artifact.filters} gives other bytes",
                )
                continue
            rendered[artifact.kind], digests[artifact.kind] = data, digest
        if derived is not None and len(sets) == 1 and len(rendered) == len(manifest.artifacts):
            planned = plan_manifest(
                derived,
                template_set,
                manifest.revision,
                rendered,
                _hashed(folder, derived, digests),
            )
            self._compare_manifest(commit, folder, planned)
        return warnings

    def _facts_match_manifest(self, commit: CommitInfo, folder: Folder, facts: Facts) -> bool:
        """The facts are of the folder's session, pipeline and artifacts as the manifest lists."""
        manifest = folder.manifest
        assert manifest is not None and manifest.facts is not None
        ok = True
        problems = []
        if facts.session_id != folder.folder_id:
            problems.append(f"they are the facts of session {facts.session_id!r}")
        if facts.pipeline != manifest.pipeline:
            problems.append(f"made by {facts.pipeline}, the manifest says {manifest.pipeline}")
        for artifact in manifest.artifacts:
            item = facts.artifacts.get(artifact.kind)
            if item is None:
                ok = False
                self.ctx.find(
                    "artifact.render",
                    commit,
                    artifact.path,
                    f"the {artifact.kind} artifact is not in its facts: nothing renders it",
                )
            elif (
                template_path(item.template) != artifact.template.path or item.step != artifact.step
            ):
                problems.append(
                    f"they render {artifact.kind} at step {item.step} with "
                    f"{template_path(item.template)}, the manifest says {artifact.step} "
                    f"with {artifact.template.path}"
                )
        for kind in sorted(set(facts.artifacts) - {a.kind for a in manifest.artifacts}):
            ok = False
            self.ctx.find(
                "artifact.missing",
                commit,
                folder.path,
                f"its facts describe a {kind} artifact that the manifest does not list",
            )
        for problem in problems:
            self.ctx.find(
                "facts.invalid",
                commit,
                manifest.facts.path,
                f"facts.json does not match the manifest: {problem}",
            )
        return ok and not problems

    def _screenshots(self, folder: Folder) -> list[ScreenshotFile]:
        """The screenshots the record names, with the bytes the folder stores for them."""
        assert folder.manifest is not None and folder.record is not None
        entries = folder.manifest.screenshots
        shots = []
        for index, ref in enumerate(folder.record.session.source_data.screenshot_refs()):
            source = ref.path
            entry = entries[index] if index < len(entries) else None
            stored = entry.file if entry is not None and entry.source == source else None
            found = folder.files.get(stored.path) if stored is not None else None
            data = self.ctx.blob(found[1]) if found is not None and is_blob(found[0]) else None
            shots.append(ScreenshotFile(source, data, ref.caption))
        return shots

    def _derive(self, commit: CommitInfo, folder: Folder, stored: bytes) -> Derived | None:
        """The facts the installed pipeline derives from the record with the names they
        recorded, if they are the stored ones.

        The names and address are first read lightly (`Facts.recorded_inputs`): facts
        derived with them that are the stored bytes are facts `from_bytes` accepts, with
        those very names and address, so the stored facts need no parse of their own.
        Otherwise the strict read decides, as it always did: facts it refuses are
        facts.invalid only, and other names or an address it gives are derived with."""
        manifest, record = folder.manifest, folder.record
        assert manifest is not None and manifest.facts is not None and record is not None
        # pretty JSON, top-level; the address (when there is one) is the first member
        recorded = _ADDRESS_KEY in stored or _NAMES_KEY in stored
        light = Facts.recorded_inputs(stored) if recorded else (Names(), None)
        failure = None
        if light is not None:
            failure = self._derived(folder, stored, *light)
            if isinstance(failure, Derived):
                return failure
        if recorded:
            try:
                facts = Facts.from_bytes(stored, manifest.facts.path)
            except FactsError:
                return None  # facts.invalid says so
            if light is None or (facts.names, facts.address) != light:
                failure = self._derived(folder, stored, facts.names, facts.address)
                if isinstance(failure, Derived):
                    return failure
        assert isinstance(failure, str)
        self.ctx.find("facts.derive", commit, manifest.facts.path, failure)
        return None

    def _derived(
        self, folder: Folder, stored: bytes, names: Names, address: Address | None
    ) -> Derived | str:
        """The facts derived with these inputs when they are `stored`, else why not."""
        manifest, record = folder.manifest, folder.record
        assert manifest is not None and record is not None
        try:
            derived = derive(record, self._screenshots(folder), names, address)
        except Exception as exc:  # a record the pipeline cannot handle is a finding, not a crash
            return f"{manifest.pipeline} fails on this record: {exc}"
        if derived.facts_bytes != stored:
            return f"not the facts {manifest.pipeline} derives from the record"
        return derived

    def _compare_manifest(self, commit: CommitInfo, folder: Folder, planned: Manifest) -> None:
        manifest = folder.manifest
        assert manifest is not None
        if planned == manifest:
            return
        differ = [
            name
            for name in Manifest.model_fields
            if getattr(planned, name) != getattr(manifest, name)
        ]
        self.ctx.find(
            "manifest.invalid",
            commit,
            f"{folder.path}/{MANIFEST_FILE}",
            f"not the manifest its record plans with {manifest.pipeline}: {', '.join(differ)} differ",
        )


def _hashed(folder: Folder, derived: Derived, artifacts: dict[str, str]) -> dict[str, str]:
    """The SHA-256 of the files the manifest of `derived` lists, by the paths its plan
    gives them, as far as the check has them: the artifacts rendered (`artifacts`, by
    kind), and the record and facts when they are the bytes the folder stores."""
    session_id = derived.record.session_id
    where = session_dir(session_id)
    known = {artifact_path(session_id, kind): digest for kind, digest in artifacts.items()}
    for path, data in (
        (f"{where}/{RECORD_FILE}", derived.record.stored_bytes),
        (f"{where}/{FACTS_FILE}", derived.facts_bytes),
    ):
        known[path] = folder.sha256(path, data)
    return known
