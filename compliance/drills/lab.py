"""The local two-region lab: every stand-in wired together on loopback, as the design chains them.

One ``LocalLab`` per drill (drills are destructive). Each region gets its own
127.0.0.x address, on which its database, its health function and its
health-check status listen on ports shared by both regions (as 5432 and 443
are in AWS); the DNS server has a third address. Everything lives under the
supervisor's temporary folder.

The chain is the design's, scaled: the health functions and the failover
function are the synthesized assets (``functions``); Route 53 health checks
with their thresholds (``health_check``) feed PowerDNS and the primary
health alarm (``alarm``); an EventBridge schedule starts the failover
function's runs (``watchdog``); the alarm's action reaches the same
function after the alarm action allowance; the promotion waits Aurora's
allowance, then ``pg_promote()`` (``promoter``).
"""

from __future__ import annotations

import logging
import random
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from compliance.drills import functions
from compliance.drills.alarm import ALARM, Change, MetricAlarm, alarm_event, supported
from compliance.drills.budget import Moments
from compliance.drills.client import CachingResolver, DnsError, SequencedWriter, query
from compliance.drills.dns_lab import PowerDns, start_powerdns
from compliance.drills.engines import Engines
from compliance.drills.function_host import LambdaContext
from compliance.drills.health_check import HealthChecker, StatusServer
from compliance.drills.interrupts import route_to_main_thread
from compliance.drills.knobs import Design, Function
from compliance.drills.postgres_lab import PostgresNode, start_pair
from compliance.drills.processes import (
    Child,
    ChildFailed,
    Supervisor,
    listening_socket,
    reserve_port,
)
from compliance.drills.promoter import LabPromoter, Promotion, triggered_by
from compliance.drills.timeline import (
    DNS_CHANGED,
    FAILURE_DETECTED,
    FIRST_WRITE,
    PROMOTION_DONE,
    Timeline,
)
from compliance.drills.watchdog import LabStopped, Schedule, scheduled_event

DNS_POLL_SECONDS = 1  # PowerDNS's smallest lua-health-checks-interval
HANDLER_KEYWORDS = ("promoter", "sleep", "environ")
STAND_INS = {
    "aurora_global_database": (
        "PostgreSQL primary + streaming hot standby (pg_basebackup -R), asynchronous; "
        "failover_global_cluster returns at once, then the lab waits the scaled promotion "
        "allowance (setting promotion_allowance_seconds; AWS: 'in under a minute') and runs "
        "pg_promote()"
    ),
    "lambda_functions": (
        "each aws_lambda_function's asset zip from the synthesized output, unpacked, run by its "
        "handler setting with its environment (references to stood-in resources replaced by "
        "the lab's values, durations scaled, the app's [tool.dr-compliance.drills.environment])"
    ),
    "lambda_function_url": (
        "an HTTP adapter per region turning requests into Function URL events (payload 2.0) "
        "for the health function"
    ),
    "route53_health_checks": (
        "a checker per failover record probing its function every request_interval; status "
        "flips after failure_threshold results the other way (one checker, not many locations)"
    ),
    "route53_failover_records": (
        "PowerDNS authoritative, LUA ifurlup record over the health checks' status (first "
        "healthy region; primary when all are down, as Route 53), polled every 1 s, answered "
        "with the record's TTL"
    ),
    "eventbridge_schedule": (
        "a thread starting a run of the failover function every rate, runs overlapping; each "
        "run gets a Scheduled Event and sleeps on the lab's stop event"
    ),
    "cloudwatch_alarms": (
        "the alarm's period, evaluation periods, datapoints to alarm, statistic, comparison "
        "and missing-data treatment over the lab's samples; the action waits the scaled "
        "alarm_action_allowance_seconds, then an SNS-shaped event reaches the function"
    ),
    "application_client": (
        "a writer resolving the record through the DNS server (answer kept for its TTL) and "
        "inserting sequenced, timestamped rows"
    ),
}


_IN_USE: set[str] = set()  # addresses of this process's labs: labs side by side never share one
_IN_USE_LOCK = threading.Lock()


def lab_addresses(count: int = 3) -> list[str]:
    """Distinct 127.0.0.x addresses (loopback /8), none another lab of this process holds.

    Random, so labs of other processes rarely meet either; give them back with
    ``release_addresses``.
    """
    with _IN_USE_LOCK:
        free = [octet for octet in range(10, 250) if f"127.0.0.{octet}" not in _IN_USE]
        chosen = [f"127.0.0.{octet}" for octet in random.sample(free, count)]
        _IN_USE.update(chosen)
    return chosen


def release_addresses(addresses: list[str]) -> None:
    with _IN_USE_LOCK:
        _IN_USE.difference_update(addresses)


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


class LagSampler(threading.Thread):
    """The standby's replay lag, sampled for the replication-lag alarm (its metric, in ms)."""

    def __init__(self, standby: PostgresNode, alarm: MetricAlarm, period: float = 0.05) -> None:
        super().__init__(name="lag-sampler", daemon=True)
        self.standby, self.alarm, self.period = standby, alarm, period
        self.samples: list[tuple[float, float]] = []
        self.stop_event = threading.Event()

    def run(self) -> None:
        route_to_main_thread()
        while not self.stop_event.is_set():
            self.sample()
            self.stop_event.wait(self.period)

    def sample(self) -> float | None:
        """One reading of the lag, given to the alarm's metric; None if unreadable.

        The drill also calls it just before it kills the primary: the metric's
        last value before the failure must not hang on when this thread is next
        scheduled (on a loaded machine, seconds), since CloudWatch's Maximum
        over the period holds the lag up to the failure.
        """
        try:
            lag = self.standby.replay_lag_seconds()
        except Exception:  # the standby is being promoted or is gone
            return None
        if lag is not None:
            now = time.monotonic()
            self.samples.append((now, lag))  # list.append: safe across the two callers
            self.alarm.add(lag * 1000, now)
        return lag

    def peak(self, until: float) -> float:
        return max((lag for at, lag in self.samples if at <= until), default=0.0)

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
class Invocation:
    """One call of the failover function: which trigger, what it answered, when it returned."""

    trigger: str
    action: str
    at: float


@dataclass
class LocalLab:
    """Builds, drives and measures one lab; the supervisor owns its processes."""

    design: Design  # already scaled
    engines: Engines
    supervisor: Supervisor
    progress: Callable[[str], None]
    write_period: float = 0.01
    timeline: Timeline = field(default_factory=Timeline)
    invocations: list[Invocation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        design = self.design
        for function in design.health_functions.values():
            functions.require_drillable(function)
        if design.failover_function is not None:
            functions.require_drillable(design.failover_function)
        primary_address, secondary_address, self.dns_address = lab_addresses()
        self.primary = Region(
            design.primary_region, primary_address, design.cluster_arn(design.primary_region)
        )
        self.secondary = Region(
            design.secondary_region,
            secondary_address,
            design.cluster_arn(design.secondary_region),
        )
        addresses = [primary_address, secondary_address]
        self.db_port = reserve_port(addresses)
        self.http_port = reserve_port(addresses)
        self.status_port = reserve_port(addresses)
        self.dns_port = reserve_port([self.dns_address])
        self.stop = threading.Event()
        self.threads: list[Any] = []
        self.checkers: dict[str, HealthChecker] = {}
        self.schedule: Schedule | None = None
        self.health_alarm: MetricAlarm | None = None
        self.lag_alarm: MetricAlarm | None = None
        self.lag_sampler: LagSampler | None = None
        self.status: StatusServer | None = None
        self.failover_handler: Callable[..., Any] | None = None
        self.failover_env: dict[str, str] = {}
        self.alarm_actions: list[float] = []
        self.errors: list[BaseException] = []
        self.cache_phase = 1.0
        self.endpoints = functions.LabEndpoints(
            database_port=self.db_port,
            addresses={r.name: r.address for r in (self.primary, self.secondary)},
            function_urls={
                r.name: f"http://{r.address}:{self.http_port}/"
                for r in (self.primary, self.secondary)
            },
            cluster_arns={r.name: r.cluster_arn for r in (self.primary, self.secondary)},
            cluster_ids=dict(design.cluster_ids),
            global_cluster_id=design.global_cluster_id,
        )

    @property
    def regions(self) -> tuple[Region, Region]:
        return self.primary, self.secondary

    # -- build -----------------------------------------------------------------

    def build(self) -> None:
        """Start every engine; the slow ones overlap (functions and DNS start during initdb)."""
        design = self.design
        code = self.supervisor.folder("functions")
        self.progress("starting the health functions (synthesized assets) and PowerDNS")
        for region in self.regions:
            function = design.health_functions[region.name]
            region.function = self._start_function(
                region, function, functions.extract(function, code)
            )
        if design.failover_function is not None:
            self._load_failover(design.failover_function, code)
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
        self._start_health_checks()
        self.dns = start_powerdns(
            self.supervisor,
            self.engines.pdns_server,
            address=self.dns_address,
            port=self.dns_port,
            fqdn=design.record_name,
            ttl=int(design.knobs.ttl),
            interval=DNS_POLL_SECONDS,
            health_url=f"http://health.lab:{self.status_port}/status",
            primary=self.primary.address,
            secondary=self.secondary.address,
        )
        knobs = design.knobs
        self.progress(
            f"standby streaming; PowerDNS {self.dns_address}:{self.dns_port} warming up "
            f"(health checks every {knobs.interval:g} s × {knobs.threshold}, TTL {knobs.ttl:g} s)"
        )
        self.dns.warm_up()
        self.promoter = LabPromoter(
            {self.primary.cluster_arn: primary_db, self.secondary.cluster_arn: standby_db},
            allowance=design.promotion_allowance,
            stop=self.stop,
        )
        self.progress("engines started; DNS answers the primary")

    def _environment(self, function: Function) -> dict[str, str]:
        variables, notes = functions.environment(
            function,
            self.endpoints,
            scale=self.design.scale,
            settings=self.design.settings,
            overrides=self.design.environment_overrides,
        )
        self.notes += notes
        return variables

    def _start_function(self, region: Region, function: Function, code: Any) -> Child:
        sock = listening_socket(region.address, self.http_port)
        env = functions.process_environment(self._environment(function), code)
        try:
            return self.supervisor.spawn(
                f"function-{region.name}",
                [
                    sys.executable,
                    "-m",
                    "compliance.drills.function_host",
                    "--fd",
                    str(sock.fileno()),
                    "--code",
                    str(code),
                    "--handler",
                    function.handler,
                    "--function-name",
                    function.name,
                    "--region",
                    region.name,
                    "--timeout",
                    f"{function.timeout:g}",
                ],
                env=env,
                pass_fds=[sock.fileno()],
            )
        finally:
            sock.close()

    def _load_failover(self, function: Function, code_root: Any) -> None:
        code = functions.extract(function, code_root)
        name = f"drill_{self.supervisor.run_id.replace('-', '_')}_{function.name.replace('-', '_')}"
        handler = functions.load_handler(code, function.handler, name)
        missing = functions.missing_keywords(handler, HANDLER_KEYWORDS)
        if missing:
            raise functions.NotDrillable(
                function.subject,
                f"function {function.name}: its handler takes no {', '.join(missing)} "
                "keyword; the lab stands in for the Aurora API and the clock only through "
                f"{', '.join(HANDLER_KEYWORDS)}",
            )
        log = logging.getLogger(name)  # the function's logs, as CloudWatch Logs would keep them
        log.propagate = False
        sink = logging.FileHandler(self.supervisor.folder("logs") / f"{function.name}.log")
        log.addHandler(sink)
        self.failover_handler = handler
        self.failover_env = self._environment(function)

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

    def _start_health_checks(self) -> None:
        design = self.design
        for region, check in (
            (self.primary, design.primary_check),
            (self.secondary, design.secondary_check),
        ):
            # Route 53 waits 4 s for an answer (scaled), never past the next probe
            timeout = min(check.interval * 0.8, max(0.3, 4 * design.scale))
            checker = HealthChecker(
                region.name,
                f"http://{region.address}:{self.http_port}{check.path}",
                interval=check.interval,
                threshold=check.threshold,
                timeout=timeout,
                on_status=self._health_status if region is self.primary else None,
            )
            self.checkers[region.name] = checker
        self.status = StatusServer(
            self.status_port, {r.address: self.checkers[r.name] for r in self.regions}
        )
        self.status.start()
        for checker in self.checkers.values():
            checker.start()
        for checker in self.checkers.values():
            if not checker.wait_status(checker is self.checkers[self.primary.name], 30):
                raise ChildFailed(f"health check {checker.name} never reached its first status")

    def _health_status(self, at: float, healthy: bool) -> None:
        if self.health_alarm is not None:  # HealthCheckStatus: 1 healthy, 0 not
            self.health_alarm.add(1.0 if healthy else 0.0, at)

    # -- traffic and triggers --------------------------------------------------------

    def start_traffic(self) -> None:
        design = self.design
        # the client's cache refreshes at a random phase of the TTL, not in step with PowerDNS
        self.cache_phase = round(random.random(), 3)
        resolver = CachingResolver(self.dns_address, self.dns_port, first_hold=self.cache_phase)
        self.writer = SequencedWriter(
            resolver,
            design.record_name,
            self.db_port,
            period=self.write_period,
            timeout=max(0.5, min(2.0, design.knobs.interval / 2)),
        )
        self.observer = DnsObserver(self.dns)
        self.threads = [self.writer, self.observer]
        if design.health_alarm is not None:
            problem = supported(design.health_alarm)
            if problem:
                self.notes.append(f"{design.health_alarm.name}: not run in the lab ({problem})")
            else:
                self.health_alarm = MetricAlarm(design.health_alarm, on_change=self._alarm_changed)
                self.threads.append(self.health_alarm)
        if design.schedule is not None and self.failover_handler is not None:
            self.schedule = Schedule(design.schedule.rate, self._scheduled_run, self.stop)
            self.threads.append(self.schedule)
        for thread in self.threads:
            thread.start()
        triggers = []
        if self.schedule is not None and design.schedule is not None:
            triggers.append(f"schedule every {design.schedule.rate:g} s")
        if self.health_alarm is not None and design.alarm_invokes_failover:
            triggers.append(f"alarm {design.primary_alarm_name}")
        self.progress(
            "client writing through the DNS name; failover triggers: "
            + (", ".join(triggers) or "none (nothing starts the promotion)")
        )

    def start_lag_alarm(self) -> None:
        """The replication-lag alarm over the standby's replay lag (DR-DEP-02)."""
        assert self.secondary.database is not None
        self.lag_alarm = MetricAlarm(self.design.lag_alarm)
        self.lag_sampler = LagSampler(self.secondary.database, self.lag_alarm)
        for thread in (self.lag_alarm, self.lag_sampler):
            thread.start()
            self.threads.append(thread)

    def _scheduled_run(self, index: int) -> dict[str, Any]:
        design = self.design
        assert design.schedule is not None and self.schedule is not None
        event = scheduled_event(design.schedule.arn, self.secondary.name)
        return self._call_failover(event, "watchdog", self.schedule.sleep)

    def _alarm_changed(self, change: Change) -> None:
        """The alarm's action: after the action allowance, SNS delivers it to the function."""
        if change.new != ALARM or not self.design.alarm_invokes_failover:
            return
        if self.failover_handler is None:
            return
        alarm = self.design.health_alarm
        assert alarm is not None

        def deliver() -> None:
            route_to_main_thread()
            if self.stop.wait(self.design.alarm_action_allowance):
                return
            self.alarm_actions.append(time.monotonic())
            event = alarm_event(alarm, change, self.primary.name, "datapoints breached")
            try:
                self._call_failover(event, "alarm", self._stop_sleep)
            except LabStopped:
                pass
            except BaseException as error:  # surfaced by the drill
                self.errors.append(error)

        threading.Thread(target=deliver, name="alarm-action", daemon=True).start()

    def _stop_sleep(self, seconds: float) -> None:
        if self.stop.wait(max(0.0, seconds)):
            raise LabStopped

    def _call_failover(
        self, event: dict[str, Any], trigger: str, sleep: Callable[[float], None]
    ) -> dict[str, Any]:
        function = self.design.failover_function
        assert function is not None and self.failover_handler is not None
        # The function's own timeout, unscaled: its handler keeps a fixed reserve for its
        # API calls (a constant of its code the lab cannot scale); WATCH_SECONDS bounds a run.
        context = LambdaContext(function.name, function.timeout, function.region)
        with triggered_by(trigger):
            result = self.failover_handler(
                event, context, promoter=self.promoter, sleep=sleep, environ=dict(self.failover_env)
            )
        action = str(result.get("action")) if isinstance(result, dict) else repr(result)
        self.invocations.append(Invocation(trigger, action, time.monotonic()))
        if action == "promoted":
            self.progress(f"the failover function ({trigger}) requested the promotion")
        return result if isinstance(result, dict) else {"action": action}

    # -- waiting and measuring -------------------------------------------------------------

    def wait_steady(self, writes: int = 20, timeout: float = 30.0) -> None:
        """Until the client has written and, when scheduled, a run has probed the primary."""
        deadline = time.monotonic() + timeout
        while len(self.writer.acked) < writes:
            self._raise_errors()
            if time.monotonic() > deadline:
                raise ChildFailed(
                    f"no steady state: {len(self.writer.acked)} writes, "
                    f"errors {self.writer.errors[-3:]}"
                )
            time.sleep(0.02)
        if self.schedule is not None:
            interval = self.design.knobs.watchdog_interval or self.design.knobs.interval
            self.schedule.wait_for_probe(timeout=max(5.0, 3 * interval))

    def wait_first_write(self, since: float, to: Region, timeout: float) -> float | None:
        """When the first write sent after ``since`` was acknowledged by region ``to``.

        Writes the dying primary still acknowledged in the instant of the
        failure do not count: recovery is a write the survivor serves.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._raise_errors()
            write = self.writer.acked_after(since, to.address)
            if write is not None:
                return write.acked_at
            time.sleep(0.01)
        return None

    def _raise_errors(self) -> None:
        errors = list(self.errors) + list(self.promoter.errors)
        if self.schedule is not None:
            errors += self.schedule.errors()
        if self.health_alarm is not None:
            errors += self.health_alarm.errors
        if errors:
            raise errors[0]

    def moments(self, failed_at: float, ended: float) -> Moments:
        """Every stage's ends, seconds after the failure; the timeline gets them too."""

        def rel(at: float | None) -> float | None:
            return None if at is None else round(at - failed_at, 3)

        primary = self.checkers[self.primary.name]
        secondary = self.checkers[self.secondary.name]
        promotion: Promotion | None = next(
            (p for p in self.promoter.promotions if p.call.at >= failed_at), None
        )
        trigger = promotion.call.trigger if promotion else None
        planned = self.timeline.first(PROMOTION_DONE) if promotion is None else None
        if planned is not None:
            trigger = "switchover"
        detected = None
        if trigger == "watchdog":
            call = self.promoter.first("watchdog", after=failed_at)
            detected = call.at if call else None
        alarm_state = self.health_alarm.entered(ALARM, failed_at) if self.health_alarm else None
        alarm_action = next((at for at in self.alarm_actions if at >= failed_at), None)
        if trigger == "alarm":
            detected = alarm_state
        done = promotion.done if promotion else planned
        healthy = secondary.turned(True, done) if done is not None else None
        dns = self.observer.first_answer(self.secondary.address, failed_at)
        first = self.timeline.first(FIRST_WRITE)
        marks = [
            ("primary health check unhealthy", primary.turned(False, failed_at)),
            (FAILURE_DETECTED, detected),
            ("primary health alarm in ALARM", alarm_state),
            ("alarm action delivered", alarm_action),
            ("promotion requested", promotion.call.at if promotion else None),
            (PROMOTION_DONE, done),
            ("secondary health check healthy", healthy),
            (DNS_CHANGED, dns),
        ]
        for name, at in marks:
            if at is not None and self.timeline.first(name) is None:
                self.timeline.mark(name, at=at)
        return Moments(
            primary_unhealthy=rel(primary.turned(False, failed_at)),
            trigger=trigger,
            detected=rel(detected),
            alarm_state=rel(alarm_state),
            alarm_action=rel(alarm_action),
            promote_called=rel(promotion.call.at if promotion else None),
            promotion_done=rel(done),
            standin_wait=promotion.waited if promotion and done else None,
            secondary_healthy=rel(healthy),
            dns_changed=rel(dns),
            first_write=rel(first),
            ended=rel(ended),
            dns_poll=DNS_POLL_SECONDS,
        )

    @property
    def addresses(self) -> list[str]:
        return [self.primary.address, self.secondary.address, self.dns_address]

    def stop_traffic(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.stop()
        for checker in self.checkers.values():
            checker.stop()
        if self.status is not None:
            self.status.stop()

    # -- failures --------------------------------------------------------------------

    def lose_region(self, region: Region) -> None:
        """The whole region dies: its database and its health function, at once."""
        assert region.database is not None and region.function is not None
        region.database.kill()
        self.supervisor.kill(region.function)
