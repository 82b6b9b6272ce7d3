# METADATA
# title: Every health check raises an alarm to an encrypted topic, silence included
# description: >-
#   A region that goes down must be noticed by people, not only by DNS. Each
#   Route 53 health check has a status alarm (AWS/Route53 HealthCheckStatus,
#   firing when the status drops below 1) in us-east-1, the only region where
#   Route 53 publishes the metric; the alarm notifies an SNS topic of its own
#   region encrypted with a KMS key (kms_master_key_id), and treats missing
#   data as breaching, because a health check that stops reporting is a
#   failure too.
# custom:
#   id: DR-MON-01
#   severity: medium
#   controls:
#     - framework: nist-800-53
#       control: SI-4
#       grade: supports
#       why: Every health check raises an alarm, also when it stops reporting; who reads the alarm is outside the configuration.
#     - framework: soc2
#       control: CC7.2
#       grade: supports
#       why: A region that stops answering raises an alarm on an encrypted topic.
#     - framework: iso-27001
#       control: A.8.16
#       grade: supports
#       why: The health of each region is monitored and alarmed.
#   observes:
#     aws_cloudwatch_metric_alarm: [region, namespace, metric_name, dimensions, comparison_operator, threshold, treat_missing_data, alarm_actions]
#     aws_sns_topic: [kms_master_key_id]
#   remediation: >-
#     For each aws_route53_health_check, create in us-east-1 an
#     aws_cloudwatch_metric_alarm on AWS/Route53 HealthCheckStatus with
#     dimensions.HealthCheckId = the check's id, comparison_operator
#     LessThanThreshold, threshold 1, treat_missing_data = "breaching" and
#     alarm_actions = an aws_sns_topic with kms_master_key_id set.
package dr.rules.dr_mon_01

import data.dr.lib
import data.dr.recovery as rec

# Route 53 publishes health-check metrics in us-east-1 only.
_metrics_region := "us-east-1"

_health_checks := lib.resources("aws_route53_health_check")

_status_alarms := rec.alarms("AWS/Route53", "HealthCheckStatus")

# The health checks an alarm watches: its HealthCheckId dimension's
# reference, or one per entry of a for_each over several checks.
_checked(alarm) := {hc |
	some hc in lib.mentions(alarm, ["dimensions", "HealthCheckId"])
	hc.type == "aws_route53_health_check"
}

# What keeps an alarm from reporting its health check's failure.
_problems(alarm) := {p |
	some p in [
		_region_problem(alarm),
		_missing_data_problem(alarm),
		_direction_problem(alarm),
		_topic_problem(alarm),
	]
	p != ""
}

_region_problem(alarm) := "" if {
	alarm.region == _metrics_region
} else := sprintf("the alarm is in %v, where Route 53 publishes no HealthCheckStatus: expected %s", [alarm.region, _metrics_region])

_missing_data_problem(alarm) := "" if {
	object.get(alarm.values, "treat_missing_data", "missing") == "breaching"
} else := sprintf("treat_missing_data is %v: a health check that stops reporting would stay silent; expected breaching", [object.get(alarm.values, "treat_missing_data", "unset (missing)")])

# HealthCheckStatus is 1 (healthy) or 0 (unhealthy): the alarm fires below 1.
_direction_problem(alarm) := "" if {
	alarm.values.comparison_operator == "LessThanThreshold"
	threshold := lib.num(alarm.values.threshold)
	threshold > 0
	threshold <= 1
} else := "" if {
	alarm.values.comparison_operator == "LessThanOrEqualToThreshold"
	threshold := lib.num(alarm.values.threshold)
	threshold >= 0
	threshold < 1
} else := sprintf("comparison_operator %v with threshold %v does not fire when the status drops to 0: expected LessThanThreshold 1", [
	object.get(alarm.values, "comparison_operator", "(unset)"),
	object.get(alarm.values, "threshold", "(unset)"),
])

_topic_problem(alarm) := "" if {
	some t in rec.alarm_topics(alarm)
	t.region == alarm.region
} else := "alarm_actions notify no SNS topic of the alarm's region: expected one"

_encrypted(topic) if {
	key := object.get(topic.values, "kms_master_key_id", "")
	is_string(key)
	key != ""
}

evaluated contains lib.subject(r) if some r in _health_checks

evaluated contains lib.subject(r) if some r in _status_alarms

deny contains lib.finding(rego.metadata.chain(), alarm, msg) if {
	some alarm in _status_alarms
	some problem in _problems(alarm)
	msg := problem
}

deny contains lib.finding(rego.metadata.chain(), alarm, msg) if {
	some alarm in _status_alarms
	count(_checked(alarm)) == 0
	msg := sprintf("dimensions.HealthCheckId %v names no health check of this design: the metric never arrives", [rec.dimension(alarm, "HealthCheckId")])
}

deny contains lib.finding(rego.metadata.chain(), alarm, msg) if {
	some alarm in _status_alarms
	some topic in rec.alarm_topics(alarm)
	topic.region == alarm.region
	not _encrypted(topic)
	msg := sprintf("the alarm notifies %s, which is not encrypted (no kms_master_key_id): expected a topic encrypted with a KMS key", [lib.subject(topic)])
}

# A health check no status alarm watches at all. An alarm that watches it but
# is wrong is reported on the alarm (one cause, one finding).
deny contains lib.finding(rego.metadata.chain(), hc, msg) if {
	some hc in _health_checks
	not hc.key in _watched
	msg := "no status alarm (AWS/Route53 HealthCheckStatus in us-east-1) watches this health check: an unhealthy region goes unnoticed"
}

_watched contains hc.key if {
	some alarm in _status_alarms
	some hc in _checked(alarm)
}
