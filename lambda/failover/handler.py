"""Promote the secondary Aurora cluster when the primary region is lost.

Two triggers start this function, in the secondary region:

- the watchdog: an EventBridge schedule (once a minute, the finest a
  schedule allows) starts it with a "Scheduled Event"; it then probes the
  primary's health endpoint every ``PROBE_INTERVAL_SECONDS`` for the watch
  window and promotes after ``FAILURE_THRESHOLD`` consecutive failures;
- the backstop: the primary health alarm (CloudWatch, through SNS), which
  AWS delivers minutes late but independently of this function's probes.

The alerts topic carries every alarm of the design, SNS / Lambda retries
deliver duplicates and consecutive watchdog runs overlap, so the function
decides first (pure), then checks the global cluster's state and promotes at
most once.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

IN_PROGRESS = frozenset({"pending", "failing-over", "switching-over", "cancelling"})

SCHEDULED_SOURCE = "aws.events"
SCHEDULED_DETAIL_TYPE = "Scheduled Event"
# Kept free at the end of an invocation for describe + failover calls.
PROMOTION_RESERVE_SECONDS = 15.0

Probe = Callable[[], tuple[bool, str]]
"""One health probe: (healthy, detail); injected so tests and the lab need no network."""
Clock = Callable[[], float]
Sleep = Callable[[float], None]


class ConfigError(ValueError):
    """The function's environment is incomplete."""


class MalformedEvent(ValueError):
    """The event is not an SNS-wrapped CloudWatch alarm state change."""


@dataclass(frozen=True)
class Settings:
    """Which global cluster, which member to promote, and which alarm triggers it."""

    global_cluster_id: str
    target_cluster_arn: str
    primary_alarm_name: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Read the three required variables; name the missing ones."""
        names = ("GLOBAL_CLUSTER_ID", "TARGET_CLUSTER_ARN", "PRIMARY_ALARM_NAME")
        missing = [name for name in names if not env.get(name)]
        if missing:
            raise ConfigError(f"missing environment variables: {', '.join(missing)}")
        return cls(*(env[name] for name in names))


def _number(env: Mapping[str, str], name: str, kind: type[int] | type[float]) -> Any:
    """A finite number from the environment, or ConfigError naming the variable."""
    try:
        value = kind(env[name])
    except (KeyError, ValueError):
        value = None
    if value is None or not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite {kind.__name__}, got {env.get(name)!r}")
    return value


@dataclass(frozen=True)
class WatchdogSettings:
    """What the scheduled probe loop needs, read only when a schedule starts the function."""

    health_url: str
    interval_seconds: float
    failure_threshold: int
    watch_seconds: float
    probe_timeout_seconds: float

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WatchdogSettings:
        """Read and check the probe loop's variables; name what is wrong."""
        names = (
            "PRIMARY_HEALTH_URL",
            "PROBE_INTERVAL_SECONDS",
            "FAILURE_THRESHOLD",
            "WATCH_SECONDS",
        )
        missing = [name for name in names if not env.get(name)]
        if missing:
            raise ConfigError(f"missing environment variables: {', '.join(missing)}")
        url = env["PRIMARY_HEALTH_URL"]
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            # urllib would also open file:// and ftp:// URLs
            raise ConfigError("PRIMARY_HEALTH_URL must be an http(s) URL")
        interval = _number(env, "PROBE_INTERVAL_SECONDS", float)
        threshold = _number(env, "FAILURE_THRESHOLD", int)
        window = _number(env, "WATCH_SECONDS", float)
        timeout = (
            _number(env, "PROBE_TIMEOUT_SECONDS", float)
            if env.get("PROBE_TIMEOUT_SECONDS")
            else min(2.0, interval / 2)
        )
        if interval <= 0 or threshold < 1:
            raise ConfigError("PROBE_INTERVAL_SECONDS and FAILURE_THRESHOLD must be positive")
        if not 0 < timeout < interval:
            raise ConfigError("PROBE_TIMEOUT_SECONDS must be positive and below the interval")
        if window < interval * threshold:
            raise ConfigError("WATCH_SECONDS is shorter than one detection (interval x threshold)")
        return cls(url, interval, threshold, window, timeout)


@dataclass(frozen=True)
class Decision:
    """Whether an alarm message warrants promotion, and why."""

    act: bool
    reason: str


@dataclass(frozen=True)
class ClusterState:
    """What the promoter sees before acting."""

    target_is_writer: bool
    failover_in_progress: bool


class Promoter(Protocol):
    """Promotion backend: Aurora in AWS, a PostgreSQL standby in the local lab."""

    def state(self, target: str) -> ClusterState:
        """Report whether ``target`` already writes or a failover is under way."""
        ...

    def promote(self, target: str) -> None:
        """Start promoting ``target`` to writer."""
        ...


class RdsPromoter:
    """Aurora global database promoter (unplanned failover, data loss allowed)."""

    def __init__(self, global_cluster_id: str, client: Any = None) -> None:
        if client is None:
            import boto3  # lazy: the pure parts and the lab need no AWS SDK
            from botocore.config import Config

            # Short timeouts so the calls fit in PROMOTION_RESERVE_SECONDS; a call
            # that still overruns is retried by the next (overlapping) scheduled run.
            timeouts = Config(connect_timeout=2, read_timeout=5, retries={"total_max_attempts": 2})
            client = boto3.client("rds", config=timeouts)
        self.global_cluster_id = global_cluster_id
        self.client = client

    def state(self, target: str) -> ClusterState:
        response = self.client.describe_global_clusters(
            GlobalClusterIdentifier=self.global_cluster_id
        )
        cluster = response["GlobalClusters"][0]
        writer = any(
            member.get("DBClusterArn") == target and member.get("IsWriter")
            for member in cluster.get("GlobalClusterMembers", [])
        )
        failover = (cluster.get("FailoverState") or {}).get("Status")
        busy = failover in IN_PROGRESS or cluster.get("Status") in IN_PROGRESS
        return ClusterState(target_is_writer=writer, failover_in_progress=busy)

    def promote(self, target: str) -> None:
        self.client.failover_global_cluster(
            GlobalClusterIdentifier=self.global_cluster_id,
            TargetDbClusterIdentifier=target,
            AllowDataLoss=True,
        )


def parse_message(event: Mapping[str, Any]) -> dict[str, Any]:
    """Extract the alarm message from the SNS envelope, or raise MalformedEvent."""
    try:
        message = json.loads(event["Records"][0]["Sns"]["Message"])
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise MalformedEvent("not an SNS notification with a JSON message") from exc
    if not isinstance(message, dict) or not all(
        isinstance(message.get(key), str) for key in ("AlarmName", "NewStateValue")
    ):
        raise MalformedEvent("message lacks AlarmName / NewStateValue")
    return message


def decide(message: Mapping[str, Any], settings: Settings) -> Decision:
    """Act only on the primary health alarm entering ALARM."""
    if message.get("AlarmName") != settings.primary_alarm_name:
        return Decision(False, "other-alarm")
    if message.get("NewStateValue") != "ALARM":
        return Decision(False, "not-in-alarm")
    return Decision(True, "primary-unhealthy")


def _result(action: str, **details: Any) -> dict[str, Any]:
    """Log one structured line per outcome and return it."""
    result = {"action": action, **details}
    logger.info(json.dumps({"function": "failover", **result}, sort_keys=True))
    return result


def _promote_once(promoter: Promoter, target: str, **details: Any) -> dict[str, Any]:
    """Promote unless already done or under way; tolerate losing a race.

    ``details`` (which trigger, what it saw) go into the result and its log line.
    """
    before = promoter.state(target)
    if before.target_is_writer:
        return _result("already-promoted", target=target, **details)
    if before.failover_in_progress:
        return _result("in-progress", target=target, **details)
    try:
        promoter.promote(target)
    except Exception as exc:
        after = promoter.state(target)
        if after.target_is_writer or after.failover_in_progress:
            return _result("in-progress", target=target, note="concurrent-promotion", **details)
        _result("error", target=target, error=type(exc).__name__, **details)
        raise
    return _result("promoted", target=target, **details)


# --- The watchdog: a probe loop inside one scheduled invocation -------------


def is_scheduled(event: Mapping[str, Any]) -> bool:
    """An EventBridge schedule's event (SNS events carry ``Records`` instead)."""
    return (
        isinstance(event, Mapping)
        and event.get("source") == SCHEDULED_SOURCE
        and event.get("detail-type") == SCHEDULED_DETAIL_TYPE
    )


def http_probe(url: str, timeout: float) -> Probe:
    """A GET on the health endpoint: healthy on 2xx within the timeout (200 means writer)."""

    def probe() -> tuple[bool, str]:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - http(s) only
                return 200 <= response.status < 300, str(response.status)
        except urllib.error.HTTPError as error:
            return False, str(error.code)
        except (OSError, ValueError) as error:  # refused, reset, timed out, DNS
            return False, type(error).__name__

    return probe


@dataclass(frozen=True)
class Watch:
    """What one probe loop saw."""

    tripped: bool
    probes: int
    consecutive_failures: int
    elapsed_seconds: float
    last_detail: str = ""


def watch(
    probe: Probe,
    *,
    interval: float,
    threshold: int,
    window: float,
    clock: Clock = time.monotonic,
    sleep: Sleep = time.sleep,
) -> Watch:
    """Probe every ``interval`` s for ``window`` s; trip after ``threshold`` consecutive failures.

    Probes start on a fixed grid (start + k x interval), so a slow probe
    skips ticks instead of bursting, and detection stays interval x
    threshold. No probe starts after the window.
    """
    start = clock()
    probes = failures = 0
    detail = ""
    next_at = start
    while next_at - start <= window:
        healthy, detail = probe()
        probes += 1
        failures = 0 if healthy else failures + 1
        if not healthy:
            logger.warning(
                json.dumps({"function": "failover", "probe": "failed", "detail": detail})
            )
        if failures >= threshold:
            return Watch(True, probes, failures, clock() - start, detail)
        next_at += interval
        while next_at <= clock():
            next_at += interval
        if next_at - start > window:
            break
        sleep(max(0.0, next_at - clock()))
    return Watch(False, probes, failures, clock() - start, detail)


def _watch_window(settings: WatchdogSettings, context: Any) -> float:
    """The configured window, cut so the promotion calls still fit in the function's timeout."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return settings.watch_seconds
    usable = remaining() / 1000 - PROMOTION_RESERVE_SECONDS - settings.probe_timeout_seconds
    window = min(settings.watch_seconds, usable)
    if window < settings.interval_seconds * settings.failure_threshold:
        raise ConfigError(
            f"the function's timeout leaves {max(window, 0):.0f} s to watch, less than one "
            "detection (interval x threshold): raise the timeout"
        )
    return window


def run_watchdog(
    settings: Settings,
    context: Any,
    *,
    environ: Mapping[str, str],
    promoter: Promoter | None,
    probe: Probe | None,
    clock: Clock,
    sleep: Sleep,
) -> dict[str, Any]:
    """One scheduled invocation: watch the primary, promote (once) if it stays down."""
    watchdog = WatchdogSettings.from_env(environ)
    if probe is None:
        probe = http_probe(watchdog.health_url, watchdog.probe_timeout_seconds)
    seen = watch(
        probe,
        interval=watchdog.interval_seconds,
        threshold=watchdog.failure_threshold,
        window=_watch_window(watchdog, context),
        clock=clock,
        sleep=sleep,
    )
    if not seen.tripped:
        return _result(
            "watched",
            trigger="watchdog",
            probes=seen.probes,
            failures=seen.consecutive_failures,
            watched_seconds=round(seen.elapsed_seconds, 1),
        )
    if promoter is None:
        promoter = RdsPromoter(settings.global_cluster_id)
    return _promote_once(
        promoter,
        settings.target_cluster_arn,
        trigger="watchdog",
        failures=seen.consecutive_failures,
        detail=seen.last_detail,
        watched_seconds=round(seen.elapsed_seconds, 1),
    )


def handler(
    event: Mapping[str, Any],
    context: Any,
    *,
    promoter: Promoter | None = None,
    probe: Probe | None = None,
    clock: Clock = time.monotonic,
    sleep: Sleep = time.sleep,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Lambda entry point (EventBridge schedule or SNS).

    ``promoter``, ``probe``, ``clock``, ``sleep`` and ``environ`` (instead of
    ``os.environ``, so overlapping runs in one process need no shared
    environment) are for tests and the local lab.
    """
    environ = os.environ if environ is None else environ
    settings = Settings.from_env(environ)
    if is_scheduled(event):
        return run_watchdog(
            settings,
            context,
            environ=environ,
            promoter=promoter,
            probe=probe,
            clock=clock,
            sleep=sleep,
        )
    try:
        message = parse_message(event)
    except MalformedEvent as exc:
        return _result("ignored", reason="malformed-message", detail=str(exc))
    decision = decide(message, settings)
    if not decision.act:
        return _result("ignored", reason=decision.reason, alarm=message["AlarmName"])
    if promoter is None:
        promoter = RdsPromoter(settings.global_cluster_id)
    return _promote_once(promoter, settings.target_cluster_arn)
