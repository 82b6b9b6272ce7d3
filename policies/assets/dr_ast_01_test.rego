package dr.rules.dr_ast_01_test

import data.dr.rules.dr_ast_01

_hash := "sWBajrXmqVlMUl2hL849zPeA6IpCNwxf+s90rVoABmU="

_function(values) := {"stack": "s", "type": "aws_lambda_function", "name": "f", "region": "us-west-2", "values": values}

# Facts as compliance/facts.py computes them for one function.
_fact(overrides) := object.union(
	{
		"filename": "assets/failover/HASH/failover.zip", "resolved": true, "absolute": false, "inside": true,
		"resolved_to": null, "exists": true, "machine_specific": null, "sha256_base64": _hash,
		"hash_form": "literal", "hash_file_same": null, "archive": null,
	},
	overrides,
)

_deny(values, fact) := result if {
	result := dr_ast_01.deny with input as harness.normalise({"resources": [_function(values)]})
		with data.facts as {"assets": {"s": {"aws_lambda_function.f": fact}}}
}

_messages(result) := {f.message | some f in result}

_asset := {"filename": "assets/failover/HASH/failover.zip", "source_code_hash": _hash}

test_asset_with_matching_hash_passes if {
	count(_deny(_asset, _fact({}))) == 0
}

test_filebase64sha256_of_the_same_file_passes if {
	values := {"filename": "${path.module}/failover.zip", "source_code_hash": "${filebase64sha256(\"${path.module}/failover.zip\")}"}
	count(_deny(values, _fact({"hash_form": "file", "hash_file_same": true}))) == 0
}

test_filebase64sha256_of_another_file_fails if {
	values := {"filename": "failover.zip", "source_code_hash": "${filebase64sha256(\"other.zip\")}"}
	result := _deny(values, _fact({"hash_form": "file", "hash_file_same": false}))
	count(result) == 1
	some m in _messages(result)
	contains(m, "hashes another file than filename \"assets/failover/HASH/failover.zip\"")
}

test_missing_file_fails if {
	result := _deny(_asset, _fact({"exists": false, "sha256_base64": null}))
	count(result) == 1
	some f in result
	f.requirement == "DR-AST-01"
	f.address == "aws_lambda_function.f"
	contains(f.message, "resolves to no file from the stack's working directory")
}

test_wrong_hash_fails if {
	result := _deny(object.union(_asset, {"source_code_hash": "AAAA"}), _fact({}))
	_messages(result) == {sprintf("source_code_hash \"AAAA\" is not the base64 SHA-256 of \"assets/failover/HASH/failover.zip\" (%s); expected the base64 SHA-256 of the function's file", [_hash])}
}

test_cdktf_asset_hash_is_not_the_zips_hash if {
	# TerraformAsset.asset_hash is a hex digest of the source, not the zip's base64 SHA-256.
	result := _deny(object.union(_asset, {"source_code_hash": "664974A547876990C8E0ED1A412109D3"}), _fact({}))
	some m in _messages(result)
	contains(m, "source_code_hash \"664974A547876990C8E0ED1A412109D3\" is not the base64 SHA-256")
}

test_missing_hash_fails if {
	result := _deny({"filename": "assets/failover/HASH/failover.zip"}, _fact({"hash_form": null}))
	some m in _messages(result)
	contains(m, "source_code_hash is not set")
}

test_other_hash_expression_fails if {
	result := _deny(object.union(_asset, {"source_code_hash": "${aws_s3_object.code.etag}"}), _fact({"hash_form": "expression"}))
	some m in _messages(result)
	contains(m, "${aws_s3_object.code.etag} is neither the literal hash nor filebase64sha256()")
}

test_absolute_path_inside_the_app_outside_machine_folders_passes if {
	values := {"filename": "/srv/app/dist/failover.zip", "source_code_hash": _hash}
	count(_deny(values, _fact({"filename": "/srv/app/dist/failover.zip", "absolute": true}))) == 0
}

test_path_resolving_outside_the_output_and_the_app_is_reported_not_read if {
	values := {"filename": "/etc/shadow", "source_code_hash": _hash}
	fact := _fact({"filename": "/etc/shadow", "absolute": true, "inside": false, "resolved_to": "/etc/shadow", "exists": false, "sha256_base64": null})
	result := _deny(values, fact)
	count(result) == 1
	some m in _messages(result)
	contains(m, "filename \"/etc/shadow\" resolves to /etc/shadow, outside the synthesized output and the app folder")
}

test_relative_path_escaping_through_a_link_is_reported if {
	values := {"filename": "assets/code/HASH/fn.zip", "source_code_hash": _hash}
	fact := _fact({"filename": "assets/code/HASH/fn.zip", "inside": false, "resolved_to": "/opt/elsewhere/fn.zip", "exists": false, "sha256_base64": null})
	some m in _messages(_deny(values, fact))
	contains(m, "resolves to /opt/elsewhere/fn.zip, outside the synthesized output and the app folder")
}

test_absolute_path_into_temp_folder_is_one_finding if {
	# Missing and machine-specific: one cause (the synth machine's path), one finding.
	values := {"filename": "/tmp/dr-lambda-build/failover.zip", "source_code_hash": _hash}
	fact := _fact({"filename": "/tmp/dr-lambda-build/failover.zip", "absolute": true, "inside": false, "resolved_to": "/tmp/dr-lambda-build/failover.zip", "exists": false, "sha256_base64": null, "machine_specific": "a temporary folder"})
	result := _deny(values, fact)
	count(result) == 1
	some m in _messages(result)
	contains(m, "absolute path into a temporary folder of the synth machine")
}

test_absolute_path_into_the_output_is_machine_specific if {
	values := {"filename": "/work/app/cdktf.out/stacks/s/assets/f.zip", "source_code_hash": _hash}
	result := _deny(values, _fact({"filename": values.filename, "absolute": true, "machine_specific": "the synthesized output folder"}))
	count(result) == 1
	some m in _messages(result)
	contains(m, "absolute path into the synthesized output folder of the synth machine")
}

test_absolute_path_that_does_not_exist_fails if {
	values := {"filename": "/srv/app/dist/failover.zip", "source_code_hash": _hash}
	result := _deny(values, _fact({"filename": "/srv/app/dist/failover.zip", "absolute": true, "exists": false, "sha256_base64": null}))
	some m in _messages(result)
	contains(m, "absolute path that does not exist")
}

test_unresolvable_expression_fails if {
	values := {"filename": "${var.zip}", "source_code_hash": _hash}
	fact := _fact({"filename": "${var.zip}", "resolved": false, "inside": null, "exists": false, "sha256_base64": null})
	result := _deny(values, fact)
	count(result) == 1
	some m in _messages(result)
	contains(m, "filename ${var.zip} is an expression the harness cannot resolve")
}

test_missing_facts_fail if {
	result := dr_ast_01.deny with input as harness.normalise({"resources": [_function(_asset)]}) with data.facts as {"assets": {}}
	some m in _messages(result)
	contains(m, "no asset facts")
}

test_functions_without_local_files_are_not_judged if {
	image := _function({"package_type": "Image", "image_uri": "${aws_ecr_repository.r.repository_url}:1"})
	s3 := {"stack": "s", "type": "aws_lambda_function", "name": "g", "values": {"s3_bucket": "${aws_s3_bucket.code.id}", "s3_key": "g.zip"}}
	subjects := dr_ast_01.evaluated with input as harness.normalise({"resources": [image, s3]}) with data.facts as {"assets": {}}
	count(subjects) == 0
}

test_layers_are_judged_too if {
	layer := {"stack": "s", "type": "aws_lambda_layer_version", "name": "deps", "region": "us-west-2", "values": {"filename": "assets/deps.zip"}}
	result := dr_ast_01.deny with input as harness.normalise({"resources": [layer]})
		with data.facts as {"assets": {"s": {"aws_lambda_layer_version.deps": _fact({"filename": "assets/deps.zip", "hash_form": null})}}}
	some m in _messages(result)
	contains(m, "source_code_hash is not set")
}

test_one_stack_aliased_functions_are_judged_each if {
	# One stack, two regions: the west function through a provider alias, with the wrong hash.
	east := {"stack": "app", "type": "aws_lambda_function", "name": "east", "values": _asset}
	west := {"stack": "app", "type": "aws_lambda_function", "name": "west", "region": "us-west-2", "values": object.union(_asset, {"provider": "aws.west", "source_code_hash": "AAAA"})}
	facts := {"assets": {"app": {"aws_lambda_function.east": _fact({}), "aws_lambda_function.west": _fact({})}}}
	result := dr_ast_01.deny with input as harness.normalise({"resources": [east, west]}) with data.facts as facts
	{[f.stack, f.address] | some f in result} == {["app", "aws_lambda_function.west"]}
}
