# METADATA
# title: Data is replicated to the secondary region and backed up
# description: >-
#   The recovery point objective holds only if every write already exists in
#   the other region when the primary is lost, and if an older point can be
#   restored after corruption. The Aurora global cluster has a member cluster
#   in a secondary region and every Aurora cluster belongs to a global
#   cluster; each DynamoDB table has a replica in the secondary region(s);
#   point-in-time recovery is on for the table and for each replica; every
#   Aurora cluster keeps automated backups for at least 7 days (AWS keeps 1
#   day when backup_retention_period is unset).
# custom:
#   id: DR-RPO-01
#   severity: high
#   controls:
#     - framework: nist-800-53
#       control: CP-6
#       grade: supports
#       why: The database and the table are replicated to the secondary region.
#     - framework: nist-800-53
#       control: CP-9
#       grade: supports
#       why: Automated backups are kept 7 days or more and point-in-time recovery is on; no restore is tested.
#     - framework: nist-800-53
#       control: CP-10
#       grade: supports
#       why: Replication and backups are what recovery to a known state starts from.
#     - framework: soc2
#       control: A1.2
#       grade: supports
#       why: Data backup and replication are configured for recovery.
#     - framework: iso-27001
#       control: A.8.13
#       grade: supports
#       why: Backups are configured and retained; their restore is not tested here.
#   observes:
#     aws_rds_cluster: [region, global_cluster_identifier, backup_retention_period]
#     aws_dynamodb_table: [point_in_time_recovery.enabled, replica.region_name, replica.point_in_time_recovery]
#   remediation: >-
#     Join the secondary aws_rds_cluster to the aws_rds_global_cluster
#     (global_cluster_identifier); add a replica block (region_name of the
#     secondary region, point_in_time_recovery = true) to the DynamoDB table
#     and enable its point_in_time_recovery; set backup_retention_period >= 7
#     on every Aurora cluster.
package dr.rules.dr_rpo_01

import data.dr.lib
import data.dr.recovery as rec

# AWS keeps one day of automated backups when backup_retention_period is unset.
_aws_default_retention := 1

_minimum_retention := lib.setting("backup_retention_days", 7)

_tables := lib.resources("aws_dynamodb_table")

_secondary_regions := {c.region | some g in rec.global_clusters; some c in rec.secondary_members(g)}

# Each replica of a table: [region, point-in-time recovery on?], from the
# table's replica blocks or separate aws_dynamodb_table_replica resources.
_replicas(table) := {[object.get(replica, "region_name", null), object.get(replica, "point_in_time_recovery", false) == true] |
	some replica in lib.block(table, "replica")
} | {[r.region, object.get(r.values, "point_in_time_recovery", false) == true] |
	some r in rec.replica_resources(table)
}

_replica_regions(table) := rec.replica_regions(table)

evaluated contains lib.subject(r) if some r in rec.global_clusters

evaluated contains lib.subject(r) if some r in rec.aurora_clusters

evaluated contains lib.subject(r) if some r in _tables

# --- Aurora ---------------------------------------------------------------

deny contains lib.finding(rego.metadata.chain(), g, msg) if {
	some g in rec.global_clusters
	count(rec.secondary_members(g)) == 0
	msg := sprintf("the global cluster has no member cluster outside its primary region %s: nothing is replicated; expected a secondary aws_rds_cluster joined to it", [g.region])
}

deny contains lib.finding(rego.metadata.chain(), c, msg) if {
	some c in rec.aurora_clusters
	not rec.global_of(c)
	msg := sprintf("the cluster is not a member of an Aurora global cluster (global_cluster_identifier %v): its data is not replicated to another region", [object.get(c.values, "global_cluster_identifier", "unset")])
}

deny contains lib.finding(rego.metadata.chain(), c, msg) if {
	some c in rec.aurora_clusters
	retention := object.get(c.values, "backup_retention_period", null)
	_retention(retention) < _minimum_retention
	msg := sprintf("backup_retention_period is %s: expected at least %v days", [_shown(retention), _minimum_retention])
}

_retention(value) := _aws_default_retention if value == null

_retention(value) := lib.num(value) if value != null

_retention(value) := 0 if {
	value != null
	not lib.num(value)
}

_shown(null) := "unset (AWS keeps 1 day)"

_shown(value) := sprintf("%v", [value]) if value != null

# --- DynamoDB -------------------------------------------------------------

deny contains lib.finding(rego.metadata.chain(), table, msg) if {
	some table in _tables
	count(_secondary_regions) == 0
	count(_replica_regions(table) - {table.region}) == 0
	msg := sprintf("the table has no replica outside %s: its data is not replicated; expected a replica block in the secondary region", [table.region])
}

deny contains lib.finding(rego.metadata.chain(), table, msg) if {
	some table in _tables
	some region in _secondary_regions
	not region in _replica_regions(table)
	msg := sprintf("the table has no replica in the secondary region %s (replicas: %v): expected a replica block with region_name %s", [region, _listed(_replica_regions(table)), region])
}

deny contains lib.finding(rego.metadata.chain(), table, msg) if {
	some table in _tables
	not _pitr(table)
	msg := "point_in_time_recovery is not enabled on the table: a corrupted table cannot be restored to an earlier second; expected point_in_time_recovery { enabled = true }"
}

deny contains lib.finding(rego.metadata.chain(), table, msg) if {
	some table in _tables
	some [region, false] in _replicas(table)
	msg := sprintf("point_in_time_recovery is not enabled on the replica in %v: expected point_in_time_recovery = true", [region])
}

_pitr(table) if {
	some p in lib.block(table, "point_in_time_recovery")
	object.get(p, "enabled", false) == true
}

_listed(regions) := rec.listed(regions)
