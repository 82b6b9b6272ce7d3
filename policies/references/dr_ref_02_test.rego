package dr.rules.dr_ref_02_test

import data.dr.rules.dr_ref_02

_res(stack, region, type, name, values) := {"stack": stack, "type": type, "name": name, "address": sprintf("%s.%s", [type, name]), "region": region, "values": values}

_global := _res("p", "us-east-1", "aws_rds_global_cluster", "g", {"global_cluster_identifier": "dr-prod-global"})

_first := _res("p", "us-east-1", "aws_rds_cluster", "db", {"global_cluster_identifier": "${aws_rds_global_cluster.g.id}"})

_member(gci) := _res("s", "us-west-2", "aws_rds_cluster", "db", {"global_cluster_identifier": gci})

_east_url := _res("p", "us-east-1", "aws_lambda_function_url", "health", {"function_name": "${aws_lambda_function.h.function_name}"})

_west_url := _res("s", "us-west-2", "aws_lambda_function_url", "health", {"function_name": "${aws_lambda_function.h.function_name}"})

_remote := {
	"s": {"cross-stack-reference-input-p": {"stack": "p", "outputs": {"gid": "${aws_rds_global_cluster.g.id}", "dbid": "${aws_rds_cluster.db.id}"}}},
	"g": {
		"cross-stack-reference-input-p": {"stack": "p", "outputs": {"url": "${aws_lambda_function_url.health.function_url}"}},
		"cross-stack-reference-input-s": {"stack": "s", "outputs": {"url": "${aws_lambda_function_url.health.function_url}"}},
	},
}

_host(producer) := sprintf("${element(split(\"/\", data.terraform_remote_state.cross-stack-reference-input-%s.outputs.url), 2)}", [producer])

_check(role, fqdn) := _res("g", "us-east-1", "aws_route53_health_check", sprintf("%s-health", [role]), {"type": "HTTPS", "fqdn": fqdn, "port": 443})

_record(role, records) := _res("g", "us-east-1", "aws_route53_record", sprintf("%s-record", [role]), {
	"failover_routing_policy": {"type": upper(role)},
	"health_check_id": sprintf("${aws_route53_health_check.%s-health.id}", [role]),
	"records": records,
})

_routing(primary_check, primary_records) := [
	_east_url, _west_url,
	_check("primary", primary_check), _record("primary", primary_records),
	_check("secondary", _host("s")), _record("secondary", [_host("s")]),
]

_deny(resources) := result if {
	result := dr_ref_02.deny with input as harness.normalise({"resources": resources, "remote_outputs": _remote})
}

_messages(result) := {f.message | some f in result}

test_members_by_reference_pass if {
	count(_deny([_global, _first, _member("${data.terraform_remote_state.cross-stack-reference-input-p.outputs.gid}")])) == 0
}

test_member_with_literal_global_cluster_fails if {
	result := _deny([_global, _first, _member("dr-prod-global")])
	some f in result
	f.requirement == "DR-REF-02"
	f.stack == "s"
	contains(f.message, "is the literal \"dr-prod-global\"")
}

test_member_joining_another_cluster_fails if {
	result := _deny([_global, _first, _member("${data.terraform_remote_state.cross-stack-reference-input-p.outputs.dbid}")])
	some m in _messages(result)
	contains(m, "refers to p/aws_rds_cluster.db, not to an aws_rds_global_cluster")
}

test_member_reference_inside_a_function_passes if {
	count(_deny([_global, _first, _member("${lower(data.terraform_remote_state.cross-stack-reference-input-p.outputs.gid)}")])) == 0
}

test_member_with_dangling_reference_fails if {
	result := _deny([_global, _first, _member("${var.global_cluster}")])
	some m in _messages(result)
	contains(m, "cannot be verified: it refers to var.global_cluster (a variable)")
}

test_routing_by_cross_stack_reference_passes if {
	count(_deny(_routing(_host("p"), [_host("p")]))) == 0
}

test_health_check_with_literal_host_fails if {
	result := _deny(_routing("abcdefgh.lambda-url.us-east-1.on.aws", [_host("p")]))
	some f in result
	f.address == "aws_route53_health_check.primary-health"
	contains(f.message, "probes the literal host")
}

test_record_with_literal_host_fails if {
	result := _deny(_routing(_host("p"), ["abcdefgh.lambda-url.us-east-1.on.aws"]))
	some f in result
	f.address == "aws_route53_record.primary-record"
	contains(f.message, "routes to the literal host")
}

test_record_routed_to_the_other_region_fails if {
	result := _deny(_routing(_host("p"), [_host("s")]))
	some f in result
	f.address == "aws_route53_record.primary-record"
	contains(f.message, "routes to us-west-2 but its health check g/aws_route53_health_check.primary-health watches us-east-1")
}

test_unresolved_endpoint_and_missing_target_fail if {
	record := object.union(_record("primary", []), {"values": {"records": []}})
	result := _deny([_east_url, _check("primary", "${var.host}"), record])
	some m1 in _messages(result)
	contains(m1, "probes ${var.host}, which cannot be verified: it refers to var.host (a variable)")
	some m2 in _messages(result)
	contains(m2, "neither records nor an alias target")
}

test_health_check_without_endpoint_fails if {
	check := _res("g", "us-east-1", "aws_route53_health_check", "c", {"type": "HTTPS", "port": 443})
	some m in _messages(_deny([check]))
	contains(m, "probes no endpoint")
}

test_alias_record_and_ip_check_by_reference_pass if {
	lb := _res("g", "us-east-1", "aws_lb", "web", {})
	eip := _res("g", "us-east-1", "aws_eip", "ip", {})
	check := _res("g", "us-east-1", "aws_route53_health_check", "c", {"type": "HTTP", "ip_address": "${aws_eip.ip.public_ip}"})
	record := _res("g", "us-east-1", "aws_route53_record", "r", {
		"failover_routing_policy": [{"type": "PRIMARY"}],
		"health_check_id": "${aws_route53_health_check.c.id}",
		"alias": [{"name": "${aws_lb.web.dns_name}", "zone_id": "${aws_lb.web.zone_id}"}],
	})
	count(_deny([lb, eip, check, record])) == 0
}

# One stack, aliased providers: local references are right.
test_one_stack_layout_with_local_references_passes if {
	global := object.union(_global, {"stack": "app"})
	first := object.union(_first, {"stack": "app"})
	member := _res("app", "us-west-2", "aws_rds_cluster", "west", {"global_cluster_identifier": "${aws_rds_global_cluster.g.id}"})
	url := _res("app", "us-west-2", "aws_lambda_function_url", "west", {})
	check := _res("app", "us-east-1", "aws_route53_health_check", "west", {"type": "HTTPS", "fqdn": "${element(split(\"/\", aws_lambda_function_url.west.function_url), 2)}"})
	record := _res("app", "us-east-1", "aws_route53_record", "west", {
		"failover_routing_policy": {"type": "SECONDARY"},
		"health_check_id": "${aws_route53_health_check.west.id}",
		"records": ["${element(split(\"/\", aws_lambda_function_url.west.function_url), 2)}"],
	})
	result := dr_ref_02.deny with input as harness.normalise({"resources": [global, first, member, url, check, record], "remote_outputs": {}})
	count(result) == 0
}

test_calculated_checks_and_plain_records_are_not_judged if {
	calculated := _res("g", "us-east-1", "aws_route53_health_check", "all", {"type": "CALCULATED"})
	plain := _res("g", "us-east-1", "aws_route53_record", "www", {"records": ["example.org"]})
	subjects := dr_ref_02.evaluated with input as harness.normalise({"resources": [calculated, plain], "remote_outputs": {}})
	count(subjects) == 0
}

# --- only the endpoint's own address counts --------------------------------------

_one(type, name, region, values) := _res("app", region, type, name, values)

_one_deny(resources, data_sources) := result if {
	result := dr_ref_02.deny with input as harness.normalise({"resources": resources, "data_sources": data_sources, "stacks": [{"name": "app", "region": "us-east-1"}]})
}

_probe(host) := _one("aws_route53_health_check", "probe", "us-east-1", {"type": "HTTPS", "fqdn": host, "resource_path": "/health"})

_routed(records) := _one("aws_route53_record", "api", "us-east-1", {
	"zone_id": "${aws_route53_zone.z.zone_id}", "name": "api", "type": "CNAME", "set_identifier": "primary",
	"failover_routing_policy": {"type": "PRIMARY"}, "health_check_id": "${aws_route53_health_check.probe.id}",
	"records": records,
})

_fn := _one("aws_lambda_function", "health", "us-east-1", {"function_name": "health"})

_fn_url := _one("aws_lambda_function_url", "health", "us-east-1", {"function_name": "${aws_lambda_function.health.function_name}", "authorization_type": "NONE"})

test_host_assembled_around_a_function_name_fails if {
	assembled := "${aws_lambda_function.health.function_name}.lambda-url.us-east-1.on.aws"
	result := _one_deny([_fn, _fn_url, _probe(assembled), _routed([assembled])], [])
	{f.address | some f in result} == {"aws_route53_health_check.probe", "aws_route53_record.api"}
	some f in result
	f.address == "aws_route53_health_check.probe"
	contains(f.message, "a host built from function_name of app/aws_lambda_function.health rather than from an endpoint's own address")
}

test_host_built_from_the_url_id_passes if {
	built := "${aws_lambda_function_url.health.url_id}.lambda-url.us-east-1.on.aws"
	count(_one_deny([_fn, _fn_url, _probe(built), _routed([built])], [])) == 0
}

test_api_endpoint_inside_functions_passes if {
	api := _one("aws_apigatewayv2_api", "api", "us-east-1", {"name": "api", "protocol_type": "HTTP"})
	host := "${replace(aws_apigatewayv2_api.api.api_endpoint, \"https://\", \"\")}"
	count(_one_deny([api, _probe(host), _routed([host])], [])) == 0
}

test_load_balancer_looked_up_by_data_source_passes if {
	lb := _one("aws_lb", "web", "us-east-1", {"name": "web"})
	host := "${data.aws_lb.web.dns_name}"
	count(_one_deny([_probe(host), _routed([host])], [lb])) == 0
}

test_alias_to_a_load_balancer_zone_id_is_not_its_address if {
	lb := _one("aws_lb", "web", "us-east-1", {"name": "web"})
	record := _one("aws_route53_record", "web", "us-east-1", {
		"zone_id": "${aws_route53_zone.z.zone_id}", "name": "web", "type": "A",
		"failover_routing_policy": [{"type": "SECONDARY"}],
		"alias": [{"name": "${aws_lb.web.zone_id}", "zone_id": "${aws_lb.web.zone_id}", "evaluate_target_health": true}],
	})
	result := _one_deny([lb, record], [])
	some f in result
	contains(f.message, "a host built from zone_id of app/aws_lb.web")
}

test_record_of_several_hosts_is_judged_per_host if {
	eip := _one("aws_eip", "ip", "us-east-1", {})
	record := _routed(["${aws_eip.ip.public_ip}", "203.0.113.10"])
	check := _one("aws_route53_health_check", "probe", "us-east-1", {"type": "TCP", "ip_address": "${aws_eip.ip.public_ip}", "port": 443})
	result := _one_deny([eip, check, record], [])
	count(result) == 1
	some f in result
	contains(f.message, "routes to the literal host \"203.0.113.10\"")
}

test_empty_records_beside_an_alias_read_the_alias if {
	lb := _one("aws_lb", "web", "us-east-1", {"name": "web"})
	record := _one("aws_route53_record", "web", "us-east-1", {
		"zone_id": "Z1", "name": "web", "type": "A", "records": [],
		"failover_routing_policy": {"type": "PRIMARY"},
		"alias": {"name": "${aws_lb.web.dns_name}", "zone_id": "${aws_lb.web.zone_id}", "evaluate_target_health": true},
	})
	count(_one_deny([lb, record], [])) == 0
}
