# METADATA
# title: Every resource, argument and nested block exists in the pinned AWS provider, in the right shape
# description: >-
#   Every resource and data source type, argument and nested block the
#   design writes is one that the pinned AWS provider (hashicorp/aws 6.25.0,
#   bindings cdktf-cdktf-provider-aws 21.22.1) defines at that place, and
#   each block has the shape the bindings give it: a single block is one
#   object, a list block a list of objects. A name the provider does not know
#   stops Terraform at plan time, possibly in the middle of a recovery
#   change; a misnamed setting in an override or hand edit is a setting the
#   design claims but does not have. The schema is read offline, for the
#   exact pinned version, from the provider package the design is built with.
# custom:
#   id: DR-SCH-01
#   severity: high
#   controls:
#     - framework: nist-800-53
#       control: SA-11
#       grade: supports
#       why: Every change of the design is checked against the pinned provider's schema before it is deployed.
#     - framework: nist-800-53
#       control: CM-6
#       grade: supports
#       why: Each setting the design claims is one the provider knows, so it takes effect.
#     - framework: soc2
#       control: CC8.1
#       grade: supports
#       why: Changes are tested for validity before deployment.
#     - framework: iso-27001
#       control: A.8.9
#       grade: supports
#       why: The configuration is valid for the provider version it is deployed with.
#   remediation: >-
#     Use the resource type, argument and block names of the pinned provider's
#     documentation (registry.terraform.io/providers/hashicorp/aws/6.25.0),
#     set them through the typed constructor arguments and structs of the
#     bindings rather than escape-hatch overrides, and give a single block one
#     object and a list block a list of objects.
package dr.rules.dr_sch_01

import data.dr.lib
import data.dr.schema.blocks

evaluated := blocks.subject_names | {lib.subject(r) | some r in blocks.unknown}

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some r in blocks.unknown
	kind := _kind(r)
	msg := sprintf("%s is not a %s type of hashicorp/aws %s (bindings %s): misspelled, or not in the pinned provider", [r.type, kind, blocks.provider_version, data.facts.schema.bindings_version])
}

deny contains lib.finding(rego.metadata.chain(), e.r, msg) if {
	some e in blocks.entries
	some key in blocks.unknown_keys(e)
	msg := sprintf("%s is not an argument or block of %s in hashicorp/aws %s; expected one of the provider's names (misspelled?)", [blocks.at(e, key), e.where, blocks.provider_version])
}

deny contains lib.finding(rego.metadata.chain(), e.r, msg) if {
	some e in blocks.entries
	dynamic := e.values.dynamic
	is_object(dynamic)
	some name, _ in dynamic
	not e.schema.blocks[name]
	msg := sprintf("%s: dynamic block %q is not a block of %s in hashicorp/aws %s", [blocks.subject(e), name, e.where, blocks.provider_version])
}

deny contains lib.finding(rego.metadata.chain(), e.r, msg) if {
	some e in blocks.entries
	some name in e.nested
	b := e.schema.blocks[name]
	some problem in _shape_problems(b, e.values[name])
	msg := sprintf("%s (%s.%s): %s", [blocks.at(e, name), e.where, name, problem])
}

deny contains lib.finding(rego.metadata.chain(), e.r, msg) if {
	some e in blocks.too_deep
	msg := sprintf("%s is nested deeper than %d blocks, beyond what this check reads", [e.path, blocks.depth])
}

_kind(r) := "data source" if startswith(r.address, "data.")

_kind(r) := "resource" if not startswith(r.address, "data.")

# The bindings render a struct (single block) as one object and an array of
# structs (list block) as a list of objects. Terraform's JSON syntax would
# also read one object as a one-entry list block, and a one-entry list as a
# single block; neither comes out of the typed bindings, so either shape
# means the JSON bypassed them (an override or a hand edit): flagged, as the
# requirement states. A null value is an unset block in Terraform's JSON
# syntax and is accepted. A string (an expression) is never a block:
# Terraform wants a dynamic block for that.
_shape_problems(b, value) := {sprintf("a single block (%s) must be one object, got a list", [b.struct])} if {
	not b.list
	is_array(value)
}

_shape_problems(b, value) := {sprintf("a list block (%s) must be a list of objects, got one object", [b.struct])} if {
	b.list
	is_object(value)
}

_shape_problems(b, value) := {sprintf("entry %d of a list block must be an object, got %s", [i, type_name(x)]) |
	some i, x in value
	not is_object(x)
} if {
	b.list
	is_array(value)
}

_shape_problems(b, value) := {sprintf("a block must be %s, got %s: a block cannot be an expression (Terraform wants a dynamic block)", [_expected(b), type_name(value)])} if {
	not is_array(value)
	not is_object(value)
	value != null
}

_expected(b) := "a list of objects" if b.list

_expected(b) := "one object" if not b.list
