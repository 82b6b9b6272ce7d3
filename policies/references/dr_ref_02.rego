# METADATA
# title: The regions are linked by references, across stacks where they live apart
# description: >-
#   The secondary Aurora cluster joins the global database by a reference to
#   the global cluster (a cross-stack reference when the global cluster lives
#   in another stack), and the Route 53 health checks and failover records
#   reach each region's health endpoint (here, the Function URLs) by a
#   reference too, cross-stack when the endpoint is in another stack. A
#   reference keeps the regions consistent when any of them is rebuilt; a
#   copied name or host silently points at whatever answered before. A
#   failover record and its health check must also target the same region.
# custom:
#   id: DR-REF-02
#   severity: high
#   controls:
#     nist-800-53: [CM-2, CM-3, SA-10]
#     soc2: [CC8.1]
#     iso-27001: [A.8.9, A.8.32]
#   remediation: >-
#     Pass the global cluster and the regional stacks' Function URL objects
#     to the stacks that use them, so CDKTF writes cross-stack references
#     (terraform_remote_state outputs) instead of literal names and hosts.
package dr.rules.dr_ref_02

import data.dr.lib
import data.dr.references.expressions as expr

# Health checks that probe an endpoint (the others combine or watch alarms).
_endpoint_check_types := {"HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP"}

_members := [c |
	some c in lib.resources("aws_rds_cluster")
	object.get(c.values, "global_cluster_identifier", null) != null
]

_checks := [h |
	some h in lib.resources("aws_route53_health_check")
	type := object.get(h.values, "type", "")
	is_string(type)
	upper(type) in _endpoint_check_types
]

_failover_records := [r |
	some r in lib.resources("aws_route53_record")
	count(lib.block(r, "failover_routing_policy")) > 0
]

# --- Aurora members -----------------------------------------------------------

_global_cluster(c) if {
	some g in expr.targets(c.stack, c.values.global_cluster_identifier)
	g.type == "aws_rds_global_cluster"
}

_member_problem(c) := sprintf("global_cluster_identifier is the literal %q, not a reference to the aws_rds_global_cluster", [v]) if {
	v := c.values.global_cluster_identifier
	expr.is_literal(v)
}

_member_problem(c) := sprintf("global_cluster_identifier %s does not resolve to an aws_rds_global_cluster of this design (%s)", [v, _resolved(c.stack, v)]) if {
	v := c.values.global_cluster_identifier
	lib.is_expression(v)
	not _global_cluster(c)
}

_resolved(stack, value) := sprintf("it refers to %s", [concat(", ", sort(targets))]) if {
	targets := {sprintf("%s in stack %s", [t.address, t.stack]) | some t in expr.targets(stack, value)}
	count(targets) > 0
}

_resolved(stack, value) := "no local or cross-stack reference" if count(expr.targets(stack, value)) == 0

# --- Health checks and failover records ----------------------------------------

# Where a health check sends its probes.
_check_endpoint(h) := v if {
	v := object.get(h.values, "fqdn", null)
	v != null
}

_check_endpoint(h) := v if {
	object.get(h.values, "fqdn", null) == null
	v := object.get(h.values, "ip_address", null)
	v != null
}

# Where a record sends clients: its records, or its alias target.
_record_endpoints(r) := [v | some v in object.get(r.values, "records", [])] if {
	count(object.get(r.values, "records", [])) > 0
}

_record_endpoints(r) := [a.name | some a in lib.block(r, "alias")] if {
	count(object.get(r.values, "records", [])) == 0
}

_endpoint_problem(stack, value) := sprintf("the literal host %q", [value]) if expr.is_literal(value)

_endpoint_problem(stack, value) := sprintf("%s, which refers to no resource of this design", [value]) if {
	lib.is_expression(value)
	count(expr.targets(stack, value)) == 0
}

_endpoint_problem(_, value) := "no endpoint" if not is_string(value)

# The regions an endpoint expression reaches.
_regions(stack, value) := {t.region | some t in expr.targets(stack, value)}

evaluated contains lib.subject(c) if some c in _members

evaluated contains lib.subject(h) if some h in _checks

evaluated contains lib.subject(r) if some r in _failover_records

deny contains lib.finding(rego.metadata.chain(), c, msg) if {
	some c in _members
	msg := sprintf("%s; expected a reference (cross-stack when the global cluster lives in another stack)", [_member_problem(c)])
}

deny contains lib.finding(rego.metadata.chain(), h, msg) if {
	some h in _checks
	value := object.get(h.values, "fqdn", object.get(h.values, "ip_address", null))
	problem := _endpoint_problem(h.stack, value)
	msg := sprintf("the health check probes %s; expected a reference to the region's health endpoint (cross-stack when it lives in another stack)", [problem])
}

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some r in _failover_records
	count(_record_endpoints(r)) == 0
	msg := "the failover record has neither records nor an alias target"
}

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some r in _failover_records
	some value in _record_endpoints(r)
	problem := _endpoint_problem(r.stack, value)
	msg := sprintf("the failover record routes to %s; expected a reference to the region's endpoint (cross-stack when it lives in another stack)", [problem])
}

# A failover record must route to the region its health check watches.
deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some r in _failover_records
	h := lib.ref_target(r.stack, object.get(r.values, "health_check_id", null))
	h.type == "aws_route53_health_check"
	checked := _regions(h.stack, _check_endpoint(h))
	some value in _record_endpoints(r)
	routed := _regions(r.stack, value)
	count(checked) > 0
	count(routed) > 0
	checked != routed
	msg := sprintf("the failover record routes to %v but its health check %s watches %v: failover would follow the wrong region's health", [sort(routed), h.address, sort(checked)])
}
