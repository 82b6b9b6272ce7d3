package dr.rules.dr_enc_02_test

import data.dr.rules.dr_enc_02

_res(stack, type, name, values) := {"stack": stack, "type": type, "name": name, "address": sprintf("%s.%s", [type, name]), "region": "us-east-1", "values": values}

_data(stack, type, name, values) := {"stack": stack, "type": type, "name": name, "address": sprintf("data.%s.%s", [type, name]), "region": "us-east-1", "values": values}

_root_statement := {"sid": "Root", "actions": ["kms:*"], "resources": ["*"], "principals": [{"type": "AWS", "identifiers": ["arn:aws:iam::${data.aws_caller_identity.c.account_id}:root"]}]}

_open_statement := {"sid": "Everyone", "actions": ["kms:*"], "resources": ["*"], "principals": [{"type": "AWS", "identifiers": ["*"]}]}

_document(statements) := _data("p", "aws_iam_policy_document", "key", {"statement": statements})

_key(values) := _res("p", "aws_kms_key", "k", values)

_key_on_document := _key({"enable_key_rotation": true, "policy": "${data.aws_iam_policy_document.key.json}"})

_input(resources, data_sources) := harness.normalise({"resources": resources, "data_sources": data_sources, "remote_outputs": {}, "stacks": []})

_deny(resources, data_sources) := result if {
	result := dr_enc_02.deny with input as _input(resources, data_sources)
}

_messages(result) := {f.message | some f in result}

_json(statement) := json.marshal({"Version": "2012-10-17", "Statement": statement})

test_default_window_and_root_only_policy_pass if {
	count(_deny([_key_on_document], [_document([_root_statement])])) == 0
}

test_keys_and_policy_holders_are_evaluated if {
	subjects := dr_enc_02.evaluated with input as _input([_key_on_document, _key({})], [_document([_root_statement])])
	subjects == {"p/aws_kms_key.k"}
}

test_no_key_is_not_applicable if {
	subjects := dr_enc_02.evaluated with input as _input([], [])
	count(subjects) == 0
}

test_short_deletion_window_fails if {
	result := _deny([_key({"deletion_window_in_days": 3})], [])
	some f in result
	f.requirement == "DR-ENC-02"
	f.address == "aws_kms_key.k"
	contains(f.message, "deletion_window_in_days is 3")
	contains(f.message, "default when the attribute is omitted is 30")
}

test_seven_days_and_numeric_string_pass if {
	count(_deny([_key({"deletion_window_in_days": 7})], [])) == 0
	count(_deny([_key({"deletion_window_in_days": "10"})], [])) == 0
}

test_computed_deletion_window_fails if {
	result := _deny([_key({"deletion_window_in_days": "${var.window}"})], [])
	some m in _messages(result)
	contains(m, "cannot be shown")
}

test_replica_key_window_is_judged if {
	replica := _res("s", "aws_kms_replica_key", "r", {"deletion_window_in_days": 5})
	result := _deny([replica], [])
	some f in result
	f.address == "aws_kms_replica_key.r"
}

test_document_granting_kms_star_to_everyone_fails if {
	result := _deny([_key_on_document], [_document([_root_statement, _open_statement])])
	some f in result
	f.address == "aws_kms_key.k"
	contains(f.message, "\"Everyone\" allows kms:* to every principal")
}

test_document_principal_type_star_with_action_star_fails if {
	statement := {"actions": ["*"], "principals": [{"type": "*", "identifiers": ["*"]}]}
	result := _deny([_key_on_document], [_document([statement])])
	some m in _messages(result)
	contains(m, `statement #1 (no Sid) allows * to every principal (Principal "*")`)
}

test_deny_statement_to_everyone_passes if {
	statement := object.union(_open_statement, {"effect": "Deny"})
	count(_deny([_key_on_document], [_document([_root_statement, statement])])) == 0
}

test_narrow_actions_to_everyone_pass if {
	statement := object.union(_open_statement, {"actions": ["kms:Decrypt"]})
	count(_deny([_key_on_document], [_document([statement])])) == 0
}

test_not_action_to_everyone_fails if {
	statement := {"not_actions": ["kms:ScheduleKeyDeletion"], "principals": [{"type": "AWS", "identifiers": ["*"]}]}
	result := _deny([_key_on_document], [_document([statement])])
	some m in _messages(result)
	contains(m, "every action except kms:ScheduleKeyDeletion")
}

test_not_principal_fails if {
	statement := {"actions": ["kms:*"], "not_principals": [{"type": "AWS", "identifiers": ["arn:aws:iam::111122223333:root"]}]}
	result := _deny([_key_on_document], [_document([statement])])
	some m in _messages(result)
	contains(m, "everyone except NotPrincipal")
}

test_literal_json_principal_star_fails if {
	policy := _json([{"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}])
	result := _deny([_key({"policy": policy})], [])
	count(result) == 1
}

test_literal_json_aws_star_list_fails if {
	policy := _json([{"Sid": "Open", "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "*"]}, "Action": ["KMS:*"], "Resource": "*"}])
	result := _deny([_key({"policy": policy})], [])
	some m in _messages(result)
	contains(m, "\"Open\"")
}

test_literal_json_single_statement_object_root_only_passes if {
	policy := json.marshal({"Statement": {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}})
	count(_deny([_key({"policy": policy})], [])) == 0
}

test_unreadable_policy_expression_fails if {
	result := _deny([_key({"policy": "${var.key_policy}"})], [])
	_messages(result) == {"key policy cannot be read (var.key_policy is not a policy document of this design), so it cannot be shown not to grant kms:* to everyone; expected a reference to an aws_iam_policy_document, JSON text or jsonencode({...})"}
}

test_literal_non_json_policy_fails if {
	result := _deny([_key({"policy": "not json"})], [])
	count(result) == 1
}

test_source_policy_document_is_read if {
	open := _json([{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*"}])
	nested := _data("p", "aws_iam_policy_document", "open", {"statement": [_open_statement]})
	with_json := _data("p", "aws_iam_policy_document", "key", {"source_policy_documents": [open], "statement": [_root_statement]})
	with_ref := _data("p", "aws_iam_policy_document", "key", {"override_policy_documents": ["${data.aws_iam_policy_document.open.json}"]})
	count(_deny([_key_on_document], [with_json])) == 1
	count(_deny([_key_on_document], [with_ref, nested])) == 1
}

test_separate_key_policy_resource_is_judged if {
	holder := _res("p", "aws_kms_key_policy", "kp", {"key_id": "${aws_kms_key.k.id}", "policy": "${data.aws_iam_policy_document.key.json}"})
	result := _deny([_key({}), holder], [_document([_open_statement])])
	some f in result
	f.address == "aws_kms_key_policy.kp"
}

test_cross_stack_document_is_read if {
	key := _res("s", "aws_kms_key", "k", {"policy": "${data.terraform_remote_state.cross-stack-reference-input-p.outputs.doc}"})
	remote := {"s": {"cross-stack-reference-input-p": {"stack": "p", "outputs": {"doc": "${data.aws_iam_policy_document.key.json}"}}}}
	result := dr_enc_02.deny with input as harness.normalise({"resources": [key], "data_sources": [_document([_open_statement])], "remote_outputs": remote})
	count(result) == 1
}

test_odd_value_types_do_not_break_the_policy_reading if {
	statement := {"sid": 7, "actions": ["kms:*", 3, null], "principals": [{"type": "AWS", "identifiers": ["*", 5]}]}
	result := _deny([_key_on_document], [_document([statement])])
	some m in _messages(result)
	contains(m, "statement \"7\" allows kms:*")
}

# --- idioms of other teams' apps (issue 8) --------------------------------------------

_jsonencode_policy(principal) := sprintf(`${jsonencode({"Version" = "2012-10-17", "Statement" = [{"Sid" = "AccountRoot", "Effect" = "Allow", "Principal" = {"AWS" = "arn:aws:iam::${data.aws_caller_identity.account.account_id}:root"}, "Action" = "kms:*", "Resource" = "*"}, {"Sid" = "Services", "Effect" = "Allow", "Principal" = %s, "Action" = ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource" = "*"}, {"Sid" = "Admins", "Effect" = "Allow", "Principal" = %s, "Action" = "kms:*", "Resource" = "*"}]})}`, principal)

test_jsonencode_key_policy_is_read if {
	# Stack per region: each regional stack's key writes its policy with Fn.jsonencode.
	root := `{"AWS" = "arn:aws:iam::${data.aws_caller_identity.account.account_id}:root"}`
	good := _res("orders-usw2", "aws_kms_key", "data_key", {"deletion_window_in_days": 14, "policy": _jsonencode_policy([`{"Service" = ["dynamodb.amazonaws.com", "lambda.amazonaws.com"]}`, root])})
	count(_deny([good], [])) == 0
	open := object.union(good, {"values": {"policy": _jsonencode_policy([`{"Service" = "dynamodb.amazonaws.com"}`, `{"AWS" = ["arn:aws:iam::111122223333:role/admin", "*"]}`])}})
	result := _deny([open], [])
	{[f.stack, f.address, f.message] | some f in result} == {[
		"orders-usw2", "aws_kms_key.data_key",
		`policy (jsonencode): statement "Admins" allows kms:* to every principal (Principal "*"); expected kms:* only for the account root or named administrators`,
	]}
}

test_json_text_with_interpolations_is_read if {
	# json.dumps of a dict holding tokens: JSON text whose values are ${...} interpolations.
	root := `{"Version": "2012-10-17", "Statement": [{"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "arn:${data.aws_partition.p.partition}:iam::${data.aws_caller_identity.c.account_id}:root"}, "Action": "kms:*", "Resource": "*"}]}`
	count(_deny([_key({"policy": root})], [])) == 0
	open := `{"Version": "2012-10-17", "Statement": [{"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*", "Condition": {"StringEquals": {"kms:CallerAccount": "${data.aws_caller_identity.c.account_id}"}}}]}`
	_messages(_deny([_key({"policy": open})], [])) == {`policy (JSON text with interpolations): statement "Open" allows kms:* to every principal (Principal "*"); expected kms:* only for the account root or named administrators`}
}

test_replica_key_in_aliased_region_with_separate_key_policy if {
	# One stack, aliased provider: the replica key's policy is set by an aws_kms_key_policy.
	replica := _res("app", "aws_kms_replica_key", "west", {"primary_key_arn": "${aws_kms_key.k.arn}"})
	holder := _res("app", "aws_kms_key_policy", "west", {"key_id": "${aws_kms_replica_key.west.id}", "policy": "${data.aws_iam_policy_document.west.json}"})
	document := _data("app", "aws_iam_policy_document", "west", {"statement": [_open_statement]})
	result := dr_enc_02.deny with input as harness.normalise({"resources": [replica, holder], "data_sources": [document]})
	{f.address | some f in result} == {"aws_kms_key_policy.west"}
	subjects := dr_enc_02.evaluated with input as harness.normalise({"resources": [replica, holder], "data_sources": [document]})
	subjects == {"app/aws_kms_replica_key.west", "app/aws_kms_key_policy.west"}
}
