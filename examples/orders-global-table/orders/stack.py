"""One stack for both regions: us-east-1 on the default provider, us-west-2 on the "west" alias.

The orders table is a DynamoDB global table (a replica block per secondary
region), each region serves a health endpoint from a Lambda Function URL, and
Route 53 sends the orders name to the primary region while its health check
passes, to the secondary when it does not.
"""

from __future__ import annotations

from cdktf import AssetType, TerraformAsset, TerraformStack
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableReplica,
    DynamodbTableServerSideEncryption,
)
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from cdktf_cdktf_provider_aws.route53_zone import Route53Zone
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from constructs import Construct

from orders.packaging import base64_sha256, build_zip
from orders.regional import Region, RegionalEndpoint, Shared

TAGS = {"Environment": "production", "Owner": "orders-team", "DRTier": "gold"}
DOMAIN = "orders.example.com"
PRIMARY, SECONDARY = "us-east-1", "us-west-2"


class OrdersStack(TerraformStack):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        east = AwsProvider(
            self, "aws", region=PRIMARY, default_tags=[AwsProviderDefaultTags(tags=TAGS)]
        )
        west = AwsProvider(
            self,
            "aws_west",
            alias="west",
            region=SECONDARY,
            default_tags=[AwsProviderDefaultTags(tags=TAGS)],
        )
        self.account = DataAwsCallerIdentity(self, "account")
        self.partition = DataAwsPartition(self, "partition")
        regions = [
            Region("east", PRIMARY, east, "PRIMARY"),
            Region("west", SECONDARY, west, "SECONDARY"),
        ]
        keys = {region.key: self._key(region) for region in regions}

        table = DynamodbTable(
            self,
            "orders_table",
            name="orders",
            billing_mode="PAY_PER_REQUEST",
            hash_key="order_id",
            attribute=[DynamodbTableAttribute(name="order_id", type="S")],
            stream_enabled=True,
            stream_view_type="NEW_AND_OLD_IMAGES",
            deletion_protection_enabled=True,
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
            server_side_encryption=DynamodbTableServerSideEncryption(
                enabled=True, kms_key_arn=keys["east"].arn
            ),
            replica=[
                DynamodbTableReplica(
                    region_name=SECONDARY,
                    kms_key_arn=keys["west"].arn,
                    point_in_time_recovery=True,
                    deletion_protection_enabled=True,
                    propagate_tags=True,
                )
            ],
        )
        # Route 53 publishes health-check metrics in us-east-1 only: the alarms and their
        # topic live there.
        alerts = SnsTopic(
            self, "alerts", name="orders-dr-alerts", kms_master_key_id=keys["east"].arn
        )
        zone = Route53Zone(self, "zone", name=DOMAIN)

        code_zip = build_zip("functions/health", "health")
        code = TerraformAsset(self, "health_code", path=str(code_zip), type=AssetType.FILE)
        shared = Shared(
            table=table,
            zone=zone,
            alerts=alerts,
            code_path=code.path,
            code_hash=base64_sha256(code_zip),
            name=f"api.{DOMAIN}",
            account_id=self.account.account_id,
            partition=self.partition.partition,
        )
        for region in regions:
            RegionalEndpoint(
                self, f"{region.key}_endpoint", region=region, key=keys[region.key], shared=shared
            )

        # Replication lag, watched in the table's region for each replica region.
        CloudwatchMetricAlarm(
            self,
            "replication_latency",
            alarm_name="orders-replication-latency-us-west-2",
            namespace="AWS/DynamoDB",
            metric_name="ReplicationLatency",
            dimensions={"TableName": table.name, "ReceivingRegion": SECONDARY},
            statistic="Maximum",
            period=60,
            evaluation_periods=1,
            threshold=60000,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="breaching",
            alarm_actions=[alerts.arn],
        )

    def _key(self, region: Region) -> KmsKey:
        """A customer-managed key per region; the account administers it, services use it."""
        root = f"arn:{self.partition.partition}:iam::{self.account.account_id}:root"
        policy = DataAwsIamPolicyDocument(
            self,
            f"{region.key}_key_policy",
            statement=[
                DataAwsIamPolicyDocumentStatement(
                    sid="AccountAdministers",
                    actions=["kms:*"],
                    resources=["*"],
                    principals=[
                        DataAwsIamPolicyDocumentStatementPrincipals(type="AWS", identifiers=[root])
                    ],
                ),
                DataAwsIamPolicyDocumentStatement(
                    sid="ServicesEncrypt",
                    actions=[
                        "kms:Decrypt",
                        "kms:GenerateDataKey*",
                        "kms:DescribeKey",
                        "kms:Encrypt",
                    ],
                    resources=["*"],
                    principals=[
                        DataAwsIamPolicyDocumentStatementPrincipals(
                            type="Service",
                            identifiers=[
                                "dynamodb.amazonaws.com",
                                "cloudwatch.amazonaws.com",
                                "sns.amazonaws.com",
                                f"logs.{region.name}.amazonaws.com",
                            ],
                        )
                    ],
                ),
            ],
        )
        key = KmsKey(
            self,
            f"{region.key}_key",
            description=f"orders data in {region.name}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=policy.json,
            provider=region.provider,
        )
        KmsAlias(
            self,
            f"{region.key}_key_alias",
            name="alias/orders",
            target_key_id=key.key_id,
            provider=region.provider,
        )
        return key
