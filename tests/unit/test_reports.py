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
import hashlib
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
    LAG_DRILL,
    cucumber_for,
    write_cucumber,
    write_drills,
    write_junit,
    write_sample_features,
)

from compliance import cli
from compliance.catalogue import load_policies
from compliance.errors import InputError
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
    for record in (DRILL, LAG_DRILL):
        jsonschema.validate(record, schema, cls=jsonschema.Draft202012Validator)


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
    # The mapping comes from policies/drills.yaml, graded: a lab drill never satisfies.
    assert ("nist-800-53", "CP-4") in {(m.framework, m.control) for m in dep.controls}
    assert {m.grade for m in dep.controls} == {"supports"} and all(m.why for m in dep.controls)
    jsonschema.validate(to_json(passed), load_schema(), cls=jsonschema.Draft202012Validator)
    html = render_html(passed)
    assert '<svg class="timeline"' in html and "measured RTO 9.3 s" in html
    assert "RTO target 12.0 s" in html and "static budget 10.0 s" in html
    assert "PostgreSQL primary and hot standby" in html and "RTO within target" in html

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
    row = next(line for line in render_summary(failed).splitlines() if "| DR-DEP-01 |" in line)
    assert "✗ failed" in row and "RTO 75 s" in row


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
    one = copy.deepcopy(report)
    next(r for r in one.requirements if r.status == "failed").findings = entry.findings[:1]
    baseline = len(render_summary(one).splitlines())
    assert len(summary.splitlines()) <= baseline + MAX_FINDINGS
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

SET = (
    writer.JSON,
    writer.HTML,
    writer.SARIF,
    writer.SUMMARY,
    writer.LIVING_DOC,
    writer.EVIDENCE_MANIFEST,
)
TRIALS = 100


def _run_identity(folder: Path, stamps: list[str]) -> set[str]:
    """The run (its generated_at) each file of the set belongs to; fails on a corrupt file.

    The evidence manifest belongs to the set whose every file has the SHA-256 it lists.
    """
    found = set()
    manifest = json.loads((folder / writer.EVIDENCE_MANIFEST).read_text(encoding="utf-8"))
    for output in manifest["outputs"]:
        digest = hashlib.sha256((folder / output["path"]).read_bytes()).hexdigest()
        assert digest == output["sha256"], f"{output['path']} is not the manifest's"
    for name in SET:
        if name == writer.EVIDENCE_MANIFEST:
            continue
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

    def fake_features(report_dir: Path, cache_dir: Path | None = None, **_: Any) -> int:
        assert os.environ.get("DR_REPORT_DIR") == str(report_dir)
        features = load_features(writer.FEATURES_ROOT, REPO_ROOT)
        write_cucumber(report_dir / writer.CUCUMBER, features, calls["failed"])
        (report_dir / writer.JUNIT).write_text("<testsuites/>", encoding="utf-8")
        write_drills(report_dir / writer.DRILLS)
        calls["ran"] = True
        return calls["features_code"]

    monkeypatch.setattr(cli, "synthesize_app", lambda *args, **kwargs: synthesized)
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


# --- Issue 13: evidence an auditor accepts ---------------------------------------------


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _manifest_schema() -> dict[str, Any]:
    schema = load_schema()
    return {"$defs": schema["$defs"], **schema["$defs"]["manifest"]}


def test_the_manifest_hashes_every_input_that_decides_a_verdict(broken: Broken) -> None:
    manifest = broken.written.document["manifest"]
    inputs = {Path(i["path"]).resolve(): i for i in manifest["inputs"]}
    evaluation = broken.evaluation
    expected = [
        *evaluation.policies.files.values(),
        REPO_ROOT / "policies" / "settings.yaml",
        REPO_ROOT / "policies" / "drills.yaml",
        *(stack.file for stack in evaluation.model.stacks),
    ]
    loaded = {
        path: evaluation.policies.modules[name] for name, path in evaluation.policies.files.items()
    }
    for path in expected:
        entry = inputs.get(path.resolve())
        assert entry is not None, f"{path} is not in the manifest"
        # A policy is hashed as the engine loaded it (the same bytes, unless edited since).
        digest = (
            hashlib.sha256(loaded[path].encode()).hexdigest() if path in loaded else _sha256(path)
        )
        assert entry["sha256"] == digest, path
    roles = {i["role"] for i in manifest["inputs"]}
    assert {"policy", "settings", "stack manifest", "stack", "asset", "feature"} <= roles
    assets = [i for i in manifest["inputs"] if i["role"] == "asset"]
    assert assets and all(Path(a["path"]).suffix == ".zip" for a in assets)
    assert re.fullmatch(r"[0-9a-f]{64}", manifest["harness_sha256"])
    assert manifest["started_at"] <= manifest["finished_at"]


def test_the_manifest_hashes_every_output_and_is_its_own_file(broken: Broken) -> None:
    folder = broken.report_dir
    inside = broken.written.document["manifest"]["outputs"]
    own = json.loads(broken.text(writer.EVIDENCE_MANIFEST))
    jsonschema.validate(own, _manifest_schema(), cls=jsonschema.Draft202012Validator)
    assert {o["path"] for o in inside} == {
        writer.HTML,
        writer.SARIF,
        writer.SUMMARY,
        writer.LIVING_DOC,
    }, "compliance.json cannot hold its own hash"
    assert {o["path"] for o in own["outputs"]} == {o["path"] for o in inside} | {writer.JSON}
    for output in own["outputs"]:
        assert output["sha256"] == _sha256(folder / output["path"]), output["path"]
    assert own["run_id"] == broken.written.document["manifest"]["run_id"]
    assert own["inputs"] == broken.written.document["manifest"]["inputs"]


def test_the_settings_and_waivers_used_are_the_ones_hashed(broken: Broken, tmp_path: Path) -> None:
    settings = tmp_path / "settings.yaml"
    text = (REPO_ROOT / "policies" / "settings.yaml").read_text(encoding="utf-8")
    settings.write_text(text.replace("rto_seconds: 60", "rto_seconds: 120"), encoding="utf-8")
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("waivers: []\n", encoding="utf-8")
    options = CheckOptions(settings=settings, waivers=waivers)
    evaluation = run_check(broken.evaluation.model.source, options)
    document = to_json(writer.build_document(evaluation, now=NOW))
    inputs = {i["role"]: i for i in document["manifest"]["inputs"]}
    assert Path(inputs["settings"]["path"]).resolve() == settings.resolve()
    assert inputs["settings"]["sha256"] == _sha256(settings)
    assert _sha256(settings) != _sha256(REPO_ROOT / "policies" / "settings.yaml")
    assert Path(inputs["waivers"]["path"]).resolve() == waivers.resolve()
    assert inputs["waivers"]["sha256"] == _sha256(waivers)
    assert document["scope"]["targets"]["rto_seconds"] == 120


def test_without_a_commit_the_reports_say_not_reproducible(broken: Broken) -> None:
    """The broken copy lives in a temporary folder, outside any repository."""
    manifest = broken.written.document["manifest"]
    assert manifest["commit"] is None and "not inside a git repository" in manifest["commit_reason"]
    assert manifest["reproducible"] is False
    html = broken.text(writer.HTML)
    assert "Not reproducible from a commit" in html
    assert "cite it with the commit" not in html
    assert "Not reproducible from a commit" in broken.text(writer.SUMMARY)


def _git(folder: Path, *args: str) -> str:
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.invalid"]
    return subprocess.run(
        ["git", "-C", str(folder), *identity, *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()


def test_a_clean_commit_makes_the_report_reproducible(tmp_path: Path) -> None:
    repository = tmp_path / "app"
    repository.mkdir()
    stacks = repository / "design.tf.json"
    stacks.write_bytes((REPO_ROOT / "tests/fixtures/recovery_one_stack.tf.json").read_bytes())
    _git(repository, "init", "-q")
    _git(repository, "add", ".")
    _git(repository, "commit", "-q", "-m", "design")
    head = _git(repository, "rev-parse", "HEAD")
    clean = writer.build_document(run_check(stacks), features_root=tmp_path / "none", now=NOW)
    assert clean.manifest.commit == head and clean.manifest.dirty is False
    assert clean.manifest.reproducible and clean.provenance.git_commit == head
    assert "Reproducible: check out commit" in render_html(clean)

    stacks.write_text(stacks.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    dirty = writer.build_document(run_check(stacks), features_root=tmp_path / "none", now=NOW)
    assert dirty.manifest.dirty is True and not dirty.manifest.reproducible
    assert "uncommitted changes" in dirty.manifest.reproducibility


def test_the_run_is_attributed_to_the_ci_identity_else_the_local_user(
    broken: Broken, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("GITHUB_ACTIONS", "GITHUB_ACTOR"):
        monkeypatch.delenv(name, raising=False)
    local = writer.build_document(broken.evaluation, now=NOW).manifest.run_by
    assert local.kind == "local" and local.name and "host" in local.details
    github = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_ACTOR": "release-bot",
        "GITHUB_WORKFLOW": "DR compliance",
        "GITHUB_RUN_ID": "4242",
        "GITHUB_RUN_ATTEMPT": "2",
        "GITHUB_REPOSITORY": "acme/dr",
        "GITHUB_SHA": "a" * 40,
        "GITHUB_SERVER_URL": "https://github.example",
    }
    for name, value in github.items():
        monkeypatch.setenv(name, value)
    report = writer.build_document(broken.evaluation, now=NOW)
    run_by = report.manifest.run_by
    assert (run_by.kind, run_by.name) == ("github-actions", "release-bot")
    assert run_by.details["workflow"] == "DR compliance" and run_by.details["run_id"] == "4242"
    assert run_by.details["run_url"] == "https://github.example/acme/dr/actions/runs/4242"
    assert "release-bot" in render_html(report) and "release-bot" in render_summary(report)


def _observed(document: dict[str, Any], rid: str) -> dict[tuple[str, str], dict[str, Any]]:
    entry = next(r for r in document["requirements"] if r["id"] == rid)
    return {
        (o["stack"], o["address"]): {v["attribute"]: v for v in o["values"]}
        for o in entry["observed"]
    }


def test_the_values_a_policy_read_are_reported_per_resource(broken: Broken) -> None:
    """The mutant dropped storage_encrypted from one cluster: its observed value says so."""
    document = broken.written.document
    observed = _observed(document, broken.requirement)
    target = observed[(broken.target.stack, broken.target.address)]
    assert target["storage_encrypted"] == {
        "attribute": "storage_encrypted",
        "value": None,
        "set": False,
        "masked": False,
    }
    others = [
        values
        for (stack, address), values in observed.items()
        if address.startswith("aws_rds_cluster.")
        and (stack, address) != (broken.target.stack, broken.target.address)
    ]
    assert others and all(v["storage_encrypted"]["value"] is True for v in others)
    # Each value is the synthesized one: re-read from the stack file itself.
    resilience = _observed(document, "DR-RES-01")
    for (stack, address), values in resilience.items():
        kind, name = address.split(".", 1)
        block = broken.evaluation.model.stack(stack).document["resource"][kind][name]
        for attribute in ("deletion_protection", "skip_final_snapshot"):
            if attribute in values:
                assert values[attribute]["value"] == block.get(attribute), (address, attribute)
    html = broken.text(writer.HTML)
    article = html[html.index('id="DR-RES-01"') :]
    article = _plain(article[: article.index("</article>")])
    assert "Observed values" in article and "final_snapshot_identifier" in article


SECRETS_TF = {
    "provider": {"aws": [{"region": "us-east-1"}]},
    "resource": {
        "aws_rds_cluster": {
            "db": {
                "cluster_identifier": "db",
                "master_username": "admin",
                "master_password": "hunter2-plain-literal",
                "deletion_protection": True,
                "skip_final_snapshot": False,
                "final_snapshot_identifier": "db-final",
            }
        },
        "aws_lambda_function": {
            "fn": {
                "function_name": "fn",
                "role": "arn:aws:iam::123456789012:role/fn",
                "environment": {
                    "variables": {
                        "DB_PASSWORD": "s3cr3t-env-literal",
                        "KEY_ID": "AKIAABCDEFGHIJKLMNOP",
                        "SECRET_ARN": "${aws_secretsmanager_secret.s.arn}",
                        "MODE": "fast",
                    }
                },
            }
        },
    },
}


def test_secrets_never_reach_a_report(tmp_path: Path) -> None:
    stacks = tmp_path / "secrets.tf.json"
    stacks.write_text(json.dumps(SECRETS_TF), encoding="utf-8")
    written = writer.write_reports(
        run_check(stacks), tmp_path / "reports", features_root=tmp_path / "none", now=NOW
    )
    observed = _observed(written.document, "DR-ENC-03")
    cluster = next(v for (_, a), v in observed.items() if a == "aws_rds_cluster.db")
    assert cluster["master_password"]["masked"] is True
    assert cluster["master_password"]["value"] == "(masked)"
    assert cluster["master_username"]["value"] == "admin", "a user name is not a secret"
    function = next(v for (_, a), v in observed.items() if a == "aws_lambda_function.fn")
    variables = function["environment.variables"]
    assert variables["masked"] is True
    assert variables["value"]["MODE"] == "fast"
    assert variables["value"]["SECRET_ARN"] == "${aws_secretsmanager_secret.s.arn}"
    assert variables["value"]["DB_PASSWORD"] == variables["value"]["KEY_ID"] == "(masked)"
    for path in written.paths.values():
        text = path.read_text(encoding="utf-8")
        for secret in ("hunter2-plain-literal", "s3cr3t-env-literal", "AKIAABCDEFGHIJKLMNOP"):
            assert secret not in text, f"{secret} in {path.name}"


def test_every_control_mapping_is_graded_and_reported_as_coverage(broken: Broken) -> None:
    document = broken.written.document
    for requirement in document["requirements"]:
        for mapping in requirement["controls"]:
            assert mapping["grade"] in ("satisfies", "supports") and mapping["why"], requirement[
                "id"
            ]
    coverage = document["coverage"]
    assert {c["coverage"] for c in coverage} == {"evidence", "partial_evidence"}
    sc28 = next(c for c in coverage if c["control"] == "SC-28")
    assert sc28["coverage"] == "evidence"  # DR-ENC-01 satisfies it...
    assert sc28["open_gaps"] >= 1  # ...and failed on the broken copy: the gap shows
    cp10 = next(c for c in coverage if c["control"] == "CP-10")
    assert cp10["coverage"] == "partial_evidence"
    outside = {c["control"]: c for c in document["outside_evidence"]}
    assert {"CP-2", "CP-4", "CP-9(1)", "A1.3"} <= set(outside)
    html = broken.text(writer.HTML)
    section = html[
        html.index('id="coverage"') : html.index("</section>", html.index('id="coverage"'))
    ]
    assert "Partial evidence" in section and "Outside this evidence" in section
    assert "badge s-passed" not in section and "Passed" not in _plain(section).replace(
        "passed", ""
    ), "a control is never declared passed"
    groups = [g for f in document["summary"]["by_framework"] for g in f["groups"]]
    assert any(g["evidence"] for g in groups) and any(g["partial_evidence"] for g in groups)


WEAK = {
    ("nist-800-53", "CP-2"),
    ("nist-800-53", "AU-6"),
    ("nist-800-53", "IR-4"),
    ("nist-800-53", "PM-5"),
    ("soc2", "CC2.1"),
}


def test_weak_mappings_are_gone_and_testing_controls_rest_on_drills_only() -> None:
    policies = load_policies()
    mapped = {(m.framework, m.control): r.id for r in policies.requirements for m in r.controls}
    assert not WEAK & set(mapped), WEAK & set(mapped)
    for control in (("nist-800-53", "CP-4"), ("soc2", "A1.3")):
        assert control not in mapped, f"{control} claimed from a static check"
    drill_controls = {
        (m.framework, m.control) for d in policies.drills.values() for m in d.controls
    }
    assert ("nist-800-53", "CP-4") in drill_controls
    assert all(m.grade == "supports" for d in policies.drills.values() for m in d.controls)
    backups = {
        r.id for r in policies.requirements for m in r.controls if m.control in ("CP-9", "A.8.13")
    }
    assert backups == {"DR-RPO-01", "DR-RES-01"}


@pytest.mark.parametrize(
    ("controls", "message"),
    [
        ("#     nist-800-53: [SC-28]", "controls must be a list"),
        (
            "#     - {framework: nist-800-53, control: SC-28, grade: passed, why: x}",
            "grade must be satisfies or supports",
        ),
        ("#     - {framework: nist-800-53, control: SC-28, grade: supports}", "controls must be"),
        (
            "#     - {framework: cobit, control: X, grade: supports, why: x}",
            "unknown framework 'cobit'",
        ),
    ],
    ids=["old shape", "ungraded", "no reason", "unknown framework"],
)
def test_a_mapping_without_a_grade_and_reason_stops_the_check(
    tmp_path: Path, controls: str, message: str
) -> None:
    rule = tmp_path / "r.rego"
    rule.write_text(
        f"# METADATA\n# title: T\n# custom:\n#   id: DR-X-01\n#   controls:\n{controls}\n"
        "package dr.rules.x\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=message) as error:
        load_policies(tmp_path)
    assert str(error.value).startswith(str(rule))


def _section(html: str, anchor: str) -> str:
    start = html.index(f'id="{anchor}"')
    return html[start : html.index("</section>", start)]


def test_both_pages_open_with_scope_limitations_and_exceptions(
    broken: Broken, tmp_path: Path
) -> None:
    for name in (writer.HTML, writer.LIVING_DOC):
        html = broken.text(name)
        assert html.index('id="scope"') < html.index(
            'id="features"' if name == writer.LIVING_DOC else 'id="summary"'
        )
        scope = _plain(_section(html, "scope"))
        for heading in (
            "What was checked",
            "What was not checked",
            "Limitations",
            "Open exceptions",
        ):
            assert heading in scope, (name, heading)
        assert "Nothing was deployed to AWS" in scope
        # The sample drill ran at scale 0.2: both the lab's and the organisation's targets.
        assert "scaled by 0.2" in scope
        assert "the lab's targets RTO 12 s, RPO 5 s stand for the organisation's 60 s, 5 s" in scope
        assert "None: no finding is waived." in scope

    expires = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    finding = next(f for f in broken.evaluation.findings if f.requirement == broken.requirement)
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        f"waivers:\n  - {{requirement: {finding.requirement}, stack: {finding.stack}, "
        f"address: {finding.address}, reason: migration window, owner: dba-team, "
        f"approved_by: risk-board, ticket: RISK-7, risk: high, expires: {expires}}}\n",
        encoding="utf-8",
    )
    evaluation = run_check(broken.evaluation.model.source, CheckOptions(waivers=waivers))
    report = writer.build_document(evaluation, now=NOW)
    for html in (render_html(report), render_living_doc(report)):
        scope = _plain(_section(html, "scope"))
        assert "RISK-7" in scope and "risk-board" in scope and expires in scope
    assert "| RISK-7 |" in render_summary(report)


def test_negative_scenarios_read_as_what_they_detect(broken: Broken) -> None:
    document = broken.written.document
    scenarios = [s for f in document["features"] for s in f["scenarios"]]
    detects = [s for s in scenarios if s["purpose"] == "detects"]
    assert detects and all(s["name"].startswith("Detects:") for s in detects)
    assert all(not s["name"].endswith("is reported") for s in scenarios)
    living = broken.text(writer.LIVING_DOC)
    block = living[living.index("Detects: a grant or a trust wider than needed") :]
    block = block[block.index('<pre class="gherkin">') :]
    block = block[: block.index("</pre>")]
    assert "failover role given AdministratorAccess" in block
    assert "✓ Detected" in block and "✓ Passed" not in block
    assert "✓ Detected" in broken.text(writer.HTML)


def test_the_scenario_and_test_counts_are_explained(
    broken: Broken, sample: Path, tmp_path: Path
) -> None:
    features = load_features(sample, tmp_path)
    cucumber = write_cucumber(tmp_path / "cucumber.json", features)
    ids = [e["id"] for f in cucumber_for(features) for e in f["elements"]]
    junit = write_junit(tmp_path / "junit.xml", passed=[*ids, "test_a", "test_b"], failed={})
    report = writer.build_document(
        broken.evaluation, features_root=sample, cucumber=cucumber, junit=junit, now=NOW
    )
    counts = report.summary.test_counts
    assert (counts.scenarios, counts.outlines, counts.example_rows) == (3, 1, 2)
    assert counts.test_runs == 4 == counts.cucumber_elements and counts.junit_tests == 6
    assert (
        "pytest runs one test per scenario and one per example row: 4 tests" in counts.explanation
    )
    assert "junit.xml counts 6 tests: these 4 and 2 other test(s)" in counts.explanation
    assert counts.explanation in render_html(report).replace("&#x27;", "'")
    assert counts.explanation in render_summary(report)


def test_a_run_whose_features_did_not_run_never_says_none_of_them_passed(
    broken: Broken, sample: Path
) -> None:
    report = writer.build_document(
        broken.evaluation, features_root=sample, features_exit_code=2, now=NOW
    )
    html, summary = render_html(report), render_summary(report)
    assert not re.search(r"\b0 of \d+ passed", html + summary)
    assert "none ran (the feature run exited 2" in html
    assert "| not run |" in summary and "none of these tests ran" in summary


def test_summary_md_never_announces_more_findings_than_it_hides(broken: Broken) -> None:
    """The budget of listed findings is spent on the first failed requirement: the second
    lists none, and says how many it has instead of "... and 2 more"."""
    report = copy.deepcopy(broken.written.report)
    finding = report.findings[0]
    for requirement in report.requirements:
        requirement.status, requirement.findings = "passed", []
    first, second = report.requirements[0], report.requirements[1]
    first.status = "failed"
    first.findings = [
        dataclasses.replace(finding, address=f"aws_sns_topic.t{i}") for i in range(MAX_FINDINGS)
    ]
    second.status = "failed"
    second.findings = [dataclasses.replace(first.findings[0], requirement=second.id)] * 2
    summary = render_summary(report)
    assert "and 2 more finding(s)" not in summary
    assert "2 finding(s), not listed here: see compliance.html" in summary


def test_dr_rto_01_publishes_its_budget_in_json_and_as_a_chart(broken: Broken) -> None:
    entry = next(r for r in broken.written.document["requirements"] if r["id"] == "DR-RTO-01")
    budget = entry["budget"]
    assert {path["path"] for path in budget} == {"dns", "promotion"}
    for path in budget:
        assert path["target"] == 60 and path["stack"] and path["address"]
        assert all(stage["stage"] and stage["source"] for stage in path["stages"])
        assert path["total"] == sum(stage["seconds"] for stage in path["stages"])
    html = broken.text(writer.HTML)
    article = html[html.index('id="DR-RTO-01"') :]
    article = article[: article.index("</article>")]
    assert article.count('<svg class="budget"') == len(budget)
    for path in budget:
        for stage in path["stages"]:
            assert stage["stage"] in article
    assert "RTO target 60 s" in article
    others = html.replace(article, "")
    assert '<svg class="budget"' not in others, "only DR-RTO-01 publishes a budget"


def test_the_budget_chart_marks_overruns_and_unbounded_paths() -> None:
    from compliance.reports.budget_chart import charts
    from compliance.reports.document import BudgetPath, BudgetStage

    def path(name: str, stages: list[BudgetStage], total: float | None) -> BudgetPath:
        return BudgetPath(name, "global", f"x.{name}", stages, total, 60.0)

    fits = path("dns", [BudgetStage("detection", 20, "a"), BudgetStage("ttl", 5, "b")], 25)
    over = path(
        "promotion", [BudgetStage("alarm", 120, "c"), BudgetStage("promotion", 60, "d")], 180
    )
    never = path("promotion", [BudgetStage("trigger", None, "none found", unbounded=True)], None)
    drawn = charts([fits, over, never])
    assert [c.total_label for c in drawn] == ["25 s ✓ fits", "180 s ✗ over", "unbounded"]
    assert [c.within for c in drawn] == [True, False, None]
    first = drawn[0].segments
    assert first[0].x < first[1].x and first[0].width == pytest.approx(4 * first[1].width, rel=0.01)
    assert drawn[0].target_x == drawn[1].target_x, "one time axis for every path"
    assert drawn[1].segments[-1].x + drawn[1].segments[-1].width > drawn[1].target_x
    assert drawn[2].segments[0].unbounded and drawn[2].segments[0].width > 500


def test_a_budget_the_report_cannot_read_is_a_note(broken: Broken) -> None:
    evaluation = copy.copy(broken.evaluation)
    evaluation.results = [copy.copy(r) for r in broken.evaluation.results]
    rto = next(r for r in evaluation.results if r.requirement.id == "DR-RTO-01")
    rto.details = {"budget": [{"path": "dns"}]}
    report = writer.build_document(evaluation, now=NOW)
    assert report.requirement("DR-RTO-01").budget is None
    assert any("DR-RTO-01 published a budget" in note for note in report.sources.notes)


def test_the_replication_lag_drill_shows_its_own_criterion(
    broken: Broken, sample: Path, tmp_path: Path
) -> None:
    features = load_features(writer.FEATURES_ROOT, REPO_ROOT)
    report = writer.build_document(
        broken.evaluation,
        cucumber=write_cucumber(tmp_path / "cucumber.json", features),
        drills=write_drills(tmp_path / "drills.json", [DRILL, LAG_DRILL]),
        now=NOW,
    )
    lag = report.drills[1]
    assert lag.judged_by.startswith("✓ loss window matches the injected lag: lost 1.468 s")
    summary = render_summary(report)
    row = next(line for line in summary.splitlines() if "| DR-DEP-02 |" in line)
    assert "loss window matches the injected lag" in row and "alarm would have fired" in row
    assert "target" not in row.replace("the lab's targets", ""), row
    html = render_html(report)
    table = _section(html, "drills")
    lag_row = table[table.index("Replication lag before a region loss") :]
    lag_row = lag_row[: lag_row.index("</tr>")]
    assert "loss window matches the injected lag" in lag_row and "RPO target" not in lag_row
    article = html[html.index('id="DR-DEP-02"') :]
    article = _plain(article[: article.index("</article>")])
    assert "judged against the injected lag 1.5 s, not the RPO target" in article
    assert "recorded, not judged by this drill" in article, "nor by the RTO target"
    living = render_living_doc(report)
    line = living[living.index('href="compliance.html#DR-DEP-02"') :]
    line = line[: line.index("</p>")]
    assert "Judged by: ✓ loss window matches the injected lag" in line and "target" not in line


def test_notes_reach_every_format(broken: Broken) -> None:
    evaluation = copy.copy(broken.evaluation)
    evaluation.results = [copy.copy(r) for r in broken.evaluation.results]
    sch = next(r for r in evaluation.results if r.requirement.id == "DR-SCH-03")
    sch.notes = ["no source found beside the stacks: DR-SCH-03 has nothing to judge"]
    evaluation.notes = ["waiver DR-IAM-01 global/aws_iam_role.gone matched nothing"]
    report = writer.build_document(evaluation, now=NOW)
    document = to_json(report)
    entry = next(r for r in document["requirements"] if r["id"] == "DR-SCH-03")
    assert entry["notes"] == sch.notes and document["notes"] == evaluation.notes
    jsonschema.validate(document, load_schema(), cls=jsonschema.Draft202012Validator)
    html, summary = render_html(report), render_summary(report)
    for note in (*sch.notes, *evaluation.notes):
        assert note in html and note in summary
