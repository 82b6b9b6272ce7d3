# METADATA
# title: Helpers for the provider-schema requirements (DR-SCH-*)
# description: >-
#   Every block of every resource, paired with the part of the pinned AWS
#   provider's schema that governs it (data.facts.schema, derived in Python
#   from the jsii assembly the provider bindings ship). Rego has no
#   recursion, so blocks are unrolled level by level down to the deepest
#   nesting the pinned provider has (12 levels in hashicorp/aws 6.25.0);
#   `too_deep` holds what lies deeper, which DR-SCH-01 reports as unread.
#   Kept outside dr.rules: the harness returns every rule of dr.rules, and
#   these sets hold every block of every resource.
package dr.schema.blocks

import data.dr.lib

# Terraform meta-arguments a resource or data block carries besides its
# schema (CDKTF writes provisioners as `provisioner`), and CDKTF's metadata.
meta_arguments := {"count", "depends_on", "for_each", "lifecycle", "provider", "provisioner", "connection", "//"}

provider_version := object.get(data.facts.schema, "provider_version", "(unknown version)")

# [resource, schema] for every resource and data source of a type the
# provider knows. Types of other providers are not judged.
subjects := array.concat(
	[[r, s] | some r in input.resources; s := data.facts.schema.resources[r.type]],
	[[r, s] | some r in object.get(input, "data_sources", []); s := data.facts.schema.data_sources[r.type]],
)

# Their subjects, built once for the requirements that judge them all.
subject_names := {lib.subject(r) | some [r, _] in subjects}

# Resources and data sources of an AWS type the pinned provider does not have.
unknown := array.concat(
	[r | some r in input.resources; _unknown_types[r.type]],
	[r | some r in object.get(input, "data_sources", []); _unknown_data_sources[r.type]],
)

_unknown_types := {t | some t in object.get(data.facts.schema, "unknown_types", [])}

_unknown_data_sources := {t | some t in object.get(data.facts.schema, "unknown_data_sources", [])}

# One entry per block: the resource itself (root), then each nested block.
#   r       the resource            values  the block's keys
#   path    where it is, for messages (`replica[0].point_in_time_recovery`)
#   where   what schema governs it (`aws_dynamodb_table.replica`)
#   schema  {attributes, blocks, required} of that block
#   root    the resource itself           list    an entry of a list block
#   struct  the bindings' typed struct for the block
#   nested  the names of the schema's blocks the entry holds (built once per
#           entry with set operations, so rules need not try every block
#           name of the schema on every entry)
#   kind    "resource" or "data": a type's schema as a resource or as a data source
_roots := array.concat(_roots_of("resource", input.resources, "resources"), _roots_of("data", object.get(input, "data_sources", []), "data_sources"))

_roots_of(kind, subjects, schemas) := [{"r": r, "kind": kind, "path": "", "where": r.type, "values": r.values, "schema": s, "root": true, "list": false, "struct": null, "nested": object.keys(r.values) & object.keys(object.get(s, "blocks", {}))} |
	some r in subjects
	s := data.facts.schema[schemas][r.type]
	is_object(r.values)
]

# The blocks directly inside the given entries, including the content of
# `dynamic` blocks (Terraform's generated blocks, which CDKTF iterators write).
_children(entries) := array.concat(
	[_child(e, name, sprintf("%s%s", [name, suffix]), obj) |
		some e in entries
		some name in e.nested
		some [suffix, obj] in _objects(e.values[name])
	],
	[_child(e, name, sprintf("dynamic.%s.content", [name]), d.content) |
		some e in entries
		some name, d in _object(e.values.dynamic)
		e.schema.blocks[name]
		is_object(d.content)
	],
)

_child(e, name, step, obj) := {
	"r": e.r,
	"kind": e.kind,
	"path": _join(e.path, step),
	"where": sprintf("%s.%s", [e.where, name]),
	"values": obj,
	"schema": e.schema.blocks[name].schema,
	"root": false,
	"list": e.schema.blocks[name].list,
	"struct": e.schema.blocks[name].struct,
	"nested": object.keys(obj) & object.keys(object.get(e.schema.blocks[name].schema, "blocks", {})),
}

_join("", step) := step

_join(path, step) := sprintf("%s.%s", [path, step]) if path != ""

# The objects of a block value: one object, or each object of a list with its index.
_objects(value) := [[sprintf("[%d]", [i]), o] | some i, o in value; is_object(o)] if is_array(value)

_objects(value) := [["", value]] if is_object(value)

_object(value) := value if is_object(value)

_object(value) := {} if not is_object(value)

_level_1 := _children(_roots)

_level_2 := _children(_level_1)

_level_3 := _children(_level_2)

_level_4 := _children(_level_3)

_level_5 := _children(_level_4)

_level_6 := _children(_level_5)

_level_7 := _children(_level_6)

_level_8 := _children(_level_7)

_level_9 := _children(_level_8)

_level_10 := _children(_level_9)

_level_11 := _children(_level_10)

_level_12 := _children(_level_11)

# Unrolled depth: a test in tests/unit/test_schema_facts.py keeps it at or
# above the deepest nesting of the pinned provider.
depth := 12

entries := [e |
	some level in [_roots, _level_1, _level_2, _level_3, _level_4, _level_5, _level_6, _level_7, _level_8, _level_9, _level_10, _level_11, _level_12]
	some e in level
]

# Blocks nested deeper than the unrolled levels: present, but not read.
too_deep := _children(_level_12)

# The keys of an entry that are neither an attribute nor a block of its
# schema: found with set operations, not a lookup per key. Every block may
# carry `dynamic`; a resource or data source also Terraform's meta-arguments.
# The allowed keys are built once per schema: kind and where name the schema.
unknown_keys(e) := object.keys(e.values) - _allowed_keys[[e.kind, e.where, e.root]]

_allowed_keys := {key: allowed |
	some key in {[e.kind, e.where, e.root] | some e in entries}
	schema := object.get(data.facts.schema, _schema_path(key[0], key[1]), {})
	allowed := ((object.keys(object.get(schema, "attributes", {})) | object.keys(object.get(schema, "blocks", {}))) | _extra_keys[key[2]])
}

# Where a schema is in data.facts.schema: "aws_dynamodb_table.replica" is
# resources.aws_dynamodb_table.blocks.replica.schema. Looked up once per
# distinct place, never by scanning the entries.
_schema_path(kind, where) := array.concat([_tables[kind], parts[0]], [step |
	some name in array.slice(parts, 1, count(parts))
	some step in ["blocks", name, "schema"]
]) if {
	parts := split(where, ".")
}

_tables := {"resource": "resources", "data": "data_sources"}

_extra_keys := {true: meta_arguments | {"dynamic"}, false: {"dynamic"}}

# Where a key of an entry is, for messages.
at(e, key) := key if e.path == ""

at(e, key) := sprintf("%s.%s", [e.path, key]) if e.path != ""

# The entry itself, for messages.
subject(e) := "the resource" if e.root

subject(e) := e.path if not e.root

# A value that is unset (Terraform JSON: null means unset; no blocks is an empty list).
unset(null)

unset([])
