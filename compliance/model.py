"""Read synthesized CDKTF output into a model the policies can judge.

Accepts a ``cdktf.out`` folder (``manifest.json`` plus one ``cdk.tf.json`` per
stack) or a single ``*.tf.json`` file synthesized by anyone. Each resource is
given the region it will be created in: its own ``region`` argument (AWS
provider 6.x) when literal, else the region of the provider alias it names,
else the stack's default provider.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compliance.errors import InputError

_REMOTE_STATE = "terraform_remote_state"
_CROSS_STACK_PREFIX = "cross-stack-reference-input-"
_EXPRESSION = re.compile(r"\$\{")


@dataclass(frozen=True)
class Resource:
    """One resource block of one stack."""

    stack: str
    type: str
    name: str
    region: str | None
    provider: str
    values: dict[str, Any]
    is_data: bool = False

    @property
    def address(self) -> str:
        prefix = "data." if self.is_data else ""
        return f"{prefix}{self.type}.{self.name}"

    @property
    def construct_path(self) -> str | None:
        """The CDKTF construct path from the ``//`` metadata, if the synthesizer wrote one."""
        metadata = self.values.get("//", {}).get("metadata", {})
        return metadata.get("path")

    def to_input(self) -> dict[str, Any]:
        values = {key: value for key, value in self.values.items() if key != "//"}
        return {
            "stack": self.stack,
            "type": self.type,
            "name": self.name,
            "address": self.address,
            "region": self.region,
            "provider": self.provider,
            "path": self.construct_path,
            "values": values,
        }


@dataclass
class Stack:
    """One synthesized stack: its document, providers and dependencies."""

    name: str
    file: Path
    document: dict[str, Any]
    dependencies: list[str] = field(default_factory=list)
    working_directory: Path | None = None

    @property
    def providers(self) -> dict[str, str | None]:
        """Provider key (``aws`` or ``aws.<alias>``) to its literal region."""
        regions: dict[str, str | None] = {}
        for config in self.document.get("provider", {}).get("aws", []) or []:
            key = f"aws.{config['alias']}" if config.get("alias") else "aws"
            region = config.get("region")
            regions[key] = region if _is_literal(region) else None
        return regions

    @property
    def region(self) -> str | None:
        return self.providers.get("aws")

    @property
    def default_tags(self) -> dict[str, dict[str, Any]]:
        """Provider key to the tags its ``default_tags`` block gives every resource."""
        tags: dict[str, dict[str, Any]] = {}
        for config in self.document.get("provider", {}).get("aws", []) or []:
            key = f"aws.{config['alias']}" if config.get("alias") else "aws"
            blocks = config.get("default_tags") or []
            blocks = blocks if isinstance(blocks, list) else [blocks]
            merged: dict[str, Any] = {}
            for block in blocks:
                if isinstance(block, dict) and isinstance(block.get("tags"), dict):
                    merged.update(block["tags"])
            tags[key] = merged
        return tags

    def resources(self) -> list[Resource]:
        return self._blocks("resource")

    def data_sources(self) -> list[Resource]:
        """Data sources (``data.<type>.<name>``): IAM policy documents live here."""
        return self._blocks("data")

    def _blocks(self, kind: str) -> list[Resource]:
        providers = self.providers
        found: list[Resource] = []
        blocks = self.document.get(kind, {})
        if not isinstance(blocks, dict):
            raise InputError(self.file, f"'{kind}' must be an object of {kind} types")
        for type_, by_name in sorted(blocks.items()):
            if not isinstance(by_name, dict):
                raise InputError(self.file, f"resource type {type_} must map names to blocks")
            for name, values in sorted(by_name.items()):
                if not isinstance(values, dict):
                    raise InputError(self.file, f"{type_}.{name} must be an object")
                provider = _provider_key(values.get("provider"))
                region = values.get("region")
                if not _is_literal(region):
                    region = providers.get(provider)
                found.append(
                    Resource(self.name, type_, name, region, provider, values, kind == "data")
                )
        return found

    def remote_outputs(self, stacks_by_name: dict[str, Stack]) -> dict[str, Any]:
        """Each cross-stack remote-state data source, mapped to the producer's outputs."""
        mapped: dict[str, Any] = {}
        remote = self.document.get("data", {}).get(_REMOTE_STATE, {})
        for data_name in remote:
            if not data_name.startswith(_CROSS_STACK_PREFIX):
                continue
            producer = data_name.removeprefix(_CROSS_STACK_PREFIX)
            if producer not in stacks_by_name:
                continue
            outputs = stacks_by_name[producer].document.get("output", {})
            mapped[data_name] = {
                "stack": producer,
                "outputs": {key: out.get("value") for key, out in outputs.items()},
            }
        return mapped


@dataclass
class Model:
    """Everything the policies see, built from one synthesized output."""

    source: Path
    stacks: list[Stack]
    manifest: dict[str, Any] | None = None

    def resources(self) -> list[Resource]:
        return [resource for stack in self.stacks for resource in stack.resources()]

    def stack(self, name: str) -> Stack:
        return next(stack for stack in self.stacks if stack.name == name)

    def to_input(self) -> dict[str, Any]:
        by_name = {stack.name: stack for stack in self.stacks}
        return {
            "layout": "manifest" if self.manifest is not None else "single-file",
            "stacks": [
                {
                    "name": stack.name,
                    "region": stack.region,
                    "providers": stack.providers,
                    "default_tags": stack.default_tags,
                    "dependencies": stack.dependencies,
                }
                for stack in self.stacks
            ],
            "resources": [resource.to_input() for resource in self.resources()],
            "data_sources": [
                source.to_input() for stack in self.stacks for source in stack.data_sources()
            ],
            "remote_outputs": {stack.name: stack.remote_outputs(by_name) for stack in self.stacks},
        }


def _is_literal(value: Any) -> bool:
    return isinstance(value, str) and not _EXPRESSION.search(value)


def _provider_key(value: Any) -> str:
    """``aws.secondary`` from ``"aws.secondary"`` or ``"${aws.secondary}"``."""
    if not isinstance(value, str) or not value:
        return "aws"
    return value.removeprefix("${").removesuffix("}")


def read_json(path: Path) -> dict[str, Any]:
    """Parse a JSON object or fail with a one-line reason naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(path, f"cannot read: {error}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(
            path, f"malformed JSON at line {error.lineno} column {error.colno}: {error.msg}"
        ) from None
    if not isinstance(document, dict):
        raise InputError(path, "expected a JSON object at the top level")
    return document


def load_model(path: Path) -> Model:
    """Load a ``cdktf.out`` folder or a single ``*.tf.json`` file."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such file or folder")
    if path.is_file():
        stack = Stack(name=_stack_name(path), file=path, document=read_json(path))
        model = Model(source=path, stacks=[stack])
    else:
        model = _load_folder(path)
    if not model.resources():
        raise InputError(path, "zero resources to evaluate (nothing synthesized?)")
    return model


def _stack_name(file: Path) -> str:
    name = file.name.removesuffix(".json").removesuffix(".tf")
    return file.parent.name if name == "cdk" else name


def _load_folder(folder: Path) -> Model:
    manifest_path = folder / "manifest.json"
    if not manifest_path.exists():
        candidates = sorted(folder.glob("*.tf.json"))
        if not candidates:
            raise InputError(folder, "empty: no manifest.json and no *.tf.json file")
        stacks = [Stack(_stack_name(file), file, read_json(file)) for file in candidates]
        return Model(source=folder, stacks=stacks)
    manifest = read_json(manifest_path)
    entries = manifest.get("stacks")
    if not isinstance(entries, dict) or not entries:
        raise InputError(manifest_path, "manifest names no stacks")
    stacks = []
    for name, entry in sorted(entries.items()):
        relative = entry.get("synthesizedStackPath") if isinstance(entry, dict) else None
        if not relative:
            raise InputError(manifest_path, f"stack {name} has no synthesizedStackPath")
        file = folder / relative
        if not file.is_file():
            raise InputError(file, f"stack {name} named in manifest.json but its file is missing")
        working = entry.get("workingDirectory")
        stacks.append(
            Stack(
                name=name,
                file=file,
                document=read_json(file),
                dependencies=list(entry.get("dependencies") or []),
                working_directory=folder / working if working else file.parent,
            )
        )
    return Model(source=folder, stacks=stacks, manifest=manifest)
