# METADATA
# title: Stacks deploy in dependency order, without cycles
# description: >-
#   When the design is split into stacks, the stack order in manifest.json
#   must follow the references between them: every stack that reads another
#   stack's outputs (a cross-stack reference through terraform_remote_state)
#   lists it as a dependency; the secondary region's stack follows the
#   primary's (its cluster joins the global cluster the primary's cluster
#   starts: the global cluster's source or the member that sets the master
#   credentials a secondary may not, else the member in the global cluster's
#   own stack), and the stack holding the failover records follows
#   every stack holding a member of a global cluster; and no chain of
#   dependencies loops back on itself. Out of order, a deployment or a
#   rebuild during recovery reads outputs that do not exist yet; with a
#   cycle, no order works. One finding per missing order: a stack that
#   should follow another it already reads is reported once, at the read. A
#   design in a single stack has no stack order.
# custom:
#   id: DR-REF-03
#   severity: high
#   controls:
#     - framework: nist-800-53
#       control: CM-2
#       grade: supports
#       why: The baseline configuration deploys in an order that exists, without cycles.
#     - framework: iso-27001
#       control: A.8.9
#       grade: supports
#       why: The stacks can be deployed, and redeployed in a recovery, in dependency order.
#   remediation: >-
#     Let CDKTF derive dependencies from cross-stack references (pass resource
#     properties between stacks) or call stack.add_dependency(); break a cycle
#     by moving the resource that closes it to a later stack (as the VPC
#     peering accepter lives in the global stack).
package dr.rules.dr_ref_03

import data.dr.lib
import data.dr.references.topology

_applicable if {
	input.layout == "manifest"
	count(input.stacks) > 1
}

_dependencies := {s.name: {d | some d in object.get(s, "dependencies", [])} | some s in input.stacks}

# a depends on b, directly or through other stacks.
_follows(a, b) if b in graph.reachable(_dependencies, object.get(_dependencies, a, set()))

_manifest_entry(stack) := {"stack": stack, "address": "manifest.json#dependencies"}

# --- Reads of other stacks' outputs (cross-stack edges of the model) -----------

# [consumer stack, producer stack, key of the consumer's remote-state data source].
_reads contains [lib.by_key[e.from].stack, e.producer, e.remote] if {
	some edges in input.refs_from
	some e in edges
	e.producer != null
}

_missing_reads contains [consumer, producer, remote] if {
	some [consumer, producer, remote] in _reads
	consumer != producer
	not producer in object.get(_dependencies, consumer, set())
}

_unordered contains [consumer, producer] if some [consumer, producer, _] in _missing_reads

# --- Roles, from what the stacks contain ---------------------------------------

# [member cluster, key of the global cluster it joins by reference].
_members contains [c, e.to] if {
	some c in lib.resources("aws_rds_cluster")
	some e in lib.edges(c, ["global_cluster_identifier"])
	e.to != null
	lib.by_key[e.to].type == "aws_rds_global_cluster"
}

# The global cluster's source joins it too.
_members contains [lib.by_key[e.to], g.key] if {
	some g in lib.resources("aws_rds_global_cluster")
	some e in lib.edges(g, ["source_db_cluster_identifier"])
	e.to != null
	lib.by_key[e.to].type == "aws_rds_cluster"
}

# Where a global database starts: its source or the member setting the master
# credentials; failing those, the member in the global cluster's own stack.
_primary(c, _) if topology.primary_like(c)

_primary(c, global) if {
	c.stack == lib.by_key[global].stack
	not _recognised_primary(global)
}

_recognised_primary(global) if {
	some [c, g] in _members
	g == global
	topology.primary_like(c)
}

# [secondary stack, primary stack, a secondary member] per global cluster.
_joins contains [c.stack, p.stack, c] if {
	some [c, global] in _members
	not _primary(c, global)
	some [p, global2] in _members
	global2 == global
	_primary(p, global)
	p.stack != c.stack
}

_failover_records := [r |
	some r in lib.resources("aws_route53_record")
	count(lib.block(r, "failover_routing_policy")) > 0
]

_regional_stacks := {c.stack | some [c, _] in _members}

# [routing stack, regional stack, a failover record of the routing stack].
_routes contains [r.stack, regional, r] if {
	some r in _failover_records
	some regional in _regional_stacks
	regional != r.stack
}

# One finding per pair of stacks: the first block (by address) that needs the order.
_first_of(pairs, a, b) := sort([x.address | some [a2, b2, x] in pairs; a2 == a; b2 == b])[0]

evaluated contains sprintf("%s/%s", [s.name, _manifest_entry(s.name).address]) if {
	_applicable
	some s in input.stacks
}

# Whoever reads a stack's outputs must be deployed after it.
deny contains lib.finding(rego.metadata.chain(), lib.by_key[remote], msg) if {
	_applicable
	some [consumer, producer, remote] in _missing_reads
	msg := sprintf(
		"stack %s reads outputs of stack %s but manifest.json does not list %s among its dependencies %v; expected %s to depend on %s",
		[consumer, producer, producer, sort(_dependencies[consumer]), consumer, producer],
	)
}

deny contains lib.finding(rego.metadata.chain(), c, msg) if {
	_applicable
	some [secondary, primary, c] in _joins
	c.address == _first_of(_joins, secondary, primary)
	not _follows(secondary, primary)
	not [secondary, primary] in _unordered
	msg := sprintf(
		"stack %s joins the global database that stack %s starts but does not follow it in manifest.json (dependencies %v); expected %s to depend on %s",
		[secondary, primary, sort(_dependencies[secondary]), secondary, primary],
	)
}

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	_applicable
	some [routing, regional, r] in _routes
	r.address == _first_of(_routes, routing, regional)
	not _follows(routing, regional)
	not [routing, regional] in _unordered
	msg := sprintf(
		"stack %s routes traffic between the regions but does not follow regional stack %s in manifest.json (dependencies %v); expected %s to depend on %s",
		[routing, regional, sort(_dependencies[routing]), routing, regional],
	)
}

_cycles contains loop if {
	some s, _ in _dependencies
	_follows(s, s)
	loop := sort({t | some t, _ in _dependencies; _follows(s, t); _follows(t, s)})
}

# A dependency the design needs: a read of the other stack's outputs, or a role.
_needed(a, b) if [a, b] in _pairs_needed

_pairs_needed := {[x, y] | some [x, y, _] in _reads} | {[x, y] | some [x, y, _] in _joins} | {[x, y] | some [x, y, _] in _routes}

# The dependencies inside a cycle that nothing in the design needs: they close it.
_closing(loop) := {[s, d] |
	some s in loop
	some d in _dependencies[s]
	d in loop
	not _needed(s, d)
}

deny contains lib.finding(rego.metadata.chain(), _manifest_entry(s), msg) if {
	_applicable
	some loop in _cycles
	some [s, d] in _closing(loop)
	msg := sprintf(
		"stack %s depends on %s, whose outputs it does not read, and so closes the cycle %v: no deployment order exists; expected %s not to depend on %s",
		[s, d, loop, s, d],
	)
}

# Every dependency of the cycle is needed: the design itself loops; named on its first stack.
deny contains lib.finding(rego.metadata.chain(), _manifest_entry(loop[0]), msg) if {
	_applicable
	some loop in _cycles
	count(_closing(loop)) == 0
	msg := sprintf("stacks %v read each other's outputs in a cycle: no deployment order exists; expected one of them to move the resource that closes the loop to a later stack", [loop])
}
