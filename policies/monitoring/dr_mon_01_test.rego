package dr.rules.dr_mon_01_test

import data.dr.rules.dr_mon_01

_res(stack, type, name, region, values) := {"stack": stack, "type": type, "name": name, "address": sprintf("%s.%s", [type, name]), "region": region, "values": values}

_check(name) := _res("global", "aws_route53_health_check", name, "us-east-1", {"type": "HTTPS", "fqdn": "x.example.com"})

_topic := _res("global", "aws_sns_topic", "alerts", "us-east-1", {"kms_master_key_id": "${aws_kms_key.k.arn}"})

_alarm(name, check) := _res("global", "aws_cloudwatch_metric_alarm", name, "us-east-1", {
	"namespace": "AWS/Route53", "metric_name": "HealthCheckStatus",
	"dimensions": {"HealthCheckId": sprintf("${aws_route53_health_check.%s.id}", [check])},
	"comparison_operator": "LessThanThreshold", "threshold": 1, "statistic": "Minimum",
	"treat_missing_data": "breaching",
	"alarm_actions": ["${aws_sns_topic.alerts.arn}"],
})

_base := [_check("east"), _check("west"), _topic, _alarm("east", "east"), _alarm("west", "west")]

_deny(resources) := result if {
	result := dr_mon_01.deny with input as harness.normalise({"resources": resources, "remote_outputs": {}, "stacks": []})
}

_replace(resources, replacement) := array.concat([r | some r in resources; r.address != replacement.address], [replacement])

_without(resources, address) := [r | some r in resources; r.address != address]

_addresses(result) := {f.address | some f in result}

_messages(result) := {f.message | some f in result}

test_every_check_alarmed_passes if {
	count(_deny(_base)) == 0
}

test_evaluated_lists_checks_and_alarms if {
	subjects := dr_mon_01.evaluated with input as harness.normalise({"resources": _base, "remote_outputs": {}})
	count(subjects) == 4
}

test_status_alarm_removed_fails_on_the_check if {
	result := _deny(_without(_base, "aws_cloudwatch_metric_alarm.west"))
	_addresses(result) == {"aws_route53_health_check.west"}
}

test_missing_data_not_breaching_fails if {
	lax := object.union(_alarm("west", "west"), {"values": {"treat_missing_data": "notBreaching"}})
	result := _deny(_replace(_base, lax))
	# One cause, one finding: the alarm at fault, not also its health check.
	_addresses(result) == {"aws_cloudwatch_metric_alarm.west"}
	some m in _messages(result)
	contains(m, "treat_missing_data is notBreaching")
}

test_missing_data_unset_fails if {
	unset := json.remove(_alarm("west", "west"), ["values/treat_missing_data"])
	some m in _messages(_deny(_replace(_base, unset)))
	contains(m, "unset (missing)")
}

test_alarm_outside_us_east_1_fails if {
	# One-stack layout: a provider-6 region argument moves the alarm (and its topic).
	west_topic := _res("global", "aws_sns_topic", "west", "us-west-2", {"region": "us-west-2", "kms_master_key_id": "${aws_kms_key.w.arn}"})
	moved := object.union(_alarm("west", "west"), {"region": "us-west-2", "values": {"region": "us-west-2", "alarm_actions": ["${aws_sns_topic.west.arn}"]}})
	result := _deny(array.concat(_replace(_base, moved), [west_topic]))
	some m in _messages(result)
	contains(m, "the alarm is in us-west-2, where Route 53 publishes no HealthCheckStatus")
}

test_unencrypted_topic_fails_on_the_alarms_that_notify_it if {
	plain := json.remove(_topic, ["values/kms_master_key_id"])
	result := _deny(_replace(_base, plain))
	_addresses(result) == {"aws_cloudwatch_metric_alarm.east", "aws_cloudwatch_metric_alarm.west"}
	some m in _messages(result)
	contains(m, "which is not encrypted")
}

test_health_check_without_any_alarm_fails_on_the_check if {
	result := _deny([r | some r in _base; r.type != "aws_cloudwatch_metric_alarm"])
	_addresses(result) == {"aws_route53_health_check.east", "aws_route53_health_check.west"}
}

test_alarm_without_topic_fails if {
	silent := object.union(_alarm("west", "west"), {"values": {"alarm_actions": []}})
	some m in _messages(_deny(_replace(_base, silent)))
	contains(m, "notify no SNS topic")
}

test_alarm_that_never_fires_fails if {
	inverted := object.union(_alarm("west", "west"), {"values": {"comparison_operator": "GreaterThanThreshold"}})
	some m in _messages(_deny(_replace(_base, inverted)))
	contains(m, "does not fire when the status drops to 0")
}

test_less_or_equal_zero_is_a_status_alarm if {
	alt := object.union(_alarm("west", "west"), {"values": {"comparison_operator": "LessThanOrEqualToThreshold", "threshold": 0}})
	count(_deny(_replace(_base, alt))) == 0
}

test_alarm_on_unknown_check_fails if {
	stray := _alarm("stray", "gone")
	some m in _messages(_deny(array.concat(_base, [stray])))
	contains(m, "names no health check of this design")
}

test_cross_stack_check_reference_passes if {
	# The check lives in another stack; the alarm names it through remote state.
	check := _res("dns", "aws_route53_health_check", "west", "us-east-1", {})
	alarm := object.union(_alarm("west", "west"), {"values": {"dimensions": {"HealthCheckId": "${data.terraform_remote_state.cross-stack-reference-input-dns.outputs.hc}"}}})
	resources := array.concat(_without(_without(_base, "aws_route53_health_check.west"), "aws_cloudwatch_metric_alarm.west"), [check, alarm])
	outputs := {"global": {"cross-stack-reference-input-dns": {"stack": "dns", "outputs": {"hc": "${aws_route53_health_check.west.id}"}}}}
	result := dr_mon_01.deny with input as harness.normalise({"resources": resources, "remote_outputs": outputs})
	count(result) == 0
}

test_no_health_check_is_not_applicable if {
	subjects := dr_mon_01.evaluated with input as harness.normalise({"resources": [_topic], "remote_outputs": {}})
	count(subjects) == 0
}
