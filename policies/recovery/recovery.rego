# METADATA
# title: The failover path as the recovery and monitoring rules read it
# description: >-
#   Failover records and their health checks, the Aurora global cluster and
#   its members, DynamoDB replicas, alarms and what they notify, the IAM
#   statements a function's role carries, and the chains that start the
#   promotion of the secondary database (alarm -> SNS -> function, alarm ->
#   function, alarm -> EventBridge rule -> function, schedule -> watchdog
#   function), all read from the model's edges. Regions always come from
#   r.region, never from stack names.
package dr.recovery

import data.dr.lib

# --- failover records and health checks ----------------------------------

failover_records := [r |
	some r in lib.resources("aws_route53_record")
	count(lib.block(r, "failover_routing_policy")) > 0
]

# The failover type of a record ("PRIMARY", "SECONDARY"), upper-cased.
failover_type(record) := upper(sprintf("%v", [object.get(policy, "type", "")])) if {
	some policy in lib.block(record, "failover_routing_policy")
}

# The aws_route53_health_check a record names.
health_check_of(record) := hc if {
	hc := lib.ref(record, ["health_check_id"])
	hc.type == "aws_route53_health_check"
}

primary_records := [r | some r in failover_records; failover_type(r) == "PRIMARY"]

# The PRIMARY records' health checks: the ones whose failure means "primary gone".
primary_health_check_keys := {hc.key | some r in primary_records; hc := health_check_of(r)}

# --- Aurora ---------------------------------------------------------------

global_clusters := lib.resources("aws_rds_global_cluster")

# Aurora clusters (aws_rds_cluster's engine defaults to Aurora MySQL; only
# Aurora joins a global cluster; an engine copied from another block by
# reference is that block's engine).
aurora_clusters := [c | some c in lib.resources("aws_rds_cluster"); _aurora(c)]

_aurora(c) if startswith(object.get(c.values, "engine", "aurora"), "aurora")

_aurora(c) if startswith(object.get(lib.ref(c, ["engine"]).values, "engine", "aurora"), "aurora")

_aurora(c) if object.get(c.values, "global_cluster_identifier", null) != null

# The aws_rds_global_cluster a cluster joins: by reference, by the global
# cluster's literal identifier, or as its source_db_cluster_identifier.
global_of(c) := g if {
	g := lib.ref(c, ["global_cluster_identifier"])
	g.type == "aws_rds_global_cluster"
}

global_of(c) := g if {
	identifier := object.get(c.values, "global_cluster_identifier", null)
	lib.is_literal(identifier)
	some g in object.get(_global_by_identifier, identifier, [])
}

global_of(c) := g if {
	some e in lib.referrers(c)
	e.names == ["source_db_cluster_identifier"]
	g := lib.by_key[e.from]
	g.type == "aws_rds_global_cluster"
}

_global_by_identifier := {id: [g | some g in global_clusters; g.values.global_cluster_identifier == id] |
	some g in global_clusters
	id := g.values.global_cluster_identifier
	is_string(id)
}

cluster_by_identifier := {id: [c | some c in aurora_clusters; c.values.cluster_identifier == id] |
	some c in aurora_clusters
	id := c.values.cluster_identifier
	is_string(id)
}

_members_pairs := [[g.key, c] | some c in aurora_clusters; g := global_of(c)]

_members_by_global := {k: {c | some [k2, c] in _members_pairs; k2 == k} | some [k, _] in _members_pairs}

members(g) := object.get(_members_by_global, g.key, set())

# The global cluster is created in its primary region: members elsewhere are secondaries.
secondary_members(g) := {c | some c in members(g); c.region != g.region}

secondary_regions(g) := {c.region | some c in secondary_members(g)}

primary_regions := {g.region | some g in global_clusters}

# --- DynamoDB -------------------------------------------------------------

# Separate aws_dynamodb_table_replica resources of a table.
replica_resources(table) := {lib.by_key[e.from] |
	some e in lib.referrers(table)
	e.names == ["global_table_arn"]
	lib.by_key[e.from].type == "aws_dynamodb_table_replica"
}

# The regions a table is replicated to: its replica blocks, replica resources,
# and a legacy aws_dynamodb_global_table naming it (the tables of one name in
# each of its replica regions are each other's replicas).
replica_regions(table) := ({_block_region(table, i, r) | some i, r in lib.block(table, "replica")} | {r.region |
	some r in replica_resources(table)
}) | (_legacy_regions(table) - {table.region})

# A legacy global table's name: literal, or a reference to one of its tables' name.
_global_table_name(g) := g.values.name if lib.is_literal(g.values.name)

_global_table_name(g) := t.values.name if {
	t := lib.ref(g, ["name"])
	t.type == "aws_dynamodb_table"
}

block_region(table, i, replica) := _block_region(table, i, replica)

_block_region(table, i, _) := lib.region_at(table, ["replica", i, "region_name"])

_block_region(table, i, r) := object.get(r, "region_name", null) if not lib.region_at(table, ["replica", i, "region_name"])

_legacy_regions(table) := {region |
	some g in lib.resources("aws_dynamodb_global_table")
	_global_table_name(g) == table.values.name
	regions := {z | some i, _ in lib.block(g, "replica"); z := lib.region_at(g, ["replica", i, "region_name"])}
	table.region in regions
	some region in regions
}

# --- alarms and what they notify -------------------------------------------

alarms(namespace, metric) := [a |
	some a in lib.resources("aws_cloudwatch_metric_alarm")
	object.get(a.values, "namespace", "") == namespace
	object.get(a.values, "metric_name", "") == metric
]

dimension(alarm, name) := object.get(object.get(alarm.values, "dimensions", {}), name, null)

# The block a metric dimension names by reference.
dimension_target(alarm, name) := lib.ref(alarm, ["dimensions", name])

# The SNS topics an alarm notifies when it fires.
alarm_topics(alarm) := {t | some t in lib.mentions(alarm, ["alarm_actions"]); t.type == "aws_sns_topic"}

# Values joined for a message; never fails on null or non-string values.
listed(values) := "none" if count(values) == 0

listed(values) := concat(", ", sort([sprintf("%v", [v]) | some v in values])) if count(values) > 0

addresses(blocks) := concat(", ", sort({lib.subject(r) | some r in blocks}))

# --- IAM -----------------------------------------------------------------

_uses_by_holder := {h: [u | some u in input.policies; u.holder == h] | some h in {u.holder | some u in input.policies}}

_identity_statements(holder_key) := [s |
	some u in object.get(_uses_by_holder, holder_key, [])
	u.kind == "identity"
	some s in u.statements
]

# Every identity statement a role carries: its inline_policy blocks, the
# aws_iam_role_policy resources naming it, and the aws_iam_policy resources
# attached to it.
role_statements(role) := array.concat(
	_identity_statements(role.key),
	[s |
		some e in lib.referrers(role)
		e.names in {["role"], ["roles"]}
		holder := lib.by_key[e.from]
		holder.type in {"aws_iam_role_policy", "aws_iam_role_policy_attachment", "aws_iam_policy_attachment"}
		some s in _holder_statements(holder)
	],
)

_holder_statements(holder) := _identity_statements(holder.key) if holder.type == "aws_iam_role_policy"

_holder_statements(holder) := _identity_statements(policy.key) if {
	holder.type in {"aws_iam_role_policy_attachment", "aws_iam_policy_attachment"}
	policy := lib.ref(holder, ["policy_arn"])
	policy.type == "aws_iam_policy"
}

# True when an Allow statement grants the action (IAM actions ignore case;
# wildcards such as rds:* or rds:Failover* count).
grants(statement, action) if {
	statement.effect == "Allow"
	some pattern in statement.actions
	glob.match(lower(pattern), [], lower(action))
}

# The role a Lambda function runs as.
function_role(fn) := role if {
	role := lib.ref(fn, ["role"])
	role.type == "aws_iam_role"
}

# --- promotion of the secondary Aurora cluster --------------------------------

failover_action := "rds:FailoverGlobalCluster"

# Statements of each function's role that allow the failover action, built once.
failover_grants := {fn.key: statements |
	some fn in lib.resources("aws_lambda_function")
	statements := [s | some s in role_statements(function_role(fn)); grants(s, failover_action)]
	count(statements) > 0
}

# The global clusters a statement's resource entry stands for: the global
# cluster itself or a member (by reference or literal ARN), or every one for "*".
statement_clusters(s, i) := (_by_reference(s, i) | _by_global_arn(s, i)) | _by_cluster_arn(s, i)

_by_reference(s, i) := {g |
	some k in s.resource_targets[i]
	g := _cluster_global(lib.by_key[k])
}

_by_global_arn(s, i) := {g |
	m := regex.find_all_string_submatch_n(`:global-cluster:([^:/]+)$`, s.resources[i], 1)[0]
	some g in object.get(_global_by_identifier, m[1], [])
}

_by_cluster_arn(s, i) := {g |
	m := regex.find_all_string_submatch_n(`:cluster:([^:/]+)$`, s.resources[i], 1)[0]
	some c in object.get(cluster_by_identifier, m[1], [])
	g := global_of(c)
}

_cluster_global(target) := target if target.type == "aws_rds_global_cluster"

_cluster_global(target) := global_of(target) if target.type == "aws_rds_cluster"

# The global clusters a function may promote (every one when it may act on "*").
promotable(fn) := {g |
	some s in object.get(failover_grants, fn.key, [])
	some i, resource in s.resources
	resource != "*"
	some g in statement_clusters(s, i)
} | {g |
	some s in object.get(failover_grants, fn.key, [])
	"*" in s.resources
	some g in global_clusters
}

# Functions allowed to promote a global cluster, running in one of its secondary regions.
promoters(g) := {fn |
	some k, _ in failover_grants
	fn := lib.by_key[k]
	g in promotable(fn)
	fn.region in secondary_regions(g)
}

# --- what starts a promoter: trigger chains ------------------------------------

_route53_metrics_region := "us-east-1"

# Status alarms on a PRIMARY health check, in the only region with the metric.
primary_alarms := {a |
	some a in alarms("AWS/Route53", "HealthCheckStatus")
	a.region == _route53_metrics_region
	some hc in lib.mentions(a, ["dimensions", "HealthCheckId"])
	hc.key in primary_health_check_keys
}

# The aws_lambda_permission resources of a function.
permissions_of(fn) := [p |
	some e in lib.referrers(fn)
	e.names == ["function_name"]
	p := lib.by_key[e.from]
	p.type == "aws_lambda_permission"
]

# Lambda permissions of a function, by principal.
permitted(fn, principal, source) if {
	some e in lib.referrers(fn)
	e.names == ["function_name"]
	p := lib.by_key[e.from]
	p.type == "aws_lambda_permission"
	object.get(p.values, "principal", "") == principal
	object.get(p.values, "action", "lambda:InvokeFunction") in {"lambda:InvokeFunction", "lambda:*"}
	p.region == fn.region
	_from_source(p, source)
}

_from_source(p, source) if source in lib.mentions(p, ["source_arn"])

_from_source(p, null) if not object.get(p.values, "source_arn", null)

# Every chain that starts a function: {kind, trigger (the alarm or rule),
# via (the topic or rule, else null), function, complete, missing}.
chains contains chain if {
	some alarm in primary_alarms
	some topic in alarm_topics(alarm)
	topic.region == alarm.region
	some e in lib.referrers(topic)
	e.names == ["topic_arn"]
	s := lib.by_key[e.from]
	s.type == "aws_sns_topic_subscription"
	object.get(s.values, "protocol", "") == "lambda"
	some fn in lib.mentions(s, ["endpoint"])
	fn.type == "aws_lambda_function"
	chain := _chain("alarm-sns", alarm, topic, s, fn, "sns.amazonaws.com", topic)
}

chains contains chain if {
	some alarm in primary_alarms
	some fn in lib.mentions(alarm, ["alarm_actions"])
	fn.type == "aws_lambda_function"
	chain := _chain("alarm-lambda", alarm, null, alarm, fn, "lambda.alarms.cloudwatch.amazonaws.com", alarm)
}

chains contains chain if {
	some alarm in primary_alarms
	some rule in _alarm_rules(alarm)
	some fn in _rule_functions(rule)
	chain := _chain("alarm-eventbridge", alarm, rule, rule, fn, "events.amazonaws.com", rule)
}

chains contains chain if {
	some rule in lib.resources("aws_cloudwatch_event_rule")
	lib.is_literal(object.get(rule.values, "schedule_expression", null))
	some fn in _rule_functions(rule)
	chain := _chain("schedule", rule, null, rule, fn, "events.amazonaws.com", rule)
}

chains contains chain if {
	some schedule in lib.resources("aws_scheduler_schedule")
	lib.is_literal(object.get(schedule.values, "schedule_expression", null))
	some fn in lib.mentions(schedule, ["target", "arn"])
	fn.type == "aws_lambda_function"
	# EventBridge Scheduler invokes through its own role, not a resource policy.
	chain := _chain("schedule", schedule, null, schedule, fn, null, null)
}

_chain(kind, trigger, via, link, fn, principal, source) := {
	"kind": kind,
	"trigger": trigger,
	"via": via,
	"link": link,
	"function": fn,
	"principal": principal,
	"complete": _invocable(fn, principal, source),
}

_invocable(fn, principal, source) := true if {
	principal == null
} else := true if {
	permitted(fn, principal, source)
} else := false

# EventBridge rules that match an alarm's state change: the rule's pattern
# refers to the alarm, or names it literally.
_alarm_rules(alarm) := {rule |
	some rule in lib.resources("aws_cloudwatch_event_rule")
	pattern := object.get(rule.values, "event_pattern", "")
	is_string(pattern)
	contains(pattern, "CloudWatch Alarm State Change")
	_names_alarm(rule, alarm, pattern)
}

_names_alarm(rule, alarm, _) if alarm in lib.mentions(rule, ["event_pattern"])

_names_alarm(_, alarm, pattern) if {
	name := object.get(alarm.values, "alarm_name", null)
	lib.is_literal(name)
	contains(pattern, sprintf("%q", [name]))
}

# The functions an EventBridge rule targets.
_rule_functions(rule) := {fn |
	some e in lib.referrers(rule)
	e.names == ["rule"]
	target := lib.by_key[e.from]
	target.type == "aws_cloudwatch_event_target"
	some fn in lib.mentions(target, ["arn"])
	fn.type == "aws_lambda_function"
}

# The chains that start the promotion of a global cluster.
promotion_chains(g) := {c | some c in chains; c.function in promoters(g)}

# --- timing of a trigger (DR-RTO-01) ---------------------------------------------

# AWS namespaces publish at one-minute standard resolution; only a custom
# metric can be high-resolution (a period under 60 s).
_metric_interval(alarm) := 60 if startswith(object.get(alarm.values, "namespace", ""), "AWS/")

_metric_interval(alarm) := 60 if {
	not startswith(object.get(alarm.values, "namespace", ""), "AWS/")
	lib.num(object.get(alarm.values, "period", 60)) >= 60
}

_metric_interval(alarm) := p if {
	not startswith(object.get(alarm.values, "namespace", ""), "AWS/")
	p := lib.num(object.get(alarm.values, "period", 60))
	p < 60
}

_datapoints(alarm) := lib.num(object.get(alarm.values, "datapoints_to_alarm", object.get(alarm.values, "evaluation_periods", 1)))

# The stages an alarm takes to act, each {stage, seconds, source}; a stage
# whose value is not a literal number has seconds null.
alarm_stages(alarm) := [
	{
		"stage": "metric publication",
		"seconds": _metric_interval(alarm),
		"source": sprintf("%v %v of %s: one datapoint every %v s (standard resolution for AWS namespaces)", [
			object.get(alarm.values, "namespace", "?"), object.get(alarm.values, "metric_name", "?"),
			lib.subject(alarm), _metric_interval(alarm),
		]),
	},
	{
		"stage": "alarm evaluation",
		"seconds": _evaluation_seconds(alarm),
		"source": sprintf("datapoints_to_alarm %v x period %v s of %s", [
			object.get(alarm.values, "datapoints_to_alarm", object.get(alarm.values, "evaluation_periods", "unset")),
			object.get(alarm.values, "period", "unset"), lib.subject(alarm),
		]),
	},
	{
		"stage": "alarm action",
		"seconds": lib.setting("alarm_action_allowance_seconds", 60),
		"source": "setting alarm_action_allowance_seconds (Route 53's guide warns minutes may pass between a failed check and the alarm's notification)",
	},
]

_evaluation_seconds(alarm) := n * max([_metric_interval(alarm), p]) if {
	n := _datapoints(alarm)
	p := lib.num(object.get(alarm.values, "period", null))
} else := null

# A schedule's detection: the watchdog's declared probe loop, else its rate.
schedule_stages(rule, fn) := [{
	"stage": "watchdog detection",
	"seconds": interval * threshold,
	"source": sprintf("%s %v s x %s %v of %s", [_interval_var, interval, _threshold_var, threshold, lib.subject(fn)]),
}] if {
	interval := _env_number(fn, _interval_var)
	threshold := _env_number(fn, _threshold_var)
} else := [{
	"stage": "schedule",
	"seconds": _rate_seconds(object.get(rule.values, "schedule_expression", "")),
	"source": sprintf("schedule_expression %v of %s (the function declares no %s and %s)", [
		object.get(rule.values, "schedule_expression", "unset"), lib.subject(rule), _interval_var, _threshold_var,
	]),
}]

_interval_var := lib.setting("watchdog_interval_variable", "PROBE_INTERVAL_SECONDS")

_threshold_var := lib.setting("watchdog_threshold_variable", "FAILURE_THRESHOLD")

_env_number(fn, name) := n if {
	some environment in lib.block(fn, "environment")
	n := lib.num(object.get(object.get(environment, "variables", {}), name, null))
}

_unit_seconds := {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}

_rate_seconds(expression) := to_number(m[1]) * _unit_seconds[m[2]] if {
	m := regex.find_all_string_submatch_n(`^rate\(\s*([0-9]+)\s+([a-z]+)\s*\)$`, expression, 1)[0]
} else := 60 if {
	startswith(expression, "cron(")
} else := null

# The detection stages of one chain.
detection_stages(chain) := alarm_stages(chain.trigger) if chain.kind in {"alarm-sns", "alarm-lambda", "alarm-eventbridge"}

detection_stages(chain) := schedule_stages(chain.trigger, chain.function) if chain.kind == "schedule"
