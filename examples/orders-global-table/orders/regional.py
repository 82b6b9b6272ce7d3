"""What each region runs: the health endpoint, its Route 53 health check, record and alarm."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import Fn
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.dynamodb_table import DynamodbTable
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction, LambdaFunctionEnvironment
from cdktf_cdktf_provider_aws.lambda_function_url import LambdaFunctionUrl
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.route53_health_check import Route53HealthCheck
from cdktf_cdktf_provider_aws.route53_record import (
    Route53Record,
    Route53RecordFailoverRoutingPolicy,
)
from cdktf_cdktf_provider_aws.route53_zone import Route53Zone
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from constructs import Construct


@dataclass(frozen=True)
class Region:
    key: str  # east, west: names the constructs
    name: str  # the AWS region
    provider: AwsProvider
    failover: str  # PRIMARY or SECONDARY


@dataclass(frozen=True)
class Shared:
    """What both regions use: the table, the DNS zone, the alert topic, the code."""

    table: DynamodbTable
    zone: Route53Zone
    alerts: SnsTopic
    code_path: str
    code_hash: str
    name: str  # the DNS name that fails over
    account_id: str
    partition: str


class RegionalEndpoint(Construct):
    """A region's health endpoint, and the Route 53 pieces that fail the name over to it."""

    def __init__(self, scope: Construct, id: str, *, region: Region, key: KmsKey, shared: Shared):
        super().__init__(scope, id)
        function_name = f"orders-health-{region.name}"
        table_arn = (
            f"arn:{shared.partition}:dynamodb:{region.name}:{shared.account_id}"
            f":table/{shared.table.name}"
        )
        logs = CloudwatchLogGroup(
            self,
            "logs",
            name=f"/aws/lambda/{function_name}",
            retention_in_days=30,
            kms_key_id=key.arn,
            provider=region.provider,
        )
        trust = DataAwsIamPolicyDocument(
            self,
            "trust",
            statement=[
                DataAwsIamPolicyDocumentStatement(
                    actions=["sts:AssumeRole"],
                    principals=[
                        DataAwsIamPolicyDocumentStatementPrincipals(
                            type="Service", identifiers=["lambda.amazonaws.com"]
                        )
                    ],
                )
            ],
        )
        grants = DataAwsIamPolicyDocument(
            self,
            "grants",
            statement=[
                DataAwsIamPolicyDocumentStatement(
                    sid="ReadCanary", actions=["dynamodb:GetItem"], resources=[table_arn]
                ),
                DataAwsIamPolicyDocumentStatement(
                    sid="WriteLogs",
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[f"{logs.arn}:*"],
                ),
                DataAwsIamPolicyDocumentStatement(
                    sid="UseKey", actions=["kms:Decrypt"], resources=[key.arn]
                ),
            ],
        )
        role = IamRole(
            self,
            "role",
            name=function_name,
            assume_role_policy=trust.json,
            provider=region.provider,
        )
        IamRolePolicy(
            self, "grants_policy", role=role.name, policy=grants.json, provider=region.provider
        )
        function = LambdaFunction(
            self,
            "function",
            function_name=function_name,
            role=role.arn,
            runtime="python3.12",
            handler="handler.handler",
            filename=shared.code_path,
            source_code_hash=shared.code_hash,
            timeout=5,
            kms_key_arn=key.arn,
            environment=LambdaFunctionEnvironment(variables={"TABLE_NAME": shared.table.name}),
            depends_on=[logs],
            provider=region.provider,
        )
        url = LambdaFunctionUrl(
            self,
            "url",
            function_name=function.function_name,
            authorization_type="NONE",
            provider=region.provider,
        )
        LambdaPermission(
            self,
            "public_url",
            statement_id="Route53HealthCheck",
            action="lambda:InvokeFunctionUrl",
            function_name=function.function_name,
            principal="*",
            function_url_auth_type="NONE",
            provider=region.provider,
        )
        host = Fn.element(Fn.split("/", url.function_url), 2)
        check = Route53HealthCheck(
            self,
            "check",
            type="HTTPS",
            fqdn=host,
            port=443,
            resource_path="/health",
            request_interval=10,
            failure_threshold=2,
        )
        Route53Record(
            self,
            "record",
            zone_id=shared.zone.zone_id,
            name=shared.name,
            type="CNAME",
            ttl=20,
            records=[host],
            set_identifier=region.key,
            health_check_id=check.id,
            failover_routing_policy=Route53RecordFailoverRoutingPolicy(type=region.failover),
        )
        # In us-east-1 (the default provider), where Route 53 publishes HealthCheckStatus.
        CloudwatchMetricAlarm(
            self,
            "down",
            alarm_name=f"orders-{region.name}-endpoint-down",
            namespace="AWS/Route53",
            metric_name="HealthCheckStatus",
            dimensions={"HealthCheckId": check.id},
            statistic="Minimum",
            period=60,
            evaluation_periods=1,
            threshold=1,
            comparison_operator="LessThanThreshold",
            treat_missing_data="breaching",
            alarm_actions=[shared.alerts.arn],
        )
