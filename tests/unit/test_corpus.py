"""Verdicts on apps written by other teams match what the requirement text says.

Each app under tests/fixtures/apps/ is a CDKTF Python app in a layout and
idiom this repository does not use, with its synthesized output kept beside
it and an ``expected.yaml`` worked out by hand from the requirement text
before the harness ran on it: a verdict per requirement and, for a failed
one, exactly the resources its findings must name. A mismatch is a wrong
verdict an auditor would rely on.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

import pytest
import yaml

from compliance.catalogue import load_policies
from compliance.evaluation import Evaluation
from compliance.runner import run_check

APPS = Path(__file__).resolve().parents[1] / "fixtures" / "apps"
APP_NAMES = sorted(p.parent.name for p in APPS.glob("*/expected.yaml"))


def _synth_apps():  # the regenerate script, loaded by path (tests/ is no package)
    spec = importlib.util.spec_from_file_location("synth_apps", APPS / "synth_apps.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def _evaluation(app: str) -> Evaluation:
    return run_check(APPS / app / "cdktf.out")


def _expected(app: str) -> dict:
    return yaml.safe_load((APPS / app / "expected.yaml").read_text(encoding="utf-8"))


def test_the_corpus_is_large_enough() -> None:
    assert len(APP_NAMES) >= 12


@pytest.mark.parametrize("app", APP_NAMES)
def test_committed_output_is_not_stale(app: str) -> None:
    """The synthesized output was made from the app as it is (else: run synth_apps.py)."""
    assert not _synth_apps().is_stale(APPS / app), (
        f"run: python tests/fixtures/apps/synth_apps.py {app}"
    )


@pytest.mark.parametrize("app", APP_NAMES)
def test_expected_yaml_covers_the_whole_catalogue(app: str) -> None:
    ids = {r.id for r in load_policies().requirements}
    assert set(_expected(app)["requirements"]) == ids


@pytest.mark.parametrize("app", APP_NAMES)
def test_verdicts_match_the_requirement_text(app: str) -> None:
    expected = _expected(app)["requirements"]
    wrong = []
    for result in _evaluation(app).results:
        want = expected[result.requirement.id]
        got = result.status.value
        named = {(f.stack, f.address) for f in result.findings if f.waiver is None}
        want_named = {(r["stack"], r["address"]) for r in want.get("resources") or []}
        if got != want["verdict"] or (got == "failed" and named != want_named):
            wrong.append(
                f"{result.requirement.id}: expected {want['verdict']} {sorted(want_named)}, "
                f"got {got} {sorted(named)} ({want.get('why', '')})"
            )
    assert wrong == []
