package dr.rules.dr_enc_04_test

import data.dr.rules.dr_enc_04

_res(type, name, region, values) := {"stack": "dr", "type": type, "name": name, "address": sprintf("%s.%s", [type, name]), "region": region, "values": values}

_check(type) := _res("aws_route53_health_check", "hc", "us-east-1", {"type": type, "fqdn": "api.example.com", "port": 443})

_group(name, parameters) := _res("aws_rds_cluster_parameter_group", name, "us-east-1", {"name": name, "family": "aurora-postgresql15", "parameter": parameters})

_force_ssl := [{"name": "rds.force_ssl", "value": "1"}]

_cluster(values) := _res("aws_rds_cluster", "db", "us-east-1", object.union({"engine": "aurora-postgresql"}, values))

_on_group := _cluster({"db_cluster_parameter_group_name": "${aws_rds_cluster_parameter_group.params.name}"})

_input(resources) := harness.normalise({"resources": resources, "remote_outputs": {}, "stacks": []})

_deny(resources) := result if {
	result := dr_enc_04.deny with input as _input(resources)
}

_messages(result) := {f.message | some f in result}

test_https_checks_pass if {
	count(_deny([_check("HTTPS")])) == 0
	count(_deny([_check("HTTPS_STR_MATCH")])) == 0
}

test_plain_http_check_fails if {
	result := _deny([_check("HTTP")])
	some f in result
	f.requirement == "DR-ENC-04"
	f.address == "aws_route53_health_check.hc"
	contains(f.message, "type is HTTP")
}

test_tcp_and_missing_type_fail if {
	count(_deny([_check("TCP")])) == 1
	count(_deny([_res("aws_route53_health_check", "hc", "us-east-1", {"fqdn": "api.example.com"})])) == 1
}

test_calculated_check_is_not_judged if {
	check := _check("CALCULATED")
	count(_deny([check])) == 0
	subjects := dr_enc_04.evaluated with input as _input([check])
	count(subjects) == 0
}

test_cluster_with_force_ssl_group_passes if {
	count(_deny([_on_group, _group("params", _force_ssl)])) == 0
	subjects := dr_enc_04.evaluated with input as _input([_on_group, _group("params", _force_ssl)])
	subjects == {"dr/aws_rds_cluster.db"}
}

test_numeric_force_ssl_passes if {
	count(_deny([_on_group, _group("params", [{"name": "rds.force_ssl", "value": 1}])])) == 0
}

test_force_ssl_zero_fails_on_the_cluster if {
	result := _deny([_on_group, _group("params", [{"name": "rds.force_ssl", "value": "0"}])])
	{[f.address, f.message] | some f in result} == {[
		"aws_rds_cluster.db",
		"db_cluster_parameter_group_name: aws_rds_cluster_parameter_group.params does not force TLS (rds.force_ssl = 0); expected rds.force_ssl = 1 (or require_secure_transport = 1 for MySQL)",
	]}
}

test_group_without_the_parameter_fails if {
	result := _deny([_on_group, _group("params", [{"name": "log_connections", "value": "1"}])])
	some m in _messages(result)
	contains(m, "neither rds.force_ssl nor require_secure_transport is set")
}

test_cluster_on_default_group_fails if {
	result := _deny([_cluster({})])
	some f in result
	f.address == "aws_rds_cluster.db"
	contains(f.message, "is not set (the engine's default group")
}

test_literal_name_of_a_design_group_passes if {
	cluster := _cluster({"db_cluster_parameter_group_name": "params"})
	count(_deny([cluster, _group("params", _force_ssl)])) == 0
}

test_literal_name_of_an_outside_group_fails if {
	cluster := _cluster({"db_cluster_parameter_group_name": "default.aurora-postgresql15"})
	result := _deny([cluster, _group("params", _force_ssl)])
	some m in _messages(result)
	contains(m, "\"default.aurora-postgresql15\" is not a parameter group of this design in the cluster's region")
}

test_literal_name_in_another_region_fails if {
	# One-stack layout: the group of that name is created by the aliased us-west-2 provider.
	cluster := _cluster({"db_cluster_parameter_group_name": "params"})
	west := object.union(_group("params", _force_ssl), {"region": "us-west-2"})
	count(_deny([cluster, west])) == 1
}

test_mysql_require_secure_transport_passes if {
	cluster := _cluster({"engine": "aurora-mysql", "db_cluster_parameter_group_name": "${aws_rds_cluster_parameter_group.params.name}"})
	count(_deny([cluster, _group("params", [{"name": "require_secure_transport", "value": "ON"}])])) == 0
}

test_cross_stack_group_reference_is_resolved if {
	cluster := {"stack": "s", "type": "aws_rds_cluster", "name": "db", "address": "aws_rds_cluster.db", "region": "us-west-2", "values": {"db_cluster_parameter_group_name": "${data.terraform_remote_state.cross-stack-reference-input-p.outputs.params}"}}
	group := {"stack": "p", "type": "aws_rds_cluster_parameter_group", "name": "params", "address": "aws_rds_cluster_parameter_group.params", "region": "us-east-1", "values": {"parameter": _force_ssl}}
	remote := {"s": {"cross-stack-reference-input-p": {"stack": "p", "outputs": {"params": "${aws_rds_cluster_parameter_group.params.name}"}}}}
	result := dr_enc_04.deny with input as harness.normalise({"resources": [cluster, group], "remote_outputs": remote})
	count(result) == 0
}

# --- idioms of other teams' apps (issue 8) --------------------------------------------

test_one_stack_same_group_name_in_each_region if {
	# One stack, aliased providers: a group called "ledger-tls" in each region, named by literal.
	east_group := object.union(_group("east", _force_ssl), {"values": {"name": "ledger-tls", "family": "aurora-postgresql15", "parameter": _force_ssl}})
	west_group := _res("aws_rds_cluster_parameter_group", "west", "us-west-2", {"name": "ledger-tls", "family": "aurora-postgresql15", "parameter": [{"name": "log_connections", "value": "1"}]})
	east := _res("aws_rds_cluster", "east", "us-east-1", {"db_cluster_parameter_group_name": "ledger-tls"})
	west := _res("aws_rds_cluster", "west", "us-west-2", {"db_cluster_parameter_group_name": "ledger-tls"})
	result := _deny([east_group, west_group, east, west])
	{[f.address, f.message] | some f in result} == {[
		"aws_rds_cluster.west",
		"db_cluster_parameter_group_name: aws_rds_cluster_parameter_group.west does not force TLS (neither rds.force_ssl nor require_secure_transport is set); expected rds.force_ssl = 1 (or require_secure_transport = 1 for MySQL)",
	]}
}

test_group_shared_by_two_clusters_names_each_cluster if {
	other := _res("aws_rds_cluster", "reporting", "us-east-1", {"db_cluster_parameter_group_name": "${aws_rds_cluster_parameter_group.params.id}"})
	result := _deny([_on_group, other, _group("params", [{"name": "rds.force_ssl", "value": "0"}])])
	{f.address | some f in result} == {"aws_rds_cluster.db", "aws_rds_cluster.reporting"}
}

test_group_of_another_stack_is_named_with_its_stack if {
	group := {"stack": "shared", "type": "aws_rds_cluster_parameter_group", "name": "tls", "region": "us-east-1", "values": {"name": "org-aurora", "parameter": []}}
	cluster := {"stack": "db", "type": "aws_rds_cluster", "name": "c", "region": "us-east-1", "values": {"db_cluster_parameter_group_name": "org-aurora"}}
	result := dr_enc_04.deny with input as harness.normalise({"resources": [group, cluster]})
	{[f.stack, f.address, f.message] | some f in result} == {[
		"db", "aws_rds_cluster.c",
		"db_cluster_parameter_group_name: shared/aws_rds_cluster_parameter_group.tls does not force TLS (neither rds.force_ssl nor require_secure_transport is set); expected rds.force_ssl = 1 (or require_secure_transport = 1 for MySQL)",
	]}
}

test_group_from_a_variable_cannot_be_shown_to_force_tls if {
	result := _deny([_cluster({"db_cluster_parameter_group_name": "${var.parameter_group}"})])
	_messages(result) == {"db_cluster_parameter_group_name ${var.parameter_group} refers to no parameter group of this design, so TLS cannot be shown to be forced; expected an aws_rds_cluster_parameter_group of the design in us-east-1 with rds.force_ssl = 1 (or require_secure_transport = 1 for MySQL)"}
}

test_literal_name_of_a_group_in_another_stack_of_the_region if {
	# Four stacks: the shared-services stack owns the group; the database stack names it literally.
	group := {"stack": "shared", "type": "aws_rds_cluster_parameter_group", "name": "tls", "region": "us-east-1", "values": {"name": "org-aurora-tls", "parameter": _force_ssl}}
	cluster := {"stack": "db", "type": "aws_rds_cluster", "name": "c", "region": "us-east-1", "values": {"db_cluster_parameter_group_name": "org-aurora-tls"}}
	result := dr_enc_04.deny with input as harness.normalise({"resources": [group, cluster]})
	count(result) == 0
}

test_health_checks_created_with_count_are_judged if {
	check := _res("aws_route53_health_check", "regional", "us-east-1", {"count": 2, "type": "HTTP_STR_MATCH", "fqdn": "api.example.com", "search_string": "ok"})
	result := _deny([check])
	_messages(result) == {"health check type is HTTP_STR_MATCH: the probe travels unencrypted and can be spoofed; expected HTTPS or HTTPS_STR_MATCH"}
}

test_non_text_group_name_is_reported if {
	result := _deny([_cluster({"db_cluster_parameter_group_name": 15})])
	some m in _messages(result)
	startswith(m, "db_cluster_parameter_group_name is 15, not a parameter group name")
}
