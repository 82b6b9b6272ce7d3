# METADATA
# title: Each VPC-attached Lambda function uses subnets in at least two Availability Zones
# description: >-
#   Every Lambda function attached to a VPC (a vpc_config with subnet_ids)
#   lists subnets in at least two distinct Availability Zones, so the
#   function keeps running when one zone fails. Subnet ids are resolved to
#   the aws_subnet resources of the design (in the same stack or through
#   cross-stack references, one entry per instance for aws_subnet.x[*].id).
#   A subnet's zone is read as DR-HA-01 reads it: a literal zone name or id,
#   or an element of an aws_availability_zones data source (distinct indexes
#   are distinct zones, count.index gives each copy its own). A zone computed
#   any other way, or an id that is not a subnet of the design, is unknown
#   and cannot count. Functions outside a VPC are not judged here.
# custom:
#   id: DR-HA-03
#   severity: medium
#   controls:
#     - framework: nist-800-53
#       control: SC-36
#       grade: supports
#       why: Each function attached to a VPC can run in two or more zones.
#     - framework: soc2
#       control: A1.2
#       grade: supports
#       why: The functions keep running when one zone fails.
#     - framework: iso-27001
#       control: A.8.14
#       grade: supports
#       why: The functions have redundant placement within their region.
#   observes:
#     aws_lambda_function: [vpc_config.subnet_ids]
#   remediation: >-
#     List in vpc_config.subnet_ids one private subnet in each of at least two
#     (preferably three) Availability Zones of the function's region.
package dr.rules.dr_ha_03

import data.dr.availability.zones
import data.dr.lib

_minimum := 2

# Functions attached to a VPC: a vpc_config that names subnets.
_attached contains f if {
	some f in lib.resources("aws_lambda_function")
	some config in lib.block(f, "vpc_config")
	_names_subnets(object.get(config, "subnet_ids", []))
}

_names_subnets(ids) if {
	is_array(ids)
	count(ids) > 0
}

_names_subnets(ids) if {
	is_string(ids)
	ids != ""
}

evaluated contains lib.subject(f) if some f in _attached

deny contains lib.finding(rego.metadata.chain(), f, msg) if {
	some f in _attached
	spread := zones.spread(zones.subnet_list(f, ["vpc_config", "subnet_ids"]))
	spread.distinct < _minimum
	msg := sprintf(
		"vpc_config lists subnets in %s; expected subnets in at least %d distinct Availability Zones",
		[zones.describe(spread), _minimum],
	)
}
