"""Fail closed on hostile or broken input: exit 2 with a one-line reason, never a traceback.

Each case here was reproduced on the harness before it was hardened (issue 10):
a read outside the checked folder, a crash on a malformed shape, a package
typo that silently dropped a requirement, an interrupt ending in a traceback.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from compliance import cli

_TABLE = {"aws_sns_topic": {"t": {"name": "alerts"}}}


def _folder(tmp_path: Path, stacks: dict[str, object], files: dict[str, object]) -> Path:
    out = tmp_path / "cdktf.out"
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps({"version": "0.21.0", "stacks": stacks}))
    for relative, document in files.items():
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        text = document if isinstance(document, str) else json.dumps(document)
        target.write_text(text)
    return out


def _check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = cli.main(["check", *argv])
    err = capsys.readouterr().err
    return code, err


@pytest.mark.parametrize("path", ["../../../../etc/passwd", "/etc/passwd"])
def test_a_manifest_naming_a_file_outside_the_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], path: str
) -> None:
    out = _folder(tmp_path, {"app": {"synthesizedStackPath": path}}, {})
    code, err = _check(capsys, str(out))
    assert code == cli.EXIT_BAD_INPUT
    assert "manifest.json" in err and path in err
    assert "Traceback" not in err


def test_a_stack_file_linked_outside_the_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = tmp_path / "elsewhere.json"
    outside.write_text(json.dumps({"resource": _TABLE}))
    out = _folder(tmp_path, {"app": {"synthesizedStackPath": "stacks/app/cdk.tf.json"}}, {})
    (out / "stacks" / "app").mkdir(parents=True)
    os.symlink(outside, out / "stacks" / "app" / "cdk.tf.json")
    code, err = _check(capsys, str(out))
    assert code == cli.EXIT_BAD_INPUT
    assert "outside" in err


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"provider": [], "resource": _TABLE}, "$.provider must be an object"),
        (
            {"provider": {"aws": "x"}, "resource": _TABLE},
            "$.provider.aws[0] must be a provider block",
        ),
        ({"output": {"o": "x"}, "resource": _TABLE}, "$.output.o must be an object"),
        (
            {"resource": {"aws_sns_topic": {"t": "x"}}},
            "$.resource.aws_sns_topic.t must be an object",
        ),
        ({"resource": []}, "$.resource must be an object"),
    ],
)
def test_malformed_shapes_name_the_json_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], document: dict[str, object], expected: str
) -> None:
    file = tmp_path / "stack.tf.json"
    file.write_text(json.dumps(document))
    code, err = _check(capsys, str(file))
    assert code == cli.EXIT_BAD_INPUT
    assert expected in err and "stack.tf.json" in err


def test_json_nested_5000_deep_is_bad_input_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "deep.tf.json"
    file.write_text('{"resource": ' + "[" * 5000 + "]" * 5000 + "}")
    code, err = _check(capsys, str(file))
    assert code == cli.EXIT_BAD_INPUT
    assert "nested too deeply" in err


def test_values_nested_too_deep_for_the_model_are_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deep: object = "${aws_kms_key.k.arn}"
    for _ in range(200):
        deep = {"x": deep}
    file = tmp_path / "stack.tf.json"
    file.write_text(json.dumps({"resource": {"aws_sns_topic": {"t": {"tags": deep}}}}))
    code, err = _check(capsys, str(file))
    assert code == cli.EXIT_BAD_INPUT
    assert "nested deeper than" in err


def test_non_utf8_json_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "stack.tf.json"
    file.write_bytes(b'{"resource": {"aws_sns_topic": {"t": {"name": "\xff\xfe"}}}}')
    code, err = _check(capsys, str(file))
    assert code == cli.EXIT_BAD_INPUT
    assert "not UTF-8" in err


def test_malformed_json_message_is_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "stack.tf.json"
    file.write_text('{"resource": {"aws_sns_topic": {"t": {"name": "unterminated}}}')
    code, err = _check(capsys, str(file))
    assert code == cli.EXIT_BAD_INPUT
    assert "malformed JSON: Unterminated string starting at line 1 column" in err


def test_a_policy_outside_the_rules_namespace_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "ok.rego").write_text(
        "# METADATA\n# title: ok\n# custom:\n#   id: DR-OK-01\npackage dr.rules.ok\n\n"
        "deny contains x if { x := input.nothing }\n\n"
        "evaluated contains x if { x := input.nothing }\n"
    )
    (policies / "typo.rego").write_text(
        "# METADATA\n# title: typo\n# custom:\n#   id: DR-RES-01\npackage dr.rule.dr_res_01\n\n"
        "deny contains x if { x := input.nothing }\n"
    )
    file = tmp_path / "stack.tf.json"
    file.write_text(json.dumps({"resource": _TABLE}))
    code, err = _check(capsys, str(file), "--policies", str(policies))
    assert code == cli.EXIT_BAD_INPUT
    assert "typo.rego" in err and "DR-RES-01" in err and "outside dr.rules" in err


def test_a_requirement_without_a_decision_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "silent.rego").write_text(
        "# METADATA\n# title: silent\n# custom:\n#   id: DR-SIL-01\npackage dr.rules.silent\n\n"
        "evaluated contains x if { x := input.nothing }\n"
    )
    (policies / "settings.yaml").write_text("{}\n")
    file = tmp_path / "stack.tf.json"
    file.write_text(json.dumps({"resource": _TABLE}))
    code, err = _check(capsys, str(file), "--policies", str(policies), "--no-source")
    assert code == cli.EXIT_BAD_INPUT
    assert "silent.rego" in err and "decides nothing" in err


def test_a_missing_explicit_waivers_file_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "stack.tf.json"
    file.write_text(json.dumps({"resource": _TABLE}))
    code, err = _check(capsys, str(file), "--waivers", str(tmp_path / "nope.yaml"))
    assert code == cli.EXIT_BAD_INPUT
    assert "nope.yaml" in err


def test_an_interrupt_is_exit_130_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run_check", interrupted)
    code, err = _check(capsys, str(tmp_path))
    assert code == cli.EXIT_INTERRUPTED
    assert "Traceback" not in err


def test_an_unexpected_error_is_one_line_and_its_details_are_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DR_COMPLIANCE_CACHE_DIR", str(tmp_path / "cache"))

    def broken(*_: object, **__: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(cli, "run_check", broken)
    code, err = _check(capsys, str(tmp_path))
    assert code == cli.EXIT_BAD_INPUT
    assert len(err.strip().splitlines()) == 1
    assert "ZeroDivisionError: a bug" in err
    crash = Path(err.split("details in ")[1].rstrip(")\n"))
    assert "Traceback" in crash.read_text()
