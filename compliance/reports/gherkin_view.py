"""Gherkin exactly as written, split into the marked-up pieces the pages draw.

Each line keeps its file line number and is marked by the token the grammar read
it as (``feature_files.SourceLine``): keywords, tags (a requirement tag links to
its evidence when the page gives a link), comments, table pipes, and the quoted
arguments and ``<placeholders>`` of steps. Examples rows that have their own result
carry it, and a failed row its error, right where the auditor looks. A doc string
is shown as the text it is, never read for keywords.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from gherkin.gherkin_line import GherkinLine

from compliance.reports.document import ExampleRow
from compliance.reports.feature_files import DOC_STRING, SourceLine

Link = Callable[[str], str]  # requirement ID -> where its evidence is

_TITLES = ("FeatureLine", "RuleLine", "BackgroundLine", "ScenarioLine", "ExamplesLine")
_REQUIREMENT_TAG = re.compile(r"^DR-[A-Z0-9]+-\d+$")
_QUOTED = re.compile(r'".*?"')
_PLACEHOLDER = re.compile(r"<[^&<>\"'\s]+?>")


@dataclass(frozen=True)
class Span:
    """A piece of a line: plain text, or marked (``kw``, ``tag``, ``cm``, ``str``, ...)."""

    text: str = ""
    cls: str | None = None
    href: str | None = None  # a requirement tag's link to its evidence
    parts: tuple[Span, ...] = ()  # marked pieces inside (a placeholder in a quoted argument)


@dataclass(frozen=True)
class DisplayLine:
    number: int | None
    spans: tuple[Span, ...]
    status: str | None = None  # an examples row's own result
    error: str | None = None


def display_lines(
    source: list[SourceLine], rows: Iterable[ExampleRow] = (), link: Link | None = None
) -> list[DisplayLine]:
    by_line = {row.line: row for row in rows}
    lines = []
    for line in source:
        row = by_line.get(line.number) if line.kind == "TableRow" else None
        spans = tuple(_spans(line, link))
        if row is None:
            lines.append(DisplayLine(line.number, spans))
        else:
            lines.append(DisplayLine(line.number, spans, row.status or "not_run", row.error))
    return lines


def text_lines(text: str) -> list[SourceLine]:
    """Lines with no grammar behind them (a document read back without its sources)."""
    return [SourceLine(0, raw, "Other") for raw in text.splitlines()]


def _spans(line: SourceLine, link: Link | None) -> list[Span]:
    raw = line.text
    stripped = raw.lstrip()
    indent = [Span(raw[: len(raw) - len(stripped)])] if stripped != raw else []
    kind = line.kind
    if kind in ("Comment", "Language"):
        return [*indent, Span(stripped, "cm")]
    if kind == "TagLine":
        return [*indent, *_tags(raw, line.number, len(raw) - len(stripped), link)]
    if kind == "TableRow":
        pieces = stripped.split("|")
        spans = [Span(pieces[0])] if pieces[0] else []
        for piece in pieces[1:]:
            spans += [Span("|", "pipe"), *([Span(piece)] if piece else [])]
        return [*indent, *spans]
    if kind in (DOC_STRING, "DocStringSeparator"):  # a step's text argument, as written
        return [*indent, Span(stripped, "str")] if stripped else indent
    if kind == "Empty":
        return [Span(raw)] if raw else []
    keyword = line.keyword or ""
    if kind in _TITLES and stripped.startswith(keyword + ":"):
        head = keyword + ":"
        return [*indent, Span(head, "kw"), *_arguments(stripped[len(head) :])]
    if kind == "StepLine" and keyword:
        head = keyword.rstrip()
        return [*indent, Span(head, "kw"), *_arguments(stripped[len(head) :])]
    return [*indent, *_arguments(stripped)]


def _tags(raw: str, number: int, indent: int, link: Link | None) -> list[Span]:
    """Tags where the grammar found them; what follows the last is a comment."""
    spans: list[Span] = []
    position = indent
    for item in GherkinLine(raw, number).tags:
        start = item["column"] - 1
        name = item["text"]
        if start > position:
            spans.append(Span(raw[position:start]))
        tag = name.removeprefix("@")
        if link is not None and _REQUIREMENT_TAG.match(tag):
            spans.append(Span(name, "tag req", link(tag)))
        else:
            spans.append(Span(name, "tag"))
        position = start + len(name)
    rest = raw[position:]
    if rest.strip():
        comment = rest.lstrip()
        spans += [Span(rest[: len(rest) - len(comment)]), Span(comment, "cm")]
    elif rest:
        spans.append(Span(rest))
    return spans


def _arguments(text: str) -> list[Span]:
    """Quoted arguments and placeholders marked (a placeholder may sit inside quotes)."""
    spans: list[Span] = []
    position = 0
    for match in _QUOTED.finditer(text):
        spans += _placeholders(text[position : match.start()])
        spans.append(Span(cls="str", parts=tuple(_placeholders(match.group(0)))))
        position = match.end()
    return spans + _placeholders(text[position:])


def _placeholders(text: str) -> list[Span]:
    spans: list[Span] = []
    position = 0
    for match in _PLACEHOLDER.finditer(text):
        if match.start() > position:
            spans.append(Span(text[position : match.start()]))
        spans.append(Span(match.group(0), "ph"))
        position = match.end()
    if position < len(text):
        spans.append(Span(text[position:]))
    return spans
