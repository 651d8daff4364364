"""Users' templates: override by file name, recorded in the store, effective from then on."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import EXAMPLES, GFW, ROOT, Cli, fsck, git, session

from gitflywheel.rendering.templates import MAX_TEMPLATE_BYTES, shipped_templates_dir
from gitflywheel.storage.layout import artifact_path

BUILD_ID = "3f2b7c1e-8a4d-4e6f-9b21-5c7d8e9f0a1b"


def custom_templates(tmp_path: Path, marker: str) -> Path:
    folder = tmp_path / f"templates-{marker}"
    folder.mkdir()
    shipped = (shipped_templates_dir() / "readme.md.j2").read_text()
    (folder / "readme.md.j2").write_text(f"<!-- {marker} -->\n{shipped}")
    return folder


@pytest.mark.slow
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


SECRET = "gitflywheel-template-secret-3c9e17"


def templates_with(tmp_path: Path, make: Callable[[Path], None]) -> Path:
    """A templates folder whose readme.md.j2 `make` creates."""
    folder = tmp_path / "mine"
    folder.mkdir()
    make(folder / "readme.md.j2")
    return folder


def objects(store: Path) -> bytes:
    return subprocess.run(
        ["git", "-C", store, "cat-file", "--batch-all-objects", "--batch"],
        capture_output=True,
        check=True,
    ).stdout


def test_template_symlink_to_a_file_outside_is_refused(cli: Cli, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(f"{SECRET}\n")
    mine = templates_with(tmp_path, lambda p: p.symlink_to(secret))
    store = tmp_path / "s.git"
    result = cli("init", "--repo", store, "--templates", mine)
    assert result.exit_code == 2
    assert f"{mine / 'readme.md.j2'}: resolves to {secret}, outside {mine}" in result.stderr
    assert not store.exists()
    assert cli("init", "--repo", store).exit_code == 0
    tip = git("-C", store, "rev-parse", "main")
    ingest = cli("ingest", "--repo", store, EXAMPLES / "build_session.json", "--templates", mine)
    assert ingest.exit_code == 2 and "readme.md.j2: resolves to" in ingest.stderr
    assert git("-C", store, "rev-parse", "main") == tip
    assert SECRET.encode() not in objects(store)
    fsck(store)


def test_template_symlink_inside_the_folder_is_used(cli: Cli, tmp_path: Path) -> None:
    mine = templates_with(tmp_path, lambda p: p.symlink_to("styles/readme.md.j2"))
    (mine / "styles").mkdir()
    shipped = (shipped_templates_dir() / "readme.md.j2").read_text()
    (mine / "styles" / "readme.md.j2").write_text(f"<!-- linked -->\n{shipped}")
    store = tmp_path / "s.git"
    assert cli("init", "--repo", store, "--templates", mine).exit_code == 0
    assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    assert git("-C", store, "show", f"main:{artifact_path(BUILD_ID, 'readme')}").startswith(
        "<!-- linked -->"
    )
    assert cli("verify", "--repo", store).exit_code == 0


def test_template_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    mine = templates_with(tmp_path, os.mkfifo)
    store = tmp_path / "s.git"
    done = subprocess.run(
        [*GFW, "init", "--repo", store, "--templates", mine], capture_output=True, timeout=60
    )
    assert done.returncode == 2
    assert f"{mine / 'readme.md.j2'}: not a regular file (a FIFO)" in done.stderr.decode()
    assert not store.exists()


def test_template_too_big_or_not_utf8_is_refused(cli: Cli, tmp_path: Path) -> None:
    def huge(path: Path) -> None:
        with path.open("wb") as f:
            f.write(b"{{ title }}\n")
            f.truncate(MAX_TEMPLATE_BYTES + 1)

    mine = templates_with(tmp_path, huge)
    store = tmp_path / "s.git"
    result = cli("init", "--repo", store, "--templates", mine)
    assert result.exit_code == 2
    assert f"readme.md.j2: {MAX_TEMPLATE_BYTES + 1:,} bytes, over the limit" in result.stderr
    (mine / "readme.md.j2").write_bytes(b"{{ title }}\n\xff\xfe\n")
    result = cli("init", "--repo", store, "--templates", mine)
    assert result.exit_code == 2
    assert "readme.md.j2: a template must be UTF-8 text; byte 12 is not" in result.stderr
    assert not store.exists()


def test_a_source_tree_finds_its_templates_beside_the_package() -> None:
    """Run from a checkout (`python -m gitflywheel`, scripts/bench.py), the package is the
    source tree's, without templates inside it: they are the checkout's templates/."""
    probe = "from gitflywheel.rendering.templates import shipped_templates_dir as d; print(d())"
    done = subprocess.run(
        [GFW[0], "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    found = Path(done.stdout.strip())
    assert (found / "blog_post.md.j2").is_file(), found
