"""Golden files: what each pipeline version derives, and what each filter set prints.

`tests/data/golden/<pipeline>-<version>/<sample>.facts.json` holds the exact facts.json
bytes a pipeline version derives for a sample session, and `<sample>.artifacts.json` the
SHA-256 of each artifact rendered from them with the shipped templates and the current
filter set. `tests/data/golden/filters/<set>.json` pins each filter set's output on a
table of inputs. A pipeline whose output changes needs a new version, a filter whose
output changes a new set; `scripts/update_golden.py` writes the files for them.
Shared by tests/pipelines/test_golden.py and scripts/update_golden.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from gitflywheel.jsontext import dumps_pretty, loads
from gitflywheel.recording.folder_plan import ScreenshotFile, TemplateSet, assemble, derive
from gitflywheel.rendering import filtersets
from gitflywheel.rendering.templates import load_templates
from gitflywheel.session.records import make_record

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
GOLDEN = TESTS / "data" / "golden"
CORPUS = TESTS / "data" / "corpus" / "dreamos"
UPDATE = "python scripts/update_golden.py"
CORPUS_PICKS = (
    "00ba833d_633cb6a5-70c4-44cd-b00d-299845fa2095_build.json",
    "01aeb8bd_a61004c6-a427-4304-89ce-1c2d28e45918_build.json",
    "0c0a7fef_agent5_guardrail_implementation_2025-12-02.json",
    "1e3b41d1_c01294c3-f53a-4cb2-ae5b-b3e5704eba6a_build.json",
    "2169fb0f_example_build_session.json",
    "312cc9c6_c2cc9d47-8009-45cb-a6bc-c214d8091c0d_build.json",
    "72fe669c_example_trade_session.json",
    "81710fb4_00000000-0000-0000-0000-000000000002_trade.json",
    "b4c13fc6_agent5_guardrail_implementation_2025-12-02.json",
    "fcb44a82_agent2_phase2_architecture_2025-12-02.json",
)

# What every filter of every set is pinned on: text that needs escaping, numbers to round.
FILTER_INPUTS: list[Any] = [
    "",
    "plain text",
    "a|b",
    "line\nbreak\r\nand more",
    "back\\slash",
    "quote \" and ' apostrophe",
    "<div>html</div> & <!-- comment -->",
    "{{ 7*7 }} {% raw %}",
    "*emph* _under_ `code` [link](http://x) ![img](y)",
    "# heading\n- item\n1. first",
    "---",
    "  padded  ",
    "ünïcödé 🎉 \u00a0nbsp",
    "\x07bell \x1b[0m \u2028sep \ufeff",
    "C:\\Users\\someone\\file.png",
    "175.5",
    0,
    1,
    -1,
    1234567,
    Decimal("0.005"),
    Decimal("0.015"),
    Decimal("-0.004"),
    Decimal("175.5"),
    Decimal("-10.50"),
    Decimal("1234567.891"),
    Decimal("0.6666666666666666666666666667"),
    Decimal("1000"),
    Decimal("0.0001"),
    True,
    None,
]


@dataclass(frozen=True)
class Sample:
    """A session whose facts are pinned: a name and the file that holds it."""

    name: str
    path: Path


def samples() -> list[Sample]:
    """The examples, ten corpus sessions, and the edge cases in golden/sessions/."""
    found: list[Sample] = []
    for path in sorted((ROOT / "examples").glob("*.json")):
        found.append(Sample(f"example-{path.stem}", path))
    for name in CORPUS_PICKS:
        found.append(Sample(f"corpus-{name.split('_', 1)[0]}", CORPUS / name))
    for path in sorted((GOLDEN / "sessions").glob("*.json")):
        found.append(Sample(f"generated-{path.stem}", path))
    return found


def _screenshot(source: str, base: Path) -> bytes | None:
    if "://" in source:
        return None
    path = Path(source)
    path = path if path.is_absolute() else base / path
    return path.read_bytes() if path.is_file() else None


def shipped() -> TemplateSet:
    """The shipped templates with the current filter set."""
    return TemplateSet(load_templates())


def golden_dir(pipeline: str) -> Path:
    """`build/2` -> tests/data/golden/build-2."""
    return GOLDEN / pipeline.replace("/", "-")


def golden_files(sample: Sample, templates: TemplateSet) -> dict[Path, bytes]:
    """The golden files the code of today makes for a sample: its facts, and its artifacts'
    hashes with `templates` (the shipped ones)."""
    record = make_record(str(sample.path), loads(sample.path.read_text(encoding="utf-8")))
    shots = [
        ScreenshotFile(source, _screenshot(source, sample.path.parent))
        for source in record.session.source_data.screenshots
    ]
    plan = assemble(derive(record, shots), templates, 1)
    folder = golden_dir(plan.derived.pipeline)
    hashes = {
        "filters": filtersets.CURRENT_FILTERS,
        "sha256": {a.kind: a.sha256 for a in plan.manifest.artifacts},
    }
    return {
        folder / f"{sample.name}.facts.json": plan.derived.facts_bytes,
        folder / f"{sample.name}.artifacts.json": dumps_pretty(hashes).encode(),
    }


def filter_pins(name: str) -> bytes:
    """What a filter set prints for every pinned input (or which error it raises)."""
    released = filtersets.filter_set(name)
    functions = {**released.filters, "(finalize: every {{ }})": released.finalize}
    outputs: dict[str, list[str]] = {}
    for filter_name, function in sorted(functions.items()):
        row = []
        for value in FILTER_INPUTS:
            try:
                row.append(str(function(value)))
            except Exception as exc:  # an error is an output too: pinned as such
                row.append(f"error: {type(exc).__name__}")
        outputs[filter_name] = row
    return dumps_pretty({"inputs": FILTER_INPUTS, "outputs": outputs}).encode()


def filter_pin_path(name: str) -> Path:
    return GOLDEN / "filters" / f"{name.replace('/', '-')}.json"


def expected_files() -> Iterator[tuple[Path, bytes]]:
    """Every golden file the code of today makes: samples' facts and hashes, filter pins."""
    templates = shipped()
    for sample in samples():
        yield from golden_files(sample, templates).items()
    for name in filtersets.FILTER_SETS:
        yield filter_pin_path(name), filter_pins(name)


def problems() -> list[str]:
    """Every golden file today's code disagrees with, and what to do; a sample whose facts
    differ is named once (its artifacts differ with them)."""
    found: dict[str, str] = {}
    for path, data in expected_files():
        sample = path.name.split(".", 1)[0]
        key = f"{path.parent.name}/{sample}"
        message = check(path, path.read_bytes() if path.exists() else None, data)
        if message and key not in found:
            found[key] = message
    return list(found.values())


def check(path: Path, expected: bytes | None, actual: bytes) -> str | None:
    """Why a golden file and today's output disagree, and what to do; None when they agree."""
    if expected == actual:
        return None
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    if expected is None:
        return f"{where}: no golden file for this version: run `{UPDATE}`"
    if path.parent.name == "filters":
        return (
            f"{where}: filter set {path.stem.replace('-', '/')} prints something else now. A "
            "released set never changes: keep its functions as they were, add the new ones as "
            f"the next set in gitflywheel/filtersets.py, and run `{UPDATE}`"
        )
    pipeline = path.parent.name.replace("-", "/")
    if path.name.endswith(".facts.json"):
        module = pipeline.split("/")[0]
        return (
            f"{where}: pipeline {pipeline} derives other facts than it did. A pipeline's "
            f"output changes only with its version: bump VERSION in "
            f"gitflywheel/pipelines/{module}.py and run `{UPDATE}`"
        )
    return (
        f"{where}: the facts are the same but the artifacts differ: a shipped template or a "
        "filter changed. A filter change needs a new filter set (gitflywheel/filtersets.py); "
        f"for a template change, run `{UPDATE} --force`"
    )
