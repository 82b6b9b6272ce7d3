package dr.rules.dr_ref_03_test

import data.dr.rules.dr_ref_03

_res(stack, type, name, values) := {"stack": stack, "type": type, "name": name, "address": sprintf("%s.%s", [type, name]), "region": "us-east-1", "values": values}

_resources := [
	_res("primary", "aws_rds_global_cluster", "g", {"global_cluster_identifier": "dr-prod-global"}),
	_res("primary", "aws_rds_cluster", "db", {"global_cluster_identifier": "${aws_rds_global_cluster.g.id}"}),
	_res("secondary", "aws_rds_cluster", "db", {"global_cluster_identifier": "${data.terraform_remote_state.cross-stack-reference-input-primary.outputs.gid}"}),
	_res("global", "aws_route53_record", "primary", {"failover_routing_policy": {"type": "PRIMARY"}}),
	_res("global", "aws_route53_record", "secondary", {"failover_routing_policy": {"type": "SECONDARY"}}),
]

_remote := {
	"primary": {},
	"secondary": {"cross-stack-reference-input-primary": {"stack": "primary", "outputs": {"gid": "${aws_rds_global_cluster.g.id}"}}},
	"global": {
		"cross-stack-reference-input-primary": {"stack": "primary", "outputs": {}},
		"cross-stack-reference-input-secondary": {"stack": "secondary", "outputs": {}},
	},
}

_stacks(deps) := [{"name": name, "dependencies": d} | some name, d in deps]

_good := {"primary": [], "secondary": ["primary"], "global": ["primary", "secondary"]}

_input(deps) := {"layout": "manifest", "stacks": _stacks(deps), "resources": _resources, "remote_outputs": _remote}

_deny(deps) := result if {
	result := dr_ref_03.deny with input as _input(deps)
}

_addresses(result) := {sprintf("%s/%s", [f.stack, f.address]) | some f in result}

test_project_order_passes if {
	count(_deny(_good)) == 0
	subjects := dr_ref_03.evaluated with input as _input(_good)
	count(subjects) == 3
}

test_global_not_following_secondary_fails if {
	result := _deny(object.union(_good, {"global": ["primary"]}))
	addresses := _addresses(result)
	"global/data.terraform_remote_state.cross-stack-reference-input-secondary" in addresses
	"global/aws_route53_record.primary" in addresses
	some f in result
	f.requirement == "DR-REF-03"
	contains(f.message, "reads outputs of stack secondary")
}

test_secondary_not_following_primary_fails if {
	# secondary still reads primary's outputs; global follows both directly.
	result := _deny(object.union(_good, {"secondary": []}))
	addresses := _addresses(result)
	"secondary/data.terraform_remote_state.cross-stack-reference-input-primary" in addresses
	"secondary/aws_rds_cluster.db" in addresses
}

test_transitive_order_satisfies_roles if {
	# global reaches primary through secondary, but reads primary's outputs
	# directly, so it must still list primary.
	result := _deny(object.union(_good, {"global": ["secondary"]}))
	_addresses(result) == {"global/data.terraform_remote_state.cross-stack-reference-input-primary"}
}

test_cycle_fails if {
	result := _deny(object.union(_good, {"primary": ["global"]}))
	addresses := _addresses(result)
	"primary/manifest.json#dependencies" in addresses
	"global/manifest.json#dependencies" in addresses
	some f in result
	f.stack == "primary"
	contains(f.message, "cycle [\"global\", \"primary\", \"secondary\"]")
}

test_unknown_dependency_is_harmless if {
	count(_deny(object.union(_good, {"primary": ["network"]}))) == 0
}

test_single_file_layout_is_not_applicable if {
	one_stack := {"layout": "single-file", "stacks": [{"name": "app", "dependencies": []}], "resources": _resources, "remote_outputs": {}}
	subjects := dr_ref_03.evaluated with input as one_stack
	count(subjects) == 0
	result := dr_ref_03.deny with input as one_stack
	count(result) == 0
}

test_one_stack_manifest_is_not_applicable if {
	one_stack := {"layout": "manifest", "stacks": [{"name": "app", "dependencies": []}], "resources": _resources, "remote_outputs": {}}
	subjects := dr_ref_03.evaluated with input as one_stack
	count(subjects) == 0
}
