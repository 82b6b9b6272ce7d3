# METADATA
# title: Helpers for the reference requirements (DR-REF-*)
# description: >-
#   References embedded in a Terraform expression: a value such as
#   ${element(split("/", data.terraform_remote_state.x.outputs.url), 2)}
#   wraps its reference in functions, so lib.ref_target, which wants a whole
#   ${...} reference, is given each embedded reference on its own.
package dr.references.expressions

import data.dr.lib

_remote := `data\.terraform_remote_state\.[A-Za-z0-9_-]+\.outputs\.[A-Za-z0-9_-]+`

_local := `[a-z][a-z0-9_]*\.[A-Za-z0-9_-]+\.[a-z0-9_]+`

# Each reference embedded in an expression, as a whole `${...}` reference.
references(value) := {sprintf("${%s}", [m]) |
	lib.is_expression(value)
	some pattern in [_remote, _local]
	some m in regex.find_n(pattern, value, -1)
}

# The design's resources an expression refers to, in its stack or, through
# cross-stack remote state, in another.
targets(stack, value) := {t |
	some ref in references(value)
	t := lib.ref_target(stack, ref)
}

# A literal (no interpolation at all).
is_literal(value) if {
	is_string(value)
	not contains(value, "${")
}

# The attribute path of a walk() path, for messages: vpc_config.subnet_ids[0].
path_text(path) := concat("", [part |
	some i, element in path
	part := _segment(i, element)
])

_segment(0, element) := element if is_string(element)

_segment(i, element) := sprintf(".%s", [element]) if {
	i > 0
	is_string(element)
}

_segment(_, element) := sprintf("[%d]", [element]) if is_number(element)

# The JSON text of each resource's values, in the order of input.resources:
# serialized once per evaluation for the rules that scan every resource
# with one regular expression before walking the few that match.
resource_texts := [json.marshal(r.values) | some r in input.resources]
