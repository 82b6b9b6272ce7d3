package dr.rules.dr_res_02_test

import data.dr.rules.dr_res_02

_tags := {"Environment": "prod", "Owner": "platform-team", "DRTier": "tier-1"}

_resource(stack, provider, type, name, values) := {
	"stack": stack, "type": type, "name": name, "address": sprintf("%s.%s", [type, name]),
	"region": "us-east-1", "provider": provider, "values": values,
}

_stack(name, default_tags) := {"name": name, "providers": {"aws": "us-east-1"}, "default_tags": default_tags}

_key := _resource("p", "aws", "aws_kms_key", "k", {"enable_key_rotation": true})

# Not taggable: a route has no tags argument.
_route := _resource("p", "aws", "aws_route", "r", {"route_table_id": "${aws_route_table.t.id}"})

_input(resources, default_tags) := {"resources": resources, "stacks": [_stack("p", default_tags)], "remote_outputs": {}}

_messages(result) := {f.message | some f in result}

test_provider_default_tags_pass if {
	result := dr_res_02.deny with input as _input([_key, _route], {"aws": _tags})
	count(result) == 0
}

test_default_tags_without_owner_fail if {
	result := dr_res_02.deny with input as _input([_key], {"aws": object.remove(_tags, ["Owner"])})
	count(result) == 1
	some f in result
	f.requirement == "DR-RES-02"
	f.address == "aws_kms_key.k"
	contains(f.message, "tags Owner ")
}

test_own_tags_complete_the_defaults if {
	key := object.union(_key, {"values": {"tags": {"Owner": "db-team"}}})
	result := dr_res_02.deny with input as _input([key], {"aws": object.remove(_tags, ["Owner"])})
	count(result) == 0
}

test_empty_tag_value_overrides_the_default if {
	key := object.union(_key, {"values": {"tags": {"Owner": ""}}})
	result := dr_res_02.deny with input as _input([key], {"aws": _tags})
	some m in _messages(result)
	contains(m, "missing or empty required tags Owner")
}

test_required_tags_come_from_settings if {
	result := dr_res_02.deny with input as _input([_key], {"aws": _tags}) with data.settings as {"required_tags": ["CostCentre"]}
	some m in _messages(result)
	contains(m, "tags CostCentre")
}

test_one_stack_layout_uses_the_alias_default_tags if {
	# One stack with two providers: only the primary's carries the tags.
	west_key := object.union(_resource("app", "aws.secondary", "aws_kms_key", "west", {}), {"region": "us-west-2"})
	east_key := _resource("app", "aws", "aws_kms_key", "east", {})
	stacks := [{"name": "app", "providers": {"aws": "us-east-1", "aws.secondary": "us-west-2"}, "default_tags": {"aws": _tags, "aws.secondary": {}}}]
	result := dr_res_02.deny with input as {"resources": [west_key, east_key], "stacks": stacks, "remote_outputs": {}}
	{f.address | some f in result} == {"aws_kms_key.west"}
	some m in _messages(result)
	contains(m, "provider aws.secondary")
}

test_replica_must_propagate_tags if {
	table := _resource("p", "aws", "aws_dynamodb_table", "t", {"replica": [{"region_name": "us-west-2", "propagate_tags": false}]})
	result := dr_res_02.deny with input as _input([table], {"aws": _tags})
	some f in result
	f.address == "aws_dynamodb_table.t"
	contains(f.message, "replica[us-west-2].propagate_tags")
}

# The provider schema fact, when present, decides what is taggable.
_schema := {"schema": {"resources": {
	"aws_kms_key": {"attributes": {"tags": {"required": false}, "policy": {"required": false}}},
	"aws_route": {"attributes": {"route_table_id": {"required": true}}},
	"aws_widget": {"attributes": {"tags": {"required": false}}},
}}}

test_schema_fact_decides_taggable if {
	widget := _resource("p", "aws", "aws_widget", "w", {})
	subjects := dr_res_02.evaluated with input as _input([_key, _route, widget], {"aws": _tags}) with data.facts as _schema
	subjects == {"p/aws_kms_key.k", "p/aws_widget.w"}
	result := dr_res_02.deny with input as _input([_key, _route, widget], {}) with data.facts as _schema
	{f.address | some f in result} == {"aws_kms_key.k", "aws_widget.w"}
}

test_schema_fact_without_tags_overrides_the_fallback if {
	# The schema says this type has no tags argument, so a value the fallback would count is ignored.
	route := object.union(_route, {"values": {"tags": {}}})
	subjects := dr_res_02.evaluated with input as _input([route], {}) with data.facts as _schema
	count(subjects) == 0
}

test_fallback_without_schema_fact if {
	# No schema fact: the list of common taggable types, or a tags argument, decides.
	widget := _resource("p", "aws", "aws_widget", "w", {"tags": {"Name": "w"}})
	other := _resource("p", "aws", "aws_gadget", "g", {})
	subjects := dr_res_02.evaluated with input as _input([_key, _route, widget, other], {"aws": _tags}) with data.facts as {}
	subjects == {"p/aws_kms_key.k", "p/aws_widget.w"}
}

test_nothing_taggable_is_not_applicable if {
	subjects := dr_res_02.evaluated with input as _input([_route], {"aws": _tags})
	count(subjects) == 0
}
