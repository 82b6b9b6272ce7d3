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
	result := dr_ref_02.deny with input as {"resources": resources, "remote_outputs": _remote}
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
	contains(m, "refers to aws_rds_cluster.db in stack p")
}

test_member_reference_inside_a_function_passes if {
	count(_deny([_global, _first, _member("${lower(data.terraform_remote_state.cross-stack-reference-input-p.outputs.gid)}")])) == 0
}

test_member_with_dangling_reference_fails if {
	result := _deny([_global, _first, _member("${var.global_cluster}")])
	some m in _messages(result)
	contains(m, "no local or cross-stack reference")
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
	contains(f.message, "watches [\"us-east-1\"]")
}

test_unresolved_endpoint_and_missing_target_fail if {
	record := object.union(_record("primary", []), {"values": {"records": []}})
	result := _deny([_east_url, _check("primary", "${var.host}"), record])
	some m1 in _messages(result)
	contains(m1, "refers to no resource of this design")
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
	result := dr_ref_02.deny with input as {"resources": [global, first, member, url, check, record], "remote_outputs": {}}
	count(result) == 0
}

test_calculated_checks_and_plain_records_are_not_judged if {
	calculated := _res("g", "us-east-1", "aws_route53_health_check", "all", {"type": "CALCULATED"})
	plain := _res("g", "us-east-1", "aws_route53_record", "www", {"records": ["example.org"]})
	subjects := dr_ref_02.evaluated with input as {"resources": [calculated, plain], "remote_outputs": {}}
	count(subjects) == 0
}
