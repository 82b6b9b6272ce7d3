"""DR-RTO-01's budget in the drills: the policy's own, scaled, each stage beside the lab's."""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance.drills.budget import Budget, BudgetPath, Moments, Stage, lab_delays, measure
from compliance.drills.drilled import accepted_rto, budget_of, drilled_design
from compliance.drills.knobs import Design
from compliance.drills.scenarios import RTO_CHECK, Outcome, budget_check, rto_check
from compliance.evaluation import Evaluation


@pytest.fixture(scope="module")
def budget(dr_baseline_evaluation: Evaluation) -> Budget:
    found = budget_of(dr_baseline_evaluation)
    assert found is not None
    return found


def test_the_budget_is_the_one_dr_rto_01_published(
    budget: Budget, dr_baseline_evaluation: Evaluation
) -> None:
    published = dr_baseline_evaluation.result("DR-RTO-01").details["budget"]
    assert [p.total for p in budget.paths] == [p["total"] for p in published]
    assert [[s.stage for s in p.stages] for p in budget.paths] == [
        [s["stage"] for s in p["stages"]] for p in published
    ]
    slowest = max(published, key=lambda p: p["total"])
    assert budget.rto_path is not None and budget.rto_path.path == slowest["path"]
    assert budget.rto_seconds == slowest["total"]


def test_scaling_multiplies_every_stage_and_takes_the_lab_record_s_ttl(budget: Budget) -> None:
    scaled = budget.scaled(0.2, ttl=1.0)
    for before, after in zip(budget.paths, scaled.paths, strict=True):
        for old, new in zip(before.stages, after.stages, strict=True):
            expected = 1.0 if old.stage == "DNS TTL" else (old.seconds or 0) * 0.2
            assert new.seconds == pytest.approx(expected), old
    assert scaled.scale == 0.2
    assert scaled.to_dict()["rto_seconds"] == scaled.rto_seconds
    assert "x 0.2" in scaled.to_dict()["source"]


def test_an_unbounded_path_leaves_no_budget_to_meet() -> None:
    unbounded = Budget(
        (
            BudgetPath("dns", "g/r", (Stage("health-check detection", 20.0, "x"),), 60.0),
            BudgetPath("promotion", "p/g", (Stage("promotion trigger", None, "none", True),), 60.0),
        )
    )
    assert unbounded.rto_path is None and unbounded.rto_seconds is None
    check = budget_check(Outcome(rto=5.0, rpo=0.0), _design_with(unbounded))
    assert not check.passed and "unbounded" in check.detail
    with pytest.raises(ValueError, match="no budget paths"):
        Budget.from_details([])
    with pytest.raises(ValueError, match="no stages"):
        Budget.from_details([{"path": "dns"}])


def _design_with(budget: Budget | None, waiver: str | None = None) -> Design:
    class Fake:
        pass

    fake = Fake()
    fake.budget = budget  # type: ignore[attr-defined]
    fake.rto_target = 12.0  # type: ignore[attr-defined]
    fake.rto_waiver = waiver  # type: ignore[attr-defined]
    return fake  # type: ignore[return-value]


def test_the_rto_is_judged_against_the_slowest_path(budget: Budget) -> None:
    scaled = budget.scaled(0.2, ttl=1.0)
    limit = scaled.rto_seconds
    assert limit is not None
    design = _design_with(scaled)
    assert budget_check(Outcome(rto=limit - 0.5, rpo=0.0), design).passed
    over = budget_check(Outcome(rto=limit + 0.5, rpo=0.0), design)
    assert (
        not over.passed
        and f"budget {limit:g} s" in over.detail
        and "watchdog detection" in over.detail
    )
    assert not budget_check(Outcome(rto=None, rpo=None), design).passed
    assert not budget_check(Outcome(rto=1.0, rpo=0.0), _design_with(None)).passed


def test_only_the_lab_s_own_delays_on_the_path_are_left_out_and_each_is_named(
    budget: Budget,
) -> None:
    scaled = budget.scaled(0.2, ttl=1.0)
    limit = scaled.rto_seconds
    assert limit is not None and scaled.rto_path is not None
    design = _design_with(scaled)
    # A slow pg_promote() (a loaded machine) after the stand-in wait is the lab's, not AWS's.
    slow_engine = Outcome(rto=limit + 4.0, rpo=0.0, lab_delays={"promotion": 5.0})
    check = budget_check(slow_engine, design)
    assert check.passed and "5.00 s pg_promote()" in check.detail, check.detail
    # The lab's delays do not excuse a chain that is slower than the budget.
    slow_chain = Outcome(rto=limit + 7.0, rpo=0.0, lab_delays={"promotion": 5.0, "DNS TTL": 0.4})
    assert not budget_check(slow_chain, design).passed
    # A delay at a stage the slowest path does not have is not subtracted.
    off_path = Outcome(rto=limit + 1.0, rpo=0.0, lab_delays={"not a stage": 5.0})
    assert not budget_check(off_path, design).passed
    waived = _design_with(scaled, "waiver DR-142 (expires 2027-02-26)")
    assert rto_check(slow_engine, waived).passed


def test_over_the_target_passes_only_within_a_budget_a_waiver_accepts(budget: Budget) -> None:
    scaled = budget.scaled(0.2, ttl=1.0)
    assert rto_check(Outcome(rto=11.0, rpo=0.0), _design_with(scaled)).passed  # below 12 s
    plain = rto_check(Outcome(rto=19.0, rpo=0.0), _design_with(scaled))
    assert not plain.passed and "no waiver" in plain.detail
    waived = _design_with(scaled, "waiver DR-142 (expires 2027-02-26)")
    accepted = rto_check(Outcome(rto=19.0, rpo=0.0), waived)
    assert accepted.passed and accepted.name == RTO_CHECK
    assert "over the 12 s target" in accepted.detail and "waiver DR-142" in accepted.detail
    assert not rto_check(Outcome(rto=30.0, rpo=0.0), waived).passed  # over the budget too


def test_the_app_s_waiver_on_dr_rto_01_reaches_the_drills(
    dr_baseline_evaluation: Evaluation, dr_synth_dir: Path, dr_app_dir: Path
) -> None:
    result = dr_baseline_evaluation.result("DR-RTO-01")
    waivers = {f.waiver.ticket for f in result.findings if f.waiver is not None}
    text = accepted_rto(dr_baseline_evaluation)
    assert result.findings and all(f.waiver for f in result.findings)  # this app waives it
    assert text is not None and waivers and all(f"waiver {t} (expires" in text for t in waivers)
    design = drilled_design(dr_synth_dir, dr_app_dir, dr_baseline_evaluation)
    assert design.rto_waiver == text
    assert design.budget == budget_of(dr_baseline_evaluation)
    assert design.environment_overrides  # the app's [tool.dr-compliance.drills.environment]


def _chain() -> Budget:
    stages = (
        Stage("watchdog detection", 3.0, "w"),
        Stage("invocation", 1.0, "i"),
        Stage("promotion", 12.0, "p"),
        Stage("secondary health-check recovery", 4.0, "s"),
        Stage("DNS TTL", 1.0, "t"),
        Stage("resolver allowance", 1.0, "r"),
    )
    dns = (Stage("health-check detection", 4.0, "h"), Stage("DNS TTL", 1.0, "t"))
    return Budget(
        (BudgetPath("dns", "g/r", dns, 12.0), BudgetPath("promotion then DNS", "p/g", stages, 12.0))
    )


def test_each_stage_is_measured_between_its_ends_and_they_add_up_to_the_rto() -> None:
    seen = Moments(
        primary_unhealthy=3.5,
        trigger="watchdog",
        detected=2.9,
        promote_called=2.95,
        promotion_done=15.2,
        standin_wait=12.0,
        secondary_healthy=18.0,
        dns_changed=18.6,
        first_write=19.1,
        ended=19.4,
    )
    rows = {(r.path, r.stage): r for r in measure(_chain(), seen)}
    chain = "promotion then DNS"
    assert rows[("dns", "health-check detection")].measured_seconds == 3.5
    assert rows[(chain, "watchdog detection")].measured_seconds == 2.9
    assert rows[(chain, "invocation")].measured_seconds == pytest.approx(0.05)
    promotion = rows[(chain, "promotion")]
    assert promotion.how == "stand-in" and promotion.measured_seconds == pytest.approx(12.25)
    assert (
        "stand-in wait 12 s" in promotion.detail
        and "pg_promote() and its wait 0.25 s" in promotion.detail
    )
    assert rows[(chain, "secondary health-check recovery")].measured_seconds == pytest.approx(2.8)
    assert rows[(chain, "DNS TTL")].measured_seconds == pytest.approx(0.5)
    resolver = rows[(chain, "resolver allowance")]
    assert resolver.how == "not measured" and resolver.measured_seconds is None and resolver.detail
    lab = rows[("lab", "DNS update (PowerDNS poll)")]
    assert lab.budget_seconds is None and lab.measured_seconds == pytest.approx(0.6)
    measured = [r.measured_seconds for r in rows.values() if r.path in (chain, "lab")]
    assert sum(v for v in measured if v is not None) == pytest.approx(seen.first_write)


def test_a_stage_the_lab_did_not_see_says_why_and_is_never_invented() -> None:
    alarm_first = measure(_chain(), Moments(trigger="alarm", alarm_state=10.0, ended=30.0))
    detection = next(r for r in alarm_first if r.stage == "watchdog detection")
    assert detection.measured_seconds is None and "the alarm promoted first" in detection.detail
    nothing = measure(_chain(), Moments(ended=30.0))
    for row in nothing:
        assert row.measured_seconds is None and row.how == "not measured" and row.detail, row
    assert any("not seen before the drill ended (30.0 s)" in r.detail for r in nothing)
    planned = measure(_chain(), Moments(trigger="switchover", promotion_done=0.4, ended=6.0))
    promotion = next(r for r in planned if r.stage == "promotion")
    assert promotion.measured_seconds is None and "planned switchover" in promotion.detail
    alarm = Budget(
        (
            BudgetPath(
                "promotion",
                "p/g",
                (
                    Stage("metric publication", 60.0, "m"),
                    Stage("alarm evaluation", 60.0, "e"),
                    Stage("alarm action", 60.0, "a"),
                    Stage("some future stage", 1.0, "f"),
                ),
                60.0,
            ),
        )
    )
    rows = {
        r.stage: r
        for r in measure(alarm, Moments(trigger="alarm", alarm_state=9.0, alarm_action=21.0))
    }
    assert rows["metric publication"].measured_seconds is None
    assert rows["alarm evaluation"].measured_seconds == 9.0
    assert rows["alarm action"].how == "stand-in" and rows["alarm action"].measured_seconds == 12.0
    assert "no step for this stage" in rows["some future stage"].detail


def test_the_alarm_triggered_design_has_its_own_budget_and_no_accepted_one(
    dr_app_dir: Path,
) -> None:
    """The design before the watchdog: the alarm's stages, over the target, waived by nothing."""
    from compliance.runner import CheckOptions, run_check

    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "alarm-triggered-design"
    evaluation = run_check(fixture, CheckOptions(app=dr_app_dir))
    design = drilled_design(fixture, dr_app_dir, evaluation)
    assert design.rto_waiver is None  # its finding is not the one the app's waiver accepts
    assert design.budget is not None and design.budget.rto_path is not None
    stages = [s.stage for s in design.budget.rto_path.stages]
    assert stages[:3] == ["metric publication", "alarm evaluation", "alarm action"]
    assert design.schedule is None and design.alarm_invokes_failover
    assert design.failover_function is not None
    assert "not in the synthesized output" in str(design.failover_function.problem)  # no assets


def test_the_lab_s_own_delays_are_its_engine_promotion_and_its_dns_poll() -> None:
    seen = Moments(
        promote_called=3.0,
        promotion_done=20.1,
        standin_wait=12.0,
        secondary_healthy=23.5,
        dns_changed=23.9,
    )
    assert lab_delays(seen) == {"promotion": 5.1, "DNS TTL": 0.4}
    assert lab_delays(Moments()) == {}  # nothing seen: nothing left out
