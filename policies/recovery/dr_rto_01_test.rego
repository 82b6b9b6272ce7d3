package dr.rules.dr_rto_01_test

import data.dr.rules.dr_rto_01

_settings := {"rto_seconds": 60, "rpo_seconds": 5, "promotion_allowance_seconds": 30}

_hc(values) := {"stack": "g", "type": "aws_route53_health_check", "name": "p", "address": "aws_route53_health_check.p", "region": "us-east-1", "values": values}

_record(values) := {"stack": "g", "type": "aws_route53_record", "name": "r", "address": "aws_route53_record.r", "region": "us-east-1", "values": object.union(
	{"name": "api.example.com", "type": "CNAME", "set_identifier": "primary", "failover_routing_policy": {"type": "PRIMARY"}, "health_check_id": "${aws_route53_health_check.p.id}"},
	values,
)}

_input(resources) := {"resources": resources, "remote_outputs": {}, "stacks": []}

_deny(resources) := result if {
	result := dr_rto_01.deny with input as _input(resources) with data.settings as _settings
}

test_budget_within_target_passes if {
	# 10 x 2 + 5 + 30 = 55 <= 60
	count(_deny([_hc({"request_interval": 10, "failure_threshold": 2}), _record({"ttl": 5})])) == 0
}

test_budget_document_shows_the_terms if {
	budgets := dr_rto_01.budgets with input as _input([_hc({"request_interval": 10, "failure_threshold": 2}), _record({"ttl": 5})])
		with data.settings as _settings
	budgets == {{
		"stack": "g", "address": "aws_route53_record.r", "failover": "PRIMARY", "health_check": "aws_route53_health_check.p",
		"interval": 10, "threshold": 2, "ttl": 5, "promotion": 30, "total": 55, "target": 60,
	}}
}

test_ttl_too_long_fails_with_arithmetic if {
	result := _deny([_hc({"request_interval": 10, "failure_threshold": 2}), _record({"ttl": 60})])
	some f in result
	f.requirement == "DR-RTO-01"
	f.address == "aws_route53_record.r"
	contains(f.message, "RTO budget 110 s exceeds the 60 s target")
	contains(f.message, "request_interval 10 s x failure_threshold 2")
	contains(f.message, "record TTL 60 s")
	contains(f.message, "promotion allowance 30 s")
}

test_route53_defaults_apply_when_unset if {
	# 30 x 3 + 5 + 30 = 125
	result := _deny([_hc({}), _record({"ttl": 5})])
	some f in result
	contains(f.message, "RTO budget 125 s")
}

test_numeric_strings_are_read if {
	count(_deny([_hc({"request_interval": "10", "failure_threshold": "2"}), _record({"ttl": "5"})])) == 0
}

test_promotion_allowance_comes_from_settings if {
	resources := [_hc({"request_interval": 10, "failure_threshold": 2}), _record({"ttl": 5})]
	result := dr_rto_01.deny with input as _input(resources) with data.settings as object.union(_settings, {"promotion_allowance_seconds": 40})
	some f in result
	contains(f.message, "= 65 s")
}

test_alias_record_counts_the_target_ttl if {
	alias := {"alias": {"name": "${aws_lb.web.dns_name}", "zone_id": "${aws_lb.web.zone_id}", "evaluate_target_health": true}}
	result := _deny([_hc({"request_interval": 10, "failure_threshold": 2}), _record(alias)])
	some f in result
	contains(f.message, "RTO budget 110 s")
	contains(f.message, "alias target's TTL")
}

test_alias_to_a_record_of_the_zone_uses_its_ttl if {
	target := {"stack": "g", "type": "aws_route53_record", "name": "t", "address": "aws_route53_record.t", "region": "us-east-1", "values": {"name": "web.example.com", "type": "A", "ttl": 5}}
	alias := {"alias": {"name": "${aws_route53_record.t.fqdn}", "zone_id": "Z1", "evaluate_target_health": true}}
	count(_deny([target, _hc({"request_interval": 10, "failure_threshold": 2}), _record(alias)])) == 0
}

test_record_without_health_check_fails if {
	record := json.remove(_record({"ttl": 5}), ["values/health_check_id"])
	result := _deny([record])
	some f in result
	contains(f.message, "no health check")
}

test_unresolvable_terms_fail if {
	result := _deny([_hc({"request_interval": "${var.interval}", "failure_threshold": 2}), json.remove(_record({}), ["values/ttl"])])
	some f in result
	contains(f.message, "request_interval of aws_route53_health_check.p")
	some g in result
	contains(g.message, "ttl (unset)")
}

test_one_stack_layout_with_region_arguments if {
	# One stack, provider-6 region arguments: the secondary record's health
	# check is slow; only that record fails.
	slow := {"stack": "dr", "type": "aws_route53_health_check", "name": "s", "address": "aws_route53_health_check.s", "region": "us-west-2", "values": {"region": "us-west-2", "request_interval": 30, "failure_threshold": 2}}
	fast := object.union(_hc({"request_interval": 10, "failure_threshold": 2}), {"stack": "dr"})
	primary := object.union(_record({"ttl": 5}), {"stack": "dr"})
	secondary := {"stack": "dr", "type": "aws_route53_record", "name": "s", "address": "aws_route53_record.s", "region": "us-east-1", "values": {
		"name": "api.example.com", "type": "CNAME", "ttl": 5, "set_identifier": "secondary",
		"failover_routing_policy": [{"type": "SECONDARY"}], "health_check_id": "${aws_route53_health_check.s.id}",
	}}
	result := _deny([slow, fast, primary, secondary])
	{f.address | some f in result} == {"aws_route53_record.s"}
}

test_evaluated_lists_failover_records_only if {
	plain := {"stack": "g", "type": "aws_route53_record", "name": "w", "address": "aws_route53_record.w", "region": "us-east-1", "values": {"name": "www", "ttl": 300}}
	subjects := dr_rto_01.evaluated with input as _input([plain, _hc({}), _record({"ttl": 5})])
	subjects == {"g/aws_route53_record.r"}
}
