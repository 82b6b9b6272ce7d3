# METADATA
# title: The DNS failover timing fits the recovery time objective
# description: >-
#   For every Route 53 failover record, the worst-case time from an outage to
#   clients reaching the other region is at most the RTO target: the health
#   check needs request interval x failure threshold seconds to declare the
#   region unhealthy, resolvers keep the old answer for the record's TTL (an
#   alias record has the TTL of its target, 60 seconds for load balancers),
#   and promoting the secondary database takes the declared promotion
#   allowance. Route 53 defaults apply when unset (interval 30 s, threshold 3).
#   A failover record without a health check never fails over. The computed
#   budget of each record is published for the failover drills.
# custom:
#   id: DR-RTO-01
#   severity: high
#   controls:
#     nist-800-53: [CP-2, CP-10, CP-4]
#     soc2: [A1.2, A1.3]
#     iso-27001: [A.5.30, A.8.14]
#   remediation: >-
#     Lower request_interval (10 s) or failure_threshold on the health check,
#     or the record's ttl, until interval x threshold + TTL + promotion
#     allowance <= the RTO target (policies/settings.yaml); give every
#     failover record a health_check_id.
package dr.rules.dr_rto_01

import data.dr.lib
import data.dr.recovery.helpers as h

_default_interval := 30

_default_threshold := 3

# Alias targets managed by AWS (load balancers, CloudFront, API Gateway...)
# answer with a 60-second TTL.
_alias_target_ttl := 60

_target := lib.setting("rto_seconds", 60)

_promotion := lib.setting("promotion_allowance_seconds", 30)

_interval(hc) := h.num(object.get(hc.values, "request_interval", _default_interval))

_threshold(hc) := h.num(object.get(hc.values, "failure_threshold", _default_threshold))

_is_alias(record) if count(lib.block(record, "alias")) > 0

# The TTL clients cache the answer for, and where it comes from.
_ttl(record) := [h.num(record.values.ttl), "record TTL"] if not _is_alias(record)

_ttl(record) := [h.num(object.get(target.values, "ttl", _alias_target_ttl)), sprintf("TTL of alias target %s", [target.address])] if {
	some alias in lib.block(record, "alias")
	some target in h.refs(record.stack, object.get(alias, "name", null))
	target.type == "aws_route53_record"
}

_ttl(record) := [_alias_target_ttl, "alias target's TTL (60 s for load balancers)"] if {
	some alias in lib.block(record, "alias")
	not _alias_to_record(record, alias)
}

_alias_to_record(record, alias) if {
	some target in h.refs(record.stack, object.get(alias, "name", null))
	target.type == "aws_route53_record"
}

budgets contains budget if {
	some record in h.failover_records
	hc := h.health_check_of(record)
	interval := _interval(hc)
	threshold := _threshold(hc)
	[ttl, _] := _ttl(record)
	budget := {
		"stack": record.stack,
		"address": record.address,
		"failover": h.failover_type(record),
		"health_check": hc.address,
		"interval": interval,
		"threshold": threshold,
		"ttl": ttl,
		"promotion": _promotion,
		"total": (interval * threshold) + ttl + _promotion,
		"target": _target,
	}
}

evaluated contains lib.subject(record) if some record in h.failover_records

deny contains lib.finding(rego.metadata.chain(), record, msg) if {
	some b in budgets
	b.total > b.target
	record := lib.by_key[sprintf("%s|%s", [b.stack, b.address])]
	[_, source] := _ttl(record)
	msg := sprintf(
		"RTO budget %v s exceeds the %v s target: detection %v s (request_interval %v s x failure_threshold %v, health check %s) + %s %v s + promotion allowance %v s = %v s",
		[b.total, b.target, b.interval * b.threshold, b.interval, b.threshold, b.health_check, source, b.ttl, b.promotion, b.total],
	)
}

deny contains lib.finding(rego.metadata.chain(), record, msg) if {
	some record in h.failover_records
	not h.health_check_of(record)
	msg := "failover record has no health check (health_check_id): Route 53 never fails it over, so no RTO budget can be met; expected a health_check_id referencing an aws_route53_health_check"
}

deny contains lib.finding(rego.metadata.chain(), record, msg) if {
	some record in h.failover_records
	hc := h.health_check_of(record)
	some [attribute, value] in [
		["request_interval", object.get(hc.values, "request_interval", _default_interval)],
		["failure_threshold", object.get(hc.values, "failure_threshold", _default_threshold)],
	]
	not h.num(value)
	msg := sprintf("%s of %s is %v, not a literal number: the RTO budget cannot be computed; expected a literal value", [attribute, hc.address, value])
}

deny contains lib.finding(rego.metadata.chain(), record, msg) if {
	some record in h.failover_records
	not _ttl(record)
	msg := sprintf("the record's ttl (%v) is not a literal number of seconds: the RTO budget cannot be computed; expected a literal ttl", [object.get(record.values, "ttl", "unset")])
}
