# METADATA
# title: Replication lag is watched against the recovery point objective
# description: >-
#   Replication that silently falls behind breaks the RPO without anyone
#   knowing, and an alarm helps only if it fires while there is still room to
#   act. Each secondary Aurora member has an alarm on
#   AuroraGlobalDBReplicationLag and each DynamoDB replica an alarm on
#   ReplicationLatency (both in milliseconds); each alarm notifies an SNS
#   topic. An alarm only sees what emits its metric: the Aurora lag alarm sits
#   in the secondary cluster's region and names that cluster
#   (DBClusterIdentifier), the DynamoDB alarm sits in the table's region and
#   names the table (TableName) and a replica region (ReceivingRegion). When
#   replication stalls the lag grows by one second every second, so when the
#   alarm fires the window of writes at risk is its threshold plus its own
#   evaluation time, datapoints_to_alarm (default evaluation_periods) x
#   period, where the period counts at least 60 s because these metrics are
#   published at one-minute standard resolution. That sum must be at most the
#   fraction rpo_alarm_fraction (default 0.5) of the RPO target (rpo_seconds).
#   An alarm on a metric that never arrives, or whose threshold or period is
#   an expression, is a finding.
# custom:
#   id: DR-RPO-02
#   severity: high
#   controls:
#     - framework: nist-800-53
#       control: SI-4
#       grade: supports
#       why: Replication lag is watched and alarms while there is still room to act within the RPO.
#     - framework: soc2
#       control: A1.2
#       grade: supports
#       why: Replication falling behind the recovery point objective is noticed.
#     - framework: iso-27001
#       control: A.8.16
#       grade: supports
#       why: Replication of the recovery copies is monitored.
#   observes:
#     aws_cloudwatch_metric_alarm: [region, namespace, metric_name, dimensions, threshold, period, evaluation_periods, datapoints_to_alarm, alarm_actions]
#   remediation: >-
#     In the secondary region, alarm on AWS/RDS AuroraGlobalDBReplicationLag
#     with DBClusterIdentifier = the secondary cluster's cluster_identifier; in
#     the table's region, alarm on AWS/DynamoDB ReplicationLatency with
#     TableName and ReceivingRegion = each replica region; point alarm_actions
#     at an SNS topic; keep threshold + datapoints_to_alarm x period within
#     rpo_alarm_fraction of the RPO (period 60, one datapoint, a low
#     threshold). Where the RPO is shorter than a one-minute alarm can warn
#     about, record a waiver stating the window.
package dr.rules.dr_rpo_02

import data.dr.lib
import data.dr.recovery as rec

_rpo := lib.setting("rpo_seconds", 5)

_fraction := lib.setting("rpo_alarm_fraction", 0.5)

# The window an alarm may take: a fraction of the RPO, in seconds.
_window := _rpo * _fraction

_lag_alarms := rec.alarms("AWS/RDS", "AuroraGlobalDBReplicationLag")

_latency_alarms := rec.alarms("AWS/DynamoDB", "ReplicationLatency")

_secondary_members := {c | some g in rec.global_clusters; some c in rec.secondary_members(g)}

_secondary_member_keys := {c.key | some c in _secondary_members}

_tables := lib.resources("aws_dynamodb_table")

# The Aurora cluster an alarm's DBClusterIdentifier names: by reference or
# by its literal identifier.
_watched_cluster(alarm) := c if {
	c := rec.dimension_target(alarm, "DBClusterIdentifier")
	c.type == "aws_rds_cluster"
}

_watched_cluster(alarm) := c if {
	identifier := rec.dimension(alarm, "DBClusterIdentifier")
	lib.is_literal(identifier)
	some c in object.get(rec.cluster_by_identifier, identifier, [])
}

_watched_table(alarm) := t if {
	t := rec.dimension_target(alarm, "TableName")
	t.type == "aws_dynamodb_table"
}

_watched_table(alarm) := t if {
	name := rec.dimension(alarm, "TableName")
	lib.is_literal(name)
	some t in _tables
	t.values.name == name
}

# The seconds of writes at risk when the alarm fires: threshold plus its own
# evaluation time; both metrics are milliseconds at one-minute resolution.
_window_of(alarm) := (threshold / 1000) + (datapoints * max([period, 60])) if {
	threshold := lib.num(object.get(alarm.values, "threshold", null))
	period := lib.num(object.get(alarm.values, "period", null))
	datapoints := lib.num(object.get(alarm.values, "datapoints_to_alarm", object.get(alarm.values, "evaluation_periods", 1)))
}

# What is wrong with an alarm's timing, direction and notification.
_alarm_problems(alarm) := {p |
	some p in [_timing_problem(alarm), _direction_problem(alarm), _notify_problem(alarm)]
	p != ""
}

_timing_problem(alarm) := "" if {
	_window_of(alarm) <= _window
} else := sprintf("fires when %v s of writes are already at risk (threshold %v ms + %v datapoint(s) x period %v s, counted at least 60 s for this one-minute metric), more than %v of the %v s RPO (%v s)", [
	_window_of(alarm), alarm.values.threshold,
	object.get(alarm.values, "datapoints_to_alarm", object.get(alarm.values, "evaluation_periods", 1)),
	alarm.values.period, _fraction, _rpo, _window,
]) if {
	_window_of(alarm)
} else := sprintf("threshold %v or period %v is not a literal number: when the alarm fires cannot be computed", [
	object.get(alarm.values, "threshold", "unset"), object.get(alarm.values, "period", "unset"),
])

_direction_problem(alarm) := "" if {
	object.get(alarm.values, "comparison_operator", "") in {"GreaterThanThreshold", "GreaterThanOrEqualToThreshold"}
} else := sprintf("comparison_operator %v never fires on growing lag", [object.get(alarm.values, "comparison_operator", "(unset)")])

# CloudWatch only notifies topics of the alarm's own region.
_notify_problem(alarm) := "" if {
	some topic in rec.alarm_topics(alarm)
	topic.region == alarm.region
} else := sprintf("alarm_actions notify no SNS topic in the alarm's region %v", [alarm.region])

evaluated contains lib.subject(r) if some r in _lag_alarms

evaluated contains lib.subject(r) if some r in _latency_alarms

evaluated contains lib.subject(r) if some r in _secondary_members

evaluated contains lib.subject(t) if {
	some t in _tables
	count(rec.replica_regions(t) - {t.region}) > 0
}

evaluated contains lib.subject(r) if {
	some t in _tables
	some r in rec.replica_resources(t)
}

_expected := sprintf("expected threshold + evaluation time within %v s (%v of the RPO), a Greater* comparison and an SNS alarm action", [_window, _fraction])

# --- Aurora ---------------------------------------------------------------

deny contains lib.finding(rego.metadata.chain(), alarm, msg) if {
	some alarm in _lag_alarms
	c := _watched_cluster(alarm)
	c.key in _secondary_member_keys
	alarm.region == c.region
	some problem in _alarm_problems(alarm)
	msg := sprintf("%s; %s", [problem, _expected])
}

deny contains lib.finding(rego.metadata.chain(), alarm, msg) if {
	some alarm in _lag_alarms
	not _watched_cluster(alarm)
	msg := sprintf("DBClusterIdentifier %v names no Aurora cluster of this design: the metric never arrives", [rec.dimension(alarm, "DBClusterIdentifier")])
}

deny contains lib.finding(rego.metadata.chain(), alarm, msg) if {
	some alarm in _lag_alarms
	c := _watched_cluster(alarm)
	not c.key in _secondary_member_keys
	msg := sprintf("watches %s, which is not a secondary member of a global cluster and emits no AuroraGlobalDBReplicationLag: the metric never arrives; expected the secondary cluster", [lib.subject(c)])
}

deny contains lib.finding(rego.metadata.chain(), alarm, msg) if {
	some alarm in _lag_alarms
	c := _watched_cluster(alarm)
	c.key in _secondary_member_keys
	alarm.region != c.region
	msg := sprintf("the alarm is in %v but %s publishes its lag in %v: the metric never arrives; expected the alarm in %v", [alarm.region, lib.subject(c), c.region, c.region])
}

# The secondary clusters some alarm watches from the right region (sound or not).
_watched_members contains c.key if {
	some alarm in _lag_alarms
	c := _watched_cluster(alarm)
	alarm.region == c.region
}

deny contains lib.finding(rego.metadata.chain(), c, msg) if {
	some c in _secondary_members
	not c.key in _watched_members
	msg := sprintf("no alarm in %v watches AuroraGlobalDBReplicationLag of this cluster: replication can fall behind the %v s RPO unnoticed", [c.region, _rpo])
}

# --- DynamoDB -------------------------------------------------------------

deny contains lib.finding(rego.metadata.chain(), alarm, msg) if {
	some alarm in _latency_alarms
	t := _watched_table(alarm)
	alarm.region == t.region
	some problem in _alarm_problems(alarm)
	msg := sprintf("%s; %s", [problem, _expected])
}

deny contains lib.finding(rego.metadata.chain(), alarm, msg) if {
	some alarm in _latency_alarms
	not _watched_table(alarm)
	msg := sprintf("TableName %v names no DynamoDB table of this design: the metric never arrives", [rec.dimension(alarm, "TableName")])
}

deny contains lib.finding(rego.metadata.chain(), alarm, msg) if {
	some alarm in _latency_alarms
	t := _watched_table(alarm)
	receiving := _receiving(alarm)
	not receiving in (rec.replica_regions(t) - {alarm.region})
	msg := sprintf("ReceivingRegion %v is not a replica region of %s seen from %v (replicas: %v): the metric never arrives", [receiving, lib.subject(t), alarm.region, rec.listed(rec.replica_regions(t))])
}

deny contains lib.finding(rego.metadata.chain(), alarm, msg) if {
	some alarm in _latency_alarms
	t := _watched_table(alarm)
	alarm.region != t.region
	msg := sprintf("the alarm is in %v but %s publishes ReplicationLatency in %v: expected the alarm in the table's region", [alarm.region, lib.subject(t), t.region])
}

# [table key, replica region] pairs some alarm watches from the table's region.
_watched_replicas contains [t.key, receiving] if {
	some alarm in _latency_alarms
	t := _watched_table(alarm)
	alarm.region == t.region
	receiving := _receiving(alarm)
}

# The replica region an alarm names: a literal, an aws_region data source, a variable's default.
_receiving(alarm) := lib.region_at(alarm, ["dimensions", "ReceivingRegion"])

_receiving(alarm) := rec.dimension(alarm, "ReceivingRegion") if not lib.region_at(alarm, ["dimensions", "ReceivingRegion"])

# Replica blocks: the table holding them is named.
deny contains lib.finding(rego.metadata.chain(), t, msg) if {
	some t in _tables
	some i, replica in lib.block(t, "replica")
	region := rec.block_region(t, i, replica)
	region != t.region
	not [t.key, region] in _watched_replicas
	msg := sprintf("no alarm in %v watches ReplicationLatency towards %v: the replica can fall behind the %v s RPO unnoticed", [t.region, region, _rpo])
}

# Separate aws_dynamodb_table_replica resources are named themselves.
deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some t in _tables
	some r in rec.replica_resources(t)
	not [t.key, r.region] in _watched_replicas
	msg := _unwatched_replica(t, r)
}

_unwatched_replica(t, r) := sprintf("the replica is in %v, the region of its table %s: no ReplicationLatency towards it can ever be watched", [r.region, lib.subject(t)]) if {
	r.region == t.region
} else := sprintf("no alarm in %v watches ReplicationLatency of %s towards %v: the replica can fall behind the %v s RPO unnoticed", [t.region, lib.subject(t), r.region, _rpo])
