# METADATA
# title: Helpers for reading IAM and KMS policies from the model
# description: >-
#   The model reads every policy a block carries into statements, whatever
#   its form (input.policies, input.documents). These helpers index them and
#   describe where a statement comes from, for messages.
package dr.access.iam

import data.dr.lib

# Every policy use of one kind (identity, trust, key, resource).
uses(kind) := object.get(_uses_by_kind, kind, [])

_uses_by_kind := {kind: [u | some u in input.policies; u.kind == kind] |
	some kind in {u.kind | some u in input.policies}
}

# The policy uses a block holds, by the block's key.
uses_of(key) := object.get(_uses_by_holder, key, [])

_uses_by_holder := {holder: [u | some u in input.policies; u.holder == holder] |
	some holder in {u.holder | some u in input.policies}
}

# Only Allow statements grant anything.
allows(s) if lower(s.effect) == "allow"

# Where a use's statements come from: the attribute and the form it is written in.
where(u) := sprintf("%s (%s)", [u.attribute, lib.by_key[u.document].address]) if u.form == "document"

where(u) := sprintf("%s (%s)", [u.attribute, _form_names[u.form]]) if u.form != "document"

_form_names := {
	"json": "literal JSON",
	"interpolated-json": "JSON text with interpolations",
	"jsonencode": "jsonencode",
	"unreadable": "unreadable",
}

# A statement's name for messages; a statement merged in from another policy
# document (source_policy_documents, override_policy_documents) says which.
label(s, own) := _sid(s) if s.source == own

label(s, own) := sprintf("%s (from %s)", [_sid(s), lib.by_key[s.source].address]) if s.source != own

# The model numbers statements without a Sid "#1", "#2"... (a Sid is alphanumeric).
_sid(s) := sprintf("%s (no Sid)", [s.sid]) if startswith(s.sid, "#")

_sid(s) := sprintf("%q", [s.sid]) if not startswith(s.sid, "#")

# The block whose text holds a use's own statements.
own_source(u) := u.document if u.document != null

own_source(u) := u.holder if u.document == null

# A principal for messages.
principal_text(["*", "*"]) := `everyone (Principal "*")`

principal_text(p) := sprintf("%s %s", p) if p != ["*", "*"]
