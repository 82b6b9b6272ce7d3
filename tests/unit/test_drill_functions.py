"""The app's functions as the lab runs them: from the synthesized assets, never from lambda/."""

from __future__ import annotations

import copy
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from compliance.drills import functions
from compliance.drills.engines import Engines
from compliance.drills.functions import LabEndpoints, NotDrillable
from compliance.drills.knobs import Design, Function, LabValue, Unresolved, read_design
from compliance.drills.scenarios import DrillOptions, run_local
from compliance.model import Model, load_model
from compliance.settings import load_settings

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def design(model: Model) -> Design:
    return read_design(model, load_settings(), environment_overrides={"DB_PORT": "{database_port}"})


def _endpoints(design: Design) -> LabEndpoints:
    return LabEndpoints(
        database_port=15432,
        addresses={design.primary_region: "127.0.0.41", design.secondary_region: "127.0.0.42"},
        function_urls={
            design.primary_region: "http://127.0.0.41:18080/",
            design.secondary_region: "http://127.0.0.42:18080/",
        },
        cluster_arns={r: design.cluster_arn(r) for r in design.cluster_ids},
        cluster_ids=dict(design.cluster_ids),
        global_cluster_id=design.global_cluster_id,
    )


def test_the_failover_function_runs_from_its_asset_with_the_lab_in_its_environment(
    design: Design, tmp_path: Path
) -> None:
    function = design.failover_function
    assert function is not None and function.asset is not None
    assert REPO_ROOT / "lambda" not in function.asset.parents  # the synthesized zip
    code = functions.extract(function, tmp_path)
    handler = functions.load_handler(code, function.handler, "drill_test_failover_handler")
    assert functions.missing_keywords(handler, ("promoter", "sleep", "environ")) == []
    assert functions.missing_keywords(lambda event, context: None, ("promoter",)) == ["promoter"]
    variables, notes = functions.environment(
        function,
        _endpoints(design),
        scale=0.2,
        settings=design.settings,
        overrides={},
    )
    assert notes == []
    assert variables["GLOBAL_CLUSTER_ID"] == design.global_cluster_id
    assert variables["TARGET_CLUSTER_ARN"] == design.cluster_arn(design.secondary_region)
    assert variables["PRIMARY_HEALTH_URL"] == "http://127.0.0.41:18080/health"
    assert variables["PRIMARY_ALARM_NAME"] == design.primary_alarm_name  # a literal, kept
    synthesized = {
        name: "".join(p for p in parts if isinstance(p, str)) for name, parts in function.variables
    }
    for name in ("PROBE_INTERVAL_SECONDS", "PROBE_TIMEOUT_SECONDS", "WATCH_SECONDS"):
        assert float(variables[name]) == pytest.approx(float(synthesized[name]) * 0.2)
    assert variables["FAILURE_THRESHOLD"] == synthesized["FAILURE_THRESHOLD"]  # a count
    assert variables["AWS_REGION"] == function.region == design.secondary_region
    assert variables["AWS_LAMBDA_FUNCTION_NAME"] == function.name


def test_the_app_s_lab_settings_come_last_with_the_lab_s_values(design: Design) -> None:
    function = design.health_functions[design.primary_region]
    variables, _ = functions.environment(
        function,
        _endpoints(design),
        scale=0.2,
        settings=design.settings,
        overrides={"DB_PORT": "{database_port}", "DB_AUTH": "password", "WHERE": "{region}"},
    )
    assert variables["DB_HOST"] == "127.0.0.41"  # the cluster's endpoint: the region's database
    assert variables["DB_PORT"] == "15432" and variables["DB_AUTH"] == "password"
    assert variables["WHERE"] == design.primary_region
    with pytest.raises(
        NotDrillable, match=r"drills.environment.*\{nope\}.*known: \{database_address\}"
    ):
        functions.environment(
            function, _endpoints(design), scale=1, settings={}, overrides={"X": "{nope}"}
        )


def test_a_reference_the_lab_cannot_stand_in_for_leaves_the_variable_unset(design: Design) -> None:
    function = replace(
        design.health_functions[design.primary_region],
        variables=(
            ("KEY", (Unresolved("${aws_kms_key.k.arn}", "aws_kms_key.arn has no stand-in"),)),
            ("URL", (LabValue("function_url", "nowhere-1", "${x}"), "health")),
            ("KEPT", ("literal",)),
        ),
    )
    variables, notes = functions.environment(
        function, _endpoints(design), scale=1, settings={}, overrides={}
    )
    assert "KEY" not in variables and "URL" not in variables and variables["KEPT"] == "literal"
    assert any(
        "KEY left unset (${aws_kms_key.k.arn}: aws_kms_key.arn has no stand-in)" in n for n in notes
    )
    assert any("URL left unset" in n and "nowhere-1" in n for n in notes)


def test_process_environment_carries_no_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_PROFILE", "prod")
    env = functions.process_environment({"AWS_REGION": "r", "A": "1"}, Path("/code"))
    assert "AWS_SECRET_ACCESS_KEY" not in env and "AWS_PROFILE" not in env
    assert env["AWS_REGION"] == "r" and env["A"] == "1" and env["LAMBDA_TASK_ROOT"] == "/code"


def _mutated(synth_dir: Path, tmp_path: Path, stack: str, change: dict) -> Path:
    copy_dir = tmp_path / "cdktf.out"
    shutil.copytree(synth_dir, copy_dir)
    path = copy_dir / "stacks" / stack / "cdk.tf.json"
    document = json.loads(path.read_text())
    for function in document["resource"]["aws_lambda_function"].values():
        if "failover" in function["function_name"]:
            function.update(change)
            for key in [k for k, v in change.items() if v is None]:
                function.pop(key)
    path.write_text(json.dumps(document))
    return copy_dir


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"runtime": "nodejs20.x"}, "its runtime nodejs20.x is not Python"),
        ({"filename": None, "image_uri": "1.dkr.ecr/x:1"}, "a container image or an S3 object"),
        ({"filename": "assets/gone/failover.zip"}, "is not in the synthesized output"),
        ({"filename": "../../../etc/passwd.zip"}, "outside"),
        ({"handler": "nodots"}, "is not module.function"),
        ({"handler": "absent.handler"}, "its handler module absent is not in the asset"),
    ],
)
def test_a_function_the_lab_cannot_run_is_said_plainly(
    synth_dir: Path, tmp_path: Path, change: dict, reason: str
) -> None:
    folder = _mutated(synth_dir, tmp_path, "secondary", change)
    design = read_design(load_model(folder), load_settings())
    function = design.failover_function
    assert function is not None
    with pytest.raises(
        NotDrillable, match="cannot be drilled|not module|not in the asset"
    ) as raised:
        functions.extract(function, tmp_path / "code")
    assert reason in str(raised.value) and function.name in str(raised.value)


def test_a_drill_of_a_design_the_lab_cannot_run_stops_before_any_engine(
    synth_dir: Path, tmp_path: Path
) -> None:
    folder = _mutated(synth_dir, tmp_path, "secondary", {"runtime": "java21"})
    design = read_design(load_model(folder), load_settings())
    absent = Engines(tmp_path / "no-pg", tmp_path / "no-pdns", "-", "-")
    with pytest.raises(NotDrillable, match="runtime java21 is not Python"):
        run_local("DR-DEP-01", design, DrillOptions(engines=absent, reclaim=False))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_function_host_serves_the_asset_s_handler(design: Design, tmp_path: Path) -> None:
    function = design.health_functions[design.primary_region]
    code = functions.extract(function, tmp_path)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    port = sock.getsockname()[1]
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "DB_HOST": "127.0.0.1",
        "DB_PORT": str(_free_port()),  # nothing listens: the handler says unreachable
        "DB_USER": "postgres",
        "DB_REGION": design.primary_region,
        "DB_AUTH": "password",
    }
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "compliance.drills.function_host",
            "--fd",
            str(sock.fileno()),
            "--code",
            str(code),
            "--handler",
            function.handler,
        ],
        env=env,
        pass_fds=[sock.fileno()],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    sock.close()
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5)
            except urllib.error.HTTPError as error:
                status, body = error.code, json.loads(error.read())
                break
            except OSError:
                assert child.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)
        assert status == 503 and body == {
            "status": "unhealthy",
            "region": design.primary_region,
            "reason": "unreachable",
        }
    finally:
        child.terminate()
        output = child.communicate(timeout=10)[0].decode()
    assert f"serving {function.handler} of {code}" in output


def test_nothing_in_the_harness_names_the_app_s_lambda_folder() -> None:
    """The lab found its functions in the synthesized output only (layering has the imports)."""
    for path in (REPO_ROOT / "compliance" / "drills").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert '/ "lambda"' not in text and "REPO_ROOT / " not in text, path  # no path into the app
        assert "handler.py" not in text, path


def test_copying_a_function_keeps_its_fields(design: Design) -> None:
    function = design.failover_function
    assert function is not None
    clone = copy.deepcopy(function)
    assert isinstance(clone, Function) and clone == function
