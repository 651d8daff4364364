"""The SSOT verification report, in Markdown, for people."""

from __future__ import annotations

import re
from collections import defaultdict

from ..escape import md_cell
from ..pipelines import installed_pipelines
from .result import Finding, VerifyResult
from .rules import RULES, SECTIONS

__all__ = ["markdown_report", "upgrade_notes"]

_WARNINGS_SHOWN = 50


def _code(text: str) -> str:
    """`text` as a code span in a table cell, whatever backticks or pipes it holds."""
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}".replace("|", "\\|")


def _findings_table(findings: list[Finding]) -> list[str]:
    lines = ["| commit | path | finding | rule |", "|---|---|---|---|"]
    for f in findings:
        lines.append(
            f"| {_code(f.commit[:12] or '-')} | {_code(f.path or '-')} | {md_cell(f.message)} "
            f"| {_code(f.rule)} |"
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
        f"- store: {_code(result.store)}",
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
        known = RULES.get(finding.rule)
        grouped[known.section if known else SECTIONS[0]].append(finding)

    for name in SECTIONS:
        out += [f"## {name}", ""]
        if name == "Work sessions":
            by_type = (
                ", ".join(f"{n} {md_cell(t)}" for t, n in result.sessions_by_type.items()) or "none"
            )
            out += [f"Sessions at the tip: {by_type}.", ""]
        rules = [rule for rule, about in RULES.items() if about.section == name]
        found = grouped.get(name, [])
        broken = {f.rule for f in found}
        out += [
            f"- {'FAIL' if rule in broken else 'ok'}: {RULES[rule].meaning} (`{rule}`)"
            for rule in rules
        ]
        out.append("")
        if found:
            out += _findings_table(found) + [""]
        if name == "Work sessions" and result.warnings:
            out += [
                f"Warnings ({len(result.warnings)}): facts the input states that cannot be true, "
                "twins, and placeholders an older version published; "
                "recorded as given.",
                "",
            ]
            shown = result.warnings[:_WARNINGS_SHOWN]
            out += [f"- {_code(w.path.rsplit('/', 1)[-1])}: {md_cell(w.message)}" for w in shown]
            if len(result.warnings) > len(shown):
                out.append(
                    f"- and {len(result.warnings) - len(shown)} more (`gitflywheel verify --json` lists all)"
                )
            out.append("")
        if name == "Artifacts":
            out += _pipelines(result)

    out += ["## Recommendations", ""]
    if result.ok:
        out.append("- Nothing to mend. Publish with `gitflywheel publish`.")
    for rule in dict.fromkeys(f.rule for f in result.findings):
        about = RULES.get(rule)
        out.append(f"- `{rule}`: {about.advice if about else 'See the findings above.'}")
    out += [f"- {line}" for line in upgrade_notes(result)]
    if result.warnings:
        out.append(
            "- Fix the producer of the warned sessions (for example clocks in different time zones)."
        )
    return "\n".join(out) + "\n"


def _pipelines(result: VerifyResult) -> list[str]:
    """The Pipelines section: which versions made the sessions, and what each step made."""
    installed = installed_pipelines()
    out = [
        "## Pipelines",
        "",
        f"This gitflywheel runs {', '.join(installed)}. Sessions at the tip by the pipeline "
        "version that made their facts (version 1: made before stores kept facts):",
        "",
        "| pipeline | sessions | |",
        "|---|---:|---|",
    ]
    out += [
        f"| {md_cell(p)} | {n:,} | {'current' if p in installed else 'another version'} |"
        for p, n in result.pipelines.items()
    ]
    out += ["", "| filter set | sessions |", "|---|---:|"]
    out += [f"| {md_cell(s)} | {n:,} |" for s, n in result.filter_sets.items()]
    out += ["", "| pipeline | step | kind | artifacts |", "|---|---|---|---:|"]
    out += [
        f"| {md_cell(p)} | {md_cell(s)} | {md_cell(k)} | {n:,} |"
        for p, s, k, n in result.artifacts_by_step
    ]
    out.append("")
    return out


def upgrade_notes(result: VerifyResult) -> list[str]:
    """One line per version this gitflywheel does not run, and what to do about it."""
    installed = {p.split("/")[0]: p for p in installed_pipelines()}
    notes = []
    for pipeline, count in result.other_versions.items():
        now = installed.get(pipeline.split("/")[0], "")
        older = int(pipeline.split("/")[1]) < int(now.split("/")[1] or 0) if now else False
        what = (
            f"run `gitflywheel rerender --all` to render them with {now}"
            if older
            else "a later gitflywheel made them"
        )
        notes.append(
            f"made by {pipeline}: {count:,} session{'s' if count != 1 else ''}; {what} "
            "(they verify as recorded)"
        )
    notes += [
        f"rendered with {name}: {count:,} session{'s' if count != 1 else ''}, a filter set this "
        "gitflywheel does not have (a later gitflywheel made them): their facts and hashes are "
        "checked, their artifacts are not rendered again"
        for name, count in result.unknown_filter_sets.items()
    ]
    return notes
