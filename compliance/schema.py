"""The pinned AWS provider's schema, derived from what its installed bindings ship.

Terraform validates block keys only at ``plan``; a key CDKTF dropped on the
way (a plain dict in a list block loses misspelled or snake_case keys, see
FIELD_NOTES) leaves no trace but its absence. To judge every key of every
resource offline and for the exact pinned version, the schema comes from the
jsii assembly inside the installed ``cdktf-cdktf-provider-aws`` package
(``_jsii/provider-aws@<version>.jsii.tgz``, ``package/.jsii`` inside): every
resource config and nested-block struct lists its properties with an
``optional`` flag and a type (a struct type is a single block, an array of
structs a list block), and each property's docs carry the exact Terraform
name (``.../docs/resources/dynamodb_table#region_name DynamodbTable#region_name``).

Reading the assembly takes seconds and ~650 MB, so the derived schema is
cached as JSON in the user's cache folder (:mod:`compliance.cache`, kind
``schema``), keyed by content: the package version, the SHA-256 of the
assembly file and the document's format. Not by the interpreter or the path:
every environment with the same provider package (tox's, a user's venv)
shares one entry. Each type's schema is kept as a JSON string decoded on
first use, and the loaded schema is kept in memory for the life of the process.
"""

from __future__ import annotations

import importlib.util
import json
import re
import tarfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from compliance import cache as content_cache
from compliance.errors import InputError

PACKAGE = "cdktf_cdktf_provider_aws"
DISTRIBUTION = "cdktf-cdktf-provider-aws"
PINNED = "21.22.1"  # requirements.txt; named in the error when the package is missing
# Bumped when the layout of the derived document changes: old caches are then re-derived.
FORMAT = 3

_ASSEMBLY = re.compile(r"^provider-aws@(?P<version>[^/]+)\.jsii\.tgz$")
_JSII_MEMBER = "package/.jsii"
_FQN_PREFIX = "@cdktf/provider-aws."
_BASES = {"cdktf.TerraformResource": "resources", "cdktf.TerraformDataSource": "data_sources"}
# "{@link https://registry.terraform.io/providers/hashicorp/aws/6.25.0/docs/resources/x aws_x}"
_TYPE_LINK = re.compile(
    r"\{@link https://registry\.terraform\.io/providers/hashicorp/aws/(?P<version>[^/]+)"
    r"/docs/(?:resources|data-sources)/[a-z0-9_]+ (?P<type>[a-z0-9_]+)\}"
)
# "...#region_name DynamodbTable#region_name}": the Terraform name of one property.
_NAME_LINK = re.compile(r"#(?P<anchor>[A-Za-z0-9_]+) [A-Za-z0-9_]+#(?P<name>[A-Za-z0-9_]+)\}")


@dataclass(frozen=True)
class Assembly:
    """The jsii assembly of the installed provider package."""

    path: Path
    version: str

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the assembly's bytes: what the cache is keyed by, with the version."""
        resolved = self.path.resolve()
        found = resolved.stat()
        return _file_digest(resolved, found.st_size, found.st_mtime_ns, found.st_ino)

    @property
    def cache_key(self) -> str:
        """The cache entry's name: content only, so every interpreter finds the same one."""
        return f"provider-aws-{self.version}-{self.fingerprint[:32]}-f{FORMAT}.json"


@cache
def _file_digest(path: Path, size: int, mtime_ns: int, inode: int) -> str:
    """Hashed once per process and file state (~30 ms for the 37 MB assembly)."""
    del size, mtime_ns, inode  # part of the memo key only: a replaced file is hashed again
    return content_cache.digest_of_file(path)


def locate_assembly(package: str = PACKAGE) -> Assembly:
    """Find the assembly WITHOUT importing the package.

    Importing ``cdktf_cdktf_provider_aws`` runs its ``__init__``, which imports
    every resource module (10+ s, ~1 GB); ``find_spec`` of a top-level name
    only locates it.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise InputError(
            DISTRIBUTION,
            f"the AWS provider bindings are not installed: pip install {DISTRIBUTION}=={PINNED}",
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "_jsii"
    found = sorted(p for p in folder.glob("provider-aws@*.jsii.tgz") if _ASSEMBLY.match(p.name))
    if not found:
        raise InputError(
            folder,
            f"no provider-aws@<version>.jsii.tgz: reinstall with pip install "
            f"--force-reinstall {DISTRIBUTION}=={PINNED}",
        )
    match = _ASSEMBLY.match(found[-1].name)
    assert match is not None
    return Assembly(found[-1], match.group("version"))


# --- Deriving the schema from the assembly -------------------------------------------------


def python_name(jsii_name: str) -> str:
    """The keyword jsii gives a property in Python (``addressLine1`` -> ``address_line1``).

    jsii-pacmak snake-cases with decamelize: split lower/digit|Upper and
    UPPER|Upperlower, then lower-case; Python keywords get a trailing ``_``.
    """
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", jsii_name)
    text = re.sub(r"([A-Z]+)([A-Z][a-z]+)", r"\1_\2", text).lower()
    return f"{text}_" if text in _PY_KEYWORDS else text


_PY_KEYWORDS = {
    "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif",
    "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda",
    "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
}  # fmt: skip


def _module(namespace: str) -> str:
    """The Python submodule of a jsii namespace (``dynamodbTable`` -> ``dynamodb_table``)."""
    return python_name(namespace).rstrip("_")


class _Deriver:
    """Turns the assembly's types into nested schemas, one struct at a time (memoized)."""

    def __init__(self, types: dict[str, Any]) -> None:
        self.types = types
        self.schemas: dict[str, dict[str, Any]] = {}
        self.classes: dict[str, dict[str, Any]] = {}

    def is_struct(self, fqn: str) -> bool:
        found = self.types.get(fqn)
        return bool(found and found.get("kind") == "interface" and found.get("datatype"))

    def properties(self, fqn: str) -> list[dict[str, Any]]:
        """A struct's own properties and those of the provider structs it extends.

        ``cdktf.TerraformMetaArguments`` (count, depends_on, for_each,
        lifecycle, provider, ...) is deliberately not followed.
        """
        found = self.types[fqn]
        properties = list(found.get("properties", []))
        for parent in found.get("interfaces", []):
            if parent.startswith(_FQN_PREFIX) and self.is_struct(parent):
                properties += self.properties(parent)
        return properties

    def block_of(self, type_: dict[str, Any]) -> tuple[bool, str] | None:
        """``(is_list, struct fqn)`` when a property's type is a block, else None.

        A struct is a single block; an array of structs (usually in a union with
        ``IResolvable``) is a list block. A map of structs (one in the whole
        provider) takes arbitrary keys: it is judged as an attribute.
        """
        if "fqn" in type_ and self.is_struct(type_["fqn"]):
            return False, type_["fqn"]
        candidates = type_.get("union", {}).get("types", []) + [type_]
        for candidate in candidates:
            collection = candidate.get("collection")
            if not collection or collection.get("kind") != "array":
                continue
            element = collection.get("elementtype", {})
            if "fqn" in element and self.is_struct(element["fqn"]):
                return True, element["fqn"]
        return None

    def schema(self, fqn: str, trail: tuple[str, ...] = ()) -> dict[str, Any]:
        if fqn in self.schemas:
            return self.schemas[fqn]
        if fqn in trail:  # never seen in the provider; guards against a cyclic assembly
            return {"attributes": {}, "blocks": {}}
        attributes: dict[str, Any] = {}
        blocks: dict[str, Any] = {}
        keywords: dict[str, Any] = {}
        for prop in self.properties(fqn):
            name = terraform_name(prop)
            required = not prop.get("optional", False)
            block = self.block_of(prop["type"])
            if block is None:
                attributes[name] = {"required": required}
                continue
            is_list, struct = block
            struct_name = self.types[struct]["name"]
            blocks[name] = {
                "list": is_list,
                "required": required,
                "struct": struct_name,
                "schema": self.schema(struct, (*trail, fqn)),
            }
            keywords[python_name(prop["name"])] = {
                "block": name,
                "list": is_list,
                "struct": struct_name,
            }
        # The required names, listed apart: policies check them for every resource.
        required = sorted(n for n, e in [*attributes.items(), *blocks.items()] if e["required"])
        result = {"attributes": attributes, "blocks": blocks, "required": required}
        self.schemas[fqn] = result
        found = self.types[fqn]
        if keywords and found.get("namespace"):
            self.classes[f"{_module(found['namespace'])}.{found['name']}"] = {"blocks": keywords}
        return result


def terraform_name(prop: dict[str, Any]) -> str:
    """The exact Terraform name, from the property's docs link (else snake case).

    The docs link is authoritative: ``addressLine1`` is ``address_line_1`` in
    Terraform but ``address_line1`` in Python.
    """
    docs = prop.get("docs", {})
    match = _NAME_LINK.search(f"{docs.get('summary', '')} {docs.get('remarks', '')}")
    if match:
        return match.group("name")
    return python_name(prop["name"]).rstrip("_")


def derive(assembly: Assembly) -> dict[str, Any]:
    """Read the assembly and build the whole schema document (seconds: cache it)."""
    try:
        with tarfile.open(assembly.path) as archive:
            member = archive.extractfile(_JSII_MEMBER)
            if member is None:
                raise KeyError(_JSII_MEMBER)
            document = json.loads(member.read())
    except (OSError, KeyError, tarfile.TarError, json.JSONDecodeError) as error:
        raise InputError(assembly.path, f"cannot read {_JSII_MEMBER}: {error}") from None
    types: dict[str, Any] = document["types"]
    deriver = _Deriver(types)
    schema: dict[str, Any] = {"resources": {}, "data_sources": {}}
    provider_version = None
    for _, found in sorted(types.items()):
        kind = _BASES.get(str(found.get("base")))
        if found.get("kind") != "class" or kind is None:
            continue
        link = _TYPE_LINK.search(found.get("docs", {}).get("summary", ""))
        config = _config_fqn(found)
        if link is None or config is None:
            continue
        provider_version = provider_version or link.group("version")
        schema[kind][link.group("type")] = deriver.schema(config)
        # The construct class takes the config's keywords.
        own = deriver.classes.get(f"{_module(found['namespace'])}.{types[config]['name']}")
        if own:
            deriver.classes[f"{_module(found['namespace'])}.{found['name']}"] = own
    provider = types.get(f"{_FQN_PREFIX}provider.AwsProvider")
    if provider and (config := _config_fqn(provider)):
        deriver.schema(config)
        own = deriver.classes.get(f"provider.{types[config]['name']}")
        if own:
            deriver.classes["provider.AwsProvider"] = own
    return {
        "format": FORMAT,
        "bindings_version": document.get("version", assembly.version),
        "provider_version": provider_version,
        "fingerprint": assembly.fingerprint,
        **schema,
        "classes": dict(sorted(deriver.classes.items())),
        "block_keywords": sorted({kw for c in deriver.classes.values() for kw in c["blocks"]}),
    }


def _config_fqn(found: dict[str, Any]) -> str | None:
    for parameter in found.get("initializer", {}).get("parameters", []):
        if parameter.get("name") == "config":
            return parameter.get("type", {}).get("fqn")
    return None


# --- The cache -------------------------------------------------------------------------------

_TABLES = ("resources", "data_sources", "classes")


class LazyTable(Mapping[str, dict[str, Any]]):
    """Type name -> schema, each entry decoded from its JSON text on first use.

    The cache keeps every entry as a JSON string: decoding the whole 3.5 MB
    document took ~0.2-0.3 s, scanning it with entries left as strings takes
    a few tens of ms, and a check needs only the types its model uses.
    """

    def __init__(self, raw: Mapping[str, str]) -> None:
        self._raw = raw
        self._decoded: dict[str, dict[str, Any]] = {}

    def __getitem__(self, key: str) -> dict[str, Any]:
        if key not in self._decoded:
            self._decoded[key] = json.loads(self._raw[key])
        return self._decoded[key]

    def __contains__(self, key: object) -> bool:
        return key in self._raw

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)


@dataclass(frozen=True)
class ProviderSchema:
    """The derived schema: versions, resource and data-source schemas, Python classes.

    ``classes`` maps ``module.Class`` (a resource, data source, provider or
    struct class of the bindings) to the Python keywords that take a nested
    block: ``{"blocks": {keyword: {"block": name, "list": bool, "struct": Class}}}``.
    """

    provider_version: str | None
    bindings_version: str
    fingerprint: str
    resources: Mapping[str, dict[str, Any]]
    data_sources: Mapping[str, dict[str, Any]]
    classes: Mapping[str, dict[str, Any]]
    # Every Python keyword that takes a block in some class: CDKTF's ``put_<keyword>`` setters.
    block_keywords: frozenset[str] = frozenset()

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> ProviderSchema:
        """From :func:`derive`'s document (plain tables) or the cache's (tables of strings)."""
        tables = {
            name: LazyTable(table) if _is_encoded(table) else table
            for name in _TABLES
            for table in [document.get(name, {})]
        }
        return cls(
            provider_version=document.get("provider_version"),
            bindings_version=str(document.get("bindings_version")),
            fingerprint=str(document.get("fingerprint")),
            block_keywords=frozenset(document.get("block_keywords", ())),
            **tables,
        )


def _is_encoded(table: Mapping[str, Any]) -> bool:
    return any(isinstance(value, str) for value in table.values())


def cache_file(assembly: Assembly, cache_dir: Path | None = None) -> Path:
    """Where the derived schema of ``assembly`` is cached (default: the user cache)."""
    folder = cache_dir or content_cache.cache_folder("schema")
    return folder / assembly.cache_key


def load_schema(assembly: Assembly | None = None, cache_dir: Path | None = None) -> ProviderSchema:
    """The derived schema: from memory, else the JSON cache, else the assembly (seconds)."""
    assembly = assembly or locate_assembly()
    folder = Path(cache_dir or content_cache.cache_folder("schema")).resolve()
    return _load(assembly.path, assembly.version, assembly.fingerprint, folder)


@cache
def _load(path: Path, version: str, fingerprint: str, cache_dir: Path) -> ProviderSchema:
    assembly = Assembly(path, version)
    store = content_cache.Store(cache_dir)
    store.sweep()  # a killed run's half-written file, once it is old (one listing: cheap)
    key = assembly.cache_key
    cached = _read_cache(store.path(key), fingerprint)
    if cached is not None:
        return ProviderSchema.from_document(cached)
    # One derivation at a time per assembly: a parallel run waits, then reads this one's.
    with store.writing(key):
        cached = _read_cache(store.path(key), fingerprint)
        if cached is not None:
            return ProviderSchema.from_document(cached)
        derived = derive(assembly)
        encoded = {
            name: (
                {type_: json.dumps(entry, separators=(",", ":")) for type_, entry in value.items()}
                if name in _TABLES
                else value
            )
            for name, value in derived.items()
        }
        text = json.dumps(encoded, separators=(",", ":"), sort_keys=True)
        store.write_bytes(key, text.encode("utf-8"))
    return ProviderSchema.from_document(derived)


def _read_cache(path: Path, fingerprint: str) -> dict[str, Any] | None:
    """The cached document if it is whole and of this assembly and format, else None."""
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # absent or unreadable: derive again
    if not isinstance(loaded, dict):
        return None
    if loaded.get("format") != FORMAT or loaded.get("fingerprint") != fingerprint:
        return None
    return loaded


# --- Facts for the engine --------------------------------------------------------------------


def is_aws_type(type_: str) -> bool:
    """Terraform's implied provider is the type's prefix before the first ``_``."""
    return type_.split("_", 1)[0] == "aws"


def schema_facts(
    resource_types: Iterable[str],
    data_source_types: Iterable[str] = (),
    *,
    schema: ProviderSchema | None = None,
) -> dict[str, Any]:
    """The schema of the types the model uses, and which of its AWS types are unknown.

    Only the types present go to the engine (the whole schema is 3.5 MB).
    Types of other providers (``random_id``, ``terraform_remote_state``...)
    have no schema here: they are listed, not judged.
    """
    schema = schema or load_schema()
    facts: dict[str, Any] = {
        "provider_version": schema.provider_version,
        "bindings_version": schema.bindings_version,
        "resources": {},
        "data_sources": {},
        "unknown_types": [],
        "unknown_data_sources": [],
        "other_provider_types": [],
    }
    tables = (
        ("resources", schema.resources, resource_types, "unknown_types"),
        ("data_sources", schema.data_sources, data_source_types, "unknown_data_sources"),
    )
    others: set[str] = set()
    for kind, table, types, unknown in tables:
        for type_ in sorted(set(types)):
            if type_ in table:
                facts[kind][type_] = table[type_]
            elif is_aws_type(type_):
                facts[unknown].append(type_)
            else:
                others.add(type_)
    facts["other_provider_types"] = sorted(others)
    return facts
