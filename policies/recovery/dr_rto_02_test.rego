package dr.rules.dr_rto_02_test

import data.dr.rules.dr_rto_02

# One-stack layout: aliased providers put the secondary resources in us-west-2.
_res(type, name, region, values) := {"stack": "dr", "type": type, "name": name, "address": sprintf("%s.%s", [type, name]), "region": region, "values": values}

_host(url) := sprintf("${element(split(\"/\", aws_lambda_function_url.%s.function_url), 2)}", [url])

_url(name, region) := _res("aws_lambda_function_url", name, region, {"function_name": "${aws_lambda_function.f.function_name}", "authorization_type": "NONE"})

_hc(name, url, region) := _res("aws_route53_health_check", name, region, {"type": "HTTPS", "fqdn": _host(url), "port": 443, "resource_path": "/health"})

_record(name, role, check, url) := _res("aws_route53_record", name, "us-east-1", {
	"zone_id": "${aws_route53_zone.z.zone_id}", "name": "api.example.com", "type": "CNAME", "ttl": 5,
	"records": [_host(url)], "set_identifier": lower(role),
	"health_check_id": sprintf("${aws_route53_health_check.%s.id}", [check]),
	"failover_routing_policy": {"type": role},
})

_zone := _res("aws_route53_zone", "z", "us-east-1", {"name": "example.com"})

_global := _res("aws_rds_global_cluster", "g", "us-east-1", {"global_cluster_identifier": "dr-global"})

_base := [
	_zone, _global,
	_url("east", "us-east-1"), _url("west", "us-west-2"),
	_hc("east", "east", "us-east-1"), _hc("west", "west", "us-east-1"),
	_record("primary", "PRIMARY", "east", "east"), _record("secondary", "SECONDARY", "west", "west"),
]

_input(resources) := harness.normalise({"resources": resources, "remote_outputs": {}, "stacks": []})

_deny(resources) := result if {
	result := dr_rto_02.deny with input as _input(resources)
}

_replace(resources, address, replacement) := [r |
	some x in resources
	r := _pick(x, address, replacement)
]

_pick(x, address, replacement) := replacement if x.address == address

_pick(x, address, _) := x if x.address != address

_without(resources, address) := [r | some r in resources; r.address != address]

_addresses(result) := {f.address | some f in result}

test_health_checked_pair_in_two_regions_passes if {
	count(_deny(_base)) == 0
}

test_evaluated_lists_records_checks_and_zone if {
	subjects := dr_rto_02.evaluated with input as _input(_base)
	count(subjects) == 5
	"dr/aws_route53_zone.z" in subjects
}

test_secondary_marked_primary_fails if {
	broken := _record("secondary", "PRIMARY", "west", "west")
	result := _deny(_replace(_base, "aws_route53_record.secondary", broken))
	"aws_route53_record.secondary" in _addresses(result)
	some f in result
	contains(f.message, "expected exactly one PRIMARY and one SECONDARY")
	some g in result
	contains(g.message, "primary region (of the Aurora global cluster) is us-east-1")
}

test_raw_function_url_as_fqdn_fails if {
	raw := _res("aws_route53_health_check", "west", "us-east-1", {"type": "HTTPS", "fqdn": "${aws_lambda_function_url.west.function_url}", "resource_path": "/health"})
	result := _deny(_replace(_base, "aws_route53_health_check.west", raw))
	some f in result
	f.address == "aws_route53_health_check.west"
	contains(f.message, "whole URL")
}

test_url_without_host_extraction_fails if {
	wrapped := _res("aws_route53_health_check", "west", "us-east-1", {"type": "HTTPS", "fqdn": "${lower(aws_lambda_function_url.west.function_url)}", "resource_path": "/health"})
	result := _deny(_replace(_base, "aws_route53_health_check.west", wrapped))
	some f in result
	contains(f.message, "without extracting its host")
}

test_literal_url_fqdn_fails if {
	literal := _res("aws_route53_health_check", "west", "us-east-1", {"type": "HTTPS", "fqdn": "https://abc.lambda-url.us-west-2.on.aws/", "resource_path": "/health"})
	result := _deny(_replace(_base, "aws_route53_health_check.west", literal))
	messages := {f.message | some f in result}
	some m in messages
	contains(m, "is a URL, not a host name")
	some n in messages
	contains(n, "does not refer to a regional endpoint of this design")
}

test_wrong_path_and_protocol_fail if {
	check := _res("aws_route53_health_check", "east", "us-east-1", {"type": "HTTP", "fqdn": _host("east"), "resource_path": "/"})
	result := _deny(_replace(_base, "aws_route53_health_check.east", check))
	messages := {f.message | some f in result}
	"resource_path is /: expected /health" in messages
	"health check type is HTTP: expected HTTPS against the region's endpoint" in messages
}

test_record_without_health_check_fails if {
	record := json.remove(_record("secondary", "SECONDARY", "west", "west"), ["values/health_check_id"])
	result := _deny(_replace(_base, "aws_route53_record.secondary", record))
	some f in result
	f.address == "aws_route53_record.secondary"
	contains(f.message, "does not name an aws_route53_health_check")
}

test_both_records_in_one_region_fail if {
	# No global cluster: the only region rule left is "two different regions".
	same := _replace(_without(_base, "aws_rds_global_cluster.g"), "aws_route53_health_check.west", _hc("west", "east", "us-east-1"))
	result := _deny(_replace(same, "aws_route53_record.secondary", _record("secondary", "SECONDARY", "west", "east")))
	some f in result
	f.address == "aws_route53_record.secondary"
	contains(f.message, "two different regions")
}

test_health_check_probing_another_region_than_the_record_fails if {
	result := _deny(_replace(_base, "aws_route53_record.secondary", _record("secondary", "SECONDARY", "west", "east")))
	some f in result
	contains(f.message, "expected the same region")
}

test_alias_answer_in_another_region_fails if {
	lb := _res("aws_lb", "web", "us-east-1", {})
	record := json.patch(_record("secondary", "SECONDARY", "west", "west"), [
		{"op": "remove", "path": "/values/records"},
		{"op": "add", "path": "/values/alias", "value": {"name": "${aws_lb.web.dns_name}", "zone_id": "${aws_lb.web.zone_id}"}},
	])
	result := _deny(array.concat(_replace(_base, "aws_route53_record.secondary", record), [lb]))
	some f in result
	contains(f.message, "expected the same region")
}

test_secondary_in_primary_region_fails if {
	result := _deny(_replace(_base, "aws_route53_health_check.west", _hc("west", "east", "us-east-1")))
	some f in result
	f.address == "aws_route53_record.secondary"
	contains(f.message, "in the primary region us-east-1")
}

test_shared_set_identifier_fails if {
	record := json.patch(_record("secondary", "SECONDARY", "west", "west"), [{"op": "replace", "path": "/values/set_identifier", "value": "primary"}])
	result := _deny(_replace(_base, "aws_route53_record.secondary", record))
	_addresses(result) == {"aws_route53_record.primary", "aws_route53_record.secondary"}
}

test_missing_set_identifier_and_unknown_type_fail if {
	record := json.patch(_record("secondary", "SECONDARY", "west", "west"), [
		{"op": "remove", "path": "/values/set_identifier"},
		{"op": "replace", "path": "/values/failover_routing_policy", "value": {"type": "TERTIARY"}},
	])
	messages := {f.message | some f in _deny(_replace(_base, "aws_route53_record.secondary", record))}
	some m in messages
	contains(m, "no set_identifier")
	some n in messages
	contains(n, "neither PRIMARY nor SECONDARY")
}

test_zone_without_failover_records_fails if {
	result := _deny([_zone, _url("east", "us-east-1")])
	_addresses(result) == {"aws_route53_zone.z"}
}

test_nothing_to_judge_is_not_applicable if {
	subjects := dr_rto_02.evaluated with input as _input([_url("east", "us-east-1")])
	count(subjects) == 0
}

test_cross_stack_layout_passes if {
	# Per-region stacks: the global stack reads each Function URL through
	# CDKTF's remote state.
	remote := "${element(split(\"/\", data.terraform_remote_state.cross-stack-reference-input-secondary.outputs.url), 2)}"
	west_url := object.union(_url("west", "us-west-2"), {"stack": "secondary"})
	check := object.union(_hc("west", "west", "us-east-1"), {"values": {"fqdn": remote}})
	record := object.union(_record("secondary", "SECONDARY", "west", "west"), {"values": {"records": [remote]}})
	resources := array.concat(_without(_replace(_replace(_base, "aws_route53_health_check.west", check), "aws_route53_record.secondary", record), "aws_lambda_function_url.west"), [west_url])
	outputs := {"dr": {"cross-stack-reference-input-secondary": {"stack": "secondary", "outputs": {"url": "${aws_lambda_function_url.west.function_url}"}}}}
	result := dr_rto_02.deny with input as harness.normalise({"resources": resources, "remote_outputs": outputs, "stacks": []})
	count(result) == 0
}


test_separate_health_function_of_the_same_region_passes if {
	# The record answers with the API's URL, the check probes the health URL of the same region.
	api := _url("api_west", "us-west-2")
	record := _record("secondary", "SECONDARY", "west", "api_west")
	count(_deny(array.concat(_replace(_base, "aws_route53_record.secondary", record), [api]))) == 0
}

_lb(name, region) := _res("aws_lb", name, region, {"name": name})

_lb_check(name) := _res("aws_route53_health_check", name, "us-east-1", {"type": "HTTPS", "fqdn": sprintf("${aws_lb.%s.dns_name}", [name]), "resource_path": "/health"})

_lb_record(name, role) := _res("aws_route53_record", name, "us-east-1", {
	"zone_id": "${aws_route53_zone.z.zone_id}", "name": "api.example.com", "type": "CNAME", "ttl": 5, "set_identifier": lower(role),
	"health_check_id": sprintf("${aws_route53_health_check.%s.id}", [name]),
	"records": [sprintf("${aws_lb.%s.dns_name}", [name])], "failover_routing_policy": {"type": role},
})

test_load_balancer_endpoints_pass if {
	resources := [
		_zone, _global, _lb("primary", "us-east-1"), _lb("secondary", "us-west-2"), _lb_check("primary"), _lb_check("secondary"),
		_lb_record("primary", "PRIMARY"), _lb_record("secondary", "SECONDARY"),
	]
	count(_deny(resources)) == 0
}
