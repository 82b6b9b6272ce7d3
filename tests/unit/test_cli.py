"""The command line's contract: exit 0 / 1 / 2, text and JSON output."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from compliance.cli import main
from compliance.mutations import CATALOGUE

SHIPPED_WAIVERS = Path(__file__).resolve().parents[2] / "policies" / "waivers.yaml"


@pytest.fixture
def own_settings(tmp_path: Path) -> Path:
    """The shipped settings with what this app's pyproject.toml states about itself."""
    shipped = SHIPPED_WAIVERS.with_name("settings.yaml").read_text(encoding="utf-8")
    path = tmp_path / "settings.yaml"
    path.write_text(
        shipped.replace("dns_waits_for_promotion: false", "dns_waits_for_promotion: true")
    )
    return path


def test_check_passes_on_the_projects_own_output(
    synth_dir: Path, own_settings: Path, capsys
) -> None:
    # Two requirements fail on this app and are waived with their measured figures (README).
    options = ["--settings", str(own_settings)]
    assert main(["check", str(synth_dir), *options]) == 1
    assert "2 failed" in capsys.readouterr().out
    assert main(["check", str(synth_dir), *options, "--waivers", str(SHIPPED_WAIVERS)]) == 0
    out = capsys.readouterr().out
    assert "PASSED" in out and "DR-ENC-01" in out
    assert "0 failed, 2 waived" in out


def test_check_json_names_requirement_stack_and_address(synth_dir: Path, tmp_path, capsys) -> None:
    copy = tmp_path / "out"
    target = CATALOGUE["aurora storage encryption removed"].build(synth_dir, copy)
    assert main(["check", str(copy), "--format", "json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["summary"]["compliant"] is False
    assert {(f["requirement"], f["stack"], f["address"]) for f in document["findings"]} >= {
        ("DR-ENC-01", target.stack, target.address)
    }
    finding = next(f for f in document["findings"] if f["address"] == target.address)
    assert finding["construct_path"] == "primary/aurora/cluster"
    assert "storage_encrypted" in finding["message"]


def test_check_accepts_a_single_stack_file(synth_dir: Path, capsys) -> None:
    # The primary stack alone lacks what other stacks supply (the failover record
    # pair, the replica...), so the verdict may be 1; the file is still read and judged.
    assert main(["check", str(synth_dir / "stacks" / "primary" / "cdk.tf.json")]) in (0, 1)
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("PASSED") and " DR-ENC-01 " in line for line in lines), lines
    assert not any(line.startswith("NOT_APPLICABLE") and " DR-ENC-01 " in line for line in lines)


def test_malformed_file_exits_2_with_one_line(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "cdk.tf.json"
    bad.write_text('{"resource": ')
    assert main(["check", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(bad) in err and "malformed JSON" in err


def test_rego_syntax_error_exits_2_naming_file_and_line(tmp_path: Path, synth_dir, capsys) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(Path(__file__).resolve().parents[2] / "policies", policies)
    broken = policies / "encryption" / "dr_enc_01.rego"
    broken.write_text(broken.read_text() + "\ndeny contains x if {\n")
    assert main(["check", str(synth_dir), "--policies", str(policies)]) == 2
    err = capsys.readouterr().err.strip()
    assert "dr_enc_01.rego:" in err and "rego_parse_error" in err and "\n" not in err


def test_rego_unsafe_variable_surfaces_at_evaluation(tmp_path: Path, synth_dir, capsys) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(Path(__file__).resolve().parents[2] / "policies", policies)
    broken = policies / "encryption" / "dr_enc_01.rego"
    broken.write_text(broken.read_text() + "\nbroken if { unknown_var == 1 }\n")
    assert main(["check", str(synth_dir), "--policies", str(policies)]) == 2
    assert "rego_unsafe_var_error" in capsys.readouterr().err


def test_waived_finding_stays_visible_and_passes(
    synth_dir: Path, own_settings: Path, tmp_path, capsys
) -> None:
    copy = tmp_path / "out"
    target = CATALOGUE["topic on an AWS-managed key"].build(synth_dir, copy)
    waivers = tmp_path / "waivers.yaml"
    expires = dt.date.today() + dt.timedelta(days=30)
    waivers.write_text(  # this app's own waivers, and one for the mutant's finding
        SHIPPED_WAIVERS.read_text(encoding="utf-8")
        + f"  - {{requirement: DR-ENC-01, stack: {target.stack}, address: {target.address},\n"
        "     reason: test, owner: qa, approved_by: security, ticket: QA-1, risk: low,\n"
        f"     expires: {expires.isoformat()}}}\n"
    )
    options = ["--settings", str(own_settings), "--waivers", str(waivers), "--format", "json"]
    assert main(["check", str(copy), *options]) == 0
    document = json.loads(capsys.readouterr().out)
    encryption = [f for f in document["findings"] if f["requirement"] == "DR-ENC-01"]
    assert [(f["address"], f["waived"]) for f in encryption] == [(target.address, True)]
    assert all(f["waived"] for f in document["findings"])


@pytest.mark.parametrize("argv", [["check"], ["nonsense"]])
def test_usage_errors_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
