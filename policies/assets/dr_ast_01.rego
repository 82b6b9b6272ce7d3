# METADATA
# title: Function code resolves anywhere and its hash pins the exact bytes
# description: >-
#   Every Lambda function (and layer) deployed from a local file names a file
#   that exists wherever the stacks are deployed from: a path relative to the
#   stack's working directory, where Terraform runs (as CDKTF writes its
#   assets), or an absolute path that exists and does not point into a
#   temporary or home folder of the machine that ran synth. The file lies
#   inside the synthesized output or the app folder: the harness reads
#   nothing else (a path that resolves elsewhere, symlinks followed, is
#   reported, not read). Its source_code_hash is set and is the base64
#   SHA-256 of that very file (the literal hash, or filebase64sha256() of the
#   same path). Otherwise the recovery region is rebuilt from code that is
#   missing, or that differs from what was reviewed, and a change of code may
#   never be deployed.
# custom:
#   id: DR-AST-01
#   severity: high
#   controls:
#     - framework: nist-800-53
#       control: SI-7
#       grade: supports
#       why: Each function's code hash pins the bytes deployed to both regions; the code is not signed.
#     - framework: soc2
#       control: CC8.1
#       grade: supports
#       why: The code that is deployed is the code that was built and reviewed, byte for byte.
#     - framework: iso-27001
#       control: A.8.32
#       grade: supports
#       why: A change of function code changes its pinned hash, so it cannot be deployed unnoticed.
#   observes:
#     aws_lambda_function: [filename, source_code_hash]
#     aws_lambda_layer_version: [filename, source_code_hash]
#   remediation: >-
#     Hand the built zip to CDKTF as a TerraformAsset and pass asset.path as
#     filename; set source_code_hash to the base64 SHA-256 of the same bytes
#     (or filebase64sha256() of the same path).
package dr.rules.dr_ast_01

import data.dr.lib

# Facts (compliance/facts.py): where each file resolves, whether it may be
# read, its hash, and how source_code_hash is written (hash_form).
_code_from_files := [r |
	some type in ["aws_lambda_function", "aws_lambda_layer_version"]
	some r in lib.resources(type)
	object.get(r.values, "filename", null) != null
]

_fact(r) := data.facts.assets[r.stack][r.address]

_hash(r) := object.get(r.values, "source_code_hash", null)

evaluated contains lib.subject(r) if some r in _code_from_files

# Where the file is: one finding per function, the most specific cause.
_location_problems contains [r, "no asset facts were computed for it"] if {
	some r in _code_from_files
	not _fact(r)
}

_location_problems contains [r, sprintf("filename %v is an expression the harness cannot resolve to a file", [f.filename])] if {
	some r in _code_from_files
	f := _fact(r)
	not f.resolved
}

_location_problems contains [r, sprintf("filename %q is an absolute path into %s of the synth machine: it resolves on that machine only", [f.filename, f.machine_specific])] if {
	some r in _code_from_files
	f := _fact(r)
	f.resolved
	f.machine_specific != null
}

_location_problems contains [r, sprintf("filename %q resolves to %s, outside the synthesized output and the app folder: it is not read, and nothing shows it exists where the stacks are deployed from", [f.filename, f.resolved_to])] if {
	some r in _code_from_files
	f := _fact(r)
	f.resolved
	f.machine_specific == null
	f.inside == false
}

_location_problems contains [r, sprintf("filename %q resolves to no file from the stack's working directory, where Terraform runs", [f.filename])] if {
	some r in _code_from_files
	f := _fact(r)
	_missing(f)
	not f.absolute
}

_location_problems contains [r, sprintf("filename %q is an absolute path that does not exist", [f.filename])] if {
	some r in _code_from_files
	f := _fact(r)
	_missing(f)
	f.absolute
}

_missing(f) if {
	f.resolved
	f.machine_specific == null
	f.inside
	not f.exists
}

# What the hash pins.
_hash_problems contains [r, "source_code_hash is not set: the deployed code is not pinned to the file's bytes and a code change may never be deployed"] if {
	some r in _code_from_files
	_hash(r) == null
}

_hash_problems contains [r, sprintf("source_code_hash %q is not the base64 SHA-256 of %q (%s)", [_hash(r), f.filename, f.sha256_base64])] if {
	some r in _code_from_files
	f := _fact(r)
	f.hash_form == "literal"
	f.exists
	_hash(r) != f.sha256_base64
}

_hash_problems contains [r, sprintf("source_code_hash %s hashes another file than filename %q", [_hash(r), f.filename])] if {
	some r in _code_from_files
	f := _fact(r)
	f.hash_form == "file"
	f.hash_file_same == false
}

_hash_problems contains [r, sprintf("source_code_hash %v is neither the literal hash nor filebase64sha256() of filename", [_hash(r)])] if {
	some r in _code_from_files
	_hash(r) != null
	_fact(r).hash_form == "expression"
}

deny contains lib.finding(rego.metadata.chain(), r, sprintf("%s; expected a path relative to the stack's working directory (a CDKTF asset) or an absolute path that exists outside temporary and home folders, inside the synthesized output or the app folder", [problem])) if {
	some [r, problem] in _location_problems
}

deny contains lib.finding(rego.metadata.chain(), r, sprintf("%s; expected the base64 SHA-256 of the function's file", [problem])) if {
	some [r, problem] in _hash_problems
}
