# METADATA
# title: Losing the primary region promotes the secondary database automatically
# description: >-
#   Promotion of the secondary Aurora cluster does not wait for a person. The
#   status alarm of the PRIMARY record's health check (AWS/Route53
#   HealthCheckStatus, in us-east-1) notifies an SNS topic; a Lambda function
#   in a secondary region of the Aurora global cluster subscribes to that
#   topic, SNS is allowed to invoke it from that topic only, and the
#   function's role may call rds:FailoverGlobalCluster on that global cluster
#   (and its member clusters) only, never on "*". A global cluster without
#   such a function has no automated promotion, which is a finding.
# custom:
#   id: DR-RTO-03
#   severity: high
#   controls:
#     nist-800-53: [CP-2, CP-10, CP-4]
#     soc2: [A1.2, A1.3]
#     iso-27001: [A.5.30, A.8.14]
#   remediation: >-
#     Alarm on the PRIMARY health check (us-east-1) with alarm_actions to an
#     SNS topic; subscribe (protocol lambda) the failover function of the
#     secondary region; add an aws_lambda_permission for sns.amazonaws.com
#     with source_arn = that topic, in the function's region; grant its role
#     rds:FailoverGlobalCluster on the global cluster's and the target
#     cluster's ARNs only.
package dr.rules.dr_rto_03

import data.dr.lib
import data.dr.recovery.helpers as h

_action := "rds:FailoverGlobalCluster"

_route53_metrics_region := "us-east-1"

# Status alarms on a PRIMARY health check, where the metric exists.
_primary_alarms contains alarm if {
	some alarm in h.alarms("AWS/Route53", "HealthCheckStatus")
	alarm.region == _route53_metrics_region
	hc := lib.ref_target(alarm.stack, h.dimension(alarm, "HealthCheckId"))
	h.key(hc) in h.primary_health_check_keys
}

# Lambda subscriptions by "stack|address" of their topic, built once.
_subscriptions_pairs := [[h.key(topic), s] |
	some s in lib.resources("aws_sns_topic_subscription")
	object.get(s.values, "protocol", "") == "lambda"
	some topic in h.refs(s.stack, object.get(s.values, "topic_arn", null))
	topic.type == "aws_sns_topic"
]

_subscriptions := {k: {v | some [k2, v] in _subscriptions_pairs; k2 == k} | some [k, _] in _subscriptions_pairs}

# alarm -> topic of its region -> lambda subscription -> function.
_chains contains {"alarm": alarm, "topic": topic, "subscription": s, "function": fn} if {
	some alarm in _primary_alarms
	some topic in h.alarm_topics(alarm)
	topic.region == alarm.region
	some s in _subscriptions[h.key(topic)]
	some fn in h.refs(s.stack, object.get(s.values, "endpoint", null))
	fn.type == "aws_lambda_function"
}

_secondary_regions(g) := {c.region | some c in h.secondary_members(g)}

_all_secondary_regions := {r | some g in h.global_clusters; some r in _secondary_regions(g)}

# Chains whose function runs outside the primary region, in a secondary one.
_promoters := {c | some c in _chains; c.function.region in _all_secondary_regions}

_promoter_regions := {c.function.region | some c in _promoters}

# The statements allowing rds:FailoverGlobalCluster, by "stack|address" of
# the function whose role carries them; built once.
_grants := {h.key(fn): statements |
	some fn in lib.resources("aws_lambda_function")
	statements := [s |
		some s in h.role_statements(h.function_role(fn))
		h.grants(s, _action)
	]
	count(statements) > 0
}

_grant_statements(fn) := object.get(_grants, h.key(fn), [])

_grants_failover(fn) if _grants[h.key(fn)]

_failover_functions := {fn |
	some fn in lib.resources("aws_lambda_function")
	_grants[h.key(fn)]
}

# The global clusters each granting function may promote; built once.
_granted := {h.key(fn): clusters |
	some fn in _failover_functions
	clusters := {g |
		some s in _grant_statements(fn)
		some resource in s.resources
		g := _cluster_of(s.source.stack, resource)
	}
}

evaluated contains lib.subject(g) if some g in h.global_clusters

evaluated contains lib.subject(fn) if some fn in _failover_functions

# --- a promoter must exist --------------------------------------------------

deny contains lib.finding(rego.metadata.chain(), g, msg) if {
	some g in h.global_clusters
	count(_secondary_regions(g) & _promoter_regions) == 0
	msg := sprintf("no automated promotion: %s; expected PRIMARY health alarm -> SNS topic -> Lambda function in a secondary region allowed rds:FailoverGlobalCluster on this global cluster", [_gap(g)])
}

_gap(g) := "no PRIMARY failover record has a health check" if {
	count(h.primary_health_checks) == 0
} else := sprintf("no CloudWatch alarm in us-east-1 on AWS/Route53 HealthCheckStatus watches the PRIMARY health check (%s)", [_addresses(h.primary_health_checks)]) if {
	count(_primary_alarms) == 0
} else := sprintf("the PRIMARY health alarm (%s) notifies no SNS topic of its region", [_addresses(_primary_alarms)]) if {
	count({t | some a in _primary_alarms; some t in h.alarm_topics(a); t.region == a.region}) == 0
} else := "no Lambda function subscribes (protocol lambda) to the topic the PRIMARY health alarm notifies" if {
	count(_chains) == 0
} else := sprintf("the global cluster has no member cluster outside its primary region %s", [g.region]) if {
	count(_secondary_regions(g)) == 0
} else := sprintf("the functions the PRIMARY health alarm triggers (%s) are not in a secondary region (%s)", [
	_addresses({c.function | some c in _chains}),
	h.listed(_secondary_regions(g)),
])

_addresses(resources) := concat(", ", sort({sprintf("%s/%s", [r.stack, r.address]) | some r in resources}))

# --- each link of a promoter ------------------------------------------------

# SNS invoke permissions by "stack|address" of their function, built once.
_permissions_pairs := [[h.key(fn), p] |
	some p in lib.resources("aws_lambda_permission")
	object.get(p.values, "principal", "") == "sns.amazonaws.com"
	object.get(p.values, "action", "") in {"lambda:InvokeFunction", "lambda:*"}
	some fn in h.refs(p.stack, object.get(p.values, "function_name", null))
	fn.type == "aws_lambda_function"
]

_permissions := {k: {v | some [k2, v] in _permissions_pairs; k2 == k} | some [k, _] in _permissions_pairs}

deny contains lib.finding(rego.metadata.chain(), c.subscription, msg) if {
	some c in _promoters
	not _invocable(c)
	msg := sprintf(
		"SNS cannot invoke %s/%s: no aws_lambda_permission in %s for principal sns.amazonaws.com with source_arn %s; expected one",
		[c.function.stack, c.function.address, c.function.region, c.topic.address],
	)
}

_invocable(c) if {
	some p in _permissions[h.key(c.function)]
	c.topic in h.refs(p.stack, object.get(p.values, "source_arn", null))
	p.region == c.function.region
}

deny contains lib.finding(rego.metadata.chain(), c.function, msg) if {
	some c in _promoters
	not _grants_failover(c.function)
	msg := sprintf("the function the PRIMARY health alarm triggers may not call %s: expected its role to allow it on the global cluster", [_action])
}

deny contains lib.finding(rego.metadata.chain(), c.function, msg) if {
	some c in _chains
	c.function.region in h.primary_regions
	_grants_failover(c.function)
	msg := sprintf("the failover function runs in the primary region %s, which it must survive: expected it in the secondary region", [c.function.region])
}

# --- the grant names one global cluster only ---------------------------------

deny contains lib.finding(rego.metadata.chain(), s.source, msg) if {
	some fn in _failover_functions
	some s in _grant_statements(fn)
	some resource in s.resources
	not _cluster_of(s.source.stack, resource)
	msg := sprintf(
		"allows %s on %v for %s/%s: expected only the ARNs of the global cluster it promotes and its member clusters",
		[_action, resource, fn.stack, fn.address],
	)
}

deny contains lib.finding(rego.metadata.chain(), s.source, msg) if {
	some fn in _failover_functions
	some s in _grant_statements(fn)
	count(s.resources) == 0
	msg := sprintf("allows %s without naming a resource: expected the global cluster's ARN", [_action])
}

deny contains lib.finding(rego.metadata.chain(), fn, msg) if {
	some fn in _failover_functions
	clusters := _granted_clusters(fn)
	count(clusters) > 1
	msg := sprintf("may call %s on several global clusters (%s): expected the one it promotes only", [_action, _addresses(clusters)])
}

deny contains lib.finding(rego.metadata.chain(), c.function, msg) if {
	some c in _promoters
	some g in _granted_clusters(c.function)
	not c.function.region in _secondary_regions(g)
	msg := sprintf("may promote %s/%s, which has no member cluster in the function's region %s: expected the global cluster of this region", [g.stack, g.address, c.function.region])
}

_granted_clusters(fn) := object.get(_granted, h.key(fn), set())

# The global cluster a resource ARN expression stands for (itself or its member).
_cluster_of(stack, resource) := g if {
	some g in h.refs(stack, resource)
	g.type == "aws_rds_global_cluster"
}

_cluster_of(stack, resource) := g if {
	some c in h.refs(stack, resource)
	c.type == "aws_rds_cluster"
	g := h.global_of(c)
}

_cluster_of(_, resource) := g if {
	is_string(resource)
	m := regex.find_all_string_submatch_n(`:global-cluster:([^:/]+)$`, resource, 1)[0]
	some g in h.global_by_identifier[m[1]]
}

_cluster_of(_, resource) := g if {
	is_string(resource)
	m := regex.find_all_string_submatch_n(`:cluster:([^:/]+)$`, resource, 1)[0]
	some c in h.cluster_by_identifier[m[1]]
	g := h.global_of(c)
}
