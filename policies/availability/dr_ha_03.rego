# METADATA
# title: Each VPC-attached Lambda function uses subnets in at least two Availability Zones
# description: >-
#   Every Lambda function attached to a VPC (a vpc_config with subnet_ids)
#   lists subnets in at least two distinct Availability Zones, so the
#   function keeps running when one zone fails. Subnet ids are resolved to
#   the aws_subnet resources of the design (in the same stack or through
#   cross-stack references); a computed zone, or an id that is not a subnet
#   of the design, is unknown and cannot count. Functions outside a VPC are
#   not judged here.
# custom:
#   id: DR-HA-03
#   severity: medium
#   controls:
#     nist-800-53: [SC-36, CP-10]
#     soc2: [A1.2]
#     iso-27001: [A.8.14]
#   remediation: >-
#     List in vpc_config.subnet_ids one private subnet in each of at least two
#     (preferably three) Availability Zones of the function's region.
package dr.rules.dr_ha_03

import data.dr.availability.zones
import data.dr.lib

_minimum := 2

# [function, subnet ids] for every function with a VPC configuration naming subnets.
_attached contains [f, ids] if {
	some f in lib.resources("aws_lambda_function")
	some config in lib.block(f, "vpc_config")
	ids := object.get(config, "subnet_ids", [])
	_names_subnets(ids)
}

_names_subnets(ids) if {
	is_array(ids)
	count(ids) > 0
}

_names_subnets(ids) if {
	is_string(ids)
	ids != ""
}

evaluated contains lib.subject(f) if some [f, _] in _attached

deny contains lib.finding(rego.metadata.chain(), f, msg) if {
	some [f, ids] in _attached
	spread := zones.spread(zones.subnets(f.stack, ids))
	spread.distinct < _minimum
	msg := sprintf(
		"vpc_config lists subnets in %s; expected subnets in at least %d distinct Availability Zones",
		[zones.describe(spread), _minimum],
	)
}
