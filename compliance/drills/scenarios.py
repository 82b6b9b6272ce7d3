"""The four deploy-phase drills on the local lab, each returning one drill record.

- DR-DEP-01 region loss: kill the primary region's database and health
  function at a random moment; RTO = failure → first acknowledged write
  through the DNS name, RPO = the window of acknowledged writes the new
  primary lacks; both against the (scaled) targets.
- DR-DEP-02 replication lag: freeze the primary's walsender (SIGSTOP) for
  twice the stacks' AuroraGlobalDBReplicationLag threshold, then lose the
  region; the loss window must match the injected lag and the lag alarm,
  evaluated as its period and datapoints say, must fire.
- DR-DEP-03 planned switchover: quiesce, wait for replay, stop, promote,
  re-point the old primary; nothing acknowledged may be lost.
- DR-DEP-04 consistency: region loss right after a passed watchdog probe
  (the worst moment for detection); the RTO must not exceed the budget
  DR-RTO-01 computes for the drilled output, scaled.

Every record carries the budget and, stage by stage, what the lab measured
beside it (``budget.measure``).
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from compliance.drills.alarm import ALARM
from compliance.drills.budget import DNS_TTL, BudgetPath, StageRow, lab_delays, measure
from compliance.drills.client import lost_window
from compliance.drills.engines import Engines, locate
from compliance.drills.interrupts import held
from compliance.drills.knobs import Design
from compliance.drills.lab import STAND_INS, LocalLab, Region, release_addresses
from compliance.drills.processes import Supervisor, processes_in
from compliance.drills.promoter import switchover
from compliance.drills.reclaim import reclaim_abandoned
from compliance.drills.timeline import FAILURE_INJECTED, FIRST_WRITE, Timeline

DEFAULT_SCALE = 0.2
LAG_FACTOR = 2.0  # injected lag, relative to the lag alarm's threshold
LOSS_TOLERANCE = (0.1, 0.15)  # seconds, and fraction of the injected lag: the larger counts


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    run: Callable[[LocalLab], Outcome]


@dataclass
class DrillOptions:
    scale_factor: float = DEFAULT_SCALE
    progress: Callable[[str], None] = lambda message: None
    engines: Engines | None = None
    write_period: float = 0.01
    # Drills run side by side: reclaim once before all of them, not in each; wait for
    # every lab to be built before any measures (a build's initdb must not load a drill).
    reclaim: bool = True
    built: threading.Barrier | None = None


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
    stages: list[StageRow] = field(default_factory=list)
    # The lab's own time on the failover path that no DR-RTO-01 stage stands for
    # (stage name -> measured seconds): see budget.lab_delays.
    lab_delays: dict[str, float] = field(default_factory=dict)


def _recovery_timeout(lab: LocalLab) -> float:
    budget = lab.design.budget.rto_seconds if lab.design.budget else None
    return max(30.0, 2 * budget + 10) if budget else 120.0


def _measure_failover(lab: LocalLab, failed_at: float, survivor: Region) -> Outcome:
    """Wait for the survivor's first write, then compare the client's log with its rows."""
    served = lab.wait_first_write(failed_at, survivor, _recovery_timeout(lab))
    if served is not None:
        lab.timeline.mark(FIRST_WRITE, at=served)
        lab.progress(f"first write served by {survivor.name} after {served - failed_at:.2f} s")
        _more_writes(lab, survivor, served)
    ended = time.monotonic()
    lab.stop_traffic()
    moments = lab.moments(failed_at, ended)
    assert survivor.database is not None
    surviving = survivor.database.written_seqs()
    rpo, lost = lost_window(lab.writer.acked, surviving)
    rto = None if served is None else round(served - failed_at, 3)
    after = [i for i in lab.invocations if i.at >= failed_at]
    before = [i for i in lab.invocations if i.at < failed_at]
    measurements = {
        "acknowledged_writes": len(lab.writer.acked),
        "lost_writes": len(lost),
        "lost_seq_range": [lost[0].seq, lost[-1].seq] if lost else [],
        "failed_write_attempts": len(lab.writer.errors),
        "failover_handler": [
            {"trigger": i.trigger, "action": i.action, "at_seconds": round(i.at - failed_at, 3)}
            for i in after
        ],
        "failover_runs_before_failure": _counts(i.action for i in before),
        "dns_lookups_by_client": lab.writer.resolver.queries,
        "client_cache_phase": lab.cache_phase,
        "promotion_trigger": moments.trigger,
    }
    promotion = next((p for p in lab.promoter.promotions if p.call.at >= failed_at), None)
    if promotion is not None and promotion.done is not None and promotion.started is not None:
        measurements["pg_promote_seconds"] = round(promotion.done - promotion.started, 3)
        measurements["promotion_standin_wait_seconds"] = promotion.waited
    outcome = Outcome(rto, round(rpo, 3), measurements=measurements, notes=list(lab.notes))
    outcome.lab_delays = lab_delays(moments)
    if lab.design.budget is not None:
        outcome.stages = measure(lab.design.budget, moments)
    else:
        outcome.notes.append("No DR-RTO-01 budget was given: the stages are not compared.")
    return outcome


def _counts(actions: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for action in actions:
        counts[action] = counts.get(action, 0) + 1
    return counts


def _more_writes(lab: LocalLab, survivor: Region, served: float, count: int = 10) -> None:
    """A few more writes land on the new primary (its rows are then compared)."""
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        recent = [w for w in lab.writer.acked[-count:] if w.address == survivor.address]
        if len(recent) >= count:
            return
        time.sleep(0.01)


def _probe_interval(lab: LocalLab) -> float:
    knobs = lab.design.knobs
    return (
        knobs.watchdog_interval
        if lab.schedule is not None and knobs.watchdog_interval
        else knobs.interval
    )


def _random_phase(lab: LocalLab) -> float:
    """Wait a random part of one probe interval; return it (the failure is not in step)."""
    phase = round(random.uniform(0, _probe_interval(lab)), 3)
    time.sleep(phase)
    return phase


RTO_CHECK = "RTO below target, or within a waived budget"


def rto_check(outcome: Outcome, design: Design) -> Check:
    """Below the RTO target; over it, within DR-RTO-01's budget only where a waiver accepts it.

    The app's waivers accept DR-RTO-01's budget over the target when no design
    can meet it (Aurora's promotion alone takes up to a minute); a region loss
    recovered within that budget is then the accepted outcome, said as such.
    """
    target = design.rto_target
    if outcome.rto is None:
        return Check(RTO_CHECK, False, "no write was served after the failure")
    if outcome.rto < target:
        return Check(RTO_CHECK, True, f"measured {outcome.rto:.2f} s, target {target:g} s")
    path = design.budget.rto_path if design.budget else None
    over = f"measured {outcome.rto:.2f} s, over the {target:g} s target"
    if design.rto_waiver is None or path is None or path.total is None:
        return Check(RTO_CHECK, False, f"{over}; no waiver accepts DR-RTO-01's budget")
    charged, less = _charged(outcome.rto, outcome.lab_delays, path)
    within = charged <= path.total
    return Check(
        RTO_CHECK,
        within,
        f"{over}{less}; {'within' if within else 'over'} DR-RTO-01's {path.total:g} s "
        f"budget, which the app accepts ({design.rto_waiver})",
    )


def _fail_after_passed_probe(lab: LocalLab) -> tuple[float, str]:
    """Lose the primary region right after a passed probe of the promotion's trigger.

    With a watchdog, the loss happens inside the run that just probed (the
    primary was healthy: steady state), before it sleeps, so no thread
    wake-up stands between the probe and the failure.
    """
    timeout = _probe_interval(lab) * 3 + 5
    if lab.schedule is not None:
        failed: list[float] = []
        errors: list[BaseException] = []
        done = threading.Event()

        def lose() -> None:
            try:
                failed.append(lab.timeline.mark(FAILURE_INJECTED))
                lab.lose_region(lab.primary)
            except BaseException as error:  # raised in the drill's thread below
                errors.append(error)
            finally:
                done.set()

        lab.schedule.after_next_probe(lose)
        if not done.wait(timeout):
            raise TimeoutError("no watchdog run probed the primary")
        if errors:
            raise errors[0]
        return failed[0], "a watchdog run's probe"
    checker = lab.checkers[lab.primary.name]
    while not checker.wait_for_probe(timeout=timeout).healthy:
        pass
    failed_at = lab.timeline.mark(FAILURE_INJECTED)
    lab.lose_region(lab.primary)
    return failed_at, "a health check's probe"


def region_loss(lab: LocalLab, *, worst_phase: bool = False) -> Outcome:
    lab.start_traffic()
    lab.wait_steady()
    phase: float | None = None
    after = ""
    if worst_phase:
        lab.progress(
            f"killing region {lab.primary.name} right after a passed probe of the primary "
            "(the worst moment to fail)"
        )
        failed_at, after = _fail_after_passed_probe(lab)
    else:  # the failure comes at any moment, not in step with the probe loops
        phase = _random_phase(lab)
        lab.progress(f"killing region {lab.primary.name}: database and health function")
        failed_at = lab.timeline.mark(FAILURE_INJECTED)
        lab.lose_region(lab.primary)
    outcome = _measure_failover(lab, failed_at, lab.secondary)
    if phase is not None:
        outcome.measurements["failure_phase_seconds"] = phase
    else:
        outcome.measurements["failure_injected_after"] = after
    design = lab.design
    outcome.checks += [
        rto_check(outcome, design),
        Check(
            "RPO below target",
            outcome.rpo is not None and outcome.rpo < design.rpo_target,
            f"measured {outcome.rpo:.3f} s, target {design.rpo_target:g} s",
        ),
    ]
    return outcome


def drill_region_loss(lab: LocalLab) -> Outcome:
    return region_loss(lab)


def budget_check(outcome: Outcome, design: Design) -> Check:
    """The measured RTO against DR-RTO-01's budget for the drilled output, scaled."""
    name = "RTO within the DR-RTO-01 budget"
    budget = design.budget
    slowest = budget.rto_path if budget else None
    if budget is None or slowest is None or slowest.total is None:
        why = "no budget was given" if budget is None else "a path is unbounded or not computed"
        return Check(name, False, f"DR-RTO-01 gives no bounded budget to compare with ({why})")
    stages = " + ".join(f"{s.stage} {s.seconds:g} s" for s in slowest.stages)
    if outcome.rto is None:
        return Check(name, False, f"no write was served; budget {slowest.total:g} s")
    charged, less = _charged(outcome.rto, outcome.lab_delays, slowest)
    return Check(
        name,
        charged <= slowest.total,
        f"measured {outcome.rto:.2f} s{less}, budget {slowest.total:g} s "
        f"({slowest.path}: {stages})",
    )


_LAB_DELAY = {
    "promotion": "pg_promote() after the stand-in wait, which AWS's promotion figure covers",
    DNS_TTL: "PowerDNS's 1 s health poll, which Route 53 does not have",
}


def _charged(rto: float, delays: dict[str, float], path: BudgetPath) -> tuple[float, str]:
    """The RTO less the lab's own delays on ``path``, and the text that names each one."""
    on_path = {s.stage for s in path.stages}
    own = {stage: t for stage, t in delays.items() if stage in on_path and t > 0}
    if not own:
        return rto, ""
    charged = round(rto - sum(own.values()), 3)
    less = "".join(f" - {t:.2f} s {_LAB_DELAY.get(stage, stage)}" for stage, t in own.items())
    return charged, f"{less} = {charged:.2f} s"


def drill_consistency(lab: LocalLab) -> Outcome:
    outcome = region_loss(lab, worst_phase=True)
    outcome.checks = [budget_check(outcome, lab.design)]
    outcome.notes.append(
        "Failure injected right after a passed probe of the trigger: detection takes its "
        "whole interval × threshold."
    )
    return outcome


def drill_replication_lag(lab: LocalLab) -> Outcome:
    design = lab.design
    alarm = design.lag_alarm
    threshold = alarm.threshold / 1000  # the metric is in milliseconds
    injected = round(threshold * LAG_FACTOR, 3)
    lab.start_traffic()
    lab.start_lag_alarm()
    lab.wait_steady()
    phase = _random_phase(lab)
    primary, standby = lab.primary.database, lab.secondary.database
    assert primary is not None and standby is not None
    assert lab.lag_alarm is not None and lab.lag_sampler is not None
    walsenders = primary.walsender_pids()
    lab.progress(f"freezing walsender {walsenders} for {injected:g} s (SIGSTOP)")
    frozen_at = lab.timeline.mark("replication lag injected")
    for pid in walsenders:
        os.kill(pid, signal.SIGSTOP)
    time.sleep(max(0.0, frozen_at + injected - time.monotonic()))
    lab.lag_sampler.sample()  # the lag's last value before the failure, whatever the load
    lab.progress(f"killing region {lab.primary.name} with the walsender still frozen")
    failed_at = lab.timeline.mark(FAILURE_INJECTED)
    lab.lag_alarm.stop_metric(failed_at)  # the lag metric ends with the primary
    lab.lose_region(lab.primary)  # SIGKILL reaches the stopped walsender too
    span = alarm.datapoint_seconds
    lab.lag_alarm.wait_judged(failed_at, timeout=span + 10)
    peak = lab.lag_sampler.peak(failed_at)
    above = next(
        (at for at, lag in lab.lag_sampler.samples if at >= frozen_at and lag > threshold), None
    )
    if above is not None:
        lab.timeline.mark("replication lag above alarm threshold", at=above)
    fired = lab.lag_alarm.entered(ALARM, after=frozen_at)
    if fired is not None:
        lab.timeline.mark("replication-lag alarm fired", at=fired)
    outcome = _measure_failover(lab, failed_at, lab.secondary)
    window = failed_at - frozen_at
    tolerance = max(LOSS_TOLERANCE[0], LOSS_TOLERANCE[1] * window)
    matches = outcome.rpo is not None and abs(outcome.rpo - window) <= tolerance
    rpo_text = "none" if outcome.rpo is None else f"{outcome.rpo:.3f} s"
    outcome.checks += [
        Check(
            "loss window matches the injected lag",
            matches,
            f"lost {rpo_text} of acknowledged writes; lag injected for {window:.3f} s "
            f"(tolerance {tolerance:.2f} s)",
        ),
        Check(
            "replication-lag alarm fired",
            fired is not None,
            (
                f"{alarm.name} in ALARM {fired - frozen_at:.2f} s after the lag began "
                f"(peak {peak * 1000:.0f} ms > {alarm.threshold:g} ms; {alarm.statistic} over "
                f"{span:g} s, {alarm.datapoints_to_alarm} of {alarm.evaluation_periods})"
                if fired is not None
                else f"{alarm.name} did not fire (peak {peak * 1000:.0f} ms, threshold "
                f"{alarm.threshold:g} ms, {alarm.statistic} over {span:g} s)"
            ),
        ),
    ]
    fraction = float(design.settings.get("rpo_alarm_fraction", 0.5))
    outcome.measurements.update(
        failure_phase_seconds=phase,
        injected_lag_seconds=round(window, 3),
        peak_replication_lag_seconds=round(peak, 3),
        lag_alarm_threshold_seconds=threshold,
        lag_alarm_name=alarm.name,
        lag_alarm_fired_after_lag_seconds=None if fired is None else round(fired - frozen_at, 3),
        rpo_within_target=outcome.rpo is not None and outcome.rpo < design.rpo_target,
    )
    if fired is not None:
        outcome.notes.append(
            f"DR-RPO-02 asks the lag alarm to fire within {fraction:g} × RPO = "
            f"{fraction * design.rpo_target:g} s (scaled); here it fired "
            f"{fired - frozen_at:.2f} s after the lag began: a one-minute metric's period "
            "decides, not the threshold."
        )
    return outcome


def drill_switchover(lab: LocalLab) -> Outcome:
    old, new = lab.primary, lab.secondary
    assert old.database is not None and new.database is not None
    lab.start_traffic()
    lab.wait_steady()
    lab.timeline = Timeline()  # the switchover is the origin; nothing before it is drawn
    started = lab.timeline.mark("switchover started")
    lab.timeline.origin = started
    lab.progress("planned switchover: quiesce, wait for replay, stop, promote, re-point")
    with lab.promoter.switching():  # describe_global_clusters says so to every trigger
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
        "DR-DEP-04", "RTO within the DR-RTO-01 budget (worst-case timing)", drill_consistency
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

    if options.reclaim:  # what a SIGKILLed drill left holds ports and memory
        for reclaimed in reclaim_abandoned():
            progress(reclaimed.describe())
    progress(f"{scenario.title}: building the lab (scale factor {options.scale_factor:g})")
    lab: LocalLab | None = None
    try:
        with Supervisor(prefix=f"dr-{scenario_id.lower()}-") as supervisor:
            lab = LocalLab(scaled, engines, supervisor, progress, options.write_period)
            progress(
                f"lab folder {supervisor.root}; ports: database {lab.db_port}, "
                f"health {lab.http_port}, DNS {lab.dns_port}"
            )
            try:
                lab.build()
                if options.built is not None:
                    progress("built; waiting for the other labs to be built")
                    try:
                        options.built.wait(timeout=180)
                    except threading.BrokenBarrierError:  # another lab failed: measure anyway
                        pass
                outcome = scenario.run(lab)
            finally:
                with held():  # the client and the triggers stop before their servers do
                    lab.stop_traffic()
    except BaseException:
        if options.built is not None:
            options.built.abort()  # the others must not wait for a lab that will never be built
        raise
    finally:
        if lab is not None:  # its processes are gone: the addresses are free again
            release_addresses(lab.addresses)
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
    record: dict[str, Any] = {
        "id": scenario.id,
        "scenario": scenario.title,
        "target": target,
        "scale_factor": factor,
        "knobs": scaled.knobs.to_dict(),
        "engines": dict(engines),
        "stand_ins": dict(STAND_INS if stand_ins is None else stand_ins),
        "timeline": timeline.to_list(),
        "rto_seconds": outcome.rto,
        "rpo_seconds": outcome.rpo,
        "targets": {"rto_seconds": scaled.rto_target, "rpo_seconds": scaled.rpo_target},
        "static_budget_seconds": scaled.budget.rto_seconds if scaled.budget else None,
        "passed": bool(outcome.checks) and all(check.passed for check in outcome.checks),
        "checks": [check.to_dict() for check in outcome.checks],
        "measurements": outcome.measurements,
        "notes": outcome.notes,
        "unscaled": {
            "knobs": design.knobs.to_dict(),
            "targets": {"rto_seconds": design.rto_target, "rpo_seconds": design.rpo_target},
            "static_budget_seconds": design.budget.rto_seconds if design.budget else None,
        },
        "started_at": started_at,
        "duration_seconds": round(duration, 2),
    }
    if scaled.budget is not None:
        record["budget"] = scaled.budget.to_dict()
    record["stages"] = [row.to_dict() for row in outcome.stages]
    return record
