"""Find plain dicts passed for nested blocks in the CDKTF app's Python source (DR-SCH-03).

A plain dict inside a list block (``replica=[{...}]``) goes to jsii as is,
and an optional snake_case or misspelled key is silently dropped
(FIELD_NOTES): the synthesized JSON keeps no trace of it, so this is checked
on the source. Typed structs (``DynamodbTableReplica(...)``) raise on a bad
key; the requirement is that the source passes them, never plain dicts, for
nested blocks, single or list.

The schema tells a block from a map attribute: ``dimensions={...}``,
``variables={...}`` and ``tags={...}`` are maps, not blocks, and are never
flagged.

Which source: the checked app's own (:class:`compliance.app_config.AppConfig`:
its folder, or the ``source`` its ``pyproject.toml`` lists), or the folder
given with ``--source``; none with ``--no-source`` or when no app is found,
and then ``note`` says why.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compliance.app_files import AppFiles
from compliance.errors import InputError
from compliance.schema import PACKAGE, load_schema

_MAX_RESOLVE = 4  # how many name-to-assignment hops a value is followed


def source_facts(
    files: AppFiles, *, explicit: Path | None = None, enabled: bool = True
) -> dict[str, Any]:
    """The facts DR-SCH-03 judges; ``files`` empty (NOT_APPLICABLE) and a ``note`` when none.

    A scan is kept for the life of the process while no file changes: the
    mutation run checks dozens of copies against the same source.
    """
    roots, note = _roots(files, explicit, enabled)
    found: dict[Path, str] = {}
    for root in roots:
        for path in files.walk(root):
            if path.suffix == ".py":
                found.setdefault(path, files.relative(path, root.parent))
    if roots and not found:
        shown = ", ".join(files.relative(root, root.parent) or "." for root in roots)
        note = f"no Python file in the app's source ({shown}): DR-SCH-03 has nothing to judge"
    paths = sorted(found.items(), key=lambda item: item[1])
    key = tuple((str(path), name, *_stamp(path)) for path, name in paths)
    if key not in _SCANS:
        _SCANS[key] = scan(paths)
    return {
        **_SCANS[key],
        "roots": [files.relative(root, root.parent) or "." for root in roots],
        "note": note,
    }


_SCANS: dict[tuple[tuple[str, str, int, int], ...], dict[str, Any]] = {}


def _roots(files: AppFiles, explicit: Path | None, enabled: bool) -> tuple[list[Path], str | None]:
    """The folders and files to scan, or none and why."""
    if not enabled:
        return [], "source scanning was turned off (--no-source): DR-SCH-03 is not judged"
    if explicit is not None:
        if not explicit.exists():
            raise InputError(explicit, "the source folder named by --source does not exist")
        return [explicit.resolve()], None
    if not files.app.found:
        return [], f"{files.app.note}: DR-SCH-03 cannot judge the source of this output"
    return files.app.source_roots(), None


def _stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


def scan(
    files: Sequence[tuple[Path, str]], classes: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Scan each ``(path, name to report it by)``."""
    if classes is None:
        schema = load_schema()
        classes, block_names = schema.classes, set(schema.block_keywords)
    else:
        block_names = {kw for name in classes for kw in classes[name]["blocks"]}
    violations: list[dict[str, Any]] = []
    unresolved: list[dict[str, Any]] = []
    for path, name in files:
        found = scan_file(path, name, classes, block_names)
        violations += found.violations
        unresolved += found.unresolved
    return {
        "files_scanned": len(files),
        "files": [name for _, name in files],
        "violations": violations,
        "unresolved": unresolved,
    }


@dataclass
class FileScan:
    violations: list[dict[str, Any]] = field(default_factory=list)
    # ``**expr`` expansions whose keys could not be read: a blind spot, listed for the auditor.
    unresolved: list[dict[str, Any]] = field(default_factory=list)


def scan_file(
    path: Path, relative: str, classes: Mapping[str, Any], block_names: set[str]
) -> FileScan:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(path, f"cannot read: {error}") from None
    except SyntaxError as error:
        raise InputError(path, f"line {error.lineno}: {error.msg}") from None
    return _Scanner(relative, classes, block_names, _imports(tree)).run(tree)


def _imports(tree: ast.Module) -> dict[str, str]:
    """Local name -> ``module.Class`` or ``module`` for everything imported from the provider.

    ``from cdktf_cdktf_provider_aws.dynamodb_table import DynamodbTable as T``
    gives ``T -> dynamodb_table.DynamodbTable``; module imports give
    ``m -> dynamodb_table`` (and the package itself ``-> ""``).
    """
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == PACKAGE:
                for alias in node.names:
                    names[alias.asname or alias.name] = alias.name
            elif node.module.startswith(PACKAGE + "."):
                module = node.module.removeprefix(PACKAGE + ".")
                for alias in node.names:
                    names[alias.asname or alias.name] = f"{module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                    if alias.asname:
                        names[alias.asname] = alias.name.removeprefix(PACKAGE).lstrip(".")
                    else:
                        names[PACKAGE] = ""
    return names


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        parent = _dotted(node.value)
        return f"{parent}.{node.attr}" if parent else None
    return None


class _Scanner:
    def __init__(
        self,
        file: str,
        classes: Mapping[str, Any],
        block_names: set[str],
        imports: dict[str, str],
    ) -> None:
        self.file = file
        self.classes = classes
        self.block_names = block_names
        self.imports = imports
        self.result = FileScan()

    def run(self, tree: ast.Module) -> FileScan:
        for scope in _scopes(tree):
            for call in scope.calls:
                self._call(call, scope.assignments)
        self.result.violations.sort(key=lambda v: (v["line"], v["call"], v["keyword"]))
        self.result.unresolved.sort(key=lambda v: (v["line"], v["call"]))
        return self.result

    def _class_of(self, call: ast.Call) -> str | None:
        """``module.Class`` when the call builds a provider class, else None."""
        dotted = _dotted(call.func)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        if head not in self.imports:
            return None
        target = self.imports[head]
        full = ".".join(part for part in (target, rest) if part)
        return full if full in self.classes else None

    def _call(self, call: ast.Call, assignments: dict[str, list[ast.expr]]) -> None:
        key = self._class_of(call)
        if key is not None:
            blocks = self.classes[key]["blocks"]
            name = key.rsplit(".", 1)[1]
            for keyword in call.keywords:
                if keyword.arg is None:
                    self._expansion(name, blocks, keyword, assignments)
                elif keyword.arg in blocks and _is_plain(keyword.value, assignments):
                    self._flag(name, keyword.arg, blocks[keyword.arg], keyword.lineno)
            return
        # ``table.put_replica([{...}])``: CDKTF's setter for a block, on any receiver.
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr.startswith("put_"):
            block = func.attr.removeprefix("put_")
            values = [*call.args, *(k.value for k in call.keywords if k.arg == "value")]
            if block in self.block_names and any(_is_plain(v, assignments) for v in values):
                info = {"block": block, "struct": None}
                self._flag(f".{func.attr}", block, info, call.lineno)

    def _expansion(
        self,
        name: str,
        blocks: Mapping[str, Any],
        keyword: ast.keyword,
        assignments: dict[str, list[ast.expr]],
    ) -> None:
        """``**kwargs``: judge the keys it holds when they can be read from the source."""
        dicts = _dict_sources(keyword.value, assignments)
        if dicts is None:
            self.result.unresolved.append({"file": self.file, "line": keyword.lineno, "call": name})
            return
        for block, value, line in dicts:
            if block in blocks and _is_plain(value, assignments):
                self._flag(name, block, blocks[block], line)

    def _flag(self, call: str, keyword: str, info: Mapping[str, Any], line: int) -> None:
        self.result.violations.append(
            {
                "file": self.file,
                "line": line,
                "call": call,
                "keyword": keyword,
                "block": info.get("block", keyword),
                "struct": info.get("struct"),
            }
        )


@dataclass
class _Scope:
    """The module or one function: where a name is assigned and where calls use it."""

    calls: list[ast.Call] = field(default_factory=list)
    assignments: dict[str, list[ast.expr]] = field(default_factory=dict)

    def assign(self, target: ast.expr, value: ast.expr | None) -> None:
        if isinstance(target, ast.Name) and value is not None:
            self.assignments.setdefault(target.id, []).append(value)


_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def _scopes(tree: ast.Module) -> list[_Scope]:
    """Every scope's calls and assignments, in one pass over the tree."""
    scopes = [_Scope()]
    stack: list[tuple[ast.AST, _Scope]] = [
        (child, scopes[0]) for child in ast.iter_child_nodes(tree)
    ]
    while stack:
        node, scope = stack.pop()
        if isinstance(node, _FUNCTIONS):
            scopes.append(_Scope())
            scope = scopes[-1]
        elif isinstance(node, ast.Call):
            scope.calls.append(node)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                scope.assign(target, node.value)
        elif isinstance(node, ast.AnnAssign | ast.NamedExpr):
            scope.assign(node.target, node.value)
        stack.extend((child, scope) for child in ast.iter_child_nodes(node))
    return scopes


def _is_dict(node: ast.expr) -> bool:
    if isinstance(node, ast.Dict | ast.DictComp):
        return True
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict"


def _is_plain(node: ast.expr, assignments: dict[str, list[ast.expr]], hops: int = 0) -> bool:
    """Does this value hand jsii a plain dict (or a list holding one) for a block?"""
    if _is_dict(node):
        return True
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        elements = [e.value if isinstance(e, ast.Starred) else e for e in node.elts]
        return any(_is_plain(element, assignments, hops) for element in elements)
    if isinstance(node, ast.ListComp | ast.GeneratorExp | ast.SetComp):
        return _is_plain(node.elt, assignments, hops)
    if isinstance(node, ast.IfExp):
        return _is_plain(node.body, assignments, hops) or _is_plain(node.orelse, assignments, hops)
    if isinstance(node, ast.BinOp):
        return _is_plain(node.left, assignments, hops) or _is_plain(node.right, assignments, hops)
    if isinstance(node, ast.Name) and hops < _MAX_RESOLVE:
        values = assignments.get(node.id, [])
        return any(_is_plain(value, assignments, hops + 1) for value in values)
    return False


def _dict_sources(
    node: ast.expr, assignments: dict[str, list[ast.expr]], hops: int = 0
) -> list[tuple[str, ast.expr, int]] | None:
    """The ``(key, value, line)`` entries a ``**`` expansion can hold, or None if unreadable."""
    if isinstance(node, ast.Dict):
        entries = []
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:  # {**other}
                nested = _dict_sources(value, assignments, hops)
                if nested is None:
                    return None
                entries += nested
            elif isinstance(key, ast.Constant) and isinstance(key.value, str):
                entries.append((key.value, value, value.lineno))
            else:
                return None
        return entries
    if isinstance(node, ast.Call) and _is_dict(node):
        if node.args or any(k.arg is None for k in node.keywords):
            return None
        return [(str(k.arg), k.value, k.value.lineno) for k in node.keywords]
    if isinstance(node, ast.IfExp):
        body = _dict_sources(node.body, assignments, hops)
        orelse = _dict_sources(node.orelse, assignments, hops)
        return None if body is None or orelse is None else body + orelse
    if isinstance(node, ast.Name) and hops < _MAX_RESOLVE and node.id in assignments:
        entries = []
        for value in assignments[node.id]:
            found = _dict_sources(value, assignments, hops + 1)
            if found is None:
                return None
            entries += found
        return entries
    return None
