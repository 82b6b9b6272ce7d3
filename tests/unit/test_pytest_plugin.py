"""The step library as another app uses it: its features, its policies, its own mutants."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from compliance import pytest_plugin
from compliance.features_run import run_features
from compliance.runner import CheckOptions, run_check

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "orders-global-table"
TABLE_POLICY = EXAMPLE / "policies" / "ord_cap_01.rego"
LEGACY = EXAMPLE / "features" / "examples" / "legacy-orders.tf.json"

FEATURE = """\
Feature: The legacy orders table of another team
  @ORD-CAP-01
  Scenario: Detects: provisioned capacity
    Given the example configuration "legacy-orders.tf.json" written by another team
    When requirement ORD-CAP-01 is evaluated
    Then the requirement fails with a finding on "aws_dynamodb_table.legacy_orders"

  @DR-RES-01
  Scenario: The legacy table cannot be deleted by mistake
    Given the example configuration "legacy-orders.tf.json" written by another team
    When requirement DR-RES-01 is evaluated
    Then the requirement is met with no finding
"""


def _app(root: Path, feature: str = FEATURE) -> Path:
    """An app folder as another team lays it out; its synth is never needed here."""
    (root / "policies").mkdir(parents=True)
    shutil.copy(TABLE_POLICY, root / "policies")
    (root / "cases").mkdir()
    shutil.copy(LEGACY, root / "cases")
    (root / "features").mkdir()
    (root / "features" / "legacy.feature").write_text(feature, encoding="utf-8")
    (root / "tests").mkdir()
    (root / "tests" / "test_features.py").write_text(
        'from pytest_bdd import scenarios\n\nscenarios("../features")\n', encoding="utf-8"
    )
    (root / "cdktf.json").write_text('{"app": "python main.py"}', encoding="utf-8")
    (root / "pyproject.toml").write_text(
        '[tool.dr-compliance]\npolicies = ["policies"]\n\n'
        '[tool.pytest.ini_options]\ntestpaths = ["tests"]\ndr_examples = ["cases"]\n',
        encoding="utf-8",
    )
    return root


def test_an_apps_features_run_on_the_plugin_with_the_apps_own_policies(tmp_path: Path) -> None:
    app = _app(tmp_path / "app")
    reports = tmp_path / "reports"
    assert run_features(reports, app=app) == 0
    cucumber = json.loads((reports / "cucumber.json").read_text(encoding="utf-8"))
    statuses = [
        step["result"]["status"]
        for feature in cucumber
        for element in feature["elements"]
        for step in element["steps"]
    ]
    assert len(statuses) == 6 and set(statuses) == {"passed"}, statuses


def test_a_scenario_the_app_does_not_meet_fails_the_features_run(tmp_path: Path) -> None:
    broken = FEATURE.replace(
        'Then the requirement fails with a finding on "aws_dynamodb_table.legacy_orders"',
        "Then the requirement is met with no finding",
    )
    app = _app(tmp_path / "app", broken)
    assert run_features(tmp_path / "reports", app=app) == 1


def test_the_app_option_applies_the_apps_policies_to_output_outside_it(tmp_path: Path) -> None:
    app = _app(tmp_path / "app")
    elsewhere = tmp_path / "elsewhere" / "legacy.tf.json"
    elsewhere.parent.mkdir()
    shutil.copy(LEGACY, elsewhere)
    options = dict(scan_source=False)
    own = run_check(elsewhere, CheckOptions(app=app, **options))
    assert own.result("ORD-CAP-01").findings[0].address == "aws_dynamodb_table.legacy_orders"
    shipped_only = run_check(elsewhere, CheckOptions(**options))
    assert "ORD-CAP-01" not in {r.requirement.id for r in shipped_only.results}


def _synthesized(root: Path, stacks: dict[str, dict]) -> Path:
    for name, resources in stacks.items():
        folder = root / "stacks" / name
        folder.mkdir(parents=True)
        (folder / "cdk.tf.json").write_text(json.dumps({"resource": resources}), encoding="utf-8")
    return root


def _table(**values: object) -> dict:
    return {"aws_dynamodb_table": {"orders": {"name": "orders", **values}}}


def test_attribute_steps_change_one_resource_of_a_copy(tmp_path: Path) -> None:
    original = _synthesized(
        tmp_path / "out",
        {"main": _table(deletion_protection_enabled=True, replica=[{"region_name": "us-west-2"}])},
    )
    subject = pytest_plugin.Subject(original, tmp_path)
    removed = pytest_plugin._edited(
        subject, "aws_dynamodb_table.orders", "deletion_protection_enabled", None, tmp_path / "a"
    )
    changed = pytest_plugin._edited(
        subject, "main/aws_dynamodb_table.orders", "replica.0.region_name", ("us-east-1",),
        tmp_path / "b",
    )  # fmt: skip
    assert (
        removed.changed
        == changed.changed
        == pytest_plugin.Target("main", "aws_dynamodb_table.orders")
    )

    def values(subject: pytest_plugin.Subject) -> dict:
        document = json.loads((subject.path / "stacks/main/cdk.tf.json").read_text())
        return document["resource"]["aws_dynamodb_table"]["orders"]

    assert "deletion_protection_enabled" not in values(removed)
    assert values(changed)["replica"] == [{"region_name": "us-east-1"}]
    assert values(subject)["deletion_protection_enabled"] is True  # the original is untouched


@pytest.mark.parametrize(
    ("address", "attribute", "message"),
    [
        ("aws_dynamodb_table.carts", "name", "no stack has aws_dynamodb_table.carts"),
        ("aws_dynamodb_table.orders", "name", "several stacks have"),
        ("east/aws_dynamodb_table.orders", "ttl.enabled", "has no 'ttl.enabled'"),
        ("east/aws_dynamodb_table.orders", "billing_mode", "has no 'billing_mode' to remove"),
    ],
)
def test_attribute_steps_name_what_they_cannot_find(
    tmp_path: Path, address: str, attribute: str, message: str
) -> None:
    original = _synthesized(tmp_path / "out", {"east": _table(), "west": _table()})
    with pytest.raises(pytest.fail.Exception, match=message):
        pytest_plugin._edited(
            pytest_plugin.Subject(original, tmp_path), address, attribute, None, tmp_path / "m"
        )


@pytest.mark.parametrize(
    ("tag", "documentation"),
    [("DR-ENC-01", True), ("ORD-CAP-01", True), ("nist:SC-28", True), ("deploy", None)],
)
def test_requirement_and_control_tags_stay_off_the_mark_registry(
    tag: str, documentation: bool | None
) -> None:
    assert pytest_plugin.pytest_bdd_apply_tag(tag, lambda: None) is documentation


def test_the_app_is_the_option_else_the_ini_else_the_rootdir(tmp_path: Path) -> None:
    def config(option: str | None, ini: str) -> SimpleNamespace:
        return SimpleNamespace(
            getoption=lambda name: option, getini=lambda name: ini, rootpath=tmp_path
        )

    assert pytest_plugin.app_folder(config(None, "")) == tmp_path
    assert pytest_plugin.app_folder(config(None, "infra")) == tmp_path / "infra"
    assert pytest_plugin.app_folder(config(str(tmp_path / "x"), "infra")) == tmp_path / "x"
