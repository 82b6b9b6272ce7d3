"""Steps for the requirement features: synthesize, (mutate), evaluate, judge."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from compliance.evaluation import Evaluation, RequirementResult, Status
from compliance.mutations import CATALOGUE, Target
from compliance.runner import run_check
from compliance.synth import REPO_ROOT

scenarios(str(REPO_ROOT / "features"))
FIXTURES = REPO_ROOT / "tests" / "fixtures"


@dataclass
class Subject:
    """What the scenario judges: a synthesized folder and, if mutated, what changed."""

    path: Path
    changed: Target | None = None


@pytest.fixture(scope="session")
def baseline_evaluation(synth_dir: Path) -> Evaluation:
    """The unmodified stacks are evaluated once for every scenario that needs them."""
    return run_check(synth_dir)


@given("the DR stacks as synthesized from this repository", target_fixture="subject")
def given_synthesized(synth_dir: Path) -> Subject:
    return Subject(synth_dir)


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
    evaluation = baseline_evaluation if subject.changed is None else run_check(subject.path)
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
