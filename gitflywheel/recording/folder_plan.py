"""The plan of a session folder: a record in, every file of its folder out. Pure.

Stage one runs the session's pipeline and keeps its output as facts.json; stage two
renders the facts, parsed back from those bytes, with the templates and a filter set;
the manifest lists it all. Ingest records the plan, `rerender` records it again, and
`verify` compares it with the tree: one function says what a folder holds, so the three
cannot drift apart. Reading screenshot files is the caller's (I/O stays outside); a
screenshot is stored only when its bytes are an image, under that format's extension.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..pipelines import address_used, names_used, pipeline_id, run_pipeline
from ..rendering import filtersets
from ..rendering.templates import Renderer, RenderError
from ..session.artifacts import ArtifactSpec, Screenshot
from ..session.facts import Address, Facts, FactsError, Names, write_facts
from ..session.manifest import (
    ArtifactEntry,
    FileRef,
    Manifest,
    RedactedEntry,
    ScreenshotEntry,
    TemplateRef,
)
from ..session.records import Record
from ..session.settings import StoreSettings
from ..storage.layout import (
    FACTS_FILE,
    MANIFEST_FILE,
    RECORD_FILE,
    SCREENSHOTS_DIR,
    artifact_path,
    screenshot_name,
    session_dir,
    template_path,
)
from ..storage.objects import blob_id
from .screenshots import IMAGE_EXTENSIONS, image_format

__all__ = [
    "ScreenshotFile",
    "TemplateSet",
    "Derived",
    "SessionPlan",
    "file_ref",
    "derive",
    "store_names",
    "render_facts",
    "plan_manifest",
    "assemble",
]


@dataclass(frozen=True)
class ScreenshotFile:
    """A screenshot the record names, with its bytes when the caller found the file."""

    source: str
    data: bytes | None
    caption: str | None = None


class TemplateSet:
    """Templates by name, their blob ids, and the filter set (default: the current one):
    what stage two renders with. Compiled once and reused for every session planned with it."""

    def __init__(self, templates: Mapping[str, bytes], filters: str | None = None) -> None:
        self.templates = dict(templates)
        self.filters = filters or filtersets.CURRENT_FILTERS
        self.blob_ids = {name: blob_id(data).decode() for name, data in self.templates.items()}
        self._renderer = Renderer(self.templates, filters=filtersets.filter_set(self.filters))

    def render(self, spec: ArtifactSpec) -> bytes:
        return self._renderer.render(spec)


@dataclass(frozen=True)
class Derived:
    """Stage one for a record: its stored screenshots and the facts its pipeline derives,
    as stored (bytes) and as parsed back from them."""

    record: Record
    pipeline: str
    facts_bytes: bytes
    facts: Facts
    screenshots: tuple[ScreenshotEntry, ...]
    screenshot_files: Mapping[str, bytes]


@dataclass(frozen=True)
class SessionPlan:
    """Every file of a session's folder (path -> bytes, the manifest included)."""

    folder: str
    manifest: Manifest
    files: Mapping[str, bytes]
    derived: Derived

    @property
    def manifest_bytes(self) -> bytes:
        return self.files[f"{self.folder}/{MANIFEST_FILE}"]


def _file_fields(path: str, data: bytes, sha256: str | None = None) -> dict[str, Any]:
    """A file's path and content ids (`FileRef`'s fields); `sha256` when known already."""
    return {
        "path": path,
        "blob": blob_id(data).decode(),
        "sha256": hashlib.sha256(data).hexdigest() if sha256 is None else sha256,
        "size": len(data),
    }


def file_ref(path: str, data: bytes, sha256: str | None = None) -> FileRef:
    return FileRef(**_file_fields(path, data, sha256))


def store_names(settings: StoreSettings) -> Names:
    """The display names the store's settings give (`names.repo`, `names.agent`), and
    whether agents are tags (`names.agent_tags`)."""
    return Names.of(settings.repo_names(), settings.agent_names(), settings.agent_tags())


def derive(
    record: Record,
    screenshots: Sequence[ScreenshotFile],
    names: Names | None = None,
    address: Address | None = None,
) -> Derived:
    """Stage one: name the stored screenshots, run the pipeline, keep its output as facts.
    A screenshot whose bytes are not an image (`image_format`) is not stored: missing.
    `names` are the store's display names (ingest and rerender: the settings' at main's
    tip; verify: those the facts recorded); the facts keep the ones that apply here.
    `address` is where the post lives (its slug, when fixed already, and the site's
    address); the facts keep it, with the slug the pipeline gave it.

    Raises FactsError when the output does not survive its own JSON (a number beyond
    what strict JSON reads back, say): nothing is stored that could not render again."""
    folder = session_dir(record.session_id)
    shots: list[Screenshot] = []
    entries: list[ScreenshotEntry] = []
    files: dict[str, bytes] = {}
    for index, shot in enumerate(screenshots):
        found = image_format(shot.data) if shot.data is not None else None
        if shot.data is None or found is None:
            shots.append(Screenshot(shot.source, None, shot.caption))
            entries.append(
                ScreenshotEntry(source=shot.source, status="missing", caption=shot.caption)
            )
            continue
        name = screenshot_name(index, shot.source, IMAGE_EXTENSIONS[found])
        path = f"{folder}/{SCREENSHOTS_DIR}/{name}"
        shots.append(Screenshot(shot.source, name, shot.caption))
        entries.append(
            ScreenshotEntry(
                source=shot.source,
                status="stored",
                file=file_ref(path, shot.data),
                caption=shot.caption,
            )
        )
        files[path] = shot.data
    pipeline = pipeline_id(record.session.session_type)
    used = names_used(record.session, names or Names())
    try:
        specs = run_pipeline(record.session, shots, used, address)
        where = address_used(address, specs)
        data, facts = write_facts(pipeline, record.session_id, specs, FACTS_FILE, used, where)
    except FactsError as exc:
        raise FactsError(f"its facts cannot be kept exactly: {exc}") from None
    return Derived(record, pipeline, data, facts, tuple(entries), files)


def render_facts(facts: Facts, templates: TemplateSet) -> dict[str, bytes]:
    """Stage two: each artifact (kind -> bytes) rendered from the facts."""
    out: dict[str, bytes] = {}
    for spec in facts.specs():
        if spec.template not in templates.templates:
            raise RenderError(f"template {spec.template!r} not found")
        out[spec.kind] = templates.render(spec)
    return out


def plan_manifest(
    derived: Derived,
    templates: TemplateSet,
    revision: int,
    rendered: Mapping[str, bytes],
    digests: Mapping[str, str] | None = None,
) -> Manifest:
    """The manifest of a derived session whose artifacts, by kind, are `rendered` from
    its facts with these templates; `digests` gives the SHA-256 (hex) of some of its
    files (the record, the facts, the artifacts) by path, computed already. What verify
    compares a folder's manifest with (`assemble` writes it too)."""
    record = derived.record
    session = record.session
    folder = session_dir(record.session_id)
    record_bytes = record.stored_bytes
    known = digests or {}
    artifacts: list[ArtifactEntry] = []
    for spec in derived.facts.specs():
        path = artifact_path(record.session_id, spec.kind)
        artifacts.append(
            ArtifactEntry(
                **_file_fields(path, rendered[spec.kind], known.get(path)),
                kind=spec.kind,
                pipeline=spec.pipeline,
                step=spec.step,
                template=TemplateRef(
                    path=template_path(spec.template), blob=templates.blob_ids[spec.template]
                ),
                filters=templates.filters,
            )
        )
    return Manifest(
        format=2,
        session_id=session.session_id,
        session_type=session.session_type,
        agent_id=session.agent_id,
        timestamp=record.data["timestamp"],
        title=session.title,
        revision=revision,
        slug=derived.facts.address.slug if derived.facts.address else None,
        pipeline=derived.pipeline,
        record=file_ref(
            f"{folder}/{RECORD_FILE}", record_bytes, known.get(f"{folder}/{RECORD_FILE}")
        ),
        facts=file_ref(
            f"{folder}/{FACTS_FILE}", derived.facts_bytes, known.get(f"{folder}/{FACTS_FILE}")
        ),
        artifacts=artifacts,
        screenshots=list(derived.screenshots),
        warnings=list(record.warnings),
        redacted=[RedactedEntry.model_validate(r) for r in record.data.get("redacted", [])],
    )


def assemble(
    derived: Derived,
    templates: TemplateSet,
    revision: int,
    rendered: Mapping[str, bytes] | None = None,
) -> SessionPlan:
    """Stage two and the manifest: the whole folder of a derived session. `rendered`
    gives artifacts already rendered from these facts with these templates, by kind."""
    record = derived.record
    folder = session_dir(record.session_id)
    if rendered is None:
        rendered = render_facts(derived.facts, templates)
    manifest = plan_manifest(derived, templates, revision, rendered)
    files: dict[str, bytes] = {
        f"{folder}/{RECORD_FILE}": record.stored_bytes,
        f"{folder}/{FACTS_FILE}": derived.facts_bytes,
    }
    for spec in derived.facts.specs():
        files[artifact_path(record.session_id, spec.kind)] = rendered[spec.kind]
    files.update(derived.screenshot_files)
    files[f"{folder}/{MANIFEST_FILE}"] = manifest.to_bytes()
    return SessionPlan(folder, manifest, files, derived)
