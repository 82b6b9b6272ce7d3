"""The four deploy-phase drills on the local lab, each returning one drill record.

- DR-DEP-01 region loss: kill the primary region's database and health
  function; RTO = failure → first acknowledged write through the DNS name,
  RPO = the window of acknowledged writes the new primary lacks.
- DR-DEP-02 replication lag: freeze the primary's walsender (SIGSTOP) for a
  lag above the stacks' AuroraGlobalDBReplicationLag threshold, then lose
  the region; the loss window must match the injected lag.
- DR-DEP-03 planned switchover: quiesce, wait for replay, stop, promote,
  re-point the old primary; nothing acknowledged may be lost.
- DR-DEP-04 consistency: region loss injected at the worst moment (just
  after a passed health probe); the RTO must not exceed the static budget.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from compliance.drills.client import lost_window
from compliance.drills.engines import Engines, locate
from compliance.drills.interrupts import held
from compliance.drills.knobs import Design
from compliance.drills.lab import STAND_INS, LocalLab, Region
from compliance.drills.processes import Supervisor, processes_in
from compliance.drills.promoter import switchover
from compliance.drills.reclaim import reclaim_abandoned
from compliance.drills.timeline import FAILURE_INJECTED, FIRST_WRITE, Timeline

DEFAULT_SCALE = 0.2
LAG_FACTOR = 1.4  # injected lag, relative to the lag alarm's threshold


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    run: Callable[[LocalLab], dict[str, Any]]


@dataclass
class DrillOptions:
    scale_factor: float = DEFAULT_SCALE
    progress: Callable[[str], None] = lambda message: None
    engines: Engines | None = None
    write_period: float = 0.01


@dataclass
class Check:
    name: str
    passed: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "detail": self.detail}


@dataclass
class Outcome:
    """What one scenario measured, before it becomes a drill record."""

    rto: float | None
    rpo: float | None
    checks: list[Check] = field(default_factory=list)
    measurements: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _recovery_timeout(lab: LocalLab) -> float:
    return max(30.0, 4 * lab.design.knobs.budget())


def _measure_failover(lab: LocalLab, failed_at: float, survivor: Region) -> Outcome:
    """Wait for the survivor's first write, then compare the client's log with its rows."""
    served = lab.wait_first_write(failed_at, survivor, _recovery_timeout(lab))
    if served is not None:
        lab.timeline.mark(FIRST_WRITE, at=served)
        lab.progress(f"first write served by {survivor.name} after {served - failed_at:.2f} s")
        time.sleep(0.2)  # a few more writes land on the new primary
    lab.stop_traffic()
    lab.note_dns_change(failed_at, survivor)
    assert survivor.database is not None
    surviving = survivor.database.written_seqs()
    rpo, lost = lost_window(lab.writer.acked, surviving)
    rto = None if served is None else round(served - failed_at, 3)
    measurements = {
        "acknowledged_writes": len(lab.writer.acked),
        "lost_writes": len(lost),
        "lost_seq_range": [lost[0].seq, lost[-1].seq] if lost else [],
        "failed_write_attempts": len(lab.writer.errors),
        "failover_handler": [r.get("action") for r in lab.handler_results],
        "dns_lookups_by_client": lab.writer.resolver.queries,
    }
    return Outcome(rto, round(rpo, 3), measurements=measurements)


def _random_phase(lab: LocalLab) -> float:
    """Wait a random part of one check interval; return it."""
    phase = round(random.uniform(0, lab.design.knobs.interval), 3)
    time.sleep(phase)
    return phase


def _rto_check(outcome: Outcome, limit: float, name: str) -> Check:
    if outcome.rto is None:
        return Check(name, False, "no write was served after the failure")
    return Check(name, outcome.rto < limit, f"measured {outcome.rto:.2f} s, limit {limit:g} s")


def region_loss(lab: LocalLab, *, worst_phase: bool = False) -> Outcome:
    lab.start_traffic()
    lab.wait_steady()
    if worst_phase:
        lab.progress("waiting for a passed health probe (worst moment to fail)")
        lab.alarm.wait_for_probe(healthy=True, timeout=lab.design.knobs.interval * 3 + 5)
        phase = None
    else:  # the failure comes at any moment, not in step with the check loops' start
        phase = _random_phase(lab)
    lab.progress(f"killing region {lab.primary.name}: database and health function")
    failed_at = lab.timeline.mark(FAILURE_INJECTED)
    lab.lose_region(lab.primary)
    outcome = _measure_failover(lab, failed_at, lab.secondary)
    if phase is not None:
        outcome.measurements["failure_phase_seconds"] = phase
    design = lab.design
    outcome.checks += [
        _rto_check(outcome, design.rto_target, "RTO below target"),
        Check(
            "RPO below target",
            outcome.rpo is not None and outcome.rpo < design.rpo_target,
            f"measured {outcome.rpo:.3f} s, target {design.rpo_target:g} s",
        ),
    ]
    outcome.notes.append(lab.design.unmodelled_delays())
    return outcome


def drill_region_loss(lab: LocalLab) -> Outcome:
    return region_loss(lab)


def drill_consistency(lab: LocalLab) -> Outcome:
    outcome = region_loss(lab, worst_phase=True)
    budget = lab.design.knobs.budget()
    within = outcome.rto is not None and outcome.rto <= budget
    outcome.checks = [
        Check(
            "RTO within the static budget",
            within,
            f"measured {outcome.rto} s, budget {budget:g} s "
            "(interval × failure threshold + TTL + promotion allowance)",
        )
    ]
    outcome.notes.append(
        "Failure injected right after a passed health probe: detection takes the full "
        "interval × failure threshold."
    )
    return outcome


def drill_replication_lag(lab: LocalLab) -> Outcome:
    design = lab.design
    threshold = design.lag_alarm_threshold_ms / 1000
    injected = round(threshold * LAG_FACTOR, 3)
    lab.start_traffic()
    lab.wait_steady()
    phase = _random_phase(lab)
    primary, standby = lab.primary.database, lab.secondary.database
    assert primary is not None and standby is not None
    walsenders = primary.walsender_pids()
    lab.progress(f"freezing walsender {walsenders} for {injected:g} s (SIGSTOP)")
    frozen_at = lab.timeline.mark("replication lag injected")
    for pid in walsenders:
        os.kill(pid, signal.SIGSTOP)
    peak = 0.0
    exceeded = False
    while time.monotonic() - frozen_at < injected:
        lag = standby.replay_lag_seconds() or 0.0
        peak = max(peak, lag)
        if lag * 1000 > design.lag_alarm_threshold_ms and not exceeded:
            exceeded = True
            lab.timeline.mark("replication lag above alarm threshold")
        time.sleep(0.05)
    lab.progress(f"measured replication lag {peak:.2f} s; killing region {lab.primary.name}")
    failed_at = lab.timeline.mark(FAILURE_INJECTED)
    lab.lose_region(lab.primary)  # SIGKILL reaches the stopped walsender too
    outcome = _measure_failover(lab, failed_at, lab.secondary)
    window = failed_at - frozen_at
    tolerance = max(0.3, 0.15 * window)
    matches = outcome.rpo is not None and abs(outcome.rpo - window) <= tolerance
    outcome.checks += [
        Check(
            "loss window matches the injected lag",
            matches,
            f"lost {outcome.rpo:.3f} s of acknowledged writes; lag injected for "
            f"{window:.3f} s (tolerance {tolerance:.2f} s)",
        ),
        Check(
            "replication-lag alarm would have fired",
            peak * 1000 > design.lag_alarm_threshold_ms,
            f"peak lag {peak * 1000:.0f} ms > threshold {design.lag_alarm_threshold_ms:g} ms "
            f"({design.lag_alarm_name})",
        ),
    ]
    outcome.measurements.update(
        failure_phase_seconds=phase,
        injected_lag_seconds=round(window, 3),
        peak_replication_lag_seconds=round(peak, 3),
        lag_alarm_threshold_seconds=threshold,
        lag_alarm_name=design.lag_alarm_name,
        rpo_within_target=outcome.rpo is not None and outcome.rpo < design.rpo_target,
    )
    if outcome.rpo is not None and outcome.rpo >= design.rpo_target:
        outcome.notes.append(
            "The lag alarm's threshold equals the RPO target: by the time it fires, a "
            "region loss would already lose more than the RPO allows."
        )
    return outcome


def drill_switchover(lab: LocalLab) -> Outcome:
    old, new = lab.primary, lab.secondary
    assert old.database is not None and new.database is not None
    lab.start_traffic()
    lab.wait_steady()
    lab.timeline = Timeline()  # the switchover is the origin; nothing before it is drawn
    lab.alarm_event = "primary health alarm fired"
    started = lab.timeline.mark("switchover started")
    lab.timeline.origin = started
    lab.progress("planned switchover: quiesce, wait for replay, stop, promote, re-point")
    switchover(old.database, new.database, lab.timeline.mark)
    outcome = _measure_failover(lab, started, new)
    following = _wait_following(old.database, new.database)
    if following:
        lab.timeline.mark("old primary following as replica")
    outcome.checks += [
        Check(
            "no acknowledged write lost",
            outcome.rpo == 0 and outcome.measurements["lost_writes"] == 0,
            f"{outcome.measurements['lost_writes']} of "
            f"{outcome.measurements['acknowledged_writes']} acknowledged writes missing",
        ),
        Check(
            "old primary became the replica",
            following,
            "streams from the new primary and replays its writes"
            if following
            else "the old primary is not replicating from the new one",
        ),
    ]
    return outcome


def _wait_following(old: Any, new: Any, timeout: float = 30.0) -> bool:
    """The old primary is in recovery, streams from the new one and replays a fresh row."""
    deadline = time.monotonic() + timeout
    new.sql(
        "INSERT INTO drill_writes (seq, written_at, via) VALUES (-1, now(), 'switchover-probe')"
    )
    while time.monotonic() < deadline:
        try:
            if (
                new.streaming_to() == ["streaming"]
                and not old.is_writer()
                and -1 in old.written_seqs()
            ):
                return True
        except Exception:  # the old primary may still be starting
            pass
        time.sleep(0.05)
    return False


SCENARIOS: dict[str, Scenario] = {
    "DR-DEP-01": Scenario("DR-DEP-01", "Region loss", drill_region_loss),
    "DR-DEP-02": Scenario(
        "DR-DEP-02", "Replication lag before a region loss", drill_replication_lag
    ),
    "DR-DEP-03": Scenario("DR-DEP-03", "Planned switchover", drill_switchover),
    "DR-DEP-04": Scenario(
        "DR-DEP-04", "RTO within the static budget (worst-case timing)", drill_consistency
    ),
}


def run_local(scenario_id: str, design: Design, options: DrillOptions) -> dict[str, Any]:
    """Build a fresh lab, run one scenario, tear everything down, return its record."""
    scenario = SCENARIOS[scenario_id]
    engines = options.engines or locate()
    scaled = design.scaled(options.scale_factor)
    started = time.monotonic()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")

    def progress(message: str) -> None:
        options.progress(f"{scenario_id} {message}")

    for reclaimed in reclaim_abandoned():  # what a SIGKILLed drill left holds ports and memory
        progress(reclaimed.describe())
    progress(f"{scenario.title}: building the lab (scale factor {options.scale_factor:g})")
    with Supervisor(prefix=f"dr-{scenario_id.lower()}-") as supervisor:
        lab = LocalLab(scaled, engines, supervisor, progress, options.write_period)
        progress(
            f"lab folder {supervisor.root}; ports: database {lab.db_port}, "
            f"health {lab.http_port}, DNS {lab.dns_port}"
        )
        try:
            lab.build()
            outcome = scenario.run(lab)
        finally:
            with held():  # the client and the alarm stop before their servers do
                lab.stop_traffic()
    outcome.measurements["left_after_cleanup"] = {
        "processes": len(processes_in(supervisor.root)),
        "folder_exists": supervisor.root.exists(),
    }
    progress("cleaned up")
    return drill_record(
        scenario,
        design,
        scaled,
        options.scale_factor,
        engines.versions(),
        lab.timeline,
        outcome,
        started_at=started_at,
        duration=time.monotonic() - started,
    )


def drill_record(
    scenario: Scenario,
    design: Design,
    scaled: Design,
    factor: float,
    engines: dict[str, str],
    timeline: Timeline,
    outcome: Outcome,
    *,
    started_at: str,
    duration: float,
    target: str = "local",
    stand_ins: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The agreed ``reports/drills.json`` entry (see ``drill.schema.json``)."""
    knobs = scaled.knobs
    return {
        "id": scenario.id,
        "scenario": scenario.title,
        "target": target,
        "scale_factor": factor,
        "knobs": knobs.to_dict(),
        "engines": dict(engines),
        "stand_ins": dict(STAND_INS if stand_ins is None else stand_ins),
        "timeline": timeline.to_list(),
        "rto_seconds": outcome.rto,
        "rpo_seconds": outcome.rpo,
        "targets": {"rto_seconds": scaled.rto_target, "rpo_seconds": scaled.rpo_target},
        "static_budget_seconds": round(knobs.budget(), 3),
        "passed": bool(outcome.checks) and all(check.passed for check in outcome.checks),
        "checks": [check.to_dict() for check in outcome.checks],
        "measurements": outcome.measurements,
        "notes": outcome.notes,
        "unscaled": {
            "knobs": design.knobs.to_dict(),
            "targets": {"rto_seconds": design.rto_target, "rpo_seconds": design.rpo_target},
            "static_budget_seconds": design.knobs.budget(),
        },
        "started_at": started_at,
        "duration_seconds": round(duration, 2),
    }
