"""The model reads any CDKTF layout and fails closed on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compliance.errors import InputError
from compliance.model import load_model
from compliance.model.document import build_input


def _write(path: Path, document: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


ONE_STACK = {
    "provider": {"aws": [{"region": "us-east-1"}, {"alias": "secondary", "region": "us-west-2"}]},
    "resource": {
        "aws_sns_topic": {
            "east": {"name": "a"},
            "west": {"name": "b", "provider": "aws.secondary"},
            "override": {"name": "c", "region": "eu-west-1"},
            "computed": {"name": "d", "region": "${var.region}"},
        }
    },
}


def test_regions_come_from_resource_argument_then_alias_then_default(tmp_path: Path) -> None:
    model = load_model(_write(tmp_path / "app.tf.json", ONE_STACK))
    regions = {r.name: r.region for r in model.resources()}
    assert regions == {
        "east": "us-east-1",
        "west": "us-west-2",
        "override": "eu-west-1",
        "computed": "us-east-1",
    }
    assert model.stacks[0].name == "app"


def test_synthesized_folder_has_three_linked_stacks(model) -> None:
    assert [s.name for s in model.stacks] == ["global", "primary", "secondary"]
    dependencies = {s.name: sorted(s.dependencies) for s in model.stacks}
    assert dependencies == {
        "global": ["primary", "secondary"],
        "primary": [],
        "secondary": ["primary"],
    }
    assert {s.name: s.region for s in model.stacks} == {
        "global": "us-east-1",
        "primary": "us-east-1",
        "secondary": "us-west-2",
    }


def test_secondary_cluster_joins_global_cluster_by_cross_stack_reference(model) -> None:
    cluster = next(
        r for r in model.resources() if r.stack == "secondary" and r.type == "aws_rds_cluster"
    )
    reference = cluster.values["global_cluster_identifier"]
    assert reference.startswith("${data.terraform_remote_state.cross-stack-reference-input-primary")
    edges = build_input(model)["refs_from"][f"secondary|{cluster.address}"]
    [edge] = [e for e in edges if e["names"] == ["global_cluster_identifier"]]
    assert edge["via"] == "cross-stack"
    assert edge["to"].startswith("primary|aws_rds_global_cluster.")
    assert edge["whole"] is True


def test_construct_path_comes_from_cdktf_metadata(model) -> None:
    cluster = next(
        r for r in model.resources() if r.stack == "primary" and r.type == "aws_rds_cluster"
    )
    assert cluster.construct_path == "primary/aurora/cluster"
    assert "//" not in cluster.to_input()["values"]


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (lambda p: p / "missing", "no such file or folder"),
        (lambda p: p, "empty"),
        (
            lambda p: _text(p / "bad.tf.json", "{nope"),
            "malformed JSON: Expecting property name enclosed in double quotes at line 1",
        ),
        (lambda p: _text(p / "list.tf.json", "[]"), "expected a JSON object"),
        (lambda p: _write(p / "empty.tf.json", {"resource": {}}), "zero resources"),
        (
            lambda p: (
                _write(
                    p / "manifest.json",
                    {"stacks": {"a": {"synthesizedStackPath": "stacks/a/cdk.tf.json"}}},
                ).parent
            ),
            "named in manifest.json but its file is missing",
        ),
        (lambda p: _write(p / "manifest.json", {"stacks": {}}).parent, "names no stacks"),
    ],
    ids=[
        "missing",
        "empty-folder",
        "malformed",
        "not-object",
        "no-resources",
        "missing-stack",
        "no-stacks",
    ],
)
def test_bad_input_is_one_line_naming_the_file(tmp_path: Path, setup, expected: str) -> None:
    path = setup(tmp_path)
    with pytest.raises(InputError) as caught:
        load_model(path)
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message
    assert str(tmp_path) in message


def _text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
