"""Literal identifiers of one account's resources, typed into the configuration.

Two kinds are recognised (DR-REF-01 judges them):

- ``reference``: an attribute that refers to another resource (``*_id``,
  ``*_arn``, ``role``, ``alarm_actions``, ``db_subnet_group_name``...) holding
  a literal instead of an expression;
- ``identifier``: text anywhere (outside free text such as descriptions and
  tags) with the shape of an account-specific identifier: an ARN naming an
  account, a VPC resource ID (vpc-, subnet-, sg-...), a bare account ID
  where a policy names principals or conditions.

Identifiers that are the same in every account are not literals of the
account: AWS-managed policy ARNs (``arn:aws:iam::aws:policy/...``), AWS
key aliases (``alias/aws/...``), service principals, Availability Zone IDs,
CloudFront's hosted zone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from compliance.model.expressions import parse_template
from compliance.model.loader import Resource
from compliance.model.policies import DOCUMENT_TYPE, PolicyUse, Statement
from compliance.model.references import MAX_DEPTH, path_text

_FREE_TEXT = {"description", "alarm_description", "comment", "tags", "tags_all"}
_REFERENCE_KEYS = {
    "role", "roles", "alarm_actions", "ok_actions", "insufficient_data_actions",
    "db_subnet_group_name", "db_cluster_parameter_group_name", "db_parameter_group_name",
    "replication_source_identifier", "source_account", "principal", "policy_arns",
}  # fmt: skip
# Attributes by which a resource names itself, though their name says reference.
_SELF_NAMES = {
    "aws_rds_global_cluster": {"global_cluster_identifier"},
    "aws_lambda_permission": {"statement_id"},
    "aws_cloudwatch_event_target": {"target_id"},
    "aws_elasticache_replication_group": {"replication_group_id"},
    "aws_elasticache_cluster": {"cluster_id"},
    "aws_cloudwatch_metric_alarm": {"threshold_metric_id"},
    "aws_rds_cluster": {"cluster_identifier"},
    "aws_lambda_function": {"function_name"},
}
_BY_TYPE_KEYS = {"global_cluster_identifier", "cluster_identifier", "function_name"}
SHAPES = {
    "an ARN naming an account": re.compile(r"arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]{12}:"),
    "a VPC resource ID": re.compile(
        r"(?:^|[^A-Za-z0-9-])(?:vpc|subnet|sg|rtb|pcx|igw|nat|eni|vpce|tgw|acl|eipalloc)-"
        r"(?:[0-9a-f]{8}|[0-9a-f]{17})(?:$|[^A-Za-z0-9-])"
    ),
}
_ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
_ACCOUNT_INDEPENDENT = (
    re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:aws:"),
    re.compile(r"^alias/aws/"),
    re.compile(r"^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$"),
    re.compile(r"^[a-z]{2,4}[0-9]-az[0-9]+$"),
)
_CLOUDFRONT_ZONE = "Z2FDTNDATAQYW2"
# Policy forms the model reads into statements.
_READ_FORMS = {"json", "interpolated-json", "jsonencode"}
# An AWS region name inside a host (abc.lambda-url.us-west-2.on.aws).
_REGION_NAME = re.compile(
    r"(?<![a-z0-9-])(?:us|eu|ap|sa|ca|me|af|il|mx|cn)(?:-gov|-iso[a-z]?)?-"
    r"(?:north|south|east|west|central|northeast|southeast|northwest|southwest)-[0-9](?![0-9])"
)
# Where a health check or a failover record names the host it leads to.
_HOST_ATTRIBUTES = {
    "aws_route53_health_check": ("fqdn", "ip_address"),
    "aws_route53_record": ("records", "alias"),
}


def account_independent(text: str) -> bool:
    return text in ("", "*", _CLOUDFRONT_ZONE) or any(p.match(text) for p in _ACCOUNT_INDEPENDENT)


def is_reference_key(block: Resource, key: str, path: tuple[str | int, ...]) -> bool:
    """Does attribute ``key`` (at ``path``) of ``block`` name another resource?"""
    if key in _SELF_NAMES.get(block.type, set()):
        return False
    words = key.lower().split("_")
    if (len(words) > 1 and words[-1] in {"id", "ids", "arn", "arns"}) or key.lower() in {
        "arn",
        "arns",
    }:
        return True
    if key in _REFERENCE_KEYS and block.type != DOCUMENT_TYPE:
        return True
    if key in _BY_TYPE_KEYS:
        return True
    if key == "bucket" and block.type.startswith("aws_s3_bucket_"):
        return True
    if key == "endpoint" and block.type == "aws_sns_topic_subscription":
        return block.values.get("protocol") in {"lambda", "sqs", "firehose", "application"}
    if key in {"resources", "not_resources"} and block.type == DOCUMENT_TYPE:
        return True
    # Metric dimensions name what they measure (HealthCheckId, DBClusterIdentifier).
    if path and path[0] == "dimensions" and key.endswith(("Id", "Identifier", "Arn")):
        return True
    return False


# Attributes by which a block names itself: a literal equal to one of these,
# in the same stack, names a block the design creates with that very name,
# which holds in any account (DR-ENC-04 and DR-HA-02 accept such names too).
_NAMING_ATTRIBUTES = ("name", "identifier", "alarm_name")
# Attributes that name the block itself only in these types (elsewhere they refer).
_OWN_NAME_BY_TYPE = {
    "aws_lambda_function": "function_name",
    "aws_rds_cluster": "cluster_identifier",
    "aws_rds_global_cluster": "global_cluster_identifier",
    "aws_s3_bucket": "bucket",
    "aws_elasticache_replication_group": "replication_group_id",
}


def design_names(blocks: list[Resource]) -> set[tuple[str, str]]:
    """``(stack, literal name)`` of every managed block that names itself literally."""
    names = set()
    for block in blocks:
        if block.is_data:
            continue
        own = _OWN_NAME_BY_TYPE.get(block.type)
        for attribute in (*_NAMING_ATTRIBUTES, *((own,) if own else ())):
            value = block.values.get(attribute)
            if isinstance(value, str) and value and "${" not in value:
                names.add((block.stack, value))
    return names


def literals(
    block: Resource, key: str, uses: list[PolicyUse], names: set[tuple[str, str]] = frozenset()
) -> list[dict[str, Any]]:
    """The literal identifiers in one block (and the policies it carries).

    A data source's own arguments are how it looks something up (an alias,
    a name, a tag): the lookup is the remedy for a copied identifier, so
    only an identifier shape (an ARN with an account, a vpc-... id) in them
    counts. A literal equal to the name of a block the design creates in the
    same stack names that block, the same in every account.
    """
    found: dict[tuple[str, str], dict[str, Any]] = {}
    # A policy read into statements is judged statement by statement (below):
    # its text as a whole would report the same identifier a second time.
    read_policies = {tuple(use.path) for use in uses if use.form in _READ_FORMS}
    for path, value in _judged_leaves(block.values, read_policies):
        if isinstance(value, bool) or value is None:
            continue
        text = value if isinstance(value, str) else str(value)
        attribute = _last_key(path)
        if attribute is not None and is_reference_key(block, attribute, path):
            if "${" in text or account_independent(text):
                pass
            elif block.is_data and block.type != DOCUMENT_TYPE:
                pass  # a lookup argument: judged below only by identifier shape
            elif (block.stack, text) in names:
                pass
            elif block.type == DOCUMENT_TYPE and "*" in text and not _shape(text):
                pass  # a pattern in a policy statement: least privilege judges it
            else:
                _add(found, key, path, text, "reference", "a literal identifier")
                continue
        if not isinstance(value, str):
            continue
        literal_text = parse_template(value).literal_text if "${" in value else value
        shape = _shape(literal_text)
        if shape:
            _add(found, key, path, value, "identifier", shape)
        elif (
            block.type == DOCUMENT_TYPE
            and _ACCOUNT_ID.match(value)
            and any(part in ("principals", "not_principals", "condition") for part in path)
        ):
            _add(found, key, path, value, "identifier", "an account ID")
    for use in uses:
        for index, statement in enumerate(use.statements):
            if statement.source == key:  # a document's statements are its own block's literals
                _statement_literals(found, key, (*use.path, "Statement", index), statement)
    return list(found.values())


def _statement_literals(
    found: dict[tuple[str, str], dict[str, Any]],
    key: str,
    where: tuple[str | int, ...],
    statement: Statement,
) -> None:
    """A JSON or jsonencode statement, read as an aws_iam_policy_document's would be."""
    for field_name, json_key in (("principals", "Principal"), ("not_principals", "NotPrincipal")):
        for _, identifier in getattr(statement, field_name):
            _account_literal(found, key, (*where, json_key), identifier)
    for condition in statement.conditions:
        for value in condition["values"]:
            _account_literal(found, key, (*where, "Condition", condition["variable"]), value)
    for field_name, json_key in (("resources", "Resource"), ("not_resources", "NotResource")):
        for position, resource in enumerate(getattr(statement, field_name)):
            path = (*where, json_key, position)
            shape = _shape(_literal_text(resource))
            if shape:
                _add(found, key, path, resource, "identifier", shape)
            elif "${" not in resource and "*" not in resource and not account_independent(resource):
                _add(found, key, path, resource, "reference", "a literal identifier")


def _account_literal(
    found: dict[tuple[str, str], dict[str, Any]], key: str, path: tuple[str | int, ...], value: str
) -> None:
    shape = _shape(_literal_text(value))
    if shape or _ACCOUNT_ID.match(value):
        _add(found, key, path, value, "identifier", shape or "an account ID")


def _literal_text(value: str) -> str:
    return parse_template(value).literal_text if "${" in value else value


def host_regions(block: Resource) -> list[dict[str, Any]]:
    """The AWS region named in the literal text of each host a health check or record targets.

    A fallback for DR-HA-04 when a host is typed in rather than referenced:
    ``{path, names, value, region}`` per host, ``region`` None when no region
    name is written in it.
    """
    attributes = _HOST_ATTRIBUTES.get(block.type)
    if attributes is None or block.is_data:
        return []
    found = []
    for attribute in attributes:
        for path, value in _leaves(block.values.get(attribute), (attribute,), 1):
            if not isinstance(value, str) or (attribute == "alias" and path[-1] != "name"):
                continue
            text = parse_template(value).literal_text if "${" in value else value
            match = _REGION_NAME.search(text)
            found.append({
                "path": list(path),
                "names": [part for part in path if isinstance(part, str)],
                "value": value,
                "region": match.group(0) if match else None,
            })  # fmt: skip
    return found


def _shape(text: str) -> str | None:
    for name, pattern in SHAPES.items():
        if pattern.search(text):
            return name
    return None


def _add(
    found: dict[tuple[str, str], dict[str, Any]],
    key: str,
    path: tuple[str | int, ...],
    value: str,
    kind: str,
    shape: str,
) -> None:
    where = path_text(path)
    if any(
        where.startswith(prior) and prior != where and v["value"] == value
        for (k, prior), v in found.items()
    ):
        return
    found.setdefault(
        (key, where),
        {
            "from": key,
            "path": list(path),
            "attr": where,
            "value": value,
            "kind": kind,
            "shape": shape,
        },
    )


def _last_key(path: tuple[str | int, ...]) -> str | None:
    for part in reversed(path):
        if isinstance(part, str):
            return part
    return None


def _judged_leaves(
    values: dict[str, Any], skipped: set[tuple[str | int, ...]]
) -> list[tuple[tuple[str | int, ...], Any]]:
    """The leaves ``_leaves`` yields, less those under free text or a ``skipped`` path.

    Whole subtrees are pruned where ``literals`` would drop every leaf of them
    one by one: under a free-text key (at any depth) or a policy it reads.
    """
    found: list[tuple[tuple[str | int, ...], Any]] = []
    if () not in skipped:
        _collect_leaves(values, (), 0, skipped, found)
    return found


def _collect_leaves(
    value: Any,
    path: tuple[str | int, ...],
    depth: int,
    skipped: set[tuple[str | int, ...]],
    found: list[tuple[tuple[str | int, ...], Any]],
) -> None:
    if depth > MAX_DEPTH:
        return
    if isinstance(value, dict):
        for key, inner in value.items():
            if (depth == 0 and key in _TOP_SKIPPED) or key in _FREE_TEXT:
                continue
            where = (*path, key)
            if skipped and where in skipped:
                continue
            _collect_leaves(inner, where, depth + 1, skipped, found)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            where = (*path, index)
            if skipped and where in skipped:
                continue
            _collect_leaves(inner, where, depth + 1, skipped, found)
    else:
        found.append((path, value))


_TOP_SKIPPED = ("//", "provider", "depends_on", "lifecycle")


def _leaves(
    value: Any, path: tuple[str | int, ...], depth: int
) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    if depth > MAX_DEPTH:
        return
    if isinstance(value, dict):
        for k, inner in value.items():
            if depth == 0 and k in ("//", "provider", "depends_on", "lifecycle"):
                continue
            yield from _leaves(inner, (*path, k), depth + 1)
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from _leaves(inner, (*path, i), depth + 1)
    else:
        yield path, value
