"""Waivers: accepted exceptions that stay visible in every report.

A waiver names one requirement, stack and address, with a reason, an owner
and an expiry date. An expired or malformed waiver is an error, not a silent
pass: an exception nobody renews must come back to someone's desk.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from compliance.errors import InputError

_FIELDS = ("requirement", "stack", "address", "reason", "owner", "expires")


@dataclass(frozen=True)
class Waiver:
    requirement: str
    stack: str
    address: str
    reason: str
    owner: str
    expires: dt.date

    def to_dict(self) -> dict[str, Any]:
        return {
            "requirement": self.requirement,
            "stack": self.stack,
            "address": self.address,
            "reason": self.reason,
            "owner": self.owner,
            "expires": self.expires.isoformat(),
        }


def load_waivers(path: Path, *, today: dt.date | None = None) -> list[Waiver]:
    """Read ``waivers.yaml``; a missing file means no waivers."""
    if not path.exists():
        return []
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise InputError(path, f"not valid YAML: {' '.join(str(error).split())}") from None
    entries = document.get("waivers", []) if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise InputError(path, "expected a top-level 'waivers:' list")
    today = today or dt.date.today()
    return [_waiver(path, index, entry, today) for index, entry in enumerate(entries)]


def _waiver(path: Path, index: int, entry: Any, today: dt.date) -> Waiver:
    where = f"waiver #{index + 1}"
    if not isinstance(entry, dict):
        raise InputError(path, f"{where} must be a mapping")
    missing = [name for name in _FIELDS if not entry.get(name)]
    if missing:
        raise InputError(path, f"{where} lacks {', '.join(missing)}")
    expires = entry["expires"]
    if isinstance(expires, str):
        try:
            expires = dt.date.fromisoformat(expires)
        except ValueError:
            raise InputError(path, f"{where} expires is not a YYYY-MM-DD date") from None
    if not isinstance(expires, dt.date):
        raise InputError(path, f"{where} expires is not a YYYY-MM-DD date")
    if expires < today:
        raise InputError(
            path, f"{where} ({entry['requirement']} {entry['address']}) expired on {expires}"
        )
    return Waiver(
        requirement=str(entry["requirement"]),
        stack=str(entry["stack"]),
        address=str(entry["address"]),
        reason=str(entry["reason"]),
        owner=str(entry["owner"]),
        expires=expires,
    )


def match_waiver(
    waivers: list[Waiver], requirement: str, stack: str, address: str
) -> Waiver | None:
    return next(
        (
            w
            for w in waivers
            if (w.requirement, w.stack, w.address) == (requirement, stack, address)
        ),
        None,
    )
