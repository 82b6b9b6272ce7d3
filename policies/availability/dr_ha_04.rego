# METADATA
# title: Primary and secondary live in two distinct AWS regions
# description: >-
#   The recovery site must not share the primary's region, or one regional
#   outage takes both. Judged, from the region each resource will be created
#   in (stack provider, provider alias or resource-level region): (1) the
#   Aurora clusters joined to each global cluster (global_cluster_identifier,
#   by reference or the global cluster's literal identifier, or the global
#   cluster's source_db_cluster_identifier) span at least two regions; the
#   finding names the secondary members (those that are not the source
#   cluster and set no master credentials, which only a primary may), or the
#   global cluster itself when no member can be told to be the primary or
#   none is a secondary; (2) every
#   DynamoDB replica (replica blocks of aws_dynamodb_table,
#   aws_dynamodb_table_replica resources, replicas of a legacy
#   aws_dynamodb_global_table) is in a region other than its table's; a
#   replica's region_name is a literal or a reference to an aws_region data
#   source (whose region is its provider's); (3) for each PRIMARY and
#   SECONDARY Route 53 failover record of the same zone, name and type, the
#   endpoints they lead to are in different regions. A record's endpoint
#   region is derived from its health check's fqdn (or ip_address), else its
#   alias or records: the region of the block the expression refers to (also
#   across stacks), else an AWS region name written in a literal host name.
#   Where it cannot be derived the pair is evaluated but not failed. A region
#   that is computed cannot be shown distinct and is reported; a region
#   written as a variable with a literal default is that default (what
#   Terraform plans without a variables file). Not applicable
#   when the design has no global cluster, no replicated table and no
#   failover pair.
# custom:
#   id: DR-HA-04
#   severity: critical
#   controls:
#     - framework: nist-800-53
#       control: CP-6(1)
#       grade: satisfies
#       why: The secondary database and the table replica are in another region than the primary.
#     - framework: nist-800-53
#       control: CP-7(1)
#       grade: satisfies
#       why: The failover target serves from another region than the primary.
#     - framework: nist-800-53
#       control: CP-6
#       grade: supports
#       why: A second region holds a copy of the data; the agreements an alternate storage site needs are outside the configuration.
#     - framework: nist-800-53
#       control: CP-7
#       grade: supports
#       why: A second region can take over processing; its readiness is shown by the drills, not here.
#     - framework: soc2
#       control: A1.2
#       grade: supports
#       why: The recovery infrastructure is in a second region.
#     - framework: iso-27001
#       control: A.8.14
#       grade: supports
#       why: Processing and data are redundant across two regions.
#   observes:
#     aws_rds_cluster: [region, global_cluster_identifier]
#     aws_rds_global_cluster: [region, source_db_cluster_identifier]
#     aws_dynamodb_table: [region, replica.region_name]
#     aws_route53_health_check: [fqdn]
#   remediation: >-
#     Create the secondary Aurora cluster, the DynamoDB replica and the
#     SECONDARY record's endpoint with a provider (or region argument) of a
#     second region, different from the primary's.
package dr.rules.dr_ha_04

import data.dr.lib
import data.dr.references.topology

# --- Aurora global clusters --------------------------------------------------

_globals := lib.resources("aws_rds_global_cluster")

# A cluster joins a global cluster by reference (global_cluster_identifier),
# by the global cluster's literal identifier, or as the global cluster's
# source_db_cluster_identifier: the keys of the global clusters it joins.
_joined(cluster) := ({e.to |
	some e in lib.edges(cluster, ["global_cluster_identifier"])
	e.to != null
	lib.by_key[e.to].type == "aws_rds_global_cluster"
} | _named_globals(cluster)) | _sourcing(cluster)

_named_globals(cluster) := keys if {
	keys := _globals_by_identifier[object.get(cluster.values, "global_cluster_identifier", null)]
} else := set()

_global_names := [[id, g.key] |
	some g in _globals
	id := object.get(g.values, "global_cluster_identifier", null)
	lib.is_literal(id)
]

_globals_by_identifier := {id: keys |
	some [id, _] in _global_names
	keys := {k | some [i, k] in _global_names; i == id}
}

# The global clusters created from this cluster (their source).
_sourcing(cluster) := {e.from |
	some e in lib.referrers(cluster)
	e.names == ["source_db_cluster_identifier"]
	lib.by_key[e.from].type == "aws_rds_global_cluster"
}

_memberships := [[global, c] |
	some c in lib.resources("aws_rds_cluster")
	some global in _joined(c)
]

_members_by_global := {global: members |
	some global in {g | some [g, _] in _memberships}
	members := [c | some [g, c] in _memberships; g == global]
}

_members(global) := object.get(_members_by_global, global.key, [])

# The secondaries: the members besides a recognisable primary (none when
# no member can be told to be the primary).
_secondaries(global) := [m | some m in _members(global); not topology.primary_like(m)] if {
	some m in _members(global)
	topology.primary_like(m)
} else := []

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

deny contains lib.finding(rego.metadata.chain(), member, msg) if {
	some global in _globals
	msg := _global_problem(global)
	some member in _secondaries(global)
}

# No secondary to name (a single member, or no way to tell): the global cluster.
deny contains lib.finding(rego.metadata.chain(), global, msg) if {
	some global in _globals
	msg := _global_problem(global)
	count(_secondaries(global)) == 0
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

# The region of a replica block: a literal region_name, the region of the
# aws_region data source it refers to, or a variable's literal default.
# Undefined when computed otherwise.
_replica_region(table, _, i) := lib.region_at(table, ["replica", i, "region_name"])

evaluated contains lib.subject(table) if some table in _replicated_tables

deny contains lib.finding(rego.metadata.chain(), table, msg) if {
	some table in _replicated_tables
	some i, replica in lib.block(table, "replica")
	region := _replica_region(table, replica, i)
	region == table.region
	msg := sprintf("replica region_name %s is the table's own region; expected a replica in another region", [_replica_text(table, replica, i)])
}

deny contains lib.finding(rego.metadata.chain(), table, msg) if {
	some table in _replicated_tables
	some i, replica in lib.block(table, "replica")
	not _replica_region(table, replica, i)
	msg := sprintf("replica region_name %v is neither a literal region, an aws_region data source nor a variable with a default, so it cannot be shown to differ from %s", [object.get(replica, "region_name", null), _region_text(table.region)])
}

_replica_text(_, replica, _) := replica.region_name if lib.is_literal(replica.region_name)

_replica_text(table, replica, i) := sprintf("%s (%s)", [replica.region_name, _replica_region(table, replica, i)]) if lib.is_expression(replica.region_name)

evaluated contains lib.subject(r) if some r in lib.resources("aws_dynamodb_table_replica")

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some r in lib.resources("aws_dynamodb_table_replica")
	table := lib.ref(r, ["global_table_arn"])
	is_string(r.region)
	table.region == r.region
	msg := sprintf("replica is created in %s, the region of its table %s/%s; expected another region", [r.region, table.stack, table.address])
}

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some r in lib.resources("aws_dynamodb_table_replica")
	not is_string(r.region)
	msg := "the replica's provider region is computed, so it cannot be shown to differ from its table's region"
}

evaluated contains lib.subject(r) if some r in lib.resources("aws_dynamodb_global_table")

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some r in lib.resources("aws_dynamodb_global_table")
	regions := {z | some i, _ in lib.block(r, "replica"); z := lib.region_at(r, ["replica", i, "region_name"])}
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

_zone_key(record) := lib.ref(record, ["zone_id"]).key

_zone_key(record) := object.get(record.values, "zone_id", "") if not lib.ref(record, ["zone_id"])

_records(kind) := [r | some r in lib.resources("aws_route53_record"); _failover_type(r) == kind]

# SECONDARY records by group, grouped once (indexed: linear).
_secondary_groups := [[_group(r), r] | some r in _records("SECONDARY")]

_secondaries_by_group := {group: records |
	some [group, _] in _secondary_groups
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

# Where a record's endpoint lives, derived in order from its health check's
# target, its alias, its records. Undefined when none can be derived.
_endpoint_region(record) := regions[0] if {
	regions := [region |
		some [block, names] in _endpoint_places(record)
		region := _place_region(block, names)
	]
	count(regions) > 0
}

_endpoint_places(record) := array.concat(
	[[check, names] |
		check := lib.ref(record, ["health_check_id"])
		check.type == "aws_route53_health_check"
		some names in [["fqdn"], ["ip_address"]]
	],
	[[record, ["alias", "name"]], [record, ["records"]]],
)

# The region of the first block the expression at `names` refers to, else
# the region named in its literal host text.
_place_region(block, names) := regions[0] if {
	regions := [lib.by_key[e.to].region |
		some e in lib.edges(block, names)
		e.to != null
		is_string(lib.by_key[e.to].region)
	]
	count(regions) > 0
} else := regions[0] if {
	regions := [h.region |
		some h in object.get(input.hosts, block.key, [])
		h.names == names
		h.region != null
	]
	count(regions) > 0
}

# --- message helpers ---------------------------------------------------------

_regions_text(regions) := concat(", ", sort(regions)) if count(regions) > 0

_regions_text(regions) := "no known region" if count(regions) == 0

_region_text(region) := region if is_string(region)

_region_text(region) := "the table's computed region" if not is_string(region)

_unknown_regions(0) := ""

_unknown_regions(n) := sprintf(" (%d in a region that is computed, unknown)", [n]) if n > 0
