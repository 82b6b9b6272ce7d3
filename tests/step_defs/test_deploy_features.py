"""Steps for the deploy-phase features (``features/deploy``): the failover drills.

The drills of the session's selected scenarios run side by side, once, the
first time a ``When`` needs one (``compliance.drills.batch``; each lab has
its own addresses and ports); every ``When`` then takes its own record and
the ``Then`` steps judge it. ``DR_DRILLS_ONE_AT_A_TIME=1`` runs them one
after another instead. Every record of the session is written, as a JSON
list, to ``drills.json`` beside the JUnit report when pytest writes one (the
main job's features run), else to ``$DR_DRILLS_JSON``, else to a temporary
folder. ``DR_DRILL_SCALE`` sets the time scale (default 0.2; 1 is full
fidelity). Missing engines skip the drills, or fail them under
``DR_STRICT=1`` (CI).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import given, scenarios, then, when

from compliance.drills.batch import run_drills
from compliance.drills.drilled import drilled_design
from compliance.drills.engines import EngineMissing, Engines, locate
from compliance.drills.knobs import Design
from compliance.drills.results import DRILLS_FILE, validate, write_drills
from compliance.drills.scenarios import DEFAULT_SCALE, RTO_CHECK, SCENARIOS, DrillOptions
from compliance.evaluation import Evaluation
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


class SessionDrills:
    """The selected drills, run together at the first ``When``; each record logged once."""

    def __init__(self, log: DrillLog, selected: list[str]) -> None:
        self.log, self.selected = log, selected
        self.records: dict[str, dict[str, Any]] | None = None
        self.error: BaseException | None = None
        self._lock = threading.Lock()

    def record(self, scenario_id: str, design: Design, options: DrillOptions) -> dict[str, Any]:
        with self._lock:
            if self.records is None or scenario_id not in self.records and self.error is None:
                self._run(scenario_id, design, options)
            assert self.records is not None
            if scenario_id in self.records:
                return self.records[scenario_id]
            assert self.error is not None
            raise self.error

    def _run(self, scenario_id: str, design: Design, options: DrillOptions) -> None:
        wanted = self.selected if scenario_id in self.selected else [scenario_id]
        self.records = self.records or {}
        together = os.environ.get("DR_DRILLS_ONE_AT_A_TIME") != "1"

        def keep(done: list[dict[str, Any]]) -> None:
            for record in done:
                if record["id"] not in self.records:  # type: ignore[operator]
                    self.records[record["id"]] = record  # type: ignore[index]
                    self.log.add(record)

        try:
            run_drills(wanted, design, options, together=together, on_record=keep)
        except Exception as error:  # the drills without a record fail with it
            self.error = error


def _selected(session: pytest.Session) -> list[str]:
    """The drill IDs the session's deploy scenarios name (all when that cannot be read)."""
    try:
        from pytest_bdd.scenario import scenario_wrapper_template_registry as registry
    except ImportError:  # pragma: no cover - another pytest-bdd
        return sorted(SCENARIOS)
    found: set[str] = set()
    for item in session.items:
        function = getattr(item, "obj", None)
        template = registry.get(function) if function is not None else None
        found |= {tag for tag in getattr(template, "tags", ()) if tag in SCENARIOS}
    return sorted(found) or sorted(SCENARIOS)


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
def session_drills(request: pytest.FixtureRequest, drill_log: DrillLog) -> SessionDrills:
    return SessionDrills(drill_log, _selected(request.session))


@pytest.fixture(scope="session")
def lab_engines() -> Engines:
    try:
        return locate()
    except EngineMissing as missing:
        if os.environ.get("DR_STRICT"):
            pytest.fail(f"DR_STRICT: {missing}")
        pytest.skip(str(missing))


@given(
    "the DR design as synthesized from this repository, with DR-RTO-01's budget for it",
    target_fixture="design",
)
def given_design(
    dr_synth_dir: Path, dr_app_dir: Path, dr_baseline_evaluation: Evaluation
) -> Design:
    return drilled_design(dr_synth_dir, dr_app_dir, dr_baseline_evaluation)


@given("a local two-region deployment built from real engines", target_fixture="drill_options")
def given_lab(lab_engines: Engines) -> DrillOptions:
    scale = float(os.environ.get("DR_DRILL_SCALE") or DEFAULT_SCALE)
    return DrillOptions(scale_factor=scale, engines=lab_engines)


@when(
    "the primary region is lost, database and health endpoint at once",
    target_fixture="drill",
)
def when_region_lost(
    design: Design, drill_options: DrillOptions, session_drills: SessionDrills
) -> dict:
    return session_drills.record("DR-DEP-01", design, drill_options)


@when(
    "replication lag above the stacks' lag alarm threshold builds up and the primary region "
    "is then lost",
    target_fixture="drill",
)
def when_lag_then_lost(
    design: Design, drill_options: DrillOptions, session_drills: SessionDrills
) -> dict:
    return session_drills.record("DR-DEP-02", design, drill_options)


@when("a planned switchover to the secondary region is made", target_fixture="drill")
def when_switchover(
    design: Design, drill_options: DrillOptions, session_drills: SessionDrills
) -> dict:
    return session_drills.record("DR-DEP-03", design, drill_options)


@when("the primary region is lost just after a passed probe of the primary", target_fixture="drill")
def when_lost_worst_case(
    design: Design, drill_options: DrillOptions, session_drills: SessionDrills
) -> dict:
    return session_drills.record("DR-DEP-04", design, drill_options)


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
    calls = drill["measurements"]["failover_handler"]
    assert calls and calls[0]["action"] == "promoted", calls  # then at most once: no repeat
    assert [c["action"] for c in calls].count("promoted") == 1, calls


@then("the measured RTO is below the RTO target, or within a budget the app's waiver accepts")
def then_rto(drill: dict) -> None:
    _assert_check(drill, RTO_CHECK)


@then("the measured RPO is below the RPO target")
def then_rpo(drill: dict) -> None:
    _assert_check(drill, "RPO below target")


@then("the window of lost acknowledged writes matches the injected lag")
def then_loss_matches_lag(drill: dict) -> None:
    _assert_check(drill, "loss window matches the injected lag")
    assert drill["measurements"]["lost_writes"] > 0


@then("the stacks' replication-lag alarm fired, evaluated by its period and datapoints")
def then_lag_alarm(drill: dict) -> None:
    _assert_check(drill, "replication-lag alarm fired")
    assert "replication-lag alarm fired" in [e["event"] for e in drill["timeline"]]


@then("no acknowledged write is lost")
def then_nothing_lost(drill: dict) -> None:
    _assert_check(drill, "no acknowledged write lost")
    assert drill["rpo_seconds"] == 0


@then("the old primary becomes the replica of the new primary")
def then_old_primary_replica(drill: dict) -> None:
    _assert_check(drill, "old primary became the replica")


@then("the measured RTO is within the budget DR-RTO-01 computes for the same output, scaled")
def then_within_budget(drill: dict, design: Design) -> None:
    _assert_check(drill, "RTO within the DR-RTO-01 budget")
    assert design.budget is not None and design.budget.rto_seconds is not None
    paths = drill["budget"]["paths"]
    assert drill["static_budget_seconds"] == max(path["total"] for path in paths)
    # every stage is the design's own times the scale, the TTL in whole seconds
    unscaled = [s.seconds for p in design.budget.paths for s in p.stages if s.stage != "DNS TTL"]
    scaled = [s["seconds"] for p in paths for s in p["stages"] if s["stage"] != "DNS TTL"]
    assert scaled == pytest.approx([v * drill["scale_factor"] for v in unscaled])


@then("each stage of the budget is recorded beside what the lab measured for it")
def then_stages(drill: dict) -> None:
    rows = drill["stages"]
    budgeted = [(p["path"], s["stage"]) for p in drill["budget"]["paths"] for s in p["stages"]]
    assert [(r["path"], r["stage"]) for r in rows if r["path"] != "lab"] == budgeted
    for row in rows:
        if row["how"] == "not measured":
            assert row["measured_seconds"] is None and row["detail"], row
        else:
            assert row["measured_seconds"] is not None, row
    # the measured stages of the path that bounds recovery add up to the measured RTO
    slowest = drill["budget"]["rto_path"]
    chain = [r["measured_seconds"] for r in rows if r["path"] in (slowest, "lab")]
    total = sum(value for value in chain if value is not None)
    assert total == pytest.approx(drill["rto_seconds"], abs=0.02), rows


@then("no drill of this run measured an RTO above its budget")
def then_no_drill_above_budget(drill_log: DrillLog) -> None:
    over = [
        (d["id"], d["rto_seconds"], d["static_budget_seconds"])
        for d in drill_log.records
        if d["rto_seconds"] is None
        or d["static_budget_seconds"] is None
        or d["rto_seconds"] > d["static_budget_seconds"]
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
