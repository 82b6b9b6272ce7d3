package dr.rules.dr_sch_03_test

import data.dr.rules.dr_sch_03

_violation := {"file": "infrastructure/stacks/global_stack.py", "line": 42, "call": "DynamodbTable", "keyword": "replica", "block": "replica", "struct": "DynamodbTableReplica"}

_source(files, violations) := {"root": "/repo/infrastructure", "files_scanned": count(files), "files": files, "violations": violations, "unresolved": []}

test_typed_structs_everywhere_passes if {
	result := dr_sch_03.deny with data.facts.source as _source(["infrastructure/main.py"], [])
	count(result) == 0
	subjects := dr_sch_03.evaluated with data.facts.source as _source(["infrastructure/main.py"], [])
	subjects == {"source/infrastructure/main.py"}
}

test_plain_dict_for_a_block_fails_at_its_line if {
	result := dr_sch_03.deny with data.facts.source as _source(["infrastructure/stacks/global_stack.py"], [_violation])
	count(result) == 1
	some f in result
	f.requirement == "DR-SCH-03"
	f.stack == "source"
	f.address == "infrastructure/stacks/global_stack.py:42"
	contains(f.message, "DynamodbTable(replica=...) passes a plain dict for the nested block replica")
	contains(f.message, "pass DynamodbTableReplica(...)")
}

test_setter_without_a_known_struct_names_the_typed_struct_generically if {
	setter := object.union(_violation, {"call": ".put_replica", "struct": null})
	result := dr_sch_03.deny with data.facts.source as _source(["infrastructure/x.py"], [setter])
	some f in result
	contains(f.message, "pass the block's typed struct")
}

test_no_source_scanned_is_not_applicable if {
	subjects := dr_sch_03.evaluated with data.facts.source as _source([], [])
	count(subjects) == 0
}
