"""Places where a secret may be written into the configuration, as facts for DR-ENC-03.

Every resource and data source is read, and so is JSON inside it: JSON text
(ECS container definitions, literal policies, also with ``${...}`` inside its
values) and ``jsonencode({...})`` arguments. A candidate is one value:

- ``master_password``: the ``master_password`` attribute of a resource;
- ``named``: a value held under a secret-like name (an attribute, a map key
  such as a Lambda environment variable, or a list under such a key);
- ``pair``: a ``{name, value}`` object whose ``name`` is secret-like (container
  and build environment variables, parameters); its ``type`` saying the value
  names a Parameter Store or Secrets Manager entry makes it ``store``;
- ``parameter``: an SSM parameter's value, when the parameter is a
  SecureString or has a secret-like name;
- ``credential``: any other string with the shape of a credential.

What the value is (``holds``: literal, empty, expression, boolean, number,
arn, store, null) and its credential ``shape`` are facts; the policy judges
them. The value itself never leaves this module.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from compliance.model.expressions import Placeholder, parse_template
from compliance.model.loader import Resource
from compliance.model.policies import json_with_interpolations
from compliance.model.references import MAX_DEPTH, path_text

# A name that denotes a secret, matched on its lower-cased end (`_wo` is the
# write-only variant of provider 6.x).
_SECRET_NAME = re.compile(
    r"(password|passwd|passphrase|(^|[_.])pass|pwd|secret|secret_?string|secret_?binary"
    r"|secret_?key|secret_?access_?key|token|api_?key|private_?key|credentials?)(_wo)?$"
)
# Names that match the pattern but hold no secret.
_NOT_SECRET_NAMES = {"creation_token", "client_token", "idempotency_token", "client_request_token"}
# Metadata whose keys are labels, not attributes: a tag key names no value's meaning.
_LABELS = {"tags", "tags_all", "default_tags"}
_STORE_TYPES = {"PARAMETER_STORE", "SECRETS_MANAGER"}
_META = {"//", "provider", "depends_on", "lifecycle", "provisioner", "connection"}

SHAPES = {
    "an AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "a PEM private key": re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"),
    "a URL with an embedded password": re.compile(
        r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@${}]+:[^/\s@${}]+@"
    ),
    "a GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36}\b"),
    "a Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
}
# Every shape holds one of these; a search for them is linear, the shapes' own are not.
_NEEDLES = re.compile(r"AKIA|ASIA|PRIVATE KEY|://|gh[pousr]_|xox[abprs]-")
# Every secret-like name holds one of these once lower-cased ("-" as written).
_WORDS = (
    "pass", "pwd", "secret", "token", "credential", "apikey", "api_key", "api-key",
    "privatekey", "private_key", "private-key", "\\\\u",
)  # fmt: skip
_ARN = re.compile(r"^arn:aws[a-z-]*:")

Path = tuple[str | int, ...]
_STORED = object()  # the value of a pair whose type says it names a secret store entry


@functools.lru_cache(maxsize=4096)
def secret_like(name: str) -> bool:
    normalised = name.lower().replace("-", "_")
    return normalised not in _NOT_SECRET_NAMES and _SECRET_NAME.search(normalised) is not None


def holds(value: Any) -> str:
    """What kind of value this is, as far as secrets go."""
    if value is None:
        return "null"
    if value is _STORED:
        return "store"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, Placeholder):
        return "expression"
    if not isinstance(value, str):
        return "structure"
    if value.strip() == "":
        return "empty"
    if "${" in value:
        return "expression"
    if value.lower() in ("true", "false"):
        return "boolean"
    if _ARN.match(value):
        return "arn"
    return "literal"


def shape(value: Any) -> str | None:
    """The credential shape a text has, if any (its literal parts only matter)."""
    if isinstance(value, Placeholder):
        value = value.text
    if not isinstance(value, str) or not _NEEDLES.search(value):
        return None
    return next((name for name, pattern in SHAPES.items() if pattern.search(value)), None)


def secrets(block: Resource, key: str) -> list[dict[str, Any]]:
    """The secret candidates of one block."""
    scan = _Scan(key)
    values = {k: v for k, v in block.values.items() if k not in _META}
    if not block.is_data and "master_password" in values:
        password = values.pop("master_password")
        scan.add(("master_password",), "master_password", "master_password", password)
    if block.type == "aws_ssm_parameter" and not block.is_data:
        name = values.get("name")
        secure = values.get("type") == "SecureString"
        if "value" in values and (secure or (isinstance(name, str) and secret_like(name))):
            label = name if isinstance(name, str) else None
            scan.add(("value",), "parameter", label, values["value"])
    if _may_hold(values):
        scan.walk(values, (), 0, labels=False)
    return list(scan.found.values())


def _may_hold(values: dict[str, Any]) -> bool:
    """Does a block's text hold a secret word or the start of a credential shape?

    One pass over the block's JSON text spares the walk of most blocks. A
    name that is secret-like holds one of the words once lower-cased; JSON
    held in a string may spell one with \\u escapes, so an escape means walk.
    """
    text = json.dumps(values)
    if _NEEDLES.search(text):
        return True
    lowered = text.lower()
    return any(word in lowered for word in _WORDS)


class _Scan:
    """One block's candidates, one per value: the first reading of a value names it."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.found: dict[Path, dict[str, Any]] = {}

    def add(self, path: Path, kind: str, name: str | None, value: Any) -> None:
        if path in self.found:
            return
        where = path[:-1] if kind == "pair" else path  # a pair is named by its object
        self.found[path] = {
            "from": self.key,
            "path": list(where),
            "attr": path_text(where),
            "kind": kind,
            "name": name,
            "holds": holds(value),
            "shape": shape(value),
        }

    def walk(self, value: Any, path: Path, depth: int, labels: bool) -> None:
        if depth > MAX_DEPTH:
            return
        if isinstance(value, dict):
            self._object(value, path, depth, labels)
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                self.walk(inner, (*path, index), depth + 1, labels)
        elif isinstance(value, str | Placeholder):
            inner = _embedded(value)
            if inner is not None:  # JSON inside: its own values are the candidates
                self.walk(inner, path, depth + 1, labels)
            elif path not in self.found and shape(value) is not None:
                self.add(path, "credential", None, value)

    def _object(self, value: dict[str, Any], path: Path, depth: int, labels: bool) -> None:
        pair_name = value.get("name")
        if (
            not labels
            and isinstance(pair_name, str)
            and "value" in value
            and secret_like(pair_name)
        ):
            kind_of_value = value.get("type")
            stored = isinstance(kind_of_value, str) and kind_of_value.upper() in _STORE_TYPES
            self.add((*path, "value"), "pair", pair_name, _STORED if stored else value["value"])
        for name, inner in value.items():
            inner_labels = labels or name in _LABELS
            secret_name = not inner_labels and secret_like(str(name))
            if secret_name and _is_scalar(inner):
                self.add((*path, name), "named", str(name), inner)
                if holds(inner) == "literal":
                    continue  # the literal is the finding: JSON inside it is the same secret
            elif secret_name and isinstance(inner, list):
                for index, item in enumerate(inner):
                    if _is_scalar(item):
                        self.add((*path, name, index), "named", str(name), item)
            self.walk(inner, (*path, name), depth + 1, inner_labels)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool | Placeholder)


def _embedded(value: str | Placeholder) -> Any:
    """The structure JSON text or a jsonencode() argument holds, or None."""
    if isinstance(value, Placeholder):
        return None
    if "${" not in value:
        if value.lstrip()[:1] not in ("[", "{"):
            return None
        try:
            parsed = json.loads(value)
        except (ValueError, RecursionError):
            return None
        return parsed if isinstance(parsed, dict | list) else None
    if not value.startswith("${jsonencode(") and value.lstrip()[:1] not in ("[", "{"):
        return None
    template = parse_template(value)
    whole = template.whole
    if whole is not None:
        return whole.argument if whole.call == "jsonencode" else None
    parsed = json_with_interpolations(template)
    return parsed if isinstance(parsed, dict | list) else None
