# METADATA
# title: Function code built at synth time is reproducible
# description: >-
#   Where a function's code is a zip archive built at synth time and
#   synthesized into the output (an asset under a stack's assets/ folder, as
#   CDKTF writes them), building it again from the same source gives the same
#   bytes, and those bytes are the source as it is now. This is judged from
#   the archive itself, whichever app built it: its entries are in sorted
#   order; every entry carries one fixed timestamp, 1980-01-01 00:00 (the
#   earliest a zip can store, which reproducible build tools use) or the one
#   the app declares (setting asset_fixed_timestamp), because a timestamp
#   taken from the build machine's clock or from the files' modification times
#   (as CDKTF's own directory archives record) changes with every checkout;
#   and each entry's permissions do not depend on the machine's umask (0644
#   for files, 0755 for executables and folders). Where the app's source has a
#   folder whose files are exactly the archive's entries, each entry's bytes
#   equal that file; a different file means a stale asset. Reproducible builds
#   mean the code that is reviewed is the code that is deployed, in both
#   regions, and that rebuilding the recovery region later yields the same
#   function. A prebuilt file outside the synthesized output, and code from S3
#   or a container image, are not judged here.
# custom:
#   id: DR-AST-02
#   severity: medium
#   controls:
#     - framework: nist-800-53
#       control: SI-7
#       grade: supports
#       why: Function zips built at synth time are reproducible, so the deployed bytes can be rebuilt and compared.
#     - framework: soc2
#       control: CC8.1
#       grade: supports
#       why: A rebuild of the recovery region yields the same, reviewed function code.
#     - framework: iso-27001
#       control: A.8.32
#       grade: supports
#       why: Asset builds do not change between checkouts, so only real changes reach the deployment.
#   observes:
#     aws_lambda_function: [filename, source_code_hash]
#     aws_lambda_layer_version: [filename, source_code_hash]
#   remediation: >-
#     Build zips with fixed timestamps, permissions and entry order
#     (infrastructure/lambda_package.build_zip), vendor only exact pins, and
#     synthesize again after any change of the function's source.
package dr.rules.dr_ast_02

import data.dr.lib

# Facts (compliance/facts.py, compliance/archives.py): for each zip
# synthesized under a stack's assets/ folder, the order, timestamps and
# modes of its entries, and the app folder holding exactly its files with
# the entries that differ from them. Null for any other code.
_archives contains [r, a] if {
	some type in ["aws_lambda_function", "aws_lambda_layer_version"]
	some r in lib.resources(type)
	a := data.facts.assets[r.stack][r.address].archive
	a != null
}

evaluated contains lib.subject(r) if some [r, _] in _archives

_default_timestamp := "1980-01-01T00:00:00"

_fixed := {_default_timestamp, lib.setting("asset_fixed_timestamp", _default_timestamp)}

_listed(xs) := concat(", ", array.slice(xs, 0, 3)) if count(xs) <= 3

_listed(xs) := sprintf("%s and %d more", [concat(", ", array.slice(xs, 0, 3)), count(xs) - 3]) if count(xs) > 3

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some [r, a] in _archives
	a.error != null
	msg := sprintf("the zip %s cannot be judged: %s; expected a zip archive built reproducibly", [a.path, a.error])
}

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some [r, a] in _archives
	a.error == null
	a.unsorted != null
	msg := sprintf(
		"the zip %s lists its entries out of order (%s before %s): the order of a folder walk depends on the file system; expected entries in sorted order",
		[a.path, a.unsorted[0], a.unsorted[1]],
	)
}

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some [r, a] in _archives
	a.error == null
	moving := [sprintf("%s (%s)", [t.timestamp, t.entry]) | some t in a.timestamps; not t.timestamp in _fixed]
	count(moving) > 0
	msg := sprintf(
		"the zip %s records entry timestamps %s, taken from the build machine's clock or the files' modification times, so a rebuild gives other bytes; expected every entry at one fixed timestamp, %s",
		[a.path, _listed(moving), concat(" or ", sort(_fixed))],
	)
}

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some [r, a] in _archives
	a.error == null
	count(a.timestamps) > 1
	every t in a.timestamps {
		t.timestamp in _fixed
	}
	msg := sprintf(
		"the zip %s mixes the timestamps %s; expected one fixed timestamp on every entry",
		[a.path, concat(" and ", [t.timestamp | some t in a.timestamps])],
	)
}

# Permissions a build does not choose: 0644 files, 0755 executables and folders.
_allowed := {"file": {"0644", "0755"}, "folder": {"0755"}}

_mode_text(m) := sprintf("%s %s has mode %s (%d such)", [m.kind, m.entry, m.mode, m.count]) if m.mode != null

_mode_text(m) := sprintf("%s %s records no permissions (%d such), so the extracting machine's umask decides them", [m.kind, m.entry, m.count]) if m.mode == null

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some [r, a] in _archives
	a.error == null
	wrong := [_mode_text(m) | some m in a.modes; not m.mode in _allowed[m.kind]]
	count(wrong) > 0
	msg := sprintf(
		"the zip %s carries permissions that depend on the build machine: %s; expected 0644 for files, 0755 for executables and folders",
		[a.path, _listed(wrong)],
	)
}

deny contains lib.finding(rego.metadata.chain(), r, msg) if {
	some [r, a] in _archives
	a.error == null
	count(a.stale) > 0
	msg := sprintf(
		"the zip %s is stale: entries %s differ from the files of the same name in the app's %s; expected the zip rebuilt from the source as it is now (synthesize again)",
		[a.path, _listed(a.stale), a.source],
	)
}
