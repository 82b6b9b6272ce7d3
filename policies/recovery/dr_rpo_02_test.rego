package dr.rules.dr_rpo_02_test

import data.dr.rules.dr_rpo_02

# A team whose RPO is 5 minutes: an alarm may take half of it (150 s).
_settings := {"rpo_seconds": 300, "rpo_alarm_fraction": 0.5}

# One stack with aliased providers: aws (us-east-1) and aws.secondary (us-west-2).
_res(type, name, region, values) := {"stack": "dr", "type": type, "name": name, "address": sprintf("%s.%s", [type, name]), "region": region, "values": values}

_global := _res("aws_rds_global_cluster", "g", "us-east-1", {"global_cluster_identifier": "dr-global"})

_east := _res("aws_rds_cluster", "east", "us-east-1", {"cluster_identifier": "dr-east", "global_cluster_identifier": "${aws_rds_global_cluster.g.id}"})

_west := _res("aws_rds_cluster", "west", "us-west-2", {"provider": "aws.secondary", "cluster_identifier": "dr-west", "global_cluster_identifier": "${aws_rds_global_cluster.g.id}"})

_west_topic := _res("aws_sns_topic", "west", "us-west-2", {"provider": "aws.secondary"})

_east_topic := _res("aws_sns_topic", "east", "us-east-1", {})

_lag := _res("aws_cloudwatch_metric_alarm", "lag", "us-west-2", {
	"provider": "aws.secondary", "namespace": "AWS/RDS", "metric_name": "AuroraGlobalDBReplicationLag",
	"dimensions": {"DBClusterIdentifier": "${aws_rds_cluster.west.cluster_identifier}"},
	"comparison_operator": "GreaterThanThreshold", "threshold": 1000, "period": 60, "evaluation_periods": 1,
	"alarm_actions": ["${aws_sns_topic.west.arn}"],
})

_table := _res("aws_dynamodb_table", "t", "us-east-1", {"name": "sessions", "replica": [{"region_name": "us-west-2"}]})

_latency := _res("aws_cloudwatch_metric_alarm", "latency", "us-east-1", {
	"namespace": "AWS/DynamoDB", "metric_name": "ReplicationLatency",
	"dimensions": {"TableName": "${aws_dynamodb_table.t.name}", "ReceivingRegion": "us-west-2"},
	"comparison_operator": "GreaterThanThreshold", "threshold": 1000, "period": 60, "evaluation_periods": 1,
	"alarm_actions": ["${aws_sns_topic.east.arn}"],
})

_base := [_global, _east, _west, _west_topic, _east_topic, _lag, _table, _latency]

_deny(resources) := result if {
	result := dr_rpo_02.deny with input as harness.normalise({"resources": resources, "remote_outputs": {}, "stacks": []})
		with data.settings as _settings
}

_replace(resources, replacement) := array.concat([r | some r in resources; r.address != replacement.address], [replacement])

_without(resources, address) := [r | some r in resources; r.address != address]

_addresses(result) := {f.address | some f in result}

_messages(result) := {f.message | some f in result}

test_watched_replication_passes if {
	count(_deny(_base)) == 0
}

test_evaluated_lists_alarms_member_and_table if {
	subjects := dr_rpo_02.evaluated with input as harness.normalise({"resources": _base, "remote_outputs": {}})
	subjects == {"dr/aws_cloudwatch_metric_alarm.lag", "dr/aws_cloudwatch_metric_alarm.latency", "dr/aws_rds_cluster.west", "dr/aws_dynamodb_table.t"}
}

test_lag_threshold_above_rpo_fails if {
	result := _deny(_replace(_base, object.union(_lag, {"values": {"threshold": 120000}})))
	_addresses(result) == {"aws_cloudwatch_metric_alarm.lag"}
	some m in _messages(result)
	contains(m, "fires when 180 s of writes are already at risk (threshold 120000 ms + 1 datapoint(s) x period 60 s")
	contains(m, "more than 0.5 of the 300 s RPO (150 s)")
}

test_rpo_target_comes_from_settings if {
	# With a 5 s RPO no one-minute alarm fires in time: 1 + 60 > 2.5.
	result := dr_rpo_02.deny with input as harness.normalise({"resources": _base, "remote_outputs": {}}) with data.settings as {"rpo_seconds": 5}
	_addresses(result) == {"aws_cloudwatch_metric_alarm.lag", "aws_cloudwatch_metric_alarm.latency"}
}

test_lag_alarm_in_the_primary_region_fails if {
	moved := object.union(_lag, {"region": "us-east-1", "values": {"provider": null, "alarm_actions": ["${aws_sns_topic.east.arn}"]}})
	result := _deny(_replace(_base, moved))
	"aws_cloudwatch_metric_alarm.lag" in _addresses(result)
	some m in _messages(result)
	contains(m, "the alarm is in us-east-1 but dr/aws_rds_cluster.west publishes its lag in us-west-2")
}

test_lag_alarm_on_the_primary_cluster_fails if {
	pointed := object.union(_lag, {"values": {"dimensions": {"DBClusterIdentifier": "dr-east"}}})
	result := _deny(_replace(_base, pointed))
	_addresses(result) == {"aws_cloudwatch_metric_alarm.lag", "aws_rds_cluster.west"}
	some m in _messages(result)
	contains(m, "watches dr/aws_rds_cluster.east, which is not a secondary member")
}

test_lag_alarm_on_an_unknown_cluster_fails if {
	unknown := object.union(_lag, {"values": {"dimensions": {"DBClusterIdentifier": "somewhere-else"}}})
	some m in _messages(_deny(_replace(_base, unknown)))
	contains(m, "names no Aurora cluster of this design")
}

test_lag_alarm_removed_fails_on_the_member if {
	result := _deny(_without(_base, "aws_cloudwatch_metric_alarm.lag"))
	_addresses(result) == {"aws_rds_cluster.west"}
}

test_alarm_without_topic_or_wrong_direction_fails if {
	silent := object.union(_lag, {"values": {"alarm_actions": [], "comparison_operator": "LessThanThreshold"}})
	messages := _messages(_deny(_replace(_base, silent)))
	some m in messages
	contains(m, "alarm_actions notify no SNS topic")
	some n in messages
	contains(n, "comparison_operator LessThanThreshold never fires")
}

test_latency_alarm_on_wrong_receiving_region_fails if {
	wrong := object.union(_latency, {"values": {"dimensions": {"ReceivingRegion": "eu-west-1"}}})
	result := _deny(_replace(_base, wrong))
	_addresses(result) == {"aws_cloudwatch_metric_alarm.latency", "aws_dynamodb_table.t"}
	some m in _messages(result)
	contains(m, "ReceivingRegion eu-west-1 is not a replica region of dr/aws_dynamodb_table.t seen from us-east-1")
}

test_latency_alarm_receiving_its_own_region_fails if {
	own := object.union(_latency, {"values": {"dimensions": {"ReceivingRegion": "us-east-1"}}})
	"aws_cloudwatch_metric_alarm.latency" in _addresses(_deny(_replace(_base, own)))
}

test_latency_alarm_outside_the_table_region_fails if {
	moved := object.union(_latency, {"region": "us-west-2", "values": {"alarm_actions": ["${aws_sns_topic.west.arn}"], "dimensions": {"ReceivingRegion": "us-east-1"}}})
	result := _deny(_replace(_base, moved))
	some m in _messages(result)
	contains(m, "expected the alarm in the table's region")
}

test_latency_alarm_by_literal_table_name_passes if {
	literal := object.union(_latency, {"values": {"dimensions": {"TableName": "sessions"}}})
	count(_deny(_replace(_base, literal))) == 0
}

test_latency_alarm_on_unknown_table_fails if {
	unknown := object.union(_latency, {"values": {"dimensions": {"TableName": "other"}}})
	result := _deny(_replace(_base, unknown))
	some m in _messages(result)
	contains(m, "names no DynamoDB table of this design")
}

test_latency_alarm_removed_fails_on_the_table if {
	result := _deny(_without(_base, "aws_cloudwatch_metric_alarm.latency"))
	_addresses(result) == {"aws_dynamodb_table.t"}
}

test_separate_replica_resource_needs_its_alarm if {
	table := json.remove(_table, ["values/replica"])
	replica := _res("aws_dynamodb_table_replica", "eu", "eu-west-1", {"region": "eu-west-1", "global_table_arn": "${aws_dynamodb_table.t.arn}"})
	result := _deny(array.concat(_replace(_base, table), [replica]))
	some m in _messages(result)
	contains(m, "towards eu-west-1")
}

test_nothing_replicated_is_not_applicable if {
	subjects := dr_rpo_02.evaluated with input as harness.normalise({"resources": [_east_topic], "remote_outputs": {}})
	count(subjects) == 0
}

test_topic_of_another_region_does_not_count if {
	cross := object.union(_lag, {"values": {"alarm_actions": ["${aws_sns_topic.east.arn}"]}})
	result := _deny(_replace(_base, cross))
	some m in _messages(result)
	contains(m, "notify no SNS topic in the alarm's region us-west-2")
}

test_replica_without_region_is_reported_not_an_error if {
	table := json.remove(_table, ["values/replica/0/region_name"])
	result := _deny(_replace(_base, table))
	some m in _messages(result)
	contains(m, "(replicas: null)")
}

test_more_evaluation_periods_are_slower if {
	# 1 + 3 x 60 = 181 > 150
	result := _deny(_replace(_base, object.union(_lag, {"values": {"evaluation_periods": 3}})))
	some m in _messages(result)
	contains(m, "fires when 181 s")
}

test_datapoints_to_alarm_count_instead_of_evaluation_periods if {
	count(_deny(_replace(_base, object.union(_lag, {"values": {"evaluation_periods": 5, "datapoints_to_alarm": 1}})))) == 0
}

test_a_period_under_a_minute_counts_a_minute if {
	# AWS/RDS publishes once a minute: a 10 s period does not make the alarm faster.
	result := dr_rpo_02.deny with input as harness.normalise({"resources": _replace(_base, object.union(_lag, {"values": {"period": 10}}))})
		with data.settings as {"rpo_seconds": 100}
	some m in _messages(result)
	contains(m, "fires when 61 s")
}

test_computed_threshold_is_reported if {
	result := _deny(_replace(_base, object.union(_lag, {"values": {"threshold": "${var.lag_ms}"}})))
	some m in _messages(result)
	contains(m, "is not a literal number")
}
