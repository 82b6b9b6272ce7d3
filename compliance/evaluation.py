"""Evaluate every requirement against a model and give each a three-valued verdict.

A requirement with findings FAILS; one whose policy evaluated no subject is
NOT_APPLICABLE (never "passed"); one whose every finding is waived is WAIVED.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from compliance import cache
from compliance.catalogue import RULES_PACKAGE, PolicySet, Requirement
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
    tree = decide(policies, engine, data, build_input(model))
    paths = {
        (resource.stack, resource.address): resource.construct_path
        for resource in model.resources()
    }
    results = []
    for requirement in policies.requirements:
        node = _decision(tree, requirement)
        findings = [
            _finding(raw, requirement, paths, waivers or []) for raw in node.get("deny", [])
        ]
        findings.sort(key=lambda f: (f.stack, f.address, f.message))
        evaluated = sorted(str(subject) for subject in node.get("evaluated", []))
        details = {name: node[name] for name in PUBLISHED if name in node}
        results.append(RequirementResult(requirement, findings, evaluated, details))
    return Evaluation(model, policies, engine.version(), results)


def decide(
    policies: PolicySet, engine: PolicyEngine, data: dict[str, Any], document: dict[str, Any]
) -> dict[str, Any]:
    """The decision tree (``data.dr.rules``) for one input, evaluated at most once per content.

    The same input, policies, data and engine always give the same decisions,
    so they are kept in the user's cache folder under the hash of all four:
    the features' outline rows and the mutation catalogue evaluate the same
    mutants, and a second run of an unchanged app evaluates nothing.
    ``DR_DECISION_CACHE=0`` turns the cache off.
    """
    loaded = _digest(policies.digest(), data)
    if getattr(engine, "loaded", None) != loaded:  # compile once per engine and data
        engine.load(policies.modules, data)
        engine.loaded = loaded  # type: ignore[attr-defined]
    if os.environ.get("DR_DECISION_CACHE", "1") == "0":
        return engine.evaluate(RULES_PACKAGE, document) or {}
    key = _digest(loaded, engine.version(), json.dumps(document))
    store = cache.Store(cache.cache_folder("decisions"))
    cached = store.path(key)
    if cached.is_file():
        try:
            return json.loads(cached.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass  # unreadable: decide again and rewrite it
    tree = engine.evaluate(RULES_PACKAGE, document) or {}
    store.write_bytes(key, json.dumps(tree).encode("utf-8"))
    return tree


def _digest(*parts: Any) -> str:
    sha = hashlib.sha256()
    for part in parts:
        text = part if isinstance(part, str) else json.dumps(part, sort_keys=True)
        sha.update(text.encode("utf-8") + b"\0")
    return sha.hexdigest()


# Rules a policy may publish beside deny/evaluated, carried into the reports.
PUBLISHED = ("budget",)


def _decision(tree: dict[str, Any], requirement: Requirement) -> dict[str, Any]:
    """The requirement's package in the decision tree; deciding nothing is bad input."""
    node = _subtree(tree, requirement.package)
    if "deny" not in node or "evaluated" not in node:
        missing = [name for name in ("deny", "evaluated") if name not in node]
        raise InputError(
            requirement.file,
            f"{requirement.id} ({requirement.package}) decides nothing: no "
            f"{' and no '.join(missing)} rule was evaluated; every requirement needs both",
        )
    return node


def _subtree(tree: dict[str, Any], package: str) -> dict[str, Any]:
    node: Any = tree
    for part in package.removeprefix(RULES_PACKAGE + ".").split("."):
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return node if isinstance(node, dict) else {}


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
