# METADATA
# title: IAM grants name their actions and resources; Lambda roles trust only Lambda
# description: >-
#   No IAM statement the design synthesizes allows every action ("*" or a whole
#   service such as "rds:*", or NotAction) or every resource ("*" or
#   NotResource). Statements are read wherever they live: IAM policy documents
#   (data.aws_iam_policy_document), role, user and group inline policies,
#   managed policies created by the design, a role's inline_policy blocks and
#   its trust (assume-role) policy, whether written as a reference to a policy
#   document (also across stacks) or as literal JSON. Only Allow statements
#   grant anything, so only they are judged. A policy that is neither (for
#   example built with jsonencode) cannot be read and is reported. KMS key
#   policies are left to DR-ENC-02: there "Resource *" means "this key" and
#   "kms:*" for the account root is the AWS-recommended default, so what must
#   stay narrow is who the principals are. AWS-managed policies attached by ARN
#   (such as AWSLambdaVPCAccessExecutionRole) are not synthesized statements
#   and are accepted, except those known to grant whole services on every
#   resource (AdministratorAccess, PowerUserAccess, any *FullAccess*). Every
#   role a Lambda function runs as can be assumed by the Lambda service
#   (lambda.amazonaws.com) and by nothing else. A scoped
#   exception (an action AWS only grants on "*") is recorded as a waiver, which
#   keeps it visible in every report.
# custom:
#   id: DR-IAM-01
#   severity: high
#   controls:
#     nist-800-53: [AC-6, AC-6(10), AC-3]
#     soc2: [CC6.1, CC6.3]
#     iso-27001: [A.5.15, A.8.2]
#   remediation: >-
#     List the exact actions each function needs (rds:FailoverGlobalCluster,
#     not rds:*) on the ARNs of the resources of this design (references, not
#     "*"); give each Lambda role an assume-role policy whose only principal is
#     Service lambda.amazonaws.com. Where AWS only supports "*" for an action,
#     add a waiver with a reason, an owner and an expiry date.
package dr.rules.dr_iam_01

import data.dr.lib

# Resources whose `policy` argument is an identity policy.
_policy_types := {"aws_iam_role_policy", "aws_iam_policy", "aws_iam_user_policy", "aws_iam_group_policy"}

_doc_ref := `^\$\{data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.(json|minified_json)\}$`

_remote_ref := `^\$\{data\.terraform_remote_state\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)\}$`

_documents := [d | some d in object.get(input, "data_sources", []); d.type == "aws_iam_policy_document"]

_doc_index := {sprintf("%s|%s", [d.stack, d.address]): d | some d in _documents}

# The policy document a `${data.aws_iam_policy_document.x.json}` expression
# names in its own stack, or in another stack through CDKTF's remote state.
_doc(stack, value) := _local_doc(stack, value)

_doc(stack, value) := d if {
	is_string(value)
	m := regex.find_all_string_submatch_n(_remote_ref, value, 1)[0]
	remote := input.remote_outputs[stack][m[1]]
	d := _local_doc(remote.stack, remote.outputs[m[2]])
}

_local_doc(stack, value) := d if {
	is_string(value)
	m := regex.find_all_string_submatch_n(_doc_ref, value, 1)[0]
	d := _doc_index[sprintf("%s|data.aws_iam_policy_document.%s", [stack, m[1]])]
}

_as_list(x) := x if is_array(x)

_as_list(x) := [x] if is_string(x)

_as_list(x) := [] if {
	not is_array(x)
	not is_string(x)
}

# Statements in one shape, whether they come from a policy document data
# source or from literal JSON.
_own_statements(d) := [_doc_statement(i, s) | some i, s in lib.blocks(object.get(d.values, "statement", []))]

# Documents merged into this one (source_policy_documents and
# override_policy_documents), one level deep. Their statements are judged as
# if they were this document's, overridden or not.
_included(d) := [c |
	some attribute in ["source_policy_documents", "override_policy_documents"]
	some value in _as_list(object.get(d.values, attribute, []))
	c := _doc(d.stack, value)
]

_doc_statements(d) := array.concat(_own_statements(d), [s | some c in _included(d); some s in _own_statements(c)])

_doc_statement(i, s) := {
	"sid": object.get(s, "sid", sprintf("#%d", [i + 1])),
	"effect": object.get(s, "effect", "Allow"),
	"actions": _as_list(object.get(s, "actions", [])),
	"not_actions": _as_list(object.get(s, "not_actions", [])),
	"resources": _as_list(object.get(s, "resources", [])),
	"not_resources": _as_list(object.get(s, "not_resources", [])),
	"principals": _doc_principals(object.get(s, "principals", [])),
	"not_principals": _doc_principals(object.get(s, "not_principals", [])),
}

_doc_principals(blocks) := [[p.type, id] |
	some p in lib.blocks(blocks)
	some id in _as_list(object.get(p, "identifiers", []))
]

_json_statement(i, s) := {
	"sid": object.get(s, "Sid", sprintf("#%d", [i + 1])),
	"effect": object.get(s, "Effect", "Allow"),
	"actions": _as_list(object.get(s, "Action", [])),
	"not_actions": _as_list(object.get(s, "NotAction", [])),
	"resources": _as_list(object.get(s, "Resource", [])),
	"not_resources": _as_list(object.get(s, "NotResource", [])),
	"principals": _json_principals(object.get(s, "Principal", {})),
	"not_principals": _json_principals(object.get(s, "NotPrincipal", {})),
}

_json_principals("*") := [["*", "*"]]

_json_principals(p) := [[kind, id] | some kind, ids in p; some id in _as_list(ids)] if is_object(p)

_json_principals(p) := [] if {
	not is_object(p)
	p != "*"
}

_literal_json(value) if {
	is_string(value)
	not lib.is_expression(value)
	json.is_valid(value)
	is_object(json.unmarshal(value))
}

# A policy argument as [where it comes from, statements].
_read(stack, value) := [d.address, _doc_statements(d)] if d := _doc(stack, value)

_read(_, value) := ["literal JSON", statements] if {
	_literal_json(value)
	statements := [_json_statement(i, s) |
		some i, s in _as_list_of_objects(object.get(json.unmarshal(value), "Statement", []))
	]
}

_as_list_of_objects(x) := [s | some s in x; is_object(s)] if is_array(x)

_as_list_of_objects(x) := [x] if is_object(x)

_as_list_of_objects(x) := [] if {
	not is_array(x)
	not is_object(x)
}

_readable(stack, value) if _read(stack, value)

# Every place a resource carries a policy: [resource, argument, value].
_uses contains [r, "policy", r.values.policy] if {
	some type in _policy_types
	some r in lib.resources(type)
	is_string(object.get(r.values, "policy", null))
}

_uses contains [r, sprintf("inline_policy %q", [object.get(p, "name", "")]), p.policy] if {
	some r in lib.resources("aws_iam_role")
	some p in lib.block(r, "inline_policy")
	is_string(object.get(p, "policy", null))
}

_uses contains [r, "assume_role_policy", r.values.assume_role_policy] if {
	some r in lib.resources("aws_iam_role")
	is_string(object.get(r.values, "assume_role_policy", null))
}

# Documents applied by a resource above, and documents used as KMS key
# policies (left to DR-ENC-02): every other document is judged on its own.
_applied_docs contains d if {
	some [r, _, value] in _uses
	d := _doc(r.stack, value)
}

_applied contains lib.subject(d) if some d in _applied_docs

_applied contains lib.subject(c) if {
	some d in _applied_docs
	some c in _included(d)
}

_key_docs contains d if {
	some type in {"aws_kms_key", "aws_kms_key_policy"}
	some key in lib.resources(type)
	d := _doc(key.stack, object.get(key.values, "policy", null))
}

_key_policy contains lib.subject(d) if some d in _key_docs

_key_policy contains lib.subject(c) if {
	some d in _key_docs
	some c in _included(d)
}

_standalone contains d if {
	some d in _documents
	not lib.subject(d) in _applied
	not lib.subject(d) in _key_policy
}

# What is judged: [resource the finding names, where the statements come from, statements].
_judged contains [r, sprintf("%s (%s)", [argument, read[0]]), read[1]] if {
	some [r, argument, value] in _uses
	read := _read(r.stack, value)
}

_judged contains [d, "policy document", _doc_statements(d)] if some d in _standalone

_allows(s) if lower(s.effect) == "allow"

_wide_action(a) if regex.match(`^([^:]*:)?\*+$`, a)

# What makes an Allow statement too wide, as phrases for the message.
_wide(s) := ((actions | not_actions) | resources) | not_resources if {
	actions := {sprintf("action %q", [a]) | some a in s.actions; _wide_action(a)}
	not_actions := {sprintf("NotAction %v (every other action)", [s.not_actions]) | count(s.not_actions) > 0}
	resources := {"resource \"*\"" | "*" in s.resources}
	not_resources := {sprintf("NotResource %v (every other resource)", [s.not_resources]) | count(s.not_resources) > 0}
}

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some [r, where, statements] in _judged
	some s in statements
	_allows(s)
	some what in _wide(s)
	msg := sprintf(
		"%s: statement %s allows %s; expected named actions on the resources of this design (a scoped exception needs a waiver)",
		[where, s.sid, what],
	)
}

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some [r, argument, value] in _uses
	not _readable(r.stack, value)
	msg := sprintf(
		"%s is neither a reference to an aws_iam_policy_document of this design nor literal JSON, so its grants cannot be verified; expected one of the two",
		[argument],
	)
}

# AWS-managed policies are not synthesized statements, but some are known to
# grant whole services (or everything) on every resource.
_wide_managed := `^arn:aws[a-z-]*:iam::aws:policy/(?:[A-Za-z0-9_+=,.@-]+/)*(AdministratorAccess|PowerUserAccess|[A-Za-z0-9]*FullAccess[A-Za-z0-9]*)$`

_attachment_types := {
	"aws_iam_role_policy_attachment", "aws_iam_policy_attachment",
	"aws_iam_user_policy_attachment", "aws_iam_group_policy_attachment",
}

_attachments contains [r, object.get(r.values, "policy_arn", null)] if {
	some type in _attachment_types
	some r in lib.resources(type)
}

_attachments contains [r, arn] if {
	some r in lib.resources("aws_iam_role")
	some arn in _as_list(object.get(r.values, "managed_policy_arns", []))
}

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some [r, arn] in _attachments
	is_string(arn)
	regex.match(_wide_managed, arn)
	msg := sprintf(
		"attaches the AWS-managed policy %s, which allows whole services on every resource; expected a policy of this design naming its actions and resources",
		[arn],
	)
}

# Lambda functions and the roles they run as.
_lambda_role(fn) := lib.ref_target(fn.stack, object.get(fn.values, "role", null))

_has_own_role(fn) if _lambda_role(fn).type == "aws_iam_role"

_lambda_principal := ["Service", "lambda.amazonaws.com"]

_trust_statements(role) := [s |
	some s in _read(role.stack, role.values.assume_role_policy)[1]
	_allows(s)
]

# What is wrong with a Lambda role's trust policy, as phrases for the message.
_trust_problems(role) := (others | missing) | negated if {
	principals := {p | some s in _trust_statements(role); some p in s.principals}
	others := {sprintf("it also trusts %s %s", p) | some p in principals; p != _lambda_principal}
	missing := {"no Allow statement names lambda.amazonaws.com" | not _lambda_principal in principals}
	negated := {"an Allow statement uses NotPrincipal (everyone else)" |
		some s in _trust_statements(role)
		count(s.not_principals) > 0
	}
}

deny contains lib.finding(rego.metadata.chain(), role, msg) if {
	some fn in lib.resources("aws_lambda_function")
	role := _lambda_role(fn)
	role.type == "aws_iam_role"
	some problem in _trust_problems(role)
	msg := sprintf(
		"assume_role_policy of the role of %s: %s; expected Service lambda.amazonaws.com as its only principal",
		[fn.address, problem],
	)
}

deny contains lib.finding(rego.metadata.chain(), fn, msg) if {
	some fn in lib.resources("aws_lambda_function")
	not _has_own_role(fn)
	msg := sprintf(
		"role %v is not an aws_iam_role of this design, so who can assume it cannot be verified; expected a reference to the function's own role",
		[object.get(fn.values, "role", null)],
	)
}

evaluated contains lib.subject(r) if some [r, _, _] in _uses

evaluated contains lib.subject(d) if some d in _standalone

evaluated contains lib.subject(r) if some [r, _] in _attachments

evaluated contains lib.subject(fn) if some fn in lib.resources("aws_lambda_function")
