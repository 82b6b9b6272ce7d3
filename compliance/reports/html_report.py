"""``compliance.html``: the page an auditor opens, prints and files.

Top to bottom: the verdict and why, the summary (requirements by status, by
control family, by framework group), control coverage, the feature run,
failover drills, provenance; then one ``<article id="DR-XXX-NN">`` per
requirement with everything that decided it: controls, the policy, what was
evaluated, each finding (stack, Terraform address, CDKTF construct path,
declaring line), waivers, the scenarios as written with their results and,
for drill requirements, each drill's measurements and timeline.

Self-contained: strict CSP, inline CSS and SVG, one inline script that only
adds filters (the page is complete without it). Built from the document alone
(``writer.build_document``), so JSON and HTML can never disagree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from compliance.reports.drills import timeline_svg
from compliance.reports.html_parts import (
    REQUIREMENT_STATUSES,
    SCRIPT,
    attr,
    badge,
    breakable,
    drill_status,
    esc,
    family_name,
    framework_name,
    group_name,
    key_values,
    page,
    provenance_table,
    scenario_gherkin,
    seconds,
    status_class,
    status_label,
    table,
    toolbar,
    worst,
)

Doc = Mapping[str, Any]
COUNT_HEADERS = ["num:Total", "num:✓ Passed", "num:✗ Failed", "num:⚑ Waived", "num:– N/A"]
COUNT_HEADERS += ["num:○ Not run"]
LIVING_DOC = "living-documentation.html"  # sibling written by writer.write_reports
NOT_RAN = "the features were not run"
DRILL_HEADERS = ["Drill", "Decides", "Target", "num:RTO measured / target"]
DRILL_HEADERS += ["num:RPO measured / target", "Result"]


def render_html(document: Doc) -> str:
    """The whole report as one HTML string."""
    summary = document.get("summary", {})
    title = f"DR compliance report — {_verdict_word(summary)}"
    body = "".join(
        [
            '<a class="skip-link" href="#requirements">Skip to the requirements</a>',
            _header(document),
            "<main>",
            _verdict(document),
            _notes(document),
            _summary(document),
            _coverage(document),
            _feature_run(document),
            _drills_overview(document),
            _provenance(document),
            _requirements(document),
            "</main>",
            _footer(document),
        ]
    )
    return page(title, body, SCRIPT)


# --- header and verdict ----------------------------------------------------------------------


def _verdict_word(summary: Doc) -> str:
    if not summary.get("compliant", False):
        return "not compliant"
    return "compliant" if summary.get("result") == "passed" else "compliant, feature run failed"


def _header(document: Doc) -> str:
    prov = document.get("provenance", {})
    links = [
        ("#summary", "Summary"),
        ("#coverage", "Control coverage"),
        ("#feature-run", "Feature run"),
        ("#drills", "Failover drills") if document.get("drills") else None,
        ("#provenance", "Provenance"),
        ("#requirements", "Requirements"),
        (LIVING_DOC, "Living documentation"),
    ]
    nav = "".join(f'<a href="{attr(h)}">{esc(t)}</a>' for h, t in filter(None, links))
    return (
        '<header class="top"><p class="eyebrow">Disaster recovery · compliance evidence</p>'
        "<h1>DR compliance report</h1>"
        f'<p class="meta">Synthesized CDKTF stacks <code>{breakable(prov.get("input"))}</code> '
        f"checked against {esc(prov.get('policy_file_count', '?'))} Rego policy files on "
        f"{esc(prov.get('policy_engine', '?'))}.</p>"
        f'<p class="meta">Generated {esc(prov.get("generated_at", "?"))} · commit '
        f"<code>{esc(str(prov.get('git_commit', '?'))[:12])}</code> · policies sha256 "
        f"<code>{esc(str(prov.get('policy_sha256', '?'))[:12])}</code> · harness "
        f"{esc(prov.get('harness_version', '?'))}</p>"
        f'<nav class="toc" aria-label="Sections">{nav}</nav></header>'
    )


def _verdict(document: Doc) -> str:
    """The answer first: compliant or not, and the reasons in one paragraph."""
    summary = document.get("summary", {})
    scenarios = summary.get("scenarios", {})
    ok = summary.get("compliant", False) and summary.get("result") == "passed"
    reasons = []
    if summary.get("failed"):
        reasons.append(
            f"{summary['failed']} of {summary.get('requirements', 0)} requirements failed "
            f"with {summary.get('findings', 0)} open finding(s)"
        )
    if scenarios.get("failed"):
        reasons.append(f"{scenarios['failed']} scenario(s) failed")
    code_ = summary.get("features_exit_code")
    if code_ not in (None, 0):
        reasons.append(f"the feature run exited {code_}")
    if ok:
        headline = "Compliant"
        text = (
            f"No requirement failed: {summary.get('passed', 0)} passed, "
            f"{summary.get('waived', 0)} waived, {summary.get('not_applicable', 0)} not "
            f"applicable, {summary.get('not_run', 0)} not run."
        )
        if not summary.get("features_ran", False):
            text += " Policies only: the features were not run."
    else:
        headline = "Not compliant" if not summary.get("compliant", False) else "Failed"
        text = "; ".join(reasons).capitalize() + "." if reasons else "The run failed."
    detail = (
        f"{summary.get('requirements', 0)} requirements, {summary.get('resources', 0)} "
        f"resources in the stacks, {summary.get('findings', 0)} open and "
        f"{summary.get('waived_findings', 0)} waived finding(s); scenarios: "
        f"{scenarios.get('passed', 0)} of {scenarios.get('total', 0)} passed."
    )
    status = "passed" if ok else "failed"
    symbol = "✓" if ok else "✗"
    return (
        f'<section class="verdict {status_class(status)}" aria-label="Verdict">'
        f'<div class="symbol" aria-hidden="true">{symbol}</div><div>'
        f"<h2>{esc(headline)}</h2><p>{esc(text)}</p>"
        f'<p class="small muted">{esc(detail)}</p></div></section>'
    )


def _notes(document: Doc) -> str:
    summary = document.get("summary", {})
    notes = list(document.get("sources", {}).get("notes") or [])
    ran = summary.get("features_ran", False)
    if not ran and not any(NOT_RAN in note for note in notes):
        notes.insert(0, NOT_RAN)
    if not notes:
        return ""
    lines = "".join(f"<li>{esc(note)}</li>" for note in notes)
    explain = (
        ""
        if ran
        else "<p>Every scenario below is shown as ○ Not run: the scenarios say what each "
        "requirement means; the policy verdicts stand on their own.</p>"
    )
    return (
        '<aside class="callout warn" aria-label="Notes about this run"><strong>Notes</strong>'
        f"<ul>{lines}</ul>{explain}</aside>"
    )


# --- summary ---------------------------------------------------------------------------------


def _summary(document: Doc) -> str:
    summary = document.get("summary", {})
    tiles = "".join(
        f'<a class="tile {status_class(s)}" href="#requirements">'
        f'<span class="n">{summary.get(s, 0)}</span>'
        f'<span class="l">{esc(status_label(s))}</span></a>'
        for s in REQUIREMENT_STATUSES
    )
    counts = {s: int(summary.get(s, 0) or 0) for s in REQUIREMENT_STATUSES}
    return (
        '<section id="summary" aria-labelledby="summary-h"><h2 id="summary-h">Summary</h2>'
        f"<p>{esc(summary.get('requirements', 0))} requirements, each decided by a Rego policy "
        "over the synthesized stacks or, for the DEP family, by failover drills.</p>"
        f'<div class="tiles">{tiles}</div>'
        f"{_stacked_bar(counts, 'bar')}{_legend(counts)}"
        f"{_attention(document)}"
        "<h3>Requirements at a glance</h3>"
        f"{_index(document)}"
        f"<h3>By control family</h3>{_by_family(summary)}"
        f"<h3>By framework group</h3>{_by_framework(summary)}</section>"
    )


def _stacked_bar(counts: Mapping[str, int], cls: str) -> str:
    """Inline SVG of the status split; the numbers are always printed beside it too."""
    total = sum(counts.values()) or 1
    x, rects = 0.0, []
    for status in ("failed", "waived", "not_run", "passed", "not_applicable"):
        n = counts.get(status, 0)
        if not n:
            continue
        width = 1000 * n / total
        rects.append(
            f'<rect x="{x:.2f}" y="0" width="{width:.2f}" height="10" '
            f'class="f-{status.replace("_", "-")}"><title>{esc(status_label(status))}: {n}'
            "</title></rect>"
        )
        x += width
    label = ", ".join(f"{status_label(s)} {n}" for s, n in counts.items() if n)
    return (
        f'<svg class="{cls}" viewBox="0 0 1000 10" preserveAspectRatio="none" role="img" '
        f'aria-label="{attr(label)}">{"".join(rects)}</svg>'
    )


def _legend(counts: Mapping[str, int]) -> str:
    items = "".join(
        f'<span><span class="sw f-{s.replace("_", "-")}"></span>{esc(status_label(s))} {n}</span>'
        for s, n in counts.items()
    )
    return f'<p class="legend">{items}</p>'


def _attention(document: Doc) -> str:
    """What needs acting on, each linked to its evidence."""
    items = []
    for req in document.get("requirements", []):
        if req.get("status") != "failed":
            continue
        findings = [f for f in req.get("findings", []) if not f.get("waived")]
        where = ", ".join(f"{f.get('stack')} / {f.get('address')}" for f in findings[:3]) + (
            f" and {len(findings) - 3} more" if len(findings) > 3 else ""
        )
        reason = f"{len(findings)} open finding(s): {where}" if findings else _drill_reason(req)
        items.append(
            f'<li><a href="#{attr(req["id"])}"><strong>{esc(req["id"])}</strong></a> '
            f'{esc(req.get("title", ""))}<br><span class="small">{breakable(reason)}</span></li>'
        )
    for feature in document.get("features", []):
        for scenario in feature.get("scenarios", []):
            if scenario.get("status") != "failed":
                continue
            rid = scenario.get("requirement")
            link = f'<a href="#{attr(rid)}">{esc(rid)}</a> ' if rid else ""
            items.append(
                f"<li>{link}scenario “{esc(scenario.get('name'))}” failed "
                f'<span class="small muted">({esc(feature.get("uri"))}:'
                f"{esc(scenario.get('line'))})</span></li>"
            )
    if not items:
        return ""
    return (
        f'<div class="callout bad"><strong>Needs attention</strong><ul>{"".join(items)}</ul></div>'
    )


def _drill_reason(req: Doc) -> str:
    failed = [s for s in req.get("scenarios", []) if s.get("status") == "failed"]
    if failed:
        return f"{len(failed)} scenario(s) failed"
    return "a failover drill failed"


def _index(document: Doc) -> str:
    rows = []
    for req in document.get("requirements", []):
        open_ = sum(1 for f in req.get("findings", []) if not f.get("waived"))
        waived = len(req.get("findings", [])) - open_
        findings = f"{open_}" + (f" (+{waived} waived)" if waived else "")
        decided = (
            "failover drills"
            if req.get("decided_by") == "drill"
            else f"<code>{esc(_short_policy(req.get('policy')))}</code>"
        )
        rows.append(
            f'<tr data-filter-item data-status="{attr(req.get("status"))}">'
            f'<td><a href="#{attr(req["id"])}"><code>{esc(req["id"])}</code></a></td>'
            f"<td>{esc(req.get('title', ''))}</td>"
            f'<td><span class="sev sev-{attr(req.get("severity"))}">'
            f"{esc(req.get('severity', ''))}</span></td>"
            f'<td class="small">{decided}</td>'
            f'<td class="num{" zero" if not open_ and not waived else ""}">{esc(findings)}</td>'
            f"<td>{badge(req.get('status'))}</td></tr>"
        )
    return table(
        ["Requirement", "Title", "Severity", "Decided by", "num:Findings", "Status"],
        rows,
        cls="index",
    )


def _short_policy(policy: str | None) -> str:
    return (policy or "").removeprefix("policies/")


def _count_cells(row: Mapping[str, Any]) -> str:
    cells = [f'<td class="num">{esc(row.get("total", 0))}</td>']
    for status in REQUIREMENT_STATUSES:
        n = row.get(status, 0) or 0
        cells.append(f'<td class="num{"" if n else " zero"}">{n}</td>')
    return "".join(cells)


def _row_counts(row: Mapping[str, Any]) -> dict[str, int]:
    return {s: int(row.get(s, 0) or 0) for s in REQUIREMENT_STATUSES}


def _by_family(summary: Doc) -> str:
    rows = []
    for row in summary.get("by_family", []):
        counts = _row_counts(row)
        family = str(row.get("family"))
        rows.append(
            f"<tr><td><code>{esc(family)}</code></td><td>{esc(family_name(family))}</td>"
            f"{_count_cells(row)}<td>{_stacked_bar(counts, 'minibar')}</td>"
            f"<td>{badge(row.get('status') or worst(_present(counts)))}</td></tr>"
        )
    return table(["Family", "Name", *COUNT_HEADERS, "Split", "Status"], rows, cls="counts")


def _present(counts: Mapping[str, int]) -> list[str]:
    return [s for s, n in counts.items() if n]


def _by_framework(summary: Doc) -> str:
    """One table, a heading row per framework, a row per group with its controls."""
    rows = []
    for framework in summary.get("by_framework", []):
        key = str(framework.get("framework"))
        rows.append(
            f'<tr class="group-head"><th colspan="10" scope="colgroup">'
            f"{esc(framework_name(key))}</th></tr>"
        )
        for group in framework.get("groups", []):
            counts = _row_counts(group)
            name = group_name(key, str(group.get("group")))
            controls = " ".join(esc(c) for c in group.get("controls") or [])
            rows.append(
                f"<tr><td><code>{esc(group.get('group'))}</code></td>"
                f'<td>{esc(name)}<div class="small muted">{controls}</div></td>'
                f"{_count_cells(group)}<td>{_stacked_bar(counts, 'minibar')}</td>"
                f"<td>{badge(worst(_present(counts)))}</td></tr>"
            )
    if not rows:
        return '<p class="muted">No control is mapped.</p>'
    return table(
        ["Group", "Name and controls", *COUNT_HEADERS, "Split", "Status"], rows, cls="counts"
    )


# --- control coverage ------------------------------------------------------------------------


def _natural(text: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def _tally(statuses: Iterable[str]) -> str:
    counts: dict[str, int] = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return ", ".join(f"{counts[s]} {status_label(s)}" for s in REQUIREMENT_STATUSES if s in counts)


def _coverage(document: Doc) -> str:
    """Per framework control: which requirements evidence it, and how they stand."""
    frameworks: dict[str, dict[str, list[Doc]]] = {}
    for req in document.get("requirements", []):
        for framework, controls in (req.get("controls") or {}).items():
            for control in controls:
                frameworks.setdefault(framework, {}).setdefault(control, []).append(req)
    order = [f.get("framework") for f in document.get("summary", {}).get("by_framework", [])]
    keys = [k for k in order if k in frameworks] + sorted(set(frameworks) - set(order))
    sections = []
    for framework in keys:
        controls = frameworks[framework]
        rows = []
        for control in sorted(controls, key=_natural):
            reqs = controls[control]
            chips = "".join(
                f'<a class="chip {status_class(r.get("status"))}" href="#{attr(r["id"])}" '
                f'title="{attr(r.get("title", ""))}">'
                f"{esc(status_label(r.get('status')).split(' ')[0])} {esc(r['id'])}</a>"
                for r in reqs
            )
            status = worst(r.get("status", "not_run") for r in reqs)
            rows.append(
                f"<tr><td><code>{esc(control)}</code></td><td>{chips}</td>"
                f"<td>{badge(status)}</td></tr>"
            )
        tally = _tally(
            worst(r.get("status", "not_run") for r in reqs) for reqs in controls.values()
        )
        sections.append(
            f"<details><summary>{esc(framework_name(framework))} — {len(controls)} "
            f"controls: {esc(tally)}</summary>"
            f"{table(['Control', 'Evidenced by', 'Status'], rows)}</details>"
        )
    body = "".join(sections) or '<p class="muted">No requirement names a control.</p>'
    return (
        '<section id="coverage" aria-labelledby="coverage-h"><h2 id="coverage-h">'
        "Control coverage</h2><p>Each control the requirements claim to evidence, the "
        "requirements that do (symbol = their status), and the worst status among them.</p>"
        f"{body}</section>"
    )


# --- feature run -----------------------------------------------------------------------------


def _feature_run(document: Doc) -> str:
    summary = document.get("summary", {})
    scenarios = summary.get("scenarios", {})
    sources = document.get("sources", {})
    ran = summary.get("features_ran", False)
    tiles = "".join(
        f'<div class="tile {status_class(s)}"><span class="n">{scenarios.get(s, 0)}</span>'
        f'<span class="l">{esc(status_label(s))}</span></div>'
        for s in ("passed", "failed", "skipped", "not_run")
    )
    state = (
        "Scenario results from the latest feature run (pytest-bdd, cucumber.json)."
        if ran
        else "The features were not run: the scenarios below are what the requirements mean, "
        "not evidence that they were exercised."
    )
    exit_code = summary.get("features_exit_code")
    source_rows = [
        ("cucumber.json", _path_or_absent(sources.get("cucumber"))),
        ("junit.xml", _path_or_absent(sources.get("junit"))),
        ("drills.json", _path_or_absent(sources.get("drills"))),
        ("Feature run exit code", esc("—" if exit_code is None else exit_code)),
    ]
    return (
        '<section id="feature-run" aria-labelledby="feature-run-h">'
        '<h2 id="feature-run-h">Feature run</h2>'
        f"<p>{esc(state)} {esc(scenarios.get('total', 0))} scenarios in "
        f"{len(document.get('features', []))} feature files.</p>"
        f'<div class="tiles">{tiles}</div>'
        f"{key_values(source_rows)}{_scenario_index(document)}</section>"
    )


def _path_or_absent(path: str | None) -> str:
    return f"<code>{breakable(path)}</code>" if path else '<span class="muted">not read</span>'


def _scenario_index(document: Doc) -> str:
    rows = []
    for feature in document.get("features", []):
        for scenario in feature.get("scenarios", []):
            rid = scenario.get("requirement")
            rows.append(
                f'<tr><td class="small"><code>{breakable(feature.get("uri"))}:'
                f"{esc(scenario.get('line'))}</code></td>"
                f"<td>{esc(scenario.get('name'))}</td>"
                + (
                    f'<td><a href="#{attr(rid)}"><code>{esc(rid)}</code></a></td>'
                    if rid
                    else '<td class="muted">—</td>'
                )
                + f"<td>{badge(scenario.get('status'))}</td></tr>"
            )
    if not rows:
        return '<p class="muted">No feature file was found.</p>'
    return (
        f"<details><summary>Every scenario, by feature file ({len(rows)})</summary>"
        f"{table(['Where', 'Scenario', 'Requirement', 'Result'], rows)}</details>"
    )


# --- drills ----------------------------------------------------------------------------------


def _drills_overview(document: Doc) -> str:
    drills = document.get("drills")
    if not drills:
        return ""
    rows = []
    for drill in drills:
        reqs = "".join(
            f'<a class="chip" href="#{attr(r)}">{esc(r)}</a>' for r in drill.get("requirements", [])
        )
        rows.append(
            f"<tr><td>{esc(drill.get('title'))}</td><td>{reqs}</td>"
            f"<td>{esc(drill.get('target') or '—')}</td>"
            f'<td class="num">{_vs(drill.get("rto_seconds"), drill.get("rto_target_seconds"))}</td>'
            f'<td class="num">{_vs(drill.get("rpo_seconds"), drill.get("rpo_target_seconds"))}</td>'
            f"<td>{badge(drill_status(drill.get('passed')))}</td></tr>"
        )
    return (
        '<section id="drills" aria-labelledby="drills-h"><h2 id="drills-h">Failover drills</h2>'
        "<p>Measured recovery against the organisation's targets; each drill's timeline, "
        "checks, stand-ins and knobs are under the requirement it decides.</p>"
        f"{table(DRILL_HEADERS, rows)}"
        "</section>"
    )


def _vs(measured: float | None, target: float | None) -> str:
    return f"{esc(seconds(measured))} / {esc(seconds(target))}"


def _drill(drill: Doc, index: int) -> str:
    status = drill_status(drill.get("passed"))
    meta = [
        f"target <strong>{esc(drill.get('target') or '—')}</strong>",
        f"started {esc(drill.get('started_at') or '—')}",
        f"took {esc(seconds(drill.get('duration_seconds')))}",
    ]
    if drill.get("scale_factor") not in (None, 1, 1.0):
        meta.append(f"timings scaled by <strong>{esc(drill['scale_factor'])}</strong>")
    unscaled = _unscaled(drill.get("unscaled"))
    measures = [
        _measure("Measured RTO", drill.get("rto_seconds"), drill.get("rto_target_seconds")),
        _measure("Measured RPO", drill.get("rpo_seconds"), drill.get("rpo_target_seconds")),
    ]
    if drill.get("static_budget_seconds") is not None:
        measures.append(
            '<div class="measure"><span class="l">Static failover budget</span>'
            f'<span class="n">{esc(seconds(drill["static_budget_seconds"]))}</span>'
            '<span class="l">detection + DNS + promotion, from the synthesized knobs</span></div>'
        )
    parts = [
        f'<div class="drill" id="drill-{index}"><h4>{esc(drill.get("title"))} {badge(status)}</h4>',
        f'<p class="small muted">{" · ".join(meta)}</p>',
        f'<p class="small">{unscaled}</p>' if unscaled else "",
        f'<div class="measures">{"".join(measures)}</div>',
        timeline_svg(dict(drill)) if drill.get("timeline") else "",
        _checks(drill.get("checks") or []),
        '<div class="grid2">',
        _mapping_table(drill.get("stand_ins"), "Stand-ins", ["In this drill", "Stands in for"]),
        _knobs(drill),
        _mapping_table(drill.get("engines"), "Engines", ["Engine", "Version"]),
        "</div>",
    ]
    notes = drill.get("notes") or []
    if notes:
        parts.append("<h4>Notes</h4><ul>" + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>")
    parts.append("</div>")
    return "".join(parts)


def _unscaled(unscaled: Mapping[str, Any] | None) -> str:
    """The production-scale figures a scaled drill stands for (knobs are in their table)."""
    if not unscaled:
        return ""
    targets = unscaled.get("targets") or {}
    parts = [
        f"{label} {seconds(value)}"
        for label, value in (
            ("RTO target", targets.get("rto_seconds", targets.get("rto"))),
            ("RPO target", targets.get("rpo_seconds", targets.get("rpo"))),
            ("static budget", unscaled.get("static_budget_seconds")),
        )
        if isinstance(value, int | float) and not isinstance(value, bool)
    ]
    if not parts:
        return ""
    return f"<strong>Unscaled (production) figures:</strong> {esc(', '.join(parts))}"


def _measure(label: str, measured: float | None, target: float | None) -> str:
    if measured is None:
        verdict = "○ not measured"
    elif target is None:
        verdict = "no target"
    else:
        verdict = "✓ within target" if measured <= target else "✗ over target"
    return (
        f'<div class="measure"><span class="l">{esc(label)}</span>'
        f'<span class="n">{esc(seconds(measured))}</span>'
        f'<span class="l">target {esc(seconds(target))} · {esc(verdict)}</span></div>'
    )


def _checks(checks: Iterable[Doc]) -> str:
    rows = [
        f"<tr><td>{badge(drill_status(c.get('passed')))}</td><td>{esc(c.get('name'))}</td>"
        f"<td>{esc(c.get('detail') or '')}</td></tr>"
        for c in checks
    ]
    return table(["Result", "Check", "Detail"], rows, caption="Checks") if rows else ""


def _mapping_table(values: Mapping[str, Any] | None, caption: str, headers: list[str]) -> str:
    if not values:
        return ""
    rows = [f"<tr><td>{esc(k)}</td><td>{esc(_plain(v))}</td></tr>" for k, v in values.items()]
    return f"<div>{table(headers, rows, caption=caption)}</div>"


def _knobs(drill: Doc) -> str:
    knobs = drill.get("knobs") or {}
    if not knobs:
        return ""
    unscaled = (drill.get("unscaled") or {}).get("knobs") or {}
    headers = ["Knob", "num:Used"] + (["num:Unscaled"] if unscaled else [])
    rows = [
        f'<tr><td>{esc(k)}</td><td class="num">{esc(_plain(v))}</td>'
        + (f'<td class="num">{esc(_plain(unscaled.get(k, "—")))}</td>' if unscaled else "")
        + "</tr>"
        for k, v in knobs.items()
    ]
    return f"<div>{table(headers, rows, caption='Knobs')}</div>"


def _plain(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value)
    return str(value)


# --- provenance ------------------------------------------------------------------------------


def _provenance(document: Doc) -> str:
    return (
        '<section id="provenance" aria-labelledby="provenance-h">'
        '<h2 id="provenance-h">Provenance</h2>'
        "<p>What was checked, by which harness and policies, and when. The SHA-256 covers "
        "every policy file; cite it with the commit to reproduce this report.</p>"
        f"{provenance_table(document.get('provenance', {}))}</section>"
    )


# --- requirements ----------------------------------------------------------------------------


def _requirements(document: Doc) -> str:
    requirements = document.get("requirements", [])
    counts: dict[str, int] = {}
    for req in requirements:
        counts[req.get("status", "not_run")] = counts.get(req.get("status", "not_run"), 0) + 1
    scenarios = {
        (feature.get("uri"), s.get("line")): s
        for feature in document.get("features", [])
        for s in feature.get("scenarios", [])
    }
    drills = document.get("drills") or []
    articles = "".join(_article(r, scenarios, drills) for r in requirements)
    return (
        '<section id="requirements" aria-labelledby="requirements-h">'
        '<h2 id="requirements-h">Requirements</h2>'
        f"{toolbar(counts, 'requirements', REQUIREMENT_STATUSES)}{articles}</section>"
    )


def _article(req: Doc, scenarios: Mapping[tuple[Any, Any], Doc], drills: list[Doc]) -> str:
    rid = str(req.get("id"))
    status = str(req.get("status", "not_run"))
    family = str(req.get("family") or rid.split("-")[1])
    parts = [
        f'<article id="{attr(rid)}" class="req {status_class(status)}" data-filter-item '
        f'data-counted data-status="{attr(status)}">',
        '<div class="req-head">',
        f'<h3><a class="rid" href="#{attr(rid)}" title="Link to this requirement">{esc(rid)}</a>'
        f"{esc(req.get('title', ''))}</h3>",
        f"{badge(status)}",
        f'<span class="sev sev-{attr(req.get("severity"))}">{esc(req.get("severity"))}</span>',
        f'<span class="small muted">{esc(family)} · {esc(family_name(family))}</span>',
        '<a class="small no-print" href="#summary">↑ summary</a></div>',
        f'<p class="lead">{esc(req.get("description", ""))}</p>' if req.get("description") else "",
        _facts(req, status),
        _findings(req),
        _waivers(req),
        _scenarios(req, scenarios),
    ]
    if req.get("decided_by") == "drill":
        parts.append(_requirement_drills(req, drills))
    parts.append("</article>")
    return "".join(parts)


def _explain(req: Doc, status: str) -> str:
    findings = req.get("findings", [])
    open_ = sum(1 for f in findings if not f.get("waived"))
    if req.get("decided_by") == "drill":
        return {
            "passed": "every drill passed and no scenario failed",
            "failed": "a drill or a scenario failed",
        }.get(status, "no drill result: the failover drills were not run")
    return {
        "failed": f"{open_} open finding(s)",
        "waived": f"every finding ({len(findings)}) is covered by a waiver",
        "not_applicable": "nothing this policy judges exists in the stacks",
        "passed": f"no finding over {req.get('evaluated_count', 0)} evaluated subject(s)",
    }.get(status, "not evaluated")


def _facts(req: Doc, status: str) -> str:
    controls = (
        "".join(
            f"<div>{esc(framework_name(fw))}: {_chips(ids)}</div>"
            for fw, ids in (req.get("controls") or {}).items()
        )
        or '<span class="muted">none named</span>'
    )
    if req.get("decided_by") == "drill":
        decided = (
            "decided by failover drills (deploy phase, not a Rego policy): "
            f"{len(req.get('drills', []))} drill record(s)"
        )
        decided = esc(decided)
    else:
        decided = f"Rego policy <code>{breakable(req.get('policy'))}</code>"
    rows = [
        ("Status", f'{badge(status)} <span class="small">{esc(_explain(req, status))}</span>'),
        ("Controls", controls),
        ("Decided by", decided),
        ("Evaluated", _evaluated(req)),
        ("In plain language", _plain_language(req)),
        ("Remediation", esc(req.get("remediation") or "—")),
    ]
    items = "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in rows)
    return f'<dl class="facts">{items}</dl>'


def _chips(values: Iterable[str]) -> str:
    return "".join(f'<span class="chip">{esc(v)}</span>' for v in values)


def _plain_language(req: Doc) -> str:
    """The scenarios as the living documentation shows them (anchored on the ID there)."""
    if not req.get("scenarios"):
        return '<span class="muted">no scenario</span>'
    href = f"{LIVING_DOC}#{req['id']}"
    return f'<a href="{attr(href)}">{esc(LIVING_DOC)}#{esc(req["id"])}</a>'


def _evaluated(req: Doc) -> str:
    subjects = [str(s) for s in req.get("evaluated") or []]
    count = req.get("evaluated_count", len(subjects))
    noun = "drill record(s)" if req.get("decided_by") == "drill" else "subject(s)"
    if not subjects:
        return f"{esc(count)} {noun}"
    items = "".join(f"<li><code>{breakable(s)}</code></li>" for s in subjects)
    return (
        f"<details><summary>{esc(count)} {noun} evaluated</summary>"
        f'<ul class="columns">{items}</ul></details>'
    )


def _findings(req: Doc) -> str:
    findings = req.get("findings") or []
    if not findings:
        return ""
    shared = req.get("remediation")
    rows = []
    for f in findings:
        waived = bool(f.get("waived"))
        loc = f.get("location") or {}
        where = f"{loc.get('file')}:{loc.get('line')}" if loc.get("file") else "—"
        message = esc(f.get("message"))
        if f.get("remediation") and f.get("remediation") != shared:
            message += (
                f'<div class="small"><strong>Remediation:</strong> {esc(f["remediation"])}</div>'
            )
        waiver = f.get("waiver") or {}
        if waived:
            message += (
                f'<div class="small"><strong>Waived:</strong> {esc(waiver.get("reason"))} '
                f"(owner {esc(waiver.get('owner'))}, expires {esc(waiver.get('expires'))})</div>"
            )
        rows.append(
            f'<tr class="{"row-waived" if waived else "row-open"}">'
            f"<td>{badge('waived' if waived else 'failed', '⚑ Waived' if waived else '✗ Open')}"
            f"</td><td><code>{esc(f.get('stack'))}</code></td>"
            f"<td><code>{breakable(f.get('address'))}</code></td>"
            f"<td>{_construct(f.get('construct_path'))}</td>"
            f'<td>{message}</td><td class="small"><code>{breakable(where)}</code></td></tr>'
        )
    open_ = sum(1 for f in findings if not f.get("waived"))
    return f"<h4>Findings — {open_} open, {len(findings) - open_} waived</h4>" + table(
        ["", "Stack", "Terraform address", "CDKTF construct path", "Finding", "Declared at"],
        rows,
        cls="findings",
    )


def _construct(path: str | None) -> str:
    return f"<code>{breakable(path)}</code>" if path else '<span class="muted">—</span>'


def _waivers(req: Doc) -> str:
    waivers = req.get("waivers") or []
    if not waivers:
        return ""
    rows = [
        f"<tr><td><code>{esc(w.get('stack'))}</code></td>"
        f"<td><code>{breakable(w.get('address'))}</code></td>"
        f"<td>{_construct(w.get('construct_path'))}</td><td>{esc(w.get('reason'))}</td>"
        f'<td>{esc(w.get("owner"))}</td><td class="num">{esc(w.get("expires"))}</td></tr>'
        for w in waivers
    ]
    return "<h4>Waivers</h4>" + table(
        ["Stack", "Terraform address", "CDKTF construct path", "Reason", "Owner", "Expires"],
        rows,
    )


def _scenarios(req: Doc, scenarios: Mapping[tuple[Any, Any], Doc]) -> str:
    refs = req.get("scenarios") or []
    if not refs:
        return (
            '<h4>Scenarios</h4><p class="muted">No scenario in features/ names this '
            "requirement.</p>"
        )
    blocks = []
    for ref in refs:
        full = scenarios.get((ref.get("feature"), ref.get("line"))) or {}
        status = str(ref.get("status") or full.get("status") or "not_run")
        head = (
            f'<span class="scenario-head">{badge(status)}'
            f'<span class="name">{esc(ref.get("name"))}</span>'
            f'<span class="small muted"><code>{breakable(ref.get("feature"))}:'
            f"{esc(ref.get('line'))}</code></span></span>"
        )
        body = scenario_gherkin(full) if full.get("text") else ""
        rows = [r for t in full.get("examples") or [] for r in t.get("rows") or []]
        error = full.get("error")
        if error and not any(r.get("error") for r in rows):
            body += f'<pre class="error">{esc(error)}</pre>'
        opened = " open" if status != "passed" else ""
        blocks.append(
            f'<details class="scenario"{opened}><summary>{head}</summary>{body}</details>'
        )
    return f"<h4>Scenarios ({len(refs)})</h4>{''.join(blocks)}"


def _requirement_drills(req: Doc, drills: list[Doc]) -> str:
    indices = [i for i in req.get("drills") or [] if isinstance(i, int) and 0 <= i < len(drills)]
    if not indices:
        return (
            '<h4>Failover drills</h4><p class="callout">No drill record decides this '
            "requirement yet: the failover drills were not run (or wrote no drills.json), "
            "so it is ○ Not run.</p>"
        )
    return "<h4>Failover drills</h4>" + "".join(_drill(drills[i], i) for i in indices)


def _footer(document: Doc) -> str:
    prov = document.get("provenance", {})
    return (
        f"<footer>dr-compliance-harness {esc(prov.get('harness_version', ''))} · "
        f"schema {esc(document.get('schema_version', ''))} · generated "
        f"{esc(prov.get('generated_at', ''))} · the same content is in compliance.json "
        "(machines) and compliance.sarif (code scanning).</footer>"
    )
