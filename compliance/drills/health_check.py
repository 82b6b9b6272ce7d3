"""Route 53 health checks: probe every interval, flip after the failure threshold.

Stands in for: one ``aws_route53_health_check`` per failover record. Route
53's checkers probe the endpoint every ``request_interval`` seconds and the
check changes status only after ``failure_threshold`` consecutive results
the other way (both ways: a recovering endpoint needs as many passes). The
status is what the failover record follows and what ``HealthCheckStatus``
publishes (1 healthy, 0 unhealthy) for the CloudWatch alarm.

PowerDNS answers the failover record; it has no threshold of its own, so it
does not probe the functions: it polls ``StatusServer``, which serves each
check's status on the region's address (``ifurlup`` connects to each
address of the record), at PowerDNS's smallest interval, 1 s. Differences
from Route 53, stated in the drill records: one checker instead of many
locations, and PowerDNS's poll between a status change and the answer.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


class HealthChecker(threading.Thread):
    """Probes ``url`` on a fixed grid; the status flips after ``threshold`` results against it."""

    def __init__(
        self,
        name: str,
        url: str,
        *,
        interval: float,
        threshold: int,
        timeout: float,
        on_status: Callable[[float, bool], Any] | None = None,
        prober: Callable[[str, float], tuple[bool, str]] = probe,
    ) -> None:
        super().__init__(name=f"health-check-{name}", daemon=True)
        self.url, self.interval, self.threshold, self.timeout = url, interval, threshold, timeout
        self.on_status, self.prober = on_status, prober
        self.status: bool | None = None  # None until the first result
        self.probes: list[Probe] = []
        self.transitions: list[tuple[float, bool]] = []
        self.changed = threading.Condition()
        self.stop_event = threading.Event()

    def run(self) -> None:
        route_to_main_thread()
        streak = 0
        next_probe = time.monotonic()
        while not self.stop_event.is_set():
            healthy, detail = self.prober(self.url, self.timeout)
            now = time.monotonic()
            with self.changed:
                self.probes.append(Probe(now, healthy, detail))
                if self.status is None:
                    self._flip(now, healthy)
                elif healthy != self.status:
                    streak += 1
                    if streak >= self.threshold:
                        self._flip(now, healthy)
                        streak = 0
                else:
                    streak = 0
                status = self.status
                self.changed.notify_all()
            if self.on_status is not None:
                self.on_status(now, bool(status))
            next_probe += self.interval
            while next_probe <= time.monotonic():  # a slow probe skips ticks, never bursts
                next_probe += self.interval
            self.stop_event.wait(next_probe - time.monotonic())

    def _flip(self, at: float, healthy: bool) -> None:
        self.status = healthy
        self.transitions.append((at, healthy))

    def turned(self, healthy: bool, after: float) -> float | None:
        """When the status last became ``healthy`` at or after ``after`` (first such change)."""
        with self.changed:
            return next((at for at, h in self.transitions if at >= after and h is healthy), None)

    def wait_status(self, healthy: bool, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self.changed:
            while self.status is not healthy:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.stop_event.is_set():
                    return False
                self.changed.wait(remaining)
        return True

    def wait_for_probe(self, timeout: float) -> Probe:
        """Until the next probe; return it (TimeoutError when none came)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            seen = len(self.probes)
            while len(self.probes) == seen:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no probe of {self.url}")
                self.changed.wait(remaining)
            return self.probes[seen]

    def stop(self) -> None:
        self.stop_event.set()
        if self.is_alive():
            self.join(timeout=10)


class _StatusHandler(BaseHTTPRequestHandler):
    server: _StatusHttp
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        status = self.server.checker.status
        healthy = status is True
        body = json.dumps({"status": "healthy" if healthy else "unhealthy"}).encode()
        self.send_response(200 if healthy else 503)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.send_header("connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return


class _StatusHttp(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], checker: HealthChecker) -> None:
        self.checker = checker
        super().__init__(address, _StatusHandler)


class StatusServer:
    """Each health check's status, served on its region's address and one shared port."""

    def __init__(self, port: int, checkers: Mapping[str, HealthChecker]) -> None:
        self.port = port
        self.servers = [_StatusHttp((address, port), c) for address, c in checkers.items()]
        self.threads = [
            threading.Thread(target=self._serve, args=(s,), name="status-server", daemon=True)
            for s in self.servers
        ]

    @staticmethod
    def _serve(server: _StatusHttp) -> None:
        route_to_main_thread()
        server.serve_forever(poll_interval=0.1)

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        for server, thread in zip(self.servers, self.threads, strict=True):
            if thread.is_alive():
                server.shutdown()
            server.server_close()
