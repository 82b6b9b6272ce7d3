# METADATA
# title: The CDKTF source builds nested blocks from typed structs, never plain dicts
# description: >-
#   The design's Python source passes the provider bindings' typed structs
#   (e.g. DynamodbTableReplica(...)) for every nested block, never a plain
#   dictionary. A plain dictionary inside a list block goes to the bindings
#   as is, and a misspelled or snake_case optional key in it is dropped
#   without an error: the synthesized configuration keeps no trace of it, so
#   this is checked on the source itself. Typed structs reject unknown keys
#   when the stacks are built. Not applicable when the checked output comes
#   with no source (a foreign single file).
# custom:
#   id: DR-SCH-03
#   severity: medium
#   controls:
#     nist-800-53: [CM-2, CM-6, SA-11]
#     soc2: [CC8.1]
#     iso-27001: [A.8.9, A.8.32]
#   remediation: >-
#     Import the struct the finding names from the resource's module of
#     cdktf_cdktf_provider_aws and pass StructName(key=value, ...) in place of
#     the dict, for list blocks and single blocks alike.
package dr.rules.dr_sch_03

import data.dr.lib

# Findings and subjects name a file of the source, not a resource.
_file(path) := {"stack": "source", "address": path}

evaluated contains lib.subject(_file(path)) if some path in data.facts.source.files

deny contains lib.finding(rego.metadata.chain(), _file(sprintf("%s:%d", [v.file, v.line])), msg) if {
	some v in data.facts.source.violations
	msg := sprintf("%s(%s=...) passes a plain dict for the nested block %s: a misspelled or snake_case key in it is dropped without an error; pass %s", [v.call, v.keyword, v.block, _struct(v)])
}

_struct(v) := sprintf("%s(...)", [v.struct]) if is_string(v.struct)

_struct(v) := "the block's typed struct" if not is_string(v.struct)
