"""References between resources, as edges, resolved once for every policy.

Every string value of every resource and data source is parsed (see
``expressions``); each traversal in it that names a resource or data source
becomes an edge from the attribute that holds it to the block it names:

- ``direct``: ``aws_kms_key.key.arn`` or ``data.aws_iam_policy_document.p.json``
  in the same stack;
- ``cross-stack``: CDKTF's ``data.terraform_remote_state.cross-stack-reference-input-<stack>``
  ``.outputs.<output>``, followed to the producing stack's output and resolved
  there (an output holding a list becomes one edge per element).

A traversal that names nothing of the design (a variable, a local value, a
module output, a resource the stack does not declare, a remote state that is
not CDKTF's) is an edge with no target and a reason: unresolvable, never a
violation by itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from compliance.errors import InputError
from compliance.model.expressions import SPLAT, Template, Traversal, parse_template
from compliance.model.loader import Model, Resource, Stack

CROSS_STACK_PREFIX = "cross-stack-reference-input-"
_REMOTE_STATE = "terraform_remote_state"
_NOT_RESOURCES = {
    "var": "a variable",
    "local": "a local value",
    "module": "a module output",
    "self": "self",
}
# Values that name no block at all: the instance number, paths, the workspace.
_NOT_REFERENCES = {"count", "path", "terraform"}
# Attributes that are not values of the resource.
_META = {"//", "provider", "depends_on", "lifecycle", "provisioner", "connection"}
MAX_DEPTH = 64
_MAX_HOPS = 8
# What names a state's location in a backend configuration.
_STATE_LOCATION = {
    "bucket",
    "key",
    "path",
    "prefix",
    "workspace",
    "container_name",
    "organization",
}  # cross-stack outputs followed in a row before giving up


def key_of(stack: str, address: str) -> str:
    return f"{stack}|{address}"


@dataclass(frozen=True)
class Ref:
    """One reference: an attribute of ``source`` that names ``target``."""

    source: str
    path: tuple[str | int, ...]
    target: str | None
    attribute: tuple[str | int, ...]
    via: str
    whole: bool
    expression: str
    functions: tuple[str, ...] = ()
    index: int | None = None  # the list element picked: element(x, N) or x[N]
    instance: int | None = None  # the instance of a counted resource: aws_subnet.x[N]
    splat: bool = False
    count_index: bool = False
    item: int | None = None
    reason: str | None = None
    # For a value read from another stack's outputs: the consuming stack's
    # terraform_remote_state data source (key) and the stack whose output it reads.
    remote: str | None = None
    # ``${var.x}`` with a literal default: the value as designed (what plan uses
    # without a variables file); the edge still names no block.
    default: Any = None
    producer: str | None = None

    def to_input(self) -> dict[str, Any]:
        """The edge as policies read it; optional fields only when they say something.

        The input is handed to OPA as JSON on every check and half of it is
        edges: an unset optional field (null, false, empty) is left out, and
        Rego reads a missing field as undefined, as it would read the default.
        """
        path = self.path
        entry: dict[str, Any] = {
            "from": self.source,
            "path": list(path),
            # The path without list positions: a single block synthesizes as an
            # object or as a one-element list, and both read the same here.
            "names": [part for part in path if isinstance(part, str)],
            "to": self.target,
            "attribute": ".".join(map(str, self.attribute)),
        }
        # A reference is direct unless it says otherwise.
        if self.via != "direct" and self.via is not None:
            entry["via"] = self.via
        # The text is for messages about values that are not a plain reference.
        if not (self.whole and self.target is not None) and self.expression is not None:
            entry["expression"] = self.expression
        if self.whole:
            entry["whole"] = True
        if self.functions:
            entry["functions"] = list(self.functions)
        for name in _OPTIONAL:
            value = getattr(self, name)
            if value is not None and value is not False:
                entry[name] = value
        return entry


# Fields of an edge that are left out when unset (None or False).
_OPTIONAL = (
    "index",
    "instance",
    "splat",
    "count_index",
    "item",
    "reason",
    "remote",
    "producer",
    "default",
)


def path_text(path: tuple[str | int, ...] | list[str | int]) -> str:
    """``vpc_config.subnet_ids[0]`` from ``("vpc_config", "subnet_ids", 0)``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def strings(
    value: Any, path: tuple[str | int, ...] = (), depth: int = 0
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every string leaf of a value with its path; too deep a structure is bad input."""
    if depth > MAX_DEPTH:
        raise _TooDeep(path)
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, inner in value.items():
            if depth == 0 and key in _META:
                continue
            yield from strings(inner, (*path, key), depth + 1)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from strings(inner, (*path, index), depth + 1)


def templates(value: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """The string leaves of a block's values that hold ``${``, with their paths.

    What ``strings`` yields, filtered, in the same order; built by one
    recursive function rather than nested generators, because every block of
    every check passes through here (too deep a structure is bad input).
    """
    found: list[tuple[tuple[str | int, ...], str]] = []
    _templates(value, (), 0, found)
    return found


def _templates(
    value: Any,
    path: tuple[str | int, ...],
    depth: int,
    found: list[tuple[tuple[str | int, ...], str]],
) -> None:
    if depth > MAX_DEPTH:
        raise _TooDeep(path)
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        if isinstance(value, str) and "${" in value:
            found.append((path, value))
        return
    inner_depth = depth + 1
    for key, inner in items:
        if depth == 0 and key in _META:
            continue
        if isinstance(inner, str):  # most leaves: no call, same depth rule
            if inner_depth > MAX_DEPTH:
                raise _TooDeep((*path, key))
            if "${" in inner:
                found.append(((*path, key), inner))
        elif isinstance(inner, dict | list):
            _templates(inner, (*path, key), inner_depth, found)
        elif inner_depth > MAX_DEPTH:
            raise _TooDeep((*path, key))


class _TooDeep(Exception):
    def __init__(self, path: tuple[str | int, ...]) -> None:
        self.path = path


class Resolver:
    """Resolves traversals in a stack to the design's blocks, across stacks too."""

    def __init__(self, model: Model) -> None:
        self.stacks: dict[str, Stack] = {stack.name: stack for stack in model.stacks}
        self.blocks: dict[str, Resource] = {}
        for stack in model.stacks:
            for block in (*stack.resources(), *stack.data_sources()):
                self.blocks[key_of(stack.name, block.address)] = block

    def refs_of(self, block: Resource) -> list[Ref]:
        source = key_of(block.stack, block.address)
        found: list[Ref] = []
        try:
            leaves = templates(block.values)
        except _TooDeep as error:
            raise InputError(
                self.stacks[block.stack].file,
                f"{block.address}.{path_text(error.path)} is nested deeper than {MAX_DEPTH} levels",
            ) from None
        for path, text in leaves:
            found += self.refs_in(block.stack, source, path, parse_template(text))
        return found

    def refs_in(
        self, stack: str, source: str, path: tuple[str | int, ...], template: Template
    ) -> list[Ref]:
        whole = template.whole
        found: list[Ref] = []
        for expression in template.expressions:
            for traversal in expression.traversals:
                is_whole = whole is expression and not traversal.functions and whole.call is None
                found += self.resolve(stack, source, path, traversal, expression.text, is_whole)
        return found

    def resolve(
        self,
        stack: str,
        source: str,
        path: tuple[str | int, ...],
        traversal: Traversal,
        text: str,
        whole: bool,
        hops: int = 0,
    ) -> list[Ref]:
        parts = traversal.parts
        head = str(parts[0])
        common = {
            "source": source,
            "path": path,
            "expression": text,
            "functions": traversal.functions,
            "count_index": traversal.count_index,
        }
        if head in _NOT_REFERENCES:
            return []
        if head == "each" and len(parts) >= 2:
            return self._each(stack, parts, traversal, text, whole, hops, common)
        if head == "local" and len(parts) >= 2:
            local = self._local(stack, str(parts[1]))
            if local is not None:
                return self._through_local(stack, local, traversal, text, whole, hops, common)
        if head in _NOT_RESOURCES:
            default = self._variable_default(stack, parts) if head == "var" else None
            return [
                Ref(
                    target=None,
                    attribute=(),
                    via="unresolved",
                    whole=whole,
                    reason=_NOT_RESOURCES[head],
                    default=default,
                    **common,
                )
            ]
        if head == "data" and len(parts) >= 3 and parts[1] == "terraform_remote_state":
            return self._remote(stack, parts, traversal, text, whole, hops, common)
        if head == "data":
            address, rest = f"data.{parts[1]}.{parts[2]}" if len(parts) >= 3 else "data", parts[3:]
        elif len(parts) >= 2:
            address, rest = f"{parts[0]}.{parts[1]}", parts[2:]
        else:
            return [
                Ref(
                    target=None,
                    attribute=(),
                    via="unresolved",
                    whole=whole,
                    reason="not a reference",
                    **common,
                )
            ]
        target = key_of(stack, address)
        if target not in self.blocks:
            reason = f"{address} is not declared in stack {stack}"
            return [
                Ref(
                    target=None,
                    attribute=tuple(rest),
                    via="unresolved",
                    whole=whole,
                    reason=reason,
                    **common,
                )
            ]
        instance, splat, rest = _instance(rest)
        position = traversal.index
        if position is None and rest and isinstance(rest[-1], int):
            # names[2]: an element of a list attribute
            position, rest = rest[-1], rest[:-1]
        return [
            Ref(
                target=target,
                attribute=tuple(rest),
                via="direct" if hops == 0 else "cross-stack",
                whole=whole,
                index=position,
                instance=instance,
                splat=splat,
                **common,
            )
        ]

    def _each(
        self,
        stack: str,
        parts: tuple[str | int, ...],
        traversal: Traversal,
        text: str,
        whole: bool,
        hops: int,
        common: dict[str, Any],
    ) -> list[Ref]:
        """``each.value...`` of a for_each block: what every entry names, or unresolvable."""
        from compliance.model.instances import Mirror, each_value, entries

        if parts[1] == "key":
            return []  # a literal key of the for_each
        block = self.blocks.get(common["source"])
        found = entries(block) if block is not None else None
        if parts[1] != "value" or found is None or found == []:
            return [
                Ref(target=None, attribute=(), via="unresolved", whole=whole,
                    reason="a for_each value", **common)
            ]  # fmt: skip
        if isinstance(found, Mirror):
            head = tuple(found.address.split("."))
            mirrored = Traversal(
                (*head, *parts[2:]), traversal.functions, traversal.index, traversal.count_index
            )
            return self.resolve(
                stack, common["source"], common["path"], mirrored, text, whole, hops
            )
        refs: list[Ref] = []
        for _, value in found:
            picked = each_value(value, parts[2:])
            if isinstance(picked, str) and "${" in picked:
                refs += self._through_local(stack, picked, traversal, text, whole, hops, common)
        return refs

    def _variable_default(self, stack: str, parts: tuple[str | int, ...]) -> Any:
        """The literal default of ``var.<name>`` in its stack, or None."""
        variables = self.stacks[stack].document.get("variable") if stack in self.stacks else None
        spec = (
            variables.get(str(parts[1]))
            if isinstance(variables, dict) and len(parts) == 2
            else None
        )
        default = spec.get("default") if isinstance(spec, dict) else None
        if isinstance(default, str) and "${" in default:
            return None
        return (
            default
            if isinstance(default, str | int | float) and not isinstance(default, bool)
            else None
        )

    def _state_owner(self, stack: str, name: str) -> str | None:
        """The stack whose backend writes the state a hand-written remote state reads.

        A ``DataTerraformRemoteStateS3`` (or local, gcs...) names a backend and
        its configuration; the stack of the checked output whose own
        ``terraform.backend`` has the same type and the same location (bucket
        and key, path, prefix, workspace...) is the one it reads.
        """
        data = self.blocks.get(key_of(stack, f"data.{_REMOTE_STATE}.{name}"))
        if data is None:
            return None
        kind, config = data.values.get("backend"), data.values.get("config")
        if not isinstance(kind, str) or not isinstance(config, dict):
            return None
        location = {k: v for k, v in config.items() if k in _STATE_LOCATION}
        if not location:
            return None
        owners = []
        for other in self.stacks.values():
            backend = (other.document.get("terraform") or {}).get("backend")
            written = backend.get(kind) if isinstance(backend, dict) else None
            if isinstance(written, dict) and all(written.get(k) == v for k, v in location.items()):
                owners.append(other.name)
        return owners[0] if len(owners) == 1 else None

    def _local(self, stack: str, name: str) -> Any:
        """A stack's ``locals`` value (CDKTF's TerraformLocal), or None when it has none."""
        locals_ = self.stacks[stack].document.get("locals") if stack in self.stacks else None
        return locals_.get(name) if isinstance(locals_, dict) else None

    def _through_local(
        self,
        stack: str,
        value: Any,
        traversal: Traversal,
        text: str,
        whole: bool,
        hops: int,
        common: dict[str, Any],
    ) -> list[Ref]:
        """A local value is resolved where it is defined, like a reference written in place."""
        if hops >= _MAX_HOPS:
            return []
        found: list[Ref] = []
        items = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
        for item, element in items:
            if not isinstance(element, str) or "${" not in element:
                continue
            template = parse_template(element)
            inner_whole = whole and template.whole is not None and template.whole.call is None
            for expression in template.expressions:
                for inner in expression.traversals:
                    merged = Traversal(
                        inner.parts,
                        traversal.functions + inner.functions,
                        inner.index if inner.index is not None else traversal.index,
                        inner.count_index or traversal.count_index,
                    )
                    for ref in self.resolve(
                        stack,
                        common["source"],
                        common["path"],
                        merged,
                        text,
                        inner_whole and not inner.functions,
                        hops + 1,
                    ):
                        via = ref.via
                        if via == "cross-stack" and ref.remote is None:
                            via = "direct"  # the local named a block of its own stack
                        found.append(
                            _replace(ref, via=via, item=item if item is not None else ref.item)
                        )
        return found

    def _remote(
        self,
        stack: str,
        parts: tuple[str | int, ...],
        traversal: Traversal,
        text: str,
        whole: bool,
        hops: int,
        common: dict[str, Any],
    ) -> list[Ref]:
        name = str(parts[2])
        unresolved = Ref(
            target=None, attribute=(), via="unresolved", whole=whole, **{**common, "reason": None}
        )
        if len(parts) < 5 or parts[3] != "outputs":
            return [_with_reason(unresolved, f"remote state {name}: not an output read")]
        if name.startswith(CROSS_STACK_PREFIX):
            producer = name.removeprefix(CROSS_STACK_PREFIX)
        else:
            producer = self._state_owner(stack, name) or ""
            if not producer:
                reason = (
                    f"remote state {name} reads a state no stack of the checked output writes "
                    "(its backend configuration matches none)"
                )
                return [_with_reason(unresolved, reason)]
        if producer not in self.stacks:
            return [_with_reason(unresolved, f"stack {producer} is not part of the checked output")]
        # From here on the consumer reads the producer's state, resolvable or not.
        read = {"remote": key_of(stack, f"data.{_REMOTE_STATE}.{name}"), "producer": producer}
        unresolved = _replace(unresolved, **read)
        if hops >= _MAX_HOPS:
            return [_with_reason(unresolved, "too many cross-stack hops")]
        outputs = self.stacks[producer].document.get("output") or {}
        output = outputs.get(str(parts[4])) if isinstance(outputs, dict) else None
        value = output.get("value") if isinstance(output, dict) else None
        if value is None:
            return [_with_reason(unresolved, f"stack {producer} has no output {parts[4]}")]
        found: list[Ref] = []
        items = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
        for item, element in items:
            if not isinstance(element, str) or "${" not in element:
                continue
            template = parse_template(element)
            inner_whole = whole and template.whole is not None and template.whole.call is None
            for expression in template.expressions:
                for inner in expression.traversals:
                    merged = Traversal(
                        inner.parts,
                        traversal.functions + inner.functions,
                        inner.index if inner.index is not None else traversal.index,
                        inner.count_index or traversal.count_index,
                    )
                    for ref in self.resolve(
                        producer,
                        common["source"],
                        common["path"],
                        merged,
                        text,
                        inner_whole and not inner.functions,
                        hops + 1,
                    ):
                        via = "cross-stack" if ref.target else ref.via
                        found.append(_replace(ref, item=item, via=via, **read))
        if not found:  # a literal output: nothing to follow, but the read is real
            reason = f"output {parts[4]} of stack {producer} holds no reference"
            return [_with_reason(unresolved, reason)]
        return found


def _instance(rest: tuple[str | int, ...]) -> tuple[int | None, bool, tuple[str | int, ...]]:
    """``[1].id`` -> (1, False, ("id",)); ``[*].id`` -> (None, True, ("id",))."""
    if rest and rest[0] == SPLAT:
        return None, True, rest[1:]
    if rest and isinstance(rest[0], int):
        return rest[0], False, rest[1:]
    return None, False, rest


def _with_reason(ref: Ref, reason: str) -> Ref:
    return _replace(ref, reason=reason)


def _replace(ref: Ref, **changes: Any) -> Ref:
    from dataclasses import replace

    return replace(ref, **changes)
