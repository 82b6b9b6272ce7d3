"""Policy engines behind one small interface.

An engine loads Rego modules and data once, then evaluates the whole rule
tree (``data.dr.rules``) for an input document in a single query.
"""

from __future__ import annotations

from typing import Any, Protocol


class PolicyEngine(Protocol):
    """What the harness needs from an engine."""

    name: str

    def version(self) -> str: ...

    def load(self, modules: dict[str, str], data: dict[str, Any]) -> None: ...

    def evaluate(self, path: str, input_document: dict[str, Any]) -> Any: ...

    def close(self) -> None: ...


def default_engine() -> PolicyEngine:
    """The in-process OPA engine (a remote one comes in through ``OPA_URL``)."""
    from compliance.engines.opa_local import LocalOpaEngine

    return LocalOpaEngine()
