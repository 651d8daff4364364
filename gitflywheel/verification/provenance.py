"""A session's provenance statement, derived again where a commit records the session:
every artifact, record, facts file, screenshot and template it names is in that commit's
tree with the blob id it states, and it names that commit. The statement is built by
`queries.provenance`, as `show ID provenance` and the site build it; this proves that
what it states of the commit holds."""

from __future__ import annotations

from ..queries.provenance import Provenance, statement
from ..session.manifest import Manifest
from ..storage.objects import CommitInfo
from .context import Context, FolderFiles
from .result import Finding
from .rules import RULES

__all__ = ["check_provenance"]


def check_provenance(
    ctx: Context,
    commit: CommitInfo,
    folder: str,
    manifest: Manifest,
    files: FolderFiles,
    trees: list[bytes],
) -> list[Finding]:
    """The findings of the statement derived for a session folder `commit` records, whose
    entries are `files` (path -> (mode, id), as the folder checks read them); a template
    may sit in any of `trees` (a merge's sides)."""
    assert "provenance.derive" in RULES
    derived = statement(Provenance(manifest, folder, commit, None))
    build = derived["predicate"]["buildDefinition"]
    named = [*derived["subject"], *build["resolvedDependencies"]]
    found: list[Finding] = []
    for item in named:
        name, blob = item["name"], item["digest"]["gitBlob"].encode()
        if name.startswith(f"{folder}/"):
            held = [files.get(name)]
        else:  # a template
            held = [ctx.lookup(tree, name) for tree in trees]
        if not any(entry is not None and entry[1] == blob for entry in held):
            found.append(
                Finding(
                    "provenance.derive",
                    commit.id.decode(),
                    name,
                    f"the provenance statement names blob {blob[:12].decode()} here, which the "
                    "commit's tree does not hold",
                )
            )
    invocation = derived["predicate"]["runDetails"]["metadata"]["invocationId"]
    if invocation != commit.id.decode() or build["externalParameters"]["folder"] != folder:
        found.append(
            Finding(
                "provenance.derive",
                commit.id.decode(),
                folder,
                "the provenance statement does not name the commit that records the session",
            )
        )
    return found
