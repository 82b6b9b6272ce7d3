"""Policies read into statements from every form, and managed policies attached by ARN."""

from __future__ import annotations

import json
from typing import Any

import pytest

from compliance.model.expressions import parse_template
from compliance.model.policies import aws_managed_policy, json_with_interpolations
from compliance.model.testing import normalise


def _block(type_: str, name: str, values: dict[str, Any], stack: str = "app") -> dict[str, Any]:
    return {"stack": stack, "type": type_, "name": name, "values": values}


def _use(document: dict[str, Any], holder: str) -> dict[str, Any]:
    [use] = [u for u in document["policies"] if u["holder"] == holder]
    return use


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        (
            "arn:aws:iam::aws:policy/AdministratorAccess",
            {"path": "/", "name": "AdministratorAccess"},
        ),
        (
            "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
            {"path": "/service-role/", "name": "AWSLambdaBasicExecutionRole"},
        ),
        (
            "arn:aws-us-gov:iam::aws:policy/job-function/ViewOnlyAccess",
            {"path": "/job-function/", "name": "ViewOnlyAccess"},
        ),
        ("arn:aws:iam::123456789012:policy/AdministratorAccess", None),  # the account's own policy
        ("arn:aws:iam::aws:policy/${var.name}", None),  # a name only apply time knows
        ("${aws_iam_policy.grants.arn}", None),
    ],
)
def test_aws_managed_policy_arns_are_recognised_in_any_partition(
    arn: str, expected: object
) -> None:
    assert aws_managed_policy(arn) == expected


def test_attachments_mark_aws_managed_arns_and_the_designs_own_policies() -> None:
    document = normalise(
        {
            "resources": [
                _block("aws_iam_policy", "grants", {"policy": "{}"}),
                _block(
                    "aws_iam_role_policy_attachment",
                    "own",
                    {
                        "role": "${aws_iam_role.r.name}",
                        "policy_arn": "${aws_iam_policy.grants.arn}",
                    },
                ),
                _block(
                    "aws_iam_role",
                    "r",
                    {
                        "assume_role_policy": "{}",
                        "managed_policy_arns": [
                            "arn:${data.aws_partition.p.partition}:iam::aws:policy/PowerUserAccess",
                            "arn:aws:iam::123456789012:policy/team",
                        ],
                    },
                ),
            ]
        }
    )
    found = {
        (a["holder"], a["attr"]): (a["aws_managed"], a["policy"]) for a in document["attachments"]
    }
    assert found == {
        ("app|aws_iam_role_policy_attachment.own", "policy_arn"): (
            None,
            "app|aws_iam_policy.grants",
        ),
        ("app|aws_iam_role.r", "managed_policy_arns[0]"): (
            {"path": "/", "name": "PowerUserAccess"},
            None,
        ),
        ("app|aws_iam_role.r", "managed_policy_arns[1]"): (None, None),
    }


def test_json_with_interpolations_gives_each_interpolation_back_as_text() -> None:
    text = json.dumps({"Statement": [{"Resource": ["${aws_s3_bucket.b.arn}/*"], "Sid": "Read"}]})
    assert json_with_interpolations(parse_template(text)) == {
        "Statement": [{"Resource": ["${aws_s3_bucket.b.arn}/*"], "Sid": "Read"}]
    }
    assert json_with_interpolations(parse_template("not ${json}")) is None


def test_literal_json_merged_into_a_document_is_read() -> None:
    # source_policy_documents may hold policy text as well as references to other documents.
    merged = json.dumps(
        {"Statement": [{"Sid": "Merged", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    )
    encoded = (
        '${jsonencode({"Statement" = [{"Sid" = "Encoded", "Effect" = "Deny", '
        '"Action" = "*", "Resource" = "*"}]})}'
    )
    document = normalise(
        {
            "resources": [
                _block("aws_iam_policy", "p", {"policy": "${data.aws_iam_policy_document.d.json}"})
            ],
            "data_sources": [
                _block(
                    "aws_iam_policy_document",
                    "d",
                    {
                        "statement": [
                            {
                                "sid": "Own",
                                "actions": ["s3:GetObject"],
                                "resources": ["arn:aws:s3:::b/*"],
                            }
                        ],
                        "source_policy_documents": [merged],
                        "override_policy_documents": [encoded],
                    },
                )
            ],
        }
    )
    use = _use(document, "app|aws_iam_policy.p")
    assert [(s["sid"], s["effect"], s["actions"], s["source"]) for s in use["statements"]] == [
        ("Own", "Allow", ["s3:GetObject"], "app|data.aws_iam_policy_document.d"),
        ("Merged", "Allow", ["s3:*"], "app|data.aws_iam_policy_document.d"),
        ("Encoded", "Deny", ["*"], "app|data.aws_iam_policy_document.d"),
    ]


_TRUST = {
    "Effect": "Allow",
    "Action": "sts:AssumeRole",
    "Principal": {"Service": "lambda.amazonaws.com"},
}
_SOURCE_ACCOUNT = {
    "StringEquals": {"aws:SourceAccount": "${data.aws_caller_identity.c.account_id}"}
}


@pytest.mark.parametrize(
    ("policy", "form"),
    [
        (json.dumps({"Statement": [_TRUST]}), "json"),
        (
            '${jsonencode({"Statement" = [{"Effect" = "Allow", "Action" = "sts:AssumeRole", '
            '"Principal" = {"Service" = ["lambda.amazonaws.com"]}}]})}',
            "jsonencode",
        ),
        (
            json.dumps({"Statement": [{**_TRUST, "Condition": _SOURCE_ACCOUNT}]}),
            "interpolated-json",
        ),
    ],
)
def test_trust_policy_principals_read_from_every_form(policy: str, form: str) -> None:
    document = normalise(
        {"resources": [_block("aws_iam_role", "r", {"assume_role_policy": policy})]}
    )
    use = _use(document, "app|aws_iam_role.r")
    assert (use["kind"], use["form"], use["readable"]) == ("trust", form, True)
    assert [s["principals"] for s in use["statements"]] == [[["Service", "lambda.amazonaws.com"]]]


def test_resource_policies_of_other_services_are_policy_uses() -> None:
    document = normalise(
        {
            "resources": [
                _block(
                    "aws_efs_file_system_policy",
                    "fs",
                    {"policy": "${data.aws_iam_policy_document.fs.json}"},
                ),
                _block("aws_opensearch_domain_policy", "search", {"access_policies": "{}"}),
            ],
            "data_sources": [_block("aws_iam_policy_document", "fs", {"statement": []})],
        }
    )
    found = {(u["holder"], u["attribute"], u["kind"], u["form"]) for u in document["policies"]}
    assert found == {
        ("app|aws_efs_file_system_policy.fs", "policy", "resource", "document"),
        ("app|aws_opensearch_domain_policy.search", "access_policies", "resource", "json"),
    }
