"""The design a drill runs: the synthesized output, its DR-RTO-01 budget, the app's lab settings.

The budget is the policy's own (one evaluation of the drilled output with
the app's settings: ``dns_waits_for_promotion`` changes it), so the drills
compare against exactly what the static check computed. When the app's
waivers accept every DR-RTO-01 finding (a budget over the RTO target that
no design can meet), the drills know that too: a region loss within that
budget is then the accepted outcome, and its record names the waiver. The
app's ``[tool.dr-compliance.drills.environment]`` comes from the same app.
"""

from __future__ import annotations

from pathlib import Path

from compliance.app_config import discover, load_app
from compliance.drills.budget import Budget
from compliance.drills.knobs import Design, read_design
from compliance.errors import InputError
from compliance.evaluation import Evaluation
from compliance.runner import CheckOptions, run_check

BUDGET_REQUIREMENT = "DR-RTO-01"


def budget_of(evaluation: Evaluation) -> Budget | None:
    """DR-RTO-01's published budget; None when the requirement published none."""
    try:
        result = evaluation.result(BUDGET_REQUIREMENT)
    except StopIteration:
        return None
    details = result.details.get("budget")
    if not details:
        return None
    try:
        return Budget.from_details(details)
    except ValueError as error:
        raise InputError(result.requirement.file, str(error)) from None


def accepted_rto(evaluation: Evaluation) -> str | None:
    """The waivers that accept every DR-RTO-01 finding (the budget over the target), if any."""
    try:
        result = evaluation.result(BUDGET_REQUIREMENT)
    except StopIteration:
        return None
    waivers = [finding.waiver for finding in result.findings]
    if not waivers or any(waiver is None for waiver in waivers):
        return None
    named = sorted({(w.ticket, w.expires.isoformat()) for w in waivers if w is not None})
    return "; ".join(f"waiver {ticket} (expires {expires})" for ticket, expires in named)


def drilled_design(
    cdktf_out: Path, app: Path | None = None, evaluation: Evaluation | None = None
) -> Design:
    """The design in ``cdktf_out`` (of the app in ``app``, else the one found around it)."""
    if evaluation is None:
        evaluation = run_check(cdktf_out, CheckOptions(app=app))
    config = load_app(app) if app is not None else discover(Path(cdktf_out))
    return read_design(
        evaluation.model,
        evaluation.settings,
        budget=budget_of(evaluation),
        environment_overrides=dict(config.drill_environment),
        rto_waiver=accepted_rto(evaluation),
    )
