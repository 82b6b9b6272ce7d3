"""``compliance.html``: the page an auditor opens, prints and files.

Top to bottom: the verdict and why, what this report covers in plain English
(what was and was not checked, its limitations, open exceptions), the summary
(requirements by status, by control family, by framework group), control
coverage (evidence and partial evidence, never "passed", and what lies outside
this evidence), the feature run, failover drills, provenance and the evidence
manifest; then one ``<article id="DR-XXX-NN">`` per requirement with everything
that decided it: graded controls, the policy, what was evaluated and the values
it read, DR-RTO-01's per-stage budget, each finding (stack, Terraform address,
CDKTF construct path, declaring line), waivers, the scenarios as written with
their results and, for drill requirements, each drill's measurements and timeline.

The markup is ``templates/compliance.html.j2``; this module prepares what the
template shows beyond the document itself (the verdict's sentence, bars, the
control coverage). Built from the typed document alone, so JSON and HTML can never
disagree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from compliance.reports import budget_chart
from compliance.reports import drills as drill_layout
from compliance.reports.document import (
    REQUIREMENT_STATUSES,
    ControlCoverage,
    Drill,
    Report,
    Requirement,
    Scenario,
    StatusCounted,
)
from compliance.reports.gherkin_view import DisplayLine, display_lines, text_lines
from compliance.reports.living_doc import LIVING_DOC  # the sibling page
from compliance.reports.scope import scaled_targets
from compliance.reports.templating import render, render_macro, seconds, status_label

NOT_RAN = "the features were not run"
BAR_ORDER = ("failed", "waived", "not_run", "passed", "not_applicable")


@dataclass(frozen=True)
class BarPart:
    status: str
    count: int
    x: float
    width: float


@dataclass(frozen=True)
class Bar:
    """A status split drawn as one SVG bar; the numbers are always printed beside it too."""

    parts: list[BarPart]
    label: str


@dataclass(frozen=True)
class Verdict:
    ok: bool
    headline: str
    text: str
    detail: str


@dataclass(frozen=True)
class Attention:
    """Something to act on: a failed requirement, or a failed scenario."""

    rid: str | None
    text: str
    detail: str
    scenario: bool


@dataclass(frozen=True)
class FrameworkCoverage:
    framework: str
    controls: list[ControlCoverage]
    tally: str


@dataclass(frozen=True)
class Measure:
    """One figure of a drill, against what it is judged by."""

    label: str
    value: str
    against: str
    verdict: str


def render_html(report: Report) -> str:
    """The whole report as one HTML string."""
    return render("compliance.html.j2", report=report, view=CompliancePage(report))


def timeline_svg(drill: Drill) -> str:
    """A drill's timeline as the report draws it: one inline ``<svg>``."""
    return str(render_macro("macros.html.j2", "timeline", drill_layout.timeline(drill)))


class CompliancePage:
    """What the template shows beyond the document's own fields."""

    living_doc = LIVING_DOC
    statuses = REQUIREMENT_STATUSES

    def __init__(self, report: Report) -> None:
        self.report = report
        self._scenarios = {
            (feature.uri, scenario.line): scenario
            for feature in report.features
            for scenario in feature.scenarios
        }

    @property
    def title(self) -> str:
        return f"DR compliance report — {self.verdict_word}"

    @property
    def verdict_word(self) -> str:
        summary = self.report.summary
        if not summary.compliant:
            return "not compliant"
        return "compliant" if summary.result == "passed" else "compliant, feature run failed"

    def verdict(self) -> Verdict:
        """The answer first: compliant or not, and the reasons in one paragraph."""
        summary = self.report.summary
        scenarios = summary.scenarios
        ok = summary.compliant and summary.result == "passed"
        if summary.features_ran:
            ran = f"scenarios: {scenarios.passed} of {scenarios.total} passed."
        elif summary.features_exit_code not in (None, 0):
            ran = (
                f"scenarios: none ran (the feature run exited {summary.features_exit_code} "
                f"before writing results; {scenarios.total} are written)."
            )
        else:
            ran = f"scenarios: not run ({scenarios.total} are written)."
        detail = (
            f"{summary.requirements} requirements, {summary.resources} resources in the "
            f"stacks, {summary.findings} open and {summary.waived_findings} waived finding(s); "
            + ran
        )
        if ok:
            text = (
                f"No requirement failed: {summary.passed} passed, {summary.waived} waived, "
                f"{summary.not_applicable} not applicable, {summary.not_run} not run."
            )
            if not summary.features_ran:
                text += " Policies only: the features were not run."
            return Verdict(True, "Compliant", text, detail)
        reasons = []
        if summary.failed:
            reasons.append(
                f"{summary.failed} of {summary.requirements} requirements failed "
                f"with {summary.findings} open finding(s)"
            )
        if scenarios.failed:
            reasons.append(f"{scenarios.failed} scenario(s) failed")
        if summary.features_exit_code not in (None, 0):
            reasons.append(f"the feature run exited {summary.features_exit_code}")
        headline = "Not compliant" if not summary.compliant else "Failed"
        text = "; ".join(reasons).capitalize() + "." if reasons else "The run failed."
        return Verdict(False, headline, text, detail)

    def notes(self) -> list[str]:
        notes = [*self.report.notes, *self.report.sources.notes]
        if not self.report.summary.features_ran and not any(NOT_RAN in n for n in notes):
            notes.insert(0, NOT_RAN)
        return notes

    def attention(self) -> list[Attention]:
        """What needs acting on, each linked to its evidence."""
        items = []
        for req in self.report.requirements:
            if req.status != "failed":
                continue
            findings = req.open_findings
            where = ", ".join(f"{f.stack} / {f.address}" for f in findings[:3])
            if len(findings) > 3:
                where += f" and {len(findings) - 3} more"
            reason = f"{len(findings)} open finding(s): {where}" if findings else _drill_reason(req)
            items.append(Attention(req.id, req.title, reason, scenario=False))
        for feature in self.report.features:
            for scenario in feature.scenarios:
                if scenario.status == "failed":
                    where = f"({feature.uri}:{scenario.line})"
                    items.append(Attention(scenario.requirement, scenario.name, where, True))
        return items

    def coverage(self) -> list[FrameworkCoverage]:
        """Per framework: each control with the evidence this run gives for it."""
        frameworks: dict[str, list[ControlCoverage]] = {}
        for control in self.report.coverage:
            frameworks.setdefault(control.framework, []).append(control)
        return [
            FrameworkCoverage(framework, controls, coverage_tally(controls))
            for framework, controls in frameworks.items()
        ]

    def requirement_title(self, rid: str) -> str:
        found = self.report.requirement(rid)
        return found.title if found else rid

    @staticmethod
    def budget_charts(req: Requirement) -> list[budget_chart.BudgetChart]:
        return budget_chart.charts(req.budget or [])

    @staticmethod
    def observed_open(req: Requirement) -> bool:
        """Shown unfolded while short; a long list stays folded (it is in the JSON too)."""
        return 0 < len(req.observed) <= 3

    @staticmethod
    def value_text(value: Any) -> str:
        """An observed value as one line: strings as written, the rest as JSON."""
        if isinstance(value, str):
            return value
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))

    def drill_measures(self, drill: Drill) -> list[Measure]:
        """Each figure against what the drill is judged by: not the RPO target for DR-DEP-02."""
        measures = [self._measure("Measured RTO", drill, "rto")]
        injected = drill.measurements.get("injected_lag_seconds")
        if isinstance(injected, int | float) and not isinstance(injected, bool):
            check = next((c for c in drill.checks if "lag" in c.name and "loss" in c.name), None)
            verdict = "○ not judged" if check is None else check_label(check.passed)
            measures.append(
                Measure(
                    "Lost window (RPO)",
                    seconds(drill.rpo_seconds),
                    f"judged against the injected lag {seconds(injected)}, not the RPO target",
                    verdict,
                )
            )
        else:
            measures.append(self._measure("Measured RPO", drill, "rpo"))
        return measures

    def _measure(self, label: str, drill: Drill, kind: str) -> Measure:
        """A figure against its lab target; "recorded" when no check of the drill judges it."""
        measured = drill.rto_seconds if kind == "rto" else drill.rpo_seconds
        target = drill.rto_target_seconds if kind == "rto" else drill.rpo_target_seconds
        against = "no target recorded" if target is None else f"lab target {seconds(target)}"
        judged = not drill.checks or any(kind in c.name.lower() for c in drill.checks)
        if not judged:
            return Measure(label, seconds(measured), against, "recorded, not judged by this drill")
        return Measure(label, seconds(measured), against, self.measure_verdict(measured, target))

    @staticmethod
    def where(drill: Drill) -> str:
        where = "local simulation" if drill.target in (None, "local") else f"{drill.target}"
        if drill.scale_factor not in (None, 1):
            where += f", time scale {drill.scale_factor:g}: {scaled_targets(drill)}"
        return where

    def status_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for req in self.report.requirements:
            counts[req.status] = counts.get(req.status, 0) + 1
        return counts

    def scenario(self, feature: str, line: int) -> Scenario | None:
        return self._scenarios.get((feature, line))

    def scenario_lines(self, scenario: Scenario) -> list[DisplayLine]:
        return display_lines(scenario.source or text_lines(scenario.text), scenario.rows)

    @staticmethod
    def explain(req: Requirement) -> str:
        if req.decided_by == "drill":
            return {
                "passed": "every drill passed and no scenario failed",
                "failed": "a drill or a scenario failed",
            }.get(req.status, "no drill result: the failover drills were not run")
        return {
            "failed": f"{len(req.open_findings)} open finding(s)",
            "waived": f"every finding ({len(req.findings)}) is covered by a waiver",
            "not_applicable": "nothing this policy judges exists in the stacks",
            "passed": f"no finding over {req.evaluated_count} evaluated subject(s)",
        }.get(req.status, "not evaluated")

    @staticmethod
    def measure_verdict(measured: float | None, target: float | None) -> str:
        if measured is None:
            return "○ not measured"
        if target is None:
            return "no target"
        return "✓ within target" if measured <= target else "✗ over target"

    @staticmethod
    def unscaled_figures(drill: Drill) -> str:
        """The production-scale figures a scaled drill stands for (knobs are in their table)."""
        unscaled = drill.unscaled or {}
        targets = unscaled.get("targets") or {}
        figures = (
            ("RTO target", targets.get("rto_seconds", targets.get("rto"))),
            ("RPO target", targets.get("rpo_seconds", targets.get("rpo"))),
            ("static budget", unscaled.get("static_budget_seconds")),
        )
        return ", ".join(
            f"{label} {seconds(value)}"
            for label, value in figures
            if isinstance(value, int | float) and not isinstance(value, bool)
        )

    @staticmethod
    def bar(row: StatusCounted | dict[str, int]) -> Bar:
        return stacked_bar(row if isinstance(row, dict) else row.counts)

    @staticmethod
    def timeline(drill: Drill) -> drill_layout.Timeline:
        return drill_layout.timeline(drill)


def stacked_bar(counts: dict[str, int]) -> Bar:
    total = sum(counts.values()) or 1
    x, parts = 0.0, []
    for status in BAR_ORDER:
        n = counts.get(status, 0)
        if n:
            width = 1000 * n / total
            parts.append(BarPart(status, n, x, width))
            x += width
    label = ", ".join(f"{status_label(s)} {n}" for s, n in counts.items() if n)
    return Bar(parts, label)


def _drill_reason(req: Requirement) -> str:
    failed = [s for s in req.scenarios if s.status == "failed"]
    if failed:
        return f"{len(failed)} scenario(s) failed"
    return "a failover drill failed"


def coverage_tally(controls: list[ControlCoverage]) -> str:
    """``12 controls: evidence for 3, partial evidence for 9; 1 with a gap``: never "passed"."""
    evidence = sum(c.coverage == "evidence" for c in controls)
    partial = len(controls) - evidence
    text = f"{len(controls)} controls: evidence for {evidence}, partial evidence for {partial}"
    gaps = sum(1 for c in controls if c.open_gaps)
    return text + (f"; {gaps} with a requirement failed or not run" if gaps else "")


def check_label(passed: bool | None) -> str:
    return {True: "✓ met", False: "✗ not met", None: "○ not judged"}[passed]
