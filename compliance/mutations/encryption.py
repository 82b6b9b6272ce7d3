"""Mutants for the encryption requirements (DR-ENC-*)."""

from __future__ import annotations

import json

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


@mutant(
    "key deletion window of 3 days",
    "DR-ENC-02",
    "the primary region's KMS key can be deleted after a 3-day window instead of 30",
)
def _short_deletion_window(ws: Workspace) -> Target:
    target, values = ws.first("primary", "aws_kms_key")
    values["deletion_window_in_days"] = 3
    return target


@mutant(
    "key policy grants kms:* to everyone",
    "DR-ENC-02",
    "the secondary key's policy document gains a statement allowing kms:* to principal *",
)
def _key_policy_open_document(ws: Workspace) -> Target:
    target, values = ws.first("secondary", "aws_kms_key")
    name = values["policy"].removeprefix("${data.aws_iam_policy_document.").split(".")[0]
    document = ws.document("secondary")["data"]["aws_iam_policy_document"][name]
    document["statement"].append(
        {
            "sid": "Everyone",
            "actions": ["kms:*"],
            "resources": ["*"],
            "principals": [{"type": "AWS", "identifiers": ["*"]}],
        }
    )
    return target


@mutant(
    "key policy written as JSON open to everyone",
    "DR-ENC-02",
    "the global key's policy is replaced by a literal JSON document allowing kms:* to Principal *",
)
def _key_policy_open_json(ws: Workspace) -> Target:
    target, values = ws.first("global", "aws_kms_key")
    values["policy"] = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"}
            ],
        }
    )
    return target


@mutant(
    "master password added to the primary cluster",
    "DR-ENC-03",
    "a literal master_password is written into the primary Aurora cluster",
)
def _master_password(ws: Workspace) -> Target:
    target, values = ws.first("primary", "aws_rds_cluster")
    values["master_password"] = "Sup3r-Secret-Passw0rd"
    return target


@mutant(
    "managed master password turned off",
    "DR-ENC-03",
    "the primary Aurora cluster stops letting RDS manage its master password",
)
def _managed_password_off(ws: Workspace) -> Target:
    target, values = ws.first("primary", "aws_rds_cluster")
    values.pop("manage_master_user_password")
    values.pop("master_user_secret_kms_key_id")
    return target


@mutant(
    "database password in a function environment",
    "DR-ENC-03",
    "the secondary health-check function gets a DB_PASSWORD environment variable in clear",
)
def _password_in_environment(ws: Workspace) -> Target:
    target, values = ws.first("secondary", "aws_lambda_function", "health")
    values["environment"]["variables"]["DB_PASSWORD"] = "hunter2-prod"
    return target


@mutant(
    "access key id in a function environment",
    "DR-ENC-03",
    "AWS's documented example access key id is pasted into the failover function's environment",
)
def _access_key_in_environment(ws: Workspace) -> Target:
    target, values = ws.first("secondary", "aws_lambda_function", "failover")
    values["environment"]["variables"]["UPSTREAM_KEY"] = "AKIAIOSFODNN7EXAMPLE"
    return target


@mutant(
    "health check over plain HTTP",
    "DR-ENC-04",
    "the primary region's Route 53 health check probes with HTTP instead of HTTPS",
)
def _health_check_http(ws: Workspace) -> Target:
    target, values = ws.first("global", "aws_route53_health_check", "primary")
    values["type"] = "HTTP"
    return target


@mutant(
    "database SSL not forced",
    "DR-ENC-04",
    "the secondary Aurora cluster parameter group sets rds.force_ssl to 0",
)
def _force_ssl_off(ws: Workspace) -> Target:
    _, values = ws.first("secondary", "aws_rds_cluster_parameter_group")
    for parameter in values["parameter"]:
        if parameter["name"] == "rds.force_ssl":
            parameter["value"] = "0"
    # DR-ENC-04 names the cluster whose connections may travel unencrypted.
    target, _ = ws.first("secondary", "aws_rds_cluster")
    return target


@mutant(
    "database on the default parameter group",
    "DR-ENC-04",
    "the primary Aurora cluster no longer names its parameter group",
)
def _default_parameter_group(ws: Workspace) -> Target:
    target, values = ws.first("primary", "aws_rds_cluster")
    values.pop("db_cluster_parameter_group_name")
    return target
