"""DR-SCH-03's facts: plain dicts passed for nested blocks in the CDKTF source."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from compliance.errors import InputError
from compliance.evaluation import Status
from compliance.model import load_model
from compliance.mutations.schema import struct_to_dict
from compliance.runner import CheckOptions, run_check
from compliance.source_scan import DEFAULT_SOURCE, MARKER, scan, source_facts, source_root


def _scan(tmp_path: Path, code: str) -> dict:
    root = tmp_path / "infrastructure"
    root.mkdir(exist_ok=True)
    (root / "stack.py").write_text(textwrap.dedent(code), encoding="utf-8")
    return scan(root)


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
    facts = source_facts(DEFAULT_SOURCE)
    assert facts["violations"] == []
    assert facts["unresolved"] == []  # database.py's **primary_only is read: scalars only
    assert facts["files_scanned"] >= 10
    assert "infrastructure/stacks/global_stack.py" in facts["files"]


# --- Which source belongs to a checked output ------------------------------------------------


def test_a_cdktf_out_folder_is_this_repositorys_synth(model) -> None:
    assert source_root(model) == DEFAULT_SOURCE
    assert source_root(model, enabled=False) is None


def test_a_single_file_has_no_source_unless_one_is_given(synth_dir: Path, tmp_path: Path) -> None:
    single = load_model(synth_dir / "stacks" / "global" / "cdk.tf.json")
    assert source_root(single) is None
    assert source_root(single, explicit=tmp_path) == tmp_path.resolve()
    with pytest.raises(InputError, match="named by --source does not exist"):
        source_root(single, explicit=tmp_path / "missing")


def test_a_marker_in_the_output_names_its_source(synth_dir: Path, tmp_path: Path) -> None:
    output = tmp_path / "out"
    (output / "app").mkdir(parents=True)
    (output / "stack.tf.json").write_text((synth_dir / "stacks/global/cdk.tf.json").read_text())
    (output / MARKER).write_text(json.dumps({"source": "app"}))
    assert source_root(load_model(output)) == (output / "app").resolve()
    (output / MARKER).write_text("[]")
    with pytest.raises(InputError, match="dr-source.json"):
        source_root(load_model(output))


def test_a_plain_dict_in_the_checked_source_fails_the_requirement(
    synth_dir: Path, tmp_path: Path
) -> None:
    """DR-SCH-03's failing case end to end (the JSON cannot show it)."""
    source = tmp_path / "infrastructure"
    source.mkdir()
    (source / "table.py").write_text(
        "from cdktf_cdktf_provider_aws.dynamodb_table import DynamodbTable\n"
        "DynamodbTable(scope, 't', name='t', replica=[{'region_name': 'us-west-2'}])\n"
    )
    result = run_check(synth_dir, CheckOptions(source=source)).result("DR-SCH-03")
    assert result.status is Status.FAILED
    assert [(f.stack, f.address) for f in result.findings] == [
        ("source", "infrastructure/table.py:2")
    ]
    assert "DynamodbTableReplica(...)" in result.findings[0].message
    unscanned = run_check(synth_dir, CheckOptions(scan_source=False)).result("DR-SCH-03")
    assert unscanned.status is Status.NOT_APPLICABLE


def test_the_mutant_rewrites_a_struct_as_a_dict_at_the_keyword_line() -> None:
    text = (DEFAULT_SOURCE / "stacks" / "global_stack.py").read_text()
    rewritten, line = struct_to_dict(text, "DynamodbTableReplica")
    assert "DynamodbTableReplica(" not in rewritten.split("replica=[", 1)[1].split("]", 1)[0]
    assert rewritten.splitlines()[line - 1].strip() == "replica=["
    with pytest.raises(ValueError, match="no NoSuchStruct"):
        struct_to_dict(text, "NoSuchStruct")
