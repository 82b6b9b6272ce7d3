"""Secret candidates: where a secret may be, what kind of value it holds, never the value."""

from __future__ import annotations

import json
from typing import Any

import pytest

from compliance.model.secrets import holds, secret_like, shape
from compliance.model.testing import normalise


def _candidates(type_: str, values: dict[str, Any], data: bool = False) -> list[dict[str, Any]]:
    block = {"stack": "app", "type": type_, "name": "x", "values": values}
    document = normalise({"data_sources": [block]} if data else {"resources": [block]})
    return document["secrets"]


def _facts(candidates: list[dict[str, Any]]) -> set[tuple[str, str, str | None, str, str | None]]:
    return {(c["attr"], c["kind"], c["name"], c["holds"], c["shape"]) for c in candidates}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("DB_PASSWORD", True),
        ("apiKey", True),
        ("X-Api-Key", True),
        ("master_password_wo", True),
        ("auth_token", True),
        ("db_pass", True),
        ("bypass", False),
        ("creation_token", False),
        ("secret_id", False),
        ("kms_key_id", False),
    ],
)
def test_secret_like_names(name: str, expected: bool) -> None:
    assert secret_like(name) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("hunter2", "literal"),
        ("", "empty"),
        ("${random_password.db.result}", "expression"),
        ("TRUE", "boolean"),
        (True, "boolean"),
        (5432, "number"),
        ("arn:aws:secretsmanager:us-east-1:111122223333:secret:db", "arn"),
    ],
)
def test_what_a_value_holds(value: object, expected: str) -> None:
    assert holds(value) == expected


def test_credential_shapes_ignore_interpolated_parts() -> None:
    assert shape("postgres://admin:hunter2@db.internal/app") == "a URL with an embedded password"
    assert shape("postgres://${var.user}:${var.password}@db.internal/app") is None
    assert shape("AKIAIOSFODNN7EXAMPLE") == "an AWS access key id"


def test_no_candidate_carries_the_value() -> None:
    candidates = _candidates(
        "aws_lambda_function",
        {"environment": {"variables": {"DB_PASSWORD": "hunter2", "NOTE": "AKIAIOSFODNN7EXAMPLE"}}},
    )
    assert candidates
    assert "hunter2" not in json.dumps(candidates)
    assert "AKIAIOSFODNN7EXAMPLE" not in json.dumps(candidates)


def test_json_text_with_interpolations_and_jsonencode_are_read_inside() -> None:
    text = json.dumps(
        [
            {
                "environment": [
                    {"name": "DB_PASS", "value": "hunter2"},
                    {"name": "DB_HOST", "value": "${aws_rds_cluster.c.endpoint}"},
                ]
            }
        ]
    )
    encoded = (
        '${jsonencode([{"secrets" = [{"name" = "API_TOKEN", "value" = "${var.token}"}], '
        '"command" = ["--key", "AKIAIOSFODNN7EXAMPLE"]}])}'
    )
    assert _facts(_candidates("aws_ecs_task_definition", {"container_definitions": text})) == {
        ("container_definitions[0].environment[0]", "pair", "DB_PASS", "literal", None),
    }
    assert _facts(_candidates("aws_ecs_task_definition", {"container_definitions": encoded})) == {
        ("container_definitions[0].secrets[0]", "pair", "API_TOKEN", "expression", None),
        (
            "container_definitions[0].command[1]",
            "credential",
            None,
            "literal",
            "an AWS access key id",
        ),
    }


def test_master_password_secure_parameters_and_store_references() -> None:
    assert _facts(
        _candidates("aws_rds_cluster", {"master_password": "${var.pw}", "master_username": "app"})
    ) == {
        ("master_password", "master_password", "master_password", "expression", None),
    }
    assert _facts(
        _candidates("aws_ssm_parameter", {"name": "/app/url", "type": "SecureString", "value": "x"})
    ) == {
        ("value", "parameter", "/app/url", "literal", None),
    }
    pairs = {
        "environment": {
            "environment_variable": [
                {"name": "NPM_TOKEN", "value": "/ci/npm", "type": "PARAMETER_STORE"}
            ]
        }
    }
    assert _facts(_candidates("aws_codebuild_project", pairs)) == {
        ("environment.environment_variable[0]", "pair", "NPM_TOKEN", "store", None),
    }


def test_tag_keys_are_labels_and_data_sources_are_read() -> None:
    assert _facts(_candidates("aws_s3_bucket", {"tags": {"Secret": "internal"}})) == set()
    assert _facts(_candidates("http", {"request_headers": {"X-Api-Key": "abc"}}, data=True)) == {
        ("request_headers.X-Api-Key", "named", "X-Api-Key", "literal", None),
    }
