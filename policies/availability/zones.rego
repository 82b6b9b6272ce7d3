# METADATA
# title: Availability Zone helpers for the availability rules
# description: >-
#   Resolves lists of subnet ids to the aws_subnet resources of the design
#   and tells how many distinct Availability Zones they provably span.
#   A subnet names its zone by `availability_zone` (a name, us-east-1a) or
#   `availability_zone_id` (an id, use1-az1); a computed zone (an expression)
#   or a subnet id that is not a resource of the design is counted as
#   unknown. Names and ids are different namespaces: when both are used the
#   larger of the two distinct counts is what is proven.
package dr.availability.zones

import data.dr.lib

_remote_ref := `^\$\{data\.terraform_remote_state\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)\}$`

literal(value) if {
	is_string(value)
	value != ""
	not lib.is_expression(value)
}

# The zone a subnet names, as {"kind": "name"|"id", "zone": ...}; undefined when computed.
zone_of(subnet) := {"kind": "name", "zone": z} if {
	z := object.get(subnet.values, "availability_zone", null)
	literal(z)
}

zone_of(subnet) := {"kind": "id", "zone": z} if {
	not literal(object.get(subnet.values, "availability_zone", null))
	z := object.get(subnet.values, "availability_zone_id", null)
	literal(z)
}

# [stack, id] for each entry of a subnet-id list: a literal list, or a whole
# list handed over from another stack through CDKTF's remote state.
_entries(stack, ids) := [[stack, id] | some id in ids] if is_array(ids)

_entries(stack, ids) := [[remote.stack, id] | some id in out] if {
	is_string(ids)
	m := regex.find_all_string_submatch_n(_remote_ref, ids, 1)[0]
	remote := input.remote_outputs[stack][m[1]]
	out := remote.outputs[m[2]]
	is_array(out)
}

_entries(stack, ids) := [[stack, ids]] if {
	is_string(ids)
	not _remote_list(stack, ids)
}

_entries(_, ids) := [] if {
	not is_array(ids)
	not is_string(ids)
}

_remote_list(stack, ids) if {
	m := regex.find_all_string_submatch_n(_remote_ref, ids, 1)[0]
	is_array(input.remote_outputs[stack][m[1]].outputs[m[2]])
}

# The aws_subnet an id refers to, or null when it is not a subnet of the design.
_subnet_or_null(stack, id) := s if {
	s := lib.ref_target(stack, id)
	s.type == "aws_subnet"
} else := null

# Each entry of a subnet-id list, resolved to its aws_subnet or null.
subnets(stack, ids) := [_subnet_or_null(entry[0], entry[1]) | some entry in _entries(stack, ids)]

# What a list of subnets (nulls for unresolved ids) provably spans.
spread(subnet_list) := result if {
	zones := [z | some s in subnet_list; s != null; z := zone_of(s)]
	names := {z.zone | some z in zones; z.kind == "name"}
	ids := {z.zone | some z in zones; z.kind == "id"}
	unknown := count(subnet_list) - count(zones)
	result := {
		"distinct": max([count(names), count(ids)]),
		"zones": sort(names | ids),
		"unknown": unknown,
		"mixed": count(names) * count(ids) > 0,
	}
}

# A plain-language account of a spread, for messages.
describe(s) := concat("", [_count_text(s), _unknown_text(s), _mixed_text(s)])

_count_text(s) := sprintf("%d distinct AZ(s) (%s)", [s.distinct, concat(", ", s.zones)]) if count(s.zones) > 0

_count_text(s) := "no provable AZ" if count(s.zones) == 0

_unknown_text(s) := "" if s.unknown == 0

_unknown_text(s) := sprintf("; %d subnet(s) have a computed AZ or are not subnets of this design, so their AZ is unknown and cannot be proven distinct", [s.unknown]) if s.unknown > 0

_mixed_text(s) := "" if s.mixed == false

_mixed_text(s) := "; zone names and zone ids are mixed and cannot be compared, so only the larger distinct count is proven" if s.mixed == true
