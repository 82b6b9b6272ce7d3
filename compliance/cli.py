"""Command line: ``synth``, ``check``, ``mutants``, ``run`` (the main job) and ``docs``.

Exit codes: 0 compliant, 1 a requirement is violated (or a feature
scenario failed), 2 bad input (with a one-line reason naming the file on
stderr), 130 interrupted. No traceback reaches the user: an unexpected
error prints one line and where its details were written.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import sys
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from compliance import cache, watch
from compliance.catalogue import POLICY_ROOT
from compliance.drills import command as drill_command
from compliance.environment import temporary_environment
from compliance.errors import InputError
from compliance.evaluation import Evaluation, Status
from compliance.features_run import run_features
from compliance.mutation_run import render as render_mutants
from compliance.mutation_run import run_catalogue
from compliance.progress import Step
from compliance.reports import writer
from compliance.reports.json_report import check_document
from compliance.reports.living_doc import write_living_doc
from compliance.runner import CheckOptions, run_check
from compliance.synth import SynthResult, synthesize_app

EXIT_OK, EXIT_VIOLATION, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
# More findings than this for one requirement are folded into counts per
# resource type in the text output (the full list stays in JSON and reports).
FOLD_AFTER = 10


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=_prog(), description="DR compliance harness for CDKTF output."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    synth = commands.add_parser("synth", help="synthesize a CDKTF app (its cdktf.json's output)")
    _app_option(synth)
    synth.add_argument("--outdir", type=Path, default=None, help="default: cdktf.json's output")

    check = commands.add_parser("check", help="check a cdktf.out folder or a *.tf.json file")
    check.add_argument("path", type=Path)
    check.add_argument("--format", choices=("text", "json"), default="text")
    source = check.add_mutually_exclusive_group()
    source.add_argument(
        "--source",
        type=Path,
        default=None,
        help="the app's Python source for DR-SCH-03 (default: the app whose cdktf.json is "
        "beside or above PATH, and its [tool.dr-compliance] source)",
    )
    source.add_argument(
        "--no-source", action="store_true", help="scan no source: DR-SCH-03 is not applicable"
    )
    _policy_options(check)

    mutants = commands.add_parser("mutants", help="run the mutation catalogue, print kill rate")
    _app_option(mutants)
    _policy_options(mutants)

    run = commands.add_parser(
        "run", help="main job: synth, check, run the features, write every report to reports/"
    )
    _app_option(run)
    run.add_argument("--report-dir", type=Path, default=Path("reports"))
    run.add_argument("--format", choices=("text", "json"), default="text")
    run.add_argument(
        "--input", type=Path, default=None, help="check this synthesized output instead of synth"
    )
    run.add_argument("--no-features", action="store_true", help="skip the Gherkin features")
    run.add_argument(
        "--no-screenshot", action="store_true", help="skip the headless-Chromium screenshot"
    )
    run.add_argument(
        "--timings",
        action="store_true",
        help="print where the time went (synth, evaluation, features, drills, reports) on stderr",
    )
    _policy_options(run)

    docs = commands.add_parser(
        "docs", help="render the features with each requirement's current status"
    )
    _app_option(docs)
    docs.add_argument("--report-dir", type=Path, default=Path("reports"))
    docs.add_argument(
        "--input", type=Path, default=None, help="check this synthesized output instead of synth"
    )
    _policy_options(docs)
    drill_command.add_parser(commands)
    watch.add_parser(commands)
    return parser


def _prog() -> str:
    """``dr-compliance`` (the installed console script) or ``python -m compliance``."""
    installed = bool(sys.argv) and Path(sys.argv[0]).name == "dr-compliance"
    return "dr-compliance" if installed else "python -m compliance"


def _app_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--app", type=Path, default=Path("."), help="the CDKTF app folder (its cdktf.json)"
    )


def _synth(args: argparse.Namespace, outdir: Path | None = None) -> SynthResult:
    report_dir = getattr(args, "report_dir", None)
    exclude = [report_dir.resolve()] if report_dir is not None else []
    with Step("synth", doing="hashing the app's inputs") as step:
        result = synthesize_app(args.app, outdir, exclude=exclude, progress=step.update)
        if not result.from_cache:
            step.done(f"done in {result.seconds:.1f} s")
    return result


def _policy_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policies", type=Path, default=POLICY_ROOT)
    parser.add_argument("--waivers", type=Path, default=None)
    parser.add_argument("--settings", type=Path, default=None)


def _options(args: argparse.Namespace) -> CheckOptions:
    return CheckOptions(
        policy_root=args.policies,
        waivers=args.waivers,
        settings=args.settings,
        source=getattr(args, "source", None),
        scan_source=not getattr(args, "no_source", False),
        # Mutants are checked in temporary copies: name their app explicitly.
        app=args.app.resolve() if args.command == "mutants" else None,
    )


def render_text(evaluation: Evaluation) -> str:
    lines = []
    for result in evaluation.results:
        status = result.status
        lines.append(
            f"{status.value.upper():15} {result.requirement.id}  {result.requirement.title}"
            f"  ({len(result.evaluated)} evaluated)"
        )
        lines += [f"    note: {note}" for note in result.notes]
        if len(result.findings) > FOLD_AFTER:
            lines += _folded(result.findings)
            continue
        for finding in result.findings:
            mark = "waived" if finding.waiver else "finding"
            lines.append(f"    {mark}: {finding.stack}/{finding.address}: {finding.message}")
    lines += [f"note: {note}" for note in evaluation.notes]
    summary = evaluation.summary()
    lines.append(
        f"{summary[Status.PASSED.value]} passed, {summary[Status.FAILED.value]} failed, "
        f"{summary[Status.WAIVED.value]} waived, "
        f"{summary[Status.NOT_APPLICABLE.value]} not applicable "
        f"({summary['resources']} resources)"
    )
    return "\n".join(lines)


def _folded(findings: list) -> list[str]:  # type: ignore[type-arg]
    """Counts per resource type, for a requirement with many findings."""
    open_counts = Counter(
        f.address.removeprefix("data.").split(".")[0] for f in findings if not f.waiver
    )
    waived = sum(1 for f in findings if f.waiver)
    lines = [f"    {count} finding(s) on {type_}" for type_, count in sorted(open_counts.items())]
    if waived:
        lines.append(f"    {waived} waived finding(s)")
    lines.append(f"    ({len(findings)} findings in all: --format json lists each)")
    return lines


def _emit(evaluation: Evaluation, output_format: str) -> int:
    if output_format == "json":
        print(json.dumps(check_document(evaluation), indent=2))
    else:
        print(render_text(evaluation))
    return EXIT_OK if evaluation.compliant else EXIT_VIOLATION


def _drills_file(report_dir: Path, started: float, notes: list[str]) -> Path | None:
    path = report_dir / writer.DRILLS
    if not path.is_file():
        return None
    if path.stat().st_mtime < started:
        notes.append(f"{writer.DRILLS} was not written by this run (it predates it)")
    return path


def _screenshot(report_dir: Path) -> None:
    """The report as Chromium draws it, beside it; a missing browser is only a note."""
    from compliance.reports.browser import BrowserUnavailable, check_page

    try:
        check = check_page(report_dir / writer.HTML, report_dir / writer.SCREENSHOT)
    except BrowserUnavailable as error:
        print(f"screenshot skipped: {error}", file=sys.stderr)
        return
    except Exception as error:  # a browser that fails to start must not lose the reports
        print(f"screenshot skipped: Chromium failed: {error}", file=sys.stderr)
        return
    for problem in check.problems:
        print(f"warning: {writer.HTML} in Chromium: {problem}", file=sys.stderr)
    print(f"screenshot: {check.screenshot}", file=sys.stderr)


def _main_job(args: argparse.Namespace) -> int:
    """Synthesize and evaluate; run the features; write every report from both."""
    clock = _Clock()
    report_dir = args.report_dir.resolve()
    with clock("synth"):
        source = args.input if args.input is not None else _synth(args).outdir
    with clock("evaluation"):
        evaluation = run_check(source, _options(args))
    report_dir.mkdir(parents=True, exist_ok=True)
    started = time.time()
    features_code: int | None = None
    notes: list[str] = []
    if args.no_features:
        notes.append("the features were not run (--no-features)")
    else:
        measured: dict[str, float] = {}
        with temporary_environment({"DR_REPORT_DIR": str(report_dir)}), clock("features"):
            features_code = run_features(
                report_dir, cache_dir=cache.cache_folder("synth"), app=args.app, timings=measured
            )
        # The drills run as the features' deploy scenarios: their span is theirs.
        clock.split("features", "drills", measured.get("drills", 0.0))
    clock.start("reports")
    written = writer.write_reports(
        evaluation,
        report_dir,
        features_root=_features_root(args),
        cucumber=None if args.no_features else report_dir / writer.CUCUMBER,
        junit=None if args.no_features else report_dir / writer.JUNIT,
        drills=_drills_file(report_dir, started, notes),
        features_exit_code=features_code,
        notes=notes,
    )
    code = _emit(evaluation, args.format)
    summary = written.document["summary"]
    if not summary["compliant"] or summary["result"] != "passed":
        code = EXIT_VIOLATION
    if not args.no_screenshot:
        _screenshot(report_dir)
    clock.stop("reports")
    for path in written.paths.values():
        print(f"report: {path}", file=sys.stderr)
    if features_code not in (None, 0):
        print(f"features: pytest exited {features_code}", file=sys.stderr)
    if args.timings:
        print(clock.line(), file=sys.stderr)
    return code


class _Clock:
    """Wall-clock seconds per stage of the main job, measured, printed by ``--timings``."""

    STAGES = ("synth", "evaluation", "features", "drills", "reports")

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.seconds: dict[str, float] = dict.fromkeys(self.STAGES, 0.0)
        self._open: dict[str, float] = {}

    def __call__(self, stage: str) -> contextlib.AbstractContextManager[None]:
        @contextlib.contextmanager
        def timed() -> Iterator[None]:
            self.start(stage)
            try:
                yield
            finally:
                self.stop(stage)

        return timed()

    def start(self, stage: str) -> None:
        self._open[stage] = time.perf_counter()

    def stop(self, stage: str) -> None:
        self.seconds[stage] += time.perf_counter() - self._open.pop(stage)

    def split(self, whole: str, part: str, seconds: float) -> None:
        """Move ``seconds`` measured inside ``whole`` to ``part``."""
        seconds = min(seconds, self.seconds[whole])
        self.seconds[whole] -= seconds
        self.seconds[part] += seconds

    def line(self) -> str:
        total = time.perf_counter() - self.started
        parts = ", ".join(f"{stage} {self.seconds[stage]:.2f} s" for stage in self.STAGES)
        return f"timings: {parts}, total {total:.2f} s"


def _features_root(args: argparse.Namespace) -> Path:
    """The app's own ``features/`` (this repository's, for its own app)."""
    return Path(args.app).resolve() / "features"


def _docs(args: argparse.Namespace) -> int:
    """The living documentation alone, with the current status of each requirement."""
    report_dir = args.report_dir.resolve()
    source = args.input if args.input is not None else _synth(args).outdir
    evaluation = run_check(source, _options(args))
    cucumber = report_dir / writer.CUCUMBER
    notes = [] if cucumber.is_file() else ["no cucumber.json: run the main job for results"]
    document = writer.build_document(
        evaluation,
        features_root=_features_root(args),
        cucumber=cucumber,
        junit=report_dir / writer.JUNIT,
        drills=report_dir / writer.DRILLS,
        notes=notes,
    )
    path = write_living_doc(document, report_dir / writer.LIVING_DOC)
    print(f"living documentation: {path}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:  # the one top-level handler: no traceback reaches the user
        where = _write_crash(error)
        print(
            f"error: unexpected {type(error).__name__}: {' '.join(str(error).split())[:300]} "
            f"(details in {where})",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "synth":
        result = _synth(args, outdir=args.outdir)
        origin = "cache" if result.from_cache else "app"
        print(f"synthesized {result.outdir} from {origin} in {result.seconds:.1f} s")
        return EXIT_OK
    if args.command == "mutants":
        outcomes = run_catalogue(_synth(args).outdir, _options(args))
        print(render_mutants(outcomes))
        return EXIT_OK if outcomes and all(o.killed for o in outcomes) else EXIT_VIOLATION
    if args.command == "check":
        return _emit(run_check(args.path, _options(args)), args.format)
    if args.command == "docs":
        return _docs(args)
    if args.command == "drill":
        return drill_command.run(args)
    if args.command == "watch":
        return watch.run(args)
    return _main_job(args)


def _write_crash(error: BaseException) -> Path:
    """The traceback of an unexpected error, in the user's cache folder."""
    folder = cache.cache_folder("crashes")
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = folder / f"crash-{stamp}.txt"
    path.write_text("".join(traceback.format_exception(error)), encoding="utf-8")
    return path
