package dr.rules.dr_sch_01_test

import data.dr.rules.dr_sch_01

# A fragment of the pinned provider's schema, as compliance/schema.py derives it.
_attrs(names) := {n: {"required": false} | some n in names}

_table_schema := {
	"attributes": object.union(_attrs(["billing_mode", "hash_key", "tags", "region"]), {"name": {"required": true}}),
	"blocks": {
		"attribute": {"list": true, "required": false, "struct": "DynamodbTableAttribute", "schema": {"attributes": {"name": {"required": true}, "type": {"required": true}}, "blocks": {}, "required": ["name", "type"]}},
		"point_in_time_recovery": {"list": false, "required": false, "struct": "DynamodbTablePointInTimeRecovery", "schema": {"attributes": {"enabled": {"required": true}}, "blocks": {}, "required": ["enabled"]}},
		"replica": {"list": true, "required": false, "struct": "DynamodbTableReplica", "schema": {"attributes": object.union(_attrs(["kms_key_arn", "point_in_time_recovery"]), {"region_name": {"required": true}}), "blocks": {}, "required": ["region_name"]}},
	},
	"required": ["name"],
}

_schema := {
	"provider_version": "6.25.0",
	"bindings_version": "21.22.1",
	"resources": {
		"aws_dynamodb_table": _table_schema,
		"aws_rds_cluster": {"attributes": _attrs(["storage_encrypted", "kms_key_id"]), "blocks": {}, "required": []},
	},
	"data_sources": {"aws_iam_policy_document": {
		"attributes": _attrs(["version"]),
		"blocks": {"statement": {"list": true, "required": false, "struct": "DataAwsIamPolicyDocumentStatement", "schema": {"attributes": _attrs(["actions", "sid"]), "blocks": {}, "required": []}}},
		"required": [],
	}},
	"unknown_types": ["aws_sns_topik"],
	"unknown_data_sources": [],
	"other_provider_types": ["random_id"],
}

_resource(type, values) := {"stack": "g", "type": type, "name": "x", "address": sprintf("%s.x", [type]), "region": "us-east-1", "values": values}

_table(values) := _resource("aws_dynamodb_table", object.union({"name": "t"}, values))

_deny(resources) := result if {
	result := dr_sch_01.deny with input as harness.normalise({"resources": resources, "data_sources": [], "remote_outputs": {}})
		with data.facts.schema as _schema
}

_messages(resources) := {f.message | some f in _deny(resources)}

_good_table := _table({
	"billing_mode": "PAY_PER_REQUEST",
	"attribute": [{"name": "pk", "type": "S"}],
	"point_in_time_recovery": {"enabled": true},
	"replica": [{"region_name": "us-west-2", "kms_key_arn": "${aws_kms_key.k.arn}"}],
	"depends_on": ["aws_kms_key.k"],
	"lifecycle": {"prevent_destroy": true},
	"provider": "aws.primary",
})

test_every_key_known_and_shaped_passes if {
	count(_deny([_good_table, _resource("aws_rds_cluster", {"storage_encrypted": true})])) == 0
}

test_misspelled_attribute_fails if {
	result := _deny([_resource("aws_rds_cluster", {"storage_encryptd": true})])
	some f in result
	f.requirement == "DR-SCH-01"
	f.address == "aws_rds_cluster.x"
	contains(f.message, "storage_encryptd is not an argument or block of aws_rds_cluster in hashicorp/aws 6.25.0")
}

test_misspelled_key_in_a_list_block_entry_fails if {
	some m in _messages([_table({"replica": [{"region_name": "us-west-2"}, {"region_name": "eu-west-1", "kms_key_ar": "k"}]})])
	contains(m, "replica[1].kms_key_ar is not an argument or block of aws_dynamodb_table.replica")
}

test_meta_arguments_are_accepted_at_the_resource_only if {
	some m in _messages([_table({"replica": [{"region_name": "us-west-2", "depends_on": []}]})])
	contains(m, "replica[0].depends_on is not an argument")
}

test_single_block_given_as_a_list_fails if {
	some m in _messages([_table({"point_in_time_recovery": [{"enabled": true}]})])
	contains(m, "a single block (DynamodbTablePointInTimeRecovery) must be one object, got a list")
}

test_list_block_given_as_one_object_fails if {
	some m in _messages([_table({"replica": {"region_name": "us-west-2"}})])
	contains(m, "a list block (DynamodbTableReplica) must be a list of objects, got one object")
}

test_list_block_entry_that_is_not_an_object_fails if {
	some m in _messages([_table({"replica": [{"region_name": "us-west-2"}, "${var.replica}"]})])
	contains(m, "entry 1 of a list block must be an object, got string")
}

test_block_given_as_an_expression_fails if {
	some m in _messages([_table({"point_in_time_recovery": "${var.pitr}"})])
	contains(m, "a block must be one object, got string")
}

test_null_block_is_unset_and_accepted if {
	count(_deny([_table({"point_in_time_recovery": null, "replica": []})])) == 0
}

test_content_of_a_dynamic_block_is_checked if {
	dynamic := {"replica": {"for_each": "${var.regions}", "iterator": "each", "content": {"region_name": "${each.value}", "kms_key": "k"}}}
	some m in _messages([_table({"dynamic": dynamic})])
	contains(m, "dynamic.replica.content.kms_key is not an argument or block of aws_dynamodb_table.replica")
}

test_dynamic_block_of_an_unknown_name_fails if {
	some m in _messages([_table({"dynamic": {"replicas": {"for_each": "${var.r}", "content": {}}}})])
	contains(m, "dynamic block \"replicas\" is not a block of aws_dynamodb_table")
}

test_unknown_resource_type_fails if {
	result := _deny([_resource("aws_sns_topik", {"name": "a"})])
	some f in result
	f.address == "aws_sns_topik.x"
	contains(f.message, "aws_sns_topik is not a resource type of hashicorp/aws 6.25.0 (bindings 21.22.1)")
}

test_data_sources_are_checked if {
	document := {"stack": "g", "type": "aws_iam_policy_document", "name": "p", "address": "data.aws_iam_policy_document.p", "values": {"statement": [{"actions": ["s3:GetObject"], "efect": "Allow"}]}}
	result := dr_sch_01.deny with input as harness.normalise({"resources": [], "data_sources": [document], "remote_outputs": {}})
		with data.facts.schema as _schema
	some f in result
	f.address == "data.aws_iam_policy_document.p"
	contains(f.message, "statement[0].efect is not an argument or block of aws_iam_policy_document.statement")
}

test_evaluated_lists_known_and_unknown_aws_types_only if {
	resources := [_good_table, _resource("aws_sns_topik", {}), _resource("random_id", {"byte_length": 8})]
	subjects := dr_sch_01.evaluated with input as harness.normalise({"resources": resources, "data_sources": [], "remote_outputs": {}})
		with data.facts.schema as _schema
	subjects == {"g/aws_dynamodb_table.x", "g/aws_sns_topik.x"}
}

test_blocks_deeper_than_the_unrolled_levels_are_reported if {
	# Rego has no recursion: the chain is written out, 13 levels deep.
	s13 := _nest(_nest(_nest(_nest(_nest(_nest(_nest(_nest(_nest(_nest(_nest(_nest(_nest({"attributes": {"leaf": {"required": false}}, "blocks": {}, "required": []})))))))))))))
	v13 := _wrap(_wrap(_wrap(_wrap(_wrap(_wrap(_wrap(_wrap(_wrap(_wrap(_wrap(_wrap(_wrap({"leaf": 1})))))))))))))
	result := dr_sch_01.deny with input as harness.normalise({"resources": [_resource("aws_deep", v13)], "data_sources": [], "remote_outputs": {}})
		with data.facts.schema as {"provider_version": "x", "resources": {"aws_deep": s13}}
	some f in result
	contains(f.message, "nested deeper than 12 blocks")
}

_nest(inner) := {"attributes": {}, "blocks": {"b": {"list": false, "required": false, "struct": "B", "schema": inner}}, "required": []}

_wrap(inner) := {"b": inner}

test_override_in_a_counted_aliased_resource_fails_at_its_place if {
	# One stack: a counted table created through a provider alias, and an
	# add_override that writes a key the single block does not have.
	table := {"stack": "app", "type": "aws_dynamodb_table", "name": "west", "region": "us-west-2", "values": {
		"name": "t-${count.index}", "count": 2, "provider": "aws.west",
		"point_in_time_recovery": {"enabled": true, "enabeld": true},
	}}
	result := _deny([table])
	{[f.stack, f.address] | some f in result} == {["app", "aws_dynamodb_table.west"]}
	some f in result
	contains(f.message, "point_in_time_recovery.enabeld is not an argument or block of aws_dynamodb_table.point_in_time_recovery")
}

test_a_misspelled_key_deep_in_nested_blocks_is_named_at_its_place if {
	s3 := _nest(_nest(_nest({"attributes": {"leaf": {"required": false}}, "blocks": {}, "required": []})))
	values := {"b": {"b": [{"b": {"leaf": 1, "leef": 2}}]}}
	result := dr_sch_01.deny with input as harness.normalise({"resources": [_resource("aws_deep", values)]})
		with data.facts.schema as {"provider_version": "x", "resources": {"aws_deep": s3}}
	{f.message | some f in result} == {"b.b[0].b.leef is not an argument or block of aws_deep.b.b.b in hashicorp/aws x; expected one of the provider's names (misspelled?)", "b.b (aws_deep.b.b): a single block (B) must be one object, got a list"}
}
