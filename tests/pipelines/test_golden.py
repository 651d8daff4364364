"""Pipeline versions: a pipeline's output (its facts) changes only with its version.

Golden facts of the examples, ten corpus sessions and a few edge cases are kept per
version in tests/data/golden/ (see golden.py); today's output must match the files of
today's versions, byte for byte.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from golden import ROOT, check, golden_files, problems, samples, shipped

from gitflywheel.pipelines import build, installed_pipelines, trade
from gitflywheel.recording.folder_plan import TemplateSet


def test_every_pipeline_version_derives_its_golden_facts() -> None:
    found = problems()
    assert not found, "\n".join(found)


def test_every_installed_pipeline_has_golden_files() -> None:
    for pipeline in installed_pipelines():
        folder = ROOT / "tests" / "data" / "golden" / pipeline.replace("/", "-")
        assert len(list(folder.glob("*.facts.json"))) >= 2, pipeline


def test_a_changed_output_without_a_new_version_fails_and_says_what_to_do() -> None:
    sample = next(s for s in samples() if s.name == "example-build_session")
    path, facts = next(
        (p, d) for p, d in golden_files(sample, shipped()).items() if p.name.endswith(".facts.json")
    )
    changed = facts.replace(b"Metrics guardrail", b"Metrics guard rail")
    assert changed != facts
    message = check(path, facts, changed)
    assert message is not None
    assert "bump VERSION in gitflywheel/pipelines/build.py" in message
    assert "scripts/update_golden.py" in message
    assert check(path, facts, facts) is None


def test_a_sentence_changed_in_a_pipeline_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pipeline code itself changes (one derived sentence), its version does not."""
    original = build.story

    def story(session: Any, facts: Any, *names: Any) -> Any:
        told = original(session, facts, *names)
        return {**told, "overview": told["overview"].replace("worked in", "toiled in")}

    monkeypatch.setattr(build, "story", story)
    found = problems()
    assert found
    assert all(
        f"build/{build.VERSION} derives other facts" in p and "bump VERSION" in p for p in found
    )


def test_a_template_change_is_told_apart_from_a_pipeline_change(tmp_path: Path) -> None:
    from gitflywheel.rendering.templates import load_templates

    templates = load_templates()
    templates["readme.md.j2"] = b"<!-- house -->\n" + templates["readme.md.j2"]
    sample = next(s for s in samples() if s.name == "example-build_session")
    files = golden_files(sample, TemplateSet(templates))
    messages = [check(p, p.read_bytes(), d) for p, d in files.items()]
    assert messages[0] is None  # the facts
    assert messages[1] is not None and "a shipped template or a filter changed" in messages[1]


@pytest.mark.slow
def test_the_update_script_writes_new_versions_and_never_rewrites_a_released_one(
    tmp_path: Path,
) -> None:
    import shutil
    import subprocess
    import sys

    golden = tmp_path / "golden"
    shutil.copytree(ROOT / "tests" / "data" / "golden", golden)
    script = [sys.executable, str(ROOT / "scripts" / "update_golden.py"), "--into", str(golden)]

    def update(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*script, *args], capture_output=True, text=True, timeout=120)

    done = update()
    assert done.returncode == 0 and done.stdout.startswith("0 golden files written"), done
    released = golden / f"build-{build.VERSION}" / "example-build_session.facts.json"
    pinned = released.read_bytes()
    released.write_bytes(pinned.replace(b"Metrics guardrail", b"Metrics guard"))
    shutil.rmtree(golden / f"trade-{trade.VERSION}")  # a version with no files yet
    refused = update()
    assert refused.returncode == 1
    assert "refused:" in refused.stderr and "example-build_session.facts.json" in refused.stderr
    assert "Bump the pipeline's VERSION" in refused.stderr
    assert not (golden / f"trade-{trade.VERSION}").exists()  # nothing written on a refusal
    forced = update("--force")
    assert forced.returncode == 0 and released.read_bytes() == pinned
    assert (golden / f"trade-{trade.VERSION}").is_dir()
