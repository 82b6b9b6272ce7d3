"""``living-documentation.html``: the features as written, each with its current status.

The features in file order, their header text and every scenario exactly as
written, with the scenario's own result from the latest feature run and the
status of the requirement it stands for. Every requirement tag links to that
requirement's evidence in ``compliance.html``; the first scenario of each
requirement carries the requirement's ID as its anchor, so
``living-documentation.html#DR-ENC-01`` lands on the plain-language text.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from compliance.reports.html_parts import (
    SCRIPT,
    attr,
    badge,
    breakable,
    drill_status,
    esc,
    gherkin,
    page,
    provenance_table,
    scenario_gherkin,
    seconds,
    status_class,
    status_label,
    toolbar,
)

Doc = Mapping[str, Any]
REPORT = "compliance.html"  # sibling written by writer.write_reports
SCENARIO_STATUSES = ("passed", "failed", "skipped", "not_run")
RAN = "scenario results from the latest feature run"
NOT_RAN = "the features were not run"


def evidence_link(requirement: str) -> str:
    return f"{REPORT}#{requirement}"


def render_living_doc(document: Doc) -> str:
    """The living documentation as one self-contained HTML string."""
    features = document.get("features", [])
    requirements = {r.get("id"): r for r in document.get("requirements", [])}
    anchored: set[str] = set()
    sections = "".join(
        _feature(feature, index, requirements, document, anchored)
        for index, feature in enumerate(features, 1)
    )
    if not features:
        sections = '<p class="callout warn">No feature file was found.</p>'
    counts: dict[str, int] = {}
    for feature in features:
        for scenario in feature.get("scenarios", []):
            status = scenario.get("status", "not_run")
            counts[status] = counts.get(status, 0) + 1
    body = "".join(
        [
            '<a class="skip-link" href="#features">Skip to the features</a>',
            _header(document),
            "<main>",
            _state(document),
            _contents(features),
            '<section id="features" aria-label="Features">',
            toolbar(counts, "scenarios", SCENARIO_STATUSES),
            sections,
            "</section>",
            '<section id="provenance" aria-labelledby="provenance-h">'
            '<h2 id="provenance-h">Provenance</h2>',
            provenance_table(document.get("provenance", {})),
            "</section></main>",
            f"<footer>Generated {esc(document.get('provenance', {}).get('generated_at', ''))} "
            f"from the same document as {REPORT} and compliance.json.</footer>",
        ]
    )
    return page("DR living documentation — requirements in plain language", body, SCRIPT)


def write_living_doc(document: Doc, path: Path) -> Path:
    """Write the page (creating its folder); returns the path written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_living_doc(document), encoding="utf-8")
    return path


def _header(document: Doc) -> str:
    prov = document.get("provenance", {})
    return (
        '<header class="top"><p class="eyebrow">Disaster recovery · living documentation</p>'
        "<h1>DR requirements in plain language</h1>"
        "<p>Each requirement as written in <code>features/</code>, with the result of its "
        "scenarios and the status of the requirement. Requirement tags link to the evidence "
        f'in <a href="{REPORT}">{REPORT}</a>: findings, resources, policy and drills.</p>'
        f'<p class="meta">Generated {esc(prov.get("generated_at", "?"))} · commit '
        f"<code>{esc(str(prov.get('git_commit', '?'))[:12])}</code> · policies sha256 "
        f"<code>{esc(str(prov.get('policy_sha256', '?'))[:12])}</code> · "
        f'<a href="#provenance">provenance</a></p></header>'
    )


def _state(document: Doc) -> str:
    """Whether the statuses shown are results, plus the run's notes."""
    summary = document.get("summary", {})
    ran = bool(summary.get("features_ran"))
    scenarios = summary.get("scenarios", {})
    tiles = "".join(
        f'<div class="tile {status_class(s)}"><span class="n">{scenarios.get(s, 0)}</span>'
        f'<span class="l">{esc(status_label(s))}</span></div>'
        for s in SCENARIO_STATUSES
    )
    requirement_counts = ", ".join(
        f"{summary.get(s, 0)} {status_label(s)[2:].lower()}"
        for s in ("passed", "failed", "waived", "not_applicable", "not_run")
    )
    notes = "".join(
        f"<li>{esc(n)}</li>"
        for n in document.get("sources", {}).get("notes") or []
        if n != NOT_RAN  # already the headline
    )
    state = (
        f"<p><strong>{'✓' if ran else '○'} {esc(RAN if ran else NOT_RAN)}</strong>"
        + ("" if ran else ": every scenario is shown as ○ Not run")
        + ".</p>"
    )
    return (
        f'<div class="callout{"" if ran else " warn"}">{state}'
        f'<p class="small">Requirements ({summary.get("requirements", 0)}): '
        f'{esc(requirement_counts)}; see <a href="{REPORT}">{REPORT}</a>.</p>'
        + (f'<ul class="small">{notes}</ul>' if notes else "")
        + f'</div><div class="tiles">{tiles}</div>'
    )


def _contents(features: list[Doc]) -> str:
    items = []
    for index, feature in enumerate(features, 1):
        statuses = [s.get("status", "not_run") for s in feature.get("scenarios", [])]
        overall = _scenario_worst(statuses)
        items.append(
            f'<li><a href="#feature-{index}">{esc(feature.get("name"))}</a> '
            f'<span class="small muted">{esc(feature.get("uri"))} · {len(statuses)} '
            f"scenario(s)</span> {badge(overall)}</li>"
        )
    if not items:
        return ""
    return f'<nav aria-label="Features"><h2>Features</h2><ol>{"".join(items)}</ol></nav>'


def _scenario_worst(statuses: list[str]) -> str:
    for status in ("failed", "skipped", "not_run", "passed"):
        if status in statuses:
            return status
    return "not_run"


def _feature(
    feature: Doc,
    index: int,
    requirements: Mapping[Any, Doc],
    document: Doc,
    anchored: set[str],
) -> str:
    tags = " ".join(f'<span class="chip">@{esc(t)}</span>' for t in feature.get("tags") or [])
    header = gherkin(str(feature.get("header_text") or ""), first_line=1, link=evidence_link)
    scenarios = "".join(
        _scenario(s, feature, requirements, document, anchored)
        for s in feature.get("scenarios", [])
    )
    return (
        f'<section class="feature" id="feature-{index}" aria-labelledby="feature-{index}-h">'
        f'<header><h2 id="feature-{index}-h">{esc(feature.get("name"))}</h2>'
        f'<p class="small muted"><code>{breakable(feature.get("uri"))}</code> {tags}</p>'
        f"</header>{header}{scenarios}</section>"
    )


def _scenario(
    scenario: Doc,
    feature: Doc,
    requirements: Mapping[Any, Doc],
    document: Doc,
    anchored: set[str],
) -> str:
    rid = scenario.get("requirement")
    anchor = ""
    if rid and rid not in anchored:
        anchored.add(rid)
        anchor = f' id="{attr(rid)}"'
    status = str(scenario.get("status") or "not_run")
    error = scenario.get("error")
    rows = [r for t in scenario.get("examples") or [] for r in t.get("rows") or []]
    error_block = (
        f'<pre class="error">{esc(error)}</pre>'
        if error and not any(r.get("error") for r in rows)
        else ""
    )
    return (
        f'<div class="scenario"{anchor} data-filter-item data-counted '
        f'data-status="{attr(status)}">'
        f'<div class="scenario-head">{badge(status)}'
        f'<span class="name">{esc(scenario.get("name"))}</span>'
        f'<span class="small muted"><code>{esc(feature.get("uri"))}:'
        f"{esc(scenario.get('line'))}</code></span></div>"
        f"{_requirement_line(rid, requirements, document, str(scenario.get('name') or ''))}"
        f"{scenario_gherkin(scenario, evidence_link)}{error_block}</div>"
    )


def _requirement_line(
    rid: str | None, requirements: Mapping[Any, Doc], document: Doc, scenario_name: str = ""
) -> str:
    """The requirement behind the scenario: its status and where its evidence is."""
    if not rid:
        return '<p class="small muted">No requirement tag.</p>'
    req = requirements.get(rid)
    link = f'<a href="{attr(evidence_link(rid))}"><code>{esc(rid)}</code></a>'
    if req is None:
        return f'<p class="small">Requirement {link}: not in the catalogue.</p>'
    status = str(req.get("status", "not_run"))
    title = str(req.get("title", ""))
    # The first scenario often repeats the requirement's title word for word.
    title_html = f" {esc(title)}" if title and title != scenario_name else ""
    text = f'<p class="small">Requirement {link}{title_html}: {badge(status)}'
    if req.get("decided_by") == "drill":
        text += f" · <strong>decided by failover drills</strong>{_drill_results(req, document)}"
    else:
        open_ = sum(1 for f in req.get("findings", []) if not f.get("waived"))
        if open_:
            text += f" · {open_} open finding(s)"
        text += f" · policy <code>{breakable(req.get('policy'))}</code>"
    return text + "</p>"


def _drill_results(req: Doc, document: Doc) -> str:
    drills = document.get("drills") or []
    parts = []
    for index in req.get("drills") or []:
        if not isinstance(index, int) or not 0 <= index < len(drills):
            continue
        drill = drills[index]
        parts.append(
            f"{esc(drill.get('title'))}: RTO {esc(seconds(drill.get('rto_seconds')))} "
            f"(target {esc(seconds(drill.get('rto_target_seconds')))}), RPO "
            f"{esc(seconds(drill.get('rpo_seconds')))} "
            f"(target {esc(seconds(drill.get('rpo_target_seconds')))}) "
            f"{badge(drill_status(drill.get('passed')))}"
        )
    if not parts:
        return " · no drill record: the drills were not run"
    return " · " + "; ".join(parts)
