# METADATA
# title: No secret is written into the synthesized configuration
# description: >-
#   The synthesized Terraform JSON is stored, reviewed and copied to both
#   regions' pipelines, so it must hold no secret. Every resource and data
#   source is scanned, and so is JSON written as a string inside them (ECS
#   container definitions, literal policies): no `master_password` at all
#   (any value puts the password in the JSON or the state); no attribute,
#   Lambda environment variable or name/value pair whose name looks like a
#   secret (password,
#   passwd, pass, pwd, passphrase, secret, token, api_key, private_key,
#   secret_key, credentials...) holding a non-empty literal (expressions,
#   booleans, numbers and ARNs are not secrets; creation/idempotency tokens
#   are not either); no SecureString SSM parameter with a literal value;
#   and no value anywhere that has the shape of a credential (an AWS access
#   key id AKIA/ASIA..., a PEM private key, a URL with a password, a GitHub
#   or Slack token). Each Aurora cluster that creates the master user
#   (has a master_username) lets RDS manage its password in Secrets Manager
#   (manage_master_user_password = true) encrypted with a customer-managed
#   key of the cluster's own region (master_user_secret_kms_key_id);
#   clusters joining a global cluster as secondaries have no master user.
#   Findings name the attribute, never the secret.
# custom:
#   id: DR-ENC-03
#   severity: critical
#   controls:
#     nist-800-53: [IA-5, IA-5(7), SC-28]
#     soc2: [CC6.1]
#     iso-27001: [A.5.17, A.8.24]
#   remediation: >-
#     Remove the literal; set manage_master_user_password = true with
#     master_user_secret_kms_key_id = the regional key's arn; give functions
#     the name of a Secrets Manager secret (or use IAM authentication)
#     instead of the secret itself.
package dr.rules.dr_enc_03

import data.dr.lib
import data.dr.references.expressions as expr

# Everything synthesized that carries values: resources and data sources.
_scanned := array.concat(input.resources, object.get(input, "data_sources", []))

evaluated contains lib.subject(r) if some r in _scanned

# --- master password and the managed master secret ---------------------------

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some i in _secret_candidates
	i < count(input.resources)
	r := input.resources[i]
	value := object.get(r.values, "master_password", null)
	value != null
	msg := sprintf(
		"master_password is set (%s): the password is written into the Terraform JSON or state; expected manage_master_user_password = true and no master_password",
		[_kind(value)],
	)
}

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some r in _master_user_clusters
	not object.get(r.values, "manage_master_user_password", false) in {true, "true"}
	msg := "manage_master_user_password is not true for a cluster that creates the master user; expected RDS to manage the password in Secrets Manager"
}

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some r in _master_user_clusters
	key := object.get(r.values, "master_user_secret_kms_key_id", null)
	not lib.is_regional_cmk(r.stack, key, r.region)
	msg := sprintf(
		"master_user_secret_kms_key_id: %s; expected a customer-managed key of %s for the managed master secret",
		[_key_problem(r.stack, key, r.region), r.region],
	)
}

_master_user_clusters contains r if {
	some r in lib.resources("aws_rds_cluster")
	object.get(r.values, "master_username", null) != null
}

_key_problem(stack, key, region) := lib.first([p | p := lib.key_problem(stack, key, region)], "no customer-managed key of this region")

_kind(value) := "an expression" if lib.is_expression(value)

_kind(value) := "a literal" if not lib.is_expression(value)

# --- secret-looking names holding literals ------------------------------------

# A name that denotes a secret, matched on its lower-cased end (`_wo` is the
# write-only variant of provider 6.x).
_secret_name := `(password|passwd|passphrase|(^|[_.-])pass|pwd|secret|secret_?string|secret_?binary|secret_?key|secret_?access_?key|token|api_?key|private_?key|credentials?)(_wo)?$`

# Names that match the pattern but are not secrets.
_not_secret_names := {"creation_token", "client_token", "idempotency_token", "client_request_token"}

_secret_like(name) if {
	is_string(name)
	n := lower(replace(name, "-", "_"))
	regex.match(_secret_name, n)
	not n in _not_secret_names
}

# A literal that could be a secret: a non-empty string that is not an
# expression, a boolean spelled as text or an ARN.
_literal_secret(value) if {
	is_string(value)
	trim_space(value) != ""
	not lib.is_expression(value)
	not lower(value) in {"true", "false"}
	not regex.match(`^arn:aws[a-z-]*:`, value)
}

# The name a walked value is held under: its key, or its list's key.
_held_under(path) := path[count(path) - 1] if {
	count(path) > 0
	is_string(path[count(path) - 1])
}

_held_under(path) := path[count(path) - 2] if {
	count(path) > 1
	is_number(path[count(path) - 1])
}

_dotted(path) := concat(".", [sprintf("%v", [p]) | some p in path])

# Every node of the subjects worth walking, as [index in _scanned, path,
# value]; JSON written as a string (ECS container definitions, literal
# policies) is parsed and its nodes follow, under the string's path. The
# secret-name rules walk the subjects whose text holds a secret word, the
# credential rule those whose text holds the start of a credential shape.
_secret_nodes := _nodes(_secret_candidates)

_credential_nodes := _nodes(_credential_candidates)

_nodes(candidates) := array.concat(outer, [[i, array.concat(path, inner), node] |
	some [i, path, value] in outer
	_json_text(value)
	walk(json.unmarshal(value), [inner, node])
]) if {
	outer := [[i, path, value] |
		some i in candidates
		walk(_scanned[i].values, [path, value])
	]
}

# A first pass over the JSON text of what is scanned keeps the subjects that
# may hold a finding. A name the secret-name rules report holds one of the
# secret words, and a value the credential rule reports holds the start of
# its shape; once lower-cased (as names are), each shows in the subject's
# text as one of these needles. Letters, digits, `:`, `/`, `-`, `_` and
# spaces appear verbatim in json.marshal's text, except inside JSON held in
# a string (parsed and walked too), whose own escapes show as a doubled
# backslash: a subject with one is walked by every rule.
_secret_needles := [
	"pass", "pwd", "secret", "token", "credential",
	"apikey", "api_key", "api-key", "privatekey", "private_key", "private-key",
	`\\`,
]

_credential_needles := [
	"akia", "asia", "private key-----", "://",
	"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "xoxa-", "xoxb-", "xoxp-", "xoxr-", "xoxs-",
	`\\`,
]

# The JSON text of every scanned subject's values, in _scanned order, each
# on its own line (json.marshal escapes newlines) after its index and a tab,
# lower-cased in one call. Resources reuse the texts DR-REF-01 and DR-REF-04
# scan when every resource has values (so positions match); data sources
# are serialized here.
_texts := array.concat(_resource_texts, [json.marshal(d.values) | some d in object.get(input, "data_sources", [])])

_lines := lower(concat("\n", [sprintf("%d\t%s", [i, text]) | some i, text in _texts]))

_resource_texts := expr.resource_texts if count(expr.resource_texts) == count(input.resources)

_resource_texts := [json.marshal(r.values) | some r in input.resources] if {
	count(expr.resource_texts) != count(input.resources)
}

# The indexes of the subjects whose text holds a needle. The lines are split
# at each needle found; each piece but the last ends inside the line of an
# occurrence, whose index starts that line. A piece without a line break
# continues the line of the previous occurrence (already counted).
_holding(needles) := {i |
	some needle in needles
	contains(_lines, needle)
	pieces := split(_lines, needle)
	some j, piece in array.slice(pieces, 0, count(pieces) - 1)
	lines := split(piece, "\n")
	_starts_line(j, count(lines))
	i := to_number(split(lines[count(lines) - 1], "\t")[0])
}

_starts_line(0, _)

_starts_line(_, n) if n > 1

_secret_candidates := _holding(_secret_needles) if count(_texts) == count(_scanned)

_credential_candidates := _holding(_credential_needles) if count(_texts) == count(_scanned)

# A subject without values has no text; then every subject is walked.
_secret_candidates := {i | some i, _ in _scanned} if count(_texts) != count(_scanned)

_credential_candidates := _secret_candidates if count(_texts) != count(_scanned)

_json_text(value) if {
	is_string(value)
	regex.match(`^\s*[\[{]`, value)
	json.is_valid(value)
}

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some [i, path, value] in _secret_nodes
	_literal_secret(value)
	path != ["master_password"]
	_secret_like(_held_under(path))
	r := _scanned[i]
	msg := sprintf(
		"%s holds a literal secret-like value (%d characters, not shown); expected no secret in the configuration (a reference to Secrets Manager, a managed password or IAM authentication)",
		[_dotted(path), count(value)],
	)
}

# Name/value pairs (container or build environment variables, parameters).
deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some [i, path, pair] in _secret_nodes
	path != []
	is_object(pair)
	_secret_like(object.get(pair, "name", null))
	value := object.get(pair, "value", null)
	_literal_secret(value)
	not _text(object.get(pair, "type", "")) in {"PARAMETER_STORE", "SECRETS_MANAGER"}
	r := _scanned[i]
	msg := sprintf(
		"%s names %q with a literal value (%d characters, not shown); expected a reference to a secret store instead",
		[_dotted(path), pair.name, count(value)],
	)
}

# An SSM parameter is itself a name/value pair.
deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some r in lib.resources("aws_ssm_parameter")
	_secret_parameter(r)
	value := object.get(r.values, "value", null)
	_literal_secret(value)
	msg := sprintf(
		"parameter %v (%v) has a literal value (%d characters, not shown): the secret is in the configuration; expected the value to be set outside Terraform",
		[object.get(r.values, "name", "?"), object.get(r.values, "type", "String"), count(value)],
	)
}

_secret_parameter(r) if object.get(r.values, "type", "") == "SecureString"

_text(value) := upper(value) if is_string(value)

_text(value) := "" if not is_string(value)

_secret_parameter(r) if _secret_like(object.get(r.values, "name", null))

# --- values shaped like credentials --------------------------------------------

_credential_shapes := {
	"an AWS access key id": `\b(AKIA|ASIA)[0-9A-Z]{16}\b`,
	"a PEM private key": `-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----`,
	"a URL with an embedded password": `[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@${}]+:[^/\s@${}]+@`,
	"a GitHub token": `\bgh[pousr]_[A-Za-z0-9]{36}\b`,
	"a Slack token": `\bxox[abprs]-[A-Za-z0-9-]{10,}`,
}

# All shapes in one expression: each string is matched once, then named.
_any_credential := concat("|", [sprintf("(%s)", [pattern]) | some pattern in _credential_shapes])

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some [i, path, value] in _credential_nodes
	is_string(value)
	regex.match(_any_credential, value)
	not _json_text(value)
	some shape, pattern in _credential_shapes
	regex.match(pattern, value)
	r := _scanned[i]
	msg := sprintf(
		"%s contains %s (not shown); expected no credential in the configuration",
		[_dotted(path), shape],
	)
}
