package dr.rules.dr_ha_02_test

import data.dr.rules.dr_ha_02

# One-stack layout: the secondary region's resources come from the aliased
# provider aws.secondary (region us-west-2), the primary's from the default.
_res(type, name, region, values) := {"stack": "dr", "type": type, "name": name, "address": sprintf("%s.%s", [type, name]), "region": region, "values": values}

_subnets(prefix, region) := [_res("aws_subnet", sprintf("%s-%s", [prefix, s]), region, {"availability_zone": sprintf("%s%s", [region, s])}) | some s in ["a", "b", "c"]]

_subnet_ids(prefix, suffixes) := [sprintf("${aws_subnet.%s-%s.id}", [prefix, s]) | some s in suffixes]

_group(prefix, region, suffixes) := _res("aws_db_subnet_group", prefix, region, {"name": sprintf("%s-subnets", [prefix]), "subnet_ids": _subnet_ids(prefix, suffixes)})

_cluster(prefix, region, extra) := _res("aws_rds_cluster", prefix, region, object.union({"cluster_identifier": sprintf("dr-%s", [prefix]), "db_subnet_group_name": sprintf("${aws_db_subnet_group.%s.name}", [prefix])}, extra))

_instance(prefix, region, suffix, extra) := _res("aws_rds_cluster_instance", sprintf("%s-%s", [prefix, suffix]), region, object.union({"cluster_identifier": sprintf("${aws_rds_cluster.%s.id}", [prefix]), "availability_zone": sprintf("%s%s", [region, suffix])}, extra))

_region_set(prefix, region) := array.concat(
	[_group(prefix, region, ["a", "b", "c"]), _cluster(prefix, region, {}), _instance(prefix, region, "a", {}), _instance(prefix, region, "b", {})],
	_subnets(prefix, region),
)

_design := array.concat(_region_set("primary", "us-east-1"), _region_set("secondary", "us-west-2"))

_input(resources) := harness.normalise({"resources": resources, "remote_outputs": {}, "stacks": []})

_deny(resources) := result if {
	result := dr_ha_02.deny with input as _input(resources)
}

_messages(result) := {f.message | some f in result}

_without(resources, address) := [r | some r in resources; r.address != address]

_replace(resources, replacement) := array.concat(_without(resources, replacement.address), [replacement])

test_two_regions_in_one_stack_pass if {
	count(_deny(_design)) == 0
	subjects := dr_ha_02.evaluated with input as _input(_design)
	subjects == {"dr/aws_rds_cluster.primary", "dr/aws_rds_cluster.secondary"}
}

test_no_cluster_is_not_applicable if {
	subjects := dr_ha_02.evaluated with input as _input([])
	count(subjects) == 0
}

test_single_instance_fails if {
	result := _deny(_without(_design, "aws_rds_cluster_instance.secondary-b"))
	count(result) == 1
	some f in result
	f.requirement == "DR-HA-02"
	f.address == "aws_rds_cluster.secondary"
	contains(f.message, "cluster has 1 instance(s)")
}

test_numeric_count_counts_copies if {
	resources := array.concat(
		_without(_without(_region_set("primary", "us-east-1"), "aws_rds_cluster_instance.primary-a"), "aws_rds_cluster_instance.primary-b"),
		[_res("aws_rds_cluster_instance", "many", "us-east-1", {"count": 2, "cluster_identifier": "${aws_rds_cluster.primary.id}"})],
	)
	count(_deny(resources)) == 0
}

test_instance_joined_by_literal_identifier_counts if {
	literal := _instance("primary", "us-east-1", "b", {"cluster_identifier": "dr-primary"})
	count(_deny(_replace(_region_set("primary", "us-east-1"), literal))) == 0
}

test_instances_in_one_zone_fail if {
	moved := _instance("primary", "us-east-1", "b", {"availability_zone": "us-east-1a"})
	result := _deny(_replace(_design, moved))
	some f in result
	f.address == "aws_rds_cluster.primary"
	contains(f.message, "all 2 instances are placed in us-east-1a")
}

test_an_unplaced_instance_is_not_judged_for_zones if {
	unplaced := _instance("primary", "us-east-1", "b", {"availability_zone": null})
	count(_deny(_replace(_design, unplaced))) == 0
}

test_subnet_group_in_two_zones_fails_on_the_cluster if {
	result := _deny(_replace(_design, _group("secondary", "us-west-2", ["a", "b"])))
	count(result) == 1
	some f in result
	f.address == "aws_rds_cluster.secondary"
	contains(f.message, "subnet group dr/aws_db_subnet_group.secondary spans 2 distinct AZ(s) (us-west-2a, us-west-2b)")
}

test_literal_subnet_ids_are_unknown if {
	group := _res("aws_db_subnet_group", "primary", "us-east-1", {"subnet_ids": ["subnet-0a", "subnet-0b", "subnet-0c"]})
	result := _deny(_replace(_region_set("primary", "us-east-1"), group))
	some m in _messages(result)
	contains(m, "3 subnet(s) have a computed AZ or are not subnets of this design")
}

test_missing_subnet_group_fails_on_the_cluster if {
	cluster := _res("aws_rds_cluster", "primary", "us-east-1", {"cluster_identifier": "dr-primary"})
	result := _deny(_replace(_region_set("primary", "us-east-1"), cluster))
	some f in result
	f.address == "aws_rds_cluster.primary"
	contains(f.message, "is not set (the default subnet group)")
}

test_literal_subnet_group_name_of_the_design_passes if {
	cluster := _cluster("primary", "us-east-1", {"db_subnet_group_name": "primary-subnets"})
	count(_deny(_replace(_region_set("primary", "us-east-1"), cluster))) == 0
}

test_multi_az_db_cluster_needs_no_instance_resources if {
	cluster := _cluster("primary", "us-east-1", {"engine": "postgres", "db_cluster_instance_class": "db.r6gd.large"})
	resources := array.concat([_group("primary", "us-east-1", ["a", "b", "c"]), cluster], _subnets("primary", "us-east-1"))
	count(_deny(resources)) == 0
	count(_deny(_replace(resources, _group("primary", "us-east-1", ["a"])))) == 1
}

# --- zones from data sources, count, stacks per region ------------------------------

_azs(region) := {"stack": "dr", "type": "aws_availability_zones", "name": region, "region": region, "values": {"state": "available"}}

_with_azs(resources) := harness.normalise({"resources": resources, "data_sources": [_azs("us-east-1")], "stacks": [{"name": "dr", "region": "us-east-1"}]})

_indexed_subnet(name, zone) := _res("aws_subnet", name, "us-east-1", {"vpc_id": "${aws_vpc.v.id}", "availability_zone": zone})

_indexed_group(names) := _res("aws_db_subnet_group", "primary", "us-east-1", {"subnet_ids": [sprintf("${aws_subnet.%s.id}", [n]) | some n in names]})

_indexed_cluster := [
	_cluster("primary", "us-east-1", {}),
	_instance("primary", "us-east-1", "a", {}), _instance("primary", "us-east-1", "b", {}),
]

test_subnet_group_on_data_source_indexes if {
	subnets := [
		_indexed_subnet("i0", "${element(data.aws_availability_zones.us-east-1.names, 0)}"),
		_indexed_subnet("i1", "${data.aws_availability_zones.us-east-1.names[1]}"),
		_indexed_subnet("i2", "${element(data.aws_availability_zones.us-east-1.names, 2)}"),
		_indexed_subnet("again", "${data.aws_availability_zones.us-east-1.names[1]}"),
	]
	three := array.concat(array.concat(subnets, _indexed_cluster), [_indexed_group(["i0", "i1", "i2"])])
	count(dr_ha_02.deny) == 0 with input as _with_azs(three)
	two := array.concat(array.concat(subnets, _indexed_cluster), [_indexed_group(["i0", "i1", "again"])])
	result := dr_ha_02.deny with input as _with_azs(two)
	count(result) == 1
	some f in result
	f.address == "aws_rds_cluster.primary"
	contains(f.message, "2 distinct AZ(s) (data.aws_availability_zones.us-east-1.names[0], data.aws_availability_zones.us-east-1.names[1])")
}

_counted_subnets(n) := _res("aws_subnet", "app", "us-east-1", {"count": n, "vpc_id": "${aws_vpc.v.id}", "availability_zone": "${element(data.aws_availability_zones.us-east-1.names, count.index)}"})

test_subnet_group_on_counted_subnets if {
	group := _res("aws_db_subnet_group", "primary", "us-east-1", {"subnet_ids": "${aws_subnet.app[*].id}"})
	count(dr_ha_02.deny) == 0 with input as _with_azs(array.concat(_indexed_cluster, [group, _counted_subnets(3)]))
	result := dr_ha_02.deny with input as _with_azs(array.concat(_indexed_cluster, [group, _counted_subnets(2)]))
	some f in result
	contains(f.message, "spans 2 distinct AZ(s)")
}

_counted_instances(count_value, zone) := _res("aws_rds_cluster_instance", "readers", "us-east-1", {"count": count_value, "cluster_identifier": "${aws_rds_cluster.primary.id}", "availability_zone": zone})

test_counted_instances_at_count_index_are_in_distinct_zones if {
	base := array.concat([_cluster("primary", "us-east-1", {}), _indexed_group(["i0", "i1", "i2"])], [
		_indexed_subnet("i0", "us-east-1a"), _indexed_subnet("i1", "us-east-1b"), _indexed_subnet("i2", "us-east-1c"),
	])
	spread := array.concat(base, [_counted_instances(2, "${element(data.aws_availability_zones.us-east-1.names, count.index)}")])
	count(dr_ha_02.deny) == 0 with input as _with_azs(spread)
	stacked := array.concat(base, [_counted_instances(2, "us-east-1a")])
	result := dr_ha_02.deny with input as _with_azs(stacked)
	count(result) == 1
	some f in result
	contains(f.message, "all 2 instances are placed in us-east-1a")
}

test_computed_instance_count_cannot_add_instances if {
	resources := array.concat(
		_without(_without(_region_set("primary", "us-east-1"), "aws_rds_cluster_instance.primary-a"), "aws_rds_cluster_instance.primary-b"),
		[_counted_instances("${var.readers}", null)],
	)
	result := _deny(resources)
	some f in result
	contains(f.message, "cluster has 0 instance(s) (aws_rds_cluster_instance referring to it) and 1 instance resource(s) with a computed count")
}

test_literal_identifier_in_another_region_does_not_join if {
	elsewhere := _res("aws_rds_cluster_instance", "primary-b", "us-west-2", {"cluster_identifier": "dr-primary"})
	result := _deny(_replace(_region_set("primary", "us-east-1"), elsewhere))
	some f in result
	contains(f.message, "cluster has 1 instance(s)")
}

# Stack per region, with the subnets in a network stack of the same region.
test_subnet_group_from_a_network_stack if {
	subnets := [{"stack": "network", "type": "aws_subnet", "name": s, "region": "us-west-2", "values": {"availability_zone": sprintf("us-west-2%s", [s])}} | some s in ["a", "b", "c"]]
	group := {"stack": "network", "type": "aws_db_subnet_group", "name": "db", "region": "us-west-2", "values": {"subnet_ids": ["${aws_subnet.a.id}", "${aws_subnet.b.id}", "${aws_subnet.c.id}"]}}
	cluster := {"stack": "west", "type": "aws_rds_cluster", "name": "c", "region": "us-west-2", "values": {"db_subnet_group_name": "${data.terraform_remote_state.cross-stack-reference-input-network.outputs.group}"}}
	instances := [{"stack": "west", "type": "aws_rds_cluster_instance", "name": n, "region": "us-west-2", "values": {"cluster_identifier": "${aws_rds_cluster.c.id}"}} | some n in ["one", "two"]]
	remote := {"west": {"cross-stack-reference-input-network": {"stack": "network", "outputs": {"group": "${aws_db_subnet_group.db.name}"}}}}
	raw := {"resources": array.concat(array.concat(subnets, [group, cluster]), instances), "remote_outputs": remote, "stacks": [{"name": "network", "region": "us-west-2"}, {"name": "west", "region": "us-west-2"}]}
	count(dr_ha_02.deny) == 0 with input as harness.normalise(raw)
}
