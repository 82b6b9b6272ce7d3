"""Promote the secondary Aurora cluster when the primary health alarm fires.

The alerts topic carries every alarm of the design and SNS / Lambda retries
deliver duplicates, so the function decides first (pure), then checks the
global cluster's state and promotes at most once.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

IN_PROGRESS = frozenset({"pending", "failing-over", "switching-over", "cancelling"})


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

            client = boto3.client("rds")
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


def _promote_once(promoter: Promoter, target: str) -> dict[str, Any]:
    """Promote unless already done or under way; tolerate losing a race."""
    before = promoter.state(target)
    if before.target_is_writer:
        return _result("already-promoted", target=target)
    if before.failover_in_progress:
        return _result("in-progress", target=target)
    try:
        promoter.promote(target)
    except Exception as exc:
        after = promoter.state(target)
        if after.target_is_writer or after.failover_in_progress:
            return _result("in-progress", target=target, note="concurrent-promotion")
        _result("error", target=target, error=type(exc).__name__)
        raise
    return _result("promoted", target=target)


def handler(
    event: Mapping[str, Any], context: Any, *, promoter: Promoter | None = None
) -> dict[str, Any]:
    """Lambda entry point (SNS); ``promoter`` is for tests and the local lab."""
    settings = Settings.from_env(os.environ)
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
