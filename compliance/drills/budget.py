"""DR-RTO-01's per-stage budget, scaled, beside what the lab measured for each stage.

The budget is the one the policy computes for the drilled output
(``RequirementResult.details["budget"]``: paths of ``{stage, seconds,
source}``), never recomputed here: the drills and the static check must
disagree only where AWS and the lab do. Scaling multiplies every stage; the
DNS TTL stage takes the lab record's TTL (whole seconds on the wire).

Each stage is then matched with the lab's moments (seconds after the
failure). A stage is ``measured`` when the lab saw both its ends, a
``stand-in`` when the lab waited an allowance because it has nothing that
takes AWS's time (Aurora's promotion, CloudWatch's alarm action), and ``not
measured`` when the lab has no such step, which the row says; nothing is
invented.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

DNS_TTL = "DNS TTL"


@dataclass(frozen=True)
class Stage:
    stage: str
    seconds: float | None
    source: str
    unbounded: bool = False


@dataclass(frozen=True)
class BudgetPath:
    path: str
    subject: str
    stages: tuple[Stage, ...]
    target: float | None

    @property
    def total(self) -> float | None:
        values = [stage.seconds for stage in self.stages]
        if not values or any(v is None for v in values):
            return None
        return round(sum(v for v in values if v is not None), 3)


@dataclass(frozen=True)
class Budget:
    """The paths DR-RTO-01 published; ``scale`` is the factor they were multiplied by."""

    paths: tuple[BudgetPath, ...]
    scale: float = 1.0

    @classmethod
    def from_details(cls, paths: Any) -> Budget:
        """From ``details["budget"]``; ``ValueError`` naming what is malformed."""
        if not isinstance(paths, list) or not paths:
            raise ValueError("DR-RTO-01 published no budget paths")
        out = []
        for entry in paths:
            if not isinstance(entry, dict) or not isinstance(entry.get("stages"), list):
                raise ValueError(f"a DR-RTO-01 budget path has no stages: {entry!r}")
            stages = tuple(
                Stage(
                    stage=str(s.get("stage", "?")),
                    seconds=_number(s.get("seconds")),
                    source=str(s.get("source", "")),
                    unbounded=bool(s.get("unbounded")),
                )
                for s in entry["stages"]
                if isinstance(s, dict)
            )
            subject = f"{entry.get('stack', '?')}/{entry.get('address', '?')}"
            out.append(
                BudgetPath(
                    str(entry.get("path", "?")), subject, stages, _number(entry.get("target"))
                )
            )
        return cls(tuple(out))

    def scaled(self, factor: float, *, ttl: float | None = None) -> Budget:
        def stage(s: Stage) -> Stage:
            if s.seconds is None:
                return s
            if s.stage == DNS_TTL and ttl is not None:
                return replace(s, seconds=ttl, source=f"{s.source}; the lab record's TTL")
            return replace(s, seconds=round(s.seconds * factor, 3))

        return Budget(
            tuple(
                replace(
                    p,
                    stages=tuple(stage(s) for s in p.stages),
                    target=None if p.target is None else round(p.target * factor, 3),
                )
                for p in self.paths
            ),
            self.scale * factor,
        )

    @property
    def rto_path(self) -> BudgetPath | None:
        """The path that bounds recovery: the slowest (None when any path is unbounded)."""
        if any(p.total is None for p in self.paths):
            return None
        return max(self.paths, key=lambda p: p.total or 0.0)

    @property
    def rto_seconds(self) -> float | None:
        path = self.rto_path
        return None if path is None else path.total

    def to_dict(self) -> dict[str, Any]:
        slowest = self.rto_path
        return {
            "source": "DR-RTO-01 for the drilled output"
            + (f", every stage x {self.scale:g}" if self.scale != 1 else ""),
            "rto_path": slowest.path if slowest else None,
            "rto_seconds": self.rto_seconds,
            "paths": [
                {
                    "path": p.path,
                    "subject": p.subject,
                    "total": p.total,
                    "stages": [
                        {k: v for k, v in asdict(s).items() if k != "unbounded" or v}
                        for s in p.stages
                    ],
                }
                for p in self.paths
            ],
        }


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


# --- what the lab measured, stage by stage ---------------------------------------------------


@dataclass
class Moments:
    """What the lab saw, in seconds after the failure (None: not seen)."""

    primary_unhealthy: float | None = None
    trigger: str | None = None  # "watchdog" or "alarm": the one whose call promoted
    detected: float | None = None  # that trigger decided (watchdog tripped, alarm in ALARM)
    alarm_state: float | None = None  # the primary health alarm entered ALARM
    alarm_action: float | None = None  # its action reached the failover function
    promote_called: float | None = None  # failover_global_cluster
    promotion_done: float | None = None
    standin_wait: float | None = None  # of that, the promotion allowance the lab waited
    secondary_healthy: float | None = None
    dns_changed: float | None = None
    first_write: float | None = None
    ended: float | None = None  # the drill stopped watching
    dns_poll: float = 1.0  # PowerDNS's health-check poll interval


@dataclass(frozen=True)
class StageRow:
    path: str
    stage: str
    budget_seconds: float | None
    measured_seconds: float | None
    how: str  # "measured", "stand-in" or "not measured"
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        budget = "—" if self.budget_seconds is None else f"{self.budget_seconds:g} s"
        measured = "—" if self.measured_seconds is None else f"{self.measured_seconds:.2f} s"
        return (
            f"{self.path:>18} | {self.stage:<32} | {measured:>8} | {budget:>8} | "
            f"{self.how:<12} | {self.detail}"
        )


HEADER = f"{'path':>18} | {'stage':<32} | {'measured':>8} | {'budget':>8} | {'how':<12} | detail"


def _span(start: float | None, end: float | None) -> float | None:
    if start is None or end is None:
        return None
    return round(end - start, 3)


def _row(
    path: str, stage: Stage, value: float | None, how: str, detail: str, missing: str
) -> StageRow:
    if value is None:
        return StageRow(path, stage.stage, stage.seconds, None, "not measured", missing)
    return StageRow(path, stage.stage, stage.seconds, value, how, detail)


def measure(budget: Budget, seen: Moments) -> list[StageRow]:
    """Every budget stage beside what the lab measured for it, plus the lab's own delays."""
    rows: list[StageRow] = []
    for path in budget.paths:
        for stage in path.stages:
            rows.append(_measure_stage(path.path, stage, seen))
    rows.append(_dns_update(seen))
    return rows


_TRIGGER_STAGES = (
    "watchdog detection",
    "schedule",
    "metric publication",
    "alarm evaluation",
    "alarm action",
    "invocation",
    "promotion",
)


def _measure_stage(path: str, stage: Stage, seen: Moments) -> StageRow:  # noqa: C901 - a table
    name = stage.stage
    ended = f"not seen before the drill ended ({seen.ended:.1f} s)" if seen.ended else "not seen"
    if seen.trigger == "switchover" and name in _TRIGGER_STAGES:
        return _row(
            path,
            stage,
            None,
            "",
            "",
            "a planned switchover: the drill promoted through the switchover stand-in, no "
            "trigger and no failover_global_cluster call",
        )
    if name == "health-check detection":
        return _row(
            path,
            stage,
            seen.primary_unhealthy,
            "measured",
            "failure → the PRIMARY record's health check turned unhealthy",
            f"the PRIMARY health check did not turn unhealthy: {ended}",
        )
    if name in ("watchdog detection", "schedule"):
        if seen.trigger not in (None, "watchdog"):
            return _row(path, stage, None, "", "", f"the {seen.trigger} promoted first")
        return _row(
            path,
            stage,
            seen.detected,
            "measured",
            "failure → a scheduled run's consecutive failed probes reached the threshold",
            f"no scheduled run tripped: {ended}",
        )
    if name == "metric publication":
        return _row(
            path,
            stage,
            None,
            "",
            "",
            "the lab evaluates each period as it ends; CloudWatch's publication delay is not "
            "modelled (the alarm evaluation row includes the wait for the period's end)",
        )
    if name == "alarm evaluation":
        return _row(
            path,
            stage,
            seen.alarm_state,
            "measured",
            "failure → the alarm's datapoints breached (period end included)",
            f"the alarm did not fire: {ended}",
        )
    if name == "alarm action":
        return _row(
            path,
            stage,
            _span(seen.alarm_state, seen.alarm_action),
            "stand-in",
            "the lab waited the scaled setting alarm_action_allowance_seconds (CloudWatch's "
            "delay is not measured)",
            f"the alarm's action did not run: {ended}",
        )
    if name == "invocation":
        start = seen.detected if seen.trigger == "watchdog" else seen.alarm_action
        detail = (
            "the run was already watching: tripped → failover_global_cluster call"
            if seen.trigger == "watchdog"
            else "alarm action delivered → failover_global_cluster call"
        ) + " (in-process: no cold start)"
        return _row(
            path,
            stage,
            _span(start, seen.promote_called),
            "measured",
            detail,
            f"the promotion was not requested: {ended}",
        )
    if name == "promotion":
        value = _span(seen.promote_called, seen.promotion_done)
        wait = seen.standin_wait
        real = None if value is None or wait is None else value - wait
        detail = (
            f"stand-in wait {wait:g} s for Aurora (setting promotion_allowance_seconds, AWS: "
            f"'in under a minute') + pg_promote() and its wait {real:.2f} s (measured)"
            if wait is not None and real is not None
            else "stand-in wait for Aurora, then pg_promote()"
        )
        return _row(
            path, stage, value, "stand-in", detail, f"the promotion did not finish: {ended}"
        )
    if name == "secondary health-check recovery":
        return _row(
            path,
            stage,
            _span(seen.promotion_done, seen.secondary_healthy),
            "measured",
            "promotion done → the SECONDARY record's health check turned healthy",
            f"the SECONDARY health check did not recover: {ended}",
        )
    if name == DNS_TTL:
        return _row(
            path,
            stage,
            _span(seen.dns_changed, seen.first_write),
            "measured",
            "DNS answer changed → first write served through the client's cached answer",
            f"no write was served after the DNS change: {ended}",
        )
    if name == "resolver allowance":
        return _row(
            path,
            stage,
            None,
            "",
            "",
            "the lab's client caches the answer itself: there is no resolver between it and "
            "the DNS server (what a resolver adds is in the DNS TTL row if anywhere)",
        )
    return _row(path, stage, None, "", "", "the lab has no step for this stage")


def _dns_update(seen: Moments) -> StageRow:
    """Health status → DNS answer: the lab's own delay, not a stage of DR-RTO-01."""
    span = _span(seen.secondary_healthy, seen.dns_changed)
    return StageRow(
        "lab",
        "DNS update (PowerDNS poll)",
        None,
        span,
        "measured" if span is not None else "not measured",
        f"health check healthy → PowerDNS answers with it (it polls every {seen.dns_poll:g} s, "
        "its minimum); Route 53 has no such poll in DR-RTO-01",
    )


def lab_delays(seen: Moments) -> dict[str, float]:
    """Time the lab spends where AWS's model has none, keyed by the budget stage it follows.

    ``promotion``: ``pg_promote()`` after the stand-in wait; the wait is AWS's
    documented promotion time, which already covers the engine's own (Aurora
    promotes in it), so the lab's engine time comes on top only here.
    ``DNS TTL``: PowerDNS polls health statuses every second (the DNS update
    row), Route 53 answers from a health check's status at once.
    """
    delays: dict[str, float] = {}
    called, done, wait = seen.promote_called, seen.promotion_done, seen.standin_wait
    if called is not None and done is not None and wait is not None:
        delays["promotion"] = round(max(0.0, done - called - wait), 3)
    poll = _span(seen.secondary_healthy, seen.dns_changed)
    if poll is not None:
        delays[DNS_TTL] = max(0.0, poll)
    return delays
