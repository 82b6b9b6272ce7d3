"""Evaluate every requirement against a model and give each a three-valued verdict.

A requirement with findings FAILS; one whose policy evaluated no subject is
NOT_APPLICABLE (never "passed"); one whose every finding is waived is WAIVED.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from compliance import cache
from compliance.catalogue import PolicySet, Requirement
from compliance.engines import PolicyEngine
from compliance.errors import InputError
from compliance.model import Model
from compliance.model.document import build_input
from compliance.waivers import Waiver, match_waiver


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    WAIVED = "waived"
    NOT_APPLICABLE = "not_applicable"


@dataclass
class Finding:
    requirement: str
    stack: str
    address: str
    message: str
    construct_path: str | None = None
    waiver: Waiver | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "requirement": self.requirement,
            "stack": self.stack,
            "address": self.address,
            "construct_path": self.construct_path,
            "message": self.message,
            "waived": self.waiver is not None,
            "waiver": self.waiver.to_dict() if self.waiver else None,
        }


@dataclass
class RequirementResult:
    requirement: Requirement
    findings: list[Finding] = field(default_factory=list)
    evaluated: list[str] = field(default_factory=list)
    # What a policy publishes beside its verdict (DR-RTO-01's per-stage budget).
    details: dict[str, Any] = field(default_factory=dict)
    # Why the verdict is what it is when that is not in the findings
    # (e.g. why a requirement is not applicable).
    notes: list[str] = field(default_factory=list)

    @property
    def status(self) -> Status:
        open_findings = [f for f in self.findings if f.waiver is None]
        if open_findings:
            return Status.FAILED
        if self.findings:
            return Status.WAIVED
        if not self.evaluated:
            return Status.NOT_APPLICABLE
        return Status.PASSED


@dataclass
class Evaluation:
    model: Model
    policies: PolicySet
    engine_version: str
    results: list[RequirementResult]
    # Run-level notes: waivers that matched nothing, where the app was found...
    notes: list[str] = field(default_factory=list)
    # For the evidence manifest: the files read besides the model and the policies
    # (role -> path), when the check started, and the settings and facts it judged with.
    inputs: dict[str, Path] = field(default_factory=dict)
    started_at: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def findings(self) -> list[Finding]:
        return [finding for result in self.results for finding in result.findings]

    @property
    def compliant(self) -> bool:
        return all(result.status is not Status.FAILED for result in self.results)

    def result(self, requirement_id: str) -> RequirementResult:
        return next(r for r in self.results if r.requirement.id == requirement_id)

    def summary(self) -> dict[str, int]:
        counts = {status.value: 0 for status in Status}
        for result in self.results:
            counts[result.status.value] += 1
        counts["requirements"] = len(self.results)
        counts["findings"] = len([f for f in self.findings if f.waiver is None])
        counts["waived_findings"] = len([f for f in self.findings if f.waiver is not None])
        counts["resources"] = len(self.model.resources())
        return counts


def evaluate(
    model: Model,
    policies: PolicySet,
    engine: PolicyEngine,
    *,
    data: dict[str, Any],
    waivers: list[Waiver] | None = None,
) -> Evaluation:
    """Run the rule tree once for the model, sort out verdicts and waivers."""
    decided = decide(policies, engine, data, build_input(model))
    return verdicts(model, policies, decided, engine.version(), waivers or [])


def verdicts(
    model: Model,
    policies: PolicySet,
    decided: dict[str, Any],
    engine_version: str,
    waivers: list[Waiver],
) -> Evaluation:
    """Each requirement's result from its decision (``decide``), waivers applied."""
    paths = {
        (resource.stack, resource.address): resource.construct_path
        for resource in model.resources()
    }
    results = []
    for requirement in policies.requirements:
        node = _decision(decided, requirement)
        findings = [_finding(raw, requirement, paths, waivers) for raw in node.get("deny", [])]
        findings.sort(key=lambda f: (f.stack, f.address, f.message))
        evaluated = sorted(str(subject) for subject in node.get("evaluated", []))
        details = {name: node[name] for name in PUBLISHED if name in node}
        results.append(RequirementResult(requirement, findings, evaluated, details))
    return Evaluation(model, policies, engine_version, results)


def decide(
    policies: PolicySet, engine: PolicyEngine, data: dict[str, Any], document: dict[str, Any]
) -> dict[str, Any]:
    """Each requirement's decision (deny, evaluated, what it publishes), by requirement ID.

    One query reads exactly the rules the verdicts need, through a module
    generated for the catalogue (``decisions_module``): evaluating the whole
    ``data.dr.rules`` tree would also compute and return every private
    helper rule of every policy, several times the work on a large input.

    The same input, policies, data and engine always give the same decisions,
    so they are kept in the user's cache folder under the hash of all four:
    the features' outline rows and the mutation catalogue evaluate the same
    mutants, and a second run of an unchanged app evaluates nothing.
    ``DR_DECISION_CACHE=0`` turns the cache off.
    """
    modules = {**policies.modules, DECISIONS_MODULE: decisions_module(policies)}
    loaded = _digest(policies.digest(), data)
    if getattr(engine, "loaded", None) != loaded:  # compile once per engine and data
        engine.load(modules, data)
        engine.loaded = loaded  # type: ignore[attr-defined]
    if os.environ.get("DR_DECISION_CACHE", "1") == "0":
        return _by_requirement(engine.evaluate(DECISIONS_PACKAGE, document) or {})
    key = _digest(loaded, engine.version(), json.dumps(document))
    store = cache.Store(cache.cache_folder("decisions"))
    cached = store.path(key)
    if cached.is_file():
        try:
            return json.loads(cached.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass  # unreadable: decide again and rewrite it
    decided = _by_requirement(engine.evaluate(DECISIONS_PACKAGE, document) or {})
    store.write_bytes(key, json.dumps(decided).encode("utf-8"))
    return decided


DECISIONS_PACKAGE = "dr.decisions"
DECISIONS_MODULE = "generated/dr_decisions.rego"
_DECIDED = ("deny", "evaluated")


def decisions_module(policies: PolicySet) -> str:
    """A module whose rules are exactly each requirement's deny, evaluated and published rules.

    A requirement whose package lacks one of them yields no entry for it, and
    the harness reports that requirement as deciding nothing (exit 2).
    """
    lines = [
        "# Generated by compliance.evaluation: the rules each verdict needs, nothing else.",
        f"package {DECISIONS_PACKAGE}",
        "",
    ]
    for requirement in policies.requirements:
        source = policies.modules.get(requirement.policy, "")
        for name in (*_DECIDED, *PUBLISHED):
            if name in PUBLISHED and not re.search(rf"^{name}\s*(:=|=|contains)", source, re.M):
                continue
            lines.append(f'{name}["{requirement.id}"] := data.{requirement.package}.{name}')
    return "\n".join(lines) + "\n"


def _by_requirement(tree: dict[str, Any]) -> dict[str, Any]:
    decided: dict[str, dict[str, Any]] = {}
    for name, by_id in tree.items():
        for requirement_id, value in (by_id or {}).items():
            decided.setdefault(requirement_id, {})[name] = value
    return decided


def _digest(*parts: Any) -> str:
    sha = hashlib.sha256()
    for part in parts:
        text = part if isinstance(part, str) else json.dumps(part, sort_keys=True)
        sha.update(text.encode("utf-8") + b"\0")
    return sha.hexdigest()


# Rules a policy may publish beside deny/evaluated, carried into the reports.
PUBLISHED = ("budget",)


def _decision(decided: dict[str, Any], requirement: Requirement) -> dict[str, Any]:
    """The requirement's decision; a package that decides nothing is bad input."""
    node = decided.get(requirement.id, {})
    if "deny" not in node or "evaluated" not in node:
        missing = [name for name in _DECIDED if name not in node]
        raise InputError(
            requirement.file,
            f"{requirement.id} ({requirement.package}) decides nothing: no "
            f"{' and no '.join(missing)} rule was evaluated; every requirement needs both",
        )
    return node


def _finding(
    raw: Any,
    requirement: Requirement,
    paths: dict[tuple[str, str], str | None],
    waivers: list[Waiver],
) -> Finding:
    if not isinstance(raw, dict) or raw.get("requirement") != requirement.id:
        raise InputError(
            requirement.file, f"deny must yield findings of {requirement.id}, got {raw!r}"
        )
    stack, address = str(raw.get("stack", "")), str(raw.get("address", ""))
    return Finding(
        requirement=requirement.id,
        stack=stack,
        address=address,
        message=str(raw.get("message", "")),
        construct_path=paths.get((stack, address)),
        waiver=match_waiver(waivers, requirement.id, stack, address, str(raw.get("message", ""))),
    )
