"""Drills side by side: all at once, their records in the order asked, errors and Ctrl-C handled."""

from __future__ import annotations

import _thread
import signal
import threading
from typing import Any

import pytest

from compliance.drills import batch
from compliance.drills.scenarios import DrillOptions

IDS = ["DR-DEP-01", "DR-DEP-02", "DR-DEP-03", "DR-DEP-04"]
DEADLINE = 30.0


def _record(scenario_id: str) -> dict[str, Any]:
    return {"id": scenario_id, "passed": True}


def test_together_every_drill_runs_at_once_and_records_keep_the_order_asked() -> None:
    all_running = threading.Barrier(len(IDS), timeout=DEADLINE)  # broken unless all overlap
    seen: list[DrillOptions] = []
    others_done = threading.Event()
    progress: list[list[str]] = []

    def run(scenario_id: str, design: Any, options: DrillOptions) -> dict[str, Any]:
        seen.append(options)
        all_running.wait()
        if scenario_id == "DR-DEP-01":  # the first asked finishes last
            assert others_done.wait(DEADLINE)
        return _record(scenario_id)

    def on_record(done: list[dict[str, Any]]) -> None:
        progress.append([r["id"] for r in done])
        if len(done) == len(IDS) - 1:
            others_done.set()

    records = batch.run_drills(
        IDS,
        None,
        DrillOptions(reclaim=False),
        on_record=on_record,
        run=run,  # type: ignore[arg-type]
    )
    assert [r["id"] for r in records] == IDS
    assert [len(ids) for ids in progress] == [1, 2, 3, 4]  # after each drill, all so far
    assert progress[-1][-1] == "DR-DEP-01" and sorted(progress[-1]) == IDS
    assert all(not o.reclaim and isinstance(o.built, threading.Barrier) for o in seen)
    assert seen[0].built is seen[1].built and seen[0].built.parties == len(IDS)


def test_one_at_a_time_never_overlaps() -> None:
    running, peak = [0], [0]
    lock = threading.Lock()

    def run(scenario_id: str, design: Any, options: DrillOptions) -> dict[str, Any]:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        assert options.built is None and options.reclaim
        with lock:
            running[0] -= 1
        return _record(scenario_id)

    records = batch.run_drills(IDS, None, DrillOptions(), together=False, run=run)  # type: ignore[arg-type]
    assert [r["id"] for r in records] == IDS and peak == [1]


def test_the_error_that_explains_the_run_is_raised_after_every_drill_ended() -> None:
    ended: list[str] = []

    def run(scenario_id: str, design: Any, options: DrillOptions) -> dict[str, Any]:
        try:
            if scenario_id == "DR-DEP-02":
                raise threading.BrokenBarrierError  # follows the real failure
            if scenario_id == "DR-DEP-03":
                raise RuntimeError("PowerDNS did not start")
            return _record(scenario_id)
        finally:
            ended.append(scenario_id)

    done: list[list[dict[str, Any]]] = []
    with pytest.raises(RuntimeError, match="PowerDNS"):
        batch.run_drills(
            IDS,
            None,
            DrillOptions(reclaim=False),
            on_record=done.append,
            run=run,  # type: ignore[arg-type]
        )
    assert sorted(ended) == IDS
    assert sorted(r["id"] for r in done[-1]) == ["DR-DEP-01", "DR-DEP-04"]


def test_an_interrupted_wait_releases_every_lab_and_lets_the_drills_unwind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    released = threading.Event()
    started = threading.Barrier(len(IDS) + 1, timeout=DEADLINE)
    unwound: list[str] = []

    def release_all() -> list[str]:
        released.set()  # in the drill command: every lab's processes are killed
        return []

    def run(scenario_id: str, design: Any, options: DrillOptions) -> dict[str, Any]:
        started.wait()
        released.wait(DEADLINE)  # a drill whose servers are gone fails soon after
        unwound.append(scenario_id)
        raise RuntimeError("connection refused")

    monkeypatch.setattr(batch, "release_all", release_all)

    def interrupt() -> None:
        started.wait()
        _thread.interrupt_main()  # Ctrl-C, delivered where Python runs handlers

    # interrupt_main() does nothing where SIGINT is ignored (pytest started as a background
    # job of a non-interactive shell); the drill command handles it either way.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        threading.Thread(target=interrupt, daemon=True).start()
        with pytest.raises(KeyboardInterrupt):
            batch.run_drills(IDS, None, DrillOptions(reclaim=False), run=run)  # type: ignore[arg-type]
    finally:
        signal.signal(signal.SIGINT, previous)
    assert released.is_set() and sorted(unwound) == IDS
