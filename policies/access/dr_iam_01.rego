# METADATA
# title: IAM grants name their actions and resources; Lambda roles trust only Lambda
# description: >-
#   No IAM statement the design synthesizes allows every action ("*" or a
#   whole service such as "rds:*", or NotAction) or every resource ("*" or
#   NotResource). Statements are read wherever they live: IAM policy documents
#   (data.aws_iam_policy_document), role, user and group inline policies,
#   managed policies created by the design, a role's inline_policy blocks and
#   its trust (assume-role) policy, in every form a policy takes: a reference
#   to a policy document (also across stacks), literal JSON, JSON whose values
#   hold ${...} interpolations (each one a value, such as a resource's ARN),
#   and jsonencode({...}). A policy document that nothing applies is judged on
#   its own; one merged into another (source_policy_documents,
#   override_policy_documents) is judged with the document that merges it.
#   Only Allow statements grant anything, so only they are judged. A policy
#   in none of these forms (for example a whole document passed in from a
#   variable) cannot be read and is reported. KMS key policies are left to
#   DR-ENC-02: there "Resource *" means "this key" and "kms:*" for the
#   account root is the AWS-recommended default, so what must stay narrow is
#   who the principals are. Resource policies (a bucket's, topic's, queue's
#   or secret's own policy) are judged the same way, except for "Resource *",
#   which there can only mean the resource the policy is attached to.
#   AWS-managed policies attached by ARN (such as
#   AWSLambdaVPCAccessExecutionRole, in any partition, also written
#   arn:${partition}:iam::aws:policy/...) are not synthesized statements and
#   are accepted, except those known to grant whole services on every
#   resource (AdministratorAccess, PowerUserAccess, any *FullAccess*). Every
#   role a Lambda function runs as can be assumed by the Lambda service
#   (lambda.amazonaws.com) and by nothing else, whatever form its trust
#   policy takes; a function whose role is not an aws_iam_role of the design
#   cannot be verified and is reported. A scoped exception (an action AWS
#   only grants on "*") is recorded as a waiver, which keeps it visible in
#   every report.
# custom:
#   id: DR-IAM-01
#   severity: high
#   controls:
#     - framework: nist-800-53
#       control: AC-6
#       grade: supports
#       why: Every grant of the design names its actions and resources and only Lambda assumes the function roles; whether each grant is the least needed is not judged.
#     - framework: soc2
#       control: CC6.3
#       grade: supports
#       why: Roles get narrow, named grants; granting and removing access to people is outside the configuration.
#     - framework: iso-27001
#       control: A.5.15
#       grade: supports
#       why: The access rules of the recovery path are written as narrow grants in the design.
#   observes:
#     aws_iam_role: [assume_role_policy, inline_policy, managed_policy_arns]
#     aws_iam_role_policy: [policy]
#     aws_iam_policy: [policy]
#     aws_iam_role_policy_attachment: [policy_arn]
#   remediation: >-
#     List the exact actions each function needs (rds:FailoverGlobalCluster,
#     not rds:*) on the ARNs of the resources of this design (references, not
#     "*"); give each Lambda role an assume-role policy whose only principal is
#     Service lambda.amazonaws.com. Where AWS only supports "*" for an action,
#     add a waiver with a reason, an owner and an expiry date.
package dr.rules.dr_iam_01

import data.dr.access.iam
import data.dr.lib

# --- statements that grant ----------------------------------------------------

# Identity and trust policies are judged whole; a resource policy is bound to
# its one resource, so there "Resource *" is that resource. Key policies are
# DR-ENC-02's.
_judged_kinds := {"identity", "trust", "resource"}

_judged_uses contains u if {
	some kind in _judged_kinds
	some u in iam.uses(kind)
}

# Policy documents applied by nothing: judged themselves. A document merged
# into another is judged with the document that merges it.
_applied := {u.document | some u in input.policies; u.document != null}

_merged := {c | some doc in input.documents; some c in doc.includes}

_standalone contains d if {
	some d in lib.data_sources("aws_iam_policy_document")
	not d.key in _applied
	not d.key in _merged
}

# What is judged: [block the finding names, where the statements come from,
# the block holding the own statements, statements, kind].
_judged contains [lib.by_key[u.holder], iam.where(u), iam.own_source(u), u.statements, u.kind] if {
	some u in _judged_uses
	u.readable
}

_judged contains [d, "policy document", d.key, input.documents[d.key].statements, "identity"] if {
	some d in _standalone
}

_wide_action(a) if regex.match(`^([^:]*:)?\*+$`, a)

# What makes an Allow statement too wide, as phrases for the message.
_wide(s, kind) := ((actions | not_actions) | resources) | not_resources if {
	actions := {sprintf("action %q", [a]) | some a in s.actions; _wide_action(a)}
	not_actions := {sprintf("NotAction %v (every other action)", [s.not_actions]) | count(s.not_actions) > 0}
	resources := {`resource "*"` | "*" in s.resources; kind != "resource"}
	not_resources := {sprintf("NotResource %v (every other resource)", [s.not_resources]) | count(s.not_resources) > 0}
}

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some [r, where, own, statements, kind] in _judged
	some s in statements
	iam.allows(s)
	some what in _wide(s, kind)
	msg := sprintf(
		"%s: statement %s allows %s; expected named actions on the resources of this design (a scoped exception needs a waiver)",
		[where, iam.label(s, own), what],
	)
}

deny contains lib.finding(rego.metadata.chain(), lib.by_key[u.holder], msg) if {
	some u in _judged_uses
	not u.readable
	msg := sprintf(
		"%s cannot be read (%s), so its grants cannot be verified; expected a reference to an aws_iam_policy_document, JSON text or jsonencode({...})",
		[u.attribute, u.reason],
	)
}

# --- managed policies attached by ARN -------------------------------------------

# AWS-managed policies known to grant whole services (or everything) on every resource.
_wide_managed(name) if name in {"AdministratorAccess", "PowerUserAccess"}

_wide_managed(name) if contains(name, "FullAccess")

deny contains lib.finding(rego.metadata.chain(), lib.by_key[a.holder], msg) if {
	some a in input.attachments
	a.aws_managed != null
	_wide_managed(a.aws_managed.name)
	msg := sprintf(
		"%s attaches the AWS-managed policy %s, which allows whole services on every resource; expected a policy of this design naming its actions and resources",
		[a.attr, a.aws_managed.name],
	)
}

# --- the roles Lambda functions run as -------------------------------------------

_lambda_principal := ["Service", "lambda.amazonaws.com"]

# A role of the design a function runs as (a data source is not the design's).
_role(fn) := role if {
	role := lib.ref(fn, ["role"])
	role.type == "aws_iam_role"
	not startswith(role.address, "data.")
}

# Each role Lambda functions run as, with those functions.
_runs_as contains [_role(fn).key, fn.address] if some fn in lib.resources("aws_lambda_function")

_lambda_roles := {key: {a | some [k, a] in _runs_as; k == key} | some [key, _] in _runs_as}

_trust_statements(key) := [s |
	some u in iam.uses_of(key)
	u.kind == "trust"
	u.readable
	some s in u.statements
	iam.allows(s)
]

_trust_read(key) if {
	some u in iam.uses_of(key)
	u.kind == "trust"
	u.readable
}

# What is wrong with a Lambda role's trust policy, as phrases for the message.
_trust_problems(key) := (others | missing) | negated if {
	_trust_read(key)
	principals := {p | some s in _trust_statements(key); some p in s.principals}
	others := {sprintf("it also trusts %s", [iam.principal_text(p)]) | some p in principals; p != _lambda_principal}
	missing := {"no Allow statement names Service lambda.amazonaws.com" | not _lambda_principal in principals}
	negated := {"an Allow statement uses NotPrincipal (everyone else)" |
		some s in _trust_statements(key)
		count(s.not_principals) > 0
	}
}

deny contains lib.finding(rego.metadata.chain(), lib.by_key[key], msg) if {
	some key, functions in _lambda_roles
	some problem in _trust_problems(key)
	msg := sprintf(
		"assume_role_policy: %s; %s run(s) as this role, so expected Service lambda.amazonaws.com as its only principal",
		[problem, concat(", ", sort(functions))],
	)
}

deny contains lib.finding(rego.metadata.chain(), fn, msg) if {
	some fn in lib.resources("aws_lambda_function")
	not _role(fn)
	msg := sprintf(
		"role %v is not an aws_iam_role of this design, so who can assume it cannot be verified; expected a reference to the function's own role",
		[object.get(fn.values, "role", null)],
	)
}

evaluated contains lib.subject(lib.by_key[u.holder]) if some u in _judged_uses

evaluated contains lib.subject(d) if some d in _standalone

evaluated contains lib.subject(lib.by_key[a.holder]) if some a in input.attachments

evaluated contains lib.subject(fn) if some fn in lib.resources("aws_lambda_function")
