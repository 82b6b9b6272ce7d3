"""The Availability Zone of each instance of a subnet or DB instance, as far as synth can tell.

A zone is named literally (``availability_zone`` us-east-1a, or
``availability_zone_id`` use1-az1) or picked from an ``aws_availability_zones``
data source (``element(data.X.names, N)``, ``data.X.names[N]``, CDKTF's
``Fn.element``; with ``count``, ``element(data.X.names, count.index)`` gives
instance i the element i). Zones are compared within one namespace: names,
ids, or the elements of one data source. Distinct indexes of one data source
are distinct zones, except that ``element()`` wraps around the list: the
harness assumes three zones per region (the fewest in the regions where a
three-zone design is possible), so element indexes are taken modulo 3. Any
other expression leaves the zone unknown (None), never a guess.
"""

from __future__ import annotations

from typing import Any

from compliance.model.expressions import parse_template
from compliance.model.instances import Mirror, each_value, entries, instance_count
from compliance.model.loader import Resource
from compliance.model.references import Ref

ZONES_PER_REGION = 3
# Blocks placed in one zone by availability_zone / availability_zone_id.
PLACED_TYPES = frozenset({"aws_subnet", "aws_rds_cluster_instance"})
_ZONE_ATTRIBUTES = {"names": "name", "zone_ids": "id"}


def subnet_zones(
    subnet: Resource, refs: list[Ref], blocks: dict[str, Resource]
) -> list[dict[str, Any] | None]:
    """One zone per instance of ``subnet`` (a computed count gives one unknown instance)."""
    found = entries(subnet)
    if isinstance(found, list) and found:
        return [_entry_zone(subnet, key, value) for key, value in found]
    count = instance_count(subnet, blocks) if not isinstance(found, Mirror) else None
    if count is None:
        return [None]  # how many copies, and so which elements, only apply time knows
    zones: list[dict[str, Any] | None] = []
    for instance in range(count):
        zones.append(_zone(subnet, refs, blocks, instance))
    return zones


def _entry_zone(block: Resource, key: Any, value: Any) -> dict[str, Any] | None:
    """The zone of one for_each entry: a literal, or each.key / each.value(.x) naming one."""
    for attribute, namespace in (("availability_zone", "name"), ("availability_zone_id", "id")):
        text = block.values.get(attribute)
        if not isinstance(text, str) or not text:
            continue
        if "${" not in text:
            return {"ns": namespace, "zone": text}
        whole = parse_template(text).whole
        if whole is None or whole.call is not None or len(whole.traversals) != 1:
            return None
        parts = whole.traversals[0].parts
        zone = None
        if parts[:2] == ("each", "key"):
            zone = key
        elif parts[:2] == ("each", "value"):
            zone = each_value(value, parts[2:])
        if isinstance(zone, str) and zone and "${" not in zone:
            return {"ns": namespace, "zone": zone}
        return None
    return None


def _zone(
    subnet: Resource, refs: list[Ref], blocks: dict[str, Resource], instance: int
) -> dict[str, Any] | None:
    for attribute, namespace in (("availability_zone", "name"), ("availability_zone_id", "id")):
        value = subnet.values.get(attribute)
        if isinstance(value, str) and value and "${" not in value:
            return {"ns": namespace, "zone": value}
        if isinstance(value, str) and "${" in value:
            return _computed_zone(refs, blocks, attribute, instance)
    return None


def _computed_zone(
    refs: list[Ref], blocks: dict[str, Resource], attribute: str, instance: int
) -> dict[str, Any] | None:
    mine = [ref for ref in refs if ref.path == (attribute,) and ref.target is not None]
    if len(mine) != 1:
        return None
    ref = mine[0]
    target = blocks[ref.target]  # type: ignore[index]
    if target.type != "aws_availability_zones" or not target.is_data:
        return None
    kind = _ZONE_ATTRIBUTES.get(str(ref.attribute[0])) if ref.attribute else None
    if kind is None:
        return None
    if ref.count_index:
        position = instance
    elif ref.index is not None:
        position = ref.index
    else:
        return None
    if "element" in ref.functions:
        position %= ZONES_PER_REGION
    return {"ns": f"{ref.target}#{kind}", "zone": f"{ref.attribute[0]}[{position}]"}
