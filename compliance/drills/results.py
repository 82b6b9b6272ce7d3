"""``reports/drills.json``: a JSON list of drill records, checked against the schema."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(__file__).with_name("drill.schema.json")
DRILLS_FILE = "drills.json"


class InvalidDrill(ValueError):
    """A drill record does not match ``drill.schema.json``."""


def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def validate(drill: dict[str, Any]) -> None:
    """Raise ``InvalidDrill`` naming the first problem (needs ``jsonschema``)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(drill), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(part) for part in first.absolute_path) or "(top)"
        raise InvalidDrill(f"{drill.get('id', '?')}: {where}: {first.message}")


def write_drills(path: Path, drills: Iterable[dict[str, Any]], *, check: bool = True) -> Path:
    """Write the list atomically (a reader never sees half a file)."""
    records = list(drills)
    if check:
        try:
            for drill in records:
                validate(drill)
        except ImportError:  # pragma: no cover - jsonschema is a test dependency
            pass
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    scratch.write_text(json.dumps(records, indent=2) + "\n", encoding="utf-8")
    scratch.replace(path)
    return path


def read_drills(path: Path) -> list[dict[str, Any]]:
    document = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(document, list):
        raise InvalidDrill(f"{path}: expected a JSON list of drills")
    return document
