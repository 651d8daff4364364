"""A site built again into its folder after a change (a new session, a revision, a
setting, a template, the title) takes what did not change from its last build and its
records beside the store, and gives the very bytes of a build from nothing: every file
of the folder and the tree of the site branch.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import EXAMPLES, ROOT, session, snapshot, tree_of, write_session

from gitflywheel import api
from gitflywheel.publishing.build_memo import BuildMemo
from gitflywheel.publishing.cards import CardCache
from gitflywheel.publishing.fragments import FragmentCache
from gitflywheel.publishing.site import build_site
from gitflywheel.publishing.site_files import SiteFiles
from gitflywheel.storage.store import Store

BASE = "https://me.example.org/flywheel/"


def story(session_id: str, title: str, day: int, project: str = "parser") -> dict[str, object]:
    return session(
        session_id,
        title=title,
        timestamp=f"2025-12-{day:02d}T09:00:00Z",
        source_data={
            "repo_path": f"example/{project}",
            "git_commits": [{"message": f"feat({project}): step {day}", "hash": f"{day:040x}"}],
            "overview": f"{title}: see [the log](build_log.md).",
        },
    )


def cold(store: Path, out: Path, **options: object) -> dict[str, str]:
    """A full build from empty caches into an empty folder, and to the branch `cold`."""
    work = store / "gitflywheel"
    shutil.rmtree(work / "site-cache", ignore_errors=True)
    shutil.rmtree(work / "cards", ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    api.site(store, out, base_url=BASE, branch="cold", **options)  # type: ignore[arg-type]
    return snapshot(out)


def again(store: Path, out: Path, **options: object) -> dict[str, str]:
    """A build into the folder (and to the branch `pages`) the last one wrote."""
    api.site(store, out, base_url=BASE, branch="pages", **options)  # type: ignore[arg-type]
    return snapshot(out)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764900000")
    path = tmp_path / "s.git"
    first = [
        write_session(tmp_path / "in", story(f"p-{i}", f"Parser step {i}", i)) for i in range(1, 6)
    ]
    assert api.ingest(path, [EXAMPLES, *first]).exit_code == 0
    return path


def test_a_build_after_one_new_session_renders_little_and_is_the_bytes_of_a_full_one(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    again(store, out)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1765000000")
    new = write_session(tmp_path / "in", story("p-9", "Parser step 9", 9, project="lexer"))
    assert api.ingest(store, [new]).exit_code == 0

    with Store.open(store) as opened:
        memo = BuildMemo(opened.paths.site_cache)
        counted = FragmentCache(None)  # every Markdown text rendered is counted
        build = build_site(
            opened, base_url=BASE, reuse=out, memo=memo, fragments=counted, cards=CardCache(None)
        )
        everything = FragmentCache(None)
        whole = build_site(
            opened, base_url=BASE, memo=BuildMemo(None), fragments=everything, cards=CardCache(None)
        )
        assert isinstance(build.files, SiteFiles)
        assert dict(build.files.digests) == dict(whole.files.digests)  # type: ignore[attr-defined]
        # the oldest session's page was neither rendered nor read: its record and the
        # folder gave it
        assert "sessions/parser-step-1/index.html" in build.files.kept
        # the new session, its older neighbour, and the feeds that show it
        assert 0 < counted.rendered < everything.rendered / 2
        build.files.close()
        whole.files.close()  # type: ignore[attr-defined]

    built = again(store, out)
    assert built == cold(store, tmp_path / "cold")
    assert tree_of(store, "pages") == tree_of(store, "cold")
    assert "sessions/parser-step-9/index.html" in built


def test_a_build_after_a_revision_a_setting_a_template_and_a_title_is_the_bytes_of_a_full_one(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    again(store, out)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1765000000")
    revised = write_session(tmp_path / "in", story("p-3", "Parser step three, again", 3))
    assert api.ingest(store, [revised], revise=True).count("revised") == 1
    built = again(store, out)
    assert built == cold(store, tmp_path / "cold")
    assert tree_of(store, "pages") == tree_of(store, "cold")
    page = (out / "sessions" / "parser-step-3" / "index.html").read_text()
    assert "Parser step three, again" in page
    changelog = (out / "projects" / "parser" / "index.html").read_text()
    assert "Parser step three, again" in changelog  # a page made when its sessions change

    api.config(store, "publish.drafts", "step 4$", add=True)  # a setting: one post goes
    built = again(store, out)
    assert "sessions/parser-step-4/index.html" not in built
    assert built == cold(store, tmp_path / "cold")

    templates = tmp_path / "templates"
    templates.mkdir()
    shipped = (ROOT / "templates" / "site" / "list.html.j2").read_text()
    head, tail = shipped.rsplit("{% endblock %}", 1)
    (templates / "list.html.j2").write_text(f"{head}<p>Mine.</p>{{% endblock %}}{tail}")
    built = again(store, out, templates=templates)
    assert "<p>Mine.</p>" in (out / "index.html").read_text()
    assert built == cold(store, tmp_path / "cold", templates=templates)

    built = again(store, out, templates=templates, title="Another title")
    assert "Another title" in (out / "sessions" / "parser-step-1" / "index.html").read_text()
    assert built == cold(store, tmp_path / "cold", templates=templates, title="Another title")
    assert tree_of(store, "pages") == tree_of(store, "cold")


def test_a_file_of_the_folder_changed_since_the_last_build_is_made_again(
    store: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    again(store, out)
    page = out / "sessions" / "parser-step-2" / "index.html"
    good = page.read_bytes()
    page.unlink()
    page.write_bytes(good.replace(b"Parser step 2", b"Parser step X"))  # same size
    shutil.rmtree(out / "sessions" / "parser-step-1")
    assert api.site(store, out, base_url=BASE).written > 2
    assert page.read_bytes() == good
    assert (out / "sessions" / "parser-step-1" / "index.html").is_file()
    assert snapshot(out) == cold(store, tmp_path / "cold")


def test_a_build_that_changes_few_files_moves_them_into_the_folder_it_does_not_swap_it(
    store: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    again(store, out)
    swapped = out.stat().st_ino
    page = out / "sessions" / "parser-step-2" / "index.html"
    good = page.read_bytes()
    page.unlink()
    assert api.site(store, out, base_url=BASE).written == 1
    assert out.stat().st_ino == swapped  # the same folder, the one file moved in
    assert page.read_bytes() == good
    assert not [p for p in out.iterdir() if p.name.startswith(".gitflywheel-new-")]
    assert snapshot(out) == cold(store, tmp_path / "cold")


def test_a_new_session_leaves_every_full_list_page_as_it_was(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    more = [
        write_session(tmp_path / "in", story(f"q-{i}", f"Lexer step {i}", 10 + i, "lexer"))
        for i in range(1, 16)
    ]
    assert api.ingest(store, more).exit_code == 0
    out = tmp_path / "site"
    before = again(store, out)
    numbered = {p: d for p, d in before.items() if "page/" in p}
    assert "page/1/index.html" in numbered and "tags/build/page/1/index.html" in numbered
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1765000000")
    new = write_session(tmp_path / "in", story("q-99", "Lexer step 99", 28, "lexer"))
    assert api.ingest(store, [new]).exit_code == 0
    after = again(store, out)
    assert {p: after[p] for p in numbered} == numbered
    changed = {p for p in after if before.get(p) != after[p]}
    assert "index.html" in changed and "tags/build/index.html" in changed
    assert len(changed) < 30, sorted(changed)
    assert after == cold(store, tmp_path / "cold")


def test_the_record_of_a_builds_files_is_json_indented_by_one() -> None:
    """`.gitflywheel-site.json` lists the files a build wrote as `json.dumps(indent=1)`
    spells them, whatever their names hold (it is written without json's slow writer)."""
    import json

    from gitflywheel.publishing.site import MARKER_FILE, _marker

    names = ["index.html", "tags/c++/index.html", 'a "b"/c\\d', "é/ü/😀", "x\u2028y", "t\tz"]
    listed = sorted([*names, MARKER_FILE])
    expected = json.dumps({"gitflywheel_site": 1, "files": listed}, indent=1) + "\n"
    assert _marker(names) == expected.encode()
    assert json.loads(_marker(names))["files"] == listed


def test_a_build_passes_the_collector_less_often_and_restores_its_threshold(
    tmp_path: Path,
) -> None:
    """While a site is built, Python's collector passes every YOUNG_OBJECTS allocations
    (its default pass every 700 walks the build's long-lived objects again and again);
    after the build, whether it ended well or not, the threshold is what it was."""
    import gc

    from gitflywheel.publishing.site import YOUNG_OBJECTS, SiteError
    from gitflywheel.storage.store import Store

    store = tmp_path / "s.git"
    assert api.ingest(store, [EXAMPLES]).exit_code == 0
    before = gc.get_threshold()
    seen: list[tuple[int, ...]] = []
    with Store.open(store) as opened:
        build = build_site(
            opened,
            base_url="https://me.example.org/",
            progress=lambda done, total: seen.append(gc.get_threshold()),
        )
        build.files.close()  # type: ignore[attr-defined]
        assert seen and all(t[0] == max(before[0], YOUNG_OBJECTS) for t in seen)
        assert gc.get_threshold() == before
        with pytest.raises(SiteError):
            build_site(opened, base_url=None)  # feeds without an address
        assert gc.get_threshold() == before
