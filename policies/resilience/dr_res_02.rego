# METADATA
# title: Every taggable resource carries the organisation's required tags
# description: >-
#   During an incident the tags say which environment a resource belongs to,
#   who owns it and which recovery tier it is in; cost, inventory and
#   clean-up reports rely on them too. Every resource that can carry tags
#   carries each required tag (the required_tags setting, by default
#   Environment, Owner and DRTier) with a non-empty value. A resource's
#   effective tags are the default_tags of the provider (or provider alias)
#   that creates it, merged with its own tags, which win. A DynamoDB replica
#   is a table of its own in the other region: it carries the tags only if
#   its replica block propagates them (propagate_tags = true); an
#   aws_dynamodb_table_replica resource is judged like any resource, by its
#   own provider's default_tags and tags. Own tags written as one expression
#   (a variable, merge(...)) cannot be verified and are reported where the
#   default_tags do not already carry every required tag. Whether a
#   resource type can carry tags is read from the pinned AWS provider's schema
#   (a tags argument); for a type that schema does not describe, a resource
#   counts as taggable when it sets tags or its type is one of a fixed list
#   of common taggable AWS types (networking, KMS, databases, DynamoDB,
#   Lambda, IAM roles and policies, SNS, SQS, logs and alarms, Route 53 zones
#   and health checks, S3 buckets, Secrets Manager, EC2).
# custom:
#   id: DR-RES-02
#   severity: medium
#   controls:
#     - framework: nist-800-53
#       control: CM-8
#       grade: supports
#       why: Every taggable resource names its environment, owner and recovery tier, which an inventory can read.
#     - framework: iso-27001
#       control: A.5.9
#       grade: supports
#       why: Each resource carries its owner and recovery tier; the inventory itself is not checked.
#   observes:
#     "*": [tags]
#   remediation: >-
#     Give every AWS provider (and provider alias) a default_tags block with
#     the required tags, and do not override them with empty values; set
#     propagate_tags = true on each DynamoDB replica.
package dr.rules.dr_res_02

import data.dr.lib

_required := lib.setting("required_tags", ["Environment", "Owner", "DRTier"])

# Used only for types the provider schema fact does not describe.
_common_taggable := {
	"aws_vpc", "aws_subnet", "aws_security_group", "aws_route_table", "aws_internet_gateway",
	"aws_nat_gateway", "aws_eip", "aws_network_acl", "aws_vpc_endpoint", "aws_vpc_peering_connection",
	"aws_vpc_peering_connection_accepter", "aws_vpc_security_group_ingress_rule",
	"aws_vpc_security_group_egress_rule", "aws_kms_key", "aws_rds_cluster", "aws_rds_cluster_instance",
	"aws_rds_global_cluster", "aws_rds_cluster_parameter_group", "aws_db_instance", "aws_db_subnet_group",
	"aws_db_parameter_group", "aws_dynamodb_table", "aws_dynamodb_table_replica", "aws_lambda_function",
	"aws_iam_role", "aws_iam_policy", "aws_sns_topic", "aws_sqs_queue", "aws_cloudwatch_log_group",
	"aws_cloudwatch_metric_alarm", "aws_route53_zone", "aws_route53_health_check", "aws_s3_bucket",
	"aws_secretsmanager_secret", "aws_instance", "aws_launch_template", "aws_ebs_volume",
	"aws_autoscaling_group", "aws_lb", "aws_lb_target_group", "aws_ecr_repository",
}

_schema_knows(type) if data.facts.schema.resources[type]

# Whether a resource type is taggable, decided once per type; a type the
# schema does not know is taggable when its resource sets tags.
_taggable_type(type) if data.facts.schema.resources[type].attributes.tags

_taggable_type(type) if {
	not _schema_knows(type)
	type in _common_taggable
}

_taggable(r) if _taggable_type(r.type)

_taggable(r) if {
	not _schema_knows(r.type)
	startswith(r.type, "aws_")
	"tags" in object.keys(r.values)
}

_subjects contains r if {
	some r in input.resources
	_taggable(r)
}

_stack_defaults := {s.name: s.default_tags | some s in input.stacks}

_provider(r) := object.get(r, "provider", "aws")

_defaults(r) := _as_object(object.get(_stack_defaults, [r.stack, _provider(r)], {}))

_own(r) := object.get(r.values, "tags", null)

_as_object(x) := x if is_object(x)

_as_object(x) := {} if not is_object(x)

# The provider's default tags, then the resource's own tags, which win.
# A function of small values: resources that share their tags share one call.
_merged(defaults, own) := object.union(defaults, _as_object(own))

_missing(tags) := [key | some key in _required; not _present(tags, key)]

_present(tags, key) if {
	value := tags[key]
	is_string(value)
	trim_space(value) != ""
}

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some r in _subjects
	not lib.is_expression(_own(r))
	missing := _missing(_merged(_defaults(r), _own(r)))
	count(missing) > 0
	msg := sprintf(
		"missing or empty required tags %s (neither its own tags nor the default_tags of provider %s set them); expected %s",
		[concat(", ", missing), _provider(r), concat(", ", _required)],
	)
}

# Own tags written as one expression (merge(...), a variable): their keys are
# known only at apply time. Where the provider's default tags already carry
# every required tag, nothing is missing whatever the expression adds.
deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some r in _subjects
	lib.is_expression(_own(r))
	missing := _missing(_defaults(r))
	count(missing) > 0
	msg := sprintf(
		"required tags %s cannot be verified: the default_tags of provider %s lack them and its own tags are the expression %s; expected %s in default_tags or literal tags",
		[concat(", ", missing), _provider(r), _own(r), concat(", ", _required)],
	)
}

_propagates(settings) if object.get(settings, "propagate_tags", false) in {true, "true"}

deny contains lib.finding(rego.metadata.chain(), table, msg) if {
	some table in lib.resources("aws_dynamodb_table")
	some replica in lib.block(table, "replica")
	not _propagates(replica)
	region := object.get(replica, "region_name", "?")
	msg := sprintf(
		"replica[%v].propagate_tags is not true: the recovery copy in %v carries none of the required tags; expected propagate_tags = true on the replica block",
		[region, region],
	)
}

# Replicas a dynamic block generates (a CDKTF iterator) carry their settings in its content.
deny contains lib.finding(rego.metadata.chain(), table, msg) if {
	some table in lib.resources("aws_dynamodb_table")
	dynamic := object.get(object.get(table.values, "dynamic", {}), "replica", null)
	is_object(dynamic)
	not _propagates(object.get(dynamic, "content", {}))
	msg := "the replicas of dynamic block replica do not set propagate_tags = true: each recovery copy carries none of the required tags; expected propagate_tags = true in its content"
}

evaluated contains lib.subject(r) if some r in _subjects
