"""The features run's own pytest plugin: progress on stderr, timings for the main job.

Loaded by :func:`compliance.features_run.run_features` (``-p``) into the
pytest child that runs the features. Each finished scenario moves a bar (a
terminal) or, in plain mode (CI), each finished feature prints one line; a
failed scenario is named as it fails. At the end, when
``DR_FEATURES_TIMINGS`` names a file, the plugin writes there how long the
scenarios took and, apart, the span of the ``deploy`` ones (the failover
drills), so the main job can print its split from measurements.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import IO, Any

import pytest

from compliance.progress import Tally

TIMINGS_ENV = "DR_FEATURES_TIMINGS"
DEPLOY_MARK = "deploy"


def _group(item: pytest.Item) -> str:
    """The feature a scenario belongs to (pytest-bdd's docstring is "Feature: Scenario")."""
    doc = getattr(getattr(item, "function", None), "__doc__", None) or ""
    feature, separator, _ = doc.partition(": ")
    return Path(feature).name if separator else item.path.name  # a feature's name or file


def _reason(report: pytest.TestReport) -> str:
    """The first line of what failed (the exception), else the report's last line."""
    crash = getattr(report.longrepr, "reprcrash", None)
    message = str(getattr(crash, "message", "") or "").strip()
    if message:
        return message.splitlines()[0]
    lines = report.longreprtext.strip().splitlines()
    return lines[-1] if lines else f"failed in {report.when}"


class FeatureProgress:
    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.collected_at: float | None = None
        self.tally: Tally | None = None
        self.groups: dict[str, str] = {}  # nodeid -> feature
        self.left: Counter[str] = Counter()  # feature -> scenarios not finished
        self.failed_in: Counter[str] = Counter()
        self.deploy: set[str] = set()
        self.spans: dict[str, list[float]] = {}  # nodeid -> [start, end]
        self.failed: set[str] = set()

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.collected_at = time.monotonic()
        for item in session.items:
            group = _group(item)
            self.groups[item.nodeid] = group
            self.left[group] += 1
            if item.get_closest_marker(DEPLOY_MARK) is not None:
                self.deploy.add(item.nodeid)
        self.tally = Tally("features", len(session.items), self.stream).__enter__()

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self.spans[nodeid] = [time.monotonic(), time.monotonic()]

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed and report.nodeid not in self.failed:
            self.failed.add(report.nodeid)
            group = self.groups.get(report.nodeid, "")
            self.failed_in[group] += 1
            if self.tally is not None:
                self.tally.note(f"FAILED {report.nodeid}: {_reason(report)[:200]}")
        if report.when != "teardown":
            return
        if report.nodeid in self.spans:
            self.spans[report.nodeid][1] = time.monotonic()
        if self.tally is None or report.nodeid not in self.groups:
            return
        group = self.groups[report.nodeid]
        self.tally.advance(group)
        self.left[group] -= 1
        if self.left[group] == 0:
            failed = self.failed_in[group]
            self.tally.group_done(f"{group}: {'failed ' + str(failed) if failed else 'passed'}")

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.tally is not None:
            self.tally.__exit__(None, None, None)
        target = os.environ.get(TIMINGS_ENV)
        if target:
            Path(target).write_text(json.dumps(self.timings()), encoding="utf-8")

    def timings(self) -> dict[str, Any]:
        """Seconds: ``collect`` (start to collected), ``scenarios`` (collected to end),
        ``drills`` (first deploy scenario's start to the last one's end)."""
        now = time.monotonic()
        collected = self.collected_at if self.collected_at is not None else now
        drills = [self.spans[nodeid] for nodeid in self.deploy if nodeid in self.spans]
        span = max(end for _, end in drills) - min(start for start, _ in drills) if drills else 0.0
        return {
            "collect": collected - self.started,
            "scenarios": now - collected,
            "drills": span,
            "count": len(self.groups),
            "drill_count": len(drills),
            "failed": len(self.failed),
        }


def pytest_configure(config: pytest.Config) -> None:
    # A copy of stderr taken before any test runs: pytest's capture redirects
    # fd 2 while a test runs, and a terminal bar redraws from its own thread.
    stream = os.fdopen(os.dup(2), "w", buffering=1, encoding="utf-8", errors="replace")
    config.pluginmanager.register(FeatureProgress(stream), "dr-features-progress")
