"""A region of the DR design: key, network, Aurora member, functions, topic."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.lambda_function_url import LambdaFunctionUrl
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.vpc_peering_connection import VpcPeeringConnection
from constructs import Construct

from infrastructure.components.alarms import EncryptedTopic, aurora_replication_lag_alarm
from infrastructure.components.database import GlobalDatabase, RegionalCluster
from infrastructure.components.functions import FunctionSpec, PolicyGrant, RegionalFunction
from infrastructure.components.kms import RegionalKey
from infrastructure.components.network import RegionalNetwork
from infrastructure.components.watchdog import ScheduledWatchdog
from infrastructure.config import DrConfig, RegionConfig
from infrastructure.stacks.base import DrStack

HEALTH_CHECK_DB_USER = "health_check"


class RegionalStack(DrStack):
    """One region. The primary owns the global cluster; the secondary joins it.

    Everything the secondary needs from the primary arrives as constructor
    arguments (Python properties), which CDKTF turns into cross-stack
    references: never a literal identifier.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: DrConfig,
        region: RegionConfig,
        primary: RegionalStack | None = None,
    ) -> None:
        super().__init__(scope, id_, config=config, region=region.name)
        self.region = region
        self.is_primary = primary is None
        prefix = f"{config.name_prefix}-{region.name}"
        self.key = RegionalKey(
            self,
            "kms",
            region=region.name,
            alias=prefix,
            deletion_window_days=config.kms_deletion_window_days,
        )
        self.network = RegionalNetwork(
            self, "network", region=region, database_port=config.database_port
        )
        if primary is None:
            self.global_database: GlobalDatabase | None = GlobalDatabase(
                self, "global-database", config=config
            )
            global_cluster = self.global_database.cluster
        else:
            self.global_database = None
            global_cluster = primary.global_cluster
        self.global_cluster = global_cluster
        self.database = RegionalCluster(
            self,
            "aurora",
            config=config,
            region_name=region.name,
            key=self.key,
            network=self.network,
            global_cluster_id=global_cluster.id,
            is_primary=self.is_primary,
        )
        self.topic = EncryptedTopic(self, "alerts", name=f"{prefix}-alerts", key=self.key)
        self.health_check = self._health_check_function(prefix)
        self.health_url = LambdaFunctionUrl(
            self,
            "health-url",
            function_name=self.health_check.function.function_name,
            authorization_type="NONE",
        )
        self.failover: RegionalFunction | None = None
        self.watchdog: ScheduledWatchdog | None = None
        self.peering: VpcPeeringConnection | None = None
        if primary is not None:
            self.failover = self._failover_function(prefix, primary)
            self.watchdog = ScheduledWatchdog(
                self,
                "watchdog",
                name=f"{prefix}-failover-watchdog",
                function=self.failover.function,
                schedule_expression=config.watchdog.schedule_expression,
            )
            self._request_peering(primary)
            aurora_replication_lag_alarm(
                self,
                "replication-lag-alarm",
                name=f"{prefix}-aurora-replication-lag",
                cluster_identifier=self.database.cluster.cluster_identifier,
                knobs=config.replication_alarm,
                topic_arn=self.topic.arn,
            )

    @property
    def health_url_value(self) -> str:
        return self.health_url.function_url

    @property
    def health_endpoint(self) -> str:
        """The full health URL; a Function URL always ends with "/"."""
        return f"{self.health_url.function_url}{self.config.health_check.path.lstrip('/')}"

    def _health_check_function(self, prefix: str) -> RegionalFunction:
        caller = DataAwsCallerIdentity(self, "caller")
        cluster = self.database.cluster
        db_user_arn = (
            f"arn:aws:rds-db:{self.region.name}:{caller.account_id}:dbuser:"
            f"{cluster.cluster_resource_id}/{HEALTH_CHECK_DB_USER}"
        )
        spec = FunctionSpec(
            name=f"{prefix}-health-check",
            source="health_check",
            environment={
                "DB_HOST": cluster.endpoint,
                "DB_PORT": str(self.config.database_port),
                "DB_NAME": self.config.database_name,
                "DB_USER": HEALTH_CHECK_DB_USER,
                "DB_REGION": self.region.name,
            },
            grants=[PolicyGrant(["rds-db:connect"], [db_user_arn], "ConnectAsHealthCheck")],
            timeout_seconds=5,
        )
        return RegionalFunction(
            self,
            "health-check",
            spec=spec,
            key=self.key,
            network=self.network,
            log_retention_days=self.config.log_retention_days,
        )

    def _failover_function(self, prefix: str, primary: RegionalStack) -> RegionalFunction:
        """Promotes this region's cluster; IAM names this global cluster only.

        Started by the primary health alarm (SNS, the backstop) and by the
        watchdog schedule, for which the environment declares the probe loop:
        the primary's health endpoint, the cadence and the failure threshold.
        It stays outside the VPC, whose subnets are private, to reach the
        primary's public Function URL and the RDS API.
        """
        scoped = [self.global_cluster.arn, self.database.cluster.arn]
        watchdog = self.config.watchdog
        spec = FunctionSpec(
            name=f"{prefix}-failover",
            source="failover",
            environment={
                "GLOBAL_CLUSTER_ID": self.global_cluster.id,
                "TARGET_CLUSTER_ARN": self.database.cluster.arn,
                "PRIMARY_ALARM_NAME": primary_health_alarm_name(self.config),
                "PRIMARY_HEALTH_URL": primary.health_endpoint,
                "PROBE_INTERVAL_SECONDS": str(watchdog.probe_interval_seconds),
                "FAILURE_THRESHOLD": str(watchdog.failure_threshold),
                "PROBE_TIMEOUT_SECONDS": str(watchdog.probe_timeout_seconds),
                "WATCH_SECONDS": str(watchdog.watch_seconds),
            },
            grants=[
                PolicyGrant(
                    ["rds:FailoverGlobalCluster", "rds:DescribeGlobalClusters"],
                    scoped,
                    "PromoteThisGlobalCluster",
                )
            ],
            timeout_seconds=watchdog.function_timeout_seconds,
            in_vpc=False,
        )
        return RegionalFunction(
            self,
            "failover",
            spec=spec,
            key=self.key,
            network=None,
            log_retention_days=self.config.log_retention_days,
        )

    def _request_peering(self, primary: RegionalStack) -> None:
        """Request peering to the primary VPC; the global stack accepts it.

        The accepter cannot live in the primary stack: the primary would then
        depend on the secondary, a cycle.
        """
        self.peering = VpcPeeringConnection(
            self,
            "peering",
            vpc_id=self.network.vpc.id,
            peer_vpc_id=primary.network.vpc.id,
            peer_region=primary.region.name,
        )
        Route(
            self,
            "route-to-primary",
            route_table_id=self.network.route_table.id,
            destination_cidr_block=primary.region.vpc_cidr,
            vpc_peering_connection_id=self.peering.id,
        )


def primary_health_alarm_name(config: DrConfig) -> str:
    """The alarm whose firing means the primary region is gone."""
    return f"{config.name_prefix}-{config.primary.name}-health"
