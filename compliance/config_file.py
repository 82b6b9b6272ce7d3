"""Reading the harness's own configuration files strictly, with one error format.

Settings, waivers and the app's ``pyproject.toml`` table are typed by pydantic
models; this module reads the files (UTF-8 only, YAML with the line of every
entry) and turns a validation failure into one :class:`InputError` that names
the file, the line where it is known, what is wrong and how to fix it.
"""

from __future__ import annotations

import copy
import difflib
import functools
import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, StrictStr, ValidationError

from compliance.errors import InputError

# Where a value sits in a document: keys and list indexes from the top.
Loc = tuple[str | int, ...]


def _non_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("should not be blank")
    return value


NonBlank = Annotated[StrictStr, AfterValidator(_non_blank)]


def at(path: Path | str, line: int | None) -> str:
    """``file:line`` as compilers print it, or the file alone when the line is unknown."""
    return f"{path}:{line}" if line else str(path)


def read_text(path: Path, what: str) -> str:
    """The file's text; a missing file, a folder or bytes that are not UTF-8 are errors."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(
            path, f"{what} not found; fix: create it or give a path that exists"
        ) from None
    except IsADirectoryError:
        raise InputError(path, f"{what} is a folder; fix: give the path of a file") from None
    except OSError as error:
        raise InputError(path, f"cannot read {what}: {error.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise InputError(
            at(path, line),
            f"{what} is not UTF-8 text (byte 0x{data[error.start]:02x} at offset "
            f"{error.start}); fix: save the file as UTF-8",
        ) from None


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text, so the models parse and judge them.

    PyYAML builds ``datetime.date`` itself and raises a bare ValueError on an
    impossible date such as 2099-02-30; the models give it a file and a line.
    """


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(path: Path, what: str) -> tuple[Any, dict[Loc, int]]:
    """The document (None when empty) and the 1-based line of every mapping key and list item.

    A key written twice in one mapping is an error: YAML would keep the last
    one silently. Parsed once per file content and process (every check reads
    the settings, waivers and drill catalogue again); each caller gets a copy.
    """
    return copy.deepcopy(_load_yaml(path, what, read_text(path, what)))


@functools.lru_cache(maxsize=64)
def _load_yaml(path: Path, what: str, text: str) -> tuple[Any, dict[Loc, int]]:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        lines: dict[Loc, int] = {}
        _index(path, node, (), lines, set())
        return loader.construct_document(node), lines
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = "; ".join(part for part in (error.context, error.problem) if part)
        raise InputError(
            at(path, mark.line + 1 if mark else None),
            f"{what} is not valid YAML: {problem}; fix: correct the syntax at that line",
        ) from None
    except (yaml.YAMLError, ValueError, TypeError) as error:
        raise InputError(path, f"{what} is not valid YAML: {error}") from None
    except RecursionError:
        raise InputError(path, f"{what} is nested too deeply to be a configuration") from None
    finally:
        loader.dispose()


def _index(path: Path, node: yaml.Node, loc: Loc, lines: dict[Loc, int], seen: set[int]) -> None:
    if id(node) in seen:  # an alias: indexed where the anchor is
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first: dict[Any, int] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            line = key.start_mark.line + 1
            if name is not None and name in first:
                raise InputError(
                    at(path, line),
                    f"{'.'.join(map(str, (*loc, name)))} is written twice (first at line "
                    f"{first[name]}); fix: keep one of them",
                )
            if name is not None:
                first[name] = line
                lines[(*loc, name)] = line
                _index(path, value, (*loc, name), lines, seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*loc, index)] = item.start_mark.line + 1
            _index(path, item, (*loc, index), lines, seen)


def nearest_line(lines: Mapping[Loc, int], loc: Loc) -> int | None:
    """The line of ``loc``, else of the closest enclosing entry that has one."""
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def dotted(loc: Iterable[str | int]) -> str:
    """``("waivers", 2, "expires")`` as ``waivers[2].expires``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def shown(value: Any) -> str:
    """A value as the user wrote it, shortened: ``true``, ``-60``, ``"Environment"``."""
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def validation_failure(
    error: ValidationError,
    *,
    locate: Callable[[Loc], str],
    name: Callable[[Loc], str],
    fixes: Mapping[str, str],
    known: Iterable[str],
) -> InputError:
    """One InputError for every problem pydantic found, the first one's place as its path.

    ``locate`` gives ``file:line`` for a location, ``name`` how to call it in
    the message, ``fixes`` the fix for each field, ``known`` the field names a
    misspelt key is compared with.
    """
    known = sorted(known)
    problems: list[tuple[str, str]] = []
    for item in error.errors(include_url=False):
        loc: Loc = tuple(item["loc"])
        field = str(loc[0]) if loc else ""
        if item["type"] == "extra_forbidden":
            key, owner = str(loc[-1]), name(loc[:-1])
            close = difflib.get_close_matches(key, known, n=1)
            guess = f" (did you mean {close[0]!r}?)" if close else ""
            text = (
                f"{owner + ' has ' if owner else ''}unknown key {key!r}{guess}; "
                "fix: remove it or use one of: " + ", ".join(known)
            )
        elif item["type"] == "missing":
            text = f"{name(loc)} is missing; fix: add {field}: {fixes.get(field, 'a value')}"
        else:
            message = item["msg"].removeprefix("Value error, ").removeprefix("Input ")
            message = message[:1].lower() + message[1:]
            text = f"{name(loc)} {message}"
            if loc:  # a whole entry's problem would show the whole entry
                text += f" (got {shown(item['input'])})"
            if field in fixes:
                text += f"; fix: give {fixes[field]}"
        problems.append((locate(loc), text))
    where, first = problems[0]
    rest = [f"also {place}: {text}" for place, text in problems[1:]]
    return InputError(where, "; ".join([first, *rest]))
