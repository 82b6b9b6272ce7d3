"""The report document, typed: what every format (JSON, HTML, SARIF, Markdown) renders.

``compliance.json`` is this document as JSON (``to_json``), described by
``compliance.schema.json``; the pages render the same objects through their
templates. Adding to the report is a field here (with its schema entry) and a block
in a template: ``to_json`` writes every field it finds, in declaration order.

A field marked ``JSON_OMIT_NONE`` is left out of the JSON while it is None (the
schema's optional keys); a field marked ``VIEW_ONLY`` is for the pages alone (the
tokens the Gherkin grammar read each line as) and never reaches the JSON.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

from compliance.reports.feature_files import SourceLine

SCHEMA_VERSION = "2.0"
REQUIREMENT_STATUSES = ("passed", "failed", "waived", "not_applicable", "not_run")
SCENARIO_STATUSES = ("passed", "failed", "skipped", "not_run")

JSON_OMIT_NONE = {"json": "omit_none"}
VIEW_ONLY = {"json": "never"}

COVERAGE = ("evidence", "partial_evidence")  # a satisfies mapping / supports mappings only


class StatusCounted:
    """A row with one count per requirement status (summary, family, control group)."""

    passed: int
    failed: int
    waived: int
    not_applicable: int
    not_run: int

    @property
    def counts(self) -> dict[str, int]:
        return {status: getattr(self, status) for status in REQUIREMENT_STATUSES}


@dataclass
class Provenance:
    git_commit: str
    git_dirty: bool | None
    harness_version: str
    cdktf_version: str
    aws_provider: str
    provider_package: str
    policy_engine: str
    policy_sha256: str
    policy_files: list[str]
    policy_file_count: int
    python_version: str
    input: str
    generated_at: str


@dataclass
class FileDigest:
    """One file of the evidence: what it is to the run, where it was, its SHA-256."""

    role: str  # policy, settings, waivers, stack, asset, feature, ..., or an output's format
    path: str
    sha256: str
    bytes: int


@dataclass
class RunBy:
    """Who or what ran the check: the CI identity from the environment, else the local user."""

    kind: str  # github-actions or local
    name: str  # the actor (CI) or the user name (local)
    details: dict[str, str]  # workflow, run id and URL, repository, ref, host...


@dataclass
class Manifest:
    """One run's evidence manifest: what was read and written, by whom, from which commit.

    ``outputs`` lists every file of the report set but ``compliance.json`` (which
    holds this manifest) and ``evidence-manifest.json``; the latter, written
    beside the set, lists ``compliance.json`` too.
    """

    run_id: str
    started_at: str
    finished_at: str
    run_by: RunBy
    commit: str | None
    commit_reason: str | None  # why there is no commit
    dirty: bool | None
    reproducible: bool
    reproducibility: str  # the sentence the reports print
    harness_version: str
    harness_sha256: str  # over the harness's own code, templates and schemas
    inputs: list[FileDigest]
    outputs: list[FileDigest]


@dataclass
class ControlMapping:
    framework: str
    control: str
    grade: str  # satisfies or supports
    why: str


@dataclass
class ControlEvidence:
    """One requirement's part in a control's coverage."""

    requirement: str
    grade: str
    why: str
    status: str  # the requirement's status


@dataclass
class ControlCoverage:
    """What the evidence of this run covers of one control; never "passed"."""

    framework: str
    control: str
    coverage: str  # evidence (some requirement satisfies it) or partial_evidence
    requirements: list[ControlEvidence]
    open_gaps: int  # requirements mapped to it that failed or were not run


@dataclass
class OutsideControl:
    """A control this harness cannot evidence, and what evidence it needs instead."""

    framework: str
    control: str
    title: str
    needs: str


@dataclass
class ObservedValue:
    attribute: str  # e.g. replica[0].region_name
    value: Any  # as synthesized; "(masked)" when masked; None when not set
    set: bool  # false: not in the configuration (the provider's default applies)
    masked: bool
    note: str | None = field(default=None, metadata=JSON_OMIT_NONE)


@dataclass
class ObservedResource:
    """The values a policy read on one resource, so an auditor can re-perform the verdict."""

    stack: str
    address: str
    type: str
    evaluated: bool  # the resource is one of the requirement's evaluated subjects
    values: list[ObservedValue]


@dataclass
class BudgetStage:
    stage: str
    seconds: float | None  # None: unbounded or not computable
    source: str
    unbounded: bool = False


@dataclass
class BudgetPath:
    """One failover path of DR-RTO-01: its stages, their sum and the target it must fit."""

    path: str  # dns or promotion
    stack: str
    address: str
    stages: list[BudgetStage]
    total: float | None
    target: float | None


@dataclass
class ScenarioCounts:
    total: int = 0
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    not_run: int = 0


@dataclass
class TestCounts:
    """Why junit.xml's count of tests differs from the report's count of scenarios."""

    scenarios: int  # as written, an outline counted once
    outlines: int
    example_rows: int
    test_runs: int  # what pytest runs for them: one per scenario, one per outline row
    cucumber_elements: int | None  # what cucumber.json recorded (None: not read)
    junit_tests: int | None  # what junit.xml counts (None: not read)
    explanation: str


@dataclass
class FamilyRow(StatusCounted):
    family: str
    total: int
    passed: int
    failed: int
    waived: int
    not_applicable: int
    not_run: int
    status: str


@dataclass
class GroupRow(StatusCounted):
    """A control group: its controls by coverage, and its requirements by status."""

    group: str
    controls: list[str]
    evidence: list[str]  # controls some requirement satisfies
    partial_evidence: list[str]  # controls requirements only support
    total: int
    passed: int
    failed: int
    waived: int
    not_applicable: int
    not_run: int


@dataclass
class FrameworkRow:
    framework: str
    groups: list[GroupRow]


@dataclass
class Summary(StatusCounted):
    compliant: bool
    result: str  # passed or failed: the policies, the scenarios and the feature run together
    requirements: int
    passed: int
    failed: int
    waived: int
    not_applicable: int
    not_run: int
    findings: int
    waived_findings: int
    resources: int
    features_ran: bool
    features_exit_code: int | None
    scenarios: ScenarioCounts
    test_counts: TestCounts
    by_family: list[FamilyRow]
    by_framework: list[FrameworkRow]


@dataclass
class Location:
    file: str
    line: int | None


@dataclass
class Waiver:
    """A waiver as ``compliance.waivers`` states it, with the construct path it covers."""

    requirement: str
    stack: str
    address: str
    reason: str
    owner: str
    approved_by: str
    ticket: str
    risk: str
    expires: str
    compensating_control: str | None
    construct_path: str | None
    # Text the waived finding's message must contain (a waiver pinned to one finding).
    finding: str | None = None


@dataclass
class Finding:
    requirement: str
    title: str
    severity: str
    stack: str
    address: str
    construct_path: str | None
    message: str
    remediation: str
    waived: bool
    waiver: Waiver | None
    location: Location | None


@dataclass
class ScenarioRef:
    """A scenario naming a requirement, by its feature file and keyword line."""

    feature: str
    name: str
    line: int
    status: str
    purpose: str  # detects or confirms (see Scenario)


@dataclass
class Requirement:
    id: str
    title: str
    description: str
    family: str
    severity: str
    remediation: str
    controls: list[ControlMapping]
    decided_by: str  # policy or drill
    policy: str | None
    status: str
    evaluated_count: int
    evaluated: list[str]
    observed: list[ObservedResource]
    findings: list[Finding]
    waivers: list[Waiver]
    scenarios: list[ScenarioRef]
    drills: list[int]  # indices into Report.drills
    notes: list[str]  # why the verdict is what it is, where the findings do not say
    budget: list[BudgetPath] | None = field(default=None, metadata=JSON_OMIT_NONE)  # DR-RTO-01

    @property
    def control_ids(self) -> dict[str, list[str]]:
        ids: dict[str, list[str]] = {}
        for mapping in self.controls:
            ids.setdefault(mapping.framework, []).append(mapping.control)
        return ids

    @property
    def open_findings(self) -> list[Finding]:
        return [finding for finding in self.findings if not finding.waived]

    @property
    def waived_findings(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.waived]


@dataclass
class ExampleRow:
    values: list[str]
    line: int
    status: str
    error: str | None


@dataclass
class Examples:
    name: str
    line: int
    header: list[str]
    rows: list[ExampleRow]


@dataclass
class Scenario:
    name: str
    keyword: str
    line: int
    requirement: str | None
    purpose: str  # detects (a broken design is caught) or confirms (the design meets it)
    tags: list[str]
    rule: str | None
    status: str
    error: str | None
    text: str  # exactly as written, from its first tag line to its last line of content
    examples: list[Examples]
    source: list[SourceLine] = field(default_factory=list, metadata=VIEW_ONLY)

    @property
    def rows(self) -> list[ExampleRow]:
        return [row for table in self.examples for row in table.rows]

    @property
    def error_outside_rows(self) -> str | None:
        """The scenario's error, unless a row of its examples already shows it."""
        return None if any(row.error for row in self.rows) else self.error


@dataclass
class FeatureEntry:
    uri: str
    name: str
    line: int
    tags: list[str]
    description: list[str]
    header_text: str
    scenarios: list[Scenario]
    header_source: list[SourceLine] = field(default_factory=list, metadata=VIEW_ONLY)


@dataclass
class TimelineEvent:
    name: str
    at_seconds: float


@dataclass
class DrillCheck:
    name: str
    passed: bool | None
    detail: str


@dataclass
class Drill:
    title: str
    requirements: list[str]
    target: str | None
    scale_factor: float | None
    passed: bool | None
    rto_seconds: float | None
    rpo_seconds: float | None
    rto_target_seconds: float | None
    rpo_target_seconds: float | None
    static_budget_seconds: float | None
    timeline: list[TimelineEvent]
    checks: list[DrillCheck]
    stand_ins: dict[str, str]
    engines: dict[str, str]
    knobs: dict[str, Any]
    notes: list[str]
    started_at: str | None
    duration_seconds: float | None
    unscaled: dict[str, Any] | None  # the production-scale knobs and targets, as recorded
    measurements: dict[str, Any]
    judged_by: str  # the drill's own criterion, from its checks (not always the targets)


@dataclass
class Sources:
    cucumber: str | None
    junit: str | None
    drills: str | None
    notes: list[str]


@dataclass
class Scope:
    """The plain-English statement at the top of both pages: what was and was not checked."""

    checked: list[str]
    not_checked: list[str]
    limitations: list[str]
    targets: dict[str, Any]  # the organisation's targets the verdicts used (settings)


@dataclass
class Report:
    schema_version: str
    provenance: Provenance
    manifest: Manifest
    scope: Scope
    summary: Summary
    requirements: list[Requirement]
    findings: list[Finding]
    waivers: list[Waiver]
    coverage: list[ControlCoverage]
    outside_evidence: list[OutsideControl]
    features: list[FeatureEntry]
    drills: list[Drill] | None = field(metadata=JSON_OMIT_NONE)  # None: no drills file read
    sources: Sources
    notes: list[str]  # about the check: waivers that matched nothing, the app found...

    def requirement(self, rid: str) -> Requirement | None:
        return next((r for r in self.requirements if r.id == rid), None)

    def drills_of(self, requirement: Requirement) -> list[tuple[int, Drill]]:
        """(index, drill) of each drill record deciding ``requirement``."""
        drills = self.drills or []
        return [(i, drills[i]) for i in requirement.drills if 0 <= i < len(drills)]


def to_json(value: Any) -> Any:
    """A document object as JSON data: every field in declaration order (see the markers)."""
    if is_dataclass(value) and not isinstance(value, type):
        data: dict[str, Any] = {}
        for item in fields(value):
            marker = item.metadata.get("json")
            content = getattr(value, item.name)
            if marker == "never" or (marker == "omit_none" and content is None):
                continue
            data[item.name] = to_json(content)
        return data
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    return value


def natural_key(text: str) -> list[Any]:
    """``SC-8`` before ``SC-28``: control IDs in the order their catalogues use."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]
