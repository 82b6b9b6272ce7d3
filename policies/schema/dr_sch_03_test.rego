package dr.rules.dr_sch_03_test

import data.dr.rules.dr_sch_03

# Facts as compliance/source_scan.py computes them: paths relative to the app folder.
_violation := {"file": "stacks/network.py", "line": 23, "call": "RouteTable", "keyword": "route", "block": "route", "struct": "RouteTableRoute"}

_source(files, violations) := {"roots": ["."], "files_scanned": count(files), "files": files, "violations": violations, "unresolved": [], "note": null}

_input := harness.normalise({"resources": [{"stack": "app", "type": "aws_vpc", "name": "v", "values": {"cidr_block": "10.0.0.0/16"}}]})

test_typed_structs_everywhere_passes if {
	result := dr_sch_03.deny with input as _input with data.facts.source as _source(["main.py"], [])
	count(result) == 0
	subjects := dr_sch_03.evaluated with input as _input with data.facts.source as _source(["main.py"], [])
	subjects == {"source/main.py"}
}

test_plain_dict_for_a_block_fails_at_its_line if {
	result := dr_sch_03.deny with input as _input with data.facts.source as _source(["main.py", "stacks/network.py"], [_violation])
	count(result) == 1
	some f in result
	f.requirement == "DR-SCH-03"
	f.stack == "source"
	f.address == "stacks/network.py:23"
	f.message == "RouteTable(route=...) passes a plain dict for the nested block route: a misspelled or snake_case key in it is dropped without an error; pass RouteTableRoute(...)"
}

test_setter_without_a_known_struct_names_the_typed_struct_generically if {
	setter := object.union(_violation, {"call": ".put_replica", "keyword": "replica", "block": "replica", "struct": null})
	result := dr_sch_03.deny with input as _input with data.facts.source as _source(["stacks/inventory.py"], [setter])
	some f in result
	contains(f.message, ".put_replica(replica=...) passes a plain dict")
	contains(f.message, "pass the block's typed struct")
}

test_each_plain_dict_is_its_own_finding if {
	other := object.union(_violation, {"line": 41})
	result := dr_sch_03.deny with input as _input with data.facts.source as _source(["stacks/network.py"], [_violation, other])
	{f.address | some f in result} == {"stacks/network.py:23", "stacks/network.py:41"}
}

test_no_source_found_is_not_applicable if {
	# No cdktf.json beside or above the output: the facts hold no file and a note says why.
	facts := object.union(_source([], []), {"roots": [], "note": "no app source found beside or above out/stack.tf.json: DR-SCH-03 cannot judge the source of this output"})
	subjects := dr_sch_03.evaluated with input as _input with data.facts.source as facts
	count(subjects) == 0
	count(dr_sch_03.deny) == 0 with input as _input with data.facts.source as facts
}
