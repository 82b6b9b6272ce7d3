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
#   shown to force TLS and is reported. Findings name the health check or
#   the cluster (whose connections may travel unencrypted).
# custom:
#   id: DR-ENC-04
#   severity: high
#   controls:
#     - framework: nist-800-53
#       control: SC-8(1)
#       grade: supports
#       why: Health checks use HTTPS and every database forces TLS; other traffic is not judged.
#     - framework: nist-800-53
#       control: SC-8
#       grade: supports
#       why: The failover probes and the database connections are encrypted in transit.
#     - framework: soc2
#       control: CC6.7
#       grade: supports
#       why: Data moving to the databases and the health probes travel encrypted.
#     - framework: iso-27001
#       control: A.8.24
#       grade: supports
#       why: Cryptography protects the health probes and database connections in transit.
#   observes:
#     aws_route53_health_check: [type, port]
#     aws_rds_cluster: [db_cluster_parameter_group_name]
#     aws_rds_cluster_parameter_group: [family, parameter]
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

_group_type := "aws_rds_cluster_parameter_group"

# The design's groups by literal name.
_groups_by_name := {name: [g | some g in lib.resources(_group_type); object.get(g.values, "name", null) == name] |
	some g in lib.resources(_group_type)
	name := object.get(g.values, "name", null)
	lib.is_literal(name)
}

# The cluster parameter group a cluster names: by reference (also across
# stacks), or by the literal name of a group of the design in its region.
_group(cluster) := g if {
	g := lib.ref(cluster, ["db_cluster_parameter_group_name"])
	g.type == _group_type
	not startswith(g.address, "data.")
}

_group(cluster) := same_region[0] if {
	name := object.get(cluster.values, "db_cluster_parameter_group_name", null)
	lib.is_literal(name)
	same_region := [g | some g in object.get(_groups_by_name, name, []); g.region == cluster.region]
	count(same_region) > 0
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
		"db_cluster_parameter_group_name %s, so TLS cannot be shown to be forced; expected an aws_rds_cluster_parameter_group of the design in %s with rds.force_ssl = 1 (or require_secure_transport = 1 for MySQL)",
		[_named(name), cluster.region],
	)
}

# The finding names the cluster whose connections may travel unencrypted.
deny contains lib.finding(rego.metadata.chain(), cluster, msg) if {
	some cluster in _clusters
	group := _group(cluster)
	not _forces_tls(group)
	msg := sprintf(
		"db_cluster_parameter_group_name: %s does not force TLS (%s); expected rds.force_ssl = 1 (or require_secure_transport = 1 for MySQL)",
		[_where(group, cluster), _tls_setting(group)],
	)
}

_where(group, cluster) := group.address if group.stack == cluster.stack

_where(group, cluster) := lib.subject(group) if group.stack != cluster.stack

_named(null) := "is not set (the engine's default group, which the design cannot change to force TLS)"

_named(name) := sprintf("%q is not a parameter group of this design in the cluster's region", [name]) if lib.is_literal(name)

_named(name) := sprintf("%s refers to no parameter group of this design", [name]) if lib.is_expression(name)

_named(name) := sprintf("is %v, not a parameter group name", [name]) if {
	name != null
	not is_string(name)
}
