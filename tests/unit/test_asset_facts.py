"""The asset facts (DR-AST-01/02): where a function's file is, what it hashes to, how it is built.

Learnt from the checked output and the app that produced it, never from this
repository's own sources.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

from compliance import facts
from compliance.app_config import AppConfig, discover
from compliance.app_files import AppFiles
from compliance.archives import iso
from compliance.facts import asset_facts, base64_sha256
from compliance.model import Model, load_model

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXED = (1980, 1, 1, 0, 0, 0)


def _output(root: Path, functions: dict[str, dict[str, Any]]) -> Path:
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


def _app(root: Path, functions: dict[str, dict[str, Any]]) -> Path:
    """An app folder (``cdktf.json``) whose output is ``cdktf.out``; returns the output."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "cdktf.json").write_text(json.dumps({"app": "python main.py", "output": "cdktf.out"}))
    return _output(root / "cdktf.out", functions)


def _facts(output: Path) -> dict[str, Any]:
    result: dict[str, Any] = asset_facts(load_model(output))["app"]
    return result


def _zip(path: Path, entries: dict[str, bytes], *, when=FIXED, mode: int = 0o644) -> Path:
    """A zip written entry by entry, in the given order, with one timestamp and mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name, when)
            info.external_attr = mode << 16
            archive.writestr(info, data)
    return path


ASSET = "assets/fn_code/HASH/fn.zip"


def _asset(output: Path) -> Path:
    return output / "stacks" / "app" / ASSET


# --- Where the file is, and what it hashes to (DR-AST-01) ---------------------------------


def test_project_functions_resolve_hash_and_are_built_reproducibly(model: Model) -> None:
    found = asset_facts(model)
    functions = {
        (r.stack, r.address): r.values for r in model.resources() if r.type == "aws_lambda_function"
    }
    assert len(functions) == 3
    for (stack, address), values in functions.items():
        fact = found[stack][address]
        assert fact["exists"] and fact["resolved"] and fact["inside"], fact
        assert not fact["absolute"] and fact["machine_specific"] is None
        assert fact["sha256_base64"] == values["source_code_hash"]
        archive = fact["archive"]
        assert archive["error"] is None and archive["unsorted"] is None, archive
        assert [t["timestamp"] for t in archive["timestamps"]] == ["1980-01-01T00:00:00"]
        assert {m["mode"] for m in archive["modes"]} == {"0644"}


def test_this_repositorys_failover_zip_is_its_lambda_folder_as_it_is_now(model: Model) -> None:
    """Checked as the app it is (cdktf.json at the repository root), the asset is current."""
    app = AppConfig(
        checked=model.source,
        app_dir=REPO_ROOT,
        cdktf_json=REPO_ROOT / "cdktf.json",
        output_dir=REPO_ROOT / "cdktf.out",
        source=(REPO_ROOT,),
    )
    found = asset_facts(model, AppFiles.of(model.source, app))
    archives = [
        fact["archive"]
        for by_address in found.values()
        for address, fact in by_address.items()
        if "failover" in address
    ]
    assert archives and all(a["source"] == "lambda/failover" for a in archives), archives
    assert all(a["stale"] == [] for a in archives)


def test_relative_paths_resolve_from_the_stack_working_directory(tmp_path: Path) -> None:
    output = _output(
        tmp_path / "out",
        {
            "here": {"filename": "code/fn.zip"},
            "module": {"filename": "${path.module}/code/fn.zip"},
            "missing": {"filename": "lambda/fn.zip"},
            "computed": {"filename": "${var.zip}"},
        },
    )
    code = output / "stacks" / "app" / "code"
    code.mkdir()
    (code / "fn.zip").write_bytes(b"zip bytes")
    found = _facts(output)
    here = found["aws_lambda_function.here"]
    assert here["exists"] and here["inside"] and not here["absolute"]
    assert here["sha256_base64"] == base64_sha256(b"zip bytes")
    assert here["archive"] is None  # not under assets/: prebuilt, not judged by DR-AST-02
    assert found["aws_lambda_function.module"]["exists"]
    missing = found["aws_lambda_function.missing"]
    assert missing["resolved"] and missing["inside"] and not missing["exists"]
    assert missing["sha256_base64"] is None
    computed = found["aws_lambda_function.computed"]
    assert not computed["resolved"] and computed["inside"] is None and not computed["exists"]


def test_absolute_paths_say_which_machine_folder_they_point_into(tmp_path: Path) -> None:
    inside = tmp_path / "out" / "stacks" / "app" / "fn.zip"
    with tempfile.NamedTemporaryFile(suffix=".zip") as temporary:
        output = _output(
            tmp_path / "out",
            {"inside": {"filename": str(inside)}, "temp": {"filename": temporary.name}},
        )
        inside.write_bytes(b"x")
        found = _facts(output)
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


def test_a_file_outside_the_output_and_the_app_is_never_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "elsewhere" / "secret.zip"
    secret.parent.mkdir()
    secret.write_bytes(b"not yours")
    output = _app(
        tmp_path / "app",
        {
            "absolute": {"filename": str(secret)},
            "climbing": {"filename": "../../../../elsewhere/secret.zip"},
        },
    )
    (output / "stacks" / "app" / "link.zip").symlink_to(secret)
    document = json.loads((output / "stacks" / "app" / "cdk.tf.json").read_text())
    document["resource"]["aws_lambda_function"]["linked"] = {"filename": "link.zip"}
    (output / "stacks" / "app" / "cdk.tf.json").write_text(json.dumps(document))
    opened: list[Path] = []
    real_open = Path.open

    def spying_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        opened.append(self.resolve())
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", spying_open)
    found = _facts(output)
    for name in ("absolute", "climbing", "linked"):
        fact = found[f"aws_lambda_function.{name}"]
        assert fact["resolved"] and fact["inside"] is False, (name, fact)
        assert not fact["exists"] and fact["sha256_base64"] is None
        assert fact["resolved_to"] == str(secret.resolve())
    assert secret.resolve() not in opened


def test_only_regular_files_are_hashed(tmp_path: Path) -> None:
    output = _output(tmp_path / "out", {"fifo": {"filename": "code.zip"}})
    os.mkfifo(output / "stacks" / "app" / "code.zip")  # reading it would block
    fact = _facts(output)["aws_lambda_function.fifo"]
    assert fact["inside"] and not fact["exists"] and fact["sha256_base64"] is None


def test_how_source_code_hash_is_written(tmp_path: Path) -> None:
    same = '${filebase64sha256("${path.module}/fn.zip")}'
    output = _output(
        tmp_path / "out",
        {
            "same": {"filename": "fn.zip", "source_code_hash": same},
            "plain": {"filename": "fn.zip", "source_code_hash": '${filebase64sha256("fn.zip")}'},
            "other": {"filename": "fn.zip", "source_code_hash": '${filebase64sha256("x.zip")}'},
            "literal": {"filename": "fn.zip", "source_code_hash": "abc="},
            "etag": {"filename": "fn.zip", "source_code_hash": "${aws_s3_object.code.etag}"},
            "unset": {"filename": "fn.zip"},
        },
    )
    (output / "stacks" / "app" / "fn.zip").write_bytes(b"x")
    found = _facts(output)

    def form(name: str) -> tuple[str | None, bool | None]:
        fact = found[f"aws_lambda_function.{name}"]
        return fact["hash_form"], fact["hash_file_same"]

    assert form("same") == ("file", True)
    assert form("plain") == ("file", True)
    assert form("other") == ("file", False)
    assert form("literal") == ("literal", None)
    assert form("etag") == ("expression", None)
    assert form("unset") == (None, None)


# --- How a synthesized zip was built (DR-AST-02) -------------------------------------------


def _archive_fact(output: Path) -> dict[str, Any]:
    result: dict[str, Any] = _facts(output)["aws_lambda_function.fn"]["archive"]
    return result


def test_a_reproducible_zip_matching_its_source_folder(tmp_path: Path) -> None:
    output = _app(tmp_path / "app", {"fn": {"filename": ASSET}})
    source = tmp_path / "app" / "functions" / "fn"
    (source / "pkg").mkdir(parents=True)
    (source / "handler.py").write_text("def handler(e, c):\n    return 1\n")
    (source / "pkg" / "util.py").write_text("X = 1\n")
    (source / "__pycache__").mkdir()
    (source / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"\0")  # not source
    entries = {
        "handler.py": (source / "handler.py").read_bytes(),
        "pkg/util.py": (source / "pkg" / "util.py").read_bytes(),
    }
    _zip(_asset(output), entries)
    archive = _archive_fact(output)
    assert archive == {
        "path": f"stacks/app/{ASSET}",
        "error": None,
        "entries": 2,
        "unsorted": None,
        "timestamps": [{"timestamp": "1980-01-01T00:00:00", "count": 2, "entry": "handler.py"}],
        "modes": [{"kind": "file", "mode": "0644", "count": 2, "entry": "handler.py"}],
        "source": "functions/fn",
        "stale": [],
    }
    (source / "pkg" / "util.py").write_text("X = 2\n")
    assert _archive_fact(output)["stale"] == ["pkg/util.py"]


def test_the_folder_that_matches_is_chosen_among_namesakes(tmp_path: Path) -> None:
    output = _app(tmp_path / "app", {"fn": {"filename": ASSET}})
    for name in ("api", "health"):
        folder = tmp_path / "app" / "functions" / name
        folder.mkdir(parents=True)
        (folder / "handler.py").write_text(f"NAME = {name!r}\n")
    _zip(_asset(output), {"handler.py": b"NAME = 'health'\n"})
    archive = _archive_fact(output)
    assert (archive["source"], archive["stale"]) == ("functions/health", [])
    _zip(_asset(output), {"handler.py": b"NAME = 'old'\n"})
    archive = _archive_fact(output)
    assert (archive["source"], archive["stale"]) == ("functions/api", ["handler.py"])


def test_no_folder_with_exactly_the_entries_means_no_comparison(tmp_path: Path) -> None:
    output = _app(tmp_path / "app", {"fn": {"filename": ASSET}})
    folder = tmp_path / "app" / "src" / "fn"
    folder.mkdir(parents=True)
    (folder / "handler.py").write_text("old\n")
    (folder / "README.md").write_text("extra file: not exactly the entries\n")
    _zip(_asset(output), {"handler.py": b"new\n"})
    assert (_archive_fact(output)["source"], _archive_fact(output)["stale"]) == (None, [])


def test_copies_in_outputs_environments_and_other_apps_are_not_the_source(tmp_path: Path) -> None:
    output = _app(tmp_path / "app", {"fn": {"filename": ASSET}})
    data = b"print('hi')\n"
    for where in (".venv/lib/fn", "env/fn", "cdktf.out/stacks/app/fn", "nested/fn", "imports/fn"):
        folder = tmp_path / "app" / where
        folder.mkdir(parents=True)
        (folder / "main.py").write_bytes(b"something else\n")
    (tmp_path / "app" / "env" / "pyvenv.cfg").write_text("home = /usr\n")
    (tmp_path / "app" / "nested" / "cdktf.json").write_text("{}")
    _zip(_asset(output), {"main.py": data})
    assert _archive_fact(output)["source"] is None


def test_build_machine_timestamps_order_and_modes_are_read(tmp_path: Path) -> None:
    output = _output(tmp_path / "out", {"fn": {"filename": ASSET}})
    path = _asset(output)
    path.parent.mkdir(parents=True)
    with zipfile.ZipFile(path, "w") as archive:
        late = zipfile.ZipInfo("window.py", (2026, 12, 2, 0, 44, 52))
        late.external_attr = 0o664 << 16
        archive.writestr(late, b"w")
        folder = zipfile.ZipInfo("pkg/", FIXED)
        folder.external_attr = (0o40775 << 16) | 0x10
        archive.writestr(folder, b"")
        archive.writestr(zipfile.ZipInfo("handler.py", FIXED), b"h")
        archive.getinfo("handler.py").external_attr = 0  # no permissions recorded
    archive = _archive_fact(output)
    assert archive["unsorted"] == ["window.py", "pkg/"]
    assert [(t["timestamp"], t["count"]) for t in archive["timestamps"]] == [
        ("1980-01-01T00:00:00", 2),
        ("2026-12-02T00:44:52", 1),
    ]
    assert {(m["kind"], m["mode"], m["entry"]) for m in archive["modes"]} == {
        ("file", "0664", "window.py"),
        ("folder", "0775", "pkg/"),
        ("file", None, "handler.py"),
    }


def test_zipfile_write_records_the_files_own_times_and_modes(tmp_path: Path) -> None:
    """The common non-reproducible build: ZipFile.write of each file as it is on disk."""
    output = _output(tmp_path / "out", {"fn": {"filename": ASSET}})
    handler = tmp_path / "handler.py"
    handler.write_text("x = 1\n")
    os.utime(handler, (1_767_225_600, 1_767_225_600))  # 2026-01-01, not the fixed date
    _asset(output).parent.mkdir(parents=True)
    with zipfile.ZipFile(_asset(output), "w") as archive:
        archive.write(handler, "handler.py")
    moments = [t["timestamp"] for t in _archive_fact(output)["timestamps"]]
    assert moments and "1980-01-01T00:00:00" not in moments


def test_extended_timestamps_count_as_timestamps(tmp_path: Path) -> None:
    """Info-ZIP's UT field keeps the file's time even when the DOS field is fixed."""
    output = _output(tmp_path / "out", {"fn": {"filename": ASSET}})
    _asset(output).parent.mkdir(parents=True)
    with zipfile.ZipFile(_asset(output), "w") as archive:
        info = zipfile.ZipInfo("handler.py", FIXED)
        info.external_attr = 0o644 << 16
        info.extra = b"UT\x05\x00\x01" + (1_767_225_600).to_bytes(4, "little")
        archive.writestr(info, b"h")
    moments = {t["timestamp"] for t in _archive_fact(output)["timestamps"]}
    assert moments == {"1980-01-01T00:00:00", "2026-01-01T00:00:00"}


def test_a_file_that_is_not_a_zip_is_reported(tmp_path: Path) -> None:
    output = _output(tmp_path / "out", {"fn": {"filename": ASSET}})
    _asset(output).parent.mkdir(parents=True)
    _asset(output).write_bytes(b"not a zip")
    archive = _archive_fact(output)
    assert archive["error"].startswith("not a readable zip archive")


def test_zips_outside_the_assets_folder_are_prebuilt(tmp_path: Path) -> None:
    output = _app(tmp_path / "app", {"fn": {"filename": "../../../dist/fn.zip"}})
    _zip(
        tmp_path / "app" / "dist" / "fn.zip", {"b.py": b"", "a.py": b""}, when=(2026, 1, 1, 0, 0, 0)
    )
    fact = _facts(output)["aws_lambda_function.fn"]
    assert fact["inside"] and fact["exists"] and fact["archive"] is None


def test_iso_is_the_settings_form() -> None:
    assert iso(FIXED) == "1980-01-01T00:00:00"


def test_compute_facts_learns_the_app_from_the_output(tmp_path: Path) -> None:
    output = _app(tmp_path / "app", {"fn": {"filename": ASSET}})
    _zip(_asset(output), {"handler.py": b"x\n"})
    (tmp_path / "app" / "fn").mkdir()
    (tmp_path / "app" / "fn" / "handler.py").write_text("x\n")
    model = load_model(output)
    found = facts.compute_facts(model, discover(output), scan_source=False)
    assert found["assets"]["app"]["aws_lambda_function.fn"]["archive"]["source"] == "fn"
    assert facts.compute_facts(model, scan_source=False)["assets"] == found["assets"]
