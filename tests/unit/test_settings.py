"""Settings are typed, ranged and closed: a bad value is exit 2 naming the file and line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from compliance.errors import InputError
from compliance.settings import SETTINGS_FILE, Settings, load_settings


def _write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "settings.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _error(path: Path, **overrides: object) -> InputError:
    with pytest.raises(InputError) as caught:
        load_settings(path, overrides or None)
    return caught.value


# Issue 10, "Configuration is not validated": each case was accepted before.
BASE = "rto_seconds: 60\nrpo_seconds: 5\npromotion_allowance_seconds: 30\n"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("rto_seconds: 60", "rto_seconds: -60", r"settings\.yaml:1: rto_seconds should be greater"),
        (
            "rto_seconds: 60",
            "rto_seconds: true",
            r"settings\.yaml:1: rto_seconds should be a valid",
        ),
        (
            "rpo_seconds: 5",
            "rpo_seconds: 5\nrequired_tags: Environment",
            r"settings\.yaml:3: "
            r"required_tags should be a valid list \(got \"Environment\"\)",
        ),
        (
            "rto_seconds: 60",
            "rto_seconds: 60\nrto_second: 30",
            r"settings\.yaml:2: unknown key "
            r"'rto_second' \(did you mean 'rto_seconds'\?\)",
        ),
    ],
    ids=["negative-rto", "bool-rto", "tags-as-string", "unknown-key"],
)
def test_issue_10_settings_cases_are_errors(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    error = _error(_write(tmp_path, BASE.replace(old, new)))
    assert re.search(expected, str(error)), str(error)
    assert "fix:" in str(error)


def test_non_utf8_settings_name_file_and_line(tmp_path: Path) -> None:
    error = _error(_write(tmp_path, b"rto_seconds: 60\nrequired_tags: [Env\xe9]\n"))
    assert str(error).startswith(f"{tmp_path / 'settings.yaml'}:2: settings file is not UTF-8")


def test_explicit_missing_settings_file_is_an_error(tmp_path: Path) -> None:
    assert "settings file not found" in str(_error(tmp_path / "absent.yaml"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rpo_seconds: 0\n", "rpo_seconds should be greater than 0"),
        ("rpo_seconds: true\n", "rpo_seconds should be a number"),
        ("rpo_seconds: .nan\n", "rpo_seconds should be a finite number"),
        ("rpo_seconds: '5'\n", "rpo_seconds should be a number"),
        ("rto_seconds: 60.5\n", "rto_seconds should be a valid integer"),
        ("dns_resolver_allowance_seconds: -1\n", "greater than or equal to 0"),
        ("promotion_allowance_seconds: false\n", "should be a number"),
        ("rpo_alarm_fraction: 0\n", "rpo_alarm_fraction should be greater than 0"),
        ("rpo_alarm_fraction: 1.5\n", "rpo_alarm_fraction should be less than or equal to 1"),
        ("watchdog_interval_variable: ''\n", "should not be blank"),
        ("watchdog_threshold_variable: FAILURE THRESHOLD\n", "environment variable name"),
        ("required_tags: [Environment, '']\n", r"required_tags\[1\] should not be blank"),
        ("required_tags: [Environment, 3]\n", r"required_tags\[1\] should be a valid string"),
        ("required_tags: [Owner, Owner]\n", "names Owner more than once"),
        ("waiver_max_days: 0\n", "greater than or equal to 1"),
        ("waiver_max_days: 367\n", "less than or equal to 366"),
        ("waiver_max_days: true\n", "should be a valid integer"),
        ("asset_fixed_timestamp: 1980-01-01T00:00:01\n", "even second"),
        ("asset_fixed_timestamp: 1979-12-31T00:00:00\n", "1980 to 2107"),
        ("asset_fixed_timestamp: 2108-01-01T00:00:00\n", "1980 to 2107"),
        ("asset_fixed_timestamp: 2099-02-30T00:00:00\n", "should be a real ISO date-time"),
        ("asset_fixed_timestamp: 1980-01-01T00:00:00+02:00\n", "no time zone"),
        ("asset_fixed_timestamp: 315532800\n", "should be an ISO date-time"),
        ("- rto_seconds\n", "expected a mapping of setting: value"),
        (
            "rto_seconds: 60\nrto_seconds: 30\n",
            r":2: rto_seconds is written twice \(first at line 1\)",
        ),
        ("rto_seconds: [\n", "not valid YAML"),
    ],
)
def test_bad_values_are_errors(tmp_path: Path, text: str, expected: str) -> None:
    assert re.search(expected, str(_error(_write(tmp_path, text))))


def test_every_problem_is_reported_with_its_line(tmp_path: Path) -> None:
    error = str(_error(_write(tmp_path, "rto_seconds: 60\nrpo_seconds: -1\nwaiver_max_days: 0\n")))
    assert error.startswith(f"{tmp_path / 'settings.yaml'}:2: rpo_seconds")
    assert f"also {tmp_path / 'settings.yaml'}:3: waiver_max_days" in error


def test_defaults_fill_what_the_file_leaves_out(tmp_path: Path) -> None:
    settings = load_settings(_write(tmp_path, "rto_seconds: 120\n"))
    assert settings.rto_seconds == 120
    assert settings.promotion_allowance_seconds == 60
    assert load_settings(_write(tmp_path, "")) == Settings()


def test_as_data_is_what_rego_reads(tmp_path: Path) -> None:
    path = _write(tmp_path, "rpo_seconds: 2.5\nasset_fixed_timestamp: 2000-06-01T12:30:00\n")
    data = load_settings(path).as_data()
    assert data["rpo_seconds"] == 2.5
    assert data["rto_seconds"] == 60 and isinstance(data["rto_seconds"], int)
    assert data["asset_fixed_timestamp"] == "2000-06-01T12:30:00"
    assert data["required_tags"] == ["Environment", "Owner", "DRTier"]


def test_overrides_apply_on_top_and_are_validated(tmp_path: Path) -> None:
    path = _write(tmp_path, "rto_seconds: 120\nrpo_seconds: 10\n")
    settings = load_settings(path, {"rpo_seconds": 2})
    assert (settings.rto_seconds, settings.rpo_seconds) == (120, 2)
    with pytest.raises(InputError, match=r"^pyproject\.toml:7: rpo_seconds should be a number"):
        load_settings(path, {"rpo_seconds": "2"}, overrides_from="pyproject.toml:7")
    with pytest.raises(InputError, match="unknown key 'rpo'"):
        load_settings(path, {"rpo": 2})


def test_the_shipped_file_lists_every_key_with_its_source() -> None:
    text = SETTINGS_FILE.read_text(encoding="utf-8")
    assert set(yaml.safe_load(text)) == set(Settings.model_fields)
    # The comment block above each key says where the value comes from.
    for key in Settings.model_fields:
        block = re.search(rf"((?:^#.*\n)+)(?:^\w+: .*\n)*?^{key}: ", text, re.MULTILINE)
        assert block, key
        assert re.search(r"\bAWS\b|[Oo]rganisation", block.group(1)), key
    assert load_settings(SETTINGS_FILE) == Settings()
