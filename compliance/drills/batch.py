"""Several drills at once: each lab on its own addresses and ports, measured side by side.

Labs share nothing but the machine: each has its own 127.0.0.x addresses,
ports, folder and processes (``lab.py``). Run together, the builds overlap
(initdb and pg_basebackup are the heavy part) and then every lab waits for
the others to be built before it starts measuring, so no build loads a
measurement. ``benchmarks/drill_bench.py --compare`` shows what running
together does to RTO and RPO (README: "Drills side by side").

Each drill runs in a worker thread of the main process (the failover
function and the triggers are threads too; the engines are child
processes). Signals still reach the main thread only: if it is interrupted
while waiting, every lab is released (``processes.release_all``) and the
workers, whose servers are gone, unwind before the interruption goes on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from compliance.drills.knobs import Design
from compliance.drills.processes import release_all
from compliance.drills.reclaim import reclaim_abandoned
from compliance.drills.scenarios import DrillOptions, run_local

RunLocal = Callable[[str, Design, DrillOptions], dict[str, Any]]


def run_drills(
    scenario_ids: list[str],
    design: Design,
    options: DrillOptions,
    *,
    together: bool = True,
    on_record: Callable[[list[dict[str, Any]]], None] | None = None,
    run: RunLocal = run_local,
) -> list[dict[str, Any]]:
    """Each scenario's record, in the order asked; side by side when ``together``.

    ``on_record`` gets the records finished so far after each drill (in
    order of completion). The first error of a drill is raised once every
    drill has ended; the records of those that finished were given to
    ``on_record`` already.
    """
    if not together or len(scenario_ids) < 2:
        records: list[dict[str, Any]] = []
        for scenario_id in scenario_ids:
            records.append(run(scenario_id, design, options))
            if on_record is not None:
                on_record(list(records))
        return records
    if options.reclaim:  # once, before any lab exists: no lab reclaims another
        for reclaimed in reclaim_abandoned():
            options.progress(reclaimed.describe())
    shared = replace(options, reclaim=False, built=threading.Barrier(len(scenario_ids)))
    finished: dict[str, dict[str, Any]] = {}
    failures: dict[str, BaseException] = {}
    lock = threading.Lock()

    def work(scenario_id: str) -> None:
        try:
            record = run(scenario_id, design, shared)
        except BaseException as error:  # kept for the main thread, raised there
            with lock:
                failures[scenario_id] = error
            return
        with lock:
            finished[scenario_id] = record
            done = list(finished.values())
        if on_record is not None:
            with lock:
                on_record(done)

    workers = [
        threading.Thread(target=work, args=(sid,), name=f"drill-{sid}", daemon=True)
        for sid in scenario_ids
    ]
    try:  # starting is inside: a Ctrl-C between two starts must release the first lab too
        for worker in workers:
            worker.start()
        while any(worker.is_alive() for worker in workers):
            for worker in workers:
                worker.join(timeout=0.2)  # short joins: a signal reaches this thread at once
    except BaseException:
        release_all()  # the workers' servers are gone: they unwind
        _join(workers, timeout=30.0)
        raise
    if failures:
        raise _first(failures, scenario_ids)
    return [finished[sid] for sid in scenario_ids]


def _join(workers: list[threading.Thread], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for worker in workers:
        worker.join(timeout=max(0.0, deadline - time.monotonic()))


def _first(failures: dict[str, BaseException], order: list[str]) -> BaseException:
    """The error that explains the run: not a broken barrier, which only follows another."""
    ordered = [failures[sid] for sid in order if sid in failures]
    meaningful = [e for e in ordered if not isinstance(e, threading.BrokenBarrierError)]
    return (meaningful or ordered)[0]
