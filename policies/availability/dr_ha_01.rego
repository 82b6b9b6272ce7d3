# METADATA
# title: Each region's VPC has private subnets in at least three Availability Zones
# description: >-
#   Every VPC the design creates, in every region, has private subnets in at
#   least three distinct Availability Zones, so the loss of one zone leaves
#   the region's database and functions two zones to run in. A subnet
#   belongs to a VPC through its vpc_id reference. It is private unless it
#   sets map_public_ip_on_launch = true or is associated with a route table
#   that routes to an internet gateway. Its zone is the literal
#   availability_zone (or availability_zone_id); a zone computed by an
#   expression cannot be proven distinct, is counted as unknown, and the
#   finding says so.
# custom:
#   id: DR-HA-01
#   severity: high
#   controls:
#     nist-800-53: [SC-36, CP-10]
#     soc2: [A1.2]
#     iso-27001: [A.8.14]
#   remediation: >-
#     Create one private subnet per Availability Zone, in at least three
#     zones of each region, each naming its availability_zone literally and
#     without map_public_ip_on_launch or a route to an internet gateway.
package dr.rules.dr_ha_01

import data.dr.availability.zones
import data.dr.lib

_minimum := 3

_vpcs := lib.resources("aws_vpc")

# [subject of the VPC its vpc_id refers to, subnet]: each reference resolved once.
_subnet_vpcs := [[lib.subject(lib.ref_target(s.stack, object.get(s.values, "vpc_id", null))), s] |
	some s in lib.resources("aws_subnet")
]

# Subnets grouped by VPC subject, in input order, built once. The inner
# comprehension closes over `vpc` in an equality, so OPA indexes it: linear.
_subnets_by_vpc := {vpc: subnets |
	some vpc in {v | some [v, _] in _subnet_vpcs}
	subnets := [s | some [v, s] in _subnet_vpcs; v == vpc]
}

# The subnets of a VPC.
_subnets_of(vpc) := object.get(_subnets_by_vpc, lib.subject(vpc), [])

# Subjects of route tables that route to an internet gateway.
_internet_tables contains lib.subject(table) if {
	some table in lib.resources("aws_route_table")
	some route in lib.block(table, "route")
	is_object(route)
	_is_internet_gateway(table.stack, object.get(route, "gateway_id", null))
}

_internet_tables contains lib.subject(table) if {
	some route in lib.resources("aws_route")
	_is_internet_gateway(route.stack, object.get(route.values, "gateway_id", null))
	table := lib.ref_target(route.stack, object.get(route.values, "route_table_id", null))
}

_is_internet_gateway(stack, value) if lib.ref_target(stack, value).type == "aws_internet_gateway"

_is_internet_gateway(_, value) if {
	is_string(value)
	startswith(value, "igw-")
}

# Subjects of subnets associated with a route table to the internet.
_routed_public contains lib.subject(subnet) if {
	some association in lib.resources("aws_route_table_association")
	table := lib.ref_target(association.stack, object.get(association.values, "route_table_id", null))
	lib.subject(table) in _internet_tables
	subnet := lib.ref_target(association.stack, object.get(association.values, "subnet_id", null))
}

_public(subnet) if object.get(subnet.values, "map_public_ip_on_launch", false) in {true, "true"}

_public(subnet) if lib.subject(subnet) in _routed_public

_private_of(vpc) := [s | some s in _subnets_of(vpc); not _public(s)]

evaluated contains lib.subject(vpc) if some vpc in _vpcs

deny contains lib.finding(rego.metadata.chain(), vpc, msg) if {
	some vpc in _vpcs
	private := _private_of(vpc)
	spread := zones.spread(private)
	spread.distinct < _minimum
	public_count := count(_subnets_of(vpc)) - count(private)
	msg := sprintf(
		"VPC in %s has %d private subnet(s) in %s%s; expected private subnets in at least %d distinct Availability Zones",
		[vpc.region, count(private), zones.describe(spread), _public_text(public_count), _minimum],
	)
}

_public_text(0) := ""

_public_text(n) := sprintf(" (%d public subnet(s) not counted)", [n]) if n > 0
