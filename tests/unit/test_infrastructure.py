"""Configuration and asset packaging of the infrastructure app."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from infrastructure.config import (
    DrConfig,
    HealthCheckKnobs,
    RegionConfig,
    ReplicationAlarmKnobs,
    WatchdogKnobs,
)
from infrastructure.lambda_package import build_zip
from infrastructure.provider_loader import register_lazily


def test_default_design_declares_its_failover_timings() -> None:
    """The values the harness budgets (DR-RTO-01) and the watchdog's derived window."""
    config = DrConfig()
    assert config.health_check.detection_seconds() == 10 * 2
    watchdog = config.watchdog
    assert watchdog.schedule_expression == "rate(1 minute)"
    assert watchdog.detection_seconds() == 5 * 3
    assert watchdog.watch_seconds == 60 + 15 + 5
    assert watchdog.function_timeout_seconds == 80 + 2 + 15


def test_watch_window_follows_the_schedule_and_the_cadence() -> None:
    knobs = WatchdogKnobs(rate_minutes=2, probe_interval_seconds=10, failure_threshold=2)
    assert knobs.schedule_expression == "rate(2 minutes)"
    assert knobs.watch_seconds == 120 + 20 + 5


def test_config_judges_no_rto_budget() -> None:
    """Whether the timings fit the RTO is the harness's finding, never a config error."""
    assert DrConfig(health_check=HealthCheckKnobs(record_ttl=60)).health_check.record_ttl == 60


@pytest.mark.parametrize(
    ("build", "error"),
    [
        (lambda: HealthCheckKnobs(request_interval=15), "request_interval must be one of"),
        (lambda: HealthCheckKnobs(failure_threshold=11), "between 1 and 10"),
        (lambda: HealthCheckKnobs(record_ttl=-1), "must not be negative"),
        (lambda: WatchdogKnobs(rate_minutes=0), "at least 1"),
        (lambda: WatchdogKnobs(failure_threshold=0), "at least 1"),
        (lambda: WatchdogKnobs(probe_timeout_seconds=5), "below the interval"),
        (lambda: WatchdogKnobs(rate_minutes=15), "over Lambda's 900 s"),
        (lambda: ReplicationAlarmKnobs(period_seconds=30), "multiple of 60"),
        (lambda: ReplicationAlarmKnobs(period_seconds=90), "multiple of 60"),
        (lambda: ReplicationAlarmKnobs(threshold_ms=0), "must be positive"),
    ],
)
def test_impossible_knobs_are_rejected(build: Any, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        build()


def test_regions_and_ranges_must_differ() -> None:
    with pytest.raises(ValueError, match="regions must differ"):
        DrConfig(secondary=RegionConfig("us-east-1", "10.99.0.0/16"))
    with pytest.raises(ValueError, match="must not overlap"):
        DrConfig(secondary=RegionConfig("us-west-2", "10.10.0.0/16"))


def test_region_layout() -> None:
    region = RegionConfig("eu-west-1", "10.30.0.0/16")
    assert region.availability_zones == ("eu-west-1a", "eu-west-1b", "eu-west-1c")
    assert [region.subnet_cidr(i) for i in range(3)] == [
        "10.30.0.0/20",
        "10.30.16.0/20",
        "10.30.32.0/20",
    ]
    assert replace(DrConfig(), environment="dev").name_prefix == "dr-dev"


def test_harness_settings_agree_with_the_design() -> None:
    from compliance.settings import load_settings

    settings, config = load_settings(), DrConfig()
    assert settings.rto_seconds == config.targets.rto_seconds
    assert settings.rpo_seconds == config.targets.rpo_seconds
    assert sorted(settings.required_tags) == sorted(config.tags())


def test_zip_is_reproducible_and_hash_matches(tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "pkg").mkdir(parents=True)
    (source / "handler.py").write_text("def handler(e, c):\n    return 1\n")
    (source / "pkg" / "util.py").write_text("X = 1\n")
    (source / "__pycache__").mkdir()
    (source / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"junk")
    first = build_zip(source, tmp_path / "a.zip")
    (source / "handler.py").touch()  # a newer mtime must not change the bytes
    second = build_zip(source, tmp_path / "b.zip")
    assert first.path.read_bytes() == second.path.read_bytes()
    digest = base64.b64encode(hashlib.sha256(first.path.read_bytes()).digest()).decode()
    assert first.source_code_hash == digest
    with zipfile.ZipFile(first.path) as archive:
        assert archive.namelist() == ["handler.py", "pkg/util.py"]
    (source / "handler.py").write_text("def handler(e, c):\n    return 2\n")
    assert build_zip(source, tmp_path / "c.zip").source_code_hash != first.source_code_hash


def test_zip_of_missing_folder_fails(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="Lambda source folder not found"):
        build_zip(tmp_path / "nope", tmp_path / "x.zip")


def test_lazy_registration_skips_absent_packages() -> None:
    import sys

    register_lazily("no_such_package_for_dr_tests")
    assert "no_such_package_for_dr_tests" not in sys.modules


def test_pinned_requirements_are_vendored(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "handler.py").write_text("import six\n")
    (source / "requirements.txt").write_text("# driver\nsix==1.17.0\n")
    package = build_zip(source, tmp_path / "a.zip")
    with zipfile.ZipFile(package.path) as archive:
        names = archive.namelist()
    assert "six.py" in names and "handler.py" in names
    assert not any(name.endswith(".pyc") for name in names)
    assert build_zip(source, tmp_path / "b.zip").source_code_hash == package.source_code_hash


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("six>=1", "not an exact pin"),
        ("six==0.1", "the pin says 0.1"),
        ("no-such-dist==1.0", "is not installed"),
    ],
)
def test_bad_vendored_pins_fail(tmp_path: Path, line: str, error: str) -> None:
    (tmp_path / "requirements.txt").write_text(line + "\n")
    with pytest.raises(ValueError, match=error):
        build_zip(tmp_path, tmp_path / "out" / "x.zip")


def test_health_check_zip_carries_its_driver(tmp_path: Path) -> None:
    from infrastructure.lambda_package import LAMBDA_ROOT

    package = build_zip(LAMBDA_ROOT / "health_check", tmp_path / "hc.zip")
    with zipfile.ZipFile(package.path) as archive:
        names = archive.namelist()
    assert "handler.py" in names and "pg8000/native.py" in names and "scramp/core.py" in names


def _resources(synth_dir: Path, stack: str) -> dict[str, dict[str, Any]]:
    document = json.loads((synth_dir / "stacks" / stack / "cdk.tf.json").read_text())
    return document["resource"]


def test_secondary_stack_runs_the_watchdog_on_its_failover_function(synth_dir: Path) -> None:
    """The app as synthesized: schedule -> failover function, probe loop declared, IAM scoped."""
    knobs = DrConfig().watchdog
    resources = _resources(synth_dir, "secondary")
    (function_id,) = [k for k in resources["aws_lambda_function"] if k.startswith("failover_")]
    function = resources["aws_lambda_function"][function_id]
    (rule_id,) = resources["aws_cloudwatch_event_rule"]
    assert resources["aws_cloudwatch_event_rule"][rule_id]["schedule_expression"] == (
        "rate(1 minute)"
    )
    (target,) = resources["aws_cloudwatch_event_target"].values()
    assert target["arn"] == "${aws_lambda_function." + function_id + ".arn}"
    (permission,) = resources["aws_lambda_permission"].values()
    assert permission["principal"] == "events.amazonaws.com"
    assert permission["source_arn"] == "${aws_cloudwatch_event_rule." + rule_id + ".arn}"

    variables = function["environment"]["variables"]
    assert variables["PROBE_INTERVAL_SECONDS"] == str(knobs.probe_interval_seconds)
    assert variables["FAILURE_THRESHOLD"] == str(knobs.failure_threshold)
    assert variables["WATCH_SECONDS"] == str(knobs.watch_seconds)
    # The primary's health URL arrives by cross-stack reference, never as a literal.
    assert variables["PRIMARY_HEALTH_URL"].startswith(
        "${data.terraform_remote_state.cross-stack-reference-input-primary.outputs."
    )
    assert variables["PRIMARY_HEALTH_URL"].endswith("function_url}health")
    assert function["timeout"] == knobs.function_timeout_seconds
    assert "vpc_config" not in function  # the private subnets have no way out


def test_failover_role_may_promote_only_this_global_cluster(synth_dir: Path) -> None:
    document = json.loads((synth_dir / "stacks" / "secondary" / "cdk.tf.json").read_text())
    documents = document["data"]["aws_iam_policy_document"]
    (name,) = [k for k in documents if k.startswith("failover_grants")]
    (statement,) = documents[name]["statement"]
    assert statement["actions"] == ["rds:FailoverGlobalCluster", "rds:DescribeGlobalClusters"]
    assert "*" not in statement["resources"] and len(statement["resources"]) == 2
    assert any("aws_rds_cluster.aurora_cluster" in r for r in statement["resources"])
    assert any("global_cluster" in r for r in statement["resources"])


def test_lag_alarms_fire_on_the_first_one_minute_datapoint(synth_dir: Path) -> None:
    alarms = {
        **_resources(synth_dir, "secondary")["aws_cloudwatch_metric_alarm"],
        **_resources(synth_dir, "global")["aws_cloudwatch_metric_alarm"],
    }
    lag = {
        k: v
        for k, v in alarms.items()
        if v["metric_name"] in ("AuroraGlobalDBReplicationLag", "ReplicationLatency")
    }
    assert len(lag) == 2
    for alarm in lag.values():
        assert (alarm["period"], alarm["datapoints_to_alarm"], alarm["evaluation_periods"]) == (
            60,
            1,
            1,
        )
        assert alarm["threshold"] == DrConfig().replication_alarm.threshold_ms
