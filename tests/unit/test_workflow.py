"""The GitHub Actions workflow shipped for the user's CI.

Validated offline against GitHub's workflow schema (``check-jsonschema
--builtin-schema vendor.github-workflows``), then read for what it must
do: run the main job on every push and pull request, keep ``reports/`` as
an artifact even when the job fails, upload the SARIF to code scanning and
write ``summary.md`` to the job summary.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from compliance.synth import REPO_ROOT

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "compliance.yml"


def _validate(path: Path) -> subprocess.CompletedProcess[str]:
    if importlib.util.find_spec("check_jsonschema") is None:
        message = "PyPI package check-jsonschema is not installed (requirements-test.txt)"
        if os.environ.get("DR_STRICT"):
            pytest.fail(message)
        pytest.skip(message)
    command = [sys.executable, "-m", "check_jsonschema", "--builtin-schema"]
    return subprocess.run(
        [*command, "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _workflow() -> dict[str, Any]:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def _steps() -> list[dict[str, Any]]:
    jobs = _workflow()["jobs"]
    return [step for job in jobs.values() for step in job["steps"]]


def test_the_workflow_validates_against_the_github_schema() -> None:
    result = _validate(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    document = _workflow()
    job = next(iter(document["jobs"].values()))
    del job["runs-on"]
    job["steps"][0]["uses"] = 42
    broken = tmp_path / "broken.yml"
    broken.write_text(yaml.safe_dump(document), encoding="utf-8")
    assert _validate(broken).returncode != 0


def test_it_runs_on_every_push_and_pull_request() -> None:
    document = _workflow()
    triggers = document.get("on", document.get(True))  # YAML 1.1 reads a bare `on` as true
    names = set(triggers) if isinstance(triggers, dict | list) else {triggers}
    assert {"push", "pull_request"} <= names
    for name in ("push", "pull_request"):
        if isinstance(triggers, dict):
            assert not (triggers[name] or {}).get("branches"), f"{name} is limited to branches"


def test_it_runs_the_main_job() -> None:
    commands = " ".join(step.get("run", "") for step in _steps())
    assert "tox -e compliance" in commands or "python -m compliance run" in commands


def _step(uses_prefix: str) -> dict[str, Any]:
    found = [s for s in _steps() if str(s.get("uses", "")).startswith(uses_prefix)]
    assert len(found) == 1, f"one step using {uses_prefix}"
    return found[0]


def test_reports_are_kept_as_an_artifact_even_when_the_job_fails() -> None:
    step = _step("actions/upload-artifact@")
    assert "always()" in step.get("if", "")
    assert step["with"]["path"].rstrip("/") == "reports"


def test_the_sarif_goes_to_code_scanning() -> None:
    step = _step("github/codeql-action/upload-sarif@")
    assert step["with"]["sarif_file"] == "reports/compliance.sarif"
    assert "always()" in step.get("if", "")
    assert _workflow()["permissions"]["security-events"] == "write"


def test_summary_md_goes_to_the_job_summary() -> None:
    steps = [s for s in _steps() if "GITHUB_STEP_SUMMARY" in s.get("run", "")]
    assert steps and "reports/summary.md" in steps[0]["run"]
    assert "always()" in steps[0].get("if", "")


def test_the_reports_are_attested_by_the_workflow_identity() -> None:
    """Signed build provenance over the report set, with the permissions the action needs."""
    step = _step("actions/attest-build-provenance@")
    subjects = step["with"]["subject-path"].split()
    for name in ("evidence-manifest.json", "compliance.json", "compliance.html", "summary.md"):
        assert f"reports/{name}" in subjects, name
    assert "always()" in step.get("if", "") and "evidence-manifest.json" in step["if"]
    permissions = _workflow()["permissions"]
    assert permissions["id-token"] == "write" and permissions["attestations"] == "write"
    steps = _steps()
    build = next(i for i, s in enumerate(steps) if "tox -e compliance" in s.get("run", ""))
    assert steps.index(step) > build, "the reports are attested after they are written"


def test_a_workflow_without_the_attestation_permissions_is_caught(tmp_path: Path) -> None:
    """The schema check alone does not know what the action needs: the test above does."""
    document = _workflow()
    document["permissions"]["id-token"] = "wirte"
    broken = tmp_path / "broken.yml"
    broken.write_text(yaml.safe_dump(document), encoding="utf-8")
    assert _validate(broken).returncode != 0


CODEOWNERS = REPO_ROOT / ".github" / "CODEOWNERS"


def _owners() -> dict[str, list[str]]:
    rules = {}
    for line in CODEOWNERS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            pattern, *owners = line.split()
            rules[pattern] = owners
    return rules


def test_a_reviewing_team_owns_the_policies_settings_and_waivers() -> None:
    rules = _owners()
    for pattern in ("/policies/", "/policies/waivers.yaml", "/policies/settings.yaml"):
        owners = rules.get(pattern)
        assert owners, f"{pattern} has no code owner"
        assert all(re.fullmatch(r"@[\w.-]+/[\w.-]+", owner) for owner in owners), owners
    assert len({tuple(owners) for owners in rules.values()}) == 1, "one reviewing team"
