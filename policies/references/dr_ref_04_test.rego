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
	result := dr_ref_04.deny with input as {"resources": array.concat(array.concat(_east, _west), resources), "remote_outputs": _remote}
}

_messages(result) := {f.message | some f in result}

_local_function := _function({
	"kms_key_arn": "${aws_kms_key.k.arn}",
	"vpc_config": {"subnet_ids": ["${aws_subnet.a.id}"], "security_group_ids": ["${aws_security_group.fn.id}"]},
})

test_own_region_references_pass if {
	count(_deny([_local_function])) == 0
	subjects := dr_ref_04.evaluated with input as {"resources": array.concat(_west, [_local_function]), "remote_outputs": {}}
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
	contains(f.message, "vpc_config.security_group_ids[0] references aws_security_group aws_security_group.fn of us-east-1 (stack p) but is used in us-west-2")
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
	passing := dr_ref_04.deny with input as {"resources": array.concat(array.concat(_east, _west), [good]), "remote_outputs": remote}
	count(passing) == 0
	failing := dr_ref_04.deny with input as {"resources": array.concat(array.concat(_east, _west), [_table("${aws_kms_key.k.arn}")]), "remote_outputs": remote}
	some f in failing
	contains(f.message, "replica[0].kms_key_arn references aws_kms_key aws_kms_key.k of us-east-1")
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
	result := dr_ref_04.deny with input as {"resources": [key_west, key_east, ok, bad], "remote_outputs": {}}
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
