"""``compliance.html`` in a real browser: it renders, with no error and no network request.

Headless Chromium (Debian package ``chromium``) driven by PyPI
``playwright`` through ``executable_path``; ``playwright install`` is never
run. The page checked is the main job's report when ``DR_REPORT_DIR`` names
a folder holding one, else a report written here from a mutated copy of
the stacks (findings, scenario results and a drill timeline all present).
The screenshot goes beside the page. Without a browser the tests skip, and
fail under ``DR_STRICT`` (CI), naming the package to install.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
from report_samples import write_cucumber, write_drills

from compliance import cli
from compliance.mutations import CATALOGUE
from compliance.reports import writer
from compliance.reports.browser import DEBIAN_PACKAGE, check_page, find_chromium
from compliance.reports.feature_files import load_features
from compliance.runner import run_check
from compliance.synth import REPO_ROOT, SynthResult


def _require_browser() -> None:
    problems = []
    if importlib.util.find_spec("playwright") is None:
        problems.append("the PyPI package `playwright` is not installed")
    if find_chromium() is None:
        problems.append(
            f"no Chromium binary: install the Debian package `{DEBIAN_PACKAGE}` "
            f"(apt-get install {DEBIAN_PACKAGE})"
        )
    if problems:
        message = "; ".join(problems)
        if os.environ.get("DR_STRICT"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def report_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The main job's report folder when given, else a full sample report."""
    given = os.environ.get("DR_REPORT_DIR")
    if given and (Path(given) / writer.HTML).is_file():
        return Path(given)
    synth_dir: Path = request.getfixturevalue("synth_dir")
    base = tmp_path_factory.mktemp("browser")
    mutant = next(iter(sorted(CATALOGUE.values(), key=lambda m: m.name)))
    mutant.build(synth_dir, base / "cdktf.out")
    reports = base / "reports"
    features = load_features(writer.FEATURES_ROOT, REPO_ROOT)
    writer.write_reports(
        run_check(base / "cdktf.out"),
        reports,
        cucumber=write_cucumber(reports / writer.CUCUMBER, features),
        drills=write_drills(reports / writer.DRILLS),
    )
    return reports


@pytest.mark.parametrize("name", [writer.HTML, writer.LIVING_DOC])
def test_the_report_renders_without_errors_or_network(report_dir: Path, name: str) -> None:
    _require_browser()
    html = report_dir / name
    screenshot = report_dir / (Path(name).stem + ".png")
    check = check_page(html, screenshot)
    assert check.console_errors == [] and check.page_errors == []
    assert check.network_requests == [], check.network_requests
    assert check.requests and check.requests[0] == html.resolve().as_uri()
    assert "DR" in check.title
    assert screenshot.is_file() and screenshot.stat().st_size > 20_000
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = html.read_text(encoding="utf-8")
    assert 'id="scope"' in text, "both pages open with what was and was not checked"
    if name == writer.HTML:
        assert '<svg class="budget"' in text, "DR-RTO-01's budget is drawn"


def test_the_check_catches_a_page_that_fetches_or_fails(tmp_path: Path) -> None:
    """The same check on a page that loads an image and throws must report both."""
    _require_browser()
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title>bad</title></head><body>"
        '<img src="http://127.0.0.1:9/pixel.png">'
        "<script>undefined_function();</script></body></html>"
    )
    check = check_page(page)
    assert check.network_requests == ["http://127.0.0.1:9/pixel.png"]
    assert check.page_errors and "undefined_function" in check.page_errors[0]
    assert len(check.problems) >= 2


def test_the_main_job_saves_a_screenshot_beside_the_report(
    monkeypatch: pytest.MonkeyPatch, synthesized: SynthResult, tmp_path: Path
) -> None:
    _require_browser()
    monkeypatch.setattr(cli, "synthesize_app", lambda *args, **kwargs: synthesized)
    report_dir = tmp_path / "reports"
    cli.main(["run", "--report-dir", str(report_dir), "--no-features"])
    assert (report_dir / writer.SCREENSHOT).is_file()
