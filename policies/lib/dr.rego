# METADATA
# title: Shared helpers for the DR policies
# description: >-
#   Resource lookup, reference resolution (local and cross-stack) and the
#   single place where a finding is shaped. Rule packages import this.
package dr.lib

# All resources of one Terraform type, in input order: a lookup into
# by_type, so a call costs O(1) however often rules call it.
resources(type) := by_type[type]

resources(type) := [] if not by_type[type]

# Resources grouped by type, built once per evaluation. The inner
# comprehension closes over `type` in an equality, so OPA indexes it
# ("comprehension indexing"): one pass over the input, not one per type.
by_type := {type: typed |
	some type in {r.type | some r in input.resources}
	typed := [r | some r in input.resources; r.type == type]
}

# Index by "stack|address", built once per evaluation.
by_key := {sprintf("%s|%s", [r.stack, r.address]): r | some r in input.resources}

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

_local_ref := `^\$\{([a-z][a-z0-9_]*)\.([A-Za-z0-9_-]+)\.([a-z0-9_]+)(\[[0-9]+\])?\}$`

_remote_ref := `^\$\{data\.terraform_remote_state\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)\}$`

is_expression(value) if {
	is_string(value)
	contains(value, "${")
}

# The resource an expression refers to, in its own stack.
_local_target(stack, value) := r if {
	is_string(value)
	m := regex.find_all_string_submatch_n(_local_ref, value, 1)[0]
	r := by_key[sprintf("%s|%s.%s", [stack, m[1], m[2]])]
}

# The resource an expression refers to: in the same stack, or in another
# stack through CDKTF's cross-stack remote state.
ref_target(stack, value) := _local_target(stack, value)

ref_target(stack, value) := r if {
	is_string(value)
	m := regex.find_all_string_submatch_n(_remote_ref, value, 1)[0]
	remote := input.remote_outputs[stack][m[1]]
	r := _local_target(remote.stack, remote.outputs[m[2]])
}

# True when value is a cross-stack reference.
is_cross_stack(value) if regex.match(_remote_ref, value)

# A customer-managed key of the given region: a reference to an aws_kms_key
# that will be created in that region.
is_regional_cmk(stack, value, region) if {
	key := ref_target(stack, value)
	key.type == "aws_kms_key"
	key.region == region
}

# Why a key reference is not a regional customer-managed key, for messages.
key_problem(_, value, _) := "no key set (AWS-owned or AWS-managed encryption)" if {
	not is_string(value)
}

key_problem(_, value, _) := "an AWS-managed key (alias/aws/...), not a customer-managed key" if {
	is_string(value)
	contains(value, "alias/aws/")
}

key_problem(stack, value, _) := sprintf("a literal key identifier %q, not a reference", [value]) if {
	is_string(value)
	not is_expression(value)
	not contains(value, "alias/aws/")
}

key_problem(stack, value, region) := sprintf("key %s is in %s, not %s", [k.address, k.region, region]) if {
	k := ref_target(stack, value)
	k.type == "aws_kms_key"
	k.region != region
}

key_problem(stack, value, _) := sprintf("%s is not an aws_kms_key of this design", [value]) if {
	is_expression(value)
	not _refers_to_key(stack, value)
}

_refers_to_key(stack, value) if ref_target(stack, value).type == "aws_kms_key"

subject(r) := sprintf("%s/%s", [r.stack, r.address])

# The one shape every finding has. `chain` is rego.metadata.chain() of the
# calling rule, so the requirement ID is written once, in package METADATA.
finding(chain, r, message) := {
	"requirement": [id | some link in chain; id := link.annotations.custom.id][0],
	"stack": r.stack,
	"address": r.address,
	"message": message,
}

# Settings the harness passes as data (targets, required tags), with defaults.
setting(name, _) := data.settings[name]

setting(name, default_value) := default_value if not _has_setting(name)

_has_setting(name) if {
	_ = data.settings[name]
}
