"""What the features said: pytest-bdd's ``cucumber.json``, corrected by ``junit.xml``.

Each scenario as written (``feature_files``) is matched to its cucumber elements by
feature URI and keyword line, one element per examples row of an outline; junit.xml
catches a test that failed outside its steps (a fixture error), which cucumber.json
records with every step passed.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compliance.reports.document import ExampleRow, Examples, FeatureEntry, Scenario
from compliance.reports.feature_files import Block, Feature

JUNIT = "junit.xml"
NOT_RUN_NOTE = "the features were not run"
# Worst first: an outline takes the worst status of its rows.
_SCENARIO_RANK = {"failed": 0, "skipped": 1, "not_run": 2, "passed": 3}

Element = dict[str, Any]  # one cucumber.json scenario element, as pytest-bdd writes it


@dataclass
class Outcome:
    status: str
    error: str | None = None


@dataclass
class FeatureRun:
    """Results of one pytest-bdd run, per cucumber feature URI and scenario line."""

    cucumber: Path | None = None
    junit: Path | None = None
    elements: list[tuple[str, Element]] = field(default_factory=list)
    junit_failures: dict[str, str] = field(default_factory=dict)
    junit_tests: int | None = None  # testcases junit.xml counts
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
            read = _junit_cases(junit, notes)
            if read is not None:
                run.junit, (run.junit_failures, run.junit_tests) = junit, read
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

    def scenario_elements(self, uri: str, line: int) -> list[Element]:
        """The cucumber elements of the scenario at ``uri:line`` (one per outline row)."""
        exact = [e for u, e in self.elements if u == uri and e.get("line") == line]
        if exact:
            return exact
        return [e for u, e in self.elements if _same_file(u, uri) and e.get("line") == line]

    def outcome(self, element: Element) -> Outcome:
        """An element fails on a failed step, or on a failure junit.xml records for its test."""
        outcome = _steps_outcome(element)
        junit_message = self.junit_failures.get(str(element.get("id")))
        if junit_message is not None and outcome.status != "failed":
            return Outcome("failed", junit_message)
        return outcome


def _same_file(a: str, b: str) -> bool:
    """pytest-bdd names a feature relative to its folder's parent (``deploy/x.feature``)."""
    return a.endswith("/" + b) or b.endswith("/" + a)


def _cucumber_elements(path: Path, notes: list[str]) -> list[tuple[str, Element]] | None:
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


def _steps_outcome(element: Element) -> Outcome:
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


def _junit_cases(path: Path, notes: list[str]) -> tuple[dict[str, str], int] | None:
    """Test name to failure message (testcases with a <failure> or <error>), and the count."""
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
    return failures, sum(1 for _ in root.iter("testcase"))


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- Features as the document shows them ---------------------------------------


def feature_entry(feature: Feature, run: FeatureRun) -> FeatureEntry:
    return FeatureEntry(
        uri=feature.uri,
        name=feature.name,
        line=feature.line,
        tags=list(feature.tags),
        description=list(feature.description),
        header_text=feature.header_text,
        scenarios=[_scenario(feature, block, run) for block in feature.scenarios],
        header_source=feature.header_source,
    )


def _scenario(feature: Feature, block: Block, run: FeatureRun) -> Scenario:
    elements = run.scenario_elements(feature.uri, block.line) if run.ran else []
    examples = _examples(block, elements, run) if block.examples else []
    if block.examples:
        rows = [row for table in examples for row in table.rows]
        outcome = worst([Outcome(r.status, r.error) for r in rows])
    else:
        outcome = worst([run.outcome(e) for e in elements])
    return Scenario(
        name=block.name,
        keyword=block.keyword,
        line=block.line,
        requirement=block.requirement,
        purpose="detects" if block.detects else "confirms",
        tags=list(block.tags),
        rule=block.rule,
        status=outcome.status,
        error=outcome.error,
        text=feature.block_text(block),
        examples=examples,
        source=feature.block_source(block),
    )


def worst(outcomes: list[Outcome]) -> Outcome:
    """The worst outcome (the first error of that status); nothing ran: not_run."""
    if not outcomes:
        return Outcome("not_run")
    return min(outcomes, key=lambda o: _SCENARIO_RANK[o.status])


def _examples(block: Block, elements: list[Element], run: FeatureRun) -> list[Examples]:
    rows = [row for table in block.examples for row in table.rows]
    matched = _match_rows([row.values for row in rows], elements)
    outcomes = iter(run.outcome(e) if e else Outcome("not_run") for e in matched)
    tables = []
    for table in block.examples:
        entries = []
        for row in table.rows:
            outcome = next(outcomes)
            entries.append(ExampleRow(list(row.values), row.line, outcome.status, outcome.error))
        tables.append(Examples(table.name, table.line, list(table.header), entries))
    return tables


def _match_rows(rows: list[list[str]], elements: list[Element]) -> list[Element | None]:
    """Each row's element: by pytest's parameter id ``[v1-v2]``, else by position."""
    remaining = list(elements)
    matched: list[Element | None] = []
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


def _unused(elements: list[Element], matched: list[Element | None], index: int) -> Element | None:
    element = elements[index]
    return None if any(m is element for m in matched) else element
