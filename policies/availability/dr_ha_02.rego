# METADATA
# title: Each Aurora cluster has two or more instances and a subnet group across three zones
# description: >-
#   Every Aurora cluster, primary and secondary, has at least two instances
#   (aws_rds_cluster_instance whose cluster_identifier refers to it; a
#   numeric `count` counts its copies), so a reader can take over from a
#   failed writer inside the region. Its DB subnet group (db_subnet_group_name,
#   resolved to the aws_db_subnet_group and its subnet ids to aws_subnet
#   resources) spans at least three distinct Availability Zones; a computed
#   zone or a subnet that is not a resource of the design is unknown and
#   cannot count. Where every instance names its availability_zone, the
#   instances are in at least two different zones. A Multi-AZ DB cluster
#   (db_cluster_instance_class set) has its three instances placed by RDS
#   and is judged on its subnet group only.
# custom:
#   id: DR-HA-02
#   severity: high
#   controls:
#     nist-800-53: [SC-36, CP-10]
#     soc2: [A1.2]
#     iso-27001: [A.8.14]
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

# An instance belongs to a cluster by reference, or by the cluster's literal
# identifier in its region: the subjects of the clusters each instance
# belongs to, each reference resolved once.
_owners(instance) := {lib.subject(t) |
	t := lib.ref_target(instance.stack, object.get(instance.values, "cluster_identifier", null))
} | {lib.subject(cluster) |
	id := object.get(instance.values, "cluster_identifier", null)
	zones.literal(id)
	some cluster in _clusters_by_identifier[[id, instance.region]]
}

# Clusters by [literal cluster_identifier, region], built once.
_cluster_identifiers := [[[object.get(c.values, "cluster_identifier", null), c.region], c] | some c in _clusters]

_clusters_by_identifier := {key: clusters |
	some key in {k | some [k, _] in _cluster_identifiers}
	clusters := [c | some [k, c] in _cluster_identifiers; k == key]
}

# [cluster subject, instance], in input order of the instances.
_instance_owners := [[owner, i] |
	some i in lib.resources("aws_rds_cluster_instance")
	some owner in _owners(i)
]

# Instances grouped by cluster subject, built once (indexed: linear).
_instances_by_cluster := {cluster: instances |
	some cluster in {c | some [c, _] in _instance_owners}
	instances := [i | some [c, i] in _instance_owners; c == cluster]
}

_instances_of(cluster) := object.get(_instances_by_cluster, lib.subject(cluster), [])

# How many instances a resource block creates: its numeric count, else one.
_copies(instance) := n if {
	n := object.get(instance.values, "count", 1)
	is_number(n)
}

_copies(instance) := 1 if not is_number(object.get(instance.values, "count", 1))

_instance_count(cluster) := sum([_copies(i) | some i in _instances_of(cluster)])

# The subnet group a cluster names: by reference, or by its literal name in the cluster's region.
_subnet_group(cluster) := g if {
	g := lib.ref_target(cluster.stack, object.get(cluster.values, "db_subnet_group_name", null))
	g.type == "aws_db_subnet_group"
}

_subnet_group(cluster) := g if {
	name := object.get(cluster.values, "db_subnet_group_name", null)
	zones.literal(name)
	some g in _subnet_groups_by_name[[name, cluster.region]]
}

# Subnet groups by [name, region], built once (indexed: linear).
_subnet_group_names := [[[object.get(g.values, "name", null), g.region], g] | some g in lib.resources("aws_db_subnet_group")]

_subnet_groups_by_name := {key: groups |
	some key in {k | some [k, _] in _subnet_group_names}
	groups := [g | some [k, g] in _subnet_group_names; k == key]
}

evaluated contains lib.subject(cluster) if some cluster in _clusters

# A Multi-AZ DB cluster (non-Aurora, db_cluster_instance_class set) gets its
# writer and two readers in three zones from RDS itself: no instance resources.
_has_own_instances(cluster) if object.get(cluster.values, "db_cluster_instance_class", null) == null

deny contains lib.finding(rego.metadata.chain(), cluster, msg) if {
	some cluster in _clusters
	_has_own_instances(cluster)
	n := _instance_count(cluster)
	n < _minimum_instances
	msg := sprintf(
		"cluster has %d instance(s) (aws_rds_cluster_instance referring to it); expected at least %d so a reader can take over in the region",
		[n, _minimum_instances],
	)
}

deny contains lib.finding(rego.metadata.chain(), cluster, msg) if {
	some cluster in _clusters
	not _subnet_group(cluster)
	name := object.get(cluster.values, "db_subnet_group_name", null)
	msg := sprintf(
		"db_subnet_group_name %s, so its Availability Zones cannot be shown; expected an aws_db_subnet_group of the design spanning at least %d zones",
		[_shown(name), _minimum_zones],
	)
}

deny contains lib.finding(rego.metadata.chain(), group, msg) if {
	some cluster in _clusters
	group := _subnet_group(cluster)
	spread := zones.spread(zones.subnets(group.stack, object.get(group.values, "subnet_ids", [])))
	spread.distinct < _minimum_zones
	msg := sprintf(
		"subnet group of cluster %s spans %s; expected at least %d distinct Availability Zones",
		[cluster.address, zones.describe(spread), _minimum_zones],
	)
}

deny contains lib.finding(rego.metadata.chain(), cluster, msg) if {
	some cluster in _clusters
	instances := _instances_of(cluster)
	_instance_count(cluster) >= 2
	named := {z | some i in instances; z := object.get(i.values, "availability_zone", null); zones.literal(z)}
	every i in instances {
		zones.literal(object.get(i.values, "availability_zone", null))
	}
	count(named) < 2
	msg := sprintf(
		"all %d instances are placed in %s; expected instances in at least two different Availability Zones",
		[_instance_count(cluster), concat(", ", named)],
	)
}

_shown(null) := "is not set (the default subnet group)"

_shown(name) := sprintf("%v does not name an aws_db_subnet_group of this design", [name]) if name != null
