"""The DR step library as a pytest plugin: any CDKTF app's features can use these steps.

The installed package registers this module as a ``pytest11`` entry point (named
after the module, so this repository's ``tests/conftest.py`` can load the same
module with ``pytest_plugins`` without registering it twice). A feature file in
any repository then says "Given the DR stacks as synthesized from this
repository" about *that* repository's app:

- the app is ``--dr-app PATH``, else the ``dr_app`` ini option (relative to the
  rootdir), else the pytest rootdir; its ``cdktf.json`` and the
  ``[tool.dr-compliance]`` table of its ``pyproject.toml`` (extra policy
  folders, settings, waivers, source) apply to every evaluation;
- it is synthesized once per session through :func:`compliance.synth.synthesize_app`
  into a fresh cache (``DR_SYNTH_CACHE`` names a cache to reuse);
- "the example configuration X written by another team" reads X from the
  ``dr_examples`` folders (default ``tests/fixtures``).

The fixtures are prefixed ``dr_`` so they never shadow an app's own.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from pytest_bdd import given, parsers, then, when

from compliance.app_config import CDKTF_JSON
from compliance.errors import InputError
from compliance.evaluation import Evaluation, RequirementResult, Status
from compliance.model import Model, load_model
from compliance.mutations import CATALOGUE, Target
from compliance.runner import CheckOptions, run_check
from compliance.synth import SynthResult, synthesize_app

APP_OPTION, APP_INI, EXAMPLES_INI = "--dr-app", "dr_app", "dr_examples"
DEFAULT_EXAMPLES = "tests/fixtures"
# A requirement ID as the policies' METADATA writes it: DR-ENC-01, or an app's own ORD-DB-01.
REQUIREMENT = r"[A-Z][A-Z0-9]*-[A-Z0-9]+-\d+"
_REQUIREMENT_TAG = re.compile(rf"{REQUIREMENT}$")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dr-compliance", "DR compliance harness")
    group.addoption(
        APP_OPTION,
        dest="dr_app",
        default=None,
        help="the CDKTF app folder (its cdktf.json) the features judge (default: the rootdir)",
    )
    parser.addini(APP_INI, "the CDKTF app folder, relative to the rootdir", default="")
    parser.addini(
        EXAMPLES_INI,
        "folders holding the hand-written example configurations the features name",
        type="paths",
        default=[],
    )


@pytest.hookimpl(tryfirst=True)
def pytest_bdd_apply_tag(tag: str, function: object) -> bool | None:
    """Requirement and control tags (``@DR-ENC-01``, ``@nist:SC-28``) are documentation.

    They stay off pytest's mark registry (``nist:SC-28`` is no valid mark name);
    every other tag (``@deploy``) becomes a mark as pytest-bdd makes it.
    """
    if _REQUIREMENT_TAG.match(tag) or ":" in tag:
        return True
    return None


def app_folder(config: pytest.Config) -> Path:
    """``--dr-app``, else the ``dr_app`` ini option, else the rootdir."""
    option = config.getoption("dr_app")
    if option:
        return Path(option).resolve()
    ini = str(config.getini(APP_INI) or "").strip()
    return (config.rootpath / ini).resolve() if ini else config.rootpath


@pytest.fixture(scope="session")
def dr_app_dir(pytestconfig: pytest.Config) -> Path:
    """The folder of the app the features judge; it must hold a ``cdktf.json``."""
    folder = app_folder(pytestconfig)
    if not (folder / CDKTF_JSON).is_file():
        pytest.fail(
            f"{folder / CDKTF_JSON}: no CDKTF app here; run pytest from the app's folder, "
            f"or name it with {APP_OPTION} PATH or the {APP_INI} ini option",
            pytrace=False,
        )
    return folder


@pytest.fixture(scope="session")
def dr_synthesized(dr_app_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> SynthResult:
    """A real synth of the app, in a child process, once per session.

    The cache starts empty unless ``DR_SYNTH_CACHE`` names one (the main job
    points the features at the synth it just made), so the app's code runs,
    and is measured by coverage, in every session.
    """
    base = tmp_path_factory.mktemp("synth")
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    cache = Path(os.environ.get("DR_SYNTH_CACHE") or base / "cache")
    try:
        return synthesize_app(dr_app_dir, outdir=base / "cdktf.out", cache_dir=cache)
    except InputError as error:
        reason = str(error)
    pytest.fail(f"synth: {reason}", pytrace=False)


@pytest.fixture(scope="session")
def dr_synth_dir(dr_synthesized: SynthResult) -> Path:
    return dr_synthesized.outdir


@pytest.fixture(scope="session")
def dr_model(dr_synth_dir: Path) -> Model:
    return load_model(dr_synth_dir)


@pytest.fixture(scope="session")
def dr_baseline_evaluation(dr_synth_dir: Path, dr_app_dir: Path) -> Evaluation:
    """The unmodified stacks, evaluated once for every scenario that needs them."""
    return _check(dr_synth_dir, CheckOptions(app=dr_app_dir))


@dataclass
class Subject:
    """What a scenario judges: a synthesized folder or file and, if mutated, what changed."""

    path: Path
    # The app whose cdktf.json and pyproject.toml give the requirements and settings
    # (its policies, settings, waivers and source).
    app: Path
    changed: Target | None = None
    waivers: Path | None = None
    # False for a hand-written example: the app's source did not produce it (DR-SCH-03).
    scan_source: bool = True


def _check(path: Path, options: CheckOptions) -> Evaluation:
    try:
        return run_check(path, options)
    except InputError as error:  # bad input is the scenario's failure, not a traceback
        reason = str(error)
    pytest.fail(f"check: {reason}", pytrace=False)


@given("the DR stacks as synthesized from this repository", target_fixture="dr_subject")
def given_synthesized(dr_synth_dir: Path, dr_app_dir: Path) -> Subject:
    return Subject(dr_synth_dir, dr_app_dir)


@given(
    parsers.parse('the example configuration "{name}" written by another team'),
    target_fixture="dr_subject",
)
def given_example(name: str, pytestconfig: pytest.Config, dr_app_dir: Path) -> Subject:
    """A hand-written ``*.tf.json`` (a layout the app does not use), judged by the app's
    requirements and settings; the app's source did not write it, so none is scanned."""
    folders = pytestconfig.getini(EXAMPLES_INI) or [pytestconfig.rootpath / DEFAULT_EXAMPLES]
    for folder in folders:
        # A single *.tf.json, or a synthesized folder (manifest.json and its stacks).
        example = Path(folder) / name
        if example.is_file() or (example / "manifest.json").is_file():
            return Subject(example, dr_app_dir, scan_source=False)
    shown = ", ".join(str(folder) for folder in folders)
    pytest.fail(f"example {name!r} is in none of: {shown} (ini option {EXAMPLES_INI})")


@given(
    parsers.parse('the change "{change}" is made to a copy of the stacks'),
    target_fixture="dr_subject",
)
def given_mutated(dr_subject: Subject, change: str, tmp_path: Path) -> Subject:
    """A mutant of the catalogue (``python -m compliance mutants`` lists them)."""
    mutant = CATALOGUE.get(change)
    if mutant is None:
        pytest.fail(f"no change {change!r} in the mutation catalogue", pytrace=False)
    copy = tmp_path / "mutant"
    try:
        changed = mutant.build(dr_subject.path, copy)
    except (KeyError, IndexError, TypeError) as error:  # the catalogue is written for one app
        reason = f"the change {change!r} does not apply to these stacks: {error}"
        pytest.fail(reason, pytrace=False)
    # A change to the app's source makes the copy an app of its own (its own cdktf.json).
    app = copy if (copy / "cdktf.json").is_file() else dr_subject.app
    return Subject(copy, app, changed, scan_source=dr_subject.scan_source)


@given(
    parsers.parse('"{attribute}" is removed from "{address}" in a copy of the stacks'),
    target_fixture="dr_subject",
)
def given_attribute_removed(
    dr_subject: Subject, attribute: str, address: str, tmp_path: Path
) -> Subject:
    """Any app's own mutant: drop one attribute (``a.b.0.c``) of one resource."""
    return _edited(dr_subject, address, attribute, None, tmp_path)


@given(
    parsers.parse('"{attribute}" of "{address}" is set to {value} in a copy of the stacks'),
    target_fixture="dr_subject",
)
def given_attribute_set(
    dr_subject: Subject, attribute: str, address: str, value: str, tmp_path: Path
) -> Subject:
    """Any app's own mutant: set one attribute of one resource to a JSON value."""
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        pytest.fail(f"{value!r} is not a JSON value (write strings in double quotes)")
    return _edited(dr_subject, address, attribute, (parsed,), tmp_path)


def _edited(
    subject: Subject, address: str, attribute: str, value: tuple[Any] | None, tmp_path: Path
) -> Subject:
    """A copy of the synthesized folder with ``attribute`` removed (``value`` None) or set."""
    copy = tmp_path / "mutant"
    shutil.copytree(subject.path, copy)
    stack, file, document, block = _resource(copy, address)
    *parents, last = attribute.split(".")
    holder: Any = block
    for part in parents:
        holder = holder[int(part)] if isinstance(holder, list) else holder.get(part)
        if holder is None:
            pytest.fail(f"{address} has no {attribute!r} ({part!r} is not set)")
    key: Any = int(last) if isinstance(holder, list) else last
    if value is None:
        if isinstance(holder, dict) and key not in holder:
            pytest.fail(f"{address} has no {attribute!r} to remove")
        del holder[key]
    else:
        holder[key] = value[0]
    file.write_text(json.dumps(document, indent=2), encoding="utf-8")
    _, _, resource = address.rpartition("/")
    return Subject(copy, subject.app, Target(stack, resource), scan_source=subject.scan_source)


def _resource(folder: Path, address: str) -> tuple[str, Path, dict[str, Any], dict[str, Any]]:
    """The stack, file, document and block of ``[stack/]type.name`` in a ``cdktf.out`` copy."""
    wanted_stack, _, resource = address.rpartition("/")
    kind, _, name = resource.partition(".")
    found = []
    for file in sorted(folder.glob("stacks/*/cdk.tf.json")):
        stack = file.parent.name
        if wanted_stack and stack != wanted_stack:
            continue
        document = json.loads(file.read_text(encoding="utf-8"))
        block = document.get("resource", {}).get(kind, {}).get(name)
        if isinstance(block, dict):
            found.append((stack, file, document, block))
    if len(found) != 1:
        where = "no stack has" if not found else "several stacks have"
        pytest.fail(f"{where} {resource}: name it as stack/{resource}", pytrace=False)
    return found[0]


@when(
    parsers.re(rf"requirement (?P<requirement>{REQUIREMENT}) is evaluated"),
    target_fixture="dr_result",
)
def when_evaluated(
    dr_subject: Subject, requirement: str, request: pytest.FixtureRequest
) -> RequirementResult:
    evaluation: Evaluation | None = None
    synthesized = request.getfixturevalue("dr_synth_dir") if dr_subject.scan_source else None
    if dr_subject.path == synthesized and dr_subject.waivers is None:
        evaluation = request.getfixturevalue("dr_baseline_evaluation")
    if evaluation is None:
        options = CheckOptions(
            app=dr_subject.app, waivers=dr_subject.waivers, scan_source=dr_subject.scan_source
        )
        evaluation = _check(dr_subject.path, options)
    for result in evaluation.results:
        if result.requirement.id == requirement:
            return result
    known = ", ".join(r.requirement.id for r in evaluation.results)
    pytest.fail(f"no policy declares {requirement} (the policies declare {known})")


@then("the requirement is met with no finding")
def then_met(dr_result: RequirementResult) -> None:
    assert dr_result.findings == [], [f.message for f in dr_result.findings]
    assert dr_result.status is Status.PASSED


@then(parsers.re(r"at least (?P<count>\d+) resources were evaluated"))
def then_evaluated_at_least(dr_result: RequirementResult, count: str) -> None:
    assert len(dr_result.evaluated) >= int(count), dr_result.evaluated


@then("the requirement fails and names the changed resource")
def then_fails_on_change(
    dr_result: RequirementResult, dr_subject: Subject, request: pytest.FixtureRequest
) -> None:
    """An open finding on the changed resource that the unchanged stacks do not have.

    A waived finding, or one the stacks had before the change, does not show
    the change: the requirement must say something new about it.
    """
    assert dr_subject.changed is not None, "no change was made to the stacks"
    assert dr_result.status is Status.FAILED, dr_result.status
    baseline: set[tuple[str, str, str]] = set()
    if dr_subject.scan_source:
        before = request.getfixturevalue("dr_baseline_evaluation").result(dr_result.requirement.id)
        baseline = {(f.stack, f.address, f.message) for f in before.findings}
    flagged = {
        (f.stack, f.address)
        for f in dr_result.findings
        if f.waiver is None and (f.stack, f.address, f.message) not in baseline
    }
    assert (dr_subject.changed.stack, dr_subject.changed.address) in flagged, flagged
    assert all(re.match(rf"{REQUIREMENT}$", f.requirement) for f in dr_result.findings)


@then("the requirement is waived by the app's approved exceptions and every finding stays visible")
def then_waived_by_app(dr_result: RequirementResult) -> None:
    """Every finding is listed, each with an approved, bounded waiver of the app."""
    assert dr_result.status is Status.WAIVED, [f.message for f in dr_result.findings]
    assert dr_result.findings
    for finding in dr_result.findings:
        waiver = finding.waiver
        assert waiver is not None, finding.message
        assert waiver.approved_by and waiver.approved_by != waiver.owner and waiver.ticket


@then(parsers.parse('the slowest stage of the {path} path is "{stage}"'))
def then_slowest_stage(dr_result: RequirementResult, path: str, stage: str) -> None:
    """The published per-stage budget (DR-RTO-01) names the stage that takes longest."""
    paths = [p for p in dr_result.details.get("budget", []) if p["path"] == path]
    assert paths, [p["path"] for p in dr_result.details.get("budget", [])]
    for entry in paths:
        numbers = [s for s in entry["stages"] if isinstance(s["seconds"], int | float)]
        slowest = max(numbers, key=lambda s: s["seconds"])
        assert slowest["stage"] == stage, entry["stages"]
        assert any(stage in f.message for f in dr_result.findings), "no finding names it"


@then("the requirement is not applicable")
def then_not_applicable(dr_result: RequirementResult) -> None:
    assert dr_result.evaluated == [], dr_result.evaluated
    assert dr_result.status is Status.NOT_APPLICABLE


@then(parsers.parse('the requirement fails with a finding on "{address}"'))
def then_fails_on(dr_result: RequirementResult, address: str) -> None:
    assert dr_result.status is Status.FAILED
    flagged = [f.address for f in dr_result.findings]
    assert address in flagged, flagged


_WAIVED = (
    'the finding of {requirement} on the changed resource is waived by "{reason}" for {days:d} days'
)


@given(parsers.parse(_WAIVED), target_fixture="dr_subject")
def given_waived(
    dr_subject: Subject, requirement: str, reason: str, days: int, tmp_path: Path
) -> Subject:
    assert dr_subject.changed is not None, "a waiver names the resource a change broke"
    waiver = {
        "requirement": requirement,
        "stack": dr_subject.changed.stack,
        "address": dr_subject.changed.address,
        "reason": reason,
        "owner": "platform-team",
        "approved_by": "risk-review",  # a reviewer other than the owner (compliance.waivers)
        "ticket": "FEATURE-WAIVER",
        "risk": "medium",
        "expires": (dt.date.today() + dt.timedelta(days=days)).isoformat(),
    }
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(yaml.safe_dump({"waivers": [waiver]}), encoding="utf-8")
    return Subject(
        dr_subject.path, dr_subject.app, dr_subject.changed, waivers, dr_subject.scan_source
    )


@then("the requirement is waived and the finding stays visible")
def then_waived(dr_result: RequirementResult, dr_subject: Subject) -> None:
    assert dr_subject.changed is not None
    assert dr_result.status is Status.WAIVED, [f.message for f in dr_result.findings]
    waived = {(f.stack, f.address) for f in dr_result.findings if f.waiver is not None}
    assert (dr_subject.changed.stack, dr_subject.changed.address) in waived, waived
    assert all(f.waiver is not None and f.waiver.reason for f in dr_result.findings)
