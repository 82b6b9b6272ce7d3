"""CloudWatch metric alarms as the synthesized attributes say they evaluate, time-scaled.

Stands in for: a CloudWatch alarm on a one-minute metric. Samples arrive as
the lab observes them (the primary health check's status for
``HealthCheckStatus``; the standby's replay lag for
``AuroraGlobalDBReplicationLag``). At the end of each datapoint span (the
alarm's ``period``, never shorter than the metric's one-minute interval for
an AWS namespace; both scaled) the samples of the span become one datapoint
by the alarm's ``statistic``; the alarm is then judged on its last
``evaluation_periods`` datapoints: ALARM when at least
``datapoints_to_alarm`` of them breach ``threshold`` by its
``comparison_operator``, missing datapoints treated as
``treat_missing_data`` says. What the lab does not model, and the records
say: CloudWatch's delay in publishing a datapoint after its minute ends,
and the delay before an alarm's action runs (the lab waits the scaled
setting ``alarm_action_allowance_seconds`` instead).
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from compliance.drills.interrupts import route_to_main_thread
from compliance.drills.knobs import Alarm

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": lambda v, t: v > t,
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}
OK, ALARM, INSUFFICIENT = "OK", "ALARM", "INSUFFICIENT_DATA"


def supported(alarm: Alarm) -> str | None:
    """Why the lab cannot evaluate ``alarm`` (None: it can)."""
    if alarm.comparison not in _COMPARE:
        return f"comparison {alarm.comparison} (anomaly bands) is not modelled"
    if statistic_value([1.0], alarm.statistic) is None:
        return f"statistic {alarm.statistic} is not modelled"
    return None


def statistic_value(samples: Sequence[float], statistic: str) -> float | None:
    """One datapoint from a span's samples; None when the span had none (missing)."""
    if not samples:
        return None
    ordered = sorted(samples)
    if statistic == "Minimum":
        return ordered[0]
    if statistic == "Maximum":
        return ordered[-1]
    if statistic == "Average":
        return sum(samples) / len(samples)
    if statistic == "Sum":
        return float(sum(samples))
    if statistic == "SampleCount":
        return float(len(samples))
    if statistic.startswith("p"):
        try:
            rank = float(statistic[1:]) / 100
        except ValueError:
            return None
        return ordered[min(len(ordered) - 1, max(0, math.ceil(rank * len(ordered)) - 1))]
    return None


def judge(datapoints: Sequence[float | None], alarm: Alarm, current: str) -> str:
    """The alarm's state from its last ``evaluation_periods`` datapoints."""
    window = list(datapoints)[-alarm.evaluation_periods :]
    compare = _COMPARE[alarm.comparison]
    breaching = 0
    present = 0
    for value in window:
        if value is None:
            if alarm.treat_missing_data == "breaching":
                breaching += 1
                present += 1
            elif alarm.treat_missing_data == "notBreaching":
                present += 1
            continue
        present += 1
        breaching += compare(value, alarm.threshold)
    if present == 0:
        return current if alarm.treat_missing_data == "ignore" else INSUFFICIENT
    return ALARM if breaching >= alarm.datapoints_to_alarm else OK


@dataclass(frozen=True)
class Change:
    at: float
    old: str
    new: str
    datapoints: tuple[float | None, ...]


class MetricAlarm(threading.Thread):
    """Collects samples; at each span's end turns them into a datapoint and judges the alarm."""

    def __init__(
        self,
        alarm: Alarm,
        *,
        on_change: Callable[[Change], Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(name=f"alarm-{alarm.name}", daemon=True)
        self.alarm, self.on_change, self.clock = alarm, on_change, clock
        self.state = INSUFFICIENT
        self.datapoints: list[float | None] = []
        self.changes: list[Change] = []
        self.errors: list[BaseException] = []
        self.cutoff: float | None = None  # samples after it are not taken (the metric stopped)
        self._samples: list[tuple[float, float]] = []
        self._lock = threading.Lock()
        self.judged = threading.Condition(self._lock)
        self.stop_event = threading.Event()
        self.started_at = clock()

    def add(self, value: float, at: float | None = None) -> None:
        moment = self.clock() if at is None else at
        with self._lock:
            if self.cutoff is None or moment <= self.cutoff:
                self._samples.append((moment, value))

    def stop_metric(self, at: float) -> None:
        """The metric ends at ``at`` (its source is gone): later samples are not taken."""
        with self._lock:
            self.cutoff = at

    def run(self) -> None:
        route_to_main_thread()
        span = self.alarm.datapoint_seconds
        boundary = self.started_at + span
        while not self.stop_event.wait(max(0.0, boundary - self.clock())):
            self.close_span(boundary)
            boundary += span

    def close_span(self, boundary: float) -> str:
        """Judge the span that ends at ``boundary``; return the state."""
        span = self.alarm.datapoint_seconds
        with self._lock:
            values = [v for at, v in self._samples if boundary - span <= at < boundary]
            self._samples = [(at, v) for at, v in self._samples if at >= boundary]
            self.datapoints.append(statistic_value(values, self.alarm.statistic))
            old, new = self.state, judge(self.datapoints, self.alarm, self.state)
            self.state = new
            change = None
            if new != old:
                change = Change(boundary, old, new, tuple(self.datapoints[-3:]))
                self.changes.append(change)
            self.judged.notify_all()
        if change is not None and self.on_change is not None:
            try:
                self.on_change(change)
            except BaseException as error:  # surfaced by the drill, never lost in the thread
                self.errors.append(error)
        return new

    def entered(self, state: str, after: float = float("-inf")) -> float | None:
        with self._lock:
            return next((c.at for c in self.changes if c.new == state and c.at >= after), None)

    def wait_judged(self, after: float, timeout: float) -> bool:
        """Until a span ending after ``after`` has been judged."""
        deadline = self.clock() + timeout
        span = self.alarm.datapoint_seconds
        with self._lock:
            while True:
                judged_until = self.started_at + span * len(self.datapoints)
                if judged_until >= after:
                    return True
                remaining = deadline - self.clock()
                if remaining <= 0 or self.stop_event.is_set():
                    return False
                self.judged.wait(remaining)

    def stop(self) -> None:
        self.stop_event.set()
        if self.is_alive():
            self.join(timeout=10)


def alarm_event(alarm: Alarm, change: Change, region: str, reason: str) -> dict[str, Any]:
    """An SNS notification carrying the alarm's state change, as the function receives it."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
    message = {
        "AlarmName": alarm.name,
        "AlarmDescription": None,
        "AWSAccountId": "000000000000",
        "NewStateValue": change.new,
        "NewStateReason": reason,
        "StateChangeTime": now,
        "Region": region,
        "OldStateValue": change.old,
        "Trigger": {
            "MetricName": alarm.metric,
            "Namespace": alarm.namespace,
            "Statistic": alarm.statistic.upper(),
            "ComparisonOperator": alarm.comparison,
            "Threshold": alarm.threshold,
            "Period": alarm.period,
            "EvaluationPeriods": alarm.evaluation_periods,
        },
    }
    topic = f"arn:aws:sns:{region}:000000000000:alerts"
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{topic}:lab",
                "Sns": {
                    "Type": "Notification",
                    "TopicArn": topic,
                    "Subject": f'{change.new}: "{alarm.name}" in {region}',
                    "Message": json.dumps(message),
                    "Timestamp": now,
                },
            }
        ]
    }
