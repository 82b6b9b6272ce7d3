"""``living-documentation.html``: the features as written, each with its current status.

The features in file order, their header text and every scenario exactly as
written, with the scenario's own result from the latest feature run and the
status of the requirement it stands for. Every requirement tag links to that
requirement's evidence in ``compliance.html``; the first scenario of each
requirement carries the requirement's ID as its anchor, so
``living-documentation.html#DR-ENC-01`` lands on the plain-language text.

The markup is ``templates/living-documentation.html.j2``; this module prepares
what it shows beyond the document itself.
"""

from __future__ import annotations

from pathlib import Path

from compliance.reports import publish
from compliance.reports.document import (
    REQUIREMENT_STATUSES,
    SCENARIO_STATUSES,
    FeatureEntry,
    Report,
    Scenario,
)
from compliance.reports.gherkin_view import DisplayLine, display_lines, text_lines
from compliance.reports.templating import render

LIVING_DOC = "living-documentation.html"
REPORT = "compliance.html"  # sibling written by writer.write_reports
RAN = "scenario results from the latest feature run"
NOT_RAN = "the features were not run"


def evidence_link(requirement: str) -> str:
    return f"{REPORT}#{requirement}"


def render_living_doc(report: Report) -> str:
    """The living documentation as one self-contained HTML string."""
    return render("living-documentation.html.j2", report=report, view=LivingDocPage(report))


def write_living_doc(report: Report, path: Path) -> Path:
    """Write the page alone into its folder (atomically); returns the path written."""
    return publish.publish(path.parent, {path.name: render_living_doc(report)})[path.name]


class LivingDocPage:
    """What the template shows beyond the document's own fields."""

    report_page = REPORT
    scenario_statuses = SCENARIO_STATUSES
    requirement_statuses = REQUIREMENT_STATUSES
    ran_note, not_ran_note = RAN, NOT_RAN

    def __init__(self, report: Report) -> None:
        self.report = report
        # The first scenario of each requirement carries its ID as anchor.
        self._anchors: dict[int, str] = {}
        for feature in report.features:
            for scenario in feature.scenarios:
                rid = scenario.requirement
                if rid and rid not in self._anchors.values():
                    self._anchors[id(scenario)] = rid

    def anchor(self, scenario: Scenario) -> str | None:
        return self._anchors.get(id(scenario))

    def scenario_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for feature in self.report.features:
            for scenario in feature.scenarios:
                counts[scenario.status] = counts.get(scenario.status, 0) + 1
        return counts

    def notes(self) -> list[str]:
        sources = [note for note in self.report.sources.notes if note != NOT_RAN]  # the headline
        return [*self.report.notes, *sources]

    @staticmethod
    def overall(feature: FeatureEntry) -> str:
        statuses = {scenario.status for scenario in feature.scenarios}
        return next(
            (s for s in ("failed", "skipped", "not_run", "passed") if s in statuses), "not_run"
        )

    @staticmethod
    def header_lines(feature: FeatureEntry) -> list[DisplayLine]:
        source = feature.header_source or text_lines(feature.header_text)
        return display_lines(source, link=evidence_link)

    @staticmethod
    def scenario_lines(scenario: Scenario) -> list[DisplayLine]:
        source = scenario.source or text_lines(scenario.text)
        return display_lines(source, scenario.rows, link=evidence_link)

    @staticmethod
    def evidence(rid: str) -> str:
        return evidence_link(rid)
