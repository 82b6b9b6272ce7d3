"""Alarms and their encrypted topic: health status, and replication lag as early as allowed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from stack_testing import REGION, Synthesized, ref

from infrastructure.components.alarms import (
    EncryptedTopic,
    aurora_replication_lag_alarm,
    dynamodb_replication_alarm,
    health_check_status_alarm,
)
from infrastructure.components.kms import RegionalKey
from infrastructure.config import ReplicationAlarmKnobs

# Not the defaults, so the tests see the knobs passed through.
KNOBS = ReplicationAlarmKnobs(threshold_ms=750, period_seconds=120, datapoints_to_alarm=2)


@dataclass
class Built:
    key: RegionalKey
    topic: EncryptedTopic
    health: CloudwatchMetricAlarm
    aurora: CloudwatchMetricAlarm
    dynamodb: CloudwatchMetricAlarm


@pytest.fixture(scope="session")
def alarms(synth_stack: Callable[..., Synthesized]) -> Synthesized:
    def build(stack: TerraformStack) -> Built:
        key = RegionalKey(stack, "kms", region=REGION, alias="alarms", deletion_window_days=30)
        topic = EncryptedTopic(stack, "alerts", name="dr-test-alerts", key=key)
        return Built(
            key,
            topic,
            health_check_status_alarm(
                stack, "health", name="dr-health", health_check_id="hc-1", topic_arn=topic.arn
            ),
            aurora_replication_lag_alarm(
                stack,
                "aurora-lag",
                name="dr-aurora-lag",
                cluster_identifier="dr-secondary",
                knobs=KNOBS,
                topic_arn=topic.arn,
            ),
            dynamodb_replication_alarm(
                stack,
                "table-latency",
                name="dr-table-latency",
                table_name="sessions",
                receiving_region="eu-central-1",
                knobs=KNOBS,
                topic_arn=topic.arn,
            ),
        )

    return synth_stack("alarms", build)


def test_topic_is_encrypted_with_the_regions_key(alarms: Synthesized) -> None:
    assert alarms.has_resource(
        "aws_sns_topic",
        {"name": "dr-test-alerts", "kms_master_key_id": ref(alarms.built.key.key, "arn")},
    )


def test_health_alarm_fires_below_healthy_and_on_silence(alarms: Synthesized) -> None:
    topic = ref(alarms.built.topic.topic, "arn")
    assert alarms.has_resource(
        "aws_cloudwatch_metric_alarm",
        {
            "alarm_name": "dr-health",
            "namespace": "AWS/Route53",
            "metric_name": "HealthCheckStatus",
            "dimensions": {"HealthCheckId": "hc-1"},
            "statistic": "Minimum",
            "period": 60,
            "evaluation_periods": 1,
            "comparison_operator": "LessThanThreshold",
            "threshold": 1,
            "treat_missing_data": "breaching",
            "alarm_actions": [topic],
            "ok_actions": [topic],
        },
    )


@pytest.mark.parametrize(
    ("attribute", "namespace", "metric", "dimensions"),
    [
        (
            "aurora",
            "AWS/RDS",
            "AuroraGlobalDBReplicationLag",
            {"DBClusterIdentifier": "dr-secondary"},
        ),
        (
            "dynamodb",
            "AWS/DynamoDB",
            "ReplicationLatency",
            {"TableName": "sessions", "ReceivingRegion": "eu-central-1"},
        ),
    ],
)
def test_lag_alarms_take_their_timing_from_the_knobs(
    alarms: Synthesized, attribute: str, namespace: str, metric: str, dimensions: dict[str, str]
) -> None:
    values = alarms.values(getattr(alarms.built, attribute))
    assert (values["namespace"], values["metric_name"], values["dimensions"]) == (
        namespace,
        metric,
        dimensions,
    )
    assert values["threshold"] == KNOBS.threshold_ms
    assert values["period"] == KNOBS.period_seconds
    assert values["datapoints_to_alarm"] == values["evaluation_periods"] == 2
    assert values["statistic"] == "Maximum"
    assert values["comparison_operator"] == "GreaterThanThreshold"
    assert values["treat_missing_data"] == "breaching"
    assert values["alarm_actions"] == [ref(alarms.built.topic.topic, "arn")]


def test_default_knobs_alarm_within_one_minute() -> None:
    """Both metrics are one-minute data: one 60 s datapoint is the earliest an alarm can fire."""
    knobs = ReplicationAlarmKnobs()
    assert (knobs.period_seconds, knobs.datapoints_to_alarm) == (60, 1)
    assert knobs.threshold_ms <= 1000
