# METADATA
# title: Resources use the KMS keys, subnets and security groups of their own region
# description: >-
#   A resource only references KMS keys, subnets and security groups created
#   in the region where the resource itself is created (a DynamoDB replica in
#   the replica's region). A reference to another region's key or network
#   either fails at deployment or, worse, ties the surviving region to the
#   region that has just failed, so the recovery cannot proceed without it.
# custom:
#   id: DR-REF-04
#   severity: high
#   controls:
#     nist-800-53: [CM-2, CM-6, SA-10]
#     soc2: [CC8.1]
#     iso-27001: [A.8.9, A.8.32]
#   remediation: >-
#     Give each region its own key, subnets and security groups and pass the
#     ones of the resource's region; a cross-stack reference is only right
#     when the other stack's resource is in the same region.
package dr.rules.dr_ref_04

import data.dr.lib
import data.dr.references.expressions as expr

_regional_types := {
	"aws_kms_key", "aws_kms_replica_key", "aws_kms_alias",
	"aws_subnet", "aws_default_subnet",
	"aws_security_group", "aws_default_security_group",
}

# Attributes that name another region's resource on purpose.
_cross_region_by_design := {"aws_kms_replica_key": {"primary_key_arn"}}

# Every use of a key, subnet or security group:
# [stack, address, path, target type, target address, target stack, target region, region of use].
# Only resources whose JSON text mentions such a type are walked, and each
# string passes one regular expression first; most uses are then one
# whole local reference (${aws_kms_key.name.arn}), resolved with string
# functions, and the rest (references inside functions, cross-stack
# references) go through the general resolver.
_uses contains [r.stack, r.address, path, t.type, t.address, t.stack, t.region, _region_of_use(r, path)] if {
	some i, r in input.resources
	_mentions_regional(expr.resource_texts[i])
	walk(r.values, [path, value])
	is_string(value)
	regex.match(_regional_text, value)
	not path[0] in object.get(_cross_region_by_design, r.type, set())
	some t in _targets(r.stack, value)
}

_regional_text := `terraform_remote_state|(?:aws_kms_key|aws_kms_replica_key|aws_kms_alias|aws_subnet|aws_default_subnet|aws_security_group|aws_default_security_group)\.`

# The literals _regional_text is made of: a text matches it exactly when it
# contains one of them. Each is looked for once in all texts together, and
# only those found are looked for resource by resource (`contains` costs far
# less than a regular expression over every resource's text).
_regional_literals := [
	"terraform_remote_state",
	"aws_kms_key.", "aws_kms_replica_key.", "aws_kms_alias.",
	"aws_subnet.", "aws_default_subnet.",
	"aws_security_group.", "aws_default_security_group.",
]

_found_literals := {literal |
	all_texts := concat("\n", expr.resource_texts)
	some literal in _regional_literals
	contains(all_texts, literal)
}

_mentions_regional(text) if {
	some literal in _found_literals
	contains(text, literal)
}

_targets(stack, value) := {t |
	parts := split(substring(value, 2, -1), ".")
	t := lib.by_key[concat("|", [stack, concat(".", [parts[0], parts[1]])])]
} if _whole_local_reference(value)

_targets(stack, value) := {t |
	some t in expr.targets(stack, value)
	t.type in _regional_types
} if not _whole_local_reference(value)

_whole_local_reference(value) if {
	strings.any_prefix_match(value, _regional_prefixes)
	indexof(value, "}") == count(value) - 1
}

_regional_prefixes := [sprintf("${%s.", [type]) | some type in _regional_types]

# A DynamoDB replica's settings apply in the replica's region.
_region_of_use(r, path) := replica.region_name if {
	path[0] == "replica"
	r.type == "aws_dynamodb_table"
	replica := _replica(r.values.replica, path[1])
}

_region_of_use(r, path) := r.region if not _in_replica(r.type, path)

_in_replica("aws_dynamodb_table", path) if path[0] == "replica"

_replica(replicas, index) := replicas[index] if is_number(index)

_replica(replicas, index) := replicas if is_string(index)

evaluated contains sprintf("%s/%s", [stack, address]) if some [stack, address, _, _, _, _, _, _] in _uses

deny contains lib.finding(rego.metadata.chain(), {"stack": stack, "address": address}, msg) if {
	some [stack, address, path, type, target, target_stack, target_region, region] in _uses
	target_region != null
	region != null
	target_region != region
	msg := sprintf("%s references %s %s of %s (stack %s) but is used in %s; expected the %s of its own region", [expr.path_text(path), type, target, target_region, target_stack, region, _kind(type)])
}

_kind(type) := "KMS key" if startswith(type, "aws_kms_")

_kind(type) := "subnet" if endswith(type, "subnet")

_kind(type) := "security group" if endswith(type, "security_group")
