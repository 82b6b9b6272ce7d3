"""IAM and KMS policy documents, read into statements from every form they take.

A policy reaches the synthesized JSON as:

- a reference to an ``aws_iam_policy_document`` data source (``.json`` or
  ``.minified_json``), in the same stack or through a cross-stack output;
- literal JSON text;
- JSON text whose values hold ``${...}`` interpolations (an app that formats
  tokens into ``json.dumps``): each interpolation is one value;
- ``jsonencode({...})`` (CDKTF's ``Fn.jsonencode``), read from its HCL object.

Every form becomes the same statements: ``effect``, ``actions``,
``not_actions``, ``resources``, ``not_resources``, ``principals`` and
``not_principals`` (``[type, identifier]`` pairs) and ``conditions``, plus the
design's blocks each resource entry refers to. A policy in no known form is
``unreadable`` with the reason, so a policy can say it cannot be verified
instead of guessing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from compliance.model.expressions import Placeholder, Template, parse_template
from compliance.model.loader import Resource
from compliance.model.references import Resolver, key_of, path_text

DOCUMENT_TYPE = "aws_iam_policy_document"

# Policy-bearing attributes per resource type: (attribute, kind). ``identity``
# policies grant what a principal may do, ``trust`` policies who may assume a
# role, ``key`` policies who may use a KMS key, ``resource`` policies who may
# reach a bucket, topic, queue, secret...
POLICY_ATTRIBUTES: dict[str, tuple[tuple[str, str], ...]] = {
    "aws_iam_role_policy": (("policy", "identity"),),
    "aws_iam_policy": (("policy", "identity"),),
    "aws_iam_user_policy": (("policy", "identity"),),
    "aws_iam_group_policy": (("policy", "identity"),),
    "aws_iam_role": (("assume_role_policy", "trust"), ("inline_policy", "identity")),
    "aws_kms_key": (("policy", "key"),),
    "aws_kms_key_policy": (("policy", "key"),),
    "aws_kms_replica_key": (("policy", "key"),),
    "aws_kms_external_key": (("policy", "key"),),
    "aws_s3_bucket_policy": (("policy", "resource"),),
    "aws_sns_topic_policy": (("policy", "resource"),),
    "aws_sns_topic": (("policy", "resource"),),
    "aws_sqs_queue_policy": (("policy", "resource"),),
    "aws_sqs_queue": (("policy", "resource"),),
    "aws_secretsmanager_secret_policy": (("policy", "resource"),),
    "aws_secretsmanager_secret": (("policy", "resource"),),
    "aws_dynamodb_resource_policy": (("policy", "resource"),),
    "aws_ecr_repository_policy": (("policy", "resource"),),
    "aws_cloudwatch_log_resource_policy": (("policy_document", "resource"),),
    "aws_efs_file_system_policy": (("policy", "resource"),),
    "aws_backup_vault_policy": (("policy", "resource"),),
    "aws_cloudwatch_event_bus_policy": (("policy", "resource"),),
    "aws_api_gateway_rest_api_policy": (("policy", "resource"),),
    "aws_s3_access_point": (("policy", "resource"),),
    "aws_glacier_vault": (("access_policy", "resource"),),
    "aws_opensearch_domain_policy": (("access_policies", "resource"),),
    "aws_elasticsearch_domain_policy": (("access_policies", "resource"),),
}
_DOCUMENT_ATTRIBUTES = {"json", "minified_json"}
# Attributes that attach managed policies by ARN (one ARN, or a list of them).
ATTACHMENT_ATTRIBUTES: dict[str, str] = {
    "aws_iam_role_policy_attachment": "policy_arn",
    "aws_iam_user_policy_attachment": "policy_arn",
    "aws_iam_group_policy_attachment": "policy_arn",
    "aws_iam_policy_attachment": "policy_arn",
    "aws_iam_role": "managed_policy_arns",
    "aws_iam_role_policy_attachments_exclusive": "policy_arns",
    "aws_iam_user_policy_attachments_exclusive": "policy_arns",
    "aws_iam_group_policy_attachments_exclusive": "policy_arns",
}
# An AWS-managed policy ARN; the partition may be an interpolation
# (arn:${data.aws_partition.p.partition}:iam::aws:policy/...), shown here as \0.
_AWS_MANAGED = re.compile(r"^arn:(?:aws[a-z-]*|\x00):iam::aws:policy(/(?:[^/\x00]+/)*)([^/\x00]+)$")
_INCLUDES = ("source_policy_documents", "override_policy_documents")
_TOKEN = "\u2063DR{}\u2063"  # an invisible separator: never part of a real policy
_TOKEN_PATTERN = re.compile("\u2063DR(\\d+)\u2063")


@dataclass
class Statement:
    sid: str
    effect: str
    actions: list[str] = field(default_factory=list)
    not_actions: list[str] = field(default_factory=list)
    resources: list[str] = field(default_factory=list)
    not_resources: list[str] = field(default_factory=list)
    principals: list[list[str]] = field(default_factory=list)
    not_principals: list[list[str]] = field(default_factory=list)
    conditions: list[dict[str, Any]] = field(default_factory=list)
    # Per entry of ``resources``: the design's blocks it refers to.
    resource_targets: list[list[str]] = field(default_factory=list)
    source: str = ""  # key of the block whose text holds the statement

    def to_input(self) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "effect": self.effect,
            "actions": self.actions,
            "not_actions": self.not_actions,
            "resources": self.resources,
            "not_resources": self.not_resources,
            "principals": self.principals,
            "not_principals": self.not_principals,
            "conditions": self.conditions,
            "resource_targets": self.resource_targets,
            "source": self.source,
        }


@dataclass
class PolicyUse:
    """One place a block carries a policy."""

    holder: str
    path: tuple[str | int, ...]
    attribute: str
    kind: str
    form: str  # document | json | interpolated-json | jsonencode | unreadable
    document: str | None = None
    statements: list[Statement] = field(default_factory=list)
    reason: str | None = None

    def to_input(self) -> dict[str, Any]:
        return {
            "holder": self.holder,
            "path": list(self.path),
            "attribute": self.attribute,
            "kind": self.kind,
            "form": self.form,
            "readable": self.form != "unreadable",
            "document": self.document,
            "statements": [s.to_input() for s in self.statements],
            "reason": self.reason,
        }


class PolicyReader:
    """Reads every policy of the design once; documents are cached by key."""

    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self._documents: dict[str, list[Statement]] = {}
        self._including: set[str] = set()

    # --- documents (data sources) -----------------------------------------

    def document_statements(self, key: str) -> list[Statement]:
        """A policy-document data source's statements, its included documents' too."""
        if key in self._documents:
            return self._documents[key]
        if key in self._including:  # a document that includes itself: read it once
            return []
        self._including.add(key)
        block = self.resolver.blocks[key]
        own = [
            self._block_statement(block, index, entry)
            for index, entry in enumerate(_blocks(block.values.get("statement")))
        ]
        included: list[Statement] = []
        for attribute in _INCLUDES:
            for position, value in enumerate(_as_list(block.values.get(attribute))):
                if not isinstance(value, str):
                    continue
                target = self._document_target(block.stack, key, (attribute, position), value)
                if target is not None:
                    included += self.document_statements(target)
                else:  # policy text (JSON, also with interpolations, or jsonencode)
                    text = self.read(block, (attribute, position), attribute, "included", value)
                    included += text.statements
        self._including.discard(key)
        self._documents[key] = own + included
        return self._documents[key]

    def document_includes(self, key: str) -> list[str]:
        block = self.resolver.blocks[key]
        found = []
        for attribute in _INCLUDES:
            for position, value in enumerate(_as_list(block.values.get(attribute))):
                if isinstance(value, str):
                    target = self._document_target(block.stack, key, (attribute, position), value)
                    if target is not None:
                        found.append(target)
        return found

    def _block_statement(self, block: Resource, index: int, entry: dict[str, Any]) -> Statement:
        key = key_of(block.stack, block.address)
        resources = [_text(v) for v in _as_list(entry.get("resources"))]
        targets = [
            self._targets(block.stack, key, ("statement", index, "resources", position), value)
            for position, value in enumerate(_as_list(entry.get("resources")))
        ]
        return Statement(
            sid=str(entry.get("sid") or f"#{index + 1}"),
            effect=_effect(entry.get("effect")),
            actions=[_text(v) for v in _as_list(entry.get("actions"))],
            not_actions=[_text(v) for v in _as_list(entry.get("not_actions"))],
            resources=resources,
            not_resources=[_text(v) for v in _as_list(entry.get("not_resources"))],
            principals=_block_principals(entry.get("principals")),
            not_principals=_block_principals(entry.get("not_principals")),
            conditions=[
                {
                    "test": _text(c.get("test")),
                    "variable": _text(c.get("variable")),
                    "values": [_text(v) for v in _as_list(c.get("values"))],
                }
                for c in _blocks(entry.get("condition"))
            ],
            resource_targets=targets,
            source=key,
        )

    def _document_target(
        self, stack: str, source: str, path: tuple[str | int, ...], value: str
    ) -> str | None:
        template = parse_template(value)
        whole = template.whole
        if whole is None or whole.call is not None or len(whole.traversals) != 1:
            return None
        for ref in self.resolver.refs_in(stack, source, path, template):
            if ref.target is None or not ref.whole:
                continue
            target = self.resolver.blocks[ref.target]
            if (
                target.type == DOCUMENT_TYPE
                and target.is_data
                and ref.attribute
                and (str(ref.attribute[0]) in _DOCUMENT_ATTRIBUTES)
            ):
                return ref.target
        return None

    def _targets(
        self, stack: str, source: str, path: tuple[str | int, ...], value: Any
    ) -> list[str]:
        if isinstance(value, Placeholder):
            value = value.text
        if not isinstance(value, str) or "${" not in value:
            return []
        refs = self.resolver.refs_in(stack, source, path, parse_template(value))
        return sorted({ref.target for ref in refs if ref.target is not None})

    # --- attachments (managed policies by ARN) -------------------------------

    def attachments(self, block: Resource) -> list[dict[str, Any]]:
        """Every managed policy a block attaches: AWS-managed ones marked as such,
        the design's own aws_iam_policy by key."""
        attribute = ATTACHMENT_ATTRIBUTES.get(block.type)
        if attribute is None or block.is_data:
            return []
        holder = key_of(block.stack, block.address)
        value = block.values.get(attribute)
        entries = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
        found = []
        for position, arn in entries:
            if not isinstance(arn, str):
                continue
            path: tuple[str | int, ...] = (attribute,)
            if position is not None:
                path = (attribute, position)
            found.append(
                {
                    "holder": holder,
                    "path": list(path),
                    "attr": path_text(path),
                    "arn": arn,
                    "aws_managed": aws_managed_policy(arn),
                    "policy": self._attached_policy(block.stack, holder, path, arn),
                }
            )
        return found

    def _attached_policy(
        self, stack: str, holder: str, path: tuple[str | int, ...], arn: str
    ) -> str | None:
        if "${" not in arn:
            return None
        for ref in self.resolver.refs_in(stack, holder, path, parse_template(arn)):
            target = self.resolver.blocks.get(ref.target) if ref.target is not None else None
            if ref.whole and target is not None and target.type == "aws_iam_policy":
                return ref.target
        return None

    # --- uses (resources that carry a policy) --------------------------------

    def uses(self, block: Resource) -> list[PolicyUse]:
        found: list[PolicyUse] = []
        for attribute, kind in POLICY_ATTRIBUTES.get(block.type, ()):
            if attribute == "inline_policy":
                for index, inline in enumerate(_blocks(block.values.get("inline_policy"))):
                    value = inline.get("policy")
                    if value is None:
                        continue
                    label = f"inline_policy {inline.get('name', index)!s}"
                    found.append(
                        self.read(block, ("inline_policy", index, "policy"), label, kind, value)
                    )
                continue
            value = block.values.get(attribute)
            if value is None:
                continue
            found.append(self.read(block, (attribute,), attribute, kind, value))
        return found

    def read(
        self, block: Resource, path: tuple[str | int, ...], label: str, kind: str, value: Any
    ) -> PolicyUse:
        holder = key_of(block.stack, block.address)
        use = PolicyUse(holder, path, label, kind, "unreadable")
        if isinstance(value, dict):  # an object where JSON text belongs (hand-written JSON)
            use.form, use.statements = "json", self._json_statements(block, holder, value, {})
            return use
        if not isinstance(value, str):
            use.reason = f"a {type(value).__name__}, not a policy document"
            return use
        template = parse_template(value)
        whole = template.whole
        if whole is not None and whole.call is None:
            target = self._document_target(block.stack, holder, path, value)
            if target is not None:
                use.form, use.document = "document", target
                use.statements = self.document_statements(target)
                return use
            use.reason = f"{whole.text} is not a policy document of this design"
            return use
        if whole is not None and whole.call == "jsonencode" and isinstance(whole.argument, dict):
            use.form = "jsonencode"
            use.statements = self._json_statements(block, holder, whole.argument, {})
            return use
        if whole is not None:
            use.reason = f"built by {whole.call}(), which cannot be read before apply"
            return use
        parsed = _interpolated_json(template)
        if parsed is None:
            use.reason = "neither a policy document reference, JSON text nor jsonencode()"
            return use
        document, expressions = parsed
        if not isinstance(document, dict):
            use.reason = "JSON that is not a policy object"
            return use
        use.form = "interpolated-json" if expressions else "json"
        use.statements = self._json_statements(block, holder, document, expressions)
        return use

    def _json_statements(
        self,
        block: Resource,
        holder: str,
        document: dict[str, Any],
        expressions: dict[str, str],
    ) -> list[Statement]:
        def text(value: Any) -> str:
            value = _text(value)
            return (
                _TOKEN_PATTERN.sub(lambda m: expressions[m.group(0)], value)
                if expressions
                else value
            )

        statements = []
        for index, entry in enumerate(_objects(document.get("Statement"))):
            resources = [text(v) for v in _as_list(entry.get("Resource"))]
            statements.append(
                Statement(
                    sid=text(entry.get("Sid")) if entry.get("Sid") else f"#{index + 1}",
                    effect=_effect(text(entry.get("Effect")) if entry.get("Effect") else None),
                    actions=[text(v) for v in _as_list(entry.get("Action"))],
                    not_actions=[text(v) for v in _as_list(entry.get("NotAction"))],
                    resources=resources,
                    not_resources=[text(v) for v in _as_list(entry.get("NotResource"))],
                    principals=_json_principals(entry.get("Principal"), text),
                    not_principals=_json_principals(entry.get("NotPrincipal"), text),
                    conditions=_json_conditions(entry.get("Condition"), text),
                    resource_targets=[
                        self._targets(block.stack, holder, ("Statement", index, "Resource", i), r)
                        for i, r in enumerate(resources)
                    ],
                    source=holder,
                )
            )
        return statements


def aws_managed_policy(arn: str) -> dict[str, str] | None:
    """``{path, name}`` of an AWS-managed policy ARN, whatever its partition; else None."""
    template = parse_template(arn)
    text = "".join(part if isinstance(part, str) else "\x00" for part in template.parts)
    match = _AWS_MANAGED.match(text)
    return {"path": match.group(1), "name": match.group(2)} if match else None


def json_with_interpolations(template: Template) -> Any:
    """JSON text whose values hold ``${...}``, parsed, each interpolation back as its text;
    None when the text is not JSON."""
    parsed = _interpolated_json(template)
    if parsed is None:
        return None
    document, expressions = parsed

    def restore(value: Any) -> Any:
        if isinstance(value, str):
            return _TOKEN_PATTERN.sub(lambda m: expressions[m.group(0)], value)
        if isinstance(value, list):
            return [restore(item) for item in value]
        if isinstance(value, dict):
            return {restore(k): restore(v) for k, v in value.items()}
        return value

    return restore(document) if expressions else document


def _interpolated_json(template: Template) -> tuple[Any, dict[str, str]] | None:
    """JSON text with interpolations inside its values, parsed; None if not JSON."""
    pieces: list[str] = []
    expressions: dict[str, str] = {}
    for part in template.parts:
        if isinstance(part, str):
            pieces.append(part)
        else:
            token = _TOKEN.format(len(expressions))
            expressions[token] = f"${{{part.text}}}"
            pieces.append(token)
    try:
        return json.loads("".join(pieces)), expressions
    except (ValueError, RecursionError):
        return None


def _text(value: Any) -> str:
    if isinstance(value, Placeholder):
        return value.text
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return (
        json.dumps(value)
        if isinstance(value, dict | list)
        else str(value).lower()
        if isinstance(value, bool)
        else str(value)
    )


def _effect(value: Any) -> str:
    text = _text(value) if value is not None else "Allow"
    return {"allow": "Allow", "deny": "Deny"}.get(text.lower(), text)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _blocks(value: Any) -> list[dict[str, Any]]:
    return [v for v in _as_list(value) if isinstance(v, dict)]


_objects = _blocks


def _block_principals(value: Any) -> list[list[str]]:
    return [
        [_text(block.get("type")), _text(identifier)]
        for block in _blocks(value)
        for identifier in _as_list(block.get("identifiers"))
    ]


def _json_principals(value: Any, text: Any) -> list[list[str]]:
    if value is None:
        return []
    if isinstance(value, str | Placeholder):
        return [["*", "*"]] if text(value) == "*" else [["AWS", text(value)]]
    if isinstance(value, dict):
        return [
            [str(kind), text(identifier)]
            for kind, ids in value.items()
            for identifier in _as_list(ids)
        ]
    return [["?", text(value)]]


def _json_conditions(value: Any, text: Any) -> list[dict[str, Any]]:
    if not isinstance(value, dict):
        return []
    found = []
    for test, variables in value.items():
        if not isinstance(variables, dict):
            continue
        for variable, values in variables.items():
            found.append(
                {
                    "test": str(test),
                    "variable": str(variable),
                    "values": [text(v) for v in _as_list(values)],
                }
            )
    return found
