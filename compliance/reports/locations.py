"""The file and line where a finding's subject is written.

A Terraform resource is located in its stack's synthesized ``cdk.tf.json`` (the
line code scanning points at); a source-scan finding names ``file.py:line`` of the
app itself; a reference finding on the stacks' dependencies points at
``manifest.json``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from compliance.model import Model, Stack
from compliance.reports.document import Location
from compliance.synth import REPO_ROOT


def display_path(path: Path) -> str:
    """Relative to the repository when inside it (as code scanning wants), else absolute."""
    resolved = path.resolve()
    if resolved.is_relative_to(REPO_ROOT):
        return resolved.relative_to(REPO_ROOT).as_posix()
    return str(resolved)


class Locator:
    """Finds (and caches the lines of) the file declaring each finding's subject."""

    _SOURCE_LINE = re.compile(r"^(?P<file>.+\.py):(?P<line>\d+)$")

    def __init__(self, model: Model) -> None:
        self._model = model
        self._stacks = {stack.name: stack for stack in model.stacks}
        self._lines: dict[str, list[str]] = {}

    def locate(self, stack_name: str, address: str) -> Location | None:
        stack = self._stacks.get(stack_name)
        if stack is None:
            return self._source_location(address)
        if address.startswith("manifest.json"):  # DR-REF findings on the stacks' dependencies
            folder = self._model.source if self._model.source.is_dir() else stack.file.parent
            return Location(display_path(folder / "manifest.json"), None)
        kind, subject = ("resource", address)
        if address.startswith("data."):
            kind, subject = ("data", address.removeprefix("data."))
        type_, _, name = subject.partition(".")
        line = block_line(self._stack_lines(stack), kind, type_, name)
        return Location(display_path(stack.file), line)

    def _source_location(self, address: str) -> Location | None:
        """Source-scan findings name ``file.py:line`` of the app (DR-SCH-03)."""
        match = self._SOURCE_LINE.match(address)
        if match is None:
            return None
        return Location(match["file"], int(match["line"]))

    def _stack_lines(self, stack: Stack) -> list[str]:
        if stack.name not in self._lines:
            try:
                self._lines[stack.name] = stack.file.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                self._lines[stack.name] = []
        return self._lines[stack.name]


def block_line(lines: list[str], kind: str, type_: str, name: str) -> int | None:
    """1-based line of ``"<name>": {`` inside ``"<type>": {`` inside top-level ``"<kind>"``.

    The synthesized JSON is indented, so a block's children are the lines one
    indent deeper until the closing brace: the scan follows the nesting
    instead of searching for the name anywhere (the same name is used by
    many types).
    """
    span: tuple[int, int] | None = (0, len(lines))  # line 0 is the document's "{"
    for key in (kind, type_, name):
        assert span is not None
        span = _child_block(lines, span[0], span[1], key)
        if span is None:
            return None
    return span[0] + 1


def _child_block(lines: list[str], opening: int, end: int, key: str) -> tuple[int, int] | None:
    """(opening line, end) of the block ``key`` among the children of the block at ``opening``."""
    opener = f"{json.dumps(key)}: {{"
    child_indent: int | None = None
    for index in range(opening + 1, end):
        line = lines[index]
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        child_indent = indent if child_indent is None else child_indent
        if indent < child_indent:
            return None  # the parent block closed
        if indent == child_indent and line.lstrip().startswith(opener):
            return index, _block_end(lines, index, indent, end)
    return None


def _block_end(lines: list[str], opening: int, indent: int, end: int) -> int:
    for index in range(opening + 1, end):
        line = lines[index]
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            return index
    return end
