# METADATA
# title: Losing the primary region promotes the secondary database automatically
# description: >-
#   Promotion of the secondary Aurora cluster does not wait for a person.
#   Something the design deploys outside the primary region starts it: a
#   Lambda function in a secondary region of the Aurora global cluster whose
#   role may call rds:FailoverGlobalCluster on that global cluster (or its
#   member clusters) only, never on "*", started by one of: the status alarm
#   of the PRIMARY failover record's health check (AWS/Route53
#   HealthCheckStatus, in us-east-1, the only region with that metric) through
#   an SNS topic of the alarm's region with a lambda subscription and an
#   aws_lambda_permission for sns.amazonaws.com whose source_arn is that
#   topic; the same alarm with the function directly in alarm_actions and a
#   permission for lambda.alarms.cloudwatch.amazonaws.com; an EventBridge rule
#   matching that alarm's state change with the function as target and a
#   permission for events.amazonaws.com; or a watchdog, an EventBridge
#   schedule (aws_cloudwatch_event_rule with schedule_expression, or
#   aws_scheduler_schedule) that invokes the function, with the permission the
#   rule needs. A global cluster without such a function has no automated
#   promotion, which is a finding. An Aurora cluster that belongs to no global
#   cluster has no copy in another region to promote: losing its region loses
#   the database, which is a finding too, never a reason to skip. Not
#   applicable only when the design has no Aurora cluster.
# custom:
#   id: DR-RTO-03
#   severity: high
#   controls:
#     - framework: nist-800-53
#       control: CP-10
#       grade: supports
#       why: Losing the primary region promotes the secondary database without waiting for a person.
#     - framework: soc2
#       control: A1.2
#       grade: supports
#       why: Recovery of the database is automated in the recovery region.
#     - framework: iso-27001
#       control: A.5.30
#       grade: supports
#       why: The database's failover is automated, which the continuity plan can rely on.
#   observes:
#     aws_lambda_function: [region, function_name]
#     aws_sns_topic_subscription: [protocol, topic_arn, endpoint]
#     aws_lambda_permission: [principal, source_arn]
#     aws_cloudwatch_metric_alarm: [metric_name, alarm_actions]
#     aws_cloudwatch_event_rule: [schedule_expression]
#     aws_cloudwatch_event_target: [rule, arn]
#   remediation: >-
#     Join every Aurora cluster to an aws_rds_global_cluster with a member in
#     a second region; deploy a failover function in the secondary region
#     whose role may call rds:FailoverGlobalCluster on that global cluster's
#     and its members' ARNs only, and start it from the PRIMARY health alarm
#     (SNS topic with a lambda subscription and an aws_lambda_permission for
#     sns.amazonaws.com with source_arn = the topic) or from an EventBridge
#     schedule (a watchdog, with a permission for events.amazonaws.com).
package dr.rules.dr_rto_03

import data.dr.lib
import data.dr.recovery as rec

evaluated contains lib.subject(g) if some g in rec.global_clusters

evaluated contains lib.subject(c) if some c in rec.aurora_clusters

evaluated contains lib.subject(fn) if {
	some k, _ in rec.failover_grants
	fn := lib.by_key[k]
}

# --- something must be promotable ----------------------------------------------

deny contains lib.finding(rego.metadata.chain(), c, msg) if {
	some c in rec.aurora_clusters
	not rec.global_of(c)
	msg := "the Aurora cluster belongs to no global cluster: it has no copy in another region to promote, so losing its region loses the database; expected it joined (global_cluster_identifier) to an aws_rds_global_cluster with a member in a second region"
}

# --- a chain must start the promotion ---------------------------------------------

# Chains that reach a function in one of the global cluster's secondary regions.
_reaching(g) := {c | some c in rec.chains; c.function.region in rec.secondary_regions(g)}

# No chain reaches the secondary region at all: reported on the global cluster,
# naming the first missing link. A chain that exists but cannot work is
# reported on its broken link instead (one cause, one finding).
deny contains lib.finding(rego.metadata.chain(), g, msg) if {
	some g in rec.global_clusters
	count(_reaching(g)) == 0
	msg := sprintf("no automated promotion: %s; expected a function in a secondary region allowed %s on this global cluster, started by the PRIMARY health alarm (through SNS, directly or through EventBridge) or by an EventBridge schedule", [_gap(g), rec.failover_action])
}

_primary_alarm_topics := {t | some a in rec.primary_alarms; some t in rec.alarm_topics(a); t.region == a.region}

_gap(g) := sprintf("the global cluster has no member cluster outside its primary region %s", [g.region]) if {
	count(rec.secondary_members(g)) == 0
} else := "no PRIMARY failover record has a health check, and no EventBridge schedule starts a function" if {
	count(rec.primary_health_check_keys) == 0
} else := sprintf("no CloudWatch alarm in us-east-1 on AWS/Route53 HealthCheckStatus watches the PRIMARY health check (%s), and no EventBridge schedule starts a function", [rec.listed(rec.primary_health_check_keys)]) if {
	count(rec.primary_alarms) == 0
} else := sprintf("the PRIMARY health alarm (%s) notifies no SNS topic of its region and no function, and no EventBridge schedule starts a function", [rec.addresses(rec.primary_alarms)]) if {
	count(_primary_alarm_topics) == 0
	count(rec.chains) == 0
} else := "no Lambda function subscribes (protocol lambda) to the topic the PRIMARY health alarm notifies, and no EventBridge schedule starts a function" if {
	count(rec.chains) == 0
} else := sprintf("what the PRIMARY health alarm or a schedule starts (%s) runs outside the secondary regions (%s)", [
	rec.addresses({c.function | some c in rec.chains}),
	rec.listed(rec.secondary_regions(g)),
])

# Each link that keeps a chain from working: a permission of the function
# that is almost the right one (another principal, source or region) is
# named itself; with none, the link that cannot call.
deny contains lib.finding(rego.metadata.chain(), c.link, msg) if {
	some g in rec.global_clusters
	some c in _reaching(g)
	not c.complete
	count(_near_misses(c)) == 0
	msg := sprintf(
		"%s cannot invoke %s: no aws_lambda_permission in %s for principal %s with source_arn %s; expected one",
		[_what(c), lib.subject(c.function), c.function.region, c.principal, lib.subject(_source(c))],
	)
}

deny contains lib.finding(rego.metadata.chain(), p, msg) if {
	some g in rec.global_clusters
	some c in _reaching(g)
	not c.complete
	some p in _near_misses(c)
	msg := sprintf(
		"lets principal %v%s invoke %s in %s, so %s cannot: expected principal %s with source_arn %s in %s",
		[
			object.get(p.values, "principal", "(unset)"), _source_of(p), lib.subject(c.function), p.region,
			_what(c), c.principal, lib.subject(_source(c)), c.function.region,
		],
	)
}

# Permissions of the chain's function that serve no working chain: almost the right one.
_near_misses(c) := {p | some p in rec.permissions_of(c.function); not _serves_other_chain(p, c.function)}

# A permission that already serves a complete chain of the same function is not a near miss.
_serves_other_chain(p, fn) if {
	some c in rec.chains
	c.function == fn
	c.complete
	object.get(p.values, "principal", "") == c.principal
}

_source_of(p) := sprintf(" from %s", [concat(", ", sort([lib.subject(s) | some s in lib.mentions(p, ["source_arn"])]))]) if {
	count(lib.mentions(p, ["source_arn"])) > 0
} else := ""

_what(c) := "SNS" if c.kind == "alarm-sns"

_what(c) := "the alarm" if c.kind == "alarm-lambda"

_what(c) := "EventBridge" if c.kind in {"alarm-eventbridge", "schedule"}

_source(c) := c.via if c.via != null

_source(c) := c.trigger if c.via == null

# A function a chain starts that may not promote anything.
deny contains lib.finding(rego.metadata.chain(), fn, msg) if {
	some g in rec.global_clusters
	some c in _reaching(g)
	fn := c.function
	not rec.failover_grants[fn.key]
	msg := sprintf("the function %s starts may not call %s: expected its role to allow it on the global cluster", [lib.subject(c.trigger), rec.failover_action])
}

# A function allowed to promote a global cluster it cannot reach from its region.
deny contains lib.finding(rego.metadata.chain(), fn, msg) if {
	some k, statements in rec.failover_grants
	fn := lib.by_key[k]
	some s in statements
	some i, resource in s.resources
	resource != "*"
	some g in rec.statement_clusters(s, i)
	not fn.region in rec.secondary_regions(g)
	not fn.region in rec.primary_regions
	msg := sprintf("may promote %s, which has no member cluster in the function's region %s: expected the global cluster of this region", [lib.subject(g), fn.region])
}

deny contains lib.finding(rego.metadata.chain(), fn, msg) if {
	some k, _ in rec.failover_grants
	fn := lib.by_key[k]
	fn.region in rec.primary_regions
	not _secondary_somewhere(fn)
	msg := sprintf("the failover function runs in the primary region %s, which it must survive: expected it in a secondary region", [fn.region])
}

_secondary_somewhere(fn) if {
	some g in rec.global_clusters
	fn.region in rec.secondary_regions(g)
}

# --- the grant names one global cluster only -------------------------------------

deny contains lib.finding(rego.metadata.chain(), lib.by_key[s.source], msg) if {
	some k, statements in rec.failover_grants
	fn := lib.by_key[k]
	some s in statements
	some i, resource in s.resources
	count(rec.statement_clusters(s, i)) == 0
	msg := sprintf(
		"allows %s on %v for %s: expected only the ARNs of the global cluster it promotes and its member clusters",
		[rec.failover_action, resource, lib.subject(fn)],
	)
}

deny contains lib.finding(rego.metadata.chain(), lib.by_key[s.source], msg) if {
	some _, statements in rec.failover_grants
	some s in statements
	count(s.resources) == 0
	msg := sprintf("allows %s without naming a resource: expected the global cluster's ARN", [rec.failover_action])
}

deny contains lib.finding(rego.metadata.chain(), fn, msg) if {
	some k, _ in rec.failover_grants
	fn := lib.by_key[k]
	clusters := rec.promotable(fn)
	count(clusters) > 1
	msg := sprintf("may call %s on several global clusters (%s): expected the one it promotes only", [rec.failover_action, rec.addresses(clusters)])
}
