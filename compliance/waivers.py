"""Waivers: approved, bounded exceptions that stay visible in every report.

A waiver names one requirement of the catalogue, one stack and address, why
the risk is accepted, who owns it and who (someone else) approved it, the
ticket that records the decision, the risk level, and an expiry no further
away than the organisation allows (setting ``waiver_max_days``). Anything else
stops the check with exit 2: an exception nobody approved, or one that never
comes back to someone's desk, is not an exception but a hole.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from compliance.config_file import (
    Loc,
    NonBlank,
    at,
    load_yaml,
    nearest_line,
    validation_failure,
)
from compliance.errors import InputError

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date(value: Any) -> Any:
    # YAML dates arrive as text (compliance.config_file keeps them so): parse them here.
    if isinstance(value, str):
        if not _DATE.fullmatch(value):
            raise ValueError("should be a date written YYYY-MM-DD")
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError("is not a real date") from None
    return value


_FIXES = {
    "requirement": "a requirement ID of the catalogue, e.g. DR-IAM-01",
    "stack": "the stack of the finding, e.g. secondary",
    "address": "the resource address of the finding, e.g. aws_iam_role.failover",
    "reason": "why the risk is accepted and what would end the exception",
    "owner": "the team or person who answers for the risk",
    "approved_by": "the reviewer who accepted the risk (not the owner)",
    "ticket": "the ticket that records the decision, e.g. OPS-123",
    "risk": "low, medium or high",
    "expires": "a date YYYY-MM-DD, not in the past and within waiver_max_days",
    "compensating_control": "what limits the risk meanwhile (optional)",
    "finding": "text the accepted finding's message contains, e.g. 'takes 80 s' (optional)",
}


class Waiver(BaseModel):
    """One accepted exception, checked against the catalogue, today and the maximum duration.

    Validate with ``context={"requirements": ids, "today": date, "max_days": n}``
    (what :func:`load_waivers` passes); without a context only types are checked.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    requirement: NonBlank
    stack: NonBlank
    address: NonBlank
    reason: NonBlank
    owner: NonBlank
    approved_by: NonBlank
    ticket: NonBlank
    risk: Literal["low", "medium", "high"]
    expires: Annotated[dt.date, BeforeValidator(_date)]
    compensating_control: NonBlank | None = None
    # The accepted finding, by text its message contains: a waiver accepts a
    # measured exception ("the promotion path takes 80 s"), not whatever a
    # later change makes of the same resource ("takes 155 s").
    finding: NonBlank | None = None
    # Where the waiver is written (``file:line``), for messages about it.
    _origin: str = PrivateAttr(default="")

    @property
    def origin(self) -> str:
        return self._origin

    @field_validator("requirement")
    @classmethod
    def _in_catalogue(cls, value: str, info: ValidationInfo) -> str:
        known = sorted((info.context or {}).get("requirements") or ())
        if known and value not in known:
            close = difflib.get_close_matches(value, known, n=1, cutoff=0.8)
            guess = f" (did you mean {close[0]}?)" if close else ""
            raise ValueError(f"names no requirement of the catalogue{guess}")
        return value

    @field_validator("expires")
    @classmethod
    def _bounded(cls, value: dt.date, info: ValidationInfo) -> dt.date:
        context = info.context or {}
        today, max_days = context.get("today"), context.get("max_days")
        if today is not None and value < today:
            raise ValueError(f"is in the past (today is {today}): renew the waiver or remove it")
        if today is not None and max_days is not None:
            limit = today + dt.timedelta(days=max_days)
            if value > limit:
                raise ValueError(
                    f"is more than waiver_max_days ({max_days}) away: {limit} at the latest"
                )
        return value

    @model_validator(mode="after")
    def _approved_by_someone_else(self) -> Waiver:
        if self.approved_by.strip().casefold() == self.owner.strip().casefold():
            raise ValueError(
                f"is approved by its own owner ({self.owner}): a reviewer other than "
                "the owner must approve it"
            )
        return self

    def to_dict(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        if data.get("finding") is None:
            data.pop("finding", None)  # pinned text is optional: absent, not null
        return data


def load_waivers(
    path: Path,
    requirements: Iterable[str],
    *,
    max_days: int = 90,
    today: dt.date | None = None,
    missing_ok: bool = False,
) -> list[Waiver]:
    """Read a waivers file (``waivers: [...]``) and check every waiver.

    ``requirements`` are the catalogue's IDs (a ``PolicySet.by_id()`` dict
    will do). ``missing_ok`` is for the default file only: a path the user
    gave must exist. Two waivers of one finding are an error.
    """
    if missing_ok and not path.exists():
        return []
    document, lines = load_yaml(path, "waivers file")
    if document is None:
        return []
    if not isinstance(document, dict) or set(document) - {"waivers"}:
        raise InputError(
            at(path, 1), "expected only a top-level 'waivers:' list; fix: see policies/waivers.yaml"
        )
    entries = document.get("waivers")
    entries = [] if entries is None else entries
    if not isinstance(entries, list):
        raise InputError(
            at(path, lines.get(("waivers",))),
            "'waivers:' should be a list of waivers; fix: start each waiver with '- '",
        )
    context = {
        "requirements": set(requirements),
        "today": today or dt.date.today(),
        "max_days": max_days,
    }
    waivers = [_waiver(path, lines, index, entry, context) for index, entry in enumerate(entries)]
    _no_duplicates(path, waivers)
    return waivers


def _waiver(
    path: Path, lines: dict[Loc, int], index: int, entry: Any, context: dict[str, Any]
) -> Waiver:
    where = f"waiver #{index + 1}"
    if not isinstance(entry, dict):
        raise InputError(
            at(path, lines.get(("waivers", index))),
            f"{where} should be a mapping of field: value; fix: see policies/waivers.yaml",
        )

    def name(loc: Loc) -> str:
        return f"{where} {loc[0]}" if loc else where

    try:
        waiver = Waiver.model_validate(entry, context=context)
    except ValidationError as error:
        raise validation_failure(
            error,
            locate=lambda loc: at(path, nearest_line(lines, ("waivers", index, *loc))),
            name=name,
            fixes=_FIXES,
            known=Waiver.model_fields,
        ) from None
    waiver._origin = at(path, lines.get(("waivers", index)))
    return waiver


def _no_duplicates(path: Path, waivers: list[Waiver]) -> None:
    seen: dict[tuple[str, str, str], Waiver] = {}
    for waiver in waivers:
        key = (waiver.requirement, waiver.stack, waiver.address)
        if key in seen:
            raise InputError(
                waiver.origin or path,
                f"a second waiver of {' '.join(key)} (the first is at {seen[key].origin}); "
                "fix: keep one",
            )
        seen[key] = waiver


def match_waiver(
    waivers: list[Waiver], requirement: str, stack: str, address: str, message: str = ""
) -> Waiver | None:
    """The waiver of this finding: same requirement, stack and address, and its text if pinned."""
    return next(
        (
            w
            for w in waivers
            if (w.requirement, w.stack, w.address) == (requirement, stack, address)
            and (w.finding is None or w.finding in message)
        ),
        None,
    )


@dataclass(frozen=True)
class UnmatchedWaiver:
    """A waiver that waived nothing in this run, and why, in one line."""

    waiver: Waiver
    message: str


def unmatched_waivers(
    waivers: Iterable[Waiver],
    resources: Collection[tuple[str, str]],
    findings: Collection[tuple[str, str, str]] | None = None,
    used: Collection[Waiver] | None = None,
) -> list[UnmatchedWaiver]:
    """The waivers that matched nothing in the checked input.

    ``resources`` holds the ``(stack, address)`` of every resource (and data
    source) in the input; ``findings``, when given, the ``(requirement, stack,
    address)`` of every finding, so a waiver whose resource exists but whose
    finding no longer occurs is reported too.
    """
    present = set(resources)
    stacks_of: dict[str, list[str]] = defaultdict(list)
    for stack, address in sorted(present):
        stacks_of[address].append(stack)
    found = set(findings) if findings is not None else None
    unmatched = []
    for waiver in waivers:
        if used is not None and waiver in used:
            continue
        label = f"{waiver.origin + ': ' if waiver.origin else ''}waiver of {waiver.requirement}"
        if (waiver.stack, waiver.address) not in present:
            elsewhere = stacks_of.get(waiver.address)
            hint = f" (it is in stack {', '.join(elsewhere)})" if elsewhere else ""
            message = (
                f"{label} matched nothing: the checked input has no {waiver.address} in stack "
                f"{waiver.stack}{hint}; fix: correct its stack and address, or remove it"
            )
        elif found is not None and (waiver.requirement, waiver.stack, waiver.address) not in found:
            message = (
                f"{label} matched nothing: {waiver.stack}/{waiver.address} has no "
                f"{waiver.requirement} finding; fix: remove the waiver, the finding it "
                "accepted no longer occurs"
            )
        elif waiver.finding is not None and used is not None:
            message = (
                f"{label} matched nothing: {waiver.stack}/{waiver.address} has a "
                f"{waiver.requirement} finding, but none reads {waiver.finding!r}; fix: review "
                "the finding as it reads now, then renew the waiver for it or remove it"
            )
        else:
            continue
        unmatched.append(UnmatchedWaiver(waiver, message))
    return unmatched
