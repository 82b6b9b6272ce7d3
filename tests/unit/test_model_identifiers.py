"""Literal identifiers in policies read into statements, and region names in literal hosts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from compliance.model.testing import normalise


def _literals(type_: str, values: dict[str, Any]) -> list[dict[str, Any]]:
    return normalise(
        {"resources": [{"stack": "app", "type": type_, "name": "x", "values": values}]}
    )["literals"]


def _policy(statement: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def test_an_identifier_in_a_json_policy_is_reported_once_at_its_statement() -> None:
    policy = _policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": "kms:*",
            "Resource": "${aws_kms_key.k.arn}",
        }
    )
    found = _literals("aws_kms_key", {"policy": policy})
    assert [(f["attr"], f["value"], f["shape"]) for f in found] == [
        (
            "policy.Statement[0].Principal",
            "arn:aws:iam::123456789012:root",
            "an ARN naming an account",
        )
    ]


def test_json_statements_are_read_as_policy_documents_are() -> None:
    policy = _policy(
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": ["arn:aws:s3:::orders-archive", "arn:aws:s3:::orders-archive/*", "*"],
            "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
        }
    )
    found = {(f["attr"], f["kind"]) for f in _literals("aws_iam_policy", {"policy": policy})}
    assert found == {
        (
            "policy.Statement[0].Resource[0]",
            "reference",
        ),  # a bucket named by hand; patterns are not
        ("policy.Statement[0].Condition.aws:SourceAccount", "identifier"),
    }


def test_an_unreadable_policy_is_still_searched_as_text() -> None:
    found = _literals(
        "aws_iam_policy",
        {
            "policy": '${templatefile("p.json", {account = "123456789012"})}'
            + "arn:aws:sqs:us-east-1:123456789012:q"
        },
    )
    assert [f["shape"] for f in found] == ["an ARN naming an account"]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"fqdn": "abc.lambda-url.us-west-2.on.aws"}, [("fqdn", "us-west-2")]),
        (
            {"fqdn": "${aws_lambda_function.f.function_name}.lambda-url.eu-central-1.on.aws"},
            [("fqdn", "eu-central-1")],
        ),
        ({"fqdn": "health.example.com", "ip_address": None}, [("fqdn", None)]),
        ({"ip_address": "203.0.113.10"}, [("ip_address", None)]),
    ],
)
def test_health_check_hosts_name_their_region(
    values: dict[str, Any], expected: list[tuple[str, Any]]
) -> None:
    hosts = normalise(
        {
            "resources": [
                {"stack": "app", "type": "aws_route53_health_check", "name": "h", "values": values}
            ]
        }
    )["hosts"]
    assert [
        (".".join(h["names"]), h["region"]) for h in hosts["app|aws_route53_health_check.h"]
    ] == expected


def test_record_hosts_are_each_record_and_the_alias_name() -> None:
    values = {
        "records": ["web.us-gov-west-1.example", "x.example.com"],
        "alias": {"name": "a.ap-southeast-2.elb.amazonaws.com", "zone_id": "Z1"},
    }
    hosts = normalise(
        {
            "resources": [
                {"stack": "app", "type": "aws_route53_record", "name": "r", "values": values}
            ]
        }
    )["hosts"]
    assert [(h["path"], h["region"]) for h in hosts["app|aws_route53_record.r"]] == [
        (["records", 0], "us-gov-west-1"),
        (["records", 1], None),
        (["alias", "name"], "ap-southeast-2"),
    ]
