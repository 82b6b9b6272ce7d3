# METADATA
# title: The regions are linked by references, across stacks where they live apart
# description: >-
#   The secondary Aurora cluster joins the global database by a reference to
#   the global cluster (a cross-stack reference when the global cluster lives
#   in another stack), and the Route 53 health checks and failover records
#   reach each region's health endpoint (here, the Function URLs) by a
#   reference too, cross-stack when the endpoint is in another stack. Only a
#   reference to the endpoint's own address counts (a Function URL's
#   function_url or url_id, a load balancer's dns_name, an API's endpoint): a
#   host assembled from strings around a reference to something else, such as
#   "${aws_lambda_function.x.function_name}.lambda-url.us-east-1.on.aws",
#   names a host that may not exist and is a finding. A reference keeps the
#   regions consistent when any of them is rebuilt; a copied name or host
#   silently points at whatever answered before. A failover record and its
#   health check must also target the same region. A local value
#   (TerraformLocal) and a hand-written remote state of another stack of the
#   output are followed to what they name; a value the harness cannot follow
#   (a variable, a module output, a block the output does not declare)
#   cannot be verified to be such a reference and is reported as such.
# custom:
#   id: DR-REF-02
#   severity: high
#   controls:
#     - framework: nist-800-53
#       control: CM-2
#       grade: supports
#       why: The regions of the baseline configuration are linked by references that stay right when a region is rebuilt.
#     - framework: iso-27001
#       control: A.8.9
#       grade: supports
#       why: The configuration of one region follows the other's when either changes.
#   observes:
#     aws_rds_cluster: [global_cluster_identifier]
#     aws_route53_health_check: [fqdn]
#     aws_route53_record: [alias.name, records, health_check_id]
#   remediation: >-
#     Pass the global cluster and the regional stacks' Function URL objects
#     to the stacks that use them, so CDKTF writes cross-stack references
#     (terraform_remote_state outputs) instead of literal names and hosts.
package dr.rules.dr_ref_02

import data.dr.lib

# Health checks that probe an endpoint (the others combine or watch alarms).
_endpoint_check_types := {"HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP"}

# The attributes that are an endpoint's own address, by block type (resources
# and data sources alike).
_endpoint_attributes := {
	"aws_lambda_function_url": {"function_url", "url_id"},
	"aws_lb": {"dns_name"},
	"aws_alb": {"dns_name"},
	"aws_elb": {"dns_name"},
	"aws_globalaccelerator_accelerator": {"dns_name", "dual_stack_dns_name"},
	"aws_apigatewayv2_api": {"api_endpoint"},
	"aws_apigatewayv2_stage": {"invoke_url"},
	"aws_apigatewayv2_domain_name": {"domain_name", "domain_name_configuration.0.target_domain_name"},
	"aws_api_gateway_stage": {"invoke_url"},
	"aws_api_gateway_deployment": {"invoke_url"},
	"aws_api_gateway_domain_name": {"domain_name", "regional_domain_name", "cloudfront_domain_name"},
	"aws_cloudfront_distribution": {"domain_name"},
	"aws_apprunner_service": {"service_url"},
	"aws_elastic_beanstalk_environment": {"cname", "endpoint_url"},
	"aws_s3_bucket": {"website_endpoint", "website_domain", "bucket_regional_domain_name"},
	"aws_s3_bucket_website_configuration": {"website_endpoint", "website_domain"},
	"aws_route53_record": {"fqdn", "name"},
	"aws_eip": {"public_ip", "public_dns"},
	"aws_instance": {"public_ip", "public_dns", "private_ip", "private_dns"},
	"aws_nat_gateway": {"public_ip"},
	"aws_rds_cluster": {"endpoint", "reader_endpoint"},
	"aws_db_instance": {"address", "endpoint"},
	"aws_opensearch_domain": {"endpoint"},
	"aws_elasticache_replication_group": {"primary_endpoint_address", "configuration_endpoint_address"},
}

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

# The edges held at one place (a path of names and positions) of a block.
_edges_at(r, path) := [e | some e in lib.refs(r); lib.same_place(e.path, path)]

_targets_at(r, path) := {lib.by_key[e.to] | some e in _edges_at(r, path); e.to != null}

_described(blocks) := concat(", ", sort({sprintf("%s/%s", [b.stack, b.address]) | some b in blocks}))

# What the unresolvable references at a place are (a variable, a local value...).
_unresolved_text(r, path) := concat(", ", sort({sprintf("%s (%s)", [e.expression, e.reason]) |
	some e in _edges_at(r, path)
	e.to == null
}))

# --- Aurora members -----------------------------------------------------------

_joins_global(c) if {
	some t in _targets_at(c, ["global_cluster_identifier"])
	t.type == "aws_rds_global_cluster"
}

_member_problem(c) := sprintf("global_cluster_identifier is the literal %q, not a reference to the aws_rds_global_cluster", [v]) if {
	v := c.values.global_cluster_identifier
	lib.is_literal(v)
}

_member_problem(c) := sprintf("global_cluster_identifier %s refers to %s, not to an aws_rds_global_cluster", [v, _described(targets)]) if {
	v := c.values.global_cluster_identifier
	lib.is_expression(v)
	not _joins_global(c)
	targets := _targets_at(c, ["global_cluster_identifier"])
	count(targets) > 0
}

_member_problem(c) := sprintf("global_cluster_identifier %s %s", [v, _unfollowed(c, ["global_cluster_identifier"])]) if {
	v := c.values.global_cluster_identifier
	lib.is_expression(v)
	count(_targets_at(c, ["global_cluster_identifier"])) == 0
}

# An expression that names no block of the design.
_unfollowed(r, path) := sprintf("cannot be verified: it refers to %s, nothing of this design", [_unresolved_text(r, path)]) if {
	count(_edges_at(r, path)) > 0
}

_unfollowed(r, path) := "refers to no resource of this design" if count(_edges_at(r, path)) == 0

# --- Health checks and failover records ----------------------------------------

# Where a health check sends its probes: fqdn, else ip_address.
_check_place(h) := ["fqdn"] if object.get(h.values, "fqdn", null) != null

_check_place(h) := ["ip_address"] if {
	object.get(h.values, "fqdn", null) == null
	object.get(h.values, "ip_address", null) != null
}

# Where a record sends clients: each of its records, or its alias target.
_record_places(r) := [["records", i] | some i, _ in r.values.records] if {
	is_array(object.get(r.values, "records", null))
	_has_records(r)
}

_record_places(r) := [["records"]] if {
	is_string(object.get(r.values, "records", null))
	_has_records(r)
}

_record_places(r) := [["alias", i, "name"] | some i, _ in lib.block(r, "alias")] if {
	not _has_records(r)
	count(lib.block(r, "alias")) > 0
}

_record_places(r) := [] if {
	not _has_records(r)
	count(lib.block(r, "alias")) == 0
}

_has_records(r) if count(object.get(r.values, "records", [])) > 0

_value_at(r, [name]) := r.values[name]

_value_at(r, ["records", i]) := r.values.records[i]

_value_at(r, ["alias", i, "name"]) := lib.block(r, "alias")[i].name

# A reference to an endpoint's own address at a place.
_endpoint_reference(r, path) if {
	some e in _edges_at(r, path)
	e.to != null
	e.attribute in object.get(_endpoint_attributes, lib.by_key[e.to].type, set())
}

_endpoint_problem(r, path) := sprintf("the literal host %q", [value]) if {
	value := _value_at(r, path)
	lib.is_literal(value)
}

_endpoint_problem(r, path) := sprintf("%s, a host built from %s rather than from an endpoint's own address", [value, _used(r, path)]) if {
	value := _value_at(r, path)
	lib.is_expression(value)
	not _endpoint_reference(r, path)
	count(_targets_at(r, path)) > 0
}

_endpoint_problem(r, path) := sprintf("%s, which %s", [value, _unfollowed(r, path)]) if {
	value := _value_at(r, path)
	lib.is_expression(value)
	count(_targets_at(r, path)) == 0
}

# The attributes of the blocks a place refers to, for messages.
_used(r, path) := concat(", ", sort({sprintf("%s of %s/%s", [e.attribute, lib.by_key[e.to].stack, lib.by_key[e.to].address]) |
	some e in _edges_at(r, path)
	e.to != null
}))

# The regions a place reaches.
_regions(r, path) := {t.region | some t in _targets_at(r, path); is_string(t.region)}

evaluated contains lib.subject(c) if some c in _members

evaluated contains lib.subject(h) if some h in _checks

evaluated contains lib.subject(r) if some r in _failover_records

_expected := "expected a reference to the region's endpoint address (function_url, dns_name...; cross-stack when it lives in another stack)"

deny contains lib.finding(rego.metadata.chain(), c, msg) if {
	some c in _members
	msg := sprintf("%s; expected a reference to the global cluster (cross-stack when it lives in another stack)", [_member_problem(c)])
}

deny contains lib.finding(rego.metadata.chain(), h, msg) if {
	some h in _checks
	not _check_place(h)
	msg := sprintf("the health check probes no endpoint (neither fqdn nor ip_address); %s", [_expected])
}

deny contains lib.finding(rego.metadata.chain(), h, msg) if {
	some h in _checks
	problem := _endpoint_problem(h, _check_place(h))
	msg := sprintf("the health check probes %s; %s", [problem, _expected])
}

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some r in _failover_records
	count(_record_places(r)) == 0
	msg := sprintf("the failover record has neither records nor an alias target; %s", [_expected])
}

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some r in _failover_records
	some path in _record_places(r)
	problem := _endpoint_problem(r, path)
	msg := sprintf("the failover record routes to %s; %s", [problem, _expected])
}

# A failover record must route to the region its health check watches.
deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some r in _failover_records
	h := lib.ref(r, ["health_check_id"])
	h.type == "aws_route53_health_check"
	checked := _regions(h, _check_place(h))
	routed := {region | some path in _record_places(r); some region in _regions(r, path)}
	count(checked) > 0
	count(routed) > 0
	checked != routed
	msg := sprintf(
		"the failover record routes to %s but its health check %s/%s watches %s: failover would follow the wrong region's health",
		[concat(", ", sort(routed)), h.stack, h.address, concat(", ", sort(checked))],
	)
}
