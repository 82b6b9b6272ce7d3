# METADATA
# title: Stacks deploy in dependency order, without cycles
# description: >-
#   When the design is split into stacks, the stack order in manifest.json
#   must follow the references between them: every stack that reads another
#   stack's outputs lists it as a dependency; the secondary region's stack
#   follows the primary's (its cluster joins the primary's global cluster),
#   and the global routing stack follows both regions; and no chain of
#   dependencies loops back on itself. Out of order, a deployment or a
#   rebuild during recovery reads outputs that do not exist yet; with a
#   cycle, no order works. A design in a single stack has no stack order.
# custom:
#   id: DR-REF-03
#   severity: high
#   controls:
#     nist-800-53: [CM-2, CM-3, SA-10]
#     soc2: [CC8.1]
#     iso-27001: [A.8.32]
#   remediation: >-
#     Let CDKTF derive dependencies from cross-stack references (pass resource
#     properties between stacks) or call stack.add_dependency(); break a cycle
#     by moving the resource that closes it to a later stack (as the VPC
#     peering accepter lives in the global stack).
package dr.rules.dr_ref_03

import data.dr.lib
import data.dr.references.expressions as expr

_applicable if {
	input.layout == "manifest"
	count(input.stacks) > 1
}

_dependencies := {s.name: {d | some d in object.get(s, "dependencies", [])} | some s in input.stacks}

# a depends on b, directly or through other stacks.
_follows(a, b) if b in graph.reachable(_dependencies, _dependencies[a])

_manifest_entry(stack) := {"stack": stack, "address": "manifest.json#dependencies"}

# --- Roles, from what the stacks contain ---------------------------------------

_members := [[c, g] |
	some c in lib.resources("aws_rds_cluster")
	some g in expr.targets(c.stack, object.get(c.values, "global_cluster_identifier", null))
	g.type == "aws_rds_global_cluster"
]

# Where the global database starts: its first member, in the global cluster's stack.
_primary_stacks := {c.stack | some [c, g] in _members; c.stack == g.stack}

# Where a member joins by a cross-stack reference.
_secondary_members := [c | some [c, g] in _members; c.stack != g.stack]

_failover_records := [r |
	some r in lib.resources("aws_route53_record")
	count(lib.block(r, "failover_routing_policy")) > 0
]

_regional_stacks := _primary_stacks | {c.stack | some c in _secondary_members}

evaluated contains sprintf("%s/%s", [s.name, _manifest_entry(s.name).address]) if {
	_applicable
	some s in input.stacks
}

# Whoever reads a stack's outputs must be deployed after it.
deny contains lib.finding(rego.metadata.chain(), source, msg) if {
	_applicable
	some consumer, remotes in input.remote_outputs
	some data_name, remote in remotes
	not remote.stack in _dependencies[consumer]
	source := {"stack": consumer, "address": sprintf("data.terraform_remote_state.%s", [data_name])}
	msg := sprintf("stack %s reads outputs of stack %s but manifest.json does not list %s among its dependencies %v", [consumer, remote.stack, remote.stack, sort(_dependencies[consumer])])
}

deny contains lib.finding(rego.metadata.chain(), c, msg) if {
	_applicable
	some c in _secondary_members
	some primary in _primary_stacks
	primary != c.stack
	not _follows(c.stack, primary)
	msg := sprintf("stack %s joins the global database of stack %s but does not follow it in manifest.json (dependencies %v)", [c.stack, primary, sort(_dependencies[c.stack])])
}

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	_applicable
	some r in _failover_records
	some regional in _regional_stacks
	regional != r.stack
	not _follows(r.stack, regional)
	msg := sprintf("stack %s routes traffic between the regions but does not follow regional stack %s in manifest.json (dependencies %v)", [r.stack, regional, sort(_dependencies[r.stack])])
}

deny contains lib.finding(rego.metadata.chain(), _manifest_entry(s), msg) if {
	_applicable
	some s, _ in _dependencies
	_follows(s, s)
	loop := sort({t | some t, _ in _dependencies; _follows(s, t); _follows(t, s)})
	msg := sprintf("stack %s depends on itself through the cycle %v: no deployment order exists", [s, loop])
}
