"""The harness learns an app from the app: cdktf.json beside or above, its pyproject table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compliance.app_config import discover
from compliance.errors import InputError
from compliance.settings import load_settings


def _app(folder: Path, *, output: str | None = "cdktf.out", pyproject: str | None = None) -> Path:
    """An app folder with its cdktf.json, one synthesized stack and a source folder."""
    (folder / "infra").mkdir(parents=True)
    (folder / "infra" / "main.py").write_text("app = None\n")
    config = {"language": "python", "app": "python infra/main.py"}
    if output is not None:
        config["output"] = output
    (folder / "cdktf.json").write_text(json.dumps(config))
    stack = folder / (output or "cdktf.out") / "stacks" / "primary"
    stack.mkdir(parents=True)
    (stack / "cdk.tf.json").write_text("{}")
    if pyproject is not None:
        (folder / "pyproject.toml").write_text(pyproject)
    return folder


def _table(body: str) -> str:
    return f'[project]\nname = "their-app"\n\n[tool.dr-compliance]\n{body}\n'


def test_cdktf_json_beside_a_cdktf_out_folder(tmp_path: Path) -> None:
    app = _app(tmp_path / "app")
    config = discover(app / "cdktf.out")
    assert config.found and config.app_dir == app.resolve()
    assert config.app_command == "python infra/main.py"
    assert config.output_dir == (app / "cdktf.out").resolve()
    assert config.source_roots() == [app.resolve()]
    assert config.origins["source"] == "default: the app folder"
    assert config.origins["app_command"] == f"{app.resolve() / 'cdktf.json'}: app"
    assert config.settings_overrides == {} and config.waivers is None and config.policies == ()


def test_cdktf_json_above_a_stack_file(tmp_path: Path) -> None:
    app = _app(tmp_path / "app", output="build/synth")
    config = discover(app / "build" / "synth" / "stacks" / "primary" / "cdk.tf.json")
    assert config.app_dir == app.resolve()
    assert config.output_dir == (app / "build" / "synth").resolve()


def test_no_cdktf_json_means_no_app(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()  # the search stops here, whatever lies above
    output = tmp_path / "out"
    output.mkdir()
    config = discover(output)
    assert not config.found and config.source_roots() == []
    assert config.note == f"no app source found beside or above {output}"


def test_search_stops_at_a_repository_root(tmp_path: Path) -> None:
    # An app above the repository would claim the output; the .git folder ends the search first.
    _app(tmp_path, output="repo/out")
    (tmp_path / "repo" / ".git").mkdir()
    config = discover(tmp_path / "repo" / "out")
    assert not config.found and "no app source found beside or above" in config.note


def test_an_app_at_the_repository_root_is_found(tmp_path: Path) -> None:
    app = _app(tmp_path)
    (app / ".git").mkdir()
    assert discover(app / "cdktf.out").app_dir == app.resolve()


def test_an_app_that_did_not_produce_the_output_is_not_its_app(tmp_path: Path) -> None:
    app = _app(tmp_path / "app")
    fixture = app / "tests" / "fixtures" / "other.tf.json"
    fixture.parent.mkdir(parents=True)
    fixture.write_text("{}")
    config = discover(fixture)
    assert not config.found and config.source_roots() == []
    assert "does not hold it" in config.note


def test_pyproject_table_sets_source_waivers_policies_and_settings(tmp_path: Path) -> None:
    app = _app(
        tmp_path / "app",
        pyproject=_table(
            'source = ["infra", "infra/main.py", "lib"]\n'
            'waivers = "compliance/waivers.yaml"\n'
            'policies = ["compliance/policies"]\n'
            "\n[tool.dr-compliance.settings]\n"
            "rto_seconds = 120\n"
            'required_tags = ["Team"]\n'
            "asset_fixed_timestamp = 1980-01-01T00:00:02"
        ),
    )
    (app / "lib").mkdir()
    (app / "compliance" / "policies").mkdir(parents=True)
    (app / "compliance" / "waivers.yaml").write_text("waivers: []\n")
    config = discover(app / "cdktf.out")
    root = app.resolve()
    # infra/main.py lies inside infra: scanned once.
    assert config.source_roots() == [root / "infra", root / "lib"]
    assert config.waivers == root / "compliance" / "waivers.yaml"
    assert config.policies == (root / "compliance" / "policies",)
    pyproject = root / "pyproject.toml"
    assert config.pyproject == pyproject
    assert config.origins["source"] == f"{pyproject}:5: [tool.dr-compliance] source"
    assert config.origins["settings.rto_seconds"].startswith(f"{pyproject}:10:")
    settings_file = tmp_path / "settings.yaml"
    settings_file.write_text("rpo_seconds: 2\n")
    settings = load_settings(settings_file, config.settings_overrides)
    assert (settings.rto_seconds, settings.rpo_seconds) == (120, 2)
    assert settings.required_tags == ["Team"]
    assert settings.as_data()["asset_fixed_timestamp"] == "1980-01-01T00:00:02"


def test_pyproject_without_the_table_keeps_the_defaults(tmp_path: Path) -> None:
    app = _app(tmp_path / "app", pyproject='[project]\nname = "x"\n')
    config = discover(app / "cdktf.out")
    assert config.pyproject == app.resolve() / "pyproject.toml"
    assert config.source_roots() == [app.resolve()] and config.settings_overrides == {}
    assert config.origins["waivers"] == "default: none from the app"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            'source = "infra"',
            r"pyproject\.toml:5: \[tool\.dr-compliance\] source should be a valid "
            "list",
        ),
        ("source = []", "source list should have at least 1 item"),
        (
            'sources = ["infra"]',
            r":5: \[tool\.dr-compliance\] has unknown key 'sources' \(did you "
            r"mean 'source'\?\)",
        ),
        ('source = ["missing"]', ":5: missing does not exist"),
        ('waivers = "waivers.yaml"', ":5: waivers.yaml does not exist"),
        ('policies = ["infra/main.py"]', "infra/main.py is not a folder"),
        (
            "[tool.dr-compliance.settings]\nrto_seconds = true",
            r":6: \[tool\.dr-compliance\.settings\] rto_seconds should be a valid integer",
        ),
        ("[tool.dr-compliance.settings]\nrto_second = 60", "unknown key 'rto_second'"),
        ('settings = { required_tags = "Owner" }', "required_tags should be a valid list"),
        ("source = [", "not valid TOML"),
    ],
)
def test_bad_tables_are_errors(tmp_path: Path, body: str, expected: str) -> None:
    app = _app(tmp_path / "app", pyproject=_table(body))
    with pytest.raises(InputError, match=expected):
        discover(app / "cdktf.out")


@pytest.mark.parametrize(
    "entry",
    [
        'source = ["../elsewhere"]',
        'source = ["{outside}"]',
        'waivers = "../elsewhere/w.yaml"',
        'policies = ["../elsewhere"]',
        'source = ["escape"]',
    ],
    ids=["relative", "absolute", "waivers", "policies", "symlink"],
)
def test_paths_escaping_the_app_are_errors(tmp_path: Path, entry: str) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "w.yaml").write_text("waivers: []\n")
    app = _app(tmp_path / "app", pyproject=_table(entry.format(outside=outside)))
    (app / "escape").symlink_to(outside, target_is_directory=True)
    with pytest.raises(InputError, match="outside the app folder") as caught:
        discover(app / "cdktf.out")
    assert str(caught.value).startswith(f"{app.resolve() / 'pyproject.toml'}:5:")
    assert str(outside.resolve()) in str(caught.value)


def test_a_symlink_inside_the_app_is_followed(tmp_path: Path) -> None:
    app = _app(tmp_path / "app", pyproject=_table('source = ["current"]'))
    (app / "current").symlink_to(app / "infra", target_is_directory=True)
    (app / "out").symlink_to(tmp_path, target_is_directory=True)
    config = discover(app / "cdktf.out")
    assert config.source_roots() == [(app / "infra").resolve()]
    assert config.contains(app / "current" / "main.py")
    assert not config.contains(app / "out" / "secret")  # the harness reads nothing through it


@pytest.mark.parametrize(
    ("cdktf_json", "expected"),
    [
        ('{"app": ', r"cdktf\.json:1: not valid JSON"),
        ("[]", "expected a JSON object"),
        ('{"app": "x", "output": 3}', '"output" should be a non-empty string'),
    ],
)
def test_bad_cdktf_json_is_an_error(tmp_path: Path, cdktf_json: str, expected: str) -> None:
    app = _app(tmp_path / "app")
    (app / "cdktf.json").write_text(cdktf_json)
    with pytest.raises(InputError, match=expected):
        discover(app / "cdktf.out")


def test_non_utf8_pyproject_is_an_error(tmp_path: Path) -> None:
    app = _app(tmp_path / "app")
    (app / "pyproject.toml").write_bytes(b'[project]\nname = "caf\xe9"\n')
    with pytest.raises(InputError, match=r"pyproject\.toml:2: pyproject\.toml is not UTF-8"):
        discover(app / "cdktf.out")


def test_cdktf_default_output_folder(tmp_path: Path) -> None:
    app = _app(tmp_path / "app", output=None)
    config = discover(app / "cdktf.out")
    assert config.found and config.origins["output"] == "cdktf default (cdktf.out)"


def test_a_missing_checked_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        discover(tmp_path / "nowhere")
