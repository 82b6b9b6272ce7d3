"""The real OPA engine, in process, through ``opa-golib-python-bindings``."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from compliance.errors import InputError

_DISTRIBUTION = "opa-golib-python-bindings"
# The Go OPA release compiled into that distribution's shared library.
_OPA_RELEASE = "1.20"
_LOCATED = re.compile(r"(?P<where>[^\s:]+\.rego:\d+): (?P<what>[^\n]+)")
# Go's garbage collector: collect at 4x the live heap, but harder near 1.5 GiB.
_GO_DEFAULTS = {"GOGC": "400", "GOMEMLIMIT": "1536MiB"}


class LocalOpaEngine:
    """OPA's Go library loaded with ctypes; evaluation never leaves the process."""

    name = "opa-inprocess"

    def __init__(self) -> None:
        try:
            from opa_bindings import OpaEngine
        except ImportError as error:
            raise InputError(
                _DISTRIBUTION,
                "not installed: pip install --no-deps --ignore-requires-python "
                f"{_DISTRIBUTION}==0.4.4 ({error})",
            ) from None
        with _go_runtime_settings():
            self._engine = OpaEngine()

    def register(self, name: str, function: Any) -> None:
        """Expose a Python function to Rego as a builtin (the Rego tests' ``harness.normalise``)."""
        self._engine.register_function(name, function)

    def parse_module(self, name: str, source: str) -> dict[str, Any]:
        """OPA's own AST of a module (``rego.parse_module``), as JSON."""
        from opa_bindings.engine import OpaError

        try:
            rows = self._engine.eval_query(
                "x := rego.parse_module(input.name, input.source)", {"name": name, "source": source}
            )
        except OpaError as error:
            raise rego_error(error.message, name) from None
        return rows[0]["x"]

    def version(self) -> str:
        try:
            return f"OPA {_OPA_RELEASE} ({_DISTRIBUTION} {version(_DISTRIBUTION)})"
        except PackageNotFoundError:
            return f"OPA {_OPA_RELEASE}"

    def load(self, modules: dict[str, str], data: dict[str, Any]) -> None:
        from opa_bindings.engine import OpaError

        for name, source in modules.items():
            try:
                self._engine.add_policy(name, source)
            except OpaError as error:
                raise rego_error(error.message, name) from None
        if data:
            self._engine.add_data(data)

    def evaluate(self, path: str, input_document: dict[str, Any]) -> Any:
        from opa_bindings.engine import OpaError, OpaUndefinedError

        try:
            return self._engine.eval_document(path, input_document)
        except OpaUndefinedError:
            return {}
        except OpaError as error:
            # Type and unsafe-variable errors surface here, at first evaluation.
            raise rego_error(error.message, path) from None

    def evaluate_with_coverage(self, path: str, input_document: dict[str, Any]) -> Any:
        value = self._engine.eval_document(path, input_document, coverage=True)
        return value, self._engine.last_coverage

    def close(self) -> None:
        self._engine.close()


@contextmanager
def _go_runtime_settings() -> Iterator[None]:
    """Garbage-collector settings for the Go runtime, read once when the library loads.

    Evaluating a large input allocates the OPA AST of the whole input and many
    short-lived terms; with Go's default (GOGC=100) a fifth of the evaluation
    is spent collecting. A larger heap target with a soft memory limit keeps
    that down without letting a 100,000-resource input grow past the limit.
    A user's own GOGC / GOMEMLIMIT win; nothing leaks into child processes.
    """
    added = {name: value for name, value in _GO_DEFAULTS.items() if name not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def rego_error(message: str, fallback: str) -> InputError:
    """One line from OPA's multi-line error: ``file.rego:LINE`` and what is wrong."""
    match = _LOCATED.search(message)
    if match:
        return InputError(match.group("where"), match.group("what"))
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return InputError(fallback, lines[0] if lines else message)
