"""Run the mutation catalogue and report the kill rate."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from compliance.evaluation import Status
from compliance.mutations import CATALOGUE, Mutant, Target
from compliance.runner import CheckOptions, run_check


@dataclass(frozen=True)
class MutantOutcome:
    mutant: Mutant
    target: Target
    killed: bool
    status: str


def run_mutant(
    mutant: Mutant,
    source: Path,
    scratch: Path,
    options: CheckOptions,
    baseline: set[tuple[str, str, str, str]] | None = None,
) -> MutantOutcome:
    """Killed means: the requirement fails with a new, open finding on the broken resource.

    A finding the unmutated stacks already have (``baseline``: requirement,
    stack, address, message) does not count, and neither does a waived one:
    a mutant is caught only when the change itself shows.
    """
    copy = scratch / mutant.name.replace(" ", "-").replace("'", "")
    target = mutant.build(source, copy)
    if (copy / "cdktf.json").is_file():
        # A change to the app's source makes the copy an app of its own, judged as such
        # (as the features' step does): its source, not the original's, is scanned.
        options = replace(options, app=copy)
    result = run_check(copy, options).result(mutant.requirement)
    known = baseline or set()
    flagged = {
        (f.stack, f.address)
        for f in result.findings
        if f.waiver is None and (f.requirement, f.stack, f.address, f.message) not in known
    }
    killed = result.status is Status.FAILED and (target.stack, target.address) in flagged
    return MutantOutcome(mutant, target, killed, result.status.value)


def run_catalogue(source: Path, options: CheckOptions | None = None) -> list[MutantOutcome]:
    options = options or CheckOptions()
    unmutated = run_check(source, options)
    baseline = {(f.requirement, f.stack, f.address, f.message) for f in unmutated.findings}
    with tempfile.TemporaryDirectory(prefix="mutants-") as scratch:
        return [
            run_mutant(mutant, source, Path(scratch), options, baseline)
            for mutant in sorted(CATALOGUE.values(), key=lambda m: (m.requirement, m.name))
        ]


def render(outcomes: list[MutantOutcome]) -> str:
    lines = [
        f"{'KILLED' if o.killed else 'SURVIVED':8} {o.mutant.requirement:10} {o.mutant.name}"
        f"  -> {o.target.stack}/{o.target.address} ({o.status})"
        for o in outcomes
    ]
    killed = sum(o.killed for o in outcomes)
    rate = killed / len(outcomes) if outcomes else 0.0
    requirements = len({o.mutant.requirement for o in outcomes})
    lines.append(
        f"kill rate: {killed}/{len(outcomes)} = {rate:.0%} across {requirements} requirements"
    )
    return "\n".join(lines)
