"""Every mutant of the catalogue is caught by its own requirement (kill rate 100%)."""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance.catalogue import load_policies
from compliance.mutation_run import render, run_mutant
from compliance.mutations import CATALOGUE
from compliance.runner import CheckOptions


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_mutant_is_killed_by_its_requirement(name: str, synth_dir: Path, tmp_path: Path) -> None:
    outcome = run_mutant(CATALOGUE[name], synth_dir, tmp_path, CheckOptions())
    assert outcome.killed, f"{name} survived: {outcome.status}"


def test_every_requirement_has_a_mutant() -> None:
    requirements = {r.id for r in load_policies().requirements}
    mutated = {m.requirement for m in CATALOGUE.values()}
    assert requirements <= mutated, sorted(requirements - mutated)


def test_kill_rate_line(synth_dir: Path, tmp_path: Path) -> None:
    mutant = CATALOGUE["key rotation off"]
    outcome = run_mutant(mutant, synth_dir, tmp_path, CheckOptions())
    assert render([outcome]).endswith("kill rate: 1/1 = 100% across 1 requirements")
