# METADATA
# title: Availability Zone helpers for the availability rules
# description: >-
#   Reads the zone of every subnet instance from the model (input.zones,
#   resolved by compliance/model/zones.py: a literal zone name or id, or an
#   element of an aws_availability_zones data source) and tells how many
#   distinct Availability Zones a list of subnets provably spans. Zones are
#   compared within one namespace (names, ids, or one data source's
#   elements); when several are used, the largest distinct count is what is
#   proven. A subnet whose zone is computed any other way, or a list entry
#   that is not a subnet of the design, is unknown and cannot count.
package dr.availability.zones

import data.dr.lib

# The zones of every instance of a subnet (null where unknown).
subnet_zones(subnet) := object.get(input.zones, subnet.key, [null])

# The zones one reference to a subnet stands for: every instance for a splat
# (aws_subnet.x[*].id), the one picked by an index, else every instance.
_edge_zones(e) := [zs[i]] if {
	zs := object.get(input.zones, e.to, [null])
	i := _picked(e)
	i < count(zs)
} else := [null] if {
	_picked(e)
} else := object.get(input.zones, e.to, [null])

_picked(e) := e.instance if e.instance != null

_picked(e) := e.index if {
	object.get(e, "instance", null) == null
	e.index != null
	e.splat
}

_is_subnet_edge(e) if {
	e.to != null
	lib.by_key[e.to].type == "aws_subnet"
}

# One zone (or null) per entry of the subnet list at `names` of block r:
# references to subnets of the design (also through cross-stack lists),
# anything else unknown.
subnet_list(r, names) := array.concat(
	[z | some e in lib.edges(r, names); _is_subnet_edge(e); some z in _edge_zones(e)],
	array.concat(
		[null | some e in lib.edges(r, names); not _is_subnet_edge(e)],
		[null | some _ in _literal_entries(r, names)],
	),
)

# Literal strings (e.g. subnet-0abc...) in the list at `names`: never provably placed.
_literal_entries(r, names) := [v |
	walk(r.values, [path, v])
	is_string(v)
	not contains(v, "${")
	[p | some p in path; is_string(p)] == names
]

# The subnet instances of a list of subnets, as zones.
zones_of(subnets) := [z | some s in subnets; some z in subnet_zones(s)]

# What a list of zones (nulls for unknown) provably spans.
spread(zone_list) := result if {
	known := [z | some z in zone_list; z != null]
	namespaces := {z.ns | some z in known}
	counts := [count({z.zone | some z in known; z.ns == ns}) | some ns in namespaces]
	result := {
		"distinct": max(array.concat([0], counts)),
		"zones": sort({_label(z) | some z in known}),
		"unknown": count(zone_list) - count(known),
		"mixed": count(namespaces) > 1,
	}
}

_label(z) := z.zone if z.ns in {"name", "id"}

# An element of a data source reads as the expression that picks it:
# data.aws_availability_zones.azs.names[1].
_label(z) := sprintf("%s.%s", [lib.by_key[split(z.ns, "#")[0]].address, z.zone]) if not z.ns in {"name", "id"}

# A plain-language account of a spread, for messages.
describe(s) := concat("", [_count_text(s), _unknown_text(s), _mixed_text(s)])

_count_text(s) := sprintf("%d distinct AZ(s) (%s)", [s.distinct, concat(", ", s.zones)]) if count(s.zones) > 0

_count_text(s) := "no provable AZ" if count(s.zones) == 0

_unknown_text(s) := "" if s.unknown == 0

_unknown_text(s) := sprintf("; %d subnet(s) have a computed AZ or are not subnets of this design, so their AZ is unknown and cannot be proven distinct", [s.unknown]) if s.unknown > 0

_mixed_text(s) := "" if s.mixed == false

_mixed_text(s) := "; zones named in different ways (names, ids, data sources) cannot be compared, so only the largest distinct count is proven" if s.mixed == true
