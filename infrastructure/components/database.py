"""One region's member of the Aurora PostgreSQL Global Database."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.db_subnet_group import DbSubnetGroup
from cdktf_cdktf_provider_aws.rds_cluster import RdsCluster
from cdktf_cdktf_provider_aws.rds_cluster_instance import RdsClusterInstance
from cdktf_cdktf_provider_aws.rds_cluster_parameter_group import (
    RdsClusterParameterGroup,
    RdsClusterParameterGroupParameter,
)
from cdktf_cdktf_provider_aws.rds_global_cluster import RdsGlobalCluster
from constructs import Construct

from infrastructure.components.kms import RegionalKey
from infrastructure.components.network import RegionalNetwork
from infrastructure.config import DrConfig

ENGINE = "aurora-postgresql"
PARAMETER_FAMILY = "aurora-postgresql15"


class GlobalDatabase(Construct):
    """The global cluster itself; it lives with the primary region."""

    def __init__(self, scope: Construct, id_: str, *, config: DrConfig) -> None:
        super().__init__(scope, id_)
        self.cluster = RdsGlobalCluster(
            self,
            "global",
            global_cluster_identifier=config.global_cluster_id,
            engine=ENGINE,
            engine_version=config.aurora_engine_version,
            database_name=config.database_name,
            storage_encrypted=True,
            deletion_protection=True,
        )


class RegionalCluster(Construct):
    """An encrypted, multi-AZ Aurora cluster joined to the global cluster.

    The primary owns the master user, whose password Secrets Manager manages
    with the regional key, so no password ever reaches the Terraform JSON; the
    secondary inherits it through global replication.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: DrConfig,
        region_name: str,
        key: RegionalKey,
        network: RegionalNetwork,
        global_cluster_id: str,
        is_primary: bool,
    ) -> None:
        super().__init__(scope, id_)
        identifier = f"{config.name_prefix}-{region_name}"
        subnet_group = DbSubnetGroup(
            self, "subnets", name=f"{identifier}-subnets", subnet_ids=network.subnet_ids
        )
        parameters = RdsClusterParameterGroup(
            self,
            "parameters",
            name=f"{identifier}-params",
            family=PARAMETER_FAMILY,
            parameter=[RdsClusterParameterGroupParameter(name="rds.force_ssl", value="1")],
        )
        primary_only = (
            {
                "master_username": "dr_admin",
                "manage_master_user_password": True,
                "master_user_secret_kms_key_id": key.arn,
                "database_name": config.database_name,
            }
            if is_primary
            else {}
        )
        self.cluster = RdsCluster(
            self,
            "cluster",
            cluster_identifier=identifier,
            engine=ENGINE,
            engine_version=config.aurora_engine_version,
            global_cluster_identifier=global_cluster_id,
            storage_encrypted=True,
            kms_key_id=key.arn,
            db_subnet_group_name=subnet_group.name,
            db_cluster_parameter_group_name=parameters.name,
            vpc_security_group_ids=[network.database_sg.id],
            port=config.database_port,
            backup_retention_period=config.backup_retention_days,
            deletion_protection=True,
            skip_final_snapshot=False,
            final_snapshot_identifier=f"{identifier}-final",
            copy_tags_to_snapshot=True,
            iam_database_authentication_enabled=True,
            **primary_only,
        )
        self.instances = [
            RdsClusterInstance(
                self,
                f"instance-{zone}",
                identifier=f"{identifier}-{index + 1}",
                cluster_identifier=self.cluster.id,
                engine=ENGINE,
                engine_version=config.aurora_engine_version,
                instance_class=config.aurora_instance_class,
                availability_zone=zone,
                db_subnet_group_name=subnet_group.name,
            )
            for index, zone in enumerate(
                network.region.availability_zones[: config.aurora_instances_per_region]
            )
        ]
