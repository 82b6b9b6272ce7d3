"""The mutation catalogue and the features' outline rows evaluate each mutant once between them.

``python -m compliance mutants`` (and ``test_mutation_catalogue``) build each
mutant in a temporary folder of their own; a feature row builds the same
mutant in another. The decision cache (``compliance.evaluation.decide``) is
keyed by what the policies read, not by where the copy lies, so the second
of the two must find the first one's decisions and ask the engine nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from compliance import cache, runner
from compliance.engines.opa_local import LocalOpaEngine
from compliance.mutation_run import run_mutant
from compliance.mutations import CATALOGUE
from compliance.pytest_plugin import Subject, given_mutated
from compliance.runner import CheckOptions, run_check
from compliance.synth import REPO_ROOT

# One of each kind: an edit of the JSON, a stale asset (the copy becomes an app with its
# own source), a change to the app's Python source (DR-SCH-03 scans the copy's source).
SHARED = [
    "key rotation off",
    "function zip older than its source",
    "replica passed as a plain dict",
]


@pytest.fixture
def engine_queries(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """A fresh decision cache, and every query the in-process engine is asked."""
    schema = cache.cache_folder("schema")  # derived once for every test: keep it
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "schema").symlink_to(schema, target_is_directory=True)
    monkeypatch.setenv("DR_COMPLIANCE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("DR_DECISION_CACHE", raising=False)
    asked: list[str] = []
    real = LocalOpaEngine.evaluate

    def counted(self: LocalOpaEngine, query: str, document: Any) -> Any:
        asked.append(query)
        return real(self, query, document)

    monkeypatch.setattr(LocalOpaEngine, "evaluate", counted)
    return asked


@pytest.mark.parametrize("name", SHARED)
def test_a_feature_row_reuses_the_catalogues_decision(
    name: str, synth_dir: Path, tmp_path: Path, engine_queries: list[str]
) -> None:
    assert name in CATALOGUE, f"the catalogue no longer has {name!r}: pick another of its kind"
    options = CheckOptions(app=REPO_ROOT)
    outcome = run_mutant(CATALOGUE[name], synth_dir, tmp_path / "mutants", options)
    assert outcome.killed
    assert len(engine_queries) == 1, "the catalogue's check asked the engine once"

    runner._ENGINES.clear()  # nothing of the first check stays in memory but on disk
    subject = given_mutated(Subject(synth_dir, REPO_ROOT), name, tmp_path / "feature-row")
    assert subject.path.is_relative_to(tmp_path / "feature-row")  # not the catalogue's copy
    result = run_check(subject.path, CheckOptions(app=subject.app)).result(
        CATALOGUE[name].requirement
    )
    assert result.status.value == outcome.status
    assert len(engine_queries) == 1, "the feature row evaluated its mutant again"


def test_a_different_input_is_decided_again(
    synth_dir: Path, tmp_path: Path, engine_queries: list[str]
) -> None:
    """The cache keys by content: a second, different mutant is a new decision."""
    first, second = SHARED[0], sorted(set(CATALOGUE) - set(SHARED))[0]
    for name in (first, second):
        run_mutant(CATALOGUE[name], synth_dir, tmp_path / name, CheckOptions(app=REPO_ROOT))
    assert len(engine_queries) == 2
