# METADATA
# title: Only the health-check endpoint is reachable without authentication
# description: >-
#   Route 53 health checkers cannot sign requests, so the endpoint they probe
#   must be public: that, and nothing else. A Lambda Function URL with
#   authorization_type NONE is accepted only when a Route 53 health check of
#   the design targets it, that is, when the health check's fqdn is built
#   from that URL (directly in the same stack, or through CDKTF's cross-stack
#   reference). This structural definition is used rather than names or tags,
#   which anyone can set: a public URL that no health check probes is a
#   finding, whatever it is called. For the same reason a Lambda permission
#   that opens a Function URL to everyone (function_url_auth_type NONE) is
#   accepted only on a function whose URL a health check targets. Every other
#   URL must use AWS_IAM, so that, for example, the function that promotes
#   the secondary database can never be invoked by anyone on the Internet.
# custom:
#   id: DR-IAM-02
#   severity: high
#   controls:
#     nist-800-53: [AC-3, AC-14, SC-7]
#     soc2: [CC6.6]
#     iso-27001: [A.8.20]
#   remediation: >-
#     Set authorization_type = "AWS_IAM" on every aws_lambda_function_url that
#     is not the endpoint a Route 53 health check probes, and grant
#     lambda:InvokeFunctionUrl to named principals only; build the health
#     check's fqdn from the health-check function's URL.
package dr.rules.dr_iam_02

import data.dr.lib

# A resource reference anywhere inside an expression, such as
# ${element(split("/", aws_lambda_function_url.health.function_url), 2)}.
_local_ref := `(?:^|[^.A-Za-z0-9_])(aws_[a-z0-9_]+\.[A-Za-z0-9_-]+\.[a-z0-9_]+)`

_remote_ref := `data\.terraform_remote_state\.[A-Za-z0-9_-]+\.outputs\.[A-Za-z0-9_-]+`

_referenced(stack, value) := local | remote if {
	is_string(value)
	local := {lib.subject(r) |
		some m in regex.find_all_string_submatch_n(_local_ref, value, -1)
		r := lib.ref_target(stack, sprintf("${%s}", [m[1]]))
	}
	remote := {lib.subject(r) |
		some m in regex.find_all_string_submatch_n(_remote_ref, value, -1)
		r := lib.ref_target(stack, sprintf("${%s}", [m[0]]))
	}
}

# Function URLs a Route 53 health check of the design probes.
_probed contains subject if {
	some check in lib.resources("aws_route53_health_check")
	some subject in _referenced(check.stack, object.get(check.values, "fqdn", null))
}

_is_public(url) if upper(object.get(url.values, "authorization_type", "")) == "NONE"

# Functions whose URL a health check probes: the health-check functions.
_health_functions contains lib.subject(fn) if {
	some url in lib.resources("aws_lambda_function_url")
	lib.subject(url) in _probed
	fn := lib.ref_target(url.stack, object.get(url.values, "function_name", null))
}

_public_permissions contains p if {
	some p in lib.resources("aws_lambda_permission")
	upper(object.get(p.values, "function_url_auth_type", "")) == "NONE"
}

_permission_function(p) := lib.subject(lib.ref_target(p.stack, object.get(p.values, "function_name", null)))

_opens_health_function(p) if _permission_function(p) in _health_functions

deny contains lib.finding(rego.metadata.chain(), url, msg) if {
	some url in lib.resources("aws_lambda_function_url")
	_is_public(url)
	not lib.subject(url) in _probed
	msg := sprintf(
		"Function URL of %v has authorization_type NONE but no Route 53 health check targets it; expected AWS_IAM (only the health-check endpoint may be public)",
		[object.get(url.values, "function_name", null)],
	)
}

deny contains lib.finding(rego.metadata.chain(), p, msg) if {
	some p in _public_permissions
	not _opens_health_function(p)
	msg := sprintf(
		"permission opens the Function URL of %v to %v without authentication (function_url_auth_type NONE), and it is not the function a Route 53 health check probes; expected AWS_IAM",
		[object.get(p.values, "function_name", null), object.get(p.values, "principal", null)],
	)
}

evaluated contains lib.subject(url) if some url in lib.resources("aws_lambda_function_url")

evaluated contains lib.subject(p) if some p in _public_permissions
