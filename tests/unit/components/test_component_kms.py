"""RegionalKey: a rotating CMK whose policy names the account root and the region's services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cdktf import TerraformOutput, TerraformStack
from stack_testing import REGION, Synthesized, ref

from infrastructure.components.kms import RegionalKey


@pytest.fixture(scope="session")
def kms(synth_stack: Callable[..., Synthesized]) -> Synthesized:
    def build(stack: TerraformStack) -> RegionalKey:
        key = RegionalKey(stack, "kms", region=REGION, alias="dr-test", deletion_window_days=21)
        TerraformOutput(stack, "key-arn", value=key.arn)  # what consumers of .arn receive
        return key

    return synth_stack("kms", build)


def _statements(kms: Synthesized) -> dict[str, dict[str, Any]]:
    (document,) = kms.data_sources("aws_iam_policy_document").values()
    return {statement["sid"]: statement for statement in document["statement"]}


def test_key_rotates_and_keeps_the_recovery_window(kms: Synthesized) -> None:
    assert kms.has_resource(
        "aws_kms_key", {"enable_key_rotation": True, "deletion_window_in_days": 21}
    )
    assert kms.values(kms.built.key)["description"] == f"DR customer-managed key for {REGION}"


def test_alias_points_at_the_key(kms: Synthesized) -> None:
    assert kms.has_resource(
        "aws_kms_alias", {"name": "alias/dr-test", "target_key_id": ref(kms.built.key, "key_id")}
    )


def test_policy_is_the_synthesized_document(kms: Synthesized) -> None:
    (name,) = kms.data_sources("aws_iam_policy_document")
    assert (
        kms.values(kms.built.key)["policy"] == "${data.aws_iam_policy_document." + name + ".json}"
    )


def test_account_root_administers_through_the_callers_account(kms: Synthesized) -> None:
    statement = _statements(kms)["AccountAdministers"]
    (caller,) = kms.data_sources("aws_caller_identity")
    assert statement["principals"] == [
        {
            "type": "AWS",
            "identifiers": [
                "arn:aws:iam::${data.aws_caller_identity." + caller + ".account_id}:root"
            ],
        }
    ]


def test_services_encrypt_but_never_administer(kms: Synthesized) -> None:
    statement = _statements(kms)["RegionalServicesEncrypt"]
    assert statement["principals"] == [
        {
            "type": "Service",
            "identifiers": [
                f"logs.{REGION}.amazonaws.com",
                "sns.amazonaws.com",
                "cloudwatch.amazonaws.com",
            ],
        }
    ]
    assert "kms:*" not in statement["actions"]
    assert set(statement["actions"]) == {
        "kms:Decrypt",
        "kms:GenerateDataKey*",
        "kms:Encrypt",
        "kms:DescribeKey",
    }


def test_arn_property_is_the_keys_arn(kms: Synthesized) -> None:
    assert kms.document["output"]["key-arn"]["value"] == ref(kms.built.key, "arn")
