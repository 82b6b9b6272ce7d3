"""The in-process OPA engine kept compiled across evaluations (``watch``).

OPA keeps a prepared query per engine and drops it on any change to the
policies or the data; preparing it again costs most of an evaluation (about
0.4-0.6 s for this repository's policies, against 0.1-0.2 s for the
evaluation itself). The settings are data that change only with their file;
the facts (``data.facts``) change with every synthesized output. So the
engine loads the modules and the settings once (again only when either
changes) and hands the facts to each evaluation with ``with data.facts as
...``, inside one fixed query whose prepared form OPA keeps.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from compliance.engines.opa_local import LocalOpaEngine, rego_error

# Where the facts travel in the input document; build_input never writes this key.
FACTS_KEY = "__dr_compliance_facts"
_RESULT = "result"


class WarmOpaEngine(LocalOpaEngine):
    """A :class:`LocalOpaEngine` whose ``close`` keeps it; ``shutdown`` ends it."""

    name = "opa-inprocess"

    def __init__(self) -> None:
        super().__init__()
        self._loaded: str | None = None
        self._facts: Any = {}
        self.compilations = 0  # times the modules and settings were (re)loaded

    def load(self, modules: dict[str, str], data: dict[str, Any]) -> None:
        stable = {name: value for name, value in data.items() if name != "facts"}
        key = _digest(modules, stable)
        if key != self._loaded:
            from opa_bindings import OpaEngine

            self._engine.close()
            self._engine = OpaEngine()
            self._loaded = None
            super().load(modules, stable)
            self._loaded = key
            self.compilations += 1
        self._facts = data.get("facts", {})

    def evaluate(self, path: str, input_document: dict[str, Any]) -> Any:
        from opa_bindings.engine import OpaError

        query = f"{_RESULT} := data.{path} with data.facts as input.{FACTS_KEY}"
        try:
            rows = self._engine.eval_query(query, {**input_document, FACTS_KEY: self._facts})
        except OpaError as error:
            raise rego_error(error.message, path) from None
        return rows[0][_RESULT] if rows else {}

    def close(self) -> None:
        """Kept for the next evaluation (``run_check`` closes the engine it is given)."""

    def shutdown(self) -> None:
        super().close()


def _digest(modules: dict[str, str], data: dict[str, Any]) -> str:
    sha = hashlib.sha256()
    for name in sorted(modules):
        sha.update(name.encode() + b"\0" + modules[name].encode() + b"\0")
    sha.update(json.dumps(data, sort_keys=True, default=str).encode())
    return sha.hexdigest()
