"""Harness settings: targets and organisation rules the policies read as data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from compliance.catalogue import POLICY_ROOT
from compliance.errors import InputError

SETTINGS_FILE = POLICY_ROOT / "settings.yaml"
_REQUIRED = {"rto_seconds": int, "rpo_seconds": int, "promotion_allowance_seconds": int}


def load_settings(path: Path = SETTINGS_FILE) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, "settings file not found") from None
    except yaml.YAMLError as error:
        raise InputError(path, f"not valid YAML: {' '.join(str(error).split())}") from None
    if not isinstance(document, dict):
        raise InputError(path, "expected a mapping of settings")
    for name, kind in _REQUIRED.items():
        if not isinstance(document.get(name), kind):
            raise InputError(path, f"{name} must be a {kind.__name__}")
    return document
