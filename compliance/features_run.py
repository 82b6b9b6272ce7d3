"""Run the Gherkin features through pytest-bdd, writing JUnit and Cucumber JSON.

This repository's features are bound in ``tests/step_defs``; any other app's
run in its own folder, under its own pytest configuration, with the harness's
step library (``compliance.pytest_plugin``) judging that app.

The child's own report (pytest's dots and summary) is kept off the main
job's stdout, which carries the verdicts (``--format json`` must stay JSON):
its last line goes to stderr, all of it when the run failed. Progress comes
from :mod:`compliance.features_progress`, loaded into the child.
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import tempfile
from pathlib import Path

from compliance.features_progress import TIMINGS_ENV
from compliance.synth import REPO_ROOT

STEPS = REPO_ROOT / "tests" / "step_defs"
PLUGIN = "compliance.pytest_plugin"
PROGRESS_PLUGIN = "compliance.features_progress"
HARNESS_ROOT = Path(__file__).resolve().parent.parent  # the folder that holds ``compliance``


def run_features(
    report_dir: Path,
    cache_dir: Path | None = None,
    app: Path | None = None,
    *,
    timings: dict[str, float] | None = None,
) -> int:
    """pytest's exit code; the features reuse ``cache_dir``'s synth when given.

    ``app`` is the app folder whose features run (default: this repository).
    ``timings``, when given, receives the measured seconds of the run
    (``collect``, ``scenarios``, ``drills``: see :mod:`compliance.features_progress`).
    """
    report_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    if cache_dir is not None:
        env["DR_SYNTH_CACHE"] = str(cache_dir)
    reports = [
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        PROGRESS_PLUGIN,
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
    with tempfile.TemporaryDirectory(prefix="dr-features-") as scratch:
        measured = Path(scratch) / "timings.json"
        env[TIMINGS_ENV] = str(measured)
        with (Path(scratch) / "pytest.out").open("w+", encoding="utf-8") as output:
            code = subprocess.run(
                command, cwd=folder, env=env, stdout=output, check=False
            ).returncode
            output.seek(0)
            _show(output.read(), failed=code != 0)
        if timings is not None and measured.is_file():
            timings.update(json.loads(measured.read_text(encoding="utf-8")))
    return code


def _show(text: str, *, failed: bool) -> None:
    """pytest's report on stderr: whole when the run failed, else its summary line."""
    lines = [line for line in text.splitlines() if line.strip()]
    if failed:
        sys.stderr.write(text if text.endswith("\n") or not text else text + "\n")
    elif lines:
        print(f"features: {lines[-1].strip('= ')}", file=sys.stderr)


def _importable_from(env: dict[str, str], root: Path) -> None:
    """A checkout's harness stays importable from the app's folder (an installed one is)."""
    if str(root) in site.getsitepackages():
        return
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
