"""Requirements come from policy METADATA; waivers fail closed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from compliance.catalogue import load_policies, package_metadata
from compliance.errors import InputError
from compliance.waivers import load_waivers, match_waiver


def test_catalogue_reads_requirements_from_metadata() -> None:
    policies = load_policies()
    enc = policies.by_id()["DR-ENC-01"]
    assert enc.package == "dr.rules.dr_enc_01"
    assert "SC-28" in enc.controls["nist-800-53"]
    assert enc.remediation and enc.family == "ENC"
    assert enc.policy == "policies/encryption/dr_enc_01.rego"
    assert len(policies.digest()) == 64


def test_policy_digest_changes_with_policy_text(tmp_path: Path) -> None:
    rule = tmp_path / "policies" / "r.rego"
    rule.parent.mkdir()
    rule.write_text("# METADATA\n# title: T\n# custom:\n#   id: DR-X-01\npackage dr.rules.x\n")
    first = load_policies(rule.parent).digest()
    rule.write_text(rule.read_text() + "\nallow := true\n")
    assert load_policies(rule.parent).digest() != first


def test_rule_package_without_id_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "r.rego").write_text("package dr.rules.x\n")
    with pytest.raises(InputError, match="custom.id"):
        load_policies(tmp_path)


def test_duplicate_requirement_is_an_error(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / f"{name}.rego").write_text(
            f"# METADATA\n# custom:\n#   id: DR-X-01\npackage dr.rules.{name}\n"
        )
    with pytest.raises(InputError, match="declared twice: DR-X-01"):
        load_policies(tmp_path)


def test_metadata_must_be_yaml(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not valid YAML"):
        package_metadata("# METADATA\n# title: [unclosed\npackage p\n", tmp_path / "x.rego")


WAIVER = """
waivers:
  - requirement: DR-ENC-01
    stack: primary
    address: aws_sns_topic.t
    reason: vendor topic, migration ticket OPS-1
    owner: alice
    expires: 2030-01-31
"""


def test_waiver_loads_and_matches(tmp_path: Path) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text(WAIVER)
    waivers = load_waivers(path, today=dt.date(2026, 1, 1))
    assert match_waiver(waivers, "DR-ENC-01", "primary", "aws_sns_topic.t") is waivers[0]
    assert match_waiver(waivers, "DR-ENC-01", "secondary", "aws_sns_topic.t") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (WAIVER, "expired on 2030-01-31"),
        (WAIVER.replace("    owner: alice\n", ""), "lacks owner"),
        (WAIVER.replace("2030-01-31", "soon"), "not a YYYY-MM-DD date"),
        ("waivers: {}", "expected a top-level 'waivers:' list"),
        ("waivers: [", "not valid YAML"),
    ],
    ids=["expired", "no-owner", "bad-date", "not-list", "bad-yaml"],
)
def test_bad_waivers_are_errors(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=expected):
        load_waivers(path, today=dt.date(2031, 1, 1))


def test_missing_waiver_file_means_none(tmp_path: Path) -> None:
    assert load_waivers(tmp_path / "absent.yaml") == []
