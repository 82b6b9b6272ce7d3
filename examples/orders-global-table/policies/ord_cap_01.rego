# METADATA
# title: The orders tables bill per request, so the surviving region takes the failover load
# description: >-
#   When Route 53 moves the orders traffic to the other region, that region's
#   replica suddenly serves every read and write. A table with provisioned
#   capacity sized for its normal share throttles exactly then; on-demand
#   (PAY_PER_REQUEST) billing absorbs the surge. This team's own requirement,
#   added beside the harness's policies through [tool.dr-compliance] policies.
# custom:
#   id: ORD-CAP-01
#   severity: medium
#   controls:
#     - framework: soc2
#       control: A1.1
#       grade: supports
#       why: Capacity in the recovery region is available when the load moves there.
#   observes:
#     aws_dynamodb_table: [billing_mode]
#   remediation: >-
#     Set billing_mode = "PAY_PER_REQUEST" on the table (its replicas follow it).
package dr.rules.ord_cap_01

import data.dr.lib

evaluated contains lib.subject(t) if some t in lib.resources("aws_dynamodb_table")

deny contains lib.finding(rego.metadata.chain(), t, msg) if {
	some t in lib.resources("aws_dynamodb_table")
	mode := object.get(t.values, "billing_mode", "PROVISIONED")
	mode != "PAY_PER_REQUEST"
	msg := sprintf("billing_mode is %v: the surviving region throttles when the failover load arrives; expected PAY_PER_REQUEST", [mode])
}
