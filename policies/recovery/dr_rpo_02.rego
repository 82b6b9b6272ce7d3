# METADATA
# title: Replication lag is watched against the recovery point objective
# description: >-
#   Replication that silently falls behind breaks the RPO without anyone
#   knowing. Each secondary Aurora member has an alarm on
#   AuroraGlobalDBReplicationLag (milliseconds) with a threshold at or below
#   the RPO target, and each DynamoDB replica has an alarm on
#   ReplicationLatency at or below the same target; each alarm notifies an
#   SNS topic. An alarm only sees what emits its metric: the Aurora lag alarm
#   sits in the secondary cluster's region and names that cluster
#   (DBClusterIdentifier), the DynamoDB alarm sits in the table's region and
#   names a replica region as ReceivingRegion. An alarm on a metric that
#   never arrives is a finding.
# custom:
#   id: DR-RPO-02
#   severity: high
#   controls:
#     nist-800-53: [CP-9, CP-10, CP-6]
#     soc2: [A1.2]
#     iso-27001: [A.8.13, A.8.14]
#   remediation: >-
#     In the secondary region, alarm on AWS/RDS AuroraGlobalDBReplicationLag
#     with DBClusterIdentifier = the secondary cluster's cluster_identifier and
#     threshold <= RPO x 1000; in the table's region, alarm on AWS/DynamoDB
#     ReplicationLatency with TableName and ReceivingRegion = each replica
#     region; point alarm_actions at an SNS topic.
package dr.rules.dr_rpo_02

import data.dr.lib
import data.dr.recovery.helpers as h

# Both metrics are in milliseconds.
_limit_ms := lib.setting("rpo_seconds", 5) * 1000

_lag_alarms := h.alarms("AWS/RDS", "AuroraGlobalDBReplicationLag")

_latency_alarms := h.alarms("AWS/DynamoDB", "ReplicationLatency")

_secondary_members := {c | some g in h.global_clusters; some c in h.secondary_members(g)}

_secondary_member_keys := {h.key(c) | some c in _secondary_members}

_tables := {t | some t in lib.resources("aws_dynamodb_table")}

# The Aurora cluster an alarm's DBClusterIdentifier names: by reference
# (cluster_identifier or id) or by its literal identifier.
_watched_cluster(alarm) := c if {
	c := lib.ref_target(alarm.stack, h.dimension(alarm, "DBClusterIdentifier"))
	c.type == "aws_rds_cluster"
}

_watched_cluster(alarm) := c if {
	identifier := h.dimension(alarm, "DBClusterIdentifier")
	is_string(identifier)
	not lib.is_expression(identifier)
	some c in h.cluster_by_identifier[identifier]
}

_watched_table(alarm) := t if {
	t := lib.ref_target(alarm.stack, h.dimension(alarm, "TableName"))
	t.type == "aws_dynamodb_table"
}

_watched_table(alarm) := t if {
	name := h.dimension(alarm, "TableName")
	is_string(name)
	not lib.is_expression(name)
	some t in _table_by_name[name]
}

_table_by_name_pairs := [[name, t] |
	some t in _tables
	name := t.values.name
	is_string(name)
]

_table_by_name := {k: {v | some [k2, v] in _table_by_name_pairs; k2 == k} | some [k, _] in _table_by_name_pairs}

_replica_regions(table) := h.replica_regions(table)

# What is wrong with an alarm's threshold, direction and notification.
_alarm_problems(alarm) := {p |
	some p in [
		_threshold_problem(alarm),
		_direction_problem(alarm),
		_notify_problem(alarm),
	]
	p != ""
}

_threshold_problem(alarm) := "" if {
	h.num(object.get(alarm.values, "threshold", null)) <= _limit_ms
} else := sprintf("threshold %v ms is above the RPO target of %v ms", [object.get(alarm.values, "threshold", "(unset)"), _limit_ms])

_direction_problem(alarm) := "" if {
	object.get(alarm.values, "comparison_operator", "") in {"GreaterThanThreshold", "GreaterThanOrEqualToThreshold"}
} else := sprintf("comparison_operator %v never fires on growing lag", [object.get(alarm.values, "comparison_operator", "(unset)")])

# CloudWatch only notifies topics of the alarm's own region.
_notify_problem(alarm) := "" if {
	some topic in h.alarm_topics(alarm)
	topic.region == alarm.region
} else := sprintf("alarm_actions notify no SNS topic in the alarm's region %v", [alarm.region])

evaluated contains lib.subject(r) if some r in _lag_alarms

evaluated contains lib.subject(r) if some r in _latency_alarms

evaluated contains lib.subject(r) if some r in _secondary_members

evaluated contains lib.subject(t) if {
	some t in _tables
	count(_replica_regions(t)) > 0
}

# --- Aurora ---------------------------------------------------------------

deny contains lib.finding(rego.metadata.chain(), alarm, msg) if {
	some alarm in _lag_alarms
	some problem in _alarm_problems(alarm)
	msg := sprintf("%s: %s", [problem, "expected a threshold at or below the RPO, a Greater* comparison and an SNS alarm action"])
}

deny contains lib.finding(rego.metadata.chain(), alarm, msg) if {
	some alarm in _lag_alarms
	not _watched_cluster(alarm)
	msg := sprintf("DBClusterIdentifier %v names no Aurora cluster of this design: the metric never arrives", [h.dimension(alarm, "DBClusterIdentifier")])
}

deny contains lib.finding(rego.metadata.chain(), alarm, msg) if {
	some alarm in _lag_alarms
	c := _watched_cluster(alarm)
	not h.key(c) in _secondary_member_keys
	msg := sprintf("watches %s/%s, which is not a secondary member of a global cluster and emits no AuroraGlobalDBReplicationLag: the metric never arrives; expected the secondary cluster", [c.stack, c.address])
}

deny contains lib.finding(rego.metadata.chain(), alarm, msg) if {
	some alarm in _lag_alarms
	c := _watched_cluster(alarm)
	h.key(c) in _secondary_member_keys
	alarm.region != c.region
	msg := sprintf("the alarm is in %v but %s/%s publishes its lag in %v: the metric never arrives; expected the alarm in %v", [alarm.region, c.stack, c.address, c.region, c.region])
}

# The clusters ("stack|address") a sound lag alarm watches, built once.
_watched_members contains h.key(c) if {
	some alarm in _lag_alarms
	c := _watched_cluster(alarm)
	alarm.region == c.region
	count(_alarm_problems(alarm)) == 0
}

deny contains lib.finding(rego.metadata.chain(), c, msg) if {
	some c in _secondary_members
	not h.key(c) in _watched_members
	msg := sprintf("no alarm in %v on AuroraGlobalDBReplicationLag of this cluster at or below %v ms notifies an SNS topic: replication can fall behind the RPO unnoticed", [c.region, _limit_ms])
}

# --- DynamoDB -------------------------------------------------------------

deny contains lib.finding(rego.metadata.chain(), alarm, msg) if {
	some alarm in _latency_alarms
	some problem in _alarm_problems(alarm)
	msg := sprintf("%s: %s", [problem, "expected a threshold at or below the RPO, a Greater* comparison and an SNS alarm action"])
}

deny contains lib.finding(rego.metadata.chain(), alarm, msg) if {
	some alarm in _latency_alarms
	not _watched_table(alarm)
	msg := sprintf("TableName %v names no DynamoDB table of this design: the metric never arrives", [h.dimension(alarm, "TableName")])
}

deny contains lib.finding(rego.metadata.chain(), alarm, msg) if {
	some alarm in _latency_alarms
	t := _watched_table(alarm)
	receiving := h.dimension(alarm, "ReceivingRegion")
	not receiving in (_replica_regions(t) - {alarm.region})
	msg := sprintf("ReceivingRegion %v is not a replica region of %s/%s seen from %v (replicas: %v): the metric never arrives", [receiving, t.stack, t.address, alarm.region, h.listed(_replica_regions(t))])
}

deny contains lib.finding(rego.metadata.chain(), alarm, msg) if {
	some alarm in _latency_alarms
	t := _watched_table(alarm)
	alarm.region != t.region
	msg := sprintf("the alarm is in %v but %s/%s publishes ReplicationLatency in %v: expected the alarm in the table's region", [alarm.region, t.stack, t.address, t.region])
}

deny contains lib.finding(rego.metadata.chain(), t, msg) if {
	some t in _tables
	some region in _replica_regions(t)
	region != t.region
	not [h.key(t), region] in _watched_replicas
	msg := sprintf("no alarm in %v on ReplicationLatency towards %v at or below %v ms notifies an SNS topic: the replica can fall behind the RPO unnoticed", [t.region, region, _limit_ms])
}

# [table "stack|address", receiving region] a sound latency alarm watches, built once.
_watched_replicas contains [h.key(t), h.dimension(alarm, "ReceivingRegion")] if {
	some alarm in _latency_alarms
	t := _watched_table(alarm)
	alarm.region == t.region
	count(_alarm_problems(alarm)) == 0
}
