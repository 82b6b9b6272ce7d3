"""CloudWatch alarms and the encrypted SNS topics they notify."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from constructs import Construct

from infrastructure.components.kms import RegionalKey
from infrastructure.config import ReplicationAlarmKnobs


class EncryptedTopic(Construct):
    """An SNS topic encrypted with the region's customer-managed key."""

    def __init__(self, scope: Construct, id_: str, *, name: str, key: RegionalKey) -> None:
        super().__init__(scope, id_)
        self.topic = SnsTopic(self, "topic", name=name, kms_master_key_id=key.arn)

    @property
    def arn(self) -> str:
        return self.topic.arn


def health_check_status_alarm(
    scope: Construct, id_: str, *, name: str, health_check_id: str, topic_arn: str
) -> CloudwatchMetricAlarm:
    """Alarm when a Route 53 health check reports unhealthy or stops reporting.

    Route 53 publishes ``HealthCheckStatus`` only in us-east-1, so this alarm
    must be created there. Missing data is breaching: silence is failure.
    """
    return CloudwatchMetricAlarm(
        scope,
        id_,
        alarm_name=name,
        namespace="AWS/Route53",
        metric_name="HealthCheckStatus",
        dimensions={"HealthCheckId": health_check_id},
        statistic="Minimum",
        period=60,
        evaluation_periods=1,
        comparison_operator="LessThanThreshold",
        threshold=1,
        treat_missing_data="breaching",
        alarm_actions=[topic_arn],
        ok_actions=[topic_arn],
    )


def aurora_replication_lag_alarm(
    scope: Construct,
    id_: str,
    *,
    name: str,
    cluster_identifier: str,
    knobs: ReplicationAlarmKnobs,
    topic_arn: str,
) -> CloudwatchMetricAlarm:
    """Alarm on global replication lag, emitted by the secondary cluster in its region."""
    return _lag_alarm(
        scope,
        id_,
        name=name,
        namespace="AWS/RDS",
        metric_name="AuroraGlobalDBReplicationLag",
        dimensions={"DBClusterIdentifier": cluster_identifier},
        knobs=knobs,
        topic_arn=topic_arn,
    )


def dynamodb_replication_alarm(
    scope: Construct,
    id_: str,
    *,
    name: str,
    table_name: str,
    receiving_region: str,
    knobs: ReplicationAlarmKnobs,
    topic_arn: str,
) -> CloudwatchMetricAlarm:
    """Alarm on DynamoDB global-table replication latency towards one replica region."""
    return _lag_alarm(
        scope,
        id_,
        name=name,
        namespace="AWS/DynamoDB",
        metric_name="ReplicationLatency",
        dimensions={"TableName": table_name, "ReceivingRegion": receiving_region},
        knobs=knobs,
        topic_arn=topic_arn,
    )


def _lag_alarm(
    scope: Construct,
    id_: str,
    *,
    name: str,
    namespace: str,
    metric_name: str,
    dimensions: dict[str, str],
    knobs: ReplicationAlarmKnobs,
    topic_arn: str,
) -> CloudwatchMetricAlarm:
    """A replication alarm that fires as early as CloudWatch allows.

    When replication stalls, the lag grows a second per second: the writes at
    risk when it fires are its threshold plus datapoints x period. Both
    metrics come at one-minute resolution, so one 60 s datapoint is the floor.
    """
    return CloudwatchMetricAlarm(
        scope,
        id_,
        alarm_name=name,
        namespace=namespace,
        metric_name=metric_name,
        dimensions=dimensions,
        statistic="Maximum",
        period=knobs.period_seconds,
        evaluation_periods=knobs.datapoints_to_alarm,
        datapoints_to_alarm=knobs.datapoints_to_alarm,
        comparison_operator="GreaterThanThreshold",
        threshold=knobs.threshold_ms,
        treat_missing_data="breaching",
        alarm_actions=[topic_arn],
    )
