"""The instances a block stands for: ``count`` copies or ``for_each`` entries.

CDKTF writes ``count`` (TerraformCount) as a number and ``for_each``
(TerraformIterator) as a literal map or set, ``${toset([...])}``, or a
reference to another block that has instances of its own (``${aws_subnet.private}``:
one instance per instance of that block, ``each.value`` being it). Inside
the block, ``each.key`` and ``each.value`` then stand for one entry each.
A ``for_each`` computed any other way (a variable, a data source) leaves the
instances unknown (None): how many copies, and of what, only apply time knows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from compliance.model.expressions import Placeholder, parse_template
from compliance.model.loader import Resource


@dataclass(frozen=True)
class Mirror:
    """``for_each = ${aws_x.y}``: each entry is an instance of another block."""

    address: str


def entries(block: Resource) -> list[tuple[Any, Any]] | Mirror | None:
    """``[(each.key, each.value)]`` of a for_each block, a Mirror, or None when computed.

    A block without ``for_each`` has no entries (an empty list)."""
    spec = block.values.get("for_each")
    if spec is None:
        return []
    if isinstance(spec, dict):
        return list(spec.items())
    if isinstance(spec, list):
        return [(item, item) for item in spec]
    if not isinstance(spec, str) or "${" not in spec:
        return None
    whole = parse_template(spec).whole
    if whole is None:
        return None
    if whole.call in ("toset", "tomap", "tolist") and isinstance(whole.argument, list | dict):
        items = (
            whole.argument.items()
            if isinstance(whole.argument, dict)
            else [(item, item) for item in whole.argument]
        )
        if any(isinstance(value, Placeholder) for _, value in items):
            return None
        return list(items)
    if whole.call is None and len(whole.traversals) == 1:
        parts = whole.traversals[0].parts
        if len(parts) == 2 and all(isinstance(part, str) for part in parts):
            return Mirror(f"{parts[0]}.{parts[1]}")
    return None


def instance_count(
    block: Resource, blocks: dict[str, Resource] | None = None, _seen: frozenset[str] = frozenset()
) -> int | None:
    """How many instances a block creates: count or for_each entries, else 1; None if computed."""
    count = block.values.get("count")
    if count is not None:
        if isinstance(count, bool):
            return None
        if isinstance(count, int):
            return max(count, 0)
        if isinstance(count, str) and count.isdigit():
            return int(count)
        return None
    found = entries(block)
    if isinstance(found, Mirror):
        if blocks is None:
            return None
        key = f"{block.stack}|{found.address}"
        target = blocks.get(key)
        if target is None or key in _seen:
            return None
        return instance_count(target, blocks, _seen | {key})
    if found is None:
        return None
    return len(found) if "for_each" in block.values else 1


def each_value(value: Any, attribute: tuple[str | int, ...]) -> Any:
    """``each.value`` (or ``each.value.<attribute>``) of one literal entry; None if absent."""
    for part in attribute:
        if isinstance(value, dict) and isinstance(part, str):
            value = value.get(part)
        elif isinstance(value, list) and isinstance(part, int) and part < len(value):
            value = value[part]
        else:
            return None
    return value
