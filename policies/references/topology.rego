# METADATA
# title: Where things are, for the reference and availability requirements
# description: >-
#   The region a value of a block takes effect in: usually the block's own
#   region (its provider's); a replica block of a DynamoDB table or a Secrets
#   Manager secret lives in the replica's region (a literal region_name /
#   region, or the region of the aws_region data source it refers to); the
#   destination of an S3 replication rule lives in the destination bucket's
#   region; null when the model cannot tell. And which Aurora cluster of a
#   global database is its primary: the global cluster's source, or a
#   cluster that sets the master credentials a secondary may not set.
package dr.references.topology

import data.dr.lib

_replica_attribute := {"aws_dynamodb_table": "region_name", "aws_secretsmanager_secret": "region"}

# The region replica i of table or secret r lives in.
replica_region(r, i) := region if {
	replica := lib.block(r, "replica")[i]
	region := object.get(replica, _replica_attribute[r.type], null)
	lib.is_literal(region)
}

replica_region(r, i) := source.region if {
	attribute := _replica_attribute[r.type]
	some e in lib.refs(r)
	e.whole
	e.to != null
	lib.same_place(e.path, ["replica", i, attribute])
	source := lib.by_key[e.to]
	source.type == "aws_region"
	is_string(source.region)
}

# Types some of whose values take effect outside the block's own region.
_placed_elsewhere := {"aws_dynamodb_table", "aws_secretsmanager_secret", "aws_s3_bucket_replication_configuration"}

# The region in which the value at `path` of block r takes effect (null when unknown).
use_region(r, _) := r.region if not r.type in _placed_elsewhere

use_region(r, path) := _nested_region(r, path) if r.type in _placed_elsewhere

_nested_region(r, path) := region if {
	_in_replica(r, path)
	region := replica_region(r, _position(path, 1))
} else := null if {
	_in_replica(r, path)
} else := region if {
	prefix := _destination(r, path)
	region := _bucket_region(r, array.concat(prefix, ["bucket"]))
} else := null if {
	_destination(r, path)
} else := r.region

_in_replica(r, path) if {
	_replica_attribute[r.type]
	path[0] == "replica"
}

# The path of the S3 replication destination that holds `path`, e.g. rule[0].destination[0].
_destination(r, path) := array.slice(path, 0, end) if {
	r.type == "aws_s3_bucket_replication_configuration"
	some d, part in path
	part == "destination"
	end := d + 1 + count([n | n := path[d + 1]; is_number(n)])
}

_bucket_region(r, path) := bucket.region if {
	some e in lib.refs(r)
	e.whole
	e.to != null
	lib.same_place(e.path, path)
	bucket := lib.by_key[e.to]
	bucket.type == "aws_s3_bucket"
	is_string(bucket.region)
}

# The list position at index n of a path (0 for a single block written as an object).
_position(path, n) := path[n] if is_number(path[n])

_position(path, n) := 0 if not is_number(path[n])

# --- Aurora global databases -------------------------------------------------

# Does cluster c start a global database? It is a global cluster's
# source_db_cluster_identifier, or sets what only a primary may (a secondary
# of a global database takes its credentials and data from the primary).
primary_like(c) if {
	some e in lib.referrers(c)
	e.names == ["source_db_cluster_identifier"]
	lib.by_key[e.from].type == "aws_rds_global_cluster"
}

primary_like(c) if {
	some attribute in {"master_username", "master_password", "manage_master_user_password", "snapshot_identifier"}
	object.get(c.values, attribute, null) != null
}
