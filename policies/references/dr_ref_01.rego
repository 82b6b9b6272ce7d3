# METADATA
# title: References are expressions, never literal identifiers of the account's resources
# description: >-
#   Every attribute that refers to another resource (a VPC, subnet, security
#   group, KMS key, hosted zone, health check, role, topic, the global
#   database...) holds a Terraform expression, local or cross-stack, not a
#   literal identifier copied from one account: no ARN naming an account, no
#   account ID, no vpc-/subnet-/sg-/rtb-/pcx-/igw- ID, key ID, zone ID or
#   resource name typed in by hand. Such literals break the moment the design
#   is deployed in another account or rebuilt in another region, which is
#   exactly what a recovery does. The attribute by which a resource names
#   itself is a name, not a reference; identifiers that are the same in every
#   account (AWS-managed policy ARNs, AWS-managed key aliases, service
#   principals, Availability Zone IDs) are allowed. IAM policy documents are
#   read the same way.
# custom:
#   id: DR-REF-01
#   severity: high
#   controls:
#     - framework: nist-800-53
#       control: CM-2
#       grade: supports
#       why: The baseline configuration holds references, not identifiers copied from one account, so it can be rebuilt elsewhere.
#     - framework: iso-27001
#       control: A.8.9
#       grade: supports
#       why: The configuration does not depend on resources that exist in one account only.
#   remediation: >-
#     Pass the resource object (CDKTF turns a property of another stack into a
#     cross-stack reference) or use a data source lookup instead of a copied
#     ID or ARN; build ARNs from data.aws_caller_identity / aws_partition.
package dr.rules.dr_ref_01

import data.dr.lib

# The literal identifiers the model recognised (compliance/model/identifiers.py):
# a literal in an attribute that refers to another resource ("reference"), or
# an account-specific identifier shape anywhere outside free text ("identifier").
_literals := [l | some l in input.literals; l.kind in {"reference", "identifier"}]

_policy_documents := lib.data_sources("aws_iam_policy_document")

evaluated contains lib.subject(r) if some r in input.resources

evaluated contains lib.subject(d) if some d in _policy_documents

deny contains lib.finding(rego.metadata.chain(), lib.by_key[l.from], msg) if {
	some l in _literals
	l.kind == "reference"
	msg := sprintf(
		"%s holds the literal identifier %q; expected a Terraform expression that references the resource (local or cross-stack)",
		[l.attr, l.value],
	)
}

deny contains lib.finding(rego.metadata.chain(), lib.by_key[l.from], msg) if {
	some l in _literals
	l.kind == "identifier"
	msg := sprintf(
		"%s contains %s typed in as a literal (%q); expected it built from references or data sources (aws_caller_identity, aws_partition)",
		[l.attr, l.shape, l.value],
	)
}
