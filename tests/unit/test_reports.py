"""The reports: every format names what failed, where, and what was checked.

A mutant of the catalogue breaks one requirement in a copy of the project's
synthesized stacks; the writers must then name that requirement, the
resource and its CDKTF construct path in HTML, JSON, SARIF and Markdown.
JSON is validated against our schema, SARIF against the official 2.1.0
schema. The feature results come from a sample ``cucumber.json`` (no
recursive pytest run).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import os
import re
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from report_samples import (
    DRILL,
    cucumber_for,
    write_cucumber,
    write_drills,
    write_junit,
    write_sample_features,
)

from compliance import cli
from compliance.evaluation import Evaluation
from compliance.mutations import CATALOGUE, Mutant, Target
from compliance.reports import publish, writer
from compliance.reports.document import Report, to_json
from compliance.reports.feature_files import load_features
from compliance.reports.html_report import render_html
from compliance.reports.json_report import load_schema
from compliance.reports.living_doc import render_living_doc
from compliance.reports.summary_md import MAX_FINDINGS, render_summary
from compliance.runner import CheckOptions, run_check
from compliance.synth import REPO_ROOT, SynthResult

SARIF_SCHEMA = REPO_ROOT.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"
NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def _mutant() -> Mutant:
    """The reference mutant (storage encryption removed), else any DR-ENC-01 mutant."""
    preferred = CATALOGUE.get("aurora storage encryption removed")
    return preferred or next(m for m in CATALOGUE.values() if m.requirement == "DR-ENC-01")


@dataclass
class Broken:
    evaluation: Evaluation
    target: Target
    requirement: str
    construct_path: str
    report_dir: Path
    written: writer.Written

    def text(self, name: str) -> str:
        return (self.report_dir / name).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def broken(synth_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Broken:
    base = tmp_path_factory.mktemp("broken")
    mutant = _mutant()
    target = mutant.build(synth_dir, base / "cdktf.out")
    evaluation = run_check(base / "cdktf.out")
    resource = next(
        r
        for r in evaluation.model.resources()
        if (r.stack, r.address) == (target.stack, target.address)
    )
    assert resource.construct_path, "CDKTF writes a construct path for every resource"
    report_dir = base / "reports"
    features = load_features(writer.FEATURES_ROOT, REPO_ROOT)
    written = writer.write_reports(
        evaluation,
        report_dir,
        cucumber=write_cucumber(report_dir / writer.CUCUMBER, features),
        drills=write_drills(report_dir / writer.DRILLS),
        features_exit_code=0,
        now=NOW,
    )
    return Broken(
        evaluation, target, mutant.requirement, resource.construct_path, report_dir, written
    )


def test_every_format_names_the_requirement_resource_and_construct_path(broken: Broken) -> None:
    rid, stack, address = broken.requirement, broken.target.stack, broken.target.address
    path = broken.construct_path

    document = json.loads(broken.text(writer.JSON))
    entry = next(r for r in document["requirements"] if r["id"] == rid)
    assert entry["status"] == "failed"
    finding = next(f for f in entry["findings"] if (f["stack"], f["address"]) == (stack, address))
    assert finding["construct_path"] == path
    assert finding["message"] and finding["remediation"]
    assert finding["location"]["line"] and finding["location"]["file"].endswith("cdk.tf.json")
    assert document["summary"]["compliant"] is False and document["summary"]["result"] == "failed"

    html = broken.text(writer.HTML)
    article = html[html.index(f'id="{rid}"') :]
    article = article[: article.index("</article>")]
    for expected in (rid, "✗ Failed", stack, path, finding["message"], entry["remediation"]):
        assert _plain(expected) in _plain(article), expected
    assert _plain(address) in _plain(article)

    sarif = json.loads(broken.text(writer.SARIF))
    result = next(
        r
        for r in sarif["runs"][0]["results"]
        if r["properties"]["address"] == address and r["ruleId"] == rid
    )
    names = {loc["fullyQualifiedName"] for loc in result["locations"][0]["logicalLocations"]}
    assert {f"{stack}/{address}", path} <= names
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1

    summary = broken.text(writer.SUMMARY)
    assert "Not compliant" in summary
    line = next(line for line in summary.splitlines() if address in line)
    assert stack in line and path in line
    assert f"**{rid}**" in summary


def _plain(text: str) -> str:
    """HTML text without tags and <wbr> break hints, entities kept as written."""
    return re.sub(r"<[^>]+>", "", text.replace("<wbr>", "")).replace("&#x27;", "'")


def test_the_located_line_is_where_the_resource_is_written(broken: Broken) -> None:
    finding = next(
        f for f in broken.written.document["findings"] if f["address"] == broken.target.address
    )
    file = Path(finding["location"]["file"])
    file = file if file.is_absolute() else REPO_ROOT / file
    line = file.read_text(encoding="utf-8").splitlines()[finding["location"]["line"] - 1]
    assert f'"{broken.target.address.split(".", 1)[1]}": {{' in line


def test_compliance_json_validates_against_its_schema(broken: Broken) -> None:
    document = json.loads(broken.text(writer.JSON))
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(document, schema, cls=jsonschema.Draft202012Validator)
    assert document["schema_version"] == schema["properties"]["schema_version"]["const"]
    assert document["drills"][0]["rto_seconds"] == DRILL["rto_seconds"]


def test_the_sample_drill_is_what_the_drills_write() -> None:
    """The report reads the drills' own format: the sample must match their schema."""
    schema_file = REPO_ROOT / "compliance" / "drills" / "drill.schema.json"
    if not schema_file.is_file():
        pytest.skip("no drill schema in this tree")
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    jsonschema.validate(DRILL, schema, cls=jsonschema.Draft202012Validator)


def test_older_drill_records_still_render() -> None:
    from compliance.reports.drills import normalize
    from compliance.reports.html_report import timeline_svg

    drill = normalize(
        {
            "name": "hand-written",
            "requirement": "DR-DEP-02",
            "engine_versions": {"pdns": "4.7"},
            "timeline": [{"name": "failure injected", "at_seconds": 5}, {"name": "x"}],
            "rto_seconds": None,
            "targets": {"rto": 60},
        }
    )
    assert drill.title == "hand-written" and drill.requirements == ["DR-DEP-02"]
    assert to_json(drill.timeline) == [{"name": "failure injected", "at_seconds": 5.0}]
    assert drill.rto_target_seconds == 60.0 and drill.rpo_target_seconds is None
    svg = timeline_svg(drill)
    assert svg.startswith("<svg") and "failure injected" in svg and "RTO target 60.0 s" in svg


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: d.pop("provenance"),
        lambda d: d["requirements"][0].update(status="green"),
        lambda d: d["findings"][0].pop("construct_path"),
        lambda d: d["summary"].update(unexpected=1),
        lambda d: d["provenance"].update(policy_sha256="not-a-hash"),
    ],
    ids=["no provenance", "unknown status", "finding without path", "extra key", "bad hash"],
)
def test_the_schema_rejects_a_report_that_drifts(broken: Broken, breakage: Any) -> None:
    document = copy.deepcopy(broken.written.document)
    breakage(document)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, load_schema(), cls=jsonschema.Draft202012Validator)


def _sarif_schema() -> dict[str, Any]:
    if not SARIF_SCHEMA.is_file():
        message = f"official SARIF 2.1.0 schema not found at {SARIF_SCHEMA}"
        if os.environ.get("DR_STRICT"):
            pytest.fail(message)
        pytest.skip(message)
    return json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))


def test_a_missing_sarif_schema_fails_under_dr_strict_and_skips_otherwise(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(f"{__name__}.SARIF_SCHEMA", tmp_path / "absent.json")
    monkeypatch.setenv("DR_STRICT", "1")
    with pytest.raises(pytest.fail.Exception, match="SARIF 2.1.0 schema not found"):
        _sarif_schema()
    monkeypatch.delenv("DR_STRICT")
    with pytest.raises(pytest.skip.Exception):
        _sarif_schema()


def test_sarif_validates_against_the_official_schema(broken: Broken) -> None:
    schema = _sarif_schema()
    sarif = json.loads(broken.text(writer.SARIF))
    jsonschema.Draft4Validator(schema).validate(sarif)
    assert sarif["version"] == "2.1.0"
    broken_copy = copy.deepcopy(sarif)
    broken_copy["runs"][0]["results"][0]["level"] = "fatal"
    assert list(jsonschema.Draft4Validator(schema).iter_errors(broken_copy))


def test_sarif_has_one_rule_per_requirement_and_one_result_per_finding(broken: Broken) -> None:
    sarif = json.loads(broken.text(writer.SARIF))
    run = sarif["runs"][0]
    rules = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    requirements = [r["id"] for r in broken.written.document["requirements"]]
    assert rules == requirements and len(set(rules)) == len(rules)
    assert len(run["results"]) == len(broken.evaluation.findings) > 0
    for result in run["results"]:
        assert rules[result["ruleIndex"]] == result["ruleId"]


def _provenance_values(document: dict[str, Any]) -> dict[str, str]:
    p = document["provenance"]
    return {
        "commit": p["git_commit"][:12],
        "harness": p["harness_version"],
        "cdktf": p["cdktf_version"],
        "provider": p["aws_provider"],
        "engine": p["policy_engine"],
        "policy hash": p["policy_sha256"][:12],
        "time": p["generated_at"],
    }


def test_provenance_in_every_format(broken: Broken) -> None:
    document = broken.written.document
    values = _provenance_values(document)
    assert values["time"] == NOW.isoformat()
    assert values["provider"].startswith("hashicorp/aws ")
    assert re.fullmatch(r"[0-9a-f]{12}|unknown", values["commit"])
    assert (
        len(document["provenance"]["policy_files"]) == document["provenance"]["policy_file_count"]
    )
    sarif = json.loads(broken.text(writer.SARIF))
    sarif_text = json.dumps(sarif["runs"][0]["properties"]["provenance"])
    for name, text in {
        "compliance.json": json.dumps(json.loads(broken.text(writer.JSON))["provenance"]),
        "compliance.html": broken.text(writer.HTML),
        "compliance.sarif": sarif_text,
        "summary.md": broken.text(writer.SUMMARY),
        "living-documentation.html": broken.text(writer.LIVING_DOC),
    }.items():
        for field, value in values.items():
            assert value and value in text, f"{field} missing from {name}"


def test_a_waived_finding_shows_reason_owner_approval_and_expiry(
    tmp_path: Path, broken: Broken
) -> None:
    """Every finding of the broken requirement waived: the requirement reads WAIVED, and
    each format still lists the findings, with who accepted them, why and until when."""
    expires = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    own = [f for f in broken.evaluation.findings if f.requirement == broken.requirement]
    entries = "".join(
        f"  - {{requirement: {broken.requirement}, stack: {f.stack}, address: {f.address},\n"
        "     reason: vendor cluster pending migration, owner: dba-team,\n"
        "     approved_by: security-review, ticket: SEC-421, risk: medium,\n"
        f"     compensating_control: hourly snapshots, expires: {expires}}}\n"
        for f in own
    )
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("waivers:\n" + entries)
    evaluation = run_check(broken.evaluation.model.source, CheckOptions(waivers=waivers))
    written = writer.write_reports(evaluation, tmp_path / "reports", now=NOW)
    entry = next(r for r in written.document["requirements"] if r["id"] == broken.requirement)
    assert entry["status"] == "waived" and len(entry["waivers"]) == len(own) > 0
    assert {w["owner"] for w in entry["waivers"]} == {"dba-team"}
    target = next(w for w in written.document["waivers"] if w["address"] == broken.target.address)
    assert target["construct_path"] == broken.construct_path and target["ticket"] == "SEC-421"
    jsonschema.validate(written.document, load_schema(), cls=jsonschema.Draft202012Validator)

    html = (tmp_path / "reports" / writer.HTML).read_text()
    article = html[html.index(f'id="{broken.requirement}"') :]
    article = article[: article.index("</article>")]
    for text in ("vendor cluster pending migration", "dba-team", "security-review", "SEC-421"):
        assert text in article, text
    assert expires in article and "hourly snapshots" in article and "⚑ Waived" in article
    sarif = json.loads((tmp_path / "reports" / writer.SARIF).read_text())
    results = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == broken.requirement]
    assert len(results) == len(own)
    for result in results:
        (suppression,) = result["suppressions"]
        assert suppression["status"] == "accepted"
        assert "dba-team" in suppression["justification"]
        assert "security-review" in suppression["justification"]


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    return write_sample_features(tmp_path)


def test_scenario_results_come_from_cucumber_json(
    broken: Broken, sample: Path, tmp_path: Path
) -> None:
    features = load_features(sample, tmp_path)
    outline = features[0].scenarios[1]
    failed_row = outline.examples[0].rows[1]
    cucumber = write_cucumber(tmp_path / "cucumber.json", features, failed={failed_row.line})
    report = writer.build_document(
        broken.evaluation, features_root=sample, cucumber=cucumber, features_exit_code=1, now=NOW
    )
    scenarios = report.features[0].scenarios
    assert [s.status for s in scenarios] == ["passed", "failed", "passed"]
    rows = scenarios[1].examples[0].rows
    assert [r.status for r in rows] == ["passed", "failed"]
    assert "the mutant was not caught" in (rows[1].error or "")
    assert scenarios[1].text.splitlines()[1].strip().startswith("Scenario Outline:")
    assert report.summary.scenarios.failed == 1
    assert report.summary.result == "failed"

    html = render_html(report)
    failed_row = re.search(r'<span class="gl row-failed">.*?</span>\n', html, re.S)
    assert failed_row and "key rotation off" in failed_row.group(0)
    assert "the mutant was not caught" in failed_row.group(0)
    assert "Failed scenarios" in render_summary(report)


def test_junit_xml_catches_a_scenario_that_failed_outside_its_steps(
    broken: Broken, sample: Path, tmp_path: Path
) -> None:
    """pytest-bdd writes such a scenario with every step passed; junit.xml knows better."""
    features = load_features(sample, tmp_path)
    cucumber = write_cucumber(tmp_path / "cucumber.json", features)
    ids = [e["id"] for f in cucumber_for(features) for e in f["elements"]]
    outline_row = next(i for i in ids if i.endswith("[key rotation off]"))
    junit = write_junit(
        tmp_path / "junit.xml",
        passed=[i for i in ids if i != outline_row],
        failed={
            outline_row: "StepDefinitionNotFoundError: Step definition is not found",
            "test_never_reached_its_steps": "fixture 'lab' not found",
        },
    )
    report = writer.build_document(
        broken.evaluation, features_root=sample, cucumber=cucumber, junit=junit, now=NOW
    )
    outline = report.features[0].scenarios[1]
    assert outline.status == "failed"
    assert [r.status for r in outline.examples[0].rows] == ["passed", "failed"]
    assert "StepDefinitionNotFoundError" in (outline.error or "")
    assert any("test_never_reached_its_steps" in n for n in report.sources.notes)
    assert report.summary.result == "failed"


def test_without_cucumber_json_every_scenario_is_not_run(broken: Broken, sample: Path) -> None:
    report = writer.build_document(broken.evaluation, features_root=sample, now=NOW)
    assert {s.status for s in report.features[0].scenarios} == {"not_run"}
    assert report.summary.features_ran is False
    assert "the features were not run" in render_html(report)


def test_a_drill_requirement_is_decided_by_its_scenarios_and_drills(
    broken: Broken, sample: Path, tmp_path: Path
) -> None:
    features = load_features(sample, tmp_path)
    cucumber = write_cucumber(tmp_path / "cucumber.json", features)
    passed = writer.build_document(
        broken.evaluation,
        features_root=sample,
        cucumber=cucumber,
        drills=write_drills(tmp_path / "ok.json"),
        now=NOW,
    )
    dep = passed.requirement("DR-DEP-01")
    assert dep is not None and dep.decided_by == "drill" and dep.policy is None
    assert dep.status == "passed" and dep.drills == [0]
    assert dep.controls == {"nist-800-53": ["CP-10"], "soc2": ["A1.3"]}
    jsonschema.validate(to_json(passed), load_schema(), cls=jsonschema.Draft202012Validator)
    html = render_html(passed)
    assert '<svg class="timeline"' in html and "measured RTO 9.3 s" in html
    assert "RTO target 12.0 s" in html and "static budget 10.0 s" in html
    assert "Aurora Global Database" in html and "RTO within target" in html

    slow = {**DRILL, "rto_seconds": 75.0, "passed": False}
    failed = writer.build_document(
        broken.evaluation,
        features_root=sample,
        cucumber=cucumber,
        drills=write_drills(tmp_path / "slow.json", [slow]),
        now=NOW,
    )
    dep = failed.requirement("DR-DEP-01")
    assert dep is not None and dep.status == "failed"
    assert "| 75 s | 12 s |" in render_summary(failed)


def test_a_drill_without_a_scenario_still_decides_its_requirement(
    broken: Broken, tmp_path: Path
) -> None:
    document = writer.build_document(
        broken.evaluation,
        features_root=tmp_path / "no-features",
        drills=write_drills(tmp_path / "drills.json", [{**DRILL, "passed": False}]),
        now=NOW,
    )
    dep = document.requirement(DRILL["id"])
    assert dep is not None and dep.decided_by == "drill" and dep.title == DRILL["scenario"]
    assert dep.status == "failed" and dep.drills == [0]
    jsonschema.validate(to_json(document), load_schema(), cls=jsonschema.Draft202012Validator)


def test_a_malformed_drills_file_is_a_note_not_a_crash(broken: Broken, tmp_path: Path) -> None:
    bad = tmp_path / "drills.json"
    bad.write_text('{"drills": 3}')
    report = writer.build_document(broken.evaluation, drills=bad, now=NOW)
    assert report.drills is None and "drills" not in to_json(report)
    assert any("drills.json" in note for note in report.sources.notes)


def test_the_html_is_self_contained(broken: Broken) -> None:
    for name in (writer.HTML, writer.LIVING_DOC):
        html = broken.text(name)
        assert "Content-Security-Policy" in html and "default-src 'none'" in html
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html, re.I), name
        assert "@import" not in html and "url(" not in html
        assert html.count("<script") == 1 and "<script src" not in html


def test_summary_md_stays_short_with_many_findings(broken: Broken) -> None:
    report = copy.deepcopy(broken.written.report)
    entry = next(r for r in report.requirements if r.status == "failed")
    entry.findings = [
        dataclasses.replace(entry.findings[0], address=f"aws_sns_topic.t{i}")
        for i in range(MAX_FINDINGS * 4)
    ]
    summary = render_summary(report)
    assert len(summary.splitlines()) < MAX_FINDINGS + 60
    assert f"and {MAX_FINDINGS * 3} more finding(s)" in summary


def test_summary_groups_by_family_and_framework(broken: Broken) -> None:
    summary = broken.written.document["summary"]
    families = {row["family"]: row for row in summary["by_family"]}
    family = broken.requirement.split("-")[1]
    assert families[family]["failed"] >= 1 and families[family]["status"] == "failed"
    assert sum(row["total"] for row in summary["by_family"]) == summary["requirements"]
    nist = next(f for f in summary["by_framework"] if f["framework"] == "nist-800-53")
    assert all(re.fullmatch(r"[A-Z]{2}", group["group"]) for group in nist["groups"])
    assert any(group["failed"] for group in nist["groups"])


def test_every_value_on_the_pages_is_escaped(broken: Broken) -> None:
    """Text from a finding or a feature is text: no markup, no fetch, even quoted."""
    report = copy.deepcopy(broken.written.report)
    hostile = '<script>alert("x")</script> background:url(http://x) @import "y.css"'
    report.findings[0].message = hostile
    report.features[0].name = hostile
    report.features[0].scenarios[0].name = hostile
    for html in (render_html(report), render_living_doc(report)):
        assert "<script>alert" not in html and "url(" not in html and "@import" not in html
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
        assert html.count("<script") == 1


# --- One report set per run, whatever runs beside it ---------------------------------

SET = (writer.JSON, writer.HTML, writer.SARIF, writer.SUMMARY, writer.LIVING_DOC)
TRIALS = 100


def _run_identity(folder: Path, stamps: list[str]) -> set[str]:
    """The run (its generated_at) each file of the set belongs to; fails on a corrupt file."""
    found = set()
    for name in SET:
        text = (folder / name).read_text(encoding="utf-8")
        if name == writer.JSON:
            found.add(json.loads(text)["provenance"]["generated_at"])
        elif name == writer.SARIF:
            found.add(json.loads(text)["runs"][0]["properties"]["provenance"]["generated_at"])
        else:
            marks = [stamp for stamp in stamps if stamp in text]
            assert len(marks) == 1, f"{name} names {marks}"
            found.add(marks[0])
            complete = (
                text.endswith("</html>\n")
                if name.endswith(".html")
                else text.endswith(f"- Generated: {marks[0]}\n")
            )
            assert complete, f"{name} is cut short"
    return found


def test_two_runs_writing_one_folder_leave_one_whole_set(
    broken: Broken, sample: Path, tmp_path: Path
) -> None:
    """Two report writes into one folder at once, TRIALS times: no crash, no torn or mixed set.

    Each write runs in its own thread, released together by a barrier (file locks
    are per open file, so threads contend as two ``run`` processes do). Meanwhile
    the test reads the set under the shared lock, as a consumer that needs it whole
    does: it too must never see a mix.
    """
    full = writer.build_document(broken.evaluation, features_root=sample, now=NOW)
    # A few requirements are enough to race on (and keep TRIALS quick).
    kept = {r.id for r in full.requirements[:4]}
    base = dataclasses.replace(
        full,
        requirements=[r for r in full.requirements if r.id in kept],
        findings=[f for f in full.findings if f.requirement in kept],
    )
    stamps = [f"2026-0{month}-02T03:04:05+00:00" for month in (3, 4)]
    runs: list[Report] = [
        dataclasses.replace(base, provenance=dataclasses.replace(base.provenance, generated_at=s))
        for s in stamps
    ]
    folder = tmp_path / "reports"
    folder.mkdir()
    reads = 0
    for trial in range(TRIALS):
        barrier = threading.Barrier(len(runs))
        failures: list[BaseException] = []
        writers = [
            threading.Thread(target=_write_when_released, args=(run, folder, barrier, failures))
            for run in runs
        ]
        for thread in writers:
            thread.start()
        while any(thread.is_alive() for thread in writers):
            with publish.reading(folder):
                if all((folder / name).exists() for name in SET):
                    assert len(_run_identity(folder, stamps)) == 1, f"mixed set in trial {trial}"
                    reads += 1
            writers[0].join(timeout=0.005)  # or the first writer ends
        for thread in writers:
            thread.join()
        assert failures == [], f"a writer crashed in trial {trial}: {failures}"
        assert len(_run_identity(folder, stamps)) == 1, f"mixed set after trial {trial}"
        assert sorted(p.name for p in folder.iterdir()) == sorted(SET), "scratch left behind"
    assert reads > 0, "the reader never saw a set while the writers ran"


def _write_when_released(
    report: Report, folder: Path, barrier: threading.Barrier, failures: list[BaseException]
) -> None:
    try:
        barrier.wait(timeout=60)
        writer.write_report_set(report, folder)
    except BaseException as error:  # reported by the test, in its own thread
        failures.append(error)


def test_a_killed_runs_scratch_folder_is_reclaimed(broken: Broken, tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    dead = folder / f"{publish.SCRATCH_PREFIX}{_ended_pid()}-x"  # its run was killed
    alive = folder / f"{publish.SCRATCH_PREFIX}{os.getpid()}-y"  # a run still writing
    for scratch in (dead, alive):
        scratch.mkdir(parents=True)
        (scratch / writer.JSON).write_text("{")
    writer.write_report_set(broken.written.report, folder)
    assert not dead.exists() and alive.is_dir()
    assert json.loads((folder / writer.JSON).read_text())["schema_version"]


def _ended_pid() -> int:
    """The pid of a process that has ended (and been reaped): no process has it now."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


# --- The main job ------------------------------------------------------------


@pytest.fixture
def main_job(monkeypatch: pytest.MonkeyPatch, synthesized: SynthResult, tmp_path: Path):
    """``run`` with the synth reused and the feature run replaced by sample results."""
    calls: dict[str, Any] = {"features_code": 0, "failed": set()}

    def fake_features(report_dir: Path, cache_dir: Path | None = None) -> int:
        assert os.environ.get("DR_REPORT_DIR") == str(report_dir)
        features = load_features(writer.FEATURES_ROOT, REPO_ROOT)
        write_cucumber(report_dir / writer.CUCUMBER, features, calls["failed"])
        (report_dir / writer.JUNIT).write_text("<testsuites/>", encoding="utf-8")
        write_drills(report_dir / writer.DRILLS)
        calls["ran"] = True
        return calls["features_code"]

    monkeypatch.setattr(cli, "synthesize", lambda *args, **kwargs: synthesized)
    monkeypatch.setattr(cli, "run_features", fake_features)
    calls["report_dir"] = tmp_path / "reports"
    return calls


SIX = (writer.HTML, writer.JSON, writer.JUNIT, writer.CUCUMBER, writer.SARIF, writer.SUMMARY)


def test_main_job_writes_every_report_and_exits_0(main_job: dict[str, Any]) -> None:
    report_dir = main_job["report_dir"]
    code = cli.main(["run", "--report-dir", str(report_dir), "--no-screenshot"])
    assert main_job["ran"] and "DR_REPORT_DIR" not in os.environ
    document = json.loads((report_dir / writer.JSON).read_text())
    failed = [r["id"] for r in document["requirements"] if r["status"] == "failed"]
    assert code == (1 if failed else 0), failed
    for name in (*SIX, writer.LIVING_DOC):
        assert (report_dir / name).is_file(), name
    assert document["summary"]["features_ran"] is True
    assert document["drills"][0]["title"] == DRILL["scenario"]


def test_main_job_on_a_broken_stack_writes_every_report_and_exits_1(
    main_job: dict[str, Any], broken: Broken, capsys: pytest.CaptureFixture[str]
) -> None:
    report_dir = main_job["report_dir"]
    source = str(broken.evaluation.model.source)
    code = cli.main(["run", "--input", source, "--report-dir", str(report_dir), "--no-screenshot"])
    assert code == 1
    for name in (*SIX, writer.LIVING_DOC):
        assert (report_dir / name).is_file(), name
    assert broken.target.address in capsys.readouterr().out
    for name in (writer.HTML, writer.JSON, writer.SARIF, writer.SUMMARY):
        text = (report_dir / name).read_text()
        assert broken.requirement in text and broken.construct_path in _plain(text), name


def test_a_failing_feature_fails_the_main_job(main_job: dict[str, Any], broken: Broken) -> None:
    main_job["features_code"] = 1
    main_job["failed"] = {load_features(writer.FEATURES_ROOT)[0].scenarios[0].line}
    report_dir = main_job["report_dir"]
    assert cli.main(["run", "--report-dir", str(report_dir), "--no-screenshot"]) == 1
    document = json.loads((report_dir / writer.JSON).read_text())
    assert document["summary"]["result"] == "failed"
    assert document["summary"]["features_exit_code"] == 1


def test_main_job_without_features_reads_no_stale_results(main_job: dict[str, Any]) -> None:
    report_dir = main_job["report_dir"]
    report_dir.mkdir(parents=True)
    write_cucumber(report_dir / writer.CUCUMBER, [])
    write_drills(report_dir / writer.DRILLS)
    os.utime(report_dir / writer.DRILLS, (1, 1))
    cli.main(["run", "--report-dir", str(report_dir), "--no-features", "--no-screenshot"])
    assert "ran" not in main_job
    document = json.loads((report_dir / writer.JSON).read_text())
    assert document["summary"]["features_ran"] is False
    notes = " ".join(document["sources"]["notes"])
    assert "--no-features" in notes and "predates" in notes


def test_main_job_on_bad_input_exits_2(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "cdk.tf.json"
    bad.write_text("{")
    code = cli.main(["run", "--input", str(bad), "--report-dir", str(tmp_path / "r")])
    assert code == 2 and "malformed JSON" in capsys.readouterr().err
    assert not (tmp_path / "r" / writer.JSON).exists()


def test_without_a_browser_the_main_job_still_writes_its_reports(
    main_job: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("DR_CHROMIUM", "/nonexistent/chromium")
    report_dir = main_job["report_dir"]
    cli.main(["run", "--report-dir", str(report_dir), "--no-features"])
    assert "screenshot skipped" in capsys.readouterr().err
    assert (report_dir / writer.HTML).is_file()
    assert not (report_dir / writer.SCREENSHOT).exists()
