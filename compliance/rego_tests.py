"""Run the Rego unit tests (``test_*`` rules in ``*_test.rego``) on the real OPA engine.

No ``opa test`` binary installs here (FIELD_NOTES), so this does its job:
each ``test_`` rule of each test package is evaluated on its own, passing
when it is true, with line coverage of the policies under test.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from compliance.catalogue import POLICY_ROOT, load_policies
from compliance.engines.opa_local import LocalOpaEngine
from compliance.errors import InputError
from compliance.model.contract import check_policies
from compliance.model.testing import normalise
from compliance.settings import load_settings

NORMALISE = "harness.normalise"
_PACKAGE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)
_TEST_RULE = re.compile(r"^(test_\w+)\s+if\b", re.MULTILINE)


@dataclass(frozen=True)
class RegoTest:
    file: str
    package: str
    rule: str

    @property
    def name(self) -> str:
        return f"{self.package}.{self.rule}"


@dataclass(frozen=True)
class RegoOutcome:
    test: RegoTest
    passed: bool
    error: str | None = None


def discover(modules: dict[str, str]) -> list[RegoTest]:
    tests = []
    for name, source in sorted(modules.items()):
        if not name.endswith("_test.rego"):
            continue
        package = _PACKAGE.search(source)
        if not package:
            raise InputError(name, "test module has no package")
        rules = _TEST_RULE.findall(source)
        if not rules:
            raise InputError(name, "test module defines no test_ rule")
        tests += [RegoTest(name, package.group(1), rule) for rule in rules]
    return tests


def run(root: Path = POLICY_ROOT) -> tuple[list[RegoOutcome], float]:
    """Every test's outcome, and the share of policy lines the tests covered.

    A test package is evaluated as one document (one query to prepare, which
    is where OPA spends its time); only a package whose evaluation errors is
    re-run rule by rule, to say which test broke.
    """
    policies = load_policies(root, include_tests=True)
    engine = LocalOpaEngine()
    # Tests state their input as raw blocks; the model code a real check uses
    # turns them into the normalised input (compliance.model.testing).
    engine.register(NORMALISE, normalise)
    try:
        engine.load(policies.modules, {"settings": load_settings(root / "settings.yaml").as_data()})
        outcomes: list[RegoOutcome] = []
        covered: dict[str, set[int]] = {}
        uncovered: dict[str, set[int]] = {}
        by_package: dict[str, list[RegoTest]] = {}
        for test in discover(policies.modules):
            by_package.setdefault(test.package, []).append(test)
        for package, tests in by_package.items():
            try:
                values, coverage = engine.evaluate_with_coverage(package, {})
            except Exception:  # isolate the failing rule below
                outcomes += [_run_one(engine, test) for test in tests]
                continue
            values = values if isinstance(values, dict) else {}
            outcomes += [RegoOutcome(test, values.get(test.rule) is True) for test in tests]
            for file, report in (coverage or {}).get("files", {}).items():
                covered.setdefault(file, set()).update(_lines(report.get("covered")))
                uncovered.setdefault(file, set()).update(_lines(report.get("not_covered")))
        return outcomes, _ratio(covered, uncovered)
    finally:
        engine.close()


def _run_one(engine: LocalOpaEngine, test: RegoTest) -> RegoOutcome:
    try:
        return RegoOutcome(test, engine.evaluate(test.name, {}) is True)
    except Exception as error:  # an erroring test is a failed test
        return RegoOutcome(test, False, " ".join(str(error).split()))


def _lines(ranges: list[dict] | None) -> set[int]:
    lines: set[int] = set()
    for span in ranges or []:
        lines.update(range(span["start"]["row"], span["end"]["row"] + 1))
    return lines


def _ratio(covered: dict[str, set[int]], uncovered: dict[str, set[int]]) -> float:
    hit = total = 0
    for file in set(covered) | set(uncovered):
        if file.endswith("_test.rego"):
            continue
        lines_hit = covered.get(file, set())
        missed = uncovered.get(file, set()) - lines_hit
        hit += len(lines_hit)
        total += len(lines_hit) + len(missed)
    return hit / total if total else 0.0


def main() -> int:
    try:
        outcomes, coverage = run()
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for outcome in outcomes:
        if not outcome.passed:
            detail = f": {outcome.error}" if outcome.error else ""
            print(f"FAIL {outcome.test.file}: {outcome.test.rule}{detail}")
    contract = _contract_problems()
    for problem in contract:
        print(f"FAIL {problem}")
    passed = sum(outcome.passed for outcome in outcomes)
    print(f"rego coverage: {coverage:.1%} of policy lines")
    print(f"{passed} passed, {len(outcomes) - passed} failed")
    return 0 if passed == len(outcomes) and not contract else 1


def _contract_problems() -> list[str]:
    """Input paths the policies read that the model's schema does not declare."""
    engine = LocalOpaEngine()
    try:
        return check_policies(load_policies(POLICY_ROOT).modules, engine)
    finally:
        engine.close()


if __name__ == "__main__":
    sys.exit(main())
