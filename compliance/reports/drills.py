"""Failover drill records, as the reports show them.

``drills.json`` is written by the drills (``compliance/drills/drill.schema.json``);
older or hand-written records used other names (``name``, ``requirement``,
``engine_versions``, ``targets.rto``), so every record is first normalized into one
typed ``Drill`` with every field present. ``timeline`` lays a drill's events out on a
time axis, with the measured RTO against its target and the static budget, for the
pages to draw as inline SVG (the HTML report loads nothing from outside).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from compliance.reports.document import Drill, DrillCheck, TimelineEvent

# The static budget and the targets are drawn as vertical markers; the
# measured RTO is drawn last, on top.
WIDTH = 720
_LEFT, _RIGHT = 16, 16
_AXIS_Y = 58  # below the marker labels
_ROW_HEIGHT = 16
_CHAR_WIDTH = 6.0  # of 11 px sans-serif, generous: a label's box must cover the leaders
_MARKERS = (  # label, dash pattern, colour
    ("static budget", "2 3", "#8a6d00"),
    ("RTO target", "6 3", "#b00020"),
    ("measured RTO", "", "#0b6e4f"),
)


def normalize(record: dict[str, Any]) -> Drill:
    """One drill record in the reports' shape; unknown or malformed fields become empty."""
    targets = _mapping(record.get("targets"))
    return Drill(
        title=_text(record.get("scenario") or record.get("name")) or "failover drill",
        requirements=_requirements(record),
        target=_text(record.get("target")),
        scale_factor=_number(record.get("scale_factor")),
        passed=record["passed"] if isinstance(record.get("passed"), bool) else None,
        rto_seconds=_number(record.get("rto_seconds")),
        rpo_seconds=_number(record.get("rpo_seconds")),
        rto_target_seconds=_number(_first(targets, "rto_seconds", "rto")),
        rpo_target_seconds=_number(_first(targets, "rpo_seconds", "rpo")),
        static_budget_seconds=_number(record.get("static_budget_seconds")),
        timeline=_timeline(record.get("timeline")),
        checks=_checks(record.get("checks")),
        stand_ins=_string_map(record.get("stand_ins")),
        engines=_string_map(record.get("engines") or record.get("engine_versions")),
        knobs=_mapping(record.get("knobs")),
        notes=[str(note) for note in _sequence(record.get("notes"))],
        started_at=_text(record.get("started_at")),
        duration_seconds=_number(record.get("duration_seconds")),
        unscaled=record["unscaled"] if isinstance(record.get("unscaled"), dict) else None,
        measurements=_mapping(record.get("measurements")),
        judged_by=judged_by(_checks(record.get("checks")), targets),
    )


def judged_by(checks: list[DrillCheck], targets: dict[str, Any]) -> str:
    """The drill's own criterion, as its checks state it (DR-DEP-02: lost window vs lag).

    A drill is judged by its checks, not always by the RTO and RPO targets: the
    replication-lag drill compares the window of lost writes with the lag it
    injected, and its alarm, whatever the RPO target says.
    """
    if checks:
        marks = {True: "✓", False: "✗", None: "○"}
        return " · ".join(
            f"{marks[c.passed]} {c.name}" + (f": {c.detail}" if c.detail else "") for c in checks
        )
    if targets:
        return "the measured RTO and RPO against the targets (the record lists no checks)"
    return "no criterion recorded"


def _requirements(record: dict[str, Any]) -> list[str]:
    if isinstance(record.get("requirements"), list):
        return [str(rid) for rid in record["requirements"]]
    rid = record.get("id") or record.get("requirement")
    return [str(rid)] if rid else []


def _first(mapping: dict[str, Any], *keys: str) -> Any:
    return next((mapping[key] for key in keys if mapping.get(key) is not None), None)


def _number(value: Any) -> float | None:
    """A finite float; booleans and text are not measurements."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _sequence(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _string_map(value: Any) -> dict[str, str]:
    return {str(key): str(item) for key, item in _mapping(value).items()}


def _timeline(value: Any) -> list[TimelineEvent]:
    """Events in order; an event without a time cannot be placed."""
    events = []
    for entry in _sequence(value):
        if not isinstance(entry, dict):
            continue
        at = _number(entry.get("at_seconds"))
        name = entry.get("event") or entry.get("name")
        if at is not None and name:
            events.append(TimelineEvent(str(name), at))
    return events


def _checks(value: Any) -> list[DrillCheck]:
    checks = []
    for entry in _sequence(value):
        if isinstance(entry, dict):
            passed = entry.get("passed")
            checks.append(
                DrillCheck(
                    name=str(entry.get("name", "")),
                    passed=passed if isinstance(passed, bool) else None,
                    detail=str(entry.get("detail") or ""),
                )
            )
    return checks


# --- The timeline picture: geometry only, the template draws it -----------------------


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Marker:
    """A vertical line at a target, the budget or the measured RTO, labelled at its top."""

    label: str
    x: float
    top: float
    bottom: float
    dash: str
    colour: str
    text_x: float
    text_y: float
    anchor: str


@dataclass(frozen=True)
class EventMark:
    """A dot on the axis, a leader down to its label's row, the label on a white box."""

    label: str
    x: float
    leader_end: float
    box_x: float
    box_y: float
    box_width: float
    text_x: float
    text_y: float
    anchor: str


@dataclass(frozen=True)
class Timeline:
    title: str
    width: int
    height: int
    axis_y: int
    axis_left: int
    axis_right: int
    ticks: list[Tick]
    markers: list[Marker]
    events: list[EventMark]


def timeline(drill: Drill) -> Timeline:
    """The drill's events on a time axis, with measured RTO, RTO target and static budget."""
    start, end = _scale(drill)
    plot = WIDTH - _LEFT - _RIGHT

    def x(seconds: float) -> float:
        return round(_LEFT + (seconds - start) / (end - start) * plot, 1)

    height = _AXIS_Y + 28 + _ROW_HEIGHT * max(len(drill.timeline), 1)
    return Timeline(
        title=f"Timeline of {drill.title or 'the drill'}",
        width=WIDTH,
        height=height,
        axis_y=_AXIS_Y,
        axis_left=_LEFT,
        axis_right=WIDTH - _RIGHT,
        ticks=_ticks(start, end, x),
        markers=_marker_lines(drill, height, x),
        events=_event_marks(drill.timeline, x),
    )


def _markers(drill: Drill) -> list[tuple[str, float, str, str]]:
    """(label, seconds, dash, colour) of the vertical markers the drill has numbers for."""
    values = (drill.static_budget_seconds, drill.rto_target_seconds, drill.rto_seconds)
    return [
        (label, float(at), dash, colour)
        for (label, dash, colour), at in zip(_MARKERS, values, strict=True)
        if at is not None
    ]


def _scale(drill: Drill) -> tuple[float, float]:
    """The time span to draw: every event and marker, always including t=0 (the failure)."""
    times = [event.at_seconds for event in drill.timeline]
    times += [at for _, at, _, _ in _markers(drill)]
    start, end = min([0.0, *times]), max([0.0, *times])
    if end - start < 1e-9:
        end = start + 1.0
    return start, end + (end - start) * 0.04  # a little room after the last mark


def _tick_step(span: float) -> float:
    """A round tick spacing giving about six ticks."""
    raw = span / 6
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)


def _ticks(start: float, end: float, x: Callable[[float], float]) -> list[Tick]:
    step = _tick_step(end - start)
    ticks = []
    tick = math.ceil(start / step) * step
    while tick <= end:
        ticks.append(Tick(x(tick), f"{tick:g} s"))
        tick += step
    return ticks


def _marker_lines(drill: Drill, height: int, x: Callable[[float], float]) -> list[Marker]:
    marks = []
    for row, (label, at, dash, colour) in enumerate(_markers(drill)):
        anchor = "end" if x(at) > WIDTH * 0.6 else "start"
        marks.append(
            Marker(
                label=f"{label} {at:.1f} s",
                x=x(at),
                top=10 + row * 14,
                bottom=height - 4,
                dash=dash,
                colour=colour,
                text_x=x(at) + (-4 if anchor == "end" else 4),
                text_y=20 + row * 14,
                anchor=anchor,
            )
        )
    return marks


def _event_marks(events: list[TimelineEvent], x: Callable[[float], float]) -> list[EventMark]:
    """One row per event so no label overlaps another, on the side of its dot with room."""
    marks = []
    for row, event in enumerate(events):
        at_x = x(event.at_seconds)
        label = f"{event.name} ({event.at_seconds:g} s)"
        label_y = _AXIS_Y + 34 + row * _ROW_HEIGHT
        width = round(len(label) * _CHAR_WIDTH + 4, 1)
        if at_x > WIDTH * 0.6:
            box_x, text_x, anchor = at_x - 6 - width, at_x - 8, "end"
        else:
            box_x, text_x, anchor = at_x + 4, at_x + 6, "start"
        marks.append(
            EventMark(
                label=label,
                x=at_x,
                leader_end=label_y - 4,
                box_x=round(box_x, 1),
                box_y=label_y - 11,
                box_width=width,
                text_x=round(text_x, 1),
                text_y=label_y,
                anchor=anchor,
            )
        )
    return marks
