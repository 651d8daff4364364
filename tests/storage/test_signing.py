"""Signing commits as git does: the in-process Ed25519 signature is ssh-keygen's, byte
for byte; a key an agent holds goes through ssh-keygen; the configuration is read as git
reads it; signatures are checked without a subprocess, as `git verify-commit` judges them."""

from __future__ import annotations

import base64
import struct
import subprocess
from pathlib import Path

import pytest
from conftest import git
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from signing_keys import make_key, public, sign_with, signer_line, ssh_agent

from gitflywheel.errors import EXIT_BAD_INPUT
from gitflywheel.storage.signing import (
    Ed25519Signer,
    SigningError,
    SshKeygenSigner,
    check_signature,
    parse_trusted_signer,
    signer_from_config,
    split_signature,
)
from gitflywheel.storage.store import Store


def keygen_sign(key: Path | str, message: bytes, tmp: Path, *extra: str) -> bytes:
    """What `ssh-keygen -Y sign -n git` writes for a message (as git runs it)."""
    target = tmp / "message"
    target.write_bytes(message)
    Path(f"{target}.sig").unlink(missing_ok=True)
    subprocess.run(
        ["ssh-keygen", "-Y", "sign", "-n", "git", "-f", str(key), *extra, str(target)],
        check=True,
        capture_output=True,
    )
    return Path(f"{target}.sig").read_bytes()


def configured(tmp_path: Path, key: Path | str, name: str = "repo.git") -> Store:
    repo = tmp_path / name
    git("init", "-q", "--bare", "-b", "main", repo)
    sign_with(repo, key)
    return Store.open(repo)


def signer_of(store: Store) -> object:
    found = store.signer()
    assert found is not None
    return found


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_key(tmp_path_factory.mktemp("keys"), "alice")


def test_in_process_signature_is_ssh_keygens_byte_for_byte(key: Path, tmp_path: Path) -> None:
    store = configured(tmp_path, key)
    signer = signer_of(store)
    assert isinstance(signer, Ed25519Signer)
    for message in (b"", b"tree 1\n\nhello\n", bytes(range(256)) * 40):
        assert signer.sign(message) == keygen_sign(key, message, tmp_path)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(message=st.binary(max_size=3000))
def test_any_message_signs_as_ssh_keygen_signs_it(
    key: Path, tmp_path: Path, message: bytes
) -> None:
    signer = signer_from_config(_config(key), b"x <x@y>")
    assert isinstance(signer, Ed25519Signer)
    assert signer.sign(message) == keygen_sign(key, message, tmp_path)


def _config(key: Path) -> object:
    from dulwich.config import ConfigDict

    config = ConfigDict()
    config.set((b"commit",), b"gpgsign", b"true")
    config.set((b"gpg",), b"format", b"ssh")
    config.set((b"user",), b"signingkey", str(key).encode())
    return config


def test_the_sshsig_format(key: Path, tmp_path: Path) -> None:
    signed = signer_of(configured(tmp_path, key)).sign(b"payload")  # type: ignore[attr-defined]
    lines = signed.decode().splitlines()
    assert lines[0] == "-----BEGIN SSH SIGNATURE-----"
    assert lines[-1] == "-----END SSH SIGNATURE-----"
    assert all(len(line) == 70 for line in lines[1:-2]) and 0 < len(lines[-2]) <= 70
    blob = base64.b64decode("".join(lines[1:-1]))

    def strings(data: bytes) -> list[bytes]:
        out = []
        while data:
            (size,) = struct.unpack(">I", data[:4])
            out.append(data[4 : 4 + size])
            data = data[4 + size :]
        return out

    assert blob[:6] == b"SSHSIG" and struct.unpack(">I", blob[6:10]) == (1,)
    pub, namespace, reserved, algorithm, signature = strings(blob[10:])
    assert namespace == b"git" and reserved == b"" and algorithm == b"sha512"
    assert strings(pub)[0] == b"ssh-ed25519"
    assert base64.b64encode(pub).decode() == public(key).split()[1]
    kind, raw = strings(signature)
    assert kind == b"ssh-ed25519" and len(raw) == 64


def test_a_key_an_agent_holds_signs_through_ssh_keygen(key: Path, tmp_path: Path) -> None:
    in_process = signer_of(configured(tmp_path, key, "file.git"))
    assert isinstance(in_process, Ed25519Signer)
    pub_only = tmp_path / "only" / "alice.pub"
    pub_only.parent.mkdir()
    pub_only.write_text(Path(f"{key}.pub").read_text())
    message = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\ncommit bytes\n"
    with ssh_agent(key):
        for number, setting in enumerate((f"key::{public(key)}", str(pub_only))):
            signer = signer_of(configured(tmp_path, setting, f"agent{number}.git"))
            assert isinstance(signer, SshKeygenSigner)
            # Ed25519 is deterministic: the agent's signature is the in-process one
            assert signer.sign(message) == in_process.sign(message)
    with pytest.raises(SigningError, match="could not sign"):  # no agent holds it now
        signer.sign(message)


def test_other_key_types_go_through_ssh_keygen(tmp_path: Path) -> None:
    import sshsig

    rsa = make_key(tmp_path, "bob", "rsa")
    signer = signer_of(configured(tmp_path, rsa))
    assert isinstance(signer, SshKeygenSigner)
    signed = signer.sign(b"payload\n")
    assert sshsig.check_signature(b"payload\n", signed).openssh_str() == public(rsa)


def test_configuration_as_git_reads_it(key: Path, tmp_path: Path) -> None:
    repo = tmp_path / "plain.git"
    git("init", "-q", "--bare", "-b", "main", repo)
    assert Store.open(repo).signer() is None  # commit.gpgsign unset: nothing signs
    git("-C", repo, "config", "commit.gpgsign", "true")
    git("-C", repo, "config", "gpg.format", "ssh")
    with pytest.raises(SigningError, match="user.signingkey: not set") as raised:
        Store.open(repo).signer()
    assert raised.value.exit_code == EXIT_BAD_INPUT
    git("-C", repo, "config", "user.signingkey", str(tmp_path / "nowhere"))
    with pytest.raises(SigningError, match="user.signingkey: .*nowhere"):
        Store.open(repo).signer()
    git("-C", repo, "config", "gpg.format", "x509")
    with pytest.raises(SigningError, match="gpg.format: 'x509'"):
        Store.open(repo).signer()
    # the user's own configuration counts, as it does for git
    git("config", "--global", "commit.gpgsign", "true")
    git("config", "--global", "gpg.format", "ssh")
    git("config", "--global", "user.signingkey", str(key))
    other = tmp_path / "other.git"
    git("init", "-q", "--bare", "-b", "main", other)
    assert isinstance(Store.open(other).signer(), Ed25519Signer)


def test_a_signer_may_name_the_git_namespace(key: Path) -> None:
    name, kind, data = signer_line(key).split()
    signer = parse_trusted_signer(f'{name} namespaces="git,file" {kind} {data} a comment')
    assert (signer.principals, signer.key) == (name, public(key))


def test_signatures_are_checked_as_git_checks_them(key: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    git("init", "-q", "-b", "main", work)
    sign_with(work, key)
    git(
        "-C",
        work,
        "-c",
        "user.name=A",
        "-c",
        "user.email=a@b",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "one",
    )
    raw = git("-C", work, "cat-file", "commit", "HEAD").encode()
    payload, signature = split_signature(raw)
    assert signature is not None and b"gpgsig" not in payload
    assert signature == keygen_sign(key, payload, tmp_path)
    trusted = [parse_trusted_signer(signer_line(key, "alice@example.org"))]
    good = check_signature(raw, trusted)
    assert (good.status, good.principal) == ("good", "alice@example.org")
    assert good.fingerprint and good.fingerprint.startswith("SHA256:")
    assert check_signature(raw, []).status == "unknown"
    assert check_signature(raw.replace(b"one", b"two"), trusted).status == "bad"
    assert check_signature(payload, trusted).status == "unsigned"


@pytest.mark.parametrize(
    "line, reason",
    [
        ("alice", "not NAME KEYTYPE KEY"),
        ("alice ssh-ed25519 notbase64!", "not a public key"),
        ("alice cert-authority ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA", "options"),
        ("alice ecdsa-sha2-nistp256 AAAAE2VjZHNh", "not supported"),
        ('alice namespaces="file" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA', "leaves out git"),
        ('alice valid-after="20250101" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA', "options"),
    ],
)
def test_trusted_signers_refused_with_the_reason(line: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_trusted_signer(line)
