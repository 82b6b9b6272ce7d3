# METADATA
# title: The databases cannot be deleted by mistake and leave a final snapshot
# description: >-
#   A recovery copy that one careless change can delete is no recovery copy.
#   The Aurora global cluster and every regional Aurora cluster have deletion
#   protection on, and every cluster keeps a final snapshot when it is
#   deleted (skip_final_snapshot false or unset, with a
#   final_snapshot_identifier); a standalone RDS instance is held to the same
#   (read replicas, which cannot take a final snapshot, only to deletion
#   protection). Every DynamoDB table has deletion protection on, and so does
#   each of its replicas: the replica in the other region is the disaster
#   recovery copy, a table of its own that can be deleted on its own, so the
#   replica block (or aws_dynamodb_table_replica resource) must set
#   deletion_protection_enabled = true (for replicas a dynamic block
#   generates, its content); where the provider version has no such
#   argument, record a waiver. A setting known only at apply time (a
#   variable or another expression) cannot be verified and is reported.
# custom:
#   id: DR-RES-01
#   severity: high
#   controls:
#     - framework: nist-800-53
#       control: CP-9
#       grade: supports
#       why: The databases cannot be deleted by one change and keep a final snapshot; no restore is tested.
#     - framework: soc2
#       control: A1.2
#       grade: supports
#       why: The recovery copies are protected from deletion.
#     - framework: iso-27001
#       control: A.8.13
#       grade: supports
#       why: A final backup is kept when a database is deleted; backups are not tested here.
#   observes:
#     aws_rds_global_cluster: [deletion_protection]
#     aws_rds_cluster: [deletion_protection, skip_final_snapshot, final_snapshot_identifier]
#     aws_db_instance: [deletion_protection, skip_final_snapshot, final_snapshot_identifier, replicate_source_db]
#     aws_dynamodb_table: [deletion_protection_enabled, replica.region_name, replica.deletion_protection_enabled]
#     aws_dynamodb_table_replica: [deletion_protection_enabled]
#   remediation: >-
#     Set deletion_protection = true on aws_rds_global_cluster, aws_rds_cluster
#     and aws_db_instance, keep skip_final_snapshot = false with a
#     final_snapshot_identifier; set deletion_protection_enabled = true on every
#     aws_dynamodb_table and on each of its replica blocks.
package dr.rules.dr_res_01

import data.dr.lib

# Subjects and the argument that turns their deletion protection on.
_switch := {
	"aws_rds_global_cluster": "deletion_protection",
	"aws_rds_cluster": "deletion_protection",
	"aws_db_instance": "deletion_protection",
	"aws_dynamodb_table": "deletion_protection_enabled",
	"aws_dynamodb_table_replica": "deletion_protection_enabled",
}

# A boolean argument, as CDKTF synthesizes it (a bool, or a string when a token was passed).
_true(v) if v == true

_true(v) if v == "true"

# Why a protection argument is not on; undefined when it is.
_unprotected(value) := "is not set" if value == null

_unprotected(value) := sprintf("is %v", [value]) if {
	value != null
	not _true(value)
	not lib.is_expression(value)
}

_unprotected(value) := sprintf("is %v, which cannot be verified to be true", [value]) if lib.is_expression(value)

# Subjects that can leave a final snapshot when deleted: every cluster, and
# standalone instances (a read replica cannot take one).
_snapshots contains r if some r in lib.resources("aws_rds_cluster")

_snapshots contains r if {
	some r in lib.resources("aws_db_instance")
	object.get(r.values, "replicate_source_db", null) == null
}

_skip(r) := object.get(r.values, "skip_final_snapshot", null)

_snapshot_problem(r) := "skip_final_snapshot is true: deleting it leaves no snapshot" if _true(_skip(r))

_snapshot_problem(r) := sprintf("skip_final_snapshot is %v, which cannot be verified to be false", [_skip(r)]) if {
	lib.is_expression(_skip(r))
}

_snapshot_problem(r) := "final_snapshot_identifier is not set: Terraform cannot take the final snapshot" if {
	not _true(_skip(r))
	not lib.is_expression(_skip(r))
	not _named_snapshot(r)
}

_named_snapshot(r) if {
	name := object.get(r.values, "final_snapshot_identifier", "")
	is_string(name)
	trim_space(name) != ""
}

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some type, attribute in _switch
	some r in lib.resources(type)
	problem := _unprotected(object.get(r.values, attribute, null))
	msg := sprintf("%s %s: the resource can be deleted; expected %s = true", [attribute, problem, attribute])
}

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some r in _snapshots
	problem := _snapshot_problem(r)
	msg := sprintf("%s; expected skip_final_snapshot false with a final_snapshot_identifier", [problem])
}

# Each replica block is a table of its own in another region.
deny contains lib.finding(rego.metadata.chain(), table, msg) if {
	some table in lib.resources("aws_dynamodb_table")
	some replica in lib.block(table, "replica")
	problem := _unprotected(object.get(replica, "deletion_protection_enabled", null))
	region := object.get(replica, "region_name", "?")
	msg := sprintf(
		"replica[%v].deletion_protection_enabled %s: the recovery copy in %v can be deleted on its own; expected deletion_protection_enabled = true on the replica block",
		[region, problem, region],
	)
}

# Replicas a dynamic block generates (a CDKTF iterator) carry their settings in its content.
deny contains lib.finding(rego.metadata.chain(), table, msg) if {
	some table in lib.resources("aws_dynamodb_table")
	dynamic := object.get(object.get(table.values, "dynamic", {}), "replica", null)
	is_object(dynamic)
	content := object.get(dynamic, "content", {})
	problem := _unprotected(object.get(content, "deletion_protection_enabled", null))
	msg := sprintf(
		"the replicas of dynamic block replica: deletion_protection_enabled %s: each recovery copy can be deleted on its own; expected deletion_protection_enabled = true in its content",
		[problem],
	)
}

evaluated contains lib.subject(r) if {
	some type, _ in _switch
	some r in lib.resources(type)
}
