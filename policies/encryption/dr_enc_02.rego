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
#   read in every form they take: a reference to an aws_iam_policy_document
#   (with its source and override documents, also across stacks), literal
#   JSON, JSON whose values hold ${...} interpolations, and jsonencode({...});
#   a policy in none of these forms (for example a whole document passed in
#   from a variable) cannot be verified and is reported. Findings are about
#   the keys: the data they protect stays encrypted either way.
# custom:
#   id: DR-ENC-02
#   severity: high
#   controls:
#     - framework: nist-800-53
#       control: SC-12
#       grade: supports
#       why: Keys keep a recovery window of at least 7 days and no key policy opens a key to everyone.
#     - framework: soc2
#       control: CC6.1
#       grade: supports
#       why: No key policy grants use of a key to every principal.
#     - framework: iso-27001
#       control: A.8.24
#       grade: supports
#       why: Keys cannot be lost in less than a week, and their policies are not open.
#   observes:
#     aws_kms_key: [deletion_window_in_days, policy]
#     aws_kms_replica_key: [deletion_window_in_days, policy]
#     aws_kms_key_policy: [key_id, policy]
#   remediation: >-
#     Leave deletion_window_in_days unset (30) or set it to 7..30; write key
#     policies with aws_iam_policy_document, granting kms:* only to the
#     account root (or named administrator roles) and narrow actions to the
#     services that use the key.
package dr.rules.dr_enc_02

import data.dr.access.iam
import data.dr.lib

_minimum_window := 7

_key_types := {"aws_kms_key", "aws_kms_replica_key", "aws_kms_external_key"}

_keys contains r if {
	some type in _key_types
	some r in lib.resources(type)
}

evaluated contains lib.subject(r) if some r in _keys

evaluated contains lib.subject(lib.by_key[u.holder]) if some u in iam.uses("key")

# --- deletion window ---------------------------------------------------------

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some r in _keys
	window := object.get(r.values, "deletion_window_in_days", null)
	days := lib.num(window)
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
	not lib.num(window)
	msg := sprintf(
		"deletion_window_in_days is %v, not a literal number of days, so it cannot be shown to be at least %d (omit it for AWS's default of 30)",
		[window, _minimum_window],
	)
}

# --- key policy ----------------------------------------------------------------

deny contains lib.finding(rego.metadata.chain(), lib.by_key[u.holder], msg) if {
	some u in iam.uses("key")
	some s in u.statements
	_open_grant(s)
	msg := sprintf(
		"%s: statement %s allows %s to every principal (%s); expected kms:* only for the account root or named administrators",
		[iam.where(u), iam.label(s, iam.own_source(u)), _granted(s), _who(s)],
	)
}

deny contains lib.finding(rego.metadata.chain(), lib.by_key[u.holder], msg) if {
	some u in iam.uses("key")
	not u.readable
	msg := sprintf(
		"key policy cannot be read (%s), so it cannot be shown not to grant kms:* to everyone; expected a reference to an aws_iam_policy_document, JSON text or jsonencode({...})",
		[u.reason],
	)
}

# --- judging a statement -------------------------------------------------------

_open_grant(s) if {
	iam.allows(s)
	_all_actions(s)
	_everyone(s)
}

_all_actions(s) if {
	some action in s.actions
	lower(action) in {"kms:*", "*"}
}

_all_actions(s) if count(s.not_actions) > 0

_everyone(s) if {
	some principal in s.principals
	principal in {["*", "*"], ["AWS", "*"]}
}

_everyone(s) if count(s.not_principals) > 0

_granted(s) := concat(", ", s.actions) if count(s.not_actions) == 0

_granted(s) := sprintf("every action except %s (NotAction)", [concat(", ", s.not_actions)]) if count(s.not_actions) > 0

_who(s) := "everyone except NotPrincipal" if count(s.not_principals) > 0

_who(s) := `Principal "*"` if count(s.not_principals) == 0
