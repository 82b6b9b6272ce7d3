"""Facts Rego cannot compute, computed in Python and passed to the engine as data.

Rego sees only the JSON; whether a Lambda asset exists on disk, what its
bytes hash to, how its zip was built and what the app's source holds needs
the file system. Everything here is learnt from the checked output and the
app that produced it (:mod:`compliance.app_config`), never from this
repository: the harness judges any app the same way.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from compliance import archives
from compliance.app_config import AppConfig, discover
from compliance.app_files import AppFiles, is_regular_file, resolve
from compliance.model import Model
from compliance.model.expressions import Expression, ExpressionError, Placeholder, parse_template
from compliance.schema import schema_facts
from compliance.source_scan import source_facts

_ASSET_TYPES = ("aws_lambda_function", "aws_lambda_layer_version")
# Terraform's path variables all name the stack's working directory here.
_PATH_VARIABLES = {("path", "module"), ("path", "root"), ("path", "cwd")}
_FILE_HASH = "filebase64sha256"
_TEMP_ROOTS = ("/tmp", "/var/tmp", "/var/folders", "/private/tmp", "/private/var/folders")
_HOME_ROOTS = ("/home", "/Users", "/root")


def compute_facts(
    model: Model,
    app: AppConfig | None = None,
    *,
    source: Path | None = None,
    scan_source: bool = True,
) -> dict[str, Any]:
    """Everything ``data.facts`` holds for one model.

    ``app`` is the app that produced the model (found with
    :func:`compliance.app_config.discover` when not given). ``assets``: each
    Lambda file, where it resolves, its hash and, for a zip synthesized into
    the output, how it was built (DR-AST-01/02). ``schema``: the pinned
    provider's schema of the types the model uses (DR-SCH-01/02). ``source``:
    the scan of the app's Python source (DR-SCH-03); ``source`` is
    ``--source DIR``, ``scan_source=False`` is ``--no-source``.
    """
    app = app if app is not None else discover(model.source)
    files = AppFiles.of(model.source, app, [source] if source is not None else [])
    resources = {r.type for r in model.resources()}
    data_sources = {d.type for stack in model.stacks for d in stack.data_sources()}
    return {
        "assets": asset_facts(model, files),
        "schema": schema_facts(resources, data_sources),
        "source": source_facts(files, explicit=source, enabled=scan_source),
    }


def base64_sha256(data: bytes) -> str:
    """Base64 SHA-256, the form Terraform's ``filebase64sha256`` returns."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def _file_base64_sha256(path: Path) -> str:
    with path.open("rb") as file:
        return base64.b64encode(hashlib.file_digest(file, "sha256").digest()).decode("ascii")


def asset_facts(model: Model, files: AppFiles | None = None) -> dict[str, Any]:
    """For each Lambda ``filename``: does it resolve, where, what is its hash, how is it built.

    A relative path resolves against the stack's working directory, where
    Terraform runs (CDKTF writes assets there); so do ``${path.module}``,
    ``${path.root}`` and ``${path.cwd}``. A file is read only when it
    resolves (symlinks followed) inside the checked folder or the app folder
    and is a regular file. An absolute path into a temporary or home folder,
    or into the synthesized output itself, resolves on the synth machine
    only (``machine_specific``). ``archive`` (DR-AST-02) is set for a file
    under the stack's ``assets/`` folder, where CDKTF synthesizes assets.
    """
    files = files or AppFiles.of(model.source, discover(model.source))
    facts: dict[str, Any] = {}
    archived: dict[tuple[Path, Path], dict[str, Any] | None] = {}  # one read per zip
    for stack in model.stacks:
        base = stack.working_directory or stack.file.parent
        for resource in stack.resources():
            if resource.type not in _ASSET_TYPES or "filename" not in resource.values:
                continue
            facts.setdefault(stack.name, {})[resource.address] = _asset_fact(
                resource.values, base, files, archived
            )
    return facts


def _asset_fact(
    values: dict[str, Any],
    base: Path,
    files: AppFiles,
    archived: dict[tuple[Path, Path], dict[str, Any] | None],
) -> dict[str, Any]:
    filename = values.get("filename")
    path = _resolve(filename, base)
    readable = files.confine(path) if path is not None else None
    exists = readable is not None and is_regular_file(readable)
    absolute = isinstance(filename, str) and Path(filename).is_absolute()
    hash_form, hash_file_same = _hash_form(values.get("source_code_hash"), path, base)
    archive = None
    if readable is not None and exists:
        if (readable, base) not in archived:
            archived[(readable, base)] = _archive_fact(readable, base, files)
        archive = archived[(readable, base)]
    outside = path is not None and readable is None
    return {
        "filename": filename,
        "resolved": path is not None,
        "absolute": absolute,
        "inside": None if path is None else readable is not None,
        "resolved_to": str(resolve(path) or path) if outside and path is not None else None,
        "exists": exists,
        "machine_specific": _machine_specific(path, files.checked) if absolute and path else None,
        "sha256_base64": _file_base64_sha256(readable) if readable is not None and exists else None,
        "hash_form": hash_form,
        "hash_file_same": hash_file_same,
        "archive": archive,
    }


def _resolve(text: Any, base: Path) -> Path | None:
    """The file a Terraform path names, or None when an expression hides it."""
    if not isinstance(text, str) or not text:
        return None
    pieces = []
    try:
        parts = parse_template(text).parts
    except ExpressionError:
        return None
    for part in parts:
        if isinstance(part, str):
            pieces.append(part)
        elif _is_path_variable(part):
            pieces.append(base.as_posix())
        else:
            return None
    path = Path("".join(pieces))
    return path if path.is_absolute() else base / path


def _is_path_variable(expression: Expression) -> bool:
    traversals = expression.traversals
    return (
        expression.call is None
        and len(traversals) == 1
        and traversals[0].parts in _PATH_VARIABLES
        and expression.text.strip() == traversals[0].text
    )


def _hash_form(value: Any, path: Path | None, base: Path) -> tuple[str | None, bool | None]:
    """How ``source_code_hash`` is written, and for ``filebase64sha256(<file>)``: the same file?

    ``literal`` (a base64 digest typed in or computed at synth), ``file``
    (``filebase64sha256()`` of a path), ``expression`` (anything else), None
    (unset).
    """
    if value is None:
        return None, None
    if not isinstance(value, str):
        return "expression", None
    try:
        template = parse_template(value)
    except ExpressionError:
        return "expression", None
    if not template.expressions:
        return "literal", None
    whole = template.whole
    if whole is None or whole.call != _FILE_HASH:
        return "expression", None
    argument = whole.argument
    text = argument.text if isinstance(argument, Placeholder) else argument
    hashed = _resolve(text, base)
    same = hashed is not None and path is not None and resolve(hashed) == resolve(path)
    return "file", same


def _machine_specific(path: Path, output_root: Path) -> str | None:
    """Which per-machine folder an absolute path points into, if any."""
    candidates = {Path(os.path.normpath(path)), resolve(path) or path}

    def under(roots: list[Path]) -> bool:
        return any(c.is_relative_to(root) for c in candidates for root in roots)

    temp_roots = [Path(tempfile.gettempdir()), *map(Path, _TEMP_ROOTS)]
    home_roots = [Path.home(), *map(Path, _HOME_ROOTS)]
    if under([output_root, resolve(output_root) or output_root]):
        return "the synthesized output folder"
    if under(temp_roots + [resolve(root) or root for root in temp_roots]):
        return "a temporary folder"
    if under(home_roots):
        return "a home folder"
    return None


def _archive_fact(path: Path, base: Path, files: AppFiles) -> dict[str, Any] | None:
    """DR-AST-02's facts of a zip synthesized under the stack's ``assets/`` folder.

    None for a file elsewhere (prebuilt, not synthesized into the output).
    ``source``: the app folder whose files are exactly the archive's entries
    (one whose files all match when several hold those names); ``stale``:
    the entries whose bytes differ from that folder's files.
    """
    assets = files.confine(base / "assets")
    if assets is None or not path.is_relative_to(assets):
        return None
    shown = path.relative_to(files.checked) if path.is_relative_to(files.checked) else path
    fact = {"path": shown.as_posix(), "source": None, "stale": []}
    fact.update(archives.inspect(path))
    if fact["error"] is not None:
        return fact
    try:
        folders = files.folders_holding(archives.file_entries(path))
        comparisons = [
            (folder, archives.differing_entries(path, files.folder_files(folder)))
            for folder in folders
        ]
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as error:
        return {**fact, "error": f"its entries cannot be read ({error})"}
    if comparisons:
        folder, differing = min(comparisons, key=lambda found: len(found[1]))
        fact["source"] = files.relative(folder, folder.parent)
        fact["stale"] = differing
    return fact
