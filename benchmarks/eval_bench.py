"""Whole-process ``check`` on large CDKTF-like configs: ours against checkov, time and memory.

Generates one ``*.tf.json`` shaped like this project's design, replicated:
two regions through an aliased provider; per primary/secondary pair (55
resources in the ``classic`` shape) KMS keys and aliases, VPCs, subnets,
security groups and rules, an Aurora global cluster with regional clusters,
parameter groups and instances, EC2 instances, Lambda functions (health check
with a Function URL, failover promoter) with log groups, roles and role
policies, SNS topics, a DynamoDB table with a replica, Route 53 health checks,
failover records, status and replication-lag alarms, the SNS -> Lambda
promotion wiring, IAM policy document and caller identity data sources. The
``joins`` shape (the default, 117 resources a pair) adds what every join of
the rules reads: S3 buckets with their encryption and versioning
configurations, six subnets per VPC (three public, routed to an internet
gateway through route-table associations), IAM policies attached to roles
(and an AWS-managed one by ARN), EBS volumes and launch templates with keys,
SSM parameters, a table with a separate replica resource and its latency
alarm, a secret replicated with the other region's key, an EventBridge
watchdog that starts the promoter, and, on odd pairs, clusters naming their
subnet and parameter groups by literal name, instances and alarms naming
their cluster by literal identifier. 2% of pairs are non-compliant.

Every measurement runs in a fresh child process, as a user's run would:

* whole process, median of ``--runs``: ``python -m compliance check FILE
  --no-source`` with ``DR_DECISION_CACHE=0``, at ``--resources`` (10,000)
  and ``--large`` (40,000), and its peak RSS (``wait4`` of the child);
  ``--harness DIR`` adds another checkout of the harness (e.g. the code
  before a change, ``git archive HEAD | tar -x -C DIR``) side by side;
* checkov on the same 10,000-resource file (``--checkov-runs``; env
  ``CHECKOV``, else ``checkov`` on PATH): ``checkov -f FILE --framework
  terraform_json -o json --quiet --compact --skip-download``;
* the split of one check, in process (median of ``--runs``): imports, load
  (model, app, policies, settings), build_input, facts, engine compile (the
  first query, on an empty input), handover of the input to OPA (an
  undefined query on the full input), evaluation (the decisions query less
  the handover), verdicts, output (the text report);
* memory: ``--memory`` resources (100,000) once, whole process, peak RSS.

Prints the figures side by side with the targets of issues 8 and 10 and the
load average at start and end (the machine is shared: compare ratios taken
in one run). ``--per-rule`` attributes the evaluation to requirements (each
rule queried on its own, ``--per-rule-resources 1000,4000`` for growth).

    python benchmarks/eval_bench.py [--resources 10000] [--large 40000] [--memory 100000]
        [--runs 3] [--checkov-runs 1] [--shape joins|classic] [--harness DIR]
        [--per-rule] [--per-rule-resources 1000,4000]

Install checkov in a throwaway venv, never in the project's:
``python3 -m venv /tmp/checkov-venv && /tmp/checkov-venv/bin/pip install checkov``,
then ``CHECKOV=/tmp/checkov-venv/bin/checkov``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
# Issue 8: 10,000 resources under 1.5 s and at most 1/25 of checkov's time;
# 40,000 at most 4.5x the 10,000 time. Issue 10: 100,000 within 2 GB.
BUDGET_SECONDS = 1.5
TARGET_RATIO = 25.0
LINEAR_RATIO = 4.5
MEMORY_BUDGET_MB = 2048
REGIONS = {"aws": "us-east-1", "aws.secondary": "us-west-2"}
SPLIT = (
    ("imports", "imports (python -m compliance)"),
    ("load", "load: model, app, policies, settings"),
    ("build_input", "build_input (the normalised model)"),
    ("facts", "facts"),
    ("compile", "engine: load + compile (first query)"),
    ("handover", "handover of the input to OPA"),
    ("evaluation", "evaluation (decisions query)"),
    ("verdicts", "verdicts"),
    ("output", "output (text report)"),
)


# -- the config ---------------------------------------------------------------


def _meta(path: str, unique: str) -> dict[str, Any]:
    return {"//": {"metadata": {"path": path, "uniqueId": unique}}}


def _ref(address: str, attribute: str) -> str:
    return f"${{{address}.{attribute}}}"


def _host(url_resource: str) -> str:
    """The host of a Function URL, as the project's failover records write it."""
    return f'${{element(split("/", {url_resource}.function_url), 2)}}'


class _Config:
    def __init__(self) -> None:
        self.resources: dict[str, dict[str, Any]] = {}
        self.data: dict[str, dict[str, Any]] = {}
        self.count = 0

    def add(self, type_: str, name: str, values: dict[str, Any], *, data: bool = False) -> str:
        target = self.data if data else self.resources
        target.setdefault(type_, {})[name] = {**_meta(f"bench/{name}", name), **values}
        if not data:
            self.count += 1
        return f"{'data.' if data else ''}{type_}.{name}"


def _document(config: _Config, name: str, statements: list[dict[str, Any]], prov: dict) -> str:
    return config.add("aws_iam_policy_document", name, {"statement": statements, **prov}, data=True)


def _function(
    config: _Config, name: str, prov: dict, key: str, grants: list[dict[str, Any]], **values: Any
) -> str:
    """A Lambda function with its log group, role and role policy (4 resources)."""
    assume = _document(
        config,
        f"{name}_assume",
        [
            {
                "actions": ["sts:AssumeRole"],
                "principals": [{"type": "Service", "identifiers": ["lambda.amazonaws.com"]}],
            }
        ],
        prov,
    )
    role = config.add(
        "aws_iam_role",
        f"{name}_role",
        {"name": f"bench-{name}", "assume_role_policy": _ref(assume, "json"), **prov},
    )
    policy = _document(config, f"{name}_grants", grants, prov)
    config.add(
        "aws_iam_role_policy",
        f"{name}_grants_policy",
        {"role": _ref(role, "id"), "policy": _ref(policy, "json"), **prov},
    )
    logs = config.add(
        "aws_cloudwatch_log_group",
        f"{name}_logs",
        {
            "name": f"/aws/lambda/bench-{name}",
            "retention_in_days": 90,
            **({"kms_key_id": _ref(key, "arn")} if key else {}),
            **prov,
        },
    )
    return config.add(
        "aws_lambda_function",
        f"{name}_fn",
        {
            "function_name": f"bench-{name}",
            "runtime": "python3.12",
            "handler": "handler.handler",
            "role": _ref(role, "arn"),
            "s3_bucket": "bench-artifacts",
            "s3_key": f"{name}.zip",
            "timeout": 5,
            "memory_size": 256,
            "depends_on": [logs],
            **values,
            **prov,
        },
    )


def _region_cell(
    config: _Config, pair: int, provider: str, flaw: bool, global_cluster: str, joins: bool
) -> dict[str, Any]:
    """One region's share of a pair: network, key, Aurora member, functions, topic."""
    region = REGIONS[provider]
    n = f"{'p' if provider == 'aws' else 's'}{pair:04d}"
    prov = {} if provider == "aws" else {"provider": provider}
    azs = [f"{region}{zone}" for zone in "abc"]
    caller = config.add("aws_caller_identity", f"caller_{n}", dict(prov), data=True)
    account = _ref(caller, "account_id")
    key_policy = _document(
        config,
        f"kms_policy_{n}",
        [
            {
                "sid": "AccountAdministers",
                "actions": ["kms:*"],
                "resources": ["*"],
                "principals": [{"type": "AWS", "identifiers": [f"arn:aws:iam::{account}:root"]}],
            },
            {
                "sid": "RegionalServicesEncrypt",
                "actions": [
                    "kms:Decrypt",
                    "kms:GenerateDataKey*",
                    "kms:Encrypt",
                    "kms:DescribeKey",
                ],
                "resources": ["*"],
                "principals": [
                    {
                        "type": "Service",
                        "identifiers": [
                            f"logs.{region}.amazonaws.com",
                            "sns.amazonaws.com",
                            "cloudwatch.amazonaws.com",
                        ],
                    }
                ],
            },
        ],
        prov,
    )
    key = config.add(
        "aws_kms_key",
        f"key_{n}",
        {
            "description": f"bench key {n}",
            "deletion_window_in_days": 30,
            "enable_key_rotation": not flaw,
            "policy": _ref(key_policy, "json"),
            **prov,
        },
    )
    config.add(
        "aws_kms_alias",
        f"alias_{n}",
        {"name": f"alias/bench-{n}", "target_key_id": _ref(key, "key_id"), **prov},
    )
    vpc = config.add(
        "aws_vpc", f"vpc_{n}", {"cidr_block": "10.0.0.0/16", "enable_dns_hostnames": True, **prov}
    )
    subnets = [
        config.add(
            "aws_subnet",
            f"subnet_{n}_{az[-1]}",
            {
                "vpc_id": _ref(vpc, "id"),
                "availability_zone": az,
                "cidr_block": f"10.0.{i * 16}.0/20",
                "map_public_ip_on_launch": False,
                **prov,
            },
        )
        for i, az in enumerate(azs)
    ]
    db_sg = config.add(
        "aws_security_group", f"db_sg_{n}", {"vpc_id": _ref(vpc, "id"), "description": "db", **prov}
    )
    fn_sg = config.add(
        "aws_security_group", f"fn_sg_{n}", {"vpc_id": _ref(vpc, "id"), "description": "fn", **prov}
    )
    config.add(
        "aws_vpc_security_group_ingress_rule",
        f"db_in_{n}",
        {
            "security_group_id": _ref(db_sg, "id"),
            "referenced_security_group_id": _ref(fn_sg, "id"),
            "ip_protocol": "tcp",
            "from_port": 5432,
            "to_port": 5432,
            **prov,
        },
    )
    config.add(
        "aws_vpc_security_group_egress_rule",
        f"fn_out_{n}",
        {
            "security_group_id": _ref(fn_sg, "id"),
            "cidr_ipv4": "10.0.0.0/16",
            "ip_protocol": "tcp",
            "from_port": 5432,
            "to_port": 5432,
            **prov,
        },
    )
    subnet_group = config.add(
        "aws_db_subnet_group",
        f"db_subnets_{n}",
        {"name": f"bench-{n}", "subnet_ids": [_ref(s, "id") for s in subnets], **prov},
    )
    parameters = config.add(
        "aws_rds_cluster_parameter_group",
        f"params_{n}",
        {
            "name": f"bench-{n}",
            "family": "aurora-postgresql15",
            "parameter": [{"name": "rds.force_ssl", "value": "1"}],
            **prov,
        },
    )
    cluster = config.add(
        "aws_rds_cluster",
        f"cluster_{n}",
        {
            "cluster_identifier": f"bench-{n}",
            "engine": "aurora-postgresql",
            "engine_version": "15.4",
            "storage_encrypted": not flaw,
            "kms_key_id": _ref(key, "arn"),
            "db_subnet_group_name": (
                f"bench-{n}" if joins and pair % 2 else _ref(subnet_group, "name")
            ),
            "db_cluster_parameter_group_name": (
                f"bench-{n}" if joins and pair % 2 else _ref(parameters, "name")
            ),
            "vpc_security_group_ids": [_ref(db_sg, "id")],
            "backup_retention_period": 7,
            "deletion_protection": True,
            "copy_tags_to_snapshot": True,
            "skip_final_snapshot": False,
            "final_snapshot_identifier": f"bench-{n}-final",
            "global_cluster_identifier": _ref(global_cluster, "id"),
            "iam_database_authentication_enabled": True,
            "manage_master_user_password": True,
            "master_user_secret_kms_key_id": _ref(key, "arn"),
            "master_username": "dr_admin",
            **prov,
        },
    )
    for i, az in enumerate(azs[:2]):
        config.add(
            "aws_rds_cluster_instance",
            f"db_{n}_{i}",
            {
                "identifier": f"bench-{n}-{i}",
                "cluster_identifier": (
                    f"bench-{n}" if joins and pair % 2 and i else _ref(cluster, "id")
                ),
                "availability_zone": az,
                "instance_class": "db.r6g.large",
                "engine": "aurora-postgresql",
                "engine_version": "15.4",
                "db_subnet_group_name": _ref(subnet_group, "name"),
                **prov,
            },
        )
    health = _function(
        config,
        f"health_{n}",
        prov,
        "" if flaw else key,
        [
            {
                "sid": "ConnectAsHealthCheck",
                "actions": ["rds-db:connect"],
                "resources": [
                    f"arn:aws:rds-db:{region}:{account}:dbuser:"
                    f"{_ref(cluster, 'cluster_resource_id')}/health_check"
                ],
            }
        ],
        kms_key_arn=_ref(key, "arn"),
        environment={
            "variables": {
                "DB_HOST": _ref(cluster, "endpoint"),
                "DB_NAME": "app",
                "DB_PORT": "5432",
                "DB_REGION": region,
                "DB_USER": "health_check",
            }
        },
        vpc_config={
            "subnet_ids": [_ref(s, "id") for s in subnets],
            "security_group_ids": [_ref(fn_sg, "id")],
        },
    )
    url = config.add(
        "aws_lambda_function_url",
        f"url_{n}",
        {"function_name": _ref(health, "function_name"), "authorization_type": "NONE", **prov},
    )
    topic = config.add(
        "aws_sns_topic",
        f"alerts_{n}",
        {"name": f"bench-{n}-alerts", "kms_master_key_id": _ref(key, "arn"), **prov},
    )
    config.add(
        "aws_instance",
        f"bastion_{n}",
        {
            "ami": "ami-0123456789abcdef0",
            "instance_type": "t3.micro",
            "subnet_id": _ref(subnets[0], "id"),
            "vpc_security_group_ids": [_ref(fn_sg, "id")],
            "metadata_options": {"http_tokens": "required"},
            "root_block_device": {"encrypted": True, "kms_key_id": _ref(key, "arn")},
            **prov,
        },
    )
    cell: dict[str, Any] = {
        "key": key, "url": url, "topic": topic, "region": region, "cluster": cluster,
        "vpc": vpc, "subnets": subnets, "n": n, "prov": prov, "health": health,
    }  # fmt: skip
    if provider != "aws":  # the promoter lives in the secondary region
        cell["failover"] = _function(
            config,
            f"failover_{n}",
            prov,
            key,
            [
                {
                    "sid": "PromoteThisGlobalCluster",
                    "actions": ["rds:FailoverGlobalCluster", "rds:DescribeGlobalClusters"],
                    "resources": [_ref(global_cluster, "arn"), _ref(cluster, "arn")],
                }
            ],
            kms_key_arn=_ref(key, "arn"),
            environment={"variables": {"GLOBAL_CLUSTER": f"bench-global-{pair:04d}"}},
        )
    if joins:
        _join_cell(config, cell, azs)
    return cell


def _join_cell(config: _Config, cell: dict[str, Any], azs: list[str]) -> None:
    """What the join-heavy rules read besides the pair (26 resources): buckets with
    their encryption, public subnets routed to an internet gateway, managed and
    attached IAM policies, volumes, launch templates, parameters."""
    n, prov, key, vpc = cell["n"], cell["prov"], cell["key"], cell["vpc"]
    bucket = config.add("aws_s3_bucket", f"bucket_{n}", {"bucket": f"bench-{n}-data", **prov})
    config.add(
        "aws_s3_bucket_server_side_encryption_configuration",
        f"bucket_sse_{n}",
        {
            "bucket": _ref(bucket, "id"),
            "rule": [
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": _ref(key, "arn"),
                    },
                    "bucket_key_enabled": True,
                }
            ],
            **prov,
        },
    )
    config.add(
        "aws_s3_bucket_versioning",
        f"bucket_versioning_{n}",
        {"bucket": _ref(bucket, "id"), "versioning_configuration": {"status": "Enabled"}, **prov},
    )
    gateway = config.add("aws_internet_gateway", f"igw_{n}", {"vpc_id": _ref(vpc, "id"), **prov})
    table = config.add(
        "aws_route_table",
        f"public_rt_{n}",
        {
            "vpc_id": _ref(vpc, "id"),
            "route": [{"cidr_block": "0.0.0.0/0", "gateway_id": _ref(gateway, "id")}],
            **prov,
        },
    )
    for i, az in enumerate(azs):
        public = config.add(
            "aws_subnet",
            f"public_{n}_{az[-1]}",
            {
                "vpc_id": _ref(vpc, "id"),
                "availability_zone": az,
                "cidr_block": f"10.0.{128 + i * 16}.0/20",
                **prov,
            },
        )
        config.add(
            "aws_route_table_association",
            f"public_rta_{n}_{az[-1]}",
            {"subnet_id": _ref(public, "id"), "route_table_id": _ref(table, "id"), **prov},
        )
    role = f"aws_iam_role.health_{n}_role"
    document = _document(
        config,
        f"ops_doc_{n}",
        [
            {
                "sid": "PublishAlerts",
                "actions": ["sns:Publish"],
                "resources": [_ref(cell["topic"], "arn")],
            }
        ],
        prov,
    )
    policy = config.add(
        "aws_iam_policy",
        f"ops_policy_{n}",
        {"name": f"bench-{n}-ops", "policy": _ref(document, "json"), **prov},
    )
    config.add(
        "aws_iam_role_policy_attachment",
        f"ops_attach_{n}",
        {"role": _ref(role, "name"), "policy_arn": _ref(policy, "arn"), **prov},
    )
    config.add(
        "aws_iam_role_policy_attachment",
        f"vpc_access_{n}",
        {
            "role": _ref(role, "name"),
            "policy_arn": "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
            **prov,
        },
    )
    config.add(
        "aws_ebs_volume",
        f"volume_{n}",
        {
            "availability_zone": azs[0],
            "size": 20,
            "encrypted": True,
            "kms_key_id": _ref(key, "arn"),
            **prov,
        },
    )
    ami = config.add(
        "aws_ssm_parameter",
        f"ami_{n}",
        {"name": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64", **prov},
        data=True,
    )
    config.add(
        "aws_launch_template",
        f"lt_{n}",
        {
            "name": f"bench-{n}",
            "image_id": _ref(ami, "value"),
            "instance_type": "t3.micro",
            "block_device_mappings": [
                {
                    "device_name": "/dev/xvda",
                    "ebs": {"encrypted": True, "kms_key_id": _ref(key, "arn"), "volume_size": 20},
                }
            ],
            "metadata_options": {"http_tokens": "required"},
            **prov,
        },
    )
    config.add(
        "aws_ssm_parameter",
        f"endpoint_{n}",
        {
            "name": f"/bench/{n}/endpoint",
            "type": "String",
            "value": _ref(cell["cluster"], "endpoint"),
            **prov,
        },
    )
    config.add(
        "aws_cloudwatch_log_group",
        f"audit_logs_{n}",
        {
            "name": f"/bench/{n}/audit",
            "retention_in_days": 365,
            "kms_key_id": _ref(key, "arn"),
            **prov,
        },
    )


def _join_pair(
    config: _Config, pair: int, primary: dict[str, Any], secondary: dict[str, Any]
) -> None:
    """Joins across the regions (8 resources): a table with a separate replica resource
    and its latency alarm (named literally), a secret replicated with the other region's
    key, an EventBridge watchdog that starts the promoter, and a lag alarm naming the
    secondary cluster by its literal identifier."""
    table = config.add(
        "aws_dynamodb_table",
        f"events_{pair:04d}",
        {
            "name": f"bench-events-{pair:04d}",
            "billing_mode": "PAY_PER_REQUEST",
            "hash_key": "pk",
            "attribute": [{"name": "pk", "type": "S"}],
            "point_in_time_recovery": {"enabled": True},
            "deletion_protection_enabled": True,
            "server_side_encryption": {"enabled": True, "kms_key_arn": _ref(primary["key"], "arn")},
            "stream_enabled": True,
            "stream_view_type": "NEW_AND_OLD_IMAGES",
        },
    )
    config.add(
        "aws_dynamodb_table_replica",
        f"events_replica_{pair:04d}",
        {
            "global_table_arn": _ref(table, "arn"),
            "kms_key_arn": _ref(secondary["key"], "arn"),
            "point_in_time_recovery": True,
            "deletion_protection_enabled": True,
            "provider": "aws.secondary",
        },
    )
    config.add(
        "aws_cloudwatch_metric_alarm",
        f"events_lag_{pair:04d}",
        {
            "alarm_name": f"bench-{pair:04d}-events-replication-latency",
            "namespace": "AWS/DynamoDB",
            "metric_name": "ReplicationLatency",
            "statistic": "Maximum",
            "comparison_operator": "GreaterThanThreshold",
            "threshold": 500,
            "evaluation_periods": 1,
            "period": 60,
            "treat_missing_data": "breaching",
            "dimensions": {
                "TableName": f"bench-events-{pair:04d}",
                "ReceivingRegion": secondary["region"],
            },
            "alarm_actions": [_ref(primary["topic"], "arn")],
        },
    )
    config.add(
        "aws_secretsmanager_secret",
        f"secret_{pair:04d}",
        {
            "name": f"bench-{pair:04d}-api",
            "kms_key_id": _ref(primary["key"], "arn"),
            "recovery_window_in_days": 30,
            "replica": [
                {"region": secondary["region"], "kms_key_id": _ref(secondary["key"], "arn")}
            ],
        },
    )
    prov = secondary["prov"]
    rule = config.add(
        "aws_cloudwatch_event_rule",
        f"watchdog_{pair:04d}",
        {"name": f"bench-{pair:04d}-watchdog", "schedule_expression": "rate(1 minute)", **prov},
    )
    config.add(
        "aws_cloudwatch_event_target",
        f"watchdog_target_{pair:04d}",
        {"rule": _ref(rule, "name"), "arn": _ref(secondary["failover"], "arn"), **prov},
    )
    config.add(
        "aws_lambda_permission",
        f"watchdog_invoke_{pair:04d}",
        {
            "action": "lambda:InvokeFunction",
            "function_name": _ref(secondary["failover"], "function_name"),
            "principal": "events.amazonaws.com",
            "source_arn": _ref(rule, "arn"),
            **prov,
        },
    )
    config.add(
        "aws_cloudwatch_metric_alarm",
        f"aurora_lag_named_{pair:04d}",
        {
            "alarm_name": f"bench-{pair:04d}-aurora-lag-by-name",
            "namespace": "AWS/RDS",
            "metric_name": "AuroraGlobalDBReplicationLag",
            "statistic": "Maximum",
            "comparison_operator": "GreaterThanThreshold",
            "threshold": 1000,
            "evaluation_periods": 1,
            "period": 60,
            "treat_missing_data": "breaching",
            "dimensions": {"DBClusterIdentifier": f"bench-{secondary['n']}"},
            "alarm_actions": [_ref(secondary["topic"], "arn")],
            **prov,
        },
    )


def _pair(config: _Config, pair: int, zone: str, joins: bool) -> None:
    """A primary/secondary pair and what ties them (55 resources)."""
    flaw = pair % 50 == 7  # about 2% of pairs carry findings, for both tools
    global_cluster = config.add(
        "aws_rds_global_cluster",
        f"global_{pair:04d}",
        {
            "global_cluster_identifier": f"bench-global-{pair:04d}",
            "engine": "aurora-postgresql",
            "engine_version": "15.4",
            "storage_encrypted": True,
            "deletion_protection": True,
        },
    )
    primary, secondary = (
        _region_cell(config, pair, provider, flaw, global_cluster, joins) for provider in REGIONS
    )
    if joins:
        _join_pair(config, pair, primary, secondary)
    table = config.add(
        "aws_dynamodb_table",
        f"table_{pair:04d}",
        {
            "name": f"bench-{pair:04d}",
            "billing_mode": "PAY_PER_REQUEST",
            "hash_key": "pk",
            "attribute": [{"name": "pk", "type": "S"}],
            "point_in_time_recovery": {"enabled": True},
            "deletion_protection_enabled": True,
            "server_side_encryption": {"enabled": True, "kms_key_arn": _ref(primary["key"], "arn")},
            "stream_enabled": True,
            "stream_view_type": "NEW_AND_OLD_IMAGES",
            "replica": [
                {
                    "region_name": secondary["region"],
                    "kms_key_arn": _ref(secondary["key"], "arn"),
                    "point_in_time_recovery": True,
                    "propagate_tags": True,
                    "deletion_protection_enabled": True,
                }
            ],
        },
    )
    alarm = {
        "evaluation_periods": 1,
        "period": 60,
        "treat_missing_data": "breaching",
        "alarm_actions": [_ref(primary["topic"], "arn")],
        "ok_actions": [_ref(primary["topic"], "arn")],
    }
    config.add(
        "aws_cloudwatch_metric_alarm",
        f"table_lag_{pair:04d}",
        {
            "alarm_name": f"bench-{pair:04d}-table-replication-latency",
            "namespace": "AWS/DynamoDB",
            "metric_name": "ReplicationLatency",
            "statistic": "Maximum",
            "comparison_operator": "GreaterThanThreshold",
            "threshold": 5000,
            "dimensions": {
                "TableName": _ref(table, "name"),
                "ReceivingRegion": secondary["region"],
            },
            **alarm,
        },
    )
    config.add(
        "aws_cloudwatch_metric_alarm",
        f"aurora_lag_{pair:04d}",
        {
            "alarm_name": f"bench-{pair:04d}-aurora-replication-lag",
            "namespace": "AWS/RDS",
            "metric_name": "AuroraGlobalDBReplicationLag",
            "statistic": "Maximum",
            "comparison_operator": "GreaterThanThreshold",
            "threshold": 5000,
            "dimensions": {"DBClusterIdentifier": _ref(secondary["cluster"], "cluster_identifier")},
            **alarm,
            "alarm_actions": [_ref(secondary["topic"], "arn")],
            "ok_actions": [_ref(secondary["topic"], "arn")],
            "provider": "aws.secondary",
        },
    )
    for role, cell in (("PRIMARY", primary), ("SECONDARY", secondary)):
        lower = role.lower()
        check = config.add(
            "aws_route53_health_check",
            f"{lower}_health_{pair:04d}",
            {
                "type": "HTTPS",
                "fqdn": _host(cell["url"]),
                "port": 443,
                "resource_path": "/health",
                "request_interval": 10,
                "failure_threshold": 2,
                "enable_sni": True,
            },
        )
        config.add(
            "aws_route53_record",
            f"{lower}_record_{pair:04d}",
            {
                "zone_id": _ref(zone, "zone_id"),
                "name": f"api-{pair:04d}.dr.example.com",
                "type": "CNAME",
                "ttl": 5,
                "records": [_host(cell["url"])],
                "set_identifier": f"{lower}-{pair:04d}",
                "failover_routing_policy": {"type": role},
                "health_check_id": _ref(check, "id"),
            },
        )
        config.add(
            "aws_cloudwatch_metric_alarm",
            f"{lower}_alarm_{pair:04d}",
            {
                "alarm_name": f"bench-{lower}-{pair:04d}-health",
                "namespace": "AWS/Route53",
                "metric_name": "HealthCheckStatus",
                "statistic": "Minimum",
                "comparison_operator": "LessThanThreshold",
                "threshold": 1,
                "dimensions": {"HealthCheckId": _ref(check, "id")},
                **alarm,
            },
        )
    # Automated promotion: PRIMARY health alarm -> topic -> failover function.
    config.add(
        "aws_sns_topic_subscription",
        f"failover_subscription_{pair:04d}",
        {
            "topic_arn": _ref(primary["topic"], "arn"),
            "protocol": "lambda",
            "endpoint": _ref(secondary["failover"], "arn"),
        },
    )
    config.add(
        "aws_lambda_permission",
        f"failover_invoke_{pair:04d}",
        {
            "action": "lambda:InvokeFunction",
            "function_name": _ref(secondary["failover"], "function_name"),
            "principal": "sns.amazonaws.com",
            "source_arn": _ref(primary["topic"], "arn"),
            "provider": "aws.secondary",
        },
    )


def generate(count: int, shape: str = "joins") -> dict[str, Any]:
    """A CDKTF-shaped document with exactly ``count`` resources.

    ``classic``: the 55-resource pair of earlier runs; ``joins`` (default): the
    same pair plus what exercises every join of the rules (117 resources a pair).
    """
    joins = shape == "joins"
    config = _Config()
    zone = config.add("aws_route53_zone", "zone", {"name": "dr.example.com"})
    pair, size = 0, 0
    while config.count + size <= count:
        before = config.count
        _pair(config, pair, zone, joins)
        size = config.count - before
        pair += 1
    filler = 0
    while config.count < count:  # top up with log groups
        config.add(
            "aws_cloudwatch_log_group",
            f"extra_logs_{filler:04d}",
            {
                "name": f"/bench/extra/{filler}",
                "retention_in_days": 30,
                "kms_key_id": "${aws_kms_key.key_p0000.arn}",
            },
        )
        filler += 1
    tags = {"Environment": "prod", "Owner": "platform-team", "DRTier": "tier-1"}
    return {
        "//": {"metadata": {"backend": "local", "stackName": "bench", "version": "0.21.0"}},
        "terraform": {"required_providers": {"aws": {"source": "aws", "version": "6.25.0"}}},
        "provider": {
            "aws": [
                {"region": REGIONS["aws"], "default_tags": [{"tags": tags}]},
                {
                    "alias": "secondary",
                    "region": REGIONS["aws.secondary"],
                    "default_tags": [{"tags": tags}],
                },
            ]
        },
        "data": config.data,
        "resource": config.resources,
    }


# -- ours, in a child process -------------------------------------------------


def measure_split(file: Path, per_rule: bool) -> dict[str, Any]:
    """One cold ``check FILE --no-source``, part by part (run in a fresh process)."""
    clock = time.perf_counter
    mark = clock()
    import compliance.cli  # noqa: F401  (what ``python -m compliance`` imports)
    from compliance.app_config import discover
    from compliance.catalogue import load_policies
    from compliance.cli import render_text
    from compliance.engines.opa_local import LocalOpaEngine
    from compliance.evaluation import (
        DECISIONS_MODULE,
        DECISIONS_PACKAGE,
        _by_requirement,
        decisions_module,
        verdicts,
    )
    from compliance.facts import compute_facts
    from compliance.model import load_model
    from compliance.model.document import build_input
    from compliance.runner import CheckOptions
    from compliance.settings import load_settings

    parts: dict[str, Any] = {"imports": clock() - mark}
    mark = clock()
    options = CheckOptions(scan_source=False)
    model = load_model(file)
    app = discover(file)
    policies = load_policies(options.policy_root, extra=app.policies)
    settings = load_settings(options.settings_file)
    parts["load"] = clock() - mark
    mark = clock()
    document = build_input(model)
    parts["build_input"] = clock() - mark
    mark = clock()
    data = {
        "settings": settings.as_data(),
        "facts": compute_facts(model, app, scan_source=False),
    }
    parts["facts"] = clock() - mark
    mark = clock()
    engine = LocalOpaEngine()
    engine.load({**policies.modules, DECISIONS_MODULE: decisions_module(policies)}, data)
    engine.evaluate(DECISIONS_PACKAGE, {})
    parts["compile"] = clock() - mark
    engine.evaluate("dr.bench_floor_undefined", {})  # prepares that query
    mark = clock()
    engine.evaluate("dr.bench_floor_undefined", document)
    parts["handover"] = clock() - mark
    mark = clock()
    decided = _by_requirement(engine.evaluate(DECISIONS_PACKAGE, document) or {})
    parts["evaluation"] = clock() - mark - parts["handover"]
    mark = clock()
    evaluation = verdicts(model, policies, decided, engine.version(), [])
    parts["verdicts"] = clock() - mark
    mark = clock()
    render_text(evaluation)
    parts["output"] = clock() - mark
    parts["total"] = sum(parts[key] for key, _ in SPLIT)
    parts["input_mb"] = len(json.dumps(document)) / 2**20
    summary = evaluation.summary()
    parts["summary"] = {k: summary[k] for k in ("requirements", "findings", "resources")}
    if per_rule:
        engine.load(policies.modules, data)
        parts["per_rule"] = _per_rule(engine, policies, document)
    engine.close()
    return parts


def _timed(engine: Any, path: str, document: dict[str, Any], repeat: int = 3) -> float:
    """Fastest of ``repeat`` runs of a query, after one run that compiles it."""
    engine.evaluate(path, document)
    best = float("inf")
    for _ in range(repeat):
        mark = time.perf_counter()
        engine.evaluate(path, document)
        best = min(best, time.perf_counter() - mark)
    return best


def _per_rule(engine: Any, policies: Any, document: dict[str, Any]) -> dict[str, Any]:
    """Eval seconds of each requirement's ``deny`` and ``evaluated``, each queried alone.

    Fastest of three compiled runs. Every query pays the input hand-over
    (``floor``) and recomputes shared helpers (``lib.by_key``...), so the
    parts add up to more than the whole tree.
    """
    seconds: dict[str, Any] = {"floor": _timed(engine, "dr.bench_floor_undefined", document)}
    for requirement in policies.requirements:
        seconds[f"{requirement.id} ({requirement.policy})"] = [
            _timed(engine, f"{requirement.package}.{rule}", document)
            for rule in ("deny", "evaluated")
        ]
    return seconds


def _print_per_rule(sizes: list[int], measured: list[dict[str, Any]]) -> None:
    """Slowest first at the largest size; growth = time ratio between the two sizes."""
    floors = [m.pop("floor") for m in measured]
    big = measured[-1]
    ranked = sorted(big, key=lambda name: sum(big[name]), reverse=True)
    header = "".join(f"{f'deny@{n}':>11}{f'eval.@{n}':>11}" for n in sizes)
    growth = f"{'growth':>8}" if len(sizes) == 2 else ""
    print("per requirement, each rule queried alone, seconds (slowest first):")
    print(f"  {'requirement (policy)':56}{header}{growth}")
    for name in ranked:
        cells = "".join(f"{m[name][0]:11.3f}{m[name][1]:11.3f}" for m in measured)
        if len(sizes) == 2:
            small = sum(measured[0][name]) - 2 * floors[0]
            large = sum(big[name]) - 2 * floors[1]
            cells += f"{large / small:8.1f}" if small > 0.005 and large > 0 else f"{'-':>8}"
        print(f"  {name:56}{cells}")
    floor_text = ", ".join(f"{f:.3f} s @{n}" for f, n in zip(floors, sizes, strict=True))
    print(f"  input hand-over per query (included above): {floor_text}")
    if len(sizes) == 2:
        print(
            f"  growth: (deny + evaluated - 2 hand-overs) at {sizes[1]} / at {sizes[0]}; "
            f"{sizes[1] / sizes[0]:g} is linear, {(sizes[1] / sizes[0]) ** 2:g} quadratic"
        )


def _child(file: Path, per_rule: bool) -> dict[str, Any]:
    command = [sys.executable, __file__, "--measure-split", str(file)]
    if per_rule:
        command.append("--per-rule")
    out = subprocess.run(
        command, cwd=REPO_ROOT, env=_env(REPO_ROOT), capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _env(harness: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(harness), "DR_DECISION_CACHE": "0"}
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    env.pop("OPA_URL", None)  # in-process engine: the benchmark is about it
    return env


def _process(
    command: list[str], cwd: Path, env: dict[str, str], ok_codes: tuple[int, ...] = (0, 1)
) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB (of the child and what it waited for) and stdout."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if child.returncode not in ok_codes:
        raise SystemExit(f"{command[0]} failed ({child.returncode}): {stderr[-800:]}")
    return seconds, usage.ru_maxrss / 1024, stdout


def whole_check(harness: Path, file: Path) -> tuple[float, float]:
    """``python -m compliance check FILE --no-source`` from ``harness``: seconds, peak MB."""
    command = [sys.executable, "-m", "compliance", "check", str(file), "--no-source"]
    seconds, peak, _ = _process(command, harness, _env(harness))
    return seconds, peak


# -- checkov ------------------------------------------------------------------


def find_checkov() -> list[str] | None:
    """``$CHECKOV``, else ``checkov`` on PATH, else this interpreter's module."""
    configured = os.environ.get("CHECKOV")
    if configured:
        return [configured]
    on_path = shutil.which("checkov")
    if on_path:
        return [on_path]
    if importlib.util.find_spec("checkov") is not None:
        return [sys.executable, "-m", "checkov.main"]
    return None


def _checkov_summary(stdout: str) -> str:
    """Checks passed/failed and the resources they judged (its resource_count is 0 here)."""
    try:
        report = json.loads(stdout)
    except json.JSONDecodeError:
        return "unparsed output"
    reports = report if isinstance(report, list) else [report]
    passed = failed = 0
    resources: set[str] = set()
    for entry in reports:
        passed += int(entry.get("summary", {}).get("passed", 0) or 0)
        failed += int(entry.get("summary", {}).get("failed", 0) or 0)
        for kind in ("passed_checks", "failed_checks"):
            for check in entry.get("results", {}).get(kind, []):
                resources.add(str(check.get("resource")))
    return f"{len(resources)} resources judged, {passed} passed / {failed} failed checks"


# -- main ---------------------------------------------------------------------


def _median_check(harness: Path, file: Path, runs: int) -> dict[str, float]:
    samples = [whole_check(harness, file) for _ in range(runs)]
    return {
        "seconds": statistics.median(s for s, _ in samples),
        "peak_mb": max(m for _, m in samples),
        "spread": max(s for s, _ in samples) - min(s for s, _ in samples),
    }


def _write(folder: Path, count: int, shape: str) -> Path:
    file = folder / f"bench-{count}.tf.json"
    file.write_text(json.dumps(generate(count, shape)), encoding="utf-8")
    return file


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=40_000, help="0: skip")
    parser.add_argument("--memory", type=int, default=100_000, help="0: skip")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--checkov-runs", type=int, default=1, help="0: skip checkov")
    parser.add_argument("--shape", choices=("joins", "classic"), default="joins")
    parser.add_argument(
        "--harness",
        type=Path,
        action="append",
        default=[],
        help="another checkout of the harness to measure side by side (repeatable)",
    )
    parser.add_argument("--per-rule", action="store_true", help="attribute eval time to rules")
    parser.add_argument(
        "--per-rule-resources",
        default="",
        help="attribute on configs of these sizes, e.g. 1000,4000 (default: --resources)",
    )
    parser.add_argument("--measure-split", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_split:
        print(json.dumps(measure_split(args.measure_split, args.per_rule)))
        return

    print(f"machine: {os.cpu_count()} cores, load average (1/5/15 min) at start {_load()}")
    harnesses = [("ours", REPO_ROOT)] + [(f"ours@{h}", h.resolve()) for h in args.harness]
    with tempfile.TemporaryDirectory(prefix="eval-bench-") as scratch:
        folder = Path(scratch)
        small = _write(folder, args.resources, args.shape)
        large = _write(folder, args.large, args.shape) if args.large else None
        sizes = f"{args.resources} ({small.stat().st_size / 2**20:.1f} MB)"
        if large is not None:
            sizes += f", {args.large} ({large.stat().st_size / 2**20:.1f} MB)"
        print(f"config: {args.shape} shape; resources {sizes}")

        # Interleaved, so that a change of load hits every harness alike.
        results: dict[str, dict[str, Any]] = {}
        for name, root in harnesses:
            results[name] = {"small": _median_check(root, small, args.runs)}
            if large is not None:
                results[name]["large"] = _median_check(root, large, args.runs)
        checkov = find_checkov() if args.checkov_runs else None
        checkov_seconds = None
        checkov_text = "checkov: skipped" if not args.checkov_runs else "checkov: not found"
        if checkov is not None:
            command = [
                *checkov,
                *("-f", str(small), "--framework", "terraform_json", "-o", "json"),
                *("--quiet", "--compact", "--skip-download"),
            ]
            samples = [
                _process(command, REPO_ROOT, dict(os.environ)) for _ in range(args.checkov_runs)
            ]
            checkov_seconds = statistics.median(seconds for seconds, _, _ in samples)
            checkov_peak = max(peak for _, peak, _ in samples)
            checkov_text = (
                f"checkov {args.resources}: {checkov_seconds:.2f} s, peak {checkov_peak:.0f} MB "
                f"({_checkov_summary(samples[-1][2])}; median of {args.checkov_runs})"
            )

        print(f"whole process, check FILE --no-source, median of {args.runs} (peak RSS):")
        header = f"  {'harness':34}{args.resources:>16}"
        if large is not None:
            header += f"{args.large:>16}{'ratio':>8}"
        print(header + (f"{'checkov/ours':>14}" if checkov_seconds else ""))
        for name, measured in results.items():
            small_run = measured["small"]
            row = f"  {name[:34]:34}{small_run['seconds']:7.2f} s {small_run['peak_mb']:5.0f} MB"
            if large is not None:
                large_run = measured["large"]
                ratio = large_run["seconds"] / small_run["seconds"]
                row += f"{large_run['seconds']:7.2f} s {large_run['peak_mb']:5.0f} MB{ratio:8.2f}"
            if checkov_seconds:
                row += f"{checkov_seconds / small_run['seconds']:13.1f}x"
            print(row)
        print(f"  {checkov_text}")

        splits = [_child(small, per_rule=False) for _ in range(args.runs)]
        print(
            f"split of one check of {args.resources} resources, in process, median of "
            f"{args.runs} (input {splits[-1]['input_mb']:.1f} MB of JSON; "
            f"{splits[-1]['summary']}):"
        )
        for key, label in SPLIT:
            print(f"  {label:44}{statistics.median(run[key] for run in splits):7.3f} s")
        total = statistics.median(run["total"] for run in splits)
        print(f"  {'total':44}{total:7.3f} s")

        memory = None
        if args.memory:
            big = _write(folder, args.memory, args.shape)
            seconds, peak = whole_check(REPO_ROOT, big)
            memory = (seconds, peak)
            print(
                f"memory: {args.memory} resources ({big.stat().st_size / 2**20:.0f} MB), "
                f"whole process once: {seconds:.2f} s, peak RSS {peak:.0f} MB"
            )
            big.unlink()

        ours = results["ours"]
        print("targets:")
        small_seconds = ours["small"]["seconds"]
        print(
            f"  {args.resources} under {BUDGET_SECONDS:g} s: {small_seconds:.2f} s, "
            f"{_met(small_seconds < BUDGET_SECONDS)}"
        )
        if checkov_seconds:
            ratio = checkov_seconds / small_seconds
            print(
                f"  checkov/ours at {args.resources} >= {TARGET_RATIO:g}x: {ratio:.1f}x, "
                f"{_met(ratio >= TARGET_RATIO)}"
            )
        if large is not None:
            ratio = ours["large"]["seconds"] / small_seconds
            print(
                f"  {args.large}/{args.resources} time <= {LINEAR_RATIO:g}x: {ratio:.2f}x, "
                f"{_met(ratio <= LINEAR_RATIO)}"
            )
        if memory is not None:
            print(
                f"  {args.memory} within {MEMORY_BUDGET_MB} MB peak: {memory[1]:.0f} MB, "
                f"{_met(memory[1] <= MEMORY_BUDGET_MB)}; time per resource vs "
                f"{args.resources}: {memory[0] / args.memory * args.resources / small_seconds:.2f}x"
            )

        if args.per_rule:
            sizes_ = [int(n) for n in args.per_rule_resources.split(",") if n.strip()]
            sizes_ = sizes_ or [args.resources]
            measured_ = [
                _child(_write(folder, size, args.shape), per_rule=True)["per_rule"]
                for size in sizes_
            ]
            _print_per_rule(sizes_, measured_)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"measured {stamp}, python {sys.version.split()[0]}, load average at end {_load()}")


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


if __name__ == "__main__":
    main()
