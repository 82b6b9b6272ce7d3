"""The Rego tests' ``harness.normalise``: blocks written by hand become the real model input."""

from __future__ import annotations

from compliance.model.testing import normalise


def test_a_stacks_provider_block_gives_aliases_and_default_tags() -> None:
    """One stack, two aliased providers, as CDKTF synthesizes them."""
    provider = {
        "aws": [
            {"region": "us-east-1", "default_tags": [{"tags": {"Owner": "team"}}]},
            {"alias": "west", "region": "us-west-2"},
        ]
    }
    document = normalise(
        {
            "stacks": [{"name": "app", "provider": provider}],
            "resources": [
                {"stack": "app", "type": "aws_kms_key", "name": "east", "values": {}},
                {
                    "stack": "app",
                    "type": "aws_kms_key",
                    "name": "west",
                    "region": "us-west-2",
                    "values": {"provider": "aws.west"},
                },
            ],
        }
    )
    (stack,) = document["stacks"]
    assert stack["providers"] == {"aws": "us-east-1", "aws.west": "us-west-2"}
    assert stack["default_tags"] == {"aws": {"Owner": "team"}, "aws.west": {}}
    providers = {r["name"]: (r["provider"], r["region"]) for r in document["resources"]}
    assert providers == {"east": ("aws", "us-east-1"), "west": ("aws.west", "us-west-2")}


def test_without_a_provider_block_a_stack_gets_a_default_one() -> None:
    document = normalise(
        {"resources": [{"stack": "p", "type": "aws_sns_topic", "name": "t", "values": {}}]}
    )
    assert document["stacks"][0]["providers"] == {"aws": "us-east-1"}
    assert document["stacks"][0]["default_tags"] == {"aws": {}}
