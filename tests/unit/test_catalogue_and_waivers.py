"""Requirements come from policy METADATA (the waiver tests are in test_waivers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance.catalogue import load_policies, package_metadata
from compliance.errors import InputError


def test_catalogue_reads_requirements_from_metadata() -> None:
    policies = load_policies()
    enc = policies.by_id()["DR-ENC-01"]
    assert enc.package == "dr.rules.dr_enc_01"
    assert "SC-28" in enc.control_ids["nist-800-53"]
    assert {m.grade for m in enc.controls} <= {"satisfies", "supports"}
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
