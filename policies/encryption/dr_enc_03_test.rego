package dr.rules.dr_enc_03_test

import data.dr.rules.dr_enc_03

_res(type, name, region, values) := {"stack": "dr", "type": type, "name": name, "address": sprintf("%s.%s", [type, name]), "region": region, "values": values}

_key := _res("aws_kms_key", "east", "us-east-1", {"enable_key_rotation": true})

_west_key := _res("aws_kms_key", "west", "us-west-2", {"enable_key_rotation": true})

_primary_values := {
	"master_username": "dr_admin",
	"manage_master_user_password": true,
	"master_user_secret_kms_key_id": "${aws_kms_key.east.arn}",
	"storage_encrypted": true,
	"kms_key_id": "${aws_kms_key.east.arn}",
}

_primary := _res("aws_rds_cluster", "primary", "us-east-1", _primary_values)

# Secondary of a global cluster: no master user at all.
_secondary := _res("aws_rds_cluster", "secondary", "us-west-2", {"global_cluster_identifier": "${aws_rds_global_cluster.g.id}", "kms_key_id": "${aws_kms_key.west.arn}"})

_function(variables) := _res("aws_lambda_function", "f", "us-east-1", {"function_name": "f", "environment": {"variables": variables}})

_input(resources) := harness.normalise({"resources": resources, "data_sources": [], "remote_outputs": {}, "stacks": []})

_deny(resources) := result if {
	result := dr_enc_03.deny with input as _input(resources)
}

_messages(result) := {f.message | some f in result}

test_managed_password_with_regional_key_passes if {
	count(_deny([_key, _west_key, _primary, _secondary])) == 0
}

test_every_resource_and_data_source_is_evaluated if {
	doc := {"stack": "dr", "type": "aws_iam_policy_document", "name": "d", "address": "data.aws_iam_policy_document.d", "region": "us-east-1", "values": {}}
	subjects := dr_enc_03.evaluated with input as harness.normalise({"resources": [_key, _primary], "data_sources": [doc]})
	subjects == {"dr/aws_kms_key.east", "dr/aws_rds_cluster.primary", "dr/data.aws_iam_policy_document.d"}
}

test_literal_master_password_fails_once if {
	cluster := object.union(_primary, {"values": {"master_password": "Sup3r-Secret"}})
	result := _deny([_key, cluster])
	count(result) == 1
	some f in result
	f.requirement == "DR-ENC-03"
	f.address == "aws_rds_cluster.primary"
	contains(f.message, "master_password is set (a literal)")
	not contains(f.message, "Sup3r-Secret")
}

test_master_password_expression_fails if {
	cluster := object.union(_primary, {"values": {"master_password": "${random_password.db.result}"}})
	result := _deny([_key, cluster])
	some m in _messages(result)
	contains(m, "(an expression)")
}

test_password_of_a_db_instance_fails if {
	instance := _res("aws_db_instance", "legacy", "us-east-1", {"username": "admin", "password": "hunter2"})
	result := _deny([instance])
	some m in _messages(result)
	m == "password holds a literal secret-like value (not shown); expected no secret in the configuration (a reference to Secrets Manager, a managed password or IAM authentication)"
}

test_managed_password_off_fails if {
	cluster := _res("aws_rds_cluster", "primary", "us-east-1", object.remove(_primary_values, ["manage_master_user_password"]))
	result := _deny([_key, cluster])
	some m in _messages(result)
	contains(m, "manage_master_user_password is not true")
}

test_master_secret_key_of_another_region_fails if {
	# One-stack layout: the key comes from the aliased us-west-2 provider.
	values := object.union(_primary_values, {"master_user_secret_kms_key_id": "${aws_kms_key.west.arn}"})
	result := _deny([_key, _west_key, _res("aws_rds_cluster", "primary", "us-east-1", values)])
	some m in _messages(result)
	contains(m, "is in us-west-2, not us-east-1")
}

test_master_secret_without_key_fails if {
	values := object.remove(_primary_values, ["master_user_secret_kms_key_id"])
	result := _deny([_key, _res("aws_rds_cluster", "primary", "us-east-1", values)])
	some m in _messages(result)
	startswith(m, "master_user_secret_kms_key_id: no key set")
}

test_password_in_function_environment_fails if {
	result := _deny([_function({"DB_HOST": "${aws_rds_cluster.primary.endpoint}", "DB_PASSWORD": "hunter2-prod"})])
	some f in result
	f.address == "aws_lambda_function.f"
	startswith(f.message, "environment.variables.DB_PASSWORD holds a literal")
	not contains(f.message, "hunter2")
}

test_environment_list_form_and_camel_case_fail if {
	fn := _res("aws_lambda_function", "f", "us-east-1", {"environment": [{"variables": {"apiKey": "abc123"}}]})
	result := _deny([fn])
	some m in _messages(result)
	startswith(m, "environment[0].variables.apiKey holds a literal")
}

test_secret_names_holding_expressions_pass if {
	count(_deny([_function({"DB_PASSWORD": "${aws_secretsmanager_secret_version.db.secret_string}", "API_TOKEN": ""})])) == 0
}

test_non_secrets_named_like_secrets_pass if {
	efs := _res("aws_efs_file_system", "fs", "us-east-1", {"creation_token": "dr-files"})
	client := _res("aws_cognito_user_pool_client", "c", "us-east-1", {"generate_secret": true, "name": "app"})
	build := _res("aws_codebuild_project", "b", "us-east-1", {"environment": {"registry_credential": {"credential": "arn:aws:secretsmanager:us-east-1:111122223333:secret:x"}}})
	secret := _res("aws_secretsmanager_secret_version", "v", "us-east-1", {"secret_id": "arn:aws:secretsmanager:us-east-1:111122223333:secret:x", "secret_string": "${var.secret}"})
	count(_deny([efs, client, build, secret])) == 0
}

test_write_only_password_literal_fails if {
	cluster := _res("aws_rds_cluster", "c", "us-east-1", {"master_password_wo": "plain"})
	result := _deny([cluster])
	some m in _messages(result)
	startswith(m, "master_password_wo holds a literal")
}

test_access_key_id_anywhere_fails if {
	bucket := _res("aws_s3_bucket", "b", "us-east-1", {"tags": {"Note": "key AKIAIOSFODNN7EXAMPLE"}})
	result := _deny([bucket])
	some m in _messages(result)
	m == "tags.Note contains an AWS access key id (not shown); expected no credential in the configuration"
}

test_pem_private_key_fails if {
	pem := "-----BEGIN RSA PRIVATE KEY-----\nMIIB...\n-----END RSA PRIVATE KEY-----"
	result := _deny([_res("aws_instance", "i", "us-east-1", {"user_data": pem})])
	some m in _messages(result)
	contains(m, "a PEM private key")
}

test_url_with_password_fails_and_plain_url_passes if {
	with_password := _deny([_function({"DATABASE_URL": "postgres://admin:hunter2@db.internal:5432/app"})])
	some m in _messages(with_password)
	contains(m, "a URL with an embedded password")
	count(_deny([_function({"DATABASE_URL": "postgres://admin@db.internal:5432/app", "U": "postgres://${var.user}:${var.pw}@h/db"})])) == 0
}

test_name_value_pairs_are_scanned if {
	ecs := _res("aws_codebuild_project", "b", "us-east-1", {"environment": {"environment_variable": [
		{"name": "GITHUB_TOKEN", "value": "literal-token"},
		{"name": "NPM_TOKEN", "value": "/ci/npm", "type": "PARAMETER_STORE"},
	]}})
	result := _deny([ecs])
	count(result) == 1
	some m in _messages(result)
	contains(m, "names \"GITHUB_TOKEN\" with a literal value")
}

test_secure_string_parameter_literal_fails if {
	param := _res("aws_ssm_parameter", "p", "us-east-1", {"name": "/app/db", "type": "SecureString", "value": "s3cr3t"})
	result := _deny([param])
	some m in _messages(result)
	contains(m, "parameter /app/db (SecureString) has a literal value")
	count(_deny([_res("aws_ssm_parameter", "p", "us-east-1", {"name": "/app/region", "type": "String", "value": "us-east-1"})])) == 0
}

test_data_sources_are_scanned if {
	http := {"stack": "dr", "type": "http", "name": "probe", "address": "data.http.probe", "region": null, "values": {"request_headers": {"X-Api-Key": "abc"}}}
	result := dr_enc_03.deny with input as harness.normalise({"resources": [], "data_sources": [http]})
	some f in result
	f.address == "data.http.probe"
}

test_json_written_as_a_string_is_scanned if {
	definitions := json.marshal([{"name": "app", "environment": [{"name": "DB_PASSWORD", "value": "hunter2"}, {"name": "REGION", "value": "us-east-1"}]}])
	task := _res("aws_ecs_task_definition", "t", "us-east-1", {"container_definitions": definitions})
	result := _deny([task])
	count(result) == 1
	some m in _messages(result)
	m == "container_definitions[0].environment[0] names \"DB_PASSWORD\" with a literal value (not shown); expected a reference to a secret store instead"
}

test_credential_inside_json_string_is_reported_once if {
	definitions := json.marshal([{"name": "app", "image": "x", "command": ["--key", "AKIAIOSFODNN7EXAMPLE"]}])
	result := _deny([_res("aws_ecs_task_definition", "t", "us-east-1", {"container_definitions": definitions})])
	count(result) == 1
	some m in _messages(result)
	m == "container_definitions[0].command[1] contains an AWS access key id (not shown); expected no credential in the configuration"
}

test_odd_value_types_do_not_break_the_scan if {
	odd := _res("aws_iam_policy", "p", "us-east-1", {"statement": [{"name": "token", "value": "x", "type": {"nested": true}}, {"name": 3, "value": null}]})
	result := _deny([odd])
	count(result) == 1
}

test_secret_in_a_list_is_named_by_its_key if {
	result := _deny([_res("aws_instance", "i", "us-east-1", {"api_key": ["abc123"]})])
	some m in _messages(result)
	startswith(m, "api_key[0] holds a literal secret-like value")
}

# A resource without values has no text to pre-screen: everything is walked.
test_subjects_without_values_are_still_scanned if {
	bare := {"stack": "dr", "type": "aws_widget", "name": "w", "address": "aws_widget.w", "region": "us-east-1"}
	cluster := object.union(_primary, {"values": {"master_password": "plain"}})
	result := _deny([bare, _key, cluster])
	some m in _messages(result)
	contains(m, "master_password is set (a literal)")
}

# JSON held in a string may spell a name with escapes that no text search sees.
test_escaped_names_inside_json_strings_are_scanned if {
	definitions := `[{"name": "DB_\u0050ASSWORD", "value": "hunter2"}]`
	result := _deny([_res("aws_ecs_task_definition", "t", "us-east-1", {"container_definitions": definitions})])
	some m in _messages(result)
	contains(m, "names \"DB_PASSWORD\" with a literal value")
}

# --- idioms of other teams' apps (issue 8) --------------------------------------------

test_jsonencode_container_definitions_are_scanned if {
	definitions := `${jsonencode([{"name" = "api", "image" = "${aws_ecr_repository.api.repository_url}:1.4", "environment" = [{"name" = "DB_HOST", "value" = "${aws_rds_cluster.primary.endpoint}"}, {"name" = "DB_PASSWORD", "value" = "Winter2024!"}], "secrets" = [{"name" = "API_TOKEN", "valueFrom" = "${aws_secretsmanager_secret.api.arn}"}]}])}`
	result := _deny([_res("aws_ecs_task_definition", "api", "us-east-1", {"family": "api", "container_definitions": definitions})])
	{[f.address, f.message] | some f in result} == {[
		"aws_ecs_task_definition.api",
		`container_definitions[0].environment[1] names "DB_PASSWORD" with a literal value (not shown); expected a reference to a secret store instead`,
	]}
}

test_json_text_with_interpolations_is_scanned if {
	# json.dumps of a dict holding tokens: the interpolation is an expression, the literal a secret.
	definitions := `[{"name": "api", "environment": [{"name": "DB_HOST", "value": "${aws_rds_cluster.primary.endpoint}"}, {"name": "DB_PASS", "value": "hunter2"}, {"name": "REDIS_AUTH_TOKEN", "value": "${random_password.redis.result}"}]}]`
	result := _deny([_res("aws_ecs_task_definition", "api", "us-east-1", {"container_definitions": definitions})])
	_messages(result) == {`container_definitions[0].environment[1] names "DB_PASS" with a literal value (not shown); expected a reference to a secret store instead`}
}

_version(value) := _res("aws_secretsmanager_secret_version", "db", "us-east-1", {"secret_id": "${aws_secretsmanager_secret.db.id}", "secret_string": value})

test_secret_string_built_with_jsonencode if {
	generated := `${jsonencode({"username" = "app", "password" = "${random_password.db.result}"})}`
	typed := `${jsonencode({"username" = "app", "password" = "correct-horse"})}`
	count(_deny([_version(generated)])) == 0
	_messages(_deny([_version(typed)])) == {"secret_string.password holds a literal secret-like value (not shown); expected no secret in the configuration (a reference to Secrets Manager, a managed password or IAM authentication)"}
}

test_master_password_without_managed_password_is_one_finding if {
	values := object.union(object.remove(_primary_values, ["manage_master_user_password"]), {"master_password": "Sup3r-Secret"})
	result := _deny([_key, _res("aws_rds_cluster", "primary", "us-east-1", values)])
	_messages(result) == {"master_password is set (a literal): the password is written into the Terraform JSON or state; expected manage_master_user_password = true and no master_password"}
}

test_unmanaged_password_has_no_secret_key_finding if {
	values := object.remove(_primary_values, ["manage_master_user_password", "master_user_secret_kms_key_id"])
	result := _deny([_key, _res("aws_rds_cluster", "primary", "us-east-1", values)])
	_messages(result) == {"manage_master_user_password is not true for a cluster that creates the master user; expected RDS to manage the password in Secrets Manager"}
}

test_tag_keys_are_labels_but_tag_values_are_scanned if {
	labelled := _res("aws_s3_bucket", "b", "us-east-1", {"tags": {"Secret": "internal", "DataClass": "restricted"}})
	count(_deny([labelled])) == 0
	leaked := _res("aws_s3_bucket", "b", "us-east-1", {"tags_all": {"Token": "ghp_0123456789abcdefghijABCDEFGHIJ012345"}})
	_messages(_deny([leaked])) == {"tags_all.Token contains a GitHub token (not shown); expected no credential in the configuration"}
}

test_secret_named_value_with_a_credential_shape_is_one_finding if {
	result := _deny([_function({"DATABASE_PASSWORD": "postgres://admin:hunter2@db.internal:5432/app"})])
	_messages(result) == {"environment.variables.DATABASE_PASSWORD holds a literal secret-like value (not shown, a URL with an embedded password); expected no secret in the configuration (a reference to Secrets Manager, a managed password or IAM authentication)"}
}

test_master_secret_key_across_stacks if {
	# Stack per region: the secondary region's cluster names its region's key through remote state.
	key := {"stack": "west", "type": "aws_kms_key", "name": "k", "region": "us-west-2", "values": {"enable_key_rotation": true}}
	cluster := {"stack": "dbw", "type": "aws_rds_cluster", "name": "c", "region": "us-west-2", "values": {
		"master_username": "app", "manage_master_user_password": true,
		"master_user_secret_kms_key_id": "${data.terraform_remote_state.cross-stack-reference-input-west.outputs.key}",
	}}
	remote := {"dbw": {"cross-stack-reference-input-west": {"stack": "west", "outputs": {"key": "${aws_kms_key.k.arn}"}}}}
	result := dr_enc_03.deny with input as harness.normalise({"resources": [key, cluster], "remote_outputs": remote})
	count(result) == 0
}

test_no_message_shows_a_secret if {
	result := _deny([
		_function({"DB_PASSWORD": "hunter2-prod", "URL": "https://u:pw-9921@x.example.com"}),
		_res("aws_ssm_parameter", "p", "us-east-1", {"name": "/app/api_key", "type": "String", "value": "k-77813"}),
		_res("aws_rds_cluster", "c", "us-east-1", {"master_password": "Sup3r-Secret"}),
	])
	count(result) == 4
	every f in result {
		not contains(f.message, "hunter2")
		not contains(f.message, "pw-9921")
		not contains(f.message, "k-77813")
		not contains(f.message, "Sup3r")
	}
}
