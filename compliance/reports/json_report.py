"""``compliance.json`` and the ``check --format json`` output.

The report document is described by ``compliance.schema.json`` (its
``schema_version`` changes whenever a consumer would need to). The check
output is the evaluation alone: no time, no paths of this machine, so two
engines (or two runs) can be compared by equality.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from compliance.evaluation import Evaluation

SCHEMA_PATH = Path(__file__).with_name("compliance.schema.json")
SCHEMA_VERSION = "1.0"


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


def write_json(document: dict[str, Any], path: Path) -> Path:
    """Write atomically: a CI step reading the file never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.tmp")
    scratch.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", "utf-8")
    scratch.replace(path)
    return path
