package dr.rules.dr_enc_02_test

import data.dr.rules.dr_enc_02

_res(stack, type, name, values) := {"stack": stack, "type": type, "name": name, "address": sprintf("%s.%s", [type, name]), "region": "us-east-1", "values": values}

_data(stack, type, name, values) := {"stack": stack, "type": type, "name": name, "address": sprintf("data.%s.%s", [type, name]), "region": "us-east-1", "values": values}

_root_statement := {"sid": "Root", "actions": ["kms:*"], "resources": ["*"], "principals": [{"type": "AWS", "identifiers": ["arn:aws:iam::${data.aws_caller_identity.c.account_id}:root"]}]}

_open_statement := {"sid": "Everyone", "actions": ["kms:*"], "resources": ["*"], "principals": [{"type": "AWS", "identifiers": ["*"]}]}

_document(statements) := _data("p", "aws_iam_policy_document", "key", {"statement": statements})

_key(values) := _res("p", "aws_kms_key", "k", values)

_key_on_document := _key({"enable_key_rotation": true, "policy": "${data.aws_iam_policy_document.key.json}"})

_input(resources, data_sources) := {"resources": resources, "data_sources": data_sources, "remote_outputs": {}, "stacks": []}

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
	contains(m, "(no Sid) allows *")
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
	result := _deny([_key({"policy": "${jsonencode({Statement = []})}"})], [])
	some m in _messages(result)
	contains(m, "cannot be shown")
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
	result := dr_enc_02.deny with input as {"resources": [key], "data_sources": [_document([_open_statement])], "remote_outputs": remote}
	count(result) == 1
}

test_odd_value_types_do_not_break_the_policy_reading if {
	statement := {"sid": 7, "actions": ["kms:*", 3, null], "principals": [{"type": "AWS", "identifiers": ["*", 5]}]}
	result := _deny([_key_on_document], [_document([statement])])
	some m in _messages(result)
	contains(m, "statement \"7\" allows kms:*")
}
