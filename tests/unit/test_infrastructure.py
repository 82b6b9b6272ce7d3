"""Configuration and asset packaging of the infrastructure app."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from infrastructure.config import DrConfig, HealthCheckKnobs, RegionConfig
from infrastructure.lambda_package import build_zip
from infrastructure.provider_loader import register_lazily


def test_default_design_fits_its_rto_budget() -> None:
    config = DrConfig()
    knobs = config.health_check
    assert knobs.budget_seconds() == (
        knobs.request_interval * knobs.failure_threshold
        + knobs.record_ttl
        + knobs.promotion_allowance
    )
    assert knobs.budget_seconds() <= config.targets.rto_seconds


def test_a_ttl_of_60_cannot_meet_a_60_second_rto() -> None:
    with pytest.raises(ValueError, match="exceeds the RTO target"):
        DrConfig(health_check=HealthCheckKnobs(record_ttl=60))


def test_regions_and_ranges_must_differ() -> None:
    with pytest.raises(ValueError, match="regions must differ"):
        DrConfig(secondary=RegionConfig("us-east-1", "10.99.0.0/16"))
    with pytest.raises(ValueError, match="must not overlap"):
        DrConfig(secondary=RegionConfig("us-west-2", "10.10.0.0/16"))


def test_region_layout() -> None:
    region = RegionConfig("eu-west-1", "10.30.0.0/16")
    assert region.availability_zones == ("eu-west-1a", "eu-west-1b", "eu-west-1c")
    assert [region.subnet_cidr(i) for i in range(3)] == [
        "10.30.0.0/20",
        "10.30.16.0/20",
        "10.30.32.0/20",
    ]
    assert replace(DrConfig(), environment="dev").name_prefix == "dr-dev"


def test_harness_settings_agree_with_the_design() -> None:
    from compliance.settings import load_settings

    settings, config = load_settings(), DrConfig()
    assert settings["rto_seconds"] == config.targets.rto_seconds
    assert settings["rpo_seconds"] == config.targets.rpo_seconds
    assert settings["promotion_allowance_seconds"] == config.health_check.promotion_allowance
    assert sorted(settings["required_tags"]) == sorted(config.tags())


def test_zip_is_reproducible_and_hash_matches(tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "pkg").mkdir(parents=True)
    (source / "handler.py").write_text("def handler(e, c):\n    return 1\n")
    (source / "pkg" / "util.py").write_text("X = 1\n")
    (source / "__pycache__").mkdir()
    (source / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"junk")
    first = build_zip(source, tmp_path / "a.zip")
    (source / "handler.py").touch()  # a newer mtime must not change the bytes
    second = build_zip(source, tmp_path / "b.zip")
    assert first.path.read_bytes() == second.path.read_bytes()
    digest = base64.b64encode(hashlib.sha256(first.path.read_bytes()).digest()).decode()
    assert first.source_code_hash == digest
    with zipfile.ZipFile(first.path) as archive:
        assert archive.namelist() == ["handler.py", "pkg/util.py"]
    (source / "handler.py").write_text("def handler(e, c):\n    return 2\n")
    assert build_zip(source, tmp_path / "c.zip").source_code_hash != first.source_code_hash


def test_zip_of_missing_folder_fails(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="Lambda source folder not found"):
        build_zip(tmp_path / "nope", tmp_path / "x.zip")


def test_lazy_registration_skips_absent_packages() -> None:
    import sys

    register_lazily("no_such_package_for_dr_tests")
    assert "no_such_package_for_dr_tests" not in sys.modules


def test_pinned_requirements_are_vendored(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "handler.py").write_text("import six\n")
    (source / "requirements.txt").write_text("# driver\nsix==1.17.0\n")
    package = build_zip(source, tmp_path / "a.zip")
    with zipfile.ZipFile(package.path) as archive:
        names = archive.namelist()
    assert "six.py" in names and "handler.py" in names
    assert not any(name.endswith(".pyc") for name in names)
    assert build_zip(source, tmp_path / "b.zip").source_code_hash == package.source_code_hash


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("six>=1", "not an exact pin"),
        ("six==0.1", "the pin says 0.1"),
        ("no-such-dist==1.0", "is not installed"),
    ],
)
def test_bad_vendored_pins_fail(tmp_path: Path, line: str, error: str) -> None:
    (tmp_path / "requirements.txt").write_text(line + "\n")
    with pytest.raises(ValueError, match=error):
        build_zip(tmp_path, tmp_path / "out" / "x.zip")


def test_health_check_zip_carries_its_driver(tmp_path: Path) -> None:
    from infrastructure.lambda_package import LAMBDA_ROOT

    package = build_zip(LAMBDA_ROOT / "health_check", tmp_path / "hc.zip")
    with zipfile.ZipFile(package.path) as archive:
        names = archive.namelist()
    assert "handler.py" in names and "pg8000/native.py" in names and "scramp/core.py" in names
