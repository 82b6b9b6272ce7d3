package dr.rules.dr_ast_01_test

import data.dr.rules.dr_ast_01

_hash := "sWBajrXmqVlMUl2hL849zPeA6IpCNwxf+s90rVoABmU="

_function(values) := {"stack": "s", "type": "aws_lambda_function", "name": "f", "address": "aws_lambda_function.f", "region": "us-west-2", "values": values}

_fact(overrides) := object.union(
	{
		"filename": "assets/failover/failover.zip", "resolved": true, "absolute": false, "exists": true,
		"machine_specific": null, "sha256_base64": _hash, "hash_file_same": null, "build": null,
	},
	overrides,
)

_deny(values, fact) := result if {
	result := dr_ast_01.deny with input as {"resources": [_function(values)]}
		with data.facts as {"assets": {"s": {"aws_lambda_function.f": fact}}}
}

_messages(result) := {f.message | some f in result}

_asset := {"filename": "assets/failover/failover.zip", "source_code_hash": _hash}

test_asset_with_matching_hash_passes if {
	count(_deny(_asset, _fact({}))) == 0
}

test_filebase64sha256_of_the_same_file_passes if {
	values := {"filename": "${path.module}/failover.zip", "source_code_hash": "${filebase64sha256(\"${path.module}/failover.zip\")}"}
	count(_deny(values, _fact({"hash_file_same": true}))) == 0
}

test_filebase64sha256_of_another_file_fails if {
	values := {"filename": "failover.zip", "source_code_hash": "${filebase64sha256(\"other.zip\")}"}
	some m in _messages(_deny(values, _fact({"hash_file_same": false})))
	contains(m, "hashes another file")
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
	some m in _messages(result)
	contains(m, "source_code_hash \"AAAA\" is not the base64 SHA-256")
}

test_missing_hash_fails if {
	some m in _messages(_deny({"filename": "assets/failover/failover.zip"}, _fact({})))
	contains(m, "source_code_hash is not set")
}

test_other_hash_expression_fails if {
	some m in _messages(_deny(object.union(_asset, {"source_code_hash": "${aws_s3_object.code.etag}"}), _fact({})))
	contains(m, "neither the literal hash nor filebase64sha256()")
}

test_absolute_path_outside_machine_folders_passes if {
	values := {"filename": "/opt/artifacts/failover.zip", "source_code_hash": _hash}
	count(_deny(values, _fact({"filename": "/opt/artifacts/failover.zip", "absolute": true}))) == 0
}

test_absolute_path_into_temp_folder_fails if {
	values := {"filename": "/tmp/dr-lambda-build/failover.zip", "source_code_hash": _hash}
	result := _deny(values, _fact({"filename": "/tmp/dr-lambda-build/failover.zip", "absolute": true, "machine_specific": "a temporary folder"}))
	some m in _messages(result)
	contains(m, "absolute path into a temporary folder of the synth machine")
}

test_absolute_path_that_does_not_exist_fails if {
	values := {"filename": "/opt/artifacts/failover.zip", "source_code_hash": _hash}
	result := _deny(values, _fact({"filename": "/opt/artifacts/failover.zip", "absolute": true, "exists": false, "sha256_base64": null}))
	some m in _messages(result)
	contains(m, "absolute path that does not exist")
}

test_unresolvable_expression_fails if {
	values := {"filename": "${var.zip}", "source_code_hash": _hash}
	some m in _messages(_deny(values, _fact({"filename": "${var.zip}", "resolved": false, "exists": false, "sha256_base64": null})))
	contains(m, "cannot resolve")
}

test_missing_facts_fail if {
	result := dr_ast_01.deny with input as {"resources": [_function(_asset)]} with data.facts as {"assets": {}}
	some m in _messages(result)
	contains(m, "no asset facts")
}

test_functions_without_local_files_are_not_judged if {
	image := _function({"package_type": "Image", "image_uri": "${aws_ecr_repository.r.repository_url}:1"})
	subjects := dr_ast_01.evaluated with input as {"resources": [image]} with data.facts as {"assets": {}}
	count(subjects) == 0
}

test_layers_are_judged_too if {
	layer := {"stack": "s", "type": "aws_lambda_layer_version", "name": "deps", "address": "aws_lambda_layer_version.deps", "region": "us-west-2", "values": {"filename": "assets/deps.zip"}}
	result := dr_ast_01.deny with input as {"resources": [layer]}
		with data.facts as {"assets": {"s": {"aws_lambda_layer_version.deps": _fact({"filename": "assets/deps.zip"})}}}
	some m in _messages(result)
	contains(m, "source_code_hash is not set")
}
