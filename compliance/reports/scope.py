"""The plain-English statement at the top of both pages: scope, limitations, targets.

Written for a reviewer who is not an engineer: what was checked and on what
input, what was not checked, and what the evidence cannot show (the failover
drills are a local simulation, at a time scale, with stand-ins for AWS
services). Every sentence is built from this run's own facts.
"""

from __future__ import annotations

from typing import Any

from compliance.evaluation import Evaluation
from compliance.reports.document import Drill, Scope

LAB_CANNOT_SHOW = (
    "The lab cannot show how AWS itself behaves: how soon CloudWatch publishes a metric and "
    "fires an alarm, how long Aurora takes to promote another region, how resolvers on the "
    "Internet honour a record's TTL, or the network between two real regions."
)
ALLOWANCES = (  # settings that stand for AWS timings no configuration fixes
    ("promotion_allowance_seconds", "promoting the secondary database"),
    ("alarm_action_allowance_seconds", "an alarm's action starting"),
    ("invocation_allowance_seconds", "the failover function starting"),
    ("dns_resolver_allowance_seconds", "resolvers keeping an old answer"),
)


def scope(
    evaluation: Evaluation,
    drills: list[Drill] | None,
    *,
    features_ran: bool,
    scenarios: int,
    requirements: int,
) -> Scope:
    model = evaluation.model
    settings = evaluation.settings
    stacks = ", ".join(stack.name for stack in model.stacks)
    checked = [
        f"The synthesized Terraform configuration at {model.source}: {len(model.stacks)} "
        f"stack(s) ({stacks}), {len(model.resources())} resources, judged against "
        f"{requirements} requirements by {len(evaluation.policies.modules)} Rego policy files.",
    ]
    targets = _targets(settings)
    if targets:
        checked.append(f"Judged against the organisation's targets: {_target_text(targets)}.")
    if features_ran:
        checked.append(
            f"{scenarios} scenarios of the features ran: each shows a requirement met by the "
            "stacks, or a broken copy of the stacks being detected."
        )
    if drills:
        checked.append(f"{len(drills)} failover drill(s) measured a recovery in a lab.")
    return Scope(
        checked=checked,
        not_checked=_not_checked(drills, features_ran),
        limitations=_limitations(drills, settings),
        targets=targets,
    )


def _targets(settings: dict[str, Any]) -> dict[str, Any]:
    return {key: settings[key] for key in ("rto_seconds", "rpo_seconds") if key in settings}


def _target_text(targets: dict[str, Any]) -> str:
    names = {"rto_seconds": "recovery time (RTO)", "rpo_seconds": "recovery point (RPO)"}
    return ", ".join(f"{names[k]} {_seconds(v)}" for k, v in targets.items())


def _not_checked(drills: list[Drill] | None, features_ran: bool) -> list[str]:
    items = [
        "Nothing was deployed to AWS or read from an AWS account: the verdicts are about "
        "the design as configured, not about resources that are running.",
        "The DR plan, the people who carry it out, restore tests of backups and exercises "
        "in the real environment: see “Outside this evidence”.",
    ]
    if not features_ran:
        items.append(
            "The features were not run in this report: their scenarios are shown as "
            "not run, which is no result either way."
        )
    if not drills:
        items.append(
            "No failover drill ran: recovery time and point were not measured, only "
            "budgeted from the configuration (DR-RTO-01)."
        )
    return items


def _limitations(drills: list[Drill] | None, settings: dict[str, Any]) -> list[str]:
    items = []
    for drill in drills or []:
        items.append(_drill_limitation(drill))
    if drills:
        items.append(LAB_CANNOT_SHOW)
    allowances = [
        f"{what} {_seconds(settings[key])}" for key, what in ALLOWANCES if key in settings
    ]
    if allowances:
        items.append(
            "The recovery-time budget (DR-RTO-01) counts AWS timings that no configuration "
            f"fixes as allowances from the settings: {', '.join(allowances)}."
        )
    items.append(
        "Control coverage says which controls this run gives evidence or partial evidence "
        "for; it never says a control is met."
    )
    return _unique(items)


def _drill_limitation(drill: Drill) -> str:
    where = (
        "a local simulation on one machine"
        if drill.target in (None, "local")
        else f"the {drill.target} target"
    )
    text = f"The failover drills run on {where}"
    if drill.engines:
        engines = ", ".join(f"{name} {version}" for name, version in drill.engines.items())
        text += f", with real engines ({engines})"
    if drill.stand_ins:  # AWS component -> its lab stand-in
        components = ", ".join(name.replace("_", " ") for name in drill.stand_ins)
        text += f" standing in for the deployed system ({components}; each drill lists them)"
    text += "."
    scale = drill.scale_factor
    if scale is not None and scale != 1:
        text += f" Their timings are scaled by {scale:g}: " + scaled_targets(drill) + "."
    return text


def scaled_targets(drill: Drill) -> str:
    """``the lab's targets RTO 12 s, RPO 1 s stand for the organisation's 60 s, 5 s``."""
    unscaled = (drill.unscaled or {}).get("targets") or {}
    lab = [("RTO", drill.rto_target_seconds), ("RPO", drill.rpo_target_seconds)]
    lab_text = ", ".join(f"{name} {_seconds(value)}" for name, value in lab if value is not None)
    real = [
        unscaled.get("rto_seconds", unscaled.get("rto")),
        unscaled.get("rpo_seconds", unscaled.get("rpo")),
    ]
    real_text = ", ".join(_seconds(value) for value in real if _is_number(value))
    if not lab_text:
        return "no target was recorded"
    if not real_text:
        return f"the lab's targets are {lab_text}"
    return f"the lab's targets {lab_text} stand for the organisation's {real_text}"


def _seconds(value: Any) -> str:
    return f"{value:g} s" if _is_number(value) else str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
