"""A session's manifest: what its folder holds and how each artifact was made.

The pydantic model is the one source of the manifest's JSON Schema
(`gitflywheel schema manifest`) and of the bytes kept in the store.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .artifacts import ArtifactKind, PipelineName
from .jsontext import dumps_pretty, loads

__all__ = [
    "MANIFEST_FORMAT",
    "TemplateRef",
    "FileRef",
    "ArtifactEntry",
    "ScreenshotEntry",
    "Manifest",
    "manifest_json_schema",
]

MANIFEST_FORMAT = 1
BlobId = Field(pattern=r"^[0-9a-f]{40}$", description="git blob id (SHA-1)")
Sha256 = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the bytes")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TemplateRef(_Strict):
    """The template that rendered an artifact, as recorded in the store's tree."""

    path: str = Field(description="path in the store's tree, e.g. templates/readme.md.j2")
    blob: str = BlobId


class FileRef(_Strict):
    """A file of the session folder: its path in the store and its content ids."""

    path: str
    blob: str = BlobId
    sha256: str = Sha256
    size: int = Field(ge=0)


class ArtifactEntry(FileRef):
    """One rendered artifact."""

    kind: ArtifactKind
    pipeline: PipelineName
    step: str = Field(description="the pipeline step that made it, e.g. S3")
    template: TemplateRef


class ScreenshotEntry(_Strict):
    """A screenshot the session names: stored in the folder, or missing at ingest."""

    source: str = Field(description="the path or URL as the session gives it")
    status: Literal["stored", "missing"]
    file: FileRef | None = None


class Manifest(_Strict):
    """Everything in one session folder, and how it came to be."""

    format: Literal[1] = 1
    session_id: str
    session_type: Literal["build", "trade", "life_aria"]
    agent_id: str
    timestamp: str
    title: str | None = None
    revision: int = Field(ge=1)
    record: FileRef
    artifacts: list[ArtifactEntry]
    screenshots: list[ScreenshotEntry] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)

    def to_bytes(self) -> bytes:
        return dumps_pretty(self.model_dump(mode="json")).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        return cls.model_validate(loads(data.decode("utf-8")))

    def files(self) -> list[FileRef]:
        """Every file the manifest lists, record first."""
        listed: list[FileRef] = [self.record, *self.artifacts]
        listed += [s.file for s in self.screenshots if s.file is not None]
        return listed


def manifest_json_schema() -> dict[str, Any]:
    """The JSON Schema of manifest.json, generated from the model."""
    schema = Manifest.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "gitflywheel session manifest"
    return schema
