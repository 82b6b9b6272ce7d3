"""Mutants for the availability requirements (DR-HA-*)."""

from __future__ import annotations

from typing import Any

from compliance.mutations import Target, Workspace, mutant


def _subnets(ws: Workspace, stack: str) -> list[dict[str, Any]]:
    return [values for _, values in sorted(ws.resources(stack, "aws_subnet").items())]


def _region(ws: Workspace, stack: str) -> str:
    return ws.document(stack)["provider"]["aws"][0]["region"]


@mutant(
    "two subnets moved into one AZ",
    "DR-HA-01",
    "the primary VPC's second private subnet is placed in the same zone as the first",
)
def _subnets_share_zone(ws: Workspace) -> Target:
    target, _ = ws.first("primary", "aws_vpc")
    first, second, *_ = _subnets(ws, "primary")
    second["availability_zone"] = first["availability_zone"]
    return target


@mutant(
    "a private subnet made public",
    "DR-HA-01",
    "one of the secondary VPC's three subnets maps public IP addresses on launch",
)
def _subnet_public(ws: Workspace) -> Target:
    target, _ = ws.first("secondary", "aws_vpc")
    _subnets(ws, "secondary")[-1]["map_public_ip_on_launch"] = True
    return target


@mutant(
    "private subnets routed to an internet gateway",
    "DR-HA-01",
    "an internet gateway is attached to the primary VPC and its private route table routes to it",
)
def _routes_to_internet(ws: Workspace) -> Target:
    target, _ = ws.first("primary", "aws_vpc")
    table, _ = ws.first("primary", "aws_route_table")
    resources = ws.document("primary")["resource"]
    resources.setdefault("aws_internet_gateway", {})["internet"] = {
        "vpc_id": "${" + target.address + ".id}"
    }
    resources.setdefault("aws_route", {})["to-internet"] = {
        "route_table_id": "${" + table.address + ".id}",
        "destination_cidr_block": "0.0.0.0/0",
        "gateway_id": "${aws_internet_gateway.internet.id}",
    }
    return target


@mutant(
    "one Aurora instance removed",
    "DR-HA-02",
    "the secondary Aurora cluster is left with a single instance",
)
def _instance_removed(ws: Workspace) -> Target:
    target, _ = ws.first("secondary", "aws_rds_cluster")
    instances = ws.resources("secondary", "aws_rds_cluster_instance")
    instances.pop(sorted(instances)[-1])
    return target


@mutant(
    "Aurora instances placed in one AZ",
    "DR-HA-02",
    "both instances of the primary Aurora cluster name the same Availability Zone",
)
def _instances_one_zone(ws: Workspace) -> Target:
    target, _ = ws.first("primary", "aws_rds_cluster")
    zone = f"{_region(ws, 'primary')}a"
    for values in ws.resources("primary", "aws_rds_cluster_instance").values():
        values["availability_zone"] = zone
    return target


@mutant(
    "database subnet group reduced to two AZs",
    "DR-HA-02",
    "the primary DB subnet group drops its third subnet",
)
def _subnet_group_two_zones(ws: Workspace) -> Target:
    target, _ = ws.first("primary", "aws_rds_cluster")  # DR-HA-02 names the cluster
    _, values = ws.first("primary", "aws_db_subnet_group")
    values["subnet_ids"] = values["subnet_ids"][:2]
    return target


@mutant(
    "function attached to a single subnet",
    "DR-HA-03",
    "the primary health-check function's vpc_config keeps only its first subnet",
)
def _function_one_subnet(ws: Workspace) -> Target:
    target, values = ws.first("primary", "aws_lambda_function", "health")
    values["vpc_config"]["subnet_ids"] = values["vpc_config"]["subnet_ids"][:1]
    return target


@mutant(
    "secondary region set to the primary's region",
    "DR-HA-04",
    "the secondary stack's provider is pointed at the primary's region",
)
def _secondary_in_primary_region(ws: Workspace) -> Target:
    target, _ = ws.first("secondary", "aws_rds_cluster")
    ws.document("secondary")["provider"]["aws"][0]["region"] = _region(ws, "primary")
    return target


@mutant(
    "table replica in the table's own region",
    "DR-HA-04",
    "the global DynamoDB table's replica is placed in the table's own region",
)
def _replica_same_region(ws: Workspace) -> Target:
    target, values = ws.first("global", "aws_dynamodb_table")
    values["replica"][0]["region_name"] = _region(ws, "global")
    return target


@mutant(
    "secondary failover record aimed at the primary region",
    "DR-HA-04",
    "the SECONDARY record and its health check lead to the primary region's endpoint",
)
def _secondary_record_to_primary(ws: Workspace) -> Target:
    target, record = ws.first("global", "aws_route53_record", "secondary")
    check_address = record["health_check_id"].removeprefix("${").split(".id")[0]
    check = ws.resources("global", "aws_route53_health_check")[check_address.split(".")[1]]

    def to_primary(value: str) -> str:
        return value.replace(
            "cross-stack-reference-input-secondary", "cross-stack-reference-input-primary"
        )

    check["fqdn"] = to_primary(check["fqdn"])
    record["records"] = [to_primary(value) for value in record["records"]]
    return target
