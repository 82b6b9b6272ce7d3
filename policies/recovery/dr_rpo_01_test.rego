package dr.rules.dr_rpo_01_test

import data.dr.rules.dr_rpo_01

_res(stack, type, name, region, values) := {"stack": stack, "type": type, "name": name, "address": sprintf("%s.%s", [type, name]), "region": region, "values": values}

_global := _res("primary", "aws_rds_global_cluster", "g", "us-east-1", {"global_cluster_identifier": "dr-global"})

_east := _res("primary", "aws_rds_cluster", "db", "us-east-1", {"engine": "aurora-postgresql", "global_cluster_identifier": "${aws_rds_global_cluster.g.id}", "backup_retention_period": 7})

# Per-region stacks: the secondary joins the global cluster through remote state.
_west := _res("secondary", "aws_rds_cluster", "db", "us-west-2", {"engine": "aurora-postgresql", "global_cluster_identifier": "${data.terraform_remote_state.cross-stack-reference-input-primary.outputs.g}", "backup_retention_period": 7})

_table := _res("global", "aws_dynamodb_table", "t", "us-east-1", {
	"point_in_time_recovery": {"enabled": true},
	"replica": [{"region_name": "us-west-2", "point_in_time_recovery": true}],
})

_remote := {"secondary": {"cross-stack-reference-input-primary": {"stack": "primary", "outputs": {"g": "${aws_rds_global_cluster.g.id}"}}}}

_deny(resources) := result if {
	result := dr_rpo_01.deny with input as harness.normalise({"resources": resources, "remote_outputs": _remote, "stacks": []})
}

_messages(result) := {f.message | some f in result}

test_replicated_and_backed_up_passes if {
	count(_deny([_global, _east, _west, _table])) == 0
}

test_evaluated_lists_clusters_and_table if {
	subjects := dr_rpo_01.evaluated with input as harness.normalise({"resources": [_global, _east, _west, _table], "remote_outputs": _remote})
	count(subjects) == 4
}

test_secondary_outside_the_global_cluster_fails if {
	alone := json.remove(_west, ["values/global_cluster_identifier"])
	result := _deny([_global, _east, alone, _table])
	{[f.stack, f.address] | some f in result} == {["secondary", "aws_rds_cluster.db"], ["primary", "aws_rds_global_cluster.g"]}
}

test_global_cluster_by_literal_identifier_is_recognised if {
	literal := object.union(_west, {"values": {"global_cluster_identifier": "dr-global"}})
	count(_deny([_global, _east, literal, _table])) == 0
}

test_replica_removed_fails if {
	table := json.remove(_table, ["values/replica"])
	result := _deny([_global, _east, _west, table])
	some m in _messages(result)
	contains(m, "no replica in the secondary region us-west-2 (replicas: none)")
}

test_table_without_replica_and_without_aurora_fails if {
	table := json.remove(_table, ["values/replica"])
	result := _deny([table])
	some m in _messages(result)
	contains(m, "no replica outside us-east-1")
}

test_table_pitr_off_fails if {
	table := json.patch(_table, [{"op": "replace", "path": "/values/point_in_time_recovery", "value": {"enabled": false}}])
	result := _deny([_global, _east, _west, table])
	some m in _messages(result)
	contains(m, "not enabled on the table")
}

test_replica_pitr_off_fails if {
	table := json.patch(_table, [{"op": "replace", "path": "/values/replica/0/point_in_time_recovery", "value": false}])
	result := _deny([_global, _east, _west, table])
	_messages(result) == {"point_in_time_recovery is not enabled on the replica in us-west-2: expected point_in_time_recovery = true"}
}

test_separate_replica_resource_counts if {
	table := json.remove(_table, ["values/replica"])
	replica := _res("global", "aws_dynamodb_table_replica", "west", "us-west-2", {"region": "us-west-2", "global_table_arn": "${aws_dynamodb_table.t.arn}", "point_in_time_recovery": true})
	count(_deny([_global, _east, _west, table, replica])) == 0
}

test_short_backups_fail if {
	east := object.union(_east, {"values": {"backup_retention_period": 1}})
	result := _deny([_global, east, _west, _table])
	_messages(result) == {"backup_retention_period is 1: expected at least 7 days"}
}

test_unset_backups_use_the_aws_default if {
	west := json.remove(_west, ["values/backup_retention_period"])
	result := _deny([_global, _east, west, _table])
	some m in _messages(result)
	contains(m, "unset (AWS keeps 1 day)")
}

test_unresolvable_backups_fail if {
	west := object.union(_west, {"values": {"backup_retention_period": "${var.days}"}})
	result := _deny([_global, _east, west, _table])
	count(result) == 1
}

test_non_aurora_clusters_are_not_judged if {
	multi_az := _res("primary", "aws_rds_cluster", "pg", "us-east-1", {"engine": "postgres"})
	subjects := dr_rpo_01.evaluated with input as harness.normalise({"resources": [multi_az], "remote_outputs": {}})
	count(subjects) == 0
}

test_one_stack_layout_with_aliased_providers if {
	# One stack: the secondary cluster's provider alias resolved it to us-west-2.
	g := object.union(_global, {"stack": "dr"})
	east := object.union(_east, {"stack": "dr"})
	west := {"stack": "dr", "type": "aws_rds_cluster", "name": "west", "address": "aws_rds_cluster.west", "region": "us-west-2", "provider": "aws.secondary", "values": {
		"provider": "aws.secondary", "global_cluster_identifier": "${aws_rds_global_cluster.g.id}", "backup_retention_period": 14,
	}}
	table := object.union(_table, {"stack": "dr"})
	count(_deny([g, east, west, table])) == 0
	both_east := object.union(west, {"region": "us-east-1"})
	result := _deny([g, east, both_east, table])
	some f in result
	f.address == "aws_rds_global_cluster.g"
}

test_replica_without_region_is_reported_not_an_error if {
	# A replica block that lost region_name (or a null region) must yield a
	# finding, never an evaluation error.
	table := json.remove(_table, ["values/replica/0/region_name"])
	result := _deny([_global, _east, _west, table])
	some m in _messages(result)
	contains(m, "no replica in the secondary region us-west-2 (replicas: null)")
}
