package dr.rules.dr_rto_03_test

import data.dr.rules.dr_rto_03

# One stack; provider-6 `region` arguments put the secondary side in us-west-2.
_res(type, name, region, values) := {"stack": "dr", "type": type, "name": name, "address": sprintf("%s.%s", [type, name]), "region": region, "values": values}

_global := _res("aws_rds_global_cluster", "g", "us-east-1", {"global_cluster_identifier": "dr-global"})

_east := _res("aws_rds_cluster", "east", "us-east-1", {"cluster_identifier": "dr-east", "global_cluster_identifier": "${aws_rds_global_cluster.g.id}"})

_west := _res("aws_rds_cluster", "west", "us-west-2", {"region": "us-west-2", "cluster_identifier": "dr-west", "global_cluster_identifier": "${aws_rds_global_cluster.g.id}"})

_check := _res("aws_route53_health_check", "east", "us-east-1", {"type": "HTTPS", "fqdn": "api-east.example.com", "resource_path": "/health"})

_record := _res("aws_route53_record", "primary", "us-east-1", {"name": "api", "failover_routing_policy": {"type": "PRIMARY"}, "set_identifier": "p", "health_check_id": "${aws_route53_health_check.east.id}", "ttl": 5})

_alarm := _res("aws_cloudwatch_metric_alarm", "primary_health", "us-east-1", {
	"namespace": "AWS/Route53", "metric_name": "HealthCheckStatus",
	"dimensions": {"HealthCheckId": "${aws_route53_health_check.east.id}"},
	"alarm_actions": ["${aws_sns_topic.alerts.arn}"],
})

_topic := _res("aws_sns_topic", "alerts", "us-east-1", {"kms_master_key_id": "${aws_kms_key.k.arn}"})

_subscription := _res("aws_sns_topic_subscription", "failover", "us-east-1", {"protocol": "lambda", "topic_arn": "${aws_sns_topic.alerts.arn}", "endpoint": "${aws_lambda_function.failover.arn}"})

_function := _res("aws_lambda_function", "failover", "us-west-2", {"region": "us-west-2", "function_name": "failover", "role": "${aws_iam_role.failover.arn}"})

_permission := _res("aws_lambda_permission", "sns", "us-west-2", {
	"region": "us-west-2", "action": "lambda:InvokeFunction", "principal": "sns.amazonaws.com",
	"function_name": "${aws_lambda_function.failover.function_name}", "source_arn": "${aws_sns_topic.alerts.arn}",
})

_role := _res("aws_iam_role", "failover", "us-east-1", {"name": "failover"})

_role_policy := _res("aws_iam_role_policy", "grants", "us-east-1", {"role": "${aws_iam_role.failover.id}", "policy": "${data.aws_iam_policy_document.grants.json}"})

_document(resources) := {"stack": "dr", "type": "aws_iam_policy_document", "name": "grants", "address": "data.aws_iam_policy_document.grants", "region": "us-east-1", "values": {"statement": [{
	"sid": "Promote",
	"actions": ["rds:FailoverGlobalCluster", "rds:DescribeGlobalClusters"],
	"resources": resources,
}]}}

_scoped := _document(["${aws_rds_global_cluster.g.arn}", "${aws_rds_cluster.west.arn}"])

_base := [_global, _east, _west, _check, _record, _alarm, _topic, _subscription, _function, _permission, _role, _role_policy]

_deny(resources, documents) := result if {
	result := dr_rto_03.deny with input as harness.normalise({"resources": resources, "data_sources": documents, "remote_outputs": {}, "stacks": []})
}

_without(resources, address) := [r | some r in resources; r.address != address]

_addresses(result) := {f.address | some f in result}

test_promotion_chain_passes if {
	count(_deny(_base, [_scoped])) == 0
}

test_evaluated_lists_global_cluster_and_function if {
	subjects := dr_rto_03.evaluated with input as harness.normalise({"resources": _base, "data_sources": [_scoped], "remote_outputs": {}})
	subjects == {"dr/aws_rds_global_cluster.g", "dr/aws_rds_cluster.east", "dr/aws_rds_cluster.west", "dr/aws_lambda_function.failover"}
}

test_permission_removed_fails_on_subscription if {
	result := _deny(_without(_base, "aws_lambda_permission.sns"), [_scoped])
	_addresses(result) == {"aws_sns_topic_subscription.failover"}
	some f in result
	contains(f.message, "SNS cannot invoke dr/aws_lambda_function.failover")
}

test_permission_in_the_wrong_region_fails if {
	east := object.union(_permission, {"region": "us-east-1", "values": {"region": "us-east-1"}})
	result := _deny(array.concat(_without(_base, "aws_lambda_permission.sns"), [east]), [_scoped])
	# The permission that is almost right is named, with what it lacks.
	_addresses(result) == {"aws_lambda_permission.sns"}
	some f in result
	contains(f.message, "invoke dr/aws_lambda_function.failover in us-east-1")
	contains(f.message, "in us-west-2")
}

test_permission_for_another_principal_is_named if {
	wrong := object.union(_permission, {"values": {"principal": "cloudwatch.amazonaws.com"}})
	result := _deny(array.concat(_without(_base, "aws_lambda_permission.sns"), [wrong]), [_scoped])
	_addresses(result) == {"aws_lambda_permission.sns"}
	some f in result
	contains(f.message, "lets principal cloudwatch.amazonaws.com")
}

test_grant_on_any_resource_fails_on_the_document if {
	result := _deny(_base, [_document(["*"])])
	_addresses(result) == {"data.aws_iam_policy_document.grants"}
	some f in result
	contains(f.message, "on * for dr/aws_lambda_function.failover")
}

test_grant_without_resources_fails if {
	result := _deny(_base, [_document([])])
	some f in result
	contains(f.message, "without naming a resource")
}

test_arn_literal_naming_the_cluster_is_in_scope if {
	arn := "arn:aws:rds::${data.aws_caller_identity.c.account_id}:global-cluster:dr-global"
	member := "arn:aws:rds:us-west-2:${data.aws_caller_identity.c.account_id}:cluster:dr-west"
	count(_deny(_base, [_document([arn, member])])) == 0
}

test_grant_on_another_global_cluster_fails if {
	other := _res("aws_rds_global_cluster", "other", "us-east-1", {"global_cluster_identifier": "other"})
	result := _deny(array.concat(_base, [other]), [_document(["${aws_rds_global_cluster.other.arn}"])])
	# The other global cluster has no secondary member: no promotion either.
	_addresses(result) == {"aws_lambda_function.failover", "aws_rds_global_cluster.other"}
	some f in result
	contains(f.message, "may promote dr/aws_rds_global_cluster.other, which has no member cluster in the function's region us-west-2")
}

test_grant_on_two_global_clusters_fails if {
	other := _res("aws_rds_global_cluster", "other", "us-east-1", {"global_cluster_identifier": "other"})
	result := _deny(array.concat(_base, [other]), [_document(["${aws_rds_global_cluster.g.arn}", "${aws_rds_global_cluster.other.arn}"])])
	some f in result
	contains(f.message, "on several global clusters")
}

test_inline_json_policy_is_read if {
	policy := json.marshal({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "rds:*", "Resource": "*"}]})
	inline := object.union(_role_policy, {"values": {"policy": policy}})
	result := _deny(array.concat(_without(_base, "aws_iam_role_policy.grants"), [inline]), [])
	_addresses(result) == {"aws_iam_role_policy.grants"}
}

test_attached_managed_policy_is_read if {
	policy := _res("aws_iam_policy", "promote", "us-east-1", {"policy": json.marshal({"Statement": {"Effect": "Allow", "Action": ["rds:FailoverGlobalCluster"], "Resource": ["*"]}})})
	attachment := _res("aws_iam_role_policy_attachment", "promote", "us-east-1", {"role": "${aws_iam_role.failover.name}", "policy_arn": "${aws_iam_policy.promote.arn}"})
	result := _deny(array.concat(_without(_base, "aws_iam_role_policy.grants"), [policy, attachment]), [])
	_addresses(result) == {"aws_iam_policy.promote"}
}

test_function_without_the_grant_fails if {
	result := _deny(_without(_base, "aws_iam_role_policy.grants"), [])
	_addresses(result) == {"aws_lambda_function.failover"}
	some f in result
	contains(f.message, "may not call rds:FailoverGlobalCluster")
}

test_no_alarm_on_the_primary_check_fails_on_the_global_cluster if {
	result := _deny(_without(_base, "aws_cloudwatch_metric_alarm.primary_health"), [_scoped])
	_addresses(result) == {"aws_rds_global_cluster.g"}
	some f in result
	contains(f.message, "no CloudWatch alarm in us-east-1")
}

test_alarm_without_topic_fails if {
	silent := json.patch(_alarm, [{"op": "replace", "path": "/values/alarm_actions", "value": []}])
	result := _deny(array.concat(_without(_base, "aws_cloudwatch_metric_alarm.primary_health"), [silent]), [_scoped])
	some f in result
	contains(f.message, "notifies no SNS topic")
}

test_no_subscription_fails if {
	result := _deny(_without(_base, "aws_sns_topic_subscription.failover"), [_scoped])
	some f in result
	contains(f.message, "no Lambda function subscribes")
}

test_no_primary_record_fails if {
	result := _deny(_without(_base, "aws_route53_record.primary"), [_scoped])
	some f in result
	contains(f.message, "no PRIMARY failover record has a health check")
}

test_no_secondary_member_fails if {
	result := _deny(_without(_base, "aws_rds_cluster.west"), [_scoped])
	some f in result
	f.address == "aws_rds_global_cluster.g"
	contains(f.message, "no member cluster outside its primary region us-east-1")
}

test_function_in_primary_region_fails if {
	east := object.union(_function, {"region": "us-east-1", "values": {"region": "us-east-1"}})
	result := _deny(array.concat(_without(_base, "aws_lambda_function.failover"), [east]), [_scoped])
	_addresses(result) == {"aws_lambda_function.failover", "aws_rds_global_cluster.g"}
	some f in result
	contains(f.message, "runs in the primary region us-east-1")
}

test_cross_stack_function_passes if {
	# Per-region stacks: the global stack subscribes the secondary stack's
	# function through CDKTF remote state.
	remote := "${data.terraform_remote_state.cross-stack-reference-input-secondary.outputs.fn_arn}"
	remote_name := "${data.terraform_remote_state.cross-stack-reference-input-secondary.outputs.fn_name}"
	secondary := {r |
		some x in [_function, _role, _role_policy]
		r := object.union(x, {"stack": "secondary"})
	}
	subscription := object.union(_subscription, {"values": {"endpoint": remote}})
	permission := object.union(_permission, {"values": {"function_name": remote_name}})
	rest := [r |
		some r in _base
		not r.address in {"aws_lambda_function.failover", "aws_iam_role.failover", "aws_iam_role_policy.grants", "aws_sns_topic_subscription.failover", "aws_lambda_permission.sns"}
	]
	document := object.union(_document(["${aws_rds_global_cluster.g.arn}"]), {"stack": "secondary"})
	outputs := {"dr": {"cross-stack-reference-input-secondary": {"stack": "secondary", "outputs": {
		"fn_arn": "${aws_lambda_function.failover.arn}",
		"fn_name": "${aws_lambda_function.failover.function_name}",
	}}}, "secondary": {"cross-stack-reference-input-dr": {"stack": "dr", "outputs": {"g": "${aws_rds_global_cluster.g.arn}"}}}}
	resources := array.concat(array.concat(rest, [subscription, permission]), [r | some r in secondary])
	result := dr_rto_03.deny with input as harness.normalise({"resources": resources, "data_sources": [document], "remote_outputs": outputs})
	# The document in the secondary stack names the global cluster of stack dr
	# by a local reference that does not resolve there: out of scope.
	_addresses(result) == {"data.aws_iam_policy_document.grants"}
	remote_doc := object.union(document, {"values": {"statement": [{"actions": ["rds:FailoverGlobalCluster"], "resources": ["${data.terraform_remote_state.cross-stack-reference-input-dr.outputs.g}"]}]}})
	passing := dr_rto_03.deny with input as harness.normalise({"resources": resources, "data_sources": [remote_doc], "remote_outputs": outputs})
	count(passing) == 0
}

test_no_global_cluster_is_not_applicable if {
	subjects := dr_rto_03.evaluated with input as harness.normalise({"resources": [_check, _record], "data_sources": [], "remote_outputs": {}})
	count(subjects) == 0
}


# --- Aurora without a global cluster, and other triggers ---------------------------

test_aurora_cluster_in_no_global_cluster_fails if {
	lonely := _res("aws_rds_cluster", "solo", "us-east-1", {"engine": "aurora-postgresql", "cluster_identifier": "solo"})
	result := _deny([lonely], [])
	_addresses(result) == {"aws_rds_cluster.solo"}
	some f in result
	contains(f.message, "belongs to no global cluster")
}

test_non_aurora_database_is_not_applicable if {
	instance := _res("aws_db_instance", "db", "us-east-1", {"engine": "postgres"})
	subjects := dr_rto_03.evaluated with input as harness.normalise({"resources": [instance]})
	count(subjects) == 0
}

_rule := _res("aws_cloudwatch_event_rule", "watchdog", "us-west-2", {"region": "us-west-2", "schedule_expression": "rate(1 minute)"})

_target := _res("aws_cloudwatch_event_target", "watchdog", "us-west-2", {"region": "us-west-2", "rule": "${aws_cloudwatch_event_rule.watchdog.name}", "arn": "${aws_lambda_function.failover.arn}"})

_events_permission := _res("aws_lambda_permission", "events", "us-west-2", {
	"region": "us-west-2", "action": "lambda:InvokeFunction", "principal": "events.amazonaws.com",
	"function_name": "${aws_lambda_function.failover.function_name}", "source_arn": "${aws_cloudwatch_event_rule.watchdog.arn}",
})

# A watchdog alone: no alarm, no topic, no subscription.
_watchdog := [_global, _east, _west, _function, _role, _role_policy, _rule, _target, _events_permission]

test_watchdog_schedule_alone_passes if {
	count(_deny(_watchdog, [_scoped])) == 0
}

test_watchdog_without_permission_fails_on_the_rule if {
	result := _deny(_without(_watchdog, "aws_lambda_permission.events"), [_scoped])
	_addresses(result) == {"aws_cloudwatch_event_rule.watchdog"}
	some f in result
	contains(f.message, "EventBridge cannot invoke dr/aws_lambda_function.failover")
}

test_alarm_invoking_the_function_directly_passes if {
	direct := json.patch(_alarm, [{"op": "replace", "path": "/values/alarm_actions", "value": ["${aws_lambda_function.failover.arn}"]}])
	permission := _res("aws_lambda_permission", "alarm", "us-west-2", {
		"region": "us-west-2", "principal": "lambda.alarms.cloudwatch.amazonaws.com",
		"function_name": "${aws_lambda_function.failover.function_name}", "source_arn": "${aws_cloudwatch_metric_alarm.primary_health.arn}",
	})
	base := [r | some r in _base; not r.address in {"aws_cloudwatch_metric_alarm.primary_health", "aws_lambda_permission.sns", "aws_sns_topic_subscription.failover"}]
	count(_deny(array.concat(base, [direct, permission]), [_scoped])) == 0
}

test_eventbridge_rule_on_the_alarm_state_change_passes if {
	pattern := "{\"source\":[\"aws.cloudwatch\"],\"detail-type\":[\"CloudWatch Alarm State Change\"],\"detail\":{\"alarmName\":[\"${aws_cloudwatch_metric_alarm.primary_health.alarm_name}\"]}}"
	rule := _res("aws_cloudwatch_event_rule", "on_alarm", "us-west-2", {"region": "us-west-2", "event_pattern": pattern})
	target := _res("aws_cloudwatch_event_target", "on_alarm", "us-west-2", {"region": "us-west-2", "rule": "${aws_cloudwatch_event_rule.on_alarm.name}", "arn": "${aws_lambda_function.failover.arn}"})
	permission := _res("aws_lambda_permission", "rule", "us-west-2", {
		"region": "us-west-2", "principal": "events.amazonaws.com",
		"function_name": "${aws_lambda_function.failover.function_name}", "source_arn": "${aws_cloudwatch_event_rule.on_alarm.arn}",
	})
	base := [r | some r in _base; not r.address in {"aws_lambda_permission.sns", "aws_sns_topic_subscription.failover"}]
	count(_deny(array.concat(base, [rule, target, permission]), [_scoped])) == 0
}

test_jsonencode_grant_is_read if {
	policy := "${jsonencode({\"Statement\" = [{\"Effect\" = \"Allow\", \"Action\" = [\"rds:FailoverGlobalCluster\"], \"Resource\" = [aws_rds_global_cluster.g.arn, aws_rds_cluster.west.arn]}]})}"
	inline := object.union(_role_policy, {"values": {"policy": policy}})
	count(_deny(array.concat(_without(_base, "aws_iam_role_policy.grants"), [inline]), [])) == 0
}
