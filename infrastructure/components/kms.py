"""A customer-managed KMS key for everything stored in one region."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct

# Services that encrypt with the key on the account's behalf in this design.
_SERVICE_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey*", "kms:Encrypt", "kms:DescribeKey"]


class RegionalKey(Construct):
    """A rotating CMK whose policy names the account root and the services that use it.

    In a key policy ``Resource: "*"`` means "this key"; the principals are
    what must stay narrow (no ``kms:*`` for ``*``).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        region: str,
        alias: str,
        deletion_window_days: int,
    ) -> None:
        super().__init__(scope, id_)
        caller = DataAwsCallerIdentity(self, "caller")
        account_root = f"arn:aws:iam::{caller.account_id}:root"
        policy = DataAwsIamPolicyDocument(
            self,
            "policy",
            statement=[
                DataAwsIamPolicyDocumentStatement(
                    sid="AccountAdministers",
                    actions=["kms:*"],
                    resources=["*"],
                    principals=[
                        DataAwsIamPolicyDocumentStatementPrincipals(
                            type="AWS", identifiers=[account_root]
                        )
                    ],
                ),
                DataAwsIamPolicyDocumentStatement(
                    sid="RegionalServicesEncrypt",
                    actions=_SERVICE_ACTIONS,
                    resources=["*"],
                    principals=[
                        DataAwsIamPolicyDocumentStatementPrincipals(
                            type="Service",
                            identifiers=[
                                f"logs.{region}.amazonaws.com",
                                "sns.amazonaws.com",
                                "cloudwatch.amazonaws.com",
                            ],
                        )
                    ],
                ),
            ],
        )
        self.key = KmsKey(
            self,
            "key",
            description=f"DR customer-managed key for {region}",
            enable_key_rotation=True,
            deletion_window_in_days=deletion_window_days,
            policy=policy.json,
        )
        KmsAlias(self, "alias", name=f"alias/{alias}", target_key_id=self.key.key_id)

    @property
    def arn(self) -> str:
        return self.key.arn
