"""Failover drill records, as the reports show them.

``drills.json`` is written by the drills (``compliance/drills/drill.schema.json``);
older or hand-written records used other names (``name``, ``requirement``,
``engine_versions``, ``targets.rto``), so every record is first normalized
into one shape with every key present. ``timeline_svg`` draws a drill's
events on a time axis with the measured RTO against its target and the
static budget, as inline SVG (the HTML report loads nothing from outside).
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

# The static budget and the targets are drawn as vertical markers; the
# measured RTO is drawn last, on top.
_WIDTH = 720
_LEFT, _RIGHT = 16, 16
_AXIS_Y_OFFSET = 58  # below the marker labels
_ROW_HEIGHT = 16
_HALO = ' stroke="#fff" stroke-width="3" paint-order="stroke"'  # labels stay legible over lines
_CHAR_WIDTH = 6.0  # of 11 px sans-serif, generous: a label's box must cover the leaders


def normalize(record: dict[str, Any]) -> dict[str, Any]:
    """One drill record in the reports' shape; unknown or malformed fields become empty."""
    targets = _mapping(record.get("targets"))
    return {
        "title": _text(record.get("scenario") or record.get("name")) or "failover drill",
        "requirements": _requirements(record),
        "target": _text(record.get("target")),
        "scale_factor": _number(record.get("scale_factor")),
        "passed": record["passed"] if isinstance(record.get("passed"), bool) else None,
        "rto_seconds": _number(record.get("rto_seconds")),
        "rpo_seconds": _number(record.get("rpo_seconds")),
        "rto_target_seconds": _number(_first(targets, "rto_seconds", "rto")),
        "rpo_target_seconds": _number(_first(targets, "rpo_seconds", "rpo")),
        "static_budget_seconds": _number(record.get("static_budget_seconds")),
        "timeline": _timeline(record.get("timeline")),
        "checks": _checks(record.get("checks")),
        "stand_ins": _string_map(record.get("stand_ins")),
        "engines": _string_map(record.get("engines") or record.get("engine_versions")),
        "knobs": _mapping(record.get("knobs")),
        "notes": [str(note) for note in _sequence(record.get("notes"))],
        "started_at": _text(record.get("started_at")),
        "duration_seconds": _number(record.get("duration_seconds")),
        "unscaled": record["unscaled"] if isinstance(record.get("unscaled"), dict) else None,
    }


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


def _timeline(value: Any) -> list[dict[str, Any]]:
    """``{name, at_seconds}`` events in order; an event without a time cannot be placed."""
    events = []
    for entry in _sequence(value):
        if not isinstance(entry, dict):
            continue
        at = _number(entry.get("at_seconds"))
        name = entry.get("event") or entry.get("name")
        if at is not None and name:
            events.append({"name": str(name), "at_seconds": at})
    return events


def _checks(value: Any) -> list[dict[str, Any]]:
    checks = []
    for entry in _sequence(value):
        if isinstance(entry, dict):
            passed = entry.get("passed")
            checks.append(
                {
                    "name": str(entry.get("name", "")),
                    "passed": passed if isinstance(passed, bool) else None,
                    "detail": str(entry.get("detail") or ""),
                }
            )
    return checks


# --- The timeline picture ------------------------------------------------------


def _markers(drill: dict[str, Any]) -> list[tuple[str, float, str]]:
    """(label, seconds, line style) of the vertical markers the drill has numbers for."""
    found = [
        ("static budget", drill.get("static_budget_seconds"), "2 3"),
        ("RTO target", drill.get("rto_target_seconds"), "6 3"),
        ("measured RTO", drill.get("rto_seconds"), ""),
    ]
    return [(label, float(at), dash) for label, at, dash in found if at is not None]


def _scale(drill: dict[str, Any]) -> tuple[float, float]:
    """The time span to draw: every event and marker, always including t=0 (the failure)."""
    times = [e["at_seconds"] for e in drill.get("timeline", [])]
    times += [at for _, at, _ in _markers(drill)]
    start, end = min([0.0, *times]), max([0.0, *times])
    if end - start < 1e-9:
        end = start + 1.0
    return start, end + (end - start) * 0.04  # a little room after the last mark


def _tick_step(span: float) -> float:
    """A round tick spacing giving about six ticks."""
    raw = span / 6
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)


def timeline_svg(drill: dict[str, Any]) -> str:
    """The drill's events on a time axis, with measured RTO, RTO target and static budget."""
    start, end = _scale(drill)
    plot = _WIDTH - _LEFT - _RIGHT

    def x(seconds: float) -> float:
        return round(_LEFT + (seconds - start) / (end - start) * plot, 1)

    events = drill.get("timeline", [])
    axis_y = _AXIS_Y_OFFSET
    height = axis_y + 28 + _ROW_HEIGHT * max(len(events), 1)
    parts = [_axis(start, end, axis_y, x)]
    parts += _marker_lines(drill, axis_y, height, x)
    parts += _event_marks(events, axis_y, x)
    label = escape(f"Timeline of {drill.get('title') or 'the drill'}", quote=True)
    return (
        f'<svg class="timeline" viewBox="0 0 {_WIDTH} {height}" width="{_WIDTH}" '
        f'height="{height}" role="img" aria-label="{label}" font-size="11" '
        f'font-family="sans-serif">' + "".join(parts) + "</svg>"
    )


def _axis(start: float, end: float, y: int, x: Any) -> str:
    step = _tick_step(end - start)
    ticks = []
    tick = math.ceil(start / step) * step
    while tick <= end:
        ticks.append(
            f'<line x1="{x(tick)}" y1="{y}" x2="{x(tick)}" y2="{y + 4}" stroke="#888"/>'
            f'<text x="{x(tick)}" y="{y + 15}" text-anchor="middle" fill="#555"{_HALO}>'
            f"{tick:g} s</text>"
        )
        tick += step
    line = f'<line x1="{_LEFT}" y1="{y}" x2="{_WIDTH - _RIGHT}" y2="{y}" stroke="#888"/>'
    return line + "".join(ticks)


def _marker_lines(drill: dict[str, Any], axis_y: int, height: int, x: Any) -> list[str]:
    colours = {"static budget": "#8a6d00", "RTO target": "#b00020", "measured RTO": "#0b6e4f"}
    parts = []
    for row, (label, at, dash) in enumerate(_markers(drill)):
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        anchor = "end" if x(at) > _WIDTH * 0.6 else "start"
        shift = -4 if anchor == "end" else 4
        parts.append(
            f'<g class="marker"><line x1="{x(at)}" y1="{10 + row * 14}" x2="{x(at)}" '
            f'y2="{height - 4}" stroke="{colours[label]}" stroke-width="1.5"{dashes}/>'
            f'<text x="{x(at) + shift}" y="{20 + row * 14}" text-anchor="{anchor}" '
            f'fill="{colours[label]}"{_HALO}>{escape(f"{label} {at:.1f} s")}</text></g>'
        )
    return parts


def _event_marks(events: list[dict[str, Any]], axis_y: int, x: Any) -> list[str]:
    """One dot per event on the axis, its label on a row of its own so none overlap.

    Every leader line is drawn before any label, and each label sits on a white
    box of its estimated width, so no leader strikes through a label.
    """
    leaders, labels = [], []
    for row, event in enumerate(events):
        at = event["at_seconds"]
        label_y = axis_y + 34 + row * _ROW_HEIGHT
        leaders.append(
            f'<line x1="{x(at)}" y1="{axis_y}" x2="{x(at)}" y2="{label_y - 4}" '
            f'stroke="#1f4e9a" stroke-width="0.5"/>'
            f'<circle cx="{x(at)}" cy="{axis_y}" r="4" fill="#1f4e9a"/>'
        )
        labels.append(_label(f"{event['name']} ({at:g} s)", x(at), label_y))
    return ['<g class="events">', *leaders, *labels, "</g>"]


def _label(text: str, at_x: float, y: float) -> str:
    """Text beside its leader, on the side with room, over a white box."""
    width = round(len(text) * _CHAR_WIDTH + 4, 1)
    if at_x > _WIDTH * 0.6:
        box_x, text_x, anchor = at_x - 6 - width, at_x - 8, "end"
    else:
        box_x, text_x, anchor = at_x + 4, at_x + 6, "start"
    return (
        f'<rect x="{round(box_x, 1)}" y="{y - 11}" width="{width}" height="14" fill="#fff"/>'
        f'<text x="{round(text_x, 1)}" y="{y}" text-anchor="{anchor}">{escape(text)}</text>'
    )
