package dr.rules.dr_ha_01_test

import data.dr.rules.dr_ha_01

# One-stack layout: the "east" VPC uses the default provider, the "west" VPC
# the aliased aws.secondary provider (the model resolves r.region).
_res(type, name, region, values) := {"stack": "dr", "type": type, "name": name, "address": sprintf("%s.%s", [type, name]), "region": region, "provider": _provider(region), "values": values}

_provider("us-east-1") := "aws"

_provider("us-west-2") := "aws.secondary"

_vpc(name, region) := _res("aws_vpc", name, region, {"cidr_block": "10.0.0.0/16"})

_subnet(vpc, region, suffix, extra) := _res("aws_subnet", sprintf("%s-%s", [vpc, suffix]), region, object.union(
	{"vpc_id": sprintf("${aws_vpc.%s.id}", [vpc]), "availability_zone": sprintf("%s%s", [region, suffix])},
	extra,
))

_three(vpc, region) := [_subnet(vpc, region, s, {}) | some s in ["a", "b", "c"]]

_input(resources) := harness.normalise({"resources": resources, "remote_outputs": {}, "stacks": [{"name": "dr", "region": "us-east-1", "providers": {"aws": "us-east-1", "aws.secondary": "us-west-2"}}]})

_deny(resources) := result if {
	result := dr_ha_01.deny with input as _input(resources)
}

_messages(result) := {f.message | some f in result}

_both_regions := array.concat(
	array.concat([_vpc("east", "us-east-1"), _vpc("west", "us-west-2")], _three("east", "us-east-1")),
	_three("west", "us-west-2"),
)

test_two_regions_in_one_stack_pass if {
	count(_deny(_both_regions)) == 0
	subjects := dr_ha_01.evaluated with input as _input(_both_regions)
	subjects == {"dr/aws_vpc.east", "dr/aws_vpc.west"}
}

test_no_vpc_is_not_applicable if {
	subjects := dr_ha_01.evaluated with input as _input([])
	count(subjects) == 0
}

test_secondary_vpc_in_two_zones_fails_alone if {
	resources := array.concat(
		array.concat([_vpc("east", "us-east-1"), _vpc("west", "us-west-2")], _three("east", "us-east-1")),
		[_subnet("west", "us-west-2", "a", {}), _subnet("west", "us-west-2", "b", {})],
	)
	result := _deny(resources)
	count(result) == 1
	some f in result
	f.requirement == "DR-HA-01"
	f.address == "aws_vpc.west"
	contains(f.message, "2 distinct AZ(s) (us-west-2a, us-west-2b)")
	contains(f.message, "VPC in us-west-2")
}

test_two_subnets_in_one_zone_fail if {
	resources := [_vpc("east", "us-east-1"), _subnet("east", "us-east-1", "a", {}), _subnet("east", "us-east-1", "b", {"availability_zone": "us-east-1a"}), _subnet("east", "us-east-1", "c", {})]
	result := _deny(resources)
	some m in _messages(result)
	contains(m, "3 private subnet(s) in 2 distinct AZ(s)")
}

test_public_subnet_is_not_counted if {
	resources := [_vpc("east", "us-east-1"), _subnet("east", "us-east-1", "a", {}), _subnet("east", "us-east-1", "b", {}), _subnet("east", "us-east-1", "c", {"map_public_ip_on_launch": true})]
	result := _deny(resources)
	some m in _messages(result)
	contains(m, "(1 public subnet(s) not counted)")
}

test_computed_zone_is_unknown if {
	computed := _subnet("east", "us-east-1", "c", {"availability_zone": "${data.aws_availability_zones.all.names[2]}"})
	resources := [_vpc("east", "us-east-1"), _subnet("east", "us-east-1", "a", {}), _subnet("east", "us-east-1", "b", {}), computed]
	result := _deny(resources)
	some m in _messages(result)
	contains(m, "1 subnet(s) have a computed AZ")
}

test_zone_ids_count if {
	ids := [_res("aws_subnet", z, "us-east-1", {"vpc_id": "${aws_vpc.east.id}", "availability_zone_id": z}) | some z in ["use1-az1", "use1-az2", "use1-az4"]]
	count(_deny(array.concat([_vpc("east", "us-east-1")], ids))) == 0
}

test_mixed_names_and_ids_are_not_compared if {
	id_subnet := _res("aws_subnet", "z", "us-east-1", {"vpc_id": "${aws_vpc.east.id}", "availability_zone_id": "use1-az6"})
	resources := [_vpc("east", "us-east-1"), _subnet("east", "us-east-1", "a", {}), _subnet("east", "us-east-1", "b", {}), id_subnet]
	result := _deny(resources)
	some m in _messages(result)
	contains(m, "cannot be compared")
}

test_subnets_of_another_vpc_do_not_count if {
	resources := array.concat([_vpc("east", "us-east-1"), _vpc("other", "us-east-1")], _three("other", "us-east-1"))
	result := _deny(resources)
	some f in result
	f.address == "aws_vpc.east"
	contains(f.message, "0 private subnet(s) in no provable AZ")
}

_internet_route_table := _res("aws_route_table", "public", "us-east-1", {"vpc_id": "${aws_vpc.east.id}", "route": [{"cidr_block": "0.0.0.0/0", "gateway_id": "${aws_internet_gateway.igw.id}"}]})

_igw := _res("aws_internet_gateway", "igw", "us-east-1", {"vpc_id": "${aws_vpc.east.id}"})

_association(subnet, table) := _res("aws_route_table_association", subnet, "us-east-1", {"subnet_id": sprintf("${aws_subnet.%s.id}", [subnet]), "route_table_id": sprintf("${aws_route_table.%s.id}", [table])})

test_subnet_routed_to_internet_gateway_is_public if {
	resources := array.concat([_vpc("east", "us-east-1"), _igw, _internet_route_table, _association("east-c", "public")], _three("east", "us-east-1"))
	result := _deny(resources)
	some m in _messages(result)
	contains(m, "(1 public subnet(s) not counted)")
}

test_separate_route_to_internet_gateway_is_public if {
	table := _res("aws_route_table", "private", "us-east-1", {"vpc_id": "${aws_vpc.east.id}"})
	route := _res("aws_route", "out", "us-east-1", {"route_table_id": "${aws_route_table.private.id}", "destination_cidr_block": "0.0.0.0/0", "gateway_id": "igw-0123456789abcdef0"})
	associations := [_association(sprintf("east-%s", [s]), "private") | some s in ["a", "b", "c"]]
	resources := array.concat(array.concat([_vpc("east", "us-east-1"), table, route], associations), _three("east", "us-east-1"))
	result := _deny(resources)
	some m in _messages(result)
	contains(m, "(3 public subnet(s) not counted)")
}

test_route_to_peering_keeps_subnets_private if {
	table := _res("aws_route_table", "private", "us-east-1", {"vpc_id": "${aws_vpc.east.id}"})
	route := _res("aws_route", "peer", "us-east-1", {"route_table_id": "${aws_route_table.private.id}", "vpc_peering_connection_id": "${aws_vpc_peering_connection.p.id}"})
	associations := [_association(sprintf("east-%s", [s]), "private") | some s in ["a", "b", "c"]]
	resources := array.concat(array.concat([_vpc("east", "us-east-1"), table, route], associations), _three("east", "us-east-1"))
	count(_deny(resources)) == 0
}

test_cross_stack_vpc_reference_is_resolved if {
	vpc := {"stack": "p", "type": "aws_vpc", "name": "v", "address": "aws_vpc.v", "region": "us-east-1", "values": {}}
	subnets := [{"stack": "n", "type": "aws_subnet", "name": s, "address": sprintf("aws_subnet.%s", [s]), "region": "us-east-1", "values": {
		"vpc_id": "${data.terraform_remote_state.cross-stack-reference-input-p.outputs.vpc}",
		"availability_zone": sprintf("us-east-1%s", [s]),
	}} | some s in ["a", "b", "c"]]
	remote := {"n": {"cross-stack-reference-input-p": {"stack": "p", "outputs": {"vpc": "${aws_vpc.v.id}"}}}}
	result := dr_ha_01.deny with input as harness.normalise({"resources": array.concat([vpc], subnets), "remote_outputs": remote})
	count(result) == 0
}

# A route list entry that is not an object (an expression, a typo) used to
# stop the whole evaluation with eval_type_error; it is now skipped.
test_route_entry_that_is_not_an_object_is_skipped if {
	table := _res("aws_route_table", "public", "us-east-1", {"vpc_id": "${aws_vpc.east.id}", "route": ["${var.routes}", {"cidr_block": "0.0.0.0/0", "gateway_id": "${aws_internet_gateway.igw.id}"}]})
	resources := array.concat([_vpc("east", "us-east-1"), _igw, table, _association("east-c", "public")], _three("east", "us-east-1"))
	some m in _messages(_deny(resources))
	contains(m, "has 2 private subnet(s)")
	private_only := object.union(table, {"values": {"route": ["${var.routes}"]}})
	count(_deny(array.concat([_vpc("east", "us-east-1"), _igw, private_only, _association("east-c", "public")], _three("east", "us-east-1")))) == 0
}
