# METADATA
# title: The CDKTF source builds nested blocks from typed structs, never plain dicts
# description: >-
#   The design's Python source passes the provider bindings' typed structs
#   (e.g. DynamodbTableReplica(...)) for every nested block, never a plain
#   dictionary. A plain dictionary inside a list block goes to the bindings as
#   is, and a misspelled or snake_case optional key in it is dropped without
#   an error: the synthesized configuration keeps no trace of it, so this is
#   checked on the source itself. Typed structs reject unknown keys when the
#   stacks are built. The source is the checked app's own: the Python files
#   under the folder of the app's cdktf.json (found beside or above the
#   checked cdktf.out), or the folders listed as source in the [tool.dr-
#   compliance] section of the app's pyproject.toml; generated bindings,
#   virtual environments and synthesized output are skipped. Not applicable,
#   with a note saying so, when no source can be found (for example a lone
#   *.tf.json file).
# custom:
#   id: DR-SCH-03
#   severity: medium
#   controls:
#     - framework: nist-800-53
#       control: SA-11
#       grade: supports
#       why: The design's source is checked for nested blocks that could silently lose settings.
#     - framework: nist-800-53
#       control: CM-6
#       grade: supports
#       why: Settings are written in a form that rejects misspelled keys.
#     - framework: soc2
#       control: CC8.1
#       grade: supports
#       why: The source of each change is tested before deployment.
#     - framework: iso-27001
#       control: A.8.9
#       grade: supports
#       why: The configuration's source is written so settings cannot vanish.
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
