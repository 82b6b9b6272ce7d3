"""One typed configuration object for the whole DR design.

Every region, name, target and knob the stacks use lives here, so a reviewer
can see the design's parameters in one place and the stacks hold no literals.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RegionConfig:
    """One region of the design: its name, VPC range and Availability Zones."""

    name: str
    vpc_cidr: str
    az_suffixes: tuple[str, ...] = ("a", "b", "c")

    @property
    def availability_zones(self) -> tuple[str, ...]:
        return tuple(f"{self.name}{suffix}" for suffix in self.az_suffixes)

    def subnet_cidr(self, index: int) -> str:
        """The /20 private subnet at ``index`` inside a /16 VPC range."""
        network, _ = self.vpc_cidr.split("/")
        octets = network.split(".")
        return f"{octets[0]}.{octets[1]}.{index * 16}.0/20"


@dataclass(frozen=True)
class Targets:
    """Recovery objectives the design must meet, in seconds."""

    rto_seconds: int = 60
    rpo_seconds: int = 5


# Route 53 accepts these values only (API reference, HealthCheckConfig).
ROUTE53_REQUEST_INTERVALS = (10, 30)
ROUTE53_FAILURE_THRESHOLDS = range(1, 11)
LAMBDA_MAX_TIMEOUT_SECONDS = 900


@dataclass(frozen=True)
class HealthCheckKnobs:
    """Route 53 failover timing: the DNS path of the recovery.

    Route 53 marks the primary unhealthy after ``request_interval *
    failure_threshold`` seconds and clients keep the old answer up to
    ``record_ttl`` seconds. Whether that, and the promotion path, fit the RTO
    is judged by the harness (DR-RTO-01) with its own allowances from
    ``policies/settings.yaml``; the design only declares its timings.
    """

    request_interval: int = 10
    failure_threshold: int = 2
    record_ttl: int = 5
    path: str = "/health"

    def detection_seconds(self) -> int:
        return self.request_interval * self.failure_threshold

    def __post_init__(self) -> None:
        if self.request_interval not in ROUTE53_REQUEST_INTERVALS:
            raise ValueError(f"request_interval must be one of {ROUTE53_REQUEST_INTERVALS}")
        if self.failure_threshold not in ROUTE53_FAILURE_THRESHOLDS:
            raise ValueError("failure_threshold must be between 1 and 10")
        if self.record_ttl < 0:
            raise ValueError("record_ttl must not be negative")


@dataclass(frozen=True)
class WatchdogKnobs:
    """The promotion trigger: a scheduled function that probes the primary.

    EventBridge starts the failover function every ``rate_minutes`` (one
    minute is the finest a schedule allows); each invocation probes the
    primary's health endpoint every ``probe_interval_seconds`` and promotes
    after ``failure_threshold`` consecutive failures, so detection takes
    ``probe_interval_seconds * failure_threshold``. Each invocation watches
    one schedule period plus one detection time plus ``start_slack_seconds``,
    so consecutive invocations overlap: a run of failures that starts at the
    end of one invocation is still counted whole by the next, and a late
    schedule start is absorbed.
    """

    rate_minutes: int = 1
    probe_interval_seconds: int = 5
    failure_threshold: int = 3
    probe_timeout_seconds: int = 2
    start_slack_seconds: int = 5
    # Kept free at the end of an invocation for describe + failover calls.
    promotion_reserve_seconds: int = 15

    def detection_seconds(self) -> int:
        return self.probe_interval_seconds * self.failure_threshold

    @property
    def schedule_expression(self) -> str:
        unit = "minute" if self.rate_minutes == 1 else "minutes"
        return f"rate({self.rate_minutes} {unit})"

    @property
    def watch_seconds(self) -> int:
        return self.rate_minutes * 60 + self.detection_seconds() + self.start_slack_seconds

    @property
    def function_timeout_seconds(self) -> int:
        """Watch window, the last probe's timeout and the promotion calls."""
        return self.watch_seconds + self.probe_timeout_seconds + self.promotion_reserve_seconds

    def __post_init__(self) -> None:
        if self.rate_minutes < 1:
            raise ValueError("rate_minutes must be at least 1 (EventBridge's finest schedule)")
        if self.probe_interval_seconds < 1 or self.failure_threshold < 1:
            raise ValueError("probe_interval_seconds and failure_threshold must be at least 1")
        if not 0 < self.probe_timeout_seconds < self.probe_interval_seconds:
            # A probe that may outlast the interval would stretch the cadence.
            raise ValueError("probe_timeout_seconds must be positive and below the interval")
        if self.function_timeout_seconds > LAMBDA_MAX_TIMEOUT_SECONDS:
            raise ValueError(
                f"the watch window needs a {self.function_timeout_seconds} s function timeout, "
                f"over Lambda's {LAMBDA_MAX_TIMEOUT_SECONDS} s"
            )


@dataclass(frozen=True)
class ReplicationAlarmKnobs:
    """Replication lag alarms (Aurora and DynamoDB), in the metrics' milliseconds.

    AWS publishes both metrics at one-minute standard resolution, so 60 s is
    the shortest period an alarm can have and one datapoint the fewest it
    can need. The threshold is where lag stops being normal: AWS describes
    both replications as typically under one second.
    """

    threshold_ms: int = 1000
    period_seconds: int = 60
    datapoints_to_alarm: int = 1

    def __post_init__(self) -> None:
        if self.period_seconds < 60 or self.period_seconds % 60:
            raise ValueError("period_seconds must be a multiple of 60 (standard resolution)")
        if self.threshold_ms <= 0 or self.datapoints_to_alarm < 1:
            raise ValueError("threshold_ms and datapoints_to_alarm must be positive")


@dataclass(frozen=True)
class DrConfig:
    """Everything that parameterises the DR design."""

    environment: str = "prod"
    owner: str = "platform-team"
    dr_tier: str = "tier-1"
    domain: str = "dr.example.com"
    service_record: str = "api"
    primary: RegionConfig = field(default_factory=lambda: RegionConfig("us-east-1", "10.10.0.0/16"))
    secondary: RegionConfig = field(
        default_factory=lambda: RegionConfig("us-west-2", "10.20.0.0/16")
    )
    global_region: str = "us-east-1"
    targets: Targets = field(default_factory=Targets)
    health_check: HealthCheckKnobs = field(default_factory=HealthCheckKnobs)
    watchdog: WatchdogKnobs = field(default_factory=WatchdogKnobs)
    replication_alarm: ReplicationAlarmKnobs = field(default_factory=ReplicationAlarmKnobs)
    aurora_engine_version: str = "15.4"
    aurora_instance_class: str = "db.r6g.large"
    aurora_instances_per_region: int = 2
    backup_retention_days: int = 7
    log_retention_days: int = 90
    kms_deletion_window_days: int = 30
    database_name: str = "app"
    database_port: int = 5432

    @property
    def name_prefix(self) -> str:
        return f"dr-{self.environment}"

    @property
    def global_cluster_id(self) -> str:
        return f"{self.name_prefix}-global"

    @property
    def service_fqdn(self) -> str:
        return f"{self.service_record}.{self.domain}"

    def tags(self) -> dict[str, str]:
        """Tags every taggable resource carries (through provider default tags)."""
        return {"Environment": self.environment, "Owner": self.owner, "DRTier": self.dr_tier}

    def __post_init__(self) -> None:
        if self.primary.name == self.secondary.name:
            raise ValueError("primary and secondary regions must differ")
        if self.primary.vpc_cidr == self.secondary.vpc_cidr:
            raise ValueError("primary and secondary VPC ranges must not overlap")
