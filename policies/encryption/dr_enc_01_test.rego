package dr.rules.dr_enc_01_test

import data.dr.rules.dr_enc_01

_key := {"stack": "p", "type": "aws_kms_key", "name": "k", "address": "aws_kms_key.k", "region": "us-east-1", "values": {"enable_key_rotation": true}}

_west_key := {"stack": "s", "type": "aws_kms_key", "name": "k", "address": "aws_kms_key.k", "region": "us-west-2", "values": {"enable_key_rotation": true}}

_cluster(values) := {"stack": "p", "type": "aws_rds_cluster", "name": "db", "address": "aws_rds_cluster.db", "region": "us-east-1", "values": values}

_input(resources) := harness.normalise({"resources": resources})

_messages(result) := {f.message | some f in result}

test_encrypted_cluster_with_regional_cmk_passes if {
	result := dr_enc_01.deny with input as _input([_key, _cluster({"storage_encrypted": true, "kms_key_id": "${aws_kms_key.k.arn}"})])
	count(result) == 0
}

test_cluster_without_storage_encryption_fails if {
	result := dr_enc_01.deny with input as _input([_key, _cluster({"kms_key_id": "${aws_kms_key.k.arn}"})])
	some f in result
	f.requirement == "DR-ENC-01"
	f.address == "aws_rds_cluster.db"
	contains(f.message, "storage_encrypted")
}

test_aws_managed_key_fails if {
	result := dr_enc_01.deny with input as _input([_key, _cluster({"storage_encrypted": true, "kms_key_id": "alias/aws/rds"})])
	some m in _messages(result)
	contains(m, "AWS-managed")
}

test_literal_key_arn_fails if {
	arn := "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	result := dr_enc_01.deny with input as _input([_key, _cluster({"storage_encrypted": true, "kms_key_id": arn})])
	some m in _messages(result)
	contains(m, "literal key identifier")
}

test_key_rotation_off_fails if {
	key := object.union(_key, {"values": {"enable_key_rotation": false}})
	result := dr_enc_01.deny with input as _input([key])
	some m in _messages(result)
	contains(m, "never rotates")
}

_table(replica_key) := {
	"stack": "g", "type": "aws_dynamodb_table", "name": "t", "address": "aws_dynamodb_table.t", "region": "us-east-1",
	"values": {
		"server_side_encryption": {"enabled": true, "kms_key_arn": "${aws_kms_key.k.arn}"},
		"replica": [{"region_name": "us-west-2", "kms_key_arn": replica_key}],
	},
}

_global_key := object.union(_key, {"stack": "g"})

_remote := {"g": {"cross-stack-reference-input-s": {"stack": "s", "outputs": {"west": "${aws_kms_key.k.arn}"}}}}

test_replica_with_cross_stack_key_of_its_region_passes if {
	replica_key := "${data.terraform_remote_state.cross-stack-reference-input-s.outputs.west}"
	result := dr_enc_01.deny with input as harness.normalise({"resources": [_global_key, _west_key, _table(replica_key)], "remote_outputs": _remote})
	count(result) == 0
}

test_replica_with_other_region_key_fails if {
	result := dr_enc_01.deny with input as harness.normalise({"resources": [_global_key, _west_key, _table("${aws_kms_key.k.arn}")], "remote_outputs": _remote})
	some m in _messages(result)
	contains(m, "not us-west-2")
}

test_lambda_environment_without_key_fails if {
	fn := {"stack": "p", "type": "aws_lambda_function", "name": "f", "address": "aws_lambda_function.f", "region": "us-east-1", "values": {"environment": {"variables": {"A": "b"}}}}
	result := dr_enc_01.deny with input as _input([_key, fn])
	some f in result
	f.address == "aws_lambda_function.f"
}

test_bucket_needs_kms_default_encryption if {
	bucket := {"stack": "p", "type": "aws_s3_bucket", "name": "b", "address": "aws_s3_bucket.b", "region": "us-east-1", "values": {}}
	failing := dr_enc_01.deny with input as _input([_key, bucket])
	count(failing) == 1
	sse := {"stack": "p", "type": "aws_s3_bucket_server_side_encryption_configuration", "name": "e", "address": "aws_s3_bucket_server_side_encryption_configuration.e", "region": "us-east-1", "values": {
		"bucket": "${aws_s3_bucket.b.id}",
		"rule": [{"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": "${aws_kms_key.k.arn}"}}],
	}}
	passing := dr_enc_01.deny with input as _input([_key, bucket, sse])
	count(passing) == 0
}

test_aliased_provider_region_is_respected if {
	# One-stack layout: the key lives in us-west-2 through provider aws.west,
	# the cluster in us-east-1: the key is of the wrong region.
	west := object.union(_key, {"region": "us-west-2"})
	result := dr_enc_01.deny with input as _input([west, _cluster({"storage_encrypted": true, "kms_key_id": "${aws_kms_key.k.arn}"})])
	some m in _messages(result)
	contains(m, "is in us-west-2, not us-east-1")
}

test_evaluated_lists_subjects if {
	subjects := dr_enc_01.evaluated with input as _input([_key, _cluster({"storage_encrypted": true})])
	subjects == {"p/aws_kms_key.k", "p/aws_rds_cluster.db"}
}
