"""The features as written, read with ``gherkin-official``: the parser pytest-bdd runs them with.

The reports show each scenario exactly as its author wrote it, so every scenario keeps
its file lines (from its first tag to its last line of content) beside what the
grammar made of it; each line also keeps the token the grammar read it as, for the
pages' highlighting.

The grammar is lenient where the harness must not be. A keyword it does not expect
(``Examples:`` under a Feature, a second ``Feature:``) silently becomes description
text, a first step ``And ...`` is valid Gherkin that pytest-bdd refuses, and two
scenarios of one name leave pytest-bdd running only one. ``parse_feature`` checks the
parsed document for each and stops with a ``GherkinError`` naming the line: a
requirement must not vanish into prose.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gherkin.ast_builder import AstBuilder
from gherkin.errors import CompositeParserException, ParserError
from gherkin.parser import Parser
from gherkin.token import Token

from compliance.errors import InputError
from compliance.synth import REPO_ROOT

DRILL_FAMILY = "DEP"
DEPLOY_TAG = "deploy"
DETECTS = "Detects:"  # how a negative scenario's name starts
LANGUAGE = "en"  # the only dialect the features (and these checks) use

_REQUIREMENT = re.compile(r"DR-([A-Z][A-Z0-9]*)-[0-9]+")
_LANGUAGE_HEADER = re.compile(r"^\s*#\s*language\s*:\s*([a-zA-Z\-_]+)\s*$")
# English title keywords: a description line starting with one is a misplaced element.
_FEATURE_KEYWORDS = ("Feature", "Business Need", "Ability")
_EXAMPLES_KEYWORDS = ("Examples", "Scenarios")
_OTHER_TITLES = ("Rule", "Background", "Scenario Outline", "Scenario Template", "Scenario")
_OTHER_TITLES += ("Example",)
# pytest-bdd takes a step's type from its keyword: the first one must name it.
_TYPED_STEPS = ("Context", "Action", "Outcome")
DOC_STRING = "DocString"  # the kind of a doc string's content lines (the grammar says "Other")


class GherkinError(InputError):
    """A feature file the grammar or these checks refuse; the message names file:line.

    An ``InputError``: the CLI ends with exit code 2 and this one-line reason.
    """

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}", message)
        self.path = str(path)
        self.line = line


@dataclass
class Row:
    values: list[str]
    line: int


@dataclass
class ExamplesTable:
    name: str
    line: int
    tags: list[str]
    header: list[str]
    rows: list[Row]


@dataclass
class Block:
    """A Scenario, Example or Scenario Outline, with where it sits in its file."""

    keyword: str
    name: str
    line: int  # the keyword line, as pytest-bdd and cucumber.json number it
    first_line: int  # its first tag line (or the keyword line)
    last_line: int  # its last line of content (trailing comments and blanks excluded)
    tags: list[str]  # its own tags only, as pytest-bdd's ``scenario.tags``
    examples: list[ExamplesTable]  # those with a header row: the ones pytest-bdd runs
    rule: str | None
    inherited_tags: list[str] = field(default_factory=list)  # Feature's, then Rule's

    @property
    def all_tags(self) -> list[str]:
        return _unique([*self.inherited_tags, *self.tags])

    @property
    def requirement_ids(self) -> list[str]:
        return [tag for tag in self.all_tags if _REQUIREMENT.fullmatch(tag)]

    @property
    def requirement(self) -> str | None:
        ids = self.requirement_ids
        return ids[0] if len(ids) == 1 else None

    @property
    def detects(self) -> bool:
        """A negative scenario: it shows that a broken design is detected ("Detects: ...")."""
        return self.name.startswith(DETECTS)


@dataclass(frozen=True)
class SourceLine:
    """One line of a feature file and the token the grammar read it as.

    ``kind`` is gherkin's token type (``ScenarioLine``, ``StepLine``, ``TagLine``,
    ``TableRow``, ``Comment``, ``Other``, ...) or ``DocString`` for a doc string's
    content; ``keyword`` is the keyword it matched, if any (``"Given "``, ``"Scenario"``).
    """

    number: int
    text: str
    kind: str
    keyword: str | None = None


@dataclass
class Feature:
    uri: str
    path: Path
    name: str
    line: int
    tags: list[str]
    description: list[str]
    scenarios: list[Block]
    source: list[SourceLine]
    body_line: int | None = None  # first line of the Background, first Rule or scenario

    @property
    def lines(self) -> list[str]:
        return [line.text for line in self.source]

    @property
    def header_source(self) -> list[SourceLine]:
        end = len(self.source) if self.body_line is None else self.body_line - 1
        return _trim(self.source[:end])

    @property
    def header_text(self) -> str:
        return _text(self.header_source)

    def block_source(self, block: Block) -> list[SourceLine]:
        return _trim(self.source[block.first_line - 1 : block.last_line])

    def block_text(self, block: Block) -> str:
        return _text(self.block_source(block))


def is_drill_requirement(rid: str) -> bool:
    match = _REQUIREMENT.fullmatch(rid)
    return bool(match) and match.group(1) == DRILL_FAMILY


def control_tags(tags: Iterable[str]) -> list[str]:
    """Tags shaped like a control (``nist:SC-28``): the mapping lives in the policies, not here."""
    return [tag for tag in tags if ":" in tag]


def load_features(root: Path, base: Path = REPO_ROOT) -> list[Feature]:
    if not root.is_dir():
        return []
    return [parse_feature(path, _uri(path, base)) for path in sorted(root.rglob("*.feature"))]


def parse_feature(path: Path, uri: str | None = None) -> Feature:
    """The feature at ``path``; a ``GherkinError`` for anything pytest-bdd would misread."""
    try:
        text = path.read_text(encoding="utf-8")  # universal newlines, as pytest-bdd opens it
    except (OSError, UnicodeDecodeError) as error:
        raise GherkinError(path, 1, f"cannot be read: {error}") from error
    builder = _RecordingBuilder()
    try:
        document: dict[str, Any] = Parser(builder).parse(text)  # type: ignore[assignment]
    except (CompositeParserException, ParserError) as error:
        raise _grammar_error(path, error) from error
    lines = text.split("\n")  # the grammar splits on "\n" only, not on str.splitlines' extras
    if lines[-1] == "":
        lines.pop()
    source = _source_lines(lines, builder.tokens)
    gherkin_feature = document.get("feature")
    if gherkin_feature is None:
        raise GherkinError(path, 1, "no Feature in this file")
    _check_language(path, gherkin_feature, source)
    _check_descriptions(path, gherkin_feature, source)
    return _Converter(path, uri if uri is not None else path.as_posix(), source).feature(
        gherkin_feature
    )


# --- The grammar's tokens --------------------------------------------------------


class _RecordingBuilder(AstBuilder):
    """gherkin's own AST builder, also keeping every token (one per line) it is given."""

    def reset(self) -> None:
        super().reset()
        self.tokens: list[Token] = []

    def build(self, token: Token) -> None:
        self.tokens.append(token)
        super().build(token)


def _source_lines(lines: list[str], tokens: list[Token]) -> list[SourceLine]:
    kinds: dict[int, tuple[str, str | None]] = {}
    in_doc_string = False
    for token in tokens:
        if token.eof():
            continue
        kind = str(token.matched_type)
        if kind == "DocStringSeparator":
            in_doc_string = not in_doc_string
        elif kind == "Other" and in_doc_string:
            kind = DOC_STRING
        kinds[token.location["line"]] = (kind, token.matched_keyword)
    return [
        SourceLine(number, text, *kinds.get(number, ("Other", None)))
        for number, text in enumerate(lines, start=1)
    ]


def _grammar_error(path: Path, error: Exception) -> GherkinError:
    """The first problem the grammar found, as ``file:line: message``."""
    errors = getattr(error, "errors", None) or [error]
    first = errors[0]
    location = getattr(first, "location", None) or {}
    message = re.sub(r"^\(\d+:\d+\): ", "", str(first))
    return GherkinError(path, int(location.get("line") or 1), message)


# --- Checks on the parsed document ----------------------------------------------


def _check_language(path: Path, feature: dict[str, Any], source: list[SourceLine]) -> None:
    """English only, and no language header the grammar ignored (one after a tag line)."""
    header = source[: feature["location"]["line"] - 1]
    for line in header:
        match = _LANGUAGE_HEADER.match(line.text)
        if match and match.group(1) != LANGUAGE:
            raise GherkinError(path, line.number, f"only English Gherkin is read: {match.group(1)}")


def _check_descriptions(path: Path, feature: dict[str, Any], source: list[SourceLine]) -> None:
    """A title keyword the grammar took for description text is a misplaced element."""
    for line in source:
        if line.kind != "Other":
            continue
        keyword = _title_keyword(line.text.lstrip())
        if keyword is None:
            continue
        if keyword in _FEATURE_KEYWORDS:
            first = feature["location"]["line"]
            raise GherkinError(
                path, line.number, f"a second Feature (the first is at line {first})"
            )
        if keyword in _EXAMPLES_KEYWORDS:
            raise GherkinError(path, line.number, f"{keyword} outside a scenario")
        raise GherkinError(
            path, line.number, f"{keyword} where the grammar expects none (read as text)"
        )


def _title_keyword(text: str) -> str | None:
    for keyword in (*_FEATURE_KEYWORDS, *_EXAMPLES_KEYWORDS, *_OTHER_TITLES):
        if text.startswith(keyword + ":"):
            return keyword
    return None


def _check_steps(path: Path, steps: list[dict[str, Any]]) -> None:
    if steps and steps[0].get("keywordType") not in _TYPED_STEPS:
        line = steps[0]["location"]["line"]
        # pytest-bdd cannot tell the first step's type from And, But or *
        raise GherkinError(path, line, "the first step must be a Given, When or Then")


# --- From gherkin's AST to blocks ------------------------------------------------


class _Converter:
    """gherkin's AST of one file into a ``Feature``, with the file lines of each block."""

    def __init__(self, path: Path, uri: str, source: list[SourceLine]) -> None:
        self.path = path
        self.uri = uri
        self.source = source
        self.names: dict[str, int] = {}
        self.starts: list[int] = []  # first lines of every Background, Rule and scenario

    def feature(self, data: dict[str, Any]) -> Feature:
        tags = _tag_names(data["tags"])
        blocks = list(self._children(data["children"], None, tags))
        feature = Feature(
            uri=self.uri,
            path=self.path,
            name=data["name"],
            line=data["location"]["line"],
            tags=tags,
            description=_description(data.get("description", "")),
            scenarios=blocks,
            source=self.source,
            body_line=min(self.starts) if self.starts else None,
        )
        for block in blocks:
            block.last_line = self._last_line(block.first_line)
        return feature

    def _children(
        self, children: list[dict[str, Any]], rule: str | None, inherited: list[str]
    ) -> Iterator[Block]:
        for child in children:
            if "background" in child:
                self.starts.append(child["background"]["location"]["line"])
                _check_steps(self.path, child["background"]["steps"])
            elif "rule" in child:
                data = child["rule"]
                self.starts.append(_first_line(data))
                tags = _unique([*inherited, *_tag_names(data["tags"])])
                yield from self._children(data["children"], data["name"], tags)
            elif "scenario" in child:
                yield self._block(child["scenario"], rule, inherited)

    def _block(self, data: dict[str, Any], rule: str | None, inherited: list[str]) -> Block:
        line = data["location"]["line"]
        name = data["name"]
        if name in self.names:  # pytest-bdd keys scenarios by name: one would never run
            raise GherkinError(
                self.path, line, f"scenario name also used at line {self.names[name]}"
            )
        self.names[name] = line
        _check_steps(self.path, data["steps"])
        first = _first_line(data)
        self.starts.append(first)
        return Block(
            keyword=data["keyword"],
            name=name,
            line=line,
            first_line=first,
            last_line=line,
            tags=_tag_names(data["tags"]),
            examples=[_examples(e) for e in data["examples"] if e.get("tableHeader")],
            rule=rule,
            inherited_tags=inherited,
        )

    def _last_line(self, first: int) -> int:
        """The last line of content before the next element starts (or the file ends)."""
        end = min((start for start in self.starts if start > first), default=len(self.source) + 1)
        last = end - 1
        while last > first and _blank_or_comment(self.source[last - 1]):
            last -= 1
        return last


def _blank_or_comment(line: SourceLine) -> bool:
    return line.kind == "Comment" or not line.text.strip()


def _examples(data: dict[str, Any]) -> ExamplesTable:
    return ExamplesTable(
        name=data["name"],
        line=data["location"]["line"],
        tags=_tag_names(data["tags"]),
        header=_cells(data["tableHeader"]),
        rows=[Row(_cells(row), row["location"]["line"]) for row in data.get("tableBody", [])],
    )


def _cells(row: dict[str, Any]) -> list[str]:
    return [cell["value"] for cell in row["cells"]]


def _first_line(data: dict[str, Any]) -> int:
    """An element starts at its first tag line, else at its keyword line."""
    return min([data["location"]["line"], *(tag["location"]["line"] for tag in data["tags"])])


def _tag_names(tags: list[dict[str, Any]]) -> list[str]:
    return _unique(tag["name"].removeprefix("@") for tag in tags)


def _description(text: str) -> list[str]:
    """The Feature's free text, dedented, without blank lines at either end."""
    text = textwrap.dedent(text).strip("\n")
    return [line.rstrip() for line in text.split("\n")] if text.strip() else []


def _uri(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _trim(lines: list[SourceLine]) -> list[SourceLine]:
    end = len(lines)
    while end and not lines[end - 1].text.strip():
        end -= 1
    return lines[:end]


def _text(lines: list[SourceLine]) -> str:
    return "\n".join(line.text for line in lines)
