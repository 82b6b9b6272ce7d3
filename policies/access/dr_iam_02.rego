# METADATA
# title: Only the health-check endpoint is reachable without authentication
# description: >-
#   Route 53 health checkers cannot sign requests, so the endpoint they probe
#   must be public: that, and nothing else. A Lambda Function URL with
#   authorization_type NONE is accepted only when a Route 53 health check of
#   the design targets it, that is, when the health check's fqdn is built
#   from that URL: a reference to its function_url or url_id, also inside
#   functions such as split and element, in the same stack or through CDKTF's
#   cross-stack reference (a host assembled from the function's name is not
#   the URL). This structural definition is used rather than names or tags,
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
#     - framework: nist-800-53
#       control: AC-14
#       grade: satisfies
#       why: The only action permitted without authentication is the health probe Route 53 makes, and every other function URL requires IAM signing.
#     - framework: nist-800-53
#       control: AC-3
#       grade: supports
#       why: Function URLs other than the health endpoint enforce IAM authorization.
#     - framework: soc2
#       control: CC6.6
#       grade: supports
#       why: The functions reachable from outside AWS are limited to the health endpoint.
#   observes:
#     aws_lambda_function_url: [function_name, authorization_type]
#     aws_lambda_permission: [function_url_auth_type, principal, action]
#     aws_route53_health_check: [fqdn]
#   remediation: >-
#     Set authorization_type = "AWS_IAM" on every aws_lambda_function_url that
#     is not the endpoint a Route 53 health check probes, and grant
#     lambda:InvokeFunctionUrl to named principals only; build the health
#     check's fqdn from the health-check function's URL.
package dr.rules.dr_iam_02

import data.dr.lib

# The URL attributes a health check's fqdn is built from: the URL itself, or
# its url_id (the host is <url_id>.lambda-url.<region>.on.aws).
_url_attributes := {"function_url", "url_id"}

# Function URLs a Route 53 health check of the design probes: its fqdn holds a
# reference to the URL (in any function, in any stack).
_probed contains e.to if {
	some check in lib.resources("aws_route53_health_check")
	some e in lib.edges(check, ["fqdn"])
	e.to != null
	lib.by_key[e.to].type == "aws_lambda_function_url"
	e.attribute in _url_attributes
}

_is_public(url) if upper(object.get(url.values, "authorization_type", "")) == "NONE"

# The function of a URL or permission, when it names a function of the design.
_function(r) := fn if {
	fn := lib.ref(r, ["function_name"])
	fn.type == "aws_lambda_function"
}

# Functions whose URL a health check probes: the health-check functions.
_health_functions contains _function(lib.by_key[key]).key if some key in _probed

_public_permissions contains p if {
	some p in lib.resources("aws_lambda_permission")
	upper(object.get(p.values, "function_url_auth_type", "")) == "NONE"
}

_opens_health_function(p) if _function(p).key in _health_functions

# The function a URL or permission names, for messages.
_named(r) := _function(r).address

_named(r) := sprintf("%v", [object.get(r.values, "function_name", null)]) if not _function(r)

deny contains lib.finding(rego.metadata.chain(), url, msg) if {
	some url in lib.resources("aws_lambda_function_url")
	_is_public(url)
	not url.key in _probed
	msg := sprintf(
		"Function URL of %s has authorization_type NONE but no Route 53 health check probes it (its fqdn is not built from this URL); expected AWS_IAM (only the health-check endpoint may be public)",
		[_named(url)],
	)
}

deny contains lib.finding(rego.metadata.chain(), p, msg) if {
	some p in _public_permissions
	not _opens_health_function(p)
	msg := sprintf(
		"permission opens the Function URL of %s to %v without authentication (function_url_auth_type NONE), and it is not a function whose URL a Route 53 health check probes; expected AWS_IAM",
		[_named(p), object.get(p.values, "principal", null)],
	)
}

evaluated contains lib.subject(url) if some url in lib.resources("aws_lambda_function_url")

evaluated contains lib.subject(p) if some p in _public_permissions
