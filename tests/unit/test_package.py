"""The harness as a package: what the wheel holds, and that an installed copy runs.

The wheel is built from this checkout with the pinned build backend (hatchling,
from requirements-test.txt: no download at test time) and read as a zip: its
entry points and RECORD say what ``pip install`` gives another team. The
installed copy lives in a throwaway virtual environment that sees this
environment's dependencies, never the checkout itself.
"""

from __future__ import annotations

import configparser
import csv
import io
import os
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from compliance.waivers import Waiver, load_waivers

REPO_ROOT = Path(__file__).resolve().parents[2]
POLICIES = REPO_ROOT / "policies"
FIXTURE = REPO_ROOT / "tests" / "fixtures" / "recovery_one_stack.tf.json"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("hatchling", reason="pip install -r requirements-test.txt")
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        + ["-w", str(out), str(REPO_ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (built,) = out.glob("dr_compliance_harness-*.whl")
    return built


def _dist_info(archive: zipfile.ZipFile, name: str) -> str:
    (path,) = [n for n in archive.namelist() if n.endswith(f".dist-info/{name}")]
    return archive.read(path).decode("utf-8")


def _record(archive: zipfile.ZipFile) -> set[str]:
    return {row[0] for row in csv.reader(io.StringIO(_dist_info(archive, "RECORD"))) if row}


def test_the_wheel_declares_the_console_script_and_the_pytest_plugin(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        entry_points = configparser.ConfigParser()
        entry_points.read_string(_dist_info(archive, "entry_points.txt"))
    assert dict(entry_points["console_scripts"]) == {"dr-compliance": "compliance.cli:main"}
    # Named after its module: conftest's pytest_plugins and the entry point register it once.
    assert dict(entry_points["pytest11"]) == {
        "compliance.pytest_plugin": "compliance.pytest_plugin"
    }


def test_the_wheel_ships_the_policies_templates_and_schemas_but_not_the_app(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        record = _record(archive)
    expected_policies = {
        "compliance/policies/" + path.relative_to(POLICIES).as_posix()
        for path in POLICIES.rglob("*")
        if path.is_file() and not path.name.endswith("_test.rego") and path.name != "waivers.yaml"
    }
    assert {"compliance/policies/lib/dr.rego", "compliance/policies/settings.yaml"} <= record
    assert "compliance/policies/waivers.template.yaml" in record
    assert expected_policies <= record, sorted(expected_policies - record)
    templates = {
        path.relative_to(REPO_ROOT).as_posix()
        for path in (REPO_ROOT / "compliance" / "reports" / "templates").iterdir()
        if path.is_file()
    }
    schemas = {
        path.relative_to(REPO_ROOT).as_posix()
        for path in (REPO_ROOT / "compliance").rglob("*.schema.json")
    }
    assert templates and schemas
    assert templates | schemas <= record, sorted((templates | schemas) - record)
    assert "compliance/pytest_plugin.py" in record
    # Left out: the Rego unit tests, this app's own (expiring) waivers, the app and its tests.
    assert not [name for name in record if name.endswith("_test.rego")]
    assert "compliance/policies/waivers.yaml" not in record
    assert not [n for n in record if n.startswith(("infrastructure/", "lambda/", "tests/"))]


def _isolated_env() -> dict[str, str]:
    """This environment less anything that would import the checkout or start coverage."""
    return {
        key: value
        for key, value in os.environ.items()
        if key != "PYTHONPATH" and not key.startswith("COVERAGE")
    }


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment holding the wheel alone; its dependencies are this environment's."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(purelib) / "outer.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps"]
        + [str(wheel)],
        capture_output=True,
        text=True,
        env=_isolated_env(),
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return venv


def _run(venv: Path, *command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / command[0]), *command[1:]],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**_isolated_env(), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"},
        timeout=300,
        check=False,
    )


def test_the_installed_console_script_checks_with_the_shipped_policies(
    installed: Path, tmp_path: Path
) -> None:
    usage = _run(installed, "dr-compliance", "--help", cwd=tmp_path)
    assert usage.returncode == 0, usage.stderr
    assert usage.stdout.startswith("usage: dr-compliance")
    where = _run(
        installed,
        "python",
        "-c",
        "import compliance.catalogue as c; print(c.__file__); print(c.POLICY_ROOT)",
        cwd=tmp_path,
    )
    module, policies = where.stdout.split()
    assert Path(module).is_relative_to(installed) and Path(policies).is_relative_to(installed)
    check = _run(
        installed, "dr-compliance", "check", str(FIXTURE), "--no-source", "--format", "json",
        cwd=tmp_path,
    )  # fmt: skip
    assert check.returncode in (0, 1), check.stderr
    assert '"DR-RPO-01"' in check.stdout and '"DR-SCH-01"' in check.stdout


def test_the_installed_pytest_plugin_is_found_by_its_entry_point(
    installed: Path, tmp_path: Path
) -> None:
    (tmp_path / "test_plugin.py").write_text(
        "def test_registered(request):\n"
        "    plugin = request.config.pluginmanager.get_plugin('compliance.pytest_plugin')\n"
        f"    assert plugin is not None and plugin.__file__.startswith({str(installed)!r})\n"
    )
    result = _run(installed, "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_the_shipped_waivers_template_waives_nothing_and_names_every_field() -> None:
    """What an app copies: valid as it is, and documenting every field a waiver takes."""
    template = POLICIES / "waivers.template.yaml"
    assert load_waivers(template, {"DR-IAM-01"}) == []
    documented = {
        line.split()[1] for line in template.read_text().splitlines() if line[:4] == "#   "
    }
    assert set(Waiver.model_fields) <= documented, set(Waiver.model_fields) - documented
