package dr.rules.dr_ref_03_test

import data.dr.rules.dr_ref_03

# Stack per region plus a global routing stack, wired by CDKTF cross-stack
# references (terraform_remote_state outputs).
_res(stack, type, name, values) := {"stack": stack, "type": type, "name": name, "region": "us-east-1", "values": values}

_read(producer, output) := sprintf("${data.terraform_remote_state.cross-stack-reference-input-%s.outputs.%s}", [producer, output])

_record(role, records) := _res("global", "aws_route53_record", role, {"failover_routing_policy": {"type": upper(role)}, "records": records})

_resources := [
	_res("primary", "aws_rds_global_cluster", "g", {"global_cluster_identifier": "dr-prod-global"}),
	_res("primary", "aws_rds_cluster", "db", {"global_cluster_identifier": "${aws_rds_global_cluster.g.id}", "master_username": "admin"}),
	_res("primary", "aws_lambda_function_url", "u", {}),
	_res("secondary", "aws_rds_cluster", "db", {"global_cluster_identifier": _read("primary", "gid")}),
	_res("secondary", "aws_lambda_function_url", "u", {}),
	_record("primary", [_read("primary", "url")]),
	_record("secondary", [_read("secondary", "url")]),
]

_remote := {
	"secondary": {"cross-stack-reference-input-primary": {"stack": "primary", "outputs": {"gid": "${aws_rds_global_cluster.g.id}"}}},
	"global": {
		"cross-stack-reference-input-primary": {"stack": "primary", "outputs": {"url": "${aws_lambda_function_url.u.function_url}"}},
		"cross-stack-reference-input-secondary": {"stack": "secondary", "outputs": {"url": "${aws_lambda_function_url.u.function_url}"}},
	},
}

_stacks(deps) := [{"name": name, "dependencies": d} | some name, d in deps]

_good := {"primary": [], "secondary": ["primary"], "global": ["primary", "secondary"]}

_input(deps) := harness.normalise({"stacks": _stacks(deps), "resources": _resources, "remote_outputs": _remote})

_deny(deps) := result if {
	result := dr_ref_03.deny with input as _input(deps)
}

_addresses(result) := {sprintf("%s/%s", [f.stack, f.address]) | some f in result}

test_project_order_passes if {
	count(_deny(_good)) == 0
	subjects := dr_ref_03.evaluated with input as _input(_good)
	count(subjects) == 3
}

# The record stack both reads the secondary's outputs and routes to it: one
# cause, reported once, at the read.
test_global_not_following_secondary_fails_once if {
	result := _deny(object.union(_good, {"global": ["primary"]}))
	_addresses(result) == {"global/data.terraform_remote_state.cross-stack-reference-input-secondary"}
	some f in result
	f.requirement == "DR-REF-03"
	contains(f.message, "stack global reads outputs of stack secondary but manifest.json does not list secondary among its dependencies [\"primary\"]")
}

test_secondary_not_following_primary_fails_once if {
	result := _deny(object.union(_good, {"secondary": []}))
	_addresses(result) == {"secondary/data.terraform_remote_state.cross-stack-reference-input-primary"}
}

test_transitive_order_does_not_excuse_a_direct_read if {
	# global reaches primary through secondary, but reads primary's outputs
	# directly, so it must still list primary.
	result := _deny(object.union(_good, {"global": ["secondary"]}))
	_addresses(result) == {"global/data.terraform_remote_state.cross-stack-reference-input-primary"}
}

test_cycle_fails_on_the_dependency_that_closes_it if {
	result := _deny(object.union(_good, {"primary": ["global"]}))
	_addresses(result) == {"primary/manifest.json#dependencies"}
	some f in result
	contains(f.message, "stack primary depends on global, whose outputs it does not read, and so closes the cycle [\"global\", \"primary\", \"secondary\"]")
}

# Two stacks that read each other: every dependency is needed, one finding.
test_stacks_reading_each_other_fail_once if {
	resources := [
		_res("a", "aws_sns_topic", "t", {"name": _read("b", "name")}),
		_res("b", "aws_sqs_queue", "q", {"name": _read("a", "name")}),
	]
	remote := {
		"a": {"cross-stack-reference-input-b": {"stack": "b", "outputs": {"name": "${aws_sqs_queue.q.id}"}}},
		"b": {"cross-stack-reference-input-a": {"stack": "a", "outputs": {"name": "${aws_sns_topic.t.id}"}}},
	}
	result := dr_ref_03.deny with input as harness.normalise({"stacks": _stacks({"a": ["b"], "b": ["a"]}), "resources": resources, "remote_outputs": remote})
	_addresses(result) == {"a/manifest.json#dependencies"}
	some f in result
	contains(f.message, "stacks [\"a\", \"b\"] read each other's outputs in a cycle")
}

test_unknown_dependency_is_harmless if {
	count(_deny(object.union(_good, {"primary": ["network"]}))) == 0
}

# Records written with literal hosts read nothing, yet route between the regions.
test_routing_stack_must_follow_the_regions_it_routes if {
	literal := [r | some r in _resources; r.stack != "global"]
	records := [_record("primary", ["a.example.com"]), _record("secondary", ["b.example.com"])]
	raw := {"stacks": _stacks(object.union(_good, {"global": []})), "resources": array.concat(literal, records), "remote_outputs": {"secondary": _remote.secondary}}
	result := dr_ref_03.deny with input as harness.normalise(raw)
	_addresses(result) == {"global/aws_route53_record.primary"}
	count(result) == 2
	some f in result
	contains(f.message, "does not follow regional stack secondary")
}

# The global cluster lives in a shared stack, created from the primary's cluster.
test_secondary_must_follow_the_primary_it_does_not_read if {
	resources := [
		_res("shared", "aws_rds_global_cluster", "g", {"source_db_cluster_identifier": _read("primary", "arn")}),
		_res("primary", "aws_rds_cluster", "db", {"master_username": "admin"}),
		_res("secondary", "aws_rds_cluster", "db", {"global_cluster_identifier": _read("shared", "gid")}),
	]
	remote := {
		"shared": {"cross-stack-reference-input-primary": {"stack": "primary", "outputs": {"arn": "${aws_rds_cluster.db.arn}"}}},
		"secondary": {"cross-stack-reference-input-shared": {"stack": "shared", "outputs": {"gid": "${aws_rds_global_cluster.g.id}"}}},
	}
	ordered := {"primary": [], "shared": ["primary"], "secondary": ["shared"]}
	count(dr_ref_03.deny) == 0 with input as harness.normalise({"stacks": _stacks(ordered), "resources": resources, "remote_outputs": remote})
	unordered := object.union(ordered, {"shared": []})
	result := dr_ref_03.deny with input as harness.normalise({"stacks": _stacks(unordered), "resources": resources, "remote_outputs": remote})
	_addresses(result) == {"shared/data.terraform_remote_state.cross-stack-reference-input-primary", "secondary/aws_rds_cluster.db"}
}

test_literal_output_is_still_a_read if {
	resources := [_res("a", "aws_sns_topic", "t", {}), _res("b", "aws_sqs_queue", "q", {"name": _read("a", "name")})]
	remote := {"b": {"cross-stack-reference-input-a": {"stack": "a", "outputs": {"name": "orders"}}}}
	result := dr_ref_03.deny with input as harness.normalise({"stacks": [{"name": "a", "dependencies": []}, {"name": "b", "dependencies": []}], "resources": resources, "remote_outputs": remote})
	_addresses(result) == {"b/data.terraform_remote_state.cross-stack-reference-input-a"}
}

test_one_stack_is_not_applicable if {
	one_stack := harness.normalise({"stacks": [{"name": "app", "dependencies": []}], "resources": [_res("app", "aws_sns_topic", "t", {})]})
	subjects := dr_ref_03.evaluated with input as one_stack
	count(subjects) == 0
	result := dr_ref_03.deny with input as one_stack
	count(result) == 0
}

# Four stacks: the global cluster in a shared stack that both regions read.
test_secondary_follows_the_member_that_starts_the_global_database if {
	join := _read("shared", "gid")
	resources := [
		_res("shared", "aws_rds_global_cluster", "g", {"global_cluster_identifier": "payments-global"}),
		_res("primary", "aws_rds_cluster", "db", {"global_cluster_identifier": join, "master_username": "owner", "manage_master_user_password": true}),
		_res("secondary", "aws_rds_cluster", "db", {"global_cluster_identifier": join}),
	]
	shared := {"cross-stack-reference-input-shared": {"stack": "shared", "outputs": {"gid": "${aws_rds_global_cluster.g.id}"}}}
	remote := {"primary": shared, "secondary": shared}
	ordered := {"shared": [], "primary": ["shared"], "secondary": ["shared", "primary"]}
	count(dr_ref_03.deny) == 0 with input as harness.normalise({"stacks": _stacks(ordered), "resources": resources, "remote_outputs": remote})
	unordered := object.union(ordered, {"secondary": ["shared"]})
	result := dr_ref_03.deny with input as harness.normalise({"stacks": _stacks(unordered), "resources": resources, "remote_outputs": remote})
	_addresses(result) == {"secondary/aws_rds_cluster.db"}
	some f in result
	contains(f.message, "stack secondary joins the global database that stack primary starts but does not follow it")
}

# No member sets credentials: the member in the global cluster's stack starts it.
test_primary_by_stack_when_no_member_sets_credentials if {
	resources := [
		_res("primary", "aws_rds_global_cluster", "g", {"global_cluster_identifier": "dr-prod-global", "engine": "aurora-postgresql"}),
		_res("primary", "aws_rds_cluster", "db", {"global_cluster_identifier": "${aws_rds_global_cluster.g.id}", "snapshot_identifier": null}),
		_res("secondary", "aws_rds_cluster", "db", {"global_cluster_identifier": _read("primary", "gid")}),
	]
	remote := {"secondary": _remote.secondary}
	count(dr_ref_03.deny) == 0 with input as harness.normalise({"stacks": _stacks({"primary": [], "secondary": ["primary"]}), "resources": resources, "remote_outputs": remote})
	result := dr_ref_03.deny with input as harness.normalise({"stacks": _stacks({"primary": [], "secondary": []}), "resources": resources, "remote_outputs": remote})
	_addresses(result) == {"secondary/data.terraform_remote_state.cross-stack-reference-input-primary"}
}
