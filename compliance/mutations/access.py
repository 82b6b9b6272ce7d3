"""Mutants for the access (DR-IAM-*) and resilience (DR-RES-*) requirements."""

from __future__ import annotations

import json
from typing import Any

from compliance.mutations import Target, Workspace, mutant


def _document(ws: Workspace, stack: str, reference: str) -> dict[str, Any]:
    """The aws_iam_policy_document a ``${data.aws_iam_policy_document.<name>.json}`` names."""
    name = reference.removeprefix("${data.aws_iam_policy_document.").split(".")[0]
    return ws.document(stack)["data"]["aws_iam_policy_document"][name]


def _function(ws: Workspace, stack: str, contains: str) -> str:
    """The address of a stack's Lambda function whose name contains ``contains``."""
    target, _ = ws.first(stack, "aws_lambda_function", contains)
    return target.address


# DR-IAM-01


@mutant(
    "failover grants widened to every RDS action",
    "DR-IAM-01",
    "the secondary failover function's grant allows rds:* instead of the two promotion actions",
)
def _failover_rds_star(ws: Workspace) -> Target:
    target, values = ws.first("secondary", "aws_iam_role_policy", "failover")
    _document(ws, "secondary", values["policy"])["statement"][0]["actions"] = ["rds:*"]
    return target


@mutant(
    "health-check grants on every resource",
    "DR-IAM-01",
    "the primary health-check function may connect as any database user (Resource *)",
)
def _health_resource_star(ws: Workspace) -> Target:
    target, values = ws.first("primary", "aws_iam_role_policy", "health-check")
    _document(ws, "primary", values["policy"])["statement"][0]["resources"] = ["*"]
    return target


@mutant(
    "failover grants replaced by a JSON policy allowing everything",
    "DR-IAM-01",
    "the failover role policy becomes a literal JSON document: Action * on Resource *",
)
def _failover_json_admin(ws: Workspace) -> Target:
    target, values = ws.first("secondary", "aws_iam_role_policy", "failover")
    values["policy"] = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"},
        }
    )
    return target


@mutant(
    "failover role also trusted by EC2",
    "DR-IAM-01",
    "the failover role's assume-role policy adds ec2.amazonaws.com beside lambda.amazonaws.com",
)
def _failover_trusts_ec2(ws: Workspace) -> Target:
    target, values = ws.first("secondary", "aws_iam_role", "failover")
    statement = _document(ws, "secondary", values["assume_role_policy"])["statement"][0]
    statement["principals"][0]["identifiers"].append("ec2.amazonaws.com")
    return target


@mutant(
    "failover role given AdministratorAccess",
    "DR-IAM-01",
    "the failover role's execution policy attachment is swapped for the AWS-managed admin policy",
)
def _failover_admin(ws: Workspace) -> Target:
    target, values = ws.first("secondary", "aws_iam_role_policy_attachment", "failover")
    values["policy_arn"] = "arn:aws:iam::aws:policy/AdministratorAccess"
    return target


# DR-IAM-02


@mutant(
    "public Function URL on the failover function",
    "DR-IAM-02",
    "the secondary failover function gets a Function URL with authorization_type NONE",
)
def _failover_public_url(ws: Workspace) -> Target:
    function = _function(ws, "secondary", "failover")
    urls = ws.document("secondary")["resource"].setdefault("aws_lambda_function_url", {})
    urls["failover-url"] = {
        "function_name": "${" + function + ".function_name}",
        "authorization_type": "NONE",
    }
    return Target("secondary", "aws_lambda_function_url.failover-url")


@mutant(
    "failover function opened to anyone",
    "DR-IAM-02",
    "a Lambda permission lets principal * invoke the failover function's URL unauthenticated",
)
def _failover_public_permission(ws: Workspace) -> Target:
    function = _function(ws, "secondary", "failover")
    permissions = ws.document("secondary")["resource"].setdefault("aws_lambda_permission", {})
    permissions["failover-public"] = {
        "function_name": "${" + function + ".function_name}",
        "action": "lambda:InvokeFunctionUrl",
        "principal": "*",
        "function_url_auth_type": "NONE",
    }
    return Target("secondary", "aws_lambda_permission.failover-public")


# DR-RES-01


@mutant(
    "deletion protection off on the secondary cluster",
    "DR-RES-01",
    "the secondary Aurora cluster can be deleted",
)
def _secondary_cluster_unprotected(ws: Workspace) -> Target:
    target, values = ws.first("secondary", "aws_rds_cluster")
    values["deletion_protection"] = False
    return target


@mutant(
    "primary cluster skips its final snapshot",
    "DR-RES-01",
    "deleting the primary Aurora cluster would leave no final snapshot",
)
def _primary_skips_snapshot(ws: Workspace) -> Target:
    target, values = ws.first("primary", "aws_rds_cluster")
    values["skip_final_snapshot"] = True
    return target


@mutant(
    "deletion protection off on the global cluster",
    "DR-RES-01",
    "the Aurora global cluster loses deletion_protection",
)
def _global_cluster_unprotected(ws: Workspace) -> Target:
    target, values = ws.first("primary", "aws_rds_global_cluster")
    values.pop("deletion_protection")
    return target


@mutant(
    "table deletion protection off",
    "DR-RES-01",
    "the DynamoDB global table can be deleted",
)
def _table_unprotected(ws: Workspace) -> Target:
    target, values = ws.first("global", "aws_dynamodb_table")
    values["deletion_protection_enabled"] = False
    return target


@mutant(
    "replica deletion protection off",
    "DR-RES-01",
    "the us-west-2 replica of the DynamoDB table can be deleted on its own",
)
def _replica_unprotected(ws: Workspace) -> Target:
    target, values = ws.first("global", "aws_dynamodb_table")
    values["replica"][0].pop("deletion_protection_enabled")
    return target


# DR-RES-02


@mutant(
    "provider default tags lose Owner",
    "DR-RES-02",
    "the secondary stack's provider no longer tags what it creates with Owner",
)
def _default_tags_without_owner(ws: Workspace) -> Target:
    provider = ws.document("secondary")["provider"]["aws"][0]
    provider["default_tags"][0]["tags"].pop("Owner")
    target, _ = ws.first("secondary", "aws_kms_key")
    return target


@mutant(
    "table tags blank the environment",
    "DR-RES-02",
    "the DynamoDB table overrides the Environment default tag with an empty value",
)
def _table_blank_environment(ws: Workspace) -> Target:
    target, values = ws.first("global", "aws_dynamodb_table")
    values["tags"] = {"Environment": ""}
    return target


@mutant(
    "replica stops propagating tags",
    "DR-RES-02",
    "the us-west-2 replica of the DynamoDB table no longer receives the table's tags",
)
def _replica_untagged(ws: Workspace) -> Target:
    target, values = ws.first("global", "aws_dynamodb_table")
    values["replica"][0]["propagate_tags"] = False
    return target
