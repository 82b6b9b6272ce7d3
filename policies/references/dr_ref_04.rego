# METADATA
# title: Resources use the KMS keys, subnets and security groups of their own region
# description: >-
#   A resource only references KMS keys, subnets and security groups created
#   (or looked up by data source) in the region where the resource itself is
#   created: a replica block of a DynamoDB table or Secrets Manager secret in
#   the replica's region, the destination of an S3 replication rule in the
#   destination bucket's region. A reference to another region's key or
#   network either fails at deployment or, worse, ties the surviving region
#   to the region that has just failed, so the recovery cannot proceed
#   without it. References inside functions and across stacks count. IAM is
#   global: a role, policy or policy document that names another region's
#   key ARN creates no regional dependency and is not judged here, nor are
#   outputs; a replica key's primary_key_arn names the other region's key by
#   design. Where the region of either side cannot be worked out, the use is
#   evaluated but not failed.
# custom:
#   id: DR-REF-04
#   severity: high
#   controls:
#     - framework: nist-800-53
#       control: CM-2
#       grade: supports
#       why: Each region's resources use that region's keys and network only.
#     - framework: soc2
#       control: A1.2
#       grade: supports
#       why: The surviving region does not depend on keys or networks of the region that failed.
#     - framework: iso-27001
#       control: A.8.9
#       grade: supports
#       why: No resource is configured with another region's key or network.
#   observes:
#     aws_dynamodb_table: [region, replica.region_name, replica.kms_key_arn]
#     aws_lambda_function: [region, kms_key_arn, vpc_config.subnet_ids, vpc_config.security_group_ids]
#     aws_rds_cluster: [region, kms_key_id, db_subnet_group_name, vpc_security_group_ids]
#   remediation: >-
#     Give each region its own key, subnets and security groups and pass the
#     ones of the resource's region; a cross-stack reference is only right
#     when the other stack's resource is in the same region.
package dr.rules.dr_ref_04

import data.dr.lib
import data.dr.references.topology

_regional_types := [
	"aws_kms_key", "aws_kms_replica_key", "aws_kms_external_key", "aws_kms_replica_external_key", "aws_kms_alias",
	"aws_subnet", "aws_default_subnet",
	"aws_security_group", "aws_default_security_group",
]

# Attributes that name another region's resource on purpose.
_cross_region_by_design := {
	"aws_kms_replica_key": {"primary_key_arn"},
	"aws_kms_replica_external_key": {"primary_key_arn"},
}

# Every use of a key, subnet or security group by a resource, by keys:
# [user, attribute, target, region the value takes effect in].
_uses contains [r.key, lib.path_text(e.path), t.key, topology.use_region(r, e.path)] if {
	some type in _regional_types
	some t in array.concat(lib.resources(type), lib.data_sources(type))
	some e in lib.referrers(t)
	r := lib.by_key[e.from]
	not startswith(r.address, "data.")
	not startswith(r.type, "aws_iam_")
	not e.path[0] in object.get(_cross_region_by_design, r.type, set())
}

evaluated contains lib.subject(lib.by_key[r]) if some [r, _, _, _] in _uses

deny contains lib.finding(rego.metadata.chain(), lib.by_key[user], msg) if {
	some [user, attribute, target, region] in _uses
	t := lib.by_key[target]
	is_string(t.region)
	is_string(region)
	t.region != region
	msg := sprintf(
		"%s references %s of %s (stack %s) but is used in %s; expected the %s of its own region",
		[attribute, t.address, t.region, t.stack, region, _kind(t.type)],
	)
}

_kind(type) := "KMS key" if startswith(type, "aws_kms_")

_kind(type) := "subnet" if endswith(type, "subnet")

_kind(type) := "security group" if endswith(type, "security_group")
