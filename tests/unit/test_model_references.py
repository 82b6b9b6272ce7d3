"""Cross-stack edges say which remote state the consumer reads, and from which stack."""

from __future__ import annotations

from typing import Any

from compliance.model.testing import normalise

_READ = "${data.terraform_remote_state.cross-stack-reference-input-%s.outputs.%s}"


def _edges(raw: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return normalise(raw)["refs_from"][key]


def _queue(value: str) -> dict[str, Any]:
    return {"stack": "consumer", "type": "aws_sqs_queue", "name": "q", "values": {"name": value}}


def test_a_cross_stack_edge_names_the_remote_state_and_the_producer() -> None:
    raw = {
        "resources": [
            {"stack": "producer", "type": "aws_sns_topic", "name": "t", "values": {}},
            _queue(_READ % ("producer", "arn")),
        ],
        "remote_outputs": {
            "consumer": {
                "cross-stack-reference-input-producer": {
                    "outputs": {"arn": "${aws_sns_topic.t.arn}"}
                }
            }
        },
    }
    [edge] = _edges(raw, "consumer|aws_sqs_queue.q")
    assert (edge["to"], edge["via"]) == ("producer|aws_sns_topic.t", "cross-stack")
    assert (
        edge["remote"]
        == "consumer|data.terraform_remote_state.cross-stack-reference-input-producer"
    )
    assert edge["producer"] == "producer"


def test_a_literal_output_is_still_a_read_of_the_producer() -> None:
    raw = {
        "resources": [
            {"stack": "producer", "type": "aws_sns_topic", "name": "t", "values": {}},
            _queue(_READ % ("producer", "name")),
        ],
        "remote_outputs": {
            "consumer": {"cross-stack-reference-input-producer": {"outputs": {"name": "orders"}}}
        },
    }
    [edge] = _edges(raw, "consumer|aws_sqs_queue.q")
    assert edge["to"] is None
    assert edge["producer"] == "producer"
    assert edge["reason"] == "output name of stack producer holds no reference"


def test_a_stack_outside_the_output_is_no_producer() -> None:
    raw = {"resources": [_queue(_READ % ("elsewhere", "name"))]}
    [edge] = _edges(raw, "consumer|aws_sqs_queue.q")
    assert (edge["to"], edge.get("producer"), edge.get("remote")) == (None, None, None)
    assert edge["reason"] == "stack elsewhere is not part of the checked output"


def test_a_direct_reference_reads_no_remote_state() -> None:
    raw = {
        "resources": [
            {"stack": "consumer", "type": "aws_sns_topic", "name": "t", "values": {}},
            _queue("${aws_sns_topic.t.name}"),
        ]
    }
    [edge] = _edges(raw, "consumer|aws_sqs_queue.q")
    assert (edge.get("via", "direct"), edge.get("remote"), edge.get("producer")) == (
        "direct",
        None,
        None,
    )


def test_a_local_value_is_resolved_where_it_is_defined() -> None:
    """CDKTF's TerraformLocal writes ${local.x}; the edge goes to the block the local names."""
    from compliance.model.document import build_input
    from compliance.model.testing import model_from_blocks

    model = model_from_blocks(
        {
            "resources": [
                {"type": "aws_kms_key", "name": "k", "values": {}},
                {
                    "type": "aws_sns_topic",
                    "name": "t",
                    "values": {"kms_master_key_id": "${local.key}"},
                },
                {
                    "type": "aws_sns_topic",
                    "name": "u",
                    "values": {"kms_master_key_id": "${local.none}"},
                },
            ]
        }
    )
    model.stacks[0].document["locals"] = {"key": "${aws_kms_key.k.arn}"}
    refs = build_input(model)["refs_from"]
    [edge] = refs["app|aws_sns_topic.t"]
    assert (edge["to"], edge.get("via", "direct"), edge.get("whole")) == (
        "app|aws_kms_key.k",
        "direct",
        True,
    )
    [unknown] = refs["app|aws_sns_topic.u"]
    assert unknown["to"] is None and unknown["reason"] == "a local value"
