package dr.rules.dr_ref_04_test

import data.dr.rules.dr_ref_04

_res(stack, region, type, name, values) := {"stack": stack, "type": type, "name": name, "address": sprintf("%s.%s", [type, name]), "region": region, "values": values}

_east := [
	_res("p", "us-east-1", "aws_kms_key", "k", {}),
	_res("p", "us-east-1", "aws_subnet", "a", {}),
	_res("p", "us-east-1", "aws_security_group", "fn", {}),
]

_west := [
	_res("s", "us-west-2", "aws_kms_key", "k", {}),
	_res("s", "us-west-2", "aws_subnet", "a", {}),
	_res("s", "us-west-2", "aws_security_group", "fn", {}),
]

_remote := {"s": {"cross-stack-reference-input-p": {"stack": "p", "outputs": {
	"key": "${aws_kms_key.k.arn}",
	"subnet": "${aws_subnet.a.id}",
	"sg": "${aws_security_group.fn.id}",
}}}}

_function(values) := _res("s", "us-west-2", "aws_lambda_function", "f", values)

_deny(resources) := result if {
	result := dr_ref_04.deny with input as harness.normalise({"resources": array.concat(array.concat(_east, _west), resources), "remote_outputs": _remote})
}

_messages(result) := {f.message | some f in result}

_local_function := _function({
	"kms_key_arn": "${aws_kms_key.k.arn}",
	"vpc_config": {"subnet_ids": ["${aws_subnet.a.id}"], "security_group_ids": ["${aws_security_group.fn.id}"]},
})

test_own_region_references_pass if {
	count(_deny([_local_function])) == 0
	subjects := dr_ref_04.evaluated with input as harness.normalise({"resources": array.concat(_west, [_local_function]), "remote_outputs": {}})
	subjects == {"s/aws_lambda_function.f"}
}

test_security_group_of_the_other_region_fails if {
	fn := _function({"vpc_config": {
		"subnet_ids": ["${aws_subnet.a.id}"],
		"security_group_ids": ["${data.terraform_remote_state.cross-stack-reference-input-p.outputs.sg}"],
	}})
	result := _deny([fn])
	count(result) == 1
	some f in result
	f.requirement == "DR-REF-04"
	f.address == "aws_lambda_function.f"
	contains(f.message, "vpc_config.security_group_ids[0] references aws_security_group.fn of us-east-1 (stack p) but is used in us-west-2")
}

test_subnet_and_key_of_the_other_region_fail if {
	group := _res("s", "us-west-2", "aws_db_subnet_group", "g", {"subnet_ids": ["${aws_subnet.a.id}", "${data.terraform_remote_state.cross-stack-reference-input-p.outputs.subnet}"]})
	logs := _res("s", "us-west-2", "aws_cloudwatch_log_group", "l", {"kms_key_id": "${data.terraform_remote_state.cross-stack-reference-input-p.outputs.key}"})
	result := _deny([group, logs])
	count(result) == 2
	some m in _messages(result)
	contains(m, "expected the subnet of its own region")
	some n in _messages(result)
	contains(n, "expected the KMS key of its own region")
}

_table(key) := _res("p", "us-east-1", "aws_dynamodb_table", "t", {
	"server_side_encryption": {"enabled": true, "kms_key_arn": "${aws_kms_key.k.arn}"},
	"replica": [{"region_name": "us-west-2", "kms_key_arn": key}],
})

test_replica_key_is_judged_in_the_replica_region if {
	remote := {"p": {"cross-stack-reference-input-s": {"stack": "s", "outputs": {"key": "${aws_kms_key.k.arn}"}}}}
	good := _table("${data.terraform_remote_state.cross-stack-reference-input-s.outputs.key}")
	passing := dr_ref_04.deny with input as harness.normalise({"resources": array.concat(array.concat(_east, _west), [good]), "remote_outputs": remote})
	count(passing) == 0
	failing := dr_ref_04.deny with input as harness.normalise({"resources": array.concat(array.concat(_east, _west), [_table("${aws_kms_key.k.arn}")]), "remote_outputs": remote})
	some f in failing
	contains(f.message, "replica[0].kms_key_arn references aws_kms_key.k of us-east-1")
}

test_single_replica_object_is_judged_in_its_region if {
	table := _res("p", "us-east-1", "aws_dynamodb_table", "t", {"replica": {"region_name": "us-west-2", "kms_key_arn": "${aws_kms_key.k.arn}"}})
	result := _deny([table])
	count(result) == 1
}

# One stack, aliased providers: regions come from the model, not stack names.
test_one_stack_aliased_layout if {
	key_west := _res("app", "us-west-2", "aws_kms_key", "west", {})
	key_east := _res("app", "us-east-1", "aws_kms_key", "east", {})
	ok := _res("app", "us-west-2", "aws_sns_topic", "ok", {"kms_master_key_id": "${aws_kms_key.west.arn}"})
	bad := _res("app", "us-west-2", "aws_sns_topic", "bad", {"kms_master_key_id": "${aws_kms_key.east.arn}"})
	result := dr_ref_04.deny with input as harness.normalise({"resources": [key_west, key_east, ok, bad], "remote_outputs": {}})
	{f.address | some f in result} == {"aws_sns_topic.bad"}
}

test_replica_key_pointing_at_its_primary_is_by_design if {
	replica := _res("s", "us-west-2", "aws_kms_replica_key", "r", {"primary_key_arn": "${data.terraform_remote_state.cross-stack-reference-input-p.outputs.key}"})
	count(_deny([replica])) == 0
}

test_unknown_region_is_not_judged if {
	fn := object.union(_function({"kms_key_arn": "${data.terraform_remote_state.cross-stack-reference-input-p.outputs.key}"}), {"region": null})
	count(_deny([fn])) == 0
}

# --- one stack with aliased providers: IAM, functions, replicas, data sources -------

_app(type, name, region, values) := {"stack": "app", "type": type, "name": name, "region": region, "values": values}

_keys := [_app("aws_kms_key", "east", "us-east-1", {}), _app("aws_kms_key", "west", "us-west-2", {})]

_app_deny(resources, data_sources) := result if {
	result := dr_ref_04.deny with input as harness.normalise({"resources": array.concat(_keys, resources), "data_sources": data_sources, "stacks": [{"name": "app", "region": "us-east-1"}]})
}

test_iam_naming_another_regions_key_is_not_judged if {
	policy := _app("aws_iam_role_policy", "decrypt", "us-east-1", {
		"role": "${aws_iam_role.r.id}",
		"policy": "${jsonencode({\"Version\" = \"2012-10-17\", \"Statement\" = [{\"Effect\" = \"Allow\", \"Action\" = [\"kms:Decrypt\"], \"Resource\" = [aws_kms_key.west.arn]}]})}",
	})
	managed := _app("aws_iam_policy", "decrypt", "us-east-1", {"policy": "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"kms:Decrypt\",\"Resource\":\"${aws_kms_key.west.arn}\"}]}"})
	document := _app("aws_iam_policy_document", "decrypt", "us-east-1", {"statement": [{"actions": ["kms:Decrypt"], "resources": ["${aws_kms_key.west.arn}"]}]})
	count(_app_deny([policy, managed], [document])) == 0
	# The same key used by a regional resource is a finding: the exemption is IAM's alone.
	topic := _app("aws_sns_topic", "t", "us-east-1", {"kms_master_key_id": "${aws_kms_key.west.arn}"})
	count(_app_deny([policy, managed, topic], [document])) == 1
}

test_reference_inside_a_function_counts if {
	subnets := _app("aws_subnet", "east", "us-east-1", {"count": 3, "vpc_id": "${aws_vpc.v.id}"})
	fn := _app("aws_lambda_function", "f", "us-west-2", {"vpc_config": {"subnet_ids": ["${element(aws_subnet.east[*].id, 0)}"], "security_group_ids": []}})
	result := _app_deny([subnets, fn], [])
	count(result) == 1
	some f in result
	contains(f.message, "vpc_config.subnet_ids[0] references aws_subnet.east of us-east-1 (stack app) but is used in us-west-2")
}

test_key_looked_up_in_another_region_fails if {
	lookup := _app("aws_kms_key", "shared", "us-east-1", {"key_id": "alias/shared"})
	logs := _app("aws_cloudwatch_log_group", "l", "us-west-2", {"kms_key_id": "${data.aws_kms_key.shared.arn}"})
	result := _app_deny([logs], [lookup])
	some f in result
	contains(f.message, "references data.aws_kms_key.shared of us-east-1")
}

_secret(key) := _app("aws_secretsmanager_secret", "s", "us-east-1", {
	"kms_key_id": "${aws_kms_key.east.arn}",
	"replica": [{"region": "us-west-2", "kms_key_id": key}],
})

test_secret_replica_key_is_judged_in_the_replica_region if {
	count(_app_deny([_secret("${aws_kms_key.west.arn}")], [])) == 0
	result := _app_deny([_secret("${aws_kms_key.east.arn}")], [])
	some f in result
	contains(f.message, "replica[0].kms_key_id references aws_kms_key.east of us-east-1 (stack app) but is used in us-west-2")
}

test_dynamodb_replica_region_from_an_aws_region_data_source if {
	region := _app("aws_region", "dr", "us-west-2", {})
	table := _app("aws_dynamodb_table", "t", "us-east-1", {"replica": [{"region_name": "${data.aws_region.dr.name}", "kms_key_arn": "${aws_kms_key.west.arn}"}]})
	count(_app_deny([table], [region])) == 0
	wrong := _app("aws_dynamodb_table", "t", "us-east-1", {"replica": [{"region_name": "${data.aws_region.dr.name}", "kms_key_arn": "${aws_kms_key.east.arn}"}]})
	count(_app_deny([wrong], [region])) == 1
}

_replication(key) := _app("aws_s3_bucket_replication_configuration", "crr", "us-east-1", {
	"bucket": "${aws_s3_bucket.source.id}",
	"role": "${aws_iam_role.replication.arn}",
	"rule": [{"id": "all", "status": "Enabled", "destination": {
		"bucket": "${aws_s3_bucket.replica.arn}",
		"encryption_configuration": {"replica_kms_key_id": key},
	}}],
})

test_s3_replication_key_is_judged_in_the_destination_region if {
	buckets := [_app("aws_s3_bucket", "source", "us-east-1", {}), _app("aws_s3_bucket", "replica", "us-west-2", {})]
	count(_app_deny(array.concat(buckets, [_replication("${aws_kms_key.west.arn}")]), [])) == 0
	result := _app_deny(array.concat(buckets, [_replication("${aws_kms_key.east.arn}")]), [])
	some f in result
	contains(f.message, "but is used in us-west-2; expected the KMS key of its own region")
}

test_unknown_replica_region_is_not_judged if {
	table := _app("aws_dynamodb_table", "t", "us-east-1", {"replica": [{"region_name": "${var.dr_region}", "kms_key_arn": "${aws_kms_key.east.arn}"}]})
	count(_app_deny([table], [])) == 0
}

test_s3_replication_to_a_bucket_outside_the_design_is_not_judged if {
	crr := _app("aws_s3_bucket_replication_configuration", "crr", "us-east-1", {
		"bucket": "${aws_s3_bucket.source.id}",
		"rule": [{"status": "Enabled", "destination": [{
			"bucket": "arn:aws:s3:::archive-elsewhere",
			"encryption_configuration": [{"replica_kms_key_id": "${aws_kms_key.west.arn}"}],
		}]}],
	})
	count(_app_deny([_app("aws_s3_bucket", "source", "us-east-1", {}), crr], [])) == 0
}
