"""``python -m compliance drill``: run the failover drills, show phases, write drills.json.

    python -m compliance drill [--scenario DR-DEP-01] [--full-fidelity | --scale 0.2]
                               [--target local|aws] [--report-dir reports]
                               [--cdktf-out DIR] [--app DIR] [--one-at-a-time]

The drills run side by side (``batch.py``) unless ``--one-at-a-time``.
After each drill, its stages are printed: what the lab measured beside
DR-RTO-01's budget for the drilled output. Exit codes: 0 every drill passed,
1 a drill failed (or its lab could not be fully released), 2 an engine,
opt-in or input is missing, or a function of the design cannot run in the
lab (the message says what to install, set or why), 130 interrupted by
SIGINT and 143 by SIGTERM (after cleaning up). Both signals are handled here
whatever the process inherited: a job started in the background by a
non-interactive shell inherits SIGINT ignored, and Ctrl-C must still stop
the drill and release its lab.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import IO, Any

from compliance.drills import interrupts
from compliance.drills.aws_target import OptInRequired
from compliance.drills.batch import run_drills
from compliance.drills.budget import HEADER
from compliance.drills.engines import EngineMissing
from compliance.drills.interrupts import DrillInterrupted
from compliance.drills.knobs import Design
from compliance.drills.processes import CleanupIncomplete, release_all
from compliance.drills.progress import Progress
from compliance.drills.results import DRILLS_FILE, write_drills
from compliance.drills.scenarios import DEFAULT_SCALE, SCENARIOS, DrillOptions, run_local
from compliance.errors import InputError

__all__ = ["Progress", "add_parser", "run", "run_local"]

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
RELEASED = "every process and temporary folder was released"


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
        "--cdktf-out", type=Path, default=None, help="synthesized stacks (default: synth the app)"
    )
    drill.add_argument(
        "--app", type=Path, default=Path("."), help="the CDKTF app folder (its cdktf.json)"
    )
    drill.add_argument(
        "--one-at-a-time",
        action="store_true",
        help="run the drills one after another instead of side by side",
    )


def load_design(cdktf_out: Path | None, app: Path | None = None) -> tuple[Design, Path]:
    """The design of the synthesized output (synthesized now if not given), with its budget."""
    from compliance.drills.drilled import drilled_design
    from compliance.synth import synthesize_app

    app_dir = app.resolve() if app is not None and (app / "cdktf.json").is_file() else None
    if cdktf_out is None:
        folder = synthesize_app(app_dir or Path(".")).outdir
    else:
        folder = cdktf_out
    return drilled_design(folder, app_dir), folder


def summary_line(drill: dict[str, Any]) -> str:
    def seconds(value: Any) -> str:
        return "none" if value is None else f"{value:.2f} s"

    verdict = "PASSED" if drill["passed"] else "FAILED"
    budget = drill.get("static_budget_seconds")
    budget_text = "none" if budget is None else f"{budget:g} s"
    return (
        f"{verdict:7} {drill['id']}  {drill['scenario']}: RTO {seconds(drill['rto_seconds'])} "
        f"(target {drill['targets']['rto_seconds']:g} s, DR-RTO-01 budget {budget_text}), "
        f"RPO {seconds(drill['rpo_seconds'])} (target {drill['targets']['rpo_seconds']:g} s)"
    )


def stage_lines(drill: dict[str, Any]) -> list[str]:
    """The drill's stages, measured beside budgeted (drills.json ``stages``)."""
    from compliance.drills.budget import StageRow

    rows = [StageRow(**row) for row in drill.get("stages") or []]
    if not rows:
        return []
    return [f"    {HEADER}", *(f"    {row.line()}" for row in rows)]


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
    out = progress.stream
    factor = 1.0 if args.full_fidelity else args.scale
    if not 0 < factor <= 1:
        print("error: --scale must be in (0, 1]", file=sys.stderr)
        return EXIT_BAD_INPUT
    chosen = args.scenario or sorted(SCENARIOS)
    report = (args.report_dir or args.app / "reports") / DRILLS_FILE  # the app's, as `run`
    drills: list[dict[str, Any]] = []
    try:
        progress("reading the design and DR-RTO-01's budget from the synthesized stacks")
        design, folder = load_design(args.cdktf_out, args.app)
        knobs = design.knobs
        budget = design.budget.rto_seconds if design.budget else None
        progress(
            f"knobs: interval {knobs.interval:g} s × threshold {knobs.threshold}, TTL "
            f"{knobs.ttl:g} s, promotion allowance {knobs.promotion_allowance:g} s; DR-RTO-01 "
            f"budget {'unbounded' if budget is None else f'{budget:g} s'}; scale factor {factor:g}"
        )
        if args.target == "aws":
            from compliance.drills.aws_target import run_aws

            drills = run_aws(folder, design, chosen, progress)
        else:
            options = DrillOptions(scale_factor=factor, progress=progress)
            together = not args.one_at_a_time and len(chosen) > 1
            if together:
                progress(f"{len(chosen)} drills side by side, each on its own lab")

            def done(records: list[dict[str, Any]]) -> None:
                drills[:] = records
                write_drills(report, records)

            drills = run_drills(
                chosen, design, options, together=together, on_record=done, run=_run_local
            )
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
        for line in stage_lines(drill):
            print(line, file=out)
    print(f"drills: {report}", file=out)
    return EXIT_OK if drills and all(d["passed"] for d in drills) else EXIT_FAILED


def _run_local(scenario_id: str, design: Design, options: DrillOptions) -> dict[str, Any]:
    """``run_local`` looked up at call time (tests replace it on this module)."""
    return run_local(scenario_id, design, options)
