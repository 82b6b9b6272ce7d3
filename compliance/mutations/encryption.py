"""Mutants for the encryption requirements (DR-ENC-*)."""

from __future__ import annotations

from compliance.mutations import Target, Workspace, mutant


@mutant(
    "aurora storage encryption removed",
    "DR-ENC-01",
    "storage_encrypted is dropped from the primary Aurora cluster",
)
def _aurora_unencrypted(ws: Workspace) -> Target:
    target, values = ws.first("primary", "aws_rds_cluster")
    values.pop("storage_encrypted")
    return target


@mutant(
    "replica encrypted with another region's key",
    "DR-ENC-01",
    "the us-west-2 DynamoDB replica points at the us-east-1 key of the global stack",
)
def _replica_wrong_region(ws: Workspace) -> Target:
    target, values = ws.first("global", "aws_dynamodb_table")
    key, _ = ws.first("global", "aws_kms_key")
    values["replica"][0]["kms_key_arn"] = "${" + key.address + ".arn}"
    return target


@mutant(
    "topic on an AWS-managed key",
    "DR-ENC-01",
    "the primary SNS topic uses alias/aws/sns instead of the regional CMK",
)
def _topic_aws_managed(ws: Workspace) -> Target:
    target, values = ws.first("primary", "aws_sns_topic")
    values["kms_master_key_id"] = "alias/aws/sns"
    return target


@mutant(
    "key rotation off",
    "DR-ENC-01",
    "the secondary region's KMS key stops rotating",
)
def _rotation_off(ws: Workspace) -> Target:
    target, values = ws.first("secondary", "aws_kms_key")
    values["enable_key_rotation"] = False
    return target


@mutant(
    "log group without a key",
    "DR-ENC-01",
    "the secondary health-check log group loses its kms_key_id",
)
def _log_group_unencrypted(ws: Workspace) -> Target:
    target, values = ws.first("secondary", "aws_cloudwatch_log_group", "health")
    values.pop("kms_key_id")
    return target
