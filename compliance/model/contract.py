"""The contract between the model and the policies: input.schema.json, enforced both ways.

Every input the harness builds must validate against the schema, and every
``input.<field>...`` path a policy reads (its static prefix) must exist in it,
so a misspelt field is an error when the policies load, not a requirement
that silently evaluates nothing. OPA's own schema annotations would give the
same check at compile time, but the in-process engine here does not apply
them (measured: a misspelt field with an inline schema compiles and
evaluates to nothing); the policies are parsed by OPA itself
(``rego.parse_module``) and their input paths checked here instead.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).with_name("input.schema.json")


@functools.cache
def input_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def validation_errors(document: dict[str, Any], limit: int = 5) -> list[str]:
    """Where an input breaks the schema (JSON path and message), at most ``limit``."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(input_schema())
    found = []
    for error in validator.iter_errors(document):
        found.append(f"{error.json_path}: {error.message[:200]}")
        if len(found) >= limit:
            break
    return found


def input_paths(ast: dict[str, Any]) -> Iterator[tuple[list[str], int]]:
    """The static prefix of every ``input.a.b`` reference in a parsed module, with its row."""
    for node in _walk(ast):
        if not (isinstance(node, dict) and node.get("type") == "ref"):
            continue
        terms = node.get("value") or []
        if not terms or terms[0].get("type") != "var" or terms[0].get("value") != "input":
            continue
        names: list[str] = []
        for term in terms[1:]:
            if term.get("type") != "string":
                break
            names.append(str(term["value"]))
        row = (terms[0].get("location") or {}).get("row", 0)
        yield names, row


def undeclared(names: list[str]) -> str | None:
    """The first segment of ``input.<names>`` the schema does not declare, else None."""
    schema = input_schema()
    defs = schema.get("$defs", {})
    node: dict[str, Any] = schema
    for depth, name in enumerate(names):
        node = _resolve(node, defs)
        properties = node.get("properties")
        if properties is not None:
            if name not in properties:
                return ".".join(["input", *names[: depth + 1]])
            node = properties[name]
            continue
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            node = extra  # a map keyed by block keys: any name is a key
            continue
        return None  # values the schema leaves open (a block's raw values)
    return None


def _row(source: str, text: str) -> int:
    """The line where ``text`` first appears (OPA's JSON AST carries no term locations)."""
    for number, line in enumerate(source.splitlines(), start=1):
        if text in line:
            return number
    return 0


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = defs[node["$ref"].rsplit("/", 1)[-1]]
    return node


def _walk(value: Any) -> Iterator[Any]:
    stack = [value]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, dict):
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)


def check_policies(modules: dict[str, str], engine: Any) -> list[str]:
    """``file:row: input.x is not in the input schema`` for every undeclared path read."""
    problems = []
    for name, source in sorted(modules.items()):
        if name.endswith("_test.rego"):
            continue
        ast = engine.parse_module(name, source)
        for names, _ in input_paths(ast):
            missing = undeclared(names)
            if missing:
                row = _row(source, missing)
                problems.append(
                    f"{name}:{row}: {missing} is not in the input schema ({SCHEMA_FILE.name})"
                )
    return problems
