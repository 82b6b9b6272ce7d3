# METADATA
# title: Each Aurora cluster has two or more instances and a subnet group across three zones
# description: >-
#   Every Aurora cluster, primary and secondary, has at least two instances
#   (aws_rds_cluster_instance whose cluster_identifier refers to it, or names
#   its literal identifier in the same region; a numeric `count` counts its
#   copies, a computed count cannot be shown to add any), so a reader can take
#   over from a failed writer inside the region. Its DB subnet group
#   (db_subnet_group_name, by reference or by the group's literal name in the
#   cluster's region) has subnets in at least three distinct Availability
#   Zones, read as DR-HA-01 reads them: a literal zone name or id, or an
#   element of an aws_availability_zones data source (distinct indexes are
#   distinct zones, count.index gives each copy its own). A zone computed any
#   other way, or a subnet that is not a resource of the design, is unknown
#   and cannot count. Where every instance names its availability_zone (in a
#   way that can be compared), the instances are in at least two different
#   zones. A Multi-AZ DB cluster (db_cluster_instance_class set) has its three
#   instances placed by RDS and is judged on its subnet group only.
# custom:
#   id: DR-HA-02
#   severity: high
#   controls:
#     - framework: nist-800-53
#       control: SC-36
#       grade: supports
#       why: Each database runs two or more instances in a subnet group across three zones.
#     - framework: soc2
#       control: A1.2
#       grade: supports
#       why: A database survives the loss of its writer or of one zone within its region.
#     - framework: iso-27001
#       control: A.8.14
#       grade: supports
#       why: Each database has redundant instances within its region.
#   observes:
#     aws_rds_cluster: [db_subnet_group_name, db_cluster_instance_class]
#     aws_rds_cluster_instance: [cluster_identifier, availability_zone, count]
#     aws_db_subnet_group: [subnet_ids]
#   remediation: >-
#     Give each aws_rds_cluster at least two aws_rds_cluster_instance
#     resources in different availability_zone values, and a db_subnet_group_name
#     referring to an aws_db_subnet_group whose subnets are in three zones.
package dr.rules.dr_ha_02

import data.dr.availability.zones
import data.dr.lib

_minimum_instances := 2

_minimum_zones := 3

_clusters := lib.resources("aws_rds_cluster")

# --- instances ------------------------------------------------------------------

# Keys of the clusters an instance's cluster_identifier refers to.
_owner_keys(instance) := {e.to |
	some e in lib.edges(instance, ["cluster_identifier"])
	e.to != null
	lib.by_key[e.to].type == "aws_rds_cluster"
}

# An instance may name its cluster by the cluster's literal identifier, in its
# region: cluster keys by [identifier, region], grouped once (the inner
# comprehension closes over `name` in an equality, so OPA indexes it: linear).
_cluster_names := [[[id, c.region], c.key] |
	some c in _clusters
	id := object.get(c.values, "cluster_identifier", null)
	lib.is_literal(id)
]

_clusters_by_identifier := {name: keys |
	some [name, _] in _cluster_names
	keys := {k | some [n, k] in _cluster_names; n == name}
}

_owners(instance) := _owner_keys(instance) | _named_clusters(instance)

_named_clusters(instance) := keys if {
	keys := _clusters_by_identifier[[object.get(instance.values, "cluster_identifier", null), instance.region]]
} else := set()

# [cluster key, instance], built once.
_memberships := [[owner, i] |
	some i in lib.resources("aws_rds_cluster_instance")
	some owner in _owners(i)
]

_instances_by_cluster := {cluster: instances |
	some cluster in {c | some [c, _] in _memberships}
	instances := [i | some [c, i] in _memberships; c == cluster]
}

_instances_of(cluster) := object.get(_instances_by_cluster, cluster.key, [])

# Instances the model can count (a literal count, or one without count) and
# those whose count only apply time knows.
_counted(cluster) := sum([i.count | some i in _instances_of(cluster); i.count != null])

_computed(cluster) := count([i | some i in _instances_of(cluster); i.count == null])

# A Multi-AZ DB cluster (non-Aurora, db_cluster_instance_class set) gets its
# writer and two readers in three zones from RDS itself: no instance resources.
_has_own_instances(cluster) if object.get(cluster.values, "db_cluster_instance_class", null) == null

# --- subnet group -----------------------------------------------------------------

_subnet_group(cluster) := g if {
	g := lib.ref(cluster, ["db_subnet_group_name"])
	g.type == "aws_db_subnet_group"
}

_subnet_group(cluster) := g if {
	name := object.get(cluster.values, "db_subnet_group_name", null)
	lib.is_literal(name)
	[g] := _subnet_groups_by_name[[name, cluster.region]] # unique in a region, as AWS requires
}

# Subnet groups by [literal name, region], grouped once (indexed: linear).
_group_names := [[[name, g.region], g] |
	some g in lib.resources("aws_db_subnet_group")
	name := object.get(g.values, "name", null)
	lib.is_literal(name)
]

_subnet_groups_by_name := {name: groups |
	some [name, _] in _group_names
	groups := [g | some [n, g] in _group_names; n == name]
}

evaluated contains lib.subject(cluster) if some cluster in _clusters

deny contains lib.finding(rego.metadata.chain(), cluster, msg) if {
	some cluster in _clusters
	_has_own_instances(cluster)
	n := _counted(cluster)
	n < _minimum_instances
	msg := sprintf(
		"cluster has %d instance(s) (aws_rds_cluster_instance referring to it)%s; expected at least %d so a reader can take over in the region",
		[n, _computed_text(_computed(cluster)), _minimum_instances],
	)
}

deny contains lib.finding(rego.metadata.chain(), cluster, msg) if {
	some cluster in _clusters
	not _subnet_group(cluster)
	msg := sprintf(
		"db_subnet_group_name %s, so its Availability Zones cannot be shown; expected an aws_db_subnet_group of the design spanning at least %d zones",
		[_shown(object.get(cluster.values, "db_subnet_group_name", null)), _minimum_zones],
	)
}

deny contains lib.finding(rego.metadata.chain(), cluster, msg) if {
	some cluster in _clusters
	group := _subnet_group(cluster)
	spread := zones.spread(zones.subnet_list(group, ["subnet_ids"]))
	spread.distinct < _minimum_zones
	msg := sprintf(
		"subnet group %s/%s spans %s; expected subnets in at least %d distinct Availability Zones",
		[group.stack, group.address, zones.describe(spread), _minimum_zones],
	)
}

# Instances are judged for zones only where each copy has a zone that can be
# compared with the others (one namespace).
deny contains lib.finding(rego.metadata.chain(), cluster, msg) if {
	some cluster in _clusters
	_has_own_instances(cluster)
	placed := zones.zones_of(_instances_of(cluster))
	count(placed) >= _minimum_instances
	spread := zones.spread(placed)
	spread.unknown == 0
	not spread.mixed
	spread.distinct < 2
	msg := sprintf(
		"all %d instances are placed in %s; expected instances in at least two different Availability Zones",
		[count(placed), concat(", ", spread.zones)],
	)
}

_computed_text(0) := ""

_computed_text(n) := sprintf(" and %d instance resource(s) with a computed count, which cannot be shown to add any", [n]) if n > 0

_shown(null) := "is not set (the default subnet group)"

_shown(name) := sprintf("%v does not name an aws_db_subnet_group of this design", [name]) if name != null
