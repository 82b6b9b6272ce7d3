# METADATA
# title: Health checks and database connections are encrypted in transit
# description: >-
#   Failover is decided by health checks and data flows to the Aurora
#   clusters of both regions; both must be encrypted in transit. Every
#   Route 53 health check that probes an endpoint uses type HTTPS or
#   HTTPS_STR_MATCH (HTTP, HTTP_STR_MATCH and TCP are reported; CALCULATED,
#   CLOUDWATCH_METRIC and RECOVERY_CONTROL checks probe nothing and are not
#   judged). Every Aurora cluster refers (db_cluster_parameter_group_name, by
#   reference or by the literal name of a group of the design in its region)
#   to an aws_rds_cluster_parameter_group of the design whose parameter list
#   forces TLS: rds.force_ssl = 1 (Aurora PostgreSQL) or
#   require_secure_transport = 1/ON (Aurora MySQL). A cluster on the default
#   parameter group, or on a group that is not part of the design, cannot be
#   shown to force TLS and is reported.
# custom:
#   id: DR-ENC-04
#   severity: high
#   controls:
#     nist-800-53: [SC-8, SC-8(1)]
#     soc2: [CC6.7]
#     iso-27001: [A.8.24]
#   remediation: >-
#     Set type = "HTTPS" (or "HTTPS_STR_MATCH") on each aws_route53_health_check;
#     give each aws_rds_cluster an aws_rds_cluster_parameter_group with
#     parameter { name = "rds.force_ssl", value = "1" } (PostgreSQL) or
#     require_secure_transport = "1" (MySQL).
package dr.rules.dr_enc_04

import data.dr.lib

# --- health checks ---------------------------------------------------------------

_encrypted_types := {"HTTPS", "HTTPS_STR_MATCH"}

_probe_free_types := {"CALCULATED", "CLOUDWATCH_METRIC", "RECOVERY_CONTROL"}

_probing_checks contains r if {
	some r in lib.resources("aws_route53_health_check")
	not object.get(r.values, "type", "") in _probe_free_types
}

evaluated contains lib.subject(r) if some r in _probing_checks

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some r in _probing_checks
	type := object.get(r.values, "type", null)
	not type in _encrypted_types
	msg := sprintf(
		"health check type is %v: the probe travels unencrypted and can be spoofed; expected HTTPS or HTTPS_STR_MATCH",
		[type],
	)
}

# --- Aurora clusters ---------------------------------------------------------------

_tls_parameters := {
	"rds.force_ssl": {"1"},
	"require_secure_transport": {"1", "ON"},
}

_clusters := lib.resources("aws_rds_cluster")

# The cluster parameter group a cluster names: by reference, or by literal name in its region.
_group(cluster) := g if {
	g := lib.ref_target(cluster.stack, object.get(cluster.values, "db_cluster_parameter_group_name", null))
	g.type == "aws_rds_cluster_parameter_group"
}

_group(cluster) := g if {
	name := object.get(cluster.values, "db_cluster_parameter_group_name", null)
	is_string(name)
	not lib.is_expression(name)
	some g in lib.resources("aws_rds_cluster_parameter_group")
	object.get(g.values, "name", null) == name
	g.region == cluster.region
}

_forces_tls(group) if {
	some p in lib.block(group, "parameter")
	allowed := _tls_parameters[object.get(p, "name", "")]
	upper(sprintf("%v", [object.get(p, "value", "")])) in allowed
}

# What the group says about TLS, for messages.
_tls_setting(group) := concat(", ", settings) if {
	settings := [sprintf("%s = %v", [p.name, object.get(p, "value", null)]) |
		some p in lib.block(group, "parameter")
		_tls_parameters[object.get(p, "name", "")]
	]
	count(settings) > 0
}

_tls_setting(group) := "neither rds.force_ssl nor require_secure_transport is set" if {
	count([p | some p in lib.block(group, "parameter"); _tls_parameters[object.get(p, "name", "")]]) == 0
}

evaluated contains lib.subject(r) if some r in _clusters

deny contains lib.finding(rego.metadata.chain(), cluster, msg) if {
	some cluster in _clusters
	not _group(cluster)
	name := object.get(cluster.values, "db_cluster_parameter_group_name", null)
	msg := sprintf(
		"db_cluster_parameter_group_name %s, so TLS cannot be shown to be forced; expected an aws_rds_cluster_parameter_group of the design with rds.force_ssl = 1",
		[_named(name)],
	)
}

deny contains lib.finding(rego.metadata.chain(), group, msg) if {
	some cluster in _clusters
	group := _group(cluster)
	not _forces_tls(group)
	msg := sprintf(
		"cluster parameter group of %s/%s does not force TLS (%s); expected rds.force_ssl = 1 (or require_secure_transport = 1 for MySQL)",
		[cluster.stack, cluster.address, _tls_setting(group)],
	)
}

_named(null) := "is not set (the engine's default group, which does not force TLS)"

_named(name) := sprintf("%q is not a parameter group of this design", [name]) if name != null
