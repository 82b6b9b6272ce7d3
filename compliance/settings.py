"""Harness settings: targets and organisation rules the policies read as ``data.settings``.

One pydantic model states every setting, its type, range and default; a file
or an app's ``[tool.dr-compliance.settings]`` table may only set these keys,
with these types (``true`` is not a number, ``"Environment"`` is not a list).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
)

from compliance.catalogue import POLICY_ROOT
from compliance.config_file import (
    Loc,
    NonBlank,
    at,
    dotted,
    load_yaml,
    nearest_line,
    validation_failure,
)
from compliance.errors import InputError

SETTINGS_FILE = POLICY_ROOT / "settings.yaml"


def _number(value: Any) -> Any:
    # One message for every non-number, before the int | float union answers twice.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("should be a number")
    if not math.isfinite(value):
        raise ValueError("should be a finite number")
    return value


Number = Annotated[int | float, BeforeValidator(_number)]
Allowance = Annotated[Number, Field(ge=0, description="a number of seconds, 0 or more")]
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _variable(value: str) -> str:
    if not _VARIABLE.fullmatch(value):
        raise ValueError("should be an environment variable name (letters, digits, _)")
    return value


VariableName = Annotated[
    NonBlank,
    AfterValidator(_variable),
    Field(description="an environment variable name such as PROBE_INTERVAL_SECONDS"),
]


def _zip_timestamp(value: Any) -> dt.datetime:
    """An ISO date-time a zip entry can hold: 1980-2107, even seconds, no zone."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):  # a TOML local date
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("should be a real ISO date-time") from None
    else:
        raise ValueError("should be an ISO date-time such as 1980-01-01T00:00:00")
    if moment.tzinfo is not None:
        raise ValueError("should have no time zone (a zip entry stores local time)")
    if not 1980 <= moment.year <= 2107:
        raise ValueError("should be in the years 1980 to 2107 (what a zip entry can store)")
    if moment.second % 2 or moment.microsecond:
        raise ValueError("should be on an even second (a zip entry stores two-second steps)")
    return moment


def _tags(value: list[str]) -> list[str]:
    repeated = sorted({tag for tag in value if value.count(tag) > 1})
    if repeated:
        raise ValueError(f"names {', '.join(repeated)} more than once")
    return value


class Settings(BaseModel):
    """Every setting a policy may read, with its type, range and default."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    rto_seconds: Annotated[
        StrictInt, Field(gt=0, description="a whole number of seconds above 0, e.g. 60")
    ] = 60
    rpo_seconds: Annotated[Number, Field(gt=0, description="a number of seconds above 0")] = 5
    dns_resolver_allowance_seconds: Allowance = 5
    alarm_action_allowance_seconds: Allowance = 60
    invocation_allowance_seconds: Allowance = 5
    promotion_allowance_seconds: Allowance = 60
    rpo_alarm_fraction: Annotated[
        Number, Field(gt=0, le=1, description="a fraction above 0 and at most 1, e.g. 0.5")
    ] = 0.5
    watchdog_interval_variable: VariableName = "PROBE_INTERVAL_SECONDS"
    watchdog_threshold_variable: VariableName = "FAILURE_THRESHOLD"
    asset_fixed_timestamp: Annotated[
        dt.datetime,
        BeforeValidator(_zip_timestamp),
        Field(description='an ISO date-time a zip can store, e.g. "1980-01-01T00:00:00"'),
    ] = dt.datetime(1980, 1, 1)
    required_tags: Annotated[
        list[NonBlank],
        AfterValidator(_tags),
        Field(description="a list of tag keys, e.g. [Environment, Owner, DRTier]"),
    ] = ["Environment", "Owner", "DRTier"]
    waiver_max_days: Annotated[
        StrictInt, Field(ge=1, le=366, description="a whole number of days from 1 to 366")
    ] = 90
    backup_retention_days: Annotated[
        StrictInt, Field(ge=1, le=35, description="a whole number of days from 1 to 35")
    ] = 7
    dns_waits_for_promotion: Annotated[
        StrictBool,
        Field(description="true when the app's health endpoint is healthy only where writable"),
    ] = False

    def as_data(self) -> dict[str, Any]:
        """The settings as the Rego policies read them (``data.settings``): JSON values."""
        return self.model_dump(mode="json")


_FIXES = {name: field.description or "a value" for name, field in Settings.model_fields.items()}


def load_settings(
    path: Path = SETTINGS_FILE,
    overrides: Mapping[str, Any] | None = None,
    *,
    overrides_from: str = "settings overrides",
) -> Settings:
    """The settings in ``path`` (every key optional), then ``overrides`` on top.

    ``overrides_from`` names where the overrides were written (e.g. the app's
    ``pyproject.toml``) for an error message; an explicitly given file that
    does not exist is an error like any other.
    """
    document, lines = load_yaml(path, "settings file")
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise InputError(
            at(path, 1), "expected a mapping of setting: value; fix: write one key per line"
        )
    settings = _validate(document, lambda loc: at(path, nearest_line(lines, loc)))
    if not overrides:
        return settings
    return _validate({**document, **overrides}, lambda _loc: overrides_from)


def validate_overrides(
    overrides: Mapping[str, Any], locate: Callable[[Loc], str], label: str = ""
) -> None:
    """Check a table of overrides against the model alone.

    ``locate`` gives ``file:line`` for a key; ``label`` prefixes its name in
    messages (e.g. ``[tool.dr-compliance.settings]``).
    """
    _validate(dict(overrides), locate, label)


def _validate(
    document: Mapping[str, Any], locate: Callable[[Loc], str], label: str = ""
) -> Settings:
    def name(loc: Loc) -> str:
        return f"{label} {dotted(loc)}".strip()

    try:
        return Settings.model_validate(document)
    except ValidationError as error:
        raise validation_failure(
            error, locate=locate, name=name, fixes=_FIXES, known=Settings.model_fields
        ) from None
