"""Facts Rego cannot compute, computed in Python and passed to the engine as data.

Rego sees only the JSON; whether a Lambda asset exists on disk, what its
bytes hash to, and whether building it again gives the same bytes, needs the
file system.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from compliance.model import Model
from compliance.schema import schema_facts
from compliance.source_scan import source_facts, source_root
from infrastructure.lambda_package import LAMBDA_ROOT, build_zip, source_files, zip_bytes_hash

_ASSET_TYPES = ("aws_lambda_function", "aws_lambda_layer_version")
# Terraform's path variables all name the stack's working directory here.
_PATH_VARIABLE = re.compile(r"\$\{path\.(?:module|root|cwd)\}")
_FILE_HASH = re.compile(r'^\$\{filebase64sha256\("(?P<path>[^"]+)"\)\}$')
_TEMP_ROOTS = ("/tmp", "/var/tmp", "/var/folders", "/private/tmp", "/private/var/folders")
_HOME_ROOTS = ("/home", "/Users", "/root")


def asset_facts(model: Model) -> dict[str, Any]:
    """For each Lambda ``filename``: does it resolve, where, what is its hash.

    A relative path resolves against the stack's working directory, where
    Terraform runs (CDKTF writes assets there); so do ``${path.module}``,
    ``${path.root}`` and ``${path.cwd}``. An absolute path into a temporary
    or home folder, or into the synthesized output itself, resolves on the
    synth machine only (``machine_specific``). ``build`` (DR-AST-02) is set
    for an asset CDKTF copied under the stack's ``assets/`` whose zip name is
    a ``lambda/<name>`` folder of this repository: is a fresh build
    reproducible, and is it the synthesized asset? Otherwise the asset is
    prebuilt and ``build`` is None.
    """
    facts: dict[str, Any] = {}
    output_root = model.source if model.source.is_dir() else model.source.parent
    for stack in model.stacks:
        base = stack.working_directory or stack.file.parent
        for resource in stack.resources():
            if resource.type not in _ASSET_TYPES or "filename" not in resource.values:
                continue
            facts.setdefault(stack.name, {})[resource.address] = _asset_fact(
                resource.values, base, output_root
            )
    return facts


def _asset_fact(values: dict[str, Any], base: Path, output_root: Path) -> dict[str, Any]:
    filename = values.get("filename")
    path = _resolve(filename, base)
    exists = path is not None and path.is_file()
    data = path.read_bytes() if path is not None and exists else None
    absolute = isinstance(filename, str) and Path(filename).is_absolute()
    return {
        "filename": filename,
        "resolved": path is not None,
        "absolute": absolute,
        "exists": exists,
        "machine_specific": _machine_specific(path, output_root) if absolute and path else None,
        "sha256_base64": zip_bytes_hash(data) if data is not None else None,
        "hash_file_same": _hash_file_same(values.get("source_code_hash"), path, base),
        "build": _rebuild_fact(path, base, data) if path and data is not None else None,
    }


def _resolve(text: Any, base: Path) -> Path | None:
    """The file a Terraform path names, or None when an expression hides it."""
    if not isinstance(text, str):
        return None
    text = _PATH_VARIABLE.sub(lambda _: base.as_posix(), text)
    if "${" in text:
        return None
    path = Path(text)
    return path if path.is_absolute() else base / path


def _machine_specific(path: Path, output_root: Path) -> str | None:
    """Which per-machine folder an absolute path points into, if any."""
    candidates = {Path(os.path.normpath(path)), path.resolve()}

    def under(roots: list[Path]) -> bool:
        return any(c.is_relative_to(root) for c in candidates for root in roots)

    temp_roots = [Path(tempfile.gettempdir()), *map(Path, _TEMP_ROOTS)]
    home_roots = [Path.home(), *map(Path, _HOME_ROOTS)]
    if under([output_root, output_root.resolve()]):
        return "the synthesized output folder"
    if under(temp_roots + [root.resolve() for root in temp_roots]):
        return "a temporary folder"
    if under(home_roots):
        return "a home folder"
    return None


def _hash_file_same(source_code_hash: Any, path: Path | None, base: Path) -> bool | None:
    """For ``filebase64sha256("<file>")``: is it the function's own file?"""
    match = _FILE_HASH.match(source_code_hash) if isinstance(source_code_hash, str) else None
    if match is None:
        return None
    hashed = _resolve(match.group("path"), base)
    return hashed is not None and path is not None and hashed.resolve() == path.resolve()


# Two fresh builds per Lambda source content, kept for the life of the process:
# the mutation run checks dozens of copies of the same stacks.
_REBUILDS: dict[tuple[Path, str], tuple[bytes, bytes] | str] = {}


def _rebuild_fact(path: Path, base: Path, data: bytes) -> dict[str, Any] | None:
    """Build this repository's ``lambda/<zip name>`` twice; compare with the asset."""
    source = LAMBDA_ROOT / path.stem
    in_assets = path.resolve().is_relative_to((base / "assets").resolve())
    if not in_assets or path.suffix != ".zip" or not source.is_dir():
        return None
    builds = _rebuild(source)
    fact: dict[str, Any] = {"source": f"lambda/{source.name}", "error": None}
    if isinstance(builds, str):
        return {**fact, "error": builds, "deterministic": False, "matches_asset": False}
    first, second = builds
    return {**fact, "deterministic": first == second, "matches_asset": first == data}


def _rebuild(source: Path) -> tuple[bytes, bytes] | str:
    """Both builds' bytes, or why the source cannot be built here."""
    digest = hashlib.sha256()
    for file in source_files(source):
        digest.update(file.relative_to(source).as_posix().encode() + b"\0" + file.read_bytes())
    key = (source, digest.hexdigest())
    if key not in _REBUILDS:
        try:
            with tempfile.TemporaryDirectory(prefix="dr-asset-rebuild-") as scratch:
                first, second = (
                    build_zip(source, Path(scratch) / run / f"{source.name}.zip").path.read_bytes()
                    for run in ("first", "second")
                )
            _REBUILDS[key] = (first, second)
        except (OSError, ValueError) as error:
            _REBUILDS[key] = " ".join(str(error).split())
    return _REBUILDS[key]


def compute_facts(
    model: Model, *, source: Path | None = None, scan_source: bool = True
) -> dict[str, Any]:
    """Everything ``data.facts`` holds for one model.

    ``schema``: the pinned provider's schema of the types the model uses
    (DR-SCH-01/02). ``source``: the scan of the app source that produced the
    model (DR-SCH-03); which source that is, see ``source_scan.source_root``
    (``source`` is ``--source DIR``, ``scan_source=False`` is ``--no-source``).
    """
    resources = {r.type for r in model.resources()}
    data_sources = {d.type for stack in model.stacks for d in stack.data_sources()}
    return {
        "assets": asset_facts(model),
        "schema": schema_facts(resources, data_sources),
        "source": source_facts(source_root(model, source, scan_source)),
    }
