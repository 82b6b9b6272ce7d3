"""The provider schema, derived offline from the installed bindings' jsii assembly."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest

from compliance import cache
from compliance import schema as provider_schema
from compliance.errors import InputError
from compliance.schema import (
    FORMAT,
    Assembly,
    ProviderSchema,
    cache_file,
    load_schema,
    locate_assembly,
    python_name,
    schema_facts,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def schema() -> ProviderSchema:
    """The real schema of the installed provider (from the user's cache, else derived)."""
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


def _never_derive(_: Assembly) -> dict[str, Any]:
    raise AssertionError("the assembly was derived again")


def test_second_load_reads_the_cache_not_the_assembly(tmp_path: Path, monkeypatch) -> None:
    assembly = _fake_assembly(tmp_path)
    cache_dir = tmp_path / "cache"
    first = load_schema(assembly, cache_dir)
    cached = cache_file(assembly, cache_dir)
    assert cached.is_file()
    assert json.loads(cached.read_text())["fingerprint"] == assembly.fingerprint

    monkeypatch.setattr(provider_schema, "derive", _never_derive)
    provider_schema._load.cache_clear()  # a new process: nothing in memory
    second = load_schema(assembly, cache_dir)
    assert second.resources["aws_thing"] == first.resources["aws_thing"]
    assert second.classes["thing.Thing"] == first.classes["thing.Thing"]


def test_the_key_is_the_package_version_and_the_assemblys_sha256(tmp_path: Path) -> None:
    assembly = _fake_assembly(tmp_path)
    sha = hashlib.sha256(assembly.path.read_bytes()).hexdigest()
    assert assembly.fingerprint == sha
    assert assembly.cache_key == f"provider-aws-0.0.1-{sha[:32]}-f{FORMAT}.json"


def test_every_environment_with_the_same_package_shares_one_entry(
    tmp_path: Path, monkeypatch
) -> None:
    """Two tox environments (two sys.prefix values, two copies of one package): one derivation."""
    made = _fake_assembly(tmp_path)
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "user-cache"))
    found = []
    for env in ("py", "compliance"):
        prefix = tmp_path / ".tox" / env
        jsii = prefix / "lib" / "python3.11" / "site-packages" / provider_schema.PACKAGE / "_jsii"
        jsii.mkdir(parents=True)
        monkeypatch.setattr(sys, "prefix", str(prefix))
        monkeypatch.setattr(sys, "executable", str(prefix / "bin" / "python"))
        assembly = Assembly(Path(shutil.copy2(made.path, jsii)), made.version)
        found.append((cache_file(assembly), load_schema(assembly).resources["aws_thing"]))
        monkeypatch.setattr(provider_schema, "derive", _never_derive)  # the second must hit
        provider_schema._load.cache_clear()
    assert found[0] == found[1]
    assert found[0][0].parent == tmp_path / "user-cache" / "schema"
    assert ".tox" not in found[0][0].name and "python" not in found[0][0].name


def test_a_changed_assembly_is_derived_again(tmp_path: Path, monkeypatch) -> None:
    cache_dir = tmp_path / "cache"
    first = _fake_assembly(tmp_path, readme="x" * 4096)
    load_schema(first, cache_dir)
    size = first.path.stat().st_size
    changed = _fake_assembly(tmp_path, readme="y" * 4096)  # same path; the bytes differ
    assert changed.path.stat().st_size == size  # a path-and-size key would have missed it
    calls = []
    real = provider_schema.derive
    monkeypatch.setattr(provider_schema, "derive", lambda a: calls.append(a) or real(a))
    load_schema(changed, cache_dir)
    assert len(calls) == 1


def test_unreadable_cache_is_derived_again(tmp_path: Path) -> None:
    assembly = _fake_assembly(tmp_path)
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    cache_file(assembly, cache_dir).write_text("{half a file")
    assert "aws_thing" in load_schema(assembly, cache_dir).resources
    assert json.loads(cache_file(assembly, cache_dir).read_text())["format"] == FORMAT


def test_a_killed_derivations_leftover_is_not_trusted_and_is_swept(tmp_path: Path) -> None:
    assembly = _fake_assembly(tmp_path)
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    leftover = cache_dir / f"{cache.temporary_name(assembly.cache_key)}abcd1234"
    leftover.write_text('{"format": ')  # killed mid-write: only ever under a temporary name
    then = time.time() - cache.STALE_SECONDS - 60
    os.utime(leftover, (then, then))
    assert "aws_thing" in load_schema(assembly, cache_dir).resources
    assert not leftover.exists()
    assert sorted(p.name for p in cache_dir.iterdir()) == [".locks", assembly.cache_key]

    leftover.write_text('{"format": ')  # and once the entry exists, a run that hits sweeps too
    os.utime(leftover, (then, then))
    provider_schema._load.cache_clear()
    load_schema(assembly, cache_dir)
    assert not leftover.exists()


_DERIVER = """\
import sys, time
from pathlib import Path
from compliance import schema
real = schema.derive


def slow(assembly):  # stands in for the real 3-4 s: long enough for the others to arrive
    with open(sys.argv[3], "a") as log:
        log.write("derived\\n")
    time.sleep(0.5)
    return real(assembly)


schema.derive = slow
print("ready", flush=True)
sys.stdin.readline()
loaded = schema.load_schema(schema.Assembly(Path(sys.argv[1]), "0.0.1"), Path(sys.argv[2]))
print(sorted(loaded.resources), flush=True)
"""


def test_parallel_runs_derive_the_schema_once(tmp_path: Path) -> None:
    assembly, log = _fake_assembly(tmp_path), tmp_path / "derived.log"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    command = [sys.executable, "-c", _DERIVER, str(assembly.path), str(tmp_path / "c"), str(log)]
    runs = [
        subprocess.Popen(command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    try:
        assert [run.stdout.readline() for run in runs] == ["ready\n"] * 3
        for run in runs:
            run.stdin.write("go\n")
            run.stdin.flush()
        outputs = [run.communicate(timeout=60)[0] for run in runs]
    finally:
        for run in runs:
            run.kill()
            run.wait()
    assert [run.returncode for run in runs] == [0, 0, 0]
    assert outputs == ["['aws_thing']\n"] * 3
    assert log.read_text() == "derived\n"


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
