"""The model's input schema holds both ways: inputs validate, policies read declared paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance.catalogue import load_policies
from compliance.engines.opa_local import LocalOpaEngine
from compliance.model import load_model
from compliance.model.contract import check_policies, undeclared, validation_errors
from compliance.model.document import build_input
from compliance.model.testing import normalise

APPS = Path(__file__).resolve().parents[1] / "fixtures" / "apps"
OUTPUTS = sorted(p for p in APPS.glob("*/cdktf.out") if (p / "manifest.json").is_file())


@pytest.mark.parametrize("output", OUTPUTS, ids=[p.parent.name for p in OUTPUTS])
def test_every_corpus_input_validates(output: Path) -> None:
    assert validation_errors(build_input(load_model(output))) == []


def test_our_own_stacks_input_validates(model) -> None:
    assert validation_errors(build_input(model)) == []


def test_a_broken_input_is_caught() -> None:
    document = normalise({"resources": [{"type": "aws_sns_topic", "name": "t", "values": {}}]})
    document["resources"][0]["regoin"] = "us-east-1"
    document["refs_from"] = []
    document["refs_to"] = {}  # gone from the contract (schema 3): lib.referrers groups refs_from
    errors = validation_errors(document)
    assert any("regoin" in e for e in errors)
    assert any("$.refs_from" in e for e in errors)
    assert any("refs_to" in e for e in errors)


def test_every_input_path_the_policies_read_is_declared() -> None:
    engine = LocalOpaEngine()
    try:
        assert check_policies(load_policies().modules, engine) == []
    finally:
        engine.close()


def test_a_misspelt_input_field_in_a_policy_is_reported() -> None:
    source = "package dr.rules.x\n\nbad contains r if {\n\tsome r in input.resource\n}\n"
    engine = LocalOpaEngine()
    try:
        problems = check_policies({"policies/x.rego": source}, engine)
    finally:
        engine.close()
    assert problems == [
        "policies/x.rego:4: input.resource is not in the input schema (input.schema.json)"
    ]


@pytest.mark.parametrize(
    ("names", "missing"),
    [
        (["resources"], None),
        (["refs_from", "app|aws_sns_topic.t"], None),
        (["zones"], None),
        (["stack"], "input.stack"),
        (["policies", "holderz"], None),  # an array: items are not reached by a static name
    ],
)
def test_undeclared_paths(names: list[str], missing: str | None) -> None:
    assert undeclared(names) == missing
