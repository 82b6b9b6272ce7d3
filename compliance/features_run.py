"""Run the Gherkin features through pytest-bdd, writing JUnit and Cucumber JSON.

This repository's features are bound in ``tests/step_defs``; any other app's
run in its own folder, under its own pytest configuration, with the harness's
step library (``compliance.pytest_plugin``) judging that app.
"""

from __future__ import annotations

import os
import site
import subprocess
import sys
from pathlib import Path

from compliance.synth import REPO_ROOT

STEPS = REPO_ROOT / "tests" / "step_defs"
PLUGIN = "compliance.pytest_plugin"
HARNESS_ROOT = Path(__file__).resolve().parent.parent  # the folder that holds ``compliance``


def run_features(report_dir: Path, cache_dir: Path | None = None, app: Path | None = None) -> int:
    """pytest's exit code; the features reuse ``cache_dir``'s synth when given.

    ``app`` is the app folder whose features run (default: this repository).
    """
    report_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    if cache_dir is not None:
        env["DR_SYNTH_CACHE"] = str(cache_dir)
    reports = [
        "-q",
        "-p",
        "no:cacheprovider",
        f"--junitxml={report_dir / 'junit.xml'}",
        f"--cucumberjson={report_dir / 'cucumber.json'}",
    ]
    folder = Path(app).resolve() if app is not None else REPO_ROOT
    if folder == REPO_ROOT and STEPS.is_dir():
        command = [sys.executable, "-m", "pytest", str(STEPS), *reports]
    else:
        # -p loads the plugin by its entry point's name: once, installed or not.
        command = [sys.executable, "-m", "pytest", "-p", PLUGIN, "--dr-app", str(folder), *reports]
        _importable_from(env, HARNESS_ROOT)
    return subprocess.run(command, cwd=folder, env=env, check=False).returncode


def _importable_from(env: dict[str, str], root: Path) -> None:
    """A checkout's harness stays importable from the app's folder (an installed one is)."""
    if str(root) in site.getsitepackages():
        return
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
