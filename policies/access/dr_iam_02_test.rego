package dr.rules.dr_iam_02_test

import data.dr.rules.dr_iam_02

_resource(stack, type, name, values) := {
	"stack": stack, "type": type, "name": name, "address": sprintf("%s.%s", [type, name]),
	"region": "us-west-2", "provider": "aws", "values": values,
}

_health_fn := _resource("s", "aws_lambda_function", "health", {"function_name": "dr-health"})

_failover_fn := _resource("s", "aws_lambda_function", "failover", {"function_name": "dr-failover"})

_url(name, function, auth) := _resource("s", "aws_lambda_function_url", name, {
	"function_name": sprintf("${aws_lambda_function.%s.function_name}", [function]),
	"authorization_type": auth,
})

# The global stack's health check reaches the URL through remote state, inside an expression.
_check := _resource("g", "aws_route53_health_check", "secondary", {
	"type": "HTTPS",
	"fqdn": "${element(split(\"/\", data.terraform_remote_state.cross-stack-reference-input-s.outputs.url), 2)}",
})

_remote := {"g": {"cross-stack-reference-input-s": {"stack": "s", "outputs": {"url": "${aws_lambda_function_url.health.function_url}"}}}}

_input(resources) := harness.normalise({"resources": array.concat([_health_fn, _failover_fn, _check], resources), "remote_outputs": _remote})

test_public_url_probed_by_health_check_passes if {
	result := dr_iam_02.deny with input as _input([_url("health", "health", "NONE")])
	count(result) == 0
}

test_public_url_on_failover_function_fails if {
	result := dr_iam_02.deny with input as _input([_url("health", "health", "NONE"), _url("failover", "failover", "NONE")])
	count(result) == 1
	some f in result
	f.requirement == "DR-IAM-02"
	f.address == "aws_lambda_function_url.failover"
	contains(f.message, "no Route 53 health check probes it")
}

test_iam_authorized_url_passes if {
	result := dr_iam_02.deny with input as _input([_url("health", "health", "NONE"), _url("failover", "failover", "AWS_IAM")])
	count(result) == 0
}

test_name_does_not_make_a_health_check if {
	# Called "health", but nothing probes it: the health check has a literal host.
	check := object.union(_check, {"values": {"fqdn": "health.example.com"}})
	result := dr_iam_02.deny with input as harness.normalise({"resources": [_health_fn, check, _url("health", "health", "NONE")]})
	some f in result
	f.address == "aws_lambda_function_url.health"
}

test_one_stack_layout_with_local_reference if {
	# One stack: the health check names the URL directly; the function lives in us-west-2 via aws.secondary.
	fn := object.union(_health_fn, {"stack": "app", "provider": "aws.secondary"})
	url := object.union(_url("health", "health", "NONE"), {"stack": "app", "provider": "aws.secondary"})
	check := object.union(_check, {"stack": "app", "region": "us-east-1", "values": {
		"type": "HTTPS",
		"fqdn": "${element(split(\"/\", aws_lambda_function_url.health.function_url), 2)}",
	}})
	result := dr_iam_02.deny with input as harness.normalise({"resources": [fn, url, check]})
	count(result) == 0
	subjects := dr_iam_02.evaluated with input as harness.normalise({"resources": [fn, url, check]})
	subjects == {"app/aws_lambda_function_url.health"}
}

_public_permission(function) := _resource("s", "aws_lambda_permission", sprintf("%s-public", [function]), {
	"function_name": sprintf("${aws_lambda_function.%s.function_name}", [function]),
	"action": "lambda:InvokeFunctionUrl",
	"principal": "*",
	"function_url_auth_type": "NONE",
})

test_public_permission_only_on_health_function if {
	passing := dr_iam_02.deny with input as _input([_url("health", "health", "NONE"), _public_permission("health")])
	count(passing) == 0
	failing := dr_iam_02.deny with input as _input([_url("health", "health", "NONE"), _public_permission("failover")])
	some f in failing
	f.address == "aws_lambda_permission.failover-public"
}

test_no_function_url_is_not_applicable if {
	subjects := dr_iam_02.evaluated with input as harness.normalise({"resources": [_health_fn]})
	count(subjects) == 0
}

# --- idioms of other teams' apps (issue 8) --------------------------------------------

test_host_assembled_from_the_function_name_is_not_the_url if {
	# The team knows the URL's shape; but a host built from a name is not a reference to the URL.
	check := object.union(_check, {"stack": "s", "values": {"type": "HTTPS", "fqdn": "${aws_lambda_function.health.function_name}.lambda-url.us-west-2.on.aws"}})
	result := dr_iam_02.deny with input as harness.normalise({"resources": [_health_fn, check, _url("health", "health", "NONE")]})
	{[f.address, f.message] | some f in result} == {[
		"aws_lambda_function_url.health",
		"Function URL of aws_lambda_function.health has authorization_type NONE but no Route 53 health check probes it (its fqdn is not built from this URL); expected AWS_IAM (only the health-check endpoint may be public)",
	]}
}

test_host_built_from_url_id_is_the_url if {
	check := object.union(_check, {"stack": "s", "values": {"type": "HTTPS", "fqdn": "${aws_lambda_function_url.health.url_id}.lambda-url.us-west-2.on.aws"}})
	permission := object.union(_public_permission("health"), {"values": {
		"function_name": "${aws_lambda_function.health.arn}", "action": "lambda:InvokeFunctionUrl",
		"principal": "*", "function_url_auth_type": "NONE",
	}})
	result := dr_iam_02.deny with input as harness.normalise({"resources": [_health_fn, check, _url("health", "health", "NONE"), permission]})
	count(result) == 0
}

test_permission_naming_a_function_by_literal_name_fails if {
	permission := object.union(_public_permission("health"), {"values": {
		"function_name": "dr-health", "action": "lambda:InvokeFunctionUrl",
		"principal": "*", "function_url_auth_type": "NONE",
	}})
	result := dr_iam_02.deny with input as _input([_url("health", "health", "NONE"), permission])
	{f.message | some f in result} == {"permission opens the Function URL of dr-health to * without authentication (function_url_auth_type NONE), and it is not a function whose URL a Route 53 health check probes; expected AWS_IAM"}
}

test_one_stack_two_regions_each_url_needs_its_own_check if {
	# One stack, two aliased regions: each region's health function URL is probed by its own check.
	east_fn := object.union(_health_fn, {"stack": "app", "name": "east", "region": "us-east-1"})
	west_fn := object.union(_health_fn, {"stack": "app", "name": "west"})
	east_url := object.union(_url("east", "east", "NONE"), {"stack": "app", "region": "us-east-1"})
	west_url := object.union(_url("west", "west", "NONE"), {"stack": "app"})
	east_check := _resource("app", "aws_route53_health_check", "east", {"type": "HTTPS", "fqdn": "${element(split(\"/\", aws_lambda_function_url.east.function_url), 2)}"})
	result := dr_iam_02.deny with input as harness.normalise({"resources": [east_fn, west_fn, east_url, west_url, east_check]})
	{f.address | some f in result} == {"aws_lambda_function_url.west"}
}
