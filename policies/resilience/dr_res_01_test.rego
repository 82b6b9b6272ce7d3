package dr.rules.dr_res_01_test

import data.dr.rules.dr_res_01

_resource(stack, type, name, region, values) := {"stack": stack, "type": type, "name": name, "region": region, "values": values}

_global := _resource("p", "aws_rds_global_cluster", "g", "us-east-1", {"deletion_protection": true})

_cluster(stack, region, values) := _resource(stack, "aws_rds_cluster", "db", region, object.union(
	{"deletion_protection": true, "skip_final_snapshot": false, "final_snapshot_identifier": sprintf("dr-%s-final", [region])},
	values,
))

# A replica block as CDKTF synthesizes a typed DynamodbTableReplica: every key, unset ones null.
_replica(values) := object.union(
	{"region_name": "us-west-2", "deletion_protection_enabled": true, "kms_key_arn": null, "point_in_time_recovery": null, "propagate_tags": null},
	values,
)

_table(values) := _resource("g", "aws_dynamodb_table", "t", "us-east-1", object.union(
	{"name": "orders", "hash_key": "pk", "deletion_protection_enabled": true, "replica": [_replica({})]},
	values,
))

_input(resources) := harness.normalise({"resources": resources})

_messages(result) := {f.message | some f in result}

_flagged(result) := {[f.stack, f.address] | some f in result}

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
	f.message == "deletion_protection is false: the resource can be deleted; expected deletion_protection = true"
}

test_global_cluster_without_deletion_protection_fails if {
	result := dr_res_01.deny with input as _input([_resource("p", "aws_rds_global_cluster", "g", "us-east-1", {})])
	_flagged(result) == {["p", "aws_rds_global_cluster.g"]}
	some m in _messages(result)
	contains(m, "deletion_protection is not set")
}

test_skipped_final_snapshot_fails if {
	result := dr_res_01.deny with input as _input([_cluster("p", "us-east-1", {"skip_final_snapshot": true})])
	_messages(result) == {"skip_final_snapshot is true: deleting it leaves no snapshot; expected skip_final_snapshot false with a final_snapshot_identifier"}
}

test_skipped_final_snapshot_as_a_string_fails if {
	# A token passed for a boolean synthesizes as a string.
	result := dr_res_01.deny with input as _input([_cluster("p", "us-east-1", {"skip_final_snapshot": "true"})])
	some m in _messages(result)
	contains(m, "skip_final_snapshot is true")
}

test_final_snapshot_without_identifier_fails if {
	cluster := _resource("p", "aws_rds_cluster", "db", "us-east-1", {"deletion_protection": true})
	result := dr_res_01.deny with input as _input([cluster])
	count(result) == 1
	some m in _messages(result)
	contains(m, "final_snapshot_identifier is not set")
}

test_unset_skip_with_an_identifier_passes if {
	cluster := _resource("p", "aws_rds_cluster", "db", "us-east-1", {"deletion_protection": true, "final_snapshot_identifier": "${var.name}-final"})
	count(dr_res_01.deny) == 0 with input as _input([cluster])
}

test_values_known_only_at_apply_cannot_be_verified if {
	cluster := _cluster("p", "us-east-1", {"deletion_protection": "${var.protect}", "skip_final_snapshot": "${var.skip}"})
	result := dr_res_01.deny with input as _input([cluster])
	count(result) == 2
	some protection in _messages(result)
	contains(protection, "deletion_protection is ${var.protect}, which cannot be verified to be true")
	some snapshot in _messages(result)
	contains(snapshot, "skip_final_snapshot is ${var.skip}, which cannot be verified to be false")
}

test_standalone_instance_needs_a_final_snapshot if {
	instance := _resource("p", "aws_db_instance", "db", "us-east-1", {"deletion_protection": true, "skip_final_snapshot": true})
	result := dr_res_01.deny with input as _input([instance])
	_flagged(result) == {["p", "aws_db_instance.db"]}
	some m in _messages(result)
	contains(m, "skip_final_snapshot is true")
}

test_read_replica_instance_needs_no_final_snapshot if {
	source := _resource("p", "aws_db_instance", "src", "us-east-1", {"deletion_protection": true, "final_snapshot_identifier": "src-final"})
	replica := _resource("s", "aws_db_instance", "r", "us-west-2", {"deletion_protection": true, "replicate_source_db": "${aws_db_instance.src.arn}", "skip_final_snapshot": true})
	result := dr_res_01.deny with input as _input([source, replica])
	count(result) == 0
}

test_read_replica_instance_still_needs_deletion_protection if {
	replica := _resource("s", "aws_db_instance", "r", "us-west-2", {"replicate_source_db": "arn:aws:rds:us-east-1:123456789012:db:src"})
	result := dr_res_01.deny with input as _input([replica])
	_messages(result) == {"deletion_protection is not set: the resource can be deleted; expected deletion_protection = true"}
}

test_table_without_deletion_protection_fails if {
	result := dr_res_01.deny with input as _input([_table({"deletion_protection_enabled": false})])
	_flagged(result) == {["g", "aws_dynamodb_table.t"]}
	some m in _messages(result)
	contains(m, "deletion_protection_enabled is false")
}

test_replica_block_with_null_protection_fails if {
	# The typed struct without the setting: the key is synthesized as null.
	result := dr_res_01.deny with input as _input([_table({"replica": [_replica({"deletion_protection_enabled": null})]})])
	count(result) == 1
	some f in result
	f.address == "aws_dynamodb_table.t"
	f.message == "replica[us-west-2].deletion_protection_enabled is not set: the recovery copy in us-west-2 can be deleted on its own; expected deletion_protection_enabled = true on the replica block"
}

test_each_unprotected_replica_block_is_named if {
	replicas := [_replica({}), _replica({"region_name": "eu-west-1", "deletion_protection_enabled": false}), {"region_name": "ap-southeast-2"}]
	result := dr_res_01.deny with input as _input([_table({"replica": replicas})])
	count(result) == 2
	some west in _messages(result)
	contains(west, "replica[eu-west-1].deletion_protection_enabled is false")
	some south in _messages(result)
	contains(south, "replica[ap-southeast-2].deletion_protection_enabled is not set")
}

test_replica_block_written_as_one_object_is_judged if {
	result := dr_res_01.deny with input as _input([_table({"replica": {"region_name": "us-west-2"}})])
	some m in _messages(result)
	contains(m, "replica[us-west-2]")
}

test_replicas_of_a_dynamic_block_are_judged_by_its_content if {
	dynamic := {"replica": {"for_each": "${var.replica_regions}", "iterator": "each", "content": {"region_name": "${each.value}"}}}
	result := dr_res_01.deny with input as _input([_table({"replica": null, "dynamic": dynamic})])
	_flagged(result) == {["g", "aws_dynamodb_table.t"]}
	some m in _messages(result)
	contains(m, "dynamic block replica: deletion_protection_enabled is not set")
	protected := {"replica": {"for_each": "${var.replica_regions}", "content": {"region_name": "${each.value}", "deletion_protection_enabled": true}}}
	count(dr_res_01.deny) == 0 with input as _input([_table({"replica": null, "dynamic": protected})])
}

# One stack, aliased providers: the table in us-east-1, its replicas as
# aws_dynamodb_table_replica resources created through the other aliases.
_one_stack(west, south) := _input([
	_resource("app", "aws_dynamodb_table", "orders", "us-east-1", {"name": "orders", "hash_key": "pk", "deletion_protection_enabled": true, "stream_enabled": true, "stream_view_type": "NEW_AND_OLD_IMAGES"}),
	_resource("app", "aws_dynamodb_table_replica", "orders_usw2", "us-west-2", object.union({"global_table_arn": "${aws_dynamodb_table.orders.arn}", "provider": "aws.usw2"}, west)),
	_resource("app", "aws_dynamodb_table_replica", "orders_euw1", "eu-west-1", object.union({"global_table_arn": "${aws_dynamodb_table.orders.arn}", "provider": "aws.euw1"}, south)),
])

test_one_stack_replica_resources_are_judged_each if {
	result := dr_res_01.deny with input as _one_stack({"deletion_protection_enabled": true}, {"point_in_time_recovery": true})
	_flagged(result) == {["app", "aws_dynamodb_table_replica.orders_euw1"]}
	some m in _messages(result)
	contains(m, "deletion_protection_enabled is not set")
	count(dr_res_01.deny) == 0 with input as _one_stack({"deletion_protection_enabled": true}, {"deletion_protection_enabled": true})
}

test_one_stack_replica_resources_are_subjects if {
	subjects := dr_res_01.evaluated with input as _one_stack({}, {})
	subjects == {"app/aws_dynamodb_table.orders", "app/aws_dynamodb_table_replica.orders_usw2", "app/aws_dynamodb_table_replica.orders_euw1"}
}

test_one_stack_aliased_secondary_cluster_is_held_to_the_same if {
	primary := _resource("app", "aws_rds_cluster", "primary", "us-east-1", {"deletion_protection": true, "final_snapshot_identifier": "primary-final", "global_cluster_identifier": "${aws_rds_global_cluster.g.id}"})
	secondary := _resource("app", "aws_rds_cluster", "secondary", "us-west-2", {"provider": "aws.dr", "deletion_protection": true, "skip_final_snapshot": true, "global_cluster_identifier": "${aws_rds_global_cluster.g.id}"})
	global := _resource("app", "aws_rds_global_cluster", "g", "us-east-1", {"deletion_protection": true})
	result := dr_res_01.deny with input as _input([global, primary, secondary])
	_flagged(result) == {["app", "aws_rds_cluster.secondary"]}
}

test_evaluated_lists_subjects if {
	subjects := dr_res_01.evaluated with input as _project
	subjects == {"p/aws_rds_global_cluster.g", "p/aws_rds_cluster.db", "s/aws_rds_cluster.db", "g/aws_dynamodb_table.t"}
}

test_no_database_is_not_applicable if {
	subjects := dr_res_01.evaluated with input as _input([_resource("p", "aws_sns_topic", "t", "us-east-1", {})])
	count(subjects) == 0
}
