"""Session-wide fixtures: the harness's step library, and this app synthesized once.

The steps and fixtures are the harness's pytest plugin (``compliance.pytest_plugin``),
the one other repositories get from the installed package's ``pytest11`` entry point.
Here it is loaded by name, so ``tox`` runs without installing the package; the
app it synthesizes is the rootdir's, this repository's ``cdktf.json``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from compliance.model import Model
from compliance.synth import SynthResult

pytest_plugins = ["compliance.pytest_plugin"]


@pytest.fixture(scope="session", autouse=True)
def _one_synth_per_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Under pytest-xdist, the workers share one synth cache, fresh for the run.

    Each worker is a session of its own, and the plugin's synth cache starts
    empty per session: every worker would run the app (seconds of CPU and a
    gigabyte each). Pointed at one folder of the run's own temporary root,
    the first worker synthesizes (measured by coverage, as before) and the
    others wait for its entry (compliance.cache locks its writers).
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None or os.environ.get("DR_SYNTH_CACHE"):
        yield
        return
    shared = tmp_path_factory.getbasetemp().parent / "synth-cache"  # the run's root, not gwN's
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DR_SYNTH_CACHE", str(shared))
        yield


@pytest.fixture(scope="session")
def synthesized(dr_synthesized: SynthResult) -> SynthResult:
    """A real synth of this app, in a child process, into a fresh cache (the plugin's)."""
    return dr_synthesized


@pytest.fixture(scope="session")
def synth_dir(dr_synth_dir: Path) -> Path:
    return dr_synth_dir


@pytest.fixture(scope="session")
def model(dr_model: Model) -> Model:
    return dr_model
