"""SSOT verification: walk `main`'s history and prove every rule, or name what breaks it.

It reads the store through storage, re-derives each folder with recording's plan, and
writes only its own index and ref (under its own lock, see storage.gitdir).

The package is split by concern: `rules` (what each rule means and the advice when it
breaks), `history` (the walk, commit by commit, against the index), `commitwork` (what
one commit's own change shows), `pool` (commits prepared in several processes),
`folder` (one session folder against the plan of its
record), `signatures` (who may sign, from `trust.signers`), `provenance` (each
session's statement derived again), `entries` (tree entries), `index` (what a run remembers for the next),
`report` (Markdown for people), `result` (what a run returns).
"""

from __future__ import annotations

from .history import VERIFIED_REF, verify
from .result import Finding, VerifyResult
from .rules import RULES

__all__ = ["VERIFIED_REF", "RULES", "Finding", "VerifyResult", "verify"]
