"""Helpers for the component tests: a synthesized test stack and CDKTF's matchers."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cdktf import TerraformDataSource, TerraformElement, TerraformStack, Testing

# Registers the provider package lazily (provider_loader), before any provider import.
import infrastructure  # noqa: F401

REGION = "eu-west-1"


@dataclass
class Synthesized:
    """One synthesized test stack and the constructs built into it."""

    text: str
    stack: TerraformStack
    built: Any
    document: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.document = json.loads(self.text)

    def has_resource(self, type_: str, properties: dict[str, Any]) -> bool:
        return bool(Testing.to_have_resource_with_properties(self.text, type_, properties))

    def has_data_source(self, type_: str, properties: dict[str, Any]) -> bool:
        return bool(Testing.to_have_data_source_with_properties(self.text, type_, properties))

    def resources(self, type_: str) -> dict[str, dict[str, Any]]:
        return self.document.get("resource", {}).get(type_, {})

    def data_sources(self, type_: str) -> dict[str, dict[str, Any]]:
        return self.document.get("data", {}).get(type_, {})

    def values(self, element: TerraformElement) -> dict[str, Any]:
        """The synthesized arguments of one resource or data source built by the test."""
        kind = self.document["data" if _is_data(element) else "resource"]
        return kind[_type(element)][element.friendly_unique_id]


def _type(element: TerraformElement) -> str:
    return str(element.terraform_resource_type)  # type: ignore[attr-defined]


def _is_data(element: TerraformElement) -> bool:
    return isinstance(element, TerraformDataSource)


def ref(element: TerraformElement, attribute: str) -> str:
    """The Terraform expression CDKTF writes for ``element.attribute`` within its stack."""
    prefix = "data." if _is_data(element) else ""
    return "${" + f"{prefix}{_type(element)}.{element.friendly_unique_id}.{attribute}" + "}"


def synth(
    outdir: str, name: str, build: Callable[[TerraformStack], Any], region: str = REGION
) -> Synthesized:
    """Run ``build(stack)`` in a fresh stack (with an AWS provider) and synthesize it."""
    from cdktf_cdktf_provider_aws.provider import AwsProvider  # after the lazy registration

    app = Testing.app(outdir=outdir)
    stack = TerraformStack(app, name)
    AwsProvider(stack, "aws", region=region)
    built = build(stack)
    return Synthesized(Testing.synth(stack), stack, built)
