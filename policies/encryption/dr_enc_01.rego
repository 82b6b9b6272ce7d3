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
#     - framework: nist-800-53
#       control: SC-28
#       grade: satisfies
#       why: Every data store the design creates is encrypted at rest.
#     - framework: nist-800-53
#       control: SC-28(1)
#       grade: satisfies
#       why: The encryption at rest uses customer-managed KMS keys of the store's own region.
#     - framework: nist-800-53
#       control: SC-12
#       grade: supports
#       why: The keys are created by the design and rotate; the rest of key management is outside the configuration.
#     - framework: soc2
#       control: CC6.1
#       grade: supports
#       why: Encryption at rest with customer keys is one of the logical access protections over the data.
#     - framework: iso-27001
#       control: A.8.24
#       grade: supports
#       why: Cryptography protects the data at rest; the organisation's cryptography rules are not checked.
#   observes:
#     aws_rds_cluster: [storage_encrypted, kms_key_id]
#     aws_dynamodb_table: [server_side_encryption, replica.region_name, replica.kms_key_arn]
#     aws_sns_topic: [kms_master_key_id]
#     aws_cloudwatch_log_group: [kms_key_id]
#     aws_lambda_function: [kms_key_arn]
#     aws_secretsmanager_secret: [kms_key_id]
#     aws_kms_key: [enable_key_rotation]
#     aws_ebs_volume: [encrypted, kms_key_id]
#   remediation: >-
#     Create an aws_kms_key with enable_key_rotation = true in each region and
#     pass its arn to the store (kms_key_id, kms_key_arn, kms_master_key_id);
#     turn on storage_encrypted / server_side_encryption where the store has it.
package dr.rules.dr_enc_01

import data.dr.lib

# Each place a store names its key: [store, attribute for messages, the
# attribute's path in the store's values, the region the data lives in].
_key_uses contains [r, "kms_key_id", ["kms_key_id"], r.region] if {
	some type in {"aws_rds_cluster", "aws_cloudwatch_log_group", "aws_secretsmanager_secret", "aws_ebs_volume"}
	some r in lib.resources(type)
}

# A secret's replica is a copy in another region, with a key of its own.
_key_uses contains [r, sprintf("replica[%s].kms_key_id", [region]), ["replica", i, "kms_key_id"], region] if {
	some r in lib.resources("aws_secretsmanager_secret")
	some i, _ in lib.block(r, "replica")
	region := lib.region_at(r, ["replica", i, "region"])
}

_key_uses contains [r, "kms_master_key_id", ["kms_master_key_id"], r.region] if {
	some r in lib.resources("aws_sns_topic")
}

_key_uses contains [r, "server_side_encryption.kms_key_arn", ["server_side_encryption", 0, "kms_key_arn"], r.region] if {
	some r in lib.resources("aws_dynamodb_table")
}

_key_uses contains [r, "kms_key_arn", ["kms_key_arn"], r.region] if {
	some r in lib.resources("aws_dynamodb_table_replica")
}

# Each replica of a table is a table of its own, in its own region.
_key_uses contains [r, sprintf("replica[%s].kms_key_arn", [region]), ["replica", i, "kms_key_arn"], region] if {
	some r in lib.resources("aws_dynamodb_table")
	some i, replica in lib.block(r, "replica")
	region := _replica_region(r, i, replica)
}

_replica_region(r, i, _) := lib.region_at(r, ["replica", i, "region_name"])

_replica_region(r, i, replica) := object.get(replica, "region_name", "an unknown region") if not lib.region_at(r, ["replica", i, "region_name"])

_key_uses contains [r, "kms_key_arn (environment variables)", ["kms_key_arn"], r.region] if {
	some r in lib.resources("aws_lambda_function")
	some environment in lib.block(r, "environment")
	count(object.get(environment, "variables", {})) > 0
}

_key_uses contains [r, sprintf("block_device_mappings[%v].ebs.kms_key_id", [object.get(m, "device_name", i)]), ["block_device_mappings", i, "ebs", 0, "kms_key_id"], r.region] if {
	some r in lib.resources("aws_launch_template")
	some i, m in lib.block(r, "block_device_mappings")
	count(lib.blocks(object.get(m, "ebs", []))) > 0
}

_key_uses contains [c, "kms_master_key_id (default encryption)", path, bucket.region] if {
	some bucket in lib.resources("aws_s3_bucket")
	some c in _bucket_encryption(bucket)
	some i, rule in lib.block(c, "rule")
	some _ in lib.blocks(object.get(rule, "apply_server_side_encryption_by_default", []))
	path := ["rule", i, "apply_server_side_encryption_by_default", 0, "kms_master_key_id"]
}

# The default-encryption configurations of a bucket: blocks that reference it by `bucket`.
_bucket_encryption(bucket) := {lib.by_key[e.from] |
	some e in lib.referrers(bucket)
	e.names == ["bucket"]
	lib.by_key[e.from].type == "aws_s3_bucket_server_side_encryption_configuration"
}

# A value at a path of a store, whether single blocks were written as objects or lists.
_value(r, path) := value if {
	walk(r.values, [p, value])
	lib.same_place(p, path)
}

# The key a path names, when it is a whole reference to a key of the design
# (or to an alias of one).
_key(r, path) := k if {
	keys := {lib.by_key[e.to] | some e in lib.refs(r); e.whole; e.to != null; lib.same_place(e.path, path)}
	some k in keys
	k.type in {"aws_kms_key", "aws_kms_replica_key", "aws_kms_external_key"}
	not startswith(k.address, "data.")
}

_key(r, path) := k if {
	aliases := {lib.by_key[e.to] | some e in lib.refs(r); e.whole; e.to != null; lib.same_place(e.path, path)}
	some alias in aliases
	alias.type == "aws_kms_alias"
	k := lib.kms_key(alias, ["target_key_id"])
}

# Why a key value is not a customer-managed key of the store's region.
_problem(r, path, _) := "no key set (AWS-owned or AWS-managed encryption)" if not is_string(_value(r, path))

_problem(r, path, _) := "an AWS-managed key (alias/aws/...), not a customer-managed key" if {
	value := _value(r, path)
	is_string(value)
	contains(value, "alias/aws/")
}

_problem(r, path, _) := sprintf("a literal key identifier %q, not a reference", [value]) if {
	value := _value(r, path)
	lib.is_literal(value)
	not contains(value, "alias/aws/")
}

_problem(r, path, region) := sprintf("key %s is in %s, not %s", [k.address, k.region, region]) if {
	k := _key(r, path)
	k.region != region
}

_problem(r, path, _) := sprintf("%s is not a KMS key of this design", [value]) if {
	value := _value(r, path)
	lib.is_expression(value)
	not _key(r, path)
	not _looked_up(r, path)
}

_problem(r, path, _) := sprintf("%s is looked up by a data source, not a key created by the design (who controls and rotates it is not shown)", [k.address]) if {
	k := _looked_up(r, path)
}

_looked_up(r, path) := k if {
	some e in lib.refs(r)
	e.to != null
	lib.same_place(e.path, path)
	k := lib.by_key[e.to]
	k.type == "aws_kms_key"
	startswith(k.address, "data.")
}

_regional_cmk(r, path, region) if _key(r, path).region == region

# Stores with an on/off switch for encryption.
_switches contains [r, "storage_encrypted is not true: the cluster's storage is not encrypted at rest"] if {
	some r in lib.resources("aws_rds_cluster")
	object.get(r.values, "storage_encrypted", false) != true
}

_switches contains [r, "encrypted is not true: the volume is not encrypted at rest"] if {
	some r in lib.resources("aws_ebs_volume")
	object.get(r.values, "encrypted", false) != true
}

# DynamoDB always encrypts at rest; without server_side_encryption enabled
# the key is AWS-owned, which the customer cannot control or audit.
_switches contains [r, "server_side_encryption is not enabled: DynamoDB encrypts with an AWS-owned key, not a customer-managed key"] if {
	some r in lib.resources("aws_dynamodb_table")
	not _sse_enabled(r)
}

_switches contains [r, sprintf("block_device_mappings[%v].ebs.encrypted is not true: the volume is not encrypted at rest", [object.get(m, "device_name", i)])] if {
	some r in lib.resources("aws_launch_template")
	some i, m in lib.block(r, "block_device_mappings")
	some ebs in lib.blocks(object.get(m, "ebs", []))
	not object.get(ebs, "encrypted", false) in {true, "true"}
}

_sse_enabled(r) if {
	some sse in lib.block(r, "server_side_encryption")
	sse.enabled == true
}

evaluated contains lib.subject(use[0]) if some use in _key_uses

evaluated contains lib.subject(r) if some r in lib.resources("aws_kms_key")

evaluated contains lib.subject(r) if some r in lib.resources("aws_s3_bucket")

deny contains lib.finding(rego.metadata.chain(), r, msg) if some [r, msg] in _switches

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some [r, attribute, path, region] in _key_uses
	not _regional_cmk(r, path, region)
	not _switched_off(r, attribute)
	msg := sprintf("%s: %s; expected a customer-managed key of %s", [attribute, _one_problem(r, path, region), region])
}

# A store whose encryption switch is off already has its finding: one cause, one finding.
_switched_off(r, "server_side_encryption.kms_key_arn") if {
	r.type == "aws_dynamodb_table"
	not _sse_enabled(r)
}

_one_problem(r, path, region) := lib.first([p | p := _problem(r, path, region)], "no customer-managed key of this region")

# A bucket without any default-encryption configuration.
deny contains lib.finding(rego.metadata.chain(), bucket, msg) if {
	some bucket in lib.resources("aws_s3_bucket")
	count(_bucket_encryption(bucket)) == 0
	msg := sprintf("no aws_s3_bucket_server_side_encryption_configuration names this bucket: S3 encrypts with its own key (SSE-S3); expected aws:kms with a customer-managed key of %s", [bucket.region])
}

deny contains lib.finding(rego.metadata.chain(), r, "enable_key_rotation is not true: the key never rotates") if {
	some r in lib.resources("aws_kms_key")
	object.get(r.values, "enable_key_rotation", false) != true
}
