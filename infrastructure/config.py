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


@dataclass(frozen=True)
class HealthCheckKnobs:
    """Route 53 failover timing.

    Detection takes ``request_interval * failure_threshold`` seconds, clients
    keep the old answer up to ``record_ttl`` seconds, and the database needs
    ``promotion_allowance`` seconds to promote: the sum must fit the RTO.
    """

    request_interval: int = 10
    failure_threshold: int = 2
    record_ttl: int = 5
    promotion_allowance: int = 30
    path: str = "/health"

    def budget_seconds(self) -> int:
        return (
            self.request_interval * self.failure_threshold
            + self.record_ttl
            + self.promotion_allowance
        )


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
        if self.health_check.budget_seconds() > self.targets.rto_seconds:
            raise ValueError(
                f"health-check budget {self.health_check.budget_seconds()} s exceeds "
                f"the RTO target {self.targets.rto_seconds} s"
            )
