package dr.rules.dr_ast_02_test

import data.dr.rules.dr_ast_02

_function := {"stack": "s", "type": "aws_lambda_function", "name": "f", "address": "aws_lambda_function.f", "region": "us-west-2", "values": {"filename": "assets/f/failover.zip"}}

_evaluate(build) := [deny, evaluated] if {
	facts := {"assets": {"s": {"aws_lambda_function.f": {"build": build}}}}
	deny := dr_ast_02.deny with input as {"resources": [_function]} with data.facts as facts
	evaluated := dr_ast_02.evaluated with input as {"resources": [_function]} with data.facts as facts
}

_build(overrides) := object.union({"source": "lambda/failover", "error": null, "deterministic": true, "matches_asset": true}, overrides)

test_reproducible_asset_passes if {
	[deny, evaluated] := _evaluate(_build({}))
	count(deny) == 0
	evaluated == {"s/aws_lambda_function.f"}
}

test_asset_differing_from_a_fresh_build_fails if {
	[deny, _] := _evaluate(_build({"matches_asset": false}))
	some f in deny
	f.requirement == "DR-AST-02"
	f.address == "aws_lambda_function.f"
	contains(f.message, "differs from a fresh build of lambda/failover")
}

test_non_deterministic_build_fails if {
	[deny, _] := _evaluate(_build({"deterministic": false, "matches_asset": false}))
	count(deny) == 1
	some f in deny
	contains(f.message, "twice gives different bytes")
}

test_build_error_fails if {
	[deny, _] := _evaluate(_build({"error": "pg8000 is not installed", "deterministic": false, "matches_asset": false}))
	count(deny) == 1
	some f in deny
	contains(f.message, "cannot be rebuilt here")
}

test_prebuilt_asset_is_not_applicable if {
	[deny, evaluated] := _evaluate(null)
	count(deny) == 0
	count(evaluated) == 0
}
