"""Pieces shared by ``compliance.html`` and ``living-documentation.html``.

Both pages are single self-contained files: a strict Content-Security-Policy,
inline CSS, inline SVG, no external asset of any kind. Every value that comes
from the document goes through :func:`esc` (text) or :func:`attr` (attribute
values); status is always shown as a symbol plus a word, never as colour alone.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"

# Symbol + word: readable in greyscale print and by screen readers.
STATUS_LABELS: dict[str, str] = {
    "passed": "✓ Passed",
    "failed": "✗ Failed",
    "waived": "⚑ Waived",
    "not_applicable": "– Not applicable",
    "not_run": "○ Not run",
    "skipped": "↷ Skipped",
}
# Worst first: the status a group of requirements takes (spec: by_family.status).
SEVERITY_ORDER = ("failed", "waived", "not_run", "passed", "not_applicable")
REQUIREMENT_STATUSES = ("passed", "failed", "waived", "not_applicable", "not_run")

FRAMEWORK_NAMES = {
    "nist-800-53": "NIST SP 800-53 Rev. 5",
    "soc2": "SOC 2 (2017 Trust Services Criteria)",
    "iso-27001": "ISO/IEC 27001:2022 Annex A",
}
# Names of the control groups, so an auditor does not need the catalogue at hand.
GROUP_NAMES = {
    "nist-800-53": {
        "AC": "Access Control",
        "AT": "Awareness and Training",
        "AU": "Audit and Accountability",
        "CA": "Assessment, Authorization and Monitoring",
        "CM": "Configuration Management",
        "CP": "Contingency Planning",
        "IA": "Identification and Authentication",
        "IR": "Incident Response",
        "MA": "Maintenance",
        "MP": "Media Protection",
        "PE": "Physical and Environmental Protection",
        "PL": "Planning",
        "PM": "Program Management",
        "PS": "Personnel Security",
        "RA": "Risk Assessment",
        "SA": "System and Services Acquisition",
        "SC": "System and Communications Protection",
        "SI": "System and Information Integrity",
        "SR": "Supply Chain Risk Management",
    },
    "soc2": {
        "CC1": "Control Environment",
        "CC2": "Communication and Information",
        "CC3": "Risk Assessment",
        "CC4": "Monitoring Activities",
        "CC5": "Control Activities",
        "CC6": "Logical and Physical Access Controls",
        "CC7": "System Operations",
        "CC8": "Change Management",
        "CC9": "Risk Mitigation",
        "A1": "Availability",
        "C1": "Confidentiality",
        "PI1": "Processing Integrity",
        "P1": "Privacy",
    },
    "iso-27001": {
        "A.5": "Organizational controls",
        "A.6": "People controls",
        "A.7": "Physical controls",
        "A.8": "Technological controls",
    },
}
FAMILY_NAMES = {
    "AST": "Function code assets",
    "DEP": "Failover drills",
    "ENC": "Encryption",
    "HA": "High availability",
    "IAM": "Access",
    "MON": "Monitoring",
    "REF": "References",
    "RES": "Resilience",
    "RPO": "Recovery point",
    "RTO": "Recovery time",
    "SCH": "Provider schema",
}
REQUIREMENT_TAG = re.compile(r"^DR-[A-Z0-9]+-\d+$")


# --- escaping ------------------------------------------------------------------------------


def esc(value: object) -> str:
    """Text content, escaped as ``html.escape`` does (quotes too, as every page agrees)."""
    text = html.escape("" if value is None else str(value))
    # Defence in depth: the pages must never contain these tokens, even quoted from a
    # message or a feature (the self-containment check greps for them).
    return text.replace("url(", "url&#40;").replace("@import", "&#64;import")


def attr(value: object) -> str:
    """An attribute value (to be written between double quotes)."""
    return html.escape("" if value is None else str(value), quote=True).replace("(", "&#40;")


def breakable(value: object) -> str:
    """Escaped text with ``<wbr>`` hints after separators, for long paths and addresses."""
    return re.sub(r"([/._:])(?=.)", r"\1<wbr>", esc(value))


# --- status --------------------------------------------------------------------------------


def status_label(status: str | None) -> str:
    return STATUS_LABELS.get(status or "not_run", str(status))


def badge(status: str | None, label: str | None = None) -> str:
    """A status pill: symbol and word, coloured by a class."""
    key = status if status in STATUS_LABELS else "not_run"
    text = label or status_label(status)
    return f'<span class="badge s-{key.replace("_", "-")}">{esc(text)}</span>'


def status_class(status: str | None) -> str:
    return "s-" + (status or "not_run").replace("_", "-")


def worst(statuses: Iterable[str]) -> str:
    present = set(statuses)
    return next((s for s in SEVERITY_ORDER if s in present), "not_applicable")


def drill_status(passed: bool | None) -> str:
    if passed is None:
        return "not_run"
    return "passed" if passed else "failed"


def family_name(family: str) -> str:
    return FAMILY_NAMES.get(family, family)


def framework_name(framework: str) -> str:
    return FRAMEWORK_NAMES.get(framework, framework)


def group_name(framework: str, group: str) -> str:
    return GROUP_NAMES.get(framework, {}).get(group, "")


def seconds(value: float | int | None) -> str:
    return "—" if value is None else f"{float(value):.1f} s"


# --- page ----------------------------------------------------------------------------------


def page(title: str, body: str, script: str) -> str:
    """The whole document: strict CSP, inline CSS, ``body``, and the one inline script."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="color-scheme" content="light dark">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n"
        f"<body>\n{body}\n<script>{script}</script>\n</body>\n</html>\n"
    )


def table(
    headers: Iterable[str],
    rows: Iterable[str],
    *,
    cls: str = "",
    caption: str | None = None,
) -> str:
    """A table from already-rendered ``<tr>`` rows; ``num:`` headers are right-aligned."""
    head = "".join(
        f'<th scope="col" class="num">{esc(h[4:])}</th>'
        if h.startswith("num:")
        else f'<th scope="col">{esc(h)}</th>'
        for h in headers
    )
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    klass = f' class="{attr(cls)}"' if cls else ""
    return (
        f'<div class="table-wrap"><table{klass}>{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def key_values(pairs: Iterable[tuple[str, str]], *, cls: str = "kv") -> str:
    """A two-column table of label / already-rendered value."""
    rows = "".join(f'<tr><th scope="row">{esc(k)}</th><td>{v}</td></tr>' for k, v in pairs)
    return f'<div class="table-wrap"><table class="{attr(cls)}"><tbody>{rows}</tbody></table></div>'


_PROVENANCE_KEYS = {
    "git_commit",
    "git_dirty",
    "harness_version",
    "cdktf_version",
    "aws_provider",
    "provider_package",
    "policy_engine",
    "policy_sha256",
    "policy_files",
    "policy_file_count",
    "python_version",
    "input",
    "generated_at",
}


def provenance_table(provenance: Mapping[str, Any]) -> str:
    """What was checked, with what, when: full values (an auditor cites them verbatim)."""

    def value(key: str) -> str:
        raw = provenance.get(key)
        return "—" if raw in (None, "") else f'<code class="exact">{esc(raw)}</code>'

    files = [str(f) for f in provenance.get("policy_files") or []]
    count = provenance.get("policy_file_count", len(files))
    listing = "".join(f"<li><code>{esc(f)}</code></li>" for f in files)
    policy_files = (
        f"<details><summary>{esc(count)} Rego files</summary>"
        f'<ul class="columns">{listing}</ul></details>'
        if files
        else esc(count)
    )
    commit = value("git_commit")
    dirty = provenance.get("git_dirty")
    if dirty is True:
        commit += ' <span class="badge s-waived">⚑ uncommitted changes in the tree</span>'
    elif dirty is False:
        commit += ' <span class="small muted">clean tree</span>'
    rows = [
        ("Git commit", commit),
        ("Harness version", value("harness_version")),
        ("CDKTF version", value("cdktf_version")),
        ("AWS provider", value("aws_provider")),
        ("Provider package", value("provider_package")),
        ("Policy engine", value("policy_engine")),
        ("Policy SHA-256", value("policy_sha256")),
        ("Policy files", policy_files),
        ("Python", value("python_version")),
        ("Input (synthesized stacks)", value("input")),
        ("Generated at", value("generated_at")),
    ]
    # Anything the writer adds later is shown too, rather than silently dropped.
    rows += [(key, value(key)) for key in provenance if key not in _PROVENANCE_KEYS]
    return key_values(rows, cls="kv provenance")


# --- Gherkin -------------------------------------------------------------------------------

_KEYWORD = re.compile(
    r"^(Feature|Rule|Background|Scenario Outline|Scenario Template|Scenario|Example|"
    r"Examples|Scenarios|Given|When|Then|And|But|\*)(:?)(?=\s|$)"
)


def _cells(line: str) -> list[str]:
    """The cells of a Gherkin table row, ``\\|`` unescaped (fallback matching only)."""
    parts = re.split(r"(?<!\\)\|", line.strip())[1:-1]
    return [p.strip().replace("\\|", "|").replace("\\\\", "\\") for p in parts]


def _tags(text: str, link: Callable[[str], str] | None) -> str:
    tags, sep, comment = text.partition(" #")
    out = []
    for token in re.split(r"(\s+)", tags):
        if not token.startswith("@"):
            out.append(esc(token))
        elif link and REQUIREMENT_TAG.match(token[1:]):
            href = attr(link(token[1:]))
            out.append(f'<a class="tag req" href="{href}">{esc(token)}</a>')
        else:
            out.append(f'<span class="tag">{esc(token)}</span>')
    if sep:
        out.append(f'<span class="cm">{esc(sep + comment)}</span>')
    return "".join(out)


def _highlight(raw: str, link: Callable[[str], str] | None) -> str:
    """One Gherkin line with keywords, tags, comments and placeholders marked."""
    stripped = raw.lstrip()
    indent = esc(raw[: len(raw) - len(stripped)])
    if stripped.startswith("#"):
        return f'{indent}<span class="cm">{esc(stripped)}</span>'
    if stripped.startswith("@"):
        return indent + _tags(stripped, link)
    if stripped.startswith("|"):
        return indent + esc(stripped).replace("|", '<span class="pipe">|</span>')
    match = _KEYWORD.match(stripped)
    head = ""
    if match:
        head = f'<b class="kw">{esc(match.group(0))}</b>'
        stripped = stripped[match.end() :]
    rest = re.sub(
        r"&quot;.*?&quot;", lambda m: f'<span class="str">{m.group(0)}</span>', esc(stripped)
    )
    rest = re.sub(r"&lt;[^&\s]+?&gt;", lambda m: f'<span class="ph">{m.group(0)}</span>', rest)
    return indent + head + rest


def scenario_first_line(scenario: Mapping[str, Any]) -> int | None:
    """File line of the first line of the scenario's text (its tags come before it)."""
    lines = str(scenario.get("text") or "").splitlines()
    keyword = str(scenario.get("keyword") or "")
    line = scenario.get("line")
    if not isinstance(line, int):
        return None
    for index, text in enumerate(lines):
        stripped = text.lstrip()
        if keyword and stripped.startswith(keyword + ":"):
            return line - index
    return None


def _row_results(scenario: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [row for table in scenario.get("examples") or [] for row in table.get("rows") or []]


def gherkin(
    text: str,
    *,
    first_line: int | None = None,
    rows: Iterable[Mapping[str, Any]] = (),
    link: Callable[[str], str] | None = None,
) -> str:
    """Gherkin exactly as written, in a ``<pre>``, with line numbers when known.

    Examples rows that have their own result carry ``gl row-<status>`` and a
    symbol; a failed row is followed by its error, right where the auditor looks.
    """
    by_line = {r.get("line"): r for r in rows if isinstance(r.get("line"), int)}
    by_values = {tuple(r.get("values") or ()): r for r in rows}
    out = []
    for index, raw in enumerate(text.splitlines()):
        number = None if first_line is None else first_line + index
        row = None
        if raw.lstrip().startswith("|"):
            row = by_line.get(number) if number is not None else None
            if row is None and first_line is None:
                row = by_values.get(tuple(_cells(raw)))
        gutter = f'<span class="ln" aria-hidden="true">{number}</span>' if number else ""
        body = _highlight(raw, link)
        if row is None:
            out.append(f'<span class="gl">{gutter}{body}</span>')
            continue
        status = str(row.get("status") or "not_run")
        # A row that did not run says nothing new: its scenario's badge already does.
        label = "" if status == "not_run" else esc(status_label(status))
        mark = f' <span class="rowmark">{label}</span>' if label else ""
        # The error sits inside the row's span: a block after it would add a blank line.
        error = f'<span class="gl-error">{esc(row["error"])}</span>' if row.get("error") else ""
        out.append(f'<span class="gl row-{attr(status)}">{gutter}{body}{mark}{error}</span>')
    return f'<pre class="gherkin">{chr(10).join(out)}</pre>'


def scenario_gherkin(scenario: Mapping[str, Any], link: Callable[[str], str] | None = None) -> str:
    return gherkin(
        str(scenario.get("text") or ""),
        first_line=scenario_first_line(scenario),
        rows=_row_results(scenario),
        link=link,
    )


# --- CSS -----------------------------------------------------------------------------------

CSS = """
:root{
  --fg:#1b2230;--muted:#5a6372;--bg:#fff;--panel:#f6f7f9;--line:#dde1e8;--accent:#1d4ed8;
  --pass:#0b6b3a;--pass-bg:#e6f4ec;--fail:#b42318;--fail-bg:#fdeceb;
  --waive:#8a4b00;--waive-bg:#fff3dc;--na:#4b5563;--na-bg:#eef0f3;
  --nr:#3730a3;--nr-bg:#eceefd;--skip:#57534e;--skip-bg:#f1efed;
  --mono:ui-monospace,"SFMono-Regular","Cascadia Mono","DejaVu Sans Mono",Menlo,Consolas,monospace;
}
@media (prefers-color-scheme:dark){:root{
  --fg:#e6e9ef;--muted:#a3abb8;--bg:#12151b;--panel:#1b1f27;--line:#2f3542;--accent:#8ab4ff;
  --pass:#6fdc9c;--pass-bg:#12301f;--fail:#ff8a80;--fail-bg:#3a1513;
  --waive:#ffc46b;--waive-bg:#352408;--na:#b6bdc8;--na-bg:#262a33;
  --nr:#b4b8ff;--nr-bg:#22244a;--skip:#d6d3d1;--skip-bg:#2a2826;
}}
*{box-sizing:border-box}
[hidden]{display:none!important}
html{-webkit-text-size-adjust:100%}
body{margin:0 auto;max-width:1200px;padding:1.5rem 2rem 4rem;color:var(--fg);background:var(--bg);
  font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Helvetica Neue",Arial,
  sans-serif;font-variant-numeric:tabular-nums}
h1,h2,h3,h4{line-height:1.25;margin:1.6em 0 .5em}
h1{font-size:1.75rem;margin-top:.2em}
h2{font-size:1.3rem;border-bottom:2px solid var(--line);padding-bottom:.3em}
h3{font-size:1.08rem}
h4{font-size:.95rem;margin:1.2em 0 .4em;color:var(--muted);text-transform:uppercase;
  letter-spacing:.04em}
p{margin:.4em 0 .8em}
a{color:var(--accent)}
code,pre,kbd{font-family:var(--mono);font-size:.86em}
code{overflow-wrap:break-word}
code.exact{word-break:break-all}
.muted{color:var(--muted)}
.small{font-size:.88em}
.skip-link{position:absolute;left:-999px}
.skip-link:focus{left:1rem;top:1rem;background:var(--bg);padding:.3rem .6rem;z-index:9}
header.top{border-bottom:1px solid var(--line);padding-bottom:1rem;margin-bottom:1rem}
.eyebrow{font-size:.8rem;letter-spacing:.08em;text-transform:uppercase;color:var(--muted);
  margin:0}
.meta{color:var(--muted);font-size:.9em;margin:.2em 0}
nav.toc{display:flex;flex-wrap:wrap;gap:.3rem 1.2rem;font-size:.92em;margin:.6rem 0 0}
nav.toc a{text-decoration:none}
nav.toc a:hover{text-decoration:underline}
.verdict{display:flex;gap:1rem;align-items:flex-start;border-radius:10px;padding:1rem 1.2rem;
  margin:1rem 0;border:1px solid var(--line);border-left-width:8px}
.verdict .symbol{font-size:2rem;line-height:1;font-weight:700}
.verdict h2{border:0;margin:0 0 .2em;padding:0;font-size:1.35rem}
.verdict p{margin:.1em 0}
.verdict.s-passed{border-left-color:var(--pass);background:var(--pass-bg)}
.verdict.s-passed .symbol{color:var(--pass)}
.verdict.s-failed{border-left-color:var(--fail);background:var(--fail-bg)}
.verdict.s-failed .symbol{color:var(--fail)}
.callout{border:1px solid var(--line);border-left:5px solid var(--nr);background:var(--nr-bg);
  border-radius:8px;padding:.6rem 1rem;margin:.8rem 0}
.callout.bad{border-left-color:var(--fail);background:var(--fail-bg)}
.callout.warn{border-left-color:var(--waive);background:var(--waive-bg)}
.callout ul{margin:.2em 0;padding-left:1.2em}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:.7rem;
  margin:.8rem 0}
.tile{border:1px solid var(--line);border-top:5px solid var(--na);border-radius:8px;
  padding:.6rem .8rem;background:var(--bg)}
a.tile{text-decoration:none;color:inherit}
.tile .n{font-size:1.9rem;font-weight:700;line-height:1.1;display:block}
.tile .l{font-size:.9em;color:var(--muted)}
.tile.s-passed{border-top-color:var(--pass)}.tile.s-passed .n{color:var(--pass)}
.tile.s-failed{border-top-color:var(--fail)}.tile.s-failed .n{color:var(--fail)}
.tile.s-waived{border-top-color:var(--waive)}.tile.s-waived .n{color:var(--waive)}
.tile.s-not-applicable{border-top-color:var(--na)}
.tile.s-not-run{border-top-color:var(--nr)}.tile.s-not-run .n{color:var(--nr)}
.tile.plain{border-top-color:var(--line)}
svg.bar{display:block;width:100%;height:26px;margin:.3rem 0 .2rem}
svg.minibar{display:block;width:120px;height:10px}
.legend{display:flex;flex-wrap:wrap;gap:.3rem 1rem;font-size:.85em;color:var(--muted);margin:0}
.sw{display:inline-block;width:.8em;height:.8em;border-radius:2px;margin-right:.3em;
  vertical-align:-.05em}
.f-passed{fill:var(--pass)}.f-failed{fill:var(--fail)}.f-waived{fill:var(--waive)}
.f-not-applicable{fill:var(--na)}.f-not-run{fill:var(--nr)}
.sw.f-passed{background:var(--pass)}.sw.f-failed{background:var(--fail)}
.sw.f-waived{background:var(--waive)}.sw.f-not-applicable{background:var(--na)}
.sw.f-not-run{background:var(--nr)}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:0 2rem}
.table-wrap{overflow-x:auto;margin:.4rem 0 1rem}
table{border-collapse:collapse;width:100%;font-size:.92em}
caption{text-align:left;font-weight:600;padding:.2em 0 .4em}
th,td{border-bottom:1px solid var(--line);padding:.38rem .55rem;text-align:left;
  vertical-align:top}
thead th{background:var(--panel);font-size:.85em;text-transform:uppercase;letter-spacing:.03em;
  color:var(--muted);border-bottom:2px solid var(--line);white-space:nowrap}
td.num,th.num{text-align:right;white-space:nowrap}
td.zero{color:var(--muted)}
tr.group-head th{background:var(--bg);font-size:.95em;padding-top:1rem;
  border-bottom:2px solid var(--line)}
table.findings td:nth-child(2),table.index td:first-child,table.index td:nth-child(4){
  white-space:nowrap}
table.kv th{width:14rem;font-weight:600;background:var(--panel)}
tr.row-waived td{background:var(--waive-bg)}
.badge{display:inline-block;white-space:nowrap;border-radius:999px;padding:.05em .6em;
  font-size:.82em;font-weight:650;border:1px solid;line-height:1.5}
.badge.s-passed{color:var(--pass);background:var(--pass-bg)}
.badge.s-failed{color:var(--fail);background:var(--fail-bg)}
.badge.s-waived{color:var(--waive);background:var(--waive-bg)}
.badge.s-not-applicable{color:var(--na);background:var(--na-bg)}
.badge.s-not-run{color:var(--nr);background:var(--nr-bg)}
.badge.s-skipped{color:var(--skip);background:var(--skip-bg)}
.chip{display:inline-block;border:1px solid var(--line);border-radius:4px;padding:0 .35em;
  margin:.1em .15em .1em 0;font-family:var(--mono);font-size:.8em;background:var(--panel);
  white-space:nowrap;text-decoration:none;color:inherit}
a.chip:hover{border-color:var(--accent)}
.chip.s-failed{color:var(--fail);border-color:var(--fail);background:var(--fail-bg)}
.chip.s-waived{color:var(--waive);border-color:var(--waive);background:var(--waive-bg)}
.chip.s-not-run{color:var(--nr);background:var(--nr-bg)}
.sev{font-size:.78em;text-transform:uppercase;letter-spacing:.05em;font-weight:700;
  color:var(--muted)}
.sev-critical,.sev-high{color:var(--fail)}
.sev-medium{color:var(--waive)}
article.req{border:1px solid var(--line);border-left:6px solid var(--na);border-radius:8px;
  padding:.2rem 1.2rem 1rem;margin:1.2rem 0;scroll-margin-top:3.5rem;background:var(--bg)}
article.req.s-passed{border-left-color:var(--pass)}
article.req.s-failed{border-left-color:var(--fail)}
article.req.s-waived{border-left-color:var(--waive)}
article.req.s-not-run{border-left-color:var(--nr)}
article.req:target{box-shadow:0 0 0 3px var(--accent)}
.req-head{display:flex;flex-wrap:wrap;align-items:baseline;gap:.3rem .8rem;margin:.9rem 0 .3rem}
.req-head h3{margin:0;flex:1 1 30rem}
.req-head .rid{font-family:var(--mono);font-size:.95em;margin-right:.5em;color:inherit;
  text-decoration:none}
.req-head .rid:hover{text-decoration:underline}
.lead{margin:.2em 0 .6em}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:.6rem 0;
  font-size:.93em}
.facts dt{color:var(--muted);font-weight:600}
.facts dd{margin:0}
details{margin:.4rem 0}
td details{margin:0}
details>summary{cursor:pointer;font-weight:600}
details>summary:hover{color:var(--accent)}
ul.columns{columns:3 18rem;column-gap:2rem;padding-left:1.2em;font-size:.88em;margin:.4em 0}
ul.columns li{break-inside:avoid}
.scenario{border-top:1px dashed var(--line);padding-top:.6rem;margin-top:.6rem}
.scenario-head{display:inline-flex;flex-wrap:wrap;gap:.3rem .7rem;align-items:baseline}
.scenario-head .name{font-weight:600}
pre{margin:.4rem 0 .8rem}
pre.gherkin{background:var(--panel);border:1px solid var(--line);border-radius:6px;
  padding:.5rem 0;overflow-x:auto;line-height:1.5;tab-size:2}
.gl{display:inline-block;min-width:100%;padding:0 .9rem 0 .4rem}
.gl .ln{display:inline-block;width:3.2ch;margin-right:1.2ch;text-align:right;color:var(--muted);
  opacity:.7;user-select:none;-webkit-user-select:none}
.gl.row-passed{background:var(--pass-bg)}
.gl.row-failed{background:var(--fail-bg);box-shadow:inset 3px 0 var(--fail)}
.gl.row-skipped{background:var(--skip-bg)}
.gl .rowmark{font-family:system-ui,sans-serif;font-size:.85em;font-weight:650;margin-left:.6em}
.gl.row-passed .rowmark{color:var(--pass)}
.gl.row-failed .rowmark{color:var(--fail)}
.gl.row-not_run .rowmark{color:var(--nr)}
.gl-error{display:block;white-space:pre-wrap;color:var(--fail);background:var(--bg);
  border:1px solid var(--fail);margin:.2rem 0 .3rem 4.4ch;padding:.3rem .6rem;border-radius:4px;
  font-size:.92em}
pre.error{white-space:pre-wrap;color:var(--fail);background:var(--fail-bg);border-radius:6px;
  padding:.5rem .8rem}
.kw{color:var(--accent);font-weight:700}
.tag{color:var(--waive)}
a.tag{text-decoration:underline;text-decoration-thickness:1px}
.cm{color:var(--muted);font-style:italic}
.str{color:var(--pass)}
.ph{color:var(--nr);font-weight:600}
.pipe{color:var(--muted)}
.drill{border:1px solid var(--line);border-radius:8px;padding:.4rem 1rem .8rem;margin:.8rem 0;
  background:var(--panel)}
.drill h4{color:var(--fg);text-transform:none;letter-spacing:0;font-size:1rem}
.measures{display:grid;grid-template-columns:repeat(auto-fit,minmax(190px,1fr));gap:.6rem;
  margin:.6rem 0}
.measure{background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:.5rem .7rem}
.measure .n{font-size:1.35rem;font-weight:700;display:block}
.measure .l{font-size:.85em;color:var(--muted)}
svg.timeline{display:block;width:100%;max-width:960px;height:auto;background:#fff;
  border:1px solid var(--line);border-radius:6px;margin:.5rem 0}
.toolbar{position:sticky;top:0;z-index:5;display:flex;flex-wrap:wrap;gap:.4rem;
  align-items:center;background:var(--bg);border-bottom:1px solid var(--line);padding:.5rem 0;
  margin:1rem 0}
.toolbar button{font:inherit;font-size:.88em;border:1px solid var(--line);background:var(--panel);
  color:var(--fg);border-radius:999px;padding:.15rem .75rem;cursor:pointer}
.toolbar button[aria-pressed="true"]{background:var(--fg);color:var(--bg);border-color:var(--fg)}
.toolbar input{font:inherit;font-size:.88em;padding:.2rem .5rem;border:1px solid var(--line);
  border-radius:6px;min-width:16rem;background:var(--bg);color:var(--fg)}
.toolbar .count{color:var(--muted);font-size:.88em;margin-left:auto}
.feature{margin:1.5rem 0 2.5rem}
.feature>header{border-bottom:2px solid var(--line);margin-bottom:.6rem}
.feature>header h2{border:0;margin-bottom:.1em}
footer{margin-top:3rem;color:var(--muted);font-size:.85em;border-top:1px solid var(--line);
  padding-top:.8rem}
@page{margin:14mm 12mm}
@media print{
  *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
  body{max-width:none;padding:0;font-size:10pt}
  .toolbar,.skip-link,nav.toc,.no-print{display:none!important}
  a{color:inherit;text-decoration:none}
  h2,h3,h4,summary,.req-head{break-after:avoid}
  tr,.gl,.tile,.measure,.verdict{break-inside:avoid}
  pre.gherkin,pre{white-space:pre-wrap;overflow:visible}
  .table-wrap{overflow:visible}
  article.req{box-shadow:none!important}
  details::details-content{content-visibility:visible}
}
@media (max-width:700px){body{padding:1rem}.grid2{grid-template-columns:1fr}
  table.kv th{width:auto}}
"""


# --- the one script ------------------------------------------------------------------------


def toolbar(counts: Mapping[str, int], noun: str, statuses: Iterable[str]) -> str:
    """Filter buttons, a text filter and expand/collapse; hidden until the script shows it.

    Without JavaScript the page stays complete: nothing is ever hidden but the toolbar.
    """
    total = sum(counts.values())
    buttons = [f'<button type="button" data-show="all" aria-pressed="true">All ({total})</button>']
    buttons += [
        f'<button type="button" data-show="{attr(s)}" aria-pressed="false">'
        f"{esc(status_label(s))} ({counts.get(s, 0)})</button>"
        for s in statuses
        if counts.get(s, 0)
    ]
    return (
        f'<div class="toolbar" id="toolbar" hidden data-noun="{attr(noun)}" role="toolbar" '
        f'aria-label="Filter {attr(noun)}">{"".join(buttons)}'
        f'<input type="search" placeholder="Filter by ID, resource, path, text…" '
        f'aria-label="Filter {attr(noun)} by text">'
        '<button type="button" data-details="open">Expand all</button>'
        '<button type="button" data-details="close">Collapse all</button>'
        '<span class="count" aria-live="polite"></span></div>'
    )


# Progressive enhancement only: status/text filter, expand/collapse, open everything to print.
SCRIPT = """
(function () {
  "use strict";
  var bar = document.getElementById("toolbar");
  if (!bar) { return; }
  var noun = bar.getAttribute("data-noun") || "items";
  var items = Array.prototype.slice.call(document.querySelectorAll("[data-filter-item]"));
  var counted = items.filter(function (el) { return el.hasAttribute("data-counted"); });
  var buttons = Array.prototype.slice.call(bar.querySelectorAll("button[data-show]"));
  var search = bar.querySelector("input[type=search]");
  var count = bar.querySelector(".count");
  var texts = items.map(function (el) { return el.textContent.toLowerCase(); });
  var state = { status: "all", text: "" };

  function apply() {
    var shown = 0;
    items.forEach(function (el, i) {
      var ok = (state.status === "all" || el.getAttribute("data-status") === state.status) &&
        (state.text === "" || texts[i].indexOf(state.text) !== -1);
      el.hidden = !ok;
      if (ok && el.hasAttribute("data-counted")) { shown += 1; }
    });
    buttons.forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-show") === state.status));
    });
    count.textContent = shown + " of " + counted.length + " " + noun + " shown";
  }

  function details(open) {
    Array.prototype.forEach.call(document.querySelectorAll("main details"), function (d) {
      d.open = open;
    });
  }

  buttons.forEach(function (b) {
    b.addEventListener("click", function () {
      state.status = b.getAttribute("data-show");
      apply();
    });
  });
  search.addEventListener("input", function () {
    state.text = search.value.trim().toLowerCase();
    apply();
  });
  bar.querySelector("[data-details=open]").addEventListener("click", function () {
    details(true);
  });
  bar.querySelector("[data-details=close]").addEventListener("click", function () {
    details(false);
  });

  // A link to a hidden item clears the filter so the target is on screen.
  function reveal() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    var target = id && document.getElementById(id);
    if (target && target.closest("[hidden]")) {
      state = { status: "all", text: "" };
      search.value = "";
      apply();
      target.scrollIntoView();
    }
  }
  window.addEventListener("hashchange", reveal);

  // Print everything, as an auditor files it; restore the screen state afterwards.
  var closed = [];
  window.addEventListener("beforeprint", function () {
    closed = Array.prototype.filter.call(document.querySelectorAll("details"), function (d) {
      return !d.open;
    });
    closed.forEach(function (d) { d.open = true; });
  });
  window.addEventListener("afterprint", function () {
    closed.forEach(function (d) { d.open = false; });
    closed = [];
  });

  bar.hidden = false;
  apply();
  reveal();
})();
"""
