"""``compliance.sarif``: the findings for code scanning (SARIF 2.1.0).

One rule per requirement (drill requirements too, so rule indices follow
the report's order), one result per finding at the line of ``cdk.tf.json``
that declares the resource, with the Terraform address and the CDKTF
construct path as logical locations. A waived finding stays in the log with
an accepted external suppression: code scanning shows it as dismissed, with
who accepted it and until when.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from compliance.reports.document import (
    SCHEMA_VERSION,
    Finding,
    Location,
    Report,
    Requirement,
    Summary,
    Waiver,
    to_json,
)

SARIF_VERSION = "2.1.0"
TOOL_NAME = "dr-compliance-harness"
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
# GitHub code scanning ranks security alerts by this property (a CVSS-like score).
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}


def render_sarif(report: Report) -> dict[str, Any]:
    requirements = report.requirements
    index = {requirement.id: i for i, requirement in enumerate(requirements)}
    return {
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": report.provenance.harness_version,
                        "rules": [_rule(requirement) for requirement in requirements],
                    }
                },
                "results": [_result(f, index) for f in report.findings],
                "columnKind": "unicodeCodePoints",
                "properties": {
                    "provenance": to_json(report.provenance),
                    "evidence": {
                        "run_id": report.manifest.run_id,
                        "reproducible": report.manifest.reproducible,
                        "reproducibility": report.manifest.reproducibility,
                    },
                    "summary": _summary(report.summary),
                    "report_schema_version": SCHEMA_VERSION,
                },
            }
        ],
    }


def level(severity: str) -> str:
    return LEVELS.get(severity, "warning")


def _rule(requirement: Requirement) -> dict[str, Any]:
    severity = requirement.severity
    decided_by = f"policy {requirement.policy}" if requirement.policy else "the failover drills"
    tags = ["security", "dr-compliance", f"family:{requirement.family}"]
    tags += [f"{m.framework}:{m.control}" for m in requirement.controls]
    return {
        "id": requirement.id,
        "name": requirement.id.replace("-", ""),
        "shortDescription": {"text": requirement.title},
        "fullDescription": {"text": requirement.description or requirement.title},
        "help": {
            "text": f"{requirement.remediation} (decided by {decided_by})",
            "markdown": f"{requirement.remediation}\n\nDecided by {decided_by}.",
        },
        "defaultConfiguration": {"level": level(severity)},
        "properties": {
            "tags": list(dict.fromkeys(tags)),
            "security-severity": SECURITY_SEVERITY.get(severity, "5.5"),
            "severity": severity,
            "controls": to_json(requirement.controls),
            "decided_by": requirement.decided_by,
            "policy": requirement.policy,
            "status": requirement.status,
        },
    }


def _result(finding: Finding, index: dict[str, int]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.requirement,
        "ruleIndex": index[finding.requirement],
        "level": level(finding.severity),
        "kind": "fail",
        "message": {"text": _message(finding)},
        "locations": [_location(finding)],
        # Stable across runs and line moves: code scanning tracks one alert per resource.
        "partialFingerprints": {
            "drResource/v1": f"{finding.requirement}|{finding.stack}|{finding.address}"
        },
        "properties": {
            "stack": finding.stack,
            "address": finding.address,
            "construct_path": finding.construct_path,
        },
    }
    if finding.waiver is not None:
        result["suppressions"] = [_suppression(finding.waiver)]
    return result


def _message(finding: Finding) -> str:
    where = f"{finding.stack}/{finding.address}"
    if finding.construct_path:
        where += f" (construct {finding.construct_path})"
    return f"{where}: {finding.message}"


def _location(finding: Finding) -> dict[str, Any]:
    location: dict[str, Any] = {}
    physical = _physical(finding.location)
    if physical is not None:
        location["physicalLocation"] = physical
    logical = [
        {
            "name": finding.address,
            "fullyQualifiedName": f"{finding.stack}/{finding.address}",
            "kind": "resource",
        }
    ]
    if finding.construct_path:
        logical.append({"fullyQualifiedName": finding.construct_path, "kind": "module"})
    location["logicalLocations"] = logical
    return location


def _physical(location: Location | None) -> dict[str, Any] | None:
    if location is None:
        return None
    physical: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(location.file)}}
    if location.line is not None:
        physical["region"] = {"startLine": location.line}
    return physical


def artifact_uri(file: str) -> str:
    """A URI reference: repository-relative paths stay relative (as code scanning wants)."""
    path = PurePosixPath(file)
    if path.is_absolute():
        return "file://" + quote(path.as_posix())
    return quote(path.as_posix())


def _suppression(waiver: Waiver) -> dict[str, Any]:
    return {
        "kind": "external",
        "status": "accepted",
        "justification": (
            f"{waiver.reason} (owner {waiver.owner}, approved by {waiver.approved_by}, "
            f"ticket {waiver.ticket}, risk {waiver.risk}, expires {waiver.expires})"
        ),
    }


def _summary(summary: Summary) -> dict[str, Any]:
    """The headline counts (the per-group tables stay in compliance.json)."""
    keys = ("compliant", "result", "requirements", "passed", "failed", "waived")
    keys += ("not_applicable", "not_run", "findings", "waived_findings", "resources")
    return {key: getattr(summary, key) for key in keys}
