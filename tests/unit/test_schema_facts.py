"""The provider schema, derived offline from the installed bindings' jsii assembly."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from compliance import schema as provider_schema
from compliance.errors import InputError
from compliance.schema import (
    Assembly,
    ProviderSchema,
    load_schema,
    locate_assembly,
    python_name,
    schema_facts,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def schema() -> ProviderSchema:
    """The real schema of the installed provider (from the repository's cache)."""
    return load_schema()


def _table(schema: ProviderSchema) -> dict[str, Any]:
    return schema.resources["aws_dynamodb_table"]


def test_versions_are_those_of_the_pinned_package(schema: ProviderSchema) -> None:
    assert schema.bindings_version == "21.22.1"
    assert schema.provider_version == "6.25.0"
    assert len(schema.resources) > 1500 and len(schema.data_sources) > 600


def test_replica_is_a_list_block_that_requires_region_name(schema: ProviderSchema) -> None:
    replica = _table(schema)["blocks"]["replica"]
    assert replica["list"] is True and replica["required"] is False
    assert replica["struct"] == "DynamodbTableReplica"
    assert replica["schema"]["attributes"]["region_name"] == {"required": True}
    assert replica["schema"]["attributes"]["kms_key_arn"] == {"required": False}
    assert replica["schema"]["required"] == ["region_name"]


def test_point_in_time_recovery_is_a_single_block(schema: ProviderSchema) -> None:
    pitr = _table(schema)["blocks"]["point_in_time_recovery"]
    assert pitr["list"] is False
    assert pitr["schema"]["attributes"]["enabled"] == {"required": True}
    # In a replica, point_in_time_recovery is a plain boolean argument.
    assert "point_in_time_recovery" in _table(schema)["blocks"]["replica"]["schema"]["attributes"]


def test_global_secondary_index_requires_hash_key_and_projection_type(
    schema: ProviderSchema,
) -> None:
    index = _table(schema)["blocks"]["global_secondary_index"]["schema"]
    assert {"hash_key", "name", "projection_type"} <= set(index["required"])
    assert index["attributes"]["range_key"] == {"required": False}


def test_failover_routing_policy_requires_type(schema: ProviderSchema) -> None:
    record = schema.resources["aws_route53_record"]
    policy = record["blocks"]["failover_routing_policy"]
    assert policy["list"] is False
    assert policy["schema"]["required"] == ["type"]
    assert {"name", "type", "zone_id"} <= set(record["required"])


def test_maps_are_attributes_not_blocks(schema: ProviderSchema) -> None:
    alarm = schema.resources["aws_cloudwatch_metric_alarm"]
    assert "dimensions" in alarm["attributes"] and "tags" in alarm["attributes"]
    environment = schema.resources["aws_lambda_function"]["blocks"]["environment"]
    assert "variables" in environment["schema"]["attributes"]


def test_meta_arguments_are_not_in_the_schema(schema: ProviderSchema) -> None:
    table = _table(schema)
    names = set(table["attributes"]) | set(table["blocks"])
    assert not names & {"count", "depends_on", "for_each", "lifecycle", "provider", "connection"}


def test_terraform_names_come_from_the_docs_not_snake_case(schema: ProviderSchema) -> None:
    contact = schema.resources["aws_account_primary_contact"]["attributes"]
    assert "address_line_1" in contact and "address_line1" not in contact


def test_python_classes_name_their_block_keywords(schema: ProviderSchema) -> None:
    table = schema.classes["dynamodb_table.DynamodbTable"]["blocks"]
    assert table["replica"] == {"block": "replica", "list": True, "struct": "DynamodbTableReplica"}
    assert "tags" not in table
    statement = schema.classes["data_aws_iam_policy_document.DataAwsIamPolicyDocumentStatement"]
    assert statement["blocks"]["principals"]["list"] is True
    assert "default_tags" in schema.classes["provider.AwsProvider"]["blocks"]
    assert "replica" in schema.block_keywords


def test_facts_hold_only_the_types_present(schema: ProviderSchema) -> None:
    facts = schema_facts(
        ["aws_dynamodb_table", "aws_dynamodb_tabel", "random_id"],
        ["aws_iam_policy_document", "terraform_remote_state", "aws_no_such_thing"],
        schema=schema,
    )
    assert facts["provider_version"] == "6.25.0" and facts["bindings_version"] == "21.22.1"
    assert list(facts["resources"]) == ["aws_dynamodb_table"]
    assert list(facts["data_sources"]) == ["aws_iam_policy_document"]
    assert facts["unknown_types"] == ["aws_dynamodb_tabel"]
    assert facts["unknown_data_sources"] == ["aws_no_such_thing"]
    assert facts["other_provider_types"] == ["random_id", "terraform_remote_state"]


def _depth(node: dict[str, Any]) -> int:
    return max((1 + _depth(b["schema"]) for b in node["blocks"].values()), default=0)


def test_rego_unrolls_at_least_as_deep_as_the_provider_nests(schema: ProviderSchema) -> None:
    deepest = max(
        _depth(table[name]) for table in (schema.resources, schema.data_sources) for name in table
    )
    rego = (REPO_ROOT / "policies" / "schema" / "blocks.rego").read_text(encoding="utf-8")
    unrolled = int(re.search(r"^depth := (\d+)$", rego, re.MULTILINE).group(1))
    levels = len(re.findall(r"^_level_\d+ := _children", rego, re.MULTILINE))
    assert levels == unrolled >= deepest, (levels, unrolled, deepest)


@pytest.mark.parametrize(
    ("jsii", "python"),
    [
        ("regionName", "region_name"),
        ("addressLine1", "address_line1"),
        ("ipv6CidrBlock", "ipv6_cidr_block"),
        ("routingHttpRequestXAmznMtlsClientcertHeaderName",
         "routing_http_request_x_amzn_mtls_clientcert_header_name"),
        ("lambda", "lambda_"),
    ],
)  # fmt: skip
def test_python_keyword_names_follow_jsii(jsii: str, python: str) -> None:
    assert python_name(jsii) == python


# --- Derivation and cache, on a small hand-made assembly -----------------------------------

_LINK = "{@link https://registry.terraform.io/providers/hashicorp/aws/9.9.9/docs/resources/%s %s}"
_PROP = "Docs at Terraform Registry: {@link https://x/docs/resources/thing#%s Thing#%s}."


def _prop(name: str, terraform: str, type_: dict[str, Any], optional: bool = True) -> dict:
    found = {"name": name, "type": type_, "docs": {"summary": _PROP % (terraform, terraform)}}
    return {**found, "optional": True} if optional else found


def _fake_assembly(folder: Path, version: str = "0.0.1", readme: str = "") -> Assembly:
    """A jsii assembly with one resource: a single block, a list block, a map of structs."""
    ns = "@cdktf/provider-aws.thing"
    struct = {"kind": "interface", "datatype": True, "namespace": "thing"}
    rules = {"kind": "array", "elementtype": {"fqn": f"{ns}.ThingRule"}}
    array_of = {"union": {"types": [{"fqn": "cdktf.IResolvable"}, {"collection": rules}]}}
    types = {
        f"{ns}.Thing": {
            "kind": "class",
            "base": "cdktf.TerraformResource",
            "name": "Thing",
            "namespace": "thing",
            "docs": {"summary": "Represents a " + _LINK % ("thing", "aws_thing") + "."},
            "initializer": {
                "parameters": [{"name": "config", "type": {"fqn": f"{ns}.ThingConfig"}}]
            },
        },
        f"{ns}.ThingConfig": {
            **struct,
            "name": "ThingConfig",
            "interfaces": ["cdktf.TerraformMetaArguments", f"{ns}.ThingBase"],
            "properties": [
                _prop("addressLine1", "address_line_1", {"primitive": "string"}, optional=False),
                _prop("settings", "settings", {"fqn": f"{ns}.ThingSettings"}),
                _prop("rule", "rule", array_of),
                _prop(
                    "byName",
                    "by_name",
                    {"collection": {"kind": "map", "elementtype": {"fqn": f"{ns}.ThingRule"}}},
                ),
            ],
        },
        f"{ns}.ThingBase": {
            **struct,
            "name": "ThingBase",
            "properties": [_prop("inherited", "inherited", {"primitive": "string"})],
        },
        f"{ns}.ThingSettings": {
            **struct,
            "name": "ThingSettings",
            "properties": [_prop("enabled", "enabled", {"primitive": "boolean"}, optional=False)],
        },
        f"{ns}.ThingRule": {
            **struct,
            "name": "ThingRule",
            "properties": [_prop("cidrBlock", "cidr_block", {"primitive": "string"})],
        },
    }
    document = json.dumps(
        {"name": "@cdktf/provider-aws", "version": version, "readme": readme, "types": types}
    )
    path = folder / f"provider-aws@{version}.jsii.tgz"
    with tarfile.open(path, "w:gz") as archive:
        data = document.encode()
        info = tarfile.TarInfo("package/.jsii")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return Assembly(path, version)


def test_derive_reads_blocks_names_and_optionality(tmp_path: Path) -> None:
    derived = provider_schema.derive(_fake_assembly(tmp_path))
    thing = derived["resources"]["aws_thing"]
    assert derived["provider_version"] == "9.9.9" and derived["bindings_version"] == "0.0.1"
    assert thing["attributes"] == {
        "address_line_1": {"required": True},
        "by_name": {"required": False},  # a map of structs takes any key: an attribute
        "inherited": {"required": False},  # from the struct the config extends
    }
    assert thing["blocks"]["settings"]["list"] is False
    assert thing["blocks"]["settings"]["schema"]["required"] == ["enabled"]
    assert thing["blocks"]["rule"]["list"] is True
    assert thing["required"] == ["address_line_1"]
    assert derived["classes"]["thing.Thing"]["blocks"]["settings"]["struct"] == "ThingSettings"


def test_second_load_reads_the_cache_not_the_assembly(tmp_path: Path, monkeypatch) -> None:
    assembly = _fake_assembly(tmp_path)
    cache_dir = tmp_path / "cache"
    first = load_schema(assembly, cache_dir)
    cached = cache_dir / "provider-aws-0.0.1.json"
    assert cached.is_file()
    assert json.loads(cached.read_text())["fingerprint"] == assembly.fingerprint

    def no_parse(_: Assembly) -> dict[str, Any]:
        raise AssertionError("the assembly was parsed again")

    monkeypatch.setattr(provider_schema, "derive", no_parse)
    provider_schema._load.cache_clear()  # a new process: nothing in memory
    second = load_schema(assembly, cache_dir)
    assert second.resources["aws_thing"] == first.resources["aws_thing"]
    assert second.classes["thing.Thing"] == first.classes["thing.Thing"]


def test_a_changed_assembly_is_derived_again(tmp_path: Path, monkeypatch) -> None:
    cache_dir = tmp_path / "cache"
    load_schema(_fake_assembly(tmp_path), cache_dir)
    changed = _fake_assembly(tmp_path, readme="x" * 4096)  # same path, another size
    calls = []
    real = provider_schema.derive
    monkeypatch.setattr(provider_schema, "derive", lambda a: calls.append(a) or real(a))
    load_schema(changed, cache_dir)
    assert len(calls) == 1


def test_unreadable_cache_is_derived_again(tmp_path: Path) -> None:
    assembly = _fake_assembly(tmp_path)
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    (cache_dir / "provider-aws-0.0.1.json").write_text("{half a file")
    assert "aws_thing" in load_schema(assembly, cache_dir).resources


def test_missing_package_names_the_pip_command(monkeypatch) -> None:
    monkeypatch.setattr(provider_schema.importlib.util, "find_spec", lambda _: None)
    with pytest.raises(InputError) as error:
        locate_assembly()
    assert "pip install cdktf-cdktf-provider-aws==21.22.1" in str(error.value)


def test_package_without_an_assembly_is_bad_input(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "_jsii").mkdir()

    class Spec:
        submodule_search_locations = [str(tmp_path)]

    monkeypatch.setattr(provider_schema.importlib.util, "find_spec", lambda _: Spec())
    with pytest.raises(InputError, match="no provider-aws@<version>.jsii.tgz"):
        locate_assembly()


def test_corrupt_assembly_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "provider-aws@0.0.2.jsii.tgz"
    path.write_bytes(b"not a tarball")
    with pytest.raises(InputError, match="cannot read package/.jsii"):
        provider_schema.derive(Assembly(path, "0.0.2"))


def test_the_installed_package_is_located_without_importing_it() -> None:
    """Importing the bindings costs 10+ s and ~1 GB: the schema must not."""
    code = (
        "import sys; from compliance.schema import locate_assembly; a = locate_assembly(); "
        "print(a.path.name, 'cdktf_cdktf_provider_aws' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["provider-aws@21.22.1.jsii.tgz", "False"]
