# METADATA
# title: Data at rest is encrypted with customer-managed keys of its own region
# description: >-
#   Every data store the design creates (Aurora clusters, DynamoDB tables and
#   each replica, SNS topics, CloudWatch log groups, Lambda environment
#   variables, Secrets Manager secrets, S3 buckets, EBS volumes and launch
#   templates) is encrypted with a customer-managed KMS key created by the
#   design in the store's own region, and every such key rotates.
# custom:
#   id: DR-ENC-01
#   severity: high
#   controls:
#     nist-800-53: [SC-28, SC-28(1), SC-12]
#     soc2: [CC6.1, CC6.7]
#     iso-27001: [A.8.24]
#   remediation: >-
#     Create an aws_kms_key with enable_key_rotation = true in each region and
#     pass its arn to the store (kms_key_id, kms_key_arn, kms_master_key_id);
#     turn on storage_encrypted / server_side_encryption where the store has it.
package dr.rules.dr_enc_01

import data.dr.lib

# Each place a store names its key: [resource, attribute, key value, region].
_key_uses contains [r, "kms_key_id", object.get(r.values, "kms_key_id", null), r.region] if {
	some type in {"aws_rds_cluster", "aws_cloudwatch_log_group", "aws_secretsmanager_secret", "aws_ebs_volume"}
	some r in lib.resources(type)
}

_key_uses contains [r, "kms_master_key_id", object.get(r.values, "kms_master_key_id", null), r.region] if {
	some r in lib.resources("aws_sns_topic")
}

_key_uses contains [r, "server_side_encryption.kms_key_arn", key, r.region] if {
	some r in lib.resources("aws_dynamodb_table")
	key := object.get(lib.first(lib.block(r, "server_side_encryption"), {}), "kms_key_arn", null)
}

_key_uses contains [r, sprintf("replica[%s].kms_key_arn", [replica.region_name]), key, replica.region_name] if {
	some r in lib.resources("aws_dynamodb_table")
	some replica in lib.block(r, "replica")
	key := object.get(replica, "kms_key_arn", null)
}

_key_uses contains [r, "kms_key_arn (environment variables)", object.get(r.values, "kms_key_arn", null), r.region] if {
	some r in lib.resources("aws_lambda_function")
	some environment in lib.block(r, "environment")
	count(object.get(environment, "variables", {})) > 0
}

_key_uses contains [r, sprintf("block_device_mappings[%s].ebs.kms_key_id", [m.device_name]), object.get(ebs, "kms_key_id", null), r.region] if {
	some r in lib.resources("aws_launch_template")
	some m in lib.block(r, "block_device_mappings")
	some ebs in lib.blocks(object.get(m, "ebs", []))
}

_key_uses contains [r, "server-side encryption configuration", key, r.region] if {
	some r in lib.resources("aws_s3_bucket")
	key := _bucket_key(r)
}

# The KMS key of a bucket's default encryption, or null when it has none.
_bucket_key(bucket) := key if {
	keys := [k |
		some c in lib.resources("aws_s3_bucket_server_side_encryption_configuration")
		lib.ref_target(c.stack, c.values.bucket) == bucket
		some rule in lib.block(c, "rule")
		some d in lib.blocks(object.get(rule, "apply_server_side_encryption_by_default", []))
		object.get(d, "sse_algorithm", "") in {"aws:kms", "aws:kms:dsse"}
		k := object.get(d, "kms_master_key_id", null)
	]
	key := lib.first(keys, null)
}

# Stores with an on/off switch for encryption.
_switches contains [r, "storage_encrypted"] if {
	some r in lib.resources("aws_rds_cluster")
	object.get(r.values, "storage_encrypted", false) != true
}

_switches contains [r, "encrypted"] if {
	some r in lib.resources("aws_ebs_volume")
	object.get(r.values, "encrypted", false) != true
}

_switches contains [r, "server_side_encryption.enabled"] if {
	some r in lib.resources("aws_dynamodb_table")
	not _sse_enabled(r)
}

_switches contains [r, sprintf("block_device_mappings[%s].ebs.encrypted", [m.device_name])] if {
	some r in lib.resources("aws_launch_template")
	some m in lib.block(r, "block_device_mappings")
	some ebs in lib.blocks(object.get(m, "ebs", []))
	not object.get(ebs, "encrypted", false) in {true, "true"}
}

_sse_enabled(r) if {
	some sse in lib.block(r, "server_side_encryption")
	sse.enabled == true
}

evaluated contains lib.subject(use[0]) if some use in _key_uses

evaluated contains lib.subject(r) if some r in lib.resources("aws_kms_key")

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some [r, attribute] in _switches
	msg := sprintf("%s is not true: the store is not encrypted at rest", [attribute])
}

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some [r, attribute, key, region] in _key_uses
	not lib.is_regional_cmk(r.stack, key, region)
	msg := sprintf("%s: %s; expected a customer-managed key of %s", [attribute, _problem(r.stack, key, region), region])
}

deny contains lib.finding(rego.metadata.chain(), r, "enable_key_rotation is not true: the key never rotates") if {
	some r in lib.resources("aws_kms_key")
	object.get(r.values, "enable_key_rotation", false) != true
}

_problem(stack, key, region) := p if {
	p := lib.first([q | q := lib.key_problem(stack, key, region)], "no customer-managed key of this region")
}
