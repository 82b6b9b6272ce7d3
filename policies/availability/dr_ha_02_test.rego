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

_input(resources) := {"resources": resources, "remote_outputs": {}, "stacks": []}

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

test_subnet_group_in_two_zones_fails_on_the_group if {
	result := _deny(_replace(_design, _group("secondary", "us-west-2", ["a", "b"])))
	some f in result
	f.address == "aws_db_subnet_group.secondary"
	contains(f.message, "spans 2 distinct AZ(s) (us-west-2a, us-west-2b)")
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
