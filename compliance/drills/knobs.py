"""The drill's knobs, read from the synthesized stacks, and their scaling.

Interval, failure threshold and TTL come from the Route 53 PRIMARY failover
record and its health check; the alarm names and the replication-lag
threshold from the CloudWatch alarms; the promotion allowance and the
targets from ``policies/settings.yaml``. Scaling multiplies every duration
(never the threshold, a count) so a CI run keeps the design's proportions;
PowerDNS takes whole seconds, so interval and TTL are rounded, minimum 1.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from typing import Any

from compliance.errors import InputError
from compliance.model import Model, Resource

_LOCAL_REF = re.compile(r"^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.[a-z_]+\}$")
_STACK_REF = re.compile(r"cross-stack-reference-input-([A-Za-z0-9_-]+)")


@dataclass(frozen=True)
class Knobs:
    """Failover timing, seconds (``threshold`` is a count)."""

    interval: float
    threshold: int
    ttl: float
    promotion_allowance: float

    def budget(self) -> float:
        """The static RTO budget (DR-RTO-01): detection + TTL + promotion allowance."""
        return self.interval * self.threshold + self.ttl + self.promotion_allowance

    def scaled(self, factor: float) -> Knobs:
        if factor == 1:
            return self
        return Knobs(
            interval=float(max(1, round(self.interval * factor))),
            threshold=self.threshold,
            ttl=float(max(1, round(self.ttl * factor))),
            promotion_allowance=round(self.promotion_allowance * factor, 3),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Design:
    """What the drills need to know about the synthesized DR design."""

    knobs: Knobs
    rto_target: float
    rpo_target: float
    lag_alarm_threshold_ms: float
    lag_alarm_name: str
    primary_alarm_name: str
    record_name: str
    primary_region: str
    secondary_region: str
    health_path: str
    global_cluster_id: str
    lambda_timeout: float
    health_alarm_period: float = 60.0
    health_alarm_evaluation_periods: int = 1

    def unmodelled_delays(self) -> str:
        """What AWS adds that the static budget (and so the lab) leaves out."""
        knobs = self.knobs
        alarm = self.health_alarm_period * self.health_alarm_evaluation_periods
        return (
            f"Not in the static budget, nor in the lab: in AWS the primary health alarm "
            f"evaluates HealthCheckStatus over {self.health_alarm_evaluation_periods} period(s) "
            f"of {self.health_alarm_period:g} s (up to {alarm:g} s more before the failover "
            f"function runs), and Route 53 marks the promoted secondary healthy only after "
            f"{knobs.threshold} passing checks ({knobs.interval * knobs.threshold:g} s); "
            f"PowerDNS flips after one."
        )

    def scaled(self, factor: float) -> Design:
        return replace(
            self,
            knobs=self.knobs.scaled(factor),
            rto_target=round(self.rto_target * factor, 3),
            rpo_target=round(self.rpo_target * factor, 3),
            lag_alarm_threshold_ms=round(self.lag_alarm_threshold_ms * factor, 3),
            health_alarm_period=round(self.health_alarm_period * factor, 3),
        )


def _one(resources: list[Resource], what: str, source: Any) -> Resource:
    if not resources:
        raise InputError(source, f"the synthesized stacks have no {what}")
    return resources[0]


def _local_target(model: Model, stack: str, value: Any) -> Resource | None:
    match = _LOCAL_REF.match(value) if isinstance(value, str) else None
    if not match:
        return None
    return next(
        (
            r
            for r in model.resources()
            if r.stack == stack and (r.type, r.name) == (match[1], match[2])
        ),
        None,
    )


def _region_of_reference(model: Model, resource: Resource, value: Any) -> str | None:
    """The region of the stack a cross-stack reference in ``value`` points to."""
    match = _STACK_REF.search(str(value))
    if match:
        producer = next((s for s in model.stacks if s.name == match[1]), None)
        if producer is not None:
            return producer.region
    return None


def read_design(model: Model, settings: Any) -> Design:
    """Knobs and names from the synthesized failover record pair, health checks and alarms.

    ``settings``: the harness settings as a mapping, or the loaded settings
    object (its ``as_data()`` is that mapping).
    """
    if hasattr(settings, "as_data"):
        settings = settings.as_data()
    resources = model.resources()
    records = [r for r in resources if r.type == "aws_route53_record"]

    def failover(kind: str) -> Resource:
        return _one(
            [
                r
                for r in records
                if (r.values.get("failover_routing_policy") or {}).get("type") == kind
            ],
            f"{kind} failover record",
            model.source,
        )

    primary_record, secondary_record = failover("PRIMARY"), failover("SECONDARY")
    check = _local_target(model, primary_record.stack, primary_record.values.get("health_check_id"))
    if check is None or check.type != "aws_route53_health_check":
        raise InputError(model.source, "the PRIMARY failover record names no health check")
    alarms = [r for r in resources if r.type == "aws_cloudwatch_metric_alarm"]
    health_alarm = _one(
        [
            a
            for a in alarms
            if a.values.get("metric_name") == "HealthCheckStatus"
            and _local_target(
                model, a.stack, (a.values.get("dimensions") or {}).get("HealthCheckId")
            )
            == check
        ],
        "HealthCheckStatus alarm on the primary health check",
        model.source,
    )
    lag_alarm = _one(
        [a for a in alarms if a.values.get("metric_name") == "AuroraGlobalDBReplicationLag"],
        "AuroraGlobalDBReplicationLag alarm",
        model.source,
    )
    global_clusters = [r for r in resources if r.type == "aws_rds_global_cluster"]
    functions = [r for r in resources if r.type == "aws_lambda_function"]
    health_function = next(
        (f for f in functions if "health" in str(f.values.get("function_name", ""))), None
    )
    primary_region = (
        _region_of_reference(model, primary_record, primary_record.values.get("records"))
        or primary_record.region
    )
    secondary_region = (
        _region_of_reference(model, secondary_record, secondary_record.values.get("records"))
        or lag_alarm.region
    )
    knobs = Knobs(
        interval=float(check.values.get("request_interval", 30)),
        threshold=int(check.values.get("failure_threshold", 3)),
        ttl=float(primary_record.values.get("ttl", 60)),
        promotion_allowance=float(settings["promotion_allowance_seconds"]),
    )
    return Design(
        knobs=knobs,
        rto_target=float(settings["rto_seconds"]),
        rpo_target=float(settings["rpo_seconds"]),
        lag_alarm_threshold_ms=float(lag_alarm.values.get("threshold", 0)),
        lag_alarm_name=str(lag_alarm.values.get("alarm_name", lag_alarm.name)),
        primary_alarm_name=str(health_alarm.values.get("alarm_name", health_alarm.name)),
        record_name=str(primary_record.values.get("name")),
        primary_region=str(primary_region),
        secondary_region=str(secondary_region),
        health_path=str(check.values.get("resource_path", "/health")),
        global_cluster_id=str(
            global_clusters[0].values.get("global_cluster_identifier", "global")
            if global_clusters
            else "global"
        ),
        lambda_timeout=float(health_function.values.get("timeout", 5)) if health_function else 5.0,
        health_alarm_period=float(health_alarm.values.get("period", 60)),
        health_alarm_evaluation_periods=int(health_alarm.values.get("evaluation_periods", 1)),
    )
