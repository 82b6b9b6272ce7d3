"""Progress of long work: rich on a terminal, plain lines elsewhere; the main job's timings."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from report_samples import write_cucumber, write_drills

from compliance import cli
from compliance.features_progress import TIMINGS_ENV
from compliance.features_run import _show
from compliance.progress import Step, Tally, is_terminal
from compliance.reports import writer
from compliance.reports.feature_files import load_features
from compliance.synth import REPO_ROOT, SynthResult


class Lines(io.StringIO):
    """A stream that tells a waiting test when a line holding ``wanted`` arrives."""

    def __init__(self, wanted: str) -> None:
        super().__init__()
        self.wanted, self.seen = wanted, threading.Event()

    def write(self, text: str) -> int:
        if self.wanted in text:
            self.seen.set()
        return super().write(text)

    def isatty(self) -> bool:
        return False


def test_a_step_in_plain_mode_prints_what_it_does_and_how_it_ended() -> None:
    out = Lines("never")
    with Step("synth", out, doing="hashing") as step:
        step.update("running the app (python3 main.py)")
        step.done("done in 4.2 s")
    assert out.getvalue().splitlines() == [
        "synth: running the app (python3 main.py)",
        "synth: done in 4.2 s",
    ]  # "hashing" is the spinner's text only: no line for a step that took no time


def test_a_silent_step_in_plain_mode_says_it_is_still_running() -> None:
    out = Lines("still")
    with Step("synth", out, heartbeat=0.0, tick=0.01) as step:
        step.update("running the app")
        assert out.seen.wait(30), out.getvalue()
    assert "synth: still running the app (" in out.getvalue()


def test_a_step_on_a_terminal_draws_a_spinner_and_ends_with_a_line() -> None:
    out = io.StringIO()
    with Step("synth", out, doing="hashing", live=True, tick=0.01) as step:
        step.update("running the app")
        step.done("done in 1.0 s")
    text = out.getvalue()
    assert "\x1b[" in text, "rich drew with escape codes"
    assert text.rstrip().endswith("synth: done in 1.0 s")


def test_a_tally_in_plain_mode_prints_one_line_per_group_and_each_failure() -> None:
    out = Lines("never")
    with Tally("features", 3, out) as tally:
        tally.advance("access.feature")
        tally.advance("access.feature")
        tally.group_done("access.feature: passed")
        tally.note("FAILED test_x: assert 1 == 2")
        tally.advance("assets.feature")
        tally.group_done("assets.feature: failed 1")
    assert out.getvalue().splitlines() == [
        "features: [2/3] access.feature: passed",
        "FAILED test_x: assert 1 == 2",
        "features: [3/3] assets.feature: failed 1",
    ]


def test_a_tally_on_a_terminal_draws_a_bar_and_notes_failures_above_it() -> None:
    out = io.StringIO()
    with Tally("features", 2, out, live=True) as tally:
        tally.advance("access.feature")
        tally.group_done("access.feature: passed")  # the bar says it: no plain line
        tally.note("FAILED test_x")
        tally.advance("assets.feature")
    text = out.getvalue()
    assert "FAILED test_x" in text and "\x1b[" in text
    assert "[1/2]" not in text


def test_only_a_terminal_gets_rich() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert is_terminal(Terminal()) and not is_terminal(io.StringIO())
    closed = io.StringIO()
    closed.close()
    assert not is_terminal(closed) and not is_terminal(object())


_SCENARIOS = """\
import pytest

def test_fast():
    pass

@pytest.mark.deploy
def test_drill_one():
    pass

@pytest.mark.deploy
def test_drill_two():
    pass

def test_broken():
    assert 1 == 2, "the broken one"
"""


def test_the_features_plugin_reports_progress_failures_and_the_drills_span(
    tmp_path: Path,
) -> None:
    (tmp_path / "test_sample.py").write_text(_SCENARIOS, encoding="utf-8")
    timings = tmp_path / "timings.json"
    env = {**os.environ, TIMINGS_ENV: str(timings), "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "compliance.features_progress",
         "-p", "no:cacheprovider", "-W", "ignore::pytest.PytestUnknownMarkWarning",
         str(tmp_path / "test_sample.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAILED test_sample.py::test_broken: AssertionError: the broken one" in done.stderr
    assert "features: [4/4] test_sample.py: failed 1" in done.stderr
    measured: dict[str, Any] = json.loads(timings.read_text(encoding="utf-8"))
    assert (measured["count"], measured["drill_count"], measured["failed"]) == (4, 2, 1)
    assert 0 < measured["drills"] <= measured["scenarios"]


def test_the_child_pytest_report_shows_whole_only_when_the_run_failed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = "....F\n=== 1 failed, 4 passed in 1.00s ===\n"
    _show(report, failed=False)
    assert capsys.readouterr().err == "features: 1 failed, 4 passed in 1.00s\n"
    _show(report, failed=True)
    assert capsys.readouterr().err == report


def test_the_main_job_prints_its_split_with_timings(
    monkeypatch: pytest.MonkeyPatch,
    synthesized: SynthResult,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def features(report_dir: Path, *_: Any, timings: dict[str, float], **__: Any) -> int:
        write_cucumber(report_dir / writer.CUCUMBER, load_features(writer.FEATURES_ROOT, REPO_ROOT))
        (report_dir / writer.JUNIT).write_text("<testsuites/>", encoding="utf-8")
        write_drills(report_dir / writer.DRILLS)
        timings.update({"drills": 0.0, "scenarios": 0.0})
        return 0

    monkeypatch.setattr(cli, "synthesize_app", lambda *args, **kwargs: synthesized)
    monkeypatch.setattr(cli, "run_features", features)
    argv = ["run", "--report-dir", str(tmp_path / "r"), "--no-screenshot", "--timings"]
    cli.main(argv)
    err = capsys.readouterr().err
    line = next(line for line in err.splitlines() if line.startswith("timings: "))
    stages = ("synth", "evaluation", "features", "drills", "reports", "total")
    assert [part.split()[0] for part in line.removeprefix("timings: ").split(", ")] == list(stages)
    cli.main(argv[:-1])
    assert "timings: " not in capsys.readouterr().err
