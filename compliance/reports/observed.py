"""The values each policy read, per resource, so an auditor can re-perform a verdict.

A policy declares in its METADATA what it reads: ``custom.observes`` maps a
resource type to attribute paths (``aws_rds_cluster: [deletion_protection,
skip_final_snapshot]``). A path is dotted; a list block is read entry by entry
(``replica.region_name`` gives ``replica[0].region_name``, ...). ``region`` not
written on the resource is the region the model gives it (its provider's). The
type ``"*"`` stands for every resource the requirement evaluated.

Values are shown as synthesized: a literal, or the Terraform expression that
stands for it (``${aws_kms_key.primary.arn}``). An attribute that is not set is
shown as such (the provider's default applies). Secrets never reach a report: a
value under a secret-like name (``compliance.model.secrets``), a value with a
credential's shape, and anything the model's secret scan finds inside an
attribute (JSON text included) is masked.
"""

from __future__ import annotations

from typing import Any

from compliance.catalogue import Requirement as Catalogued
from compliance.model import Model, Resource
from compliance.model.references import key_of
from compliance.model.secrets import SHAPES, holds, secret_like, secrets, shape
from compliance.reports.document import ObservedResource, ObservedValue

MASK = "(masked)"
EVERY_EVALUATED = "*"
_HARMLESS = {"expression", "boolean", "number", "arn", "null", "empty", "store"}


def observed(requirement: Catalogued, evaluated: list[str], model: Model) -> list[ObservedResource]:
    """The declared attributes of each resource they apply to, secrets masked."""
    if not requirement.observes:
        return []
    subjects = set(evaluated)
    entries = []
    for block in _blocks(model):
        subject = f"{block.stack}/{block.address}"
        kind = f"data.{block.type}" if block.is_data else block.type
        paths = list(requirement.observes.get(kind, ()))
        if subject in subjects:
            paths += [p for p in requirement.observes.get(EVERY_EVALUATED, ()) if p not in paths]
        if not paths:
            continue
        values = _Reader(block).read(paths)
        entries.append(
            ObservedResource(block.stack, block.address, kind, subject in subjects, values)
        )
    return entries


def _blocks(model: Model) -> list[Resource]:
    blocks = [block for stack in model.stacks for block in stack.resources()]
    blocks += [block for stack in model.stacks for block in stack.data_sources()]
    return sorted(blocks, key=lambda b: (b.stack, b.address))


class _Reader:
    """One block's values at the declared paths, with its secrets masked."""

    def __init__(self, block: Resource) -> None:
        self.block = block
        found = secrets(block, key_of(block.stack, block.address))
        # Where the model's secret scan found a literal (or a credential's shape).
        self.secret_paths = [
            tuple(c["path"]) for c in found if c["holds"] not in _HARMLESS or c["shape"]
        ]

    def read(self, paths: list[str]) -> list[ObservedValue]:
        values: list[ObservedValue] = []
        for path in paths:
            values += self._read(path)
        return values

    def _read(self, dotted: str) -> list[ObservedValue]:
        parts = dotted.split(".")
        found = list(_walk(self.block.values, parts, ()))
        if not found:
            return [self._absent(dotted)]
        return [self._value(where, value) for where, value in found]

    def _absent(self, dotted: str) -> ObservedValue:
        if dotted == "region" and self.block.region:
            note = f"the region of its provider ({self.block.provider})"
            return ObservedValue("region", self.block.region, True, False, note)
        return ObservedValue(dotted, None, False, False)

    def _value(self, where: tuple[str | int, ...], value: Any) -> ObservedValue:
        attribute = _text(where)
        under_secret = any(
            p[: len(where)] == where or where[: len(p)] == p for p in self.secret_paths
        )
        masked_value, masked = _mask(
            value, secret_name=any(isinstance(part, str) and secret_like(part) for part in where)
        )
        if under_secret and not masked and not _harmless(value):
            masked_value, masked = MASK, True
        return ObservedValue(attribute, masked_value, True, masked)


def _walk(value: Any, parts: list[str], where: tuple[str | int, ...]):
    """(path, value) for each place ``parts`` reaches; lists are read entry by entry."""
    if isinstance(value, list) and (parts or not where):
        for index, item in enumerate(value):
            yield from _walk(item, parts, (*where, index))
        return
    if not parts:
        yield where, value
        return
    if isinstance(value, dict) and parts[0] in value:
        yield from _walk(value[parts[0]], parts[1:], (*where, parts[0]))


def _mask(value: Any, *, secret_name: bool) -> tuple[Any, bool]:
    """The value with every secret replaced by ``MASK``; and whether anything was."""
    if isinstance(value, dict):
        masked_any, out = False, {}
        for key, inner in value.items():
            out[key], masked = _mask(inner, secret_name=secret_name or secret_like(str(key)))
            masked_any |= masked
        return out, masked_any
    if isinstance(value, list):
        pairs = [_mask(item, secret_name=secret_name) for item in value]
        return [item for item, _ in pairs], any(masked for _, masked in pairs)
    if shape(value) is not None or (secret_name and not _harmless(value)):
        return MASK, True
    return value, False


def _harmless(value: Any) -> bool:
    """A value that cannot be a secret: an expression, a boolean, a number, an ARN, nothing."""
    return not isinstance(value, dict | list) and holds(value) in _HARMLESS


def _text(where: tuple[str | int, ...]) -> str:
    out = ""
    for part in where:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def mask_credentials(text: str) -> str:
    """Text (a finding's message) with anything shaped like a credential masked.

    Defence in depth: a policy may quote a literal it judged (an identifier
    typed in by hand), and a literal can be a live access key.
    """
    if shape(text) is None:
        return text
    for name, pattern in SHAPES.items():
        text = pattern.sub(f"(masked: {name})", text)
    return text
