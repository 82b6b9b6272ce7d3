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
#   deletion_protection_enabled = true; where the provider version has no
#   such argument, record a waiver.
# custom:
#   id: DR-RES-01
#   severity: high
#   controls:
#     nist-800-53: [CP-9, SI-12, CM-3]
#     soc2: [A1.2]
#     iso-27001: [A.8.13]
#   remediation: >-
#     Set deletion_protection = true on aws_rds_global_cluster, aws_rds_cluster
#     and aws_db_instance, keep skip_final_snapshot = false with a
#     final_snapshot_identifier; set deletion_protection_enabled = true on every
#     aws_dynamodb_table and on each of its replica blocks.
package dr.rules.dr_res_01

import data.dr.lib

_true(v) if v == true

_true(v) if v == "true"

_protected(r, attribute) if _true(object.get(r.values, attribute, false))

# Subjects and the argument that turns their deletion protection on.
_switch := {
	"aws_rds_global_cluster": "deletion_protection",
	"aws_rds_cluster": "deletion_protection",
	"aws_db_instance": "deletion_protection",
	"aws_dynamodb_table": "deletion_protection_enabled",
	"aws_dynamodb_table_replica": "deletion_protection_enabled",
}

# Subjects that can leave a final snapshot when deleted.
_snapshots contains r if some r in lib.resources("aws_rds_cluster")

_snapshots contains r if {
	some r in lib.resources("aws_db_instance")
	not object.get(r.values, "replicate_source_db", null)
}

_snapshot_problem(r) := "skip_final_snapshot is true: deleting it leaves no snapshot" if {
	_true(object.get(r.values, "skip_final_snapshot", false))
}

_snapshot_problem(r) := "final_snapshot_identifier is not set: Terraform cannot take the final snapshot" if {
	not _true(object.get(r.values, "skip_final_snapshot", false))
	not _named_snapshot(r)
}

_named_snapshot(r) if {
	name := object.get(r.values, "final_snapshot_identifier", "")
	is_string(name)
	name != ""
}

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some type, attribute in _switch
	some r in lib.resources(type)
	not _protected(r, attribute)
	msg := sprintf("%s is not true: the resource can be deleted; expected deletion protection on", [attribute])
}

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some r in _snapshots
	problem := _snapshot_problem(r)
	msg := sprintf("%s; expected skip_final_snapshot false with a final_snapshot_identifier", [problem])
}

deny contains lib.finding(rego.metadata.chain(), table, msg) if {
	some table in lib.resources("aws_dynamodb_table")
	some replica in lib.block(table, "replica")
	not _true(object.get(replica, "deletion_protection_enabled", false))
	msg := sprintf(
		"replica[%v].deletion_protection_enabled is not true: the recovery copy in %v can be deleted; expected deletion protection on",
		[object.get(replica, "region_name", "?"), object.get(replica, "region_name", "?")],
	)
}

evaluated contains lib.subject(r) if {
	some type, _ in _switch
	some r in lib.resources(type)
}
