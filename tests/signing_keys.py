"""SSH keys for signing tests, made by the real ssh-keygen, and a store's git config that
signs with them (`commit.gpgsign`, `gpg.format=ssh`, `user.signingkey`), as a user sets
it. `allowed` writes git's allowed-signers file for `git verify-commit`."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from conftest import git


def make_key(folder: Path, name: str, kind: str = "ed25519") -> Path:
    """A new unencrypted key pair `folder/name` (and `name.pub`); the private key's path."""
    folder.mkdir(parents=True, exist_ok=True)
    key = folder / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", f"{name}@example.org", "-f", key],
        check=True,
        capture_output=True,
    )
    return key


def public(key: Path) -> str:
    """`ssh-ed25519 AAAA...` of a key, without its comment."""
    return " ".join(Path(f"{key}.pub").read_text().split()[:2])


def signer_line(key: Path, name: str | None = None) -> str:
    """A `trust.signers` value (allowed-signers format) for a key."""
    return f"{name or key.name + '@example.org'} {public(key)}"


def sign_with(repo: Path, signing_key: Path | str) -> None:
    """Make a repository's git config sign every commit with this key (a path, or a
    literal `key::...`)."""
    git("-C", repo, "config", "commit.gpgsign", "true")
    git("-C", repo, "config", "gpg.format", "ssh")
    git("-C", repo, "config", "user.signingkey", str(signing_key))


def signing_store(path: Path, key: Path) -> Path:
    """An empty bare repository set to sign with `key`: gitflywheel makes it a store, its
    first commit signed too."""
    git("init", "-q", "--bare", "-b", "main", path)
    sign_with(path, key)
    return path


def allowed(folder: Path, *keys: Path) -> Path:
    """An allowed-signers file trusting these keys, for git's `gpg.ssh.allowedSignersFile`."""
    path = folder / "allowed_signers"
    path.write_text("".join(signer_line(key) + "\n" for key in keys))
    return path


def signature_marks(repo: Path, allowed_file: Path, rev: str = "main") -> list[str]:
    """git's verdict on every commit reachable from `rev` (`%G?`: G good, N none, ...),
    with an allowed-signers file."""
    out = git(
        "-C",
        repo,
        "-c",
        f"gpg.ssh.allowedSignersFile={allowed_file}",
        "log",
        "--format=%G?",
        rev,
    )
    return out.split()


def verify_commit(repo: Path, allowed_file: Path, rev: str) -> subprocess.CompletedProcess[str]:
    """`git verify-commit` of one commit, as a reader runs it."""
    return subprocess.run(
        [
            "git",
            "-C",
            repo,
            "-c",
            f"gpg.ssh.allowedSignersFile={allowed_file}",
            "verify-commit",
            rev,
        ],
        capture_output=True,
        text=True,
    )


@contextmanager
def ssh_agent(*keys: Path) -> Iterator[None]:
    """A real ssh-agent holding these keys, in SSH_AUTH_SOCK for the block; stopped after."""
    out = subprocess.run(["ssh-agent", "-s"], capture_output=True, text=True, check=True).stdout
    found = dict(
        part.split("=", 1)
        for line in out.splitlines()
        for part in line.split(";")[:1]
        if "=" in part
    )
    sock, pid = found["SSH_AUTH_SOCK"], int(found["SSH_AGENT_PID"])
    before = os.environ.get("SSH_AUTH_SOCK")
    os.environ["SSH_AUTH_SOCK"] = sock
    try:
        for key in keys:
            subprocess.run(["ssh-add", "-q", key], check=True, capture_output=True)
        yield
    finally:
        if before is None:
            os.environ.pop("SSH_AUTH_SOCK", None)
        else:
            os.environ["SSH_AUTH_SOCK"] = before
        os.kill(pid, signal.SIGTERM)
