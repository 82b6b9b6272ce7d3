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

_input(grants, trust, resources) := harness.normalise({
	"resources": array.concat([_role, _fn], resources),
	"data_sources": [_doc("s", "assume", trust), _doc("s", "grants", grants)],
})

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
	# A whole document passed in from a variable: nothing to read.
	result := dr_iam_01.deny with input as _input([_promote], [_lambda_trust], [_role_policy("${var.grants}")])
	{f.message | some f in result} == {"policy cannot be read (var.grants is not a policy document of this design), so its grants cannot be verified; expected a reference to an aws_iam_policy_document, JSON text or jsonencode({...})"}
}

test_inline_policy_block_is_judged if {
	role := object.union(_role, {"values": {"inline_policy": [{"name": "all", "policy": `{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b"}]}`}]}})
	result := dr_iam_01.deny with input as harness.normalise({
		"resources": [role, _fn],
		"data_sources": [_doc("s", "assume", [_lambda_trust])],
	})
	some f in result
	f.address == "aws_iam_role.failover"
	startswith(f.message, `inline_policy all (literal JSON): statement #1 (no Sid) allows action "s3:*"`)
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
	passing := dr_iam_01.deny with input as harness.normalise({"resources": [object.union(_role, {"values": {"assume_role_policy": good}}), _fn]})
	count(passing) == 0
	failing := dr_iam_01.deny with input as harness.normalise({"resources": [object.union(_role, {"values": {"assume_role_policy": bad}}), _fn]})
	some m in _messages(failing)
	contains(m, `it also trusts everyone (Principal "*")`)
}

test_lambda_role_trusting_someone_else_fails if {
	trust := {"actions": ["sts:AssumeRole"], "principals": [{"type": "Service", "identifiers": ["ec2.amazonaws.com"]}]}
	result := dr_iam_01.deny with input as _input([_promote], [trust], [_role_policy(_grants_ref)])
	some m in _messages(result)
	contains(m, "no Allow statement names Service lambda.amazonaws.com")
}

test_function_on_a_literal_role_arn_fails if {
	fn := _resource("s", "aws_lambda_function", "failover", {"role": "arn:aws:iam::123456789012:role/admin"})
	result := dr_iam_01.deny with input as harness.normalise({"resources": [fn]})
	some f in result
	f.address == "aws_lambda_function.failover"
	contains(f.message, "not an aws_iam_role of this design")
}

_key_policy := [
	{"sid": "AccountAdministers", "actions": ["kms:*"], "resources": ["*"], "principals": [{"type": "AWS", "identifiers": ["arn:aws:iam::123456789012:root"]}]},
]

test_key_policy_is_left_to_dr_enc_02 if {
	key := _resource("s", "aws_kms_key", "k", {"policy": "${data.aws_iam_policy_document.key.json}"})
	result := dr_iam_01.deny with input as harness.normalise({
		"resources": [key],
		"data_sources": [_doc("s", "key", _key_policy)],
	})
	count(result) == 0
}

test_document_applied_by_no_resource_is_judged_itself if {
	result := dr_iam_01.deny with input as harness.normalise({
		"resources": [],
		"data_sources": [_doc("s", "key", _key_policy)],
	})
	some f in result
	f.address == "data.aws_iam_policy_document.key"
}

test_cross_stack_document_is_resolved if {
	# The role policy of stack "g" applies a document of stack "s" through remote state.
	policy := _resource("g", "aws_iam_policy", "shared", {"policy": "${data.terraform_remote_state.cross-stack-reference-input-s.outputs.doc}"})
	remote := {"g": {"cross-stack-reference-input-s": {"stack": "s", "outputs": {"doc": _grants_ref}}}}
	wide := object.union(_promote, {"actions": ["*"]})
	result := dr_iam_01.deny with input as harness.normalise({"resources": [policy], "data_sources": [_doc("s", "grants", [wide])], "remote_outputs": remote})
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
	result := dr_iam_01.deny with input as harness.normalise({
		"resources": [role, fn, policy],
		"data_sources": [_doc("app", "assume", [trust]), _doc("app", "grants", [wide])],
		"stacks": [{"name": "app", "providers": {"aws": "us-east-1", "aws.secondary": "us-west-2"}}],
	})
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
	result := dr_iam_01.deny with input as harness.normalise({
		"resources": [_role, _fn, _role_policy(_grants_ref)],
		"data_sources": [_doc("s", "assume", [_lambda_trust]), grants, _doc("s", "base", [wide])],
	})
	{[f.address, f.message] | some f in result} == {[
		"aws_iam_role_policy.grants",
		`policy (data.aws_iam_policy_document.grants): statement "Everything" (from data.aws_iam_policy_document.base) allows action "*"; expected named actions on the resources of this design (a scoped exception needs a waiver)`,
	]}
}

test_wide_aws_managed_policy_attachment_fails if {
	admin := _resource("s", "aws_iam_role_policy_attachment", "admin", {"role": "${aws_iam_role.failover.name}", "policy_arn": "arn:aws:iam::aws:policy/AdministratorAccess"})
	vpc := _resource("s", "aws_iam_role_policy_attachment", "vpc", {"role": "${aws_iam_role.failover.name}", "policy_arn": "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"})
	rds := object.union(_role, {"values": {"managed_policy_arns": ["arn:aws:iam::aws:policy/AmazonRDSFullAccess"]}})
	result := dr_iam_01.deny with input as harness.normalise({
		"resources": [rds, _fn, admin, vpc],
		"data_sources": [_doc("s", "assume", [_lambda_trust])],
	})
	{f.address | some f in result} == {"aws_iam_role_policy_attachment.admin", "aws_iam_role.failover"}
}

# --- idioms of other teams' apps (issue 8) --------------------------------------------

# One stack, aliased providers: the json.dumps idiom writes JSON text whose values hold
# ${...} interpolations. It is readable; its Resource "*" statement is reported for that.
test_interpolated_json_policy_is_read_and_judged if {
	policy := `{"Version": "2012-10-17", "Statement": [{"Sid": "Promote", "Effect": "Allow", "Action": ["rds:FailoverGlobalCluster"], "Resource": ["${aws_rds_global_cluster.ledger.arn}", "${aws_rds_cluster.dr.arn}"]}, {"Sid": "Read", "Effect": "Allow", "Action": "rds:DescribeGlobalClusters", "Resource": "*"}]}`
	role_policy := _resource("app", "aws_iam_role_policy", "grants", {"role": "${aws_iam_role.failover.id}", "policy": policy})
	result := dr_iam_01.deny with input as harness.normalise({"resources": [role_policy]})
	{f.message | some f in result} == {`policy (JSON text with interpolations): statement "Read" allows resource "*"; expected named actions on the resources of this design (a scoped exception needs a waiver)`}
}

_jsonencode_trust(services) := sprintf(`${jsonencode({"Version" = "2012-10-17", "Statement" = [{"Effect" = "Allow", "Principal" = {"Service" = %s}, "Action" = "sts:AssumeRole"}]})}`, [services])

test_jsonencode_trust_naming_lambda_passes if {
	role := _resource("app", "aws_iam_role", "fn", {"assume_role_policy": _jsonencode_trust(`"lambda.amazonaws.com"`)})
	fn := _resource("app", "aws_lambda_function", "fn", {"role": "${aws_iam_role.fn.arn}"})
	result := dr_iam_01.deny with input as harness.normalise({"resources": [role, fn]})
	count(result) == 0
}

test_jsonencode_trust_with_another_service_names_only_that_problem if {
	role := _resource("app", "aws_iam_role", "fn", {"assume_role_policy": _jsonencode_trust(`["lambda.amazonaws.com", "ec2.amazonaws.com"]`)})
	fn := _resource("app", "aws_lambda_function", "fn", {"role": "${aws_iam_role.fn.arn}"})
	result := dr_iam_01.deny with input as harness.normalise({"resources": [role, fn]})
	{[f.address, f.message] | some f in result} == {[
		"aws_iam_role.fn",
		"assume_role_policy: it also trusts Service ec2.amazonaws.com; aws_lambda_function.fn run(s) as this role, so expected Service lambda.amazonaws.com as its only principal",
	]}
}

test_jsonencode_identity_policy_with_whole_service_fails if {
	policy := `${jsonencode({"Version" = "2012-10-17", "Statement" = [{"Sid" = "Maintenance", "Effect" = "Allow", "Action" = "dynamodb:*", "Resource" = ["${aws_dynamodb_table.orders.arn}", "${aws_dynamodb_table.orders.arn}/index/*"]}]})}`
	role_policy := _resource("orders-use1", "aws_iam_role_policy", "admin", {"role": "${aws_iam_role.admin.id}", "policy": policy})
	result := dr_iam_01.deny with input as harness.normalise({"resources": [role_policy]})
	{f.message | some f in result} == {`policy (jsonencode): statement "Maintenance" allows action "dynamodb:*"; expected named actions on the resources of this design (a scoped exception needs a waiver)`}
}

test_one_role_of_two_functions_is_one_finding if {
	trust := {"actions": ["sts:AssumeRole"], "principals": [{"type": "Service", "identifiers": ["lambda.amazonaws.com", "ec2.amazonaws.com"]}]}
	other := _resource("s", "aws_lambda_function", "health", {"role": "${aws_iam_role.failover.arn}"})
	result := dr_iam_01.deny with input as _input([_promote], [trust], [_role_policy(_grants_ref), other])
	count(result) == 1
	some f in result
	contains(f.message, "aws_lambda_function.failover, aws_lambda_function.health run(s) as this role")
}

test_aws_managed_policy_with_partition_interpolation if {
	# arn:${data.aws_partition.current.partition}:... is the same AWS-managed policy in every partition.
	basic := _resource("s", "aws_iam_role_policy_attachment", "basic", {"role": "${aws_iam_role.failover.name}", "policy_arn": "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"})
	power := _resource("s", "aws_iam_role_policy_attachment", "power", {"role": "${aws_iam_role.failover.name}", "policy_arn": "arn:${data.aws_partition.current.partition}:iam::aws:policy/PowerUserAccess"})
	exclusive := _resource("s", "aws_iam_role_policy_attachments_exclusive", "all", {"role_name": "${aws_iam_role.failover.name}", "policy_arns": ["arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess", "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"]})
	result := dr_iam_01.deny with input as _input([_promote], [_lambda_trust], [basic, power, exclusive])
	{[f.address, f.message] | some f in result} == {
		["aws_iam_role_policy_attachment.power", "policy_arn attaches the AWS-managed policy PowerUserAccess, which allows whole services on every resource; expected a policy of this design naming its actions and resources"],
		["aws_iam_role_policy_attachments_exclusive.all", "policy_arns[1] attaches the AWS-managed policy AmazonDynamoDBFullAccess, which allows whole services on every resource; expected a policy of this design naming its actions and resources"],
	}
}

test_design_policy_attached_by_reference_is_judged_once if {
	policy := _resource("s", "aws_iam_policy", "grants", {"policy": `{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "${aws_rds_cluster.db.arn}"}]}`})
	attachment := _resource("s", "aws_iam_role_policy_attachment", "grants", {"role": "${aws_iam_role.failover.name}", "policy_arn": "${aws_iam_policy.grants.arn}"})
	result := dr_iam_01.deny with input as _input([_promote], [_lambda_trust], [policy, attachment])
	{f.address | some f in result} == {"aws_iam_policy.grants"}
}

test_resource_policy_star_resource_is_its_own_resource if {
	# A secret's resource policy: "Resource *" is the secret itself; a whole service is still wide.
	narrow := {"sid": "Read", "actions": ["secretsmanager:GetSecretValue"], "resources": ["*"], "principals": [{"type": "AWS", "identifiers": ["${aws_iam_role.failover.arn}"]}]}
	wide := object.union(narrow, {"sid": "All", "actions": ["secretsmanager:*"]})
	policy := _resource("s", "aws_secretsmanager_secret_policy", "db", {"secret_arn": "${aws_secretsmanager_secret.db.arn}", "policy": "${data.aws_iam_policy_document.secret.json}"})
	passing := dr_iam_01.deny with input as harness.normalise({"resources": [policy], "data_sources": [_doc("s", "secret", [narrow])]})
	count(passing) == 0
	failing := dr_iam_01.deny with input as harness.normalise({"resources": [policy], "data_sources": [_doc("s", "secret", [narrow, wide])]})
	{[f.address, f.message] | some f in failing} == {[
		"aws_secretsmanager_secret_policy.db",
		`policy (data.aws_iam_policy_document.secret): statement "All" allows action "secretsmanager:*"; expected named actions on the resources of this design (a scoped exception needs a waiver)`,
	]}
}

test_function_on_a_role_data_source_cannot_be_verified if {
	fn := _resource("s", "aws_lambda_function", "failover", {"role": "${data.aws_iam_role.shared.arn}"})
	role := {"stack": "s", "type": "aws_iam_role", "name": "shared", "values": {"name": "shared-lambda"}}
	result := dr_iam_01.deny with input as harness.normalise({"resources": [fn], "data_sources": [role]})
	some f in result
	f.address == "aws_lambda_function.failover"
	contains(f.message, "cannot be verified")
}

test_merged_document_is_judged_with_the_document_that_merges_it if {
	# Nothing applies "top"; it merges "base": one finding, named after "top".
	wide := object.union(_promote, {"sid": "Everything", "actions": ["*"]})
	top := object.union(_doc("s", "top", [_promote]), {"values": {"override_policy_documents": ["${data.aws_iam_policy_document.base.json}"]}})
	result := dr_iam_01.deny with input as harness.normalise({"data_sources": [top, _doc("s", "base", [wide])]})
	{f.address | some f in result} == {"data.aws_iam_policy_document.top"}
}

test_stack_per_region_lambda_role_trust_across_stacks if {
	# The trust document lives in a shared stack; each regional role names it through remote state.
	role := _resource("use1", "aws_iam_role", "fn", {"assume_role_policy": "${data.terraform_remote_state.cross-stack-reference-input-shared.outputs.trust}"})
	fn := _resource("use1", "aws_lambda_function", "fn", {"role": "${aws_iam_role.fn.arn}"})
	remote := {"use1": {"cross-stack-reference-input-shared": {"stack": "shared", "outputs": {"trust": "${data.aws_iam_policy_document.trust.json}"}}}}
	wide := {"actions": ["sts:AssumeRole"], "principals": [{"type": "AWS", "identifiers": ["*"]}]}
	passing := dr_iam_01.deny with input as harness.normalise({"resources": [role, fn], "data_sources": [_doc("shared", "trust", [_lambda_trust])], "remote_outputs": remote})
	count(passing) == 0
	failing := dr_iam_01.deny with input as harness.normalise({"resources": [role, fn], "data_sources": [_doc("shared", "trust", [wide])], "remote_outputs": remote})
	{m | some f in failing; m := f.message} == {
		`assume_role_policy: it also trusts AWS *; aws_lambda_function.fn run(s) as this role, so expected Service lambda.amazonaws.com as its only principal`,
		`assume_role_policy: no Allow statement names Service lambda.amazonaws.com; aws_lambda_function.fn run(s) as this role, so expected Service lambda.amazonaws.com as its only principal`,
	}
}
