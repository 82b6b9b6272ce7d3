package dr.rules.dr_ast_02_test

import data.dr.rules.dr_ast_02

_function(stack, name) := {"stack": stack, "type": "aws_lambda_function", "name": name, "region": "us-west-2", "values": {"filename": "assets/f_code/HASH/archive.zip"}}

# An archive's facts as compliance/archives.py reads them: a reproducible zip.
_archive(overrides) := object.union(
	{
		"path": "stacks/s/assets/f_code/HASH/archive.zip", "error": null, "entries": 2,
		"unsorted": null,
		"timestamps": [{"timestamp": "1980-01-01T00:00:00", "count": 2, "entry": "app.py"}],
		"modes": [{"kind": "file", "mode": "0644", "count": 2, "entry": "app.py"}],
		"source": "src/f", "stale": [],
	},
	overrides,
)

_input := harness.normalise({"resources": [_function("s", "f")]})

_facts(archive) := {"assets": {"s": {"aws_lambda_function.f": {"archive": archive}}}}

_deny(archive) := result if {
	result := dr_ast_02.deny with input as _input with data.facts as _facts(archive)
}

_messages(archive) := {f.message | some f in _deny(archive)}

test_reproducible_asset_passes if {
	count(_deny(_archive({}))) == 0
	subjects := dr_ast_02.evaluated with input as _input with data.facts as _facts(_archive({}))
	subjects == {"s/aws_lambda_function.f"}
}

test_modification_times_fail if {
	# CDKTF's own directory archives (AssetType.ARCHIVE) record the files' modification times.
	moving := [{"timestamp": "2026-12-02T00:37:42", "count": 1, "entry": "handler.py"}]
	result := _deny(_archive({"timestamps": moving}))
	count(result) == 1
	some f in result
	f.requirement == "DR-AST-02"
	f.address == "aws_lambda_function.f"
	f.message == "the zip stacks/s/assets/f_code/HASH/archive.zip records entry timestamps 2026-12-02T00:37:42 (handler.py), taken from the build machine's clock or the files' modification times, so a rebuild gives other bytes; expected every entry at one fixed timestamp, 1980-01-01T00:00:00"
}

test_many_timestamps_are_listed_briefly if {
	moving := [{"timestamp": sprintf("2026-12-02T00:00:0%d", [i]), "count": 1, "entry": sprintf("f%d.py", [i])} | some i in numbers.range(1, 5)]
	some m in _messages(_archive({"timestamps": moving}))
	contains(m, "2026-12-02T00:00:03 (f3.py) and 2 more")
}

test_the_declared_fixed_timestamp_is_accepted if {
	declared := [{"timestamp": "2020-02-02T00:00:00", "count": 2, "entry": "app.py"}]
	count(_deny(_archive({"timestamps": declared}))) == 1
	result := dr_ast_02.deny with input as _input with data.facts as _facts(_archive({"timestamps": declared}))
		with data.settings as {"asset_fixed_timestamp": "2020-02-02T00:00:00"}
	count(result) == 0
}

test_two_fixed_timestamps_are_not_one if {
	mixed := [
		{"timestamp": "1980-01-01T00:00:00", "count": 1, "entry": "a.py"},
		{"timestamp": "2020-02-02T00:00:00", "count": 1, "entry": "b.py"},
	]
	result := dr_ast_02.deny with input as _input with data.facts as _facts(_archive({"timestamps": mixed}))
		with data.settings as {"asset_fixed_timestamp": "2020-02-02T00:00:00"}
	some f in result
	contains(f.message, "mixes the timestamps 1980-01-01T00:00:00 and 2020-02-02T00:00:00")
}

test_entries_out_of_order_fail if {
	result := _deny(_archive({"unsorted": ["window.py", "handler.py"]}))
	count(result) == 1
	some m in _messages(_archive({"unsorted": ["window.py", "handler.py"]}))
	contains(m, "lists its entries out of order (window.py before handler.py)")
}

test_umask_dependent_modes_fail if {
	modes := [
		{"kind": "file", "mode": "0644", "count": 1, "entry": "app.py"},
		{"kind": "file", "mode": "0664", "count": 1, "entry": "lib.py"},
		{"kind": "folder", "mode": "0775", "count": 1, "entry": "pkg/"},
	]
	result := _deny(_archive({"modes": modes}))
	count(result) == 1
	some f in result
	contains(f.message, "file lib.py has mode 0664 (1 such), folder pkg/ has mode 0775 (1 such)")
	contains(f.message, "expected 0644 for files, 0755 for executables and folders")
}

test_executables_and_folders_at_0755_pass if {
	modes := [
		{"kind": "file", "mode": "0644", "count": 1, "entry": "app.py"},
		{"kind": "file", "mode": "0755", "count": 1, "entry": "bootstrap"},
		{"kind": "folder", "mode": "0755", "count": 1, "entry": "pkg/"},
	]
	count(_deny(_archive({"modes": modes}))) == 0
}

test_entries_without_permissions_fail if {
	modes := [{"kind": "file", "mode": null, "count": 2, "entry": "app.py"}]
	some m in _messages(_archive({"modes": modes}))
	contains(m, "file app.py records no permissions (2 such), so the extracting machine's umask decides them")
}

test_stale_asset_fails if {
	result := _deny(_archive({"stale": ["app.py"]}))
	count(result) == 1
	some m in _messages(_archive({"stale": ["app.py"]}))
	contains(m, "is stale: entries app.py differ from the files of the same name in the app's src/f")
}

test_each_cause_is_its_own_finding if {
	moving := [{"timestamp": "2026-12-02T00:37:42", "count": 2, "entry": "app.py"}]
	count(_deny(_archive({"timestamps": moving, "unsorted": ["b.py", "a.py"], "stale": ["a.py"]}))) == 3
}

test_unreadable_archive_fails_once if {
	result := _deny({"path": "stacks/s/assets/f/HASH/f.zip", "error": "not a readable zip archive (File is not a zip file)", "source": null, "stale": []})
	count(result) == 1
	some f in result
	contains(f.message, "cannot be judged: not a readable zip archive")
}

test_code_outside_the_synthesized_assets_is_not_applicable if {
	# A prebuilt zip elsewhere, S3 code or an image: no archive facts.
	facts := {"assets": {"s": {"aws_lambda_function.f": {"archive": null}}}}
	count(dr_ast_02.deny) == 0 with input as _input with data.facts as facts
	count(dr_ast_02.evaluated) == 0 with input as _input with data.facts as facts
}

test_one_stack_aliased_functions_are_judged_each if {
	input_ := harness.normalise({"resources": [_function("app", "east"), object.union(_function("app", "west"), {"values": {"filename": "assets/w/HASH/archive.zip", "provider": "aws.west"}})]})
	moving := [{"timestamp": "2026-12-02T00:37:42", "count": 1, "entry": "app.py"}]
	facts := {"assets": {"app": {
		"aws_lambda_function.east": {"archive": _archive({})},
		"aws_lambda_function.west": {"archive": _archive({"timestamps": moving})},
	}}}
	result := dr_ast_02.deny with input as input_ with data.facts as facts
	{[f.stack, f.address] | some f in result} == {["app", "aws_lambda_function.west"]}
}
