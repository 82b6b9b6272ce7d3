"""``summary.md``: the verdict on a CI job's summary page.

Short by design: the verdict, counts by family, what failed and where (at
most ``MAX_FINDINGS`` resources; the HTML report has the rest), failed
scenarios, drill measurements and provenance. A reader who needs more opens
``compliance.html`` from the job's artifact.
"""

from __future__ import annotations

import re
from typing import Any

MAX_FINDINGS = 20
MAX_SCENARIOS = 10
STATUS_MARKS = {
    "passed": "✓ passed",
    "failed": "✗ failed",
    "waived": "⚑ waived",
    "not_applicable": "– not applicable",
    "not_run": "○ not run",
}


def render_summary(document: dict[str, Any]) -> str:
    sections = [
        _verdict(document),
        _families(document["summary"]),
        _failed_requirements(document["requirements"]),
        _failed_scenarios(document["features"]),
        _drills(document.get("drills")),
        _notes(document["sources"]["notes"]),
        _provenance(document["provenance"]),
    ]
    return "\n\n".join(section for section in sections if section) + "\n"


def _cell(text: Any) -> str:
    """Table-safe, one line."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _verdict(document: dict[str, Any]) -> str:
    summary = document["summary"]
    heading = "Compliant" if summary["compliant"] else "Not compliant"
    mark = "✓" if summary["compliant"] else "✗"
    scenarios = summary["scenarios"]
    lines = [
        f"# {mark} DR compliance: {heading}",
        "",
        f"Result: **{summary['result']}**"
        + (
            f" (features exited {summary['features_exit_code']})"
            if summary["features_exit_code"] not in (None, 0)
            else ""
        ),
        "",
        "| Requirements | Passed | Failed | Waived | Not applicable | Not run "
        "| Open findings | Waived findings | Resources | Scenarios failed / run |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {summary['requirements']} | {summary['passed']} | {summary['failed']} "
        f"| {summary['waived']} | {summary['not_applicable']} | {summary['not_run']} "
        f"| {summary['findings']} | {summary['waived_findings']} | {summary['resources']} "
        f"| {_scenario_cell(summary['features_ran'], scenarios)} |",
    ]
    return "\n".join(lines)


def _scenario_cell(ran: bool, scenarios: dict[str, int]) -> str:
    if not ran:
        return "not run"
    return f"{scenarios['failed']} / {scenarios['total'] - scenarios['not_run']}"


def _families(summary: dict[str, Any]) -> str:
    lines = [
        "## By family",
        "",
        "| Family | Status | Passed | Failed | Waived | Not applicable | Not run |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in summary["by_family"]:
        lines.append(
            f"| {row['family']} | {STATUS_MARKS[row['status']]} | {row['passed']} "
            f"| {row['failed']} | {row['waived']} | {row['not_applicable']} | {row['not_run']} |"
        )
    return "\n".join(lines)


def _failed_requirements(requirements: list[dict[str, Any]]) -> str:
    """Each failed requirement with its resources; one budget of lines for all findings."""
    failed = [r for r in requirements if r["status"] == "failed"]
    if not failed:
        return ""
    lines = ["## Failed requirements", ""]
    budget = MAX_FINDINGS
    for requirement in failed:
        lines.append(f"- **{requirement['id']}** {_cell(requirement['title'])}{_how(requirement)}")
        shown = requirement["findings"][: max(budget, 0)]
        budget -= len(shown)
        lines += [_finding_line(finding) for finding in shown]
        hidden = len(requirement["findings"]) - len(shown)
        if hidden:
            lines.append(f"  - … and {hidden} more finding(s) (see compliance.html)")
    return "\n".join(lines)


def _how(requirement: dict[str, Any]) -> str:
    if requirement["decided_by"] == "drill":
        return " — decided by failover drills"
    count = len(requirement["findings"])
    return f" ({requirement['severity']}, {count} finding(s)) — `{requirement['policy']}`"


def _finding_line(finding: dict[str, Any]) -> str:
    path = f" · `{finding['construct_path']}`" if finding["construct_path"] else ""
    waived = " (waived)" if finding["waived"] else ""
    return (
        f"  - `{finding['stack']}` · `{finding['address']}`{path}{waived}: "
        f"{_cell(finding['message'])}"
    )


def _failed_scenarios(features: list[dict[str, Any]]) -> str:
    failed = [(f, s) for f in features for s in f["scenarios"] if s["status"] == "failed"]
    if not failed:
        return ""
    lines = ["## Failed scenarios", ""]
    for feature, scenario in failed[:MAX_SCENARIOS]:
        error = _last_line(scenario["error"])
        lines.append(
            f"- `{feature['uri']}:{scenario['line']}` {_cell(scenario['name'])}"
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


def _drills(drills: list[dict[str, Any]] | None) -> str:
    if not drills:
        return ""
    lines = [
        "## Failover drills",
        "",
        "| Drill | Requirement | Target | Result | RTO | RTO target | RPO | RPO target |",
        "| --- | --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for drill in drills:
        result = {True: "✓ passed", False: "✗ failed", None: "○ no verdict"}[drill["passed"]]
        lines.append(
            f"| {_cell(drill['title'])} | {', '.join(drill['requirements'])} "
            f"| {drill['target'] or '–'} | {result} "
            f"| {_seconds(drill['rto_seconds'])} | {_seconds(drill['rto_target_seconds'])} "
            f"| {_seconds(drill['rpo_seconds'])} | {_seconds(drill['rpo_target_seconds'])} |"
        )
    return "\n".join(lines)


def _notes(notes: list[str]) -> str:
    if not notes:
        return ""
    return "\n".join(["## Notes", "", *(f"- {_cell(note)}" for note in notes)])


def _provenance(provenance: dict[str, Any]) -> str:
    dirty = " (uncommitted changes)" if provenance.get("git_dirty") else ""
    items = [
        ("Commit", f"`{provenance['git_commit']}`{dirty}"),
        ("Harness", provenance["harness_version"]),
        ("CDKTF", provenance["cdktf_version"]),
        ("AWS provider", provenance["aws_provider"]),
        ("Policy engine", provenance["policy_engine"]),
        (
            "Policies",
            f"`{provenance['policy_sha256']}` (SHA-256 of {provenance['policy_file_count']} files)",
        ),
        ("Input", f"`{provenance['input']}`"),
        ("Generated", provenance["generated_at"]),
    ]
    return "\n".join(["## Provenance", "", *(f"- {name}: {value}" for name, value in items)])
