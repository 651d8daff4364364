"""Users' templates: override by file name, recorded in the store, effective from then on."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import EXAMPLES, Cli, git, session

from gitflywheel.layout import artifact_path
from gitflywheel.rendering import shipped_templates_dir

BUILD_ID = "3f2b7c1e-8a4d-4e6f-9b21-5c7d8e9f0a1b"


def custom_templates(tmp_path: Path, marker: str) -> Path:
    folder = tmp_path / f"templates-{marker}"
    folder.mkdir()
    shipped = (shipped_templates_dir() / "readme.md.j2").read_text()
    (folder / "readme.md.j2").write_text(f"<!-- {marker} -->\n{shipped}")
    return folder


def test_override_applies_to_later_sessions_only_and_verifies(cli: Cli, tmp_path: Path) -> None:
    store = tmp_path / "s.git"
    assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    before = git("-C", store, "show", f"main:{artifact_path(BUILD_ID, 'readme')}")
    mine = custom_templates(tmp_path, "house style")
    later = tmp_path / "later.json"
    later.write_text(json.dumps(session("later-1")))
    assert cli("ingest", "--repo", store, later, "--templates", mine).exit_code == 0
    assert git("-C", store, "show", f"main:{artifact_path('later-1', 'readme')}").startswith(
        "<!-- house style -->"
    )
    assert git("-C", store, "show", f"main:{artifact_path(BUILD_ID, 'readme')}") == before
    assert git("-C", store, "show", "main:templates/readme.md.j2").startswith(
        "<!-- house style -->"
    )
    assert (
        git("-C", store, "show", "main~1:templates/readme.md.j2")
        == (shipped_templates_dir() / "readme.md.j2").read_text()
    )
    manifest = json.loads(cli("show", "--repo", store, "later-1").stdout)
    readme = next(a for a in manifest["artifacts"] if a["kind"] == "readme")
    assert readme["template"]["blob"] == git("hash-object", mine / "readme.md.j2").strip()
    # back to the shipped templates: the store records that change too, and all verifies
    again = tmp_path / "again.json"
    again.write_text(json.dumps(session("again-1")))
    assert cli("ingest", "--repo", store, again).exit_code == 0
    assert not git("-C", store, "show", f"main:{artifact_path('again-1', 'readme')}").startswith(
        "<!--"
    )
    result = cli("verify", "--repo", store, "--full", "--json")
    assert result.exit_code == 0, result.stdout


def test_templates_set_once_for_a_store(cli: Cli, tmp_path: Path) -> None:
    store = tmp_path / "s.git"
    mine = custom_templates(tmp_path, "store style")
    assert cli("init", "--repo", store, "--templates", mine).exit_code == 0
    assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    assert git("-C", store, "show", f"main:{artifact_path(BUILD_ID, 'readme')}").startswith(
        "<!-- store style -->"
    )
    assert cli("verify", "--repo", store).exit_code == 0


def test_broken_user_template_is_bad_input(cli: Cli, tmp_path: Path) -> None:
    store = tmp_path / "s.git"
    assert cli("init", "--repo", store).exit_code == 0
    tip = git("-C", store, "rev-parse", "main")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "readme.md.j2").write_text("{{ story.nope }}\n")
    result = cli("ingest", "--repo", store, EXAMPLES / "build_session.json", "--templates", broken)
    assert result.exit_code == 2
    assert "template readme.md.j2" in result.stderr and "nope" in result.stderr
    assert git("-C", store, "rev-parse", "main") == tip
