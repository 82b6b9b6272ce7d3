"""What this run's evidence covers of each control, and what it cannot cover.

Each requirement's mapping is graded in the catalogue: it *satisfies* a control
(it checks what the control asks of this system's configuration) or *supports*
it (it is part of the evidence). A control some requirement satisfies has
"evidence"; one that requirements only support has "partial evidence". Neither
is a verdict on the control: a control is an organisation's, and a
configuration check or a lab drill is only part of what an assessor examines.
The requirements behind a control keep their own status, and a control with a
failed (or not run) requirement shows that gap.

``OUTSIDE_EVIDENCE`` lists the controls a DR assessment expects that this
harness cannot produce evidence for: they need documents, people or tests of
the real environment.
"""

from __future__ import annotations

from collections.abc import Callable

from compliance.catalogue import FRAMEWORKS
from compliance.reports.document import (
    ControlCoverage,
    ControlEvidence,
    FrameworkRow,
    GroupRow,
    OutsideControl,
    Requirement,
    natural_key,
)

GAP_STATUSES = ("failed", "not_run")
StatusCounter = Callable[[list[Requirement]], dict[str, int]]  # status -> how many

OUTSIDE_EVIDENCE = (
    OutsideControl(
        "nist-800-53",
        "CP-2",
        "Contingency plan",
        "A documented, approved DR plan with roles, responsibilities and contacts; the "
        "harness checks a design, not a plan.",
    ),
    OutsideControl(
        "nist-800-53",
        "CP-3",
        "Contingency training",
        "Records that the people who run a failover are trained for it.",
    ),
    OutsideControl(
        "nist-800-53",
        "CP-4",
        "Contingency plan testing",
        "A test or exercise of the plan in the real environment (a game day); the failover "
        "drills here are a local simulation and give partial evidence only.",
    ),
    OutsideControl(
        "nist-800-53",
        "CP-9(1)",
        "System backup: testing for reliability and integrity",
        "A restore of a backup or snapshot that was actually performed and checked.",
    ),
    OutsideControl(
        "nist-800-53",
        "IR-4",
        "Incident handling",
        "An incident response process and records of incidents handled; an alarm is not one.",
    ),
    OutsideControl(
        "soc2",
        "A1.3",
        "Recovery plan testing",
        "Periodic tests of the recovery plan procedures, with results; partial evidence "
        "comes from the local failover drills only.",
    ),
    OutsideControl(
        "soc2",
        "CC7.5",
        "Recovery from identified incidents",
        "Evidence of recovery activities performed after incidents.",
    ),
    OutsideControl(
        "iso-27001",
        "A.5.29",
        "Information security during disruption",
        "Plans for keeping security controls in place during a disruption, and their review.",
    ),
    OutsideControl(
        "iso-27001",
        "A.8.13",
        "Information backup: regular testing",
        "Restore tests of backups at the interval the backup policy sets.",
    ),
)


def coverage(requirements: list[Requirement]) -> list[ControlCoverage]:
    """Each control any requirement maps, with how much evidence this run gives for it."""
    mapped: dict[tuple[str, str], list[ControlEvidence]] = {}
    for requirement in requirements:
        for mapping in requirement.controls:
            mapped.setdefault((mapping.framework, mapping.control), []).append(
                ControlEvidence(requirement.id, mapping.grade, mapping.why, requirement.status)
            )
    order = {framework: index for index, framework in enumerate(FRAMEWORKS)}
    keys = sorted(mapped, key=lambda k: (order.get(k[0], len(order)), k[0], natural_key(k[1])))
    return [
        ControlCoverage(
            framework=framework,
            control=control,
            coverage=_coverage(mapped[framework, control]),
            requirements=mapped[framework, control],
            open_gaps=sum(e.status in GAP_STATUSES for e in mapped[framework, control]),
        )
        for framework, control in keys
    ]


def _coverage(evidence: list[ControlEvidence]) -> str:
    return "evidence" if any(e.grade == "satisfies" for e in evidence) else "partial_evidence"


def outside_evidence() -> list[OutsideControl]:
    """The controls no run of this harness can evidence."""
    return list(OUTSIDE_EVIDENCE)


def control_group(framework: str, control: str) -> str:
    """NIST ``SC-28`` -> ``SC``; SOC 2 ``CC6.1`` -> ``CC6``; ISO ``A.8.24`` -> ``A.8``."""
    if framework == "nist-800-53":
        return control.split("-")[0]
    if framework == "iso-27001":
        return ".".join(control.split(".")[:2])
    return control.split(".")[0]


def by_framework(
    requirements: list[Requirement], controls: list[ControlCoverage], counts: StatusCounter
) -> list[FrameworkRow]:
    """Per framework group: its controls by coverage, its requirements by status."""
    named = {mapping.framework for r in requirements for mapping in r.controls}
    frameworks = [*FRAMEWORKS, *sorted(named - set(FRAMEWORKS))]
    return [
        FrameworkRow(f, _groups(f, requirements, controls, counts))
        for f in frameworks
        if f in named
    ]


def _groups(
    framework: str,
    requirements: list[Requirement],
    controls: list[ControlCoverage],
    counts: StatusCounter,
) -> list[GroupRow]:
    members: dict[str, list[Requirement]] = {}
    for requirement in requirements:
        groups = {control_group(framework, c) for c in requirement.control_ids.get(framework, [])}
        for group in groups:
            members.setdefault(group, []).append(requirement)
    rows = []
    for group in sorted(members, key=natural_key):
        own = [c for c in controls if c.framework == framework]
        own = [c for c in own if control_group(framework, c.control) == group]
        rows.append(
            GroupRow(
                group=group,
                controls=[c.control for c in own],
                evidence=[c.control for c in own if c.coverage == "evidence"],
                partial_evidence=[c.control for c in own if c.coverage == "partial_evidence"],
                total=len(members[group]),
                **counts(members[group]),
            )
        )
    return rows
