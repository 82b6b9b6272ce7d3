"""Every mutant of the catalogue is caught by its own requirement (kill rate 100%)."""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance.catalogue import load_policies
from compliance.mutation_run import render, run_mutant
from compliance.mutations import CATALOGUE
from compliance.runner import CheckOptions, run_check
from compliance.synth import REPO_ROOT

# The mutants are checked as this repository's app: its settings and its
# waivers apply, as they do to the unmutated stacks.
OPTIONS = CheckOptions(app=REPO_ROOT)


@pytest.fixture(scope="module")
def baseline(synth_dir: Path) -> set[tuple[str, str, str, str]]:
    """The findings the unmutated stacks already have: a mutant must add one of its own."""
    findings = run_check(synth_dir, OPTIONS).findings
    return {(f.requirement, f.stack, f.address, f.message) for f in findings}


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_mutant_is_killed_by_its_requirement(
    name: str, synth_dir: Path, tmp_path: Path, baseline: set[tuple[str, str, str, str]]
) -> None:
    outcome = run_mutant(CATALOGUE[name], synth_dir, tmp_path, OPTIONS, baseline)
    assert outcome.killed, f"{name} survived: {outcome.status}"


def test_a_finding_the_stacks_already_have_does_not_kill(
    synth_dir: Path, tmp_path: Path, baseline: set[tuple[str, str, str, str]]
) -> None:
    """A no-op change aimed at a resource that is already flagged is not a kill."""
    from compliance.mutations import Mutant, Target

    def nothing(workspace):  # type: ignore[no-untyped-def]
        target, _ = workspace.first("primary", "aws_rds_global_cluster")
        return Target(target.stack, target.address)

    noop = Mutant("no change", "DR-RTO-01", "changes nothing", nothing)
    without_waivers = CheckOptions(app=None)
    findings = run_check(synth_dir, without_waivers).findings
    known = {(f.requirement, f.stack, f.address, f.message) for f in findings}
    assert not run_mutant(noop, synth_dir, tmp_path, without_waivers, known).killed


def test_every_requirement_has_a_mutant() -> None:
    requirements = {r.id for r in load_policies().requirements}
    mutated = {m.requirement for m in CATALOGUE.values()}
    assert requirements <= mutated, sorted(requirements - mutated)


def test_kill_rate_line(synth_dir: Path, tmp_path: Path) -> None:
    mutant = CATALOGUE["key rotation off"]
    outcome = run_mutant(mutant, synth_dir, tmp_path, CheckOptions())
    assert render([outcome]).endswith("kill rate: 1/1 = 100% across 1 requirements")
