"""Session-wide fixtures: the harness's step library, and this app synthesized once.

The steps and fixtures are the harness's pytest plugin (``compliance.pytest_plugin``),
the one other repositories get from the installed package's ``pytest11`` entry point.
Here it is loaded by name, so ``tox`` runs without installing the package; the
app it synthesizes is the rootdir's, this repository's ``cdktf.json``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance.model import Model
from compliance.synth import SynthResult

pytest_plugins = ["compliance.pytest_plugin"]


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
