"""Mutants for the reference requirements (DR-REF-*).

Each one makes a change a hurried engineer could make: paste an ID from the
console instead of passing the resource, point a stack at another region's
network through a cross-stack output, or drop a stack from the deployment
order in ``manifest.json``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from compliance.mutations import Target, Workspace, mutant

_REMOTE_PREFIX = "cross-stack-reference-input-"
MANIFEST_ENTRY = "manifest.json#dependencies"


def edit_manifest(ws: Workspace, change: Callable[[dict[str, Any]], None]) -> None:
    """Change ``manifest.json`` of the copy (Workspace only handles stack documents)."""
    path = ws.root / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    change(manifest)
    path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def _dependencies(manifest: dict[str, Any], stack: str) -> list[str]:
    dependencies: list[str] = manifest["stacks"][stack]["dependencies"]
    return dependencies


def cross_stack_reference(
    ws: Workspace, producer: str, consumer: str, target: Target, attribute: str
) -> str:
    """Export ``target.attribute`` from ``producer`` and read it in ``consumer``, as CDKTF does."""
    type_, name = target.address.split(".", 1)
    output = f"cross-stack-output-{type_}{name}{attribute}"
    ws.document(producer).setdefault("output", {})[output] = {
        "sensitive": True,
        "value": "${" + f"{target.address}.{attribute}" + "}",
    }
    remote = ws.document(consumer).setdefault("data", {}).setdefault("terraform_remote_state", {})
    remote.setdefault(
        f"{_REMOTE_PREFIX}{producer}",
        {
            "backend": "local",
            "config": {"path": f"../../state/{producer}.tfstate"},
            "workspace": "${terraform.workspace}",
        },
    )
    return "${" + f"data.terraform_remote_state.{_REMOTE_PREFIX}{producer}.outputs.{output}" + "}"


def _data(ws: Workspace, stack: str, type_: str, contains: str) -> tuple[Target, dict[str, Any]]:
    """The first data source of a type whose name contains ``contains``."""
    for name, values in sorted(ws.document(stack)["data"][type_].items()):
        if contains in name:
            return Target(stack, f"data.{type_}.{name}"), values
    raise KeyError(f"{stack} has no data.{type_} matching {contains!r}")


# --- DR-REF-01: literal identifiers -------------------------------------------


@mutant(
    "security group named by a literal ID",
    "DR-REF-01",
    "the secondary health-check function's security group is a pasted sg- ID",
)
def _literal_security_group(ws: Workspace) -> Target:
    target, values = ws.first("secondary", "aws_lambda_function", "health")
    values["vpc_config"]["security_group_ids"] = ["sg-0123456789abcdef0"]
    return target


@mutant(
    "VPC named by a literal ID",
    "DR-REF-01",
    "the primary functions' security group is placed in a pasted vpc- ID",
)
def _literal_vpc(ws: Workspace) -> Target:
    target, values = ws.first("primary", "aws_security_group", "functions")
    values["vpc_id"] = "vpc-0a1b2c3d4e5f67890"
    return target


@mutant(
    "secondary cluster joins the global cluster by its literal name",
    "DR-REF-01",
    "the secondary Aurora cluster's global_cluster_identifier is the typed-in name dr-prod-global",
)
def _literal_global_cluster(ws: Workspace) -> Target:
    target, values = ws.first("secondary", "aws_rds_cluster")
    values["global_cluster_identifier"] = "dr-prod-global"
    return target


@mutant(
    "promotion grant on a hard-coded global cluster ARN",
    "DR-REF-01",
    "the failover function's IAM grant names the global cluster by an ARN with an account ID",
)
def _literal_grant_arn(ws: Workspace) -> Target:
    target, values = _data(ws, "secondary", "aws_iam_policy_document", "failover_grants")
    arn = "arn:aws:rds::123456789012:global-cluster:dr-prod-global"
    values["statement"][0]["resources"][0] = arn
    return target


# --- DR-REF-02: the regions linked by references ----------------------------------


@mutant(
    "health check probes a literal host",
    "DR-REF-02",
    "the primary health check's fqdn is a copied Function URL host, not a reference",
)
def _literal_health_host(ws: Workspace) -> Target:
    target, values = ws.first("global", "aws_route53_health_check", "primary")
    values["fqdn"] = "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws"
    return target


@mutant(
    "primary failover record routed to the secondary region's endpoint",
    "DR-REF-02",
    "the PRIMARY record sends clients to the secondary Function URL "
    "while its health check watches the primary",
)
def _record_other_region(ws: Workspace) -> Target:
    target, values = ws.first("global", "aws_route53_record", "primary")
    _, secondary = ws.first("global", "aws_route53_record", "secondary")
    values["records"] = list(secondary["records"])
    return target


@mutant(
    "secondary cluster joins the primary cluster instead of the global cluster",
    "DR-REF-02",
    "global_cluster_identifier reads a cross-stack output of the primary Aurora cluster, "
    "not the global cluster",
)
def _joins_regional_cluster(ws: Workspace) -> Target:
    primary_cluster, _ = ws.first("primary", "aws_rds_cluster")
    target, values = ws.first("secondary", "aws_rds_cluster")
    reference = cross_stack_reference(ws, "primary", "secondary", primary_cluster, "id")
    values["global_cluster_identifier"] = reference
    return target


# --- DR-REF-03: stack order ------------------------------------------------------


@mutant(
    "global stack no longer waits for the secondary",
    "DR-REF-03",
    "secondary is removed from the global stack's dependencies in manifest.json",
)
def _global_without_secondary(ws: Workspace) -> Target:
    edit_manifest(ws, lambda m: _dependencies(m, "global").remove("secondary"))
    return Target("global", f"data.terraform_remote_state.{_REMOTE_PREFIX}secondary")


@mutant(
    "secondary stack no longer waits for the primary",
    "DR-REF-03",
    "primary is removed from the secondary stack's dependencies in manifest.json",
)
def _secondary_without_primary(ws: Workspace) -> Target:
    edit_manifest(ws, lambda m: _dependencies(m, "secondary").remove("primary"))
    return Target("secondary", f"data.terraform_remote_state.{_REMOTE_PREFIX}primary")


@mutant(
    "primary stack waits for the global stack",
    "DR-REF-03",
    "global is added to the primary stack's dependencies: a cycle, no order can deploy it",
)
def _dependency_cycle(ws: Workspace) -> Target:
    edit_manifest(ws, lambda m: _dependencies(m, "primary").append("global"))
    return Target("primary", MANIFEST_ENTRY)


# --- DR-REF-04: same-region keys and network ---------------------------------------


@mutant(
    "secondary function in the primary region's security group",
    "DR-REF-04",
    "the secondary health-check function uses the primary functions' security group "
    "via a cross-stack output",
)
def _cross_region_security_group(ws: Workspace) -> Target:
    group, _ = ws.first("primary", "aws_security_group", "functions")
    target, values = ws.first("secondary", "aws_lambda_function", "health")
    reference = cross_stack_reference(ws, "primary", "secondary", group, "id")
    values["vpc_config"]["security_group_ids"] = [reference]
    return target


@mutant(
    "secondary database subnets from the primary region",
    "DR-REF-04",
    "the secondary DB subnet group lists a primary-region subnet via a cross-stack output",
)
def _cross_region_subnet(ws: Workspace) -> Target:
    subnet, _ = ws.first("primary", "aws_subnet")
    target, values = ws.first("secondary", "aws_db_subnet_group")
    values["subnet_ids"][0] = cross_stack_reference(ws, "primary", "secondary", subnet, "id")
    return target


@mutant(
    "secondary function environment on the primary region's key",
    "DR-REF-04",
    "the secondary failover function encrypts its environment with the primary region's KMS key",
)
def _cross_region_key(ws: Workspace) -> Target:
    key, _ = ws.first("primary", "aws_kms_key")
    target, values = ws.first("secondary", "aws_lambda_function", "failover")
    values["kms_key_arn"] = cross_stack_reference(ws, "primary", "secondary", key, "arn")
    return target
