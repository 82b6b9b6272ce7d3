# METADATA
# title: References are expressions, never literal identifiers of the account's resources
# description: >-
#   Every attribute that refers to another resource (a VPC, subnet, security
#   group, KMS key, hosted zone, health check, role, topic, the global
#   database...) holds a Terraform expression, local or cross-stack, not a
#   literal identifier copied from one account: no ARN naming an account, no
#   account ID, no vpc-/subnet-/sg-/rtb-/pcx-/igw- ID, key ID, zone ID or
#   resource name typed in by hand. Such literals break the moment the design
#   is deployed in another account or rebuilt in another region, which is
#   exactly what a recovery does. The attribute by which a resource names
#   itself is a name, not a reference; identifiers that are the same in every
#   account (AWS-managed policy ARNs, AWS-managed key aliases, service
#   principals, Availability Zone IDs) are allowed. IAM policy documents are
#   read the same way.
# custom:
#   id: DR-REF-01
#   severity: high
#   controls:
#     nist-800-53: [CM-2, CM-6, SA-10]
#     soc2: [CC8.1]
#     iso-27001: [A.8.9, A.8.32]
#   remediation: >-
#     Pass the resource object (CDKTF turns a property of another stack into a
#     cross-stack reference) or use a data source lookup instead of a copied
#     ID or ARN; build ARNs from data.aws_caller_identity / aws_partition.
package dr.rules.dr_ref_01

import data.dr.lib
import data.dr.references.expressions as expr

# Free text: an identifier quoted in a description refers to nothing.
_free_text := {"description", "alarm_description", "comment", "tags", "tags_all"}

# Attributes, besides *_id(s) and *_arn(s), that name another resource.
_reference_keys := {
	"role", "roles", "alarm_actions", "ok_actions", "insufficient_data_actions",
	"db_subnet_group_name", "db_cluster_parameter_group_name", "db_parameter_group_name",
	"replication_source_identifier", "source_account", "principal", "policy_arns",
}

# Attributes by which a resource names itself, though their name says reference.
_self_names := {
	"aws_rds_global_cluster": {"global_cluster_identifier"},
	"aws_lambda_permission": {"statement_id"},
	"aws_cloudwatch_event_target": {"target_id"},
	"aws_elasticache_replication_group": {"replication_group_id"},
	"aws_elasticache_cluster": {"cluster_id"},
	"aws_cloudwatch_metric_alarm": {"threshold_metric_id"},
}

# Account-specific identifier shapes, searched in literal text.
_identifier_patterns := {
	"an ARN naming an account": `arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]{12}:`,
	"a VPC resource ID": `(^|[^A-Za-z0-9-])(vpc|subnet|sg|rtb|pcx|igw|nat|eni|vpce|tgw|acl|eipalloc)-([0-9a-f]{8}|[0-9a-f]{17})($|[^A-Za-z0-9-])`,
}

# Identifiers that are the same in every account.
_account_independent(value) if value in {"", "*"}

_account_independent(value) if regex.match(`^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:aws:`, value)

_account_independent(value) if startswith(value, "alias/aws/")

_account_independent(value) if regex.match(`^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$`, value)

_account_independent(value) if regex.match(`^[a-z]{2,4}[0-9]-az[0-9]+$`, value)

# The CloudFront hosted zone of alias records, the same for everyone.
_account_independent("Z2FDTNDATAQYW2")

_policy_documents := [d | some d in input.data_sources; d.type == "aws_iam_policy_document"]

_subjects := array.concat(input.resources, _policy_documents)

_free_text_path(path) if {
	some element in path
	element in _free_text
}

# This rule reads every attribute of every resource. A first pass over each
# resource's JSON text keeps only the resources that may hold an identifier
# shape or a literal in a reference-like attribute (both patterns find a
# superset of what the precise rules below report); only those are walked.
_suspects := array.concat(
	[r |
		some i, r in input.resources
		_suspect(r.type, expr.resource_texts[i])
	],
	[d |
		some d in _policy_documents
		_suspect(d.type, json.marshal(d.values))
	],
)

_suspect(_, text) if regex.match(`[0-9]{12}|-[0-9a-f]{8}`, text)

_suspect(type, text) if regex.match(_literal_text[type], text)

# Attribute names that may refer to another resource: a superset of _is_reference.
_reference_key_hint := `(?:(?i:_ids?|_arns?|^arns?)|Id|Identifier|Arn|^roles?|_actions|_group_name|source_identifier|source_account|^principal|resources|cluster_identifier|function_name|^bucket|^endpoint)$`

_always_keys := `[A-Za-z0-9_]*(?:(?i:_ids?|_arns?)|Id|Identifier|Arn)|(?i:arns?)|roles?|[a-z_]*_actions|[a-z_]*_group_name|[a-z_]*source_identifier|source_account|principal|resources|not_resources`

# Per resource type: a reference-like key whose value (or an element of it)
# is not an expression, in JSON text.
_literal_text := {type: pattern |
	some type in {r.type | some r in _subjects}
	keys := concat("|", array.concat([_always_keys], _type_keys(type)))
	pattern := sprintf(`"(?:%s)":(?:\[(?:"\$\{(?:[^"\\]|\\.)*",)*)?(?:"(?:[^$"]|\$[^{])|-?[0-9])`, [keys])
}

_type_keys(type) := [k |
	some k in ["global_cluster_identifier", "cluster_identifier", "function_name", "bucket", "endpoint"]
	_by_type(k, {"type": type, "values": {"protocol": "lambda"}})
]

# Is the attribute `key` (at `path`) of resource r a reference to another resource?
_is_reference(r, _, key) if {
	_reference_suffix(key)
	not key in object.get(_self_names, r.type, set())
}

_is_reference(r, _, key) if {
	key in _reference_keys
	r.type != "aws_iam_policy_document"
}

_is_reference(r, _, key) if _by_type(key, r)

# Metric dimensions name the resource they measure (HealthCheckId, DBClusterIdentifier).
_is_reference(_, path, key) if {
	path[0] == "dimensions"
	strings.any_suffix_match(key, {"Id", "Identifier", "Arn"})
}

# *_id, *_ids, *_arn, *_arns and arn(s), in any case (environment variables
# are upper case: TARGET_CLUSTER_ARN).
_reference_suffix(key) if {
	words := split(lower(key), "_")
	count(words) > 1
	words[count(words) - 1] in {"id", "ids", "arn", "arns"}
}

_reference_suffix(key) if lower(key) in {"arn", "arns"}

# Attributes that refer to another resource in some resource types only.
_by_type("global_cluster_identifier", r) if r.type != "aws_rds_global_cluster"

_by_type("cluster_identifier", r) if r.type != "aws_rds_cluster"

_by_type("function_name", r) if r.type != "aws_lambda_function"

_by_type("bucket", r) if startswith(r.type, "aws_s3_bucket_")

_by_type("endpoint", r) if {
	r.type == "aws_sns_topic_subscription"
	r.values.protocol in {"lambda", "sqs", "firehose", "application"}
}

# The resources a policy statement grants on.
_by_type(key, r) if {
	key in {"resources", "not_resources"}
	r.type == "aws_iam_policy_document"
}

# The literal scalars of an attribute value, by their place in it (a list's
# index, or none for a single value).
_literals(value) := {[[], text] | some text in _literal(value)} if not is_array(value)

_literals(value) := {[[i], text] |
	some i, element in value
	some text in _literal(element)
} if is_array(value)

_literal(value) := {value | not contains(value, "${")} if is_string(value)

_literal(value) := {sprintf("%v", [value])} if is_number(value)

# In a policy statement a literal with a wildcard is a pattern, not one
# resource's identifier (least privilege judges it), unless it names an
# account, which the identifier shapes below catch.
_pattern_in_policy(r, text) if {
	r.type == "aws_iam_policy_document"
	contains(text, "*")
}

# A literal in a reference attribute: [subject, path of the leaf, text].
_literal_references contains [r, array.concat(path, index), text] if {
	some r in _suspects
	walk(r.values, [path, value])
	key := path[count(path) - 1]
	is_string(key)
	regex.match(_reference_key_hint, key)
	some [index, text] in _literals(value)
	_is_reference(r, path, key)
	not _account_independent(text)
	not _pattern_in_policy(r, text)
	not _free_text_path(path)
}

# Text that may hold an identifier shape, in one regular expression.
_shape_hint := `arn:|(?:vpc|subnet|sg|rtb|pcx|igw|nat|eni|vpce|tgw|acl|eipalloc)-[0-9a-f]{8}`

# An identifier shape in an attribute that is not a reference: [subject, path, value, shape].
_embedded_identifiers contains [r, path, value, shape] if {
	some r in _suspects
	walk(r.values, [path, value])
	is_string(value)
	regex.match(_shape_hint, value)
	not _free_text_path(path)
	not _is_literal_reference(r, path)
	literal := regex.replace(value, `\$\{[^}]*\}`, "")
	some shape, pattern in _identifier_patterns
	regex.match(pattern, literal)
}

_is_literal_reference(r, path) if {
	some [r2, path2, _] in _literal_references
	r2.stack == r.stack
	r2.address == r.address
	path2 == path
}

# A bare account ID where a policy document names principals or conditions.
_embedded_identifiers contains [d, path, value, "an account ID"] if {
	some d in _policy_documents
	walk(d.values, [path, value])
	is_string(value)
	regex.match(`^[0-9]{12}$`, value)
	some element in path
	element in {"principals", "not_principals", "condition"}
}

# A bare account ID inside an inline JSON policy.
_embedded_identifiers contains [r, [key], value, "an account ID"] if {
	some r in _suspects
	some key in ["policy", "assume_role_policy"]
	value := r.values[key]
	is_string(value)
	regex.match(`"[0-9]{12}"`, regex.replace(value, `\$\{[^}]*\}`, ""))
}

evaluated contains lib.subject(r) if some r in _subjects

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some [r, path, text] in _literal_references
	msg := sprintf(
		"%s holds the literal identifier %q; expected a Terraform expression that references the resource (local or cross-stack)",
		[expr.path_text(path), text],
	)
}

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some [r, path, value, shape] in _embedded_identifiers
	msg := sprintf(
		"%s contains %s typed in as a literal (%q); expected it built from references or data sources (aws_caller_identity, aws_partition)",
		[expr.path_text(path), shape, value],
	)
}
