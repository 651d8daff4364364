"""Signed commits, by git's own rules: which key signs, the signature, and checking one.

A store's git configuration asks for signatures as git reads it (`commit.gpgsign`,
`gpg.format`, `user.signingkey`, `gpg.ssh.program`, `gpg.program`); `Writer.commit`
signs every commit with the `Signer` it names, so every kind of commit is signed by
this one rule. An SSH signature is the SSHSIG armour `ssh-keygen -Y sign -n git` writes,
in the commit's `gpgsig` header, so `git verify-commit` accepts it. An Ed25519 key in a
file is used in process (microseconds a commit, byte for byte what ssh-keygen makes:
Ed25519 is deterministic); a key held by an agent (`key::ssh-ed25519 ...`, a `.pub`
file), or of another type, goes through ssh-keygen as git runs it, and OpenPGP through
gpg. Checking a signature (`check_signature`) reads SSHSIG without a subprocess
(`sshsig`) against keys given in the allowed-signers format.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import struct
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from dulwich.config import Config

from ..errors import StoreError

if TYPE_CHECKING:  # cryptography loads when a key is read: commands that sign nothing skip it
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = [
    "Signer",
    "SigningError",
    "Ed25519Signer",
    "SshKeygenSigner",
    "GpgSigner",
    "signer_from_config",
    "TrustedSigner",
    "parse_trusted_signer",
    "SignatureCheck",
    "split_signature",
    "check_signature",
    "ssh_armor",
]

NAMESPACE = b"git"
_MAGIC = b"SSHSIG"
_HASH = b"sha512"
_BEGIN, _END = b"-----BEGIN SSH SIGNATURE-----", b"-----END SSH SIGNATURE-----"
_PGP_BEGIN = b"-----BEGIN PGP SIGNATURE-----"


class SigningError(StoreError):
    """The git configuration asks for signatures that cannot be made (exit 2)."""


class Signer(Protocol):
    """Makes a commit's signature: the armoured text of its `gpgsig` header."""

    def sign(self, payload: bytes) -> bytes: ...


def _string(data: bytes) -> bytes:
    """An SSH wire-format string: its length as four bytes, then the bytes."""
    return struct.pack(">I", len(data)) + data


def ssh_armor(blob: bytes) -> bytes:
    """SSHSIG bytes armoured as ssh-keygen writes them: base64 in lines of 70 columns."""
    text = base64.b64encode(blob)
    lines = [text[at : at + 70] for at in range(0, len(text), 70)]
    return b"\n".join([_BEGIN, *lines, _END]) + b"\n"


class Ed25519Signer:
    """An Ed25519 key read from its file, signing in process."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        from cryptography.hazmat.primitives import serialization

        self._key = key
        raw = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self._public = _string(b"ssh-ed25519") + _string(raw)
        self._head = _MAGIC + struct.pack(">I", 1) + _string(self._public)
        self._tail = _string(NAMESPACE) + _string(b"") + _string(_HASH)

    def sign(self, payload: bytes) -> bytes:
        """The SSHSIG of `payload` in namespace `git`, hashed with SHA-512."""
        digest = hashlib.sha512(payload).digest()
        signature = self._key.sign(_MAGIC + self._tail + _string(digest))
        inner = _string(b"ssh-ed25519") + _string(signature)
        return ssh_armor(self._head + self._tail + _string(inner))


class SshKeygenSigner:
    """`ssh-keygen -Y sign -n git` as git runs it: a key file, or a public key whose
    private half an agent holds (`-U` for a literal key, as git passes it)."""

    def __init__(self, program: str, key_file: Path | None, literal: str | None) -> None:
        self._program = program
        self._key_file = key_file
        self._literal = literal

    def sign(self, payload: bytes) -> bytes:
        with tempfile.TemporaryDirectory(prefix="gitflywheel-sign-") as work:
            args = [self._program, "-Y", "sign", "-n", NAMESPACE.decode()]
            if self._literal is not None:
                key = Path(work) / "key.pub"
                key.write_text(self._literal + "\n", encoding="utf-8")
                args += ["-f", str(key), "-U"]
            else:
                args += ["-f", str(self._key_file)]
            message = Path(work) / "commit"
            message.write_bytes(payload)
            done = _run([*args, str(message)], b"", "gpg.ssh.program")
            if done.returncode != 0:
                raise SigningError(
                    f"user.signingkey: {self._program} could not sign: {_said(done.stderr)}"
                )
            try:
                return Path(f"{message}.sig").read_bytes()
            except OSError as exc:
                raise SigningError(
                    f"user.signingkey: {self._program} wrote no signature: {exc}"
                ) from None


class GpgSigner:
    """OpenPGP (`gpg.format=openpgp`, git's default) through the gpg program, as git
    runs it: `gpg --status-fd=2 -bsau KEY`."""

    def __init__(self, program: str, key: str) -> None:
        self._program = program
        self._key = key

    def sign(self, payload: bytes) -> bytes:
        done = _run([self._program, "--status-fd=2", "-bsau", self._key], payload, "gpg.program")
        if done.returncode != 0 or b"\n[GNUPG:] SIG_CREATED " not in b"\n" + done.stderr:
            raise SigningError(
                f"user.signingkey: {self._program} could not sign with {self._key}: "
                f"{_said(done.stderr)}"
            )
        return done.stdout


def _run(args: list[str], stdin: bytes, setting: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(args, input=stdin, capture_output=True, check=False)
    except OSError as exc:
        raise SigningError(f"{setting}: cannot run {args[0]}: {exc.strerror or exc}") from None


def _said(stderr: bytes) -> str:
    lines = [
        line
        for line in stderr.decode("utf-8", "replace").splitlines()
        if line.strip() and not line.startswith("[GNUPG:]")
    ]
    return "; ".join(lines[-3:]) or "no reason given"


def _text(config: Config, section: bytes, name: bytes) -> str | None:
    try:
        return os.fsdecode(config.get((section,), name))
    except KeyError:
        return None


def _literal_key(value: str) -> str | None:
    """The public key a `user.signingkey` spells out (`key::ssh-ed25519 AAAA...`, or the
    older bare `ssh-ed25519 AAAA...`), as git tells a literal key from a file."""
    if value.startswith("key::"):
        return value[len("key::") :]
    if value.startswith("ssh-"):
        return value
    return None


def signer_from_config(config: Config, committer: bytes) -> Signer | None:
    """The signer the git configuration names, or None when `commit.gpgsign` is not true.
    SigningError, naming the setting, when it asks for what cannot be done."""
    try:
        wanted = config.get_boolean((b"commit",), b"gpgsign", False)
    except ValueError:
        raise SigningError("commit.gpgsign: not a boolean (true or false)") from None
    if not wanted:
        return None
    form = (_text(config, b"gpg", b"format") or "openpgp").lower()
    key = _text(config, b"user", b"signingkey")
    if form == "openpgp":
        program = _openpgp_program(config) or _text(config, b"gpg", b"program") or "gpg"
        ident = committer.decode("utf-8", "replace")
        return GpgSigner(program, key or ident)
    if form != "ssh":
        raise SigningError(
            f"gpg.format: {form!r} is not a format gitflywheel signs with (ssh or openpgp)"
        )
    program = _ssh_program(config) or "ssh-keygen"
    if not key:
        raise SigningError(
            "user.signingkey: not set, and commit.gpgsign=true with gpg.format=ssh needs "
            "it (a key file, a .pub file whose key an agent holds, or key::ssh-ed25519 ...)"
        )
    literal = _literal_key(key)
    if literal is not None:
        return SshKeygenSigner(program, None, literal)
    path = Path(os.path.expanduser(key))
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SigningError(f"user.signingkey: {path}: {exc.strerror or exc}") from None
    if b"PRIVATE KEY" in data:
        from cryptography.exceptions import UnsupportedAlgorithm
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        try:
            private = serialization.load_ssh_private_key(data, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            private = None  # encrypted, or a form only ssh-keygen reads: it asks as git's would
        if isinstance(private, Ed25519PrivateKey):
            return Ed25519Signer(private)
    return SshKeygenSigner(program, path, None)


def _ssh_program(config: Config) -> str | None:
    try:
        return os.fsdecode(config.get((b"gpg", b"ssh"), b"program"))
    except KeyError:
        return None


def _openpgp_program(config: Config) -> str | None:
    try:
        return os.fsdecode(config.get((b"gpg", b"openpgp"), b"program"))
    except KeyError:
        return None


# -- checking ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TrustedSigner:
    """One line of the allowed-signers format: who (principals), and the public key."""

    principals: str
    key: str  # `ssh-ed25519 AAAA...`, as OpenSSH writes a public key
    fingerprint: str  # `SHA256:...`, as `ssh-keygen -l` shows it


_PRINCIPALS = re.compile(r"[^\s\"]+")


def parse_trusted_signer(line: str) -> TrustedSigner:
    """`NAME [namespaces="git"] KEYTYPE BASE64 [COMMENT]`, one line of an allowed-signers
    file; ValueError with the reason otherwise (other options, such as `cert-authority`
    or `valid-after`, are not taken)."""
    import sshsig
    from sshsig.allowed_signers import AllowedSigner

    try:
        parsed = AllowedSigner.parse(line.strip())
    except (ValueError, IndexError) as exc:
        raise ValueError(f"not NAME KEYTYPE KEY (the allowed-signers format): {exc}") from None
    except NotImplementedError as exc:
        raise ValueError(f"a key type not supported: {exc}") from None
    options = dict(parsed.options or {})
    namespaces = options.pop("namespaces", None)
    if options:
        raise ValueError(
            "options (" + ", ".join(sorted(options)) + ") are not taken: write NAME KEYTYPE "
            'KEY, with at most namespaces="git"'
        )
    if namespaces is not None and "git" not in namespaces.split(","):
        raise ValueError(f'namespaces="{namespaces}" leaves out git, so the key signs no commit')
    if not _PRINCIPALS.fullmatch(parsed.principals):
        raise ValueError("the NAME is one word (an email, say) without quotes")
    try:
        key = sshsig.PublicKey.from_openssh_str(f"{parsed.key_type} {parsed.base64_key}")
    except NotImplementedError:
        raise ValueError(
            f"{parsed.key_type}: a key type not supported (ssh-ed25519 or ssh-rsa)"
        ) from None
    except (ValueError, IndexError, struct.error) as exc:
        why = str(exc) or "the base64 does not decode to a key of its type"
        raise ValueError(f"not a public key: {why}") from None
    return TrustedSigner(parsed.principals, key.openssh_str(), key.sha256_str())


@dataclass(frozen=True)
class SignatureCheck:
    """What a commit's signature says against a set of trusted keys: `status` is
    `unsigned`, `bad` (it does not verify, or is no SSH signature of namespace git),
    `unknown` (good, by a key not trusted) or `good`; the key's fingerprint and, when
    trusted, the principal."""

    status: str
    fingerprint: str | None = None
    principal: str | None = None
    reason: str = ""


def split_signature(raw: bytes) -> tuple[bytes, bytes | None]:
    """A commit's bytes without its `gpgsig` header (what was signed), and the signature
    that header holds (None: unsigned), as git takes them apart."""
    end = raw.find(b"\n\n")
    head, rest = (raw, b"") if end < 0 else (raw[: end + 1], raw[end + 1 :])
    kept: list[bytes] = []
    signature: list[bytes] | None = None
    inside = False
    for line in head.splitlines(keepends=True):
        if inside and line.startswith(b" "):
            assert signature is not None
            signature.append(line[1:])
            continue
        inside = False
        if line.startswith(b"gpgsig ") and signature is None:
            signature = [line[len(b"gpgsig ") :]]
            inside = True
            continue
        kept.append(line)
    if signature is None:
        return raw, None
    text = b"".join(signature)
    return b"".join(kept) + rest, text if text.endswith(b"\n") else text + b"\n"


def check_signature(raw: bytes, trusted: Sequence[TrustedSigner]) -> SignatureCheck:
    """Check a commit's signature (its bytes as stored) against `trusted`."""
    import sshsig

    payload, signature = split_signature(raw)
    if signature is None:
        return SignatureCheck("unsigned")
    if signature.startswith(_PGP_BEGIN):
        return SignatureCheck(
            "unknown", reason="an OpenPGP signature, which trust.signers cannot name"
        )
    try:
        key = sshsig.check_signature(payload, signature, NAMESPACE.decode())
    except sshsig.InvalidSignature as exc:
        return SignatureCheck("bad", reason=f"the signature does not verify: {exc}")
    except (NotImplementedError, ValueError, IndexError, struct.error) as exc:
        return SignatureCheck("bad", reason=f"not an SSH signature it can read: {exc}")
    spelled, fingerprint = key.openssh_str(), key.sha256_str()
    for signer in trusted:
        if signer.key == spelled:
            return SignatureCheck("good", fingerprint, signer.principals)
    return SignatureCheck("unknown", fingerprint, reason=f"key {fingerprint} is not trusted")
