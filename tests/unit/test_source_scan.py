"""DR-SCH-03's facts: plain dicts passed for nested blocks in the checked app's own source."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from compliance.app_config import AppConfig, discover
from compliance.app_files import AppFiles
from compliance.cli import main
from compliance.errors import InputError
from compliance.evaluation import Status
from compliance.mutations.schema import PROJECT_SOURCE, struct_to_dict
from compliance.runner import CheckOptions, run_check
from compliance.source_scan import scan, source_facts

REPO_ROOT = Path(__file__).resolve().parents[2]
DICT_REPLICA = (
    "from cdktf_cdktf_provider_aws.dynamodb_table import DynamodbTable\n"
    "DynamodbTable(scope, 't', name='t', replica=[{'region_name': 'us-west-2'}])\n"
)


def _scan(tmp_path: Path, code: str) -> dict:
    root = tmp_path / "infrastructure"
    root.mkdir(exist_ok=True)
    (root / "stack.py").write_text(textwrap.dedent(code), encoding="utf-8")
    return scan([(root / "stack.py", "infrastructure/stack.py")])


def _flagged(facts: dict) -> list[tuple[str, str, int]]:
    return [(v["call"], v["keyword"], v["line"]) for v in facts["violations"]]


def test_dict_in_a_list_block_is_flagged_at_its_line(tmp_path: Path) -> None:
    facts = _scan(
        tmp_path,
        """
        from cdktf_cdktf_provider_aws.dynamodb_table import DynamodbTable

        DynamodbTable(
            scope, "t", name="t",
            replica=[{"regionName": "us-west-2", "kms_key_arn": "k"}],
        )
        """,
    )
    assert facts["files"] == ["infrastructure/stack.py"] and facts["files_scanned"] == 1
    (violation,) = facts["violations"]
    assert violation == {
        "file": "infrastructure/stack.py",
        "line": 6,
        "call": "DynamodbTable",
        "keyword": "replica",
        "block": "replica",
        "struct": "DynamodbTableReplica",
    }


def test_dict_for_a_single_block_is_flagged_too(tmp_path: Path) -> None:
    facts = _scan(
        tmp_path,
        """
        from cdktf_cdktf_provider_aws.dynamodb_table import DynamodbTable as Table
        Table(scope, "t", name="t", point_in_time_recovery=dict(enabled=True))
        """,
    )
    assert _flagged(facts) == [("DynamodbTable", "point_in_time_recovery", 3)]  # its real name


def test_map_attributes_and_typed_structs_are_not_flagged(tmp_path: Path) -> None:
    facts = _scan(
        tmp_path,
        """
        from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
        from cdktf_cdktf_provider_aws.dynamodb_table import DynamodbTable, DynamodbTableReplica
        from cdktf_cdktf_provider_aws.lambda_function import LambdaFunctionEnvironment

        CloudwatchMetricAlarm(scope, "a", alarm_name="a", dimensions={"TableName": "t"},
                              tags={"Owner": "me"})
        LambdaFunctionEnvironment(variables={"A": "b"})
        DynamodbTable(scope, "t", name="t", tags={"a": "b"},
                      replica=[DynamodbTableReplica(region_name="us-west-2")])
        """,
    )
    assert facts["violations"] == []


def test_struct_keywords_and_module_imports_are_followed(tmp_path: Path) -> None:
    facts = _scan(
        tmp_path,
        """
        import cdktf_cdktf_provider_aws.data_aws_iam_policy_document as iam
        from cdktf_cdktf_provider_aws import route_table
        import cdktf_cdktf_provider_aws

        iam.DataAwsIamPolicyDocumentStatement(
            actions=["s3:*"], principals=[{"type": "AWS", "identifiers": ["*"]}]
        )
        route_table.RouteTable(scope, "r", vpc_id="v", route=[{"cidr_block": "0.0.0.0/0"}])
        cdktf_cdktf_provider_aws.provider.AwsProvider(scope, "aws", default_tags=[{"tags": {}}])
        """,
    )
    assert _flagged(facts) == [
        ("DataAwsIamPolicyDocumentStatement", "principals", 7),
        ("RouteTable", "route", 9),
        ("AwsProvider", "default_tags", 10),
    ]


def test_names_comprehensions_and_setters_are_followed(tmp_path: Path) -> None:
    facts = _scan(
        tmp_path,
        """
        from cdktf_cdktf_provider_aws.dynamodb_table import DynamodbTable

        def build(scope, regions):
            replicas = [{"region_name": region} for region in regions]
            table = DynamodbTable(scope, "t", name="t", replica=replicas)
            table.put_replica([{"region_name": "eu-west-1"}])
            table.put_something({"a": "b"})  # no block of that name anywhere
            return table
        """,
    )
    assert _flagged(facts) == [("DynamodbTable", "replica", 6), (".put_replica", "replica", 7)]


def test_kwargs_expansions_are_read_when_the_source_shows_them(tmp_path: Path) -> None:
    facts = _scan(
        tmp_path,
        """
        from cdktf_cdktf_provider_aws.dynamodb_table import DynamodbTable
        from cdktf_cdktf_provider_aws.rds_cluster import RdsCluster

        def build(scope, is_primary, extra):
            primary_only = {"master_username": "admin", "database_name": "db"} if is_primary else {}
            RdsCluster(scope, "c", engine="aurora-postgresql", **primary_only)
            DynamodbTable(scope, "t", name="t", **{"replica": [{"region_name": "us-west-2"}]})
            DynamodbTable(scope, "u", name="u", **dict(point_in_time_recovery={"enabled": True}))
            DynamodbTable(scope, "v", name="v", **extra)
        """,
    )
    assert _flagged(facts) == [
        ("DynamodbTable", "replica", 8),
        ("DynamodbTable", "point_in_time_recovery", 9),
    ]
    assert facts["unresolved"] == [
        {"file": "infrastructure/stack.py", "line": 10, "call": "DynamodbTable"}
    ]


def test_code_that_does_not_parse_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"stack\.py: line 1: .* never closed"):
        _scan(tmp_path, "x = (\n")


def test_the_projects_own_infrastructure_has_no_plain_dict_block() -> None:
    app = AppConfig(
        checked=REPO_ROOT / "cdktf.out",
        app_dir=REPO_ROOT,
        cdktf_json=REPO_ROOT / "cdktf.json",
        output_dir=REPO_ROOT / "cdktf.out",
        source=(REPO_ROOT / "infrastructure",),
    )
    facts = source_facts(AppFiles.of(REPO_ROOT, app))
    assert facts["violations"] == []
    assert facts["unresolved"] == []  # database.py's **primary_only is read: scalars only
    assert facts["files_scanned"] >= 10
    assert "infrastructure/stacks/global_stack.py" in facts["files"]
    assert facts["roots"] == ["infrastructure"] and facts["note"] is None


# --- Which source belongs to a checked output: the app's own ---------------------------------


def _app(root: Path, pyproject: str | None = None) -> Path:
    """An app folder with a synthesized output (one tiny stack); returns the output."""
    output = root / "cdktf.out"
    output.mkdir(parents=True)
    (root / "cdktf.json").write_text(json.dumps({"app": "python main.py", "output": "cdktf.out"}))
    (output / "app.tf.json").write_text(json.dumps({"resource": {"aws_sns_topic": {"t": {}}}}))
    if pyproject is not None:
        (root / "pyproject.toml").write_text(textwrap.dedent(pyproject))
    return output


def _write(path: Path, text: str = DICT_REPLICA) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _facts(output: Path, **options) -> dict:
    return source_facts(AppFiles.of(output, discover(output)), **options)


def test_the_apps_folder_is_its_source_by_default(tmp_path: Path) -> None:
    output = _app(tmp_path / "app")
    _write(tmp_path / "app" / "main.py", "print('app')\n")
    _write(tmp_path / "app" / "stacks" / "tables.py")
    facts = _facts(output)
    assert facts["files"] == ["main.py", "stacks/tables.py"] and facts["roots"] == ["."]
    assert [(v["file"], v["line"]) for v in facts["violations"]] == [("stacks/tables.py", 2)]
    assert facts["note"] is None


def test_what_is_not_the_apps_source_is_skipped(tmp_path: Path) -> None:
    app = tmp_path / "app"
    output = _app(app)
    _write(app / "main.py", "print('app')\n")
    for skipped in (
        ".venv/lib/site.py",
        "env/lib/mod.py",  # a virtual environment by its pyvenv.cfg, whatever its name
        "cdktf.out/stacks/app/assets/code/handler.py",  # the synthesized output
        "imports/aws/provider.py",  # generated bindings (cdktf get)
        ".gen/aws/provider.py",
        "stacks/__pycache__/tables.py",
        ".hidden/tool.py",
        "examples/other_app/main.py",  # another app, nested in this one
    ):
        _write(app / skipped)
    (app / "env" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (app / "examples" / "other_app" / "cdktf.json").write_text("{}")
    facts = _facts(output)
    assert facts["files"] == ["main.py"] and facts["violations"] == []


def test_the_source_folders_the_pyproject_lists_are_scanned(tmp_path: Path) -> None:
    app = tmp_path / "app"
    output = _app(app, '[tool.dr-compliance]\nsource = ["infra", "main.py"]\n')
    _write(app / "main.py")
    _write(app / "infra" / "net.py")
    _write(app / "scripts" / "deploy.py")  # not listed: not scanned
    facts = _facts(output)
    assert facts["files"] == ["infra/net.py", "main.py"]
    assert facts["roots"] == ["infra", "main.py"]
    assert {v["file"] for v in facts["violations"]} == {"infra/net.py", "main.py"}


def test_a_link_out_of_the_app_is_not_followed(tmp_path: Path) -> None:
    app = tmp_path / "app"
    output = _app(app)
    _write(tmp_path / "elsewhere" / "stolen.py")
    _write(app / "main.py", "print('app')\n")
    (app / "stolen.py").symlink_to(tmp_path / "elsewhere" / "stolen.py")
    (app / "lib").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    assert _facts(output)["files"] == ["main.py"]


def test_no_app_found_means_no_source_and_a_note(tmp_path: Path) -> None:
    lone = tmp_path / "out" / "stack.tf.json"
    lone.parent.mkdir()
    lone.write_text("{}")
    _write(tmp_path / "main.py")  # beside it, but no cdktf.json says it is its app
    facts = _facts(lone)
    assert facts["files"] == [] and facts["violations"] == []
    assert facts["note"].startswith("no app source found beside or above")
    assert "DR-SCH-03 cannot judge the source" in facts["note"]


def test_an_app_without_python_files_says_so(tmp_path: Path) -> None:
    facts = _facts(_app(tmp_path / "app"))
    assert facts["files"] == [] and "no Python file in the app's source (.)" in facts["note"]


def test_no_source_turns_the_scan_off(tmp_path: Path) -> None:
    output = _app(tmp_path / "app")
    _write(tmp_path / "app" / "main.py")
    facts = _facts(output, enabled=False)
    assert facts["files"] == [] and "--no-source" in facts["note"]


def test_an_explicit_source_folder_is_scanned_instead(tmp_path: Path) -> None:
    output = _app(tmp_path / "app")
    _write(tmp_path / "app" / "main.py")
    _write(tmp_path / "other" / "stack.py")
    facts = _facts(output, explicit=tmp_path / "other")
    assert facts["files"] == ["other/stack.py"]  # outside the app: relative to its parent
    inside = _facts(output, explicit=tmp_path / "app")
    assert inside["files"] == ["main.py"]
    with pytest.raises(InputError, match="named by --source does not exist"):
        _facts(output, explicit=tmp_path / "missing")


def test_a_plain_dict_in_the_apps_source_fails_the_requirement(
    synth_dir: Path, tmp_path: Path
) -> None:
    """DR-SCH-03's failing case end to end (the JSON cannot show it)."""
    app = tmp_path / "app"
    shutil.copytree(synth_dir, app / "cdktf.out")
    (app / "cdktf.json").write_text(json.dumps({"app": "python main.py", "output": "cdktf.out"}))
    _write(app / "stacks" / "table.py")
    result = run_check(app / "cdktf.out").result("DR-SCH-03")
    assert result.status is Status.FAILED
    assert [(f.stack, f.address) for f in result.findings] == [("source", "stacks/table.py:2")]
    assert "DynamodbTableReplica(...)" in result.findings[0].message
    unscanned = run_check(app / "cdktf.out", CheckOptions(scan_source=False))
    assert unscanned.result("DR-SCH-03").status is Status.NOT_APPLICABLE
    lone = run_check(synth_dir).result("DR-SCH-03")  # a synth with no app around it
    assert lone.status is Status.NOT_APPLICABLE


def test_the_mutant_rewrites_a_struct_as_a_dict_at_the_keyword_line() -> None:
    text = (PROJECT_SOURCE / "stacks" / "global_stack.py").read_text()
    rewritten, line = struct_to_dict(text, "DynamodbTableReplica")
    assert "DynamodbTableReplica(" not in rewritten.split("replica=[", 1)[1].split("]", 1)[0]
    assert rewritten.splitlines()[line - 1].strip() == "replica=["
    with pytest.raises(ValueError, match="no NoSuchStruct"):
        struct_to_dict(text, "NoSuchStruct")


def test_the_command_lines_source_options_still_work(
    synth_dir: Path, tmp_path: Path, capsys
) -> None:
    source = tmp_path / "infrastructure"
    _write(source / "table.py")
    assert main(["check", str(synth_dir), "--source", str(source), "--format", "json"]) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert {(f["stack"], f["address"]) for f in findings if f["requirement"] == "DR-SCH-03"} == {
        ("source", "infrastructure/table.py:2")
    }
    main(["check", str(synth_dir), "--no-source"])
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("NOT_APPLICABLE") and " DR-SCH-03 " in line for line in lines)
