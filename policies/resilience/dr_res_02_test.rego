package dr.rules.dr_res_02_test

import data.dr.rules.dr_res_02

_tags := {"Environment": "prod", "Owner": "platform-team", "DRTier": "tier-1"}

# A block; `provider` is written into its values as CDKTF synthesizes it ("aws.<alias>").
_resource(stack, provider, type, name, values) := {
	"stack": stack, "type": type, "name": name, "region": "us-east-1",
	"values": object.union(values, _provider_value(provider)),
}

_provider_value("aws") := {}

_provider_value(provider) := {"provider": provider} if provider != "aws"

# The stack's provider block as synthesized: default_tags is a one-element list of {tags}.
_aws(alias, region, tags) := object.union(
	{"region": region, "default_tags": [{"tags": tags}]},
	_alias(alias),
)

_alias("") := {}

_alias(alias) := {"alias": alias} if alias != ""

_stack(name, providers) := {"name": name, "provider": {"aws": providers}}

_key := _resource("p", "aws", "aws_kms_key", "k", {"enable_key_rotation": true})

# Not taggable: a route has no tags argument.
_route := _resource("p", "aws", "aws_route", "r", {"route_table_id": "${aws_route_table.t.id}"})

_input(resources, default_tags) := harness.normalise({"resources": resources, "stacks": [_stack("p", [_aws("", "us-east-1", default_tags)])]})

_messages(result) := {f.message | some f in result}

test_provider_default_tags_pass if {
	result := dr_res_02.deny with input as _input([_key, _route], _tags)
	count(result) == 0
}

test_default_tags_without_owner_fail if {
	result := dr_res_02.deny with input as _input([_key], object.remove(_tags, ["Owner"]))
	count(result) == 1
	some f in result
	f.requirement == "DR-RES-02"
	f.address == "aws_kms_key.k"
	f.message == "missing or empty required tags Owner (neither its own tags nor the default_tags of provider aws set them); expected Environment, Owner, DRTier"
}

test_provider_without_default_tags_fails if {
	stacks := [_stack("p", [{"region": "us-east-1"}])]
	result := dr_res_02.deny with input as harness.normalise({"resources": [_key], "stacks": stacks})
	some m in _messages(result)
	contains(m, "missing or empty required tags Environment, Owner, DRTier")
}

test_own_tags_complete_the_defaults if {
	key := _resource("p", "aws", "aws_kms_key", "k", {"tags": {"Owner": "db-team"}})
	result := dr_res_02.deny with input as _input([key], object.remove(_tags, ["Owner"]))
	count(result) == 0
}

test_empty_tag_value_overrides_the_default if {
	key := _resource("p", "aws", "aws_kms_key", "k", {"tags": {"Owner": " "}})
	result := dr_res_02.deny with input as _input([key], _tags)
	some m in _messages(result)
	contains(m, "missing or empty required tags Owner")
}

test_a_referenced_tag_value_counts_as_set if {
	key := _resource("p", "aws", "aws_kms_key", "k", {"tags": {"Owner": "${var.owner}"}})
	count(dr_res_02.deny) == 0 with input as _input([key], object.remove(_tags, ["Owner"]))
}

test_required_tags_come_from_settings if {
	result := dr_res_02.deny with input as _input([_key], _tags) with data.settings as {"required_tags": ["CostCentre"]}
	some m in _messages(result)
	contains(m, "tags CostCentre")
}

# One stack, two providers: only the default one carries the tags.
_one_stack := [_stack("app", [_aws("", "us-east-1", _tags), {"alias": "secondary", "region": "us-west-2"}])]

test_one_stack_layout_uses_the_alias_default_tags if {
	west_key := _resource("app", "aws.secondary", "aws_kms_key", "west", {})
	east_key := _resource("app", "aws", "aws_kms_key", "east", {})
	result := dr_res_02.deny with input as harness.normalise({"resources": [west_key, east_key], "stacks": _one_stack})
	{f.address | some f in result} == {"aws_kms_key.west"}
	some m in _messages(result)
	contains(m, "provider aws.secondary")
}

test_one_stack_alias_with_its_own_default_tags_passes if {
	stacks := [_stack("app", [_aws("", "us-east-1", _tags), _aws("secondary", "us-west-2", _tags)])]
	west_key := _resource("app", "aws.secondary", "aws_kms_key", "west", {})
	count(dr_res_02.deny) == 0 with input as harness.normalise({"resources": [west_key], "stacks": stacks})
}

test_replica_resource_takes_its_own_providers_default_tags if {
	# A replica resource is a table of its own, created by the alias of its region.
	table := _resource("app", "aws", "aws_dynamodb_table", "orders", {"name": "orders", "hash_key": "pk"})
	replica := _resource("app", "aws.secondary", "aws_dynamodb_table_replica", "orders_west", {"global_table_arn": "${aws_dynamodb_table.orders.arn}"})
	result := dr_res_02.deny with input as harness.normalise({"resources": [table, replica], "stacks": _one_stack})
	{f.address | some f in result} == {"aws_dynamodb_table_replica.orders_west"}
	tagged := _resource("app", "aws.secondary", "aws_dynamodb_table_replica", "orders_west", {"global_table_arn": "${aws_dynamodb_table.orders.arn}", "tags": _tags})
	count(dr_res_02.deny) == 0 with input as harness.normalise({"resources": [table, tagged], "stacks": _one_stack})
}

# A replica block as CDKTF synthesizes a typed DynamodbTableReplica: unset keys are null.
_table(replicas) := _resource("p", "aws", "aws_dynamodb_table", "t", {"name": "t", "hash_key": "pk", "replica": replicas})

_replica(region, propagate) := {"region_name": region, "propagate_tags": propagate, "kms_key_arn": null, "deletion_protection_enabled": true, "point_in_time_recovery": null}

test_replica_must_propagate_tags if {
	result := dr_res_02.deny with input as _input([_table([_replica("us-west-2", false)])], _tags)
	count(result) == 1
	some f in result
	f.address == "aws_dynamodb_table.t"
	f.message == "replica[us-west-2].propagate_tags is not true: the recovery copy in us-west-2 carries none of the required tags; expected propagate_tags = true on the replica block"
}

test_replica_without_propagate_tags_set_fails if {
	replicas := [_replica("us-west-2", true), _replica("eu-west-1", null)]
	result := dr_res_02.deny with input as _input([_table(replicas)], _tags)
	_messages(result) == {"replica[eu-west-1].propagate_tags is not true: the recovery copy in eu-west-1 carries none of the required tags; expected propagate_tags = true on the replica block"}
}

test_replicas_that_propagate_pass if {
	count(dr_res_02.deny) == 0 with input as _input([_table([_replica("us-west-2", true)])], _tags)
}

test_replicas_of_a_dynamic_block_must_propagate if {
	dynamic := {"replica": {"for_each": "${var.regions}", "content": {"region_name": "${each.value}"}}}
	table := _resource("p", "aws", "aws_dynamodb_table", "t", {"name": "t", "hash_key": "pk", "dynamic": dynamic})
	result := dr_res_02.deny with input as _input([table], _tags)
	some m in _messages(result)
	contains(m, "dynamic block replica do not set propagate_tags")
	propagating := {"replica": {"for_each": "${var.regions}", "content": {"region_name": "${each.value}", "propagate_tags": true}}}
	fixed := _resource("p", "aws", "aws_dynamodb_table", "t", {"name": "t", "hash_key": "pk", "dynamic": propagating})
	count(dr_res_02.deny) == 0 with input as _input([fixed], _tags)
}

test_tags_as_an_expression_cannot_be_verified_when_the_defaults_lack_some if {
	key := _resource("p", "aws", "aws_kms_key", "k", {"tags": "${merge(local.common_tags, {\"Name\" = \"k\"})}"})
	result := dr_res_02.deny with input as _input([key], object.remove(_tags, ["DRTier"]))
	count(result) == 1
	some m in _messages(result)
	contains(m, "required tags DRTier cannot be verified")
	contains(m, "own tags are the expression ${merge(local.common_tags")
	count(dr_res_02.deny) == 0 with input as _input([key], _tags)
}

# The provider schema fact, when present, decides what is taggable.
_schema := {"schema": {"resources": {
	"aws_kms_key": {"attributes": {"tags": {"required": false}, "policy": {"required": false}}},
	"aws_route": {"attributes": {"route_table_id": {"required": true}}},
	"aws_widget": {"attributes": {"tags": {"required": false}}},
}}}

test_schema_fact_decides_taggable if {
	widget := _resource("p", "aws", "aws_widget", "w", {})
	subjects := dr_res_02.evaluated with input as _input([_key, _route, widget], _tags) with data.facts as _schema
	subjects == {"p/aws_kms_key.k", "p/aws_widget.w"}
	result := dr_res_02.deny with input as _input([_key, _route, widget], {}) with data.facts as _schema
	{f.address | some f in result} == {"aws_kms_key.k", "aws_widget.w"}
}

test_schema_fact_without_tags_overrides_the_fallback if {
	# The schema says this type has no tags argument, so a value the fallback would count is ignored.
	route := _resource("p", "aws", "aws_route", "r", {"route_table_id": "${aws_route_table.t.id}", "tags": {}})
	subjects := dr_res_02.evaluated with input as _input([route], {}) with data.facts as _schema
	count(subjects) == 0
}

test_fallback_without_schema_fact if {
	# No schema fact: the list of common taggable types, or a tags argument, decides.
	widget := _resource("p", "aws", "aws_widget", "w", {"tags": {"Name": "w"}})
	other := _resource("p", "aws", "aws_gadget", "g", {})
	subjects := dr_res_02.evaluated with input as _input([_key, _route, widget, other], _tags) with data.facts as {}
	subjects == {"p/aws_kms_key.k", "p/aws_widget.w"}
}

test_nothing_taggable_is_not_applicable if {
	subjects := dr_res_02.evaluated with input as _input([_route], _tags)
	count(subjects) == 0
}
