"""Read synthesized CDKTF output into stacks and blocks, failing closed on any bad shape.

Accepts a ``cdktf.out`` folder (``manifest.json`` plus one ``cdk.tf.json`` per
stack), a folder of ``*.tf.json`` files, or a single ``*.tf.json`` file
synthesized by anyone. Each block is given the region it will be created in:
its own ``region`` argument (AWS provider 6.x) when literal, else the region
of the provider alias it names, else the stack's default provider.

Bad input is an ``InputError`` naming the file and the JSON path: the
harness never reads outside the checked folder (a manifest naming
``../../etc/passwd`` is refused, symlinks included) and never crashes on a
shape Terraform would reject.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compliance.errors import InputError

_EXPRESSION = re.compile(r"\$\{")
_VARIABLE = re.compile(r"^\$\{var\.([A-Za-z_][\w-]*)\}$")
# Top-level keys of Terraform's JSON syntax and the shape each must have.
_OBJECT_SECTIONS = ("resource", "data", "output", "variable", "locals", "module", "terraform")


@dataclass(frozen=True)
class Resource:
    """One resource (or data source) block of one stack."""

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
        meta = self.values.get("//")
        metadata = meta.get("metadata") if isinstance(meta, dict) else None
        path = metadata.get("path") if isinstance(metadata, dict) else None
        return path if isinstance(path, str) else None

    def to_input(self) -> dict[str, Any]:
        values = self.values
        if "//" in values:
            values = {key: value for key, value in values.items() if key != "//"}
        return {
            "stack": self.stack,
            "type": self.type,
            "name": self.name,
            "address": self.address,
            "region": self.region,
            "provider": self.provider,
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

    def __post_init__(self) -> None:
        check_shape(self.document, self.file)

    def _provider_configs(self) -> list[dict[str, Any]]:
        configs = (self.document.get("provider") or {}).get("aws") or []
        return configs if isinstance(configs, list) else [configs]

    @functools.cached_property
    def providers(self) -> dict[str, str | None]:
        """Provider key (``aws`` or ``aws.<alias>``) to its literal region."""
        regions: dict[str, str | None] = {}
        for config in self._provider_configs():
            key = f"aws.{config['alias']}" if config.get("alias") else "aws"
            regions[key] = self.literal(config.get("region"))
        return regions

    def literal(self, value: Any) -> str | None:
        """A literal string, or the default of the variable ``${var.x}`` names; else None.

        A region written as a variable takes its default, as ``terraform plan``
        would without a variables file: the design as synthesized.
        """
        if _is_literal(value):
            return value
        match = _VARIABLE.match(value) if isinstance(value, str) else None
        variables = self.document.get("variable") or {}
        if match and isinstance(variables.get(match.group(1)), dict):
            default = variables[match.group(1)].get("default")
            return default if _is_literal(default) else None
        return None

    @property
    def region(self) -> str | None:
        return self.providers.get("aws")

    @functools.cached_property
    def default_tags(self) -> dict[str, dict[str, Any]]:
        """Provider key to the tags its ``default_tags`` block gives every resource."""
        tags: dict[str, dict[str, Any]] = {}
        for config in self._provider_configs():
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
        return self._resources

    def data_sources(self) -> list[Resource]:
        """Data sources (``data.<type>.<name>``): IAM policy documents live here."""
        return self._data_sources

    @functools.cached_property
    def _resources(self) -> list[Resource]:
        return self._blocks("resource")

    @functools.cached_property
    def _data_sources(self) -> list[Resource]:
        return self._blocks("data")

    def _blocks(self, kind: str) -> list[Resource]:
        providers = self.providers
        found: list[Resource] = []
        for type_, by_name in sorted((self.document.get(kind) or {}).items()):
            for name, values in sorted(by_name.items()):
                provider = _provider_key(values.get("provider"))
                region = self.literal(values.get("region")) or providers.get(provider)
                found.append(
                    Resource(self.name, type_, name, region, provider, values, kind == "data")
                )
        return found


@dataclass
class Model:
    """Every stack of one synthesized output."""

    source: Path
    stacks: list[Stack]
    manifest: dict[str, Any] | None = None

    def resources(self) -> list[Resource]:
        return [resource for stack in self.stacks for resource in stack.resources()]

    def stack(self, name: str) -> Stack:
        return next(stack for stack in self.stacks if stack.name == name)


def check_shape(document: Any, file: Path) -> None:
    """The structure Terraform's JSON syntax requires, down to each block; else bad input."""
    if not isinstance(document, dict):
        raise InputError(file, "expected a JSON object at the top level")
    for section in _OBJECT_SECTIONS:
        value = document.get(section)
        if value is not None and not isinstance(value, dict):
            raise InputError(file, f"$.{section} must be an object, not {_kind(value)}")
    for kind in ("resource", "data"):
        for type_, by_name in (document.get(kind) or {}).items():
            if not isinstance(by_name, dict):
                raise InputError(
                    file, f"$.{kind}.{type_} must map names to blocks, not {_kind(by_name)}"
                )
            for name, values in by_name.items():
                if not isinstance(values, dict):
                    raise InputError(
                        file, f"$.{kind}.{type_}.{name} must be an object, not {_kind(values)}"
                    )
    for name, output in (document.get("output") or {}).items():
        if not isinstance(output, dict):
            raise InputError(
                file, f'$.output.{name} must be an object with "value", not {_kind(output)}'
            )
    providers = document.get("provider")
    if providers is None:
        return
    if not isinstance(providers, dict):
        raise InputError(file, f"$.provider must be an object, not {_kind(providers)}")
    for name, configs in providers.items():
        entries = configs if isinstance(configs, list) else [configs]
        for index, config in enumerate(entries):
            if not isinstance(config, dict):
                raise InputError(
                    file,
                    f"$.provider.{name}[{index}] must be a provider block (an object), "
                    f"not {_kind(config)}",
                )


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number"
    )


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
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except OSError as error:
        raise InputError(path, f"cannot read: {error.strerror or error}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(path, f"not UTF-8 (byte {error.start}): JSON must be UTF-8") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        # json's messages end in "at" when a position follows ("Unterminated string starting at").
        where = f"line {error.lineno} column {error.colno}"
        what = f"{error.msg} {where}" if error.msg.endswith(" at") else f"{error.msg} at {where}"
        raise InputError(path, f"malformed JSON: {what}") from None
    except RecursionError:
        raise InputError(
            path, "JSON nested too deeply to read (a generated or hostile file?)"
        ) from None
    if not isinstance(document, dict):
        raise InputError(path, "expected a JSON object at the top level")
    return document


def load_model(path: Path) -> Model:
    """Load a ``cdktf.out`` folder, a folder of ``*.tf.json`` files or a single file."""
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


def inside(folder: Path, relative: str, named_by: Path) -> Path:
    """``folder/relative`` if it resolves inside ``folder`` (symlinks followed); else bad input."""
    root = folder.resolve()
    candidate = Path(relative)
    if candidate.is_absolute():
        raise InputError(
            named_by, f"names an absolute path {relative}: expected a path inside {folder}"
        )
    resolved = (root / candidate).resolve()
    if not resolved.is_relative_to(root):
        raise InputError(named_by, f"names {relative}, which resolves outside {folder}: refused")
    return resolved


def _load_folder(folder: Path) -> Model:
    manifest_path = folder / "manifest.json"
    if not manifest_path.exists():
        candidates = sorted(folder.glob("*.tf.json"))
        if not candidates:
            raise InputError(folder, "empty: no manifest.json and no *.tf.json file")
        stacks = []
        for file in candidates:
            inside(folder, file.name, file)  # a link out of the folder is not read
            stacks.append(Stack(_stack_name(file), file, read_json(file)))
        return Model(source=folder, stacks=stacks)
    manifest = read_json(manifest_path)
    entries = manifest.get("stacks")
    if not isinstance(entries, dict) or not entries:
        raise InputError(manifest_path, "$.stacks names no stacks")
    stacks = []
    for name, entry in sorted(entries.items()):
        if not isinstance(entry, dict):
            raise InputError(manifest_path, f"$.stacks.{name} must be an object")
        relative = entry.get("synthesizedStackPath")
        if not isinstance(relative, str) or not relative:
            raise InputError(manifest_path, f"$.stacks.{name} has no synthesizedStackPath")
        file = inside(folder, relative, manifest_path)
        if not file.is_file():
            raise InputError(file, f"stack {name} named in manifest.json but its file is missing")
        working = entry.get("workingDirectory")
        dependencies = entry.get("dependencies") or []
        if not isinstance(dependencies, list) or not all(isinstance(d, str) for d in dependencies):
            raise InputError(manifest_path, f"$.stacks.{name}.dependencies must be a list of names")
        stacks.append(
            Stack(
                name=name,
                file=file,
                document=read_json(file),
                dependencies=list(dependencies),
                working_directory=(
                    inside(folder, working, manifest_path)
                    if isinstance(working, str) and working
                    else file.parent
                ),
            )
        )
    return Model(source=folder, stacks=stacks, manifest=manifest)
