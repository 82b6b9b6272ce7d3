"""Evaluate ALL policies on a 10,000-resource CDKTF-like config; compare with checkov.

Generates one ``*.tf.json`` shaped like this project's design, replicated:
two regions through an aliased provider; per primary/secondary pair (55
resources) KMS keys and aliases, VPCs, subnets, security groups and rules,
an Aurora global cluster with regional clusters, parameter groups and
instances, EC2 instances, Lambda functions (health check with a Function URL,
failover promoter) with log groups, roles and role policies, SNS topics,
a DynamoDB table with a replica, Route 53 health checks, failover records,
status and replication-lag alarms, the SNS -> Lambda promotion wiring, plus
IAM policy document and caller identity data sources. Resources reference
each other with ``${type.name.attr}``; 2% of pairs are deliberately
non-compliant (key rotation off, storage unencrypted, log group without key).

Then, each in a fresh child process (as a user's run would be):

* ours, in process, part by part: the harness (policies, settings, model,
  facts, input document), engine load (the OPA shared library), adding
  policies and data, the first ``data.dr.rules`` query (compile + eval),
  verdicts; and, not in the total: compile alone (a fresh engine, empty
  input), the input hand-over (an undefined query), the same query again;
* ours, whole process: ``python -m compliance check FILE --format json``;
* checkov, whole process, when found (env ``CHECKOV``, else ``checkov`` on
  PATH, else importable here): ``checkov -f FILE --framework terraform_json
  -o json --quiet --compact --skip-download``.

Prints wall times (medians), the ratio checkov/ours, and the targets (ours
under 1 s with engine load; at least 10x faster than checkov). When our
evaluation is over budget (or with ``--per-rule``), each requirement
package is queried on its own to attribute the time to rules.

    python benchmarks/eval_bench.py [--resources 10000] [--runs 3] [--per-rule]
                                    [--per-rule-resources 1000,4000] [--checkov-runs 1]

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
BUDGET_SECONDS = 1.0
TARGET_RATIO = 10.0
REGIONS = {"aws": "us-east-1", "aws.secondary": "us-west-2"}
PARTS = (
    ("harness", "harness: policies, settings, model, facts, input"),
    ("engine_load", "engine load (OPA shared library)"),
    ("add_policies", "add policies + data"),
    ("first_query", "first data.dr.rules query (compile + eval)"),
    ("verdicts", "verdicts"),
)
DETAILS = (
    ("compile", "of which compile (fresh engine, empty input)"),
    ("floor", "of which input hand-over (an undefined query)"),
    ("second_query", "same query again (compiled: eval only)"),
)
EMPTY_INPUT = {
    "layout": "single-file",
    "stacks": [],
    "resources": [],
    "data_sources": [],
    "remote_outputs": {},
}


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
    config: _Config, pair: int, provider: str, flaw: bool, global_cluster: str
) -> dict[str, str]:
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
            "db_subnet_group_name": _ref(subnet_group, "name"),
            "db_cluster_parameter_group_name": _ref(parameters, "name"),
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
                "cluster_identifier": _ref(cluster, "id"),
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
    cell = {"key": key, "url": url, "topic": topic, "region": region, "cluster": cluster}
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
    return cell


def _pair(config: _Config, pair: int, zone: str) -> None:
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
        _region_cell(config, pair, provider, flaw, global_cluster) for provider in REGIONS
    )
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


def generate(count: int) -> dict[str, Any]:
    """A CDKTF-shaped document with exactly ``count`` resources."""
    config = _Config()
    zone = config.add("aws_route53_zone", "zone", {"name": "dr.example.com"})
    pair, size = 0, 0
    while config.count + size <= count:
        before = config.count
        _pair(config, pair, zone)
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


class _Answered:
    """An engine that hands back a tree already evaluated (times the verdicts alone)."""

    name = "answered"

    def __init__(self, tree: Any, version: str) -> None:
        self._tree, self._version = tree, version

    def version(self) -> str:
        return self._version

    def load(self, modules: dict[str, str], data: dict[str, Any]) -> None:
        pass

    def evaluate(self, path: str, input_document: dict[str, Any]) -> Any:
        return self._tree

    def close(self) -> None:
        pass


def measure_ours(file: Path, per_rule: bool) -> dict[str, Any]:
    """One cold pass of what ``run_check`` does, part by part (run in a fresh process)."""
    clock = time.perf_counter
    started = clock()
    from compliance.catalogue import load_policies
    from compliance.evaluation import evaluate
    from compliance.facts import compute_facts
    from compliance.model import load_model
    from compliance.runner import CheckOptions
    from compliance.settings import load_settings
    from compliance.waivers import load_waivers

    options = CheckOptions()
    policies = load_policies(options.policy_root)
    model = load_model(file)
    data = {"settings": load_settings(options.settings_file), "facts": compute_facts(model)}
    waivers = load_waivers(options.waivers_file)
    document = model.to_input()
    parts: dict[str, Any] = {"harness": clock() - started}

    mark = clock()
    from compliance.engines.opa_local import LocalOpaEngine

    engine = LocalOpaEngine()
    parts["engine_load"] = clock() - mark
    mark = clock()
    engine.load(policies.modules, data)
    parts["add_policies"] = clock() - mark
    mark = clock()
    tree = engine.evaluate("dr.rules", document)
    parts["first_query"] = clock() - mark
    mark = clock()
    engine.evaluate("dr.rules", document)
    parts["second_query"] = clock() - mark
    # The input is converted for every query: an undefined path costs only that
    # (once compiled: the library prepares, i.e. compiles, each new query).
    engine.evaluate("dr.bench_floor_undefined", document)
    mark = clock()
    engine.evaluate("dr.bench_floor_undefined", document)
    parts["floor"] = clock() - mark
    # Compile alone: the same query on a fresh engine with an empty input.
    fresh = LocalOpaEngine()
    fresh.load(policies.modules, data)
    mark = clock()
    fresh.evaluate("dr.rules", EMPTY_INPUT)
    parts["compile"] = clock() - mark
    fresh.close()
    mark = clock()
    evaluation = evaluate(
        model, policies, _Answered(tree, engine.version()), data=data, waivers=waivers
    )
    parts["verdicts"] = clock() - mark
    parts["total"] = sum(parts[key] for key, _ in PARTS)
    summary = evaluation.summary()
    parts["requirements"] = summary["requirements"]
    parts["findings"] = summary["findings"]
    parts["resources"] = summary["resources"]
    if per_rule:
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
    command = [sys.executable, __file__, "--measure-ours", str(file)]
    if per_rule:
        command.append("--per-rule")
    out = subprocess.run(
        command, cwd=REPO_ROOT, env=_env(), capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("OPA_URL", None)  # in-process engine: the benchmark is about it
    return env


def _wall(command: list[str], ok_codes: tuple[int, ...] = (0, 1)) -> tuple[float, str]:
    started = time.perf_counter()
    out = subprocess.run(command, cwd=REPO_ROOT, env=_env(), capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if out.returncode not in ok_codes:
        raise SystemExit(f"{command[0]} failed ({out.returncode}): {out.stderr[-800:]}")
    return seconds, out.stdout


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--checkov-runs", type=int, default=1)
    parser.add_argument("--per-rule", action="store_true", help="attribute eval time to rules")
    parser.add_argument(
        "--per-rule-resources",
        default="",
        help="attribute on configs of these sizes, e.g. 1000,4000 (default: the benchmarked one)",
    )
    parser.add_argument("--measure-ours", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_ours:
        print(json.dumps(measure_ours(args.measure_ours, args.per_rule)))
        return

    with tempfile.TemporaryDirectory(prefix="eval-bench-") as scratch:
        file = Path(scratch) / "bench.tf.json"
        file.write_text(json.dumps(generate(args.resources)), encoding="utf-8")
        size_mb = file.stat().st_size / 2**20
        print(f"config: {args.resources} resources, {size_mb:.1f} MB, {file.name}")

        runs = [_child(file, per_rule=False) for _ in range(args.runs)]
        median = {key: statistics.median(run[key] for run in runs) for key, _ in PARTS}
        median["total"] = statistics.median(run["total"] for run in runs)
        last = runs[-1]
        print(
            f"ours: {last['requirements']} requirements, {last['resources']} resources, "
            f"{last['findings']} findings (median of {args.runs} fresh processes)"
        )
        for key, label in PARTS:
            print(f"  {label:48} {median[key]:7.3f} s")
        print(f"  {'total in process (engine load included)':48} {median['total']:7.3f} s")
        for key, label in DETAILS:
            value = statistics.median(run[key] for run in runs)
            print(f"    {label:46} {value:7.3f} s")

        whole = [
            _wall([sys.executable, "-m", "compliance", "check", str(file), "--format", "json"])[0]
            for _ in range(args.runs)
        ]
        ours_process = statistics.median(whole)
        print(f"  {'whole process: python -m compliance check':48} {ours_process:7.3f} s")

        checkov = find_checkov()
        checkov_seconds = None
        if checkov is None:
            print("checkov: not found (set CHECKOV=/path/to/checkov); no ratio")
        else:
            command = [
                *checkov,
                *("-f", str(file), "--framework", "terraform_json", "-o", "json"),
                *("--quiet", "--compact", "--skip-download"),
            ]
            samples = [_wall(command) for _ in range(args.checkov_runs)]
            checkov_seconds = statistics.median(seconds for seconds, _ in samples)
            print(f"checkov ({_checkov_summary(samples[-1][1])}):")
            print(f"  {'whole process':48} {checkov_seconds:7.3f} s")

        print("targets:")
        within = median["total"] < BUDGET_SECONDS
        print(
            f"  ours in process {median['total']:.3f} s < {BUDGET_SECONDS:g} s: "
            f"{'met' if within else 'NOT met'}"
        )
        if checkov_seconds is not None:
            for label, ours in (("in process", median["total"]), ("whole process", ours_process)):
                ratio = checkov_seconds / ours
                verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
                print(f"  checkov/ours ({label}): {ratio:.1f}x >= {TARGET_RATIO:g}x: {verdict}")

        if args.per_rule or not within:
            sizes = [int(n) for n in args.per_rule_resources.split(",") if n.strip()]
            sizes = sizes or [args.resources]
            measured = []
            for size in sizes:
                sample = Path(scratch) / f"per-rule-{size}.tf.json"
                sample.write_text(json.dumps(generate(size)), encoding="utf-8")
                measured.append(_child(sample, per_rule=True)["per_rule"])
            _print_per_rule(sizes, measured)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    load = os.getloadavg()[0]
    print(f"measured {stamp}, python {sys.version.split()[0]}, load average {load:.1f}")


if __name__ == "__main__":
    main()
