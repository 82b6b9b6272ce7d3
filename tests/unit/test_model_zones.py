"""Zones of subnet and DB instance copies: literal, data-source elements, count.index."""

from __future__ import annotations

from typing import Any

from compliance.model.testing import normalise

_AZS = {
    "stack": "app",
    "type": "aws_availability_zones",
    "name": "azs",
    "values": {"state": "available"},
}


def _zones(*resources: dict[str, Any]) -> dict[str, Any]:
    return normalise({"resources": list(resources), "data_sources": [_AZS]})["zones"]


def _subnet(name: str, **values: Any) -> dict[str, Any]:
    return {"stack": "app", "type": "aws_subnet", "name": name, "values": values}


def test_count_index_gives_each_copy_its_own_element() -> None:
    zones = _zones(
        _subnet(
            "app",
            count=3,
            availability_zone="${element(data.aws_availability_zones.azs.names, count.index)}",
        )
    )
    ns = "app|data.aws_availability_zones.azs#name"
    assert zones["app|aws_subnet.app"] == [{"ns": ns, "zone": f"names[{i}]"} for i in range(3)]


def test_a_computed_count_is_one_unknown_copy() -> None:
    # Neither how many copies exist nor which elements they pick is known before apply.
    zones = _zones(
        _subnet(
            "app",
            count="${var.zones}",
            availability_zone="${element(data.aws_availability_zones.azs.names, count.index)}",
        )
    )
    assert zones["app|aws_subnet.app"] == [None]


def test_zone_ids_and_indexes_keep_the_attribute_they_pick_from() -> None:
    zones = _zones(
        _subnet("a", availability_zone_id="${data.aws_availability_zones.azs.zone_ids[2]}")
    )
    assert zones["app|aws_subnet.a"] == [
        {"ns": "app|data.aws_availability_zones.azs#id", "zone": "zone_ids[2]"}
    ]


def test_db_instances_are_placed_like_subnets() -> None:
    instance = {
        "stack": "app",
        "type": "aws_rds_cluster_instance",
        "name": "readers",
        "values": {
            "count": 2,
            "availability_zone": "${element(data.aws_availability_zones.azs.names, count.index)}",
        },
    }
    literal = {
        "stack": "app",
        "type": "aws_rds_cluster_instance",
        "name": "writer",
        "values": {"availability_zone": "us-east-1a"},
    }
    unplaced = {"stack": "app", "type": "aws_rds_cluster_instance", "name": "any", "values": {}}
    zones = _zones(instance, literal, unplaced)
    assert [z["zone"] for z in zones["app|aws_rds_cluster_instance.readers"]] == [
        "names[0]",
        "names[1]",
    ]
    assert zones["app|aws_rds_cluster_instance.writer"] == [{"ns": "name", "zone": "us-east-1a"}]
    assert zones["app|aws_rds_cluster_instance.any"] == [None]
