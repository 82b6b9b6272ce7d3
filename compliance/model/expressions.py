"""Terraform expressions as the synthesized JSON writes them, parsed once.

In Terraform's JSON syntax every string is a template: literal text with
``${ ... }`` interpolations (``$${`` is a literal ``${``). CDKTF writes
references (``${aws_kms_key.key.arn}``), function calls
(``${element(data.aws_availability_zones.azs.names, 0)}``,
``${jsonencode({...})}``) and, where an app formats tokens into text,
templates with several interpolations (``arn:aws:rds::${...}:cluster:${...}``).

Splitting a template into its parts is a small scanner here (quotes and
nested interpolations inside an expression are respected); each expression is
parsed by the HCL2 grammar of ``python-hcl2`` (a Lark parser), except plain
traversals such as ``aws_kms_key.key.arn``, which a regular expression
recognises far faster and which are most of what CDKTF writes.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

# A plain traversal: name(.name | [n] | [*] | .*)*
_PLAIN = re.compile(r"^[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*|\.\d+|\[\d+\]|\[\*\]|\.\*)*$")
_STEP = re.compile(r"\.([A-Za-z_][\w-]*)|\.(\d+)|\[(\d+)\]|(\[\*\]|\.\*)")
SPLAT = "*"


class ExpressionError(ValueError):
    """An interpolation the HCL2 grammar does not accept."""


@dataclass(frozen=True)
class Traversal:
    """A reference such as ``aws_subnet.private[1].id`` inside an expression.

    ``parts`` holds names, integer indexes and ``SPLAT``; ``functions`` the
    calls around it, outermost first; ``index`` is the element an enclosing
    ``element(x, N)`` or a following literal ``[N]`` picks, and
    ``count_index`` is true for ``element(x, count.index)``.
    """

    parts: tuple[str | int, ...]
    functions: tuple[str, ...] = ()
    index: int | None = None
    count_index: bool = False

    @property
    def text(self) -> str:
        out = str(self.parts[0])
        for part in self.parts[1:]:
            if part == SPLAT:
                out += "[*]"
            elif isinstance(part, int):
                out += f"[{part}]"
            else:
                out += f".{part}"
        return out


@dataclass(frozen=True)
class Placeholder:
    """A value that is only known at apply time, inside a structure built from HCL."""

    text: str
    traversals: tuple[Traversal, ...] = ()


@dataclass(frozen=True)
class Expression:
    """One interpolation: its text, the references in it, and the outermost call."""

    text: str
    traversals: tuple[Traversal, ...] = ()
    call: str | None = None
    # For a call such as jsonencode({...}): the argument as a Python value, with
    # Placeholder where only apply time knows the value; None when not literal-shaped.
    argument: Any = None
    literal: Any = None  # the expression's own value when it is a literal (a number, a string)
    is_literal: bool = False


@dataclass(frozen=True)
class Template:
    """A synthesized string: literal text and interpolations, in order."""

    parts: tuple[str | Expression, ...] = field(default_factory=tuple)

    @property
    def expressions(self) -> tuple[Expression, ...]:
        return tuple(part for part in self.parts if isinstance(part, Expression))

    @property
    def whole(self) -> Expression | None:
        """The single interpolation that is the whole string, if it is one."""
        if len(self.parts) == 1 and isinstance(self.parts[0], Expression):
            return self.parts[0]
        return None

    @property
    def literal_text(self) -> str:
        """The text outside every interpolation."""
        return "".join(part for part in self.parts if isinstance(part, str))

    @property
    def traversals(self) -> tuple[Traversal, ...]:
        return tuple(t for e in self.expressions for t in e.traversals)


def has_interpolation(text: str) -> bool:
    return "${" in text


@functools.lru_cache(maxsize=65536)
def parse_template(text: str) -> Template:
    """Split and parse a synthesized string; a string without ``${`` is one literal part."""
    if "${" not in text:
        return Template((text,))
    parts: list[str | Expression] = []
    for chunk, is_expression in split_template(text):
        if is_expression:
            parts.append(parse_expression(chunk))
        elif chunk:
            parts.append(chunk)
    return Template(tuple(parts))


def split_template(text: str) -> list[tuple[str, bool]]:
    """``[(literal, False), (expression, True), ...]``; ``$${`` stays a literal ``${``.

    An interpolation ends at the ``}`` that balances its ``{``, skipping quoted
    strings (and the interpolations nested inside them) in the expression.
    An unterminated interpolation is kept as literal text, as Terraform would
    reject it anyway.
    """
    out: list[tuple[str, bool]] = []
    literal: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text.startswith("$${", i):
            literal.append("${")
            i += 3
            continue
        if text.startswith("${", i):
            end = _expression_end(text, i + 2)
            if end is None:
                literal.append(text[i:])
                break
            if literal:
                out.append(("".join(literal), False))
                literal = []
            out.append((text[i + 2 : end].strip(), True))
            i = end + 1
            continue
        literal.append(text[i])
        i += 1
    if literal:
        out.append(("".join(literal), False))
    return out


def _expression_end(text: str, start: int) -> int | None:
    """Index of the ``}`` closing an expression that starts at ``start``."""
    depth, i, n = 0, start, len(text)
    while i < n:
        char = text[i]
        if char == '"':
            i = _string_end(text, i + 1)
            if i is None:
                return None
        elif char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return None


def _string_end(text: str, start: int) -> int | None:
    """Index of the quote closing a string literal inside an expression."""
    i, n = start, len(text)
    while i < n:
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == '"':
            return i
        if text.startswith("${", i) and not text.startswith("$${", i - 1 if i else 0):
            end = _expression_end(text, i + 2)
            if end is None:
                return None
            i = end + 1
            continue
        i += 1
    return None


@functools.lru_cache(maxsize=65536)
def parse_expression(text: str) -> Expression:
    """Parse one interpolation's expression (without ``${`` and ``}``)."""
    if _PLAIN.match(text):
        return Expression(text, (_plain_traversal(text),))
    quick = _simple_call(text)
    if quick is not None:
        return quick
    return parse_with_hcl(text)


def parse_with_hcl(text: str) -> Expression:
    """The HCL2 grammar's reading of an expression (the reference the fast paths must match)."""
    try:
        tree = _parse_hcl(text)
    except ExpressionError:
        # Not HCL2: keep the text, know no reference in it. The model marks
        # such a value unresolvable; it never becomes a violation by itself.
        return Expression(text)
    return _Reader(text).expression(tree)


# Calls whose arguments are traversals, integers, plain strings or such calls
# (element(split("/", aws_lambda_function_url.x.function_url), 2), tolist(...))
# are most of the calls CDKTF writes; reading them with a few regular
# expressions is ~100x faster than the grammar. Anything else goes to HCL2,
# and tests hold both readings equal (tests/unit/test_model_expressions.py).
_TOKEN = re.compile(
    r"\s*(?:(?P<call>[A-Za-z_][\w]*)\s*\("
    r"|(?P<traversal>[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*|\.\d+|\[\d+\]|\[\*\]|\.\*)*)"
    r"|(?P<int>-?\d+)(?![\w.])"
    r'|"(?P<string>[^"\\$%]*)"'
    r"|(?P<comma>,)|(?P<close>\)))"
)


def _simple_call(text: str) -> Expression | None:
    """A call tree of the simple kind, read without the grammar; None for anything else."""
    position = 0
    tokens: list[tuple[str, str]] = []
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            return None
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
        while position < len(text) and text[position].isspace():
            position += 1
    if not tokens or tokens[0][0] != "call":
        return None
    try:
        node, rest = _read_call(tokens, 0)
    except (IndexError, ValueError):
        return None
    if rest != len(tokens):
        return None
    traversals = tuple(_node_traversals(node, ()))
    argument = None
    if len(node[2]) == 1:
        argument = _node_value(node[2][0])
    return Expression(text, traversals, node[1], argument)


def _read_call(tokens: list[tuple[str, str]], i: int) -> tuple[tuple, int]:  # type: ignore[type-arg]
    name = tokens[i][1]
    i += 1
    arguments: list[tuple] = []  # type: ignore[type-arg]
    if tokens[i][0] == "close":
        return ("call", name, arguments), i + 1
    while True:
        kind, value = tokens[i]
        if kind == "call":
            node, i = _read_call(tokens, i)
        elif kind in ("traversal", "int", "string"):
            node, i = (kind, value), i + 1
        else:
            raise ValueError(kind)
        arguments.append(node)
        kind = tokens[i][0]
        i += 1
        if kind == "close":
            return ("call", name, arguments), i
        if kind != "comma":
            raise ValueError(kind)


def _node_traversals(node: tuple, functions: tuple[str, ...]) -> list[Traversal]:  # type: ignore[type-arg]
    if node[0] == "traversal":
        return [Traversal(_plain_traversal(node[1]).parts, functions)]
    if node[0] != "call":
        return []
    name, arguments = node[1], node[2]
    found: list[Traversal] = []
    for argument in arguments:
        found += _node_traversals(argument, (*functions, name))
    if name == "element" and len(arguments) == 2 and found:
        index = int(arguments[1][1]) if arguments[1][0] == "int" else None
        count_index = arguments[1] == ("traversal", "count.index")
        first = [
            Traversal(t.parts, t.functions, index, count_index)
            for t in _node_traversals(arguments[0], (*functions, name))
        ]
        rest = found[len(first) :]
        return first + [t for t in rest if t.parts != ("count", "index")]
    return found


def _node_value(node: tuple) -> Any:  # type: ignore[type-arg]
    if node[0] == "int":
        return int(node[1])
    if node[0] == "string":
        return node[1]
    return Placeholder(f"${{{_node_text(node)}}}", tuple(_node_traversals(node, ())))


def _node_text(node: tuple) -> str:  # type: ignore[type-arg]
    if node[0] == "string":
        return f'"{node[1]}"'
    if node[0] != "call":
        return str(node[1])
    return f"{node[1]}({', '.join(_node_text(a) for a in node[2])})"


def _plain_traversal(text: str) -> Traversal:
    head = re.match(r"[A-Za-z_][\w-]*", text)
    assert head is not None
    parts: list[str | int] = [head.group(0)]
    for match in _STEP.finditer(text, head.end()):
        name, short, index, splat = match.groups()
        if name is not None:
            parts.append(name)
        elif short is not None or index is not None:
            parts.append(int(short if short is not None else index))
        elif splat:
            parts.append(SPLAT)
    return Traversal(tuple(parts))


_PREFIX = "x = "


def _parse_hcl(text: str) -> Any:
    import hcl2  # deferred: the grammar costs ~0.1 s to load, and most runs need it rarely
    from lark.exceptions import LarkError

    try:
        tree = hcl2.parses_to_tree(f"{_PREFIX}{text}\n")
    except (LarkError, ValueError) as error:
        raise ExpressionError(str(error).splitlines()[0] if str(error) else "unparsable") from None
    attribute = next(tree.find_data("attribute"), None)
    if attribute is None or len(attribute.children) < 3:
        raise ExpressionError("not an expression")
    return attribute.children[2]


class _Reader:
    """Walks a Lark tree of one expression: traversals, calls, literal values."""

    def __init__(self, text: str) -> None:
        self.text = text

    def source(self, node: Any) -> str:
        meta = getattr(node, "meta", None)
        if meta is None or meta.empty:
            return ""
        offset = len(_PREFIX)
        return self.text[meta.start_pos - offset : meta.end_pos - offset]

    def expression(self, node: Any) -> Expression:
        node = _unwrap(node)
        traversals = tuple(self.traversals(node, ()))
        call = _call_name(node)
        argument = None
        if call is not None:
            arguments = _arguments(node)
            if len(arguments) == 1:
                argument = self.value(arguments[0])
        literal, is_literal = _literal(node, self)
        return Expression(self.text, traversals, call, argument, literal, is_literal)

    def traversals(self, node: Any, functions: tuple[str, ...]) -> list[Traversal]:
        node = _unwrap(node)
        chain = self.chain(node)
        if chain is not None:
            return [Traversal(chain, functions)]
        data = _data(node)
        if data == "function_call":
            name = _call_name(node) or "?"
            arguments = _arguments(node)
            found: list[Traversal] = []
            for argument in arguments:
                found += self.traversals(argument, (*functions, name))
            if name == "element" and len(arguments) == 2 and found:
                index = _int_literal(arguments[1])
                count_index = self.chain(_unwrap(arguments[1])) == ("count", "index")
                first = self.traversals(arguments[0], (*functions, name))
                rest = found[len(first) :]
                first = [Traversal(t.parts, t.functions, index, count_index) for t in first]
                return first + [t for t in rest if t.parts != ("count", "index")]
            return found
        if data == "index_expr_term":
            base, index = node.children[0], node.children[1]
            chain = self.chain(_unwrap(base))
            position = _index_value(index)
            if chain is not None:
                return [Traversal(chain, functions, position)]
        if data == "object_elem":
            key = _unwrap(node.children[0])
            if _data(key) == "object_elem_key":
                key = _unwrap(key.children[0])
            # A bare name as an object key is the key itself, not a reference.
            keyed = [] if self.chain(key) is not None else self.traversals(key, functions)
            return keyed + self.traversals(node.children[-1], functions)
        found = []
        for child in getattr(node, "children", []):
            if hasattr(child, "data"):
                found += self.traversals(child, functions)
        return found

    def chain(self, node: Any) -> tuple[str | int, ...] | None:
        """The parts of a pure traversal (names, indexes, splats), or None."""
        data = _data(node)
        if data == "expr_term":
            if len(node.children) == 1 and _data(node.children[0]) == "identifier":
                return (_name(node.children[0]),)
            if len(node.children) == 1:
                return self.chain(node.children[0])
            return None
        if data == "identifier":
            return (_name(node),)
        if data == "get_attr_expr_term":
            base = self.chain(_unwrap(node.children[0]))
            attribute = _get_attr_name(node.children[1])
            return None if base is None or attribute is None else (*base, attribute)
        if data == "index_expr_term":
            base = self.chain(_unwrap(node.children[0]))
            position = _index_value(node.children[1])
            if base is None or position is None:
                return None
            return (*base, position)
        if data in ("attr_splat_expr_term", "full_splat_expr_term"):
            base = self.chain(_unwrap(node.children[0]))
            if base is None:
                return None
            rest: list[str | int] = [SPLAT]
            for step in node.children[1].children[1:]:
                if _data(step) == "get_attr":
                    rest.append(_get_attr_name(step) or "?")
                else:
                    position = _index_value(step)
                    rest.append(position if position is not None else "?")
            return (*base, *rest)
        return None

    def value(self, node: Any) -> Any:
        """A Python value for literal-shaped HCL (objects, tuples, strings, numbers)."""
        node = _unwrap(node)
        data = _data(node)
        if data == "object":
            out: dict[str, Any] = {}
            for element in node.children:
                if _data(element) != "object_elem":
                    continue
                key = self.key(element.children[0])
                out[key] = self.value(element.children[-1])
            return out
        if data == "tuple":
            return [self.value(c) for c in node.children if hasattr(c, "data")]
        literal, is_literal = _literal(node, self)
        if is_literal:
            return literal
        text = self.source(node)
        if data == "string":  # a template inside HCL: keep it as the template it is
            return Placeholder(text[1:-1], tuple(self.traversals(node, ())))
        return Placeholder(f"${{{text}}}", tuple(self.traversals(node, ())))

    def key(self, node: Any) -> str:
        node = _unwrap(node)
        if _data(node) == "object_elem_key":
            node = _unwrap(node.children[0])
        chain = self.chain(node)
        if chain is not None and len(chain) == 1:
            return str(chain[0])
        literal, is_literal = _literal(node, self)
        return str(literal) if is_literal else self.source(node)


def _data(node: Any) -> str | None:
    data = getattr(node, "data", None)
    return str(data) if data is not None else None


def _unwrap(node: Any) -> Any:
    """Skip parentheses-free wrappers: expr_term(x) -> x where x is a single subtree."""
    while _data(node) == "expr_term":
        subtrees = [c for c in node.children if hasattr(c, "data")]
        if len(subtrees) != 1 or len(node.children) != 1:
            # ( expression ) keeps its parentheses tokens: look inside.
            if len(subtrees) == 1 and _data(subtrees[0]) != "identifier":
                node = subtrees[0]
                continue
            return node
        if _data(subtrees[0]) == "identifier":
            return node
        node = subtrees[0]
    return node


def _name(identifier: Any) -> str:
    return str(identifier.children[0])


def _get_attr_name(node: Any) -> str | None:
    for child in node.children:
        if _data(child) == "identifier":
            return _name(child)
        if _data(child) == "literal_value":
            return str(child.children[0])
    return None


def _call_name(node: Any) -> str | None:
    if _data(node) != "function_call":
        return None
    names = [_name(c) for c in node.children if _data(c) == "identifier"]
    return "::".join(names) if names else None


def _arguments(node: Any) -> list[Any]:
    for child in node.children:
        if _data(child) == "arguments":
            return [
                c
                for c in child.children
                if hasattr(c, "data") and _data(c) != "new_line_or_comment"
            ]
    return []


def _index_value(node: Any) -> int | None:
    data = _data(node)
    if data == "short_index":
        return int(str(node.children[-1]))
    if data == "braces_index":
        inner = [
            c for c in node.children if hasattr(c, "data") and _data(c) != "new_line_or_comment"
        ]
        return _int_literal(inner[0]) if inner else None
    return None


def _int_literal(node: Any) -> int | None:
    node = _unwrap(node)
    if _data(node) == "int_lit":
        return int(str(node.children[0]))
    return None


def _literal(node: Any, reader: _Reader) -> tuple[Any, bool]:
    """The value of a literal node (number, bool, null, plain string)."""
    node = _unwrap(node)
    data = _data(node)
    if data == "int_lit":
        return int(str(node.children[0])), True
    if data == "float_lit":
        return float(str(node.children[0])), True
    if data == "literal_value":
        token = str(node.children[0])
        return {"true": True, "false": False, "null": None}[token], True
    if data == "unary_op" and str(node.children[0]) == "-":
        value, ok = _literal(node.children[1], reader)
        if ok and isinstance(value, int | float):
            return -value, True
    if data == "string":
        pieces: list[str] = []
        for part in node.children:
            if _data(part) != "string_part":
                continue
            token = part.children[0]
            if hasattr(token, "data"):
                return None, False  # an interpolation inside the string
            text = str(token)
            if token.type == "ESCAPED_INTERPOLATION":
                text = text[1:]
            pieces.append(_unescape(text))
        return "".join(pieces), True
    return None, False


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), text)
