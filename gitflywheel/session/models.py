"""The work session, as pydantic v2 models: one source for validation and JSON Schema.

Unknown fields are kept (`extra="allow"`); money and prices are `Decimal`; counters are
whole numbers. `timestamp` values are parsed as ISO 8601, a missing offset meaning UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictInt,
    StrictStr,
    TypeAdapter,
    WithJsonSchema,
)

from ..escape import has_hidden_controls

__all__ = [
    "SESSION_ID_PATTERN",
    "SESSION_TYPES",
    "COUNTERS",
    "Timestamp",
    "GitCommit",
    "Trade",
    "Conversation",
    "Lesson",
    "Metadata",
    "ScreenshotRef",
    "SourceData",
    "BuildSession",
    "TradeSession",
    "LifeAriaSession",
    "Session",
    "SESSION_ADAPTER",
    "parse_timestamp",
    "in_utc",
    "TimestampOutOfRange",
    "session_json_schema",
]

SESSION_ID_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$"
SESSION_TYPES = ("build", "trade", "life_aria")
COUNTERS = (
    "duration_minutes",
    "files_changed",
    "commits",
    "trades_executed",
    "lines_added",
    "lines_removed",
    "screenshots_taken",
    "artifacts_created",
)
_PRINTABLE = re.compile(r"^[^\x00-\x1f\x7f-\x9f]{1,128}$")


class TimestampOutOfRange(ValueError):
    """A date-time whose UTC form no date-time can hold (outside the years 1 to 9999)."""


def in_utc(moment: datetime, given: object = None) -> datetime:
    """The moment in UTC, or TimestampOutOfRange (a ValueError) when that falls outside
    the years 1 to 9999 (`0001-01-01T00:00:00+14:00` is in the year 0 in UTC)."""
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        shown = given if given is not None else moment.isoformat()
        raise TimestampOutOfRange(
            f"{shown!r} is out of range: in UTC it falls outside the years 0001 to 9999"
        ) from None


def parse_timestamp(value: str) -> datetime:
    """ISO 8601 date-time; one with no offset is UTC. Its UTC form must be in the years
    1 to 9999, so that every later conversion of it holds."""
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{value!r} is not an ISO 8601 date-time (e.g. 2025-12-02T03:30:00Z)"
        ) from None
    if len(text) <= 10:
        raise ValueError(
            f"{value!r} is a date; a date-time needs a time too (e.g. {text}T00:00:00Z)"
        )
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    in_utc(parsed, value)
    return parsed


def _timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        in_utc(value)
        return value
    if not isinstance(value, str):
        raise ValueError("must be a string holding an ISO 8601 date-time")
    return parse_timestamp(value)


def _visible(value: str) -> str:
    """An id shown on terminals and pages: nothing in it may be invisible or reorder text."""
    if has_hidden_controls(value):
        raise ValueError("must not contain bidi control or zero-width characters")
    return value


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | float):
        raise ValueError("must be a JSON number")
    return Decimal(str(value)) if isinstance(value, float) else value


Timestamp = Annotated[
    datetime,
    BeforeValidator(_timestamp),
    PlainSerializer(lambda d: d.isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
Money = Annotated[
    Decimal,
    BeforeValidator(_number),
    WithJsonSchema({"type": "number"}),
]
Counter = StrictInt


class _Open(BaseModel):
    """A part of the session that keeps fields it does not know."""

    model_config = ConfigDict(extra="allow", frozen=True)


class GitCommit(_Open):
    """One commit of a build session; only `message` is required."""

    message: StrictStr
    hash: StrictStr | None = None
    author: StrictStr | None = None
    timestamp: StrictStr | None = None
    files: list[StrictStr] = Field(default_factory=list)


def _currency(code: str) -> str:
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise ValueError(f"{code!r} is not a currency code: ISO 4217, three capital letters (USD)")
    return code


Currency = Annotated[StrictStr, AfterValidator(_currency)]


class Trade(_Open):
    """One trade: money and quantities are decimals."""

    symbol: StrictStr = Field(min_length=1)
    action: Literal["buy", "sell"]
    quantity: Annotated[Money, Field(gt=0)]
    price: Annotated[Money, Field(ge=0)]
    timestamp: Timestamp
    profit_loss: Money | None = None
    fees: Annotated[Money, Field(ge=0)] | None = None
    exit_price: Annotated[Money, Field(ge=0)] | None = None
    exit_timestamp: Timestamp | None = None
    currency: Currency | None = None
    stop_price: Annotated[Money, Field(ge=0)] | None = None


class Conversation(_Open):
    """One turn of a conversation with an assistant."""

    source: StrictStr = Field(min_length=1)
    content: StrictStr
    timestamp: Timestamp | None = None


class Lesson(_Open):
    """A lesson learned: a title and what it means."""

    title: StrictStr
    description: StrictStr = ""


class Redacted(BaseModel):
    """What the public-text rules replaced at ingest (see session/public_text.py): the
    rule, the field, how many times; never the text."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: StrictStr = Field(min_length=1, max_length=40)
    field: StrictStr = Field(min_length=1, max_length=300)
    count: Annotated[int, Field(ge=1, strict=True)]


class Metadata(_Open):
    """Known counters are whole numbers; a negative one is kept and warned about."""

    duration_minutes: Counter | None = None
    files_changed: Counter | None = None
    commits: Counter | None = None
    trades_executed: Counter | None = None
    lines_added: Counter | None = None
    lines_removed: Counter | None = None
    screenshots_taken: Counter | None = None
    artifacts_created: Counter | None = None

    def counter(self, name: str) -> int | None:
        """A counter's value, or None when absent or impossible (negative)."""
        value = getattr(self, name)
        return value if isinstance(value, int) and value >= 0 else None


class ScreenshotRef(_Open):
    """A screenshot named as an object: its path or URL, and a caption (the alt text)."""

    path: StrictStr
    caption: StrictStr | None = None


def _screenshot_items(value: Any) -> Any:
    """Each screenshot is a path, or an object with a string `path` and an optional
    string `caption`: checked here so that a bad one gets one clear reason."""
    if not isinstance(value, list):
        return value
    for index, item in enumerate(value):
        if isinstance(item, str):
            continue
        if not isinstance(item, dict) or not isinstance(item.get("path"), str):
            raise ValueError(f"[{index}] must be a path (a string) or an object with a string path")
        if item.get("caption") is not None and not isinstance(item["caption"], str):
            raise ValueError(f"[{index}].caption must be a string")
    return value


class SourceData(_Open):
    """What the session worked on: a repository, trades, conversations, screenshots."""

    repo_path: StrictStr | None = None
    git_commits: list[GitCommit] = Field(default_factory=list)
    trades: list[Trade] = Field(default_factory=list)
    conversations: list[Conversation] = Field(default_factory=list)
    screenshots: Annotated[list[StrictStr | ScreenshotRef], BeforeValidator(_screenshot_items)] = (
        Field(default_factory=list)
    )
    market_conditions: dict[str, Any] | None = None
    currency: Currency | None = None

    def screenshot_refs(self) -> list[ScreenshotRef]:
        """Every screenshot as an object: a plain string is a path without a caption."""
        return [
            s if isinstance(s, ScreenshotRef) else ScreenshotRef(path=s) for s in self.screenshots
        ]


class _SessionBase(_Open):
    session_id: Annotated[StrictStr, Field(pattern=SESSION_ID_PATTERN)]
    timestamp: Timestamp
    agent_id: Annotated[StrictStr, Field(pattern=_PRINTABLE.pattern), AfterValidator(_visible)]
    title: StrictStr | None = None
    metadata: Metadata = Field(default_factory=Metadata)
    source_data: SourceData = Field(default_factory=SourceData)
    # story fields, any session type
    overview: StrictStr | None = None
    problem: StrictStr | None = None
    solution: StrictStr | None = None
    lessons: list[Lesson] = Field(default_factory=list)
    next_steps: list[StrictStr] = Field(default_factory=list)
    deliverables: list[Any] = Field(default_factory=list)
    key_achievements: list[StrictStr] = Field(default_factory=list)
    # trade review fields
    market_analysis: StrictStr | None = None
    what_worked: StrictStr | None = None
    what_didnt_work: StrictStr | None = None
    next_goals: list[StrictStr] = Field(default_factory=list)
    charts: list[Any] = Field(default_factory=list)
    # written by ingest: what the public-text rules replaced in this record
    redacted: list[Redacted] = Field(default_factory=list)


class BuildSession(_SessionBase):
    """A coding session: commits in a repository."""

    session_type: Literal["build"]


class TradeSession(_SessionBase):
    """A trading session: trades and their review."""

    session_type: Literal["trade"]


class LifeAriaSession(_SessionBase):
    """A session making something with an assistant: conversation and screenshots."""

    session_type: Literal["life_aria"]


Session = Annotated[
    BuildSession | TradeSession | LifeAriaSession, Field(discriminator="session_type")
]
SESSION_ADAPTER: TypeAdapter[BuildSession | TradeSession | LifeAriaSession] = TypeAdapter(Session)


def session_json_schema() -> dict[str, Any]:
    """The JSON Schema of a work session, generated from the models."""
    schema = SESSION_ADAPTER.json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "work_session"
    schema["description"] = (
        "One sitting of work (build, trade or life_aria) as gitflywheel ingests it. "
        "Unknown fields are kept. `artifacts` and `pipeline_status` are accepted and set aside."
    )
    return schema
