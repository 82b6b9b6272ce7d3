"""Small models for unit tests, from blocks written the way a policy test reads.

A Rego unit test states its input as blocks (``stack``, ``type``, ``name``,
``region``, ``values``) with raw Terraform values such as
``"${aws_kms_key.k.arn}"``; cross-stack references as ``remote_outputs``
(``{consumer: {remote-state name: {stack, outputs: {name: value}}}}``); a
stack's ``provider`` block as synthesized (aliases, ``default_tags``). The
test runner turns that into the normalised input the policies read, through
the same model code a real check uses: a test never hand-writes an edge or a
parsed statement, so it also tests the normalisation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from compliance.model.document import build_input
from compliance.model.loader import Model, Stack
from compliance.model.references import CROSS_STACK_PREFIX

_DEFAULT_REGION = "us-east-1"


def model_from_blocks(raw: dict[str, Any]) -> Model:
    """A model of in-memory stacks: each block keeps the region the test gives it."""
    documents: dict[str, dict[str, Any]] = {}
    regions: dict[tuple[str, str], str | None] = {}
    stack_regions: dict[str, str | None] = {}
    for entry in raw.get("stacks") or []:
        stack_regions[entry["name"]] = entry.get("region")
        documents.setdefault(entry["name"], {})
        dependencies = entry.get("dependencies")
        if dependencies is not None:
            documents[entry["name"]]["//dependencies"] = list(dependencies)
        if entry.get("provider") is not None:  # the stack's provider block, as synthesized
            documents[entry["name"]]["provider"] = entry["provider"]
    for kind, entries in (
        ("resource", raw.get("resources") or []),
        ("data", raw.get("data_sources") or []),
    ):
        for block in entries:
            stack = block.get("stack", "app")
            document = documents.setdefault(stack, {})
            type_, name = block["type"], block["name"]
            document.setdefault(kind, {}).setdefault(type_, {})[name] = dict(
                block.get("values") or {}
            )
            if block.get("path"):
                document[kind][type_][name]["//"] = {"metadata": {"path": block["path"]}}
            address = f"data.{type_}.{name}" if kind == "data" else f"{type_}.{name}"
            regions[(stack, address)] = block.get("region", _DEFAULT_REGION)
    for consumer, remotes in (raw.get("remote_outputs") or {}).items():
        consumer_document = documents.setdefault(consumer, {})
        for data_name, remote in remotes.items():
            producer = remote.get("stack") or data_name.removeprefix(CROSS_STACK_PREFIX)
            state = consumer_document.setdefault("data", {}).setdefault(
                "terraform_remote_state", {}
            )
            state[CROSS_STACK_PREFIX + producer] = {"backend": "local"}
            outputs = documents.setdefault(producer, {}).setdefault("output", {})
            for output, value in (remote.get("outputs") or {}).items():
                outputs[output] = {"value": value, "sensitive": True}
            regions.setdefault(
                (consumer, f"data.terraform_remote_state.{CROSS_STACK_PREFIX}{producer}"), None
            )
    stacks = []
    for name, document in sorted(documents.items()):
        dependencies = document.pop("//dependencies", [])
        region = stack_regions.get(name, _DEFAULT_REGION)
        if region is not None:
            document.setdefault("provider", {"aws": [{"region": region}]})
        stacks.append(
            _FixedRegions(
                name=name,
                file=Path(f"{name}.tf.json"),
                document=document,
                dependencies=dependencies,
                regions=regions,
            )
        )
    return Model(
        source=Path("test-input"),
        stacks=stacks,
        manifest={"stacks": {}} if len(stacks) > 1 else None,
    )


class _FixedRegions(Stack):
    """A stack whose blocks take the regions a test states."""

    def __init__(self, *, regions: dict[tuple[str, str], str | None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._regions = regions

    def _blocks(self, kind: str):  # type: ignore[no-untyped-def]
        from dataclasses import replace

        found = super()._blocks(kind)
        return [
            replace(block, region=self._regions.get((self.name, block.address), block.region))
            for block in found
        ]


def normalise(raw: dict[str, Any]) -> dict[str, Any]:
    """The policy input for a test's blocks (the Rego tests' ``harness.normalise``)."""
    return build_input(model_from_blocks(raw))
