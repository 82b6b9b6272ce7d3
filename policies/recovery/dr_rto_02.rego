# METADATA
# title: A health-checked PRIMARY/SECONDARY record pair routes to the two regions
# description: >-
#   The service name resolves through a Route 53 failover pair: one PRIMARY
#   and one SECONDARY record with the same name and distinct set identifiers,
#   each with its own health check. Each health check probes, over HTTPS, the
#   /health path of its record's region's endpoint: a Lambda Function URL (by
#   host name: a Function URL is a whole URL, its host must be extracted), a
#   load balancer's dns_name or an API's endpoint. What each record answers
#   with is in the region its health check probes (a separate health endpoint
#   of the same region is fine), the PRIMARY record points to the primary
#   region (where the Aurora global cluster's primary lives) and the SECONDARY
#   record to another region. When the design has a hosted zone or a health
#   check but no failover pair, there is no DNS failover at all, which is a
#   finding.
# custom:
#   id: DR-RTO-02
#   severity: high
#   controls:
#     - framework: nist-800-53
#       control: CP-10
#       grade: supports
#       why: The service name fails over between two health-checked regions.
#     - framework: nist-800-53
#       control: CP-7
#       grade: supports
#       why: Clients are routed to the alternate region when the primary fails its health check.
#     - framework: soc2
#       control: A1.2
#       grade: supports
#       why: DNS failover to the recovery region is configured.
#     - framework: iso-27001
#       control: A.8.14
#       grade: supports
#       why: Routing is redundant across two regions.
#   observes:
#     aws_route53_record: [name, set_identifier, failover_routing_policy.type, health_check_id, alias.name, records]
#     aws_route53_health_check: [type, fqdn, resource_path]
#   remediation: >-
#     Create two aws_route53_record resources with the same name,
#     failover_routing_policy PRIMARY and SECONDARY, distinct set_identifier
#     and a health_check_id each; make each aws_route53_health_check type
#     HTTPS with resource_path /health and fqdn set to the host of its region's
#     Function URL, e.g. element(split("/", <function_url>), 2).
package dr.rules.dr_rto_02

import data.dr.lib
import data.dr.recovery as rec

_roles := {"PRIMARY", "SECONDARY"}

# Records answering the same name in the same zone form one failover group.
_group_key(record) := sprintf("%v|%v", [object.get(record.values, "zone_id", ""), object.get(record.values, "name", "")])

_by_group_pairs := [[_group_key(r), r] | some r in rec.failover_records]

_by_group := {k: {v | some [k2, v] in _by_group_pairs; k2 == k} | some [k, _] in _by_group_pairs}

_groups := {key | some key, _ in _by_group}

_group(key) := _by_group[key]

_health_checks := lib.resources("aws_route53_health_check")

# The single Function URL each record's health check probes; built once.
_health_check_urls(hc) := {u | some u in lib.mentions(hc, ["fqdn"]); u.type in _endpoint_types}

# The regional endpoints a health check may probe: a Lambda Function URL (its
# host extracted from the URL), a load balancer (its dns_name), an HTTP API.
_endpoint_types := {"aws_lambda_function_url", "aws_lb", "aws_alb", "aws_apigatewayv2_api", "aws_apigatewayv2_domain_name", "aws_api_gateway_domain_name"}

_urls := {record.key: u |
	some record in rec.failover_records
	hc := rec.health_check_of(record)
	urls := _health_check_urls(hc)
	count(urls) == 1
	some u in urls
}

_url(record) := _urls[record.key]

evaluated contains lib.subject(r) if some r in rec.failover_records

evaluated contains lib.subject(r) if some r in _health_checks

evaluated contains lib.subject(r) if some r in lib.resources("aws_route53_zone")

# --- the subject must exist -----------------------------------------------

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	count(rec.failover_records) == 0
	some r in array.concat(lib.resources("aws_route53_zone"), _health_checks)
	msg := "no Route 53 failover records: the service name never fails over to the other region; expected a PRIMARY and a SECONDARY record with health checks"
}

# --- the pair -----------------------------------------------------------

deny contains lib.finding(rego.metadata.chain(), record, msg) if {
	some key in _groups
	records := _group(key)
	types := [t | some r in records; t := rec.failover_type(r)]
	some role in _roles
	count([t | some t in types; t == role]) != 1
	some record in records
	msg := sprintf(
		"the failover records of %v are %v: expected exactly one PRIMARY and one SECONDARY",
		[object.get(record.values, "name", "?"), sort(types)],
	)
}

deny contains lib.finding(rego.metadata.chain(), record, msg) if {
	some record in rec.failover_records
	not rec.failover_type(record) in _roles
	msg := sprintf("failover type %q is neither PRIMARY nor SECONDARY", [rec.failover_type(record)])
}

deny contains lib.finding(rego.metadata.chain(), record, msg) if {
	some record in rec.failover_records
	not is_string(object.get(record.values, "set_identifier", null))
	msg := "failover record has no set_identifier: Route 53 cannot tell the PRIMARY and SECONDARY answers apart"
}

deny contains lib.finding(rego.metadata.chain(), record, msg) if {
	some key in _groups
	some record in _group(key)
	some other in _group(key)
	other.address != record.address
	identifier := object.get(record.values, "set_identifier", null)
	is_string(identifier)
	identifier == object.get(other.values, "set_identifier", null)
	msg := sprintf("set_identifier %q is also used by %s/%s: each record of the pair needs its own", [identifier, other.stack, other.address])
}

# --- each record's health check -------------------------------------------

deny contains lib.finding(rego.metadata.chain(), record, msg) if {
	some record in rec.failover_records
	not rec.health_check_of(record)
	msg := sprintf(
		"health_check_id %v does not name an aws_route53_health_check: the record never fails over; expected its own health check",
		[object.get(record.values, "health_check_id", "(unset)")],
	)
}

deny contains lib.finding(rego.metadata.chain(), hc, msg) if {
	some hc in _failover_health_checks
	not object.get(hc.values, "type", "") in {"HTTPS", "HTTPS_STR_MATCH"}
	msg := sprintf("health check type is %v: expected HTTPS against the region's endpoint", [object.get(hc.values, "type", "(unset)")])
}

deny contains lib.finding(rego.metadata.chain(), hc, msg) if {
	some hc in _failover_health_checks
	object.get(hc.values, "resource_path", "") != "/health"
	msg := sprintf("resource_path is %v: expected /health", [object.get(hc.values, "resource_path", "(unset)")])
}

deny contains lib.finding(rego.metadata.chain(), hc, msg) if {
	some hc in _failover_health_checks
	target := lib.ref(hc, ["fqdn"])
	target.type == "aws_lambda_function_url"
	msg := sprintf(
		"fqdn is %s itself, a whole URL (https://<id>.lambda-url.<region>.on.aws/), not a host name: expected its host, e.g. element(split(\"/\", <function_url>), 2)",
		[lib.subject(target)],
	)
}

# Functions that can take the host out of a URL.
_host_functions := {"split", "replace", "regex", "regexall", "trimprefix", "trimsuffix", "trim"}

deny contains lib.finding(rego.metadata.chain(), hc, msg) if {
	some hc in _failover_health_checks
	some e in lib.edges(hc, ["fqdn"])
	e.to != null
	lib.by_key[e.to].type == "aws_lambda_function_url"
	not e.whole
	count({f | some f in e.functions} & _host_functions) == 0
	msg := sprintf("fqdn ${%s} uses the Function URL without extracting its host: expected element(split(\"/\", <function_url>), 2) or a replace/regex form", [e.expression])
}

deny contains lib.finding(rego.metadata.chain(), hc, msg) if {
	some hc in _failover_health_checks
	count(_health_check_urls(hc)) == 0
	msg := sprintf("fqdn %v does not refer to a regional endpoint of this design (a Lambda Function URL, a load balancer, an API): expected the host of the region's endpoint", [object.get(hc.values, "fqdn", "(unset)")])
}

deny contains lib.finding(rego.metadata.chain(), hc, msg) if {
	some hc in _failover_health_checks
	fqdn := object.get(hc.values, "fqdn", null)
	is_string(fqdn)
	lib.is_literal(fqdn)
	contains(fqdn, "/")
	msg := sprintf("fqdn %q is a URL, not a host name", [fqdn])
}

_failover_health_checks contains hc if {
	some record in rec.failover_records
	hc := rec.health_check_of(record)
}

# --- regions ------------------------------------------------------------

# What the record answers with must be in the region its health check probes
# (a separate health function of the same region is fine).
deny contains lib.finding(rego.metadata.chain(), record, msg) if {
	some record in rec.failover_records
	u := _url(record)
	some other in _answer_refs(record)
	other.region != u.region
	msg := sprintf("the record answers with %s/%s in %s but its health check probes %s/%s in %s: expected the same region", [other.stack, other.address, other.region, u.stack, u.address, u.region])
}

_answer_refs(record) := lib.mentions(record, ["records"]) | lib.mentions(record, ["alias", "name"])

deny contains lib.finding(rego.metadata.chain(), record, msg) if {
	some record in rec.failover_records
	rec.failover_type(record) == "PRIMARY"
	count(rec.primary_regions) > 0
	u := _url(record)
	not u.region in rec.primary_regions
	msg := sprintf("the PRIMARY record's health check probes %s/%s in %s, but the primary region (of the Aurora global cluster) is %v", [u.stack, u.address, u.region, rec.listed(rec.primary_regions)])
}

deny contains lib.finding(rego.metadata.chain(), record, msg) if {
	some record in rec.failover_records
	rec.failover_type(record) == "SECONDARY"
	u := _url(record)
	u.region in rec.primary_regions
	msg := sprintf("the SECONDARY record's health check probes %s/%s in the primary region %s: expected the secondary region", [u.stack, u.address, u.region])
}

deny contains lib.finding(rego.metadata.chain(), secondary, msg) if {
	some key in _groups
	some primary in _group(key)
	rec.failover_type(primary) == "PRIMARY"
	some secondary in _group(key)
	rec.failover_type(secondary) == "SECONDARY"
	_url(primary).region == _url(secondary).region
	msg := sprintf("PRIMARY and SECONDARY records both probe endpoints in %s: expected two different regions", [_url(secondary).region])
}
