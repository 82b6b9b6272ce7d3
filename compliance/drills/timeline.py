"""What happened when, relative to the moment the failure was injected."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

FAILURE_INJECTED = "failure injected"
FAILURE_DETECTED = "failure detected"
PROMOTION_DONE = "promotion done"
DNS_CHANGED = "DNS answer changed"
FIRST_WRITE = "first write served"
MILESTONES = (FAILURE_INJECTED, FAILURE_DETECTED, PROMOTION_DONE, DNS_CHANGED, FIRST_WRITE)


@dataclass(frozen=True)
class Event:
    name: str
    at: float  # time.monotonic()


class Timeline:
    """Thread-safe event log; times are reported in seconds after the failure."""

    def __init__(self) -> None:
        self._events: list[Event] = []
        self._lock = threading.Lock()
        self.origin: float | None = None

    def mark(self, name: str, at: float | None = None) -> float:
        moment = time.monotonic() if at is None else at
        with self._lock:
            self._events.append(Event(name, moment))
            if name == FAILURE_INJECTED and self.origin is None:
                self.origin = moment
        return moment

    def first(self, name: str) -> float | None:
        with self._lock:
            return next((e.at for e in self._events if e.name == name), None)

    def since_failure(self, name: str) -> float | None:
        at = self.first(name)
        if at is None or self.origin is None:
            return None
        return round(at - self.origin, 3)

    def to_list(self) -> list[dict[str, object]]:
        """``[{"event", "at_seconds"}]`` in time order (negative: before the failure)."""
        origin = self.origin if self.origin is not None else 0.0
        with self._lock:
            ordered = sorted(self._events, key=lambda e: e.at)
        return [{"event": e.name, "at_seconds": round(e.at - origin, 3)} for e in ordered]
