package dr.rules.dr_res_01_test

import data.dr.rules.dr_res_01

_resource(stack, type, name, region, values) := {
	"stack": stack, "type": type, "name": name, "address": sprintf("%s.%s", [type, name]),
	"region": region, "provider": "aws", "values": values,
}

_global := _resource("p", "aws_rds_global_cluster", "g", "us-east-1", {"deletion_protection": true})

_cluster(stack, region, values) := _resource(stack, "aws_rds_cluster", "db", region, object.union(
	{"deletion_protection": true, "skip_final_snapshot": false, "final_snapshot_identifier": sprintf("dr-%s-final", [region])},
	values,
))

_table(values) := _resource("g", "aws_dynamodb_table", "t", "us-east-1", object.union(
	{"deletion_protection_enabled": true, "replica": [{"region_name": "us-west-2", "deletion_protection_enabled": true}]},
	values,
))

_input(resources) := {"resources": resources, "remote_outputs": {}}

_messages(result) := {f.message | some f in result}

_project := _input([_global, _cluster("p", "us-east-1", {}), _cluster("s", "us-west-2", {}), _table({})])

test_protected_databases_pass if {
	result := dr_res_01.deny with input as _project
	count(result) == 0
}

test_secondary_cluster_without_deletion_protection_fails if {
	result := dr_res_01.deny with input as _input([_global, _cluster("p", "us-east-1", {}), _cluster("s", "us-west-2", {"deletion_protection": false})])
	count(result) == 1
	some f in result
	f.requirement == "DR-RES-01"
	[f.stack, f.address] == ["s", "aws_rds_cluster.db"]
	contains(f.message, "deletion_protection is not true")
}

test_global_cluster_without_deletion_protection_fails if {
	result := dr_res_01.deny with input as _input([_resource("p", "aws_rds_global_cluster", "g", "us-east-1", {})])
	some f in result
	f.address == "aws_rds_global_cluster.g"
}

test_skipped_final_snapshot_fails if {
	result := dr_res_01.deny with input as _input([_cluster("p", "us-east-1", {"skip_final_snapshot": true})])
	some m in _messages(result)
	contains(m, "skip_final_snapshot is true")
}

test_final_snapshot_without_identifier_fails if {
	cluster := _resource("p", "aws_rds_cluster", "db", "us-east-1", {"deletion_protection": true})
	result := dr_res_01.deny with input as _input([cluster])
	some m in _messages(result)
	contains(m, "final_snapshot_identifier is not set")
}

test_read_replica_instance_needs_no_final_snapshot if {
	replica := _resource("s", "aws_db_instance", "r", "us-west-2", {"deletion_protection": true, "replicate_source_db": "${aws_db_instance.src.arn}"})
	result := dr_res_01.deny with input as _input([replica])
	count(result) == 0
}

test_table_without_deletion_protection_fails if {
	result := dr_res_01.deny with input as _input([_table({"deletion_protection_enabled": false})])
	some m in _messages(result)
	contains(m, "deletion_protection_enabled is not true")
}

test_unprotected_replica_fails if {
	result := dr_res_01.deny with input as _input([_table({"replica": {"region_name": "us-west-2"}})])
	some f in result
	f.address == "aws_dynamodb_table.t"
	contains(f.message, "replica[us-west-2]")
}

test_one_stack_layout_with_replica_resource if {
	# One stack, provider alias for the second region, the replica as its own resource.
	table := object.union(_table({"replica": []}), {"stack": "app"})
	replica := _resource("app", "aws_dynamodb_table_replica", "west", "us-west-2", {"global_table_arn": "${aws_dynamodb_table.t.arn}"})
	west := object.union(replica, {"provider": "aws.secondary"})
	result := dr_res_01.deny with input as _input([table, west])
	{[f.stack, f.address] | some f in result} == {["app", "aws_dynamodb_table_replica.west"]}
}

test_evaluated_lists_subjects if {
	subjects := dr_res_01.evaluated with input as _project
	subjects == {"p/aws_rds_global_cluster.g", "p/aws_rds_cluster.db", "s/aws_rds_cluster.db", "g/aws_dynamodb_table.t"}
}

test_no_database_is_not_applicable if {
	subjects := dr_res_01.evaluated with input as _input([_resource("p", "aws_sns_topic", "t", "us-east-1", {})])
	count(subjects) == 0
}
