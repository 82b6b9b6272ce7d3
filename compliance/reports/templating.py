"""The pages' Jinja2 environment and the small helpers their templates call.

Both pages are single self-contained files: a strict Content-Security-Policy,
inline CSS, inline SVG and one inline script, no external asset of any kind. The
templates, the stylesheet and the script are package data (``templates/``).

Autoescaping is on for every template, and every value a template prints goes
through ``_finalize``: escaped as ``html.escape`` does (quotes too), with ``url(``
and ``@import`` neutralised as defence in depth (the pages must never contain
them, even quoted from a message or a feature). Status is always a symbol plus a
word, never colour alone.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import fields
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from compliance.reports.document import Provenance

CSP = Markup(
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
)

# Symbol + word: readable in greyscale print and by screen readers.
STATUS_LABELS: dict[str, str] = {
    "passed": "✓ Passed",
    "failed": "✗ Failed",
    "waived": "⚑ Waived",
    "not_applicable": "– Not applicable",
    "not_run": "○ Not run",
    "skipped": "↷ Skipped",
}
# A negative scenario ("Detects: ...") passes by catching a broken copy of the stacks.
DETECTS_LABELS: dict[str, str] = {"passed": "✓ Detected"}  # a failure shows its error
GRADE_LABELS = {"satisfies": "Evidence for", "supports": "Partial evidence for"}
COVERAGE_LABELS = {"evidence": "Evidence", "partial_evidence": "Partial evidence"}
# Worst first: the status a group of requirements takes (spec: by_family.status).
SEVERITY_ORDER = ("failed", "waived", "not_run", "passed", "not_applicable")

FRAMEWORK_NAMES = {
    "nist-800-53": "NIST SP 800-53 Rev. 5",
    "soc2": "SOC 2 (2017 Trust Services Criteria)",
    "iso-27001": "ISO/IEC 27001:2022 Annex A",
}
# Names of the control groups, so an auditor does not need the catalogue at hand.
GROUP_NAMES = {
    "nist-800-53": {
        "AC": "Access Control",
        "AT": "Awareness and Training",
        "AU": "Audit and Accountability",
        "CA": "Assessment, Authorization and Monitoring",
        "CM": "Configuration Management",
        "CP": "Contingency Planning",
        "IA": "Identification and Authentication",
        "IR": "Incident Response",
        "MA": "Maintenance",
        "MP": "Media Protection",
        "PE": "Physical and Environmental Protection",
        "PL": "Planning",
        "PM": "Program Management",
        "PS": "Personnel Security",
        "RA": "Risk Assessment",
        "SA": "System and Services Acquisition",
        "SC": "System and Communications Protection",
        "SI": "System and Information Integrity",
        "SR": "Supply Chain Risk Management",
    },
    "soc2": {
        "CC1": "Control Environment",
        "CC2": "Communication and Information",
        "CC3": "Risk Assessment",
        "CC4": "Monitoring Activities",
        "CC5": "Control Activities",
        "CC6": "Logical and Physical Access Controls",
        "CC7": "System Operations",
        "CC8": "Change Management",
        "CC9": "Risk Mitigation",
        "A1": "Availability",
        "C1": "Confidentiality",
        "PI1": "Processing Integrity",
        "P1": "Privacy",
    },
    "iso-27001": {
        "A.5": "Organizational controls",
        "A.6": "People controls",
        "A.7": "Physical controls",
        "A.8": "Technological controls",
    },
}
FAMILY_NAMES = {
    "AST": "Function code assets",
    "DEP": "Failover drills",
    "ENC": "Encryption",
    "HA": "High availability",
    "IAM": "Access",
    "MON": "Monitoring",
    "REF": "References",
    "RES": "Resilience",
    "RPO": "Recovery point",
    "RTO": "Recovery time",
    "SCH": "Provider schema",
}
# Provenance fields with a row of their own in the provenance table.
PROVENANCE_ROWS = (
    "git_commit",
    "git_dirty",
    "harness_version",
    "cdktf_version",
    "aws_provider",
    "provider_package",
    "policy_engine",
    "policy_sha256",
    "policy_files",
    "policy_file_count",
    "python_version",
    "input",
    "generated_at",
)


def _finalize(value: Any) -> Markup:
    """Every printed value: template markup as is, anything else escaped and defused."""
    if isinstance(value, Markup):
        return value
    text = html.escape("" if value is None else str(value))
    return Markup(text.replace("url(", "url&#40;").replace("@import", "&#64;import"))


def status_label(status: str | None) -> str:
    return STATUS_LABELS.get(status or "not_run", str(status))


def scenario_label(status: str | None, purpose: str | None = None) -> str:
    """A scenario's result: a negative one says whether it detected the broken design."""
    if purpose == "detects" and status in DETECTS_LABELS:
        return DETECTS_LABELS[status]
    return status_label(status)


def status_key(status: str | None) -> str:
    """The CSS suffix of a status (``not_run`` -> ``not-run``)."""
    return (status or "not_run").replace("_", "-")


def badge_key(status: str | None) -> str:
    """A badge's colour: an unknown status is shown as not run."""
    return status_key(status if status in STATUS_LABELS else "not_run")


def worst(statuses: Iterable[str]) -> str:
    present = set(statuses)
    return next((s for s in SEVERITY_ORDER if s in present), "not_applicable")


def drill_status(passed: bool | None) -> str:
    if passed is None:
        return "not_run"
    return "passed" if passed else "failed"


def seconds(value: float | None) -> str:
    return "—" if value is None else f"{float(value):.1f} s"


def short_seconds(value: float | None) -> str:
    """``20 s``, ``0.5 s``: a duration as it was configured, without padding."""
    return "—" if value is None else f"{float(value):g} s"


def break_pieces(value: object) -> list[str]:
    """Text split after separators, for ``<wbr>`` hints in long paths and addresses."""
    return re.split(r"(?<=[/._:])(?=.)", "" if value is None else str(value))


def plain(value: Any) -> str:
    """A knob or stand-in value as one line of text."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {plain(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(plain(v) for v in value)
    return str(value)


def extra_provenance(provenance: Provenance) -> list[tuple[str, Any]]:
    """Fields added to the provenance later: shown too, rather than silently dropped."""
    return [
        (item.name, getattr(provenance, item.name))
        for item in fields(provenance)
        if item.name not in PROVENANCE_ROWS
    ]


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("compliance.reports", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=True),
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(
        csp=CSP,
        asset=lambda name: Markup(env.loader.get_source(env, name)[0]),  # type: ignore[union-attr]
        status_label=status_label,
        scenario_label=scenario_label,
        grade_label=lambda grade: GRADE_LABELS.get(grade, grade),
        coverage_label=lambda coverage: COVERAGE_LABELS.get(coverage, coverage),
        status_key=status_key,
        badge_key=badge_key,
        worst=worst,
        drill_status=drill_status,
        seconds=seconds,
        short_seconds=short_seconds,
        plain=plain,
        family_name=lambda family: FAMILY_NAMES.get(family, family),
        framework_name=lambda framework: FRAMEWORK_NAMES.get(framework, framework),
        group_name=lambda framework, group: GROUP_NAMES.get(framework, {}).get(group, ""),
        extra_provenance=extra_provenance,
    )
    env.filters["break_pieces"] = break_pieces
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def render_macro(template: str, name: str, *args: Any) -> Markup:
    """One macro of a template, rendered on its own (a drill's timeline, say)."""
    return Markup(getattr(environment().get_template(template).module, name)(*args))
