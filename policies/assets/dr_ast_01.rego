# METADATA
# title: Function code resolves anywhere and its hash pins the exact bytes
# description: >-
#   Every Lambda function (and layer) deployed from a local file names a file
#   that exists wherever the stacks are deployed from: a path relative to the
#   stack's working directory, where Terraform runs (as CDKTF writes its
#   assets), or an absolute path that exists and does not point into a
#   temporary or home folder of the machine that ran synth. Its
#   source_code_hash is set and is the base64 SHA-256 of that very file (the
#   literal hash, or filebase64sha256() of the same path). Otherwise the
#   recovery region is rebuilt from code that is missing, or that differs
#   from what was reviewed, and a change of code may never be deployed.
# custom:
#   id: DR-AST-01
#   severity: high
#   controls:
#     nist-800-53: [SI-7, SA-10]
#     soc2: [CC8.1]
#     iso-27001: [A.8.32, A.8.25]
#   remediation: >-
#     Hand the built zip to CDKTF as a TerraformAsset and pass asset.path as
#     filename; set source_code_hash to the base64 SHA-256 of the same bytes
#     (or filebase64sha256() of the same path).
package dr.rules.dr_ast_01

import data.dr.lib

_code_from_files := [r |
	some type in ["aws_lambda_function", "aws_lambda_layer_version"]
	some r in lib.resources(type)
	object.get(r.values, "filename", null) != null
]

_fact(r) := data.facts.assets[r.stack][r.address]

_hash(r) := object.get(r.values, "source_code_hash", null)

_file_hash := `^\$\{filebase64sha256\(.*\)\}$`

evaluated contains lib.subject(r) if some r in _code_from_files

# Where the file is.
_location_problems contains [r, "no asset facts were computed for it"] if {
	some r in _code_from_files
	not _fact(r)
}

_location_problems contains [r, sprintf("filename %v is an expression the harness cannot resolve to a file", [f.filename])] if {
	some r in _code_from_files
	f := _fact(r)
	not f.resolved
}

_location_problems contains [r, sprintf("filename %q resolves to no file from the stack's working directory, where Terraform runs", [f.filename])] if {
	some r in _code_from_files
	f := _fact(r)
	f.resolved
	not f.absolute
	not f.exists
}

_location_problems contains [r, sprintf("filename %q is an absolute path that does not exist", [f.filename])] if {
	some r in _code_from_files
	f := _fact(r)
	f.absolute
	not f.exists
}

_location_problems contains [r, sprintf("filename %q is an absolute path into %s of the synth machine: it resolves on that machine only", [f.filename, f.machine_specific])] if {
	some r in _code_from_files
	f := _fact(r)
	f.absolute
	f.machine_specific != null
}

# What the hash pins.
_hash_problems contains [r, "source_code_hash is not set: the deployed code is not pinned to the file's bytes and a code change may never be deployed"] if {
	some r in _code_from_files
	_hash(r) == null
}

_hash_problems contains [r, sprintf("source_code_hash %q is not the base64 SHA-256 of %q (%s)", [h, f.filename, f.sha256_base64])] if {
	some r in _code_from_files
	h := _hash(r)
	not lib.is_expression(h)
	f := _fact(r)
	f.exists
	h != f.sha256_base64
}

_hash_problems contains [r, sprintf("source_code_hash %s hashes another file than filename %q", [h, f.filename])] if {
	some r in _code_from_files
	h := _hash(r)
	is_string(h)
	regex.match(_file_hash, h)
	f := _fact(r)
	f.hash_file_same == false
}

_hash_problems contains [r, sprintf("source_code_hash %s is neither the literal hash nor filebase64sha256() of filename", [h])] if {
	some r in _code_from_files
	h := _hash(r)
	lib.is_expression(h)
	not regex.match(_file_hash, h)
}

deny contains lib.finding(rego.metadata.chain(), r, sprintf("%s; expected a path relative to the stack's working directory (a CDKTF asset) or an absolute path that exists outside temporary and home folders", [problem])) if {
	some [r, problem] in _location_problems
}

deny contains lib.finding(rego.metadata.chain(), r, sprintf("%s; expected the base64 SHA-256 of the function's file", [problem])) if {
	some [r, problem] in _hash_problems
}
