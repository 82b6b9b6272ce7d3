"""One report document from an evaluation and a feature run; every format renders it.

``build_document`` joins what the policies decided (the evaluation), what the
features said (pytest-bdd's ``cucumber.json``, corrected by ``junit.xml``), what
the failover drills measured (``drills.json``) and where it all came from
(provenance, the evidence manifest) into one typed ``Report``. ``write_reports``
builds it once and writes JSON, HTML, SARIF, Markdown, the living documentation
and the evidence manifest from it as one set (``publish``), so no two formats can
disagree, not even with a concurrent run's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compliance.catalogue import ControlMapping as CatalogueMapping
from compliance.evaluation import Evaluation, Finding, RequirementResult
from compliance.reports import coverage as control_coverage
from compliance.reports import drills as drill_records
from compliance.reports import feature_run, html_report, living_doc, publish, sarif, summary_md
from compliance.reports.document import (
    REQUIREMENT_STATUSES,
    SCENARIO_STATUSES,
    SCHEMA_VERSION,
    BudgetPath,
    BudgetStage,
    ControlMapping,
    Drill,
    FamilyRow,
    FeatureEntry,
    Report,
    Requirement,
    ScenarioCounts,
    ScenarioRef,
    Sources,
    Summary,
    TestCounts,
    Waiver,
    to_json,
)
from compliance.reports.document import Finding as FindingEntry
from compliance.reports.feature_files import (
    Block,
    Feature,
    GherkinError,
    is_drill_requirement,
    load_features,
)
from compliance.reports.feature_run import NOT_RUN_NOTE, FeatureRun, feature_entry
from compliance.reports.locations import Locator
from compliance.reports.manifest import MANIFEST, add_outputs, start_manifest
from compliance.reports.observed import mask_credentials, observed
from compliance.reports.provenance import harness_version, provenance
from compliance.reports.scope import scope
from compliance.synth import REPO_ROOT

HTML = "compliance.html"
JSON = "compliance.json"
SARIF = "compliance.sarif"
SUMMARY = "summary.md"
CUCUMBER = "cucumber.json"
JUNIT = feature_run.JUNIT
DRILLS = "drills.json"
LIVING_DOC = living_doc.LIVING_DOC
SCREENSHOT = "compliance.png"
EVIDENCE_MANIFEST = MANIFEST
FEATURES_ROOT = REPO_ROOT / "features"

DRILL_DESCRIPTION = (
    "Decided by the deploy-phase failover drills, which fail a region of a running "
    "deployment and measure the recovery time and point, not by a Rego policy."
)
DRILL_REMEDIATION = (
    "Run the failover drills (python -m compliance drill, or the @deploy features) and "
    "fix what makes a measured RTO or RPO miss its target, or a drill check fail."
)
# Worst first: a family takes the worst status of its requirements.
_FAMILY_RANK = {"failed": 0, "waived": 1, "not_run": 2, "passed": 3, "not_applicable": 4}


@dataclass
class Written:
    report: Report
    document: dict[str, Any]  # the report as compliance.json holds it
    paths: dict[str, Path]


def write_reports(
    evaluation: Evaluation,
    report_dir: Path,
    *,
    features_root: Path = FEATURES_ROOT,
    cucumber: Path | None = None,
    junit: Path | None = None,
    drills: Path | None = None,
    features_exit_code: int | None = None,
    notes: list[str] | None = None,
    now: dt.datetime | None = None,
) -> Written:
    """Build the document once; write every format from it (not junit/cucumber: pytest does)."""
    report = build_document(
        evaluation,
        features_root=features_root,
        cucumber=cucumber,
        junit=junit,
        drills=drills,
        features_exit_code=features_exit_code,
        notes=notes,
        now=now,
    )
    return write_report_set(report, report_dir)


def write_report_set(report: Report, report_dir: Path) -> Written:
    """Render every format of ``report`` and publish them into ``report_dir`` as one set.

    The pages are rendered first and hashed into the manifest's outputs; then
    ``compliance.json`` (holding that manifest), and ``evidence-manifest.json``,
    the same manifest with ``compliance.json``'s hash added.
    """
    texts = {
        HTML: html_report.render_html(report),
        SARIF: json.dumps(sarif.render_sarif(report), indent=2) + "\n",
        SUMMARY: summary_md.render_summary(report),
        LIVING_DOC: living_doc.render_living_doc(report),
    }
    manifest = dataclasses.replace(report.manifest, outputs=list(report.manifest.outputs))
    add_outputs(manifest, texts)
    report = dataclasses.replace(report, manifest=manifest)
    document = to_json(report)
    texts[JSON] = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    whole = dataclasses.replace(manifest, outputs=list(manifest.outputs))
    add_outputs(whole, {JSON: texts[JSON]})
    texts[EVIDENCE_MANIFEST] = json.dumps(to_json(whole), indent=2, ensure_ascii=False) + "\n"
    paths = publish.publish(report_dir, texts)
    keys = {
        JSON: "json",
        HTML: "html",
        SARIF: "sarif",
        SUMMARY: "summary",
        LIVING_DOC: "living_doc",
        EVIDENCE_MANIFEST: "manifest",
    }
    return Written(report, document, {keys[name]: path for name, path in paths.items()})


def build_document(
    evaluation: Evaluation,
    *,
    features_root: Path = FEATURES_ROOT,
    cucumber: Path | None = None,
    junit: Path | None = None,
    drills: Path | None = None,
    features_exit_code: int | None = None,
    notes: list[str] | None = None,
    now: dt.datetime | None = None,
) -> Report:
    """The report document (``compliance.schema.json`` describes its JSON)."""
    now = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
    notes = list(notes or [])
    features = _read_features(features_root, notes)
    run = FeatureRun.read(cucumber, junit, notes)
    if not run.ran and not any(NOT_RUN_NOTE in note for note in notes):
        notes.append(NOT_RUN_NOTE)
    feature_entries = [feature_entry(feature, run) for feature in features]
    drill_list, drills_source = _read_drills(drills, notes)
    findings = _findings(evaluation)
    refs = _scenario_refs(features, feature_entries)
    requirements = [
        _policy_requirement(r, findings, refs, evaluation, notes) for r in evaluation.results
    ]
    requirements += _drill_requirements(evaluation, features, drill_list or [], refs)
    controls = control_coverage.coverage(requirements)
    summary = _summary(evaluation, requirements, feature_entries, features, run, features_exit_code)
    summary.by_framework = control_coverage.by_framework(requirements, controls, _status_counts)
    read = [("feature", feature.path) for feature in features]
    read += [
        (role, path)
        for role, path in (
            ("feature results", run.cucumber),
            ("feature results", run.junit),
            ("drill results", drills_source),
        )
        if path is not None
    ]
    finished = dt.datetime.now(dt.UTC).replace(microsecond=0)  # the clock, whatever `now` says
    manifest = start_manifest(
        evaluation, read, finished=finished, harness_version=harness_version()
    )
    return Report(
        schema_version=SCHEMA_VERSION,
        provenance=provenance(evaluation, now, manifest),
        manifest=manifest,
        scope=scope(
            evaluation,
            drill_list,
            features_ran=run.ran,
            scenarios=summary.scenarios.total,
            requirements=len(requirements),
        ),
        summary=summary,
        requirements=requirements,
        findings=findings,
        waivers=[f.waiver for f in findings if f.waiver is not None],
        coverage=controls,
        outside_evidence=control_coverage.outside_evidence(),
        features=feature_entries,
        drills=drill_list,
        sources=Sources(
            cucumber=str(run.cucumber) if run.cucumber else None,
            junit=str(run.junit) if run.junit else None,
            drills=str(drills_source) if drills_source else None,
            notes=notes,
        ),
        notes=list(evaluation.notes),
    )


def _read_features(root: Path, notes: list[str]) -> list[Feature]:
    try:
        return load_features(root, REPO_ROOT)
    except GherkinError as error:  # the report still shows what the policies decided
        notes.append(f"the features could not be read: {error}")
        return []


# --- Findings ------------------------------------------------------------------------


def _findings(evaluation: Evaluation) -> list[FindingEntry]:
    locator = Locator(evaluation.model)
    by_id = {result.requirement.id: result.requirement for result in evaluation.results}
    entries = []
    for finding in evaluation.findings:
        requirement = by_id[finding.requirement]
        entries.append(
            FindingEntry(
                requirement=finding.requirement,
                title=requirement.title,
                severity=requirement.severity,
                stack=finding.stack,
                address=finding.address,
                construct_path=finding.construct_path,
                message=mask_credentials(finding.message),
                remediation=requirement.remediation,
                waived=finding.waiver is not None,
                waiver=_waiver(finding),
                location=locator.locate(finding.stack, finding.address),
            )
        )
    return entries


def _waiver(finding: Finding) -> Waiver | None:
    if finding.waiver is None:
        return None
    # Every field the waiver states (a new one fails here until the document has it too).
    return Waiver(**finding.waiver.to_dict(), construct_path=finding.construct_path)


# --- Drills ------------------------------------------------------------------------


def _read_drills(path: Path | None, notes: list[str]) -> tuple[list[Drill] | None, Path | None]:
    """Normalized drill records, or None (no ``drills`` key) when absent or malformed."""
    if path is None or not path.is_file():
        return None, None
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        notes.append(f"{path} could not be read ({error}): the drills are not shown")
        return None, None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        notes.append(f"{path} is not a JSON list of drill records: the drills are not shown")
        return None, None
    return [drill_records.normalize(record) for record in records], path


# --- Requirements -------------------------------------------------------------------


ScenarioRefs = dict[str, list[ScenarioRef]]


def _scenario_refs(features: list[Feature], entries: list[FeatureEntry]) -> ScenarioRefs:
    """Requirement ID to its scenarios (a malformed block with two IDs shows under both)."""
    refs: ScenarioRefs = {}
    for feature, entry in zip(features, entries, strict=True):
        for block, scenario in zip(feature.scenarios, entry.scenarios, strict=True):
            for rid in block.requirement_ids:
                refs.setdefault(rid, []).append(
                    ScenarioRef(
                        feature.uri, block.name, block.line, scenario.status, scenario.purpose
                    )
                )
    return refs


def _policy_requirement(
    result: RequirementResult,
    findings: list[FindingEntry],
    refs: ScenarioRefs,
    evaluation: Evaluation,
    notes: list[str],
) -> Requirement:
    requirement = result.requirement
    own = [f for f in findings if f.requirement == requirement.id]
    return Requirement(
        id=requirement.id,
        title=requirement.title,
        description=requirement.description,
        family=requirement.family,
        severity=requirement.severity,
        remediation=requirement.remediation,
        controls=_mappings(requirement.controls),
        decided_by="policy",
        policy=requirement.policy,
        status=result.status.value,
        evaluated_count=len(result.evaluated),
        evaluated=list(result.evaluated),
        observed=observed(requirement, result.evaluated, evaluation.model),
        findings=own,
        waivers=[f.waiver for f in own if f.waiver is not None],
        scenarios=refs.get(requirement.id, []),
        drills=[],
        notes=list(result.notes),
        budget=_budget(result.details.get("budget"), requirement.id, notes),
    )


def _mappings(controls: tuple[CatalogueMapping, ...]) -> list[ControlMapping]:
    return [ControlMapping(m.framework, m.control, m.grade, m.why) for m in controls]


def _budget(raw: Any, rid: str, notes: list[str]) -> list[BudgetPath] | None:
    """DR-RTO-01's per-stage budget as its policy publishes it; malformed: a note, not a crash."""
    if raw is None:
        return None
    try:
        return [
            BudgetPath(
                path=str(item["path"]),
                stack=str(item.get("stack", "")),
                address=str(item.get("address", "")),
                stages=[
                    BudgetStage(
                        stage=str(stage["stage"]),
                        seconds=_number(stage.get("seconds")),
                        source=str(stage.get("source", "")),
                        unbounded=stage.get("unbounded") is True,
                    )
                    for stage in item["stages"]
                ],
                total=_number(item.get("total")),
                target=_number(item.get("target")),
            )
            for item in raw
        ]
    except (TypeError, KeyError) as error:
        notes.append(f"{rid} published a budget the report cannot read ({error!r}): not shown")
        return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _drill_requirements(
    evaluation: Evaluation, features: list[Feature], drills: list[Drill], refs: ScenarioRefs
) -> list[Requirement]:
    """DR-DEP-xx: named by the @deploy scenarios, the drill records or policies/drills.yaml."""
    blocks = [block for feature in features for block in feature.scenarios]
    ids = {rid for block in blocks for rid in block.requirement_ids}
    ids |= {rid for drill in drills for rid in drill.requirements}
    ids |= set(evaluation.policies.drills)
    policy_ids = {result.requirement.id for result in evaluation.results}
    drill_ids = sorted(rid for rid in ids if is_drill_requirement(rid) and rid not in policy_ids)
    return [
        _drill_requirement(rid, blocks, drills, refs.get(rid, []), evaluation) for rid in drill_ids
    ]


def _drill_requirement(
    rid: str,
    blocks: list[Block],
    drills: list[Drill],
    scenarios: list[ScenarioRef],
    evaluation: Evaluation,
) -> Requirement:
    own_blocks = [block for block in blocks if rid in block.requirement_ids]
    indices = [i for i, drill in enumerate(drills) if rid in drill.requirements]
    catalogued = evaluation.policies.drills.get(rid)
    if own_blocks:
        title = own_blocks[0].name
    else:
        title = drills[indices[0]].title if indices else rid
    notes = [] if catalogued else [f"{rid} has no entry in policies/drills.yaml: no control"]
    description = DRILL_DESCRIPTION
    if catalogued and catalogued.description:
        description = f"{DRILL_DESCRIPTION} {catalogued.description}"
    return Requirement(
        id=rid,
        title=title,
        description=description,
        family=rid.split("-")[1],
        severity="high",
        remediation=DRILL_REMEDIATION,
        controls=_mappings(catalogued.controls) if catalogued else [],
        decided_by="drill",
        policy=None,
        status=_drill_status([drills[i] for i in indices], scenarios),
        evaluated_count=len(indices),
        evaluated=[f"drill {i}: {drills[i].title}" for i in indices],
        observed=[],
        findings=[],
        waivers=[],
        scenarios=scenarios,
        drills=indices,
        notes=notes,
    )


def _drill_status(drills: list[Drill], scenarios: list[ScenarioRef]) -> str:
    """Failed on any failed drill or scenario; passed on at least one pass and no failure.

    A passed @deploy scenario is evidence on its own: its steps ran a drill and
    checked the targets. A drill without a verdict, or a scenario skipped or not
    run, is no evidence either way.
    """
    verdicts = [d.passed for d in drills if d.passed is not None]
    verdicts += [s.status == "passed" for s in scenarios if s.status in ("passed", "failed")]
    if False in verdicts:
        return "failed"
    return "passed" if verdicts else "not_run"


# --- Summary ----------------------------------------------------------------------


def _summary(
    evaluation: Evaluation,
    requirements: list[Requirement],
    entries: list[FeatureEntry],
    features: list[Feature],
    run: FeatureRun,
    features_exit_code: int | None,
) -> Summary:
    counts = _status_counts(requirements)
    scenarios = [s for f in entries for s in f.scenarios]
    scenario_counts = {status: 0 for status in SCENARIO_STATUSES}
    for scenario in scenarios:
        scenario_counts[scenario.status] += 1
    failed = (
        counts["failed"] > 0
        or scenario_counts["failed"] > 0
        or features_exit_code not in (None, 0)
        or bool(run.orphan_failures)
    )
    totals = evaluation.summary()
    return Summary(
        compliant=evaluation.compliant,
        result="failed" if failed else "passed",
        requirements=len(requirements),
        **counts,
        findings=totals["findings"],
        waived_findings=totals["waived_findings"],
        resources=totals["resources"],
        features_ran=run.ran,
        features_exit_code=features_exit_code,
        scenarios=ScenarioCounts(total=len(scenarios), **scenario_counts),
        test_counts=_test_counts(features, run),
        by_family=_by_family(requirements),
        by_framework=[],  # build_document adds them, with the control coverage
    )


def _status_counts(requirements: list[Requirement]) -> dict[str, int]:
    counts = {status: 0 for status in REQUIREMENT_STATUSES}
    for requirement in requirements:
        counts[requirement.status] += 1
    return counts


def _by_family(requirements: list[Requirement]) -> list[FamilyRow]:
    rows = []
    for family in sorted({r.family for r in requirements}):
        counts = _status_counts([r for r in requirements if r.family == family])
        status = min((s for s in REQUIREMENT_STATUSES if counts[s]), key=_FAMILY_RANK.__getitem__)
        rows.append(FamilyRow(family=family, total=sum(counts.values()), **counts, status=status))
    return rows


def _test_counts(features: list[Feature], run: FeatureRun) -> TestCounts:
    """Why junit.xml counts more tests than the report counts scenarios, in one paragraph."""
    blocks = [block for feature in features for block in feature.scenarios]
    outlines = [block for block in blocks if block.examples]
    rows = sum(len(table.rows) for block in outlines for table in block.examples)
    runs = len(blocks) - len(outlines) + rows
    elements = len(run.elements) if run.ran else None
    text = (
        f"{len(blocks)} scenarios are written in {len(features)} feature files; "
        f"{len(outlines)} of them are Scenario Outlines with {rows} example rows in all. "
        f"pytest runs one test per scenario and one per example row: {runs} tests."
    )
    if not run.ran:
        text += " The features were not run: none of these tests ran."
    elif elements is not None and elements != runs:
        text += f" cucumber.json recorded {elements} of them."
    if run.junit_tests is not None:
        extra = run.junit_tests - runs
        if extra == 0:
            text += f" junit.xml counts the same {runs} tests."
        elif extra > 0:
            text += (
                f" junit.xml counts {run.junit_tests} tests: these {runs} and {extra} other "
                "test(s) of the same pytest session."
            )
        else:
            text += (
                f" junit.xml counts {run.junit_tests} tests: {-extra} scenario test(s) did "
                "not run in that session (deselected, such as the @deploy drills, or not "
                "collected)."
            )
    return TestCounts(
        scenarios=len(blocks),
        outlines=len(outlines),
        example_rows=rows,
        test_runs=runs,
        cucumber_elements=elements,
        junit_tests=run.junit_tests,
        explanation=text,
    )
