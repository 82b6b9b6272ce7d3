package dr.rules.dr_ha_04_test

import data.dr.rules.dr_ha_04

# One-stack layout: "secondary" resources come from the aliased provider
# aws.secondary, so the model gives them us-west-2.
_res(type, name, region, values) := {"stack": "dr", "type": type, "name": name, "address": sprintf("%s.%s", [type, name]), "region": region, "values": values}

_global := _res("aws_rds_global_cluster", "g", "us-east-1", {"global_cluster_identifier": "dr-global"})

_member(name, region) := _res("aws_rds_cluster", name, region, {"global_cluster_identifier": "${aws_rds_global_cluster.g.id}"})

# The primary sets the master credentials, which a secondary of a global database may not.
_primary(region) := _res("aws_rds_cluster", "primary", region, {"global_cluster_identifier": "${aws_rds_global_cluster.g.id}", "master_username": "admin", "manage_master_user_password": true})

_aurora := [_global, _primary("us-east-1"), _member("secondary", "us-west-2")]

_table(replica_region) := _res("aws_dynamodb_table", "t", "us-east-1", {"replica": [{"region_name": replica_region}]})

_url(name, region) := _res("aws_lambda_function_url", name, region, {"function_name": "${aws_lambda_function.f.function_name}"})

_check(name, fqdn) := _res("aws_route53_health_check", name, "us-east-1", {"type": "HTTPS", "fqdn": fqdn})

_host(url) := sprintf("${element(split(\"/\", aws_lambda_function_url.%s.function_url), 2)}", [url])

_record(role, check) := _res("aws_route53_record", lower(role), "us-east-1", {
	"zone_id": "${aws_route53_zone.z.zone_id}", "name": "api.example.com", "type": "CNAME",
	"records": ["placeholder.example.com"], "set_identifier": lower(role),
	"health_check_id": sprintf("${aws_route53_health_check.%s.id}", [check]),
	"failover_routing_policy": {"type": role},
})

_pair(primary_fqdn, secondary_fqdn) := [
	_res("aws_route53_zone", "z", "us-east-1", {"name": "example.com"}),
	_url("east", "us-east-1"), _url("west", "us-west-2"),
	_check("p", primary_fqdn), _check("s", secondary_fqdn),
	_record("PRIMARY", "p"), _record("SECONDARY", "s"),
]

_input(resources) := harness.normalise({"resources": resources, "remote_outputs": {}, "stacks": []})

_deny(resources) := result if {
	result := dr_ha_04.deny with input as _input(resources)
}

_flagged(result) := {f.address | some f in result}

_messages(result) := {f.message | some f in result}

test_nothing_replicated_is_not_applicable if {
	subjects := dr_ha_04.evaluated with input as _input([_res("aws_dynamodb_table", "t", "us-east-1", {}), _res("aws_rds_cluster", "c", "us-east-1", {})])
	count(subjects) == 0
}

test_global_cluster_across_two_regions_passes if {
	count(_deny(_aurora)) == 0
	subjects := dr_ha_04.evaluated with input as _input(_aurora)
	subjects == {"dr/aws_rds_global_cluster.g", "dr/aws_rds_cluster.primary", "dr/aws_rds_cluster.secondary"}
}

test_global_cluster_in_one_region_fails_on_the_secondary if {
	result := _deny([_global, _primary("us-east-1"), _member("secondary", "us-east-1")])
	_flagged(result) == {"aws_rds_cluster.secondary"}
	some f in result
	f.requirement == "DR-HA-04"
	contains(f.message, "has 2 member cluster(s) in us-east-1")
}

test_global_cluster_without_a_secondary_fails if {
	result := _deny([_global, _member("primary", "us-east-1")])
	some m in _messages(result)
	contains(m, "has 1 member cluster(s) in us-east-1")
}

test_unknown_member_region_is_said if {
	result := _deny([_global, _member("primary", "us-east-1"), _member("secondary", null)])
	some m in _messages(result)
	contains(m, "(1 in a region that is computed, unknown)")
}

test_member_joined_by_literal_identifier_counts if {
	literal := _res("aws_rds_cluster", "secondary", "us-west-2", {"global_cluster_identifier": "dr-global"})
	count(_deny([_global, _member("primary", "us-east-1"), literal])) == 0
}

test_global_cluster_created_from_a_source_cluster_counts_it if {
	global := _res("aws_rds_global_cluster", "g", "us-east-1", {"source_db_cluster_identifier": "${aws_rds_cluster.primary.arn}"})
	primary := _res("aws_rds_cluster", "primary", "us-east-1", {})
	count(_deny([global, primary, _member("secondary", "us-west-2")])) == 0
}

test_replica_in_another_region_passes if {
	count(_deny([_table("us-west-2")])) == 0
	subjects := dr_ha_04.evaluated with input as _input([_table("us-west-2")])
	subjects == {"dr/aws_dynamodb_table.t"}
}

test_replica_in_the_table_region_fails if {
	result := _deny([_table("us-east-1")])
	some f in result
	f.address == "aws_dynamodb_table.t"
	contains(f.message, "replica region_name us-east-1 is the table's own region")
}

test_computed_replica_region_fails if {
	result := _deny([_table("${var.secondary_region}")])
	some m in _messages(result)
	contains(m, "cannot be shown to differ from us-east-1")
}

test_separate_replica_resource_is_judged if {
	table := _res("aws_dynamodb_table", "t", "us-east-1", {})
	same := _res("aws_dynamodb_table_replica", "r", "us-east-1", {"global_table_arn": "${aws_dynamodb_table.t.arn}"})
	other := object.union(same, {"region": "us-west-2"})
	_flagged(_deny([table, same])) == {"aws_dynamodb_table_replica.r"}
	count(_deny([table, other])) == 0
}

test_legacy_global_table_needs_two_regions if {
	one := _res("aws_dynamodb_global_table", "legacy", "us-east-1", {"name": "t", "replica": [{"region_name": "us-east-1"}]})
	two := _res("aws_dynamodb_global_table", "legacy", "us-east-1", {"name": "t", "replica": [{"region_name": "us-east-1"}, {"region_name": "us-west-2"}]})
	count(_deny([one])) == 1
	count(_deny([two])) == 0
}

test_failover_pair_to_two_regions_passes if {
	resources := _pair(_host("east"), _host("west"))
	count(_deny(resources)) == 0
	subjects := dr_ha_04.evaluated with input as _input(resources)
	subjects == {"dr/aws_route53_record.primary", "dr/aws_route53_record.secondary"}
}

test_failover_pair_to_one_region_fails_on_the_secondary if {
	result := _deny(_pair(_host("east"), _host("east")))
	_flagged(result) == {"aws_route53_record.secondary"}
	some m in _messages(result)
	contains(m, "endpoint in us-east-1, the same region as PRIMARY record dr/aws_route53_record.primary")
}

test_region_written_in_a_literal_host_is_used if {
	count(_deny(_pair("abc.lambda-url.us-east-1.on.aws", "def.lambda-url.us-west-2.on.aws"))) == 0
	count(_deny(_pair("abc.lambda-url.us-east-1.on.aws", "def.lambda-url.us-east-1.on.aws"))) == 1
}

test_underivable_endpoints_are_evaluated_not_failed if {
	resources := _pair("a.example.com", "b.example.com")
	count(_deny(resources)) == 0
	subjects := dr_ha_04.evaluated with input as _input(resources)
	count(subjects) == 2
}

_lb(name, region) := _res("aws_lb", name, region, {})

_alias_record(role, target) := _res("aws_route53_record", lower(role), "us-east-1", {
	"zone_id": "Z123", "name": "api.example.com", "type": "A",
	"alias": {"name": sprintf("${aws_lb.%s.dns_name}", [target]), "zone_id": sprintf("${aws_lb.%s.zone_id}", [target])},
	"failover_routing_policy": [{"type": role}],
})

test_alias_target_is_used_without_health_check if {
	same := [_lb("east", "us-east-1"), _lb("west", "us-west-2"), _alias_record("PRIMARY", "east"), _alias_record("SECONDARY", "east")]
	apart := [_lb("east", "us-east-1"), _lb("west", "us-west-2"), _alias_record("PRIMARY", "east"), _alias_record("SECONDARY", "west")]
	count(_deny(same)) == 1
	count(_deny(apart)) == 0
}

# Stack layout: the records live in "global", the Function URLs in the regional stacks.
_stack_url(stack, region) := {"stack": stack, "type": "aws_lambda_function_url", "name": "u", "address": "aws_lambda_function_url.u", "region": region, "values": {}}

_stack_host(stack) := sprintf("${element(split(\"/\", data.terraform_remote_state.cross-stack-reference-input-%s.outputs.url), 2)}", [stack])

_global_check(name, stack) := {"stack": "global", "type": "aws_route53_health_check", "name": name, "address": sprintf("aws_route53_health_check.%s", [name]), "region": "us-east-1", "values": {"type": "HTTPS", "fqdn": _stack_host(stack)}}

_global_record(role, check) := {"stack": "global", "type": "aws_route53_record", "name": lower(role), "address": sprintf("aws_route53_record.%s", [lower(role)]), "region": "us-east-1", "values": {
	"zone_id": "${aws_route53_zone.z.zone_id}", "name": "api.example.com", "type": "CNAME",
	"health_check_id": sprintf("${aws_route53_health_check.%s.id}", [check]),
	"failover_routing_policy": {"type": role},
}}

_remote := {"global": {
	"cross-stack-reference-input-east": {"stack": "east", "outputs": {"url": "${aws_lambda_function_url.u.function_url}"}},
	"cross-stack-reference-input-west": {"stack": "west", "outputs": {"url": "${aws_lambda_function_url.u.function_url}"}},
}}

_stack_pair(west_region) := [
	_stack_url("east", "us-east-1"), _stack_url("west", west_region),
	_global_check("p", "east"), _global_check("s", "west"),
	_global_record("PRIMARY", "p"), _global_record("SECONDARY", "s"),
]

test_cross_stack_endpoints_are_resolved if {
	passing := dr_ha_04.deny with input as harness.normalise({"resources": _stack_pair("us-west-2"), "remote_outputs": _remote})
	failing := dr_ha_04.deny with input as harness.normalise({"resources": _stack_pair("us-east-1"), "remote_outputs": _remote})
	count(passing) == 0
	_flagged(failing) == {"aws_route53_record.secondary"}
}

test_odd_record_values_do_not_break_the_pairing if {
	odd := _res("aws_route53_record", "odd", "us-east-1", {"name": null, "failover_routing_policy": {"type": 1}})
	count(_deny(array.concat(_pair(_host("east"), _host("west")), [odd]))) == 0
}

# --- regions the model derives from references -----------------------------------

_region_source(name, region) := {"stack": "dr", "type": "aws_region", "name": name, "region": region, "values": {}}

_with_regions(resources) := harness.normalise({
	"resources": resources,
	"data_sources": [_region_source("home", "us-east-1"), _region_source("dr", "us-west-2")],
	"stacks": [{"name": "dr", "region": "us-east-1"}],
})

test_replica_region_from_an_aws_region_data_source if {
	apart := _table("${data.aws_region.dr.name}")
	count(dr_ha_04.deny) == 0 with input as _with_regions([apart])
	same := _table("${data.aws_region.home.region}")
	result := dr_ha_04.deny with input as _with_regions([same])
	count(result) == 1
	some f in result
	contains(f.message, "replica region_name ${data.aws_region.home.region} (us-east-1) is the table's own region")
}

test_global_cluster_without_a_recognisable_primary_is_named if {
	result := _deny([_global, _member("one", "us-east-1"), _member("two", "us-east-1")])
	_flagged(result) == {"aws_rds_global_cluster.g"}
}

test_single_member_names_the_global_cluster if {
	result := _deny([_global, _primary("us-east-1")])
	_flagged(result) == {"aws_rds_global_cluster.g"}
}

test_primary_by_source_cluster_is_not_named if {
	global := _res("aws_rds_global_cluster", "g", "us-east-1", {"source_db_cluster_identifier": "${aws_rds_cluster.primary.arn}"})
	primary := _res("aws_rds_cluster", "primary", "us-east-1", {})
	result := _deny([global, primary, _member("secondary", "us-east-1")])
	_flagged(result) == {"aws_rds_cluster.secondary"}
}

test_replica_resource_with_a_computed_region_is_reported if {
	table := _res("aws_dynamodb_table", "t", "us-east-1", {})
	replica := _res("aws_dynamodb_table_replica", "r", null, {"global_table_arn": "${aws_dynamodb_table.t.arn}"})
	result := _deny([table, replica])
	some f in result
	f.address == "aws_dynamodb_table_replica.r"
	contains(f.message, "cannot be shown to differ")
}

# A host assembled around a function's name: the region is the function's,
# whatever region the literal text names.
_function(name, region) := _res("aws_lambda_function", name, region, {"function_name": name})

_assembled(fn) := sprintf("${aws_lambda_function.%s.function_name}.lambda-url.us-east-1.on.aws", [fn])

test_region_comes_from_the_referenced_block_before_literal_text if {
	functions := [_function("east", "us-east-1"), _function("west", "us-west-2")]
	apart := array.concat(functions, _pair(_assembled("east"), _assembled("west")))
	count(_deny(apart)) == 0
	same := array.concat(functions, _pair(_assembled("west"), _assembled("west")))
	result := _deny(same)
	some m in _messages(result)
	contains(m, "leads to an endpoint in us-west-2")
}

_literal_alias(role, host) := _res("aws_route53_record", lower(role), "us-east-1", {
	"zone_id": "Z123", "name": "api.example.com.", "type": "A",
	"alias": {"name": host, "zone_id": "Z35SXDOTRQ7X7K", "evaluate_target_health": true},
	"failover_routing_policy": {"type": role},
})

test_alias_records_by_literal_host_region if {
	apart := [_literal_alias("PRIMARY", "dualstack.web-1.us-east-1.elb.amazonaws.com"), _literal_alias("SECONDARY", "dualstack.web-2.eu-west-1.elb.amazonaws.com")]
	count(_deny(apart)) == 0
	same := [_literal_alias("PRIMARY", "dualstack.web-1.us-east-1.elb.amazonaws.com"), _literal_alias("SECONDARY", "dualstack.web-2.us-east-1.elb.amazonaws.com")]
	_flagged(_deny(same)) == {"aws_route53_record.secondary"}
}
