# METADATA
# title: Each region's VPC has private subnets in at least three Availability Zones
# description: >-
#   Every VPC the design creates, in every region, has private subnets in at
#   least three distinct Availability Zones, so the loss of one zone leaves
#   the region's database and functions two zones to run in. A subnet belongs
#   to a VPC through its vpc_id reference. It is private unless it sets
#   map_public_ip_on_launch = true or is associated with a route table that
#   routes to an internet gateway. Its zone is the literal availability_zone
#   (or availability_zone_id), or an element of an aws_availability_zones data
#   source (element(data.X.names, N), data.X.names[N] or CDKTF's Fn.element):
#   distinct indexes of one data source are distinct zones, and a subnet with
#   count = N placed at element(data.X.names, count.index) stands for N
#   subnets in N zones. A zone computed any other way cannot be proven
#   distinct, is counted as unknown, and the finding says so.
# custom:
#   id: DR-HA-01
#   severity: high
#   controls:
#     - framework: nist-800-53
#       control: SC-36
#       grade: supports
#       why: Each region's network spans three Availability Zones.
#     - framework: soc2
#       control: A1.2
#       grade: supports
#       why: The recovery infrastructure tolerates the loss of one zone in each region.
#     - framework: iso-27001
#       control: A.8.14
#       grade: supports
#       why: Each region's network is redundant across zones; whether that meets the availability requirements is not judged.
#   observes:
#     aws_subnet: [vpc_id, availability_zone, availability_zone_id, map_public_ip_on_launch, count]
#   remediation: >-
#     Create one private subnet per Availability Zone, in at least three
#     zones of each region, each naming its availability_zone literally and
#     without map_public_ip_on_launch or a route to an internet gateway.
package dr.rules.dr_ha_01

import data.dr.availability.zones
import data.dr.lib

_minimum := 3

_vpcs := lib.resources("aws_vpc")

# The subnets of a VPC: the aws_subnet blocks whose vpc_id refers to it.
_subnets_of(vpc) := [lib.by_key[e.from] |
	some e in lib.referrers(vpc)
	e.names == ["vpc_id"]
	lib.by_key[e.from].type == "aws_subnet"
]

# Keys of route tables that route to an internet gateway.
_internet_tables contains table.key if {
	some table in lib.resources("aws_route_table")
	some i, route in lib.block(table, "route")
	is_object(route)
	_is_internet_gateway(table, ["route", i, "gateway_id"], object.get(route, "gateway_id", null))
}

_internet_tables contains table.key if {
	some route in lib.resources("aws_route")
	_is_internet_gateway(route, ["gateway_id"], object.get(route.values, "gateway_id", null))
	table := lib.ref(route, ["route_table_id"])
}

_is_internet_gateway(r, path, _) if {
	some e in lib.refs(r)
	e.to != null
	lib.same_place(e.path, path)
	lib.by_key[e.to].type == "aws_internet_gateway"
}

_is_internet_gateway(_, _, value) if {
	is_string(value)
	startswith(value, "igw-")
}

# Keys of subnets associated with a route table to the internet.
_routed_public contains subnet.key if {
	some association in lib.resources("aws_route_table_association")
	table := lib.ref(association, ["route_table_id"])
	table.key in _internet_tables
	subnet := lib.ref(association, ["subnet_id"])
}

_public(subnet) if object.get(subnet.values, "map_public_ip_on_launch", false) in {true, "true"}

_public(subnet) if subnet.key in _routed_public

_private_of(vpc) := [s | some s in _subnets_of(vpc); not _public(s)]

evaluated contains lib.subject(vpc) if some vpc in _vpcs

deny contains lib.finding(rego.metadata.chain(), vpc, msg) if {
	some vpc in _vpcs
	private := _private_of(vpc)
	spread := zones.spread(zones.zones_of(private))
	spread.distinct < _minimum
	public_count := count(_subnets_of(vpc)) - count(private)
	msg := sprintf(
		"VPC in %s has %d private subnet(s) in %s%s; expected private subnets in at least %d distinct Availability Zones",
		[vpc.region, count(zones.zones_of(private)), zones.describe(spread), _public_text(public_count), _minimum],
	)
}

_public_text(0) := ""

_public_text(n) := sprintf(" (%d public subnet(s) not counted)", [n]) if n > 0
