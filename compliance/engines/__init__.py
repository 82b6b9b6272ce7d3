"""Policy engines behind one small interface.

An engine loads Rego modules and data once, then evaluates the whole rule
tree (``data.dr.rules``) for an input document in a single query.
"""

from __future__ import annotations

import os
from typing import Any, Protocol


class PolicyEngine(Protocol):
    """What the harness needs from an engine."""

    name: str

    def version(self) -> str: ...

    def load(self, modules: dict[str, str], data: dict[str, Any]) -> None: ...

    def evaluate(self, path: str, input_document: dict[str, Any]) -> Any: ...

    def close(self) -> None: ...


def default_engine() -> PolicyEngine:
    """A remote OPA server when ``OPA_URL`` is set, else the in-process OPA engine."""
    if os.environ.get("OPA_URL", "").strip():
        from compliance.engines.opa_remote import RemoteOpaEngine

        return RemoteOpaEngine()
    from compliance.engines.opa_local import LocalOpaEngine

    return LocalOpaEngine()
