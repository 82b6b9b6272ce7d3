"""The link between scenarios and requirements, checked both ways.

Every scenario names exactly one requirement ID, and nothing else about the
requirement: its title, controls and verdict live in the catalogue (the policy
METADATA, or ``policies/drills.yaml`` for the requirements the failover drills
decide), so a control tag on a scenario is refused rather than read as a second
mapping. Every catalogue requirement has a scenario. DR-DEP-xx requirements are
decided by the drills (``@deploy`` scenarios), not by a policy.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from compliance.reports.feature_files import (
    DEPLOY_TAG,
    Block,
    Feature,
    control_tags,
    is_drill_requirement,
)


def traceability(
    features: Iterable[Feature], policies: Iterable[str], drills: Iterable[str] = ()
) -> list[str]:
    """Problems linking scenarios and requirements, one line each; [] when traced.

    ``policies``: the IDs the Rego policies declare; ``drills``: the IDs of
    ``policies/drills.yaml``.
    """
    policy_ids, drill_ids = set(policies), set(drills)
    problems: list[str] = []
    covered: set[str] = set()
    for feature in features:
        for block in feature.scenarios:
            covered.update(block.requirement_ids)
            where = f"{feature.uri}:{block.line} ({block.name})"
            problems += [f"{where}: {p}" for p in _block_problems(block, policy_ids, drill_ids)]
    for rid in sorted(policy_ids | drill_ids):
        if rid not in covered:
            problems.append(f"{rid}: it has no scenario in features/ (orphan requirement)")
    return problems


def _block_problems(block: Block, policies: set[str], drills: set[str]) -> Iterator[str]:
    ids = block.requirement_ids
    if len(ids) != 1:
        yield f"{len(ids)} requirement ID tags"
    for tag in control_tags(block.all_tags):
        yield (
            f"control tag @{tag}: controls are mapped in the policy METADATA "
            "(policies/drills.yaml for drills), not in features"
        )
    for rid in ids:
        yield from _requirement_problems(rid, block, policies, drills)


def _requirement_problems(
    rid: str, block: Block, policies: set[str], drills: set[str]
) -> Iterator[str]:
    if is_drill_requirement(rid):  # decided by a drill: no policy, an entry in drills.yaml
        if DEPLOY_TAG not in block.all_tags:
            yield f"drill requirement {rid} is not tagged @{DEPLOY_TAG}"
        if rid not in drills:
            yield f"drill requirement {rid} has no entry in policies/drills.yaml"
        return
    if rid not in policies:
        yield f"{rid} has no policy in policies/ (orphan scenario)"
