"""``compliance.json`` and the ``check --format json`` output.

The report document (``document.Report``, written by ``writer``) is described by
``compliance.schema.json`` (its ``schema_version`` changes whenever a consumer would
need to). The check output is the evaluation alone: no time, no paths of this
machine, so two engines (or two runs) can be compared by equality.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from compliance.evaluation import Evaluation
from compliance.reports.document import SCHEMA_VERSION

SCHEMA_PATH = Path(__file__).with_name("compliance.schema.json")
__all__ = ["SCHEMA_PATH", "SCHEMA_VERSION", "check_document", "load_schema"]


def load_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def check_document(evaluation: Evaluation) -> dict[str, Any]:
    """Findings, summary and per-requirement verdicts of one evaluation, deterministic."""
    requirements = {result.requirement.id: result.requirement for result in evaluation.results}
    findings = []
    for finding in evaluation.findings:
        requirement = requirements[finding.requirement]
        findings.append(
            {
                **finding.to_dict(),
                "title": requirement.title,
                "severity": requirement.severity,
                "remediation": requirement.remediation,
            }
        )
    return {
        "findings": findings,
        "summary": {**evaluation.summary(), "compliant": evaluation.compliant},
        "requirements": [
            {
                "id": result.requirement.id,
                "title": result.requirement.title,
                "status": result.status.value,
                "evaluated": len(result.evaluated),
            }
            for result in evaluation.results
        ],
    }
