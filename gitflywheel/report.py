"""The SSOT verification report, in Markdown, for people."""

from __future__ import annotations

import re
from collections import defaultdict

from .verify import RULES, Finding, VerifyResult

__all__ = ["markdown_report"]

_SECTIONS = (
    ("Work sessions", ("session.", "commit.", "history.", "tree.", "manifest.")),
    ("Artifacts", ("artifact.", "templates.")),
    ("Duplicates", ("duplicate.",)),
)

_WARNINGS_SHOWN = 50

_ADVICE = {
    "session.path": "Move the folder back to the path `gitflywheel` decides, or re-ingest the session.",
    "session.record": "Re-ingest the session from its source file with `gitflywheel ingest --revise`.",
    "session.unnamed-change": "Find who changed the store outside gitflywheel (`git log -p` on the path) and revert it.",
    "session.removed": "Restore the session folder from history; sessions are never removed.",
    "session.revision": "Record revisions with `gitflywheel ingest --revise`, never by hand.",
    "manifest.invalid": "Re-ingest the session; a manifest is written by gitflywheel only.",
    "artifact.missing": "Restore the file from the commit that recorded it, or re-ingest with --revise.",
    "artifact.unlisted": "Remove the file; session folders hold only what their manifest lists.",
    "artifact.render": "An artifact was edited by hand or rendered by other code: re-ingest with --revise.",
    "artifact.template": "Keep templates in the store's templates/ folder as ingest recorded them.",
    "duplicate.artifact": "Publish only one of the two sessions, or give them the detail that tells them apart.",
    "duplicate.record": "A pipeline ran twice: drop the repeated commit.",
    "duplicate.session": "Keep one id for the session and drop the other.",
    "commit.trailers": "Commits must be made by gitflywheel; fix or drop the commit whose trailers lie.",
    "commit.no-session": "Only gitflywheel should commit to main; move other work elsewhere.",
    "history.unexpected-path": "Keep the store to sessions/ and templates/; put other files elsewhere.",
    "history.rewritten": (
        "main lost commits an earlier run verified: restore them from a clone or backup. If the rewrite "
        "was meant, delete refs/gitflywheel/verified and run `gitflywheel verify --full`."
    ),
    "history.missing-object": (
        "Fetch the missing objects from a clone or backup that has them (`git fsck` lists them); "
        "a gitlink has no place in a store: drop the commit that adds it."
    ),
    "tree.mode": "Store files as regular files (mode 100644): drop the commit that made them executables, symbolic links or gitlinks.",
    "tree.name": "Drop the commit that adds the entry: such a name is unsafe or refused in a checkout, and only gitflywheel names paths in the store.",
    "tree.shape": "Drop the commit that put a file where a folder belongs, or a folder where a file belongs.",
    "templates.invalid": "Keep only regular *.j2 files in templates/; put anything else outside the store.",
}


def _code(text: str) -> str:
    """`text` as a code span in a table cell, whatever backticks or pipes it holds."""
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}".replace("|", "\\|")


def _findings_table(findings: list[Finding]) -> list[str]:
    lines = ["| commit | path | finding | rule |", "|---|---|---|---|"]
    for f in findings:
        message = f.message.replace("|", "\\|")
        lines.append(
            f"| `{f.commit[:12] or '-'}` | {_code(f.path or '-')} | {message} | `{f.rule}` |"
        )
    return lines


def markdown_report(result: VerifyResult) -> str:
    """A report with sections for work sessions, artifacts, pipelines, duplicates and advice."""
    fig = result.figures
    verdict = (
        "PASS: every rule holds." if result.ok else f"FAIL: {len(result.findings)} violation(s)."
    )
    scope = (
        "the whole history"
        if result.full
        else f"the commits since {(result.verified_before or '')[:12]}"
    )
    out = [
        "# SSOT verification report",
        "",
        f"**{verdict}**",
        "",
        f"- store: `{result.store}`",
        f"- main: `{result.tip or '(empty)'}`",
        f"- checked: {scope} ({result.commits_checked} commits, {result.sessions_checked} session records)",
        "",
        "## Figures",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| sessions | {fig.get('sessions', 0):,} |",
        f"| revisions beyond the first | {fig.get('revisions', 0):,} |",
        f"| artifacts | {fig.get('artifacts', 0):,} |",
        f"| files in the tree | {fig.get('files', 0):,} |",
        f"| unique blobs | {fig.get('unique_blobs', 0):,} |",
        f"| bytes in the tree | {fig.get('bytes', 0):,} |",
        f"| bytes saved by deduplication | {fig.get('bytes_saved_by_dedup', 0):,} |",
        "",
    ]
    grouped: dict[str, list[Finding]] = defaultdict(list)
    for finding in result.findings:
        section = next(
            (name for name, prefixes in _SECTIONS if finding.rule.startswith(prefixes)),
            "Work sessions",
        )
        grouped[section].append(finding)

    for name, prefixes in _SECTIONS:
        out += [f"## {name}", ""]
        if name == "Work sessions":
            by_type = ", ".join(f"{n} {t}" for t, n in result.sessions_by_type.items()) or "none"
            out += [f"Sessions at the tip: {by_type}.", ""]
        rules = [rule for rule in RULES if rule.startswith(prefixes)]
        found = grouped.get(name, [])
        broken = {f.rule for f in found}
        out += [
            f"- {'FAIL' if rule in broken else 'ok'}: {RULES[rule]} (`{rule}`)" for rule in rules
        ]
        out.append("")
        if found:
            out += _findings_table(found) + [""]
        if name == "Work sessions" and result.warnings:
            out += [
                f"Warnings ({len(result.warnings)}): facts the input states that cannot be true; "
                "recorded as given.",
                "",
            ]
            shown = result.warnings[:_WARNINGS_SHOWN]
            out += [f"- `{w.path.rsplit('/', 1)[-1]}`: {w.message}" for w in shown]
            if len(result.warnings) > len(shown):
                out.append(
                    f"- and {len(result.warnings) - len(shown)} more (`gitflywheel verify --json` lists all)"
                )
            out.append("")
        if name == "Artifacts":
            out += [
                "## Pipelines",
                "",
                "| pipeline | step | kind | artifacts |",
                "|---|---|---|---:|",
            ]
            out += [f"| {p} | {s} | {k} | {n:,} |" for p, s, k, n in result.artifacts_by_step]
            out.append("")

    out += ["## Recommendations", ""]
    if result.ok:
        out.append("- Nothing to mend. Publish with `gitflywheel publish`.")
    for rule in dict.fromkeys(f.rule for f in result.findings):
        out.append(f"- `{rule}`: {_ADVICE.get(rule, 'See the findings above.')}")
    if result.warnings:
        out.append(
            "- Fix the producer of the warned sessions (for example clocks in different time zones)."
        )
    return "\n".join(out) + "\n"
