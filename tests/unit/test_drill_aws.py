"""The aws target's boto3 calls, against a moto server on loopback (shape only, no timing).

moto stores Route 53 zones, health checks and failover records and RDS
global clusters, but checks nothing and does not implement
``failover_global_cluster`` / ``switchover_global_cluster`` /
``test_dns_answer``: those calls are checked with botocore's Stubber.
"""

from __future__ import annotations

import socket
import struct
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from compliance.drills import aws_target
from compliance.drills.aws_target import (
    AwsClients,
    AwsDrill,
    OptInRequired,
    Terraform,
    deployed,
    manifest_order,
    require_opt_in,
    run_aws,
)
from compliance.drills.client import TYPE_CNAME, encode_name
from compliance.drills.knobs import Design, read_design
from compliance.drills.results import validate
from compliance.model import Model
from compliance.settings import load_settings

ZONE = "dr.example.com"
PRIMARY_URL = "primary123.lambda-url.us-east-1.on.aws"
SECONDARY_URL = "secondary456.lambda-url.us-west-2.on.aws"


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def session() -> boto3.Session:
    return boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )


@pytest.fixture
def design(model: Model) -> Design:
    return read_design(model, load_settings())


@pytest.fixture
def world(moto_url: str, session: boto3.Session, design: Design) -> dict[str, Any]:
    """The deployed design as moto holds it: zone, checks, failover pair, global cluster."""
    route53 = session.client("route53", endpoint_url=moto_url)
    for zone in route53.list_hosted_zones()["HostedZones"]:  # a fresh world per test
        records = route53.list_resource_record_sets(HostedZoneId=zone["Id"])
        changes = [
            {"Action": "DELETE", "ResourceRecordSet": r}
            for r in records["ResourceRecordSets"]
            if r["Type"] not in ("NS", "SOA")
        ]
        if changes:
            route53.change_resource_record_sets(
                HostedZoneId=zone["Id"], ChangeBatch={"Changes": changes}
            )
        route53.delete_hosted_zone(Id=zone["Id"])
    zone_id = route53.create_hosted_zone(Name=ZONE, CallerReference=str(datetime.now()))[
        "HostedZone"
    ]["Id"].split("/")[-1]
    checks = {}
    for role, fqdn in (("PRIMARY", PRIMARY_URL), ("SECONDARY", SECONDARY_URL)):
        checks[role] = route53.create_health_check(
            CallerReference=f"{role}-{datetime.now()}",
            HealthCheckConfig={
                "Type": "HTTPS",
                "FullyQualifiedDomainName": fqdn,
                "ResourcePath": design.health_path,
                "RequestInterval": int(design.knobs.interval),
                "FailureThreshold": design.knobs.threshold,
            },
        )["HealthCheck"]["Id"]
    route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": {
                        "Name": design.record_name,
                        "Type": "CNAME",
                        "SetIdentifier": role.lower(),
                        "Failover": role,
                        "TTL": int(design.knobs.ttl),
                        "HealthCheckId": checks[role],
                        "ResourceRecords": [{"Value": fqdn}],
                    },
                }
                for role, fqdn in (("PRIMARY", PRIMARY_URL), ("SECONDARY", SECONDARY_URL))
            ]
        },
    )
    rds_primary = session.client("rds", endpoint_url=moto_url, region_name=design.primary_region)
    rds = session.client("rds", endpoint_url=moto_url, region_name=design.secondary_region)
    if not rds.describe_global_clusters()["GlobalClusters"]:
        rds.create_global_cluster(
            GlobalClusterIdentifier=design.global_cluster_id, Engine="aurora-postgresql"
        )
        for client, region in (
            (rds_primary, design.primary_region),
            (rds, design.secondary_region),
        ):
            client.create_db_cluster(
                DBClusterIdentifier=f"dr-prod-{region}",
                Engine="aurora-postgresql",
                GlobalClusterIdentifier=design.global_cluster_id,
                MasterUsername="dr_admin",
                MasterUserPassword="not-a-secret-123",
            )
    cloudwatch = session.client(
        "cloudwatch", endpoint_url=moto_url, region_name=design.secondary_region
    )
    clients = AwsClients(route53=route53, rds=rds, cloudwatch=cloudwatch)
    return {"zone_id": zone_id, "checks": checks, "clients": clients}


class _CnameServer(threading.Thread):
    """The zone's name server, answering the record with a CNAME (as Route 53 would)."""

    def __init__(self, target: str) -> None:
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.target = target

    def run(self) -> None:
        while True:
            try:
                data, peer = self.sock.recvfrom(512)
            except OSError:
                return
            qid = struct.unpack("!H", data[:2])[0]
            rdata = encode_name(self.target)
            header = struct.pack("!HHHHHH", qid, 0x8400, 1, 1, 0, 0)
            answer = b"\xc0\x0c" + struct.pack("!HHIH", TYPE_CNAME, 1, 5, len(rdata)) + rdata
            self.sock.sendto(header + data[12:] + answer, peer)


def test_opt_in_needs_the_variable_and_credentials() -> None:
    class NoCredentials:
        def get_credentials(self) -> None:
            return None

    with pytest.raises(OptInRequired, match="DR_AWS_DRILLS=1"):
        require_opt_in({}, NoCredentials())
    with pytest.raises(OptInRequired, match="no AWS credentials"):
        require_opt_in({"DR_AWS_DRILLS": "1"}, NoCredentials())
    require_opt_in(
        {"DR_AWS_DRILLS": "1"}, boto3.Session(aws_access_key_id="a", aws_secret_access_key="b")
    )


def test_stacks_deploy_in_manifest_order(synth_dir: Path) -> None:
    names = [name for name, _ in manifest_order(synth_dir)]
    assert names.index("primary") < names.index("secondary") < names.index("global")


class _FakeTerraform:
    def __init__(self, fail_on: str | None = None) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fail_on = fail_on

    def __call__(self, command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        folder = Path(command[1].removeprefix("-chdir=")).name
        self.calls.append((command[2], folder))
        assert command[-2:] == ["-input=false", "-no-color"] and kwargs["timeout"] > 0
        failed = (command[2], folder) == ("apply", self.fail_on)
        return subprocess.CompletedProcess(command, 1 if failed else 0, "", "Error: boom")


def test_everything_applied_is_destroyed_in_reverse_even_on_failure(synth_dir: Path) -> None:
    runner = _FakeTerraform()
    with deployed(synth_dir, Terraform(runner=runner), lambda m: None) as names:
        assert names == ["primary", "secondary", "global"]
    assert runner.calls == [
        ("init", "primary"),
        ("apply", "primary"),
        ("init", "secondary"),
        ("apply", "secondary"),
        ("init", "global"),
        ("apply", "global"),
        ("destroy", "global"),
        ("destroy", "secondary"),
        ("destroy", "primary"),
    ]
    failing = _FakeTerraform(fail_on="secondary")
    with pytest.raises(RuntimeError, match="terraform apply in secondary failed: Error: boom"):
        with deployed(synth_dir, Terraform(runner=failing), lambda m: None):
            pytest.fail("a failed apply must not run the drills")
    assert failing.calls[-2:] == [("destroy", "secondary"), ("destroy", "primary")]
    drill_fails = _FakeTerraform()
    with pytest.raises(ValueError, match="drill broke"):
        with deployed(synth_dir, Terraform(runner=drill_fails), lambda m: None):
            raise ValueError("drill broke")
    assert [c for c in drill_fails.calls if c[0] == "destroy"] == [
        ("destroy", "global"),
        ("destroy", "secondary"),
        ("destroy", "primary"),
    ]


def test_route53_calls_against_moto(world: dict[str, Any], design: Design) -> None:
    drill = AwsDrill(world["clients"], design)
    zone_id, name_servers = drill.zone()
    assert zone_id == world["zone_id"] and name_servers
    records = drill.failover_records(zone_id)
    assert records["PRIMARY"]["HealthCheckId"] == world["checks"]["PRIMARY"]
    assert records["SECONDARY"]["ResourceRecords"] == [{"Value": SECONDARY_URL}]
    primary_check = world["checks"]["PRIMARY"]
    drill.invert_health_check(primary_check)
    stored = world["clients"].route53.get_health_check(HealthCheckId=primary_check)
    assert stored["HealthCheck"]["HealthCheckConfig"]["Inverted"] is True
    drill.invert_health_check(primary_check, False)
    assert drill.health_check_healthy(primary_check)  # moto's checkers always report success
    assert drill.route53_answer(zone_id) is None  # not in moto: tolerated, never fatal


def test_rds_and_cloudwatch_calls_against_moto(world: dict[str, Any], design: Design) -> None:
    drill = AwsDrill(world["clients"], design)
    writer, busy = drill.writer()
    assert writer is not None and writer.endswith(f"cluster:dr-prod-{design.primary_region}")
    assert busy is False
    cluster = f"dr-prod-{design.secondary_region}"
    now = datetime.now(UTC)
    world["clients"].cloudwatch.put_metric_data(
        Namespace="AWS/RDS",
        MetricData=[
            {
                "MetricName": "AuroraGlobalDBReplicationLag",
                "Value": value,
                "Unit": "Milliseconds",
                "Timestamp": now - timedelta(seconds=30),
                "Dimensions": [{"Name": "DBClusterIdentifier", "Value": cluster}],
            }
            for value in (120.0, 6400.0)
        ],
    )
    lag = drill.replication_lag_seconds(cluster, now - timedelta(minutes=5), now)
    assert lag == pytest.approx(6.4)
    assert drill.replication_lag_seconds("other", now - timedelta(minutes=5), now) == 0.0


def test_promotion_calls_have_the_documented_shape(design: Design, session: boto3.Session) -> None:
    rds = session.client("rds", region_name=design.secondary_region)
    route53 = session.client("route53")
    drill = AwsDrill(AwsClients(route53=route53, rds=rds, cloudwatch=None), design)
    target = "arn:aws:rds:us-west-2:123456789012:cluster:dr-prod-us-west-2"
    with Stubber(rds) as stub, Stubber(route53) as dns:
        stub.add_response(
            "failover_global_cluster",
            {"GlobalCluster": {"Status": "failing-over"}},
            {
                "GlobalClusterIdentifier": design.global_cluster_id,
                "TargetDbClusterIdentifier": target,
                "AllowDataLoss": True,
            },
        )
        stub.add_response(
            "switchover_global_cluster",
            {"GlobalCluster": {"Status": "switching-over"}},
            {
                "GlobalClusterIdentifier": design.global_cluster_id,
                "TargetDbClusterIdentifier": target,
            },
        )
        dns.add_response(
            "test_dns_answer",
            {
                "Nameserver": "ns-1.example",
                "RecordName": design.record_name,
                "RecordType": "CNAME",
                "RecordData": [SECONDARY_URL],
                "ResponseCode": "NOERROR",
                "Protocol": "UDP",
            },
            {"HostedZoneId": "Z1", "RecordName": design.record_name, "RecordType": "CNAME"},
        )
        drill.failover(target)
        drill.switchover(target)
        assert drill.route53_answer("Z1") == [SECONDARY_URL]
        stub.assert_no_pending_responses()


def _scripted_rds(design: Design, session: boto3.Session, planned: bool) -> tuple[Any, Stubber]:
    """describe → failover/switchover → describe (busy, then promoted) → restore switchover."""
    rds = session.client("rds", region_name=design.secondary_region)
    stub = Stubber(rds)
    primary = f"arn:aws:rds:{design.primary_region}:1:cluster:dr-prod-{design.primary_region}"
    secondary = f"arn:aws:rds:{design.secondary_region}:1:cluster:dr-prod-{design.secondary_region}"

    def cluster(writer: str, status: str = "available") -> dict:
        return {
            "GlobalClusters": [
                {
                    "Status": status,
                    "GlobalClusterMembers": [
                        {"DBClusterArn": primary, "IsWriter": writer == primary},
                        {"DBClusterArn": secondary, "IsWriter": writer == secondary},
                    ],
                }
            ]
        }

    describe = {"GlobalClusterIdentifier": design.global_cluster_id}
    stub.add_response("describe_global_clusters", cluster(primary), describe)  # original
    stub.add_response("describe_global_clusters", cluster(primary), describe)  # members
    promote = "switchover_global_cluster" if planned else "failover_global_cluster"
    params = {
        "GlobalClusterIdentifier": design.global_cluster_id,
        "TargetDbClusterIdentifier": secondary,
    }
    if not planned:
        params["AllowDataLoss"] = True
    stub.add_response(promote, {"GlobalCluster": {}}, params)
    stub.add_response("describe_global_clusters", cluster(primary, "failing-over"), describe)
    stub.add_response("describe_global_clusters", cluster(secondary), describe)
    stub.add_response("describe_global_clusters", cluster(secondary), describe)  # restore
    stub.add_response(
        "switchover_global_cluster",
        {"GlobalCluster": {}},
        {"GlobalClusterIdentifier": design.global_cluster_id, "TargetDbClusterIdentifier": primary},
    )
    stub.add_response("describe_global_clusters", cluster(primary), describe)
    return rds, stub


@pytest.mark.parametrize("scenario", ["DR-DEP-01", "DR-DEP-03"])
def test_a_whole_aws_drill_deploys_drills_restores_and_destroys(
    world: dict[str, Any],
    design: Design,
    session: boto3.Session,
    synth_dir: Path,
    scenario: str,
) -> None:
    planned = scenario == "DR-DEP-03"
    rds, stub = _scripted_rds(design, session, planned)
    clients = AwsClients(world["clients"].route53, rds, world["clients"].cloudwatch)
    name_server = _CnameServer(SECONDARY_URL)
    name_server.start()
    now = [0.0]

    def factory(clients: AwsClients, design: Design) -> AwsDrill:
        return AwsDrill(
            clients,
            design,
            clock=lambda: now[0],
            sleep=lambda seconds: now.__setitem__(0, now[0] + seconds),
            resolve_host=lambda host: "127.0.0.1",
            dns_port=name_server.port,
            poll=200,
        )

    runner = _FakeTerraform()
    with stub:
        drills = run_aws(
            synth_dir,
            design,
            [scenario],
            lambda m: None,
            terraform=Terraform(runner=runner),
            clients=clients,
            env={"DR_AWS_DRILLS": "1"},
            session=boto3.Session(aws_access_key_id="a", aws_secret_access_key="b"),
            drill_factory=factory,
        )
        stub.assert_no_pending_responses()
    name_server.sock.close()
    (drill,) = drills
    validate(drill)
    assert drill["target"] == "aws" and drill["stand_ins"] == {}
    events = [e["event"] for e in drill["timeline"]]
    assert events[0] == "failure injected" and "promotion done" in events
    assert "DNS answer changed" in events and "first write served" in events
    assert "failure detected" not in events  # moto's checkers never fail: never invented
    assert [c[0] for c in runner.calls].count("destroy") == 3
    stored = world["clients"].route53.get_health_check(HealthCheckId=world["checks"]["PRIMARY"])
    assert stored["HealthCheck"]["HealthCheckConfig"].get("Inverted") in (False, None)
    lag = drill["measurements"]["replication_lag_seconds"]
    assert drill["rpo_seconds"] == (0 if planned else lag)  # the lag CloudWatch reported


def test_the_drill_command_refuses_aws_without_opt_in(
    synth_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Any
) -> None:
    from compliance.cli import main

    monkeypatch.delenv("DR_AWS_DRILLS", raising=False)
    code = main(
        ["drill", "--target", "aws", "--cdktf-out", str(synth_dir), "--report-dir", str(tmp_path)]
    )
    assert code == 2
    assert "DR_AWS_DRILLS=1" in capsys.readouterr().err
    assert aws_target.OPT_IN_ENV == "DR_AWS_DRILLS"
