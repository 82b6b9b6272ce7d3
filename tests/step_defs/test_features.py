"""Steps for the requirement features: synthesize, (mutate), evaluate, judge."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from pytest_bdd import given, parsers, scenarios, then, when

from compliance.evaluation import Evaluation, RequirementResult, Status
from compliance.mutations import CATALOGUE, Target
from compliance.runner import CheckOptions, run_check
from compliance.synth import REPO_ROOT

# Top-level feature files only: features/deploy (the drills) binds its own steps
# in test_deploy_features.py.
for _feature in sorted((REPO_ROOT / "features").glob("*.feature")):
    scenarios(str(_feature))
FIXTURES = REPO_ROOT / "tests" / "fixtures"


@dataclass
class Subject:
    """What the scenario judges: a synthesized folder and, if mutated, what changed."""

    path: Path
    changed: Target | None = None
    waivers: Path | None = None
    # The app source DR-SCH-03 scans; None for a hand-written example (no source).
    source: Path | None = REPO_ROOT / "infrastructure"


@pytest.fixture(scope="session")
def baseline_evaluation(synth_dir: Path) -> Evaluation:
    """The unmodified stacks are evaluated once for every scenario that needs them."""
    return run_check(synth_dir)


@given("the DR stacks as synthesized from this repository", target_fixture="subject")
def given_synthesized(synth_dir: Path) -> Subject:
    return Subject(synth_dir)


@given(
    parsers.parse('the example configuration "{name}" written by another team'),
    target_fixture="subject",
)
def given_example(name: str) -> Subject:
    """A hand-written ``*.tf.json`` from ``tests/fixtures``: a layout this app does not use."""
    path = FIXTURES / name
    assert path.is_file(), path
    return Subject(path, source=None)


@given(
    parsers.parse('the change "{change}" is made to a copy of the stacks'), target_fixture="subject"
)
def given_mutated(subject: Subject, change: str, tmp_path: Path) -> Subject:
    mutant = CATALOGUE[change]
    copy = tmp_path / "mutant"
    return Subject(copy, mutant.build(subject.path, copy))


@when(
    parsers.re(r"requirement (?P<requirement>DR-[A-Z]+-\d+) is evaluated"), target_fixture="result"
)
def when_evaluated(
    subject: Subject, requirement: str, baseline_evaluation: Evaluation
) -> RequirementResult:
    if subject.path == baseline_evaluation.model.source and subject.waivers is None:
        evaluation = baseline_evaluation
    else:
        options = CheckOptions(waivers=subject.waivers, scan_source=subject.source is not None)
        evaluation = run_check(subject.path, options)
    return evaluation.result(requirement)


@then("the requirement is met with no finding")
def then_met(result: RequirementResult) -> None:
    assert result.findings == [], [f.message for f in result.findings]
    assert result.status is Status.PASSED


@then(parsers.re(r"at least (?P<count>\d+) resources were evaluated"))
def then_evaluated_at_least(result: RequirementResult, count: str) -> None:
    assert len(result.evaluated) >= int(count), result.evaluated


@then("the requirement fails and names the changed resource")
def then_fails_on_change(result: RequirementResult, subject: Subject) -> None:
    assert subject.changed is not None
    assert result.status is Status.FAILED
    flagged = {(f.stack, f.address) for f in result.findings}
    assert (subject.changed.stack, subject.changed.address) in flagged, flagged
    assert all(re.match(r"DR-[A-Z]+-\d+$", f.requirement) for f in result.findings)


@then("the requirement is not applicable")
def then_not_applicable(result: RequirementResult) -> None:
    assert result.evaluated == [], result.evaluated
    assert result.status is Status.NOT_APPLICABLE


@then(parsers.parse('the requirement fails with a finding on "{address}"'))
def then_fails_on(result: RequirementResult, address: str) -> None:
    assert result.status is Status.FAILED
    assert address in {f.address for f in result.findings}, [f.address for f in result.findings]


_WAIVED = (
    'the finding of {requirement} on the changed resource is waived by "{reason}" until "{date}"'
)


@given(parsers.parse(_WAIVED), target_fixture="subject")
def given_waived(
    subject: Subject, requirement: str, reason: str, date: str, tmp_path: Path
) -> Subject:
    assert subject.changed is not None, "a waiver names the resource a change broke"
    waiver = {
        "requirement": requirement,
        "stack": subject.changed.stack,
        "address": subject.changed.address,
        "reason": reason,
        "owner": "platform-team",
        "expires": date,
    }
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(yaml.safe_dump({"waivers": [waiver]}), encoding="utf-8")
    return Subject(subject.path, subject.changed, waivers)


@then("the requirement is waived and the finding stays visible")
def then_waived(result: RequirementResult, subject: Subject) -> None:
    assert subject.changed is not None
    assert result.status is Status.WAIVED, [f.message for f in result.findings]
    waived = {(f.stack, f.address) for f in result.findings if f.waiver is not None}
    assert (subject.changed.stack, subject.changed.address) in waived, waived
    assert all(f.waiver is not None and f.waiver.reason for f in result.findings)
