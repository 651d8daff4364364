"""Who may write the store: from the commit that first names `trust.signers`, every later
commit is signed by a key the settings before it trust.

A commit is judged against the signers its first parent's tree names (a commit a sync
merge brings, against its own parent's, and the merge's first parent's when its own
names none: a side that forked before the trust was set is not let in unsigned). A
commit that changes `trust.signers` is judged by the signers before the change, so a
new key is trusted only once a trusted key has signed it in, and the commit that first
names signers is the one that may be unsigned. Signatures are read in process
(`storage.signing`), so `git verify-commit` and this agree.
"""

from __future__ import annotations

from ..session.settings import StoreSettings
from ..storage.layout import SETTINGS_FILE
from ..storage.objects import CommitInfo
from ..storage.signing import TrustedSigner, check_signature
from .context import Context
from .result import Finding
from .rules import RULES
from .settings import settings_in

__all__ = ["SignatureChecks"]

Signers = tuple[TrustedSigner, ...]


def _finding(rule: str, commit: CommitInfo, path: str, message: str) -> Finding:
    assert rule in RULES, rule
    return Finding(rule, commit.id.decode(), path, message)


class SignatureChecks:
    """The signature rules of one verify process; the signers a settings file names are
    read once per file."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._cache: dict[bytes | None, Signers | None] = {}

    def signers(self, tree: bytes | None) -> Signers | None:
        """The signers a root tree trusts (None: its settings cannot be read, which
        `settings.invalid` reports where they were written)."""
        entry = self.ctx.lookup(tree, SETTINGS_FILE) if tree is not None else None
        blob = entry[1] if entry is not None else None
        if blob not in self._cache:
            settings = settings_in(self.ctx, entry)
            self._cache[blob] = _signers(settings) if settings is not None else None
        return self._cache[blob]

    def check(
        self,
        commit: CommitInfo,
        parent: CommitInfo | None,
        floor: Signers = (),
    ) -> list[Finding]:
        """The findings of `commit`'s signature against the signers its parent's tree
        names, or `floor` when that names none."""
        before = self.signers(parent.tree) if parent is not None else ()
        trusted = before or floor
        if not trusted:
            return []
        result = check_signature(commit.raw, trusted)
        if result.status == "good":
            return []
        after = self.signers(commit.tree)
        why = {
            "unsigned": "it is not signed",
            "unknown": result.reason,
            "bad": result.reason,
        }[result.status]
        if before and after is not None and after != before:
            return [
                _finding(
                    "trust.untrusted-change",
                    commit,
                    SETTINGS_FILE,
                    f"changes trust.signers, but {why}; only a key trusted before the change "
                    "may sign it",
                )
            ]
        named = len(trusted)
        if result.status == "unsigned":
            return [
                _finding(
                    "signature.unsigned",
                    commit,
                    "",
                    f"the commit is not signed, and trust.signers names {named} key(s) before it",
                )
            ]
        if result.status == "unknown":
            return [
                _finding(
                    "signature.unknown-signer",
                    commit,
                    "",
                    f"signed by key {result.fingerprint or '(unknown)'}, which trust.signers "
                    f"does not name (it names {named} key(s) before this commit)",
                )
            ]
        return [_finding("signature.bad", commit, "", result.reason)]


def _signers(settings: StoreSettings) -> Signers:
    try:
        return settings.trusted_signers()
    except ValueError:  # the settings validated, so each line parses; kept safe
        return ()
