"""A session's provenance: an in-toto Statement v1 with an SLSA-style predicate, derived
from the history alone (`gitflywheel show ID provenance`, `provenance.json` in a site).

Subjects: every artifact of the session folder at the tip, by its path in the store and
its SHA-256 (and git blob id). Predicate (`https://slsa.dev/provenance/v1`): what the
artifacts were made from (the record's and the facts' digests, the screenshots, each
template's blob id), how (the pipeline version and filter sets), by which gitflywheel,
and the commit that recorded this state of the folder with its signer. Nothing here is
stored: the statement names the commit that holds the folder, so it cannot live inside
it; verify derives it again and checks what it states against the bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..errors import GitflywheelError, InputError, StoreError
from ..jsontext import dumps_pretty
from ..session.manifest import FileRef, Manifest
from ..storage.commits import session_trailers
from ..storage.layout import MANIFEST_FILE, session_dir
from ..storage.objects import CommitInfo
from ..storage.signing import SignatureCheck, TrustedSigner, check_signature, split_signature
from ..storage.store import Store
from ..version import __version__
from .settings import settings_at, settings_blob

__all__ = [
    "STATEMENT_TYPE",
    "PREDICATE_TYPE",
    "BUILD_TYPE",
    "Provenance",
    "recording_commits",
    "provenance_of",
    "provenances",
    "statement",
    "statement_bytes",
]

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "urn:gitflywheel:build-type:session-artifacts:v1"
BUILDER_ID = "urn:gitflywheel:builder"


@dataclass(frozen=True)
class Provenance:
    """What a statement is made from: the manifest at the tip, the commit that recorded
    that folder (None when no commit naming the session holds it), and its signature."""

    manifest: Manifest
    folder: str
    commit: CommitInfo | None
    signature: SignatureCheck | None


def _walk(store: Store, tip: bytes) -> Iterator[CommitInfo]:
    """Every commit `tip` reaches, newest first along first parents, with the commits
    each merge brings (newest first) before the merge's first parent."""
    sha: bytes | None = tip
    while sha is not None:
        commit = store.commit(sha)
        yield commit
        if len(commit.parents) > 1:
            for side in reversed(store.side_commits(commit.parents[0], commit.parents[1])):
                yield store.commit(side)
        sha = commit.parents[0] if commit.parents else None


def recording_commits(
    store: Store,
    tip: bytes,
    folders: dict[str, bytes],
    earlier: tuple[bytes, Mapping[str, tuple[bytes, bytes | None]]] | None = None,
) -> dict[str, bytes]:
    """For each session id -> its folder's tree id at the tip, the id of the newest
    commit whose trailers name the session and whose tree holds that very folder: the
    commit that recorded it as it is. One walk of the history, which stops once all are found.
    `earlier` is what an earlier call found at a commit of the tip's first-parent chain
    (that commit, and session id -> (folder tree id, commit id or None)): a session
    that no commit since names, whose folder is the same, keeps its commit, and the
    walk looks for the others only."""
    found: dict[str, bytes] = {}
    wanted = dict(folders)
    if earlier is not None:
        since, known = earlier
        named = _named_since(store, tip, since)
        if named is not None:
            for session_id, (folder, recorder) in known.items():
                if wanted.get(session_id) == folder and session_id not in named:
                    del wanted[session_id]
                    if recorder is not None:
                        found[session_id] = recorder
    if not wanted:
        return found
    for number, commit in enumerate(_walk(store, tip), 1):
        if len(wanted) == 0:
            break
        if number % 1024 == 0:  # commits lie all over the packs: their pages go
            store.release_packs()
        trailers = session_trailers(commit.message)
        if trailers is None or trailers.session_id not in wanted:
            continue
        held = store.lookup(commit.tree, session_dir(trailers.session_id))
        if held is not None and held[1] == wanted[trailers.session_id]:
            found[trailers.session_id] = commit.id
            del wanted[trailers.session_id]
    return found


def _named_since(store: Store, tip: bytes, since: bytes) -> set[str] | None:
    """The sessions the commits after `since` name (those a merge brought too), or None
    when `since` is not on the tip's first-parent chain."""
    named: set[str] = set()
    sha: bytes | None = tip
    while sha is not None and sha != since:
        commit = store.commit(sha)
        commits = [commit]
        if len(commit.parents) > 1:
            sides = store.side_commits(commit.parents[0], commit.parents[1])
            commits += [store.commit(side) for side in sides]
        for each in commits:
            trailers = session_trailers(each.message)
            if trailers is not None:
                named.add(trailers.session_id)
        sha = commit.parents[0] if commit.parents else None
    return named if sha == since else None


class _Trust:
    """The signers root trees name, read once per settings file."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._by_blob: dict[bytes | None, tuple[TrustedSigner, ...]] = {}

    def __call__(self, *trees: bytes | None) -> tuple[TrustedSigner, ...]:
        signers: list[TrustedSigner] = []
        for tree in trees:
            try:
                blob = settings_blob(self.store, tree)
                if blob not in self._by_blob:
                    self._by_blob[blob] = settings_at(self.store, tree).trusted_signers()
                signers += self._by_blob[blob]
            except (InputError, StoreError, ValueError, KeyError):
                continue
        return tuple(signers)


def provenances(
    store: Store,
    session_ids: Iterable[str],
    at: bytes | None = None,
    commits: Mapping[str, bytes] | None = None,
) -> list[Provenance]:
    """The provenance of sessions at `at` (default: the tip), in the order given;
    GitflywheelError for a session the tree does not hold. `commits` are their
    `recording_commits` at `at`, found already (default: found here)."""
    tip = at if at is not None else store.tip()
    if tip is None:
        raise GitflywheelError("the store has no sessions yet")
    root = store.commit(tip).tree
    wanted: dict[str, tuple[str, bytes, Manifest]] = {}
    for session_id in session_ids:
        folder = session_dir(session_id)
        held = store.lookup(root, folder)
        listed = store.lookup(root, f"{folder}/{MANIFEST_FILE}")
        if held is None or listed is None:
            raise GitflywheelError(f"{session_id}: no such session in the store")
        wanted[session_id] = (folder, held[1], Manifest.from_bytes(store.blob(listed[1])))
    if commits is None:
        commits = recording_commits(store, tip, {sid: w[1] for sid, w in wanted.items()})
    trust = _Trust(store)
    out = []
    for session_id, (folder, _, manifest) in wanted.items():
        recorder = commits.get(session_id)
        commit = store.commit(recorder) if recorder is not None else None
        signature = None
        if commit is not None and split_signature(commit.raw)[1] is None:
            signature = SignatureCheck("unsigned")  # whoever is trusted: no parent to read
        elif commit is not None:
            parent = store.commit(commit.parents[0]).tree if commit.parents else None
            signature = check_signature(commit.raw, trust(parent, root))
        out.append(Provenance(manifest, folder, commit, signature))
    return out


def provenance_of(store: Store, session_id: str, at: bytes | None = None) -> Provenance:
    """One session's provenance at `at` (default: the tip)."""
    return provenances(store, [session_id], at)[0]


def _digest(file: FileRef) -> dict[str, str]:
    return {"sha256": file.sha256, "gitBlob": file.blob}


def _moment(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_SIGNED = {"good": "trusted", "unknown": "untrusted", "bad": "bad"}


def _signer(check: SignatureCheck | None) -> dict[str, Any] | None:
    """The commit's signer: its key, the name trust.signers gives it, and whether the
    store trusts it (`trusted`), it verifies by a key the store does not name
    (`untrusted`), or it does not verify (`bad`); None when the commit is unsigned."""
    if check is None or check.status == "unsigned":
        return None
    return {"keyid": check.fingerprint, "name": check.principal, "status": _SIGNED[check.status]}


def statement(found: Provenance, version: str = __version__) -> dict[str, Any]:
    """The in-toto Statement v1 of a session's artifacts (see the module's docstring)."""
    manifest = found.manifest
    subjects = [
        {"name": artifact.path, "digest": _digest(artifact)}
        for artifact in sorted(manifest.artifacts, key=lambda a: a.path)
    ]
    dependencies: list[dict[str, Any]] = [
        {"name": manifest.record.path, "digest": _digest(manifest.record)}
    ]
    if manifest.facts is not None:
        dependencies.append({"name": manifest.facts.path, "digest": _digest(manifest.facts)})
    dependencies += [
        {"name": shot.file.path, "digest": _digest(shot.file)}
        for shot in manifest.screenshots
        if shot.file is not None
    ]
    templates = sorted({(a.template.path, a.template.blob) for a in manifest.artifacts})
    dependencies += [{"name": path, "digest": {"gitBlob": blob}} for path, blob in templates]
    commit = found.commit
    run: dict[str, Any] = {
        "builder": {"id": BUILDER_ID, "version": {"gitflywheel": version}},
    }
    if commit is not None:
        run["metadata"] = {
            "invocationId": commit.id.decode(),
            "finishedOn": _moment(commit.commit_time),
        }
        run["byproducts"] = [
            {
                "name": "commit",
                "digest": {"gitCommit": commit.id.decode()},
                "annotations": {"signer": _signer(found.signature)},
            }
        ]
    return {
        "_type": STATEMENT_TYPE,
        "subject": subjects,
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {
                    "session_id": manifest.session_id,
                    "session_type": manifest.session_type,
                    "revision": manifest.revision,
                    "folder": found.folder,
                },
                "internalParameters": {
                    "pipeline": manifest.pipeline_id,
                    "filters": sorted({a.filters for a in manifest.artifacts if a.filters}),
                    "steps": {a.kind: a.step for a in manifest.artifacts},
                },
                "resolvedDependencies": dependencies,
            },
            "runDetails": run,
        },
    }


def statement_bytes(found: Provenance, version: str = __version__) -> bytes:
    """The statement as canonical, indented JSON (keys sorted), as `show` prints it."""
    return dumps_pretty(statement(found, version)).encode("utf-8")
