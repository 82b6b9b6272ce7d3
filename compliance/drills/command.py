"""``python -m compliance drill``: run the failover drills, show phases, write drills.json.

    python -m compliance drill [--scenario DR-DEP-01] [--full-fidelity | --scale 0.2]
                               [--target local|aws] [--report-dir reports]

Exit codes: 0 every drill passed, 1 a drill failed (or its lab could not be
fully released), 2 an engine, opt-in or input is missing (the message says
what to install or set), 130 interrupted by SIGINT and 143 by SIGTERM (after
cleaning up). Both signals are handled here whatever the process inherited:
a job started in the background by a non-interactive shell inherits SIGINT
ignored, and Ctrl-C must still stop the drill and release its lab.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from compliance.drills import interrupts
from compliance.drills.aws_target import OptInRequired
from compliance.drills.engines import EngineMissing
from compliance.drills.interrupts import DrillInterrupted
from compliance.drills.knobs import Design, read_design
from compliance.drills.processes import CleanupIncomplete, release_all
from compliance.drills.results import DRILLS_FILE, write_drills
from compliance.drills.scenarios import DEFAULT_SCALE, SCENARIOS, DrillOptions, run_local
from compliance.errors import InputError

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
RELEASED = "every process and temporary folder was released"


class Progress:
    """Prints ``[  12.3s] phase`` lines; during long silences, a still-running line."""

    def __init__(self, stream: IO[str] | None = None, heartbeat: float = 10.0) -> None:
        self.stream = stream or sys.stdout
        self.heartbeat = heartbeat
        self.started = time.monotonic()
        self.last_message = "starting"
        self.last_at = self.started
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._ticker = threading.Thread(target=self._tick, name="progress", daemon=True)

    def __call__(self, message: str) -> None:
        with self._lock:
            now = time.monotonic()
            self.last_message, self.last_at = message, now
            print(f"[{now - self.started:7.1f}s] {message}", file=self.stream, flush=True)

    def _tick(self) -> None:
        interrupts.route_to_main_thread()
        while not self._stop.wait(1.0):
            with self._lock:
                silent = time.monotonic() - self.last_at
                if silent >= self.heartbeat:
                    print(
                        f"[{time.monotonic() - self.started:7.1f}s]   ... still running "
                        f"({silent:.0f} s since: {self.last_message})",
                        file=self.stream,
                        flush=True,
                    )
                    self.last_at = time.monotonic()

    def __enter__(self) -> Progress:
        self._ticker.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._ticker.join(timeout=2)


def add_parser(commands: Any) -> None:
    """Register the ``drill`` subcommand on the main parser's subparsers."""
    drill = commands.add_parser(
        "drill", help="run the deploy-phase failover drills (DR-DEP-xx), write drills.json"
    )
    drill.add_argument(
        "--scenario", action="append", choices=sorted(SCENARIOS), help="repeatable; default all"
    )
    scale = drill.add_mutually_exclusive_group()
    scale.add_argument(
        "--full-fidelity", action="store_true", help="the design's own timings (scale 1.0)"
    )
    scale.add_argument(
        "--scale", type=float, default=DEFAULT_SCALE, help=f"time scale (default {DEFAULT_SCALE})"
    )
    drill.add_argument("--target", choices=("local", "aws"), default="local")
    drill.add_argument("--report-dir", type=Path, default=None)
    drill.add_argument(
        "--cdktf-out", type=Path, default=None, help="synthesized stacks (default: synth this app)"
    )


def load_design(cdktf_out: Path | None) -> tuple[Design, Path]:
    from compliance.model import load_model
    from compliance.settings import load_settings
    from compliance.synth import synthesize

    folder = cdktf_out if cdktf_out is not None else synthesize().outdir
    return read_design(load_model(folder), load_settings().as_data()), folder


def summary_line(drill: dict[str, Any]) -> str:
    def seconds(value: Any) -> str:
        return "none" if value is None else f"{value:.2f} s"

    verdict = "PASSED" if drill["passed"] else "FAILED"
    return (
        f"{verdict:7} {drill['id']}  {drill['scenario']}: RTO {seconds(drill['rto_seconds'])} "
        f"(target {drill['targets']['rto_seconds']:g} s, budget "
        f"{drill['static_budget_seconds']:g} s), RPO {seconds(drill['rpo_seconds'])} "
        f"(target {drill['targets']['rpo_seconds']:g} s)"
    )


def run(args: argparse.Namespace, stream: IO[str] | None = None) -> int:
    """The drill command; SIGINT and SIGTERM end it with 130 and 143, never a traceback."""
    progress = Progress(stream or sys.stdout)
    try:
        with interrupts.handled():
            try:
                with progress:
                    return _drill(args, progress)
            except KeyboardInterrupt as error:  # later signals are dropped while we clean up
                return _interrupted(error, progress)
    except KeyboardInterrupt as error:  # Python's own handler, before ours was installed
        return _interrupted(error, progress)


def _interrupted(error: KeyboardInterrupt, progress: Progress) -> int:
    """Finish any release the interruption cut short; say what is gone only once it is."""
    signum = error.signum if isinstance(error, DrillInterrupted) else signal.SIGINT
    what = "terminated" if signum == signal.SIGTERM else "interrupted"
    left = release_all()
    if left:
        progress(f"{what}: the lab could not be fully released")
        for leftover in left:
            print(f"error: left behind: {leftover}", file=sys.stderr)
    else:
        progress(f"{what}: {RELEASED}")
    return 128 + signum


def _drill(args: argparse.Namespace, progress: Progress) -> int:
    from compliance.synth import REPO_ROOT

    out = progress.stream
    factor = 1.0 if args.full_fidelity else args.scale
    if not 0 < factor <= 1:
        print("error: --scale must be in (0, 1]", file=sys.stderr)
        return EXIT_BAD_INPUT
    chosen = args.scenario or sorted(SCENARIOS)
    report = (args.report_dir or REPO_ROOT / "reports") / DRILLS_FILE
    drills: list[dict[str, Any]] = []
    try:
        progress("reading the knobs from the synthesized stacks")
        design, folder = load_design(args.cdktf_out)
        progress(
            f"knobs: interval {design.knobs.interval:g} s × threshold "
            f"{design.knobs.threshold}, TTL {design.knobs.ttl:g} s, promotion allowance "
            f"{design.knobs.promotion_allowance:g} s; scale factor {factor:g}"
        )
        if args.target == "aws":
            from compliance.drills.aws_target import run_aws

            drills = run_aws(folder, design, chosen, progress)
        else:
            options = DrillOptions(scale_factor=factor, progress=progress)
            for scenario_id in chosen:
                drills.append(run_local(scenario_id, design, options))
                write_drills(report, drills)
    except (EngineMissing, InputError, OptInRequired) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except CleanupIncomplete as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if drills:
            write_drills(report, drills)
    for drill in drills:
        print(summary_line(drill), file=out)
    print(f"drills: {report}", file=out)
    return EXIT_OK if drills and all(d["passed"] for d in drills) else EXIT_FAILED
