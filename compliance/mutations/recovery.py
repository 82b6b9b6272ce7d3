"""Mutants for the recovery objectives and monitoring (DR-RTO-*, DR-RPO-*, DR-MON-01)."""

from __future__ import annotations

from compliance.mutations import Target, Workspace, mutant

_PRIMARY_INPUT = "cross-stack-reference-input-primary"


def _remove(ws: Workspace, stack: str, type_: str, contains: str = "") -> Target:
    """Delete the first resource of a type whose name contains ``contains``."""
    target, _ = ws.first(stack, type_, contains)
    del ws.resources(stack, type_)[target.address.split(".", 1)[1]]
    return target


# --- DR-RTO-01: the per-stage budget of both paths --------------------------
# The design's own promotion path (80 s) is waived with its measured text, so
# a mutant that changes any stage changes the finding and is not waived.


@mutant(
    "failover record TTL raised to 60 seconds",
    "DR-RTO-01",
    "the PRIMARY record's TTL goes from 5 s to 60 s: DNS path 10 x 2 + 60 + 5 = 85 s > 60 s",
)
def _ttl_raised(ws: Workspace) -> Target:
    target, values = ws.first("global", "aws_route53_record", "primary")
    values["ttl"] = 60
    return target


@mutant(
    "health check failure threshold raised to 7",
    "DR-RTO-01",
    "the primary health check needs 7 failures: DNS path 10 x 7 + 5 + 5 = 80 s > 60 s, "
    "so the PRIMARY record that uses it misses the RTO",
)
def _threshold_raised(ws: Workspace) -> Target:
    _, check = ws.first("global", "aws_route53_health_check", "primary")
    check["failure_threshold"] = 7
    target, _ = ws.first("global", "aws_route53_record", "primary")
    return target


@mutant(
    "watchdog probes every 30 seconds",
    "DR-RTO-01",
    "the watchdog's PROBE_INTERVAL_SECONDS goes from 5 to 30: promotion path "
    "30 x 3 + 5 + 60 = 155 s instead of the waived 80 s",
)
def _slow_watchdog(ws: Workspace) -> Target:
    _, function = ws.first("secondary", "aws_lambda_function", "failover")
    function["environment"]["variables"]["PROBE_INTERVAL_SECONDS"] = "30"
    target, _ = ws.first("primary", "aws_rds_global_cluster")
    return target


@mutant(
    "watchdog schedule removed",
    "DR-RTO-01",
    "without the EventBridge schedule only the one-minute health alarm starts the "
    "promotion: 60 + 60 + 60 + 5 + 60 = 245 s instead of the waived 80 s",
)
def _watchdog_removed(ws: Workspace) -> Target:
    _remove(ws, "secondary", "aws_cloudwatch_event_target", "watchdog")
    _remove(ws, "secondary", "aws_lambda_permission", "watchdog")
    _remove(ws, "secondary", "aws_cloudwatch_event_rule", "watchdog")
    target, _ = ws.first("primary", "aws_rds_global_cluster")
    return target


# --- DR-RTO-02: the health-checked record pair -----------------------------


@mutant(
    "secondary record marked PRIMARY",
    "DR-RTO-02",
    "the SECONDARY record's failover type becomes PRIMARY: two PRIMARY answers, no SECONDARY",
)
def _secondary_as_primary(ws: Workspace) -> Target:
    target, values = ws.first("global", "aws_route53_record", "secondary")
    values["failover_routing_policy"]["type"] = "PRIMARY"
    return target


@mutant(
    "health check probes the raw function URL",
    "DR-RTO-02",
    "the secondary health check's fqdn is the whole Function URL (https://...), not its host",
)
def _raw_function_url(ws: Workspace) -> Target:
    target, values = ws.first("global", "aws_route53_health_check", "secondary")
    # ${element(split("/", <reference>), 2)} -> ${<reference>}
    wrapped = values["fqdn"]
    reference = wrapped.split('split("/", ', 1)[1].rsplit("), 2)}", 1)[0]
    values["fqdn"] = "${" + reference + "}"
    return target


@mutant(
    "health check path changed to the site root",
    "DR-RTO-02",
    "the primary health check probes / instead of /health",
)
def _health_path(ws: Workspace) -> Target:
    target, values = ws.first("global", "aws_route53_health_check", "primary")
    values["resource_path"] = "/"
    return target


# --- DR-RTO-03: automated promotion ----------------------------------------


@mutant(
    "failover function invoke permission removed",
    "DR-RTO-03",
    "the aws_lambda_permission letting SNS invoke the failover function is deleted: "
    "the subscription delivers to a function SNS may not call",
)
def _permission_removed(ws: Workspace) -> Target:
    _remove(ws, "global", "aws_lambda_permission", "failover")
    target, _ = ws.first("global", "aws_sns_topic_subscription", "failover")
    return target


@mutant(
    "failover role may promote any cluster",
    "DR-RTO-03",
    "the failover function's grant of rds:FailoverGlobalCluster is widened to Resource *",
)
def _grant_widened(ws: Workspace) -> Target:
    documents = ws.document("secondary")["data"]["aws_iam_policy_document"]
    name = next(name for name in sorted(documents) if name.startswith("failover_grants"))
    for statement in documents[name]["statement"]:
        statement["resources"] = ["*"]
    return Target("secondary", f"data.aws_iam_policy_document.{name}")


@mutant(
    "watchdog invoke permission removed",
    "DR-RTO-03",
    "the aws_lambda_permission letting EventBridge invoke the watchdog is deleted: "
    "the schedule fires at a function it may not call",
)
def _watchdog_permission_removed(ws: Workspace) -> Target:
    _remove(ws, "secondary", "aws_lambda_permission", "watchdog")
    target, _ = ws.first("secondary", "aws_cloudwatch_event_rule", "watchdog")
    return target


@mutant(
    "nothing starts the promotion",
    "DR-RTO-03",
    "the PRIMARY health alarm notifies nobody and the watchdog schedule is removed: "
    "nothing promotes the secondary cluster",
)
def _nothing_starts_promotion(ws: Workspace) -> Target:
    _, values = ws.first("global", "aws_cloudwatch_metric_alarm", "primary-health")
    values["alarm_actions"] = []
    _remove(ws, "secondary", "aws_cloudwatch_event_target", "watchdog")
    _remove(ws, "secondary", "aws_lambda_permission", "watchdog")
    _remove(ws, "secondary", "aws_cloudwatch_event_rule", "watchdog")
    target, _ = ws.first("primary", "aws_rds_global_cluster")
    return target


# --- DR-RPO-01: replication and backups ------------------------------------


@mutant(
    "DynamoDB replica removed",
    "DR-RPO-01",
    "the global table loses its us-west-2 replica",
)
def _replica_removed(ws: Workspace) -> Target:
    target, values = ws.first("global", "aws_dynamodb_table")
    values.pop("replica")
    return target


@mutant(
    "table point-in-time recovery off",
    "DR-RPO-01",
    "point-in-time recovery is disabled on the DynamoDB table",
)
def _table_pitr_off(ws: Workspace) -> Target:
    target, values = ws.first("global", "aws_dynamodb_table")
    values["point_in_time_recovery"] = {"enabled": False}
    return target


@mutant(
    "replica point-in-time recovery off",
    "DR-RPO-01",
    "point-in-time recovery is disabled on the table's us-west-2 replica",
)
def _replica_pitr_off(ws: Workspace) -> Target:
    target, values = ws.first("global", "aws_dynamodb_table")
    values["replica"][0]["point_in_time_recovery"] = False
    return target


@mutant(
    "Aurora backups kept 1 day",
    "DR-RPO-01",
    "the primary Aurora cluster's backup_retention_period drops to 1 day",
)
def _backups_short(ws: Workspace) -> Target:
    target, values = ws.first("primary", "aws_rds_cluster")
    values["backup_retention_period"] = 1
    return target


@mutant(
    "secondary cluster leaves the global cluster",
    "DR-RPO-01",
    "the secondary Aurora cluster drops global_cluster_identifier: a standalone cluster",
)
def _secondary_standalone(ws: Workspace) -> Target:
    target, values = ws.first("secondary", "aws_rds_cluster")
    values.pop("global_cluster_identifier")
    return target


# --- DR-RPO-02: replication is watched --------------------------------------


@mutant(
    "replication lag alarm threshold 30 seconds",
    "DR-RPO-02",
    "the Aurora lag alarm fires at 30000 ms: 30 + 60 = 90 s of writes at risk, not the waived 61 s",
)
def _lag_threshold(ws: Workspace) -> Target:
    target, values = ws.first("secondary", "aws_cloudwatch_metric_alarm", "replication-lag")
    values["threshold"] = 30000
    return target


@mutant(
    "replication lag alarm moved to us-east-1",
    "DR-RPO-02",
    "a provider-6 region argument puts the lag alarm in us-east-1, "
    "where the secondary cluster publishes no lag",
)
def _lag_moved(ws: Workspace) -> Target:
    target, values = ws.first("secondary", "aws_cloudwatch_metric_alarm", "replication-lag")
    values["region"] = "us-east-1"
    return target


@mutant(
    "replication lag alarm watches the primary cluster",
    "DR-RPO-02",
    "the lag alarm's DBClusterIdentifier names the primary cluster (through a new "
    "cross-stack output), which emits no AuroraGlobalDBReplicationLag",
)
def _lag_on_primary(ws: Workspace) -> Target:
    cluster, _ = ws.first("primary", "aws_rds_cluster")
    output = "cross-stack-output-primary-cluster-identifier"
    ws.document("primary").setdefault("output", {})[output] = {
        "value": "${" + cluster.address + ".cluster_identifier}",
        "sensitive": True,
    }
    target, values = ws.first("secondary", "aws_cloudwatch_metric_alarm", "replication-lag")
    values["dimensions"]["DBClusterIdentifier"] = (
        "${data.terraform_remote_state." + _PRIMARY_INPUT + ".outputs." + output + "}"
    )
    return target


@mutant(
    "DynamoDB latency alarm on the wrong receiving region",
    "DR-RPO-02",
    "the ReplicationLatency alarm names eu-west-1, where the table has no replica",
)
def _latency_wrong_region(ws: Workspace) -> Target:
    target, values = ws.first("global", "aws_cloudwatch_metric_alarm", "table-replication")
    values["dimensions"]["ReceivingRegion"] = "eu-west-1"
    return target


# --- DR-MON-01: health checks are alarmed ----------------------------------


@mutant(
    "health alarm treats missing data as not breaching",
    "DR-MON-01",
    "the secondary health alarm sets treat_missing_data = notBreaching",
)
def _missing_data_ok(ws: Workspace) -> Target:
    target, values = ws.first("global", "aws_cloudwatch_metric_alarm", "secondary-health")
    values["treat_missing_data"] = "notBreaching"
    return target


@mutant(
    "health check status alarm removed",
    "DR-MON-01",
    "the secondary health check's status alarm is deleted",
)
def _status_alarm_removed(ws: Workspace) -> Target:
    _remove(ws, "global", "aws_cloudwatch_metric_alarm", "secondary-health")
    target, _ = ws.first("global", "aws_route53_health_check", "secondary")
    return target
