"""The primary health alarm that invokes the failover function: where the threshold applies.

Stands in for: the Route 53 health checkers probing the primary region's
Function URL every ``request_interval`` seconds, the CloudWatch alarm on the
health check's ``HealthCheckStatus`` (ALARM after ``failure_threshold``
consecutive failed probes) and the SNS topic that delivers the alarm to the
failover Lambda. PowerDNS has no failure threshold, so this is where the
synthesized one is applied: the project's real failover handler is invoked
with an SNS-shaped CloudWatch alarm event once ``failure_threshold``
consecutive probes have failed. It decides, and promotes through the lab
promoter. (In AWS the alarm's own 60 s period adds to this; see the report.)
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from compliance.drills.interrupts import route_to_main_thread


@dataclass(frozen=True)
class Probe:
    at: float
    healthy: bool
    detail: str


def probe(url: str, timeout: float) -> tuple[bool, str]:
    """A Route 53 HTTP(S) check: healthy on 2xx/3xx within the timeout."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback
            return 200 <= response.status < 400, str(response.status)
    except urllib.error.HTTPError as error:
        return False, str(error.code)
    except (OSError, ValueError) as error:
        return False, type(error).__name__


def alarm_event(alarm_name: str, new: str, old: str, reason: str, region: str) -> dict[str, Any]:
    """An SNS notification carrying a CloudWatch alarm state change, as Lambda receives it."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
    message = {
        "AlarmName": alarm_name,
        "AlarmDescription": None,
        "AWSAccountId": "000000000000",
        "NewStateValue": new,
        "NewStateReason": reason,
        "StateChangeTime": now,
        "Region": region,
        "OldStateValue": old,
        "Trigger": {
            "MetricName": "HealthCheckStatus",
            "Namespace": "AWS/Route53",
            "Statistic": "MINIMUM",
            "ComparisonOperator": "LessThanThreshold",
            "Threshold": 1.0,
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
                    "Subject": f'ALARM: "{alarm_name}" in {region}',
                    "Message": json.dumps(message),
                    "Timestamp": now,
                },
            }
        ]
    }


class HealthAlarm(threading.Thread):
    """Probes ``url`` every ``interval`` s; ALARM after ``threshold`` consecutive failures."""

    def __init__(
        self,
        url: str,
        *,
        interval: float,
        threshold: int,
        alarm_name: str,
        region: str,
        on_alarm: Callable[[dict[str, Any]], Any],
        timeout: float | None = None,
    ) -> None:
        super().__init__(name="health-alarm", daemon=True)
        self.url, self.interval, self.threshold = url, interval, threshold
        self.alarm_name, self.region, self.on_alarm = alarm_name, region, on_alarm
        self.timeout = timeout if timeout is not None else min(4.0, interval * 0.8)
        self.probes: list[Probe] = []
        self.state = "OK"
        self.alarmed_at: float | None = None
        self.results: list[Any] = []
        self.errors: list[BaseException] = []
        self.probed = threading.Condition()
        self.stop_event = threading.Event()

    def run(self) -> None:
        route_to_main_thread()
        failures = 0
        next_probe = time.monotonic()
        while not self.stop_event.is_set():
            healthy, detail = probe(self.url, self.timeout)
            with self.probed:
                self.probes.append(Probe(time.monotonic(), healthy, detail))
                self.probed.notify_all()
            failures = 0 if healthy else failures + 1
            if failures >= self.threshold and self.state != "ALARM":
                self._transition("ALARM", f"{failures} consecutive failed health checks")
            elif healthy and self.state == "ALARM":
                self._transition("OK", "health check passed")
            next_probe += self.interval
            while next_probe <= time.monotonic():  # a slow probe skips ticks, never bursts
                next_probe += self.interval
            self.stop_event.wait(next_probe - time.monotonic())

    def _transition(self, new: str, reason: str) -> None:
        old, self.state = self.state, new
        if new == "ALARM":
            self.alarmed_at = time.monotonic()
        event = alarm_event(self.alarm_name, new, old, reason, self.region)
        try:
            self.results.append(self.on_alarm(event))
        except BaseException as error:  # surfaced by the drill, never lost in the thread
            self.errors.append(error)

    def wait_for_probe(self, healthy: bool, timeout: float) -> Probe:
        """Block until the next probe with the given outcome; return it."""
        deadline = time.monotonic() + timeout
        with self.probed:
            seen = len(self.probes)
            while True:
                fresh = [p for p in self.probes[seen:] if p.healthy is healthy]
                if fresh:
                    return fresh[0]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no {'healthy' if healthy else 'failed'} probe")
                self.probed.wait(remaining)

    def stop(self) -> None:
        self.stop_event.set()
        if self.is_alive():
            self.join(timeout=10)
