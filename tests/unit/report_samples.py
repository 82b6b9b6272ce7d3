"""Sample feature-run and drill results for the report tests.

The report tests never run pytest recursively: they write a
``cucumber.json`` shaped as pytest-bdd writes it (one element per scenario,
one per examples row for an outline, keyed by the scenario's line; rows
told apart by pytest's parameter id) and a ``drills.json`` shaped as the
drills write it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from compliance.reports.feature_files import Feature

# A record as compliance/drills writes it (compliance/drills/drill.schema.json).
DRILL: dict[str, Any] = {
    "id": "DR-DEP-01",
    "scenario": "Region loss: the secondary takes over",
    "target": "local",
    "scale_factor": 0.2,
    "knobs": {"interval": 2.0, "threshold": 3, "ttl": 1.0, "promotion_allowance": 6.0},
    "engines": {"postgresql": "15.8", "pdns": "4.7.3"},
    # AWS component -> what stands in for it in the lab, as compliance/drills/lab.py has it.
    "stand_ins": {"aurora_global_database": "PostgreSQL primary and hot standby"},
    "timeline": [
        {"event": "failure injected", "at_seconds": 0.0},
        {"event": "failure detected", "at_seconds": 6.1},
        {"event": "promotion done", "at_seconds": 6.4},
        {"event": "DNS answer changed", "at_seconds": 8.0},
        {"event": "first write served", "at_seconds": 9.3},
    ],
    "rto_seconds": 9.3,
    "rpo_seconds": 0.8,
    "targets": {"rto_seconds": 12.0, "rpo_seconds": 5.0},
    "static_budget_seconds": 10.0,
    "passed": True,
    "checks": [
        {"name": "RTO within target", "passed": True, "detail": "9.3 s <= 12 s"},
        {"name": "RPO within target", "passed": True, "detail": "0.8 s <= 5 s"},
    ],
    "measurements": {},
    "notes": ["knobs scaled by 0.2 for CI"],
    "unscaled": {
        "knobs": {"interval": 10.0, "threshold": 3, "ttl": 5.0, "promotion_allowance": 30.0},
        "targets": {"rto_seconds": 60.0, "rpo_seconds": 5.0},
        "static_budget_seconds": 65.0,
    },
    "started_at": "2026-01-02T03:04:05+00:00",
    "duration_seconds": 17.2,
}


# The replication-lag drill: judged by the window it lost against the lag it injected.
LAG_DRILL: dict[str, Any] = {
    **DRILL,
    "id": "DR-DEP-02",
    "scenario": "Replication lag before a region loss",
    "rto_seconds": 9.9,
    "rpo_seconds": 1.468,
    "targets": {"rto_seconds": 12.0, "rpo_seconds": 1.0},
    "checks": [
        {
            "name": "loss window matches the injected lag",
            "passed": True,
            "detail": "lost 1.468 s of acknowledged writes; lag injected for 1.520 s "
            "(tolerance 0.30 s)",
        },
        {
            "name": "replication-lag alarm would have fired",
            "passed": True,
            "detail": "peak lag 1490 ms > threshold 200 ms (replication-lag-alarm)",
        },
    ],
    "measurements": {"injected_lag_seconds": 1.52, "peak_replication_lag_seconds": 1.49},
}


def _element(keyword: str, name: str, line: int, test_id: str, status: str) -> dict[str, Any]:
    result: dict[str, Any] = {"status": status, "duration": 1000}
    if status == "failed":
        result["error_message"] = (
            "def then_fails_on_change(...):\n>       assert result.status is Status.FAILED\n"
            "E       AssertionError: the mutant was not caught"
        )
    return {
        "keyword": keyword,
        "id": test_id,
        "name": name,
        "line": line,
        "description": "",
        "tags": [],
        "type": "scenario",
        "steps": [
            {
                "keyword": "Then",
                "name": "the requirement is judged",
                "line": line + 1,
                "match": {"location": ""},
                "result": result,
            }
        ],
    }


def cucumber_for(features: list[Feature], failed: set[int] | None = None) -> list[dict[str, Any]]:
    """Every scenario passed, except those (or outline rows) whose line is in ``failed``."""
    failed = failed or set()
    document = []
    for feature in features:
        elements = []
        for block in feature.scenarios:
            test = "test_" + re.sub(r"\W+", "_", block.name.lower())
            if not block.examples:
                status = "failed" if block.line in failed else "passed"
                elements.append(_element(block.keyword, block.name, block.line, test, status))
                continue
            for table in block.examples:
                for row in table.rows:
                    status = "failed" if row.line in failed else "passed"
                    test_id = f"{test}[{'-'.join(row.values)}]"
                    elements.append(
                        _element(block.keyword, block.name, block.line, test_id, status)
                    )
        document.append(
            {
                "keyword": "Feature",
                "uri": feature.uri,
                "name": feature.name,
                "id": feature.uri,
                "line": feature.line,
                "description": "",
                "language": "en",
                "tags": [],
                "elements": elements,
            }
        )
    return document


def write_cucumber(path: Path, features: list[Feature], failed: set[int] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(cucumber_for(features, failed)), encoding="utf-8")
    return path


def write_drills(path: Path, drills: list[dict[str, Any]] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([DRILL] if drills is None else drills), encoding="utf-8")
    return path


SAMPLE_FEATURE = """\
@sample
Feature: Sample requirements for the report tests
  A feature written for these tests only: one policy requirement and one
  drill requirement, with an outline whose rows get their own results.

  Background:
    Given the DR stacks as synthesized from this repository

  @DR-ENC-01
  Scenario: The stacks meet the requirement
    When requirement DR-ENC-01 is evaluated
    Then the requirement is met with no finding

  @DR-ENC-01
  Scenario Outline: Detects: a broken copy of the stacks
    Given the change "<change>" is made to a copy of the stacks
    When requirement DR-ENC-01 is evaluated
    Then the requirement fails and names the changed resource

    Examples:
      | change                            |
      | aurora storage encryption removed |
      | key rotation off                  |

  @deploy @DR-DEP-01
  Scenario: The secondary region takes over when the primary region is lost
    Given a local two-region lab
    When the primary region is lost
    Then the measured RTO and RPO are within their targets
"""


def write_sample_features(root: Path) -> Path:
    """``root/features/sample.feature``; returns the ``features`` folder."""
    folder = root / "features"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sample.feature").write_text(SAMPLE_FEATURE, encoding="utf-8")
    return folder


def write_junit(path: Path, passed: list[str], failed: dict[str, str]) -> Path:
    """A JUnit XML as pytest writes it: one testcase per test name."""
    from xml.sax.saxutils import quoteattr

    cases = [f'<testcase classname="tests.step_defs" name={quoteattr(n)} />' for n in passed]
    cases += [
        f'<testcase classname="tests.step_defs" name={quoteattr(name)}>'
        f"<failure message={quoteattr(message)}>traceback</failure></testcase>"
        for name, message in failed.items()
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">'
        + "".join(cases)
        + "</testsuite></testsuites>",
        encoding="utf-8",
    )
    return path
