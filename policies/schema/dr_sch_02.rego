# METADATA
# title: Every nested block carries its required keys, and none is empty
# description: >-
#   Every block of every resource (the resource itself and each nested
#   block, e.g. a DynamoDB global-secondary index's hash_key and
#   projection_type, a table replica's region_name, a failover record's
#   failover_routing_policy type) carries the arguments and blocks the pinned
#   AWS provider requires, and no entry of a list block is empty. A plain
#   dictionary handed to a list block in the CDKTF source loses misspelled or
#   snake_case keys without a word: what is left is a block without its
#   required keys, or an entry with no keys at all (route tables whose every
#   route synthesized as {} have been seen). Either leaves the recovery
#   design without a setting it was written to have.
# custom:
#   id: DR-SCH-02
#   severity: high
#   controls:
#     nist-800-53: [CM-2, CM-6, SA-11]
#     soc2: [CC8.1]
#     iso-27001: [A.8.9, A.8.32]
#   remediation: >-
#     Build nested blocks from the bindings' typed structs (e.g.
#     DynamodbTableReplica(region_name=...)), which reject unknown keys and
#     demand required ones, and give every list-block entry its settings.
package dr.rules.dr_sch_02

import data.dr.lib
import data.dr.schema.blocks

# Every resource and data source of a known type: its own required keys
# are judged as well as its blocks'.
evaluated := blocks.subject_names

deny contains lib.finding(rego.metadata.chain(), e.r, msg) if {
	some e in blocks.entries
	some name in e.schema.required
	blocks.unset(object.get(e.values, name, null))
	not _generated(e.values, name)
	msg := sprintf("%s has no %s: a required %s of %s%s", [blocks.subject(e), name, _what(e.schema, name), e.where, _hint(e)])
}

# A block a `dynamic` block of that name generates.
_generated(values, name) if values.dynamic[name]

_what(schema, name) := "block" if schema.blocks[name]

_what(schema, name) := "argument" if not schema.blocks[name]

# An empty single block is valid Terraform and sometimes the point (WAFv2's
# `allow {}`, an S3 lifecycle rule's `filter {}`); an empty entry of a list
# block is what a plain dict's silently dropped keys leave behind.
deny contains lib.finding(rego.metadata.chain(), e.r, msg) if {
	some e in blocks.entries
	e.list
	count(e.values) == 0
	msg := sprintf("%s is an empty %s entry: no keys at all, what a plain dict's silently dropped keys leave behind; build it with %s(...)", [e.path, e.where, e.struct])
}

_hint(e) := "" if e.root

_hint(e) := sprintf(" (a plain dict drops misspelled keys silently: build it with %s(...))", [e.struct]) if not e.root
