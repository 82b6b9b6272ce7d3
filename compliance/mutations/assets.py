"""Mutants for the function-code requirements (DR-AST-*).

They break the link between a function and its code the ways it breaks in
practice: a path that only meant something where synth ran, a hash left over
from another build, a zip whose bytes depend on when or where it was built,
a zip left behind by a change of its source.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

from compliance.facts import base64_sha256
from compliance.mutations import Target, Workspace, mutant

# A build that records when it ran: the date a non-reproducible zip would carry.
_BUILD_TIME = (2025, 6, 30, 14, 5, 0)
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
# This project's failover function source (a path the mutant copies; nothing is imported).
_FAILOVER_SOURCE = Path(__file__).resolve().parents[2] / "lambda" / "failover"


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
    _rezip(path, _BUILD_TIME, 0o644)
    values["source_code_hash"] = base64_sha256(path.read_bytes())
    return target


@mutant(
    "function zip with the build machine's permissions",
    "DR-AST-02",
    "the failover zip is rebuilt with group-writable 0664 entries, as a umask of 002 leaves "
    "them (hash updated to match)",
)
def _umask_zip(ws: Workspace) -> Target:
    target, values = _failover(ws)
    path = _asset(ws, "secondary", values)
    _rezip(path, _FIXED_TIME, 0o664)
    values["source_code_hash"] = base64_sha256(path.read_bytes())
    return target


@mutant(
    "function zip older than its source",
    "DR-AST-02",
    "the failover function's source changes after synth (the copy becomes an app of its own "
    "holding lambda/failover, with one more line in handler.py): the zip is stale",
)
def _stale_zip(ws: Workspace) -> Target:
    target, _ = _failover(ws)
    source = ws.root / "lambda" / "failover"
    shutil.copytree(_FAILOVER_SOURCE, source, ignore=shutil.ignore_patterns("__pycache__"))
    with (source / "handler.py").open("a", encoding="utf-8") as handler:
        handler.write("# changed after synth\n")
    app = {"language": "python", "app": "python -m infrastructure.main", "output": "."}
    (ws.root / "cdktf.json").write_text(json.dumps(app), encoding="utf-8")
    return target


def _rezip(path: Path, when: tuple[int, ...], mode: int) -> None:
    """Write the zip again, entry by entry, with this timestamp and mode."""
    with zipfile.ZipFile(path) as archive:
        entries = [(info.filename, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, when)
            info.external_attr = mode << 16
            archive.writestr(info, data)
