"""The asset facts (DR-AST-01/02): where a function's file is, what it hashes to, and rebuilds."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest

from compliance import facts
from compliance.facts import asset_facts
from compliance.model import Model, load_model
from infrastructure.lambda_package import LambdaPackage, build_zip, zip_bytes_hash


def _app(root: Path, functions: dict[str, dict[str, Any]]) -> Path:
    """A one-stack ``cdktf.out`` folder with these aws_lambda_function blocks."""
    stack = root / "stacks" / "app"
    stack.mkdir(parents=True)
    document = {
        "provider": {"aws": [{"region": "us-east-1"}]},
        "resource": {"aws_lambda_function": functions},
    }
    (stack / "cdk.tf.json").write_text(json.dumps(document), encoding="utf-8")
    manifest = {
        "stacks": {
            "app": {
                "synthesizedStackPath": "stacks/app/cdk.tf.json",
                "workingDirectory": "stacks/app",
                "dependencies": [],
            }
        }
    }
    (root / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return root


def _facts(root: Path) -> dict[str, Any]:
    result: dict[str, Any] = asset_facts(load_model(root))["app"]
    return result


@pytest.fixture
def lambda_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``lambda/fn`` folder standing in for this repository's sources."""
    root = tmp_path / "lambda"
    (root / "fn").mkdir(parents=True)
    (root / "fn" / "handler.py").write_text("def handler(event, context):\n    return 1\n")
    monkeypatch.setattr(facts, "LAMBDA_ROOT", root)
    monkeypatch.setattr(facts, "_REBUILDS", {})
    return root / "fn"


def test_project_functions_resolve_hash_and_rebuild(model: Model) -> None:
    found = asset_facts(model)
    functions = {
        (r.stack, r.address): r.values for r in model.resources() if r.type == "aws_lambda_function"
    }
    assert len(functions) == 3
    for (stack, address), values in functions.items():
        fact = found[stack][address]
        assert fact["exists"] and fact["resolved"] and not fact["absolute"], fact
        assert fact["machine_specific"] is None
        assert fact["sha256_base64"] == values["source_code_hash"]
        assert fact["build"]["source"] in {"lambda/failover", "lambda/health_check"}
        assert fact["build"]["deterministic"] and fact["build"]["matches_asset"], fact
        assert fact["build"]["error"] is None


def test_relative_paths_resolve_from_the_stack_working_directory(tmp_path: Path) -> None:
    root = _app(
        tmp_path / "out",
        {
            "here": {"filename": "code/fn.zip"},
            "module": {"filename": "${path.module}/code/fn.zip"},
            "missing": {"filename": "lambda/fn.zip"},
            "computed": {"filename": "${var.zip}"},
        },
    )
    code = root / "stacks" / "app" / "code"
    code.mkdir()
    (code / "fn.zip").write_bytes(b"zip bytes")
    found = _facts(root)
    here = found["aws_lambda_function.here"]
    assert here["exists"] and not here["absolute"]
    assert here["sha256_base64"] == zip_bytes_hash(b"zip bytes")
    assert here["build"] is None  # not under assets/: prebuilt
    assert found["aws_lambda_function.module"]["exists"]
    assert not found["aws_lambda_function.module"]["absolute"]
    missing = found["aws_lambda_function.missing"]
    assert missing["resolved"] and not missing["exists"] and missing["sha256_base64"] is None
    computed = found["aws_lambda_function.computed"]
    assert not computed["resolved"] and not computed["exists"]


def test_absolute_paths_say_which_machine_folder_they_point_into(tmp_path: Path) -> None:
    inside = tmp_path / "out" / "stacks" / "app" / "fn.zip"
    with tempfile.NamedTemporaryFile(suffix=".zip") as temporary:
        root = _app(
            tmp_path / "out",
            {"inside": {"filename": str(inside)}, "temp": {"filename": temporary.name}},
        )
        inside.write_bytes(b"x")
        found = _facts(root)
    assert found["aws_lambda_function.inside"]["absolute"]
    assert found["aws_lambda_function.inside"]["exists"]
    assert found["aws_lambda_function.inside"]["machine_specific"] == (
        "the synthesized output folder"
    )
    assert found["aws_lambda_function.temp"]["machine_specific"] == "a temporary folder"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/opt/artifacts/fn.zip", None),
        ("/var/tmp/fn.zip", "a temporary folder"),
        ("/home/alice/repo/fn.zip", "a home folder"),
        ("/Users/alice/fn.zip", "a home folder"),
    ],
)
def test_machine_specific_locations(path: str, expected: str | None, tmp_path: Path) -> None:
    assert facts._machine_specific(Path(path), tmp_path / "cdktf.out") == expected


def test_filebase64sha256_must_hash_the_function_file(tmp_path: Path) -> None:
    same = '${filebase64sha256("${path.module}/fn.zip")}'
    root = _app(
        tmp_path / "out",
        {
            "same": {"filename": "fn.zip", "source_code_hash": same},
            "other": {"filename": "fn.zip", "source_code_hash": '${filebase64sha256("x.zip")}'},
            "literal": {"filename": "fn.zip", "source_code_hash": "abc="},
        },
    )
    (root / "stacks" / "app" / "fn.zip").write_bytes(b"x")
    found = _facts(root)
    assert found["aws_lambda_function.same"]["hash_file_same"] is True
    assert found["aws_lambda_function.other"]["hash_file_same"] is False
    assert found["aws_lambda_function.literal"]["hash_file_same"] is None


def _asset_app(root: Path, source: Path) -> tuple[Path, Path]:
    """An app whose function uses a CDKTF-style asset built from ``source``."""
    root = _app(root, {"fn": {"filename": "assets/fn_code/HASH/fn.zip"}})
    asset = root / "stacks" / "app" / "assets" / "fn_code" / "HASH" / "fn.zip"
    build_zip(source, asset)
    return root, asset


def test_synth_time_asset_is_rebuilt_and_compared(lambda_source: Path, tmp_path: Path) -> None:
    root, asset = _asset_app(tmp_path / "out", lambda_source)
    build = _facts(root)["aws_lambda_function.fn"]["build"]
    assert build == {
        "source": "lambda/fn",
        "error": None,
        "deterministic": True,
        "matches_asset": True,
    }
    asset.write_bytes(asset.read_bytes() + b"\0")
    assert not _facts(root)["aws_lambda_function.fn"]["build"]["matches_asset"]


def test_rebuilds_are_kept_per_source_content(
    lambda_source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = _asset_app(tmp_path / "out", lambda_source)
    calls: list[Path] = []

    def counting(source: Path, destination: Path) -> LambdaPackage:
        calls.append(source)
        return build_zip(source, destination)

    monkeypatch.setattr(facts, "build_zip", counting)
    _facts(root)
    _facts(root)
    assert len(calls) == 2  # two builds, once
    (lambda_source / "handler.py").write_text("def handler(event, context):\n    return 2\n")
    assert not _facts(root)["aws_lambda_function.fn"]["build"]["matches_asset"]
    assert len(calls) == 4


def test_a_build_that_changes_each_time_is_not_deterministic(
    lambda_source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = _asset_app(tmp_path / "out", lambda_source)
    runs = iter(range(10))

    def stamped(source: Path, destination: Path) -> LambdaPackage:
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(f"build {next(runs)}".encode())
        return LambdaPackage(destination, zip_bytes_hash(destination.read_bytes()))

    monkeypatch.setattr(facts, "build_zip", stamped)
    build = _facts(root)["aws_lambda_function.fn"]["build"]
    assert build["deterministic"] is False
    assert build["matches_asset"] is False


def test_a_source_that_cannot_be_built_here_is_reported(
    lambda_source: Path, tmp_path: Path
) -> None:
    root, _ = _asset_app(tmp_path / "out", lambda_source)
    (lambda_source / "requirements.txt").write_text("no-such-package-for-dr==1.0\n")
    build = _facts(root)["aws_lambda_function.fn"]["build"]
    assert "no-such-package-for-dr" in build["error"]
    assert build["deterministic"] is False


def test_prebuilt_zip_under_assets_is_not_rebuilt(lambda_source: Path, tmp_path: Path) -> None:
    root = _app(tmp_path / "out", {"fn": {"filename": "assets/vendor/HASH/other.zip"}})
    asset = root / "stacks" / "app" / "assets" / "vendor" / "HASH" / "other.zip"
    asset.parent.mkdir(parents=True)
    asset.write_bytes(b"prebuilt")
    assert _facts(root)["aws_lambda_function.fn"]["build"] is None
