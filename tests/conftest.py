"""Session-wide fixtures: the app is synthesized once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from compliance.model import Model, load_model
from compliance.synth import REPO_ROOT, SynthResult, synthesize_app


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> SynthResult:
    """A real synth of the app, in a child process, into a fresh cache.

    Under ``tox`` the cache starts empty, so the infrastructure code runs
    (and is measured) in every session.
    """
    base = tmp_path_factory.mktemp("synth")
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    # The main job points the features at the synth it just made.
    cache = Path(os.environ.get("DR_SYNTH_CACHE") or base / "cache")
    return synthesize_app(REPO_ROOT, outdir=base / "cdktf.out", cache_dir=cache)


@pytest.fixture(scope="session")
def synth_dir(synthesized: SynthResult) -> Path:
    return synthesized.outdir


@pytest.fixture(scope="session")
def model(synth_dir: Path) -> Model:
    return load_model(synth_dir)


def pytest_bdd_apply_tag(tag: str, function: object) -> bool | None:
    """Requirement and control tags are documentation, not pytest marks.

    Only ``deploy`` becomes a mark (to select or deselect the drills); the
    rest are kept off pytest's mark registry, where ``nist:SC-28`` is no
    valid name.
    """
    if tag == "deploy":
        return None
    return True
