package dr.rules.dr_sch_02_test

import data.dr.rules.dr_sch_02

_attrs(names) := {n: {"required": false} | some n in names}

_leaf(attributes, required) := {"attributes": attributes, "blocks": {}, "required": required}

_schema := {
	"provider_version": "6.25.0",
	"resources": {
		"aws_dynamodb_table": {
			"attributes": object.union(_attrs(["hash_key"]), {"name": {"required": true}}),
			"blocks": {
				"global_secondary_index": {"list": true, "required": false, "struct": "DynamodbTableGlobalSecondaryIndex", "schema": _leaf(object.union(_attrs(["range_key"]), {"name": {"required": true}, "hash_key": {"required": true}, "projection_type": {"required": true}}), ["hash_key", "name", "projection_type"])},
				"replica": {"list": true, "required": false, "struct": "DynamodbTableReplica", "schema": _leaf(object.union(_attrs(["kms_key_arn"]), {"region_name": {"required": true}}), ["region_name"])},
				"timeouts": {"list": false, "required": false, "struct": "DynamodbTableTimeouts", "schema": _leaf(_attrs(["create"]), [])},
			},
			"required": ["name"],
		},
		"aws_route53_record": {
			"attributes": {"name": {"required": true}, "type": {"required": true}, "zone_id": {"required": true}},
			"blocks": {"failover_routing_policy": {"list": false, "required": false, "struct": "Route53RecordFailoverRoutingPolicy", "schema": _leaf({"type": {"required": true}}, ["type"])}},
			"required": ["name", "type", "zone_id"],
		},
		"aws_route_table": {
			"attributes": {"vpc_id": {"required": true}},
			"blocks": {"route": {"list": true, "required": false, "struct": "RouteTableRoute", "schema": _leaf(_attrs(["cidr_block", "gateway_id"]), [])}},
			"required": ["vpc_id"],
		},
		"aws_s3_bucket_server_side_encryption_configuration": {
			"attributes": {"bucket": {"required": true}},
			"blocks": {"rule": {"list": true, "required": true, "struct": "S3BucketServerSideEncryptionConfigurationRule", "schema": _leaf(_attrs(["bucket_key_enabled"]), [])}},
			"required": ["bucket", "rule"],
		},
	},
	"data_sources": {},
}

_resource(type, values) := {"stack": "g", "type": type, "name": "x", "address": sprintf("%s.x", [type]), "region": "us-east-1", "values": values}

_deny(resources) := result if {
	result := dr_sch_02.deny with input as harness.normalise({"resources": resources, "data_sources": [], "remote_outputs": {}})
		with data.facts.schema as _schema
}

_messages(resources) := {f.message | some f in _deny(resources)}

_record(policy) := _resource("aws_route53_record", {"name": "api", "type": "CNAME", "zone_id": "${aws_route53_zone.z.zone_id}", "failover_routing_policy": policy})

test_blocks_with_their_required_keys_pass if {
	table := _resource("aws_dynamodb_table", {
		"name": "t",
		"global_secondary_index": [{"name": "by-owner", "hash_key": "owner", "projection_type": "ALL"}],
		"replica": [{"region_name": "us-west-2"}],
		"timeouts": {},
	})
	count(_deny([table, _record({"type": "PRIMARY"})])) == 0
}

test_replica_without_region_name_fails if {
	result := _deny([_resource("aws_dynamodb_table", {"name": "t", "replica": [{"kms_key_arn": "${aws_kms_key.k.arn}"}]})])
	some f in result
	f.requirement == "DR-SCH-02"
	f.address == "aws_dynamodb_table.x"
	contains(f.message, "replica[0] has no region_name: a required argument of aws_dynamodb_table.replica")
	contains(f.message, "DynamodbTableReplica(...)")
}

test_index_without_hash_key_and_projection_fails if {
	messages := _messages([_resource("aws_dynamodb_table", {"name": "t", "global_secondary_index": [{"name": "by-owner"}]})])
	some hash in messages
	contains(hash, "global_secondary_index[0] has no hash_key")
	some projection in messages
	contains(projection, "global_secondary_index[0] has no projection_type")
}

test_failover_policy_without_type_fails if {
	some m in _messages([_record({})])
	contains(m, "failover_routing_policy has no type: a required argument of aws_route53_record.failover_routing_policy")
}

test_required_key_set_to_null_fails if {
	some m in _messages([_record({"type": null})])
	contains(m, "failover_routing_policy has no type")
}

test_resource_without_a_required_argument_fails if {
	some m in _messages([_resource("aws_route_table", {})])
	m == "the resource has no vpc_id: a required argument of aws_route_table"
}

test_required_block_missing_or_empty_fails if {
	some m in _messages([_resource("aws_s3_bucket_server_side_encryption_configuration", {"bucket": "b", "rule": []})])
	contains(m, "has no rule: a required block of aws_s3_bucket_server_side_encryption_configuration")
}

test_required_block_generated_by_a_dynamic_block_passes if {
	values := {"bucket": "b", "dynamic": {"rule": {"for_each": "${var.rules}", "content": {"bucket_key_enabled": true}}}}
	count(_deny([_resource("aws_s3_bucket_server_side_encryption_configuration", values)])) == 0
}

test_empty_list_block_entry_fails if {
	result := _deny([_resource("aws_route_table", {"vpc_id": "${aws_vpc.v.id}", "route": [{"cidr_block": "10.1.0.0/16", "gateway_id": "g"}, {}]})])
	count(result) == 1
	some f in result
	contains(f.message, "route[1] is an empty aws_route_table.route entry")
	contains(f.message, "RouteTableRoute(...)")
}

test_empty_single_block_is_accepted if {
	count(_deny([_resource("aws_dynamodb_table", {"name": "t", "timeouts": {}})])) == 0
}

test_evaluated_lists_every_resource_of_a_known_type if {
	subjects := dr_sch_02.evaluated with input as harness.normalise({"resources": [_record({"type": "PRIMARY"}), _resource("random_id", {})], "data_sources": [], "remote_outputs": {}})
		with data.facts.schema as _schema
	subjects == {"g/aws_route53_record.x"}
}

# The requirement's own example, as the bindings synthesize it: a dict with
# snake_case keys in RouteTable(route=[...]) loses them all, and the entry
# carries every key of RouteTableRoute, each null.
_null_route := {"carrier_gateway_id": null, "cidr_block": null, "gateway_id": null, "nat_gateway_id": null, "vpc_peering_connection_id": null}

test_list_entry_whose_every_key_is_null_is_empty if {
	route := object.union(_null_route, {"cidr_block": "0.0.0.0/0", "nat_gateway_id": "${aws_nat_gateway.nat.id}"})
	result := _deny([_resource("aws_route_table", {"vpc_id": "${aws_vpc.v.id}", "route": [route, _null_route]})])
	count(result) == 1
	some f in result
	f.requirement == "DR-SCH-02"
	f.address == "aws_route_table.x"
	f.message == "route[1] is an empty aws_route_table.route entry: every key is null (or an empty list), what a plain dict's silently dropped keys leave behind; build it with RouteTableRoute(...)"
}

test_an_entry_with_one_real_key_is_not_empty if {
	route := object.union(_null_route, {"cidr_block": "10.0.0.0/8"})
	count(_deny([_resource("aws_route_table", {"vpc_id": "${aws_vpc.v.id}", "route": [route]})])) == 0
}

test_an_all_null_entry_is_one_finding_not_one_per_required_key if {
	# The replica lost region_name with the rest: one cause, one finding.
	replica := {"region_name": null, "kms_key_arn": null}
	result := _deny([_resource("aws_dynamodb_table", {"name": "t", "replica": [replica]})])
	count(result) == 1
	some m in _messages([_resource("aws_dynamodb_table", {"name": "t", "replica": [replica]})])
	contains(m, "replica[0] is an empty aws_dynamodb_table.replica entry: every key is null")
}

test_an_all_null_single_block_is_judged_by_its_required_keys if {
	# A single block is never "empty" (an empty one can be the point); its required keys still count.
	result := _deny([_record({"type": null})])
	count(result) == 1
	some f in result
	contains(f.message, "failover_routing_policy has no type")
}

test_one_stack_aliased_layout_names_each_resource if {
	# One stack, two regions through a provider alias: each table's entries are judged on their own.
	east := {"stack": "app", "type": "aws_dynamodb_table", "name": "east", "region": "us-east-1", "values": {"name": "t", "replica": [{"region_name": "us-west-2"}]}}
	west := {"stack": "app", "type": "aws_route_table", "name": "west", "region": "us-west-2", "values": {"provider": "aws.west", "vpc_id": "${aws_vpc.west.id}", "route": [_null_route]}}
	result := _deny([east, west])
	{[f.stack, f.address] | some f in result} == {["app", "aws_route_table.west"]}
}
