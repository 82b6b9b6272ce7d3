"""RegionalNetwork: private subnets in every zone, and only functions reach the database."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cdktf import TerraformOutput, TerraformStack
from stack_testing import Synthesized, ref

from infrastructure.components.network import RegionalNetwork
from infrastructure.config import RegionConfig

VPC_RANGE = "10.40.0.0/16"
PORT = 6543


@pytest.fixture(scope="session")
def network(synth_stack: Callable[..., Synthesized]) -> Synthesized:
    def build(stack: TerraformStack) -> RegionalNetwork:
        region = RegionConfig("eu-west-1", VPC_RANGE)
        network = RegionalNetwork(stack, "network", region=region, database_port=PORT)
        TerraformOutput(stack, "subnet-ids", value=network.subnet_ids)
        return network

    return synth_stack("network", build)


def test_vpc_has_its_range_and_private_dns(network: Synthesized) -> None:
    assert network.has_resource(
        "aws_vpc",
        {"cidr_block": VPC_RANGE, "enable_dns_hostnames": True, "enable_dns_support": True},
    )


def test_one_private_subnet_per_zone(network: Synthesized) -> None:
    subnets = sorted(
        network.resources("aws_subnet").values(), key=lambda subnet: subnet["cidr_block"]
    )
    assert [(s["availability_zone"], s["cidr_block"]) for s in subnets] == [
        ("eu-west-1a", "10.40.0.0/20"),
        ("eu-west-1b", "10.40.16.0/20"),
        ("eu-west-1c", "10.40.32.0/20"),
    ]
    vpc = ref(network.built.vpc, "id")
    assert all(s["vpc_id"] == vpc and s["map_public_ip_on_launch"] is False for s in subnets)


def test_every_subnet_uses_the_private_route_table(network: Synthesized) -> None:
    table = ref(network.built.route_table, "id")
    associations = network.resources("aws_route_table_association").values()
    assert sorted(a["subnet_id"] for a in associations) == sorted(
        ref(subnet, "id") for subnet in network.built.subnets
    )
    assert {a["route_table_id"] for a in associations} == {table}


def test_nothing_reaches_the_internet(network: Synthesized) -> None:
    for kind in ("aws_internet_gateway", "aws_nat_gateway", "aws_route", "aws_eip"):
        assert network.resources(kind) == {}, kind


def test_database_admits_functions_on_its_port_only(network: Synthesized) -> None:
    database, functions = network.built.database_sg, network.built.function_sg
    assert network.has_resource(
        "aws_vpc_security_group_ingress_rule",
        {
            "security_group_id": ref(database, "id"),
            "referenced_security_group_id": ref(functions, "id"),
            "ip_protocol": "tcp",
            "from_port": PORT,
            "to_port": PORT,
        },
    )
    assert len(network.resources("aws_vpc_security_group_ingress_rule")) == 1


def test_functions_may_only_talk_to_the_database(network: Synthesized) -> None:
    (egress,) = network.resources("aws_vpc_security_group_egress_rule").values()
    assert egress["security_group_id"] == ref(network.built.function_sg, "id")
    assert egress["referenced_security_group_id"] == ref(network.built.database_sg, "id")
    assert (egress["from_port"], egress["to_port"]) == (PORT, PORT)
    assert "cidr_ipv4" not in egress


def test_subnet_ids_property_lists_the_three_subnets(network: Synthesized) -> None:
    assert network.document["output"]["subnet-ids"]["value"] == [
        ref(subnet, "id") for subnet in network.built.subnets
    ]
