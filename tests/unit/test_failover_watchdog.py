"""The failover function's watchdog mode: a probe loop per scheduled invocation.

Time is simulated: ``FakeClock.sleep`` advances the clock, and probes read it
to decide whether the primary is still up, so no test sleeps.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from infrastructure.config import WatchdogKnobs

GLOBAL_ID = "dr-global"
TARGET = "arn:aws:rds:eu-central-1:123456789012:cluster:dr-eu-central-1-aurora"
PRIMARY = "arn:aws:rds:eu-west-1:123456789012:cluster:dr-eu-west-1-aurora"
HEALTH_URL = "https://abc.lambda-url.eu-west-1.on.aws/health"
KNOBS = WatchdogKnobs()
SCHEDULED = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-12-01T00:00:00Z",
    "region": "eu-central-1",
    "resources": ["arn:aws:events:eu-central-1:123456789012:rule/dr-watchdog"],
    "detail": {},
}


# The environment the secondary stack gives the failover function.
ENV = {
    "GLOBAL_CLUSTER_ID": GLOBAL_ID,
    "TARGET_CLUSTER_ARN": TARGET,
    "PRIMARY_ALARM_NAME": "dr-eu-west-1-health",
    "PRIMARY_HEALTH_URL": HEALTH_URL,
    "PROBE_INTERVAL_SECONDS": str(KNOBS.probe_interval_seconds),
    "FAILURE_THRESHOLD": str(KNOBS.failure_threshold),
    "PROBE_TIMEOUT_SECONDS": str(KNOBS.probe_timeout_seconds),
    "WATCH_SECONDS": str(KNOBS.watch_seconds),
}


@pytest.fixture(autouse=True)
def watchdog_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)


class FakeClock:
    """Monotonic time that only moves when the code under test sleeps (or a probe takes time)."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, "the loop asked to sleep a negative time"
        self.sleeps.append(seconds)
        self.now += seconds


class Primary:
    """A primary that is up until ``fails_at`` (clock time); each probe takes ``cost`` seconds."""

    def __init__(self, clock: FakeClock, fails_at: float = float("inf"), cost: float = 0.0):
        self.clock, self.fails_at, self.cost = clock, fails_at, cost
        self.probed_at: list[float] = []

    def __call__(self) -> tuple[bool, str]:
        self.probed_at.append(self.clock.now)
        healthy = self.clock.now < self.fails_at
        self.clock.now += self.cost
        return healthy, "200" if healthy else "503"


class FakePromoter:
    """Shared by overlapping invocations, like the one global cluster they all look at."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self.writer = False
        self.promoted: list[str] = []
        self.states = 0

    def state(self, target: str) -> Any:
        self.states += 1
        return self.module.ClusterState(self.writer, failover_in_progress=False)

    def promote(self, target: str) -> None:
        self.promoted.append(target)
        self.writer = True


class Context:
    """The Lambda context's clock: remaining time follows the fake clock."""

    def __init__(self, clock: FakeClock, timeout: float) -> None:
        self.deadline = clock.now + timeout
        self.clock = clock

    def get_remaining_time_in_millis(self) -> int:
        return int((self.deadline - self.clock.now) * 1000)


def run(
    module: ModuleType,
    clock: FakeClock,
    probe: Callable[[], tuple[bool, str]],
    promoter: Any,
    context: Any = None,
) -> dict[str, Any]:
    return module.handler(
        SCHEDULED, context, promoter=promoter, probe=probe, clock=clock, sleep=clock.sleep
    )


# --- the loop ---------------------------------------------------------------


def test_a_healthy_primary_is_probed_on_the_grid_for_the_whole_window(
    failover_module: ModuleType,
) -> None:
    clock = FakeClock(100.0)
    primary = Primary(clock, cost=0.3)
    seen = failover_module.watch(
        primary, interval=5, threshold=3, window=80, clock=clock, sleep=clock.sleep
    )
    assert not seen.tripped and seen.consecutive_failures == 0
    assert primary.probed_at == [100.0 + 5 * k for k in range(17)]  # 0, 5, ..., 80
    assert seen.probes == 17


def test_three_consecutive_failures_trip_and_a_success_resets_the_count(
    failover_module: ModuleType,
) -> None:
    clock = FakeClock()
    outcomes = iter([True, False, False, True, False, False, False, True])

    def flapping() -> tuple[bool, str]:
        return next(outcomes), "scripted"

    seen = failover_module.watch(
        flapping, interval=5, threshold=3, window=80, clock=clock, sleep=clock.sleep
    )
    assert seen.tripped and seen.probes == 7 and seen.consecutive_failures == 3
    assert seen.elapsed_seconds == 30  # the 7th probe starts at 6 x 5 s


def test_a_slow_probe_skips_ticks_instead_of_bursting(failover_module: ModuleType) -> None:
    clock = FakeClock()
    primary = Primary(clock, cost=7.0)  # a hung endpoint answering after 7 s
    failover_module.watch(
        primary, interval=5, threshold=99, window=40, clock=clock, sleep=clock.sleep
    )
    assert primary.probed_at == [0, 10, 20, 30, 40]


@pytest.mark.parametrize("fails_at", [0.0, 0.1, 2.5, 4.9, 5.0, 33.3, 60.0, 64.9, 65.0])
def test_detection_takes_at_most_interval_times_threshold(
    failover_module: ModuleType, fails_at: float
) -> None:
    clock = FakeClock()
    seen = failover_module.watch(
        Primary(clock, fails_at=fails_at),
        interval=5,
        threshold=3,
        window=80,
        clock=clock,
        sleep=clock.sleep,
    )
    assert seen.tripped
    assert fails_at < clock.now <= fails_at + 5 * 3


@pytest.mark.parametrize("fails_at", [x / 2 for x in range(0, 120)])  # every 0.5 s of a period
def test_overlapping_invocations_leave_no_blind_spot(
    failover_module: ModuleType, fails_at: float
) -> None:
    """Invocations start every rate; each watches rate + detection + slack (the config's window).

    Whenever in a period the primary fails, one of the two invocations that
    see it detects within interval x threshold of the failure.
    """
    period = KNOBS.rate_minutes * 60
    detection = KNOBS.probe_interval_seconds * KNOBS.failure_threshold
    detected: list[float] = []
    for start in (0.0, float(period)):
        clock = FakeClock(start)
        seen = failover_module.watch(
            Primary(clock, fails_at=fails_at),
            interval=KNOBS.probe_interval_seconds,
            threshold=KNOBS.failure_threshold,
            window=KNOBS.watch_seconds,
            clock=clock,
            sleep=clock.sleep,
        )
        if seen.tripped:
            detected.append(clock.now)
    assert detected, f"a failure at {fails_at} s was never detected"
    assert min(detected) - fails_at <= detection


# --- the handler in watchdog mode -----------------------------------------------


def test_scheduled_event_promotes_after_the_threshold(
    failover_module: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    clock, promoter = FakeClock(), FakePromoter(failover_module)
    with caplog.at_level(logging.INFO):
        result = run(failover_module, clock, Primary(clock, fails_at=12.0), promoter)
    assert result == {
        "action": "promoted",
        "target": TARGET,
        "trigger": "watchdog",
        "failures": 3,
        "detail": "503",
        "watched_seconds": 25.0,  # failures seen at 15, 20 and 25 s
    }
    assert promoter.promoted == [TARGET]
    lines = [json.loads(record.getMessage()) for record in caplog.records]
    assert [line.get("probe") for line in lines if "probe" in line] == ["failed"] * 3
    assert lines[-1]["action"] == "promoted" and lines[-1]["trigger"] == "watchdog"


def test_healthy_primary_is_only_watched(failover_module: ModuleType) -> None:
    clock, promoter = FakeClock(), FakePromoter(failover_module)
    result = run(failover_module, clock, Primary(clock), promoter)
    assert result == {
        "action": "watched",
        "trigger": "watchdog",
        "probes": 17,
        "failures": 0,
        "watched_seconds": 80.0,
    }
    assert promoter.states == 0 and promoter.promoted == []


def test_overlapping_invocations_promote_once(failover_module: ModuleType) -> None:
    """Two runs both see the primary down: the second finds the target already the writer."""
    promoter = FakePromoter(failover_module)
    results = []
    for start in (0.0, 60.0):
        clock = FakeClock(start)
        results.append(run(failover_module, clock, Primary(clock, fails_at=61.0), promoter))
    assert [r["action"] for r in results] == ["promoted", "already-promoted"]
    assert promoter.promoted == [TARGET]


def test_the_window_is_cut_to_the_functions_remaining_time(failover_module: ModuleType) -> None:
    clock = FakeClock()
    primary = Primary(clock)
    context = Context(clock, timeout=60)  # leaves 60 - 15 reserve - 2 probe timeout = 43 s
    result = run(failover_module, clock, primary, FakePromoter(failover_module), context)
    assert primary.probed_at == [5.0 * k for k in range(9)]  # 0 .. 40
    assert result["watched_seconds"] == 40.0


def test_the_configured_timeout_fits_the_whole_window(failover_module: ModuleType) -> None:
    clock = FakeClock()
    context = Context(clock, timeout=KNOBS.function_timeout_seconds)
    result = run(failover_module, clock, Primary(clock), FakePromoter(failover_module), context)
    assert result["watched_seconds"] == KNOBS.watch_seconds


def test_a_timeout_too_short_for_one_detection_fails_loudly(failover_module: ModuleType) -> None:
    clock = FakeClock()
    with pytest.raises(failover_module.ConfigError, match="raise the timeout"):
        run(
            failover_module,
            clock,
            Primary(clock),
            FakePromoter(failover_module),
            Context(clock, 30),
        )


def test_rds_promoter_shape_in_watchdog_mode(failover_module: ModuleType) -> None:
    rds = boto3.client(
        "rds", region_name="eu-central-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    cluster = {
        "GlobalClusterIdentifier": GLOBAL_ID,
        "Status": "available",
        "GlobalClusterMembers": [
            {"DBClusterArn": PRIMARY, "IsWriter": True},
            {"DBClusterArn": TARGET, "IsWriter": False},
        ],
    }
    with Stubber(rds) as stub:
        stub.add_response(
            "describe_global_clusters",
            {"GlobalClusters": [cluster]},
            {"GlobalClusterIdentifier": GLOBAL_ID},
        )
        stub.add_response(
            "failover_global_cluster",
            {"GlobalCluster": {"GlobalClusterIdentifier": GLOBAL_ID, "Status": "failing-over"}},
            {
                "GlobalClusterIdentifier": GLOBAL_ID,
                "TargetDbClusterIdentifier": TARGET,
                "AllowDataLoss": True,
            },
        )
        clock = FakeClock()
        promoter = failover_module.RdsPromoter(GLOBAL_ID, client=rds)
        result = run(failover_module, clock, Primary(clock, fails_at=0.0), promoter)
        stub.assert_no_pending_responses()
    assert result["action"] == "promoted" and result["trigger"] == "watchdog"


@pytest.mark.parametrize(
    "event",
    [
        {"source": "aws.events", "detail-type": "Scheduled Event"},
        SCHEDULED,
    ],
)
def test_scheduled_events_are_recognised(failover_module: ModuleType, event: Any) -> None:
    assert failover_module.is_scheduled(event)


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"source": "aws.events", "detail-type": "CloudWatch Alarm State Change"},
        {"source": "aws.cloudwatch", "detail-type": "Scheduled Event"},
        {"Records": [{"Sns": {"Message": "{}"}}]},
        ["not", "a", "mapping"],
    ],
)
def test_other_events_are_not_scheduled(failover_module: ModuleType, event: Any) -> None:
    assert not failover_module.is_scheduled(event)


def test_sns_path_needs_no_watchdog_variables(
    failover_module: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The local lab and the alarm backstop set only the three SNS-path variables."""
    for name in ("PRIMARY_HEALTH_URL", "PROBE_INTERVAL_SECONDS", "FAILURE_THRESHOLD"):
        monkeypatch.delenv(name)
    message = {"AlarmName": "dr-eu-west-1-health", "NewStateValue": "ALARM"}
    event = {"Records": [{"Sns": {"Message": json.dumps(message)}}]}
    promoter = FakePromoter(failover_module)
    assert failover_module.handler(event, None, promoter=promoter)["action"] == "promoted"


def test_an_explicit_environment_replaces_os_environ(
    failover_module: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """How the lab runs overlapping invocations in one process without a shared environment."""
    for name in ENV:
        monkeypatch.delenv(name)
    clock, promoter = FakeClock(), FakePromoter(failover_module)
    result = failover_module.handler(
        SCHEDULED,
        None,
        promoter=promoter,
        probe=Primary(clock, fails_at=0.0),
        clock=clock,
        sleep=clock.sleep,
        environ=ENV,
    )
    assert result["action"] == "promoted" and promoter.promoted == [TARGET]
    with pytest.raises(failover_module.ConfigError, match="GLOBAL_CLUSTER_ID"):
        failover_module.handler(SCHEDULED, None, promoter=promoter, probe=Primary(clock))


# --- configuration ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "error"),
    [
        ("PRIMARY_HEALTH_URL", "", "missing environment variables: PRIMARY_HEALTH_URL"),
        ("FAILURE_THRESHOLD", "", "missing environment variables: FAILURE_THRESHOLD"),
        ("PRIMARY_HEALTH_URL", "file:///etc/passwd", "must be an http"),
        ("PRIMARY_HEALTH_URL", "https://", "must be an http"),
        ("PROBE_INTERVAL_SECONDS", "five", "PROBE_INTERVAL_SECONDS must be a finite float"),
        ("PROBE_INTERVAL_SECONDS", "nan", "must be a finite float"),
        ("PROBE_INTERVAL_SECONDS", "0", "must be positive"),
        ("FAILURE_THRESHOLD", "2.5", "FAILURE_THRESHOLD must be a finite int"),
        ("FAILURE_THRESHOLD", "0", "must be positive"),
        ("PROBE_TIMEOUT_SECONDS", "5", "below the interval"),
        ("WATCH_SECONDS", "10", "shorter than one detection"),
    ],
)
def test_bad_watchdog_configuration_fails_loudly(
    failover_module: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    error: str,
) -> None:
    monkeypatch.setenv(variable, value)
    clock = FakeClock()
    with pytest.raises(failover_module.ConfigError, match=error):
        run(failover_module, clock, Primary(clock), FakePromoter(failover_module))


def test_probe_timeout_defaults_below_the_interval(failover_module: ModuleType) -> None:
    env = {
        "PRIMARY_HEALTH_URL": HEALTH_URL,
        "PROBE_INTERVAL_SECONDS": "1",
        "FAILURE_THRESHOLD": "3",
        "WATCH_SECONDS": "60",
    }
    settings = failover_module.WatchdogSettings.from_env(env)
    assert settings.probe_timeout_seconds == 0.5
    assert (
        failover_module.WatchdogSettings.from_env(
            {**env, "PROBE_INTERVAL_SECONDS": "10"}
        ).probe_timeout_seconds
        == 2.0
    )


# --- the real HTTP probe, against loopback ------------------------------------------


class _Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self.send_response(self.server.status)  # type: ignore[attr-defined]
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return


@pytest.fixture
def health_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    server.status = 200  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_http_probe_reads_the_status(
    failover_module: ModuleType, health_server: ThreadingHTTPServer
) -> None:
    url = f"http://127.0.0.1:{health_server.server_address[1]}/health"
    probe = failover_module.http_probe(url, timeout=2)
    assert probe() == (True, "200")
    health_server.status = 503  # type: ignore[attr-defined]
    assert probe() == (False, "503")


def test_http_probe_treats_refusal_and_silence_as_failure(failover_module: ModuleType) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    healthy, detail = failover_module.http_probe(f"http://127.0.0.1:{port}/health", 1)()
    assert (healthy, detail) == (False, "URLError")
    with socket.socket() as silent:  # accepts the connection (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/health"
        healthy, detail = failover_module.http_probe(url, 0.2)()
    assert not healthy and detail in ("TimeoutError", "URLError")


def test_the_watchdog_reads_the_real_health_handler(
    failover_module: ModuleType, health_check_module: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The project's health function, served as a Function URL, answers the watchdog's probe."""
    from compliance.drills.function_host import FunctionUrlServer

    monkeypatch.setenv("DB_REGION", "lab-1")
    states = {"recovery": False}

    class Connection:
        def cursor(self) -> Connection:
            return self

        def execute(self, sql: str) -> None:
            return None

        def fetchone(self) -> tuple[bool]:
            return (states["recovery"],)

        def close(self) -> None:
            return None

    def handler(event: Any, context: Any) -> Any:
        return health_check_module.handler(event, context, connect=Connection)

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    server = FunctionUrlServer(
        sock, handler, function_name="health", region="lab-1", timeout_seconds=2
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        probe = failover_module.http_probe(
            f"http://127.0.0.1:{server.server_address[1]}/health", timeout=2
        )
        assert probe() == (True, "200")
        states["recovery"] = True  # the primary lost its writer: read-only
        assert probe() == (False, "503")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_default_rds_client_cannot_hang_past_the_reserve(
    failover_module: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """boto3's defaults (60 s timeouts, retries) would outlive the function's timeout."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    config = failover_module.RdsPromoter(GLOBAL_ID).client.meta.config
    attempts = config.retries["total_max_attempts"]
    worst_call = (config.connect_timeout + config.read_timeout) * attempts
    assert worst_call <= failover_module.PROMOTION_RESERVE_SECONDS
