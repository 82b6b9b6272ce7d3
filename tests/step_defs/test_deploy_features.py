"""Steps for the deploy-phase features (``features/deploy``): the failover drills.

Each ``When`` runs one whole drill on a fresh local lab (drills are
destructive) and the ``Then`` steps judge its record. Every record of the
session is written, as a JSON list, to ``drills.json`` beside the JUnit
report when pytest writes one (the main job's features run), else to
``$DR_DRILLS_JSON``, else to a temporary folder. ``DR_DRILL_SCALE`` sets the
time scale (default 0.2; 1 is full fidelity). Missing engines skip the
drills, or fail them under ``DR_STRICT=1`` (CI).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import given, scenarios, then, when

from compliance.drills.engines import EngineMissing, Engines, locate
from compliance.drills.knobs import Design, read_design
from compliance.drills.results import DRILLS_FILE, validate, write_drills
from compliance.drills.scenarios import DEFAULT_SCALE, DrillOptions, run_local
from compliance.model import Model
from compliance.settings import load_settings
from compliance.synth import REPO_ROOT

scenarios(str(REPO_ROOT / "features" / "deploy"))


class DrillLog:
    """The session's drill records, rewritten to one file after every drill."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.records: list[dict[str, Any]] = []

    def add(self, record: dict[str, Any]) -> None:
        self.records.append(record)
        write_drills(self.path, self.records)


@pytest.fixture(scope="session")
def drill_log(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> DrillLog:
    explicit = os.environ.get("DR_DRILLS_JSON")
    junit = getattr(request.config.option, "xmlpath", None)
    if explicit:
        path = Path(explicit)
    elif junit:
        path = Path(junit).resolve().parent / DRILLS_FILE
    else:
        path = tmp_path_factory.mktemp("drills") / DRILLS_FILE
    return DrillLog(path)


@pytest.fixture(scope="session")
def lab_engines() -> Engines:
    try:
        return locate()
    except EngineMissing as missing:
        if os.environ.get("DR_STRICT"):
            pytest.fail(f"DR_STRICT: {missing}")
        pytest.skip(str(missing))


@given(
    "the failover knobs of the DR stacks as synthesized from this repository",
    target_fixture="design",
)
def given_design(model: Model) -> Design:
    return read_design(model, load_settings().as_data())


@given("a local two-region deployment built from real engines", target_fixture="drill_options")
def given_lab(lab_engines: Engines) -> DrillOptions:
    scale = float(os.environ.get("DR_DRILL_SCALE") or DEFAULT_SCALE)
    return DrillOptions(scale_factor=scale, engines=lab_engines)


def _run(scenario_id: str, design: Design, options: DrillOptions, log: DrillLog) -> dict:
    record = run_local(scenario_id, design, options)
    log.add(record)
    return record


@when(
    "the primary region is lost, database and health endpoint at once",
    target_fixture="drill",
)
def when_region_lost(design: Design, drill_options: DrillOptions, drill_log: DrillLog) -> dict:
    return _run("DR-DEP-01", design, drill_options, drill_log)


@when(
    "replication lag above the stacks' lag alarm threshold builds up and the primary region "
    "is then lost",
    target_fixture="drill",
)
def when_lag_then_lost(design: Design, drill_options: DrillOptions, drill_log: DrillLog) -> dict:
    return _run("DR-DEP-02", design, drill_options, drill_log)


@when("a planned switchover to the secondary region is made", target_fixture="drill")
def when_switchover(design: Design, drill_options: DrillOptions, drill_log: DrillLog) -> dict:
    return _run("DR-DEP-03", design, drill_options, drill_log)


@when("the primary region is lost just after a passed health check", target_fixture="drill")
def when_lost_worst_case(design: Design, drill_options: DrillOptions, drill_log: DrillLog) -> dict:
    return _run("DR-DEP-04", design, drill_options, drill_log)


def _check(drill: dict, name: str) -> dict:
    found = [check for check in drill["checks"] if check["name"] == name]
    assert found, f"{drill['id']} has no check {name!r}: {drill['checks']}"
    return found[0]


def _assert_check(drill: dict, name: str) -> None:
    check = _check(drill, name)
    assert check["passed"], f"{drill['id']} {name}: {check['detail']}; timeline {drill['timeline']}"


@then("the secondary region serves writes through the DNS name")
def then_secondary_serves(drill: dict) -> None:
    events = [event["event"] for event in drill["timeline"]]
    assert drill["rto_seconds"] is not None, drill["timeline"]
    for milestone in ("failure detected", "promotion done", "DNS answer changed"):
        assert milestone in events, events
    assert drill["measurements"]["failover_handler"][0] == "promoted"


@then("the measured RTO is below the RTO target")
def then_rto(drill: dict) -> None:
    _assert_check(drill, "RTO below target")


@then("the measured RPO is below the RPO target")
def then_rpo(drill: dict) -> None:
    _assert_check(drill, "RPO below target")


@then("the window of lost acknowledged writes matches the injected lag")
def then_loss_matches_lag(drill: dict) -> None:
    _assert_check(drill, "loss window matches the injected lag")
    assert drill["measurements"]["lost_writes"] > 0


@then("the replication-lag alarm from the stacks would have fired")
def then_lag_alarm(drill: dict) -> None:
    _assert_check(drill, "replication-lag alarm would have fired")


@then("no acknowledged write is lost")
def then_nothing_lost(drill: dict) -> None:
    _assert_check(drill, "no acknowledged write lost")
    assert drill["rpo_seconds"] == 0


@then("the old primary becomes the replica of the new primary")
def then_old_primary_replica(drill: dict) -> None:
    _assert_check(drill, "old primary became the replica")


@then(
    "the measured RTO is within the static budget of interval, failure threshold, TTL and "
    "promotion allowance"
)
def then_within_budget(drill: dict) -> None:
    _assert_check(drill, "RTO within the static budget")
    knobs = drill["knobs"]
    expected = knobs["interval"] * knobs["threshold"] + knobs["ttl"] + knobs["promotion_allowance"]
    assert drill["static_budget_seconds"] == pytest.approx(expected)


@then("no drill of this run measured an RTO above its static budget")
def then_no_drill_above_budget(drill_log: DrillLog) -> None:
    over = [
        (d["id"], d["rto_seconds"], d["static_budget_seconds"])
        for d in drill_log.records
        if d["rto_seconds"] is None or d["rto_seconds"] > d["static_budget_seconds"]
    ]
    assert drill_log.records and not over, over


@then("the drill's timeline is kept for the compliance report")
def then_recorded(drill: dict, drill_log: DrillLog) -> None:
    validate(drill)
    assert drill in drill_log.records
    assert drill_log.path.is_file()
    assert drill["timeline"][0]["at_seconds"] <= 0 <= drill["timeline"][-1]["at_seconds"]


@then("nothing the drill started is left running")
def then_nothing_left(drill: dict) -> None:
    left = drill["measurements"]["left_after_cleanup"]
    assert left == {"processes": 0, "folder_exists": False}, left
