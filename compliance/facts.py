"""Facts Rego cannot compute, computed in Python and passed to the engine as data.

Rego sees only the JSON; whether a Lambda asset exists on disk, and what its
bytes hash to, needs the file system.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from compliance.model import Model
from infrastructure.lambda_package import zip_bytes_hash


def asset_facts(model: Model) -> dict[str, Any]:
    """For each Lambda ``filename``: does it resolve, is it absolute, what is its hash.

    A relative path resolves against the stack's working directory, where
    Terraform runs (CDKTF writes assets there).
    """
    facts: dict[str, Any] = {}
    for stack in model.stacks:
        base = stack.working_directory or stack.file.parent
        for resource in stack.resources():
            if resource.type != "aws_lambda_function":
                continue
            filename = resource.values.get("filename")
            if not isinstance(filename, str) or "${" in filename:
                continue
            path = Path(filename)
            resolved = path if path.is_absolute() else base / path
            exists = resolved.is_file()
            facts.setdefault(stack.name, {})[resource.address] = {
                "filename": filename,
                "absolute": path.is_absolute(),
                "exists": exists,
                "sha256_base64": zip_bytes_hash(resolved.read_bytes()) if exists else None,
            }
    return facts


def compute_facts(model: Model) -> dict[str, Any]:
    return {"assets": asset_facts(model)}
