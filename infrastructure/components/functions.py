"""Lambda functions with their own role, encrypted log group and reproducible code."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cdktf import AssetType, TerraformAsset
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.lambda_function import (
    LambdaFunction,
    LambdaFunctionEnvironment,
    LambdaFunctionVpcConfig,
)
from constructs import Construct

from infrastructure.components.kms import RegionalKey
from infrastructure.components.network import RegionalNetwork
from infrastructure.lambda_package import LAMBDA_ROOT, build_zip

RUNTIME = "python3.12"
# AWS-managed: the same ARN in every account, so not a hard-coded identifier.
VPC_ACCESS_POLICY = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
BASIC_EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
# One build folder per synth process (parallel synths must not share zips);
# CDKTF copies each zip into the stack's assets at synth, then it can go.
_BUILD_DIR = Path(tempfile.mkdtemp(prefix="dr-lambda-build-"))
atexit.register(shutil.rmtree, _BUILD_DIR, True)


@dataclass(frozen=True)
class PolicyGrant:
    """One least-privilege statement: these actions on these resources."""

    actions: list[str]
    resources: list[str]
    sid: str


@dataclass
class FunctionSpec:
    """What differs between the design's functions."""

    name: str
    source: str
    environment: dict[str, str] = field(default_factory=dict)
    grants: list[PolicyGrant] = field(default_factory=list)
    timeout_seconds: int = 10
    in_vpc: bool = True


class RegionalFunction(Construct):
    """A Lambda function, its execution role and its CMK-encrypted log group.

    The zip is built reproducibly and handed to CDKTF as a file asset, which
    CDKTF copies under the stack folder and references by a path relative to
    it, so the stack resolves wherever synth or Terraform runs.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        spec: FunctionSpec,
        key: RegionalKey,
        network: RegionalNetwork | None,
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, id_)
        package = build_zip(LAMBDA_ROOT / spec.source, _BUILD_DIR / f"{spec.source}.zip")
        asset = TerraformAsset(self, "code", path=str(package.path), type=AssetType.FILE)

        assume = DataAwsIamPolicyDocument(
            self,
            "assume",
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
        self.role = IamRole(self, "role", name=spec.name, assume_role_policy=assume.json)
        managed = VPC_ACCESS_POLICY if spec.in_vpc else BASIC_EXECUTION_POLICY
        IamRolePolicyAttachment(self, "execution", role=self.role.name, policy_arn=managed)
        if spec.grants:
            grants = DataAwsIamPolicyDocument(
                self,
                "grants",
                statement=[
                    DataAwsIamPolicyDocumentStatement(
                        sid=grant.sid, actions=grant.actions, resources=grant.resources
                    )
                    for grant in spec.grants
                ],
            )
            IamRolePolicy(self, "grants-policy", role=self.role.id, policy=grants.json)

        self.log_group = CloudwatchLogGroup(
            self,
            "logs",
            name=f"/aws/lambda/{spec.name}",
            retention_in_days=log_retention_days,
            kms_key_id=key.arn,
        )
        vpc_config = (
            LambdaFunctionVpcConfig(
                subnet_ids=network.subnet_ids, security_group_ids=[network.function_sg.id]
            )
            if spec.in_vpc and network is not None
            else None
        )
        self.function = LambdaFunction(
            self,
            "function",
            function_name=spec.name,
            role=self.role.arn,
            runtime=RUNTIME,
            handler="handler.handler",
            filename=asset.path,
            source_code_hash=package.source_code_hash,
            timeout=spec.timeout_seconds,
            memory_size=256,
            kms_key_arn=key.arn,
            environment=LambdaFunctionEnvironment(variables=spec.environment),
            vpc_config=vpc_config,
            depends_on=[self.log_group],
        )
