"""The lab's chain, part by part, without engines: health checks, alarms, schedule, promoter.

Every wait is on an event or a condition with a deadline; nothing sleeps for
a fixed time to let something happen.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any

import pytest

from compliance.drills.alarm import (
    ALARM,
    INSUFFICIENT,
    OK,
    MetricAlarm,
    judge,
    statistic_value,
    supported,
)
from compliance.drills.health_check import HealthChecker, StatusServer
from compliance.drills.knobs import Alarm
from compliance.drills.lab import LagSampler
from compliance.drills.processes import reserve_port
from compliance.drills.promoter import FailoverInProgress, LabPromoter, triggered_by
from compliance.drills.watchdog import LabStopped, Schedule, scheduled_event

DEADLINE = 15.0  # generous: these tests must pass with both cores busy


def _until(condition: Any, timeout: float = DEADLINE) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


class _Health(BaseHTTPRequestHandler):
    healthy = True

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self.send_response(200 if type(self).healthy else 503)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[tuple[str, type[_Health]]]:
    """A health endpoint whose answer the test switches."""
    handler = type("Endpoint", (_Health,), {"healthy": True})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    ).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/health", handler
    server.shutdown()
    server.server_close()


# --- Route 53 health checks ------------------------------------------------------------------


def test_a_health_check_flips_only_after_the_threshold_both_ways(
    endpoint: tuple[str, type[_Health]],
) -> None:
    url, handler = endpoint
    checker = HealthChecker("p", url, interval=0.02, threshold=3, timeout=1.0)
    checker.start()
    try:
        assert checker.wait_status(True, DEADLINE)
        handler.healthy = False
        assert checker.wait_status(False, DEADLINE)
        handler.healthy = True
        assert checker.wait_status(True, DEADLINE)
    finally:
        checker.stop()
    down_at, up_at = checker.transitions[1][0], checker.transitions[2][0]
    for flip, result in ((down_at, False), (up_at, True)):
        before = [p for p in checker.probes if p.at <= flip]
        streak = 0
        for probe in reversed(before):  # results the other way, in a row, up to the flip
            if probe.healthy is not result:
                break
            streak += 1
        assert streak == 3, [(p.at, p.healthy) for p in before[-6:]]
    assert checker.turned(False, after=0) == down_at
    assert checker.turned(True, after=down_at) == up_at


def test_the_status_server_answers_each_region_with_its_check() -> None:
    results = {"a": [(True, "200")], "b": [(False, "503")]}

    def prober(name: str) -> Any:
        return lambda url, timeout: results[name][-1]

    checkers = {
        name: HealthChecker(name, "x", interval=0.02, threshold=1, timeout=1, prober=prober(name))
        for name in results
    }
    addresses = {"a": "127.0.0.31", "b": "127.0.0.32"}
    server = StatusServer(
        reserve_port(list(addresses.values())), {addresses[n]: c for n, c in checkers.items()}
    )
    server.start()
    for checker in checkers.values():
        checker.start()
    try:
        assert checkers["a"].wait_status(True, DEADLINE)
        assert checkers["b"].wait_status(False, DEADLINE)

        def get(name: str) -> tuple[int, bytes]:
            url = f"http://{addresses[name]}:{server.port}/status"
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    return response.status, response.read()
            except urllib.error.HTTPError as error:
                return error.code, error.read()

        assert get("a") == (200, b'{"status": "healthy"}')
        assert get("b") == (503, b'{"status": "unhealthy"}')
        results["b"].append((True, "200"))
        assert checkers["b"].wait_status(True, DEADLINE)
        assert get("b")[0] == 200
    finally:
        for checker in checkers.values():
            checker.stop()
        server.stop()


# --- CloudWatch alarms ----------------------------------------------------------------------


def _alarm(**changes: Any) -> Alarm:
    base = Alarm(
        name="health",
        subject="global/aws_cloudwatch_metric_alarm.h",
        namespace="AWS/Route53",
        metric="HealthCheckStatus",
        statistic="Minimum",
        comparison="LessThanThreshold",
        threshold=1.0,
        period=60.0,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        treat_missing_data="breaching",
        metric_interval=60.0,
    )
    return replace(base, **changes)


@pytest.mark.parametrize(
    ("datapoints", "changes", "current", "expected"),
    [
        ([1.0], {}, INSUFFICIENT, OK),
        ([1.0, 0.0], {}, OK, ALARM),  # the last one decides with 1 of 1
        ([None], {}, OK, ALARM),  # breaching: missing counts against
        ([None], {"treat_missing_data": "notBreaching"}, ALARM, OK),
        ([None], {"treat_missing_data": "ignore"}, ALARM, ALARM),  # the state is kept
        ([None], {"treat_missing_data": "missing"}, OK, INSUFFICIENT),
        ([0.0, 1.0, 0.0], {"evaluation_periods": 3, "datapoints_to_alarm": 2}, OK, ALARM),
        ([0.0, 1.0, 1.0], {"evaluation_periods": 3, "datapoints_to_alarm": 2}, OK, OK),
        ([0.0, None, 1.0], {"evaluation_periods": 3, "datapoints_to_alarm": 2}, OK, ALARM),
        (
            [1500.0],
            {"comparison": "GreaterThanThreshold", "threshold": 1000.0, "statistic": "Maximum"},
            OK,
            ALARM,
        ),
        ([1000.0], {"comparison": "GreaterThanThreshold", "threshold": 1000.0}, OK, OK),
        ([1000.0], {"comparison": "GreaterThanOrEqualToThreshold", "threshold": 1000.0}, OK, ALARM),
    ],
)
def test_an_alarm_is_judged_on_its_datapoints(
    datapoints: list[float | None], changes: dict[str, Any], current: str, expected: str
) -> None:
    assert judge(datapoints, _alarm(**changes), current) == expected


def test_a_span_becomes_one_datapoint_by_the_statistic() -> None:
    samples = [3.0, 1.0, 2.0, 10.0]
    assert statistic_value(samples, "Minimum") == 1.0
    assert statistic_value(samples, "Maximum") == 10.0
    assert statistic_value(samples, "Average") == 4.0
    assert statistic_value(samples, "Sum") == 16.0
    assert statistic_value(samples, "SampleCount") == 4.0
    assert statistic_value(samples, "p50") == 2.0
    assert statistic_value([], "Minimum") is None  # missing
    assert statistic_value(samples, "Median") is None
    assert supported(_alarm()) is None
    assert "anomaly" in str(supported(_alarm(comparison="LessThanLowerThreshold")))
    assert "statistic" in str(supported(_alarm(statistic="Median")))


def test_the_alarm_waits_for_the_end_of_its_span_and_takes_no_sample_after_the_metric_ends() -> (
    None
):
    now = [100.0]
    changes: list[Any] = []
    alarm = MetricAlarm(
        _alarm(period=10.0, metric_interval=10.0), on_change=changes.append, clock=lambda: now[0]
    )
    for at in (101.0, 105.0, 109.0):
        alarm.add(1.0, at)
    assert alarm.close_span(110.0) == OK
    alarm.add(1.0, 111.0)
    alarm.add(0.0, 119.0)  # one unhealthy sample: Minimum breaches the whole span
    assert alarm.state == OK  # nothing is judged before the span ends
    assert alarm.close_span(120.0) == ALARM
    assert alarm.entered(ALARM) == 120.0 and changes[-1].old == OK and changes[-1].new == ALARM
    alarm.stop_metric(125.0)
    alarm.add(1.0, 126.0)  # after the metric ended: not taken
    assert alarm.close_span(130.0) == ALARM and alarm.datapoints[-1] is None  # missing: breaching
    assert alarm.datapoints == [1.0, 0.0, None]


def test_a_lag_read_just_before_the_failure_reaches_the_alarm_without_the_sampler_thread() -> None:
    """DR-DEP-02 on a loaded machine: the sampler thread may not run between the lag
    crossing the threshold and the failure; the drill's own read must count."""

    class Standby:
        lag: float | None = 0.4

        def replay_lag_seconds(self) -> float | None:
            if self.lag is None:
                raise ConnectionError("the standby is being promoted")
            return self.lag

    now = [100.0]
    alarm = MetricAlarm(
        _alarm(comparison="GreaterThanThreshold", threshold=200.0, statistic="Maximum"),
        clock=lambda: now[0],
    )
    standby = Standby()
    sampler = LagSampler(standby, alarm)  # type: ignore[arg-type]  # never started
    assert sampler.sample() == 0.4
    [(taken, lag)] = sampler.samples
    alarm.stop_metric(taken)  # the failure, right after the read
    assert alarm.close_span(taken + 1.0) == ALARM and lag * 1000 > 200.0
    standby.lag = None
    assert sampler.sample() is None and len(sampler.samples) == 1


def test_an_action_that_fails_is_kept_for_the_drill() -> None:
    def explode(change: Any) -> None:
        raise RuntimeError("promotion failed")

    alarm = MetricAlarm(
        _alarm(period=1.0, metric_interval=1.0), on_change=explode, clock=lambda: 0.0
    )
    alarm.add(0.0, 0.5)
    assert alarm.close_span(1.0) == ALARM
    assert isinstance(alarm.errors[0], RuntimeError)


def test_the_alarm_thread_judges_each_span_as_it_ends() -> None:
    alarm = MetricAlarm(
        _alarm(period=0.05, metric_interval=0.05, treat_missing_data="notBreaching")
    )
    alarm.start()
    try:
        assert alarm.wait_judged(alarm.started_at + 0.05, DEADLINE)
        assert alarm.state == OK
        sampled = time.monotonic()
        alarm.add(0.0, sampled)
        assert _until(lambda: alarm.state == ALARM)
        fired = alarm.entered(ALARM)
        assert fired is not None and fired > sampled  # at the end of the sample's span
    finally:
        alarm.stop()
    assert not alarm.is_alive()


# --- the EventBridge schedule -----------------------------------------------------------------


def test_the_schedule_starts_overlapping_runs_that_end_with_the_lab() -> None:
    stop = threading.Event()
    active: list[int] = []
    overlap = threading.Event()
    lock = threading.Lock()

    def invoke(index: int) -> dict[str, Any]:
        with lock:
            active.append(index)
            if len(active) > 1:
                overlap.set()
        try:
            while True:  # a probe loop: probe, then the handler's sleep
                schedule.sleep(0.01)
        finally:
            with lock:
                active.remove(index)

    schedule = Schedule(0.05, invoke, stop)
    schedule.start()
    try:
        assert overlap.wait(DEADLINE)  # a new run starts while the last one still watches
        schedule.wait_for_probe(DEADLINE)
    finally:
        schedule.stop()
    assert stop.is_set() and not active
    assert schedule.runs and all(run.error is None for run in schedule.runs)  # LabStopped
    assert schedule.errors() == []
    with pytest.raises(LabStopped):
        schedule.sleep(1)
    with pytest.raises(TimeoutError):
        schedule.wait_for_probe(0.01)


def test_a_run_that_fails_is_kept_for_the_drill() -> None:
    stop = threading.Event()

    def invoke(index: int) -> dict[str, Any]:
        raise ValueError("bad environment")

    schedule = Schedule(10.0, invoke, stop)
    schedule.start()
    try:
        assert _until(lambda: bool(schedule.errors()))
    finally:
        schedule.stop()
    assert isinstance(schedule.errors()[0], ValueError)
    event = scheduled_event("arn:aws:events:r:1:rule/x", "r")
    assert (event["source"], event["detail-type"]) == ("aws.events", "Scheduled Event")


# --- the promoter ------------------------------------------------------------------------------


class _Node:
    """A standby: not the writer until promoted."""

    def __init__(self) -> None:
        self.writer = False
        self.promoted = threading.Event()

    def is_writer(self) -> bool:
        return self.writer

    def promote(self) -> None:
        self.writer = True
        self.promoted.set()


def test_the_promotion_returns_at_once_and_waits_the_allowance_behind_it() -> None:
    node, release = _Node(), threading.Event()
    promoter = LabPromoter({"arn:b": node}, allowance=DEADLINE, stop=release)  # type: ignore[dict-item]
    with triggered_by("watchdog"):
        assert promoter.state("arn:b").failover_in_progress is False
        promoter.promote("arn:b")  # returns: Aurora promotes in the background
        state = promoter.state("arn:b")
        assert state.failover_in_progress and not state.target_is_writer
        with pytest.raises(FailoverInProgress):
            promoter.promote("arn:b")
    assert not node.promoted.is_set()  # still inside the allowance
    assert promoter.promotions[0].call.trigger == "watchdog"
    assert promoter.first("watchdog") is not None and promoter.first("alarm") is None
    release.set()  # the drill ends during the wait: no promotion happens
    assert _until(lambda: not promoter.state("arn:b").failover_in_progress)
    assert not node.promoted.is_set() and promoter.promotions[0].done is None


def test_after_the_allowance_the_standby_is_promoted() -> None:
    node = _Node()
    promoter = LabPromoter({"arn:b": node}, allowance=0.05, stop=threading.Event())  # type: ignore[dict-item]
    promoter.promote("arn:b")
    assert promoter.finished.wait(DEADLINE) and node.promoted.is_set()
    promotion = promoter.promotions[0]
    assert promotion.waited == 0.05 and promotion.done is not None
    assert promotion.started is not None and promotion.started - promotion.call.at >= 0.05
    assert promoter.state("arn:b") == type(promoter.state("arn:b"))(True, False)
    with promoter.switching():
        assert promoter.state("arn:b").failover_in_progress


# --- the real failover handler on the watchdog path ---------------------------------------------


def test_scheduled_runs_of_the_failover_handler_promote_once(
    failover_module: ModuleType, endpoint: tuple[str, type[_Health]]
) -> None:
    """The handler as the lab calls it: scheduled event, environ, promoter, sleep."""
    url, handler = endpoint
    node, stop = _Node(), threading.Event()
    promoter = LabPromoter({"arn:b": node}, allowance=0.05, stop=stop)  # type: ignore[dict-item]
    environ = {
        "GLOBAL_CLUSTER_ID": "g",
        "TARGET_CLUSTER_ARN": "arn:b",
        "PRIMARY_ALARM_NAME": "health",
        "PRIMARY_HEALTH_URL": url,
        "PROBE_INTERVAL_SECONDS": "0.02",
        "FAILURE_THRESHOLD": "3",
        "PROBE_TIMEOUT_SECONDS": "0.015",
        "WATCH_SECONDS": "0.3",
    }
    results: list[dict[str, Any]] = []

    def invoke(index: int) -> dict[str, Any]:
        with triggered_by("watchdog"):
            result = failover_module.handler(
                scheduled_event("arn:rule", "r"),
                None,
                promoter=promoter,
                sleep=schedule.sleep,
                environ=environ,
            )
        results.append(result)
        return result

    schedule = Schedule(0.2, invoke, stop)
    schedule.start()
    try:
        assert _until(lambda: any(r["action"] == "watched" for r in results))
        handler.healthy = False
        assert node.promoted.wait(DEADLINE)
        assert _until(lambda: sum(r["action"] != "watched" for r in results) >= 2)
    finally:
        schedule.stop()
    actions = [r["action"] for r in results if r["action"] != "watched"]
    assert actions[0] == "promoted" and actions.count("promoted") == 1, actions
    assert set(actions[1:]) <= {"in-progress", "already-promoted"}
    assert schedule.errors() == []


def test_an_action_after_the_next_probe_runs_in_the_run_before_it_sleeps() -> None:
    stop = threading.Event()
    probed = threading.Event()
    ran: list[tuple[str, int]] = []
    done = threading.Event()

    def invoke(index: int) -> dict[str, Any]:
        while True:
            probed.set()
            schedule.sleep(0.01)

    schedule = Schedule(10.0, invoke, stop)
    schedule.start()
    try:
        assert probed.wait(DEADLINE)

        def action() -> None:
            ran.append((threading.current_thread().name, schedule.probes_finished))
            done.set()

        before = schedule.probes_finished
        schedule.after_next_probe(action)
        assert done.wait(DEADLINE)
    finally:
        schedule.stop()
    assert len(ran) == 1  # once, not after every probe
    name, count = ran[0]
    assert name.startswith("scheduled-run-") and count > before
