# METADATA
# title: No secret is written into the synthesized configuration
# description: >-
#   The synthesized Terraform JSON is stored, reviewed and copied to both
#   regions' pipelines, so it must hold no secret. Every resource and data
#   source is scanned, and so is JSON inside them, written as a string (ECS
#   container definitions, literal policies, also with ${...} in its values)
#   or built with jsonencode({...}): no `master_password` at all (any value
#   puts the password in the JSON or the state); no attribute, map key (such
#   as a Lambda environment variable) or name/value pair whose name looks
#   like a secret (password, passwd, pass, pwd, passphrase, secret, token,
#   api_key, private_key, secret_key, credentials...) holding a non-empty
#   literal (expressions, booleans, numbers, ARNs and name/value pairs whose
#   type names a Parameter Store or Secrets Manager entry are not secrets;
#   creation/idempotency tokens are not either; tag keys are labels, not the
#   names of values); no SSM parameter that is a SecureString or has a
#   secret-like name with a literal value; and no value anywhere that has the
#   shape of a credential (an AWS access key id AKIA/ASIA..., a PEM private
#   key, a URL with a password, a GitHub or Slack token). Each Aurora
#   cluster that creates the master user (has a master_username) lets RDS
#   manage its password in Secrets Manager (manage_master_user_password =
#   true) encrypted with a customer-managed key of the cluster's own region
#   (master_user_secret_kms_key_id); clusters joining a global cluster as
#   secondaries have no master user. One cause is one finding: a cluster
#   with a master_password is reported for that alone, and a secret-named
#   literal that also has a credential's shape once. Findings name the
#   attribute, never the secret.
# custom:
#   id: DR-ENC-03
#   severity: critical
#   controls:
#     - framework: nist-800-53
#       control: IA-5(7)
#       grade: satisfies
#       why: No password, key or token is written into the synthesized configuration, and the database password is managed by AWS.
#     - framework: nist-800-53
#       control: IA-5
#       grade: supports
#       why: The database master password is generated and stored by RDS in Secrets Manager.
#     - framework: soc2
#       control: CC6.1
#       grade: supports
#       why: Credentials are not exposed in the configuration that is stored and reviewed.
#     - framework: iso-27001
#       control: A.5.17
#       grade: supports
#       why: Authentication information is kept out of the configuration and in a managed secret store.
#   observes:
#     aws_rds_cluster: [master_username, master_password, manage_master_user_password, master_user_secret_kms_key_id]
#     aws_ssm_parameter: [name, type, value]
#     aws_lambda_function: [environment.variables]
#   remediation: >-
#     Remove the literal; set manage_master_user_password = true with
#     master_user_secret_kms_key_id = the regional key's arn; give functions
#     the name of a Secrets Manager secret (or use IAM authentication)
#     instead of the secret itself.
package dr.rules.dr_enc_03

import data.dr.lib

# What the model found that may be a secret (input.secrets, compliance/model/secrets.py):
# values held under secret-like names, name/value pairs, SSM parameters, the
# master_password attribute and credential-shaped text, in every resource and
# data source and in JSON written inside them. Each names where it is and what
# kind of value it holds, never the value.

evaluated contains lib.subject(r) if some r in input.resources

evaluated contains lib.subject(d) if some d in input.data_sources

# --- master password and the managed master secret ---------------------------

deny contains lib.finding(rego.metadata.chain(), lib.by_key[c.from], msg) if {
	some c in input.secrets
	c.kind == "master_password"
	c.holds != "null"
	msg := sprintf(
		"master_password is set (%s): the password is written into the Terraform JSON or state; expected manage_master_user_password = true and no master_password",
		[_kind(c.holds)],
	)
}

_kind(holds) := object.get({"literal": "a literal", "expression": "an expression"}, holds, sprintf("a %s value", [holds]))

_master_password(r) if object.get(r.values, "master_password", null) != null

_master_user_clusters contains r if {
	some r in lib.resources("aws_rds_cluster")
	object.get(r.values, "master_username", null) != null
}

_managed(r) if object.get(r.values, "manage_master_user_password", false) in {true, "true"}

# A cluster with a master_password already has its finding: one cause, one finding.
deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some r in _master_user_clusters
	not _managed(r)
	not _master_password(r)
	msg := "manage_master_user_password is not true for a cluster that creates the master user; expected RDS to manage the password in Secrets Manager"
}

# Only a managed password has a master secret to encrypt.
deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some r in _master_user_clusters
	_managed(r)
	not lib.is_regional_cmk(r, ["master_user_secret_kms_key_id"], r.region)
	msg := sprintf(
		"master_user_secret_kms_key_id: %s; expected a customer-managed key of %s for the managed master secret",
		[_key_problem(r), r.region],
	)
}

_key_problem(r) := lib.first(
	[p | p := lib.key_problem(r, ["master_user_secret_kms_key_id"], r.region)],
	"no customer-managed key of this region",
)

# --- secret-looking names holding literals ------------------------------------

# Expressions, booleans, numbers, ARNs, empty strings and secret-store
# references are not secrets: only a literal is.
_literal_secret(c) if {
	c.kind in {"named", "pair", "parameter"}
	c.holds == "literal"
}

deny contains lib.finding(rego.metadata.chain(), lib.by_key[c.from], msg) if {
	some c in input.secrets
	c.kind == "named"
	_literal_secret(c)
	msg := sprintf(
		"%s holds a literal secret-like value (not shown%s); expected no secret in the configuration (a reference to Secrets Manager, a managed password or IAM authentication)",
		[c.attr, _shaped(c)],
	)
}

deny contains lib.finding(rego.metadata.chain(), lib.by_key[c.from], msg) if {
	some c in input.secrets
	c.kind == "pair"
	_literal_secret(c)
	msg := sprintf(
		"%s names %q with a literal value (not shown%s); expected a reference to a secret store instead",
		[c.attr, c.name, _shaped(c)],
	)
}

deny contains lib.finding(rego.metadata.chain(), lib.by_key[c.from], msg) if {
	some c in input.secrets
	c.kind == "parameter"
	_literal_secret(c)
	r := lib.by_key[c.from]
	msg := sprintf(
		"parameter %v (%v) has a literal value (not shown%s): the secret is in the configuration; expected the value to be set outside Terraform",
		[object.get(r.values, "name", "?"), object.get(r.values, "type", "String"), _shaped(c)],
	)
}

_shaped(c) := sprintf(", %s", [c.shape]) if c.shape != null

_shaped(c) := "" if c.shape == null

# --- values shaped like credentials --------------------------------------------

# A credential shape in a value no rule above reports already.
deny contains lib.finding(rego.metadata.chain(), lib.by_key[c.from], msg) if {
	some c in input.secrets
	c.shape != null
	not _literal_secret(c)
	c.kind != "master_password"
	msg := sprintf("%s contains %s (not shown); expected no credential in the configuration", [c.attr, c.shape])
}
