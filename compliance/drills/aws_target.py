"""The opt-in ``aws`` target: deploy the synthesized stacks, drill, always destroy.

Needs ``--target aws`` AND ``DR_AWS_DRILLS=1`` AND AWS credentials: it creates
real (billed) resources. The stacks are applied with ``terraform`` in
manifest order and destroyed in reverse order in a ``finally``, also when a
drill or an apply fails. The drills use boto3 only:

- inject the region loss by inverting the primary's Route 53 health check
  (``update_health_check(Inverted=True)``);
- detect it from ``get_health_check_status`` (the checkers' reports);
- promote with ``failover_global_cluster`` (``AllowDataLoss=True``), or
  ``switchover_global_cluster`` for the planned drill, and wait on
  ``describe_global_clusters``;
- poll the record through the zone's own name servers (UDP, as a resolver
  would) and ``test_dns_answer``;
- read ``AuroraGlobalDBReplicationLag`` from CloudWatch for the RPO.

No application client runs in AWS (the database is in private subnets), so
"first write served" is when the DNS change has outlived the TTL with the
target promoted, and the RPO is the replication lag CloudWatch reported at
the failure: both are stated as such in the record's notes. Tests run these
calls against a moto server (shape only; moto never times anything).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from compliance.drills.client import DnsError, query
from compliance.drills.knobs import Design
from compliance.drills.scenarios import SCENARIOS, Check, Outcome, budget_check, drill_record
from compliance.drills.timeline import (
    DNS_CHANGED,
    FAILURE_DETECTED,
    FAILURE_INJECTED,
    FIRST_WRITE,
    PROMOTION_DONE,
    Timeline,
)

OPT_IN_ENV = "DR_AWS_DRILLS"
AWS_STAND_INS: dict[str, str] = {}  # nothing stands in: the real services run


class OptInRequired(RuntimeError):
    """The aws target was asked for without the explicit opt-in or credentials."""


def require_opt_in(env: dict[str, str] | None = None, session: Any = None) -> None:
    env = dict(os.environ) if env is None else env
    if env.get(OPT_IN_ENV) != "1":
        raise OptInRequired(
            f"the aws target deploys real, billed resources: set {OPT_IN_ENV}=1 as well as "
            "passing --target aws"
        )
    if session is None:
        import boto3

        session = boto3.Session()
    if session.get_credentials() is None:
        raise OptInRequired("no AWS credentials found (environment, profile or role)")


# -- deploy / destroy ---------------------------------------------------------------


def manifest_order(cdktf_out: Path) -> list[tuple[str, Path]]:
    """Stacks in dependency order (a stack after every stack it depends on)."""
    manifest = json.loads((cdktf_out / "manifest.json").read_text(encoding="utf-8"))
    entries = manifest["stacks"]
    ordered: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in ordered:
            return
        if name in visiting:
            raise ValueError(f"manifest.json: dependency cycle through {name}")
        visiting.add(name)
        for dependency in sorted(entries[name].get("dependencies") or []):
            visit(dependency)
        visiting.discard(name)
        ordered.append(name)

    for name in sorted(entries):
        visit(name)
    return [(name, cdktf_out / entries[name]["workingDirectory"]) for name in ordered]


@dataclass
class Terraform:
    binary: str = "terraform"
    runner: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run
    timeout: float = 3600.0

    def _run(self, folder: Path, *args: str) -> None:
        command = [self.binary, f"-chdir={folder}", *args, "-input=false", "-no-color"]
        result = self.runner(command, capture_output=True, text=True, timeout=self.timeout)
        if result.returncode != 0:
            tail = (result.stderr or result.stdout or "").strip().splitlines()[-5:]
            raise RuntimeError(f"terraform {args[0]} in {folder.name} failed: {' / '.join(tail)}")

    def apply(self, folder: Path) -> None:
        self._run(folder, "init")
        self._run(folder, "apply", "-auto-approve")

    def destroy(self, folder: Path) -> None:
        self._run(folder, "destroy", "-auto-approve")


@contextmanager
def deployed(
    cdktf_out: Path, terraform: Terraform, progress: Callable[[str], None]
) -> Iterator[list[str]]:
    """Apply every stack in manifest order; destroy the touched ones in reverse, always."""
    order = manifest_order(cdktf_out)
    touched: list[tuple[str, Path]] = []
    try:
        for name, folder in order:
            touched.append((name, folder))  # a failed apply may leave resources: destroy it too
            progress(f"terraform apply {name}")
            terraform.apply(folder)
        yield [name for name, _ in order]
    finally:
        errors = []
        for name, folder in reversed(touched):
            progress(f"terraform destroy {name}")
            try:
                terraform.destroy(folder)
            except Exception as error:  # keep destroying the rest
                errors.append(error)
        if errors:
            raise errors[0]


# -- the boto3 side -----------------------------------------------------------------------


@dataclass
class AwsClients:
    route53: Any
    rds: Any  # in the secondary region: where the promotion is asked for
    cloudwatch: Any  # in the secondary region: where the lag alarm lives

    @classmethod
    def create(cls, design: Design, session: Any = None) -> AwsClients:
        import boto3

        session = session or boto3.Session()
        return cls(
            route53=session.client("route53"),
            rds=session.client("rds", region_name=design.secondary_region),
            cloudwatch=session.client("cloudwatch", region_name=design.secondary_region),
        )


@dataclass
class AwsDrill:
    """The boto3 calls of the drills, with injectable time for tests."""

    clients: AwsClients
    design: Design
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    resolve_host: Callable[[str], str] = socket.gethostbyname
    dns_port: int = 53
    poll: float = 5.0
    timeline: Timeline = field(default_factory=Timeline)

    # Route 53 ---------------------------------------------------------------------

    def zone(self) -> tuple[str, list[str]]:
        """The hosted zone holding the record, and its name servers."""
        zone_name = self.design.record_name.split(".", 1)[1].rstrip(".") + "."
        found = self.clients.route53.list_hosted_zones_by_name(DNSName=zone_name)
        zones = [z for z in found["HostedZones"] if z["Name"] == zone_name]
        if not zones:
            raise RuntimeError(f"no hosted zone {zone_name}")
        zone_id = zones[0]["Id"].split("/")[-1]
        detail = self.clients.route53.get_hosted_zone(Id=zone_id)
        return zone_id, list(detail.get("DelegationSet", {}).get("NameServers", []))

    def failover_records(self, zone_id: str) -> dict[str, dict[str, Any]]:
        """PRIMARY / SECONDARY record sets of the service name."""
        name = self.design.record_name.rstrip(".") + "."
        paginator = self.clients.route53.get_paginator("list_resource_record_sets")
        records: dict[str, dict[str, Any]] = {}
        for page in paginator.paginate(HostedZoneId=zone_id):
            for record in page["ResourceRecordSets"]:
                if record["Name"] == name and record.get("Failover"):
                    records[record["Failover"]] = record
        if set(records) != {"PRIMARY", "SECONDARY"}:
            raise RuntimeError(f"{name}: failover record pair not found ({sorted(records)})")
        return records

    def invert_health_check(self, health_check_id: str, inverted: bool = True) -> None:
        self.clients.route53.update_health_check(HealthCheckId=health_check_id, Inverted=inverted)

    def health_check_healthy(self, health_check_id: str) -> bool:
        """Healthy when most checkers report success (Route 53's own rule is >18%)."""
        status = self.clients.route53.get_health_check_status(HealthCheckId=health_check_id)
        reports = [o["StatusReport"]["Status"] for o in status["HealthCheckObservations"]]
        good = sum(report.startswith("Success") for report in reports)
        return bool(reports) and good / len(reports) > 0.18

    def route53_answer(self, zone_id: str) -> list[str] | None:
        """Route 53's own view of the record (``test_dns_answer``); None if unavailable."""
        try:
            answer = self.clients.route53.test_dns_answer(
                HostedZoneId=zone_id, RecordName=self.design.record_name, RecordType="CNAME"
            )
        except Exception:  # an API error must not hide the drill's measurements
            return None
        return list(answer.get("RecordData", []))

    def name_server_answer(self, name_servers: list[str]) -> list[str]:
        """The record as the zone's own name servers answer it (CNAME targets)."""
        for server in name_servers:
            try:
                answer = query(self.resolve_host(server), self.dns_port, self.design.record_name)
            except (DnsError, OSError):
                continue
            return [name.rstrip(".") for name in answer.cnames] or answer.addresses
        return []

    # Aurora ------------------------------------------------------------------------

    def writer(self) -> tuple[str | None, bool]:
        """ARN of the writer member, and whether a failover/switchover is under way."""
        cluster = self.clients.rds.describe_global_clusters(
            GlobalClusterIdentifier=self.design.global_cluster_id
        )["GlobalClusters"][0]
        writer = next(
            (m["DBClusterArn"] for m in cluster.get("GlobalClusterMembers", []) if m["IsWriter"]),
            None,
        )
        busy = (cluster.get("FailoverState") or {}).get("Status") not in (None, "") or cluster.get(
            "Status"
        ) not in ("available", None)
        return writer, busy

    def failover(self, target_arn: str) -> None:
        self.clients.rds.failover_global_cluster(
            GlobalClusterIdentifier=self.design.global_cluster_id,
            TargetDbClusterIdentifier=target_arn,
            AllowDataLoss=True,
        )

    def switchover(self, target_arn: str) -> None:
        self.clients.rds.switchover_global_cluster(
            GlobalClusterIdentifier=self.design.global_cluster_id,
            TargetDbClusterIdentifier=target_arn,
        )

    def replication_lag_seconds(self, cluster_id: str, start: datetime, end: datetime) -> float:
        """Peak AuroraGlobalDBReplicationLag (ms in CloudWatch) in the window, in seconds."""
        stats = self.clients.cloudwatch.get_metric_statistics(
            Namespace="AWS/RDS",
            MetricName="AuroraGlobalDBReplicationLag",
            Dimensions=[{"Name": "DBClusterIdentifier", "Value": cluster_id}],
            StartTime=start,
            EndTime=end,
            Period=60,
            Statistics=["Maximum"],
        )
        points = [point["Maximum"] for point in stats["Datapoints"]]
        return max(points) / 1000 if points else 0.0

    # the drill --------------------------------------------------------------------------

    def _until(self, condition: Callable[[], bool], timeout: float) -> float | None:
        deadline = self.clock() + timeout
        while self.clock() < deadline:
            if condition():
                return self.clock()
            self.sleep(self.poll)
        return None

    def region_loss(self, *, planned: bool = False) -> Outcome:
        knobs = self.design.knobs
        zone_id, name_servers = self.zone()
        records = self.failover_records(zone_id)
        primary_check = records["PRIMARY"]["HealthCheckId"]
        secondary_target = records["SECONDARY"]["ResourceRecords"][0]["Value"].rstrip(".")
        members = self.clients.rds.describe_global_clusters(
            GlobalClusterIdentifier=self.design.global_cluster_id
        )["GlobalClusters"][0]["GlobalClusterMembers"]
        target = next(m["DBClusterArn"] for m in members if not m["IsWriter"])
        wall_start = datetime.now(UTC)
        budget = self.design.budget.rto_seconds if self.design.budget else None
        limit = 4 * (budget or 300) + 600  # Aurora promotions take minutes
        failed_at = self.timeline.mark(FAILURE_INJECTED, at=self.clock())
        if planned:
            self.switchover(target)
        else:
            self.invert_health_check(primary_check, True)
            detected = self._until(lambda: not self.health_check_healthy(primary_check), limit)
            if detected is not None:
                self.timeline.mark(FAILURE_DETECTED, at=detected)
            self.failover(target)
        promoted = self._until(lambda: self.writer() == (target, False), limit)
        if promoted is not None:
            self.timeline.mark(PROMOTION_DONE, at=promoted)
        changed = self._until(
            lambda: secondary_target in self.name_server_answer(name_servers), limit
        )
        if changed is not None:
            self.timeline.mark(DNS_CHANGED, at=changed)
        served = None
        if promoted is not None and changed is not None:
            served = max(promoted, changed + knobs.ttl)
            self.timeline.mark(FIRST_WRITE, at=served)
        cluster_id = target.split(":")[-1]
        lag = (
            0.0
            if planned
            else self.replication_lag_seconds(
                cluster_id, wall_start - timedelta(minutes=5), datetime.now(UTC)
            )
        )
        return Outcome(
            rto=None if served is None else round(served - failed_at, 3),
            rpo=round(lag, 3),
            measurements={
                "route53_answer": self.route53_answer(zone_id),
                "replication_lag_seconds": lag,
            },
            notes=[
                "aws target: first write served = promotion done and the DNS change older "
                "than the TTL; RPO = AuroraGlobalDBReplicationLag at the failure (CloudWatch)."
            ],
        )

    def restore(self, primary_check: str | None, original_writer: str | None) -> None:
        """Undo a drill before the next one: un-invert, switch back to the original writer."""
        if primary_check:
            self.invert_health_check(primary_check, False)
        writer, _ = self.writer()
        if original_writer and writer != original_writer:
            self.switchover(original_writer)
            self._until(lambda: self.writer() == (original_writer, False), 3600)


def _aws_outcome(drill: AwsDrill, scenario_id: str) -> Outcome:
    design = drill.design
    if scenario_id == "DR-DEP-03":
        outcome = drill.region_loss(planned=True)
        outcome.rpo = 0.0  # a managed switchover waits for replication: Aurora's guarantee
        outcome.checks.append(Check("promotion finished", outcome.rto is not None, "switchover"))
        return outcome
    outcome = drill.region_loss()
    if scenario_id == "DR-DEP-04":
        outcome.checks.append(budget_check(outcome, design))
    elif scenario_id == "DR-DEP-02":
        lag = outcome.measurements["replication_lag_seconds"]
        fired = lag * 1000 > design.lag_alarm_threshold_ms
        outcome.checks.append(
            Check("replication-lag alarm would have fired", fired, f"peak lag {lag:.3f} s")
        )
    else:
        ok_rto = outcome.rto is not None and outcome.rto < design.rto_target
        outcome.checks.append(Check("RTO below target", ok_rto, f"{outcome.rto} s"))
        ok_rpo = outcome.rpo is not None and outcome.rpo < design.rpo_target
        outcome.checks.append(Check("RPO below target", ok_rpo, f"{outcome.rpo} s"))
    return outcome


def run_aws(
    cdktf_out: Path,
    design: Design,
    scenario_ids: list[str],
    progress: Callable[[str], None],
    *,
    terraform: Terraform | None = None,
    clients: AwsClients | None = None,
    env: dict[str, str] | None = None,
    session: Any = None,
    drill_factory: Callable[[AwsClients, Design], AwsDrill] = AwsDrill,
) -> list[dict[str, Any]]:
    """Deploy, run each scenario, restore between them, destroy: always."""
    require_opt_in(env, session)
    records = []
    with deployed(cdktf_out, terraform or Terraform(), progress):
        clients = clients or AwsClients.create(design, session)
        for scenario_id in scenario_ids:
            drill = drill_factory(clients, design)
            zone_id, _ = drill.zone()
            primary_check = drill.failover_records(zone_id)["PRIMARY"]["HealthCheckId"]
            original, _ = drill.writer()
            started_at = datetime.now(UTC).isoformat(timespec="seconds")
            began = time.monotonic()
            progress(f"{scenario_id} on aws: injecting")
            try:
                outcome = _aws_outcome(drill, scenario_id)
            finally:
                drill.restore(primary_check, original)
            records.append(
                drill_record(
                    SCENARIOS[scenario_id],
                    design,
                    design,
                    1.0,
                    {"aurora-postgresql": "managed", "route53": "managed"},
                    drill.timeline,
                    outcome,
                    started_at=started_at,
                    duration=time.monotonic() - began,
                    target="aws",
                    stand_ins=AWS_STAND_INS,
                )
            )
    return records
