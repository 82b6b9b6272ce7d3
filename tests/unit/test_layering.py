"""The layering contract: the harness imports nothing from the app it checks.

``compliance`` learns about an app from the app's files (cdktf.json, the
synthesized output, pyproject.toml), so it judges any team's app the same
way; importing this repository's ``infrastructure`` or ``lambda`` would make
it know one app only. The contract lives in pyproject.toml
(``[tool.importlinter]``) and is checked by import-linter's ``lint-imports``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTRACT = "compliance imports nothing from infrastructure or lambda"


def _lint_imports() -> str:
    """The ``lint-imports`` of this interpreter's environment (tox's, the venv's)."""
    beside = Path(sys.executable).parent / "lint-imports"
    found = str(beside) if beside.exists() else shutil.which("lint-imports")
    if found is None:
        pytest.fail("lint-imports is not installed: pip install -r requirements-test.txt")
    return found


def _run(cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd), "NO_COLOR": "1"}
    return subprocess.run(
        [_lint_imports(), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_harness_imports_nothing_from_the_app_it_checks() -> None:
    result = _run(REPO_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{CONTRACT} KEPT" in result.stdout


def test_the_contract_breaks_when_compliance_imports_infrastructure(tmp_path: Path) -> None:
    """The same contract, on a tree where one harness module imports the app's stacks."""
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contract = config["tool"]["importlinter"]["contracts"][0]
    assert contract["name"] == CONTRACT
    for package in ("compliance", "infrastructure"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "infrastructure" / "lambda_package.py").write_text("def build_zip(): ...\n")
    (tmp_path / "compliance" / "facts.py").write_text(
        "from infrastructure.lambda_package import build_zip\n"
    )
    (tmp_path / "pyproject.toml").write_text(
        (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    result = _run(tmp_path)
    assert result.returncode != 0
    assert f"{CONTRACT} BROKEN" in result.stdout
    assert "compliance.facts -> infrastructure.lambda_package" in result.stdout
