"""Mutants for the function-code requirements (DR-AST-*).

They break the link between a function and its code the ways it breaks in
practice: a path that only meant something where synth ran, a hash left over
from another build, a zip whose bytes depend on when it was built.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from compliance.mutations import Target, Workspace, mutant
from infrastructure.lambda_package import zip_bytes_hash

# A build that records when it ran: the date a non-reproducible zip would carry.
_BUILD_TIME = (2025, 6, 30, 14, 5, 0)


def _failover(ws: Workspace) -> tuple[Target, dict[str, Any]]:
    return ws.first("secondary", "aws_lambda_function", "failover")


def _asset(ws: Workspace, stack: str, values: dict[str, Any]) -> Path:
    """The asset file a function names, in the copy (relative to the stack folder)."""
    return ws.file(stack).parent / values["filename"]


@mutant(
    "function code points to a missing file",
    "DR-AST-01",
    "the failover function's filename is a path relative to the repository, not the stack",
)
def _missing_file(ws: Workspace) -> Target:
    target, values = _failover(ws)
    values["filename"] = "lambda/failover.zip"
    return target


@mutant(
    "source code hash of another build",
    "DR-AST-01",
    "the failover function keeps the health-check function's source_code_hash",
)
def _wrong_hash(ws: Workspace) -> Target:
    target, values = _failover(ws)
    _, other = ws.first("secondary", "aws_lambda_function", "health")
    values["source_code_hash"] = other["source_code_hash"]
    return target


@mutant(
    "source code hash removed",
    "DR-AST-01",
    "the failover function loses its source_code_hash",
)
def _no_hash(ws: Workspace) -> Target:
    target, values = _failover(ws)
    values.pop("source_code_hash")
    return target


@mutant(
    "function code named by an absolute path of the synth machine",
    "DR-AST-01",
    "the failover function's filename is the absolute path of its asset where synth wrote it",
)
def _absolute_path(ws: Workspace) -> Target:
    target, values = _failover(ws)
    values["filename"] = str(_asset(ws, "secondary", values).resolve())
    return target


@mutant(
    "function zip built with timestamps",
    "DR-AST-02",
    "the failover zip is rebuilt with the build time in its entries (hash updated to match), "
    "so its bytes are no longer those a fresh build gives",
)
def _timestamped_zip(ws: Workspace) -> Target:
    target, values = _failover(ws)
    path = _asset(ws, "secondary", values)
    with zipfile.ZipFile(path) as archive:
        entries = [(info.filename, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, _BUILD_TIME)
            info.external_attr = 0o755 << 16
            archive.writestr(info, data)
    values["source_code_hash"] = zip_bytes_hash(path.read_bytes())
    return target
