"""The mutation catalogue: deliberate breakages that each requirement must catch.

A policy that never fails proves nothing. Each mutant copies the project's
synthesized output, breaks one thing the way a real change could (drop an
attribute, swap a reference for a literal, widen a grant...), and names the
requirement and resource that must be flagged. The kill rate is the share of
mutants whose requirement reports that resource.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Target:
    """The resource a mutant breaks, as findings name it."""

    stack: str
    address: str


class Workspace:
    """A writable copy of a ``cdktf.out`` folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._documents: dict[str, dict[str, Any]] = {}

    def file(self, stack: str) -> Path:
        return self.root / "stacks" / stack / "cdk.tf.json"

    def document(self, stack: str) -> dict[str, Any]:
        if stack not in self._documents:
            self._documents[stack] = json.loads(self.file(stack).read_text(encoding="utf-8"))
        return self._documents[stack]

    def resources(self, stack: str, type_: str) -> dict[str, dict[str, Any]]:
        return self.document(stack)["resource"][type_]

    def first(self, stack: str, type_: str, contains: str = "") -> tuple[Target, dict[str, Any]]:
        """The first resource of a type (whose name contains ``contains``) and its values."""
        for name, values in sorted(self.resources(stack, type_).items()):
            if contains in name:
                return Target(stack, f"{type_}.{name}"), values
        raise KeyError(f"{stack} has no {type_} matching {contains!r}")

    def save(self) -> None:
        for stack, document in self._documents.items():
            self.file(stack).write_text(json.dumps(document, indent=2), encoding="utf-8")


Apply = Callable[[Workspace], Target]


@dataclass(frozen=True)
class Mutant:
    name: str
    requirement: str
    description: str
    apply: Apply

    def build(self, source: Path, destination: Path) -> Target:
        """Copy ``source`` to ``destination`` and break it there."""
        if destination.exists():
            shutil.rmtree(destination)
        shutil.copytree(source, destination)
        workspace = Workspace(destination)
        target = self.apply(workspace)
        workspace.save()
        return target


CATALOGUE: dict[str, Mutant] = {}


def mutant(name: str, requirement: str, description: str) -> Callable[[Apply], Apply]:
    """Register a mutation under a name that features can quote."""

    def register(apply: Apply) -> Apply:
        CATALOGUE[name] = Mutant(name, requirement, description, apply)
        return apply

    return register


def _register_all() -> None:
    """Import every mutation module; each registers its mutants on import."""
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")


_register_all()
