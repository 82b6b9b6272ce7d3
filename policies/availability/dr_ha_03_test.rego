package dr.rules.dr_ha_03_test

import data.dr.rules.dr_ha_03

# One-stack layout: the west function and subnets use the aliased provider.
_res(type, name, region, values) := {"stack": "dr", "type": type, "name": name, "address": sprintf("%s.%s", [type, name]), "region": region, "values": values}

_subnets(region) := [_res("aws_subnet", sprintf("%s-%s", [region, s]), region, {"availability_zone": sprintf("%s%s", [region, s])}) | some s in ["a", "b", "c"]]

_function(name, region, subnet_ids) := _res("aws_lambda_function", name, region, {"function_name": name, "vpc_config": {"subnet_ids": subnet_ids, "security_group_ids": ["${aws_security_group.f.id}"]}})

_ids(region, suffixes) := [sprintf("${aws_subnet.%s-%s.id}", [region, s]) | some s in suffixes]

_input(resources) := harness.normalise({"resources": resources, "remote_outputs": {}, "stacks": []})

_deny(resources) := result if {
	result := dr_ha_03.deny with input as _input(resources)
}

_both := array.concat(_subnets("us-east-1"), _subnets("us-west-2"))

test_functions_in_two_zones_pass if {
	functions := [_function("east", "us-east-1", _ids("us-east-1", ["a", "b"])), _function("west", "us-west-2", _ids("us-west-2", ["a", "b", "c"]))]
	resources := array.concat(_both, functions)
	count(_deny(resources)) == 0
	subjects := dr_ha_03.evaluated with input as _input(resources)
	subjects == {"dr/aws_lambda_function.east", "dr/aws_lambda_function.west"}
}

test_function_outside_a_vpc_is_not_judged if {
	plain := _res("aws_lambda_function", "failover", "us-west-2", {"function_name": "failover"})
	subjects := dr_ha_03.evaluated with input as _input([plain])
	count(subjects) == 0
}

test_single_subnet_fails if {
	resources := array.concat(_both, [_function("west", "us-west-2", _ids("us-west-2", ["c"]))])
	result := _deny(resources)
	count(result) == 1
	some f in result
	f.requirement == "DR-HA-03"
	f.address == "aws_lambda_function.west"
	contains(f.message, "1 distinct AZ(s) (us-west-2c)")
}

test_literal_subnet_ids_are_unknown if {
	result := _deny([_function("east", "us-east-1", ["subnet-0a", "subnet-0b"])])
	some f in result
	contains(f.message, "no provable AZ; 2 subnet(s)")
}

test_vpc_config_as_a_list_is_read if {
	fn := _res("aws_lambda_function", "east", "us-east-1", {"vpc_config": [{"subnet_ids": _ids("us-east-1", ["a"])}]})
	count(_deny(array.concat(_both, [fn]))) == 1
}

test_whole_list_from_another_stack_is_resolved if {
	subnets := [{"stack": "net", "type": "aws_subnet", "name": s, "address": sprintf("aws_subnet.%s", [s]), "region": "us-east-1", "values": {"availability_zone": sprintf("us-east-1%s", [s])}} | some s in ["a", "b"]]
	fn := {"stack": "app", "type": "aws_lambda_function", "name": "f", "address": "aws_lambda_function.f", "region": "us-east-1", "values": {"vpc_config": {"subnet_ids": "${data.terraform_remote_state.cross-stack-reference-input-net.outputs.subnets}"}}}
	remote := {"app": {"cross-stack-reference-input-net": {"stack": "net", "outputs": {"subnets": ["${aws_subnet.a.id}", "${aws_subnet.b.id}"]}}}}
	result := dr_ha_03.deny with input as harness.normalise({"resources": array.concat(subnets, [fn]), "remote_outputs": remote})
	count(result) == 0
}

test_computed_whole_list_is_unknown if {
	fn := _function("east", "us-east-1", "${aws_db_subnet_group.g.subnet_ids}")
	result := _deny(array.concat(_both, [fn]))
	some f in result
	contains(f.message, "1 subnet(s) have a computed AZ")
}

# --- zones from an aws_availability_zones data source (one stack, aliased providers) ---

_azs(name, region) := {"stack": "dr", "type": "aws_availability_zones", "name": name, "region": region, "values": {"state": "available"}}

_with_azs(resources) := harness.normalise({
	"resources": resources,
	"data_sources": [_azs("east", "us-east-1"), _azs("west", "us-west-2")],
	"stacks": [{"name": "dr", "region": "us-east-1"}],
})

_placed(name, region, zone) := _res("aws_subnet", name, region, {"vpc_id": "${aws_vpc.v.id}", "availability_zone": zone})

test_fn_element_indexes_are_distinct_zones if {
	subnets := [
		_placed("w0", "us-west-2", "${element(data.aws_availability_zones.west.names, 0)}"),
		_placed("w1", "us-west-2", "${element(data.aws_availability_zones.west.names, 1)}"),
	]
	fn := _function("west", "us-west-2", ["${aws_subnet.w0.id}", "${aws_subnet.w1.id}"])
	count(dr_ha_03.deny) == 0 with input as _with_azs(array.concat(subnets, [fn]))
}

test_fn_element_same_index_is_one_zone if {
	subnets := [
		_placed("w0", "us-west-2", "${element(data.aws_availability_zones.west.names, 0)}"),
		_placed("w1", "us-west-2", "${data.aws_availability_zones.west.names[0]}"),
	]
	fn := _function("west", "us-west-2", ["${aws_subnet.w0.id}", "${aws_subnet.w1.id}"])
	result := dr_ha_03.deny with input as _with_azs(array.concat(subnets, [fn]))
	count(result) == 1
	some f in result
	f.address == "aws_lambda_function.west"
	contains(f.message, "1 distinct AZ(s) (data.aws_availability_zones.west.names[0])")
}

_counted(n) := _res("aws_subnet", "app", "us-east-1", {"count": n, "vpc_id": "${aws_vpc.v.id}", "availability_zone": "${element(data.aws_availability_zones.east.names, count.index)}"})

test_counted_subnets_by_splat_span_their_count if {
	fn := _function("east", "us-east-1", "${aws_subnet.app[*].id}")
	count(dr_ha_03.deny) == 0 with input as _with_azs([_counted(3), fn])
	result := dr_ha_03.deny with input as _with_azs([_counted(1), fn])
	some f in result
	contains(f.message, "1 distinct AZ(s)")
}

test_counted_subnet_instances_by_index if {
	apart := _function("east", "us-east-1", ["${aws_subnet.app[0].id}", "${aws_subnet.app[2].id}"])
	count(dr_ha_03.deny) == 0 with input as _with_azs([_counted(3), apart])
	same := _function("east", "us-east-1", ["${aws_subnet.app[1].id}", "${aws_subnet.app[1].id}"])
	count(dr_ha_03.deny) == 1 with input as _with_azs([_counted(3), same])
}

test_computed_count_is_unknown if {
	subnet := _res("aws_subnet", "app", "us-east-1", {"count": "${var.zones}", "vpc_id": "${aws_vpc.v.id}", "availability_zone": "${element(data.aws_availability_zones.east.names, count.index)}"})
	fn := _function("east", "us-east-1", "${aws_subnet.app[*].id}")
	result := dr_ha_03.deny with input as _with_azs([subnet, fn])
	some f in result
	contains(f.message, "1 subnet(s) have a computed AZ")
}

test_element_of_a_splat_picks_one_copy if {
	apart := _function("east", "us-east-1", ["${element(aws_subnet.app[*].id, 0)}", "${element(aws_subnet.app[*].id, 1)}"])
	count(dr_ha_03.deny) == 0 with input as _with_azs([_counted(3), apart])
	same := _function("east", "us-east-1", ["${element(aws_subnet.app[*].id, 2)}", "${aws_subnet.app[*].id[2]}"])
	count(dr_ha_03.deny) == 1 with input as _with_azs([_counted(3), same])
	beyond := _function("east", "us-east-1", ["${aws_subnet.app[*].id[0]}", "${aws_subnet.app[*].id[7]}"])
	result := dr_ha_03.deny with input as _with_azs([_counted(3), beyond])
	some f in result
	contains(f.message, "1 subnet(s) have a computed AZ")
}
