package dr.rules.dr_rto_01_test

import data.dr.rules.dr_rto_01

# The harness defaults (policies/settings.yaml), stated here so a test reads on its own.
_settings := {
	"rto_seconds": 60, "dns_resolver_allowance_seconds": 5, "alarm_action_allowance_seconds": 60,
	"invocation_allowance_seconds": 5, "promotion_allowance_seconds": 60,
	"watchdog_interval_variable": "PROBE_INTERVAL_SECONDS", "watchdog_threshold_variable": "FAILURE_THRESHOLD",
}

_res(type, name, region, values) := {"stack": "dr", "type": type, "name": name, "region": region, "values": values}

_hc(values) := _res("aws_route53_health_check", "p", "us-east-1", values)

_record(values) := _res("aws_route53_record", "r", "us-east-1", object.union(
	{"name": "api.example.com", "type": "CNAME", "set_identifier": "primary", "failover_routing_policy": {"type": "PRIMARY"}, "health_check_id": "${aws_route53_health_check.p.id}"},
	values,
))

_fast_dns := [_hc({"request_interval": 10, "failure_threshold": 2}), _record({"ttl": 5})]

_deny(resources) := result if {
	result := dr_rto_01.deny with input as harness.normalise({"resources": resources}) with data.settings as _settings
}

_paths(resources) := result if {
	result := dr_rto_01.budget with input as harness.normalise({"resources": resources}) with data.settings as _settings
}

# --- the DNS path ------------------------------------------------------------

test_fast_dns_path_passes if {
	# 10 x 2 + 5 + 5 = 30 <= 60, and no database to promote
	count(_deny(_fast_dns)) == 0
}

test_dns_path_is_published_stage_by_stage if {
	[path] := _paths(_fast_dns)
	path.path == "dns"
	path.total == 30
	path.target == 60
	[s.stage | some s in path.stages] == ["health-check detection", "DNS TTL", "resolver allowance"]
	[s.seconds | some s in path.stages] == [20, 5, 5]
	contains(path.stages[0].source, "request_interval 10 s x failure_threshold 2 of dr/aws_route53_health_check.p")
}

test_long_ttl_fails_naming_the_slowest_stage if {
	result := _deny([_hc({"request_interval": 10, "failure_threshold": 2}), _record({"ttl": 60})])
	some f in result
	f.address == "aws_route53_record.r"
	contains(f.message, "the dns path takes 85 s, over the 60 s RTO target")
	contains(f.message, "slowest stage: DNS TTL 60 s")
}

test_route53_defaults_apply_when_unset if {
	# 30 x 3 + 5 + 5 = 100
	result := _deny([_hc({}), _record({"ttl": 5})])
	some f in result
	contains(f.message, "takes 100 s")
	contains(f.message, "(Route 53 defaults)")
}

test_numeric_strings_are_read if {
	count(_deny([_hc({"request_interval": "10", "failure_threshold": "2"}), _record({"ttl": "5"})])) == 0
}

test_alias_record_counts_the_target_ttl if {
	target := _res("aws_route53_record", "target", "us-east-1", {"name": "lb.example.com", "type": "CNAME", "ttl": 60})
	alias := _record({"alias": {"name": "${aws_route53_record.target.fqdn}", "zone_id": "Z1", "evaluate_target_health": true}})
	result := _deny([_hc({"request_interval": 10, "failure_threshold": 2}), alias, target])
	some f in result
	contains(f.message, "ttl of alias target dr/aws_route53_record.target")
}

test_alias_to_an_aws_managed_target_counts_60_seconds if {
	lb := _res("aws_lb", "api", "us-east-1", {"name": "api"})
	alias := _record({"alias": {"name": "${aws_lb.api.dns_name}", "zone_id": "${aws_lb.api.zone_id}", "evaluate_target_health": true}})
	[path] := _paths([_hc({"request_interval": 10, "failure_threshold": 2}), alias, lb])
	path.stages[1].seconds == 60
	path.total == 85
}

test_record_without_health_check_is_unbounded if {
	record := _res("aws_route53_record", "r", "us-east-1", {"name": "api", "set_identifier": "p", "failover_routing_policy": {"type": "PRIMARY"}, "ttl": 5})
	result := _deny([record])
	some f in result
	contains(f.message, "the dns path is unbounded")
	contains(f.message, "Route 53 never fails it over")
}

test_computed_ttl_is_reported if {
	result := _deny([_hc({"request_interval": 10, "failure_threshold": 2}), _record({"ttl": "${var.ttl}"})])
	some f in result
	contains(f.message, "cannot be computed: DNS TTL")
}

test_resolver_allowance_comes_from_settings if {
	result := dr_rto_01.deny with input as harness.normalise({"resources": _fast_dns})
		with data.settings as object.union(_settings, {"dns_resolver_allowance_seconds": 40})
	some f in result
	contains(f.message, "takes 65 s")
	contains(f.message, "slowest stage: resolver allowance 40 s")
}

# --- the promotion path --------------------------------------------------------

_global := _res("aws_rds_global_cluster", "g", "us-east-1", {"global_cluster_identifier": "dr-global"})

_east := _res("aws_rds_cluster", "east", "us-east-1", {"engine": "aurora-postgresql", "global_cluster_identifier": "${aws_rds_global_cluster.g.id}"})

_west := _res("aws_rds_cluster", "west", "us-west-2", {"engine": "aurora-postgresql", "global_cluster_identifier": "${aws_rds_global_cluster.g.id}"})

_function(environment) := _res("aws_lambda_function", "failover", "us-west-2", {"function_name": "failover", "role": "${aws_iam_role.failover.arn}", "environment": {"variables": environment}})

_role := _res("aws_iam_role", "failover", "us-east-1", {"name": "failover"})

_grant := _res("aws_iam_role_policy", "grant", "us-east-1", {
	"role": "${aws_iam_role.failover.id}",
	"policy": "${jsonencode({\"Statement\" = [{\"Effect\" = \"Allow\", \"Action\" = \"rds:FailoverGlobalCluster\", \"Resource\" = [aws_rds_global_cluster.g.arn, aws_rds_cluster.west.arn]}]})}",
})

_alarm(values) := _res("aws_cloudwatch_metric_alarm", "primary", "us-east-1", object.union({
	"namespace": "AWS/Route53", "metric_name": "HealthCheckStatus", "comparison_operator": "LessThanThreshold", "threshold": 1,
	"period": 60, "evaluation_periods": 1, "dimensions": {"HealthCheckId": "${aws_route53_health_check.p.id}"},
	"alarm_actions": ["${aws_sns_topic.alerts.arn}"],
}, values))

_topic := _res("aws_sns_topic", "alerts", "us-east-1", {"name": "alerts"})

_subscription := _res("aws_sns_topic_subscription", "failover", "us-east-1", {"protocol": "lambda", "topic_arn": "${aws_sns_topic.alerts.arn}", "endpoint": "${aws_lambda_function.failover.arn}"})

_sns_permission := _res("aws_lambda_permission", "sns", "us-west-2", {"principal": "sns.amazonaws.com", "function_name": "${aws_lambda_function.failover.function_name}", "source_arn": "${aws_sns_topic.alerts.arn}"})

_database := [_global, _east, _west, _role, _grant]

# The design as CDKTF apps often write it: the PRIMARY health alarm -> SNS -> function.
_alarm_design(alarm_values) := array.concat(array.concat(_fast_dns, _database), [
	_alarm(alarm_values), _topic, _subscription, _sns_permission, _function({}),
])

_rule(expression) := _res("aws_cloudwatch_event_rule", "watchdog", "us-west-2", {"schedule_expression": expression})

_target := _res("aws_cloudwatch_event_target", "watchdog", "us-west-2", {"rule": "${aws_cloudwatch_event_rule.watchdog.name}", "arn": "${aws_lambda_function.failover.arn}"})

_events_permission := _res("aws_lambda_permission", "events", "us-west-2", {"principal": "events.amazonaws.com", "function_name": "${aws_lambda_function.failover.function_name}", "source_arn": "${aws_cloudwatch_event_rule.watchdog.arn}"})

_watchdog_design(environment, expression) := array.concat(array.concat(_fast_dns, _database), [
	_function(environment), _rule(expression), _target, _events_permission,
])

test_alarm_triggered_promotion_fails_on_the_alarm_stages if {
	# 60 (one datapoint a minute) + 60 (period x 1) + 60 (action) + 5 + 60 = 245
	result := _deny(_alarm_design({}))
	_addresses(result) == {"aws_rds_global_cluster.g"}
	some f in result
	contains(f.message, "the promotion path takes 245 s")
	contains(f.message, "slowest stage: metric publication 60 s")
}

test_promotion_path_is_published_stage_by_stage if {
	paths := _paths(_alarm_design({}))
	some p in paths
	p.path == "promotion"
	[s.stage | some s in p.stages] == ["metric publication", "alarm evaluation", "alarm action", "invocation", "promotion"]
	[s.seconds | some s in p.stages] == [60, 60, 60, 5, 60]
}

test_more_evaluation_periods_make_it_slower if {
	[p] := [p | some p in _paths(_alarm_design({"evaluation_periods": 3})); p.path == "promotion"]
	p.total == 365
}

test_datapoints_to_alarm_counts_instead_of_evaluation_periods if {
	[p] := [p | some p in _paths(_alarm_design({"evaluation_periods": 5, "datapoints_to_alarm": 2})); p.path == "promotion"]
	p.stages[1].seconds == 120
}

test_a_period_under_a_minute_counts_a_minute_for_an_aws_metric if {
	[p] := [p | some p in _paths(_alarm_design({"period": 10})); p.path == "promotion"]
	p.stages[1].seconds == 60
}

test_watchdog_declaring_its_cadence_is_fast if {
	# 5 x 3 + 5 + 60 = 80: still over 60 s, with the promotion as the slowest stage
	design := _watchdog_design({"PROBE_INTERVAL_SECONDS": "5", "FAILURE_THRESHOLD": "3"}, "rate(1 minute)")
	[p] := [p | some p in _paths(design); p.path == "promotion"]
	p.total == 80
	p.stages[0].stage == "watchdog detection"
	some f in _deny(design)
	contains(f.message, "slowest stage: promotion 60 s")
}

test_watchdog_fits_a_longer_target if {
	design := _watchdog_design({"PROBE_INTERVAL_SECONDS": "5", "FAILURE_THRESHOLD": "3"}, "rate(1 minute)")
	result := dr_rto_01.deny with input as harness.normalise({"resources": design})
		with data.settings as object.union(_settings, {"rto_seconds": 90})
	count(result) == 0
}

test_slower_watchdog_is_slower if {
	design := _watchdog_design({"PROBE_INTERVAL_SECONDS": "30", "FAILURE_THRESHOLD": "3"}, "rate(1 minute)")
	[p] := [p | some p in _paths(design); p.path == "promotion"]
	p.total == 155
}

test_schedule_without_declared_cadence_counts_its_rate if {
	design := _watchdog_design({}, "rate(5 minutes)")
	[p] := [p | some p in _paths(design); p.path == "promotion"]
	p.stages[0] == {"stage": "schedule", "seconds": 300, "source": p.stages[0].source}
	p.total == 365
}

test_fastest_trigger_counts if {
	both := array.concat(_alarm_design({}), [
		_rule("rate(1 minute)"), _target, _events_permission,
		_res("aws_lambda_function", "failover", "us-west-2", {"function_name": "failover", "role": "${aws_iam_role.failover.arn}", "environment": {"variables": {"PROBE_INTERVAL_SECONDS": 5, "FAILURE_THRESHOLD": 3}}}),
	])
	design := [r | some r in both; not _same(r, _function({}))]
	[p] := [p | some p in _paths(design); p.path == "promotion"]
	p.total == 80
}

_same(a, b) if {
	a.type == b.type
	a.name == b.name
	a.values == b.values
}

test_no_trigger_makes_the_promotion_path_unbounded if {
	result := _deny(array.concat(_fast_dns, _database))
	some f in result
	f.address == "aws_rds_global_cluster.g"
	contains(f.message, "the promotion path is unbounded")
}

test_trigger_without_permission_does_not_count if {
	design := [r | some r in _alarm_design({}); r.name != "sns"]
	some f in _deny(design)
	contains(f.message, "the promotion path is unbounded")
}

test_global_cluster_without_secondary_has_no_promotion_path if {
	design := [r | some r in _alarm_design({}); r.name != "west"]
	count([p | some p in _paths(design); p.path == "promotion"]) == 0
}

test_nothing_to_fail_over_is_not_applicable if {
	subjects := dr_rto_01.evaluated with input as harness.normalise({"resources": [_hc({})]}) with data.settings as _settings
	count(subjects) == 0
}

_addresses(result) := {f.address | some f in result}

test_dns_waiting_for_promotion_adds_the_dns_stages_after_it if {
	# The secondary's health check turns healthy only once the database is promoted:
	# 15 + 5 + 60, then 10 x 2 (recovery) + 5 (TTL) + 5 (resolver) = 110 s
	secondary_hc := _res("aws_route53_health_check", "s", "us-east-1", {"request_interval": 10, "failure_threshold": 2})
	secondary := _res("aws_route53_record", "s", "us-east-1", {
		"name": "api.example.com", "type": "CNAME", "ttl": 5, "set_identifier": "secondary",
		"failover_routing_policy": {"type": "SECONDARY"}, "health_check_id": "${aws_route53_health_check.s.id}",
	})
	design := array.concat(_watchdog_design({"PROBE_INTERVAL_SECONDS": "5", "FAILURE_THRESHOLD": "3"}, "rate(1 minute)"), [secondary_hc, secondary])
	paths := dr_rto_01.budget with input as harness.normalise({"resources": design})
		with data.settings as object.union(_settings, {"dns_waits_for_promotion": true})
	[p] := [p | some p in paths; p.path == "promotion then DNS"]
	p.total == 110
	[s.stage | some s in p.stages] == ["watchdog detection", "invocation", "promotion", "secondary health-check recovery", "DNS TTL", "resolver allowance"]
}
