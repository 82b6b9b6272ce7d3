# METADATA
# title: Primary and secondary live in two distinct AWS regions
# description: >-
#   The recovery site must not share the primary's region, or one regional
#   outage takes both. Judged, from the region each resource will be created
#   in (stack provider, provider alias or resource-level region): (1) the
#   Aurora clusters joined to each global cluster (global_cluster_identifier,
#   or the global cluster's source_db_cluster_identifier) span at least two
#   regions; (2) every DynamoDB replica (replica blocks of aws_dynamodb_table,
#   aws_dynamodb_table_replica resources, replicas of a legacy
#   aws_dynamodb_global_table) is in a region other than its table's;
#   (3) for each PRIMARY and SECONDARY Route 53 failover record of the same
#   zone and name, the endpoints they lead to are in different regions. A
#   record's endpoint region is derived from its health check's fqdn (or
#   ip_address), else its alias or records: the region of the resource the
#   expression refers to (also across stacks), else an AWS region name
#   written in a literal host name. Where it cannot be derived the pair is
#   evaluated but not failed. A replica region that is computed cannot be
#   shown distinct and is reported. Not applicable when the design has no
#   global cluster, no replicated table and no failover pair.
# custom:
#   id: DR-HA-04
#   severity: critical
#   controls:
#     nist-800-53: [CP-6, CP-6(1), CP-7, CP-7(1)]
#     soc2: [A1.2]
#     iso-27001: [A.5.30, A.8.14]
#   remediation: >-
#     Create the secondary Aurora cluster, the DynamoDB replica and the
#     SECONDARY record's endpoint with a provider (or region argument) of a
#     second region, different from the primary's.
package dr.rules.dr_ha_04

import data.dr.availability.zones
import data.dr.lib

# --- Aurora global clusters --------------------------------------------------

_globals := lib.resources("aws_rds_global_cluster")

# A cluster joins a global cluster by reference (global_cluster_identifier),
# by the global cluster's literal identifier, or as the global cluster's
# source_db_cluster_identifier. Each reference is resolved once, and the
# clusters are grouped by the subjects of the global clusters they join.
_joined(cluster) := ({lib.subject(t) |
	t := lib.ref_target(cluster.stack, object.get(cluster.values, "global_cluster_identifier", null))
} | {lib.subject(global) |
	id := object.get(cluster.values, "global_cluster_identifier", null)
	zones.literal(id)
	some global in _globals_by_identifier[id]
}) | object.get(_sourced, lib.subject(cluster), set())

_global_identifiers := [[object.get(g.values, "global_cluster_identifier", null), g] | some g in _globals]

_globals_by_identifier := {id: globals |
	some id in {i | some [i, _] in _global_identifiers}
	globals := [g | some [i, g] in _global_identifiers; i == id]
}

# [subject of the cluster a global cluster's source_db_cluster_identifier refers to, global subject].
_sources := [[lib.subject(lib.ref_target(g.stack, object.get(g.values, "source_db_cluster_identifier", null))), lib.subject(g)] |
	some g in _globals
]

_sourced := {cluster: globals |
	some cluster in {c | some [c, _] in _sources}
	globals := {g | some [c, g] in _sources; c == cluster}
}

# [global subject, member cluster], in input order of the clusters.
_memberships := [[global, c] |
	some c in lib.resources("aws_rds_cluster")
	some global in _joined(c)
]

_members_by_global := {global: members |
	some global in {g | some [g, _] in _memberships}
	members := [c | some [g, c] in _memberships; g == global]
}

_members(global) := object.get(_members_by_global, lib.subject(global), [])

_global_problem(global) := msg if {
	members := _members(global)
	regions := {c.region | some c in members; is_string(c.region)}
	count(regions) < 2
	unknown := count([c | some c in members; not is_string(c.region)])
	msg := sprintf(
		"Aurora global cluster %s/%s has %d member cluster(s) in %s%s; expected members in at least two distinct regions",
		[global.stack, global.address, count(members), _regions_text(regions), _unknown_regions(unknown)],
	)
}

deny contains lib.finding(rego.metadata.chain(), global, msg) if {
	some global in _globals
	msg := _global_problem(global)
}

deny contains lib.finding(rego.metadata.chain(), member, msg) if {
	some global in _globals
	msg := _global_problem(global)
	some member in _members(global)
}

evaluated contains lib.subject(global) if some global in _globals

evaluated contains lib.subject(member) if {
	some global in _globals
	some member in _members(global)
}

# --- DynamoDB replicas -------------------------------------------------------

_replicated_tables contains table if {
	some table in lib.resources("aws_dynamodb_table")
	count(lib.block(table, "replica")) > 0
}

evaluated contains lib.subject(table) if some table in _replicated_tables

deny contains lib.finding(rego.metadata.chain(), table, msg) if {
	some table in _replicated_tables
	some replica in lib.block(table, "replica")
	region := object.get(replica, "region_name", null)
	is_string(region)
	region == table.region
	msg := sprintf("replica region_name %s is the table's own region; expected a replica in another region", [region])
}

deny contains lib.finding(rego.metadata.chain(), table, msg) if {
	some table in _replicated_tables
	some replica in lib.block(table, "replica")
	region := object.get(replica, "region_name", null)
	not zones.literal(region)
	msg := sprintf("replica region_name %v is not a literal region, so it cannot be shown to differ from %s", [region, table.region])
}

evaluated contains lib.subject(r) if some r in lib.resources("aws_dynamodb_table_replica")

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some r in lib.resources("aws_dynamodb_table_replica")
	table := lib.ref_target(r.stack, object.get(r.values, "global_table_arn", null))
	is_string(r.region)
	table.region == r.region
	msg := sprintf("replica is created in %s, the region of its table %s; expected another region", [r.region, table.address])
}

evaluated contains lib.subject(r) if some r in lib.resources("aws_dynamodb_global_table")

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some r in lib.resources("aws_dynamodb_global_table")
	regions := {z | some replica in lib.block(r, "replica"); z := object.get(replica, "region_name", null); zones.literal(z)}
	count(regions) < 2
	msg := sprintf("global table replicas are in %s; expected at least two distinct regions", [_regions_text(regions)])
}

# --- Route 53 failover pairs -------------------------------------------------

_failover_type(record) := upper(type) if {
	type := lib.first(lib.block(record, "failover_routing_policy"), {}).type
	is_string(type)
}

# Records answer together when they share a zone, a name and a record type.
_group(record) := [_zone_key(record), _record_name(record), object.get(record.values, "type", "")]

_record_name(record) := lower(trim_suffix(name, ".")) if {
	name := object.get(record.values, "name", "")
	is_string(name)
}

_record_name(record) := object.get(record.values, "name", null) if not is_string(object.get(record.values, "name", null))

_zone_key(record) := lib.subject(lib.ref_target(record.stack, record.values.zone_id))

_zone_key(record) := object.get(record.values, "zone_id", "") if not lib.ref_target(record.stack, object.get(record.values, "zone_id", null))

_records(kind) := [r | some r in lib.resources("aws_route53_record"); _failover_type(r) == kind]

# SECONDARY records by group, built once (indexed: linear).
_secondary_groups := [[_group(r), r] | some r in _records("SECONDARY")]

_secondaries_by_group := {group: records |
	some group in {g | some [g, _] in _secondary_groups}
	records := [r | some [g, r] in _secondary_groups; g == group]
}

_pairs contains [primary, secondary] if {
	some primary in _records("PRIMARY")
	some secondary in _secondaries_by_group[_group(primary)]
}

evaluated contains lib.subject(record) if {
	some pair in _pairs
	some record in pair
}

deny contains lib.finding(rego.metadata.chain(), secondary, msg) if {
	some [primary, secondary] in _pairs
	region := _endpoint_region(secondary)
	region == _endpoint_region(primary)
	msg := sprintf(
		"SECONDARY record leads to an endpoint in %s, the same region as PRIMARY record %s/%s; expected the failover target in another region",
		[region, primary.stack, primary.address],
	)
}

# Where a record's endpoint lives, derived in order: its health check's
# target, its alias, its records. Undefined when none can be derived.
_endpoint_region(record) := regions[0] if {
	regions := [region |
		some [stack, value] in _endpoint_expressions(record)
		region := _expression_region(stack, value)
	]
	count(regions) > 0
}

_endpoint_expressions(record) := array.concat(_check_targets(record), _record_targets(record))

_check_targets(record) := [[check.stack, value] |
	check := lib.ref_target(record.stack, object.get(record.values, "health_check_id", null))
	check.type == "aws_route53_health_check"
	some attribute in ["fqdn", "ip_address"]
	value := object.get(check.values, attribute, null)
	is_string(value)
]

_record_targets(record) := array.concat(
	[[record.stack, alias.name] | some alias in lib.block(record, "alias"); is_string(alias.name)],
	[[record.stack, value] | some value in object.get(record.values, "records", []); is_string(value)],
)

# The resources an expression mentions, in order: local `aws_x.name` references
# and CDKTF remote-state outputs (resolved to the producing stack's resources).
_local_mention := `(?:^|[^.A-Za-z0-9_-])(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)`

_remote_mention := `data\.terraform_remote_state\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)`

_region_name := `\b(?:us|eu|ap|sa|ca|me|af|il|mx|cn)(?:-gov|-iso[a-z]?)?-(?:north|south|east|west|central|northeast|southeast|northwest|southwest)-[0-9]\b`

_mentioned(stack, value) := [r |
	some m in regex.find_all_string_submatch_n(_local_mention, value, -1)
	r := lib.by_key[sprintf("%s|%s.%s", [stack, m[1], m[2]])]
]

_remote_mentioned(stack, value) := [r |
	some m in regex.find_all_string_submatch_n(_remote_mention, value, -1)
	remote := input.remote_outputs[stack][m[1]]
	output := remote.outputs[m[2]]
	is_string(output)
	some r in _mentioned(remote.stack, output)
]

_expression_region(stack, value) := regions[0] if {
	regions := [r.region |
		some r in array.concat(_mentioned(stack, value), _remote_mentioned(stack, value))
		is_string(r.region)
	]
	count(regions) > 0
}

_expression_region(stack, value) := found[0] if {
	not _mentions_region(stack, value)
	found := regex.find_n(_region_name, value, 1)
	count(found) > 0
}

_mentions_region(stack, value) if {
	some r in array.concat(_mentioned(stack, value), _remote_mentioned(stack, value))
	is_string(r.region)
}

# --- message helpers ---------------------------------------------------------

_regions_text(regions) := concat(", ", sort(regions)) if count(regions) > 0

_regions_text(regions) := "no known region" if count(regions) == 0

_unknown_regions(0) := ""

_unknown_regions(n) := sprintf(" (%d in a region that is computed, unknown)", [n]) if n > 0
