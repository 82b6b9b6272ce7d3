"""Features as living documentation: traceable to policies, rendered with their status.

Every scenario carries exactly one requirement ID tag and no control tag (the
control mapping lives in the policy METADATA only); every requirement ID
declared in ``policies/`` has a scenario and every scenario's ID has a policy.
The DEP family is decided by the deploy-phase failover drills
(``features/deploy/``, tagged ``@deploy``), not by Rego: their catalogue entry
is ``policies/drills.yaml``.
"""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path

import pytest
from gherkin.parser import Parser
from pytest_bdd.parser import FeatureParser
from report_samples import SAMPLE_FEATURE, write_cucumber, write_sample_features

from compliance.catalogue import load_policies
from compliance.cli import main
from compliance.reports import writer
from compliance.reports.feature_files import GherkinError, load_features, parse_feature
from compliance.reports.gherkin_view import display_lines
from compliance.reports.templating import render_macro
from compliance.reports.traceability import traceability
from compliance.synth import REPO_ROOT

FEATURES = REPO_ROOT / "features"


def test_features_and_policies_trace_both_ways() -> None:
    features = load_features(FEATURES, REPO_ROOT)
    assert features, "features/ holds the requirements in plain language"
    policies = load_policies()
    problems = traceability(features, policies.by_id(), policies.drills)
    assert problems == [], "\n".join(problems)


def test_features_carry_requirement_ids_and_no_control_tags() -> None:
    """One mapping, in the policies: a control tag in a feature would be a second one."""
    for path in sorted(FEATURES.rglob("*.feature")):
        tags = re.findall(r"@(\S+)", path.read_text(encoding="utf-8"))
        assert tags and not [t for t in tags if ":" in t], path


TRACE = """\
Feature: Traceability cases

  @DR-ENC-01
  Scenario: fine
    Then ok

  @DR-ENC-01 @DR-HA-01
  Scenario: two IDs
    Then ok

  @smoke
  Scenario: no ID
    Then ok

  @DR-ENC-01 @nist:SC-28
  Scenario: a control tag
    Then ok

  @DR-XYZ-09
  Scenario: orphan ID
    Then ok

  @deploy @DR-DEP-01
  Scenario: a drill
    Then ok

  @DR-DEP-02
  Scenario: a drill without the deploy tag
    Then ok

  @deploy @DR-DEP-07
  Scenario: a drill outside the catalogue
    Then ok
"""


def test_traceability_flags_every_kind_of_orphan(tmp_path: Path) -> None:
    file = tmp_path / "features" / "trace.feature"
    file.parent.mkdir()
    file.write_text(TRACE)
    policies = ["DR-ENC-01", "DR-RES-01"]
    drills = ["DR-DEP-01", "DR-DEP-02", "DR-DEP-03"]
    problems = "\n".join(traceability(load_features(file.parent, tmp_path), policies, drills))
    expected = [
        "(two IDs): 2 requirement ID tags",
        "(no ID): 0 requirement ID tags",
        "(a control tag): control tag @nist:SC-28: controls are mapped in the policy METADATA",
        "(orphan ID): DR-XYZ-09 has no policy in policies/ (orphan scenario)",
        "(a drill without the deploy tag): drill requirement DR-DEP-02 is not tagged @deploy",
        "(a drill outside the catalogue): drill requirement DR-DEP-07 has no entry in "
        "policies/drills.yaml",
        "DR-RES-01: it has no scenario in features/ (orphan requirement)",
        "DR-DEP-03: it has no scenario in features/ (orphan requirement)",
    ]
    for text in expected:
        assert text in problems, text
    assert "(fine)" not in problems and "(a drill)" not in problems
    assert "DR-DEP-01" not in problems, "a drill requirement needs no policy"


def test_feature_tags_are_inherited_by_scenarios(tmp_path: Path) -> None:
    file = tmp_path / "f.feature"
    file.write_text(
        "@DR-ENC-01\nFeature: F\n\n  Rule: R\n\n  @smoke\n  Scenario: Detects: S\n    Then ok\n"
    )
    block = parse_feature(file).scenarios[0]
    assert block.requirement == "DR-ENC-01" and block.all_tags == ["DR-ENC-01", "smoke"]
    assert block.rule == "R" and block.detects


TRICKY = '''\
# language: en
@tagged @more
Feature: Parser corner cases
  Free text that describes
  the feature.

  Background:
    Given a table
      | a | b |
      | 1 | 2 |

  Rule: the first rule

    @DR-ENC-01 @nist:SC-28 # a comment after tags
    Example: with a doc string
      Given a text
        """
        Scenario: not a scenario
        | not | a row |
        """
      Then it is read

    @DR-ENC-01
    @soc2:CC6.1
    Scenario Outline: with escaped cells
      Given "<value>"

      Examples: first
        | value       |
        | a \\| b     |
        | plain       |

      @extra
      Scenarios: second
        | value |
        | last  |
'''


def _pytest_bdd_view(path: Path) -> set[tuple]:
    feature = FeatureParser(str(path.parent), path.name).parse()
    return {
        (
            s.name,
            s.line_number,
            frozenset(s.tags),
            tuple(tuple(tuple(row) for row in e.examples) for e in s.examples),
        )
        for s in feature.scenarios.values()
    }


def _our_view(path: Path) -> set[tuple]:
    return {
        (
            b.name,
            b.line,
            frozenset(b.tags),
            tuple(tuple(tuple(row.values) for row in t.rows) for t in b.examples),
        )
        for b in parse_feature(path).scenarios
    }


def test_the_reader_agrees_with_pytest_bdd_on_every_feature(tmp_path: Path) -> None:
    tricky = tmp_path / "tricky.feature"
    tricky.write_text(TRICKY)
    sample = write_sample_features(tmp_path) / "sample.feature"
    files = [*sorted(FEATURES.rglob("*.feature")), tricky, sample]
    for path in files:
        assert _our_view(path) == _pytest_bdd_view(path), path
    feature = parse_feature(tricky)
    assert feature.tags == ["tagged", "more"]
    assert feature.description == ["Free text that describes", "the feature."]
    assert [b.name for b in feature.scenarios] == ["with a doc string", "with escaped cells"]
    assert feature.scenarios[1].examples[0].rows[0].values == ["a | b"]


def test_blocks_keep_the_text_exactly_as_written(tmp_path: Path) -> None:
    path = write_sample_features(tmp_path) / "sample.feature"
    feature = parse_feature(path, "features/sample.feature")
    lines = SAMPLE_FEATURE.splitlines()
    assert feature.header_text == "\n".join(lines[: lines.index("  Background:") - 1])
    outline = feature.scenarios[1]
    text = feature.block_text(outline)
    assert text.startswith("  @DR-ENC-01\n  Scenario Outline:")
    assert text.endswith("| key rotation off                  |")
    assert text in SAMPLE_FEATURE
    assert outline.first_line == outline.line - 1


def test_lines_are_marked_as_the_grammar_read_them(tmp_path: Path) -> None:
    """A keyword inside a doc string is text; a requirement tag links to its evidence."""
    file = tmp_path / "tricky.feature"
    file.write_text(TRICKY)
    feature = parse_feature(file)
    block = feature.scenarios[0]
    lines = display_lines(feature.block_source(block), link=lambda rid: f"report#{rid}")
    html = str(render_macro("macros.html.j2", "gherkin", lines))
    assert '<a class="tag req" href="report#DR-ENC-01">@DR-ENC-01</a>' in html
    assert '<span class="cm"># a comment after tags</span>' in html
    assert '<span class="str">Scenario: not a scenario</span>' in html
    assert '<b class="kw">Example:</b> with a doc string' in html
    assert [line.number for line in lines] == list(range(block.first_line, block.last_line + 1))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Scenario: before\n", "expected: .*got 'Scenario: before'"),
        ("just text\n", "got 'just text'"),
        ("Feature: A\n  Scenario: s\n    Given a\n      | a |\n      | b | c |\n", "cell count"),
        ("@a b\nFeature: A\n", "A tag may not contain whitespace"),
        ('Feature: A\n  Scenario: s\n    Given a\n      """\n      never closed\n', "end of file"),
    ],
)
def test_what_the_grammar_refuses_is_named(tmp_path: Path, text: str, message: str) -> None:
    file = tmp_path / "bad.feature"
    file.write_text(text)
    with pytest.raises(GherkinError, match=message) as error:
        parse_feature(file)
    assert str(error.value).startswith(f"{file}:")


def test_a_feature_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    file = tmp_path / "latin1.feature"
    file.write_bytes("Feature: Données\n".encode("latin-1"))
    with pytest.raises(GherkinError, match="cannot be read") as error:
        parse_feature(file)
    assert str(error.value).startswith(f"{file}:1")


# Valid Gherkin to gherkin-official, yet pytest-bdd would run something else than is written.
LENIENT_GRAMMAR = [
    ("Feature: A\nFeature: B\n", 2, "a second Feature"),
    ("# only a comment\n", 1, "no Feature"),
    ("Feature: A\n  Examples:\n    | a |\n    | 1 |\n", 2, "Examples outside a scenario"),
    ("Feature: A\n  Rule: r\n    Scenarios:\n", 3, "Scenarios outside a scenario"),
    ("Feature: A\n  Background:\n    Examples:\n", 3, "Examples outside a scenario"),
    ("Feature: A\n  Scenario: s\n    And a\n", 3, "first step must be a Given, When or Then"),
    ("Feature: A\n  Background:\n    * a\n", 3, "first step must be a Given, When or Then"),
    ("Feature: A\n  Scenario: s\n    Given a\n  Scenario: s\n", 4, "also used at line 2"),
    ("# language: fr\nFonctionnalité: A\n", 1, "only English Gherkin is read: fr"),
    ("@tag\n# language: fr\nFeature: A\n", 2, "only English Gherkin is read: fr"),
]


@pytest.mark.parametrize(("text", "line", "message"), LENIENT_GRAMMAR)
def test_what_the_grammar_lets_through_is_refused(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    Parser().parse(text)  # the official grammar accepts it: the check is ours
    file = tmp_path / "bad.feature"
    file.write_text(text)
    with pytest.raises(GherkinError, match=message) as error:
        parse_feature(file)
    assert error.value.line == line


def test_docs_renders_the_features_with_each_requirement_status(
    synth_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report_dir = tmp_path / "reports"
    features = load_features(FEATURES, REPO_ROOT)
    write_cucumber(report_dir / writer.CUCUMBER, features)
    assert main(["docs", "--input", str(synth_dir), "--report-dir", str(report_dir)]) == 0
    page = (report_dir / writer.LIVING_DOC).read_text(encoding="utf-8")
    assert str(report_dir / writer.LIVING_DOC) in capsys.readouterr().out
    for feature in features:
        assert escape(feature.name) in page
        for block in feature.scenarios:
            assert escape(block.name) in page
            assert f'id="{block.requirement}"' in page
    assert "✓ Passed" in page and "scenario results from the latest feature run" in page
    assert not (report_dir / writer.JSON).exists(), "docs writes the living documentation only"


def test_docs_without_a_feature_run_shows_scenarios_as_not_run(
    synth_dir: Path, tmp_path: Path
) -> None:
    report_dir = tmp_path / "reports"
    assert main(["docs", "--input", str(synth_dir), "--report-dir", str(report_dir)]) == 0
    page = (report_dir / writer.LIVING_DOC).read_text(encoding="utf-8")
    assert "○ Not run" in page and "the features were not run" in page


def test_the_living_documentation_links_each_verdict_to_its_evidence(
    synth_dir: Path, tmp_path: Path
) -> None:
    from compliance.runner import run_check

    folder = write_sample_features(tmp_path)
    written = writer.write_reports(
        run_check(synth_dir),
        tmp_path / "reports",
        features_root=folder,
        cucumber=write_cucumber(tmp_path / "c.json", load_features(folder, tmp_path)),
    )
    page = written.paths["living_doc"].read_text(encoding="utf-8")
    assert 'href="compliance.html#DR-ENC-01"' in page
    document = json.loads(written.paths["json"].read_text(encoding="utf-8"))
    dep = next(r for r in document["requirements"] if r["id"] == "DR-DEP-01")
    assert dep["decided_by"] == "drill" and dep["status"] == "passed"
    assert "decided by failover drills" in page
