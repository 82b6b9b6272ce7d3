# METADATA
# title: KMS keys keep a recovery window and are never open to everyone
# description: >-
#   Every KMS key of the design (aws_kms_key, aws_kms_replica_key,
#   aws_kms_external_key) has a deletion window of at least 7 days, so a key
#   scheduled for deletion by mistake or by an attacker can still be
#   recovered before the data it protects becomes unreadable; when
#   deletion_window_in_days is omitted AWS applies its default of 30 days,
#   which passes, and a computed window cannot be shown and is reported. No
#   key policy (the key's `policy`, or an aws_kms_key_policy) has an Allow
#   statement granting kms:* (or *, or everything through NotAction) to every
#   principal (`*`, {"AWS": "*"}, an aws_iam_policy_document principal of
#   identifier "*", or NotPrincipal), whatever its conditions. Policies are
#   read from the aws_iam_policy_document data source the policy refers to
#   (with its source and override documents) or parsed when written as a
#   literal JSON string; a policy that is neither cannot be verified and is
#   reported.
# custom:
#   id: DR-ENC-02
#   severity: high
#   controls:
#     nist-800-53: [SC-12, AC-6]
#     soc2: [CC6.1]
#     iso-27001: [A.8.24]
#   remediation: >-
#     Leave deletion_window_in_days unset (30) or set it to 7..30; write key
#     policies with aws_iam_policy_document, granting kms:* only to the
#     account root (or named administrator roles) and narrow actions to the
#     services that use the key.
package dr.rules.dr_enc_02

import data.dr.lib

_minimum_window := 7

_key_types := {"aws_kms_key", "aws_kms_replica_key", "aws_kms_external_key"}

_keys contains r if {
	some type in _key_types
	some r in lib.resources(type)
}

# Every resource that carries a key policy.
_policy_holders contains r if {
	some r in _keys
	object.get(r.values, "policy", null) != null
}

_policy_holders contains r if some r in lib.resources("aws_kms_key_policy")

evaluated contains lib.subject(r) if some r in _keys

evaluated contains lib.subject(r) if some r in _policy_holders

# --- deletion window ---------------------------------------------------------

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some r in _keys
	window := object.get(r.values, "deletion_window_in_days", null)
	days := _days(window)
	days < _minimum_window
	msg := sprintf(
		"deletion_window_in_days is %v: a key scheduled for deletion can be recovered for only %v day(s); expected at least %d (AWS's default when the attribute is omitted is 30)",
		[window, days, _minimum_window],
	)
}

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some r in _keys
	window := object.get(r.values, "deletion_window_in_days", null)
	window != null
	not _days(window)
	msg := sprintf(
		"deletion_window_in_days is %v, not a literal number of days, so it cannot be shown to be at least %d (omit it for AWS's default of 30)",
		[window, _minimum_window],
	)
}

_days(window) := window if is_number(window)

_days(window) := to_number(window) if {
	is_string(window)
	regex.match(`^[0-9]+$`, window)
}

# --- key policy ----------------------------------------------------------------

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some r in _policy_holders
	some statement in _statements(r.stack, r.values.policy)
	_open_grant(statement)
	msg := sprintf(
		"key policy statement %s allows %s to every principal (%s); expected kms:* only for the account root or named administrators",
		[_label(statement), _granted(statement), _who(statement)],
	)
}

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some r in _policy_holders
	policy := r.values.policy
	not _readable(r.stack, policy)
	msg := sprintf(
		"key policy %s is neither a reference to an aws_iam_policy_document of this design nor literal JSON, so it cannot be shown not to grant kms:* to everyone",
		[_short(policy)],
	)
}

_readable(stack, policy) if _document(stack, policy)

_readable(_, policy) if _json_policy(policy)

# --- reading policies ----------------------------------------------------------

_document_ref := `^\$\{data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.(json|minified_json)\}$`

_remote_ref := `^\$\{data\.terraform_remote_state\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)\}$`

_documents := {sprintf("%s|%s", [d.stack, d.address]): d |
	some d in input.data_sources
	d.type == "aws_iam_policy_document"
}

_local_document(stack, value) := d if {
	is_string(value)
	m := regex.find_all_string_submatch_n(_document_ref, value, 1)[0]
	d := _documents[sprintf("%s|data.aws_iam_policy_document.%s", [stack, m[1]])]
}

# The policy document data source a value refers to, here or in another stack.
_document(stack, value) := _local_document(stack, value)

_document(stack, value) := d if {
	is_string(value)
	m := regex.find_all_string_submatch_n(_remote_ref, value, 1)[0]
	remote := input.remote_outputs[stack][m[1]]
	d := _local_document(remote.stack, remote.outputs[m[2]])
}

_json_policy(value) := json.unmarshal(value) if {
	is_string(value)
	not lib.is_expression(value)
	json.is_valid(value)
}

# Every statement of a policy, normalised to
# {sid, effect, actions, not_actions, principals, not_principals}
# where principals are "type:identifier" strings.
_statements(stack, policy) := array.concat(_document_statements(stack, policy), _json_statements(policy))

_document_statements(stack, policy) := array.concat(
	_of_document(_document(stack, policy)),
	[s |
		doc := _document(stack, policy)
		some attribute in ["source_policy_documents", "override_policy_documents"]
		some nested in object.get(doc.values, attribute, [])
		some s in array.concat(_nested_document_statements(doc.stack, nested), _json_statements(nested))
	],
)

_document_statements(stack, policy) := [] if not _document(stack, policy)

_nested_document_statements(stack, value) := _of_document(_local_document(stack, value))

_nested_document_statements(stack, value) := [] if not _local_document(stack, value)

_of_document(doc) := [_from_document(st) | some st in lib.blocks(object.get(doc.values, "statement", []))]

_from_document(st) := {
	"sid": object.get(st, "sid", ""),
	"effect": object.get(st, "effect", "Allow"),
	"actions": _strings(object.get(st, "actions", [])),
	"not_actions": _strings(object.get(st, "not_actions", [])),
	"principals": _document_principals(object.get(st, "principals", [])),
	"not_principals": _document_principals(object.get(st, "not_principals", [])),
}

_document_principals(blocks) := [sprintf("%s:%s", [p.type, id]) |
	some p in lib.blocks(blocks)
	some id in _strings(object.get(p, "identifiers", []))
]

_json_statements(policy) := [_from_json(st) | some st in lib.blocks(object.get(_json_policy(policy), "Statement", []))]

_json_statements(policy) := [] if not _json_policy(policy)

_from_json(st) := {
	"sid": object.get(st, "Sid", ""),
	"effect": object.get(st, "Effect", ""),
	"actions": _strings(object.get(st, "Action", [])),
	"not_actions": _strings(object.get(st, "NotAction", [])),
	"principals": _json_principals(object.get(st, "Principal", [])),
	"not_principals": _json_principals(object.get(st, "NotPrincipal", [])),
}

_json_principals("*") := ["*:*"]

_json_principals(p) := [sprintf("%s:%s", [type, id]) |
	some type, ids in p
	some id in _strings(ids)
] if is_object(p)

_json_principals(p) := [] if {
	not is_object(p)
	p != "*"
}

_strings(x) := [s | some s in x; is_string(s)] if is_array(x)

_strings(x) := [x] if is_string(x)

_strings(x) := [] if {
	not is_array(x)
	not is_string(x)
}

# --- judging a statement -------------------------------------------------------

_open_grant(st) if {
	st.effect == "Allow"
	_all_actions(st)
	_everyone(st)
}

_all_actions(st) if {
	some action in st.actions
	lower(action) in {"kms:*", "*"}
}

_all_actions(st) if count(st.not_actions) > 0

_everyone(st) if {
	some principal in st.principals
	principal in {"*:*", "AWS:*"}
}

_everyone(st) if count(st.not_principals) > 0

_granted(st) := concat(", ", st.actions) if not count(st.not_actions) > 0

_granted(st) := sprintf("every action except %s (NotAction)", [concat(", ", st.not_actions)]) if count(st.not_actions) > 0

_who(st) := "everyone except NotPrincipal" if count(st.not_principals) > 0

_who(st) := "Principal *" if count(st.not_principals) == 0

_label(st) := sprintf("\"%v\"", [st.sid]) if st.sid != ""

_label(st) := "(no Sid)" if st.sid == ""

_short(value) := sprintf("%q", [value]) if {
	is_string(value)
	count(value) <= 80
}

_short(value) := sprintf("%q...", [substring(value, 0, 80)]) if {
	is_string(value)
	count(value) > 80
}

_short(value) := sprintf("%v", [value]) if not is_string(value)
