# METADATA
# title: The slower of the DNS path and the promotion path fits the recovery time objective
# description: >-
#   Clients can write again after the primary region is lost only when DNS
#   answers with the other region and, where a database must be promoted, the
#   secondary database accepts writes. The recovery time is the slower of
#   these two paths, each the sum of its stages, and it must be at most the
#   RTO target (setting rto_seconds). The DNS path of each PRIMARY failover
#   record: detection by its health check (request_interval x
#   failure_threshold; Route 53 defaults 30 s and 3), the time resolvers keep
#   the old answer (the record's ttl; for an alias record the ttl of the
#   record it aliases, else 60 s for AWS-managed targets such as load
#   balancers), and a resolver allowance (setting
#   dns_resolver_allowance_seconds). The promotion path of each Aurora global
#   cluster with a member outside its primary region: detection by the trigger
#   that starts the promotion (see DR-RTO-03), the invocation of the failover
#   function (setting invocation_allowance_seconds) and the promotion itself
#   (setting promotion_allowance_seconds; AWS documents promoting a secondary
#   region in under a minute, hence 60 s). A CloudWatch alarm detects in one
#   metric interval (60 s: Route 53 and the other AWS namespaces publish at
#   one-minute standard resolution; a period under 60 s counts only for a
#   custom namespace), plus datapoints_to_alarm (default evaluation_periods) x
#   period, plus the delay before its action runs (setting
#   alarm_action_allowance_seconds). An EventBridge schedule detects in its
#   rate (rate(N unit); a cron expression counts 60 s), unless the function it
#   starts declares a probe loop in its environment variables (settings
#   watchdog_interval_variable and watchdog_threshold_variable, by default
#   PROBE_INTERVAL_SECONDS and FAILURE_THRESHOLD): then interval x threshold.
#   When several triggers start the promotion, the fastest counts. Where the
#   app states that its health endpoint is healthy only where the database
#   accepts writes (setting dns_waits_for_promotion), Route 53 answers with
#   the secondary only after the promotion: the DNS stages (the SECONDARY
#   record's health check recovering, its TTL, the resolver allowance) then
#   follow the promotion in one path. A failover record without a health check
#   never fails over and a global cluster without a trigger is never promoted:
#   that path is unbounded and fails. A stage whose value is an expression
#   cannot be computed and is reported. Each path, stage by stage with where
#   each value comes from, is published in the report, and a finding names the
#   slowest stage.
# custom:
#   id: DR-RTO-01
#   severity: high
#   controls:
#     - framework: nist-800-53
#       control: CP-10
#       grade: supports
#       why: The configured timing of detection, DNS and promotion fits the recovery time objective; AWS's real timings are not measured.
#     - framework: soc2
#       control: A1.2
#       grade: supports
#       why: The recovery infrastructure is configured to recover within the RTO.
#     - framework: iso-27001
#       control: A.5.30
#       grade: supports
#       why: ICT readiness is checked against the recovery time objective in the design; it is not tested.
#   observes:
#     aws_route53_health_check: [request_interval, failure_threshold]
#     aws_route53_record: [failover_routing_policy.type, ttl, alias.name, health_check_id]
#     aws_cloudwatch_metric_alarm: [namespace, metric_name, period, evaluation_periods, datapoints_to_alarm]
#     aws_cloudwatch_event_rule: [schedule_expression]
#     aws_lambda_function: [environment.variables.PROBE_INTERVAL_SECONDS, environment.variables.FAILURE_THRESHOLD]
#   remediation: >-
#     Shorten the slowest stage the finding names: request_interval 10 s and a
#     low failure_threshold on the health check, a short record ttl; start the
#     promotion from something faster than a one-minute alarm (a watchdog in
#     the secondary region that probes the primary's health endpoint every few
#     seconds, started by an EventBridge schedule, declaring its cadence in
#     PROBE_INTERVAL_SECONDS and FAILURE_THRESHOLD); give every failover record
#     a health_check_id. Where no design fits, record a waiver stating the
#     budget.
package dr.rules.dr_rto_01

import data.dr.lib
import data.dr.recovery as rec

_target := lib.setting("rto_seconds", 60)

# Route 53 defaults when a health check leaves them unset.
_default_interval := 30

_default_threshold := 3

# Alias targets managed by AWS (load balancers, CloudFront, API Gateway...)
# answer with a 60-second TTL.
_alias_target_ttl := 60

# --- the DNS path of each PRIMARY failover record ------------------------------

_is_alias(record) if count(lib.block(record, "alias")) > 0

_alias_record(record) := target if {
	some i, _ in lib.block(record, "alias")
	some e in lib.refs(record)
	e.to != null
	lib.same_place(e.path, ["alias", i, "name"])
	target := lib.by_key[e.to]
	target.type == "aws_route53_record"
}

_n(value) := n if {
	n := lib.num(value)
} else := null

_times(a, b) := a * b if {
	is_number(a)
	is_number(b)
} else := null

_ttl_stage(record) := {"stage": "DNS TTL", "seconds": lib.num(record.values.ttl), "source": sprintf("ttl of %s", [lib.subject(record)])} if {
	not _is_alias(record)
	lib.num(record.values.ttl)
} else := {"stage": "DNS TTL", "seconds": null, "source": sprintf("ttl %v of %s is not a literal number", [object.get(record.values, "ttl", "unset"), lib.subject(record)])} if {
	not _is_alias(record)
} else := {"stage": "DNS TTL", "seconds": _n(object.get(target.values, "ttl", _alias_target_ttl)), "source": sprintf("ttl of alias target %s", [lib.subject(target)])} if {
	target := _alias_record(record)
} else := {"stage": "DNS TTL", "seconds": _alias_target_ttl, "source": "alias to an AWS-managed target, which answers with a 60 s TTL"}

_detection_stage(hc) := {
	"stage": "health-check detection",
	"seconds": _times(_n(object.get(hc.values, "request_interval", _default_interval)), _n(object.get(hc.values, "failure_threshold", _default_threshold))),
	"source": sprintf("request_interval %v s x failure_threshold %v of %s%s", [
		object.get(hc.values, "request_interval", _default_interval),
		object.get(hc.values, "failure_threshold", _default_threshold),
		lib.subject(hc), _defaults_note(hc),
	]),
}

_defaults_note(hc) := " (Route 53 defaults)" if {
	not hc.values.request_interval
	not hc.values.failure_threshold
} else := ""

_resolver_stage := {
	"stage": "resolver allowance",
	"seconds": lib.setting("dns_resolver_allowance_seconds", 5),
	"source": "setting dns_resolver_allowance_seconds",
}

_dns_path(record) := _path("dns", record, [_detection_stage(hc), _ttl_stage(record), _resolver_stage]) if {
	hc := rec.health_check_of(record)
}

_dns_path(record) := _path("dns", record, [{"stage": "health-check detection", "seconds": null, "unbounded": true, "source": "the record has no health check (health_check_id): Route 53 never fails it over"}]) if {
	not rec.health_check_of(record)
}

# --- the promotion path of each global cluster with a secondary member -------------

_invocation_stage := {
	"stage": "invocation",
	"seconds": lib.setting("invocation_allowance_seconds", 5),
	"source": "setting invocation_allowance_seconds",
}

_promotion_stage := {
	"stage": "promotion",
	"seconds": lib.setting("promotion_allowance_seconds", 60),
	"source": "setting promotion_allowance_seconds (AWS: a secondary region is promoted in under a minute)",
}

_candidates(g) := [_path(_promotion_kind, g, array.concat(array.concat(rec.detection_stages(c), [_invocation_stage, _promotion_stage]), _dns_tail)) |
	some c in rec.promotion_chains(g)
	c.complete
]

# When the app says its health endpoint is healthy only where the database
# accepts writes (setting dns_waits_for_promotion), Route 53 can answer with
# the secondary only after the promotion: the DNS stages follow it.
_waits := lib.setting("dns_waits_for_promotion", false)

_promotion_kind := "promotion then DNS" if _waits

_promotion_kind := "promotion" if not _waits

_dns_tail := [] if not _waits

_dns_tail := tail if {
	_waits
	secondaries := [r | some r in rec.failover_records; rec.failover_type(r) == "SECONDARY"; rec.health_check_of(r)]
	count(secondaries) > 0
	record := secondaries[0]
	hc := rec.health_check_of(record)
	recovery := object.union(_detection_stage(hc), {"stage": "secondary health-check recovery"})
	tail := [recovery, _ttl_stage(record), _resolver_stage]
}

_dns_tail := [] if {
	_waits
	count([r | some r in rec.failover_records; rec.failover_type(r) == "SECONDARY"; rec.health_check_of(r)]) == 0
}

# The fastest complete trigger counts; without one the path is unbounded.
_promotion_path(g) := best if {
	computable := [p | some p in _candidates(g); p.total != null]
	count(computable) > 0
	fastest := min([p.total | some p in computable])
	best := [p | some p in computable; p.total == fastest][0]
} else := p if {
	candidates := _candidates(g)
	count(candidates) > 0
	p := candidates[0]
} else := _path(_promotion_kind, g, [{"stage": "promotion trigger", "seconds": null, "unbounded": true, "source": "nothing the design deploys starts the promotion of the secondary cluster (see DR-RTO-03)"}])

_replicated_globals := [g | some g in rec.global_clusters; count(rec.secondary_members(g)) > 0]

# --- paths, the published budget and findings -------------------------------------

_path(kind, subject, stages) := {
	"path": kind,
	"stack": subject.stack,
	"address": subject.address,
	"stages": stages,
	"total": _total(stages),
	"target": _target,
}

_total(stages) := sum([s.seconds | some s in stages]) if {
	every s in stages {
		is_number(s.seconds)
	}
} else := null

paths := array.concat(
	[_dns_path(r) | some r in rec.primary_records],
	[_promotion_path(g) | some g in _replicated_globals],
)

# What the reports show: every path, stage by stage, with its total and target.
budget := paths

evaluated contains lib.subject(r) if some r in rec.failover_records

evaluated contains lib.subject(g) if some g in _replicated_globals

_slowest(p) := [s |
	some s in p.stages
	is_number(s.seconds)
	s.seconds == max([t.seconds | some t in p.stages; is_number(t.seconds)])
][0]

_stages_text(p) := concat(" + ", [sprintf("%s %v s", [s.stage, s.seconds]) | some s in p.stages])

_subject(p) := lib.by_key[sprintf("%s|%s", [p.stack, p.address])]

deny contains lib.finding(rego.metadata.chain(), _subject(p), msg) if {
	some p in paths
	is_number(p.total)
	p.total > p.target
	slowest := _slowest(p)
	msg := sprintf(
		"the %s path takes %v s, over the %v s RTO target; slowest stage: %s %v s (%s); stages: %s",
		[p.path, p.total, p.target, slowest.stage, slowest.seconds, slowest.source, _stages_text(p)],
	)
}

deny contains lib.finding(rego.metadata.chain(), _subject(p), msg) if {
	some p in paths
	some s in p.stages
	s.unbounded
	msg := sprintf("the %s path is unbounded: %s; the RTO target of %v s cannot be met", [p.path, s.source, p.target])
}

deny contains lib.finding(rego.metadata.chain(), _subject(p), msg) if {
	some p in paths
	some s in p.stages
	s.seconds == null
	not s.unbounded
	msg := sprintf("the %s path cannot be computed: %s (%s); expected literal values", [p.path, s.stage, s.source])
}
