"""``summary.md``: the verdict on a CI job's summary page.

Short by design: the verdict, what was and was not checked, open exceptions,
counts by family, what failed and where (at most ``MAX_FINDINGS`` resources; the
HTML report has the rest), failed scenarios, drills with their own criteria,
control coverage, notes, the evidence manifest and provenance. A reader who needs
more opens ``compliance.html`` from the job's artifact.
"""

from __future__ import annotations

import re
from typing import Any

from compliance.reports.document import (
    ControlCoverage,
    Drill,
    FeatureEntry,
    Finding,
    Manifest,
    OutsideControl,
    Provenance,
    Report,
    Requirement,
    ScenarioCounts,
    Scope,
    Summary,
    Waiver,
)
from compliance.reports.scope import scaled_targets

MAX_FINDINGS = 20
MAX_SCENARIOS = 10
STATUS_MARKS = {
    "passed": "✓ passed",
    "failed": "✗ failed",
    "waived": "⚑ waived",
    "not_applicable": "– not applicable",
    "not_run": "○ not run",
}


def render_summary(report: Report) -> str:
    sections = [
        _verdict(report.summary),
        _scope(report.scope),
        _exceptions(report.waivers),
        _families(report.summary),
        _failed_requirements(report.requirements),
        _failed_scenarios(report.features),
        _drills(report.drills),
        _coverage(report.coverage, report.outside_evidence),
        _notes(report),
        _manifest(report.manifest),
        _provenance(report.provenance),
    ]
    return "\n\n".join(section for section in sections if section) + "\n"


def _cell(text: Any) -> str:
    """Table-safe, one line."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _verdict(summary: Summary) -> str:
    heading = "Compliant" if summary.compliant else "Not compliant"
    mark = "✓" if summary.compliant else "✗"
    exited = summary.features_exit_code
    lines = [
        f"# {mark} DR compliance: {heading}",
        "",
        f"Result: **{summary.result}**"
        + (f" (features exited {exited})" if exited not in (None, 0) else ""),
        "",
        "| Requirements | Passed | Failed | Waived | Not applicable | Not run "
        "| Open findings | Waived findings | Resources | Scenarios failed / run |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {summary.requirements} | {summary.passed} | {summary.failed} "
        f"| {summary.waived} | {summary.not_applicable} | {summary.not_run} "
        f"| {summary.findings} | {summary.waived_findings} | {summary.resources} "
        f"| {_scenario_cell(summary.features_ran, summary.scenarios)} |",
        "",
        f"Counts: {summary.test_counts.explanation}",
    ]
    return "\n".join(lines)


def _scope(scope: Scope) -> str:
    lines = ["## What was checked", "", *(f"- {_cell(item)}" for item in scope.checked)]
    lines += ["", "Not checked:", "", *(f"- {_cell(item)}" for item in scope.not_checked)]
    lines += ["", "Limitations:", "", *(f"- {_cell(item)}" for item in scope.limitations)]
    return "\n".join(lines)


def _exceptions(waivers: list[Waiver]) -> str:
    if not waivers:
        return "## Open exceptions\n\nNone: no finding is waived."
    lines = [
        "## Open exceptions",
        "",
        "| Requirement | Resource | Risk | Owner | Approved by | Ticket | Expires |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for w in waivers:
        lines.append(
            f"| {w.requirement} | `{w.stack}` · `{w.address}` | {w.risk} | {_cell(w.owner)} "
            f"| {_cell(w.approved_by)} | {_cell(w.ticket)} | {w.expires} |"
        )
    return "\n".join(lines)


def _scenario_cell(ran: bool, scenarios: ScenarioCounts) -> str:
    if not ran:
        return "not run"
    return f"{scenarios.failed} / {scenarios.total - scenarios.not_run}"


def _families(summary: Summary) -> str:
    lines = [
        "## By family",
        "",
        "| Family | Status | Passed | Failed | Waived | Not applicable | Not run |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in summary.by_family:
        lines.append(
            f"| {row.family} | {STATUS_MARKS[row.status]} | {row.passed} "
            f"| {row.failed} | {row.waived} | {row.not_applicable} | {row.not_run} |"
        )
    return "\n".join(lines)


def _failed_requirements(requirements: list[Requirement]) -> str:
    """Each failed requirement with its resources; one budget of lines for all findings."""
    failed = [r for r in requirements if r.status == "failed"]
    if not failed:
        return ""
    lines = ["## Failed requirements", ""]
    budget = MAX_FINDINGS
    for requirement in failed:
        lines.append(f"- **{requirement.id}** {_cell(requirement.title)}{_how(requirement)}")
        shown = requirement.findings[: max(budget, 0)]
        budget -= len(shown)
        lines += [_finding_line(finding) for finding in shown]
        hidden = len(requirement.findings) - len(shown)
        if hidden and shown:
            lines.append(f"  - … and {hidden} more finding(s) (see compliance.html)")
        elif hidden:
            lines.append(f"  - {hidden} finding(s), not listed here: see compliance.html")
    return "\n".join(lines)


def _how(requirement: Requirement) -> str:
    if requirement.decided_by == "drill":
        return " — decided by failover drills"
    count = len(requirement.findings)
    return f" ({requirement.severity}, {count} finding(s)) — `{requirement.policy}`"


def _finding_line(finding: Finding) -> str:
    path = f" · `{finding.construct_path}`" if finding.construct_path else ""
    waived = " (waived)" if finding.waived else ""
    return f"  - `{finding.stack}` · `{finding.address}`{path}{waived}: {_cell(finding.message)}"


def _failed_scenarios(features: list[FeatureEntry]) -> str:
    failed = [(f, s) for f in features for s in f.scenarios if s.status == "failed"]
    if not failed:
        return ""
    lines = ["## Failed scenarios", ""]
    for feature, scenario in failed[:MAX_SCENARIOS]:
        error = _last_line(scenario.error)
        lines.append(
            f"- `{feature.uri}:{scenario.line}` {_cell(scenario.name)}"
            + (f": {_cell(error)}" if error else "")
        )
    if len(failed) > MAX_SCENARIOS:
        lines.append(f"- … and {len(failed) - MAX_SCENARIOS} more scenario(s)")
    return "\n".join(lines)


def _last_line(text: str | None) -> str:
    """pytest's error text ends with the assertion that matters (after its ``E`` margin)."""
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return re.sub(r"^E\s+", "", lines[-1].strip()) if lines else ""


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:g} s"


def _drills(drills: list[Drill] | None) -> str:
    """Each drill with what it is judged by (DR-DEP-02: the lost window, not the RPO)."""
    if not drills:
        return ""
    lines = [
        "## Failover drills",
        "",
        "| Drill | Requirement | Where | Result | Judged by | Measured |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for drill in drills:
        result = {True: "✓ passed", False: "✗ failed", None: "○ no verdict"}[drill.passed]
        lines.append(
            f"| {_cell(drill.title)} | {', '.join(drill.requirements)} "
            f"| {_cell(_where(drill))} | {result} | {_cell(drill.judged_by)} "
            f"| RTO {_seconds(drill.rto_seconds)}, RPO {_seconds(drill.rpo_seconds)} |"
        )
    return "\n".join(lines)


def _where(drill: Drill) -> str:
    if drill.target in (None, "local"):
        where = "local simulation"
    else:
        where = f"{drill.target} target"
    if drill.scale_factor not in (None, 1):
        where += f", time scale {drill.scale_factor:g}: {scaled_targets(drill)}"
    return where


def _coverage(controls: list[ControlCoverage], outside: list[OutsideControl]) -> str:
    evidence = [c for c in controls if c.coverage == "evidence"]
    partial = [c for c in controls if c.coverage == "partial_evidence"]
    gaps = [c for c in controls if c.open_gaps]
    lines = [
        "## Control coverage",
        "",
        f"This run gives evidence for {len(evidence)} and partial evidence for {len(partial)} "
        "control(s); it never declares a control met. "
        + (
            f"{len(gaps)} of them rest on a requirement that failed or did not run."
            if gaps
            else "No requirement behind them failed or was left unrun."
        ),
    ]
    if outside:
        names = ", ".join(f"{c.control} ({c.title})" for c in outside)
        lines += ["", f"Outside this evidence: {names}."]
    return "\n".join(lines)


def _notes(report: Report) -> str:
    notes = [f"{r.id}: {note}" for r in report.requirements for note in r.notes]
    notes += [*report.notes, *report.sources.notes]
    if not notes:
        return ""
    return "\n".join(["## Notes", "", *(f"- {_cell(note)}" for note in notes)])


def _manifest(manifest: Manifest) -> str:
    who = f"{manifest.run_by.name} ({manifest.run_by.kind})"
    url = manifest.run_by.details.get("run_url")
    items = [
        ("Run", f"`{manifest.run_id}`, {manifest.started_at} to {manifest.finished_at}"),
        ("Run by", who + (f", {url}" if url else "")),
        ("Reproducibility", manifest.reproducibility),
        (
            "Inputs",
            f"{len(manifest.inputs)} files, each with its SHA-256 in evidence-manifest.json "
            "(and compliance.json)",
        ),
        ("Harness code SHA-256", f"`{manifest.harness_sha256}`"),
    ]
    return "\n".join(["## Evidence", "", *(f"- {name}: {value}" for name, value in items)])


def _provenance(provenance: Provenance) -> str:
    dirty = " (uncommitted changes)" if provenance.git_dirty else ""
    items = [
        ("Commit", f"`{provenance.git_commit}`{dirty}"),
        ("Harness", provenance.harness_version),
        ("CDKTF", provenance.cdktf_version),
        ("AWS provider", provenance.aws_provider),
        ("Policy engine", provenance.policy_engine),
        (
            "Policies",
            f"`{provenance.policy_sha256}` (SHA-256 of {provenance.policy_file_count} files)",
        ),
        ("Input", f"`{provenance.input}`"),
        ("Generated", provenance.generated_at),
    ]
    return "\n".join(["## Provenance", "", *(f"- {name}: {value}" for name, value in items)])
