"""The features as written: a Gherkin reader for the living documentation and the trace.

The reports show each scenario exactly as its author wrote it, so this reader keeps
line numbers and raw lines instead of rebuilding text from an AST. Its view of every
file (scenario names, lines, tags, example rows) agrees with pytest-bdd 9's parser,
which runs the features; pytest-bdd is a test dependency, so it is not used here.

Where the official Gherkin grammar quietly turns a misplaced keyword into description
text (``Examples:`` or ``Feature:`` under a Feature), this reader stops with a
``GherkinError`` naming the line instead: a requirement must not vanish into prose.

``traceability`` checks the link both ways: every scenario names one requirement ID
and controls its policy declares, every policy requirement has a scenario. DR-DEP-xx
requirements are decided by the failover drills (``@deploy``), not by a policy.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from compliance.errors import InputError
from compliance.synth import REPO_ROOT

# Feature control tag prefix (``@nist:SC-28``) -> the policy METADATA ``controls`` key.
TAG_FRAMEWORKS = {"nist": "nist-800-53", "soc2": "soc2", "iso27001": "iso-27001"}
DRILL_FAMILY = "DEP"
DEPLOY_TAG = "deploy"

_REQUIREMENT = re.compile(r"DR-([A-Z][A-Z0-9]*)-[0-9]+")

# English dialect of gherkin-official (the only language the features use).
_TITLE_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("feature", "Feature"),
    ("feature", "Business Need"),
    ("feature", "Ability"),
    ("rule", "Rule"),
    ("background", "Background"),
    ("scenario", "Example"),
    ("scenario", "Scenario"),
    ("scenario", "Scenario Outline"),
    ("scenario", "Scenario Template"),
    ("examples", "Examples"),
    ("examples", "Scenarios"),
)
_CONJUNCTIONS = ("And ", "But ", "* ")
_STEP_KEYWORDS = ("Given ", "When ", "Then ", *_CONJUNCTIONS)
_DOC_STRING_SEPARATORS = ('"""', "```")
_LANGUAGE = re.compile(r"^\s*#\s*language\s*:\s*([a-zA-Z\-_]+)\s*$")


class GherkinError(InputError):
    """A feature file this reader (or pytest-bdd) cannot read; the message names file:line.

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
    examples: list[ExamplesTable]
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
    def controls(self) -> dict[str, list[str]]:
        controls: dict[str, list[str]] = {}
        for prefix, control in _control_tags(self.all_tags):
            if prefix in TAG_FRAMEWORKS:
                ids = controls.setdefault(TAG_FRAMEWORKS[prefix], [])
                if control not in ids:
                    ids.append(control)
        return controls


@dataclass
class Feature:
    uri: str
    path: Path
    name: str
    line: int
    tags: list[str]
    description: list[str]
    scenarios: list[Block]
    lines: list[str]
    body_line: int | None = None  # first line of the Background, first Rule or scenario

    @property
    def header_text(self) -> str:
        end = len(self.lines) if self.body_line is None else self.body_line - 1
        return _join(self.lines[:end])

    def block_text(self, block: Block) -> str:
        return _join(self.lines[block.first_line - 1 : block.last_line])


def is_drill_requirement(rid: str) -> bool:
    match = _REQUIREMENT.fullmatch(rid)
    return bool(match) and match.group(1) == DRILL_FAMILY


def parse_feature(path: Path, uri: str | None = None) -> Feature:
    text = path.read_text(encoding="utf-8")  # universal newlines, as pytest-bdd opens it
    lines = text.split("\n")  # Gherkin splits on "\n" only, not on str.splitlines' extras
    if lines[-1] == "":
        lines.pop()
    return _Reader(path, lines, uri if uri is not None else path.as_posix()).read()


def load_features(root: Path, base: Path = REPO_ROOT) -> list[Feature]:
    if not root.is_dir():
        return []
    return [parse_feature(path, _uri(path, base)) for path in sorted(root.rglob("*.feature"))]


def traceability(
    features: Iterable[Feature], policy_controls: dict[str, dict[str, list[str]]]
) -> list[str]:
    """Problems linking scenarios and policy requirements, one line each; [] when traced."""
    problems: list[str] = []
    covered: set[str] = set()
    for feature in features:
        for block in feature.scenarios:
            covered.update(block.requirement_ids)
            where = f"{feature.uri}:{block.line} ({block.name})"
            problems += [f"{where}: {p}" for p in _block_problems(block, policy_controls)]
    for rid in policy_controls:
        if rid not in covered and not is_drill_requirement(rid):
            problems.append(f"{rid}: its policy has no scenario in features/ (orphan requirement)")
    return problems


def _block_problems(block: Block, policies: dict[str, dict[str, list[str]]]) -> Iterator[str]:
    ids = block.requirement_ids
    if len(ids) != 1:
        yield f"{len(ids)} requirement ID tags"
    controls = _control_tags(block.all_tags)
    known = [(prefix, control) for prefix, control in controls if prefix in TAG_FRAMEWORKS]
    for prefix, control in controls:
        if prefix not in TAG_FRAMEWORKS:
            yield f"unknown control tag @{prefix}:{control}"
    if not known:
        yield "no control tag"
    for rid in ids:
        yield from _requirement_problems(rid, block, known, policies)


def _requirement_problems(
    rid: str,
    block: Block,
    known: list[tuple[str, str]],
    policies: dict[str, dict[str, list[str]]],
) -> Iterator[str]:
    if is_drill_requirement(rid):  # decided by a drill: no policy to compare controls with
        if DEPLOY_TAG not in block.all_tags:
            yield f"drill requirement {rid} is not tagged @{DEPLOY_TAG}"
        return
    if rid not in policies:
        yield f"{rid} has no policy in policies/ (orphan scenario)"
        return
    for prefix, control in known:
        if control not in policies[rid].get(TAG_FRAMEWORKS[prefix], []):
            yield f"@{prefix}:{control} is not a control of {rid}'s policy"


def _control_tags(tags: Iterable[str]) -> list[tuple[str, str]]:
    """``nist:SC-28`` -> ("nist", "SC-28"); a tag without ':' is not a control tag."""
    pairs = [tag.partition(":") for tag in tags]
    return [(prefix, control) for prefix, colon, control in pairs if colon]


def _uri(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _join(lines: list[str]) -> str:
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    return "\n".join(lines[:end])


# --- Lines -------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    number: int
    raw: str
    trimmed: str  # leading whitespace removed, as gherkin's GherkinLine

    @property
    def kind(self) -> str:
        text = self.trimmed
        if not text:
            return "empty"
        if text.startswith("#"):
            return "comment"
        if text.startswith("@"):
            return "tags"
        if self.title is not None:
            return "title"
        if text.startswith(_STEP_KEYWORDS):
            return "step"
        if text.startswith("|"):
            return "row"
        if text.startswith(_DOC_STRING_SEPARATORS):
            return "doc_string"
        return "text"

    @property
    def title(self) -> tuple[str, str, str] | None:
        """(category, keyword, name) of a ``Keyword: name`` line."""
        for category, keyword in _TITLE_KEYWORDS:
            if self.trimmed.startswith(keyword + ":"):
                return category, keyword, self.trimmed[len(keyword) + 1 :].strip()
        return None


def _tag_names(line: _Line, path: Path) -> list[str]:
    """Tags of a tag line, split as gherkin does (a ``#`` after a space starts a comment)."""
    uncommented = re.split(r"\s#", line.trimmed.strip(), maxsplit=2)[0]
    names = [item.strip() for item in uncommented.strip().split("@")[1:]]
    for name in names:
        if re.search(r"\s", name):
            raise GherkinError(path, line.number, f"a tag may not contain whitespace: @{name}")
    return names


def _cells(line: _Line) -> list[str]:
    """Cells of a table row, unescaped and trimmed exactly as gherkin's table_cells."""
    cells: list[str] = []
    cell = ""
    chars = iter(line.trimmed.strip()[1:])  # a row starts with '|'
    for char in chars:
        if char == "|":
            cells.append(_trim_cell(cell))
            cell = ""
        elif char == "\\":
            cell += _unescape(next(chars, ""))
        else:
            cell += char
    return cells  # text after the last '|' is no cell


def _trim_cell(cell: str) -> str:
    """Spaces around a cell go, an escaped newline (``\\n``) stays."""
    return re.sub(r"[^\S\n]*$", "", re.sub(r"^[^\S\n]*", "", cell))


def _unescape(char: str) -> str:
    if char == "n":
        return "\n"
    return char if char in ("|", "\\") else "\\" + char


# --- Reader ------------------------------------------------------------------


class _Reader:
    """One pass over the lines; ``section`` says which Gherkin element is open."""

    def __init__(self, path: Path, lines: list[str], uri: str) -> None:
        self.path = path
        self.lines = lines
        self.uri = uri
        self.feature: Feature | None = None
        self.section = "start"  # start, feature, rule, background, scenario, examples
        self.steps_started = False  # a Background's or a scenario's description has ended
        self.doc_string: tuple[str, int] | None = None  # (separator, opening line)
        self.pending_tags: list[str] = []
        self.pending_line: int | None = None
        self.rule: tuple[str, list[str]] | None = None  # (name, tags)
        self.block: Block | None = None
        self.examples: ExamplesTable | None = None
        self.examples_opened = False  # the table has its header row
        self.table_width: int | None = None
        self.description: list[str] = []
        self.names: dict[str, int] = {}

    def read(self) -> Feature:
        for number, raw in enumerate(self.lines, start=1):
            self._feed(_Line(number, raw, raw.lstrip()))
        return self._finish()

    def error(self, line: int, message: str) -> GherkinError:
        return GherkinError(self.path, line, message)

    def _feed(self, line: _Line) -> None:
        if self.doc_string is not None:
            self._doc_string_content(line)
        elif self.feature is None:
            self._before_feature(line)
        else:
            kind = line.kind
            if self.pending_tags and kind not in ("empty", "comment", "tags", "title"):
                raise self.error(
                    line.number, "tags must be followed by a Rule, Scenario or Examples"
                )
            getattr(self, f"_{kind}")(line)

    def _finish(self) -> Feature:
        if self.doc_string is not None:
            raise self.error(self.doc_string[1], "doc string is never closed")
        if self.pending_tags:
            raise self.error(self.pending_line or 1, "tags are followed by nothing")
        if self.feature is None:
            raise self.error(1, "no Feature in this file")
        self.feature.description = _description(self.description)
        return self.feature

    # Before the Feature line: comments, a language line, the Feature's tags.

    def _before_feature(self, line: _Line) -> None:
        kind, title = line.kind, line.title
        if kind in ("empty", "comment"):
            self._check_language(line)
        elif kind == "tags":
            self._add_tags(line)
        elif title is not None and title[0] == "feature":
            self._open_feature(line.number, title[2])
        elif title is not None:
            raise self.error(line.number, f"{title[1]} before Feature")
        else:
            raise self.error(line.number, "text before Feature")

    def _open_feature(self, number: int, name: str) -> None:
        self.feature = Feature(
            uri=self.uri,
            path=self.path,
            name=name,
            line=number,
            tags=self._take_tags(),
            description=[],
            scenarios=[],
            lines=self.lines,
        )
        self.section = "feature"

    def _check_language(self, line: _Line) -> None:
        match = _LANGUAGE.match(line.raw)
        if match and match.group(1) != "en":
            raise self.error(line.number, f"only English Gherkin is read: {match.group(1)}")

    # Line kinds after the Feature line (dispatched by ``_feed``).

    def _empty(self, line: _Line) -> None:
        if self.section == "feature" and self.description:
            self.description.append("")

    def _comment(self, line: _Line) -> None:
        """Comments belong to no element: they neither end nor extend one."""

    def _tags(self, line: _Line) -> None:
        self._add_tags(line)

    def _title(self, line: _Line) -> None:
        category, keyword, name = line.title or ("", "", "")
        if category == "feature":
            first = self.feature.line if self.feature else 0
            raise self.error(line.number, f"a second Feature (the first is at line {first})")
        getattr(self, f"_open_{category}")(line, keyword, name)

    def _step(self, line: _Line) -> None:
        if self.section in ("background", "scenario"):
            if not self.steps_started and line.trimmed.startswith(_CONJUNCTIONS):
                # pytest-bdd cannot tell the first step's type from And, But or *
                raise self.error(line.number, "the first step must be a Given, When or Then")
            self.steps_started = True
            self.table_width = None
            self._extend(line)
        elif self._in_description():  # under a Feature, Rule or Examples title: prose
            self._text(line)
        else:
            raise self.error(line.number, "a step after the Examples table")

    def _row(self, line: _Line) -> None:
        if self.section == "examples":
            self._examples_row(line)
        elif self.section in ("background", "scenario") and self.steps_started:
            self._check_width(line, len(_cells(line)))  # a step's data table
            self._extend(line)
        else:
            self._text(line)

    def _doc_string(self, line: _Line) -> None:
        if self.section in ("background", "scenario") and self.steps_started:
            self.doc_string = (line.trimmed[:3], line.number)
            self.table_width = None
            self._extend(line)
        else:
            self._text(line)

    def _text(self, line: _Line) -> None:
        if not self._in_description():
            raise self.error(line.number, f"unexpected text: {line.trimmed}")
        if self.section == "feature":
            self.description.append(line.raw)
        self._extend(line)

    def _doc_string_content(self, line: _Line) -> None:
        assert self.doc_string is not None
        if line.trimmed.startswith(self.doc_string[0]):
            self.doc_string = None
        self._extend(line)

    # Titles.

    def _open_background(self, line: _Line, keyword: str, name: str) -> None:
        if self.pending_tags:
            raise self.error(line.number, "a Background takes no tags")
        if self.section not in ("feature", "rule"):
            raise self.error(line.number, "a Background must come first in its Feature or Rule")
        self._enter("background", line.number)

    def _open_rule(self, line: _Line, keyword: str, name: str) -> None:
        first = self.pending_line or line.number
        self.rule = (name, self._take_tags())
        self._enter("rule", first)

    def _open_scenario(self, line: _Line, keyword: str, name: str) -> None:
        assert self.feature is not None
        if name in self.names:  # pytest-bdd keys scenarios by name: one would never run
            raise self.error(line.number, f"scenario name also used at line {self.names[name]}")
        self.names[name] = line.number
        first = self.pending_line or line.number
        rule, rule_tags = self.rule or (None, [])
        tags = self._take_tags()
        self._enter("scenario", first)
        self.block = Block(
            keyword=keyword,
            name=name,
            line=line.number,
            first_line=first,
            last_line=line.number,
            tags=tags,
            examples=[],
            rule=rule,
            inherited_tags=_unique([*self.feature.tags, *rule_tags]),
        )
        self.feature.scenarios.append(self.block)

    def _open_examples(self, line: _Line, keyword: str, name: str) -> None:
        if self.block is None or self.section not in ("scenario", "examples"):
            raise self.error(line.number, f"{keyword} outside a scenario")
        self.examples = ExamplesTable(name, line.number, self._take_tags(), [], [])
        self.examples_opened = False
        self.section = "examples"
        self.table_width = None
        self._extend(line)

    def _examples_row(self, line: _Line) -> None:
        assert self.block is not None and self.examples is not None
        values = _cells(line)
        self._check_width(line, len(values))
        if not self.examples_opened:  # pytest-bdd keeps only Examples that have a header
            self.examples.header = values
            self.block.examples.append(self.examples)
            self.examples_opened = True
        else:
            self.examples.rows.append(Row(values, line.number))
        self._extend(line)

    # State.

    def _enter(self, section: str, first_line: int) -> None:
        """Close the open element and start a Background, Rule or scenario at ``first_line``."""
        assert self.feature is not None
        if self.feature.body_line is None:
            self.feature.body_line = first_line
        self.section = section
        self.steps_started = False
        self.block = None
        self.examples = None
        self.table_width = None

    def _in_description(self) -> bool:
        if self.section in ("feature", "rule"):
            return True
        if self.section == "examples":
            return not self.examples_opened
        return not self.steps_started

    def _extend(self, line: _Line) -> None:
        if self.block is not None:
            self.block.last_line = line.number

    def _check_width(self, line: _Line, width: int) -> None:
        if self.table_width is None:
            self.table_width = width
        elif width != self.table_width:
            raise self.error(line.number, "inconsistent cell count within the table")

    def _add_tags(self, line: _Line) -> None:
        self.pending_tags += _tag_names(line, self.path)
        if self.pending_line is None:
            self.pending_line = line.number

    def _take_tags(self) -> list[str]:
        tags = _unique(self.pending_tags)
        self.pending_tags, self.pending_line = [], None
        return tags


def _description(lines: list[str]) -> list[str]:
    """The Feature's free text, dedented, without blank lines at either end."""
    text = textwrap.dedent("\n".join(lines)).strip("\n")
    return [line.rstrip() for line in text.split("\n")] if text.strip() else []
