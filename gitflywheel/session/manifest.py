"""A session's manifest: what its folder holds and how each artifact was made.

The pydantic model is the one source of the manifest's JSON Schema
(`gitflywheel schema manifest`) and of the bytes kept in the store. Format 2 names the
session's facts.json, the pipeline and version that derived them, and each artifact's
filter set; format 1 (written before facts were kept) is read as made by version 1.
"""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..jsontext import dumps_pretty, loads
from .artifacts import SLUG_PATTERN, ArtifactKind, PipelineName
from .versions import FILTER_SET_PATTERN, PIPELINE_ID_PATTERN

__all__ = [
    "MANIFEST_FORMAT",
    "TemplateRef",
    "FileRef",
    "ArtifactEntry",
    "ScreenshotEntry",
    "Manifest",
    "manifest_json_schema",
]

MANIFEST_FORMAT: Final = 2
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
    filters: str | None = Field(
        default=None,
        pattern=FILTER_SET_PATTERN,
        description="the filter set the template rendered with, e.g. filters/1 (format 2)",
    )


class ScreenshotEntry(_Strict):
    """A screenshot the session names: stored in the folder, or missing at ingest."""

    source: str = Field(description="the path or URL as the session gives it")
    status: Literal["stored", "missing"] = Field(
        description="stored: a PNG, JPEG, GIF, WebP or AVIF image by its content; missing: "
        "not read (not found, not allowed, not such an image, or a URL)"
    )
    file: FileRef | None = Field(
        default=None,
        description="where it is stored: screenshots/NN-name with its format's extension",
    )
    caption: str | None = Field(default=None, description="the caption the session gives")


class RedactedEntry(_Strict):
    """What the public-text rules replaced in the record: a rule, a field, a count."""

    rule: str = Field(
        description="local-path, temporary-name, url-credentials, private, or a token format "
        "(github-token, gitlab-token, aws-access-key, slack-token, npm-token, pypi-token, "
        "api-key, jwt, private-key), or email"
    )
    field: str = Field(description="where in the record, e.g. source_data.git_commits[3].message")
    count: int = Field(ge=1)


class Manifest(_Strict):
    """Everything in one session folder, and how it came to be."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "if": {"properties": {"format": {"const": 2}}},
            "then": {"required": ["pipeline", "facts"]},
        },
    )

    format: Literal[1, 2] = MANIFEST_FORMAT
    session_id: str
    session_type: Literal["build", "trade", "life_aria"]
    agent_id: str
    timestamp: str
    title: str | None = None
    revision: int = Field(ge=1)
    slug: str | None = Field(
        default=None,
        pattern=SLUG_PATTERN,
        max_length=100,
        description="the session's address on the site (sessions/<slug>/), fixed when it "
        "was first recorded (as its facts' address); written only when there is one",
    )
    pipeline: str | None = Field(
        default=None,
        pattern=PIPELINE_ID_PATTERN,
        description="the pipeline and version that derived the facts, e.g. build/2 (format 2)",
    )
    record: FileRef
    facts: FileRef | None = Field(
        default=None, description="facts.json: what the artifacts render from (format 2)"
    )
    artifacts: list[ArtifactEntry]
    screenshots: list[ScreenshotEntry] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    redacted: list[RedactedEntry] = Field(
        default_factory=list,
        description="what the public-text rules replaced in the record at ingest, by rule "
        "and field (never the text); written only when there is any",
    )

    @model_validator(mode="after")
    def _fields_of_the_format(self) -> Manifest:
        later = [self.pipeline, self.facts, *(a.filters for a in self.artifacts)]
        if self.format == 1 and any(value is not None for value in later):
            raise ValueError("format 1 has no pipeline, facts or filters")
        if self.format == 2 and any(value is None for value in later):
            raise ValueError("format 2 names its pipeline, its facts and each artifact's filters")
        return self

    @property
    def pipeline_id(self) -> str:
        """The pipeline and version that made the session: format 1 is version 1."""
        return self.pipeline or f"{self.session_type}/1"

    def to_bytes(self) -> bytes:
        data = self.model_dump(mode="json")
        for shot in data["screenshots"]:  # written only when the session gives one
            if shot["caption"] is None:
                del shot["caption"]
        if not data["redacted"]:  # written only when the rules replaced something
            del data["redacted"]
        if data["slug"] is None:  # written by versions that fix addresses
            del data["slug"]
        if self.format == 1:  # written as format 1 was, without the later fields
            del data["pipeline"], data["facts"]
            for artifact in data["artifacts"]:
                del artifact["filters"]
        return dumps_pretty(data).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        return cls.model_validate(loads(data.decode("utf-8")))

    def files(self) -> list[FileRef]:
        """Every file the manifest lists, record first."""
        listed: list[FileRef] = [self.record]
        if self.facts is not None:
            listed.append(self.facts)
        listed += self.artifacts
        listed += [s.file for s in self.screenshots if s.file is not None]
        return listed


def manifest_json_schema() -> dict[str, Any]:
    """The JSON Schema of manifest.json, generated from the model."""
    schema = Manifest.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "gitflywheel session manifest"
    return schema
