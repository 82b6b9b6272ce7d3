"""RegionalFunction: own role trusted by Lambda only, encrypted logs, reproducible code."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cdktf import TerraformStack
from stack_testing import REGION, Synthesized, ref

from infrastructure.components.functions import (
    BASIC_EXECUTION_POLICY,
    VPC_ACCESS_POLICY,
    FunctionSpec,
    PolicyGrant,
    RegionalFunction,
)
from infrastructure.components.kms import RegionalKey
from infrastructure.components.network import RegionalNetwork
from infrastructure.config import RegionConfig
from infrastructure.lambda_package import LAMBDA_ROOT, build_zip

GRANT = PolicyGrant(["rds:FailoverGlobalCluster"], ["arn:aws:rds::1:global-cluster:g"], "Promote")


@dataclass
class Built:
    key: RegionalKey
    network: RegionalNetwork
    in_vpc: RegionalFunction
    outside: RegionalFunction


@pytest.fixture(scope="session")
def functions(synth_stack: Callable[..., Synthesized]) -> Synthesized:
    """One function in the VPC without grants, one outside it with a grant."""

    def build(stack: TerraformStack) -> Built:
        key = RegionalKey(stack, "kms", region=REGION, alias="fn", deletion_window_days=30)
        network = RegionalNetwork(
            stack, "network", region=RegionConfig(REGION, "10.60.0.0/16"), database_port=5432
        )
        in_vpc = RegionalFunction(
            stack,
            "checker",
            spec=FunctionSpec(
                name="dr-test-health", source="health_check", environment={"DB_PORT": "5432"}
            ),
            key=key,
            network=network,
            log_retention_days=30,
        )
        outside = RegionalFunction(
            stack,
            "promoter",
            spec=FunctionSpec(
                name="dr-test-failover",
                source="failover",
                grants=[GRANT],
                timeout_seconds=97,
                in_vpc=False,
            ),
            key=key,
            network=None,
            log_retention_days=30,
        )
        return Built(key, network, in_vpc, outside)

    return synth_stack("functions", build)


def test_roles_are_assumable_by_lambda_only(functions: Synthesized) -> None:
    for function in (functions.built.in_vpc, functions.built.outside):
        role = functions.values(function.role)
        assume = role["assume_role_policy"]
        name = assume.removeprefix("${data.aws_iam_policy_document.").removesuffix(".json}")
        (statement,) = functions.data_sources("aws_iam_policy_document")[name]["statement"]
        assert statement["actions"] == ["sts:AssumeRole"]
        assert statement["principals"] == [
            {"type": "Service", "identifiers": ["lambda.amazonaws.com"]}
        ]


def test_managed_policy_follows_vpc_placement(functions: Synthesized) -> None:
    attached = {
        a["role"]: a["policy_arn"]
        for a in functions.resources("aws_iam_role_policy_attachment").values()
    }
    assert attached == {
        ref(functions.built.in_vpc.role, "name"): VPC_ACCESS_POLICY,
        ref(functions.built.outside.role, "name"): BASIC_EXECUTION_POLICY,
    }


def test_vpc_function_runs_in_the_private_subnets(functions: Synthesized) -> None:
    network = functions.built.network
    values = functions.values(functions.built.in_vpc.function)
    assert values["vpc_config"] == {
        "subnet_ids": [ref(subnet, "id") for subnet in network.subnets],
        "security_group_ids": [ref(network.function_sg, "id")],
    }
    assert "vpc_config" not in functions.values(functions.built.outside.function)


def test_grants_become_one_inline_policy_of_named_statements(functions: Synthesized) -> None:
    (policy,) = functions.resources("aws_iam_role_policy").values()
    assert policy["role"] == ref(functions.built.outside.role, "id")
    assert functions.has_data_source(
        "aws_iam_policy_document",
        {"statement": [{"sid": "Promote", "actions": GRANT.actions, "resources": GRANT.resources}]},
    )


def test_logs_are_encrypted_kept_and_created_first(functions: Synthesized) -> None:
    built = functions.built
    assert functions.has_resource(
        "aws_cloudwatch_log_group",
        {
            "name": "/aws/lambda/dr-test-failover",
            "retention_in_days": 30,
            "kms_key_id": ref(built.key.key, "arn"),
        },
    )
    values = functions.values(built.outside.function)
    assert values["depends_on"] == [
        f"aws_cloudwatch_log_group.{built.outside.log_group.friendly_unique_id}"
    ]


def test_function_settings(functions: Synthesized) -> None:
    assert functions.has_resource(
        "aws_lambda_function",
        {
            "function_name": "dr-test-failover",
            "runtime": "python3.12",
            "handler": "handler.handler",
            "timeout": 97,
            "kms_key_arn": ref(functions.built.key.key, "arn"),
            "role": ref(functions.built.outside.role, "arn"),
        },
    )
    env = functions.values(functions.built.in_vpc.function)["environment"]
    assert env == {"variables": {"DB_PORT": "5432"}}


@pytest.mark.parametrize(
    ("attribute", "source"), [("in_vpc", "health_check"), ("outside", "failover")]
)
def test_code_hash_pins_the_reproducible_zip(
    functions: Synthesized, tmp_path: Path, attribute: str, source: str
) -> None:
    values = functions.values(getattr(functions.built, attribute).function)
    expected = build_zip(LAMBDA_ROOT / source, tmp_path / f"{source}.zip")
    assert values["source_code_hash"] == expected.source_code_hash
    # A path relative to the stack folder, so the stack resolves wherever it runs.
    assert values["filename"].startswith("assets/") and values["filename"].endswith(f"{source}.zip")
    assert json.dumps(values).count("/tmp/") == 0
