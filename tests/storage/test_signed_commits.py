"""Every commit gitflywheel makes is signed when the store's git configuration asks for
it: the store's first commit, sessions, revisions, re-renders, settings, a sync's merge
and a site's branch, each accepted by `git verify-commit`; the same input, key and
SOURCE_DATE_EPOCH give the same commits."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import EXAMPLES, Cli, fsck, git, session
from servers import TRANSPORTS
from signing_keys import (
    allowed,
    make_key,
    sign_with,
    signature_marks,
    signing_store,
    verify_commit,
)

from gitflywheel.rendering.templates import shipped_templates_dir


@pytest.fixture()
def key(tmp_path: Path) -> Path:
    return make_key(tmp_path / "keys", "alice")


def every_commit(repo: Path, *refs: str) -> list[str]:
    return git("-C", repo, "rev-list", *refs).split()


def test_every_kind_of_commit_is_signed(cli: Cli, tmp_path: Path, key: Path) -> None:
    store = signing_store(tmp_path / "store.git", key)
    assert cli("ingest", "--repo", store, EXAMPLES).exit_code == 0
    revised = tmp_path / "revised.json"
    data = json.loads((EXAMPLES / "build_session.json").read_text())
    data["title"] = "A revised title"
    revised.write_text(json.dumps(data))
    assert cli("ingest", "--repo", store, "--revise", revised).exit_code == 0
    mine = tmp_path / "templates"
    mine.mkdir()
    shipped = (shipped_templates_dir() / "readme.md.j2").read_text()
    (mine / "readme.md.j2").write_text(f"<!-- house style -->\n{shipped}")
    assert cli("rerender", "--repo", store, "--templates", mine, "--all").exit_code == 0
    assert cli("config", "--repo", store, "site.title", "Signed work").exit_code == 0
    built = cli("site", "--repo", store, "--branch", "pages", "--base-url", "https://x.org/")
    assert built.exit_code == 0, built.output
    subjects = git("-C", store, "log", "--format=%s", "main").splitlines()
    assert [s.split()[0] for s in subjects] == [
        "config:",
        "Re-render",
        "Revise",
        "Record",
        "Record",
        "Record",
        "Set",
    ]
    trust = allowed(tmp_path, key)
    assert signature_marks(store, trust, "main") == ["G"] * 7
    assert signature_marks(store, trust, "pages") == ["G"]
    for sha in every_commit(store, "main", "pages"):
        checked = verify_commit(store, trust, sha)
        assert checked.returncode == 0, checked.stderr
        assert 'Good "git" signature for alice@example.org' in checked.stderr
    fsck(store)
    assert cli("verify", "--repo", store, "--full").exit_code == 0


def test_a_store_without_the_setting_signs_nothing(cli: Cli, store: Path, tmp_path: Path) -> None:
    assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    assert signature_marks(store, allowed(tmp_path)) == ["N", "N"]


def test_same_input_key_and_time_give_the_same_main(cli: Cli, tmp_path: Path, key: Path) -> None:
    tips = []
    for name in ("one.git", "two.git"):
        store = signing_store(tmp_path / name, key)
        assert cli("ingest", "--repo", store, EXAMPLES).exit_code == 0
        assert cli("config", "--repo", store, "site.title", "Same").exit_code == 0
        tips.append(git("-C", store, "rev-parse", "main"))
    assert tips[0] == tips[1]
    other = signing_store(tmp_path / "other.git", make_key(tmp_path / "keys", "bob"))
    assert cli("ingest", "--repo", other, EXAMPLES).exit_code == 0
    assert cli("config", "--repo", other, "site.title", "Same").exit_code == 0
    assert git("-C", other, "rev-parse", "main") != tips[0]  # the key is part of the commit


def test_a_failing_signer_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    store = tmp_path / "store.git"
    git("init", "-q", "--bare", "-b", "main", store)
    sign_with(
        store,
        "key::ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIT3ZhzXw1xxBmxdSFrYD7mW6V+X3Bv2sF1wN3xo4YKd",
    )
    result = cli("ingest", "--repo", store, EXAMPLES / "build_session.json")
    assert result.exit_code == 2
    assert "user.signingkey" in result.stderr and "could not sign" in result.stderr
    assert git("-C", store, "for-each-ref").strip() == ""


@pytest.mark.parametrize("transport", ["git", "path"])
def test_a_sync_merge_is_signed(cli: Cli, tmp_path: Path, key: Path, transport: str) -> None:
    served = tmp_path / "served"
    served.mkdir()
    git("init", "-q", "--bare", "-b", "main", served / "hub.git")
    bob = make_key(tmp_path / "keys", "bob")
    a = signing_store(tmp_path / "a.git", key)
    b = signing_store(tmp_path / "b.git", bob)
    one, two = tmp_path / "one.json", tmp_path / "two.json"
    one.write_text(json.dumps(session("from-a")))
    two.write_text(json.dumps(session("from-b")))
    with TRANSPORTS[transport](served) as base:
        url = f"{base}/hub.git"
        assert cli("ingest", "--repo", a, EXAMPLES / "build_session.json").exit_code == 0
        assert cli("sync", "--repo", a, url).exit_code == 0
        assert cli("sync", "--repo", b, url).exit_code == 0
        assert cli("ingest", "--repo", a, one).exit_code == 0
        assert cli("ingest", "--repo", b, two).exit_code == 0
        assert cli("sync", "--repo", a, url).exit_code == 0
        merged = cli("sync", "--repo", b, url, "--json")
        assert merged.exit_code == 0, merged.output
        assert json.loads(merged.stdout)["action"] == "merged"
    trust = allowed(tmp_path, key, bob)
    assert signature_marks(b, trust) == ["G"] * 5
    checked = verify_commit(b, trust, "main")
    assert 'Good "git" signature for bob@example.org' in checked.stderr
    assert len(git("-C", b, "rev-parse", "main^@").split()) == 2
    # the provenance of a session the merge took names the commit that recorded it there
    shown = cli("show", "--repo", b, "from-a", "provenance")
    run = json.loads(shown.stdout)["predicate"]["runDetails"]
    recorded = git("-C", a, "log", "-1", "--format=%H", "--grep=from-a", "main").strip()
    assert run["metadata"]["invocationId"] == recorded
    signer = run["byproducts"][0]["annotations"]["signer"]
    assert signer["status"] == "untrusted" and signer["name"] is None  # b trusts no one
    assert signer["keyid"] in verify_commit(b, trust, recorded).stderr


def test_the_signing_configuration_is_read_only_when_a_commit_is_made(
    cli: Cli, store: Path
) -> None:
    assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    git("-C", store, "config", "commit.gpgsign", "true")
    git("-C", store, "config", "gpg.format", "x509")
    again = cli("ingest", "--repo", store, EXAMPLES / "build_session.json")
    assert again.exit_code == 0, again.output  # nothing new: no commit, nothing to sign
    assert cli("verify", "--repo", store).exit_code == 0
    before = git("-C", store, "rev-parse", "main")
    refused = cli("ingest", "--repo", store, EXAMPLES / "trade_session.json")
    assert refused.exit_code == 2
    assert "gpg.format: 'x509'" in refused.stderr and "Traceback" not in refused.output
    assert git("-C", store, "rev-parse", "main") == before


@pytest.mark.skipif(shutil.which("gpg") is None, reason="needs gpg")
def test_openpgp_signs_through_gpg(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    monkeypatch.setenv("GNUPGHOME", str(home))
    try:
        subprocess.run(
            [
                "gpg",
                "--batch",
                "--passphrase",
                "",
                "--quick-gen-key",
                "Alice <alice@example.org>",
                "ed25519",
                "sign",
                "never",
            ],
            check=True,
            capture_output=True,
        )
        store = tmp_path / "store.git"
        git("init", "-q", "--bare", "-b", "main", store)
        git("-C", store, "config", "commit.gpgsign", "true")
        git("-C", store, "config", "gpg.format", "openpgp")
        git("-C", store, "config", "user.signingkey", "alice@example.org")
        assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
        assert git("-C", store, "log", "--format=%G?", "main").split() == ["G", "G"]
        checked = subprocess.run(
            ["git", "-C", store, "verify-commit", "main"], capture_output=True, text=True
        )
        assert checked.returncode == 0 and "Alice <alice@example.org>" in checked.stderr
        git("-C", store, "config", "user.signingkey", "nobody@example.org")
        refused = cli("ingest", "--repo", store, EXAMPLES / "trade_session.json")
        assert refused.exit_code == 2 and "could not sign with nobody@example.org" in refused.stderr
    finally:
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], capture_output=True)
