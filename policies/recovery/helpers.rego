# METADATA
# title: Helpers shared by the recovery and monitoring requirements
# description: >-
#   Failover records and their health checks, the Aurora global cluster and
#   its members, alarms and the topics they notify, IAM statements of a role,
#   and references embedded in wrapped expressions (element(split(...)), ...).
#   Regions always come from r.region, never from stack names.
package dr.recovery.helpers

import data.dr.lib

# The index key of a resource: "stack|address", as lib.by_key.
key(r) := sprintf("%s|%s", [r.stack, r.address])

# Indexes below are complete rules: [key, value] pairs, grouped by an object
# comprehension that OPA indexes, computed once per evaluation. (A partial
# rule looked up by a computed key is re-evaluated on every lookup, and a
# grouping function is not indexed: both are quadratic on large inputs.)

# --- numbers and expressions ---------------------------------------------

# A literal number, whether synthesized as a number or a numeric string.
num(value) := value if is_number(value)

num(value) := to_number(value) if {
	is_string(value)
	regex.match(`^[0-9]+(\.[0-9]+)?$`, value)
}

_embedded_remote := `data\.terraform_remote_state\.[A-Za-z0-9_-]+\.outputs\.[A-Za-z0-9_-]+`

_embedded_local := `(?:^|[^A-Za-z0-9_.-])(aws_[a-z0-9_]+\.[A-Za-z0-9_-]+\.[a-z0-9_]+)`

# Every resource an expression refers to, also inside function calls such as
# ${element(split("/", data.terraform_remote_state.x.outputs.url), 2)}.
refs(stack, value) := {r |
	is_string(value)
	some m in regex.find_all_string_submatch_n(_embedded_local, value, -1)
	r := lib.ref_target(stack, sprintf("${%s}", [m[1]]))
} | {r |
	is_string(value)
	some m in regex.find_all_string_submatch_n(_embedded_remote, value, -1)
	r := lib.ref_target(stack, sprintf("${%s}", [m[0]]))
}

# The resources referenced by any string of a list (or by a single string).
refs_in_list(stack, values) := {r |
	some value in _as_list(values)
	some r in refs(stack, value)
}

_as_list(value) := value if is_array(value)

# Values (regions, names...) joined for a message; null or non-string
# values never make the evaluation fail.
listed(values) := "none" if count(values) == 0

listed(values) := concat(", ", sort([sprintf("%v", [v]) | some v in values])) if count(values) > 0

_as_list(value) := [value] if not is_array(value)

# --- failover records and health checks ----------------------------------

# The failover type of a record ("PRIMARY", "SECONDARY"), upper-cased.
failover_type(record) := upper(sprintf("%v", [object.get(policy, "type", "")])) if {
	some policy in lib.block(record, "failover_routing_policy")
}

failover_records := [r |
	some r in lib.resources("aws_route53_record")
	count(lib.block(r, "failover_routing_policy")) > 0
]

# The aws_route53_health_check a record names.
health_check_of(record) := hc if {
	hc := lib.ref_target(record.stack, object.get(record.values, "health_check_id", null))
	hc.type == "aws_route53_health_check"
}

# The Function URLs a health check probes: referenced from its fqdn.
health_check_urls(hc) := {u |
	some u in refs(hc.stack, object.get(hc.values, "fqdn", null))
	u.type == "aws_lambda_function_url"
}

# The PRIMARY records' health checks: the ones whose failure means "primary gone".
primary_health_checks contains hc if {
	some record in failover_records
	failover_type(record) == "PRIMARY"
	hc := health_check_of(record)
}

primary_health_check_keys := {key(hc) | some hc in primary_health_checks}

# --- the Aurora global cluster -------------------------------------------

global_clusters := lib.resources("aws_rds_global_cluster")

# Aurora clusters (aws_rds_cluster's engine defaults to Aurora).
aurora_clusters := [c |
	some c in lib.resources("aws_rds_cluster")
	engine := object.get(c.values, "engine", "aurora")
	is_string(engine)
	startswith(engine, "aurora")
]

# The aws_rds_global_cluster a cluster joins, if any.
global_of(cluster) := g if {
	g := lib.ref_target(cluster.stack, object.get(cluster.values, "global_cluster_identifier", null))
	g.type == "aws_rds_global_cluster"
}

global_of(cluster) := g if {
	identifier := object.get(cluster.values, "global_cluster_identifier", null)
	is_string(identifier)
	not lib.is_expression(identifier)
	some g in global_by_identifier[identifier]
}

# Clusters by their literal identifiers, built once.
_global_by_identifier_pairs := [[id, g] |
	some g in global_clusters
	id := g.values.global_cluster_identifier
	is_string(id)
]

global_by_identifier := {k: {v | some [k2, v] in _global_by_identifier_pairs; k2 == k} | some [k, _] in _global_by_identifier_pairs}

_cluster_by_identifier_pairs := [[id, c] |
	some c in aurora_clusters
	id := c.values.cluster_identifier
	is_string(id)
]

cluster_by_identifier := {k: {v | some [k2, v] in _cluster_by_identifier_pairs; k2 == k} | some [k, _] in _cluster_by_identifier_pairs}

# Member clusters by "stack|address" of their global cluster, built once.
_members_by_global_pairs := [[key(g), c] |
	some c in aurora_clusters
	g := global_of(c)
]

members_by_global := {k: {v | some [k2, v] in _members_by_global_pairs; k2 == k} | some [k, _] in _members_by_global_pairs}

members(g) := object.get(members_by_global, key(g), set())

# The global cluster lives in its primary region: members elsewhere are secondaries.
secondary_members(g) := {c | some c in members(g); c.region != g.region}

primary_regions := {g.region | some g in global_clusters}

# --- DynamoDB -------------------------------------------------------------

# Separate aws_dynamodb_table_replica resources by "stack|address" of their table.
_replica_resources_pairs := [[key(table), r] |
	some r in lib.resources("aws_dynamodb_table_replica")
	some table in refs(r.stack, object.get(r.values, "global_table_arn", null))
	table.type == "aws_dynamodb_table"
]

replica_resources := {k: {v | some [k2, v] in _replica_resources_pairs; k2 == k} | some [k, _] in _replica_resources_pairs}

# The regions a table is replicated to: replica blocks and replica resources.
replica_regions(table) := {object.get(r, "region_name", null) | some r in lib.block(table, "replica")} | {r.region |
	some r in replica_resources[key(table)]
}

# --- alarms and topics ---------------------------------------------------

alarms(namespace, metric) := [a |
	some a in lib.resources("aws_cloudwatch_metric_alarm")
	object.get(a.values, "namespace", "") == namespace
	object.get(a.values, "metric_name", "") == metric
]

dimension(alarm, name) := object.get(object.get(alarm.values, "dimensions", {}), name, null)

# The SNS topics an alarm notifies when it fires.
alarm_topics(alarm) := {t |
	some t in refs_in_list(alarm.stack, object.get(alarm.values, "alarm_actions", []))
	t.type == "aws_sns_topic"
}

# --- IAM -----------------------------------------------------------------

_data_by_key := {sprintf("%s|%s", [d.stack, d.address]): d | some d in object.get(input, "data_sources", [])}

_policy_document_ref := `^\$\{data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.(json|minified_json)\}$`

# The statements of a policy value, each as {effect, actions, resources, source}
# where source is the resource or data source that holds the statement.
policy_statements(stack, value, _) := statements if {
	is_string(value)
	m := regex.find_all_string_submatch_n(_policy_document_ref, value, 1)[0]
	document := _data_by_key[sprintf("%s|data.aws_iam_policy_document.%s", [stack, m[1]])]
	statements := [s |
		some st in lib.blocks(object.get(document.values, "statement", []))
		s := {
			"effect": object.get(st, "effect", "Allow"),
			"actions": _as_list(object.get(st, "actions", [])),
			"resources": _as_list(object.get(st, "resources", [])),
			"source": document,
		}
	]
}

policy_statements(_, value, holder) := statements if {
	is_string(value)
	not lib.is_expression(value)
	json.is_valid(value)
	document := json.unmarshal(value)
	statements := [s |
		some st in _as_list(object.get(document, "Statement", []))
		s := {
			"effect": object.get(st, "Effect", "Allow"),
			"actions": _as_list(object.get(st, "Action", [])),
			"resources": _as_list(object.get(st, "Resource", [])),
			"source": holder,
		}
	]
}

# The statements of every policy a role carries: inline aws_iam_role_policy,
# inline_policy blocks, and aws_iam_policy resources attached to it.
role_statements(role) := array.concat(
	array.concat(_role_policy_statements(role), _inline_statements(role)),
	_attached_statements(role),
)

# Inline policies and attachments by "stack|address" of their role, built once.
_role_policies_pairs := [[key(role), p] |
	some p in lib.resources("aws_iam_role_policy")
	role := lib.ref_target(p.stack, object.get(p.values, "role", null))
]

_role_policies := {k: {v | some [k2, v] in _role_policies_pairs; k2 == k} | some [k, _] in _role_policies_pairs}

_role_attachments_pairs := [[key(role), a] |
	some a in lib.resources("aws_iam_role_policy_attachment")
	role := lib.ref_target(a.stack, object.get(a.values, "role", null))
]

_role_attachments := {k: {v | some [k2, v] in _role_attachments_pairs; k2 == k} | some [k, _] in _role_attachments_pairs}

_role_policy_statements(role) := [s |
	some p in _role_policies[key(role)]
	some s in policy_statements(p.stack, object.get(p.values, "policy", null), p)
]

_inline_statements(role) := [s |
	some inline in lib.block(role, "inline_policy")
	some s in policy_statements(role.stack, object.get(inline, "policy", null), role)
]

_attached_statements(role) := [s |
	some a in _role_attachments[key(role)]
	p := lib.ref_target(a.stack, object.get(a.values, "policy_arn", null))
	p.type == "aws_iam_policy"
	some s in policy_statements(p.stack, object.get(p.values, "policy", null), p)
]

# True when an Allow statement grants the action (IAM actions ignore case;
# wildcards such as rds:* or rds:Failover* count).
grants(statement, action) if {
	statement.effect == "Allow"
	some pattern in statement.actions
	is_string(pattern)
	glob.match(lower(pattern), [], lower(action))
}

# The role a Lambda function runs as.
function_role(fn) := role if {
	role := lib.ref_target(fn.stack, object.get(fn.values, "role", null))
	role.type == "aws_iam_role"
}
