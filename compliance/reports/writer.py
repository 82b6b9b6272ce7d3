"""One report document from an evaluation and a feature run; every format renders it.

``build_document`` joins what the policies decided (the evaluation), what
the features said (pytest-bdd's ``cucumber.json``, corrected by
``junit.xml``), what the failover drills measured (``drills.json``) and
where it all came from (provenance). ``write_reports`` builds it once and
writes JSON, HTML, SARIF, Markdown and the living documentation from it, so
no two formats can disagree.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import re
import subprocess
import tomllib
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from compliance.evaluation import Evaluation, Finding, RequirementResult
from compliance.model import Model, Stack
from compliance.reports import drills as drill_records
from compliance.reports import json_report, sarif, summary_md
from compliance.reports.features_doc import (
    Block,
    Feature,
    GherkinError,
    is_drill_requirement,
    load_features,
)
from compliance.synth import REPO_ROOT

HTML = "compliance.html"
JSON = "compliance.json"
SARIF = "compliance.sarif"
SUMMARY = "summary.md"
JUNIT = "junit.xml"
CUCUMBER = "cucumber.json"
DRILLS = "drills.json"
LIVING_DOC = "living-documentation.html"
SCREENSHOT = "compliance.png"
FEATURES_ROOT = REPO_ROOT / "features"

HARNESS_PACKAGE = "dr-compliance-harness"
PROVIDER_PACKAGE = "cdktf-cdktf-provider-aws"
FRAMEWORKS = ("nist-800-53", "soc2", "iso-27001")
STATUSES = ("passed", "failed", "waived", "not_applicable", "not_run")
SCENARIO_STATUSES = ("passed", "failed", "skipped", "not_run")
NOT_RUN_NOTE = "the features were not run"
DRILL_DESCRIPTION = (
    "Decided by the deploy-phase failover drills, which fail a region of a running "
    "deployment and measure the recovery time and point, not by a Rego policy."
)
DRILL_REMEDIATION = (
    "Run the failover drills (python -m compliance drill, or the @deploy features) and "
    "fix what makes a measured RTO or RPO miss its target, or a drill check fail."
)

# Worst first: an outline (or requirement) takes the worst status of its parts.
_SCENARIO_RANK = {"failed": 0, "skipped": 1, "not_run": 2, "passed": 3}
_FAMILY_RANK = {"failed": 0, "waived": 1, "not_run": 2, "passed": 3, "not_applicable": 4}


@dataclass
class Written:
    document: dict[str, Any]
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
    # Imported here: the page renderers may import this module's file names.
    from compliance.reports.html_report import render_html
    from compliance.reports.living_doc import write_living_doc

    document = build_document(
        evaluation,
        features_root=features_root,
        cucumber=cucumber,
        junit=junit,
        drills=drills,
        features_exit_code=features_exit_code,
        notes=notes,
        now=now,
    )
    report_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": json_report.write_json(document, report_dir / JSON),
        "html": _write_text(report_dir / HTML, render_html(document)),
        "sarif": _write_text(
            report_dir / SARIF, json.dumps(sarif.render_sarif(document), indent=2) + "\n"
        ),
        "summary": _write_text(report_dir / SUMMARY, summary_md.render_summary(document)),
        "living_doc": write_living_doc(document, report_dir / LIVING_DOC),
    }
    return Written(document, paths)


def _write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


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
) -> dict[str, Any]:
    """The report document (``compliance.schema.json``)."""
    notes = list(notes or [])
    features = _read_features(features_root, notes)
    run = FeatureRun.read(cucumber, junit, notes)
    if not run.ran and not any(NOT_RUN_NOTE in note for note in notes):
        notes.append(NOT_RUN_NOTE)
    feature_entries = [_feature_entry(feature, run) for feature in features]
    drill_list, drills_source = _read_drills(drills, notes)
    findings = _findings(evaluation)
    refs = _scenario_refs(features, feature_entries)
    requirements = [_policy_requirement(r, findings, refs) for r in evaluation.results]
    requirements += _drill_requirements(evaluation, features, drill_list or [], refs)
    document: dict[str, Any] = {
        "schema_version": json_report.SCHEMA_VERSION,
        "provenance": provenance(evaluation, now),
        "summary": _summary(evaluation, requirements, feature_entries, run, features_exit_code),
        "requirements": requirements,
        "findings": findings,
        "waivers": [f["waiver"] for f in findings if f["waiver"] is not None],
        "features": feature_entries,
    }
    if drill_list is not None:
        document["drills"] = drill_list
    document["sources"] = {
        "cucumber": str(run.cucumber) if run.cucumber else None,
        "junit": str(run.junit) if run.junit else None,
        "drills": str(drills_source) if drills_source else None,
        "notes": notes,
    }
    return document


def _read_features(root: Path, notes: list[str]) -> list[Feature]:
    try:
        return load_features(root, REPO_ROOT)
    except GherkinError as error:  # the report still shows what the policies decided
        notes.append(f"the features could not be read: {error}")
        return []


# --- Provenance ----------------------------------------------------------------


def provenance(evaluation: Evaluation, now: dt.datetime | None = None) -> dict[str, Any]:
    """What an auditor needs to reproduce the verdicts: code, tools, policies, input, time."""
    now = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
    policy_files = sorted(evaluation.policies.modules)
    commit = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain") if commit else None
    return {
        "git_commit": commit or "unknown",
        "git_dirty": None if status is None else bool(status),
        "harness_version": _harness_version(),
        "cdktf_version": _package_version("cdktf"),
        "aws_provider": aws_provider(evaluation.model),
        "provider_package": f"{PROVIDER_PACKAGE} {_package_version(PROVIDER_PACKAGE)}",
        "policy_engine": evaluation.engine_version,
        "policy_sha256": evaluation.policies.digest(),
        "policy_files": policy_files,
        "policy_file_count": len(policy_files),
        "python_version": platform.python_version(),
        "input": str(evaluation.model.source),
        "generated_at": now.isoformat(),
    }


def _git(*args: str) -> str | None:
    """Output of a git command in the repository, None outside a work tree or without git."""
    try:
        completed = subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=20
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout.strip() if completed.returncode == 0 else None


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def _harness_version() -> str:
    """The installed package's version, else the checkout's ``pyproject.toml``."""
    try:
        return version(HARNESS_PACKAGE)
    except PackageNotFoundError:
        pass
    try:
        project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
        return str(project["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def aws_provider(model: Model) -> str:
    """``hashicorp/aws <version>`` as the stacks pin it, else as the bindings were built for."""
    pinned = sorted({_required_aws(stack) for stack in model.stacks} - {None})
    if pinned:
        return ", ".join(pinned)  # type: ignore[arg-type]
    return f"hashicorp/aws {_bindings_provider_version() or '(version unknown)'}"


def _required_aws(stack: Stack) -> str | None:
    terraform = stack.document.get("terraform")
    providers = terraform.get("required_providers") if isinstance(terraform, dict) else None
    aws = providers.get("aws") if isinstance(providers, dict) else None
    if not isinstance(aws, dict) or not aws.get("version"):
        return None
    # "aws", "hashicorp/aws" and "registry.terraform.io/hashicorp/aws" name one provider.
    parts = str(aws.get("source") or "aws").split("/")
    source = "/".join(parts[-2:]) if len(parts) > 1 else f"hashicorp/{parts[0]}"
    return f"{source} {aws['version']}"


def _bindings_provider_version() -> str | None:
    """The provider version the Python bindings document (read, not imported: it is huge)."""
    spec = find_spec("cdktf_cdktf_provider_aws")
    if spec is None or not spec.origin:
        return None
    module = Path(spec.origin).parent / "provider" / "__init__.py"
    try:
        text = module.read_text(encoding="utf-8")
    except OSError:
        return None
    match = re.search(r"registry\.terraform\.io/providers/hashicorp/aws/([0-9][\w.\-]*)", text)
    return match.group(1) if match else None


# --- Findings and where they are written ---------------------------------------


def _findings(evaluation: Evaluation) -> list[dict[str, Any]]:
    locator = Locator(evaluation.model)
    by_id = {result.requirement.id: result.requirement for result in evaluation.results}
    entries = []
    for finding in evaluation.findings:
        requirement = by_id[finding.requirement]
        entries.append(
            {
                "requirement": finding.requirement,
                "title": requirement.title,
                "severity": requirement.severity,
                "stack": finding.stack,
                "address": finding.address,
                "construct_path": finding.construct_path,
                "message": finding.message,
                "remediation": requirement.remediation,
                "waived": finding.waiver is not None,
                "waiver": _waiver(finding),
                "location": locator.locate(finding.stack, finding.address),
            }
        )
    return entries


def _waiver(finding: Finding) -> dict[str, Any] | None:
    if finding.waiver is None:
        return None
    return {**finding.waiver.to_dict(), "construct_path": finding.construct_path}


def display_path(path: Path) -> str:
    """Relative to the repository when inside it (as code scanning wants), else absolute."""
    resolved = path.resolve()
    if resolved.is_relative_to(REPO_ROOT):
        return resolved.relative_to(REPO_ROOT).as_posix()
    return str(resolved)


class Locator:
    """The file and line where a finding's subject is written."""

    _SOURCE_LINE = re.compile(r"^(?P<file>.+\.py):(?P<line>\d+)$")

    def __init__(self, model: Model) -> None:
        self._model = model
        self._stacks = {stack.name: stack for stack in model.stacks}
        self._lines: dict[str, list[str]] = {}

    def locate(self, stack_name: str, address: str) -> dict[str, Any] | None:
        stack = self._stacks.get(stack_name)
        if stack is None:
            return self._source_location(address)
        if address.startswith("manifest.json"):  # DR-REF findings on the stacks' dependencies
            folder = self._model.source if self._model.source.is_dir() else stack.file.parent
            return {"file": display_path(folder / "manifest.json"), "line": None}
        kind, subject = ("resource", address)
        if address.startswith("data."):
            kind, subject = ("data", address.removeprefix("data."))
        type_, _, name = subject.partition(".")
        line = block_line(self._stack_lines(stack), kind, type_, name)
        return {"file": display_path(stack.file), "line": line}

    def _source_location(self, address: str) -> dict[str, Any] | None:
        """Source-scan findings name ``file.py:line`` of the app (DR-SCH-03)."""
        match = self._SOURCE_LINE.match(address)
        if match is None:
            return None
        return {"file": match["file"], "line": int(match["line"])}

    def _stack_lines(self, stack: Stack) -> list[str]:
        if stack.name not in self._lines:
            try:
                self._lines[stack.name] = stack.file.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                self._lines[stack.name] = []
        return self._lines[stack.name]


def block_line(lines: list[str], kind: str, type_: str, name: str) -> int | None:
    """1-based line of ``"<name>": {`` inside ``"<type>": {`` inside top-level ``"<kind>"``.

    The synthesized JSON is indented, so a block's children are the lines one
    indent deeper until the closing brace: the scan follows the nesting
    instead of searching for the name anywhere (the same name is used by
    many types).
    """
    span: tuple[int, int] | None = (0, len(lines))  # line 0 is the document's "{"
    for key in (kind, type_, name):
        assert span is not None
        span = _child_block(lines, span[0], span[1], key)
        if span is None:
            return None
    return span[0] + 1


def _child_block(lines: list[str], opening: int, end: int, key: str) -> tuple[int, int] | None:
    """(opening line, end) of the block ``key`` among the children of the block at ``opening``."""
    opener = f"{json.dumps(key)}: {{"
    child_indent: int | None = None
    for index in range(opening + 1, end):
        line = lines[index]
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        child_indent = indent if child_indent is None else child_indent
        if indent < child_indent:
            return None  # the parent block closed
        if indent == child_indent and line.lstrip().startswith(opener):
            return index, _block_end(lines, index, indent, end)
    return None


def _block_end(lines: list[str], opening: int, indent: int, end: int) -> int:
    for index in range(opening + 1, end):
        line = lines[index]
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            return index
    return end


# --- The feature run: cucumber.json, corrected by junit.xml --------------------


@dataclass
class Outcome:
    status: str
    error: str | None = None


@dataclass
class FeatureRun:
    """Results of one pytest-bdd run, per cucumber feature URI and scenario line."""

    cucumber: Path | None = None
    junit: Path | None = None
    elements: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    junit_failures: dict[str, str] = field(default_factory=dict)
    orphan_failures: list[str] = field(default_factory=list)

    @property
    def ran(self) -> bool:
        return self.cucumber is not None

    @classmethod
    def read(cls, cucumber: Path | None, junit: Path | None, notes: list[str]) -> FeatureRun:
        run = cls()
        if cucumber is not None and cucumber.is_file():
            elements = _cucumber_elements(cucumber, notes)
            if elements is not None:
                run.cucumber, run.elements = cucumber, elements
        if junit is not None and junit.is_file():
            failures = _junit_failures(junit, notes)
            if failures is not None:
                run.junit, run.junit_failures = junit, failures
        run._note_orphans(notes)
        return run

    def _note_orphans(self, notes: list[str]) -> None:
        """A test that failed before its steps ran (a fixture error) has no cucumber element."""
        ids = {str(element.get("id")) for _, element in self.elements}
        for name, message in self.junit_failures.items():
            if name not in ids:
                self.orphan_failures.append(name)
                notes.append(
                    f"{JUNIT}: {name} failed outside any scenario's steps: {_one_line(message)}"
                )

    def scenario_elements(self, uri: str, line: int) -> list[dict[str, Any]]:
        """The cucumber elements of the scenario at ``uri:line`` (one per outline row)."""
        exact = [e for u, e in self.elements if u == uri and e.get("line") == line]
        if exact:
            return exact
        return [e for u, e in self.elements if _same_file(u, uri) and e.get("line") == line]

    def outcome(self, element: dict[str, Any]) -> Outcome:
        """An element fails on a failed step, or on a failure junit.xml records for its test."""
        outcome = _steps_outcome(element)
        junit_message = self.junit_failures.get(str(element.get("id")))
        if junit_message is not None and outcome.status != "failed":
            return Outcome("failed", junit_message)
        return outcome


def _same_file(a: str, b: str) -> bool:
    """pytest-bdd names a feature relative to its folder's parent (``deploy/x.feature``)."""
    return a.endswith("/" + b) or b.endswith("/" + a)


def _cucumber_elements(path: Path, notes: list[str]) -> list[tuple[str, dict[str, Any]]] | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        notes.append(f"{path} could not be read ({error}): {NOT_RUN_NOTE}")
        return None
    if not isinstance(document, list):
        notes.append(f"{path} is not a cucumber JSON list of features: {NOT_RUN_NOTE}")
        return None
    return [
        (str(feature.get("uri", "")), element)
        for feature in document
        if isinstance(feature, dict)
        for element in feature.get("elements") or []
        if isinstance(element, dict)
    ]


def _steps_outcome(element: dict[str, Any]) -> Outcome:
    results = [
        step.get("result") or {} for step in element.get("steps") or [] if isinstance(step, dict)
    ]
    failed = [result for result in results if result.get("status") == "failed"]
    if failed:
        message = next((r.get("error_message") for r in failed if r.get("error_message")), None)
        return Outcome("failed", message or "a step failed")
    if any(r.get("status") in ("skipped", "undefined", "pending") for r in results):
        return Outcome("skipped")
    return Outcome("passed")


def _junit_failures(path: Path, notes: list[str]) -> dict[str, str] | None:
    """Test name to failure message, for every testcase with a <failure> or <error>."""
    try:
        root = ElementTree.parse(path).getroot()
    except (OSError, ElementTree.ParseError) as error:
        notes.append(f"{path} could not be read: {error}")
        return None
    failures = {}
    for case in root.iter("testcase"):
        problem = next((child for child in case if child.tag in ("failure", "error")), None)
        if problem is not None:
            message = problem.get("message") or (problem.text or "").strip() or problem.tag
            failures[str(case.get("name"))] = message
    return failures


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- Features as the document shows them ---------------------------------------


def _feature_entry(feature: Feature, run: FeatureRun) -> dict[str, Any]:
    return {
        "uri": feature.uri,
        "name": feature.name,
        "line": feature.line,
        "tags": list(feature.tags),
        "description": list(feature.description),
        "header_text": feature.header_text,
        "scenarios": [_scenario_entry(feature, block, run) for block in feature.scenarios],
    }


def _scenario_entry(feature: Feature, block: Block, run: FeatureRun) -> dict[str, Any]:
    elements = run.scenario_elements(feature.uri, block.line) if run.ran else []
    examples = _examples(block, elements, run) if block.examples else []
    if block.examples:
        rows = [row for table in examples for row in table["rows"]]
        outcome = _worst([Outcome(r["status"], r["error"]) for r in rows])
    else:
        outcome = _worst([run.outcome(e) for e in elements])
    return {
        "name": block.name,
        "keyword": block.keyword,
        "line": block.line,
        "requirement": block.requirement,
        "controls": {key: list(ids) for key, ids in block.controls.items()},
        "tags": list(block.tags),
        "rule": block.rule,
        "status": outcome.status,
        "error": outcome.error,
        "text": feature.block_text(block),
        "examples": examples,
    }


def _worst(outcomes: list[Outcome]) -> Outcome:
    """The worst outcome (the first error of that status); nothing ran: not_run."""
    if not outcomes:
        return Outcome("not_run")
    return min(outcomes, key=lambda o: _SCENARIO_RANK[o.status])


def _examples(block: Block, elements: list[dict[str, Any]], run: FeatureRun) -> list[dict]:
    rows = [row for table in block.examples for row in table.rows]
    matched = _match_rows([row.values for row in rows], elements)
    outcomes = iter(run.outcome(e) if e else Outcome("not_run") for e in matched)
    tables = []
    for table in block.examples:
        entries = []
        for row in table.rows:
            outcome = next(outcomes)
            entries.append(
                {
                    "values": list(row.values),
                    "line": row.line,
                    "status": outcome.status,
                    "error": outcome.error,
                }
            )
        tables.append(
            {"name": table.name, "line": table.line, "header": list(table.header), "rows": entries}
        )
    return tables


def _match_rows(
    rows: list[list[str]], elements: list[dict[str, Any]]
) -> list[dict[str, Any] | None]:
    """Each row's element: by pytest's parameter id ``[v1-v2]``, else by position."""
    remaining = list(elements)
    matched: list[dict[str, Any] | None] = []
    for values in rows:
        suffix = "[" + "-".join(values) + "]"
        element = next((e for e in remaining if str(e.get("id", "")).endswith(suffix)), None)
        if element is not None:
            remaining.remove(element)
        matched.append(element)
    if len(elements) == len(rows):  # ids pytest made unique (``a0``, ``a1``): order decides
        matched = [
            m if m is not None else _unused(elements, matched, i) for i, m in enumerate(matched)
        ]
    return matched


def _unused(
    elements: list[dict[str, Any]], matched: list[dict[str, Any] | None], index: int
) -> dict[str, Any] | None:
    element = elements[index]
    return None if any(m is element for m in matched) else element


# --- Drills ------------------------------------------------------------------------


def _read_drills(path: Path | None, notes: list[str]) -> tuple[list[dict] | None, Path | None]:
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


ScenarioRefs = dict[str, list[dict[str, Any]]]


def _scenario_refs(features: list[Feature], feature_entries: list[dict[str, Any]]) -> ScenarioRefs:
    """Requirement ID to its scenarios (a malformed block with two IDs shows under both)."""
    refs: ScenarioRefs = {}
    for feature, entry in zip(features, feature_entries, strict=True):
        for block, scenario in zip(feature.scenarios, entry["scenarios"], strict=True):
            for rid in block.requirement_ids:
                refs.setdefault(rid, []).append(
                    {
                        "feature": feature.uri,
                        "name": block.name,
                        "line": block.line,
                        "status": scenario["status"],
                    }
                )
    return refs


def _policy_requirement(
    result: RequirementResult, findings: list[dict[str, Any]], refs: ScenarioRefs
) -> dict[str, Any]:
    requirement = result.requirement
    own = [f for f in findings if f["requirement"] == requirement.id]
    return {
        "id": requirement.id,
        "title": requirement.title,
        "description": requirement.description,
        "family": requirement.family,
        "severity": requirement.severity,
        "remediation": requirement.remediation,
        "controls": {key: list(ids) for key, ids in requirement.controls.items()},
        "decided_by": "policy",
        "policy": requirement.policy,
        "status": result.status.value,
        "evaluated_count": len(result.evaluated),
        "evaluated": list(result.evaluated),
        "findings": own,
        "waivers": [f["waiver"] for f in own if f["waiver"] is not None],
        "scenarios": refs.get(requirement.id, []),
        "drills": [],
    }


def _drill_requirements(
    evaluation: Evaluation,
    features: list[Feature],
    drills: list[dict[str, Any]],
    refs: ScenarioRefs,
) -> list[dict[str, Any]]:
    """DR-DEP-xx: named by the @deploy scenarios and by the drill records; a policy wins."""
    blocks = [block for feature in features for block in feature.scenarios]
    ids = {rid for block in blocks for rid in block.requirement_ids}
    ids |= {rid for drill in drills for rid in drill["requirements"]}
    policy_ids = {result.requirement.id for result in evaluation.results}
    drill_ids = sorted(rid for rid in ids if is_drill_requirement(rid) and rid not in policy_ids)
    return [_drill_requirement(rid, blocks, drills, refs.get(rid, [])) for rid in drill_ids]


def _drill_requirement(
    rid: str, blocks: list[Block], drills: list[dict[str, Any]], scenarios: list[dict[str, Any]]
) -> dict[str, Any]:
    own_blocks = [block for block in blocks if rid in block.requirement_ids]
    indices = [i for i, drill in enumerate(drills) if rid in drill["requirements"]]
    title = own_blocks[0].name if own_blocks else drills[indices[0]]["title"]
    return {
        "id": rid,
        "title": title,
        "description": DRILL_DESCRIPTION,
        "family": rid.split("-")[1],
        "severity": "high",
        "remediation": DRILL_REMEDIATION,
        "controls": _merged_controls(block.controls for block in own_blocks),
        "decided_by": "drill",
        "policy": None,
        "status": _drill_status([drills[i] for i in indices], scenarios),
        "evaluated_count": len(indices),
        "evaluated": [f"drill {i}: {drills[i]['title']}" for i in indices],
        "findings": [],
        "waivers": [],
        "scenarios": scenarios,
        "drills": indices,
    }


def _merged_controls(controls: Iterable[dict[str, list[str]]]) -> dict[str, list[str]]:
    merged: dict[str, list[str]] = {}
    for mapping in controls:
        for key, ids in mapping.items():
            merged.setdefault(key, [])
            merged[key] += [cid for cid in ids if cid not in merged[key]]
    return merged


def _drill_status(drills: list[dict[str, Any]], scenarios: list[dict[str, Any]]) -> str:
    """Failed on any failed drill or scenario; passed on at least one pass and no failure.

    A passed @deploy scenario is evidence on its own: its steps ran a drill and
    checked the targets. A drill without a verdict, or a scenario skipped or not
    run, is no evidence either way.
    """
    verdicts = [d["passed"] for d in drills if d["passed"] is not None]
    verdicts += [s["status"] == "passed" for s in scenarios if s["status"] in ("passed", "failed")]
    if False in verdicts:
        return "failed"
    return "passed" if verdicts else "not_run"


# --- Summary ----------------------------------------------------------------------


def _summary(
    evaluation: Evaluation,
    requirements: list[dict[str, Any]],
    feature_entries: list[dict[str, Any]],
    run: FeatureRun,
    features_exit_code: int | None,
) -> dict[str, Any]:
    counts = _status_counts(requirements)
    scenarios = [s for f in feature_entries for s in f["scenarios"]]
    scenario_counts = {status: 0 for status in SCENARIO_STATUSES}
    for scenario in scenarios:
        scenario_counts[scenario["status"]] += 1
    failed = (
        counts["failed"] > 0
        or scenario_counts["failed"] > 0
        or features_exit_code not in (None, 0)
        or bool(run.orphan_failures)
    )
    totals = evaluation.summary()
    return {
        "compliant": evaluation.compliant,
        "result": "failed" if failed else "passed",
        "requirements": len(requirements),
        **counts,
        "findings": totals["findings"],
        "waived_findings": totals["waived_findings"],
        "resources": totals["resources"],
        "features_ran": run.ran,
        "features_exit_code": features_exit_code,
        "scenarios": {"total": len(scenarios), **scenario_counts},
        "by_family": _by_family(requirements),
        "by_framework": _by_framework(requirements),
    }


def _status_counts(requirements: list[dict[str, Any]]) -> dict[str, int]:
    counts = {status: 0 for status in STATUSES}
    for requirement in requirements:
        counts[requirement["status"]] += 1
    return counts


def _by_family(requirements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    families = sorted({r["family"] for r in requirements})
    rows = []
    for family in families:
        counts = _status_counts([r for r in requirements if r["family"] == family])
        status = min((s for s in STATUSES if counts[s]), key=_FAMILY_RANK.__getitem__)
        rows.append({"family": family, "total": sum(counts.values()), **counts, "status": status})
    return rows


def control_group(framework: str, control: str) -> str:
    """NIST ``SC-28`` -> ``SC``; SOC 2 ``CC6.1`` -> ``CC6``; ISO ``A.8.24`` -> ``A.8``."""
    if framework == "nist-800-53":
        return control.split("-")[0]
    if framework == "iso-27001":
        return ".".join(control.split(".")[:2])
    return control.split(".")[0]


def _by_framework(requirements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    named = {key for r in requirements for key in r["controls"]}
    frameworks = [*FRAMEWORKS, *sorted(named - set(FRAMEWORKS))]
    return [{"framework": f, "groups": _groups(f, requirements)} for f in frameworks]


def _groups(framework: str, requirements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each control group with the requirements evidencing it (each counted once per group)."""
    members: dict[str, list[dict[str, Any]]] = {}
    controls: dict[str, set[str]] = {}
    for requirement in requirements:
        for group in {
            control_group(framework, c) for c in requirement["controls"].get(framework, [])
        }:
            members.setdefault(group, []).append(requirement)
        for control in requirement["controls"].get(framework, []):
            controls.setdefault(control_group(framework, control), set()).add(control)
    return [
        {
            "group": group,
            "controls": sorted(controls[group], key=_natural_key),
            "total": len(members[group]),
            **_status_counts(members[group]),
        }
        for group in sorted(members, key=_natural_key)
    ]


def _natural_key(text: str) -> list[Any]:
    """``SC-8`` before ``SC-28``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]
