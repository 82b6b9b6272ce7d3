"""Global routing and state: DNS failover, health checks, the DynamoDB global table."""

from __future__ import annotations

from cdktf import Fn
from cdktf_cdktf_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableReplica,
    DynamodbTableServerSideEncryption,
)
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route53_health_check import Route53HealthCheck
from cdktf_cdktf_provider_aws.route53_record import (
    Route53Record,
    Route53RecordFailoverRoutingPolicy,
)
from cdktf_cdktf_provider_aws.route53_zone import Route53Zone
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from cdktf_cdktf_provider_aws.vpc_peering_connection_accepter import (
    VpcPeeringConnectionAccepterA,
)
from constructs import Construct

from infrastructure.components.alarms import (
    EncryptedTopic,
    dynamodb_replication_alarm,
    health_check_status_alarm,
)
from infrastructure.components.kms import RegionalKey
from infrastructure.config import DrConfig
from infrastructure.stacks.base import DrStack
from infrastructure.stacks.regional import RegionalStack, primary_health_alarm_name

HTTPS_PORT = 443


def url_host(function_url: str) -> str:
    """The host of a Function URL (``https://<id>.lambda-url.<region>.on.aws/``).

    Route 53 wants a host name in ``fqdn``; the URL splits on ``/`` into
    ``["https:", "", host, ""]``.
    """
    return Fn.element(Fn.split("/", function_url), 2)


class GlobalStack(DrStack):
    """Lives in us-east-1, where Route 53 publishes its health-check metrics."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: DrConfig,
        primary: RegionalStack,
        secondary: RegionalStack,
    ) -> None:
        super().__init__(scope, id_, config=config, region=config.global_region)
        prefix = f"{config.name_prefix}-global"
        self.key = RegionalKey(
            self,
            "kms",
            region=config.global_region,
            alias=prefix,
            deletion_window_days=config.kms_deletion_window_days,
        )
        self.topic = EncryptedTopic(self, "alerts", name=f"{prefix}-alerts", key=self.key)
        self.zone = Route53Zone(self, "zone", name=config.domain)
        self.health_checks: dict[str, Route53HealthCheck] = {}
        for role, stack in (("primary", primary), ("secondary", secondary)):
            self.health_checks[role] = self._region_failover(role, stack)
        self._trigger_promotion(primary, secondary)
        self._accept_peering(primary, secondary)
        self.table = self._global_table(prefix, secondary)

    def _region_failover(self, role: str, stack: RegionalStack) -> Route53HealthCheck:
        """Health check, status alarm and failover record for one region."""
        knobs = self.config.health_check
        host = url_host(stack.health_url_value)
        check = Route53HealthCheck(
            self,
            f"{role}-health",
            type="HTTPS",
            fqdn=host,
            port=HTTPS_PORT,
            resource_path=knobs.path,
            request_interval=knobs.request_interval,
            failure_threshold=knobs.failure_threshold,
            enable_sni=True,
        )
        alarm_name = (
            primary_health_alarm_name(self.config)
            if role == "primary"
            else f"{self.config.name_prefix}-{stack.region.name}-health"
        )
        health_check_status_alarm(
            self,
            f"{role}-health-alarm",
            name=alarm_name,
            health_check_id=check.id,
            topic_arn=self.topic.arn,
        )
        Route53Record(
            self,
            f"{role}-record",
            zone_id=self.zone.zone_id,
            name=self.config.service_fqdn,
            type="CNAME",
            ttl=knobs.record_ttl,
            records=[host],
            set_identifier=f"{role}-{stack.region.name}",
            health_check_id=check.id,
            failover_routing_policy=Route53RecordFailoverRoutingPolicy(type=role.upper()),
        )
        return check

    def _trigger_promotion(self, primary: RegionalStack, secondary: RegionalStack) -> None:
        """The primary health alarm notifies the topic; the failover function listens.

        This is the backstop: the watchdog schedule in the secondary region
        (see RegionalStack) starts the promotion within seconds. This alarm, on
        a one-minute metric in us-east-1 (the only region with Route 53
        metrics), fires minutes later, but from Route 53's many checkers rather
        than the watchdog's single vantage point. The permission is created in
        the function's region through the resource-level ``region`` argument
        of provider 6.x.
        """
        assert secondary.failover is not None
        function = secondary.failover.function
        SnsTopicSubscription(
            self,
            "failover-subscription",
            topic_arn=self.topic.arn,
            protocol="lambda",
            endpoint=function.arn,
        )
        LambdaPermission(
            self,
            "failover-invoke",
            region=secondary.region.name,
            function_name=function.function_name,
            action="lambda:InvokeFunction",
            principal="sns.amazonaws.com",
            source_arn=self.topic.arn,
        )

    def _accept_peering(self, primary: RegionalStack, secondary: RegionalStack) -> None:
        """Accept the secondary's request in the primary region, route back to it."""
        assert secondary.peering is not None
        accepter = VpcPeeringConnectionAccepterA(
            self,
            "peering-accepter",
            region=primary.region.name,
            vpc_peering_connection_id=secondary.peering.id,
            auto_accept=True,
        )
        Route(
            self,
            "route-to-secondary",
            region=primary.region.name,
            route_table_id=primary.network.route_table.id,
            destination_cidr_block=secondary.region.vpc_cidr,
            vpc_peering_connection_id=accepter.id,
        )

    def _global_table(self, prefix: str, secondary: RegionalStack) -> DynamodbTable:
        table = DynamodbTable(
            self,
            "sessions",
            name=f"{prefix}-sessions",
            billing_mode="PAY_PER_REQUEST",
            hash_key="pk",
            attribute=[DynamodbTableAttribute(name="pk", type="S")],
            stream_enabled=True,
            stream_view_type="NEW_AND_OLD_IMAGES",
            deletion_protection_enabled=True,
            server_side_encryption=DynamodbTableServerSideEncryption(
                enabled=True, kms_key_arn=self.key.arn
            ),
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
            replica=[
                DynamodbTableReplica(
                    region_name=secondary.region.name,
                    kms_key_arn=secondary.key.arn,
                    point_in_time_recovery=True,
                    propagate_tags=True,
                    deletion_protection_enabled=True,
                )
            ],
        )
        dynamodb_replication_alarm(
            self,
            "table-replication-alarm",
            name=f"{prefix}-sessions-replication-latency",
            table_name=table.name,
            receiving_region=secondary.region.name,
            knobs=self.config.replication_alarm,
            topic_arn=self.topic.arn,
        )
        return table
