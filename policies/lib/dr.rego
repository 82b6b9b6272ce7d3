# METADATA
# title: Shared helpers for the DR policies
# description: >-
#   Lookups into the normalised model the harness builds once per check
#   (compliance/model, described by compliance/model/input.schema.json):
#   blocks by type and key, references as edges, the single place where a
#   finding is shaped, and settings. No policy parses a Terraform string:
#   what a value refers to is an edge of input.refs_from.
package dr.lib

# --- blocks ------------------------------------------------------------------

# All resources of one Terraform type, in input order.
resources(type) := object.get(by_type, type, [])

by_type := {type: [r | some r in input.resources; r.type == type] |
	some type in {r.type | some r in input.resources}
}

# All data sources of one type (address data.<type>.<name>).
data_sources(type) := object.get(_data_by_type, type, [])

_data_by_type := {type: [d | some d in input.data_sources; d.type == type] |
	some type in {d.type | some d in input.data_sources}
}

# Every resource and data source by its key, "stack|address".
by_key := object.union(
	{r.key: r | some r in input.resources},
	{d.key: d | some d in input.data_sources},
)

# A nested block as a list, whether it was synthesized as an object or a list.
blocks(value) := value if is_array(value)

blocks(value) := [value] if is_object(value)

blocks(value) := [] if {
	not is_array(value)
	not is_object(value)
}

block(r, name) := blocks(object.get(r.values, name, []))

# The first element of a list, or a default for an empty one.
first(xs, _) := xs[0] if count(xs) > 0

first(xs, default_value) := default_value if count(xs) == 0

# --- references (edges of the model) -----------------------------------------

# Every reference a block holds, resolved or not.
refs(r) := object.get(input.refs_from, r.key, [])

# Every reference that names a block (edges of input.refs_from, by target).
referrers(r) := object.get(_referrers, r.key, [])

# Grouped once per evaluation: the model hands OPA one index of the edges,
# not two, because converting the input costs more than this grouping. The
# inner comprehension closes over `to` in an equality, so OPA indexes it.
_targeted := [e | some edges in input.refs_from; some e in edges; e.to != null]

_referrers := {to: es |
	some to in {e.to | some e in _targeted}
	es := [e | some e in _targeted; e.to == to]
}

# An edge's path as text, as messages show it: replica[0].kms_key_id.
path_text(path) := concat("", [_path_part(i, p) | some i, p in path])

_path_part(0, p) := p if is_string(p)

_path_part(i, p) := sprintf(".%s", [p]) if {
	i > 0
	is_string(p)
}

_path_part(_, p) := sprintf("[%d]", [p]) if is_number(p)

# Is path (a list of names and positions) a prefix of an edge's path?
under(edge_path, prefix) if array.slice(edge_path, 0, count(prefix)) == prefix

# The same, comparing names only: a single block synthesizes as an object or
# as a one-element list, and both must read the same.
under_names(edge, names) if array.slice(edge.names, 0, count(names)) == names

# The block the attribute at `names` IS a reference to (the whole value is
# one reference, no function around it); undefined when it is anything else.
ref(r, names) := by_key[keys[0]] if {
	keys := [e.to | some e in refs(r); e.names == names; e.whole; e.to != null]
	count({k | some k in keys}) == 1
}

# Every block mentioned anywhere at or under `names`: inside functions,
# templates, lists and cross-stack list outputs too.
mentions(r, names) := {by_key[e.to] | some e in refs(r); e.to != null; under_names(e, names)}

# The edges at or under `names` (resolved or not).
edges(r, names) := [e | some e in refs(r); under_names(e, names)]

# Is edge_path the place `path` names? Names must be equal and so must the
# non-zero positions: position 0 is optional, because a single block
# synthesizes as an object or as a one-element list.
same_place(edge_path, path) if {
	[x | some x in edge_path; is_string(x)] == [x | some x in path; is_string(x)]
	[x | some x in edge_path; is_number(x); x != 0] == [x | some x in path; is_number(x); x != 0]
}

# The value at a path of a block's values (names and positions; position 0
# optional, as in same_place), e.g. ["replica", 1, "region_name"].
value_at(r, path) := value if {
	walk(r.values, [p, value])
	same_place(p, path)
}

# The AWS region a value at `path` names: a literal, the region of the
# aws_region data source it refers to (its provider's), or the literal default
# of the variable it reads (the design as synthesized). Undefined otherwise.
region_at(r, path) := value if {
	value := value_at(r, path)
	is_literal(value)
	value != ""
} else := region if {
	some e in refs(r)
	e.to != null
	same_place(e.path, path)
	target := by_key[e.to]
	target.type == "aws_region"
	region := target.region
	is_string(region)
} else := e.default if {
	some e in refs(r)
	same_place(e.path, path)
	is_string(e.default)
}

# The edges held by one entry of a list block, e.g. replica[1].
entry_edges(r, path) := [e | some e in refs(r); under(e.path, path)]

# Is a value an interpolation at all?
is_expression(value) if {
	is_string(value)
	contains(value, "${")
}

is_literal(value) if {
	is_string(value)
	not contains(value, "${")
}

# --- KMS keys ----------------------------------------------------------------

_key_types := {"aws_kms_key", "aws_kms_replica_key", "aws_kms_external_key"}

# The customer-managed key an attribute refers to: a key of the design, or
# the key behind an alias of the design.
kms_key(r, names) := k if {
	k := ref(r, names)
	k.type in _key_types
}

kms_key(r, names) := k if {
	alias := ref(r, names)
	alias.type == "aws_kms_alias"
	k := ref(alias, ["target_key_id"])
	k.type in _key_types
}

# Why an attribute holds no customer-managed key of `region`, for messages.
key_problem(r, names, _) := "no key set (AWS-owned or AWS-managed encryption)" if {
	not is_string(_value_at(r, names))
}

key_problem(r, names, _) := "an AWS-managed key (alias/aws/...), not a customer-managed key" if {
	value := _value_at(r, names)
	is_string(value)
	contains(value, "alias/aws/")
}

key_problem(r, names, _) := sprintf("a literal key identifier %q, not a reference", [value]) if {
	value := _value_at(r, names)
	is_literal(value)
	not contains(value, "alias/aws/")
}

key_problem(r, names, region) := sprintf("key %s is in %s, not %s", [k.address, k.region, region]) if {
	k := kms_key(r, names)
	k.region != region
}

key_problem(r, names, _) := sprintf("%s is not a KMS key of this design", [value]) if {
	value := _value_at(r, names)
	is_expression(value)
	not kms_key(r, names)
}

# The value at a names path (single blocks as object or one-element list).
_value_at(r, names) := value if {
	count(names) == 1
	value := object.get(r.values, names[0], null)
}

_value_at(r, names) := value if {
	count(names) == 2
	some b in block(r, names[0])
	value := object.get(b, names[1], null)
}

is_regional_cmk(r, names, region) if kms_key(r, names).region == region

# --- findings ----------------------------------------------------------------

# "stack/address". The model writes it on every block: several requirements
# list every block they evaluated, and a sprintf per block per requirement
# costs more than carrying the text.
subject(r) := r.subject

subject(r) := sprintf("%s/%s", [r.stack, r.address]) if not r.subject

# The one shape every finding has. `chain` is rego.metadata.chain() of the
# calling rule, so the requirement ID is written once, in package METADATA.
finding(chain, r, message) := {
	"requirement": [id | some link in chain; id := link.annotations.custom.id][0],
	"stack": r.stack,
	"address": r.address,
	"message": message,
}

# --- settings ----------------------------------------------------------------

# Settings the harness passes as data (targets, allowances, required tags).
setting(name, _) := data.settings[name]

setting(name, default_value) := default_value if not _has_setting(name)

_has_setting(name) if {
	_ = data.settings[name]
}

# A literal number, whether synthesized as a number or a numeric string.
num(value) := value if is_number(value)

num(value) := to_number(value) if {
	is_string(value)
	regex.match(`^[0-9]+(\.[0-9]+)?$`, value)
}
