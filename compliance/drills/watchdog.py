"""An EventBridge schedule starting the failover function: the watchdog path, time-scaled.

Stands in for: an ``aws_cloudwatch_event_rule`` with a ``rate(...)``
schedule whose target is the failover function. Every scaled rate a new
run starts in its own thread (runs overlap when a run lasts longer than
the rate, as in Lambda): the function's handler is called with a
``Scheduled Event``, a Lambda context, the function's environment as the
lab builds it (its probe variables scaled) and the lab's promoter. Its
``sleep`` is a wait on the lab's stop event, so a run ends when the drill
does (``LabStopped`` unwinds it); each call also tells the lab that one of
the run's probes has just finished, which is how a drill picks the worst
moment to fail (right after a probe that passed).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from compliance.drills.interrupts import route_to_main_thread


class LabStopped(Exception):
    """The drill ended while a run was sleeping between probes."""


def scheduled_event(rule_arn: str, region: str) -> dict[str, Any]:
    """The event EventBridge sends a schedule's target."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


@dataclass(frozen=True)
class Run:
    index: int
    started: float
    ended: float
    result: dict[str, Any] | None
    error: BaseException | None


class Schedule(threading.Thread):
    """Starts ``invoke(index)`` every ``rate`` seconds, each in its own thread, until stopped."""

    def __init__(
        self,
        rate: float,
        invoke: Callable[[int], dict[str, Any]],
        stop: threading.Event,
    ) -> None:
        super().__init__(name="schedule", daemon=True)
        self.rate, self.invoke, self.stop_event = rate, invoke, stop
        self.runs: list[Run] = []
        self.workers: list[threading.Thread] = []
        self._lock = threading.Lock()
        self.probed = threading.Condition()
        self.probes_finished = 0
        self._next_probe: list[Callable[[], None]] = []

    def run(self) -> None:
        route_to_main_thread()
        index = 0
        next_start = time.monotonic()
        while not self.stop_event.is_set():
            worker = threading.Thread(
                target=self._one, args=(index,), name=f"scheduled-run-{index}", daemon=True
            )
            self.workers.append(worker)
            worker.start()
            index += 1
            next_start += self.rate
            self.stop_event.wait(max(0.0, next_start - time.monotonic()))

    def _one(self, index: int) -> None:
        route_to_main_thread()
        started = time.monotonic()
        result, error = None, None
        try:
            result = self.invoke(index)
        except LabStopped:
            pass
        except BaseException as raised:  # surfaced by the drill, never lost in the thread
            error = raised
        with self._lock:
            self.runs.append(Run(index, started, time.monotonic(), result, error))

    def sleep(self, seconds: float) -> None:
        """The handler's ``sleep``: a probe just finished; wait, or end the run if the drill did."""
        with self.probed:
            self.probes_finished += 1
            pending, self._next_probe = self._next_probe, []
            self.probed.notify_all()
        for action in pending:  # in this run's thread, before it sleeps: no wake-up delay
            action()
        if self.stop_event.wait(max(0.0, seconds)):
            raise LabStopped

    def after_next_probe(self, action: Callable[[], None]) -> None:
        """Run ``action`` as soon as some run has finished its next probe (in that run)."""
        with self.probed:
            self._next_probe.append(action)

    def wait_for_probe(self, timeout: float) -> float:
        """Until some run finishes its next probe; when it did (raises TimeoutError)."""
        deadline = time.monotonic() + timeout
        with self.probed:
            seen = self.probes_finished
            while self.probes_finished == seen:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("no scheduled run probed")
                self.probed.wait(remaining)
        return time.monotonic()

    def errors(self) -> list[BaseException]:
        with self._lock:
            return [run.error for run in self.runs if run.error is not None]

    def stop(self) -> None:
        self.stop_event.set()
        if self.is_alive():
            self.join(timeout=10)
        for worker in list(self.workers):
            worker.join(timeout=10)
