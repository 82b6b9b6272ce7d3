package dr.rules.dr_iam_01_test

import data.dr.rules.dr_iam_01

_resource(stack, type, name, values) := {
	"stack": stack, "type": type, "name": name, "address": sprintf("%s.%s", [type, name]),
	"region": "us-west-2", "provider": "aws", "values": values,
}

_doc(stack, name, statements) := {
	"stack": stack, "type": "aws_iam_policy_document", "name": name,
	"address": sprintf("data.aws_iam_policy_document.%s", [name]),
	"region": "us-west-2", "provider": "aws", "values": {"statement": statements},
}

_lambda_trust := {"actions": ["sts:AssumeRole"], "principals": [{"type": "Service", "identifiers": ["lambda.amazonaws.com"]}]}

_promote := {
	"sid": "Promote", "actions": ["rds:FailoverGlobalCluster", "rds:DescribeGlobalClusters"],
	"resources": ["${aws_rds_cluster.db.arn}"],
}

_role := _resource("s", "aws_iam_role", "failover", {"assume_role_policy": "${data.aws_iam_policy_document.assume.json}"})

_role_policy(policy) := _resource("s", "aws_iam_role_policy", "grants", {"role": "${aws_iam_role.failover.id}", "policy": policy})

_fn := _resource("s", "aws_lambda_function", "failover", {"role": "${aws_iam_role.failover.arn}"})

_grants_ref := "${data.aws_iam_policy_document.grants.json}"

_input(grants, trust, resources) := {
	"resources": array.concat([_role, _fn], resources),
	"data_sources": [_doc("s", "assume", trust), _doc("s", "grants", grants)],
	"remote_outputs": {},
}

_project := _input([_promote], [_lambda_trust], [_role_policy(_grants_ref)])

_messages(result) := {f.message | some f in result}

test_named_actions_on_named_resources_pass if {
	result := dr_iam_01.deny with input as _project
	count(result) == 0
}

test_service_wildcard_action_fails if {
	wide := object.union(_promote, {"actions": ["rds:*"]})
	result := dr_iam_01.deny with input as _input([wide], [_lambda_trust], [_role_policy(_grants_ref)])
	some f in result
	f.requirement == "DR-IAM-01"
	f.address == "aws_iam_role_policy.grants"
	contains(f.message, `action "rds:*"`)
	contains(f.message, "data.aws_iam_policy_document.grants")
}

test_resource_wildcard_fails if {
	wide := object.union(_promote, {"resources": ["*"]})
	result := dr_iam_01.deny with input as _input([wide], [_lambda_trust], [_role_policy(_grants_ref)])
	some m in _messages(result)
	contains(m, `resource "*"`)
}

test_not_action_allow_fails if {
	wide := {"sid": "AllBut", "not_actions": ["iam:*"], "resources": ["${aws_rds_cluster.db.arn}"]}
	result := dr_iam_01.deny with input as _input([wide], [_lambda_trust], [_role_policy(_grants_ref)])
	some m in _messages(result)
	contains(m, "NotAction")
}

test_deny_statement_with_wildcards_is_not_a_grant if {
	guard := {"sid": "Guard", "effect": "Deny", "actions": ["*"], "resources": ["*"]}
	result := dr_iam_01.deny with input as _input([_promote, guard], [_lambda_trust], [_role_policy(_grants_ref)])
	count(result) == 0
}

test_literal_json_policy_everything_fails if {
	# Statement as an object, Action and Resource as strings.
	policy := `{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}`
	result := dr_iam_01.deny with input as _input([_promote], [_lambda_trust], [_role_policy(policy)])
	messages := _messages(result)
	count(messages) == 2
	some m in messages
	contains(m, "policy (literal JSON)")
}

test_literal_json_policy_named_grants_pass if {
	policy := json.marshal({"Version": "2012-10-17", "Statement": [{
		"Effect": "Allow", "Action": ["rds:FailoverGlobalCluster"],
		"Resource": ["arn:aws:rds::123456789012:global-cluster:dr"],
	}]})
	result := dr_iam_01.deny with input as _input([_promote], [_lambda_trust], [_role_policy(policy)])
	count(result) == 0
}

test_unreadable_policy_fails if {
	policy := "${jsonencode({Statement = []})}"
	result := dr_iam_01.deny with input as _input([_promote], [_lambda_trust], [_role_policy(policy)])
	some m in _messages(result)
	contains(m, "cannot be verified")
}

test_inline_policy_block_is_judged if {
	role := object.union(_role, {"values": {"inline_policy": [{"name": "all", "policy": `{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b"}]}`}]}})
	result := dr_iam_01.deny with input as {
		"resources": [role, _fn],
		"data_sources": [_doc("s", "assume", [_lambda_trust])],
		"remote_outputs": {},
	}
	some f in result
	f.address == "aws_iam_role.failover"
	contains(f.message, `inline_policy "all"`)
}

test_lambda_role_also_trusted_by_ec2_fails if {
	trust := {"actions": ["sts:AssumeRole"], "principals": [{"type": "Service", "identifiers": ["lambda.amazonaws.com", "ec2.amazonaws.com"]}]}
	result := dr_iam_01.deny with input as _input([_promote], [trust], [_role_policy(_grants_ref)])
	some f in result
	f.address == "aws_iam_role.failover"
	contains(f.message, "also trusts Service ec2.amazonaws.com")
}

test_lambda_role_literal_json_trust if {
	good := `{"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}]}`
	bad := `{"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": "*"}]}`
	passing := dr_iam_01.deny with input as {"resources": [object.union(_role, {"values": {"assume_role_policy": good}}), _fn], "remote_outputs": {}}
	count(passing) == 0
	failing := dr_iam_01.deny with input as {"resources": [object.union(_role, {"values": {"assume_role_policy": bad}}), _fn], "remote_outputs": {}}
	some m in _messages(failing)
	contains(m, "also trusts * *")
}

test_lambda_role_trusting_someone_else_fails if {
	trust := {"actions": ["sts:AssumeRole"], "principals": [{"type": "Service", "identifiers": ["ec2.amazonaws.com"]}]}
	result := dr_iam_01.deny with input as _input([_promote], [trust], [_role_policy(_grants_ref)])
	some m in _messages(result)
	contains(m, "no Allow statement names lambda.amazonaws.com")
}

test_function_on_a_literal_role_arn_fails if {
	fn := _resource("s", "aws_lambda_function", "failover", {"role": "arn:aws:iam::123456789012:role/admin"})
	result := dr_iam_01.deny with input as {"resources": [fn], "remote_outputs": {}}
	some f in result
	f.address == "aws_lambda_function.failover"
	contains(f.message, "not an aws_iam_role of this design")
}

_key_policy := [
	{"sid": "AccountAdministers", "actions": ["kms:*"], "resources": ["*"], "principals": [{"type": "AWS", "identifiers": ["arn:aws:iam::123456789012:root"]}]},
]

test_key_policy_is_left_to_dr_enc_02 if {
	key := _resource("s", "aws_kms_key", "k", {"policy": "${data.aws_iam_policy_document.key.json}"})
	result := dr_iam_01.deny with input as {
		"resources": [key],
		"data_sources": [_doc("s", "key", _key_policy)],
		"remote_outputs": {},
	}
	count(result) == 0
}

test_document_applied_by_no_resource_is_judged_itself if {
	result := dr_iam_01.deny with input as {
		"resources": [],
		"data_sources": [_doc("s", "key", _key_policy)],
		"remote_outputs": {},
	}
	some f in result
	f.address == "data.aws_iam_policy_document.key"
}

test_cross_stack_document_is_resolved if {
	# The role policy of stack "g" applies a document of stack "s" through remote state.
	policy := _resource("g", "aws_iam_policy", "shared", {"policy": "${data.terraform_remote_state.cross-stack-reference-input-s.outputs.doc}"})
	remote := {"g": {"cross-stack-reference-input-s": {"stack": "s", "outputs": {"doc": _grants_ref}}}}
	wide := object.union(_promote, {"actions": ["*"]})
	result := dr_iam_01.deny with input as {"resources": [policy], "data_sources": [_doc("s", "grants", [wide])], "remote_outputs": remote}
	some f in result
	f.stack == "g"
	f.address == "aws_iam_policy.shared"
	contains(f.message, `action "*"`)
}

test_one_stack_layout_with_aliased_provider if {
	# One stack "app" holds both regions; the failover role is in us-west-2 through aws.secondary.
	role := object.union(_role, {"stack": "app", "provider": "aws.secondary"})
	fn := object.union(_fn, {"stack": "app", "provider": "aws.secondary"})
	policy := object.union(_role_policy(_grants_ref), {"stack": "app", "provider": "aws.secondary"})
	trust := {"actions": ["sts:AssumeRole"], "principals": [{"type": "Service", "identifiers": ["lambda.amazonaws.com", "ec2.amazonaws.com"]}]}
	wide := object.union(_promote, {"resources": ["*"]})
	result := dr_iam_01.deny with input as {
		"resources": [role, fn, policy],
		"data_sources": [_doc("app", "assume", [trust]), _doc("app", "grants", [wide])],
		"remote_outputs": {},
		"stacks": [{"name": "app", "providers": {"aws": "us-east-1", "aws.secondary": "us-west-2"}}],
	}
	{[f.stack, f.address] | some f in result} == {["app", "aws_iam_role.failover"], ["app", "aws_iam_role_policy.grants"]}
}

test_evaluated_lists_subjects if {
	subjects := dr_iam_01.evaluated with input as _project
	subjects == {"s/aws_iam_role.failover", "s/aws_iam_role_policy.grants", "s/aws_lambda_function.failover"}
}

test_source_policy_document_is_judged_with_its_user if {
	# The applied document merges a wide one: the finding names the role policy, not the merged document.
	wide := object.union(_promote, {"sid": "Everything", "actions": ["*"]})
	grants := object.union(_doc("s", "grants", [_promote]), {"values": {"source_policy_documents": ["${data.aws_iam_policy_document.base.json}"]}})
	result := dr_iam_01.deny with input as {
		"resources": [_role, _fn, _role_policy(_grants_ref)],
		"data_sources": [_doc("s", "assume", [_lambda_trust]), grants, _doc("s", "base", [wide])],
		"remote_outputs": {},
	}
	{[f.address, f.message] | some f in result} == {[
		"aws_iam_role_policy.grants",
		`policy (data.aws_iam_policy_document.grants): statement Everything allows action "*"; expected named actions on the resources of this design (a scoped exception needs a waiver)`,
	]}
}

test_wide_aws_managed_policy_attachment_fails if {
	admin := _resource("s", "aws_iam_role_policy_attachment", "admin", {"role": "${aws_iam_role.failover.name}", "policy_arn": "arn:aws:iam::aws:policy/AdministratorAccess"})
	vpc := _resource("s", "aws_iam_role_policy_attachment", "vpc", {"role": "${aws_iam_role.failover.name}", "policy_arn": "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"})
	rds := object.union(_role, {"values": {"managed_policy_arns": ["arn:aws:iam::aws:policy/AmazonRDSFullAccess"]}})
	result := dr_iam_01.deny with input as {
		"resources": [rds, _fn, admin, vpc],
		"data_sources": [_doc("s", "assume", [_lambda_trust])],
		"remote_outputs": {},
	}
	{f.address | some f in result} == {"aws_iam_role_policy_attachment.admin", "aws_iam_role.failover"}
}
