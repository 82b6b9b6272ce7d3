"""GlobalDatabase and RegionalCluster: an encrypted, protected Aurora member per region."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from cdktf import TerraformStack
from stack_testing import REGION, Synthesized, ref

from infrastructure.components.database import GlobalDatabase, RegionalCluster
from infrastructure.components.kms import RegionalKey
from infrastructure.components.network import RegionalNetwork
from infrastructure.config import DrConfig, RegionConfig

CONFIG = DrConfig(environment="test", aurora_instances_per_region=2, backup_retention_days=9)


@dataclass
class Built:
    key: RegionalKey
    network: RegionalNetwork
    global_database: GlobalDatabase
    primary: RegionalCluster
    secondary: RegionalCluster


@pytest.fixture(scope="session")
def database(synth_stack: Callable[..., Synthesized]) -> Synthesized:
    """Both roles in one stack: the primary owns the master user, the secondary joins."""

    def build(stack: TerraformStack) -> Built:
        key = RegionalKey(stack, "kms", region=REGION, alias="db", deletion_window_days=30)
        network = RegionalNetwork(
            stack, "network", region=RegionConfig(REGION, "10.50.0.0/16"), database_port=5432
        )
        global_database = GlobalDatabase(stack, "global", config=CONFIG)
        members = {
            role: RegionalCluster(
                stack,
                role,
                config=CONFIG,
                region_name=f"{REGION}-{role}",
                key=key,
                network=network,
                global_cluster_id=global_database.cluster.id,
                is_primary=role == "primary",
            )
            for role in ("primary", "secondary")
        }
        return Built(key, network, global_database, members["primary"], members["secondary"])

    return synth_stack("database", build)


def test_global_cluster_is_encrypted_and_protected(database: Synthesized) -> None:
    assert database.has_resource(
        "aws_rds_global_cluster",
        {
            "global_cluster_identifier": CONFIG.global_cluster_id,
            "engine": "aurora-postgresql",
            "engine_version": CONFIG.aurora_engine_version,
            "storage_encrypted": True,
            "deletion_protection": True,
        },
    )


@pytest.mark.parametrize("role", ["primary", "secondary"])
def test_each_member_joins_the_global_cluster_encrypted(database: Synthesized, role: str) -> None:
    built = database.built
    cluster = database.values(getattr(built, role).cluster)
    assert cluster["cluster_identifier"] == f"{CONFIG.name_prefix}-{REGION}-{role}"
    assert cluster["global_cluster_identifier"] == ref(built.global_database.cluster, "id")
    assert cluster["storage_encrypted"] is True
    assert cluster["kms_key_id"] == ref(built.key.key, "arn")
    assert cluster["vpc_security_group_ids"] == [ref(built.network.database_sg, "id")]
    assert cluster["iam_database_authentication_enabled"] is True
    assert cluster["backup_retention_period"] == 9
    assert cluster["deletion_protection"] is True
    assert cluster["skip_final_snapshot"] is False
    assert cluster["final_snapshot_identifier"] == f"{cluster['cluster_identifier']}-final"


def test_primary_owns_a_managed_master_password(database: Synthesized) -> None:
    cluster = database.values(database.built.primary.cluster)
    assert cluster["manage_master_user_password"] is True
    assert cluster["master_user_secret_kms_key_id"] == ref(database.built.key.key, "arn")
    assert cluster["master_username"] == "dr_admin"
    assert "master_password" not in cluster


def test_secondary_inherits_users_and_database(database: Synthesized) -> None:
    cluster = database.values(database.built.secondary.cluster)
    for inherited in ("master_username", "manage_master_user_password", "database_name"):
        assert inherited not in cluster


def test_instances_spread_over_zones(database: Synthesized) -> None:
    instances = database.built.primary.instances
    assert len(instances) == CONFIG.aurora_instances_per_region
    values = [database.values(instance) for instance in instances]
    assert [v["availability_zone"] for v in values] == ["eu-west-1a", "eu-west-1b"]
    assert {v["cluster_identifier"] for v in values} == {ref(database.built.primary.cluster, "id")}
    assert {v["instance_class"] for v in values} == {CONFIG.aurora_instance_class}


def test_connections_must_use_tls(database: Synthesized) -> None:
    assert database.has_resource(
        "aws_rds_cluster_parameter_group",
        {"family": "aurora-postgresql15", "parameter": [{"name": "rds.force_ssl", "value": "1"}]},
    )


def test_subnet_group_spans_the_networks_subnets(database: Synthesized) -> None:
    subnets = [ref(subnet, "id") for subnet in database.built.network.subnets]
    groups = database.resources("aws_db_subnet_group").values()
    assert [group["subnet_ids"] for group in groups] == [subnets, subnets]
