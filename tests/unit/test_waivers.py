"""Waivers are approved, bounded, about this catalogue and this input; else exit 2."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from compliance.catalogue import POLICY_ROOT
from compliance.errors import InputError
from compliance.waivers import Waiver, load_waivers, match_waiver, unmatched_waivers

TODAY = dt.date(2026, 1, 1)
IDS = {"DR-ENC-01", "DR-IAM-01"}
WAIVER = """\
waivers:
  - requirement: DR-ENC-01
    stack: primary
    address: aws_sns_topic.t
    reason: vendor topic, migration ticket OPS-1
    owner: alice
    approved_by: security-review
    ticket: OPS-1
    risk: medium
    expires: 2026-02-15
"""


def _write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "waivers.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _load(path: Path, **options: object) -> list[Waiver]:
    return load_waivers(path, IDS, today=TODAY, **options)  # type: ignore[arg-type]


def _error(tmp_path: Path, text: str | bytes, **options: object) -> str:
    with pytest.raises(InputError) as caught:
        _load(_write(tmp_path, text), **options)
    return str(caught.value)


def test_waiver_loads_and_matches(tmp_path: Path) -> None:
    waivers = _load(_write(tmp_path, WAIVER))
    assert match_waiver(waivers, "DR-ENC-01", "primary", "aws_sns_topic.t") is waivers[0]
    assert match_waiver(waivers, "DR-ENC-01", "secondary", "aws_sns_topic.t") is None
    assert match_waiver(waivers, "DR-IAM-01", "primary", "aws_sns_topic.t") is None
    assert waivers[0].expires == dt.date(2026, 2, 15)
    assert waivers[0].origin == f"{tmp_path / 'waivers.yaml'}:2"
    assert waivers[0].to_dict() == {
        "requirement": "DR-ENC-01",
        "stack": "primary",
        "address": "aws_sns_topic.t",
        "reason": "vendor topic, migration ticket OPS-1",
        "owner": "alice",
        "approved_by": "security-review",
        "ticket": "OPS-1",
        "risk": "medium",
        "expires": "2026-02-15",
        "compensating_control": None,
    }


# Issue 10, "Configuration is not validated": each case was accepted (or a traceback) before.
@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "DR-ENC-01",
            "DR-ENC-1",
            r":2: waiver #1 requirement names no requirement of the "
            r"catalogue \(did you mean DR-ENC-01\?\)",
        ),
        (
            "vendor topic, migration ticket OPS-1",
            "' '",
            r":5: waiver #1 reason should not be blank",
        ),
        ("2026-02-15", "2099-02-30", r":10: waiver #1 expires is not a real date"),
    ],
    ids=["unknown-requirement", "blank-reason", "impossible-date"],
)
def test_issue_10_waiver_cases_are_errors(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    error = _error(tmp_path, WAIVER.replace(old, new))
    assert re.search(expected, error), error
    assert "fix:" in error


def test_waiver_naming_an_absent_address_matched_nothing(tmp_path: Path) -> None:
    waivers = _load(_write(tmp_path, WAIVER))
    [unmatched] = unmatched_waivers(waivers, {("secondary", "aws_sns_topic.t")})
    assert unmatched.waiver is waivers[0]
    assert unmatched.message.startswith(f"{tmp_path / 'waivers.yaml'}:2: waiver of DR-ENC-01")
    assert "matched nothing" in unmatched.message
    assert "no aws_sns_topic.t in stack primary (it is in stack secondary)" in unmatched.message


def test_waiver_whose_finding_is_gone_matched_nothing(tmp_path: Path) -> None:
    waivers = _load(_write(tmp_path, WAIVER))
    present = {("primary", "aws_sns_topic.t")}
    assert unmatched_waivers(waivers, present) == []
    assert unmatched_waivers(waivers, present, {("DR-ENC-01", "primary", "aws_sns_topic.t")}) == []
    [gone] = unmatched_waivers(waivers, present, {("DR-IAM-01", "primary", "aws_sns_topic.t")})
    assert "has no DR-ENC-01 finding" in gone.message


def test_non_utf8_waivers_name_file_and_line(tmp_path: Path) -> None:
    error = _error(
        tmp_path, WAIVER.replace("alice", "al\udce9ce").encode("utf-8", "surrogateescape")
    )
    assert error.startswith(f"{tmp_path / 'waivers.yaml'}:6: waivers file is not UTF-8")


def test_a_given_waivers_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="waivers file not found"):
        _load(tmp_path / "absent.yaml")


def test_only_the_default_waivers_file_may_be_absent(tmp_path: Path) -> None:
    assert _load(tmp_path / "absent.yaml", missing_ok=True) == []


# Issue 13, item 4: approved, bounded exceptions.
@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("    approved_by: security-review\n", "", r":2: waiver #1 approved_by is missing"),
        ("    ticket: OPS-1\n", "", "waiver #1 ticket is missing"),
        ("    risk: medium\n", "", "waiver #1 risk is missing"),
        ("    expires: 2026-02-15\n", "", "waiver #1 expires is missing"),
        ("security-review", "Alice ", r":2: waiver #1 is approved by its own owner"),
        ("risk: medium", "risk: acceptable", r":9: waiver #1 risk should be 'low', 'medium' or"),
        ("2026-02-15", "2026-04-02", r"more than waiver_max_days \(90\) away: 2026-04-01"),
        ("2026-02-15", "2099-12-31", "more than waiver_max_days"),
        ("2026-02-15", "2025-12-31", r"in the past \(today is 2026-01-01\)"),
        ("2026-02-15", "15/02/2026", "should be a date written YYYY-MM-DD"),
        ("ticket: OPS-1", "ticket: 1234", "ticket should be a valid string"),
        (
            "risk: medium",
            "risk: medium\n    approver: bob",
            r":10: waiver #1 has unknown key "
            r"'approver' \(did you mean 'approved_by'\?\)",
        ),
        ("risk: medium", "risk: medium\n    compensating_control: ''", "should not be blank"),
    ],
    ids=[
        "no-approver",
        "no-ticket",
        "no-risk",
        "no-expiry",
        "self-approved",
        "bad-risk",
        "past-maximum",
        "far-future",
        "expired",
        "not-iso",
        "ticket-int",
        "unknown-key",
        "blank-control",
    ],
)
def test_approval_and_duration_rules(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in WAIVER
    assert re.search(expected, _error(tmp_path, WAIVER.replace(old, new)))


def test_expiry_bounds_are_inclusive(tmp_path: Path) -> None:
    for day in (TODAY, TODAY + dt.timedelta(days=90)):
        assert _load(_write(tmp_path, WAIVER.replace("2026-02-15", day.isoformat())))
    assert _load(_write(tmp_path, WAIVER.replace("2026-02-15", "2026-01-31")), max_days=30)
    assert "(30) away" in _error(tmp_path, WAIVER, max_days=30)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("waivers: {}", "'waivers:' should be a list"),
        ("waivers: [", "not valid YAML"),
        ("waiver: []", "expected only a top-level 'waivers:' list"),
        ("waivers:\n  - DR-ENC-01\n", r":2: waiver #1 should be a mapping"),
        (WAIVER + WAIVER.split("\n", 1)[1], r":11: a second waiver of DR-ENC-01 primary"),
    ],
    ids=["not-list", "bad-yaml", "misspelt-top", "not-mapping", "duplicate"],
)
def test_malformed_files_are_errors(tmp_path: Path, text: str, expected: str) -> None:
    assert re.search(expected, _error(tmp_path, text))


def test_empty_file_means_no_waivers(tmp_path: Path) -> None:
    assert _load(_write(tmp_path, "# nothing waived\n")) == []
    assert _load(_write(tmp_path, "waivers: []\n")) == []


def test_the_shipped_example_is_a_valid_waiver(tmp_path: Path) -> None:
    text = (POLICY_ROOT / "waivers.yaml").read_text(encoding="utf-8")
    example = text.split("# Example (not active):\n", 1)[1].split("\nwaivers:", 1)[0]
    path = _write(tmp_path, "\n".join(line.removeprefix("#   ") for line in example.splitlines()))
    [waiver] = load_waivers(path, {"DR-IAM-01"}, today=dt.date(2026, 11, 1))
    assert waiver.compensating_control and waiver.approved_by != waiver.owner


def test_the_shipped_waivers_are_valid_and_each_pinned_to_its_measured_finding() -> None:
    """This app's own exceptions (README: design note) pass every check a team's would."""
    active = load_waivers(
        POLICY_ROOT / "waivers.yaml", {"DR-RTO-01", "DR-RPO-02"}, today=dt.date(2026, 12, 1)
    )
    assert sorted(w.requirement for w in active) == ["DR-RPO-02", "DR-RPO-02", "DR-RTO-01"]
    assert all(w.finding and w.approved_by != w.owner for w in active)


def test_a_pinned_waiver_accepts_only_the_finding_it_names() -> None:
    waiver = Waiver.model_validate(
        {
            "requirement": "DR-RTO-01",
            "stack": "primary",
            "address": "aws_rds_global_cluster.g",
            "reason": "no AWS-native design promotes within 60 s",
            "owner": "platform-team",
            "approved_by": "dr-review-board",
            "ticket": "DR-142",
            "risk": "medium",
            "expires": "2027-01-31",
            "finding": "the promotion path takes 80 s",
        }
    )
    accepted = "the promotion path takes 80 s, over the 60 s RTO target"
    slower = "the promotion path takes 155 s, over the 60 s RTO target"
    assert match_waiver([waiver], "DR-RTO-01", "primary", "aws_rds_global_cluster.g", accepted)
    assert (
        match_waiver([waiver], "DR-RTO-01", "primary", "aws_rds_global_cluster.g", slower) is None
    )
    [unmatched] = unmatched_waivers(
        [waiver],
        {("primary", "aws_rds_global_cluster.g")},
        {("DR-RTO-01", "primary", "aws_rds_global_cluster.g")},
        used=set(),
    )
    assert "none reads 'the promotion path takes 80 s'" in unmatched.message
