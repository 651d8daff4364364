"""Facts: what stage one derives, kept as canonical JSON, read back exactly; and the
manifest formats that name them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES, Cli, git
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitflywheel.jsontext import loads
from gitflywheel.recording.folder_plan import ScreenshotFile, derive
from gitflywheel.session.artifacts import ArtifactSpec
from gitflywheel.session.facts import (
    CONTEXT_KEYS,
    Address,
    Facts,
    FactsError,
    Names,
    facts_bytes,
)
from gitflywheel.session.manifest import Manifest
from gitflywheel.session.records import make_record

KINDS = ["readme", "blog_post", "build_log", "social_post", "trade_journal"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**12), max_value=10**12),
    st.text(max_size=20),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.sampled_from(KINDS), st.dictionaries(st.text(max_size=8), values, max_size=5), min_size=1
    )
)
def test_facts_read_back_exactly_what_was_written(contexts: dict[str, dict[str, Any]]) -> None:
    specs = [ArtifactSpec(kind, "build", "S1", "x.md.j2", ctx) for kind, ctx in contexts.items()]  # type: ignore[arg-type]
    data = facts_bytes("build/2", "s-1", specs)
    facts = Facts.from_bytes(data)
    again = facts_bytes(facts.pipeline, facts.session_id, facts.specs())
    assert again == data  # what renders is what is stored, to the byte


names = st.builds(
    Names.of,
    st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=2),
    st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=2),
    st.booleans(),
)
addresses = st.none() | st.builds(
    Address,
    slug=st.sampled_from([None, "a-post", "x1"]),
    base_url=st.none() | st.text(max_size=12),
    moved_from=st.lists(st.text(max_size=8), max_size=2),
)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.text(max_size=8), values, max_size=5), names, addresses, st.booleans())
def test_the_light_read_of_names_and_address_is_what_the_facts_hold(
    context: dict[str, Any], used: Names, address: Address | None, compact: bool
) -> None:
    """`recorded_inputs` finds the two members by the stored layout, or reads it all."""
    specs = [ArtifactSpec("readme", "build", "S3", "x.md.j2", context)]
    data = facts_bytes("build/2", "s-1", specs, used, address)
    if compact:  # facts laid out otherwise read the same
        data = json.dumps(json.loads(data), separators=(",", ":")).encode()
    facts = Facts.from_bytes(data)
    assert Facts.recorded_inputs(data) == (facts.names, facts.address)


@settings(deadline=None)
@given(st.binary(max_size=200) | values.map(lambda v: json.dumps(v, default=str).encode()))
def test_any_bytes_are_facts_or_a_facts_error(data: bytes) -> None:
    try:
        Facts.from_bytes(data)
    except FactsError as exc:
        assert str(exc).startswith("facts.json")


def test_shapes_that_are_not_facts_are_named() -> None:
    good = {"pipeline": "build/2", "session_id": "s", "artifacts": {}}
    Facts.from_bytes(json.dumps(good).encode())
    for bad, where in (
        ({**good, "pipeline": "build"}, "pipeline"),
        ({**good, "pipeline": "party/2"}, "pipeline"),
        ({**good, "extra": 1}, "extra"),
        ({**good, "artifacts": {"poem": {}}}, "artifacts.poem"),
        (
            {**good, "artifacts": {"readme": {"step": "S3", "template": "../x.j2", "context": {}}}},
            "artifacts.readme.template",
        ),
    ):
        with pytest.raises(FactsError, match=rf"facts.json: {where}"):
            Facts.from_bytes(json.dumps(bad).encode())
    with pytest.raises(FactsError, match="not valid JSON"):
        Facts.from_bytes(b'{"pipeline": NaN}')


def test_every_template_gets_the_variables_the_schema_lists() -> None:
    """The schema's description of each template's variables is what the pipelines give."""
    seen = set()
    for path in sorted(EXAMPLES.glob("*.json")):
        record = make_record(str(path), loads(path.read_text()))
        shots = [
            ScreenshotFile(s, b"\x89PNG\r\n\x1a\n") for s in record.session.source_data.screenshots
        ]
        facts = derive(record, shots).facts
        for kind, item in facts.artifacts.items():
            where = f"{facts.pipeline.split('/')[0]} {item.step} {kind}"
            assert tuple(sorted(item.context)) == tuple(sorted(CONTEXT_KEYS[where])), where
            seen.add(where)
    assert seen == set(CONTEXT_KEYS)


def test_manifest_formats_name_what_they_hold() -> None:
    base: dict[str, Any] = {
        "session_id": "s",
        "session_type": "build",
        "agent_id": "a",
        "timestamp": "2025-01-01T00:00:00Z",
        "revision": 1,
        "record": {"path": "p", "blob": "0" * 40, "sha256": "0" * 64, "size": 1},
        "artifacts": [],
    }
    one = Manifest.model_validate({**base, "format": 1})
    assert one.pipeline_id == "build/1" and one.facts is None
    assert b'"pipeline"' not in one.to_bytes() and b'"facts"' not in one.to_bytes()
    assert Manifest.from_bytes(one.to_bytes()) == one
    with pytest.raises(ValueError, match="format 2 names its pipeline"):
        Manifest.model_validate({**base, "format": 2})
    with pytest.raises(ValueError, match="format 1 has no pipeline"):
        Manifest.model_validate({**base, "format": 1, "pipeline": "build/2"})
    two = Manifest.model_validate(
        {**base, "format": 2, "pipeline": "build/2", "facts": base["record"]}
    )
    assert two.pipeline_id == "build/2"


def test_what_ingest_accepts_verify_accepts(cli: Cli, store: Path, tmp_path: Path) -> None:
    """A number too large to read back from its facts is refused whole, or stored and
    verifiable: never stored so that it cannot render again."""
    trade = json.loads((EXAMPLES / "trade_session.json").read_text())
    trade["session_id"] = "huge-trade"
    trade["source_data"]["trades"][0]["quantity"] = 1e60
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(trade))
    result = cli("ingest", "--repo", store, path)
    if result.exit_code == 2:
        assert f"{path}: pipeline trade: its facts cannot be kept exactly" in result.stderr
        assert "too many digits" in result.stderr
        assert "huge-trade" not in git("-C", store, "log", "--format=%B")
    else:
        assert result.exit_code == 0
        assert cli("verify", "--repo", store).exit_code == 0
