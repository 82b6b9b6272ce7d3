"""The local two-region lab: every stand-in wired together on loopback.

One ``LocalLab`` per drill (drills are destructive). Each region gets its own
127.0.0.x address, on which its database and its health function listen on
ports shared by both regions (as 5432 and 443 are in AWS); the DNS server has
a third address. Everything lives under the supervisor's temporary folder.
"""

from __future__ import annotations

import os
import random
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from compliance.drills.alarm import HealthAlarm
from compliance.drills.client import CachingResolver, DnsError, SequencedWriter, query
from compliance.drills.dns_lab import PowerDns, start_powerdns
from compliance.drills.engines import Engines
from compliance.drills.interrupts import route_to_main_thread
from compliance.drills.knobs import Design
from compliance.drills.postgres_lab import PostgresNode, start_pair
from compliance.drills.processes import (
    Child,
    ChildFailed,
    Supervisor,
    listening_socket,
    reserve_port,
)
from compliance.drills.promoter import (
    HEALTH_HANDLER,
    LabPromoter,
    failover_module,
    lambda_environment,
)
from compliance.drills.timeline import (
    DNS_CHANGED,
    FAILURE_DETECTED,
    PROMOTION_DONE,
    Timeline,
)
from compliance.synth import REPO_ROOT

STAND_INS = {
    "aurora_global_database": (
        "PostgreSQL primary + streaming hot standby (pg_basebackup -R), asynchronous; "
        "promotion with pg_promote()"
    ),
    "lambda_function_url": (
        "the project's lambda/health_check handler served per region by an HTTP adapter "
        "that turns requests into Function URL events (payload format 2.0)"
    ),
    "route53_failover_records": (
        "PowerDNS authoritative, LUA ifurlup record (first healthy region; primary when all "
        "are down, as Route 53); checks every interval, answers with the record's TTL"
    ),
    "route53_failure_threshold_and_cloudwatch_alarm": (
        "an alarm stand-in probing the primary's health URL every interval; after "
        "failure_threshold consecutive failures it sends the SNS-shaped ALARM event to the "
        "failover handler (PowerDNS itself has no threshold)"
    ),
    "failover_lambda": (
        "the project's lambda/failover handler with a lab promoter (pg_promote instead of "
        "rds.failover_global_cluster)"
    ),
    "application_client": (
        "a writer resolving the record through the DNS server (answer kept for its TTL) and "
        "inserting sequenced, timestamped rows"
    ),
}


def lab_addresses(count: int = 3) -> list[str]:
    """Distinct 127.0.0.x addresses (loopback /8); random, so parallel labs rarely meet."""
    return [f"127.0.0.{octet}" for octet in random.sample(range(10, 250), count)]


class DnsObserver(threading.Thread):
    """Asks the DNS server directly (no cache) and records when the answer changes."""

    def __init__(self, dns: PowerDns, period: float = 0.05) -> None:
        super().__init__(name="dns-observer", daemon=True)
        self.dns, self.period = dns, period
        self.changes: list[tuple[float, tuple[str, ...]]] = []
        self.stop_event = threading.Event()

    def run(self) -> None:
        route_to_main_thread()
        last: tuple[str, ...] | None = None
        while not self.stop_event.is_set():
            try:
                answer = tuple(
                    query(self.dns.address, self.dns.port, self.dns.fqdn, timeout=0.5).addresses
                )
            except DnsError:
                answer = ()
            if answer != last:
                self.changes.append((time.monotonic(), answer))
                last = answer
            self.stop_event.wait(self.period)

    def first_answer(self, address: str, after: float) -> float | None:
        return next(
            (at for at, answer in self.changes if at >= after and answer == (address,)), None
        )

    def stop(self) -> None:
        self.stop_event.set()
        if self.is_alive():
            self.join(timeout=5)


@dataclass
class Region:
    name: str
    address: str
    cluster_arn: str
    database: PostgresNode | None = None
    function: Child | None = None


@dataclass
class LocalLab:
    """Builds, drives and measures one lab; the supervisor owns its processes."""

    design: Design  # already scaled
    engines: Engines
    supervisor: Supervisor
    progress: Callable[[str], None]
    write_period: float = 0.01
    alarm_event: str = FAILURE_DETECTED
    timeline: Timeline = field(default_factory=Timeline)
    handler_results: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        primary_address, secondary_address, self.dns_address = lab_addresses()
        account = "000000000000"
        prefix = self.design.global_cluster_id.removesuffix("-global")
        self.primary = Region(
            self.design.primary_region,
            primary_address,
            f"arn:aws:rds:{self.design.primary_region}:{account}:cluster:"
            f"{prefix}-{self.design.primary_region}",
        )
        self.secondary = Region(
            self.design.secondary_region,
            secondary_address,
            f"arn:aws:rds:{self.design.secondary_region}:{account}:cluster:"
            f"{prefix}-{self.design.secondary_region}",
        )
        addresses = [primary_address, secondary_address]
        self.db_port = reserve_port(addresses)
        self.http_port = reserve_port(addresses)
        self.dns_port = reserve_port([self.dns_address])
        self.failover = failover_module()
        self.threads: list[Any] = []

    # -- build -----------------------------------------------------------------

    def build(self) -> None:
        """Start every engine; the slow ones overlap (functions and DNS start during initdb)."""
        knobs = self.design.knobs
        self.progress("starting the health functions and PowerDNS")
        for region in (self.primary, self.secondary):
            region.function = self._start_function(region)
        self.dns = start_powerdns(
            self.supervisor,
            self.engines.pdns_server,
            address=self.dns_address,
            port=self.dns_port,
            fqdn=self.design.record_name,
            ttl=int(knobs.ttl),
            interval=int(knobs.interval),
            health_url=f"http://health.lab:{self.http_port}{self.design.health_path}",
            primary=self.primary.address,
            secondary=self.secondary.address,
        )
        self.progress(
            f"starting PostgreSQL primary ({self.primary.name} {self.primary.address}) and "
            f"standby ({self.secondary.name} {self.secondary.address})"
        )
        primary_db, standby_db = start_pair(
            self.supervisor,
            self.engines.pg_bin,
            (self.primary.name, self.secondary.name),
            (self.primary.address, self.secondary.address),
            self.db_port,
        )
        self.primary.database, self.secondary.database = primary_db, standby_db
        self._wait_health(self.primary, 200)
        self._wait_health(self.secondary, 503)
        self.progress(
            f"standby streaming; PowerDNS {self.dns_address}:{self.dns_port} warming up "
            f"(checks every {knobs.interval:g} s, TTL {knobs.ttl:g} s)"
        )
        self.dns.warm_up()
        self.promoter = LabPromoter(
            self.failover,
            {self.primary.cluster_arn: primary_db, self.secondary.cluster_arn: standby_db},
        )
        self.progress("engines started; DNS answers the primary")

    def _start_function(self, region: Region) -> Child:
        sock = listening_socket(region.address, self.http_port)
        db_timeout = max(0.5, min(2.0, self.design.knobs.interval / 2))
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])
            ),
            "DB_HOST": region.address,
            "DB_PORT": str(self.db_port),
            "DB_NAME": "postgres",
            "DB_USER": "postgres",
            "DB_REGION": region.name,
            "DB_AUTH": "password",
            "DB_TIMEOUT_SECONDS": f"{db_timeout:g}",
            "AWS_REGION": region.name,
        }
        try:
            return self.supervisor.spawn(
                f"function-{region.name}",
                [
                    sys.executable,
                    "-m",
                    "compliance.drills.function_host",
                    "--fd",
                    str(sock.fileno()),
                    "--handler",
                    str(HEALTH_HANDLER),
                    "--function-name",
                    f"health-check-{region.name}",
                    "--region",
                    region.name,
                    "--timeout",
                    f"{self.design.lambda_timeout:g}",
                ],
                env=env,
                pass_fds=[sock.fileno()],
            )
        finally:
            sock.close()

    def health_url(self, region: Region) -> str:
        return f"http://{region.address}:{self.http_port}{self.design.health_path}"

    def _wait_health(self, region: Region, status: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        seen: object = None
        while True:
            try:
                with urllib.request.urlopen(self.health_url(region), timeout=2) as response:
                    seen = response.status
            except urllib.error.HTTPError as error:
                seen = error.code
            except OSError as error:
                seen = type(error).__name__
            if seen == status:
                return
            assert region.function is not None
            if not region.function.alive() or time.monotonic() > deadline:
                raise ChildFailed(
                    f"health function of {region.name} answered {seen}, expected {status}: "
                    f"{region.function.log_tail()}"
                )
            time.sleep(0.05)

    # -- traffic and watchers --------------------------------------------------------

    def start_traffic(self) -> None:
        knobs = self.design.knobs
        resolver = CachingResolver(self.dns_address, self.dns_port)
        self.writer = SequencedWriter(
            resolver,
            self.design.record_name,
            self.db_port,
            period=self.write_period,
            timeout=max(0.5, min(2.0, knobs.interval / 2)),
        )
        self.observer = DnsObserver(self.dns)
        self.alarm = HealthAlarm(
            self.health_url(self.primary),
            interval=knobs.interval,
            threshold=int(knobs.threshold),
            alarm_name=self.design.primary_alarm_name,
            region=self.primary.name,
            on_alarm=self._invoke_failover,
        )
        self.threads = [self.writer, self.observer, self.alarm]
        for thread in self.threads:
            thread.start()
        self.progress("client writing through the DNS name; alarm probing the primary")

    def _invoke_failover(self, event: dict[str, Any]) -> dict[str, Any]:
        """SNS → the real failover handler, with the function's environment."""
        state = self.failover.parse_message(event)["NewStateValue"]
        if state == "ALARM":
            self.timeline.mark(self.alarm_event)
            self.progress(f"alarm {self.design.primary_alarm_name} in ALARM: invoking failover")
        variables = {
            "GLOBAL_CLUSTER_ID": self.design.global_cluster_id,
            "TARGET_CLUSTER_ARN": self.secondary.cluster_arn,
            "PRIMARY_ALARM_NAME": self.design.primary_alarm_name,
        }
        with lambda_environment(variables):
            result = self.failover.handler(event, None, promoter=self.promoter)
        self.handler_results.append(result)
        if result.get("action") == "promoted":
            self.timeline.mark(PROMOTION_DONE)
            self.progress("failover handler promoted the standby")
        return result

    def wait_steady(self, writes: int = 20, timeout: float = 30.0) -> None:
        """Until the client has written and the alarm has seen the primary healthy."""
        deadline = time.monotonic() + timeout
        while len(self.writer.acked) < writes or not any(p.healthy for p in self.alarm.probes):
            if time.monotonic() > deadline:
                raise ChildFailed(
                    f"no steady state: {len(self.writer.acked)} writes, "
                    f"errors {self.writer.errors[-3:]}, probes {self.alarm.probes[-3:]}"
                )
            time.sleep(0.02)

    def wait_first_write(self, since: float, to: Region, timeout: float) -> float | None:
        """When the first write sent after ``since`` was acknowledged by region ``to``.

        Writes the dying primary still acknowledged in the instant of the
        failure do not count: recovery is a write the survivor serves.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.alarm.errors:
                raise self.alarm.errors[0]
            write = self.writer.acked_after(since, to.address)
            if write is not None:
                return write.acked_at
            time.sleep(0.01)
        return None

    def note_dns_change(self, since: float, to: Region) -> None:
        changed = self.observer.first_answer(to.address, since)
        if changed is not None:
            self.timeline.mark(DNS_CHANGED, at=changed)

    def stop_traffic(self) -> None:
        for thread in self.threads:
            thread.stop()

    # -- failures --------------------------------------------------------------------

    def lose_region(self, region: Region) -> None:
        """The whole region dies: its database and its health function, at once."""
        assert region.database is not None and region.function is not None
        region.database.kill()
        self.supervisor.kill(region.function)
