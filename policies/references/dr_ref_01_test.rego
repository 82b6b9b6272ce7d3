package dr.rules.dr_ref_01_test

import data.dr.rules.dr_ref_01

_res(type, name, values) := {"stack": "p", "type": type, "name": name, "address": sprintf("%s.%s", [type, name]), "region": "us-east-1", "values": values}

_doc(name, statement) := {"stack": "p", "type": "aws_iam_policy_document", "name": name, "address": sprintf("data.aws_iam_policy_document.%s", [name]), "region": "us-east-1", "values": {"statement": statement}}

_deny(resources) := result if {
	result := dr_ref_01.deny with input as harness.normalise({"resources": resources, "data_sources": [], "remote_outputs": {}})
}

_deny_docs(docs) := result if {
	result := dr_ref_01.deny with input as harness.normalise({"resources": [], "data_sources": docs, "remote_outputs": {}})
}

_messages(result) := {f.message | some f in result}

_cluster(gci) := _res("aws_rds_cluster", "db", {
	"cluster_identifier": "dr-prod-us-west-2",
	"global_cluster_identifier": gci,
	"kms_key_id": "${aws_kms_key.k.arn}",
	"vpc_security_group_ids": ["${aws_security_group.db.id}"],
})

test_references_by_expression_pass if {
	global := _res("aws_rds_global_cluster", "g", {"global_cluster_identifier": "dr-prod-global"})
	count(_deny([global, _cluster("${aws_rds_global_cluster.g.id}")])) == 0
}

test_cross_stack_reference_passes if {
	count(_deny([_cluster("${data.terraform_remote_state.cross-stack-reference-input-primary.outputs.gid}")])) == 0
}

test_member_cluster_with_literal_global_cluster_name_fails if {
	result := _deny([_cluster("dr-prod-global")])
	some f in result
	f.requirement == "DR-REF-01"
	f.address == "aws_rds_cluster.db"
	contains(f.message, "global_cluster_identifier holds the literal identifier \"dr-prod-global\"")
}

test_literal_security_group_id_fails if {
	fn := _res("aws_lambda_function", "f", {"vpc_config": {"security_group_ids": ["sg-0123456789abcdef0"], "subnet_ids": ["${aws_subnet.a.id}"]}})
	some m in _messages(_deny([fn]))
	contains(m, "vpc_config.security_group_ids[0] holds the literal identifier \"sg-0123456789abcdef0\"")
}

test_literal_vpc_id_fails if {
	sg := _res("aws_security_group", "sg", {"vpc_id": "vpc-0a1b2c3d", "description": "in vpc-0a1b2c3d"})
	result := _deny([sg])
	count(result) == 1
	some m in _messages(result)
	contains(m, "vpc_id holds the literal identifier")
}

test_literal_kms_key_arn_fails if {
	arn := "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	result := _deny([_res("aws_sns_topic", "t", {"kms_master_key_id": arn})])
	count(result) == 1
}

test_literal_zone_and_health_check_ids_fail if {
	record := _res("aws_route53_record", "r", {"zone_id": "Z0123456789ABCDEFGHIJ", "health_check_id": "abcdef01-2345-6789-abcd-ef0123456789"})
	count(_deny([record])) == 2
}

test_self_names_are_not_references if {
	resources := [
		_res("aws_rds_global_cluster", "g", {"global_cluster_identifier": "dr-prod-global"}),
		_res("aws_rds_cluster", "c", {"cluster_identifier": "dr-prod-us-east-1"}),
		_res("aws_lambda_permission", "p", {"statement_id": "AllowSns", "function_name": "${aws_lambda_function.f.function_name}", "principal": "sns.amazonaws.com"}),
		_res("aws_lambda_function", "f", {"function_name": "dr-prod-failover", "description": "replaces vpc-0a1b2c3d"}),
	]
	count(_deny(resources)) == 0
}

test_account_independent_identifiers_pass if {
	resources := [
		_res("aws_iam_role_policy_attachment", "a", {"role": "${aws_iam_role.r.name}", "policy_arn": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}),
		_res("aws_rds_cluster", "c", {"kms_key_id": "alias/aws/rds"}),
		_res("aws_subnet", "s", {"vpc_id": "${aws_vpc.v.id}", "availability_zone_id": "use1-az1"}),
		_res("aws_route53_record", "cdn", {"alias": {"zone_id": "Z2FDTNDATAQYW2", "name": "${aws_cloudfront_distribution.d.domain_name}"}}),
	]
	count(_deny(resources)) == 0
}

test_literal_names_of_other_resources_fail if {
	resources := [
		_res("aws_iam_role_policy", "p", {"role": "dr-prod-failover", "policy": "{}"}),
		_res("aws_rds_cluster_instance", "i", {"cluster_identifier": "dr-prod-us-east-1", "identifier": "dr-prod-1"}),
		_res("aws_lambda_permission", "perm", {"function_name": "dr-prod-failover", "principal": "sns.amazonaws.com"}),
		_res("aws_s3_bucket_versioning", "v", {"bucket": "dr-prod-logs"}),
	]
	count(_deny(resources)) == 4
}

test_lambda_subscription_endpoint_is_a_reference if {
	literal := _res("aws_sns_topic_subscription", "s", {"protocol": "lambda", "topic_arn": "${aws_sns_topic.t.arn}", "endpoint": "dr-prod-failover"})
	count(_deny([literal])) == 1
	email := _res("aws_sns_topic_subscription", "e", {"protocol": "email", "topic_arn": "${aws_sns_topic.t.arn}", "endpoint": "ops@example.com"})
	count(_deny([email])) == 0
}

test_alarm_dimension_with_literal_id_fails if {
	alarm := _res("aws_cloudwatch_metric_alarm", "a", {"dimensions": {"HealthCheckId": "abcdef01-2345", "ReceivingRegion": "us-west-2"}, "alarm_actions": ["${aws_sns_topic.t.arn}"]})
	some m in _messages(_deny([alarm]))
	contains(m, "dimensions.HealthCheckId")
}

test_environment_variable_naming_an_arn_fails if {
	fn := _res("aws_lambda_function", "f", {"environment": {"variables": {"TARGET_CLUSTER_ARN": "dr-prod-us-west-2", "DB_PORT": "5432"}}})
	some m in _messages(_deny([fn]))
	contains(m, "TARGET_CLUSTER_ARN")
}

test_arn_with_account_in_any_attribute_fails if {
	fn := _res("aws_lambda_function", "f", {"environment": {"variables": {"QUEUE": "arn:aws:sqs:us-east-1:123456789012:jobs"}}})
	some m in _messages(_deny([fn]))
	contains(m, "an ARN naming an account")
}

test_interpolated_arn_passes_but_literal_account_inside_fails if {
	built := "arn:aws:rds-db:us-east-1:${data.aws_caller_identity.c.account_id}:dbuser:${aws_rds_cluster.c.cluster_resource_id}/app"
	count(_deny_docs([_doc("ok", [{"actions": ["rds-db:connect"], "resources": [built]}])])) == 0
	mixed := "arn:aws:rds:us-east-1:123456789012:cluster:${aws_rds_cluster.c.cluster_identifier}"
	count(_deny_docs([_doc("bad", [{"actions": ["rds:*"], "resources": [mixed]}])])) == 1
}

test_policy_document_literal_resource_fails if {
	doc := _doc("grants", [{"actions": ["rds:FailoverGlobalCluster"], "resources": ["arn:aws:rds::123456789012:global-cluster:dr-prod-global"]}])
	result := _deny_docs([doc])
	some f in result
	f.address == "data.aws_iam_policy_document.grants"
	contains(f.message, "statement[0].resources[0] holds the literal identifier")
}

test_policy_document_wildcards_and_services_pass if {
	doc := _doc("ok", [
		{"actions": ["logs:*"], "resources": ["*", "arn:aws:logs:*:*:*"]},
		{"actions": ["sts:AssumeRole"], "principals": [{"type": "Service", "identifiers": ["lambda.amazonaws.com"]}]},
		{"actions": ["kms:*"], "principals": [{"type": "AWS", "identifiers": ["arn:aws:iam::${data.aws_caller_identity.c.account_id}:root"]}], "resources": ["*"]},
	])
	count(_deny_docs([doc])) == 0
}

test_policy_document_account_principal_fails if {
	doc := _doc("trust", [{"actions": ["sts:AssumeRole"], "principals": [{"type": "AWS", "identifiers": ["123456789012"]}]}])
	some m in _messages(_deny_docs([doc]))
	contains(m, "an account ID")
	root := _doc("root", [{"actions": ["kms:*"], "principals": [{"type": "AWS", "identifiers": ["arn:aws:iam::123456789012:root"]}], "resources": ["*"]}])
	count(_deny_docs([root])) == 1
}

test_inline_json_policy_with_account_fails if {
	policy := "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"123456789012\"},\"Action\":\"sts:AssumeRole\"}]}"
	role := _res("aws_iam_role", "r", {"name": "x", "assume_role_policy": policy})
	some m in _messages(_deny([role]))
	contains(m, "assume_role_policy.Statement[0].Principal contains an account ID typed in as a literal (\"123456789012\")")
}

test_numeric_account_id_fails if {
	perm := _res("aws_lambda_permission", "p", {"function_name": "${aws_lambda_function.f.function_name}", "principal": "s3.amazonaws.com", "source_account": 123456789012})
	count(_deny([perm])) == 1
}

test_evaluated_lists_resources_and_policy_documents if {
	subjects := dr_ref_01.evaluated with input as harness.normalise({"resources": [_cluster("${aws_rds_global_cluster.g.id}")], "data_sources": [_doc("d", [])], "remote_outputs": {}})
	subjects == {"p/aws_rds_cluster.db", "p/data.aws_iam_policy_document.d"}
}

test_identifiers_in_free_text_are_not_references if {
	alarm := _res("aws_cloudwatch_metric_alarm", "a", {
		"alarm_description": "pages when arn:aws:sns:us-east-1:123456789012:ops is down",
		"tags": {"Source": "arn:aws:iam::123456789012:role/deployer"},
		"alarm_actions": ["${aws_sns_topic.t.arn}"],
	})
	count(_deny([alarm])) == 0
}

# --- policies written as jsonencode(...) and as JSON with interpolations ---------

_policy(text) := _res("aws_iam_role_policy", "p", {"role": "${aws_iam_role.r.id}", "policy": text})

test_jsonencode_policy_with_a_literal_account_arn_fails if {
	literal := "${jsonencode({\"Version\" = \"2012-10-17\", \"Statement\" = [{\"Effect\" = \"Allow\", \"Action\" = [\"sqs:SendMessage\"], \"Resource\" = [\"arn:aws:sqs:us-east-1:123456789012:jobs\"]}]})}"
	result := _deny([_policy(literal)])
	count(result) == 1
	some f in result
	f.address == "aws_iam_role_policy.p"
	contains(f.message, "an ARN naming an account")
	built := "${jsonencode({\"Version\" = \"2012-10-17\", \"Statement\" = [{\"Effect\" = \"Allow\", \"Action\" = [\"sqs:SendMessage\"], \"Resource\" = [\"arn:aws:sqs:us-east-1:${data.aws_caller_identity.me.account_id}:jobs\", aws_sqs_queue.jobs.arn]}]})}"
	count(_deny([_policy(built)])) == 0
}

test_interpolated_json_policy_reads_the_literal_text_only if {
	built := "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::${data.aws_caller_identity.me.account_id}:root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}"
	key := _res("aws_kms_key", "k", {"enable_key_rotation": true, "policy": built})
	count(_deny([key])) == 0
	copied := "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::123456789012:root\"},\"Action\":\"kms:*\",\"Resource\":\"${aws_kms_key.other.arn}\"}]}"
	result := _deny([_res("aws_kms_key", "k", {"enable_key_rotation": true, "policy": copied})])
	count(result) == 1
	some f in result
	contains(f.message, "an ARN naming an account")
}

test_literal_in_a_cross_stack_layout_names_the_holder if {
	topic := {"stack": "secondary", "type": "aws_cloudwatch_metric_alarm", "name": "lag", "region": "us-west-2", "values": {"alarm_actions": ["arn:aws:sns:us-east-1:123456789012:ops"]}}
	result := dr_ref_01.deny with input as harness.normalise({"resources": [topic]})
	count(result) == 1
	some f in result
	f.stack == "secondary"
	f.address == "aws_cloudwatch_metric_alarm.lag"
	contains(f.message, "alarm_actions[0] holds the literal identifier")
}
