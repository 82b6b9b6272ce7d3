"""DR-RTO-01's per-stage budget as the report draws it: one stacked bar per failover path.

Each path (the DNS path of a failover record, the promotion path of a global
database) is a bar of its stages, in order, on one time axis shared by every
path so they compare at a glance, with the RTO target as a dashed line. A stage
that has no bound (no health check, no promotion trigger) runs to the end of the
axis, hatched. The numbers are always printed too: in each segment that has
room, after the bar, and in the table beside the chart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from compliance.reports.document import BudgetPath

WIDTH = 720
_LEFT, _RIGHT = 8, 96  # room on the right for the total
_TOP = 18  # room above the bar for the target's label
_BAR = 22
HEIGHT = _TOP + _BAR + 22  # the axis labels below
_CHAR = 6.6  # px per character of 11 px sans-serif, generous
# Stage colours (fill, text): distinct in greyscale order too.
PALETTE = (
    ("#1f4e9a", "#ffffff"),
    ("#6b9bd6", "#000000"),
    ("#8a6d00", "#ffffff"),
    ("#e0b84a", "#000000"),
    ("#0b6e4f", "#ffffff"),
    ("#7fc8a9", "#000000"),
)
UNBOUNDED_FILL = "#b00020"


@dataclass(frozen=True)
class Segment:
    stage: str
    seconds: float | None
    source: str
    x: float
    width: float
    fill: str
    ink: str
    label: str  # printed inside when it fits, else ""
    unbounded: bool


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class BudgetChart:
    title: str  # e.g. "DNS path of global/aws_route53_record.primary-record"
    path: BudgetPath
    segments: list[Segment]
    ticks: list[Tick]
    target_x: float | None
    target_label: str
    total_x: float
    total_label: str
    within: bool | None  # None: unbounded or not computable
    aria: str
    width: int = WIDTH
    height: int = HEIGHT
    top: int = _TOP
    bar: int = _BAR


def charts(paths: list[BudgetPath]) -> list[BudgetChart]:
    """One chart per path, on a common scale."""
    if not paths:
        return []
    extent = max(_extent(path) for path in paths) * 1.08 or 1.0
    return [_chart(path, extent) for path in paths]


def _extent(path: BudgetPath) -> float:
    bounded = sum(s.seconds or 0.0 for s in path.stages if not s.unbounded)
    return max(bounded, path.total or 0.0, path.target or 0.0, 1.0)


def _chart(path: BudgetPath, extent: float) -> BudgetChart:
    span = WIDTH - _LEFT - _RIGHT

    def x_of(seconds: float) -> float:
        return round(_LEFT + span * min(seconds, extent) / extent, 2)

    segments, at = [], 0.0
    for index, stage in enumerate(path.stages):
        fill, ink = PALETTE[index % len(PALETTE)]
        if stage.unbounded or stage.seconds is None:
            start = x_of(at)
            width = round(_LEFT + span - start, 2)
            label = "unbounded" if stage.unbounded else "unknown"
            fits = width > len(label) * _CHAR + 6
            segments.append(
                Segment(
                    stage.stage,
                    None,
                    stage.source,
                    start,
                    width,
                    UNBOUNDED_FILL,
                    "#ffffff",
                    label if fits else "",
                    True,
                )
            )
            at = extent
            continue
        start, end = x_of(at), x_of(at + stage.seconds)
        label = f"{stage.seconds:g} s"
        fits = end - start > len(label) * _CHAR + 6
        segments.append(
            Segment(
                stage.stage,
                stage.seconds,
                stage.source,
                start,
                round(end - start, 2),
                fill,
                ink,
                label if fits else "",
                False,
            )
        )
        at += stage.seconds
    unbounded = any(s.unbounded for s in segments)
    total = path.total
    within = None if unbounded or total is None or path.target is None else total <= path.target
    total_label = "unbounded" if unbounded else ("—" if total is None else f"{total:g} s")
    if within is not None:
        total_label += " ✓ fits" if within else " ✗ over"
    target_x = x_of(path.target) if path.target is not None else None
    target_label = f"RTO target {path.target:g} s" if path.target is not None else ""
    name = {"dns": "DNS path", "promotion": "Promotion path"}.get(path.path, f"{path.path} path")
    where = f"{path.stack}/{path.address}" if path.stack else path.address
    stages = ", ".join(
        f"{s.stage} {'unbounded' if s.unbounded else f'{s.seconds:g} s'}" for s in segments
    )
    return BudgetChart(
        title=f"{name} of {where}",
        path=path,
        segments=segments,
        ticks=_ticks(extent, x_of),
        target_x=target_x,
        target_label=target_label,
        total_x=min(
            x_of(total if total is not None and not unbounded else extent) + 6, WIDTH - _RIGHT + 6
        ),
        total_label=total_label,
        within=within,
        aria=f"{name}: {stages}; total {total_label}; {target_label}",
    )


def _ticks(extent: float, x_of: Callable[[float], float]) -> list[Tick]:
    step = next(s for s in (1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 1e9) if extent / s <= 8)
    ticks, value = [], 0.0
    while value <= extent:
        ticks.append(Tick(x_of(value), f"{value:g} s"))
        value += step
    return ticks
