"""Run the Gherkin features through pytest-bdd, writing JUnit and Cucumber JSON."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from compliance.synth import REPO_ROOT

STEPS = REPO_ROOT / "tests" / "step_defs"


def run_features(report_dir: Path, cache_dir: Path | None = None) -> int:
    """pytest's exit code; the features reuse ``cache_dir``'s synth when given."""
    report_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    if cache_dir is not None:
        env["DR_SYNTH_CACHE"] = str(cache_dir)
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(STEPS),
        "-q",
        "-p",
        "no:cacheprovider",
        f"--junitxml={report_dir / 'junit.xml'}",
        f"--cucumberjson={report_dir / 'cucumber.json'}",
    ]
    return subprocess.run(command, cwd=REPO_ROOT, env=env, check=False).returncode
