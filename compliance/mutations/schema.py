"""Mutants for the provider-schema requirements (DR-SCH-*).

DR-SCH-01 and DR-SCH-02 judge the synthesized JSON, so their mutants break
the copy like every other mutant. DR-SCH-03 judges the app's Python source,
which a JSON copy does not hold: its mutant copies this repository's
``infrastructure/`` into the copied output, turns one typed struct into a
plain dict there, and writes a ``cdktf.json`` whose output folder is the copy
itself, so the copy is an app of its own whose source the harness scans (see
``compliance.app_config.discover``).
"""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

from compliance.mutations import Target, Workspace, mutant

# This project's CDKTF source (a path the mutant copies; nothing is imported from it).
PROJECT_SOURCE = Path(__file__).resolve().parents[2] / "infrastructure"


@mutant(
    "aurora argument misspelled",
    "DR-SCH-01",
    "storage_encrypted on the primary Aurora cluster is written storage_encryptd",
)
def _cluster_argument_misspelled(ws: Workspace) -> Target:
    target, values = ws.first("primary", "aws_rds_cluster")
    values["storage_encryptd"] = values.pop("storage_encrypted")
    return target


@mutant(
    "replica key misspelled",
    "DR-SCH-01",
    "the DynamoDB replica's kms_key_arn is written kms_key_ar",
)
def _replica_key_misspelled(ws: Workspace) -> Target:
    target, values = ws.first("global", "aws_dynamodb_table")
    replica = values["replica"][0]
    replica["kms_key_ar"] = replica.pop("kms_key_arn")
    return target


@mutant(
    "point-in-time recovery given as a list",
    "DR-SCH-01",
    "the global table's point_in_time_recovery single block becomes a one-entry list",
)
def _single_block_as_list(ws: Workspace) -> Target:
    target, values = ws.first("global", "aws_dynamodb_table")
    values["point_in_time_recovery"] = [values["point_in_time_recovery"]]
    return target


@mutant(
    "replicas given as one object",
    "DR-SCH-01",
    "the global table's replica list block becomes a bare object",
)
def _list_block_as_object(ws: Workspace) -> Target:
    target, values = ws.first("global", "aws_dynamodb_table")
    values["replica"] = values["replica"][0]
    return target


@mutant(
    "resource type misspelled",
    "DR-SCH-01",
    "the secondary region's SNS topic is declared as aws_sns_topik",
)
def _type_misspelled(ws: Workspace) -> Target:
    document = ws.document("secondary")
    topics = document["resource"].pop("aws_sns_topic")
    document["resource"]["aws_sns_topik"] = topics
    return Target("secondary", f"aws_sns_topik.{sorted(topics)[0]}")


@mutant(
    "replica region dropped",
    "DR-SCH-02",
    "the DynamoDB replica loses its region_name, as a plain dict's dropped key would",
)
def _replica_region_dropped(ws: Workspace) -> Target:
    target, values = ws.first("global", "aws_dynamodb_table")
    values["replica"][0].pop("region_name")
    return target


@mutant(
    "route table with an empty route",
    "DR-SCH-02",
    "the primary route table gains a route entry with no keys at all: route = [{}]",
)
def _empty_route(ws: Workspace) -> Target:
    target, values = ws.first("primary", "aws_route_table")
    values["route"] = [{}]
    return target


@mutant(
    "failover policy without its type",
    "DR-SCH-02",
    "the primary failover record's failover_routing_policy block loses its type",
)
def _failover_policy_untyped(ws: Workspace) -> Target:
    target, values = ws.first("global", "aws_route53_record", "primary")
    values["failover_routing_policy"] = {}
    return target


GLOBAL_STACK = Path("stacks") / "global_stack.py"


@mutant(
    "replica passed as a plain dict",
    "DR-SCH-03",
    "the source builds the DynamoDB replica from a plain dict instead of DynamodbTableReplica",
)
def _replica_plain_dict(ws: Workspace) -> Target:
    source = ws.root / "source" / PROJECT_SOURCE.name
    shutil.copytree(PROJECT_SOURCE, source, ignore=shutil.ignore_patterns("__pycache__"))
    file = source / GLOBAL_STACK
    text, line = struct_to_dict(file.read_text(encoding="utf-8"), "DynamodbTableReplica")
    file.write_text(text, encoding="utf-8")
    app = {"language": "python", "app": "python -m infrastructure.main", "output": "."}
    (ws.root / "cdktf.json").write_text(json.dumps(app), encoding="utf-8")
    relative = source.relative_to(ws.root).as_posix()
    return Target("source", f"{relative}/{GLOBAL_STACK.as_posix()}:{line}")


def struct_to_dict(text: str, struct: str) -> tuple[str, int]:
    """Rewrite the first ``struct(key=value, ...)`` call as ``{"key": value, ...}``.

    Returns the new text and the line of the keyword that passes it (where
    the source scan reports the plain dict).
    """
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for keyword in node.keywords:
            value = keyword.value
            elements = value.elts if isinstance(value, ast.List | ast.Tuple) else [value]
            calls = [element for element in elements if _calls(element, struct)]
            if not calls:
                continue
            call = calls[0]
            items = ", ".join(
                f'"{k.arg}": {ast.get_source_segment(text, k.value)}' for k in call.keywords
            )
            rewritten = _replace(text, call, "{" + items + "}")
            ast.parse(rewritten)  # still Python
            return rewritten, keyword.lineno
    raise ValueError(f"no {struct}(...) call passed as a keyword argument")


def _calls(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name


def _replace(text: str, node: ast.expr, replacement: str) -> str:
    """Splice ``replacement`` over ``node`` (ast columns are UTF-8 byte offsets)."""
    lines = text.encode("utf-8").splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    assert node.end_lineno is not None and node.end_col_offset is not None
    start = offsets[node.lineno - 1] + node.col_offset
    end = offsets[node.end_lineno - 1] + node.end_col_offset
    data = text.encode("utf-8")
    return (data[:start] + replacement.encode("utf-8") + data[end:]).decode("utf-8")
