"""From parsed JSON to a session record: validated, normalised, canonical.

A record is what the store keeps for a session: the input with derived fields set aside
and timestamps normalised to UTC. Its canonical text decides sameness.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from pydantic import ValidationError

from ..errors import InputError
from ..jsontext import dumps_canonical, dumps_pretty
from .durations import commit_span, implausible_duration
from .models import (
    COUNTERS,
    SESSION_ADAPTER,
    BuildSession,
    LifeAriaSession,
    TradeSession,
    in_utc,
    parse_timestamp,
)
from .public_text import NotPublic, public_record

__all__ = [
    "DERIVED_FIELDS",
    "Record",
    "make_record",
    "public",
    "format_timestamp",
    "validation_problems",
]

DERIVED_FIELDS = ("artifacts", "pipeline_status")

AnySession = BuildSession | TradeSession | LifeAriaSession


@dataclass(frozen=True)
class Record:
    """A valid session: its model, its normalised data, and what ingest noticed."""

    origin: str
    data: dict[str, Any]
    session: AnySession
    set_aside: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def session_id(self) -> str:
        return self.session.session_id

    @cached_property
    def stored_bytes(self) -> bytes:
        """The bytes kept in the store: the canonical content, indented for people
        (written once: verify compares them with the stored ones and plans with them)."""
        return dumps_pretty(self.data).encode("utf-8")

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the canonical content less the id: finds one session under two ids.
        Hashed from `stored_bytes` with the id's value left out, so that no other text
        need be written: a top-level member is the only one indented by two spaces, and
        no string holds a line break."""
        member = f'\n  "session_id": {dumps_canonical(self.session_id)}'.encode()
        head, found, tail = self.stored_bytes.partition(member)
        if not found:  # pragma: no cover - every record has its id at the top level
            raise ValueError(f"{self.origin}: no session_id in the record's text")
        digest = hashlib.sha256(head)
        digest.update(b'\n  "session_id": null')
        digest.update(tail)
        return digest.hexdigest()


def format_timestamp(moment: datetime) -> str:
    """UTC, `Z`, a four-digit year, microseconds only when there are any.

    ValueError when the moment's UTC form is outside the years 1 to 9999."""
    utc = in_utc(moment).replace(tzinfo=None)
    return utc.isoformat(timespec="microseconds" if utc.microsecond else "seconds") + "Z"


def _normalise_time(container: Any, key: str) -> None:
    if isinstance(container, dict) and isinstance(container.get(key), str):
        # A value that does not parse is left as given; validation reports it.
        with contextlib.suppress(ValueError):
            container[key] = format_timestamp(parse_timestamp(container[key]))


def _normalise(data: dict[str, Any]) -> dict[str, Any]:
    out = dict(data)
    _normalise_time(out, "timestamp")
    source = out.get("source_data")
    if isinstance(source, dict):
        source = out["source_data"] = dict(source)
        for part, keys in (
            ("trades", ("timestamp", "exit_timestamp")),
            ("conversations", ("timestamp",)),
        ):
            items = source.get(part)
            if isinstance(items, list):
                source[part] = [dict(i) if isinstance(i, dict) else i for i in items]
                for item in source[part]:
                    for key in keys:
                        _normalise_time(item, key)
    return out


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in ("build", "trade", "life_aria") and not path:
            continue  # the discriminator's branch name is not a field
        else:
            path += f".{part}" if path else str(part)
    return path or "(session)"


def validation_problems(origin: str, error: ValidationError) -> list[InputError]:
    """One InputError per problem, `field.path: reason`."""
    problems = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        reason = item["msg"]
        if item["type"] == "union_tag_invalid":
            reason = "must be one of 'build', 'trade', 'life_aria'"
            loc = ("session_type",)
        elif item["type"] == "union_tag_not_found":
            reason = "is required"
            loc = ("session_type",)
        elif item["type"] == "missing":
            reason = "is required"
        elif item["type"] == "string_pattern_mismatch" and loc[-1] == "session_id":
            reason = "must be 1 to 128 characters of A-Z a-z 0-9 . _ -, not starting with . or -"
        elif item["type"] == "string_pattern_mismatch" and loc[-1] == "agent_id":
            reason = "must be 1 to 128 printable characters"
        elif reason.startswith("Value error, "):
            reason = reason[len("Value error, ") :]
        problems.append(InputError(origin, _field_path(loc), reason))
    return problems


def _disagrees(session: AnySession, counter: str, field: str, listed: int) -> list[str]:
    """A warning when a counter says another number than the list it counts."""
    declared = session.metadata.counter(counter)
    if listed and declared is not None and declared != listed:
        return [f"metadata.{counter}: says {declared} but source_data.{field} lists {listed}"]
    return []


def _warnings(session: AnySession) -> list[str]:
    found = []
    for name in COUNTERS:
        value = getattr(session.metadata, name)
        if isinstance(value, int) and value < 0:
            found.append(f"metadata.{name}: is negative ({value}); treated as unknown")
    source = session.source_data
    found += _disagrees(session, "commits", "git_commits", len(source.git_commits))
    minutes = session.metadata.counter("duration_minutes")
    odd = implausible_duration(minutes, commit_span(source.git_commits))
    if odd:
        found.append(f"metadata.duration_minutes: {odd}; left out of public artifacts")
    found += _disagrees(session, "trades_executed", "trades", len(source.trades))
    return found


def make_record(origin: str, value: Any) -> Record:
    """Validate one parsed JSON value as a session; raise a list of InputErrors if not."""
    if not isinstance(value, dict):
        raise InputErrors(
            [InputError(origin, "(session)", f"must be a JSON object, not {_json_type(value)}")]
        )
    set_aside = tuple(k for k in DERIVED_FIELDS if k in value)
    data = _normalise({k: v for k, v in value.items() if k not in DERIVED_FIELDS})
    try:
        session = SESSION_ADAPTER.validate_python(data)
    except ValidationError as exc:
        problems = validation_problems(origin, exc)
        if any(p.field == "session_type" for p in problems):
            # The type is unknown, so check the rest against the common fields too.
            try:
                BuildSession.model_validate({**data, "session_type": "build"})
            except ValidationError as rest:
                problems += validation_problems(origin, rest)
        raise InputErrors(problems) from None
    return Record(origin, data, session, set_aside, tuple(_warnings(session)))


def public(record: Record, private: Sequence[re.Pattern[str]] = ()) -> Record:
    """The record as it enters the store (see `public_text.public_record`): every free
    text through the public-text rules, what they replaced counted in `redacted`. The
    same record when the rules replace nothing. InputErrors when it cannot be made
    public: an id the rules would change, or a field that is no longer valid once they
    have (an agent id grown past its length)."""
    try:
        data, redactions = public_record(record.data, private)
    except NotPublic as exc:
        raise InputErrors([InputError(record.origin, exc.field, exc.reason)]) from None
    if not redactions:
        return record
    try:
        session = SESSION_ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise InputErrors(
            [
                InputError(p.origin, p.field, f"{p.reason}, once its private text is replaced")
                for p in validation_problems(record.origin, exc)
            ]
        ) from None
    return Record(record.origin, data, session, record.set_aside, record.warnings)


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"


class InputErrors(Exception):
    """Several problems with one input, each an InputError."""

    def __init__(self, problems: list[InputError]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))
