"""The failover function promotes once, only for the primary health alarm."""

from __future__ import annotations

import json
import logging
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

GLOBAL_ID = "dr-global"
TARGET = "arn:aws:rds:eu-central-1:123456789012:cluster:dr-eu-central-1-aurora"
PRIMARY = "arn:aws:rds:eu-west-1:123456789012:cluster:dr-eu-west-1-aurora"
ALARM = "dr-eu-west-1-health"


@pytest.fixture(autouse=True)
def failover_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GLOBAL_CLUSTER_ID", GLOBAL_ID)
    monkeypatch.setenv("TARGET_CLUSTER_ARN", TARGET)
    monkeypatch.setenv("PRIMARY_ALARM_NAME", ALARM)


def sns_event(alarm: str = ALARM, new: str = "ALARM", old: str = "OK") -> dict[str, Any]:
    message = {"AlarmName": alarm, "NewStateValue": new, "OldStateValue": old}
    return {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": json.dumps(message)}}]}


class FakePromoter:
    """Records calls; ``writer`` flips once promoted, like the real cluster eventually does."""

    def __init__(
        self, module: ModuleType, *, writer: bool = False, busy: bool = False, fail: bool = False
    ) -> None:
        self.module, self.writer, self.busy, self.fail = module, writer, busy, fail
        self.promoted: list[str] = []

    def state(self, target: str) -> Any:
        return self.module.ClusterState(self.writer, failover_in_progress=self.busy)

    def promote(self, target: str) -> None:
        self.promoted.append(target)
        if self.fail:
            raise RuntimeError("InvalidGlobalClusterStateFault")
        self.writer = True


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (sns_event(alarm="dr-eu-central-1-health"), "other-alarm"),
        (sns_event(alarm="dr-global-sessions-replication-latency"), "other-alarm"),
        (sns_event(new="OK", old="ALARM"), "not-in-alarm"),
        (sns_event(new="INSUFFICIENT_DATA"), "not-in-alarm"),
    ],
)
def test_other_alarms_and_states_are_ignored(
    failover_module: ModuleType, event: dict[str, Any], reason: str
) -> None:
    promoter = FakePromoter(failover_module)
    result = failover_module.handler(event, None, promoter=promoter)
    assert result["action"] == "ignored" and result["reason"] == reason
    assert promoter.promoted == []


def test_decide_is_pure(failover_module: ModuleType) -> None:
    settings = failover_module.Settings(GLOBAL_ID, TARGET, ALARM)
    fire = {"AlarmName": ALARM, "NewStateValue": "ALARM"}
    assert failover_module.decide(fire, settings) == failover_module.Decision(
        True, "primary-unhealthy"
    )
    assert not failover_module.decide({**fire, "AlarmName": ALARM.upper()}, settings).act


def test_primary_alarm_promotes_once_then_reports_done(
    failover_module: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    promoter = FakePromoter(failover_module)
    with caplog.at_level(logging.INFO):
        first = failover_module.handler(sns_event(), None, promoter=promoter)
        repeat = sns_event(old="INSUFFICIENT_DATA")
        second = failover_module.handler(repeat, None, promoter=promoter)
    assert first == {"action": "promoted", "target": TARGET}
    assert second == {"action": "already-promoted", "target": TARGET}
    assert promoter.promoted == [TARGET]
    lines = [json.loads(record.getMessage()) for record in caplog.records]
    assert [line["action"] for line in lines] == ["promoted", "already-promoted"]
    assert all(line["function"] == "failover" for line in lines)


def test_failover_in_progress_is_left_alone(failover_module: ModuleType) -> None:
    promoter = FakePromoter(failover_module, busy=True)
    result = failover_module.handler(sns_event(), None, promoter=promoter)
    assert result["action"] == "in-progress"
    assert promoter.promoted == []


def test_losing_a_promotion_race_is_not_an_error(failover_module: ModuleType) -> None:
    class RacingPromoter(FakePromoter):
        def promote(self, target: str) -> None:
            self.promoted.append(target)
            self.busy = True  # another invocation started the failover first
            raise RuntimeError("InvalidGlobalClusterStateFault")

    promoter = RacingPromoter(failover_module)
    result = failover_module.handler(sns_event(), None, promoter=promoter)
    assert result["action"] == "in-progress"
    assert result["note"] == "concurrent-promotion"


def test_real_promotion_failure_propagates(
    failover_module: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    promoter = FakePromoter(failover_module, fail=True)
    with caplog.at_level(logging.INFO), pytest.raises(RuntimeError):
        failover_module.handler(sns_event(), None, promoter=promoter)
    assert json.loads(caplog.records[-1].getMessage())["action"] == "error"


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"Records": []},
        {"Records": [{"Sns": {"Message": "not json"}}]},
        {"Records": [{"Sns": {"Message": json.dumps(["a", "list"])}}]},
        {"Records": [{"Sns": {"Message": json.dumps({"AlarmName": ALARM})}}]},
    ],
)
def test_malformed_events_are_ignored_without_promoting(
    failover_module: ModuleType, event: dict[str, Any]
) -> None:
    promoter = FakePromoter(failover_module)
    result = failover_module.handler(event, None, promoter=promoter)
    assert result["action"] == "ignored" and result["reason"] == "malformed-message"
    assert promoter.promoted == []


def test_missing_configuration_fails_loudly(
    failover_module: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TARGET_CLUSTER_ARN")
    with pytest.raises(failover_module.ConfigError, match="TARGET_CLUSTER_ARN"):
        failover_module.handler(sns_event(), None, promoter=FakePromoter(failover_module))


def global_cluster(*, target_writer: bool, failover: dict[str, Any] | None = None) -> dict:
    cluster: dict[str, Any] = {
        "GlobalClusterIdentifier": GLOBAL_ID,
        "Status": "available",
        "GlobalClusterMembers": [
            {"DBClusterArn": PRIMARY, "IsWriter": not target_writer},
            {"DBClusterArn": TARGET, "IsWriter": target_writer},
        ],
    }
    if failover:
        cluster["FailoverState"] = failover
    return {"GlobalClusters": [cluster]}


@pytest.fixture
def rds() -> Any:
    return boto3.client(
        "rds",
        region_name="eu-central-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_rds_promoter_calls_failover_with_exact_params(
    failover_module: ModuleType, rds: Any
) -> None:
    describe = {"GlobalClusterIdentifier": GLOBAL_ID}
    with Stubber(rds) as stub:
        stub.add_response("describe_global_clusters", global_cluster(target_writer=False), describe)
        stub.add_response(
            "failover_global_cluster",
            {"GlobalCluster": {"GlobalClusterIdentifier": GLOBAL_ID, "Status": "failing-over"}},
            {
                "GlobalClusterIdentifier": GLOBAL_ID,
                "TargetDbClusterIdentifier": TARGET,
                "AllowDataLoss": True,
            },
        )
        promoter = failover_module.RdsPromoter(GLOBAL_ID, client=rds)
        result = failover_module.handler(sns_event(), None, promoter=promoter)
        stub.assert_no_pending_responses()
    assert result == {"action": "promoted", "target": TARGET}


@pytest.mark.parametrize(
    ("cluster", "action"),
    [
        (global_cluster(target_writer=True), "already-promoted"),
        (
            global_cluster(
                target_writer=False,
                failover={
                    "Status": "failing-over",
                    "FromDbClusterArn": PRIMARY,
                    "ToDbClusterArn": TARGET,
                    "IsDataLossAllowed": True,
                },
            ),
            "in-progress",
        ),
        (global_cluster(target_writer=False, failover={"Status": "pending"}), "in-progress"),
    ],
)
def test_rds_promoter_does_not_promote_twice(
    failover_module: ModuleType, rds: Any, cluster: dict, action: str
) -> None:
    with Stubber(rds) as stub:  # no failover_global_cluster response queued: a call would fail
        describe = {"GlobalClusterIdentifier": GLOBAL_ID}
        stub.add_response("describe_global_clusters", cluster, describe)
        promoter = failover_module.RdsPromoter(GLOBAL_ID, client=rds)
        result = failover_module.handler(sns_event(), None, promoter=promoter)
        stub.assert_no_pending_responses()
    assert result["action"] == action


def test_lab_promoter_promotes_a_real_postgres_standby(
    failover_module: ModuleType,
    health_check_module: ModuleType,
    start_postgres: Any,
) -> None:
    """The local lab's shape: a PostgreSQL standby stands in for the secondary cluster."""
    server = start_postgres(standby=True)
    settings = health_check_module.Settings.from_env(server.env())
    connect = health_check_module.make_connector(settings)

    class StandbyPromoter:
        def __init__(self) -> None:
            self.promoted: list[str] = []

        def state(self, target: str) -> Any:
            writer = health_check_module.check_writer(connect).healthy
            return failover_module.ClusterState(writer, failover_in_progress=False)

        def promote(self, target: str) -> None:
            self.promoted.append(target)
            server.promote()

    promoter = StandbyPromoter()
    assert not health_check_module.check_writer(connect).healthy
    assert failover_module.handler(sns_event(), None, promoter=promoter)["action"] == "promoted"
    assert health_check_module.check_writer(connect) == health_check_module.Verdict(True, "writer")
    again = failover_module.handler(sns_event(), None, promoter=promoter)
    assert again["action"] == "already-promoted"
    assert promoter.promoted == [TARGET]
