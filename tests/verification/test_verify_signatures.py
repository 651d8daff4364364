"""trust.signers: from the commit that first names signers, every later commit is signed
by a key trusted before it; verify names the commit and the rule otherwise, and sync
refuses a remote's history that breaks the rule, with main unmoved."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import EXAMPLES, Cli, git, session, snapshot
from servers import TRANSPORTS
from signing_keys import make_key, sign_with, signer_line, signing_store


def findings(cli: Cli, store: Path) -> list[tuple[str, str, str]]:
    """(rule, commit, path) of every violation a full verify finds."""
    result = cli("verify", "--repo", store, "--full", "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == (1 if report["findings"] else 0)
    return [(f["rule"], f["commit"], f["path"]) for f in report["findings"]]


def tip(store: Path) -> str:
    return git("-C", store, "rev-parse", "main").strip()


def record(cli: Cli, store: Path, tmp_path: Path, session_id: str) -> str:
    source = tmp_path / f"{session_id}.json"
    source.write_text(json.dumps(session(session_id)))
    result = cli("ingest", "--repo", store, source)
    assert result.exit_code == 0, result.output
    return tip(store)


@pytest.fixture()
def keys(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "keys"
    return make_key(folder, "alice"), make_key(folder, "mallory")


@pytest.fixture()
def trusted(cli: Cli, tmp_path: Path, keys: tuple[Path, Path]) -> Path:
    """A store whose history is unsigned until alice signs it and names herself."""
    store = tmp_path / "store.git"
    assert cli("ingest", "--repo", store, EXAMPLES / "build_session.json").exit_code == 0
    sign_with(store, keys[0])
    added = cli("config", "--repo", store, "--add", "trust.signers", signer_line(keys[0]))
    assert added.exit_code == 0, added.output
    record(cli, store, tmp_path, "signed-1")
    assert findings(cli, store) == []
    return store


def test_a_commit_signed_by_another_key(
    cli: Cli, trusted: Path, tmp_path: Path, keys: tuple[Path, Path]
) -> None:
    sign_with(trusted, keys[1])
    bad = record(cli, trusted, tmp_path, "by-mallory")
    assert findings(cli, trusted) == [("signature.unknown-signer", bad, "")]
    result = cli("verify", "--repo", trusted, "--full")
    assert result.exit_code == 1
    assert f"{bad[:12]}" in result.output and "[signature.unknown-signer]" in result.output


def test_an_unsigned_commit(cli: Cli, trusted: Path, tmp_path: Path) -> None:
    git("-C", trusted, "config", "commit.gpgsign", "false")
    bad = record(cli, trusted, tmp_path, "unsigned")
    assert findings(cli, trusted) == [("signature.unsigned", bad, "")]


def test_trust_changed_by_an_untrusted_commit(
    cli: Cli, trusted: Path, keys: tuple[Path, Path]
) -> None:
    sign_with(trusted, keys[1])
    line = signer_line(keys[1])
    assert cli("config", "--repo", trusted, "--add", "trust.signers", line).exit_code == 0
    assert findings(cli, trusted) == [("trust.untrusted-change", tip(trusted), "gitflywheel.toml")]


def test_a_trusted_signer_brings_in_a_new_key(
    cli: Cli, trusted: Path, tmp_path: Path, keys: tuple[Path, Path]
) -> None:
    line = signer_line(keys[1], "bob@example.org")
    assert cli("config", "--repo", trusted, "--add", "trust.signers", line).exit_code == 0
    sign_with(trusted, keys[1])
    record(cli, trusted, tmp_path, "by-bob")
    assert findings(cli, trusted) == []
    # and a key removed is not trusted after the commit that removes it
    assert cli("config", "--repo", trusted, "--unset", "trust.signers", line).exit_code == 0
    late = record(cli, trusted, tmp_path, "by-bob-too-late")
    assert findings(cli, trusted) == [("signature.unknown-signer", late, "")]


def test_a_commit_changed_after_it_was_signed(cli: Cli, trusted: Path) -> None:
    raw = git("-C", trusted, "cat-file", "commit", "main")
    forged = raw.replace("Signed-1", "Forged-1").replace("signed-1", "forged-1")
    assert forged != raw and "gpgsig" in forged
    sha = git("-C", trusted, "hash-object", "-t", "commit", "-w", "--stdin", input=forged.encode())
    git("-C", trusted, "update-ref", "refs/heads/main", sha.strip())
    assert ("signature.bad", sha.strip(), "") in findings(cli, trusted)


@pytest.mark.parametrize(
    "value, reason",
    [
        ("alice", "not NAME KEYTYPE KEY"),
        ("alice ssh-ed25519 AAAA", "not a public key"),
        ("alice ecdsa-sha2-nistp256 AAAAE2VjZHNh", "not supported"),
    ],
)
def test_config_refuses_a_signer_that_is_not_one(
    cli: Cli, store: Path, value: str, reason: str
) -> None:
    assert cli("init", "--repo", store).exit_code == 0
    before = snapshot(store)
    result = cli("config", "--repo", store, "--add", "trust.signers", value)
    assert result.exit_code == 2
    assert "trust.signers" in result.stderr and reason in result.stderr
    assert snapshot(store) == before


def test_config_refuses_one_key_twice(cli: Cli, store: Path, keys: tuple[Path, Path]) -> None:
    assert cli("init", "--repo", store).exit_code == 0
    line = signer_line(keys[0])
    assert cli("config", "--repo", store, "--add", "trust.signers", line).exit_code == 0
    again = cli(
        "config", "--repo", store, "--add", "trust.signers", "other " + line.split(" ", 1)[1]
    )
    assert again.exit_code == 2 and "named twice" in again.stderr


@pytest.mark.parametrize("transport", ["git", "path"])
def test_sync_refuses_a_history_signed_by_an_unknown_key(
    cli: Cli, tmp_path: Path, keys: tuple[Path, Path], transport: str
) -> None:
    alice, mallory = keys
    served = tmp_path / "served"
    served.mkdir()
    git("init", "-q", "--bare", "-b", "main", served / "hub.git")
    mine = signing_store(tmp_path / "mine.git", alice)
    theirs = tmp_path / "theirs.git"
    assert cli("ingest", "--repo", mine, EXAMPLES / "build_session.json").exit_code == 0
    line = signer_line(alice)
    assert cli("config", "--repo", mine, "--add", "trust.signers", line).exit_code == 0
    with TRANSPORTS[transport](served) as base:
        url = f"{base}/hub.git"
        assert cli("sync", "--repo", mine, url).exit_code == 0
        assert cli("sync", "--repo", theirs, url).exit_code == 0
        sign_with(theirs, mallory)
        bad = record(cli, theirs, tmp_path, "by-mallory")
        assert cli("publish", "--repo", theirs, url).exit_code == 0
        before, held = tip(mine), snapshot(mine)
        refused = cli("sync", "--repo", mine, url)
        assert refused.exit_code == 1
        assert "signature.unknown-signer" in refused.stderr and bad[:12] in refused.stderr
        assert tip(mine) == before and snapshot(mine) == held
        # both moved: the merge would bring the commit, and is refused the same way
        record(cli, mine, tmp_path, "by-alice")
        before, held = tip(mine), snapshot(mine)
        refused = cli("sync", "--repo", mine, url)
        assert refused.exit_code == 1 and "signature.unknown-signer" in refused.stderr
        assert tip(mine) == before and snapshot(mine) == held


def test_a_merged_side_that_forked_before_the_trust_is_not_let_in_unsigned(
    cli: Cli, tmp_path: Path, keys: tuple[Path, Path]
) -> None:
    alice = keys[0]
    hub = tmp_path / "hub.git"
    git("init", "-q", "--bare", "-b", "main", hub)
    mine = tmp_path / "mine.git"
    theirs = tmp_path / "theirs.git"
    assert cli("ingest", "--repo", mine, EXAMPLES / "build_session.json").exit_code == 0
    assert cli("sync", "--repo", mine, hub).exit_code == 0
    assert cli("sync", "--repo", theirs, hub).exit_code == 0
    record(cli, theirs, tmp_path, "unsigned-there")  # forked before the trust, unsigned
    assert cli("sync", "--repo", theirs, hub).exit_code == 0
    sign_with(mine, alice)
    assert (
        cli("config", "--repo", mine, "--add", "trust.signers", signer_line(alice)).exit_code == 0
    )
    before = tip(mine)
    refused = cli("sync", "--repo", mine, hub)
    assert refused.exit_code == 1 and "signature.unsigned" in refused.stderr
    assert tip(mine) == before
