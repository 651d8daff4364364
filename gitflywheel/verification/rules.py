"""The rules verify proves: one table of what each means, where the report lists it, and
what to do when it breaks."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Rule", "RULES", "SECTIONS"]

SECTIONS = ("Work sessions", "Artifacts", "Duplicates")


@dataclass(frozen=True)
class Rule:
    """A rule: what holds when it holds, the report's section, and the advice on a break."""

    meaning: str
    section: str
    advice: str


_SESSIONS, _ARTIFACTS, _DUPLICATES = SECTIONS

RULES: dict[str, Rule] = {
    "session.path": Rule(
        "each session id is recorded at exactly one path, matching the id inside the record",
        _SESSIONS,
        "Move the folder back to the path `gitflywheel` decides, or re-ingest the session.",
    ),
    "session.record": Rule(
        "a session record is valid against the session schema and stored in canonical form",
        _SESSIONS,
        "Re-ingest the session from its source file with `gitflywheel ingest --revise`.",
    ),
    "session.unnamed-change": Rule(
        "no commit changes a session that its message does not name",
        _SESSIONS,
        "Find who changed the store outside gitflywheel (`git log -p` on the path) and revert it.",
    ),
    "session.removed": Rule(
        "no commit removes a session",
        _SESSIONS,
        "Restore the session folder from history; sessions are never removed.",
    ),
    "session.address": Rule(
        "a session's post keeps the address it was first recorded with",
        _SESSIONS,
        "Record revisions with `gitflywheel ingest --revise`, which keeps the slug; a "
        "link already shared points there.",
    ),
    "session.revision": Rule(
        "every revision is recorded as one, in order",
        _SESSIONS,
        "Record revisions with `gitflywheel ingest --revise`, never by hand.",
    ),
    "manifest.invalid": Rule(
        "every session folder has a manifest that matches the manifest schema and, for the "
        "pipelines this gitflywheel runs, what its record plans",
        _SESSIONS,
        "Re-ingest the session; a manifest is written by gitflywheel only.",
    ),
    "rerender.record-changed": Rule(
        "a commit made by rerender keeps the record and revision of the session it names",
        _SESSIONS,
        "A re-render never edits a record: record the change with `gitflywheel ingest --revise` "
        "and drop the commit that claims to be a re-render.",
    ),
    "rerender.wrong-session": Rule(
        "a commit made by rerender changes only the session it names",
        _SESSIONS,
        "Drop the commit; `gitflywheel rerender` makes one commit per session.",
    ),
    "commit.trailers": Rule(
        "a commit's trailers agree with the change it makes",
        _SESSIONS,
        "Commits must be made by gitflywheel; fix or drop the commit whose trailers lie.",
    ),
    "commit.no-session": Rule(
        "every commit but the first, settings commits and sync merges records exactly one session",
        _SESSIONS,
        "Only gitflywheel should commit to main; move other work elsewhere.",
    ),
    "history.unexpected-path": Rule(
        "nothing outside sessions/ and templates/ changes after the first commit (but "
        "gitflywheel.toml, which settings commits change)",
        _SESSIONS,
        "Keep the store to sessions/ and templates/; put other files elsewhere.",
    ),
    "settings.invalid": Rule(
        "gitflywheel.toml, where a commit adds or changes it, is TOML in the form gitflywheel "
        "writes, naming known settings only, each with a valid value",
        _SESSIONS,
        "Change settings with `gitflywheel config` only: drop the commit that wrote the file "
        "by hand, or set the key again with `gitflywheel config` on top of it.",
    ),
    "settings.change": Rule(
        "only a settings commit (`gitflywheel config`) changes gitflywheel.toml, it changes "
        "nothing else, and a sync merge takes each setting from one of its sides",
        _SESSIONS,
        "Record sessions and settings in commits of their own: drop the commit that mixes "
        "them, and make each change with `gitflywheel ingest` or `gitflywheel config`.",
    ),
    "signature.unsigned": Rule(
        "from the commit that first names trust.signers, every later commit is signed",
        _SESSIONS,
        "Sign every commit: set commit.gpgsign, gpg.format=ssh and user.signingkey in the "
        "store's git config, drop the unsigned commit and make it again.",
    ),
    "signature.unknown-signer": Rule(
        "a signed commit is signed by a key that trust.signers names before it",
        _SESSIONS,
        "Sign with a trusted key, or have a trusted signer add the key with "
        "`gitflywheel config --add trust.signers 'NAME KEYTYPE KEY'` first.",
    ),
    "signature.bad": Rule(
        "a commit's signature verifies: an SSH signature of namespace git over the commit",
        _SESSIONS,
        "The commit was changed after it was signed, or the signature is not one git makes: "
        "drop the commit and make it again.",
    ),
    "trust.untrusted-change": Rule(
        "a commit that changes trust.signers is signed by a key trusted before the change",
        _SESSIONS,
        "Drop the commit; a trusted signer changes trust.signers with `gitflywheel config`.",
    ),
    "history.rewritten": Rule(
        "the history verified last time is still part of main",
        _SESSIONS,
        "main lost commits an earlier run verified: restore them from a clone or backup. If the "
        "rewrite was meant, delete refs/gitflywheel/verified and run `gitflywheel verify --full`.",
    ),
    "history.malformed-commit": Rule(
        "every commit is well formed, as sync takes them: one author and one committer line, "
        "in their places, each `Name <email> seconds +HHMM`, and no NUL byte (git ends a "
        "message there, trailers unseen)",
        _SESSIONS,
        "Commits must be made by gitflywheel or git: drop the commit (restore main from a "
        "clone or backup without it); `sync` never takes one.",
    ),
    "history.missing-object": Rule(
        "every tree, blob, parent commit and gitlink commit the history names is in the store, "
        "as the type it is named as",
        _SESSIONS,
        "Fetch the missing objects from a clone or backup that has them (`git fsck` lists them); "
        "a gitlink has no place in a store: drop the commit that adds it.",
    ),
    "tree.mode": Rule(
        "every entry of a tree is a regular file (100644) or a folder (040000): no executable, "
        "symbolic link or gitlink",
        _SESSIONS,
        "Store files as regular files (mode 100644): drop the commit that made them "
        "executables, symbolic links or gitlinks.",
    ),
    "tree.name": Rule(
        "no entry is named '', '.', '..' or .git in any spelling git refuses, holds '/', '\\', "
        "NUL or a control character, or shares its name with another entry of its tree",
        _SESSIONS,
        "Drop the commit that adds the entry: such a name is unsafe or refused in a checkout, "
        "and only gitflywheel names paths in the store.",
    ),
    "tree.shape": Rule(
        "files are where the layout expects files and folders where it expects folders, trees "
        "keep git's order, and nothing nests deeper than the layout",
        _SESSIONS,
        "Drop the commit that put a file where a folder belongs, or a folder where a file belongs.",
    ),
    "artifact.missing": Rule(
        "every file a manifest lists is in the tree, with the blob id and SHA-256 listed",
        _ARTIFACTS,
        "Restore the file from the commit that recorded it, or re-ingest with --revise.",
    ),
    "artifact.unlisted": Rule(
        "nothing in a session folder is missing from its manifest",
        _ARTIFACTS,
        "Remove the file; session folders hold only what their manifest lists.",
    ),
    "artifact.render": Rule(
        "every artifact renders again, byte for byte, from its recorded facts, template and "
        "filter set",
        _ARTIFACTS,
        "An artifact was edited by hand or rendered by other code: run `gitflywheel rerender` "
        "on the session, or re-ingest it with --revise.",
    ),
    "artifact.template": Rule(
        "the template that rendered an artifact is in the tree at that commit",
        _ARTIFACTS,
        "Keep templates in the store's templates/ folder as ingest recorded them.",
    ),
    "facts.invalid": Rule(
        "every session's facts.json is readable facts of the pipeline, session and artifacts "
        "its manifest names",
        _ARTIFACTS,
        "facts.json is written by gitflywheel only: run `gitflywheel rerender` on the session.",
    ),
    "facts.derive": Rule(
        "the facts derive again from the record whenever the pipeline version that made them "
        "is one this gitflywheel runs",
        _ARTIFACTS,
        "The facts were edited, or made by other code under this version's name: run "
        "`gitflywheel rerender` on the session.",
    ),
    "provenance.derive": Rule(
        "each session's provenance statement (`gitflywheel show ID provenance`) derives from "
        "the commit that records the session: every file and template it names is in that "
        "commit's tree with the blob id it states",
        _ARTIFACTS,
        "The manifest names files the commit does not hold: run `gitflywheel rerender` on "
        "the session, or re-ingest it with --revise.",
    ),
    "templates.invalid": Rule(
        "templates/ holds only regular *.j2 files",
        _ARTIFACTS,
        "Keep only regular *.j2 files in templates/; put anything else outside the store.",
    ),
    "duplicate.artifact": Rule(
        "no two sessions hold byte-identical artifacts of the same kind",
        _DUPLICATES,
        "Publish only one of the two sessions, or give them the detail that tells them apart.",
    ),
    "duplicate.record": Rule(
        "no commit records a session record that the store already had",
        _DUPLICATES,
        "A pipeline ran twice: drop the repeated commit.",
    ),
    "duplicate.session": Rule(
        "no session is recorded under two ids with the same content",
        _DUPLICATES,
        "Keep one id for the session and drop the other.",
    ),
}
