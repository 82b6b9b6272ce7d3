# METADATA
# title: Function code built at synth time is reproducible
# description: >-
#   Where the app builds a function's zip at synth time (from a lambda/<name>
#   folder of this repository), building it again gives the same bytes, and
#   those are the bytes synthesized into the stack. Reproducible builds mean
#   the code that is reviewed is the code that is deployed, in both regions,
#   and that rebuilding the recovery region later yields the same function.
#   A prebuilt file (not built by the app) is not judged here.
# custom:
#   id: DR-AST-02
#   severity: medium
#   controls:
#     nist-800-53: [SI-7, SA-10]
#     soc2: [CC8.1]
#     iso-27001: [A.8.32, A.8.25]
#   remediation: >-
#     Build zips with fixed timestamps, permissions and entry order
#     (infrastructure/lambda_package.build_zip), vendor only exact pins, and
#     synthesize again after any change of the function's source.
package dr.rules.dr_ast_02

import data.dr.lib

_built contains [r, b] if {
	some type in ["aws_lambda_function", "aws_lambda_layer_version"]
	some r in lib.resources(type)
	b := data.facts.assets[r.stack][r.address].build
	b != null
}

evaluated contains lib.subject(r) if some [r, _] in _built

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some [r, b] in _built
	object.get(b, "error", null) != null
	msg := sprintf("%s cannot be rebuilt here to show the asset is reproducible: %s", [b.source, b.error])
}

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some [r, b] in _built
	object.get(b, "error", null) == null
	not b.deterministic
	msg := sprintf("building %s twice gives different bytes; expected a reproducible zip (fixed timestamps, permissions and entry order)", [b.source])
}

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some [r, b] in _built
	object.get(b, "error", null) == null
	b.deterministic
	not b.matches_asset
	msg := sprintf("the synthesized asset differs from a fresh build of %s: it is stale or was not built reproducibly; expected the bytes a fresh build gives", [b.source])
}
