"""A session's provenance: an in-toto Statement v1 that plain git and sha256sum can check,
printed by `show ID provenance`, published beside each session of a site, and derived
again by verify."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from conftest import EXAMPLES, Cli, git
from signing_keys import allowed, make_key, signer_line, signing_store, verify_commit

from gitflywheel.session.manifest import Manifest
from gitflywheel.storage.layout import session_dir
from gitflywheel.storage.store import Store
from gitflywheel.verification.context import Context
from gitflywheel.verification.provenance import check_provenance
from gitflywheel.version import __version__

BUILD_ID = "3f2b7c1e-8a4d-4e6f-9b21-5c7d8e9f0a1b"


def provenance(cli: Cli, store: Path, session_id: str = BUILD_ID) -> dict[str, object]:
    result = cli("show", "--repo", store, session_id, "provenance")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def show_bytes(store: Path, rev: str, path: str) -> bytes:
    return subprocess.run(
        ["git", "-C", store, "show", f"{rev}:{path}"], capture_output=True, check=True
    ).stdout


def test_what_the_statement_says_checks_with_plain_git(cli: Cli, tmp_path: Path) -> None:
    key = make_key(tmp_path / "keys", "alice")
    store = signing_store(tmp_path / "store.git", key)
    assert cli("ingest", "--repo", store, EXAMPLES).exit_code == 0
    line = signer_line(key)
    assert cli("config", "--repo", store, "--add", "trust.signers", line).exit_code == 0
    statement = provenance(cli, store)
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
    manifest = json.loads(show_bytes(store, "main", f"{session_dir(BUILD_ID)}/manifest.json"))
    subjects = statement["subject"]
    assert isinstance(subjects, list)
    assert sorted(s["name"] for s in subjects) == sorted(a["path"] for a in manifest["artifacts"])
    for subject in subjects:
        data = show_bytes(store, "main", subject["name"])
        assert subject["digest"]["sha256"] == hashlib.sha256(data).hexdigest()
        assert (
            subject["digest"]["gitBlob"]
            == git("-C", store, "rev-parse", f"main:{subject['name']}").strip()
        )
    predicate = statement["predicate"]
    assert isinstance(predicate, dict)
    build, run = predicate["buildDefinition"], predicate["runDetails"]
    deps = {d["name"]: d["digest"] for d in build["resolvedDependencies"]}
    record = f"{session_dir(BUILD_ID)}/session.json"
    assert deps[record]["sha256"] == hashlib.sha256(show_bytes(store, "main", record)).hexdigest()
    templates = [name for name in deps if name.startswith("templates/")]
    assert "templates/blog_post.md.j2" in templates
    for name in templates:
        assert deps[name]["gitBlob"] == git("-C", store, "rev-parse", f"main:{name}").strip()
    assert build["internalParameters"]["pipeline"] == manifest["pipeline"]
    assert build["internalParameters"]["filters"] == ["filters/1"]
    assert run["builder"]["version"] == {"gitflywheel": __version__}
    commit = run["metadata"]["invocationId"]
    assert (
        git(
            "-C", store, "log", "-1", "--format=%(trailers:key=Session-Id,valueonly)", commit
        ).strip()
        == BUILD_ID
    )
    (byproduct,) = run["byproducts"]
    assert byproduct["digest"] == {"gitCommit": commit}
    signer = byproduct["annotations"]["signer"]
    assert signer["name"] == "alice@example.org" and signer["status"] == "trusted"
    checked = verify_commit(store, allowed(tmp_path, key), commit)
    assert checked.returncode == 0 and signer["keyid"] in checked.stderr


def test_the_statement_follows_revisions_and_rerenders(
    cli: Cli, store: Path, tmp_path: Path
) -> None:
    assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    first = provenance(cli, store)
    recorded = git("-C", store, "rev-parse", "main").strip()
    assert first["predicate"]["runDetails"]["metadata"]["invocationId"] == recorded  # type: ignore[index]
    assert first["predicate"]["runDetails"]["byproducts"][0]["annotations"]["signer"] is None  # type: ignore[index]
    assert cli("config", "--repo", store, "site.title", "Later").exit_code == 0
    assert provenance(cli, store) == first  # a later commit that leaves the folder alone
    data = json.loads((EXAMPLES / "build_session.json").read_text())
    data["title"] = "A revised title"
    revised = tmp_path / "revised.json"
    revised.write_text(json.dumps(data))
    assert cli("ingest", "--repo", store, "--revise", revised).exit_code == 0
    second = provenance(cli, store)
    assert (
        second["predicate"]["runDetails"]["metadata"]["invocationId"]
        == git("-C", store, "rev-parse", "main").strip()
    )  # type: ignore[index]
    assert second["predicate"]["buildDefinition"]["externalParameters"]["revision"] == 2  # type: ignore[index]
    missing = cli("show", "--repo", store, "no-such-session", "provenance")
    assert missing.exit_code == 2 and "no such session" in missing.stderr


def test_the_site_publishes_it_beside_each_session(cli: Cli, store: Path, tmp_path: Path) -> None:
    assert cli("ingest", "--repo", store, EXAMPLES).exit_code == 0
    out = tmp_path / "site"
    assert cli("site", "--repo", store, out, "--no-feed").exit_code == 0
    published = sorted(out.glob("sessions/*/provenance.json"))
    assert published and len(published) == len(list(out.glob("sessions/*/index.html")))
    for path in published:
        statement = json.loads(path.read_text())
        session_id = statement["predicate"]["buildDefinition"]["externalParameters"]["session_id"]
        assert (
            path.read_bytes() == cli("show", "--repo", store, session_id, "provenance").stdout_bytes
        )
        for subject in statement["subject"]:  # the files beside it are the subjects
            beside = path.parent / subject["name"].rsplit("/", 1)[-1]
            if beside.exists():
                assert (
                    hashlib.sha256(beside.read_bytes()).hexdigest() == subject["digest"]["sha256"]
                )


def test_verify_finds_a_statement_that_names_what_the_commit_lacks(cli: Cli, store: Path) -> None:
    assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    with Store.open(store) as opened:
        tip = opened.commit(opened.tip() or b"")
        folder = session_dir(BUILD_ID)
        entry = opened.lookup(tip.tree, f"{folder}/manifest.json")
        assert entry is not None
        manifest = Manifest.from_bytes(opened.blob(entry[1]))
        ctx = Context(opened)
        held = opened.lookup(tip.tree, folder)
        assert held is not None
        files = ctx.folder_files(held[1], folder)
        assert check_provenance(ctx, tip, folder, manifest, files, [tip.tree]) == []
        template = manifest.artifacts[0].template.model_copy(update={"blob": "0" * 40})
        changed = manifest.model_copy(
            update={"artifacts": [manifest.artifacts[0].model_copy(update={"template": template})]}
        )
        found = check_provenance(ctx, tip, folder, changed, files, [tip.tree])
        assert [(f.rule, f.path) for f in found] == [("provenance.derive", template.path)]


def test_recording_commits_from_an_earlier_walk_are_those_of_a_walk_from_nothing(
    cli: Cli, store: Path, tmp_path: Path
) -> None:
    from gitflywheel.queries.provenance import recording_commits
    from gitflywheel.queries.sessions import iter_session_folders

    assert cli("ingest", "--repo", store, EXAMPLES).exit_code == 0

    def walked(
        earlier: tuple[bytes, dict[str, tuple[bytes, bytes | None]]] | None = None,
    ) -> tuple[bytes, dict[str, bytes], dict[str, bytes]]:
        with Store.open(store) as opened:
            tip = opened.tip()
            assert tip is not None
            folders = dict(iter_session_folders(opened))
            found = recording_commits(opened, tip, folders, earlier)
            return tip, folders, found

    tip, folders, first = walked()
    assert set(first) == set(folders)
    kept = {sid: (folders[sid], first.get(sid)) for sid in folders}
    data = json.loads((EXAMPLES / "build_session.json").read_text())
    data["title"] = "A revised title"
    revised = tmp_path / "revised.json"
    revised.write_text(json.dumps(data))
    assert cli("ingest", "--repo", store, "--revise", revised).exit_code == 0
    assert cli("config", "--repo", store, "site.title", "Later").exit_code == 0
    _, _, whole = walked()
    assert whole[BUILD_ID] != first[BUILD_ID]  # the revision recorded it again
    assert walked((tip, kept))[2] == whole
    wrong = {sid: (folder, first[BUILD_ID]) for sid, (folder, _) in kept.items()}
    assert walked((b"0" * 40, wrong))[2] == whole  # an earlier tip not in the history
