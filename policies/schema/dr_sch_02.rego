# METADATA
# title: Every nested block carries its required keys, and none is empty
# description: >-
#   Every block of every resource (the resource itself and each nested block,
#   e.g. a DynamoDB global-secondary index's hash_key and projection_type, a
#   table replica's region_name, a failover record's failover_routing_policy
#   type) carries the arguments and blocks the pinned AWS provider requires,
#   and no entry of a list block is empty. A plain dictionary handed to a list
#   block in the CDKTF source loses misspelled or snake_case keys without a
#   word: what is left is a block without its required keys, or an entry with
#   no keys at all, or whose every key is null (route tables whose every route
#   synthesized as {} have been seen). Either leaves the recovery design
#   without a setting it was written to have.
# custom:
#   id: DR-SCH-02
#   severity: high
#   controls:
#     - framework: nist-800-53
#       control: SA-11
#       grade: supports
#       why: Every change of the design is checked for required keys and empty blocks before it is deployed.
#     - framework: nist-800-53
#       control: CM-6
#       grade: supports
#       why: No setting the design was written to have is lost on the way to the configuration.
#     - framework: soc2
#       control: CC8.1
#       grade: supports
#       why: Changes are tested for completeness before deployment.
#     - framework: iso-27001
#       control: A.8.9
#       grade: supports
#       why: The configuration carries every required setting.
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
	not _empty_entry(e)
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
# block is what a plain dict's silently dropped keys leave behind: no keys at
# all, or every key null or an empty list (the bindings write each key of the
# struct, null for each one the dict did not carry under its exact name). One
# finding per entry: its missing required keys are the same cause.
_empty_entry(e) if {
	e.list
	every value in e.values {
		blocks.unset(value)
	}
}

deny contains lib.finding(rego.metadata.chain(), e.r, msg) if {
	some e in blocks.entries
	_empty_entry(e)
	msg := sprintf("%s is an empty %s entry: %s, what a plain dict's silently dropped keys leave behind; build it with %s(...)", [e.path, e.where, _nothing(e), e.struct])
}

_nothing(e) := "no keys at all" if count(e.values) == 0

_nothing(e) := "every key is null (or an empty list)" if count(e.values) > 0

_hint(e) := "" if e.root

_hint(e) := sprintf(" (a plain dict drops misspelled keys silently: build it with %s(...))", [e.struct]) if not e.root
